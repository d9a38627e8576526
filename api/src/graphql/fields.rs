//! Descriptive fields as GraphQL shows and takes them: a space's declarations. Values are the
//! domain's own `FieldValue`.

use async_graphql::{InputObject, SimpleObject};

/// A descriptive field a space declares: its assets carry values for it, checked against it,
/// and manifests show it.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "MetadataField")]
pub struct MetadataField {
    /// The key values are given under (and a CSV column's name): a-z, 0-9 and _, starting with
    /// a letter.
    pub key: String,
    /// The label manifests show, in one or more languages.
    pub label: Vec<domain::LocalizedText>,
    /// What its values are.
    #[graphql(name = "type")]
    pub kind: domain::FieldType,
    /// The allowed values of a CHOICE field.
    pub options: Vec<String>,
    /// Whether every asset must have a value.
    pub required: bool,
    /// Whether an asset may have several values.
    pub multiple: bool,
}

impl From<domain::FieldDefinition> for MetadataField {
    fn from(field: domain::FieldDefinition) -> Self {
        Self {
            key: field.key,
            label: field.label,
            kind: field.kind,
            options: field.options,
            required: field.required,
            multiple: field.multiple,
        }
    }
}

/// A descriptive field to declare.
#[derive(InputObject, Debug)]
pub struct MetadataFieldInput {
    /// a-z, 0-9 and _, starting with a letter; not a built-in name (id, space, s1, number2, ...).
    pub key: String,
    /// The label in one or more languages.
    pub label: Vec<domain::LocalizedText>,
    #[graphql(name = "type")]
    pub kind: domain::FieldType,
    /// The allowed values of a CHOICE field (required for one, refused for others).
    #[graphql(default)]
    pub options: Vec<String>,
    #[graphql(default)]
    pub required: bool,
    #[graphql(default)]
    pub multiple: bool,
}

impl From<MetadataFieldInput> for domain::FieldDefinition {
    fn from(field: MetadataFieldInput) -> Self {
        Self {
            key: field.key,
            label: field.label,
            kind: field.kind,
            options: field.options,
            required: field.required,
            multiple: field.multiple,
        }
    }
}

/// A declaration list as the domain takes it.
pub(crate) fn declared(fields: Vec<MetadataFieldInput>) -> Vec<domain::FieldDefinition> {
    fields.into_iter().map(Into::into).collect()
}
