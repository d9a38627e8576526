use sea_orm::entity::prelude::*;

/// A unit of background work on one asset.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub customer_id: i32,
    pub space_id: i32,
    pub asset_id: String,
    pub batch_id: Option<i64>,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: DateTimeUtc,
    pub locked_by: Option<String>,
    pub heartbeat_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    /// How many times the worker holding this job died (0, then 1; the next is poisoned).
    pub crashes: i32,
    pub created: DateTimeUtc,
    pub updated: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
