use sea_orm_migration::prelude::*;

use crate::columns::{binary_text, moment};
use crate::m20261122_000001_customers::Customers;

#[derive(DeriveIden)]
enum AuthServices {
    Table,
    Id,
    CustomerId,
    Name,
    Profile,
    Kind,
    Label,
    Heading,
    Note,
    ConfirmLabel,
    IpRanges,
    TrustedCookie,
    TrustedHeader,
    SessionTtl,
    Created,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    CustomerId,
    Name,
    Label,
    AuthServiceId,
    Created,
}

#[derive(DeriveIden)]
enum Viewers {
    Table,
    Id,
    CustomerId,
    Username,
    PasswordHash,
    Roles,
    Created,
}

#[derive(DeriveIden)]
enum VisitorSessions {
    Table,
    Id,
    CustomerId,
    SecretDigest,
    Grants,
    Origins,
    ViewerId,
    Created,
    Expires,
}

/// Access control: a customer's auth services (how visitors gain access), roles (what an asset
/// can require, each granted by one service), viewer accounts (for login services), and the
/// sessions visitors hold (found by a digest of their cookie secret, never the secret).
#[derive(DeriveMigrationName)]
pub struct Migration;

fn id(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}

fn owned_by_customer(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Customers::Table, Customers::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthServices::Table)
                    .col(id(AuthServices::Id))
                    .col(
                        ColumnDef::new(AuthServices::CustomerId)
                            .integer()
                            .not_null(),
                    )
                    .col(binary_text(manager, AuthServices::Name, false))
                    .col(ColumnDef::new(AuthServices::Profile).text().not_null())
                    .col(ColumnDef::new(AuthServices::Kind).text().null())
                    .col(ColumnDef::new(AuthServices::Label).text().not_null())
                    .col(ColumnDef::new(AuthServices::Heading).text().null())
                    .col(ColumnDef::new(AuthServices::Note).text().null())
                    .col(ColumnDef::new(AuthServices::ConfirmLabel).text().null())
                    .col(ColumnDef::new(AuthServices::IpRanges).text().not_null())
                    .col(ColumnDef::new(AuthServices::TrustedCookie).text().null())
                    .col(ColumnDef::new(AuthServices::TrustedHeader).text().null())
                    .col(
                        ColumnDef::new(AuthServices::SessionTtl)
                            .integer()
                            .not_null(),
                    )
                    .col(moment(AuthServices::Created))
                    .foreign_key(&mut owned_by_customer(
                        AuthServices::Table,
                        AuthServices::CustomerId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("auth_services_customer_name")
                    .table(AuthServices::Table)
                    .col(AuthServices::CustomerId)
                    .col(AuthServices::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(id(Roles::Id))
                    .col(ColumnDef::new(Roles::CustomerId).integer().not_null())
                    .col(binary_text(manager, Roles::Name, false))
                    .col(ColumnDef::new(Roles::Label).text().null())
                    .col(
                        ColumnDef::new(Roles::AuthServiceId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(moment(Roles::Created))
                    .foreign_key(&mut owned_by_customer(Roles::Table, Roles::CustomerId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Roles::Table, Roles::AuthServiceId)
                            .to(AuthServices::Table, AuthServices::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("roles_customer_name")
                    .table(Roles::Table)
                    .col(Roles::CustomerId)
                    .col(Roles::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Viewers::Table)
                    .col(id(Viewers::Id))
                    .col(ColumnDef::new(Viewers::CustomerId).integer().not_null())
                    .col(binary_text(manager, Viewers::Username, false))
                    .col(ColumnDef::new(Viewers::PasswordHash).text().not_null())
                    .col(ColumnDef::new(Viewers::Roles).text().not_null())
                    .col(moment(Viewers::Created))
                    .foreign_key(&mut owned_by_customer(Viewers::Table, Viewers::CustomerId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("viewers_customer_username")
                    .table(Viewers::Table)
                    .col(Viewers::CustomerId)
                    .col(Viewers::Username)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(VisitorSessions::Table)
                    .col(id(VisitorSessions::Id))
                    .col(
                        ColumnDef::new(VisitorSessions::CustomerId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(VisitorSessions::SecretDigest)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(VisitorSessions::Grants).text().not_null())
                    .col(ColumnDef::new(VisitorSessions::Origins).text().not_null())
                    .col(
                        ColumnDef::new(VisitorSessions::ViewerId)
                            .big_integer()
                            .null(),
                    )
                    .col(moment(VisitorSessions::Created))
                    .col(moment(VisitorSessions::Expires))
                    .foreign_key(&mut owned_by_customer(
                        VisitorSessions::Table,
                        VisitorSessions::CustomerId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(VisitorSessions::Table, VisitorSessions::ViewerId)
                            .to(Viewers::Table, Viewers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("visitor_sessions_secret")
                    .table(VisitorSessions::Table)
                    .col(VisitorSessions::SecretDigest)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("visitor_sessions_expires")
                    .table(VisitorSessions::Table)
                    .col(VisitorSessions::Expires)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            VisitorSessions::Table.into_iden(),
            Viewers::Table.into_iden(),
            Roles::Table.into_iden(),
            AuthServices::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
