//! Descriptive metadata and publishing: a space declares its fields (a JSON list), an asset
//! carries values for them (a JSON list, and one row per value in `asset_fields` for listing
//! filters), and spaces and assets can be unpublished (published by default, as everything
//! was before).

use sea_orm_migration::prelude::*;

use crate::columns::binary_text;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Spaces {
    Table,
    Fields,
    Published,
}

#[derive(DeriveIden)]
enum Assets {
    Table,
    Fields,
    Published,
}

#[derive(DeriveIden)]
enum AssetFields {
    Table,
    CustomerId,
    SpaceId,
    AssetId,
    Key,
    Position,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement
        for (table, column) in [
            (Spaces::Table.into_iden(), Spaces::Fields.into_iden()),
            (Assets::Table.into_iden(), Assets::Fields.into_iden()),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(ColumnDef::new(column).text().null())
                        .to_owned(),
                )
                .await?;
        }
        for (table, column) in [
            (Spaces::Table.into_iden(), Spaces::Published.into_iden()),
            (Assets::Table.into_iden(), Assets::Published.into_iden()),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(ColumnDef::new(column).boolean().not_null().default(true))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AssetFields::Table)
                    .col(ColumnDef::new(AssetFields::CustomerId).integer().not_null())
                    .col(ColumnDef::new(AssetFields::SpaceId).integer().not_null())
                    .col(binary_text(manager, AssetFields::AssetId, false))
                    .col(binary_text(manager, AssetFields::Key, false))
                    .col(ColumnDef::new(AssetFields::Position).integer().not_null())
                    .col(binary_text(manager, AssetFields::Value, false))
                    .primary_key(
                        Index::create()
                            .col(AssetFields::CustomerId)
                            .col(AssetFields::SpaceId)
                            .col(AssetFields::AssetId)
                            .col(AssetFields::Key)
                            .col(AssetFields::Position),
                    )
                    .to_owned(),
            )
            .await?;
        // a text value may be longer than a PostgreSQL B-tree entry allows; a hash index takes
        // any length (SQLite ignores the type and builds its own)
        manager
            .create_index(
                Index::create()
                    .name("asset_fields_value")
                    .table(AssetFields::Table)
                    .col(AssetFields::Value)
                    .index_type(IndexType::Hash)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AssetFields::Table).to_owned())
            .await?;
        for (table, column) in [
            (Spaces::Table.into_iden(), Spaces::Fields.into_iden()),
            (Spaces::Table.into_iden(), Spaces::Published.into_iden()),
            (Assets::Table.into_iden(), Assets::Fields.into_iden()),
            (Assets::Table.into_iden(), Assets::Published.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
