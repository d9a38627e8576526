//! Spaces and the assets listed in them.

use async_graphql::{
    ComplexObject, Context, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};
use chrono::{DateTime, Utc};

use super::assets::{AssetFilterInput, AssetObject, AssetOrderInput};
use super::connection::{PagedConnection, connection, page_complexity};
use super::context::call;
use super::fields::{MetadataField, MetadataFieldInput, declared};
use super::presentation::{PresentationObject, PresentationPatchFields};
use crate::error::graphql_error;

/// A numbered container of a customer's assets, with the defaults new assets take.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Space", complex)]
pub struct SpaceObject {
    /// The space's number within its customer, as used in every URL.
    pub id: i32,
    /// The customer the space belongs to.
    pub customer: String,
    /// Name, unique within the customer.
    pub name: String,
    /// Roles given to new assets that name none.
    pub default_roles: Vec<String>,
    /// Tags given to new assets that name none.
    pub default_tags: Vec<String>,
    /// maxUnauthorised given to new assets that name none (-1: open).
    pub default_max_unauthorised: i32,
    /// Longest-edge sizes of the thumbnails made for each image.
    pub thumbnail_sizes: Vec<i32>,
    /// How manifests of the space's assets are presented (unset fields: the customer's).
    pub presentation: PresentationObject,
    /// The descriptive fields its assets carry, in order.
    pub fields: Vec<MetadataField>,
    /// Whether visitors can see its assets; an unpublished space's assets are absent from
    /// every public route, manifest, collection and search.
    pub published: bool,
    /// When the space was created.
    pub created: DateTime<Utc>,
}

impl From<domain::Space> for SpaceObject {
    fn from(space: domain::Space) -> Self {
        Self {
            id: space.id,
            customer: space.customer,
            name: space.name,
            default_roles: space.default_roles,
            default_tags: space.default_tags,
            default_max_unauthorised: space.default_max_unauthorised,
            thumbnail_sizes: space.thumbnail_sizes,
            presentation: space.presentation.into(),
            fields: space.fields.into_iter().map(Into::into).collect(),
            published: space.published,
            created: space.created,
        }
    }
}

#[ComplexObject]
impl SpaceObject {
    /// The IIIF Presentation 3.0 collection of the space's READY assets.
    async fn collection(&self, ctx: &Context<'_>) -> Result<String> {
        let base_url = &super::context::request_context(ctx)?.base_url;
        Ok(
            domain::Links::new(base_url, iiif::presentation::Version::V3).collection(
                &self.customer,
                Some(self.id),
                None,
            ),
        )
    }

    /// The space's assets matching every filter given, in the order asked (default: by id).
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Exact-match filters; all given must match.")] filter: Option<
            AssetFilterInput,
        >,
        #[graphql(desc = "The order; missing values sort last, ties by id.")] order_by: Option<
            AssetOrderInput,
        >,
        #[graphql(desc = "How many assets to return (at most 1000; default 100).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return the assets after this cursor.")] after: Option<String>,
    ) -> Result<PagedConnection<AssetObject>> {
        let filter = filter.map(domain::AssetFilter::from).unwrap_or_default();
        let order = order_by.map(domain::AssetOrder::from).unwrap_or_default();
        let page = domain::PageRequest::new(first, after);
        let base_url = super::context::request_context(ctx)?.base_url.clone();
        let (customer, space) = (&self.customer, self.id);
        let assets = call(ctx, |domain, principal| async move {
            domain
                .assets(&principal, customer, space, &filter, order, &page)
                .await
        })
        .await?;
        Ok(connection(assets, |asset| {
            AssetObject::new(asset, &base_url)
        }))
    }
}

/// A new space.
#[derive(InputObject, Debug)]
pub struct SpaceInput {
    /// Name, unique within the customer.
    pub name: String,
    /// Roles given to new assets that name none.
    pub default_roles: Option<Vec<String>>,
    /// Tags given to new assets that name none.
    pub default_tags: Option<Vec<String>>,
    /// maxUnauthorised given to new assets that name none (default -1: open).
    pub default_max_unauthorised: Option<i32>,
    /// Longest-edge thumbnail sizes (default 100, 200, 400, 1024).
    pub thumbnail_sizes: Option<Vec<i32>>,
    /// The descriptive fields its assets carry.
    pub fields: Option<Vec<MetadataFieldInput>>,
    /// Whether visitors can see its assets (default true).
    pub published: Option<bool>,
}

/// Changes to a space: only the fields given change.
#[derive(InputObject, Debug)]
pub struct SpacePatch {
    /// New name, unique within the customer.
    pub name: MaybeUndefined<String>,
    /// New default roles.
    pub default_roles: MaybeUndefined<Vec<String>>,
    /// New default tags.
    pub default_tags: MaybeUndefined<Vec<String>>,
    /// New default maxUnauthorised.
    pub default_max_unauthorised: MaybeUndefined<i32>,
    /// New thumbnail sizes.
    pub thumbnail_sizes: MaybeUndefined<Vec<i32>>,
    #[graphql(flatten)]
    pub presentation: PresentationPatchFields,
    /// The whole new list of descriptive fields (cannot be null; [] removes all). Values
    /// assets hold for fields no longer declared are no longer shown.
    pub fields: MaybeUndefined<Vec<MetadataFieldInput>>,
    /// Publish (true) or withdraw (false) every asset of the space at once (cannot be null).
    pub published: MaybeUndefined<bool>,
}

/// A patch field that may be left out but not cleared: `null` is refused.
pub(crate) fn keep_or_set<T>(field: &str, value: MaybeUndefined<T>) -> Result<Option<T>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Err(graphql_error(domain::Error::invalid_input(format!(
            "{field} cannot be null"
        )))),
        MaybeUndefined::Value(value) => Ok(Some(value)),
    }
}

impl TryFrom<SpacePatch> for domain::SpacePatch {
    type Error = async_graphql::Error;

    fn try_from(patch: SpacePatch) -> Result<Self> {
        Ok(Self {
            name: keep_or_set("name", patch.name)?,
            default_roles: keep_or_set("defaultRoles", patch.default_roles)?,
            default_tags: keep_or_set("defaultTags", patch.default_tags)?,
            default_max_unauthorised: keep_or_set(
                "defaultMaxUnauthorised",
                patch.default_max_unauthorised,
            )?,
            thumbnail_sizes: keep_or_set("thumbnailSizes", patch.thumbnail_sizes)?,
            presentation: patch.presentation.into(),
            fields: keep_or_set("fields", patch.fields)?.map(declared),
            published: keep_or_set("published", patch.published)?,
        })
    }
}

#[derive(Default, Debug)]
pub struct SpaceQuery;

#[Object]
impl SpaceQuery {
    /// One space of a customer.
    async fn space(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] id: i32,
    ) -> Result<SpaceObject> {
        let space = call(ctx, |domain, principal| async move {
            domain.space(&principal, &customer, id).await
        })
        .await?;
        Ok(space.into())
    }
}

#[derive(Default, Debug)]
pub struct SpaceMutation;

#[Object]
impl SpaceMutation {
    /// Creates a space numbered one past the customer's highest.
    async fn create_space(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The new space.")] input: SpaceInput,
    ) -> Result<SpaceObject> {
        let input = domain::SpaceInput {
            name: input.name,
            default_roles: input.default_roles.unwrap_or_default(),
            default_tags: input.default_tags.unwrap_or_default(),
            default_max_unauthorised: input.default_max_unauthorised,
            thumbnail_sizes: input.thumbnail_sizes,
            fields: declared(input.fields.unwrap_or_default()),
            published: input.published,
        };
        let space = call(ctx, |domain, principal| async move {
            domain.create_space(&principal, &customer, input).await
        })
        .await?;
        Ok(space.into())
    }

    /// Changes the fields the patch names and leaves the others.
    async fn update_space(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] id: i32,
        #[graphql(desc = "The fields to change.")] patch: SpacePatch,
    ) -> Result<SpaceObject> {
        let patch = domain::SpacePatch::try_from(patch)?;
        let space = call(ctx, |domain, principal| async move {
            domain.update_space(&principal, &customer, id, patch).await
        })
        .await?;
        Ok(space.into())
    }

    /// Deletes an empty space; one that still holds assets is refused with CONFLICT.
    async fn delete_space(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] id: i32,
    ) -> Result<bool> {
        call(ctx, |domain, principal| async move {
            domain.delete_space(&principal, &customer, id).await
        })
        .await
    }
}
