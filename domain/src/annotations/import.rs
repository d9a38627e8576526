//! Imports of ALTO, hOCR, WebVTT and W3C files as annotations: parsed off the runtime, OCR
//! boxes scaled to the asset's pixels, every annotation checked, and the asset's earlier
//! import of the same format replaced in one transaction.

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::change_log::{lock_change_log, log_change};
use super::check::{Checked, check, check_language, new_row};
use super::{Granularity, ImportFormat, MAX_IMPORT_ANNOTATIONS, Region, TimeRange};
use crate::entities::annotation;
use crate::error::{Error, ErrorKind, Result};
use crate::{Domain, Principal};

/// Rows written per INSERT during an import (under SQLite's limit of bound values).
const IMPORT_CHUNK: usize = 1_000;

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

impl Domain {
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
}
