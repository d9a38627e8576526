//! Assets: registration, changes, and how they are shown.
//!
//! - `object`: the `Asset` object, its status and family, its thumbnails, and the query for one
//! - `inputs`: registrations, patches, filters and orderings, and their domain forms
//! - `mutations`: registering (from an origin or uploaded files), changing, reprocessing and
//!   deleting assets

mod inputs;
mod mutations;
mod object;

pub(crate) use inputs::keep_set_or_clear;
pub use inputs::{AssetFilterInput, AssetInput, AssetOrderInput};
pub use mutations::{AssetMutation, MAX_UPLOAD_FILES};
pub use object::{AssetObject, AssetQuery, AssetStatusValue};
