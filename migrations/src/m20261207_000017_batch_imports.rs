//! Imports larger than one batch: a CSV or a list over the batch limit becomes several batches
//! created together, each naming the first batch of its import, so the queue lists them as one
//! import. A batch on its own names none.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Batches {
    Table,
    ImportId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Batches::Table)
                    .add_column(ColumnDef::new(Batches::ImportId).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Batches::Table)
                    .drop_column(Batches::ImportId)
                    .to_owned(),
            )
            .await
    }
}
