//! How assets are shown: the `Asset` object (its fields, links, annotations and thumbnails),
//! the status and family enums it reports, and the query that finds one asset.

use async_graphql::{ComplexObject, Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::annotations::AnnotationObject;
use crate::graphql::connection::{PagedConnection, connection, page_complexity};
use crate::graphql::context::{call, request_context};
use crate::graphql::limits::unpaged_complexity;

/// Where an asset is in its life.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AssetStatus")]
pub enum AssetStatusValue {
    /// Registered; processing has not started.
    Waiting,
    /// Being fetched and processed.
    Ingesting,
    /// Processed; its derivatives are served.
    Ready,
    /// Processing failed; `error` says why.
    Error,
}

impl From<domain::AssetStatus> for AssetStatusValue {
    fn from(status: domain::AssetStatus) -> Self {
        match status {
            domain::AssetStatus::Waiting => Self::Waiting,
            domain::AssetStatus::Ingesting => Self::Ingesting,
            domain::AssetStatus::Ready => Self::Ready,
            domain::AssetStatus::Error => Self::Error,
        }
    }
}

impl From<AssetStatusValue> for domain::AssetStatus {
    fn from(status: AssetStatusValue) -> Self {
        match status {
            AssetStatusValue::Waiting => Self::Waiting,
            AssetStatusValue::Ingesting => Self::Ingesting,
            AssetStatusValue::Ready => Self::Ready,
            AssetStatusValue::Error => Self::Error,
        }
    }
}

/// What kind of media an asset is, from its media type.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AssetFamily")]
pub enum AssetFamilyValue {
    /// image/*: served through the Image API.
    Image,
    /// audio/*
    Sound,
    /// video/*
    Video,
    /// Anything else, served as the file.
    File,
}

impl From<domain::AssetFamily> for AssetFamilyValue {
    fn from(family: domain::AssetFamily) -> Self {
        match family {
            domain::AssetFamily::Image => Self::Image,
            domain::AssetFamily::Sound => Self::Sound,
            domain::AssetFamily::Video => Self::Video,
            domain::AssetFamily::File => Self::File,
        }
    }
}

/// A stored thumbnail.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
    /// The Image API URL that returns it.
    pub url: String,
}

/// A registered master and what has been made of it.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Asset", complex)]
pub struct AssetObject {
    /// The free references, shown as the domain defines them.
    #[graphql(flatten)]
    references: domain::References,
    #[graphql(skip)]
    asset: domain::Asset,
    #[graphql(skip)]
    base_url: String,
}

impl AssetObject {
    pub fn new(asset: domain::Asset, base_url: &str) -> Self {
        Self {
            references: asset.references.clone(),
            asset,
            base_url: base_url.to_owned(),
        }
    }

    /// The public URLs of the asset's documents in one Presentation version.
    fn links(&self, version: iiif::presentation::Version) -> domain::Links {
        domain::Links::new(self.base_url.as_str(), version)
    }

    fn manifest_url(&self, version: iiif::presentation::Version) -> String {
        let asset = &self.asset;
        self.links(version)
            .manifest(&asset.customer, asset.space, &asset.id)
    }

    /// The Image API service of an image asset, in version 3 or 2 (2.1).
    fn image_service_url(&self, version: iiif::image::ApiVersion) -> Option<String> {
        let asset = &self.asset;
        (asset.family == domain::AssetFamily::Image).then(|| {
            self.links(iiif::presentation::Version::V3)
                .image_service_id(version, &asset.customer, asset.space, &asset.id)
        })
    }
}

#[ComplexObject]
impl AssetObject {
    /// The customer the asset belongs to.
    async fn customer(&self) -> &str {
        &self.asset.customer
    }
    /// The number of the space holding the asset.
    async fn space(&self) -> i32 {
        self.asset.space
    }
    /// The asset's id within its space.
    async fn id(&self) -> &str {
        &self.asset.id
    }
    /// The master's media type.
    async fn media_type(&self) -> &str {
        &self.asset.media_type
    }
    /// What kind of media the asset is.
    async fn family(&self) -> AssetFamilyValue {
        self.asset.family.into()
    }
    /// Where the master is fetched from.
    async fn origin(&self) -> Option<&str> {
        self.asset.origin.as_deref()
    }
    /// Tags, for grouping and filtering.
    async fn tags(&self) -> &[String] {
        &self.asset.tags
    }
    /// Roles a visitor needs (any one of them).
    async fn roles(&self) -> &[String] {
        &self.asset.roles
    }
    /// Its values of its space's descriptive fields, in the space's declaration order.
    async fn fields(&self) -> &[domain::FieldValue] {
        &self.asset.fields
    }
    /// Whether the asset itself is published. Visitors see it only when its space is published
    /// too (`Space.published`); otherwise it is absent from every public route.
    async fn published(&self) -> bool {
        self.asset.published
    }
    /// Longest edge open without a role: -1 all, 0 none.
    async fn max_unauthorised(&self) -> i32 {
        self.asset.max_unauthorised
    }
    /// Pixel width, once known.
    async fn width(&self) -> Option<i32> {
        self.asset.width
    }
    /// Pixel height, once known.
    async fn height(&self) -> Option<i32> {
        self.asset.height
    }
    /// Duration in seconds of audio and video, once known.
    async fn duration(&self) -> Option<f64> {
        self.asset.duration
    }
    /// Where the asset is in its life.
    async fn status(&self) -> AssetStatusValue {
        self.asset.status.into()
    }
    /// Why processing failed, when status is ERROR.
    async fn error(&self) -> Option<&str> {
        self.asset.error.as_deref()
    }
    /// The batch that registered the asset, if any.
    async fn batch(&self) -> Option<i64> {
        self.asset.batch
    }
    /// When the asset was registered.
    async fn created(&self) -> DateTime<Utc> {
        self.asset.created
    }
    /// When processing ended (READY or ERROR).
    async fn finished(&self) -> Option<DateTime<Utc>> {
        self.asset.finished
    }
    /// Levels of the image pyramid, once built.
    async fn pyramid_levels(&self) -> Option<i32> {
        self.asset.pyramid_levels
    }
    /// Tile size of the image pyramid, once built.
    async fn tile_size(&self) -> Option<i32> {
        self.asset.tile_size
    }
    /// Bytes of derivatives stored for the asset.
    async fn bytes_stored(&self) -> Option<i64> {
        self.asset.bytes_stored
    }
    /// The IIIF Image API 3 service of an image asset.
    async fn image_service(&self) -> Option<String> {
        self.image_service_url(iiif::image::ApiVersion::V3)
    }
    /// The IIIF Image API 2.1 service of an image asset.
    async fn image_service2(&self) -> Option<String> {
        self.image_service_url(iiif::image::ApiVersion::V2)
    }
    /// Where audio, video and other files are served as registered (HTTP ranges supported);
    /// null for images, which the Image API serves.
    async fn media_url(&self) -> Option<String> {
        (self.asset.family != domain::AssetFamily::Image).then(|| {
            self.links(iiif::presentation::Version::V3)
                .media(&self.asset)
        })
    }

    /// The IIIF Presentation 3 manifest of the asset.
    async fn manifest(&self) -> String {
        self.manifest_url(iiif::presentation::Version::V3)
    }

    /// The IIIF Presentation 2.1 manifest of the asset.
    async fn manifest2(&self) -> String {
        self.manifest_url(iiif::presentation::Version::V2)
    }

    /// Its annotation page (IIIF Presentation 3.0), published once it is READY.
    async fn annotation_page(&self) -> String {
        let asset = &self.asset;
        self.links(iiif::presentation::Version::V3).annotations(
            &asset.customer,
            asset.space,
            &asset.id,
        )
    }

    /// Its annotations in the order they were made, optionally of one motivation.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn annotations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return (at most 1000; default 100).")] first: Option<i32>,
        #[graphql(desc = "Return the annotations after this cursor.")] after: Option<String>,
        #[graphql(desc = "Only annotations with this motivation.")] motivation: Option<String>,
    ) -> Result<PagedConnection<AnnotationObject>> {
        let page = domain::PageRequest::new(first, after);
        let asset = &self.asset;
        let annotations = call(ctx, |domain, principal| async move {
            domain
                .asset_annotations(
                    &principal,
                    &asset.customer,
                    asset.space,
                    &asset.id,
                    motivation.as_deref(),
                    &page,
                )
                .await
        })
        .await?;
        Ok(connection(annotations, |annotation| {
            AnnotationObject::new(annotation, &self.base_url)
        }))
    }
    /// The stored thumbnails, smallest first; empty until derivatives exist.
    #[graphql(complexity = "unpaged_complexity(child_complexity)")]
    async fn thumbnails(&self) -> Vec<Thumbnail> {
        let (Some(service), Some(width), Some(height)) = (
            self.image_service_url(iiif::image::ApiVersion::V3),
            self.asset.width,
            self.asset.height,
        ) else {
            return Vec::new();
        };
        self.asset
            .thumbnail_sizes
            .iter()
            .filter_map(|size| {
                let (width, height, size) = (
                    u32::try_from(width).ok()?,
                    u32::try_from(height).ok()?,
                    u32::try_from(*size).ok()?,
                );
                iiif::image::thumbnail_size(width, height, size)
            })
            .map(|(w, h)| (w as i32, h as i32))
            .map(|(w, h)| Thumbnail {
                width: w,
                height: h,
                url: format!("{service}/full/{w},{h}/0/default.jpg"),
            })
            .collect()
    }
}

#[derive(Default, Debug)]
pub struct AssetQuery;

#[Object]
impl AssetQuery {
    /// One asset.
    async fn asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The asset's id.")] id: String,
    ) -> Result<AssetObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        let asset = call(ctx, |domain, principal| async move {
            domain.asset(&principal, &customer, space, &id).await
        })
        .await?;
        Ok(AssetObject::new(asset, &base_url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_segments_are_escaped() {
        let asset = domain::Asset {
            customer: "acme".into(),
            customer_id: 1,
            space: 2,
            id: "page 1?#%".into(),
            media_type: "image/jpeg".into(),
            family: domain::AssetFamily::Image,
            origin: None,
            references: Default::default(),
            fields: vec![],
            published: true,
            tags: vec![],
            roles: vec![],
            max_unauthorised: -1,
            width: None,
            height: None,
            duration: None,
            status: domain::AssetStatus::Waiting,
            error: None,
            batch: None,
            created: Utc::now(),
            finished: None,
            pyramid_levels: None,
            tile_size: None,
            thumbnail_sizes: vec![],
            bytes_stored: None,
            derivatives: None,
        };
        let object = AssetObject::new(asset, "http://example.org");
        assert_eq!(
            object
                .image_service_url(iiif::image::ApiVersion::V3)
                .unwrap(),
            "http://example.org/iiif/3/acme/2/page%201%3F%23%25"
        );
    }
}
