//! hOCR (XHTML, as Tesseract writes it): `ocr_page` carries the page's `bbox` in its title,
//! `ocr_line` (and `ocr_caption`, `ocr_header`, `ocr_textfloat`) the lines, `ocrx_word` the
//! words, each with `bbox x0 y0 x1 y1`.

use roxmltree::Node;

use super::{FormatError, Granularity, OcrWord, Parsed, line_items, one_page, squeeze, xml};

const LINE_CLASSES: &[&str] = &["ocr_line", "ocr_caption", "ocr_header", "ocr_textfloat"];

fn has_class(node: Node, wanted: &str) -> bool {
    node.attribute("class")
        .is_some_and(|classes| classes.split_whitespace().any(|class| class == wanted))
}

/// The `bbox` of an element's title as x, y, w, h.
fn bbox(node: Node) -> Result<Option<[f64; 4]>, FormatError> {
    let Some(title) = node.attribute("title") else {
        return Ok(None);
    };
    let Some(property) = title
        .split(';')
        .map(str::trim)
        .find_map(|property| property.strip_prefix("bbox "))
    else {
        return Ok(None);
    };
    let numbers: Vec<f64> = property
        .split_whitespace()
        .map(str::parse::<f64>)
        .collect::<Result<_, _>>()
        .map_err(|_| bad_box(node))?;
    match numbers[..] {
        [x0, y0, x1, y1] if x1 >= x0 && y1 >= y0 && x0.is_finite() && y1.is_finite() => {
            Ok(Some([x0, y0, x1 - x0, y1 - y0]))
        }
        _ => Err(bad_box(node)),
    }
}

fn bad_box(node: Node) -> FormatError {
    FormatError::new(format!(
        "hOCR element on line {} has a bbox that is not four numbers x0 y0 x1 y1",
        node.document().text_pos_at(node.range().start).row
    ))
}

fn text(node: Node) -> String {
    squeeze(
        &node
            .descendants()
            .filter(Node::is_text)
            .filter_map(|text| text.text())
            .collect::<String>(),
    )
}

fn language(node: Node) -> Option<String> {
    node.ancestors()
        .find_map(|ancestor| {
            ancestor
                .attribute("lang")
                .or_else(|| ancestor.attribute(("http://www.w3.org/XML/1998/namespace", "lang")))
        })
        .map(str::to_owned)
}

pub(super) fn parse(content: &str, granularity: Granularity) -> Result<Parsed, FormatError> {
    let document = xml(content, "hOCR (XHTML)")?;
    let pages: Vec<Node> = document
        .descendants()
        .filter(|node| has_class(*node, "ocr_page"))
        .collect();
    let page = one_page(pages, "hOCR")?;
    let size = match bbox(page)? {
        Some([_, _, w, h]) if w > 0.0 && h > 0.0 => (w, h),
        _ => {
            return Err(FormatError::new(
                "the hOCR ocr_page needs a bbox in its title to scale its boxes",
            ));
        }
    };
    let mut items = Vec::new();
    let lines = page
        .descendants()
        .filter(|node| LINE_CLASSES.iter().any(|class| has_class(*node, class)));
    for line in lines {
        let mut words = Vec::new();
        for word in line
            .descendants()
            .filter(|node| has_class(*node, "ocrx_word"))
        {
            let content = text(word);
            if content.is_empty() {
                continue;
            }
            let region = bbox(word)?.ok_or_else(|| bad_box(word))?;
            words.push(OcrWord {
                text: content,
                region,
                language: language(word),
            });
        }
        let text = words
            .iter()
            .map(|word| word.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let line_box = if words.is_empty() { None } else { bbox(line)? };
        items.extend(line_items(words, line_box, text, granularity));
    }
    Ok(Parsed {
        page: Some(size),
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="fr" lang="fr">
 <body>
  <div class='ocr_page' id='page_1' title='image "p.png"; bbox 0 0 500 800; ppageno 0'>
   <span class='ocr_line' id='line_1' title="bbox 10 20 210 50; baseline 0 -5">
    <span class='ocrx_word' id='w1' title='bbox 10 20 90 50; x_wconf 95'>Café</span>
    <span class='ocrx_word' id='w2' title='bbox 100 22 210 50; x_wconf 93'><strong>ouvert</strong></span>
   </span>
  </div>
 </body>
</html>"#;

    #[test]
    fn words_and_lines_with_their_boxes() {
        let words = parse(PAGE, Granularity::Word).unwrap();
        assert_eq!(words.page, Some((500.0, 800.0)));
        assert_eq!(words.items.len(), 2);
        assert_eq!(words.items[1].text, "ouvert");
        assert_eq!(words.items[1].region, Some([100.0, 22.0, 110.0, 28.0]));
        assert_eq!(words.items[0].language.as_deref(), Some("fr"));
        let lines = parse(PAGE, Granularity::Line).unwrap();
        assert_eq!(lines.items[0].text, "Café ouvert");
        assert_eq!(lines.items[0].region, Some([10.0, 20.0, 200.0, 30.0]));
    }

    #[test]
    fn bad_files_say_why() {
        assert!(
            parse("<html><body>", Granularity::Word)
                .unwrap_err()
                .0
                .contains("well-formed")
        );
        assert!(
            parse("<html/>", Granularity::Word)
                .unwrap_err()
                .0
                .contains("no page")
        );
        let bad = PAGE.replace("bbox 100 22 210 50", "bbox 100 22");
        assert!(
            parse(&bad, Granularity::Word)
                .unwrap_err()
                .0
                .contains("bbox")
        );
    }
}
