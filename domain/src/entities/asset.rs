use sea_orm::entity::prelude::*;

/// An asset; `tags`, `roles` and `thumbnail_sizes` are JSON arrays stored as text, and the
/// tags are also indexed in `asset_tags` for filtering.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub space_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub media_type: String,
    pub family: String,
    pub origin: Option<String>,
    pub string1: Option<String>,
    pub string2: Option<String>,
    pub string3: Option<String>,
    pub number1: Option<i64>,
    pub number2: Option<i64>,
    pub number3: Option<i64>,
    pub tags: String,
    pub roles: String,
    pub max_unauthorised: i32,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration: Option<f64>,
    pub status: String,
    pub error: Option<String>,
    pub batch_id: Option<i64>,
    pub created: DateTimeUtc,
    pub finished: Option<DateTimeUtc>,
    pub pyramid_levels: Option<i32>,
    pub tile_size: Option<i32>,
    pub thumbnail_sizes: Option<String>,
    pub bytes_stored: Option<i64>,
    /// The version of the stored pyramid and thumbnails; none for those stored unversioned.
    pub derivatives: Option<String>,
    /// Descriptive field values as a JSON list of `{key, values}`; none when it has none.
    pub fields: Option<String>,
    /// Whether visitors can see it (when its space is published too).
    pub published: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
