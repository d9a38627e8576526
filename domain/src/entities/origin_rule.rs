use sea_orm::entity::prelude::*;

/// Credentials for a customer's origins whose URL matches `pattern`: HTTP basic (`strategy`
/// `basic`) or an S3 access key (`s3`: `username` is the key id, `password` the secret).
/// `password` is sealed (see `origin_secrets`) when `sealed`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "origin_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: i32,
    pub pattern: String,
    pub username: String,
    pub password: String,
    pub created: DateTimeUtc,
    pub strategy: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub sealed: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
