use sea_orm_migration::prelude::*;

use crate::columns::moment;
use crate::m20261122_000001_customers::Customers;

#[derive(DeriveIden)]
enum OriginRules {
    Table,
    Id,
    CustomerId,
    Pattern,
    Username,
    Password,
    Created,
}

/// Per-customer origin rules: a regular expression over origin URLs and the HTTP basic
/// credentials sent to the origins it matches.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OriginRules::Table)
                    .col(
                        ColumnDef::new(OriginRules::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OriginRules::CustomerId).integer().not_null())
                    .col(ColumnDef::new(OriginRules::Pattern).text().not_null())
                    .col(ColumnDef::new(OriginRules::Username).text().not_null())
                    .col(ColumnDef::new(OriginRules::Password).text().not_null())
                    .col(moment(OriginRules::Created))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OriginRules::Table, OriginRules::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OriginRules::Table).to_owned())
            .await
    }
}
