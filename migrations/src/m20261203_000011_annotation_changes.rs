use sea_orm_migration::prelude::*;

use crate::columns::{binary_text, moment};

#[derive(DeriveIden)]
enum AnnotationChanges {
    Table,
    Seq,
    CustomerId,
    SpaceId,
    AssetId,
    Changed,
}

#[derive(DeriveIden)]
enum Annotations {
    Table,
    Source,
}

/// The annotation change log that search indexes catch up from: one row per write that
/// changed an asset's annotations, numbered in commit order. And each annotation's source: the
/// format it was imported from (`alto`, `hocr`, `webvtt`, `w3c`), absent when made by hand, so
/// that a new import of a format replaces the last.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AnnotationChanges::Table)
                    .col(
                        ColumnDef::new(AnnotationChanges::Seq)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AnnotationChanges::CustomerId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AnnotationChanges::SpaceId)
                            .integer()
                            .not_null(),
                    )
                    .col(binary_text(manager, AnnotationChanges::AssetId, false))
                    .col(moment(AnnotationChanges::Changed))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Annotations::Table)
                    .add_column(ColumnDef::new(Annotations::Source).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Annotations::Table)
                    .drop_column(Annotations::Source)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(AnnotationChanges::Table).to_owned())
            .await
    }
}
