//! The checks an annotation's fields pass against its asset (motivation, body, language,
//! and a region or time range the asset has), and the row checked fields make.

use chrono::{DateTime, Utc};
use sea_orm::Set;

use super::{BODY_FORMATS, MAX_ANNOTATION_CHARS, MOTIVATIONS, Region, TimeRange};
use crate::entities::annotation;
use crate::error::{Error, Result};
use crate::model::{Asset, AssetFamily};
use crate::validate;

/// The fields of an annotation after defaults, checked against its asset.
pub(super) struct Checked {
    pub(super) motivation: String,
    pub(super) value: String,
    pub(super) format: String,
    pub(super) language: Option<String>,
    pub(super) region: Option<Region>,
    pub(super) time: Option<TimeRange>,
    pub(super) creator: Option<String>,
}

pub(super) fn check(fields: Checked, asset: &Asset) -> Result<Checked> {
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
pub(super) fn new_row(
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
pub(super) fn check_language(language: &str) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
