//! Annotations: W3C Web Annotations with a text body on an asset's canvas, targeting a region
//! (`xywh`), a time range (`t`) or the whole canvas.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entities::{annotation, annotation_change, asset, customer};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Asset, AssetFamily, AssetStatus};
use crate::paging::{Page, PageRequest};
use crate::presentation::Links;
use crate::{Domain, Principal, validate};
use iiif::presentation::{AnnotationList, TextAnnotation};
pub use search::formats::{Format as ImportFormat, Granularity};

/// Longest annotation body, in characters.
pub const MAX_ANNOTATION_CHARS: usize = 100_000;

/// The motivations of the W3C Web Annotation model, and IIIF's `supplementing`.
pub const MOTIVATIONS: &[&str] = &[
    "assessing",
    "bookmarking",
    "classifying",
    "commenting",
    "describing",
    "editing",
    "highlighting",
    "identifying",
    "linking",
    "moderating",
    "questioning",
    "replying",
    "supplementing",
    "tagging",
];

/// Most annotations one import may create.
pub const MAX_IMPORT_ANNOTATIONS: usize = 200_000;

/// Rows written per INSERT during an import (under SQLite's limit of bound values).
const IMPORT_CHUNK: usize = 1_000;

/// The body formats an annotation may have.
pub const BODY_FORMATS: &[&str] = &["text/plain", "text/html"];

/// A rectangle of the canvas, in the asset's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

/// A stretch of a recording, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRange {
    pub start: f64,
    pub end: f64,
}

/// An annotation as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    pub id: i64,
    pub customer: String,
    pub space: i32,
    pub asset: String,
    pub motivation: String,
    pub value: String,
    pub format: String,
    pub language: Option<String>,
    pub region: Option<Region>,
    pub time: Option<TimeRange>,
    pub creator: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl Annotation {
    fn from_row(row: annotation::Model, customer: &str) -> Self {
        let (region, time) = (row_region(&row), row_time(&row));
        Self {
            id: row.id,
            customer: customer.to_owned(),
            space: row.space_id,
            asset: row.asset_id,
            motivation: row.motivation,
            value: row.value,
            format: row.format,
            language: row.language,
            region,
            time,
            creator: row.creator,
            created: row.created,
            updated: row.updated,
        }
    }
}

/// A row's region, when it has all four numbers.
pub(crate) fn row_region(row: &annotation::Model) -> Option<Region> {
    match (row.x, row.y, row.w, row.h) {
        (Some(x), Some(y), Some(w), Some(h)) => Some(Region { x, y, w, h }),
        _ => None,
    }
}

/// A row's time range, when it has both ends.
pub(crate) fn row_time(row: &annotation::Model) -> Option<TimeRange> {
    match (row.time_start, row.time_end) {
        (Some(start), Some(end)) => Some(TimeRange { start, end }),
        _ => None,
    }
}

/// A new annotation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnnotationInput {
    /// Default `commenting`.
    pub motivation: Option<String>,
    pub value: String,
    /// Default `text/plain`.
    pub format: Option<String>,
    pub language: Option<String>,
    pub region: Option<Region>,
    pub time: Option<TimeRange>,
    pub creator: Option<String>,
}

/// Changes to an annotation; `None` leaves a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnnotationPatch {
    pub motivation: Option<String>,
    pub value: Option<String>,
    pub format: Option<String>,
    pub language: Option<Option<String>>,
    pub region: Option<Option<Region>>,
    pub time: Option<Option<TimeRange>>,
    pub creator: Option<Option<String>>,
}

/// The fields of an annotation after defaults, checked against its asset.
struct Checked {
    motivation: String,
    value: String,
    format: String,
    language: Option<String>,
    region: Option<Region>,
    time: Option<TimeRange>,
    creator: Option<String>,
}

fn check(fields: Checked, asset: &Asset) -> Result<Checked> {
    if !MOTIVATIONS.contains(&fields.motivation.as_str()) {
        return Err(Error::invalid_input(format!(
            "motivation {:?} is not one of {}",
            fields.motivation,
            MOTIVATIONS.join(", ")
        )));
    }
    if fields.value.trim().is_empty()
        || fields.value.chars().count() > MAX_ANNOTATION_CHARS
        || !validate::storable(&fields.value)
    {
        return Err(Error::invalid_input(format!(
            "value must be 1 to {MAX_ANNOTATION_CHARS} characters"
        )));
    }
    if !BODY_FORMATS.contains(&fields.format.as_str()) {
        return Err(Error::invalid_input(format!(
            "format must be one of {}",
            BODY_FORMATS.join(", ")
        )));
    }
    if let Some(language) = &fields.language {
        check_language(language)?;
    }
    if let Some(creator) = &fields.creator {
        validate::display_text("creator", creator)?;
    }
    if let Some(region) = fields.region {
        check_region(region, asset)?;
    }
    if let Some(time) = fields.time {
        check_time(time, asset)?;
    }
    Ok(fields)
}

/// A new row for checked fields on an asset; `source` names the format it was imported from.
fn new_row(
    target: &Asset,
    fields: Checked,
    source: Option<&str>,
    now: DateTime<Utc>,
) -> annotation::ActiveModel {
    annotation::ActiveModel {
        customer_id: Set(target.customer_id),
        space_id: Set(target.space),
        asset_id: Set(target.id.clone()),
        motivation: Set(fields.motivation),
        value: Set(fields.value),
        format: Set(fields.format),
        language: Set(fields.language),
        x: Set(fields.region.map(|r| r.x)),
        y: Set(fields.region.map(|r| r.y)),
        w: Set(fields.region.map(|r| r.w)),
        h: Set(fields.region.map(|r| r.h)),
        time_start: Set(fields.time.map(|t| t.start)),
        time_end: Set(fields.time.map(|t| t.end)),
        creator: Set(fields.creator),
        source: Set(source.map(str::to_owned)),
        created: Set(now),
        updated: Set(now),
        ..Default::default()
    }
}

/// A BCP 47 tag in its common shape: letters, digits and `-`, starting with 2-3 letters.
fn check_language(language: &str) -> Result<()> {
    let mut parts = language.split('-');
    let primary = parts.next().unwrap_or_default();
    let valid = (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|part| {
            (1..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if valid {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "language {language:?} is not a BCP 47 tag such as en or pt-BR"
        )))
    }
}

fn check_region(region: Region, asset: &Asset) -> Result<()> {
    if asset.family == AssetFamily::Sound || asset.family == AssetFamily::File {
        return Err(Error::invalid_input(format!(
            "a {} has no pixels: give a time range or no target",
            asset.family.as_str()
        )));
    }
    if region.x < 0 || region.y < 0 || region.w <= 0 || region.h <= 0 {
        return Err(Error::invalid_input("region needs x, y >= 0 and w, h > 0"));
    }
    if let (Some(width), Some(height)) = (asset.width, asset.height) {
        let right = i64::from(region.x) + i64::from(region.w);
        let bottom = i64::from(region.y) + i64::from(region.h);
        if right > i64::from(width) || bottom > i64::from(height) {
            return Err(Error::invalid_input(format!(
                "region {},{},{},{} reaches beyond the {width}x{height} canvas",
                region.x, region.y, region.w, region.h
            )));
        }
    }
    Ok(())
}

fn check_time(time: TimeRange, asset: &Asset) -> Result<()> {
    if asset.family == AssetFamily::Image || asset.family == AssetFamily::File {
        return Err(Error::invalid_input(format!(
            "a {} has no duration: give a region or no target",
            asset.family.as_str()
        )));
    }
    if !(time.start.is_finite()
        && time.end.is_finite()
        && time.start >= 0.0
        && time.end > time.start)
    {
        return Err(Error::invalid_input(
            "time needs 0 <= start < end, in seconds",
        ));
    }
    if let Some(duration) = asset.duration
        && time.end > duration + 0.001
    {
        return Err(Error::invalid_input(format!(
            "time ends at {} s, after the recording's {duration} s",
            time.end
        )));
    }
    Ok(())
}

/// A box in a file's page units, in the asset's pixels: scaled, rounded outwards, and kept
/// inside the canvas (OCR boxes often overhang the page by a pixel).
fn scaled([x, y, w, h]: [f64; 4], (sx, sy, width, height): (f64, f64, i32, i32)) -> Region {
    let left = ((x * sx).floor() as i32).clamp(0, width - 1);
    let top = ((y * sy).floor() as i32).clamp(0, height - 1);
    let right = (((x + w) * sx).ceil() as i32).clamp(left + 1, width);
    let bottom = (((y + h) * sy).ceil() as i32).clamp(top + 1, height);
    Region {
        x: left,
        y: top,
        w: right - left,
        h: bottom - top,
    }
}

fn annotation_missing(customer: &str, id: i64) -> Error {
    Error::not_found(format!("customer {customer:?} has no annotation {id}"))
}

impl Domain {
    /// Annotates an asset (of any status: OCR often arrives before processing ends).
    pub async fn create_annotation(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        asset_id: &str,
        input: AnnotationInput,
    ) -> Result<Annotation> {
        let target = self.asset(principal, customer, space, asset_id).await?;
        let fields = check(
            Checked {
                motivation: input.motivation.unwrap_or_else(|| "commenting".to_owned()),
                value: input.value,
                format: input.format.unwrap_or_else(|| "text/plain".to_owned()),
                language: input.language,
                region: input.region,
                time: input.time,
                creator: input.creator,
            },
            &target,
        )?;
        let row = new_row(&target, fields, None, Utc::now());
        let txn = self.begin_write().await?;
        lock_change_log(&txn).await?;
        let row = row.insert(&txn).await?;
        log_change(&txn, target.customer_id, space, &target.id).await?;
        txn.commit().await?;
        Ok(Annotation::from_row(row, &target.customer))
    }

    /// Changes the fields a patch names; the result is checked as a whole before it is saved.
    pub async fn update_annotation(
        &self,
        principal: &Principal,
        customer: &str,
        id: i64,
        patch: AnnotationPatch,
    ) -> Result<Annotation> {
        let (owner, row) = self.annotation_in_scope(principal, customer, id).await?;
        let target = self
            .asset(principal, customer, row.space_id, &row.asset_id)
            .await?;
        let current = Annotation::from_row(row.clone(), &owner.name);
        let fields = check(
            Checked {
                motivation: patch.motivation.unwrap_or(current.motivation),
                value: patch.value.unwrap_or(current.value),
                format: patch.format.unwrap_or(current.format),
                language: patch.language.unwrap_or(current.language),
                region: patch.region.unwrap_or(current.region),
                time: patch.time.unwrap_or(current.time),
                creator: patch.creator.unwrap_or(current.creator),
            },
            &target,
        )?;
        let mut active = row.into_active_model();
        active.motivation = Set(fields.motivation);
        active.value = Set(fields.value);
        active.format = Set(fields.format);
        active.language = Set(fields.language);
        active.x = Set(fields.region.map(|r| r.x));
        active.y = Set(fields.region.map(|r| r.y));
        active.w = Set(fields.region.map(|r| r.w));
        active.h = Set(fields.region.map(|r| r.h));
        active.time_start = Set(fields.time.map(|t| t.start));
        active.time_end = Set(fields.time.map(|t| t.end));
        active.creator = Set(fields.creator);
        active.updated = Set(Utc::now());
        let txn = self.begin_write().await?;
        lock_change_log(&txn).await?;
        let saved = active.update(&txn).await?;
        log_change(&txn, saved.customer_id, saved.space_id, &saved.asset_id).await?;
        txn.commit().await?;
        Ok(Annotation::from_row(saved, &owner.name))
    }

    /// Deletes an annotation.
    pub async fn delete_annotation(
        &self,
        principal: &Principal,
        customer: &str,
        id: i64,
    ) -> Result<bool> {
        let (_, row) = self.annotation_in_scope(principal, customer, id).await?;
        let txn = self.begin_write().await?;
        lock_change_log(&txn).await?;
        let deleted = annotation::Entity::delete_by_id(row.id).exec(&txn).await?;
        if deleted.rows_affected == 0 {
            return Err(annotation_missing(customer, id));
        }
        log_change(&txn, row.customer_id, row.space_id, &row.asset_id).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// A page of an asset's annotations in the order they were made, optionally of one
    /// motivation.
    pub async fn asset_annotations(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        asset_id: &str,
        motivation: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Annotation>> {
        let target = self.asset(principal, customer, space, asset_id).await?;
        let window = page.window()?;
        let mut query = annotation::Entity::find()
            .filter(annotation::Column::CustomerId.eq(target.customer_id))
            .filter(annotation::Column::SpaceId.eq(space))
            .filter(annotation::Column::AssetId.eq(target.id.as_str()));
        if let Some(motivation) = motivation {
            if !validate::storable(motivation) {
                return Err(Error::invalid_input("motivation must not contain NUL"));
            }
            query = query.filter(annotation::Column::Motivation.eq(motivation));
        }
        let total = query.clone().count(self.db()).await?;
        let rows = query
            .order_by_asc(annotation::Column::Id)
            .offset(window.offset)
            .limit(window.limit)
            .all(self.db())
            .await?;
        Page::new(window, rows, total)
            .try_map(|row| Ok(Annotation::from_row(row, &target.customer)))
    }

    /// Every annotation of a READY asset, for its public annotation page.
    pub async fn published_annotations(
        &self,
        customer: &str,
        space: i32,
        asset_id: &str,
    ) -> Result<(Asset, Vec<Annotation>)> {
        let target = self.delivered_asset(customer, space, asset_id).await?;
        if target.status != AssetStatus::Ready {
            return Err(Error::not_found(format!(
                "asset {asset_id} is not ready; its annotations are published once it is"
            )));
        }
        let rows = annotation::Entity::find()
            .filter(annotation::Column::CustomerId.eq(target.customer_id))
            .filter(annotation::Column::SpaceId.eq(space))
            .filter(annotation::Column::AssetId.eq(target.id.as_str()))
            .order_by_asc(annotation::Column::Id)
            .all(self.db())
            .await?;
        let annotations = rows
            .into_iter()
            .map(|row| Annotation::from_row(row, &target.customer))
            .collect();
        Ok((target, annotations))
    }

    /// A READY asset's annotation page, and the annotation `only` when given (NOT_FOUND when
    /// the asset has no such annotation).
    pub async fn annotation_list(
        &self,
        customer: &str,
        space: i32,
        asset_id: &str,
        only: Option<i64>,
        links: &Links,
        held: &[String],
    ) -> Result<(AnnotationList, bool)> {
        let (target, annotations) = self
            .published_annotations(customer, space, asset_id)
            .await?;
        let restricted = !auth::is_open(&target.roles, target.max_unauthorised);
        if restricted && !target.roles.iter().any(|role| held.contains(role)) {
            let grantable = !self
                .services_granting(target.customer_id, &target.roles)
                .await?
                .is_empty();
            let message =
                format!("the annotations of {customer}/{space}/{asset_id} are restricted");
            return Err(if grantable {
                Error::unauthenticated(message)
            } else {
                Error::forbidden(message)
            });
        }
        let items: Vec<TextAnnotation> = annotations
            .into_iter()
            .filter(|annotation| only.is_none_or(|id| annotation.id == id))
            .map(|annotation| TextAnnotation {
                id: links.annotation(customer, space, &target.id, annotation.id),
                target: links.canvas_target(
                    customer,
                    space,
                    &target.id,
                    annotation.region.map(|r| [r.x, r.y, r.w, r.h]),
                    annotation.time.map(|t| [t.start, t.end]),
                ),
                motivation: annotation.motivation,
                value: annotation.value,
                format: annotation.format,
                language: annotation.language,
                creator: annotation.creator,
            })
            .collect();
        if only.is_some() && items.is_empty() {
            return Err(Error::not_found(format!(
                "asset {asset_id} has no such annotation"
            )));
        }
        let list = AnnotationList {
            id: links.annotations(customer, space, &target.id),
            label: None,
            items,
        };
        Ok((list, restricted))
    }

    /// Imports an ALTO, hOCR, WebVTT or W3C file as annotations on an asset, replacing the
    /// asset's earlier import of the same format, in one transaction: a file with any bad
    /// annotation changes nothing. OCR boxes are scaled from the file's page size to the
    /// asset's pixels. `language`, when given, overrides what the file says. Returns how many
    /// annotations were created.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_annotations(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        asset_id: &str,
        format: ImportFormat,
        content: String,
        granularity: Granularity,
        language: Option<String>,
    ) -> Result<usize> {
        let target = self.asset(principal, customer, space, asset_id).await?;
        if let Some(language) = &language {
            check_language(language)?;
        }
        let parsed = tokio::task::spawn_blocking(move || {
            search::formats::parse(format, &content, granularity)
        })
        .await
        .map_err(|e| Error::internal(format!("annotation import stopped: {e}")))?
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidAnnotations,
                format!("cannot read the {} file: {e}", format.as_str()),
            )
        })?;
        if parsed.items.len() > MAX_IMPORT_ANNOTATIONS {
            return Err(Error::new(
                ErrorKind::InvalidAnnotations,
                format!(
                    "the file holds {} annotations; one import takes at most {MAX_IMPORT_ANNOTATIONS}",
                    parsed.items.len()
                ),
            ));
        }
        let scale = match parsed.page {
            Some((page_width, page_height)) => match (target.width, target.height) {
                (Some(width), Some(height)) if width > 0 && height > 0 => Some((
                    f64::from(width) / page_width,
                    f64::from(height) / page_height,
                    width,
                    height,
                )),
                _ => {
                    return Err(Error::invalid_input(format!(
                        "asset {asset_id} has no pixel size yet; import OCR once it is processed"
                    )));
                }
            },
            None => None,
        };
        let ocr = matches!(format, ImportFormat::Alto | ImportFormat::Hocr);
        let default_motivation = match format {
            ImportFormat::W3c => "commenting",
            _ => "supplementing",
        };
        let now = Utc::now();
        let mut rows = Vec::with_capacity(parsed.items.len());
        for (index, item) in parsed.items.into_iter().enumerate() {
            let item_language = item
                .language
                .filter(|tag| !ocr || check_language(tag).is_ok());
            let region = match (item.region, scale) {
                (Some(region), Some(scale)) => Some(scaled(region, scale)),
                (Some([x, y, w, h]), None) => Some(Region {
                    x: x.round() as i32,
                    y: y.round() as i32,
                    w: w.round() as i32,
                    h: h.round() as i32,
                }),
                (None, _) => None,
            };
            let fields = check(
                Checked {
                    motivation: item
                        .motivation
                        .unwrap_or_else(|| default_motivation.to_owned()),
                    value: item.text,
                    format: item.format.unwrap_or_else(|| "text/plain".to_owned()),
                    language: language.clone().or(item_language),
                    region,
                    time: item.time.map(|[start, end]| TimeRange { start, end }),
                    creator: item.creator,
                },
                &target,
            )
            .map_err(|e| {
                Error::new(
                    ErrorKind::InvalidAnnotations,
                    format!("annotation {} of the file: {}", index + 1, e.message),
                )
            })?;
            rows.push(new_row(&target, fields, Some(format.as_str()), now));
        }
        let count = rows.len();
        let txn = self.begin_write().await?;
        lock_change_log(&txn).await?;
        annotation::Entity::delete_many()
            .filter(annotation::Column::CustomerId.eq(target.customer_id))
            .filter(annotation::Column::SpaceId.eq(space))
            .filter(annotation::Column::AssetId.eq(target.id.as_str()))
            .filter(annotation::Column::Source.eq(format.as_str()))
            .exec(&txn)
            .await?;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(IMPORT_CHUNK).collect();
            annotation::Entity::insert_many(chunk)
                .exec_without_returning(&txn)
                .await?;
        }
        log_change(&txn, target.customer_id, space, &target.id).await?;
        txn.commit().await?;
        Ok(count)
    }

    async fn annotation_in_scope(
        &self,
        principal: &Principal,
        customer: &str,
        id: i64,
    ) -> Result<(customer::Model, annotation::Model)> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = annotation::Entity::find_by_id(id)
            .filter(annotation::Column::CustomerId.eq(owner.id))
            .one(self.db())
            .await?
            .ok_or_else(|| annotation_missing(customer, id))?;
        Ok((owner, row))
    }
}

/// Deletes an asset's annotations (with the asset).
pub(crate) async fn delete_for_asset(
    connection: &impl sea_orm::ConnectionTrait,
    row: &asset::Model,
) -> Result<()> {
    lock_change_log(connection).await?;
    let deleted = annotation::Entity::delete_many()
        .filter(annotation::Column::CustomerId.eq(row.customer_id))
        .filter(annotation::Column::SpaceId.eq(row.space_id))
        .filter(annotation::Column::AssetId.eq(row.id.as_str()))
        .exec(connection)
        .await?;
    if deleted.rows_affected > 0 {
        log_change(connection, row.customer_id, row.space_id, &row.id).await?;
    }
    Ok(())
}

/// Makes annotation writes commit one at a time, in the order of their change-log numbers, so
/// that an index which has read up to number N never misses a smaller number committed later.
/// Taken first in a transaction, held until it ends. SQLite has one writer anyway.
pub(crate) async fn lock_change_log(connection: &impl ConnectionTrait) -> Result<()> {
    if connection.get_database_backend() == DbBackend::Postgres {
        connection
            .execute_unprepared("SELECT pg_advisory_xact_lock(7406140611)")
            .await?;
    }
    Ok(())
}

/// Records that an asset's annotations changed, for the search indexes to catch up.
pub(crate) async fn log_change(
    connection: &impl ConnectionTrait,
    customer_id: i32,
    space: i32,
    asset_id: &str,
) -> Result<()> {
    annotation_change::ActiveModel {
        customer_id: Set(customer_id),
        space_id: Set(space),
        asset_id: Set(asset_id.to_owned()),
        changed: Set(Utc::now()),
        ..Default::default()
    }
    .insert(connection)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_scale_outwards_and_stay_on_the_canvas() {
        let half = (0.5, 0.5, 500, 1000);
        assert_eq!(
            scaled([11.0, 21.0, 99.0, 9.0], half),
            Region {
                x: 5,
                y: 10,
                w: 50,
                h: 5
            }
        );
        assert_eq!(
            scaled([990.0, 1990.0, 40.0, 40.0], half),
            Region {
                x: 495,
                y: 995,
                w: 5,
                h: 5
            }
        );
        assert_eq!(scaled([0.0, 0.0, 0.0, 0.0], half).w, 1);
    }

    #[test]
    fn languages_look_like_bcp47() {
        for good in ["en", "pt-BR", "zh-Hant-TW", "gsw"] {
            assert!(check_language(good).is_ok(), "{good}");
        }
        for bad in ["", "e", "english", "en_GB", "en-", "1a"] {
            assert!(check_language(bad).is_err(), "{bad}");
        }
    }
}
