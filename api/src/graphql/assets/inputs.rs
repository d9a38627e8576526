//! What callers send about assets: registrations, patches (where `null` clears a field),
//! exact-match filters and orderings, each with its domain form.

use async_graphql::{Enum, InputObject, MaybeUndefined, Result};

use super::object::AssetStatusValue;
use crate::graphql::spaces::keep_or_set;

/// Fields assets can be ordered by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetOrderField {
    /// The asset's id, byte-wise.
    Id,
    /// When the asset was registered.
    Created,
    #[graphql(name = "STRING1")]
    String1,
    #[graphql(name = "STRING2")]
    String2,
    #[graphql(name = "STRING3")]
    String3,
    #[graphql(name = "NUMBER1")]
    Number1,
    #[graphql(name = "NUMBER2")]
    Number2,
    #[graphql(name = "NUMBER3")]
    Number3,
}

/// Ascending or descending.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// An ordering of assets.
#[derive(InputObject, Debug)]
pub struct AssetOrderInput {
    /// The field to order by.
    pub field: AssetOrderField,
    /// The direction (default ASC).
    #[graphql(default)]
    pub direction: SortDirection,
}

impl From<AssetOrderInput> for domain::AssetOrder {
    fn from(order: AssetOrderInput) -> Self {
        let field = match order.field {
            AssetOrderField::Id => domain::AssetOrderField::Id,
            AssetOrderField::Created => domain::AssetOrderField::Created,
            AssetOrderField::String1 => domain::AssetOrderField::String1,
            AssetOrderField::String2 => domain::AssetOrderField::String2,
            AssetOrderField::String3 => domain::AssetOrderField::String3,
            AssetOrderField::Number1 => domain::AssetOrderField::Number1,
            AssetOrderField::Number2 => domain::AssetOrderField::Number2,
            AssetOrderField::Number3 => domain::AssetOrderField::Number3,
        };
        let direction = match order.direction {
            SortDirection::Asc => domain::SortDirection::Asc,
            SortDirection::Desc => domain::SortDirection::Desc,
        };
        Self { field, direction }
    }
}

/// Exact-match filters on assets.
#[derive(InputObject, Debug, Default)]
pub struct AssetFilterInput {
    /// Assets whose string1 is exactly this.
    pub string1: Option<String>,
    /// Assets whose string2 is exactly this.
    pub string2: Option<String>,
    /// Assets whose string3 is exactly this.
    pub string3: Option<String>,
    /// Assets whose number1 is this.
    pub number1: Option<i64>,
    /// Assets whose number2 is this.
    pub number2: Option<i64>,
    /// Assets whose number3 is this.
    pub number3: Option<i64>,
    /// Assets carrying this tag.
    pub tag: Option<String>,
    /// Assets in this state.
    pub status: Option<AssetStatusValue>,
    /// Assets of exactly this media type.
    pub media_type: Option<String>,
}

impl From<AssetFilterInput> for domain::AssetFilter {
    fn from(filter: AssetFilterInput) -> Self {
        Self {
            string1: filter.string1,
            string2: filter.string2,
            string3: filter.string3,
            number1: filter.number1,
            number2: filter.number2,
            number3: filter.number3,
            tag: filter.tag,
            tags: Vec::new(),
            status: filter.status.map(Into::into),
            media_type: filter.media_type,
        }
    }
}

/// A registration.
#[derive(InputObject, Debug)]
pub struct AssetInput {
    /// The asset's id within its space: 1 to 255 bytes, no '/', no control characters, no
    /// surrounding whitespace.
    pub id: String,
    /// The master's media type, e.g. image/jpeg; empty to take it from the master's bytes when
    /// it is processed (a format it does not recognise ends the asset in ERROR, wrong-media-type).
    pub media_type: String,
    /// Where the master is fetched from: an http, https, s3 or file URL.
    pub origin: Option<String>,
    /// Free reference (the CSV's Reference1).
    pub string1: Option<String>,
    /// Free reference (the CSV's Reference2).
    pub string2: Option<String>,
    /// Free reference (the CSV's Reference3).
    pub string3: Option<String>,
    /// Free number (the CSV's Number1), e.g. a page number.
    pub number1: Option<i64>,
    /// Free number (the CSV's Number2).
    pub number2: Option<i64>,
    /// Free number (the CSV's Number3).
    pub number3: Option<i64>,
    /// Tags; the space's default tags when left out.
    pub tags: Option<Vec<String>>,
    /// Roles a visitor needs; the space's default roles when left out.
    pub roles: Option<Vec<String>>,
    /// Longest edge open to visitors without a role (-1: all, 0: none); the space's default when
    /// left out.
    pub max_unauthorised: Option<i32>,
}

impl From<AssetInput> for domain::AssetInput {
    fn from(input: AssetInput) -> Self {
        Self {
            id: input.id,
            media_type: input.media_type,
            origin: input.origin,
            string1: input.string1,
            string2: input.string2,
            string3: input.string3,
            number1: input.number1,
            number2: input.number2,
            number3: input.number3,
            tags: input.tags,
            roles: input.roles,
            max_unauthorised: input.max_unauthorised,
        }
    }
}

/// Changes to an asset: only the fields given change; `null` clears string1-3 and number1-3.
#[derive(InputObject, Debug)]
pub struct AssetPatch {
    /// New media type (cannot be null).
    pub media_type: MaybeUndefined<String>,
    /// New origin (cannot be null).
    pub origin: MaybeUndefined<String>,
    /// New string1; null clears it.
    pub string1: MaybeUndefined<String>,
    /// New string2; null clears it.
    pub string2: MaybeUndefined<String>,
    /// New string3; null clears it.
    pub string3: MaybeUndefined<String>,
    /// New number1; null clears it.
    pub number1: MaybeUndefined<i64>,
    /// New number2; null clears it.
    pub number2: MaybeUndefined<i64>,
    /// New number3; null clears it.
    pub number3: MaybeUndefined<i64>,
    /// New tags, replacing the old ones (cannot be null; [] removes all).
    pub tags: MaybeUndefined<Vec<String>>,
    /// New roles, replacing the old ones (cannot be null; [] removes all).
    pub roles: MaybeUndefined<Vec<String>>,
    /// New maxUnauthorised (cannot be null).
    pub max_unauthorised: MaybeUndefined<i32>,
}

/// A patch field that may be left out (`None`), cleared with `null` (`Some(None)`) or set.
pub(crate) fn keep_set_or_clear<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(value) => Some(Some(value)),
    }
}

impl TryFrom<AssetPatch> for domain::AssetPatch {
    type Error = async_graphql::Error;

    fn try_from(patch: AssetPatch) -> Result<Self> {
        Ok(Self {
            media_type: keep_or_set("mediaType", patch.media_type)?,
            origin: keep_or_set("origin", patch.origin)?,
            string1: keep_set_or_clear(patch.string1),
            string2: keep_set_or_clear(patch.string2),
            string3: keep_set_or_clear(patch.string3),
            number1: keep_set_or_clear(patch.number1),
            number2: keep_set_or_clear(patch.number2),
            number3: keep_set_or_clear(patch.number3),
            tags: keep_or_set("tags", patch.tags)?,
            roles: keep_or_set("roles", patch.roles)?,
            max_unauthorised: keep_or_set("maxUnauthorised", patch.max_unauthorised)?,
        })
    }
}
