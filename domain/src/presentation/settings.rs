//! What customers and spaces say about the manifests made of their assets: rights, the
//! required statement, label templates, reading behaviour and direction, the field that holds
//! table-of-contents entries, fixed metadata, which descriptive fields are the label, the
//! summary and the metadata, links to the object's page and data (URL templates), the
//! provider and its logo, and the canvas label template. Stored as one JSON document per
//! customer and per space; a space's setting wins over its customer's.

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

/// A link filled in for each asset from a URL template such as
/// `https://collections.example.org/objects/{s1}` (`homepage`, `seeAlso`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject, async_graphql::InputObject),
    graphql(input_name = "LinkTemplateInput")
)]
pub struct LinkTemplate {
    /// An `http(s)` URL with placeholders (`{id}`, `{s1}`, a field key...), each filled
    /// percent-encoded; a link whose placeholders are all empty is left out.
    pub template: String,
    /// What the link is called (a homepage without one takes the manifest's label).
    pub label: Option<String>,
    /// The media type of what it points at, e.g. `text/html` or `application/ld+json`.
    pub format: Option<String>,
    /// The URI of the schema the linked document follows (`seeAlso`).
    pub profile: Option<String>,
}

/// Who provides the manifests: an institution's name, its website and its logo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject, async_graphql::InputObject),
    graphql(name = "Provider", input_name = "ProviderInput")
)]
pub struct ProviderSetting {
    /// The institution's name.
    pub label: String,
    /// Its website (an `http(s)` URL); also its identifier.
    pub homepage: String,
    /// Its logo (an `http(s)` image URL).
    pub logo: Option<String>,
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
    /// The descriptive field whose values are a manifest's label.
    pub label_field: Option<String>,
    /// The descriptive field whose values are a manifest's summary.
    pub summary_field: Option<String>,
    /// The descriptive fields shown in `metadata`, in order (unset: every declared field).
    pub metadata_fields: Option<Vec<String>>,
    /// The object's page on the holder's website.
    pub homepage: Option<LinkTemplate>,
    /// A machine-readable description of the object.
    pub see_also: Option<LinkTemplate>,
    /// Who provides the manifests.
    pub provider: Option<ProviderSetting>,
    /// Each canvas's label, e.g. `Page {n1}` or `f. {s2}` (unset: the asset's id).
    pub canvas_label_template: Option<String>,
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
    pub label_field: Option<Option<String>>,
    pub summary_field: Option<Option<String>>,
    pub metadata_fields: Option<Option<Vec<String>>>,
    pub homepage: Option<Option<LinkTemplate>>,
    pub see_also: Option<Option<LinkTemplate>>,
    pub provider: Option<Option<ProviderSetting>>,
    pub canvas_label_template: Option<Option<String>>,
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
        for (name, key, target) in [
            ("labelField", patch.label_field, &mut self.label_field),
            ("summaryField", patch.summary_field, &mut self.summary_field),
        ] {
            if let Some(key) = key {
                if let Some(key) = &key {
                    check_field_name(name, key)?;
                }
                *target = key;
            }
        }
        if let Some(keys) = patch.metadata_fields {
            if let Some(keys) = &keys {
                if keys.len() > crate::fields::MAX_FIELDS {
                    return Err(Error::invalid_input(format!(
                        "metadataFields names at most {} fields",
                        crate::fields::MAX_FIELDS
                    )));
                }
                for key in keys {
                    check_field_name("metadataFields", key)?;
                }
            }
            self.metadata_fields = keys;
        }
        for (name, link, target) in [
            ("homepage", patch.homepage, &mut self.homepage),
            ("seeAlso", patch.see_also, &mut self.see_also),
        ] {
            if let Some(link) = link {
                if let Some(link) = &link {
                    check_link(name, link)?;
                }
                *target = link;
            }
        }
        if let Some(provider) = patch.provider {
            self.provider = provider
                .map(|provider| -> Result<ProviderSetting> {
                    validate::display_text("provider label", &provider.label)?;
                    Ok(ProviderSetting {
                        homepage: plain_url("provider homepage", &provider.homepage)?,
                        logo: provider
                            .logo
                            .map(|logo| plain_url("provider logo", &logo))
                            .transpose()?,
                        label: provider.label,
                    })
                })
                .transpose()?;
        }
        if let Some(template) = patch.canvas_label_template {
            if let Some(template) = &template {
                check_label_template("canvasLabelTemplate", template, 0)?;
            }
            self.canvas_label_template = template;
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
            label_field: self.label_field.or_else(|| fallback.label_field.clone()),
            summary_field: self
                .summary_field
                .or_else(|| fallback.summary_field.clone()),
            metadata_fields: self
                .metadata_fields
                .or_else(|| fallback.metadata_fields.clone()),
            homepage: self.homepage.or_else(|| fallback.homepage.clone()),
            see_also: self.see_also.or_else(|| fallback.see_also.clone()),
            provider: self.provider.or_else(|| fallback.provider.clone()),
            canvas_label_template: self
                .canvas_label_template
                .or_else(|| fallback.canvas_label_template.clone()),
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

/// The placeholders of an asset's own values a template may use besides `{p1}`..`{pN}` and
/// the keys of descriptive fields: `{s1}` is `{string1}`, `{n1}` is `{number1}`.
const LABEL_FIELDS: &[&str] = &[
    "id", "space", "customer", "s1", "s2", "s3", "n1", "n2", "n3", "string1", "string2", "string3",
    "number1", "number2", "number3",
];

/// A setting that names a descriptive field by its key. Whether a space declares it is not
/// checked: customers' settings apply to spaces declaring different fields, and an undeclared
/// field shows nothing.
pub(crate) fn check_field_name(setting: &str, key: &str) -> Result<()> {
    if crate::fields::key_shape(key) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{setting}: {key:?} is not a field key (a-z, 0-9 and _, starting with a letter)"
        )))
    }
}

/// Checks a label template: `{name}` placeholders of [`LABEL_FIELDS`], of descriptive fields'
/// keys or, when `parameters` is above zero, `{p1}`..`{pN}`; no stray braces.
pub(crate) fn check_label_template(field: &str, template: &str, parameters: usize) -> Result<()> {
    validate::display_text(field, template)?;
    check_placeholders(field, template, parameters)
}

fn check_placeholders(field: &str, template: &str, parameters: usize) -> Result<()> {
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
        let number = name
            .strip_prefix('p')
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .map(|digits| digits.parse::<usize>().unwrap_or(usize::MAX));
        let known = match number {
            Some(number) => number >= 1 && number <= parameters,
            None => LABEL_FIELDS.contains(&name) || crate::fields::key_shape(name),
        };
        if !known {
            return Err(Error::invalid_input(format!(
                "{field} names {{{name}}}; use {}, a field's key{}",
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

/// Longest URL template, in bytes.
const MAX_URL_TEMPLATE_BYTES: usize = 2000;

/// Checks a URL template: an absolute `http(s)` URL once its placeholders are filled.
pub(crate) fn check_url_template(field: &str, template: &str, parameters: usize) -> Result<()> {
    let refuse = || {
        Error::invalid_input(format!(
            "{field} must be an absolute http or https URL (placeholders allowed), at most \
             {MAX_URL_TEMPLATE_BYTES} bytes"
        ))
    };
    if template.len() > MAX_URL_TEMPLATE_BYTES
        || !(template.starts_with("http://") || template.starts_with("https://"))
        || template
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(refuse());
    }
    check_placeholders(field, template, parameters)?;
    let sample = fill_template(template, |_| "x".to_owned());
    match url::Url::parse(&sample) {
        Ok(url) if url.host().is_some() => Ok(()),
        _ => Err(refuse()),
    }
}

fn check_link(field: &str, link: &LinkTemplate) -> Result<()> {
    check_url_template(field, &link.template, 0)?;
    if let Some(label) = &link.label {
        validate::display_text(&format!("{field} label"), label)?;
    }
    if let Some(format) = &link.format {
        validate::media_type(format)?;
    }
    if let Some(profile) = &link.profile
        && url::Url::parse(profile).is_err()
    {
        return Err(Error::invalid_input(format!(
            "{field} profile must be a URI"
        )));
    }
    Ok(())
}

/// Characters left as they are when a value fills a URL template: RFC 3986's unreserved ones.
const URL_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Fills a checked URL template, each value percent-encoded; `None` when every placeholder is
/// empty (a link to no object) or the result is not a URL.
pub(crate) fn fill_url(template: &str, value: impl Fn(&str) -> String) -> Option<String> {
    let mut any_placeholder = false;
    let mut any_value = false;
    let filled = fill_template(template, |name| {
        any_placeholder = true;
        let text = value(name);
        any_value |= !text.is_empty();
        percent_encoding::utf8_percent_encode(&text, URL_VALUE).to_string()
    });
    if any_placeholder && !any_value {
        return None;
    }
    url::Url::parse(&filled)
        .ok()
        .filter(|url| url.host_str().is_some_and(|host| !host.is_empty()))
        .map(|url| url.to_string())
}

/// A URL without placeholders (the provider's page and logo), as parsed.
fn plain_url(field: &str, text: &str) -> Result<String> {
    match url::Url::parse(text.trim()) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.host().is_some()
                && !text.contains(['{', '}'])
                && text.len() <= MAX_URL_TEMPLATE_BYTES =>
        {
            Ok(url.to_string())
        }
        _ => Err(Error::invalid_input(format!(
            "{field} must be an absolute http or https URL"
        ))),
    }
}

/// Fills a checked label template; `value` answers each placeholder (empty when unknown).
pub(crate) fn fill_template(template: &str, mut value: impl FnMut(&str) -> String) -> String {
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
        assert!(check_label_template("label", "Book {title}", 0).is_ok());
        assert!(check_label_template("label", "Book {Title}", 0).is_err());
        assert!(check_label_template("label", "Book {p1}", 0).is_err());
        assert!(check_label_template("label", "Book {s1", 0).is_err());
        assert!(check_label_template("label", "Book s1}", 0).is_err());
        assert_eq!(
            fill_template("Book {s1}: {n1}", |name| name.to_uppercase()),
            "Book S1: N1"
        );
    }

    #[test]
    fn url_templates_are_checked_and_filled_encoded() {
        let template = "https://collections.example.org/objects/{s1}?page={n1}";
        assert!(check_url_template("homepage", template, 0).is_ok());
        for bad in [
            "collections.example.org/{s1}",
            "ftp://example.org/{s1}",
            "https://example.org/{Bad}",
            "https://example.org/{s1",
            "https://exa mple.org/",
        ] {
            assert!(check_url_template("homepage", bad, 0).is_err(), "{bad}");
        }
        let values = |name: &str| match name {
            "s1" => "A/B ç".to_owned(),
            _ => String::new(),
        };
        assert_eq!(
            fill_url(template, values).as_deref(),
            Some("https://collections.example.org/objects/A%2FB%20%C3%A7?page=")
        );
        assert_eq!(fill_url(template, |_| String::new()), None);
        assert_eq!(
            fill_url("https://{s1}/x", |_| String::new()),
            None,
            "no host"
        );
        assert_eq!(
            fill_url("https://example.org/{s1}", |_| "a\"b".to_owned()).as_deref(),
            Some("https://example.org/a%22b")
        );
        let provider = |homepage: &str| {
            PresentationSettings::default().apply(PresentationPatch {
                provider: Some(Some(ProviderSetting {
                    label: "Acme".into(),
                    homepage: homepage.into(),
                    logo: None,
                })),
                ..Default::default()
            })
        };
        assert!(provider("https://acme.example.org").is_ok());
        assert!(provider("https://acme.example.org/{id}").is_err());
        assert!(provider("acme.example.org").is_err());
        assert_eq!(
            fill_url("https://example.org/", |_| String::new()).as_deref(),
            Some("https://example.org/")
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
