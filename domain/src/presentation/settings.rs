//! What customers and spaces say about the manifests made of their assets: rights, the
//! required statement, label templates, reading behaviour and direction, the field that holds
//! table-of-contents entries, and fixed metadata. Stored as one JSON document per customer and
//! per space; a space's setting wins over its customer's.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::validate;

/// Longest free text in a setting (statement values, metadata values), in characters.
pub const MAX_SETTING_CHARS: usize = 4000;
/// Most fixed metadata entries.
pub const MAX_METADATA_ENTRIES: usize = 50;
/// What separates levels of a table-of-contents entry: `Part 1|||Chapter 2` (as DSpace does).
pub const RANGE_SEPARATOR: &str = "|||";

/// A `label`/`value` pair shown with every manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub label: String,
    pub value: String,
}

/// One of the asset fields that can hold table-of-contents entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RangeField {
    String1,
    String2,
    String3,
}

/// Presentation settings; every field is optional and unset ones fall back (space to customer
/// to the built-in default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PresentationSettings {
    /// A Creative Commons or RightsStatements.org URI.
    pub rights: Option<String>,
    /// The attribution every viewer must show.
    pub required_statement: Option<Statement>,
    /// The label of single-asset manifests, e.g. `{s1}, page {n1}`.
    pub manifest_label_template: Option<String>,
    /// The summary of single-asset manifests, with the same placeholders.
    pub manifest_summary_template: Option<String>,
    /// The `behavior` of named-query manifests, e.g. `["paged"]`.
    pub behavior: Option<Vec<String>>,
    /// The `viewingDirection` of named-query manifests.
    pub viewing_direction: Option<String>,
    /// The field whose values form the table of contents of named-query manifests.
    pub range_field: Option<RangeField>,
    /// Fixed metadata entries added to every manifest.
    pub metadata: Option<Vec<Statement>>,
}

/// Changes to presentation settings: `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresentationPatch {
    pub rights: Option<Option<String>>,
    pub required_statement: Option<Option<Statement>>,
    pub manifest_label_template: Option<Option<String>>,
    pub manifest_summary_template: Option<Option<String>>,
    pub behavior: Option<Option<Vec<String>>>,
    pub viewing_direction: Option<Option<String>>,
    pub range_field: Option<Option<RangeField>>,
    pub metadata: Option<Option<Vec<Statement>>>,
}

impl PresentationPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl PresentationSettings {
    /// Reads the stored JSON (absent: nothing set).
    pub(crate) fn decode(stored: Option<&str>) -> Result<Self> {
        match stored {
            None => Ok(Self::default()),
            Some(text) => serde_json::from_str(text).map_err(|error| {
                Error::internal(format!(
                    "corrupt presentation settings in database: {error}"
                ))
            }),
        }
    }

    /// The JSON to store (`None` when nothing is set).
    pub(crate) fn encode(&self) -> Option<String> {
        (*self != Self::default())
            .then(|| serde_json::to_string(self).expect("settings always serialise"))
    }

    /// Applies a patch after checking every value it sets.
    pub(crate) fn apply(mut self, patch: PresentationPatch) -> Result<Self> {
        if let Some(rights) = patch.rights {
            self.rights = rights.map(|uri| normalise_rights(&uri)).transpose()?;
        }
        if let Some(statement) = patch.required_statement {
            if let Some(statement) = &statement {
                check_statement("requiredStatement", statement)?;
            }
            self.required_statement = statement;
        }
        if let Some(template) = patch.manifest_label_template {
            if let Some(template) = &template {
                check_label_template("manifestLabelTemplate", template, 0)?;
            }
            self.manifest_label_template = template;
        }
        if let Some(template) = patch.manifest_summary_template {
            if let Some(template) = &template {
                check_label_template("manifestSummaryTemplate", template, 0)?;
            }
            self.manifest_summary_template = template;
        }
        if let Some(behavior) = patch.behavior {
            if let Some(values) = &behavior {
                check_behavior(values)?;
            }
            self.behavior = behavior;
        }
        if let Some(direction) = patch.viewing_direction {
            if let Some(direction) = &direction {
                check_viewing_direction(direction)?;
            }
            self.viewing_direction = direction;
        }
        if let Some(field) = patch.range_field {
            self.range_field = field;
        }
        if let Some(metadata) = patch.metadata {
            if let Some(entries) = &metadata {
                if entries.len() > MAX_METADATA_ENTRIES {
                    return Err(Error::invalid_input(format!(
                        "metadata may hold at most {MAX_METADATA_ENTRIES} entries"
                    )));
                }
                for entry in entries {
                    check_statement("metadata", entry)?;
                }
            }
            self.metadata = metadata;
        }
        Ok(self)
    }

    /// These settings with each unset field taken from `fallback`.
    pub fn or(self, fallback: &Self) -> Self {
        Self {
            rights: self.rights.or_else(|| fallback.rights.clone()),
            required_statement: self
                .required_statement
                .or_else(|| fallback.required_statement.clone()),
            manifest_label_template: self
                .manifest_label_template
                .or_else(|| fallback.manifest_label_template.clone()),
            manifest_summary_template: self
                .manifest_summary_template
                .or_else(|| fallback.manifest_summary_template.clone()),
            behavior: self.behavior.or_else(|| fallback.behavior.clone()),
            viewing_direction: self
                .viewing_direction
                .or_else(|| fallback.viewing_direction.clone()),
            range_field: self.range_field.or(fallback.range_field),
            metadata: self.metadata.or_else(|| fallback.metadata.clone()),
        }
    }
}

/// A rights URI in the form the Presentation API accepts: `https` Creative Commons and
/// RightsStatements.org URIs are written as `http`, anything else is refused.
fn normalise_rights(uri: &str) -> Result<String> {
    let uri = uri.trim();
    let normalised = match uri.strip_prefix("https://") {
        Some(rest)
            if rest.starts_with("creativecommons.org/")
                || rest.starts_with("rightsstatements.org/") =>
        {
            format!("http://{rest}")
        }
        _ => uri.to_owned(),
    };
    if iiif::presentation::rights_allowed(&normalised) {
        Ok(normalised)
    } else {
        Err(Error::invalid_input(
            "rights must be a Creative Commons licence (http://creativecommons.org/licenses/...), \
             a public-domain mark (http://creativecommons.org/publicdomain/...) or a \
             RightsStatements.org statement (http://rightsstatements.org/vocab/...)",
        ))
    }
}

fn check_statement(field: &str, statement: &Statement) -> Result<()> {
    validate::display_text(&format!("{field} label"), &statement.label)?;
    let value = &statement.value;
    if value.trim().is_empty()
        || value.chars().count() > MAX_SETTING_CHARS
        || value.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(Error::invalid_input(format!(
            "{field} value must be 1 to {MAX_SETTING_CHARS} characters without control characters"
        )));
    }
    Ok(())
}

pub(crate) fn check_behavior(values: &[String]) -> Result<()> {
    for value in values {
        if !iiif::presentation::MANIFEST_BEHAVIORS.contains(&value.as_str()) {
            return Err(Error::invalid_input(format!(
                "behavior {value:?} is not one of {}",
                iiif::presentation::MANIFEST_BEHAVIORS.join(", ")
            )));
        }
    }
    Ok(())
}

pub(crate) fn check_viewing_direction(value: &str) -> Result<()> {
    if iiif::presentation::VIEWING_DIRECTIONS.contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "viewingDirection {value:?} is not one of {}",
            iiif::presentation::VIEWING_DIRECTIONS.join(", ")
        )))
    }
}

/// The placeholders a label template may use besides `{p1}`..`{pN}`.
const LABEL_FIELDS: &[&str] = &[
    "id", "space", "customer", "s1", "s2", "s3", "n1", "n2", "n3",
];

/// Checks a label template: `{name}` placeholders of [`LABEL_FIELDS`] or, when `parameters`
/// is above zero, `{p1}`..`{pN}`; no stray braces.
pub(crate) fn check_label_template(field: &str, template: &str, parameters: usize) -> Result<()> {
    validate::display_text(field, template)?;
    let mut rest = template;
    while let Some(start) = rest.find(['{', '}']) {
        if rest[start..].starts_with('}') {
            return Err(Error::invalid_input(format!(
                "{field} has a '}}' without its '{{'"
            )));
        }
        let Some(length) = rest[start..].find('}') else {
            return Err(Error::invalid_input(format!(
                "{field} has a '{{' without its '}}'"
            )));
        };
        let name = &rest[start + 1..start + length];
        let parameter = name
            .strip_prefix('p')
            .and_then(|number| number.parse::<usize>().ok())
            .is_some_and(|number| number >= 1 && number <= parameters);
        if !parameter && !LABEL_FIELDS.contains(&name) {
            return Err(Error::invalid_input(format!(
                "{field} names {{{name}}}; use {}{}",
                LABEL_FIELDS
                    .iter()
                    .map(|field| format!("{{{field}}}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if parameters > 0 {
                    format!(" or {{p1}}..{{p{parameters}}}")
                } else {
                    String::new()
                }
            )));
        }
        rest = &rest[start + length + 1..];
    }
    Ok(())
}

/// Fills a checked label template; `value` answers each placeholder (empty when unknown).
pub(crate) fn fill_template(template: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(length) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&value(&rest[start + 1..start + length]));
        rest = &rest[start + length + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_are_normalised_to_http_or_refused() {
        let set = |uri: &str| {
            PresentationSettings::default().apply(PresentationPatch {
                rights: Some(Some(uri.to_owned())),
                ..Default::default()
            })
        };
        assert_eq!(
            set("https://creativecommons.org/licenses/by/4.0/")
                .unwrap()
                .rights
                .as_deref(),
            Some("http://creativecommons.org/licenses/by/4.0/")
        );
        assert!(set("http://example.org/mine").is_err());
    }

    #[test]
    fn label_templates_name_known_fields_only() {
        assert!(check_label_template("label", "Book {s1}, page {n1}", 0).is_ok());
        assert!(check_label_template("label", "Book {p1}", 1).is_ok());
        assert!(check_label_template("label", "Book {p2}", 1).is_err());
        assert!(check_label_template("label", "Book {title}", 0).is_err());
        assert!(check_label_template("label", "Book {s1", 0).is_err());
        assert!(check_label_template("label", "Book s1}", 0).is_err());
        assert_eq!(
            fill_template("Book {s1}: {n1}", |name| name.to_uppercase()),
            "Book S1: N1"
        );
    }

    #[test]
    fn space_settings_win_over_customer_settings() {
        let customer = PresentationSettings {
            rights: Some("http://creativecommons.org/licenses/by/4.0/".into()),
            viewing_direction: Some("right-to-left".into()),
            ..Default::default()
        };
        let space = PresentationSettings {
            viewing_direction: Some("left-to-right".into()),
            ..Default::default()
        };
        let effective = space.or(&customer);
        assert_eq!(effective.rights, customer.rights);
        assert_eq!(
            effective.viewing_direction.as_deref(),
            Some("left-to-right")
        );
    }

    #[test]
    fn unknown_behaviors_and_directions_are_refused() {
        assert!(check_behavior(&["paged".into()]).is_ok());
        assert!(check_behavior(&["sideways".into()]).is_err());
        assert!(check_viewing_direction("upside-down").is_err());
    }
}
