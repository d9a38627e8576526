//! The template language of named queries: `key=value` pairs joined by `&`, e.g.
//! `space=p1&s1=p2&canvas=n1;n2 desc&label=Book {p2}&behavior=paged`.
//!
//! Selecting keys (`space`, `s1`..`s3`, `n1`..`n3`, `tag`, `batch`) take a literal or `pN`, the
//! N-th path parameter of the manifest URL. `canvas` orders the canvases (`;`-separated fields
//! of `n1`..`n3`, `s1`..`s3`, `id`, `created`, `space`, each optionally `desc`; default `n1`);
//! `label` is a label template that may use `{p1}`..`{pN}`; `behavior` (`;`-separated) and
//! `viewingDirection` override the customer's and space's settings, as do `summary` (a
//! template), `canvasLabel` (a template filled for each canvas), `homepage` and `seeAlso` (URL
//! templates) and `metadata` (the descriptive fields shown, `;`-separated). `describe` names
//! the asset whose descriptive metadata the manifest shows: `first` (the default), `last`, or
//! an asset id (a literal or `pN`). Values may be percent-encoded (`%26` for `&`).

use percent_encoding::percent_decode_str;

use super::settings::{
    check_behavior, check_field_name, check_label_template, check_url_template,
    check_viewing_direction,
};
use crate::error::{Error, Result};

/// Longest template, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 2000;
/// Most path parameters a template may take.
pub const MAX_PARAMETERS: usize = 9;

/// A value of a selecting key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    /// The N-th path parameter (1-based).
    Parameter(usize),
    Literal(String),
}

/// A field canvases can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortKey {
    Number(usize),
    String(usize),
    Id,
    Created,
    Space,
}

/// Which of its assets a named-query manifest takes its descriptive metadata from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Describe {
    #[default]
    First,
    Last,
    /// The asset with this id.
    Asset(Arg),
}

impl Describe {
    /// The one of `items` (in canvas order) that describes the manifest: the first, the last,
    /// or the one whose id (`id_of`) the template names, the first when none has it.
    pub(crate) fn pick<'a, T>(
        &self,
        items: &'a [T],
        id_of: impl Fn(&T) -> &str,
        parameters: &[String],
    ) -> Option<&'a T> {
        match self {
            Describe::First => items.first(),
            Describe::Last => items.last(),
            Describe::Asset(arg) => {
                let id = match arg {
                    Arg::Parameter(index) => parameters.get(index - 1).map(String::as_str),
                    Arg::Literal(id) => Some(id.as_str()),
                };
                items
                    .iter()
                    .find(|item| Some(id_of(item)) == id)
                    .or(items.first())
            }
        }
    }
}

/// A parsed, checked template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Template {
    pub space: Option<Arg>,
    pub strings: [Option<Arg>; 3],
    pub numbers: [Option<Arg>; 3],
    pub tag: Option<Arg>,
    pub batch: Option<Arg>,
    /// Fields and whether each sorts descending.
    pub order: Vec<(SortKey, bool)>,
    pub label: Option<String>,
    pub behavior: Option<Vec<String>>,
    pub viewing_direction: Option<String>,
    pub summary: Option<String>,
    pub canvas_label: Option<String>,
    pub homepage: Option<String>,
    pub see_also: Option<String>,
    /// The descriptive fields shown in `metadata`.
    pub metadata: Option<Vec<String>>,
    pub describe: Describe,
    /// How many path parameters the template takes.
    pub parameters: usize,
}

/// A space named by a query: by number, or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SpaceRef {
    Number(i32),
    Name(String),
}

/// The selection a template makes with its parameters filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Selection {
    pub space: Option<SpaceRef>,
    pub strings: [Option<String>; 3],
    pub numbers: [Option<i64>; 3],
    pub tag: Option<String>,
    pub batch: Option<i64>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_input(format!("template: {}", message.into()))
}

fn arg(key: &str, value: &str, numeric: bool) -> Result<Arg> {
    if let Some(number) = value.strip_prefix('p')
        && !number.is_empty()
        && number.bytes().all(|byte| byte.is_ascii_digit())
    {
        let index: usize = number
            .parse()
            .map_err(|_| invalid(format!("{key}={value} names no parameter")))?;
        if index == 0 || index > MAX_PARAMETERS {
            return Err(invalid(format!(
                "{key}={value}: parameters are p1 to p{MAX_PARAMETERS}"
            )));
        }
        return Ok(Arg::Parameter(index));
    }
    if value.is_empty() {
        return Err(invalid(format!("{key} has no value")));
    }
    if numeric && value.parse::<i64>().is_err() {
        return Err(invalid(format!("{key}={value} is not a whole number")));
    }
    Ok(Arg::Literal(value.to_owned()))
}

fn sort_key(field: &str) -> Option<SortKey> {
    Some(match field {
        "n1" => SortKey::Number(0),
        "n2" => SortKey::Number(1),
        "n3" => SortKey::Number(2),
        "s1" => SortKey::String(0),
        "s2" => SortKey::String(1),
        "s3" => SortKey::String(2),
        "id" => SortKey::Id,
        "created" => SortKey::Created,
        "space" => SortKey::Space,
        _ => return None,
    })
}

fn order(value: &str) -> Result<Vec<(SortKey, bool)>> {
    let mut keys = Vec::new();
    for part in value
        .split(';')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let mut words = part.split_whitespace();
        let field = words.next().unwrap_or_default();
        let descending = match words.next() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(invalid(format!(
                    "canvas order {part:?}: {other:?} is neither asc nor desc"
                )));
            }
        };
        if words.next().is_some() {
            return Err(invalid(format!("canvas order {part:?} has extra words")));
        }
        let key = sort_key(field).ok_or_else(|| {
            invalid(format!(
                "canvas cannot be ordered by {field:?}; use n1-n3, s1-s3, id, created or space"
            ))
        })?;
        keys.push((key, descending));
    }
    if keys.is_empty() {
        return Err(invalid("canvas names no field to order by"));
    }
    Ok(keys)
}

fn list(value: &str) -> Vec<String> {
    value
        .split([';', ','])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Template {
    /// Parses and checks a template; every problem is an `invalid-input` error that names it.
    pub(crate) fn parse(text: &str) -> Result<Self> {
        if text.len() > MAX_TEMPLATE_BYTES {
            return Err(invalid(format!("longer than {MAX_TEMPLATE_BYTES} bytes")));
        }
        let mut template = Template::default();
        let mut seen = Vec::new();
        for pair in text.split('&').filter(|pair| !pair.trim().is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| invalid(format!("{pair:?} is not key=value")))?;
            let key = key.trim();
            let value = percent_decode_str(value.trim())
                .decode_utf8()
                .map_err(|_| invalid(format!("the value of {key} is not UTF-8")))?
                .into_owned();
            if value.chars().any(char::is_control) {
                return Err(invalid(format!(
                    "the value of {key} has control characters"
                )));
            }
            if seen.contains(&key) {
                return Err(invalid(format!("{key} is given twice")));
            }
            seen.push(key);
            match key {
                "space" => template.space = Some(arg(key, &value, false)?),
                "s1" | "s2" | "s3" => {
                    let index = usize::from(key.as_bytes()[1] - b'1');
                    template.strings[index] = Some(arg(key, &value, false)?);
                }
                "n1" | "n2" | "n3" => {
                    let index = usize::from(key.as_bytes()[1] - b'1');
                    template.numbers[index] = Some(arg(key, &value, true)?);
                }
                "tag" => template.tag = Some(arg(key, &value, false)?),
                "batch" => template.batch = Some(arg(key, &value, true)?),
                "canvas" => template.order = order(&value)?,
                "label" => template.label = Some(value),
                "behavior" => {
                    let values = list(&value);
                    check_behavior(&values)?;
                    template.behavior = Some(values);
                }
                "viewingDirection" => {
                    check_viewing_direction(&value)?;
                    template.viewing_direction = Some(value);
                }
                "summary" => template.summary = Some(value),
                "canvasLabel" => template.canvas_label = Some(value),
                "homepage" => template.homepage = Some(value),
                "seeAlso" => template.see_also = Some(value),
                "metadata" => {
                    let keys = list(&value);
                    for key in &keys {
                        check_field_name("template metadata", key)?;
                    }
                    template.metadata = Some(keys);
                }
                "describe" => {
                    template.describe = match value.as_str() {
                        "first" => Describe::First,
                        "last" => Describe::Last,
                        _ => Describe::Asset(arg(key, &value, false)?),
                    }
                }
                other => {
                    return Err(invalid(format!(
                        "unknown key {other:?}; keys are space, s1-s3, n1-n3, tag, batch, canvas, \
                         label, summary, canvasLabel, homepage, seeAlso, metadata, describe, \
                         behavior and viewingDirection"
                    )));
                }
            }
        }
        let selectors = template.selectors();
        if selectors.is_empty() {
            return Err(invalid(
                "select assets with at least one of space, s1-s3, n1-n3, tag or batch",
            ));
        }
        let mut used: Vec<usize> = selectors
            .iter()
            .filter_map(|arg| match arg {
                Arg::Parameter(index) => Some(*index),
                Arg::Literal(_) => None,
            })
            .collect();
        used.sort_unstable();
        used.dedup();
        template.parameters = used.last().copied().unwrap_or(0);
        if let Some(missing) = (1..=template.parameters).find(|index| !used.contains(index)) {
            return Err(invalid(format!(
                "p{missing} is never used; parameters are numbered from p1 without gaps"
            )));
        }
        let parameters = template.parameters;
        for (name, text) in [
            ("template label", &template.label),
            ("template summary", &template.summary),
            ("template canvasLabel", &template.canvas_label),
        ] {
            if let Some(text) = text {
                check_label_template(name, text, parameters)?;
            }
        }
        for (name, text) in [
            ("template homepage", &template.homepage),
            ("template seeAlso", &template.see_also),
        ] {
            if let Some(text) = text {
                check_url_template(name, text, parameters)?;
            }
        }
        if let Describe::Asset(Arg::Parameter(index)) = template.describe
            && index > parameters
        {
            return Err(invalid(format!(
                "describe=p{index}: the template takes {parameters} parameter(s)"
            )));
        }
        if template.order.is_empty() {
            template.order = vec![(SortKey::Number(0), false)];
        }
        Ok(template)
    }

    fn selectors(&self) -> Vec<&Arg> {
        let mut all: Vec<&Arg> = Vec::new();
        all.extend(self.space.iter());
        all.extend(self.strings.iter().flatten());
        all.extend(self.numbers.iter().flatten());
        all.extend(self.tag.iter());
        all.extend(self.batch.iter());
        all
    }

    /// Fills in the path parameters; the wrong number of them, or a non-number where a number
    /// is selected, is a `bad-request` error.
    pub(crate) fn select(&self, parameters: &[String]) -> Result<Selection> {
        if parameters.len() != self.parameters {
            return Err(Error::bad_request(format!(
                "this query takes {} parameter(s) after its name; {} given",
                self.parameters,
                parameters.len()
            )));
        }
        let text = |arg: &Arg| match arg {
            Arg::Parameter(index) => parameters[index - 1].clone(),
            Arg::Literal(value) => value.clone(),
        };
        let number = |key: &str, arg: &Arg| {
            let value = text(arg);
            value.parse::<i64>().map_err(|_| {
                Error::bad_request(format!("{key} must be a whole number, not {value:?}"))
            })
        };
        let mut selection = Selection {
            space: self.space.as_ref().map(|arg| {
                let value = text(arg);
                match value.parse::<i32>() {
                    Ok(number) => SpaceRef::Number(number),
                    Err(_) => SpaceRef::Name(value),
                }
            }),
            tag: self.tag.as_ref().map(text),
            batch: self
                .batch
                .as_ref()
                .map(|arg| number("batch", arg))
                .transpose()?,
            ..Selection::default()
        };
        for (index, arg) in self.strings.iter().enumerate() {
            selection.strings[index] = arg.as_ref().map(text);
        }
        for (index, arg) in self.numbers.iter().enumerate() {
            selection.numbers[index] = arg
                .as_ref()
                .map(|arg| number(&format!("n{}", index + 1), arg))
                .transpose()?;
        }
        Ok(selection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_template_parses() {
        let template =
            Template::parse("space=p1&s1=p2&canvas=n1;n2 desc&label=Book {p2}&behavior=paged")
                .unwrap();
        assert_eq!(template.parameters, 2);
        assert_eq!(template.space, Some(Arg::Parameter(1)));
        assert_eq!(template.strings[0], Some(Arg::Parameter(2)));
        assert_eq!(
            template.order,
            vec![(SortKey::Number(0), false), (SortKey::Number(1), true)]
        );
        assert_eq!(template.behavior, Some(vec!["paged".to_owned()]));
        let selection = template
            .select(&["3".to_owned(), "book-1".to_owned()])
            .unwrap();
        assert_eq!(selection.space, Some(SpaceRef::Number(3)));
        assert_eq!(selection.strings[0].as_deref(), Some("book-1"));
    }

    #[test]
    fn literals_and_percent_encoding() {
        let template = Template::parse("s1=A%26B&n2=7&label=A %26 B").unwrap();
        assert_eq!(template.parameters, 0);
        assert_eq!(template.strings[0], Some(Arg::Literal("A&B".into())));
        assert_eq!(template.label.as_deref(), Some("A & B"));
        assert_eq!(template.select(&[]).unwrap().numbers[1], Some(7));
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        for (text, needle) in [
            ("", "at least one"),
            ("label=x", "at least one"),
            ("s1=p2", "p1 is never used"),
            ("s1=p1&s1=p2", "twice"),
            ("colour=red", "unknown key"),
            ("n1=seven", "whole number"),
            ("s1=p1&canvas=n4", "cannot be ordered"),
            ("s1=p1&canvas=n1 up", "neither asc nor desc"),
            ("s1=p1&behavior=sideways", "behavior"),
            ("s1=p1&viewingDirection=up", "viewingDirection"),
            ("s1=p1&label={p2}", "template label"),
            ("s1", "key=value"),
            ("s1=p0", "parameters are"),
            ("s1=p1&homepage=/objects/{p1}", "template homepage"),
            ("s1=p1&canvasLabel=Page {p2}", "template canvasLabel"),
            ("s1=p1&describe=p2", "describe=p2"),
        ] {
            let error = Template::parse(text).unwrap_err();
            assert!(
                error.message.contains(needle),
                "{text:?}: {} lacks {needle:?}",
                error.message
            );
        }
    }

    #[test]
    fn presentation_overrides_parse() {
        let template = Template::parse(
            "s1=p1&summary=Book {title}&canvasLabel=f. {s2}&metadata=title;creator\
             &homepage=https://example.org/books/{p1}&describe=cover",
        )
        .unwrap();
        assert_eq!(template.canvas_label.as_deref(), Some("f. {s2}"));
        assert_eq!(
            template.metadata,
            Some(vec!["title".to_owned(), "creator".to_owned()])
        );
        assert_eq!(
            template.describe,
            Describe::Asset(Arg::Literal("cover".into()))
        );
        assert_eq!(Template::parse("s1=a").unwrap().describe, Describe::First);
    }

    #[test]
    fn parameters_are_counted_and_numbers_checked() {
        let template = Template::parse("s1=p1&n1=p2").unwrap();
        assert!(template.select(&["a".into()]).is_err());
        assert!(
            template
                .select(&["a".into(), "b".into(), "c".into()])
                .is_err()
        );
        let error = template.select(&["a".into(), "b".into()]).unwrap_err();
        assert!(error.message.contains("n1 must be a whole number"));
        assert_eq!(
            template.select(&["a".into(), "2".into()]).unwrap().numbers[0],
            Some(2)
        );
    }
}
