//! ALTO (v2-v4): `Page` gives the page size, `TextLine` the lines, `String` the words with
//! `HPOS`, `VPOS`, `WIDTH`, `HEIGHT` in the file's measurement unit.

use roxmltree::Node;

use super::{FormatError, Granularity, OcrWord, Parsed, line_items, one_page, squeeze, xml};

fn number(node: Node, name: &str) -> Option<f64> {
    node.attribute(name)?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

fn rect(node: Node) -> Result<[f64; 4], FormatError> {
    match (
        number(node, "HPOS"),
        number(node, "VPOS"),
        number(node, "WIDTH"),
        number(node, "HEIGHT"),
    ) {
        (Some(x), Some(y), Some(w), Some(h)) if w >= 0.0 && h >= 0.0 => Ok([x, y, w, h]),
        _ => Err(FormatError::new(format!(
            "ALTO {} on line {} needs numeric HPOS, VPOS, WIDTH and HEIGHT",
            node.tag_name().name(),
            node.document().text_pos_at(node.range().start).row
        ))),
    }
}

pub(super) fn parse(content: &str, granularity: Granularity) -> Result<Parsed, FormatError> {
    let document = xml(content, "ALTO XML")?;
    let root = document.root_element();
    if root.tag_name().name() != "alto" {
        return Err(FormatError::new(format!(
            "expected an ALTO document (<alto>), found <{}>",
            root.tag_name().name()
        )));
    }
    let pages: Vec<Node> = root
        .descendants()
        .filter(|node| node.tag_name().name() == "Page")
        .collect();
    let page = one_page(pages, "ALTO")?;
    let size = match (number(page, "WIDTH"), number(page, "HEIGHT")) {
        (Some(w), Some(h)) if w > 0.0 && h > 0.0 => (w, h),
        _ => {
            return Err(FormatError::new(
                "the ALTO Page needs WIDTH and HEIGHT to scale its boxes",
            ));
        }
    };
    let language = |node: Node| -> Option<String> {
        node.ancestors()
            .find_map(|ancestor| ancestor.attribute("LANG"))
            .map(str::to_owned)
    };
    let mut items = Vec::new();
    for line in page
        .descendants()
        .filter(|node| node.tag_name().name() == "TextLine")
    {
        let mut words = Vec::new();
        let mut text = String::new();
        for child in line.children().filter(Node::is_element) {
            match child.tag_name().name() {
                "String" => {
                    let content = squeeze(child.attribute("CONTENT").unwrap_or_default());
                    if content.is_empty() {
                        continue;
                    }
                    let region = rect(child)?;
                    if !text.is_empty() {
                        text.push(' ');
                    }
                    text.push_str(&content);
                    words.push(OcrWord {
                        text: content,
                        region,
                        language: language(child),
                    });
                }
                "HYP" => text.push_str(child.attribute("CONTENT").unwrap_or("-")),
                _ => {}
            }
        }
        let line_box = match line.attribute("WIDTH") {
            Some(_) if !words.is_empty() => Some(rect(line)?),
            _ => None,
        };
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
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">
  <Description><MeasurementUnit>pixel</MeasurementUnit></Description>
  <Layout><Page ID="p1" WIDTH="1000" HEIGHT="2000"><PrintSpace>
    <TextBlock ID="b1" LANG="en">
      <TextLine HPOS="10" VPOS="20" WIDTH="300" HEIGHT="30">
        <String CONTENT="Two" HPOS="10" VPOS="20" WIDTH="90" HEIGHT="30"/><SP/>
        <String CONTENT="birds" HPOS="110" VPOS="22" WIDTH="200" HEIGHT="28"/>
      </TextLine>
      <TextLine HPOS="10" VPOS="60" WIDTH="120" HEIGHT="30">
        <String CONTENT="sing" HPOS="10" VPOS="60" WIDTH="120" HEIGHT="30"/>
      </TextLine>
    </TextBlock>
  </PrintSpace></Page></Layout>
</alto>"#;

    #[test]
    fn words_and_lines_with_their_boxes() {
        let words = parse(PAGE, Granularity::Word).unwrap();
        assert_eq!(words.page, Some((1000.0, 2000.0)));
        assert_eq!(words.items.len(), 3);
        assert_eq!(words.items[1].text, "birds");
        assert_eq!(words.items[1].region, Some([110.0, 22.0, 200.0, 28.0]));
        assert_eq!(words.items[1].language.as_deref(), Some("en"));
        let lines = parse(PAGE, Granularity::Line).unwrap();
        assert_eq!(lines.items.len(), 2);
        assert_eq!(lines.items[0].text, "Two birds");
        assert_eq!(lines.items[0].region, Some([10.0, 20.0, 300.0, 30.0]));
    }

    #[test]
    fn bad_files_say_why() {
        assert!(
            parse("<alto><Layout>", Granularity::Word)
                .unwrap_err()
                .0
                .contains("well-formed")
        );
        assert!(
            parse("<html/>", Granularity::Word)
                .unwrap_err()
                .0
                .contains("ALTO")
        );
        let no_size = PAGE.replace(r#" WIDTH="1000" HEIGHT="2000""#, "");
        assert!(
            parse(&no_size, Granularity::Word)
                .unwrap_err()
                .0
                .contains("WIDTH")
        );
        let bad_box = PAGE.replace(r#"HPOS="110""#, r#"HPOS="left""#);
        assert!(
            parse(&bad_box, Granularity::Word)
                .unwrap_err()
                .0
                .contains("HPOS")
        );
    }
}
