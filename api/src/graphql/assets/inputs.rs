//! What callers send about assets: registrations, patches (where `null` clears a field),
//! exact-match filters and orderings, each with its domain form.

use async_graphql::{InputObject, MaybeUndefined, Result};

use super::object::AssetStatusValue;
use crate::graphql::spaces::keep_or_set;

/// An ordering of assets.
#[derive(InputObject, Debug)]
pub struct AssetOrderInput {
    /// The field to order by.
    pub field: domain::AssetOrderField,
    /// The direction (default ASC).
    #[graphql(default)]
    pub direction: domain::SortDirection,
}

impl From<AssetOrderInput> for domain::AssetOrder {
    fn from(order: AssetOrderInput) -> Self {
        Self {
            field: order.field,
            direction: order.direction,
        }
    }
}

/// Exact-match filters on assets: each given must match (string1-3 and number1-3 exactly).
#[derive(InputObject, Debug, Default)]
pub struct AssetFilterInput {
    /// Assets holding exactly each of these references.
    #[graphql(flatten)]
    pub references: domain::References,
    /// Assets carrying this tag.
    pub tag: Option<String>,
    /// Assets in this state.
    pub status: Option<AssetStatusValue>,
    /// Assets of exactly this media type.
    pub media_type: Option<String>,
    /// Assets holding every one of these values of each descriptive field given.
    pub fields: Option<Vec<domain::FieldValue>>,
    /// Only published (true) or only unpublished (false) assets.
    pub published: Option<bool>,
}

impl From<AssetFilterInput> for domain::AssetFilter {
    fn from(filter: AssetFilterInput) -> Self {
        Self {
            references: filter.references,
            tag: filter.tag,
            tags: Vec::new(),
            status: filter.status.map(Into::into),
            media_type: filter.media_type,
            fields: filter.fields.unwrap_or_default(),
            published: filter.published,
        }
    }
}

/// A registration.
#[derive(InputObject, Debug)]
pub struct AssetInput {
    /// The asset's id within its space: 1 to 255 bytes, no '/', no control characters, no
    /// surrounding whitespace. Left out, the server assigns a new one (a UUID).
    pub id: Option<String>,
    /// The master's media type, e.g. image/jpeg; empty to take it from the master's bytes when
    /// it is processed (a format it does not recognise ends the asset in ERROR, wrong-media-type).
    pub media_type: String,
    /// Where the master is fetched from: an http, https, s3 or file URL.
    pub origin: Option<String>,
    /// Free references, string1-3 and number1-3.
    #[graphql(flatten)]
    pub references: domain::References,
    /// Tags; the space's default tags when left out.
    pub tags: Option<Vec<String>>,
    /// Roles a visitor needs; the space's default roles when left out.
    pub roles: Option<Vec<String>>,
    /// Longest edge open to visitors without a role (-1: all, 0: none); the space's default when
    /// left out.
    pub max_unauthorised: Option<i32>,
    /// Values of the space's descriptive fields, checked against their declaration
    /// (INVALID_METADATA when one does not fit or a required field is missing).
    pub fields: Option<Vec<domain::FieldValue>>,
    /// Whether visitors can see it once it is ready (default true).
    pub published: Option<bool>,
}

impl From<AssetInput> for domain::AssetInput {
    fn from(input: AssetInput) -> Self {
        Self {
            id: input.id.unwrap_or_else(domain::new_asset_id),
            media_type: input.media_type,
            origin: input.origin,
            references: input.references,
            tags: input.tags,
            roles: input.roles,
            max_unauthorised: input.max_unauthorised,
            fields: input.fields.unwrap_or_default(),
            published: input.published,
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
    /// New string1-3 and number1-3; null clears one.
    #[graphql(flatten)]
    pub references: domain::ReferencesPatch,
    /// New tags, replacing the old ones (cannot be null; [] removes all).
    pub tags: MaybeUndefined<Vec<String>>,
    /// New roles, replacing the old ones (cannot be null; [] removes all).
    pub roles: MaybeUndefined<Vec<String>>,
    /// New maxUnauthorised (cannot be null).
    pub max_unauthorised: MaybeUndefined<i32>,
    /// Descriptive field values: each field given takes these values, `values: []` clears it,
    /// fields not given keep theirs.
    pub fields: Option<Vec<domain::FieldValue>>,
    /// Publish (true) or withdraw (false) the asset: an unpublished asset is absent from every
    /// public route, manifest, collection and search (cannot be null).
    pub published: MaybeUndefined<bool>,
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
            references: patch.references,
            tags: keep_or_set("tags", patch.tags)?,
            roles: keep_or_set("roles", patch.roles)?,
            max_unauthorised: keep_or_set("maxUnauthorised", patch.max_unauthorised)?,
            fields: patch.fields.unwrap_or_default(),
            published: keep_or_set("published", patch.published)?,
        })
    }
}
