use sea_orm_migration::prelude::*;

use crate::columns::{binary_text, moment, moment_null};

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    CustomerId,
    SpaceId,
    AssetId,
    BatchId,
    State,
    Attempts,
    MaxAttempts,
    RunAfter,
    LockedBy,
    HeartbeatAt,
    LastError,
    Created,
    Updated,
}

/// The durable job queue: one row a unit of background work, claimed by one worker at a time
/// and retried after `run_after` when a transient failure ends an attempt.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(
                        ColumnDef::new(Jobs::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Jobs::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Jobs::CustomerId).integer().not_null())
                    .col(ColumnDef::new(Jobs::SpaceId).integer().not_null())
                    .col(binary_text(manager, Jobs::AssetId, false))
                    .col(ColumnDef::new(Jobs::BatchId).big_integer().null())
                    .col(ColumnDef::new(Jobs::State).string_len(16).not_null())
                    .col(ColumnDef::new(Jobs::Attempts).integer().not_null())
                    .col(ColumnDef::new(Jobs::MaxAttempts).integer().not_null())
                    .col(moment(Jobs::RunAfter))
                    .col(ColumnDef::new(Jobs::LockedBy).string_len(64).null())
                    .col(moment_null(Jobs::HeartbeatAt))
                    .col(ColumnDef::new(Jobs::LastError).text().null())
                    .col(moment(Jobs::Created))
                    .col(moment(Jobs::Updated))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("jobs_claimable")
                    .table(Jobs::Table)
                    .col(Jobs::State)
                    .col(Jobs::RunAfter)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await
    }
}
