use sea_orm_migration::prelude::*;

use crate::columns::{binary_text, moment};
use crate::m20261122_000001_customers::Customers;
use crate::m20261122_000003_spaces::Spaces;

#[derive(DeriveIden)]
enum NamedQueries {
    Table,
    Id,
    CustomerId,
    Name,
    Template,
    Created,
    Updated,
}

#[derive(DeriveIden)]
enum Presentation {
    Presentation,
}

#[derive(DeriveIden)]
enum Assets {
    Table,
    CustomerId,
    String1,
}

/// Presentation: named queries (templates that turn asset metadata into manifests), the
/// presentation settings of customers and spaces (a JSON document each, absent by default),
/// and an index for queries that select a customer's assets by `string1` across spaces.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NamedQueries::Table)
                    .col(
                        ColumnDef::new(NamedQueries::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(NamedQueries::CustomerId)
                            .integer()
                            .not_null(),
                    )
                    .col(binary_text(manager, NamedQueries::Name, false))
                    .col(ColumnDef::new(NamedQueries::Template).text().not_null())
                    .col(moment(NamedQueries::Created))
                    .col(moment(NamedQueries::Updated))
                    .foreign_key(
                        ForeignKey::create()
                            .from(NamedQueries::Table, NamedQueries::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("named_queries_customer_name")
                    .table(NamedQueries::Table)
                    .col(NamedQueries::CustomerId)
                    .col(NamedQueries::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per statement
        manager
            .alter_table(
                Table::alter()
                    .table(Customers::Table)
                    .add_column(ColumnDef::new(Presentation::Presentation).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Spaces::Table)
                    .add_column(ColumnDef::new(Presentation::Presentation).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("assets_customer_string1")
                    .table(Assets::Table)
                    .col(Assets::CustomerId)
                    .col(Assets::String1)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("assets_customer_string1")
                    .table(Assets::Table)
                    .to_owned(),
            )
            .await?;
        for table in [Spaces::Table.into_iden(), Customers::Table.into_iden()] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Presentation::Presentation)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(NamedQueries::Table).to_owned())
            .await
    }
}
