//! Presentation API 3.0 JSON.

use serde_json::{Map, Value, json};

use super::{
    AnnotationList, Body, CONTEXT_3, Canvas, Collection, Container, Entry, ImageService, Link,
    Manifest, MemberKind, Provider, Range, RangeItem, Rendering, Text, TextAnnotation, Thumbnail,
};

/// A language map: `{"en": ["..."]}`, with `"none"` for values without a language.
pub fn language_map(text: &Text) -> Value {
    let mut map = Map::new();
    for localized in text.values() {
        let language = localized.language.as_deref().unwrap_or("none");
        match map.get_mut(language) {
            Some(Value::Array(values)) => values.push(json!(localized.value)),
            _ => {
                map.insert(language.to_owned(), json!([localized.value]));
            }
        }
    }
    Value::Object(map)
}

fn entry(entry: &Entry) -> Value {
    json!({ "label": language_map(&entry.label), "value": language_map(&entry.value) })
}

/// The `service` list of an image: its Image API 3 service, then the 2.1 one.
fn image_services(service: &ImageService) -> Value {
    json!([
        { "id": service.v3, "type": "ImageService3", "profile": "level2" },
        { "@id": service.v2, "@type": "ImageService2",
          "profile": "http://iiif.io/api/image/2/level2.json" },
    ])
}

fn thumbnail(thumbnail: &Thumbnail) -> Value {
    json!([{
        "id": format!("{}/full/{},{}/0/default.jpg", thumbnail.service.v3, thumbnail.width, thumbnail.height),
        "type": "Image",
        "format": "image/jpeg",
        "width": thumbnail.width,
        "height": thumbnail.height,
        "service": [{ "id": thumbnail.service.v3, "type": "ImageService3", "profile": "level2" }],
    }])
}

fn rendering(files: &[Rendering]) -> Value {
    files
        .iter()
        .map(|file| {
            json!({
                "id": file.id,
                "type": file.kind.v3(),
                "label": language_map(&file.label),
                "format": file.format,
            })
        })
        .collect()
}

fn body(body: &Body) -> Value {
    match body {
        Body::Image {
            service,
            width,
            height,
        } => json!({
            "id": format!("{}/full/max/0/default.jpg", service.v3),
            "type": "Image",
            "format": "image/jpeg",
            "width": width,
            "height": height,
            "service": image_services(service),
        }),
        Body::Sound {
            id,
            format,
            duration,
        } => json!({ "id": id, "type": "Sound", "format": format, "duration": duration }),
        Body::Video {
            id,
            format,
            width,
            height,
            duration,
        } => json!({
            "id": id, "type": "Video", "format": format,
            "width": width, "height": height, "duration": duration,
        }),
    }
}

/// The painting annotation of a canvas, embedded (no `@context`); `None` for a placeholder.
fn painting(canvas: &Canvas) -> Option<Value> {
    canvas.body.as_ref().map(|painted| {
        json!({
            "id": canvas.annotation_id,
            "type": "Annotation",
            "motivation": "painting",
            "body": restricted(body(painted), canvas),
            "target": canvas.id,
        })
    })
}

/// A restricted body carries its Auth 2.0 probe service (with the access services in it).
fn restricted(mut body: Value, canvas: &Canvas) -> Value {
    if let Some(restriction) = &canvas.restriction
        && let Some(object) = body.as_object_mut()
    {
        let probe = crate::auth::probe_service(&restriction.probe, &restriction.services);
        match object.get_mut("service") {
            Some(Value::Array(services)) => services.push(probe),
            _ => {
                object.insert("service".into(), json!([probe]));
            }
        }
    }
    body
}

/// `@context`: the Auth 2.0 context comes before Presentation 3.0's when any canvas is
/// restricted.
fn context(canvases: &[Canvas]) -> Value {
    if canvases.iter().any(|canvas| canvas.restriction.is_some()) {
        json!([crate::auth::CONTEXT_2, CONTEXT_3])
    } else {
        json!(CONTEXT_3)
    }
}

fn page(canvas: &Canvas) -> Value {
    json!({
        "id": canvas.page_id,
        "type": "AnnotationPage",
        "items": painting(canvas).into_iter().collect::<Vec<_>>(),
    })
}

/// A canvas as embedded in a manifest.
pub fn canvas(canvas: &Canvas) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), json!(canvas.id));
    object.insert("type".into(), json!("Canvas"));
    object.insert("label".into(), language_map(&canvas.label));
    if let (Some(width), Some(height)) = (canvas.width, canvas.height) {
        object.insert("width".into(), json!(width));
        object.insert("height".into(), json!(height));
    }
    if let Some(duration) = canvas.duration {
        object.insert("duration".into(), json!(duration));
    }
    if let Some(small) = &canvas.thumbnail {
        object.insert("thumbnail".into(), thumbnail(small));
    }
    if !canvas.rendering.is_empty() {
        object.insert("rendering".into(), rendering(&canvas.rendering));
    }
    object.insert("items".into(), json!([page(canvas)]));
    Value::Object(object)
}

fn with_context(value: Value) -> Value {
    super::with_context(CONTEXT_3, value)
}

/// A canvas on its own, as its id dereferences.
pub fn canvas_document(canvas_: &Canvas) -> Value {
    with_canvas_context(canvas_, canvas(canvas_))
}

/// A canvas's painting page on its own.
pub fn page_document(canvas: &Canvas) -> Value {
    with_canvas_context(canvas, page(canvas))
}

/// A canvas's painting annotation on its own; `None` for a placeholder canvas.
pub fn annotation_document(canvas: &Canvas) -> Option<Value> {
    painting(canvas).map(|painted| with_canvas_context(canvas, painted))
}

/// A document holding one canvas's body: the Auth 2.0 context too when it is restricted.
fn with_canvas_context(canvas: &Canvas, value: Value) -> Value {
    let mut document = with_context(value);
    document["@context"] = context(std::slice::from_ref(canvas));
    document
}

fn range(range: &Range) -> Value {
    let items: Vec<Value> = range
        .items
        .iter()
        .map(|item| match item {
            RangeItem::Canvas(id) => json!({ "id": id, "type": "Canvas" }),
            RangeItem::Range(inner) => self::range(inner),
        })
        .collect();
    json!({
        "id": range.id,
        "type": "Range",
        "label": language_map(&range.label),
        "items": items,
    })
}

fn part_of(containers: &[Container]) -> Value {
    containers
        .iter()
        .map(|container| {
            let mut object = Map::new();
            object.insert("id".into(), json!(container.id));
            object.insert("type".into(), json!("Collection"));
            if let Some(label) = &container.label {
                object.insert("label".into(), language_map(label));
            }
            Value::Object(object)
        })
        .collect()
}

/// The properties manifests and collections share, in the order readers expect them.
fn descriptive(
    object: &mut Map<String, Value>,
    summary: Option<&Text>,
    metadata: &[Entry],
    required_statement: Option<&Entry>,
    rights: Option<&String>,
) {
    if let Some(summary) = summary {
        object.insert("summary".into(), language_map(summary));
    }
    if !metadata.is_empty() {
        object.insert("metadata".into(), metadata.iter().map(entry).collect());
    }
    if let Some(statement) = required_statement {
        object.insert("requiredStatement".into(), self::entry(statement));
    }
    if let Some(rights) = rights {
        object.insert("rights".into(), json!(rights));
    }
}

/// `homepage` and `seeAlso` entries: a homepage is a `Text` and must have a label (the
/// document's own when the link has none), a `seeAlso` a `Dataset`.
fn links(links: &[Link], kind: &str, fallback_label: &Text) -> Value {
    links
        .iter()
        .map(|link| {
            let mut object = Map::new();
            object.insert("id".into(), json!(link.id));
            object.insert("type".into(), json!(kind));
            let label = link
                .label
                .as_ref()
                .or((kind == "Text").then_some(fallback_label));
            if let Some(label) = label {
                object.insert("label".into(), language_map(label));
            }
            if let Some(format) = &link.format {
                object.insert("format".into(), json!(format));
            }
            if let Some(profile) = &link.profile {
                object.insert("profile".into(), json!(profile));
            }
            Value::Object(object)
        })
        .collect()
}

/// A `provider` list of one `Agent`, with its homepage and logo.
fn provider(provider: &Provider) -> Value {
    let mut agent = Map::new();
    agent.insert("id".into(), json!(provider.id));
    agent.insert("type".into(), json!("Agent"));
    agent.insert("label".into(), language_map(&provider.label));
    if let Some(homepage) = &provider.homepage {
        agent.insert(
            "homepage".into(),
            links(std::slice::from_ref(homepage), "Text", &provider.label),
        );
    }
    if let Some(logo) = &provider.logo {
        let mut image = Map::new();
        image.insert("id".into(), json!(logo));
        image.insert("type".into(), json!("Image"));
        if let Some(format) = super::image_format(logo) {
            image.insert("format".into(), json!(format));
        }
        agent.insert("logo".into(), json!([image]));
    }
    json!([agent])
}

/// A manifest document.
pub fn manifest(manifest: &Manifest) -> Value {
    let mut object = Map::new();
    object.insert("@context".into(), context(&manifest.canvases));
    object.insert("id".into(), json!(manifest.id));
    object.insert("type".into(), json!("Manifest"));
    object.insert("label".into(), language_map(&manifest.label));
    descriptive(
        &mut object,
        manifest.summary.as_ref(),
        &manifest.metadata,
        manifest.required_statement.as_ref(),
        manifest.rights.as_ref(),
    );
    if let Some(agent) = &manifest.provider {
        object.insert("provider".into(), provider(agent));
    }
    if !manifest.homepage.is_empty() {
        object.insert(
            "homepage".into(),
            links(&manifest.homepage, "Text", &manifest.label),
        );
    }
    if !manifest.see_also.is_empty() {
        object.insert(
            "seeAlso".into(),
            links(&manifest.see_also, "Dataset", &manifest.label),
        );
    }
    if !manifest.behavior.is_empty() {
        object.insert("behavior".into(), json!(manifest.behavior));
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
    if !manifest.part_of.is_empty() {
        object.insert("partOf".into(), part_of(&manifest.part_of));
    }
    if let Some(search) = &manifest.search {
        object.insert("service".into(), json!(crate::search::services_v3(search)));
    }
    object.insert(
        "items".into(),
        manifest.canvases.iter().map(canvas).collect(),
    );
    if !manifest.structures.is_empty() {
        object.insert(
            "structures".into(),
            manifest.structures.iter().map(range).collect(),
        );
    }
    Value::Object(object)
}

/// A collection document.
pub fn collection(collection: &Collection) -> Value {
    let mut object = Map::new();
    object.insert("@context".into(), json!(CONTEXT_3));
    object.insert("id".into(), json!(collection.id));
    object.insert("type".into(), json!("Collection"));
    object.insert("label".into(), language_map(&collection.label));
    descriptive(&mut object, collection.summary.as_ref(), &[], None, None);
    if !collection.behavior.is_empty() {
        object.insert("behavior".into(), json!(collection.behavior));
    }
    if !collection.part_of.is_empty() {
        object.insert("partOf".into(), part_of(&collection.part_of));
    }
    let items: Vec<Value> = collection
        .items
        .iter()
        .map(|member| {
            let mut item = Map::new();
            item.insert("id".into(), json!(member.id));
            item.insert(
                "type".into(),
                json!(match member.kind {
                    MemberKind::Manifest => "Manifest",
                    MemberKind::Collection => "Collection",
                }),
            );
            item.insert("label".into(), language_map(&member.label));
            if let Some(small) = &member.thumbnail {
                item.insert("thumbnail".into(), thumbnail(small));
            }
            Value::Object(item)
        })
        .collect();
    object.insert("items".into(), json!(items));
    Value::Object(object)
}

/// A text annotation, embedded (no `@context`).
pub fn text_annotation(annotation: &TextAnnotation) -> Value {
    let mut body = Map::new();
    body.insert("type".into(), json!("TextualBody"));
    body.insert("value".into(), json!(annotation.value));
    body.insert("format".into(), json!(annotation.format));
    if let Some(language) = &annotation.language {
        body.insert("language".into(), json!(language));
    }
    let mut object = Map::new();
    object.insert("id".into(), json!(annotation.id));
    object.insert("type".into(), json!("Annotation"));
    object.insert("motivation".into(), json!(annotation.motivation));
    object.insert("body".into(), Value::Object(body));
    object.insert("target".into(), json!(annotation.target));
    if let Some(creator) = &annotation.creator {
        object.insert(
            "creator".into(),
            json!({ "type": "Person", "name": creator }),
        );
    }
    Value::Object(object)
}

/// A text annotation on its own, as its id dereferences.
pub fn text_annotation_document(annotation: &TextAnnotation) -> Value {
    with_context(text_annotation(annotation))
}

/// An annotation page document.
pub fn annotation_list(list: &AnnotationList) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), json!(list.id));
    object.insert("type".into(), json!("AnnotationPage"));
    if let Some(label) = &list.label {
        object.insert("label".into(), language_map(label));
    }
    object.insert(
        "items".into(),
        list.items.iter().map(text_annotation).collect(),
    );
    with_context(Value::Object(object))
}
