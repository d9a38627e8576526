use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    CustomerId,
    SpaceId,
    AssetId,
}

#[derive(DeriveIden)]
enum BatchMembers {
    Table,
    BatchId,
    SpaceId,
    AssetId,
}

/// The lookups the queue makes: at most one job per asset (a new registration replaces the
/// pending one), and a batch's member by its asset when the asset's job ends.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("jobs_one_per_asset")
                    .table(Jobs::Table)
                    .col(Jobs::CustomerId)
                    .col(Jobs::SpaceId)
                    .col(Jobs::AssetId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("batch_members_by_asset")
                    .table(BatchMembers::Table)
                    .col(BatchMembers::BatchId)
                    .col(BatchMembers::SpaceId)
                    .col(BatchMembers::AssetId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("batch_members_by_asset")
                    .table(BatchMembers::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("jobs_one_per_asset")
                    .table(Jobs::Table)
                    .to_owned(),
            )
            .await
    }
}
