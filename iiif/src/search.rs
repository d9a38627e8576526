//! Content Search 2.0 and 1.0 documents: result pages with their hits, autocomplete term
//! lists, and the service blocks manifests carry. Built from one version-neutral model.

use serde_json::{Map, Value, json};

use crate::presentation::{Container, TextAnnotation, v2, v3};

pub const CONTEXT_2: &str = "http://iiif.io/api/search/2/context.json";
pub const CONTEXT_1: &str = "http://iiif.io/api/search/1/context.json";
pub const PROFILE_SEARCH_1: &str = "http://iiif.io/api/search/1/search";
pub const PROFILE_AUTOCOMPLETE_1: &str = "http://iiif.io/api/search/1/autocomplete";

/// The search services of a scope (an asset's manifest, a named query's).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchServices {
    pub search_2: String,
    pub autocomplete_2: String,
    pub search_1: String,
    pub autocomplete_1: String,
}

/// The services in a Presentation 3 manifest: Search 2 with its autocomplete, and Search 1
/// beside it for viewers that know only that (Mirador finds search by the 1.0 profile).
pub fn services_v3(services: &SearchServices) -> Vec<Value> {
    vec![
        json!({
            "id": services.search_2,
            "type": "SearchService2",
            "service": [{ "id": services.autocomplete_2, "type": "AutoCompleteService2" }],
        }),
        json!({
            "@id": services.search_1,
            "@type": "SearchService1",
            "profile": PROFILE_SEARCH_1,
            "service": [{
                "@id": services.autocomplete_1,
                "@type": "AutoCompleteService1",
                "profile": PROFILE_AUTOCOMPLETE_1,
            }],
        }),
    ]
}

/// The service in a Presentation 2.1 manifest: Search 1 with its autocomplete.
pub fn service_v2(services: &SearchServices) -> Value {
    json!({
        "@context": CONTEXT_1,
        "@id": services.search_1,
        "profile": PROFILE_SEARCH_1,
        "service": {
            "@id": services.autocomplete_1,
            "profile": PROFILE_AUTOCOMPLETE_1,
        },
    })
}

/// One piece of a hit: the quote inside one matched annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The matched annotation's id.
    pub annotation: String,
    pub prefix: String,
    pub exact: String,
    pub suffix: String,
}

/// A hit: one match of the query, over one annotation or several (a phrase across lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub id: String,
    /// The match is its annotations' whole text (word OCR): `contextualizing`, else
    /// `highlighting`.
    pub whole: bool,
    pub quotes: Vec<Quote>,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultPage {
    /// This page.
    pub id: String,
    /// The whole result set (the request without its page).
    pub within: String,
    pub first: String,
    pub last: String,
    pub next: Option<String>,
    pub prev: Option<String>,
    pub total: usize,
    pub start_index: usize,
    pub ignored: Vec<String>,
    /// The manifest whose canvases the targets are on.
    pub manifest: Container,
    /// Matched annotations; their targets are canvas ids with a fragment.
    pub items: Vec<TextAnnotation>,
    pub hits: Vec<Hit>,
}

/// A suggested term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub value: String,
    pub total: u64,
    /// A search for the term.
    pub search: String,
}

/// One page of autocomplete terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermPage {
    pub id: String,
    pub ignored: Vec<String>,
    pub items: Vec<Term>,
}

fn page_ref(id: &str) -> Value {
    json!({ "id": id, "type": "AnnotationPage" })
}

fn manifest_v3(manifest: &Container) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), json!(manifest.id));
    object.insert("type".into(), json!("Manifest"));
    if let Some(label) = &manifest.label {
        object.insert("label".into(), v3::language_map(label));
    }
    Value::Object(object)
}

/// A Content Search 2.0 result page.
pub fn results_v2(page: &ResultPage) -> Value {
    let part_of = manifest_v3(&page.manifest);
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|annotation| {
            let mut value = v3::text_annotation(annotation);
            value["target"] = json!({
                "id": annotation.target,
                "type": "Canvas",
                "partOf": [part_of.clone()],
            });
            value
        })
        .collect();
    let hits: Vec<Value> = page
        .hits
        .iter()
        .map(|hit| {
            let targets: Vec<Value> = hit
                .quotes
                .iter()
                .map(|quote| {
                    json!({
                        "type": "SpecificResource",
                        "source": quote.annotation,
                        "selector": [{
                            "type": "TextQuoteSelector",
                            "prefix": quote.prefix,
                            "exact": quote.exact,
                            "suffix": quote.suffix,
                        }],
                    })
                })
                .collect();
            json!({
                "id": hit.id,
                "type": "Annotation",
                "motivation": if hit.whole { "contextualizing" } else { "highlighting" },
                "target": if targets.len() == 1 { targets[0].clone() } else { Value::Array(targets) },
            })
        })
        .collect();
    let mut object = Map::new();
    object.insert("@context".into(), json!(CONTEXT_2));
    object.insert("id".into(), json!(page.id));
    object.insert("type".into(), json!("AnnotationPage"));
    object.insert(
        "partOf".into(),
        json!({
            "id": page.within,
            "type": "AnnotationCollection",
            "total": page.total,
            "first": page_ref(&page.first),
            "last": page_ref(&page.last),
        }),
    );
    if let Some(next) = &page.next {
        object.insert("next".into(), page_ref(next));
    }
    if let Some(prev) = &page.prev {
        object.insert("prev".into(), page_ref(prev));
    }
    object.insert("startIndex".into(), json!(page.start_index));
    if !page.ignored.is_empty() {
        object.insert("ignored".into(), json!(page.ignored));
    }
    object.insert("items".into(), Value::Array(items));
    if !hits.is_empty() {
        object.insert(
            "annotations".into(),
            json!([{ "type": "AnnotationPage", "items": hits }]),
        );
    }
    Value::Object(object)
}

/// The Search 1.0 name of a motivation.
fn motivation_v1(motivation: &str) -> String {
    match motivation {
        "supplementing" | "painting" => "sc:painting".to_owned(),
        other => format!("oa:{other}"),
    }
}

/// A Content Search 1.0 result page (`sc:AnnotationList` with `hits` and `within`).
pub fn results_v1(page: &ResultPage) -> Value {
    let label = page.manifest.label.as_ref().map(v2::text);
    let resources: Vec<Value> = page
        .items
        .iter()
        .map(|annotation| {
            let (canvas, fragment) = annotation
                .target
                .split_once('#')
                .map_or((annotation.target.as_str(), None), |(c, f)| (c, Some(f)));
            let mut within = json!({ "@id": page.manifest.id, "@type": "sc:Manifest" });
            if let Some(label) = &label {
                within["label"] = label.clone();
            }
            // A region is a SpecificResource (`full` + FragmentSelector), the form Mirador
            // reads; the whole canvas is its plain id.
            let on = match fragment {
                Some(fragment) => json!({
                    "@type": "oa:SpecificResource",
                    "full": canvas,
                    "selector": { "@type": "oa:FragmentSelector", "value": fragment },
                    "within": within,
                }),
                None => json!(canvas),
            };
            let mut resource = json!({ "@type": "cnt:ContentAsText", "chars": annotation.value });
            if let Some(language) = &annotation.language {
                resource["language"] = json!(language);
            }
            json!({
                "@id": annotation.id,
                "@type": "oa:Annotation",
                "motivation": motivation_v1(&annotation.motivation),
                "resource": resource,
                "on": on,
            })
        })
        .collect();
    let hits: Vec<Value> = page
        .hits
        .iter()
        .map(|hit| {
            let first = hit.quotes.first();
            let last = hit.quotes.last();
            let exact = hit
                .quotes
                .iter()
                .map(|quote| quote.exact.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            json!({
                "@type": "search:Hit",
                "annotations": hit.quotes.iter().map(|quote| &quote.annotation).collect::<Vec<_>>(),
                "match": exact,
                "before": first.map(|quote| quote.prefix.as_str()).unwrap_or_default(),
                "after": last.map(|quote| quote.suffix.as_str()).unwrap_or_default(),
                "selectors": hit.quotes.iter().map(|quote| json!({
                    "@type": "oa:TextQuoteSelector",
                    "prefix": quote.prefix,
                    "exact": quote.exact,
                    "suffix": quote.suffix,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut within = json!({
        "@id": page.within,
        "@type": "sc:Layer",
        "total": page.total,
        "first": page.first,
        "last": page.last,
    });
    if !page.ignored.is_empty() {
        within["ignored"] = json!(page.ignored);
    }
    let mut object = Map::new();
    object.insert(
        "@context".into(),
        json!([crate::presentation::CONTEXT_2, CONTEXT_1]),
    );
    object.insert("@id".into(), json!(page.id));
    object.insert("@type".into(), json!("sc:AnnotationList"));
    object.insert("within".into(), within);
    if let Some(next) = &page.next {
        object.insert("next".into(), json!(next));
    }
    if let Some(prev) = &page.prev {
        object.insert("prev".into(), json!(prev));
    }
    object.insert("startIndex".into(), json!(page.start_index));
    object.insert("resources".into(), Value::Array(resources));
    object.insert("hits".into(), Value::Array(hits));
    Value::Object(object)
}

/// An Autocomplete 2.0 `TermPage`.
pub fn terms_v2(page: &TermPage) -> Value {
    let mut object = Map::new();
    object.insert("@context".into(), json!(CONTEXT_2));
    object.insert("id".into(), json!(page.id));
    object.insert("type".into(), json!("TermPage"));
    if !page.ignored.is_empty() {
        object.insert("ignored".into(), json!(page.ignored));
    }
    object.insert(
        "items".into(),
        page.items
            .iter()
            .map(|term| json!({ "value": term.value, "total": term.total }))
            .collect(),
    );
    Value::Object(object)
}

/// An Autocomplete 1.0 `search:TermList`.
pub fn terms_v1(page: &TermPage) -> Value {
    let mut object = Map::new();
    object.insert("@context".into(), json!(CONTEXT_1));
    object.insert("@id".into(), json!(page.id));
    object.insert("@type".into(), json!("search:TermList"));
    object.insert("ignored".into(), json!(page.ignored));
    object.insert(
        "terms".into(),
        page.items
            .iter()
            .map(|term| json!({ "match": term.value, "url": term.search, "count": term.total }))
            .collect(),
    );
    Value::Object(object)
}
