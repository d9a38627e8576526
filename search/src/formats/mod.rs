//! Annotation files that OCR engines and captioning tools write: ALTO and hOCR (word boxes on a
//! page), WebVTT (timed captions) and W3C Web Annotations. Each is read into plain items;
//! scaling boxes to the asset's pixels is the caller's.

mod alto;
mod hocr;
mod w3c;
mod webvtt;

/// The formats `importAnnotations` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Alto,
    Hocr,
    WebVtt,
    W3c,
}

impl Format {
    /// A short name, stored as the annotations' source so a later import can replace them.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Alto => "alto",
            Format::Hocr => "hocr",
            Format::WebVtt => "webvtt",
            Format::W3c => "w3c",
        }
    }
}

/// One annotation per word, or per line of words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Word,
    Line,
}

/// An annotation read from a file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Item {
    pub text: String,
    /// x, y, w, h in the file's page units.
    pub region: Option<[f64; 4]>,
    /// Start and end, in seconds.
    pub time: Option<[f64; 2]>,
    pub motivation: Option<String>,
    pub format: Option<String>,
    pub language: Option<String>,
    pub creator: Option<String>,
}

/// What a file holds: its page size (for boxes in other units than the asset's pixels) and
/// its items in reading order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    pub page: Option<(f64, f64)>,
    pub items: Vec<Item>,
}

/// Why a file could not be read; the message names the place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

impl FormatError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Reads a file of a format.
pub fn parse(
    format: Format,
    content: &str,
    granularity: Granularity,
) -> Result<Parsed, FormatError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    match format {
        Format::Alto => alto::parse(content, granularity),
        Format::Hocr => hocr::parse(content, granularity),
        Format::WebVtt => webvtt::parse(content),
        Format::W3c => w3c::parse(content),
    }
}

/// An XML document, with a DTD allowed (hOCR is XHTML with a DOCTYPE).
fn xml<'a>(content: &'a str, what: &str) -> Result<roxmltree::Document<'a>, FormatError> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(content, options)
        .map_err(|e| FormatError::new(format!("not well-formed {what}: {e}")))
}

/// A word of an OCR line: its text, its box and its language.
struct OcrWord {
    text: String,
    region: [f64; 4],
    language: Option<String>,
}

/// The items of one OCR line: each word, or the line as one item with its own box (else the
/// box around its words) and `text`. A line without words gives none.
fn line_items(
    words: Vec<OcrWord>,
    line_box: Option<[f64; 4]>,
    text: String,
    granularity: Granularity,
) -> Vec<Item> {
    match granularity {
        Granularity::Word => words
            .into_iter()
            .map(|word| Item {
                text: word.text,
                region: Some(word.region),
                language: word.language,
                ..Item::default()
            })
            .collect(),
        Granularity::Line if words.is_empty() => Vec::new(),
        Granularity::Line => vec![Item {
            text,
            region: line_box.or_else(|| union(words.iter().map(|word| word.region))),
            language: words[0].language.clone(),
            ..Item::default()
        }],
    }
}

/// The one page of an OCR file; a file of several pages is refused.
fn one_page<'a, 'input>(
    pages: Vec<roxmltree::Node<'a, 'input>>,
    what: &str,
) -> Result<roxmltree::Node<'a, 'input>, FormatError> {
    match pages.as_slice() {
        [page] => Ok(*page),
        [] => Err(FormatError::new(format!("the {what} file has no page"))),
        more => Err(FormatError::new(format!(
            "the {what} file has {} pages; import one page per asset",
            more.len()
        ))),
    }
}

/// Collapses runs of whitespace to one space.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The box around several boxes.
fn union(boxes: impl IntoIterator<Item = [f64; 4]>) -> Option<[f64; 4]> {
    boxes.into_iter().fold(None, |acc, [x, y, w, h]| {
        Some(match acc {
            None => [x, y, w, h],
            Some([ax, ay, aw, ah]) => {
                let left = ax.min(x);
                let top = ay.min(y);
                let right = (ax + aw).max(x + w);
                let bottom = (ay + ah).max(y + h);
                [left, top, right - left, bottom - top]
            }
        })
    })
}

/// Removes markup tags (`<v Name>`, `<b>`) from a text.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// The plain text of an annotation body of a format.
pub fn plain_text(value: &str, format: &str) -> String {
    if format == "text/html" {
        strip_tags(value)
    } else {
        value.to_owned()
    }
}
