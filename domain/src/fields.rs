//! Descriptive metadata: the fields a space declares (a key, a label in one or more languages,
//! a type, whether it is required and whether it takes several values) and the values assets
//! carry for them, checked against the declaration on every way in (GraphQL, uploads, CSV).
//!
//! A space's declaration is stored as one JSON list on the space, an asset's values as one
//! JSON list on the asset (in declaration order), and each value again as a row of
//! `asset_fields`, the index behind listing filters.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use crate::entities::{asset, asset_field};
use crate::error::{Error, ErrorKind, Result};
use crate::validate;

/// Most fields a space may declare.
pub const MAX_FIELDS: usize = 50;
/// Most values of one multi-valued field.
pub const MAX_VALUES: usize = 100;
/// Most options of a controlled list.
pub const MAX_OPTIONS: usize = 500;
/// Longest value, in characters.
pub const MAX_VALUE_CHARS: usize = 4000;
/// Longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 40;
/// Most field values one listing filters on.
pub const MAX_FILTER_VALUES: usize = 20;

/// Names a key may not take: the placeholders of templates and the columns of a CSV import.
const RESERVED_KEYS: &[&str] = &[
    "id",
    "space",
    "customer",
    "line",
    "mediatype",
    "origin",
    "tags",
    "roles",
    "maxunauthorised",
    "family",
    "status",
    "published",
];

/// A text in a language (a BCP 47 tag), or in none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject, async_graphql::InputObject),
    graphql(input_name = "LocalizedTextInput")
)]
pub struct LocalizedText {
    /// A BCP 47 language tag (`en`, `fr`, `de-CH`); none for a text in no language.
    pub language: Option<String>,
    pub value: String,
}

/// What a field's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum FieldType {
    /// Free text, up to 4,000 characters.
    Text,
    /// A date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    Date,
    /// A decimal number.
    Number,
    /// An absolute `http` or `https` URL.
    Url,
    /// One of the field's options.
    Choice,
}

/// A field a space declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDefinition {
    /// `a-z`, `0-9` and `_`, starting with a letter; at most 40 bytes.
    pub key: String,
    /// The label manifests show, in one or more languages.
    pub label: Vec<LocalizedText>,
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// The allowed values of a `choice` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub multiple: bool,
}

/// The values of one field of an asset (in a change, no values clears the field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject, async_graphql::InputObject),
    graphql(input_name = "FieldValueInput")
)]
pub struct FieldValue {
    pub key: String,
    pub values: Vec<String>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidMetadata, message)
}

/// Whether a language tag is well formed: `none`, or letters and digits in `-`-separated
/// subtags of 1 to 8, the first all letters.
fn language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or_default();
    (2..=8).contains(&first.len())
        && first.bytes().all(|byte| byte.is_ascii_alphabetic())
        && parts.all(|part| {
            (1..=8).contains(&part.len()) && part.bytes().all(|byte| byte.is_ascii_alphanumeric())
        })
}

/// Checks a text's language and value.
pub(crate) fn check_localized(what: &str, texts: &[LocalizedText]) -> Result<()> {
    if texts.is_empty() {
        return Err(invalid(format!("{what} needs at least one text")));
    }
    for text in texts {
        if let Some(language) = &text.language
            && !language_tag(language)
        {
            return Err(invalid(format!(
                "{what}: {language:?} is not a language tag (en, fr, de-CH)"
            )));
        }
        validate::display_text(what, &text.value)
            .map_err(|error| invalid(error.message.clone()))?;
    }
    Ok(())
}

/// Whether a key is well formed and free.
/// Whether `key` has the shape of a field's key: `a-z`, `0-9` and `_`, starting with a letter,
/// at most [`MAX_KEY_BYTES`] (templates and settings that name fields check the same).
pub(crate) fn key_shape(key: &str) -> bool {
    key.len() <= MAX_KEY_BYTES
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
}

fn check_key(key: &str) -> Result<()> {
    if !key_shape(key) {
        return Err(invalid(format!(
            "field key {key:?} must be 1 to {MAX_KEY_BYTES} characters of a-z, 0-9 and _, \
             starting with a letter"
        )));
    }
    let builtin = RESERVED_KEYS.contains(&key)
        || ["s", "n", "p", "string", "number", "reference"]
            .iter()
            .any(|prefix| {
                key.strip_prefix(prefix).is_some_and(|rest| {
                    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())
                })
            });
    if builtin {
        return Err(invalid(format!(
            "field key {key:?} is taken by a built-in field or a template placeholder"
        )));
    }
    Ok(())
}

/// Checks a declaration, in full: the list a space will hold.
pub(crate) fn check_definitions(definitions: &[FieldDefinition]) -> Result<()> {
    if definitions.len() > MAX_FIELDS {
        return Err(invalid(format!(
            "a space declares at most {MAX_FIELDS} fields"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for field in definitions {
        check_key(&field.key)?;
        if !seen.insert(field.key.as_str()) {
            return Err(invalid(format!(
                "field key {:?} is declared twice",
                field.key
            )));
        }
        check_localized(&format!("label of field {:?}", field.key), &field.label)?;
        match field.kind {
            FieldType::Choice => {
                if field.options.is_empty() || field.options.len() > MAX_OPTIONS {
                    return Err(invalid(format!(
                        "choice field {:?} needs 1 to {MAX_OPTIONS} options",
                        field.key
                    )));
                }
                let mut options = std::collections::HashSet::new();
                for option in &field.options {
                    validate::display_text(&format!("option of field {:?}", field.key), option)
                        .map_err(|error| invalid(error.message.clone()))?;
                    if !options.insert(option) {
                        return Err(invalid(format!(
                            "field {:?} lists option {option:?} twice",
                            field.key
                        )));
                    }
                }
            }
            _ if !field.options.is_empty() => {
                return Err(invalid(format!(
                    "field {:?} has options but only choice fields take them",
                    field.key
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// One value checked against its field's type, in its stored form (trimmed; a URL as parsed).
fn checked_value(field: &FieldDefinition, value: &str) -> Result<String> {
    let value = value.trim();
    let refuse = |expected: &str| {
        invalid(format!(
            "field {:?}: {value:?} is not {expected}",
            field.key
        ))
    };
    if value.is_empty() {
        return Err(invalid(format!("field {:?} has an empty value", field.key)));
    }
    match field.kind {
        FieldType::Text => {
            if value.chars().count() > MAX_VALUE_CHARS
                || value.chars().any(|c| c.is_control() && c != '\n')
            {
                return Err(invalid(format!(
                    "field {:?}: a value is 1 to {MAX_VALUE_CHARS} characters without control \
                     characters",
                    field.key
                )));
            }
            Ok(value.to_owned())
        }
        FieldType::Date => {
            if date(value) {
                Ok(value.to_owned())
            } else {
                Err(refuse("a date (YYYY, YYYY-MM or YYYY-MM-DD)"))
            }
        }
        FieldType::Number => match value.parse::<f64>() {
            Ok(number) if number.is_finite() && !value.contains(['e', 'E', 'i', 'I', 'n', 'N']) => {
                Ok(value.to_owned())
            }
            _ => Err(refuse("a decimal number")),
        },
        FieldType::Url => match url::Url::parse(value) {
            Ok(parsed)
                if matches!(parsed.scheme(), "http" | "https")
                    && parsed.host().is_some()
                    && value.len() <= 2000 =>
            {
                Ok(parsed.to_string())
            }
            _ => Err(refuse("an absolute http or https URL")),
        },
        FieldType::Choice => {
            if field.options.iter().any(|option| option == value) {
                Ok(value.to_owned())
            } else {
                Err(refuse(&format!("one of {}", field.options.join(", "))))
            }
        }
    }
}

/// Whether a text is `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, and a real date.
fn date(text: &str) -> bool {
    let digits = |part: &str, length: usize| {
        part.len() == length && part.bytes().all(|byte| byte.is_ascii_digit())
    };
    let parts: Vec<&str> = text.split('-').collect();
    match parts.as_slice() {
        [year] => digits(year, 4),
        [year, month] => {
            digits(year, 4) && digits(month, 2) && (1..=12).contains(&month.parse().unwrap_or(0))
        }
        [year, month, day] => {
            digits(year, 4)
                && digits(month, 2)
                && digits(day, 2)
                && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
        }
        _ => false,
    }
}

/// An asset's values after `changes`: each change replaces its field's values (none clears
/// the field). Every value is checked against `definitions`; a required field without a value
/// is refused when `complete` (a new asset, or a change of its fields). Values of fields no
/// longer declared are dropped. The result is in declaration order.
pub(crate) fn apply_values(
    definitions: &[FieldDefinition],
    current: &[FieldValue],
    changes: &[FieldValue],
    complete: bool,
) -> Result<Vec<FieldValue>> {
    let mut seen = std::collections::HashSet::new();
    for change in changes {
        if !seen.insert(change.key.as_str()) {
            return Err(invalid(format!("field {:?} is given twice", change.key)));
        }
        if !definitions.iter().any(|field| field.key == change.key) {
            return Err(invalid(format!(
                "this space declares no field {:?}{}",
                change.key,
                if definitions.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (it declares {})",
                        definitions
                            .iter()
                            .map(|field| field.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            )));
        }
    }
    let mut result = Vec::new();
    for field in definitions {
        let values: Vec<String> = match changes.iter().find(|change| change.key == field.key) {
            Some(change) => {
                if change.values.len() > 1 && !field.multiple {
                    return Err(invalid(format!(
                        "field {:?} takes one value, not {}",
                        field.key,
                        change.values.len()
                    )));
                }
                if change.values.len() > MAX_VALUES {
                    return Err(invalid(format!(
                        "field {:?} takes at most {MAX_VALUES} values",
                        field.key
                    )));
                }
                change
                    .values
                    .iter()
                    .map(|value| checked_value(field, value))
                    .collect::<Result<_>>()?
            }
            None => current
                .iter()
                .find(|value| value.key == field.key)
                .map(|value| value.values.clone())
                .unwrap_or_default(),
        };
        if values.is_empty() {
            if field.required && complete {
                return Err(invalid(format!("field {:?} is required", field.key)));
            }
            continue;
        }
        result.push(FieldValue {
            key: field.key.clone(),
            values,
        });
    }
    Ok(result)
}

/// Refuses a new asset that lacks a value of a field its space requires.
pub(crate) fn check_required(
    space: &crate::entities::space::Model,
    row: &asset::Model,
) -> Result<()> {
    let declared: Vec<FieldDefinition> = decode(space.fields.as_deref())?;
    let held: Vec<FieldValue> = decode(row.fields.as_deref())?;
    match declared
        .iter()
        .find(|field| field.required && !held.iter().any(|value| value.key == field.key))
    {
        Some(field) => Err(invalid(format!("field {:?} is required", field.key))),
        None => Ok(()),
    }
}

/// Filter values in the form values of their field are stored in (a URL as parsed); at most
/// [`MAX_FILTER_VALUES`] of them.
pub(crate) fn normalised_filter(
    definitions: &[FieldDefinition],
    filter: &[FieldValue],
) -> Result<Vec<FieldValue>> {
    let count: usize = filter.iter().map(|field| field.values.len()).sum();
    if count > MAX_FILTER_VALUES {
        return Err(Error::invalid_input(format!(
            "a listing filters on at most {MAX_FILTER_VALUES} field values"
        )));
    }
    Ok(filter
        .iter()
        .map(|field| {
            let kind = definitions
                .iter()
                .find(|declared| declared.key == field.key)
                .map(|declared| declared.kind);
            FieldValue {
                key: field.key.clone(),
                values: field
                    .values
                    .iter()
                    .map(|value| {
                        let value = value.trim();
                        match kind {
                            Some(FieldType::Url) => url::Url::parse(value)
                                .map(|parsed| parsed.to_string())
                                .unwrap_or_else(|_| value.to_owned()),
                            _ => value.to_owned(),
                        }
                    })
                    .collect(),
            }
        })
        .collect())
}

/// Reads a stored JSON list (absent: empty).
pub(crate) fn decode<T: serde::de::DeserializeOwned>(stored: Option<&str>) -> Result<Vec<T>> {
    match stored {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text)
            .map_err(|error| Error::internal(format!("corrupt fields in database: {error}"))),
    }
}

/// The JSON to store (`None` for an empty list).
pub(crate) fn encode<T: Serialize>(list: &[T]) -> Option<String> {
    (!list.is_empty()).then(|| serde_json::to_string(list).expect("fields always serialise"))
}

/// Replaces an asset's rows in the field index with the values in its row.
pub(crate) async fn write_index(
    connection: &impl ConnectionTrait,
    row: &asset::Model,
) -> Result<()> {
    asset_field::Entity::delete_many()
        .filter(asset_field::Column::CustomerId.eq(row.customer_id))
        .filter(asset_field::Column::SpaceId.eq(row.space_id))
        .filter(asset_field::Column::AssetId.eq(row.id.as_str()))
        .exec(connection)
        .await?;
    let rows = index_rows(row)?;
    if !rows.is_empty() {
        asset_field::Entity::insert_many(rows)
            .exec(connection)
            .await?;
    }
    Ok(())
}

/// The field index rows of a new asset.
pub(crate) fn index_rows(row: &asset::Model) -> Result<Vec<asset_field::ActiveModel>> {
    let values: Vec<FieldValue> = decode(row.fields.as_deref())?;
    Ok(values
        .into_iter()
        .flat_map(|field| {
            field
                .values
                .into_iter()
                .enumerate()
                .map(move |(position, value)| (field.key.clone(), position, value))
        })
        .map(|(key, position, value)| asset_field::ActiveModel {
            customer_id: Set(row.customer_id),
            space_id: Set(row.space_id),
            asset_id: Set(row.id.clone()),
            key: Set(key),
            position: Set(position as i32),
            value: Set(value),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(key: &str, kind: FieldType) -> FieldDefinition {
        FieldDefinition {
            key: key.into(),
            label: vec![LocalizedText {
                language: Some("en".into()),
                value: key.to_uppercase(),
            }],
            kind,
            options: Vec::new(),
            required: false,
            multiple: false,
        }
    }

    fn value(key: &str, values: &[&str]) -> FieldValue {
        FieldValue {
            key: key.into(),
            values: values.iter().map(|value| value.to_string()).collect(),
        }
    }

    #[test]
    fn declarations_are_checked() {
        assert!(check_definitions(&[field("title", FieldType::Text)]).is_ok());
        for key in [
            "Title",
            "1st",
            "id",
            "s1",
            "string2",
            "p3",
            "number1",
            "has space",
            "",
        ] {
            assert!(
                check_definitions(&[field(key, FieldType::Text)]).is_err(),
                "{key}"
            );
        }
        assert!(
            check_definitions(&[field("a", FieldType::Text), field("a", FieldType::Date)]).is_err()
        );
        assert!(check_definitions(&[field("kind", FieldType::Choice)]).is_err());
        let mut bad_language = field("title", FieldType::Text);
        bad_language.label[0].language = Some("english language".into());
        assert!(check_definitions(&[bad_language]).is_err());
        let mut options_on_text = field("title", FieldType::Text);
        options_on_text.options = vec!["a".into()];
        assert!(check_definitions(&[options_on_text]).is_err());
    }

    #[test]
    fn values_are_checked_against_their_types() {
        let mut kind = field("kind", FieldType::Choice);
        kind.options = vec!["map".into(), "letter".into()];
        let mut creator = field("creator", FieldType::Text);
        creator.multiple = true;
        let mut title = field("title", FieldType::Text);
        title.required = true;
        let fields = vec![
            title,
            creator,
            field("made", FieldType::Date),
            field("pages", FieldType::Number),
            field("page", FieldType::Url),
            kind,
        ];
        let good = apply_values(
            &fields,
            &[],
            &[
                value("made", &["1871-03"]),
                value("creator", &["A", "B"]),
                value("title", &[" Atlas "]),
                value("pages", &["12.5"]),
                value("page", &["https://example.org/o/1"]),
                value("kind", &["map"]),
            ],
            true,
        )
        .unwrap();
        let keys: Vec<&str> = good.iter().map(|value| value.key.as_str()).collect();
        assert_eq!(keys, ["title", "creator", "made", "pages", "page", "kind"]);
        assert_eq!(good[0].values, ["Atlas"]);
        for bad in [
            value("made", &["1871-13"]),
            value("made", &["1871-02-30"]),
            value("made", &["March 1871"]),
            value("pages", &["twelve"]),
            value("pages", &["1e5"]),
            value("page", &["ftp://example.org/"]),
            value("page", &["/objects/1"]),
            value("kind", &["photo"]),
            value("title", &["A", "B"]),
            value("title", &[""]),
            value("undeclared", &["x"]),
        ] {
            let changes = [value("title", &["T"]), bad.clone()];
            let changes = if bad.key == "title" {
                &changes[1..]
            } else {
                &changes[..]
            };
            let error = apply_values(&fields, &[], changes, true).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidMetadata, "{bad:?}");
        }
        // required: refused when missing on a new asset, not when other fields change later
        assert!(apply_values(&fields, &[], &[value("pages", &["1"])], true).is_err());
        let kept = apply_values(&fields, &good, &[value("pages", &[])], true).unwrap();
        assert!(kept.iter().all(|value| value.key != "pages"));
        assert!(apply_values(&fields, &good, &[value("title", &[])], true).is_err());
    }
}
