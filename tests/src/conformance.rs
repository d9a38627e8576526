//! The official Presentation 3.0 JSON Schema (vendored in `tests/conformance/`, from
//! IIIF/presentation-validator, Apache-2.0), compiled once, with assertions that print every
//! error and where it is.

use std::sync::OnceLock;

use serde_json::Value;

/// Where the vendored schema and the validator's own fixtures live.
pub const CONFORMANCE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/conformance");

fn schema() -> Value {
    let text =
        std::fs::read_to_string(format!("{CONFORMANCE_DIR}/iiif_presentation_3.schema.json"))
            .expect("vendored Presentation 3 schema");
    serde_json::from_str(&text).expect("schema is JSON")
}

/// The whole schema: a manifest, collection, annotation page or annotation.
pub fn presentation_3() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| jsonschema::draft7::new(&schema()).expect("schema compiles"))
}

/// The schema narrowed to one of its classes (`canvas`, `annotation`, `range`, ...), as the
/// presentation-validator's documentation suggests for fragments.
pub fn presentation_3_class(class: &str) -> jsonschema::Validator {
    let mut narrowed = schema();
    let object = narrowed.as_object_mut().expect("schema is an object");
    object.remove("oneOf");
    object.insert("$ref".into(), Value::String(format!("#/classes/{class}")));
    jsonschema::draft7::new(&narrowed).expect("narrowed schema compiles")
}

/// Every problem the validator finds, as `path: message` lines.
pub fn problems(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|error| format!("{}: {}", error.instance_path(), error))
        .collect()
}

/// Asserts a document passes the whole Presentation 3 schema.
pub fn assert_presentation_3(document: &Value) {
    let found = problems(presentation_3(), document);
    assert!(
        found.is_empty(),
        "not valid Presentation 3:\n{}\n{document:#}",
        found.join("\n")
    );
}
