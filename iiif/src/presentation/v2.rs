//! Presentation API 2.1 JSON, for viewers that predate 3.0.
//!
//! 2.1 cannot paint sound or video: such canvases get the placeholder size below and offer the
//! recording in `rendering`, which 2.1 viewers show as a download.

use serde_json::{Map, Value, json};

use super::{
    Body, CONTEXT_2, Canvas, Collection, Container, Entry, ImageService, Link, Manifest,
    MemberKind, PLACEHOLDER_SIZE, Range, RangeItem, Rendering, ResourceKind, Text, Thumbnail,
};

const IMAGE_CONTEXT_2: &str = "http://iiif.io/api/image/2/context.json";
const IMAGE_LEVEL2_2: &str = "http://iiif.io/api/image/2/level2.json";

/// A plain string, or `{"@value", "@language"}` when it has a language; a list of those when
/// the text has several values.
pub fn text(text: &Text) -> Value {
    let one = |localized: &super::Localized| match &localized.language {
        None => json!(localized.value),
        Some(language) => json!({ "@value": localized.value, "@language": language }),
    };
    match text.values() {
        [single] => one(single),
        several => several.iter().map(one).collect(),
    }
}

/// `related` and `seeAlso` entries: `{"@id", "format", "label", "profile"}`.
fn links(links: &[Link]) -> Value {
    links
        .iter()
        .map(|link| {
            let mut object = Map::new();
            object.insert("@id".into(), json!(link.id));
            if let Some(format) = &link.format {
                object.insert("format".into(), json!(format));
            }
            if let Some(label) = &link.label {
                object.insert("label".into(), text(label));
            }
            if let Some(profile) = &link.profile {
                object.insert("profile".into(), json!(profile));
            }
            Value::Object(object)
        })
        .collect()
}

fn entry(entry: &Entry) -> Value {
    json!({ "label": text(&entry.label), "value": text(&entry.value) })
}

fn service(service: &ImageService) -> Value {
    json!({ "@context": IMAGE_CONTEXT_2, "@id": service.v2, "profile": IMAGE_LEVEL2_2 })
}

fn thumbnail(thumbnail: &Thumbnail) -> Value {
    json!({
        "@id": format!("{}/full/{},/0/default.jpg", thumbnail.service.v2, thumbnail.width),
        "@type": "dctypes:Image",
        "format": "image/jpeg",
        "width": thumbnail.width,
        "height": thumbnail.height,
        "service": service(&thumbnail.service),
    })
}

fn rendering(files: &[Rendering]) -> Value {
    files
        .iter()
        .map(|file| {
            json!({
                "@id": file.id,
                "@type": file.kind.v2(),
                "label": text(&file.label),
                "format": file.format,
            })
        })
        .collect()
}

/// The painting annotation of an image canvas; sound and video have none in 2.1.
fn painting(canvas: &Canvas) -> Option<Value> {
    let Some(Body::Image {
        service: image,
        width,
        height,
    }) = &canvas.body
    else {
        return None;
    };
    Some(json!({
        "@id": canvas.annotation_id,
        "@type": "oa:Annotation",
        "motivation": "sc:painting",
        "resource": {
            "@id": format!("{}/full/full/0/default.jpg", image.v2),
            "@type": "dctypes:Image",
            "format": "image/jpeg",
            "width": width,
            "height": height,
            "service": restricted_service(service(image), canvas),
        },
        "on": canvas.id,
    }))
}

/// A restricted image's service carries the Auth 1.0 services.
fn restricted_service(mut service: Value, canvas: &Canvas) -> Value {
    if let Some(restriction) = &canvas.restriction {
        service["service"] = Value::Array(crate::auth::cookie_services_1(&restriction.services));
    }
    service
}

/// Sound and video offered as files, since 2.1 cannot paint them.
fn recordings(canvas: &Canvas) -> Vec<Rendering> {
    let mut files = Vec::new();
    match &canvas.body {
        Some(Body::Sound { id, format, .. }) => files.push(Rendering {
            id: id.clone(),
            label: canvas.label.clone(),
            format: format.clone(),
            kind: ResourceKind::Sound,
        }),
        Some(Body::Video { id, format, .. }) => files.push(Rendering {
            id: id.clone(),
            label: canvas.label.clone(),
            format: format.clone(),
            kind: ResourceKind::Video,
        }),
        _ => {}
    }
    files.extend(canvas.rendering.iter().cloned());
    files
}

/// A canvas as embedded in a sequence.
pub fn canvas(canvas: &Canvas) -> Value {
    let (width, height) = match (canvas.width, canvas.height) {
        (Some(width), Some(height)) => (width, height),
        _ => PLACEHOLDER_SIZE,
    };
    let mut object = Map::new();
    object.insert("@id".into(), json!(canvas.id));
    object.insert("@type".into(), json!("sc:Canvas"));
    object.insert("label".into(), text(&canvas.label));
    object.insert("width".into(), json!(width));
    object.insert("height".into(), json!(height));
    if let Some(small) = &canvas.thumbnail {
        object.insert("thumbnail".into(), thumbnail(small));
    }
    let files = recordings(canvas);
    if !files.is_empty() {
        object.insert("rendering".into(), rendering(&files));
    }
    object.insert(
        "images".into(),
        json!(painting(canvas).into_iter().collect::<Vec<_>>()),
    );
    Value::Object(object)
}

fn with_context(value: Value) -> Value {
    super::with_context(CONTEXT_2, value)
}

/// A canvas on its own, as its id dereferences.
pub fn canvas_document(canvas_: &Canvas) -> Value {
    with_context(canvas(canvas_))
}

/// The canvas's painting annotations as an annotation list (what its page id dereferences to).
pub fn page_document(canvas: &Canvas) -> Value {
    with_context(json!({
        "@id": canvas.page_id,
        "@type": "sc:AnnotationList",
        "resources": painting(canvas).into_iter().collect::<Vec<_>>(),
    }))
}

/// The painting annotation on its own; `None` when the canvas paints nothing in 2.1.
pub fn annotation_document(canvas: &Canvas) -> Option<Value> {
    painting(canvas).map(with_context)
}

/// Ranges as 2.1 lists them: flat, each naming its child ranges and canvases, the outermost
/// marked `top`.
fn flatten(range: &Range, top: bool, out: &mut Vec<Value>) {
    let mut children = Vec::new();
    let mut canvases = Vec::new();
    for item in &range.items {
        match item {
            RangeItem::Canvas(id) => canvases.push(json!(id)),
            RangeItem::Range(inner) => children.push(json!(inner.id)),
        }
    }
    let mut object = Map::new();
    object.insert("@id".into(), json!(range.id));
    object.insert("@type".into(), json!("sc:Range"));
    object.insert("label".into(), text(&range.label));
    if top {
        object.insert("viewingHint".into(), json!("top"));
    }
    if !children.is_empty() {
        object.insert("ranges".into(), json!(children));
    }
    if !canvases.is_empty() {
        object.insert("canvases".into(), json!(canvases));
    }
    out.push(Value::Object(object));
    for item in &range.items {
        if let RangeItem::Range(inner) = item {
            flatten(inner, false, out);
        }
    }
}

fn within(containers: &[Container]) -> Option<Value> {
    match containers {
        [] => None,
        [one] => Some(json!(one.id)),
        many => Some(many.iter().map(|container| json!(container.id)).collect()),
    }
}

/// A manifest document.
pub fn manifest(manifest: &Manifest) -> Value {
    let mut object = Map::new();
    object.insert("@context".into(), json!(CONTEXT_2));
    object.insert("@id".into(), json!(manifest.id));
    object.insert("@type".into(), json!("sc:Manifest"));
    object.insert("label".into(), text(&manifest.label));
    if let Some(summary) = &manifest.summary {
        object.insert("description".into(), text(summary));
    }
    if !manifest.metadata.is_empty() {
        object.insert(
            "metadata".into(),
            manifest.metadata.iter().map(entry).collect(),
        );
    }
    if let Some(statement) = &manifest.required_statement {
        object.insert("attribution".into(), text(&statement.value));
    }
    if let Some(rights) = &manifest.rights {
        object.insert("license".into(), json!(rights));
    }
    // 2.1 names the provider only through its logo and its page, beside the object's own
    if let Some(logo) = manifest
        .provider
        .as_ref()
        .and_then(|agent| agent.logo.as_ref())
    {
        object.insert("logo".into(), json!(logo));
    }
    let related: Vec<Link> = manifest
        .homepage
        .iter()
        .chain(
            manifest
                .provider
                .as_ref()
                .and_then(|agent| agent.homepage.as_ref()),
        )
        .cloned()
        .collect();
    if !related.is_empty() {
        object.insert("related".into(), links(&related));
    }
    if !manifest.see_also.is_empty() {
        object.insert("seeAlso".into(), links(&manifest.see_also));
    }
    // 2.1 has one viewingHint where 3.0 has a list of behaviours
    if let Some(hint) = manifest
        .behavior
        .iter()
        .find(|value| ["paged", "continuous", "individuals"].contains(&value.as_str()))
    {
        object.insert("viewingHint".into(), json!(hint));
    }
    if let Some(direction) = &manifest.viewing_direction {
        object.insert("viewingDirection".into(), json!(direction));
    }
    if let Some(small) = &manifest.thumbnail {
        object.insert("thumbnail".into(), thumbnail(small));
    }
    if !manifest.rendering.is_empty() {
        object.insert("rendering".into(), rendering(&manifest.rendering));
    }
    if let Some(up) = within(&manifest.part_of) {
        object.insert("within".into(), up);
    }
    if let Some(search) = &manifest.search {
        object.insert("service".into(), crate::search::service_v2(search));
    }
    object.insert(
        "sequences".into(),
        json!([{
            "@type": "sc:Sequence",
            "canvases": manifest.canvases.iter().map(canvas).collect::<Vec<_>>(),
        }]),
    );
    if !manifest.structures.is_empty() {
        let mut ranges = Vec::new();
        for range in &manifest.structures {
            flatten(range, true, &mut ranges);
        }
        object.insert("structures".into(), json!(ranges));
    }
    Value::Object(object)
}

/// A collection document.
pub fn collection(collection: &Collection) -> Value {
    let mut object = Map::new();
    object.insert("@context".into(), json!(CONTEXT_2));
    object.insert("@id".into(), json!(collection.id));
    object.insert("@type".into(), json!("sc:Collection"));
    object.insert("label".into(), text(&collection.label));
    if let Some(summary) = &collection.summary {
        object.insert("description".into(), text(summary));
    }
    if collection
        .behavior
        .iter()
        .any(|value| value == "multi-part")
    {
        object.insert("viewingHint".into(), json!("multi-part"));
    }
    if let Some(up) = within(&collection.part_of) {
        object.insert("within".into(), up);
    }
    let reference = |member: &super::Member, kind: &str| {
        let mut item = Map::new();
        item.insert("@id".into(), json!(member.id));
        item.insert("@type".into(), json!(kind));
        item.insert("label".into(), text(&member.label));
        if let Some(small) = &member.thumbnail {
            item.insert("thumbnail".into(), thumbnail(small));
        }
        Value::Object(item)
    };
    let manifests: Vec<Value> = collection
        .items
        .iter()
        .filter(|member| member.kind == MemberKind::Manifest)
        .map(|member| reference(member, "sc:Manifest"))
        .collect();
    let collections: Vec<Value> = collection
        .items
        .iter()
        .filter(|member| member.kind == MemberKind::Collection)
        .map(|member| reference(member, "sc:Collection"))
        .collect();
    if !collections.is_empty() {
        object.insert("collections".into(), json!(collections));
    }
    object.insert("manifests".into(), json!(manifests));
    Value::Object(object)
}
