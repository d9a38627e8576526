//! Origin rules for object stores, and secrets sealed at rest: a rule's strategy (`basic` for
//! http(s) basic credentials, `s3` for an access key), the S3 region and endpoint, and whether
//! its stored secret is sealed (rows written before this migration hold it in plain text until
//! the server seals them at start).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OriginRules {
    Table,
    Strategy,
    Region,
    Endpoint,
    Sealed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one change per ALTER TABLE
        let columns = [
            ColumnDef::new(OriginRules::Strategy)
                .text()
                .not_null()
                .default("basic")
                .to_owned(),
            ColumnDef::new(OriginRules::Region).text().null().to_owned(),
            ColumnDef::new(OriginRules::Endpoint)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(OriginRules::Sealed)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(OriginRules::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            OriginRules::Sealed,
            OriginRules::Endpoint,
            OriginRules::Region,
            OriginRules::Strategy,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(OriginRules::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
