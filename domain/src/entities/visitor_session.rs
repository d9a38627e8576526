use sea_orm::entity::prelude::*;

/// A visitor's session with one customer: found by the SHA-256 of its cookie secret; `grants`
/// is a JSON object of role name to expiry (unix seconds), `origins` a JSON object of each web
/// origin an access page was opened from ("" for this site's own pages) to the roles granted
/// for it (a JSON array of origins, each holding every role, in sessions from before).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "visitor_sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: i32,
    pub secret_digest: String,
    pub grants: String,
    pub origins: String,
    pub viewer_id: Option<i64>,
    pub created: DateTimeUtc,
    pub expires: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
