use sea_orm_migration::prelude::*;

use crate::m20261122_000001_customers::Customers;

#[derive(DeriveIden)]
pub enum Spaces {
    Table,
    CustomerId,
    Id,
    Name,
    DefaultRoles,
    DefaultTags,
    DefaultMaxUnauthorised,
    ThumbnailSizes,
    Created,
}

/// Spaces: numbered from 1 within their customer, with a name unique within it, and the
/// defaults new assets take.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Spaces::Table)
                    .col(ColumnDef::new(Spaces::CustomerId).integer().not_null())
                    .col(ColumnDef::new(Spaces::Id).integer().not_null())
                    .col(ColumnDef::new(Spaces::Name).string_len(255).not_null())
                    // JSON arrays of strings / integers, kept as text on both backends
                    .col(ColumnDef::new(Spaces::DefaultRoles).text().not_null())
                    .col(ColumnDef::new(Spaces::DefaultTags).text().not_null())
                    .col(
                        ColumnDef::new(Spaces::DefaultMaxUnauthorised)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Spaces::ThumbnailSizes).text().not_null())
                    .col(crate::columns::moment(Spaces::Created))
                    .primary_key(Index::create().col(Spaces::CustomerId).col(Spaces::Id))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Spaces::Table, Spaces::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("spaces_customer_name")
                    .table(Spaces::Table)
                    .col(Spaces::CustomerId)
                    .col(Spaces::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Spaces::Table).to_owned())
            .await
    }
}
