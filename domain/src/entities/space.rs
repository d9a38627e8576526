use sea_orm::entity::prelude::*;

/// A space; list-valued defaults are JSON arrays stored as text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "spaces")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub name: String,
    pub default_roles: String,
    pub default_tags: String,
    pub default_max_unauthorised: i32,
    pub thumbnail_sizes: String,
    pub created: DateTimeUtc,
    /// Presentation settings as JSON; `None` until any is set.
    pub presentation: Option<String>,
    /// Declared descriptive fields as a JSON list; `None` until any is declared.
    pub fields: Option<String>,
    /// Whether visitors can see its assets.
    pub published: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
