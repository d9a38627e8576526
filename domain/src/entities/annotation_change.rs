use sea_orm::entity::prelude::*;

/// One write that changed an asset's annotations; `seq` numbers them in commit order.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "annotation_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub customer_id: i32,
    pub space_id: i32,
    pub asset_id: String,
    pub changed: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
