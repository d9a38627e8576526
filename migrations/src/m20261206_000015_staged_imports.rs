//! CSV imports checked and kept for a while so a client can page their rows and confirm them
//! without uploading the file again. In the database, so every node of a scale-out install
//! sees the same staged imports.

use sea_orm_migration::prelude::*;

use crate::columns::{binary_text, moment, moment_null};
use crate::m20261122_000001_customers::Customers;

#[derive(DeriveIden)]
enum StagedImports {
    Table,
    Id,
    CustomerId,
    Content,
    Created,
    Expires,
    Confirmed,
    BatchId,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StagedImports::Table)
                    .col(binary_text(manager, StagedImports::Id, false).primary_key())
                    .col(
                        ColumnDef::new(StagedImports::CustomerId)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(StagedImports::Content).blob().not_null())
                    .col(moment(StagedImports::Created))
                    .col(moment(StagedImports::Expires))
                    .col(moment_null(StagedImports::Confirmed))
                    .col(ColumnDef::new(StagedImports::BatchId).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(StagedImports::Table, StagedImports::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // expired imports are deleted by expiry on the way through
        manager
            .create_index(
                Index::create()
                    .name("staged_imports_expires")
                    .table(StagedImports::Table)
                    .col(StagedImports::Expires)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StagedImports::Table).to_owned())
            .await
    }
}
