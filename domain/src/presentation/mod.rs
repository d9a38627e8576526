//! Presentation: the settings customers and spaces give their manifests, named queries, and
//! the assembly of manifests and collections from assets.

mod collections;
mod links;
mod manifests;
mod named_queries;
mod settings;
mod template;

pub use collections::Part;
pub use links::{Links, SearchScope};
pub(crate) use manifests::{asset_label, query_label, query_settings};
pub(crate) use named_queries::Member;
pub use named_queries::{MAX_QUERY_CANVASES, NamedQuery, NamedQueryInput, NamedQueryPatch};
pub use settings::{
    LinkTemplate, PresentationPatch, PresentationSettings, ProviderSetting, RangeField, Statement,
};
