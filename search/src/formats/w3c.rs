//! W3C Web Annotations: an AnnotationPage (`items`), a list of annotations, or one annotation,
//! each with a textual body and a target on the canvas (`#xywh=` or `#t=` fragments, directly
//! or through a FragmentSelector).

use serde_json::Value;

use super::{FormatError, Item, Parsed};

fn string_or_first(value: Option<&Value>) -> Option<&Value> {
    match value? {
        Value::Array(values) => values.first(),
        other => Some(other),
    }
}

/// The fragment of a target: `xywh=...` or `t=...`, if any.
fn fragment(target: &Value) -> Option<String> {
    match target {
        Value::String(url) => url.split_once('#').map(|(_, fragment)| fragment.to_owned()),
        Value::Object(object) => {
            let selector = object
                .get("selector")
                .and_then(|selector| match selector {
                    Value::Array(list) => list.iter().find(|s| s["type"] == "FragmentSelector"),
                    one => Some(one),
                })
                .and_then(|selector| selector.get("value"))
                .and_then(Value::as_str);
            match selector {
                Some(value) => Some(value.to_owned()),
                None => object.get("id").and_then(fragment),
            }
        }
        Value::Array(targets) => targets.first().and_then(fragment),
        _ => None,
    }
}

fn numbers(text: &str) -> Option<Vec<f64>> {
    text.split(',')
        .map(|part| part.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect()
}

fn place(item: &mut Item, fragment: &str, index: usize) -> Result<(), FormatError> {
    for part in fragment.split('&') {
        if let Some(xywh) = part.strip_prefix("xywh=") {
            if xywh.starts_with("percent:") {
                return Err(FormatError::new(format!(
                    "annotation {index}: xywh=percent: targets are not supported; give pixels"
                )));
            }
            match numbers(xywh.strip_prefix("pixel:").unwrap_or(xywh)).as_deref() {
                Some([x, y, w, h]) => item.region = Some([*x, *y, *w, *h]),
                _ => {
                    return Err(FormatError::new(format!(
                        "annotation {index}: xywh needs four numbers"
                    )));
                }
            }
        } else if let Some(t) = part.strip_prefix("t=") {
            let t = t.strip_prefix("npt:").unwrap_or(t);
            match numbers(t).as_deref() {
                Some([start, end]) => item.time = Some([*start, *end]),
                _ => {
                    return Err(FormatError::new(format!(
                        "annotation {index}: t needs a start and an end in seconds"
                    )));
                }
            }
        }
    }
    Ok(())
}

pub(super) fn parse(content: &str) -> Result<Parsed, FormatError> {
    let document: Value =
        serde_json::from_str(content).map_err(|e| FormatError::new(format!("not JSON: {e}")))?;
    let annotations: Vec<&Value> = match &document {
        Value::Array(list) => list.iter().collect(),
        Value::Object(object) if object.contains_key("items") => match &object["items"] {
            Value::Array(list) => list.iter().collect(),
            _ => return Err(FormatError::new("items must be a list of annotations")),
        },
        Value::Object(object)
            if object.get("type").and_then(Value::as_str) == Some("Annotation") =>
        {
            vec![&document]
        }
        _ => {
            return Err(FormatError::new(
                "expected an AnnotationPage, a list of annotations or one Annotation",
            ));
        }
    };
    let mut items = Vec::new();
    for (index, annotation) in annotations.into_iter().enumerate() {
        let Some(body) = string_or_first(annotation.get("body")) else {
            continue;
        };
        let Some(value) = body.get("value").and_then(Value::as_str) else {
            continue;
        };
        let format = body
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("text/plain")
            .to_owned();
        let mut item = Item {
            text: value.to_owned(),
            motivation: string_or_first(annotation.get("motivation"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            language: body
                .get("language")
                .and_then(Value::as_str)
                .map(str::to_owned),
            creator: string_or_first(annotation.get("creator")).and_then(|creator| {
                creator
                    .as_str()
                    .or_else(|| creator.get("id").and_then(Value::as_str))
                    .map(str::to_owned)
            }),
            format: Some(format),
            ..Item::default()
        };
        if let Some(fragment) = annotation.get("target").and_then(fragment) {
            place(&mut item, &fragment, index)?;
        }
        items.push(item);
    }
    if items.is_empty() {
        return Err(FormatError::new(
            "no annotation has a textual body (body.value)",
        ));
    }
    Ok(Parsed { page: None, items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_annotations() {
        let page = r##"{"type": "AnnotationPage", "items": [
          {"type": "Annotation", "motivation": "commenting",
           "body": {"type": "TextualBody", "value": "A <b>fine</b> bird", "format": "text/html", "language": "en"},
           "target": "https://example.org/canvas/1#xywh=10,20,30,40", "creator": {"id": "https://example.org/u/1"}},
          {"type": "Annotation", "motivation": ["supplementing"],
           "body": [{"type": "TextualBody", "value": "Hello"}],
           "target": {"type": "SpecificResource", "source": "https://example.org/canvas/2",
                      "selector": {"type": "FragmentSelector", "value": "t=1.5,3"}}},
          {"type": "Annotation", "body": {"id": "https://example.org/image.jpg"}}
        ]}"##;
        let parsed = parse(page).unwrap();
        assert_eq!(parsed.items.len(), 2);
        assert_eq!(parsed.items[0].region, Some([10.0, 20.0, 30.0, 40.0]));
        assert_eq!(parsed.items[0].format.as_deref(), Some("text/html"));
        assert_eq!(
            parsed.items[0].creator.as_deref(),
            Some("https://example.org/u/1")
        );
        assert_eq!(parsed.items[1].time, Some([1.5, 3.0]));
        assert_eq!(parsed.items[1].motivation.as_deref(), Some("supplementing"));
    }

    #[test]
    fn bad_files_say_why() {
        assert!(parse("{").unwrap_err().0.contains("JSON"));
        assert!(parse("42").unwrap_err().0.contains("AnnotationPage"));
        assert!(
            parse(r#"[{"body": {"id": "x"}}]"#)
                .unwrap_err()
                .0
                .contains("textual")
        );
        let percent = r#"[{"body": {"value": "x"}, "target": "c#xywh=percent:1,2,3,4"}]"#;
        assert!(parse(percent).unwrap_err().0.contains("percent"));
    }
}
