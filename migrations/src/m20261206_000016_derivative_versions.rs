//! Which processing's derivatives an asset serves: each processing writes its pyramid and
//! thumbnails under keys of its own version, so a node still holding an older record never
//! reads a mix of old and new objects, and the old ones are removed once no node can ask for
//! them. Assets processed before this have none and keep their unversioned keys.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Assets {
    Table,
    Derivatives,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Assets::Table)
                    .add_column(ColumnDef::new(Assets::Derivatives).string().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Assets::Table)
                    .drop_column(Assets::Derivatives)
                    .to_owned(),
            )
            .await
    }
}
