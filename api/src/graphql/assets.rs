//! Assets: registration, changes, and how they are shown.

use async_graphql::{
    Context, Enum, InputObject, MaybeUndefined, Object, Result, SimpleObject, Upload,
};
use chrono::{DateTime, Utc};

use super::context::{call, request_context, upload_file};
use super::spaces::keep_or_set;
use crate::error::graphql_error;

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
    /// The master's media type, e.g. image/jpeg.
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
#[derive(Debug, Clone)]
pub struct AssetObject {
    asset: domain::Asset,
    base_url: String,
}

impl AssetObject {
    pub fn new(asset: domain::Asset, base_url: &str) -> Self {
        Self {
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

/// A registered master and what has been made of it.
#[Object(name = "Asset")]
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
    /// Free reference (the CSV's Reference1).
    async fn string1(&self) -> Option<&str> {
        self.asset.string1.as_deref()
    }
    /// Free reference (the CSV's Reference2).
    async fn string2(&self) -> Option<&str> {
        self.asset.string2.as_deref()
    }
    /// Free reference (the CSV's Reference3).
    async fn string3(&self) -> Option<&str> {
        self.asset.string3.as_deref()
    }
    /// Free number (the CSV's Number1), e.g. a page number.
    async fn number1(&self) -> Option<i64> {
        self.asset.number1
    }
    /// Free number (the CSV's Number2).
    async fn number2(&self) -> Option<i64> {
        self.asset.number2
    }
    /// Free number (the CSV's Number3).
    async fn number3(&self) -> Option<i64> {
        self.asset.number3
    }
    /// Tags, for grouping and filtering.
    async fn tags(&self) -> &[String] {
        &self.asset.tags
    }
    /// Roles a visitor needs (any one of them).
    async fn roles(&self) -> &[String] {
        &self.asset.roles
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
    #[graphql(complexity = "super::connection::page_complexity(first, child_complexity)")]
    async fn annotations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return (at most 1000; default 100).")] first: Option<i32>,
        #[graphql(desc = "Return the annotations after this cursor.")] after: Option<String>,
        #[graphql(desc = "Only annotations with this motivation.")] motivation: Option<String>,
    ) -> Result<super::connection::PagedConnection<super::annotations::AnnotationObject>> {
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
        Ok(super::connection::connection(annotations, |annotation| {
            super::annotations::AnnotationObject::new(annotation, &self.base_url)
        }))
    }
    /// The stored thumbnails, smallest first; empty until derivatives exist.
    #[graphql(complexity = "super::limits::unpaged_complexity(child_complexity)")]
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

/// After a registration queued its job: processes it in this request when the caller waits,
/// otherwise wakes this node's workers and returns the asset as it is (WAITING).
async fn process(ctx: &Context<'_>, asset: domain::Asset, wait: bool) -> Result<domain::Asset> {
    let processing = ctx.data::<crate::processing::Processing>()?;
    processing
        .after_registration(asset, wait)
        .await
        .map_err(graphql_error)
}

/// Most files `uploadAssets` takes in one request.
pub const MAX_UPLOAD_FILES: usize = 10;

/// What became of one file of `uploadAssets`: its asset, or why it was not registered.
#[derive(SimpleObject)]
pub struct UploadResult {
    /// The id the file was registered under (as given in its input).
    id: String,
    /// The asset, when the file was registered.
    asset: Option<AssetObject>,
    /// The stable error code (as in `extensions.code`) when it was not.
    code: Option<String>,
    /// What went wrong, in words.
    message: Option<String>,
}

impl UploadResult {
    fn failed(id: String, error: &async_graphql::Error) -> Self {
        let code = error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "INTERNAL".to_owned());
        Self {
            id,
            asset: None,
            code: Some(code),
            message: Some(error.message.clone()),
        }
    }
}

#[derive(Default, Debug)]
pub struct AssetMutation;

#[Object]
impl AssetMutation {
    /// Registers an asset in a space and processes it from its origin. Without `wait` it
    /// returns at once with status WAITING and processing goes on in the background; with
    /// `wait: true` it returns once processing has ended, READY or ERROR with the reason.
    async fn register_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The registration.")] input: AssetInput,
        #[graphql(
            default_with = "Some(false)",
            desc = "Return only once processing has ended."
        )]
        wait: Option<bool>,
    ) -> Result<AssetObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        let input = domain::AssetInput::from(input);
        let asset = call(ctx, |domain, principal| async move {
            domain
                .register_asset(&principal, &customer, space, input)
                .await
        })
        .await?;
        let asset = process(ctx, asset, wait == Some(true)).await?;
        Ok(AssetObject::new(asset, &base_url))
    }

    /// Registers an asset with its master uploaded in the request (GraphQL multipart), and
    /// processes it; `origin` may be left out. `wait` works as for `registerAsset`.
    async fn upload_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The registration.")] input: AssetInput,
        #[graphql(desc = "The master's bytes.")] file: Upload,
        #[graphql(
            default_with = "Some(false)",
            desc = "Return only once processing has ended."
        )]
        wait: Option<bool>,
    ) -> Result<AssetObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        // the file part was streamed to a temporary file; opened before anything is recorded,
        // so an unreadable upload registers nothing
        let file = upload_file(ctx, file)?;
        let input = domain::AssetInput::from(input);
        let asset = call(ctx, |domain, principal| async move {
            domain
                .register_uploaded_asset(&principal, &customer, space, input)
                .await
        })
        .await?;
        let processing = ctx.data::<crate::processing::Processing>()?;
        processing
            .ingestor
            .store_upload_file(&asset, file)
            .await
            .map_err(|error| {
                graphql_error(domain::Error::internal(format!(
                    "the upload cannot be stored: {error}"
                )))
            })?;
        let asset = process(ctx, asset, wait == Some(true)).await?;
        Ok(AssetObject::new(asset, &base_url))
    }

    /// Registers up to 10 assets with their masters uploaded in one request (GraphQL
    /// multipart): `inputs[i]` describes `files[i]`. More than 10 files, or inputs and files
    /// that do not pair up, are refused before anything is recorded. Each file then succeeds
    /// or fails on its own (a duplicate id, say), and the answer has one result per file, in
    /// order. `wait` works as for `registerAsset`.
    async fn upload_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "One registration per file, in the files' order.")] inputs: Vec<
            AssetInput,
        >,
        #[graphql(desc = "The masters' bytes, at most 10.")] files: Vec<Upload>,
        #[graphql(
            default_with = "Some(false)",
            desc = "Return only once processing has ended."
        )]
        wait: Option<bool>,
    ) -> Result<Vec<UploadResult>> {
        let base_url = request_context(ctx)?.base_url.clone();
        if files.is_empty() || files.len() > MAX_UPLOAD_FILES {
            return Err(graphql_error(domain::Error::invalid_input(format!(
                "send between 1 and {MAX_UPLOAD_FILES} files at once, not {}",
                files.len()
            ))));
        }
        if inputs.len() != files.len() {
            return Err(graphql_error(domain::Error::invalid_input(format!(
                "{} inputs for {} files: send one input per file",
                inputs.len(),
                files.len()
            ))));
        }
        // every file part must be readable before anything is recorded
        let files = files
            .into_iter()
            .map(|file| upload_file(ctx, file))
            .collect::<Result<Vec<_>>>()?;
        let processing = ctx.data::<crate::processing::Processing>()?;
        let mut results = Vec::with_capacity(files.len());
        for (input, file) in inputs.into_iter().zip(files) {
            let id = input.id.clone();
            let customer = customer.clone();
            let input = domain::AssetInput::from(input);
            let registered = call(ctx, |domain, principal| async move {
                domain
                    .register_uploaded_asset(&principal, &customer, space, input)
                    .await
            })
            .await;
            let asset = match registered {
                Ok(asset) => asset,
                Err(error) => {
                    results.push(UploadResult::failed(id, &error));
                    continue;
                }
            };
            if let Err(error) = processing.ingestor.store_upload_file(&asset, file).await {
                let error =
                    domain::Error::internal(format!("the upload cannot be stored: {error}"));
                results.push(UploadResult::failed(id, &graphql_error(error)));
                continue;
            }
            match process(ctx, asset, wait == Some(true)).await {
                Ok(asset) => results.push(UploadResult {
                    id,
                    asset: Some(AssetObject::new(asset, &base_url)),
                    code: None,
                    message: None,
                }),
                Err(error) => results.push(UploadResult::failed(id, &error)),
            }
        }
        Ok(results)
    }

    /// Changes the fields the patch names and leaves every other field as it is.
    async fn update_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The asset's id.")] id: String,
        #[graphql(desc = "The fields to change.")] patch: AssetPatch,
    ) -> Result<AssetObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        let patch = domain::AssetPatch::try_from(patch)?;
        let asset = call(ctx, |domain, principal| async move {
            domain
                .update_asset(&principal, &customer, space, &id, patch)
                .await
        })
        .await?;
        if asset.status == domain::AssetStatus::Waiting {
            ctx.data::<crate::processing::Processing>()?.job_queued();
        }
        Ok(AssetObject::new(asset, &base_url))
    }

    /// Processes an asset again from its origin (or its stored upload): it returns at once
    /// with status WAITING, or with `wait: true` once processing has ended.
    async fn reingest_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The asset's id.")] id: String,
        #[graphql(
            default_with = "Some(false)",
            desc = "Return only once processing has ended."
        )]
        wait: Option<bool>,
    ) -> Result<AssetObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        let asset = call(ctx, |domain, principal| async move {
            domain
                .reingest_asset(&principal, &customer, space, &id)
                .await
        })
        .await?;
        let asset = process(ctx, asset, wait == Some(true)).await?;
        Ok(AssetObject::new(asset, &base_url))
    }

    /// Deletes an asset and every object stored for it (master, pyramid, thumbnails, files).
    async fn delete_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The asset's id.")] id: String,
    ) -> Result<bool> {
        let deleted = call(ctx, |domain, principal| async move {
            domain.delete_asset(&principal, &customer, space, &id).await
        })
        .await?;
        let processing = ctx.data::<crate::processing::Processing>()?;
        processing
            .remove_stored(&deleted)
            .await
            .map_err(graphql_error)?;
        Ok(true)
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
            string1: None,
            string2: None,
            string3: None,
            number1: None,
            number2: None,
            number3: None,
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
