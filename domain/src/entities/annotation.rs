use sea_orm::entity::prelude::*;

/// An annotation on an asset's canvas: a text body, and a region or a time range (or neither:
/// the whole canvas).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "annotations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: i32,
    pub space_id: i32,
    pub asset_id: String,
    pub motivation: String,
    pub value: String,
    pub format: String,
    pub language: Option<String>,
    pub x: Option<i32>,
    pub y: Option<i32>,
    pub w: Option<i32>,
    pub h: Option<i32>,
    pub time_start: Option<f64>,
    pub time_end: Option<f64>,
    pub creator: Option<String>,
    /// The format it was imported from; None when made by hand.
    pub source: Option<String>,
    pub created: DateTimeUtc,
    pub updated: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
