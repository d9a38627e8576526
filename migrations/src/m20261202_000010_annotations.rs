use sea_orm_migration::prelude::*;

use crate::columns::{binary_text, moment};
use crate::m20261122_000001_customers::Customers;

#[derive(DeriveIden)]
enum Annotations {
    Table,
    Id,
    CustomerId,
    SpaceId,
    AssetId,
    Motivation,
    Value,
    Format,
    Language,
    X,
    Y,
    W,
    H,
    TimeStart,
    TimeEnd,
    Creator,
    Created,
    Updated,
}

/// Annotations: W3C Web Annotations on an asset's canvas, with a text body, an optional
/// region (`xywh`) or time range (`t`), in the order they were made.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Annotations::Table)
                    .col(
                        ColumnDef::new(Annotations::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Annotations::CustomerId).integer().not_null())
                    .col(ColumnDef::new(Annotations::SpaceId).integer().not_null())
                    .col(binary_text(manager, Annotations::AssetId, false))
                    .col(ColumnDef::new(Annotations::Motivation).text().not_null())
                    .col(ColumnDef::new(Annotations::Value).text().not_null())
                    .col(ColumnDef::new(Annotations::Format).text().not_null())
                    .col(ColumnDef::new(Annotations::Language).text().null())
                    .col(ColumnDef::new(Annotations::X).integer().null())
                    .col(ColumnDef::new(Annotations::Y).integer().null())
                    .col(ColumnDef::new(Annotations::W).integer().null())
                    .col(ColumnDef::new(Annotations::H).integer().null())
                    .col(ColumnDef::new(Annotations::TimeStart).double().null())
                    .col(ColumnDef::new(Annotations::TimeEnd).double().null())
                    .col(ColumnDef::new(Annotations::Creator).text().null())
                    .col(moment(Annotations::Created))
                    .col(moment(Annotations::Updated))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Annotations::Table, Annotations::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("annotations_asset")
                    .table(Annotations::Table)
                    .col(Annotations::CustomerId)
                    .col(Annotations::SpaceId)
                    .col(Annotations::AssetId)
                    .col(Annotations::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Annotations::Table).to_owned())
            .await
    }
}
