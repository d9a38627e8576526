use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "batches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: i32,
    pub count: i32,
    pub completed: i32,
    pub errors: i32,
    pub superseded: bool,
    pub submitted: DateTimeUtc,
    pub finished: Option<DateTimeUtc>,
    /// The first batch of the import this one belongs to, when an import was split.
    pub import_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
