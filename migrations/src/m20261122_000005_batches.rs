use sea_orm_migration::prelude::*;

use crate::columns::{binary_text, moment, moment_null};
use crate::m20261122_000001_customers::Customers;

#[derive(DeriveIden)]
enum Batches {
    Table,
    Id,
    CustomerId,
    Count,
    Completed,
    Errors,
    Superseded,
    Submitted,
    Finished,
}

#[derive(DeriveIden)]
enum BatchMembers {
    Table,
    BatchId,
    MemberIndex,
    Line,
    SpaceId,
    AssetId,
    Status,
    Error,
}

/// Batches of registrations and their members, each with its own state and, for CSV imports,
/// its line number.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Batches::Table)
                    .col(
                        ColumnDef::new(Batches::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Batches::CustomerId).integer().not_null())
                    .col(ColumnDef::new(Batches::Count).integer().not_null())
                    .col(ColumnDef::new(Batches::Completed).integer().not_null())
                    .col(ColumnDef::new(Batches::Errors).integer().not_null())
                    .col(ColumnDef::new(Batches::Superseded).boolean().not_null())
                    .col(moment(Batches::Submitted))
                    .col(moment_null(Batches::Finished))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Batches::Table, Batches::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BatchMembers::Table)
                    .col(
                        ColumnDef::new(BatchMembers::BatchId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BatchMembers::MemberIndex)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BatchMembers::Line).integer().null())
                    .col(ColumnDef::new(BatchMembers::SpaceId).integer().not_null())
                    .col(binary_text(manager, BatchMembers::AssetId, false))
                    .col(
                        ColumnDef::new(BatchMembers::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(BatchMembers::Error).text().null())
                    .primary_key(
                        Index::create()
                            .col(BatchMembers::BatchId)
                            .col(BatchMembers::MemberIndex),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BatchMembers::Table, BatchMembers::BatchId)
                            .to(Batches::Table, Batches::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BatchMembers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Batches::Table).to_owned())
            .await
    }
}
