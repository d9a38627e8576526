//! Annotations on assets.

use async_graphql::{
    Context, Enum, InputObject, MaybeUndefined, Object, Result, SimpleObject, Upload,
};
use chrono::{DateTime, Utc};

use super::assets::keep_set_or_clear;
use super::context::{call, read_upload, request_context};
use super::spaces::keep_or_set;
use crate::error::graphql_error;

/// A rectangle of the canvas, in the asset's pixels.
#[derive(SimpleObject, InputObject, Debug, Clone, Copy)]
#[graphql(name = "Region", input_name = "RegionInput")]
pub struct RegionObject {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

/// A stretch of a recording, in seconds.
#[derive(SimpleObject, InputObject, Debug, Clone, Copy)]
#[graphql(name = "TimeRange", input_name = "TimeRangeInput")]
pub struct TimeRangeObject {
    pub start: f64,
    pub end: f64,
}

impl From<RegionObject> for domain::Region {
    fn from(region: RegionObject) -> Self {
        Self {
            x: region.x,
            y: region.y,
            w: region.w,
            h: region.h,
        }
    }
}

impl From<TimeRangeObject> for domain::TimeRange {
    fn from(time: TimeRangeObject) -> Self {
        Self {
            start: time.start,
            end: time.end,
        }
    }
}

/// A W3C Web Annotation with a text body on an asset's canvas.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Annotation")]
pub struct AnnotationObject {
    /// Its number, unique within the customer.
    pub id: i64,
    pub customer: String,
    pub space: i32,
    /// The annotated asset's id.
    pub asset: String,
    /// The W3C motivation, e.g. `commenting` or `supplementing` (transcriptions, captions).
    pub motivation: String,
    /// The text.
    pub value: String,
    /// `text/plain` or `text/html`.
    pub format: String,
    /// The text's language (BCP 47).
    pub language: Option<String>,
    /// The part of the canvas it targets (images and video).
    pub region: Option<RegionObject>,
    /// The part of the recording it targets (audio and video).
    pub time: Option<TimeRangeObject>,
    /// Who made it.
    pub creator: Option<String>,
    /// Its public URL (it is published once the asset is READY).
    pub url: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl AnnotationObject {
    pub(crate) fn new(annotation: domain::Annotation, base_url: &str) -> Self {
        let url = domain::Links::new(base_url, iiif::presentation::Version::V3).annotation(
            &annotation.customer,
            annotation.space,
            &annotation.asset,
            annotation.id,
        );
        Self {
            url,
            id: annotation.id,
            customer: annotation.customer,
            space: annotation.space,
            asset: annotation.asset,
            motivation: annotation.motivation,
            value: annotation.value,
            format: annotation.format,
            language: annotation.language,
            region: annotation.region.map(|r| RegionObject {
                x: r.x,
                y: r.y,
                w: r.w,
                h: r.h,
            }),
            time: annotation.time.map(|t| TimeRangeObject {
                start: t.start,
                end: t.end,
            }),
            creator: annotation.creator,
            created: annotation.created,
            updated: annotation.updated,
        }
    }
}

/// A new annotation.
#[derive(InputObject, Debug)]
pub struct AnnotationInput {
    /// Default `commenting`.
    pub motivation: Option<String>,
    /// The text (1 to 100,000 characters).
    pub value: String,
    /// `text/plain` (default) or `text/html`.
    pub format: Option<String>,
    /// The text's language (BCP 47).
    pub language: Option<String>,
    /// The part of the canvas it targets; inside the image.
    pub region: Option<RegionObject>,
    /// The part of the recording it targets; inside its duration.
    pub time: Option<TimeRangeObject>,
    /// Who made it.
    pub creator: Option<String>,
}

/// Changes to an annotation: only the fields given change; `null` clears optional ones.
#[derive(InputObject, Debug)]
pub struct AnnotationPatch {
    pub motivation: MaybeUndefined<String>,
    pub value: MaybeUndefined<String>,
    pub format: MaybeUndefined<String>,
    pub language: MaybeUndefined<String>,
    pub region: MaybeUndefined<RegionObject>,
    pub time: MaybeUndefined<TimeRangeObject>,
    pub creator: MaybeUndefined<String>,
}

/// The annotation files `importAnnotations` reads.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationFormat {
    /// ALTO XML (v2-v4), one page: word boxes in the page's units.
    Alto,
    /// hOCR as XHTML (Tesseract's output), one `ocr_page`.
    Hocr,
    /// WebVTT captions: one annotation per cue, on its time range.
    Webvtt,
    /// W3C Web Annotations: an AnnotationPage, a list, or one annotation; targets in the
    /// asset's pixels (`#xywh=`) or seconds (`#t=`).
    #[graphql(name = "W3C")]
    W3c,
}

impl From<AnnotationFormat> for domain::ImportFormat {
    fn from(format: AnnotationFormat) -> Self {
        match format {
            AnnotationFormat::Alto => Self::Alto,
            AnnotationFormat::Hocr => Self::Hocr,
            AnnotationFormat::Webvtt => Self::WebVtt,
            AnnotationFormat::W3c => Self::W3c,
        }
    }
}

/// How OCR is cut into annotations.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationGranularity {
    /// One annotation per word.
    Word,
    /// One annotation per line of words.
    Line,
}

/// What an import did.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct AnnotationImport {
    /// Annotations created (the asset's earlier import of this format was replaced).
    pub count: i32,
}

/// Largest annotation file an import reads, in bytes.
const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

#[derive(Default, Debug)]
pub struct AnnotationMutation;

#[Object]
impl AnnotationMutation {
    /// Annotates an asset; the region or time range must lie inside it.
    async fn create_annotation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The asset's id.")] asset: String,
        #[graphql(desc = "The annotation.")] input: AnnotationInput,
    ) -> Result<AnnotationObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        let input = domain::AnnotationInput {
            motivation: input.motivation,
            value: input.value,
            format: input.format,
            language: input.language,
            region: input.region.map(domain::Region::from),
            time: input.time.map(domain::TimeRange::from),
            creator: input.creator,
        };
        let created = call(ctx, |domain, principal| async move {
            domain
                .create_annotation(&principal, &customer, space, &asset, input)
                .await
        })
        .await?;
        Ok(AnnotationObject::new(created, &base_url))
    }

    /// Changes the fields the patch names; the result is checked as a whole.
    async fn update_annotation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The annotation's number.")] id: i64,
        #[graphql(desc = "The fields to change.")] patch: AnnotationPatch,
    ) -> Result<AnnotationObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        let patch = domain::AnnotationPatch {
            motivation: keep_or_set("motivation", patch.motivation)?,
            value: keep_or_set("value", patch.value)?,
            format: keep_or_set("format", patch.format)?,
            language: keep_set_or_clear(patch.language),
            region: keep_set_or_clear(patch.region).map(|set| set.map(domain::Region::from)),
            time: keep_set_or_clear(patch.time).map(|set| set.map(domain::TimeRange::from)),
            creator: keep_set_or_clear(patch.creator),
        };
        let updated = call(ctx, |domain, principal| async move {
            domain
                .update_annotation(&principal, &customer, id, patch)
                .await
        })
        .await?;
        Ok(AnnotationObject::new(updated, &base_url))
    }

    /// Imports an annotation file (given as `content` or uploaded as `file`, not both) onto an
    /// asset, replacing the asset's earlier import of the same format; a file with any bad
    /// annotation changes nothing. OCR boxes are scaled from the file's page size to the
    /// asset's pixels, so the asset must be processed first. Transcriptions and captions get
    /// the motivation `supplementing`.
    #[allow(clippy::too_many_arguments)]
    async fn import_annotations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The asset's id.")] asset: String,
        #[graphql(desc = "The file's format.")] format: AnnotationFormat,
        #[graphql(desc = "The file's text.")] content: Option<String>,
        #[graphql(desc = "The file, uploaded (GraphQL multipart).")] file: Option<Upload>,
        #[graphql(
            default_with = "AnnotationGranularity::Word",
            desc = "For ALTO and hOCR: one annotation per word (default) or per line."
        )]
        granularity: AnnotationGranularity,
        #[graphql(desc = "The text's language (BCP 47), overriding what the file says.")]
        language: Option<String>,
    ) -> Result<AnnotationImport> {
        let content = match (content, file) {
            (Some(content), None) => content,
            (None, Some(file)) => {
                let bytes = read_upload(ctx, file).await?;
                String::from_utf8(bytes).map_err(|_| {
                    graphql_error(domain::Error::new(
                        domain::ErrorKind::InvalidAnnotations,
                        "the file is not UTF-8 text",
                    ))
                })?
            }
            _ => {
                return Err(graphql_error(domain::Error::invalid_input(
                    "give the file as content or as an upload, one of the two",
                )));
            }
        };
        if content.len() > MAX_IMPORT_BYTES {
            return Err(graphql_error(domain::Error::new(
                domain::ErrorKind::InvalidAnnotations,
                format!("the file is larger than {MAX_IMPORT_BYTES} bytes"),
            )));
        }
        let granularity = match granularity {
            AnnotationGranularity::Word => domain::Granularity::Word,
            AnnotationGranularity::Line => domain::Granularity::Line,
        };
        let count = call(ctx, |domain, principal| async move {
            domain
                .import_annotations(
                    &principal,
                    &customer,
                    space,
                    &asset,
                    format.into(),
                    content,
                    granularity,
                    language,
                )
                .await
        })
        .await?;
        Ok(AnnotationImport {
            count: i32::try_from(count).unwrap_or(i32::MAX),
        })
    }

    /// Deletes an annotation.
    async fn delete_annotation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The annotation's number.")] id: i64,
    ) -> Result<bool> {
        call(ctx, |domain, principal| async move {
            domain.delete_annotation(&principal, &customer, id).await
        })
        .await
    }
}
