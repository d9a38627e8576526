use sea_orm::entity::prelude::*;

/// How a customer's visitors gain access: `profile` is active, kiosk or external; `kind` is
/// clickthrough or login for active services; `ip_ranges` is a JSON array of CIDR ranges.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_services")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: i32,
    pub name: String,
    pub profile: String,
    pub kind: Option<String>,
    pub label: String,
    pub heading: Option<String>,
    pub note: Option<String>,
    pub confirm_label: Option<String>,
    pub ip_ranges: String,
    pub trusted_cookie: Option<String>,
    pub trusted_header: Option<String>,
    pub session_ttl: i32,
    pub created: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
