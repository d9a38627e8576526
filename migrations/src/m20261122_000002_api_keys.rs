use sea_orm_migration::prelude::*;

use crate::m20261122_000001_customers::Customers;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Key,
    CustomerId,
    SecretHash,
    Created,
}

/// API keys: a public key id and the argon2 hash of its secret. A key with no customer is an
/// admin key.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(
                        ColumnDef::new(ApiKeys::Key)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ApiKeys::CustomerId).integer().null())
                    .col(
                        ColumnDef::new(ApiKeys::SecretHash)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(crate::columns::moment(ApiKeys::Created))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiKeys::Table, ApiKeys::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("api_keys_customer")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::CustomerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }
}
