use sea_orm_migration::prelude::*;

use crate::columns::{binary_text, moment, moment_null};
use crate::m20261122_000003_spaces::Spaces;

#[derive(DeriveIden)]
enum Assets {
    Table,
    CustomerId,
    SpaceId,
    Id,
    MediaType,
    Family,
    Origin,
    String1,
    String2,
    String3,
    Number1,
    Number2,
    Number3,
    Tags,
    Roles,
    MaxUnauthorised,
    Width,
    Height,
    Duration,
    Status,
    Error,
    BatchId,
    Created,
    Finished,
    PyramidLevels,
    TileSize,
    ThumbnailSizes,
    BytesStored,
}

#[derive(DeriveIden)]
enum AssetTags {
    Table,
    CustomerId,
    SpaceId,
    AssetId,
    Tag,
}

/// Assets, keyed by customer, space and the user's own id, and the tag index that lets a space
/// be filtered by tag on both backends.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Assets::Table)
                    .col(ColumnDef::new(Assets::CustomerId).integer().not_null())
                    .col(ColumnDef::new(Assets::SpaceId).integer().not_null())
                    .col(binary_text(manager, Assets::Id, false))
                    .col(ColumnDef::new(Assets::MediaType).string_len(255).not_null())
                    .col(ColumnDef::new(Assets::Family).string_len(16).not_null())
                    .col(ColumnDef::new(Assets::Origin).text().null())
                    .col(binary_text(manager, Assets::String1, true))
                    .col(binary_text(manager, Assets::String2, true))
                    .col(binary_text(manager, Assets::String3, true))
                    .col(ColumnDef::new(Assets::Number1).big_integer().null())
                    .col(ColumnDef::new(Assets::Number2).big_integer().null())
                    .col(ColumnDef::new(Assets::Number3).big_integer().null())
                    .col(ColumnDef::new(Assets::Tags).text().not_null())
                    .col(ColumnDef::new(Assets::Roles).text().not_null())
                    .col(ColumnDef::new(Assets::MaxUnauthorised).integer().not_null())
                    .col(ColumnDef::new(Assets::Width).integer().null())
                    .col(ColumnDef::new(Assets::Height).integer().null())
                    .col(ColumnDef::new(Assets::Duration).double().null())
                    .col(ColumnDef::new(Assets::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Assets::Error).text().null())
                    .col(ColumnDef::new(Assets::BatchId).big_integer().null())
                    .col(moment(Assets::Created))
                    .col(moment_null(Assets::Finished))
                    .col(ColumnDef::new(Assets::PyramidLevels).integer().null())
                    .col(ColumnDef::new(Assets::TileSize).integer().null())
                    .col(ColumnDef::new(Assets::ThumbnailSizes).text().null())
                    .col(ColumnDef::new(Assets::BytesStored).big_integer().null())
                    .primary_key(
                        Index::create()
                            .col(Assets::CustomerId)
                            .col(Assets::SpaceId)
                            .col(Assets::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Assets::Table, (Assets::CustomerId, Assets::SpaceId))
                            .to(Spaces::Table, (Spaces::CustomerId, Spaces::Id)),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("assets_string1", Assets::String1),
            ("assets_number1", Assets::Number1),
            ("assets_created", Assets::Created),
            ("assets_status", Assets::Status),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Assets::Table)
                        .col(Assets::CustomerId)
                        .col(Assets::SpaceId)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AssetTags::Table)
                    .col(ColumnDef::new(AssetTags::CustomerId).integer().not_null())
                    .col(ColumnDef::new(AssetTags::SpaceId).integer().not_null())
                    .col(binary_text(manager, AssetTags::AssetId, false))
                    .col(binary_text(manager, AssetTags::Tag, false))
                    .primary_key(
                        Index::create()
                            .col(AssetTags::CustomerId)
                            .col(AssetTags::SpaceId)
                            .col(AssetTags::Tag)
                            .col(AssetTags::AssetId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                AssetTags::Table,
                                (
                                    AssetTags::CustomerId,
                                    AssetTags::SpaceId,
                                    AssetTags::AssetId,
                                ),
                            )
                            .to(
                                Assets::Table,
                                (Assets::CustomerId, Assets::SpaceId, Assets::Id),
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AssetTags::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Assets::Table).to_owned())
            .await
    }
}
