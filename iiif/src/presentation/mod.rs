//! The Presentation API: one version-neutral model of manifests, canvases, ranges and
//! collections, written out as 3.0 ([`v3`]) or 2.1 ([`v2`]) JSON.
//!
//! The model holds final identifiers: whoever builds it decides the URL layout, and builds it
//! once per version, since identifiers differ between `/3/` and `/2/` documents. Image bodies
//! and thumbnails hold the bases of their image services; each writer turns those into the
//! concrete image URLs of its version.

pub mod v2;
pub mod v3;

/// The Presentation 3.0 JSON-LD context.
pub const CONTEXT_3: &str = "http://iiif.io/api/presentation/3/context.json";
/// The Presentation 2.1 JSON-LD context.
pub const CONTEXT_2: &str = "http://iiif.io/api/presentation/2/context.json";

/// The two Presentation API versions served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V2,
    V3,
}

impl Version {
    /// The version's segment in URLs: `2` or `3`.
    pub fn path(self) -> &'static str {
        match self {
            Version::V2 => "2",
            Version::V3 => "3",
        }
    }

    /// The version's JSON-LD context.
    pub fn context(self) -> &'static str {
        match self {
            Version::V2 => CONTEXT_2,
            Version::V3 => CONTEXT_3,
        }
    }
}

/// `value` as a top-level document: `@context` first, then its own fields.
pub(crate) fn with_context(context: &str, value: serde_json::Value) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    object.insert("@context".into(), serde_json::Value::from(context));
    if let serde_json::Value::Object(fields) = value {
        object.extend(fields);
    }
    serde_json::Value::Object(object)
}

/// The size of a canvas that stands for a file with no pixel size of its own (a PDF, a
/// recording that 2.1 cannot paint).
pub const PLACEHOLDER_SIZE: (u32, u32) = (1000, 1000);

/// Layout behaviours a manifest may declare (Presentation 3.0 §3.2 `behavior`).
pub const MANIFEST_BEHAVIORS: &[&str] = &[
    "auto-advance",
    "no-auto-advance",
    "repeat",
    "no-repeat",
    "unordered",
    "individuals",
    "continuous",
    "paged",
];

/// The four reading directions of `viewingDirection`.
pub const VIEWING_DIRECTIONS: &[&str] = &[
    "left-to-right",
    "right-to-left",
    "top-to-bottom",
    "bottom-to-top",
];

/// Whether a `rights` value is one the specification allows: a Creative Commons licence or
/// public-domain mark, or a RightsStatements.org statement, in their `http` form.
pub fn rights_allowed(uri: &str) -> bool {
    [
        "http://creativecommons.org/licenses/",
        "http://creativecommons.org/publicdomain/",
        "http://rightsstatements.org/vocab/",
    ]
    .iter()
    .any(|prefix| uri.len() > prefix.len() && uri.starts_with(prefix))
        && !uri.contains(['"', '<', '>', ' ', '#', '?'])
}

/// One value of a text, in a language (a BCP 47 tag) or in none.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Localized {
    pub language: Option<String>,
    pub value: String,
}

/// The media type of an image named by its URL's extension, when it has a known one.
pub(crate) fn image_format(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let extension = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        _ => return None,
    })
}

/// A text: one or more values, each in a language or in none (a language map in 3.0,
/// `{"@value", "@language"}` objects in 2.1). Never empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text {
    values: Vec<Localized>,
}

impl Text {
    /// A text with no language.
    pub fn plain(value: impl Into<String>) -> Self {
        Self {
            values: vec![Localized {
                language: None,
                value: value.into(),
            }],
        }
    }

    /// A text in a language (a BCP 47 tag).
    pub fn in_language(value: impl Into<String>, language: impl Into<String>) -> Self {
        Self {
            values: vec![Localized {
                language: Some(language.into()),
                value: value.into(),
            }],
        }
    }

    /// A text of several values, in their order; `None` when there are none.
    pub fn of(values: impl IntoIterator<Item = Localized>) -> Option<Self> {
        let values: Vec<Localized> = values.into_iter().collect();
        (!values.is_empty()).then_some(Self { values })
    }

    /// Its values, in order.
    pub fn values(&self) -> &[Localized] {
        &self.values
    }

    /// Its first value, whatever the language.
    pub fn first(&self) -> &str {
        &self.values[0].value
    }
}

/// A `label`/`value` pair: a metadata entry or the required statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    pub label: Text,
    pub value: Text,
}

/// An image service offered in both Image API versions: the bases of `/iiif/3/...` and
/// `/iiif/2/...` (no trailing slash).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageService {
    pub v3: String,
    pub v2: String,
}

/// A ready-made size of an image (a stored thumbnail), served through its image service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Thumbnail {
    pub service: ImageService,
    pub width: u32,
    pub height: u32,
}

/// What a canvas is painted with.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// The whole image, through its image service.
    Image {
        service: ImageService,
        width: u32,
        height: u32,
    },
    Sound {
        id: String,
        format: String,
        duration: f64,
    },
    Video {
        id: String,
        format: String,
        width: u32,
        height: u32,
        duration: f64,
    },
}

// Documents are cached by a digest of their model; durations hash by their bits.
impl std::hash::Hash for Body {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Body::Image {
                service,
                width,
                height,
            } => (service, width, height).hash(state),
            Body::Sound {
                id,
                format,
                duration,
            } => (id, format, duration.to_bits()).hash(state),
            Body::Video {
                id,
                format,
                width,
                height,
                duration,
            } => (id, format, width, height, duration.to_bits()).hash(state),
        }
    }
}

impl std::hash::Hash for Canvas {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (&self.id, &self.page_id, &self.annotation_id, &self.label).hash(state);
        (self.width, self.height, self.duration.map(f64::to_bits)).hash(state);
        (&self.body, &self.thumbnail, &self.rendering).hash(state);
        self.restriction.hash(state);
    }
}

/// The kind of a content resource, as Presentation 3.0 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    Image,
    Sound,
    Video,
    Text,
    Dataset,
}

impl ResourceKind {
    /// The kind of a file of this media type.
    pub fn of_media_type(media_type: &str) -> Self {
        let essence = media_type.split(';').next().unwrap_or_default().trim();
        match essence.split('/').next().unwrap_or_default() {
            "image" => ResourceKind::Image,
            "audio" => ResourceKind::Sound,
            "video" => ResourceKind::Video,
            "text" => ResourceKind::Text,
            _ if essence == "application/pdf" => ResourceKind::Text,
            _ => ResourceKind::Dataset,
        }
    }

    fn v3(self) -> &'static str {
        match self {
            ResourceKind::Image => "Image",
            ResourceKind::Sound => "Sound",
            ResourceKind::Video => "Video",
            ResourceKind::Text => "Text",
            ResourceKind::Dataset => "Dataset",
        }
    }

    fn v2(self) -> &'static str {
        match self {
            ResourceKind::Image => "dctypes:Image",
            ResourceKind::Sound => "dctypes:Sound",
            ResourceKind::Video => "dctypes:MovingImage",
            ResourceKind::Text => "dctypes:Text",
            ResourceKind::Dataset => "dctypes:Dataset",
        }
    }
}

/// A file offered for download beside what is shown (`rendering`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rendering {
    pub id: String,
    pub label: Text,
    pub format: String,
    pub kind: ResourceKind,
}

/// One view: an image, a recording, or a placeholder for a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Canvas {
    pub id: String,
    /// The id of the page holding the painting annotation.
    pub page_id: String,
    /// The id of the painting annotation.
    pub annotation_id: String,
    pub label: Text,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration: Option<f64>,
    /// `None` for a placeholder canvas, which paints nothing.
    pub body: Option<Body>,
    /// The auth services of a restricted body.
    pub restriction: Option<crate::auth::Restriction>,
    pub thumbnail: Option<Thumbnail>,
    pub rendering: Vec<Rendering>,
}

/// A node of the table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Range {
    pub id: String,
    pub label: Text,
    pub items: Vec<RangeItem>,
}

/// What a range holds, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RangeItem {
    /// A canvas, by id.
    Canvas(String),
    Range(Range),
}

impl Range {
    /// Every canvas id under this range, depth first.
    pub fn canvases(&self) -> Vec<&str> {
        let mut found = Vec::new();
        for item in &self.items {
            match item {
                RangeItem::Canvas(id) => found.push(id.as_str()),
                RangeItem::Range(range) => found.extend(range.canvases()),
            }
        }
        found
    }
}

/// A web page or a data document about a resource (`homepage`, `seeAlso`; `related` and
/// `seeAlso` in 2.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link {
    pub id: String,
    pub label: Option<Text>,
    /// A media type, e.g. `text/html`.
    pub format: Option<String>,
    /// A profile URI (of a `seeAlso` document's schema).
    pub profile: Option<String>,
}

/// Who provides a resource (`provider`; `logo` in 2.1): its name, its web page and its logo.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Provider {
    /// The agent's URI.
    pub id: String,
    pub label: Text,
    pub homepage: Option<Link>,
    /// An image URL.
    pub logo: Option<String>,
}

/// A link up to what contains a document (`partOf` / `within`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Container {
    pub id: String,
    pub label: Option<Text>,
}

/// A manifest: the canvases of one object, in order, and what is said about it.
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Manifest {
    pub id: String,
    pub label: Text,
    pub summary: Option<Text>,
    pub metadata: Vec<Entry>,
    pub required_statement: Option<Entry>,
    pub rights: Option<String>,
    /// Pages about the object on the holder's website.
    pub homepage: Vec<Link>,
    /// Machine-readable descriptions of the object.
    pub see_also: Vec<Link>,
    pub provider: Option<Provider>,
    pub behavior: Vec<String>,
    pub viewing_direction: Option<String>,
    pub thumbnail: Option<Thumbnail>,
    pub canvases: Vec<Canvas>,
    pub structures: Vec<Range>,
    pub rendering: Vec<Rendering>,
    pub part_of: Vec<Container>,
    /// Content Search services, when the manifest's canvases have annotations.
    pub search: Option<crate::search::SearchServices>,
}

/// What a collection lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberKind {
    Manifest,
    Collection,
}

/// One member of a collection, by reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Member {
    pub id: String,
    pub kind: MemberKind,
    pub label: Text,
    pub thumbnail: Option<Thumbnail>,
}

/// A non-painting annotation with a text body (a comment, a transcription, a caption).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextAnnotation {
    pub id: String,
    pub motivation: String,
    pub value: String,
    /// `text/plain` or `text/html`.
    pub format: String,
    pub language: Option<String>,
    /// The canvas id, with `#xywh=` or `#t=` when the annotation targets part of it.
    pub target: String,
    pub creator: Option<String>,
}

/// A page of annotations.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnnotationList {
    pub id: String,
    pub label: Option<Text>,
    pub items: Vec<TextAnnotation>,
}

/// A collection of manifests or of further collections.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Collection {
    pub id: String,
    pub label: Text,
    pub summary: Option<Text>,
    pub behavior: Vec<String>,
    pub items: Vec<Member>,
    pub part_of: Vec<Container>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_are_licences_or_statements_in_their_http_form() {
        assert!(rights_allowed(
            "http://creativecommons.org/licenses/by/4.0/"
        ));
        assert!(rights_allowed(
            "http://creativecommons.org/publicdomain/zero/1.0/"
        ));
        assert!(rights_allowed("http://rightsstatements.org/vocab/InC/1.0/"));
        assert!(!rights_allowed(
            "https://creativecommons.org/licenses/by/4.0/"
        ));
        assert!(!rights_allowed("http://creativecommons.org/licenses/"));
        assert!(!rights_allowed("http://example.org/licence"));
        assert!(!rights_allowed(
            "http://creativecommons.org/licenses/by/4.0/\"><script>"
        ));
    }

    #[test]
    fn resource_kinds_follow_media_types() {
        assert_eq!(
            ResourceKind::of_media_type("application/pdf"),
            ResourceKind::Text
        );
        assert_eq!(
            ResourceKind::of_media_type("audio/mpeg"),
            ResourceKind::Sound
        );
        assert_eq!(
            ResourceKind::of_media_type("application/zip"),
            ResourceKind::Dataset
        );
    }
}
