use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
pub enum Customers {
    Table,
    Id,
    Name,
    DisplayName,
    NextSpace,
    Created,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Customers::Table)
                    .col(
                        ColumnDef::new(Customers::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(crate::columns::binary_text(manager, Customers::Name, false).unique_key())
                    .col(
                        ColumnDef::new(Customers::DisplayName)
                            .string_len(255)
                            .not_null(),
                    )
                    // space numbers appear in public URLs: each is handed out once, never reused
                    .col(
                        ColumnDef::new(Customers::NextSpace)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(crate::columns::moment(Customers::Created))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Customers::Table).to_owned())
            .await
    }
}
