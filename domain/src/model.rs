//! What the domain hands out: plain values built from rows, with list fields decoded. The API
//! layer turns these into its own types; it never sees a database row.

use chrono::{DateTime, Utc};

use crate::assets::References;
use crate::entities::{api_key, asset, customer, space};
use crate::error::{Error, Result};
use crate::fields::{self, FieldDefinition, FieldValue};
use crate::presentation::PresentationSettings;

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: i32,
    pub name: String,
    pub display_name: String,
    pub presentation: PresentationSettings,
    pub created: DateTime<Utc>,
}

impl Customer {
    pub(crate) fn from_row(row: customer::Model) -> Result<Self> {
        Ok(Self {
            presentation: PresentationSettings::decode(row.presentation.as_deref())?,
            id: row.id,
            name: row.name,
            display_name: row.display_name,
            created: row.created,
        })
    }
}

/// An API key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub key: String,
    pub customer: Option<String>,
    pub created: DateTime<Utc>,
}

impl ApiKey {
    pub(crate) fn from_row(row: api_key::Model, customer: Option<String>) -> Self {
        Self {
            key: row.key,
            customer,
            created: row.created,
        }
    }
}

/// A key just created: the only time its secret is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedApiKey {
    pub key: String,
    pub secret: String,
    pub customer: Option<String>,
}

/// A space of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    pub customer: String,
    pub customer_id: i32,
    pub id: i32,
    pub name: String,
    pub default_roles: Vec<String>,
    pub default_tags: Vec<String>,
    pub default_max_unauthorised: i32,
    pub thumbnail_sizes: Vec<i32>,
    pub presentation: PresentationSettings,
    /// The descriptive fields its assets carry.
    pub fields: Vec<FieldDefinition>,
    /// Whether visitors can see its assets.
    pub published: bool,
    pub created: DateTime<Utc>,
}

impl Space {
    pub(crate) fn from_row(row: space::Model, customer: &str) -> Result<Self> {
        Ok(Self {
            customer: customer.to_owned(),
            customer_id: row.customer_id,
            id: row.id,
            name: row.name,
            default_roles: decode_list(&row.default_roles)?,
            default_tags: decode_list(&row.default_tags)?,
            default_max_unauthorised: row.default_max_unauthorised,
            thumbnail_sizes: decode_list(&row.thumbnail_sizes)?,
            presentation: PresentationSettings::decode(row.presentation.as_deref())?,
            fields: fields::decode(row.fields.as_deref())?,
            published: row.published,
            created: row.created,
        })
    }
}

/// Where an asset is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetStatus {
    Waiting,
    Ingesting,
    Ready,
    Error,
}

impl AssetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AssetStatus::Waiting => "waiting",
            AssetStatus::Ingesting => "ingesting",
            AssetStatus::Ready => "ready",
            AssetStatus::Error => "error",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self> {
        match text {
            "waiting" => Ok(AssetStatus::Waiting),
            "ingesting" => Ok(AssetStatus::Ingesting),
            "ready" => Ok(AssetStatus::Ready),
            "error" => Ok(AssetStatus::Error),
            other => Err(Error::internal(format!(
                "unknown asset status {other:?} in database"
            ))),
        }
    }
}

/// What kind of media an asset is, derived from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetFamily {
    Image,
    Sound,
    Video,
    File,
}

impl AssetFamily {
    pub fn of_media_type(media_type: &str) -> Self {
        let kind = media_type
            .split('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match kind.as_str() {
            "image" => AssetFamily::Image,
            "audio" => AssetFamily::Sound,
            "video" => AssetFamily::Video,
            _ => AssetFamily::File,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AssetFamily::Image => "image",
            AssetFamily::Sound => "sound",
            AssetFamily::Video => "video",
            AssetFamily::File => "file",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "image" => Ok(AssetFamily::Image),
            "sound" => Ok(AssetFamily::Sound),
            "video" => Ok(AssetFamily::Video),
            "file" => Ok(AssetFamily::File),
            other => Err(Error::internal(format!(
                "unknown asset family {other:?} in database"
            ))),
        }
    }
}

/// An asset: a registered master and what has been made of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub customer: String,
    /// The customer's internal number: storage keys use it, since it never changes.
    pub customer_id: i32,
    pub space: i32,
    pub id: String,
    pub media_type: String,
    pub family: AssetFamily,
    pub origin: Option<String>,
    pub references: References,
    /// Its descriptive field values, in its space's declaration order.
    pub fields: Vec<FieldValue>,
    /// Whether visitors can see it (when its space is published too).
    pub published: bool,
    pub tags: Vec<String>,
    pub roles: Vec<String>,
    pub max_unauthorised: i32,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration: Option<f64>,
    pub status: AssetStatus,
    pub error: Option<String>,
    pub batch: Option<i64>,
    pub created: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub pyramid_levels: Option<i32>,
    pub tile_size: Option<i32>,
    pub thumbnail_sizes: Vec<i32>,
    pub bytes_stored: Option<i64>,
    /// The version its stored pyramid and thumbnails carry in their keys (none: unversioned).
    pub derivatives: Option<String>,
}

impl Asset {
    /// The sizes of its stored thumbnails (width, height), smallest first; empty until its
    /// derivatives exist.
    pub fn thumbnail_dimensions(&self) -> Vec<(u32, u32)> {
        let (Some(width), Some(height)) = (self.width, self.height) else {
            return Vec::new();
        };
        let mut sizes: Vec<(u32, u32)> = self
            .thumbnail_sizes
            .iter()
            .filter_map(|size| {
                iiif::image::thumbnail_size(width as u32, height as u32, *size as u32)
            })
            .collect();
        sizes.sort_unstable();
        sizes
    }

    pub(crate) fn from_row(row: asset::Model, customer: &str) -> Result<Self> {
        Ok(Self {
            references: References::of_row(&row),
            customer: customer.to_owned(),
            customer_id: row.customer_id,
            space: row.space_id,
            family: AssetFamily::parse(&row.family)?,
            status: AssetStatus::parse(&row.status)?,
            tags: decode_list(&row.tags)?,
            roles: decode_list(&row.roles)?,
            fields: fields::decode(row.fields.as_deref())?,
            published: row.published,
            thumbnail_sizes: row
                .thumbnail_sizes
                .as_deref()
                .map(decode_list)
                .transpose()?
                .unwrap_or_default(),
            id: row.id,
            media_type: row.media_type,
            origin: row.origin,
            max_unauthorised: row.max_unauthorised,
            width: row.width,
            height: row.height,
            duration: row.duration,
            error: row.error,
            batch: row.batch_id,
            created: row.created,
            finished: row.finished,
            pyramid_levels: row.pyramid_levels,
            tile_size: row.tile_size,
            bytes_stored: row.bytes_stored,
            derivatives: row.derivatives,
        })
    }
}

/// A media type without its parameters, lower-cased: `Video/MP4; codecs=avc1` -> `video/mp4`.
pub fn media_type_essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The file name an asset's media is published under: `original.{extension}`.
pub fn media_file_name(media_type: &str) -> String {
    let essence = media_type_essence(media_type);
    let extension = match essence.as_str() {
        "video/mp4" | "video/quicktime" => "mp4",
        "video/webm" | "audio/webm" => "webm",
        "audio/mp4" | "audio/x-m4a" | "audio/m4a" => "m4a",
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "audio/ogg" | "application/ogg" | "audio/opus" => "ogg",
        "application/pdf" => "pdf",
        "application/zip" => "zip",
        "text/plain" => "txt",
        _ => "bin",
    };
    format!("original.{extension}")
}

pub(crate) fn encode_list<T: serde::Serialize>(values: &[T]) -> String {
    serde_json::to_string(values).expect("a list of strings or integers always serialises")
}

pub(crate) fn decode_list<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>> {
    serde_json::from_str(text)
        .map_err(|error| Error::internal(format!("corrupt list in database: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_follows_media_type() {
        assert_eq!(AssetFamily::of_media_type("image/jpeg"), AssetFamily::Image);
        assert_eq!(AssetFamily::of_media_type("IMAGE/TIFF"), AssetFamily::Image);
        assert_eq!(AssetFamily::of_media_type("audio/mpeg"), AssetFamily::Sound);
        assert_eq!(AssetFamily::of_media_type("video/mp4"), AssetFamily::Video);
        assert_eq!(
            AssetFamily::of_media_type("application/pdf"),
            AssetFamily::File
        );
    }

    #[test]
    fn lists_round_trip() {
        let tags = vec!["a".to_string(), "b\"c".to_string()];
        assert_eq!(decode_list::<String>(&encode_list(&tags)).unwrap(), tags);
        assert!(decode_list::<String>("not json").is_err());
    }
}
