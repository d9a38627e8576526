//! Content Search 2.0 and 1.0 and autocomplete over real HTTP: OCR imported from ALTO and
//! hOCR files written for these tests, hits with the exact scaled word boxes, phrases across
//! line breaks, named-query scopes, paging, filters, the services manifests declare, and the
//! bad inputs each surface refuses.

use serde_json::{Value, json};
use vitrine_tests::conformance::{presentation_3_class, problems};
use vitrine_tests::images::grid_png;
use vitrine_tests::{Auth, TestApp, media_fixture};

const IMPORT: &str = "mutation($s: Int!, $a: String!, $f: AnnotationFormat!, $c: String,
    $g: AnnotationGranularity, $l: String) {
    importAnnotations(customer: \"acme\", space: $s, asset: $a, format: $f, content: $c,
        granularity: $g, language: $l) { count } }";

/// A word of an ALTO line and its box: (text, x, y, w, h).
type Word<'a> = (&'a str, u32, u32, u32, u32);

/// An ALTO page of `width` x `height` units with lines of words.
fn alto(width: u32, height: u32, lines: &[&[Word]]) -> String {
    let mut text = String::new();
    for line in lines {
        text.push_str("<TextLine>");
        for (word, x, y, w, h) in *line {
            text.push_str(&format!(
                r#"<String CONTENT="{word}" HPOS="{x}" VPOS="{y}" WIDTH="{w}" HEIGHT="{h}"/><SP/>"#
            ));
        }
        text.push_str("</TextLine>\n");
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">
<Description><MeasurementUnit>pixel</MeasurementUnit></Description>
<Layout><Page ID="p" WIDTH="{width}" HEIGHT="{height}"><PrintSpace><TextBlock>
{text}</TextBlock></PrintSpace></Page></Layout></alto>"#
    )
}

async fn import(
    app: &TestApp,
    auth: &Auth,
    space: i64,
    asset: &str,
    format: &str,
    content: &str,
    granularity: &str,
) -> vitrine_tests::GraphqlResponse {
    app.graphql(
        auth,
        IMPORT,
        json!({ "s": space, "a": asset, "f": format, "c": content, "g": granularity }),
    )
    .await
}

async fn search_ok(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.get_json(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn values(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["body"]["value"].as_str().unwrap().to_owned())
        .collect()
}

fn hits(page: &Value) -> Vec<Value> {
    page["annotations"][0]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Checks the wrapper of a Search 2.0 page and each result against the Presentation 3 schema.
fn assert_search_page(page: &Value) {
    assert_eq!(page["@context"], "http://iiif.io/api/search/2/context.json");
    assert_eq!(page["type"], "AnnotationPage");
    assert_eq!(page["partOf"]["type"], "AnnotationCollection");
    assert!(page["partOf"]["first"]["id"].is_string(), "{page}");
    assert!(page["startIndex"].is_u64());
    let annotation = presentation_3_class("annotation");
    for item in page["items"].as_array().unwrap() {
        assert!(
            problems(&annotation, item).is_empty(),
            "{item}: {:?}",
            problems(&annotation, item)
        );
        assert_eq!(item["target"]["type"], "Canvas");
        assert_eq!(item["target"]["partOf"][0]["type"], "Manifest");
    }
    for hit in hits(page) {
        assert!(problems(&annotation, &hit).is_empty(), "{hit}");
    }
    if let Some(pages) = page["annotations"].as_array() {
        assert_eq!(pages.len(), 1, "one page of hit annotations");
    }
}

#[tokio::test]
async fn ocr_words_are_found_with_their_scaled_boxes() {
    let app = TestApp::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "letters").await;
    let page = app
        .register_image(&auth, "acme", space, "page", &grid_png(400, 300))
        .await;
    assert_eq!(page["status"], "READY");
    let plain = app
        .register_image(&auth, "acme", space, "plain", &grid_png(40, 30))
        .await;
    assert_eq!(plain["status"], "READY");

    // no annotations yet: the manifest offers no search
    let (_, manifest) = app
        .get_json(&format!("/iiif/manifest/3/acme/{space}/page"))
        .await;
    assert!(manifest["service"].is_null(), "{manifest}");

    // the ALTO page is twice the image's size: boxes halve
    let file = alto(
        800,
        600,
        &[
            &[
                ("The", 100, 100, 60, 40),
                ("Café", 180, 100, 120, 40),
                ("sold", 320, 100, 80, 40),
            ],
            &[("two", 100, 200, 70, 41), ("birds", 190, 200, 101, 40)],
            &[("birds", 100, 300, 100, 40), ("again", 220, 300, 100, 40)],
        ],
    );
    let imported = import(&app, &auth, space, "page", "ALTO", &file, "WORD").await;
    assert_eq!(imported.data()["importAnnotations"]["count"], 7);
    // a second import of the same format replaces the first
    let again = import(&app, &auth, space, "page", "ALTO", &file, "WORD").await;
    assert_eq!(again.data()["importAnnotations"]["count"], 7);
    let listed = app
        .graphql(
            &auth,
            "query($s: Int!) { asset(customer: \"acme\", space: $s, id: \"page\") { annotations { totalCount } } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(listed.data()["asset"]["annotations"]["totalCount"], 7);

    let search = format!("/iiif/search/2/acme/{space}/page");
    let found = search_ok(&app, &format!("{search}?q=birds")).await;
    assert_search_page(&found);
    assert_eq!(values(&found), ["birds", "birds"]);
    let canvas = app.url(&format!("/iiif/manifest/3/acme/{space}/page/canvas"));
    // 190,200 101x40 in the file: x 95, y 100, right ceil(291/2) = 146, bottom 120
    assert_eq!(
        found["items"][0]["target"]["id"],
        format!("{canvas}#xywh=95,100,51,20")
    );
    assert_eq!(
        found["items"][1]["target"]["id"],
        format!("{canvas}#xywh=50,150,50,20")
    );
    assert_eq!(
        found["items"][0]["target"]["partOf"][0]["id"],
        app.url(&format!("/iiif/manifest/3/acme/{space}/page"))
    );
    assert_eq!(found["partOf"]["total"], 2);
    let word_hits = hits(&found);
    assert_eq!(word_hits.len(), 2);
    assert_eq!(word_hits[0]["motivation"], "contextualizing");
    let selector = &word_hits[0]["target"]["selector"][0];
    assert_eq!(selector["type"], "TextQuoteSelector");
    assert_eq!(selector["exact"], "birds");
    assert_eq!(selector["prefix"], "The Café sold two ");
    assert_eq!(word_hits[0]["target"]["source"], found["items"][0]["id"]);
    // each result's id dereferences to that annotation
    let (status, own) = app
        .get_json(found["items"][0]["id"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    assert_eq!(own["body"]["value"], "birds");

    // case and accents do not matter; a phrase spans word annotations and a line break
    let cafe = search_ok(&app, &format!("{search}?q=CAFE")).await;
    assert_eq!(values(&cafe), ["Café"]);
    let phrase = search_ok(&app, &format!("{search}?q=%22birds%20birds%22")).await;
    assert_eq!(values(&phrase), ["birds", "birds"]);
    let phrase_hits = hits(&phrase);
    assert_eq!(phrase_hits.len(), 1, "{phrase}");
    assert_eq!(phrase_hits[0]["target"].as_array().unwrap().len(), 2);

    // unknown parameters are ignored and listed; motivation filters
    let ignored = search_ok(
        &app,
        &format!("{search}?q=birds&box=1&motivation=supplementing"),
    )
    .await;
    assert_eq!(ignored["ignored"], json!(["box"]));
    assert_eq!(values(&ignored).len(), 2);
    let commenting = search_ok(&app, &format!("{search}?q=birds&motivation=commenting")).await;
    assert!(values(&commenting).is_empty());
    let nothing = search_ok(&app, &format!("{search}?q=zebra")).await;
    assert_eq!(nothing["partOf"]["total"], 0);

    // Search 1.0
    let v1 = search_ok(&app, &format!("/iiif/search/1/acme/{space}/page?q=birds")).await;
    assert_eq!(v1["@type"], "sc:AnnotationList");
    assert_eq!(v1["within"]["total"], 2);
    assert_eq!(v1["resources"][0]["resource"]["chars"], "birds");
    assert_eq!(v1["resources"][0]["motivation"], "sc:painting");
    let on = &v1["resources"][0]["on"];
    assert_eq!(
        on["full"],
        app.url(&format!("/iiif/manifest/2/acme/{space}/page/canvas"))
    );
    assert_eq!(on["selector"]["value"], "xywh=95,100,51,20");
    assert_eq!(on["within"]["@type"], "sc:Manifest");
    assert_eq!(v1["hits"][0]["match"], "birds");
    assert_eq!(v1["hits"][0]["annotations"][0], v1["resources"][0]["@id"]);

    // autocomplete, both versions
    let terms = search_ok(
        &app,
        &format!("/iiif/autocomplete/2/acme/{space}/page?q=Bi"),
    )
    .await;
    assert_eq!(terms["type"], "TermPage");
    assert_eq!(terms["items"], json!([{ "value": "birds", "total": 2 }]));
    let rare = search_ok(
        &app,
        &format!("/iiif/autocomplete/2/acme/{space}/page?q=b&min=3"),
    )
    .await;
    assert_eq!(rare["items"], json!([]));
    let terms_1 = search_ok(
        &app,
        &format!("/iiif/autocomplete/1/acme/{space}/page?q=ca"),
    )
    .await;
    assert_eq!(terms_1["@type"], "search:TermList");
    assert_eq!(terms_1["terms"][0]["match"], "cafe");
    let (_, follow) = app
        .get_json(terms_1["terms"][0]["url"].as_str().unwrap())
        .await;
    assert_eq!(follow["resources"][0]["resource"]["chars"], "Café");

    // the manifests now declare both services, Search 1 by the profile Mirador looks for
    let (_, manifest) = app
        .get_json(&format!("/iiif/manifest/3/acme/{space}/page"))
        .await;
    let services = manifest["service"].as_array().unwrap();
    assert_eq!(services[0]["type"], "SearchService2");
    assert_eq!(services[0]["id"], app.url(&search));
    assert_eq!(services[0]["service"][0]["type"], "AutoCompleteService2");
    assert_eq!(services[1]["@type"], "SearchService1");
    // Search 1.0 declared in a Presentation 3 manifest answers with that manifest's canvases
    let search_1 = services[1]["@id"].as_str().unwrap();
    assert_eq!(
        search_1,
        app.url(&format!("/iiif/search/1p3/acme/{space}/page"))
    );
    let (_, v1_for_3) = app.get_json(&format!("{search_1}?q=birds")).await;
    assert_eq!(v1_for_3["resources"][0]["on"]["full"], canvas);
    assert_eq!(services[1]["profile"], "http://iiif.io/api/search/1/search");
    assert_eq!(
        services[1]["service"][0]["profile"],
        "http://iiif.io/api/search/1/autocomplete"
    );
    vitrine_tests::conformance::assert_presentation_3(&manifest);
    let (_, manifest_2) = app
        .get_json(&format!("/iiif/manifest/2/acme/{space}/page"))
        .await;
    assert_eq!(
        manifest_2["service"]["profile"],
        "http://iiif.io/api/search/1/search"
    );

    // bad input: a clear code, and nothing changes
    let broken = import(&app, &auth, space, "page", "ALTO", "<alto><Layout>", "WORD").await;
    assert!(
        broken
            .expect_error("INVALID_ANNOTATIONS")
            .contains("well-formed")
    );
    let no_size = alto(0, 0, &[&[("x", 1, 1, 1, 1)]]);
    import(&app, &auth, space, "page", "ALTO", &no_size, "WORD")
        .await
        .expect_error("INVALID_ANNOTATIONS");
    import(&app, &auth, space, "page", "HOCR", "<html/>", "WORD")
        .await
        .expect_error("INVALID_ANNOTATIONS");
    import(&app, &auth, space, "missing", "ALTO", &file, "WORD")
        .await
        .expect_error("NOT_FOUND");
    let neither = app
        .graphql(
            &auth,
            "mutation($s: Int!) { importAnnotations(customer: \"acme\", space: $s, asset: \"page\", format: W3C) { count } }",
            json!({ "s": space }),
        )
        .await;
    neither.expect_error("INVALID_INPUT");
    let outside = r#"[{"body": {"value": "far"}, "target": "c#xywh=390,290,50,50"}]"#;
    let refused = import(&app, &auth, space, "page", "W3C", outside, "WORD").await;
    assert!(
        refused
            .expect_error("INVALID_ANNOTATIONS")
            .contains("annotation 1")
    );
    let still = search_ok(&app, &format!("{search}?q=birds")).await;
    assert_eq!(values(&still).len(), 2);
    let other = app.customer_with_key("other").await;
    import(&app, &other, space, "page", "ALTO", &file, "WORD")
        .await
        .expect_error("FORBIDDEN");

    for (path, status) in [
        (format!("{search}?q=birds&page=2"), 400),
        (format!("{search}?q=birds&page=x"), 400),
        (format!("{search}?date=yesterday"), 400),
        (format!("/iiif/search/2/acme/{space}/nothing?q=birds"), 404),
        ("/iiif/search/2/acme/x/page?q=birds".to_owned(), 404),
        ("/iiif/search/2/nobody/1/page?q=birds".to_owned(), 404),
        (format!("/iiif/autocomplete/2/acme/{space}/page"), 400),
        (
            format!("/iiif/autocomplete/2/acme/{space}/page?q=b&min=-1"),
            400,
        ),
        ("/iiif/search/2/acme/query/nothing?q=birds".to_owned(), 404),
    ] {
        let (got, body) = app.get_json(&path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body["code"].is_string(), "{path}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn hocr_lines_give_one_highlight_across_a_line_break() {
    let app = TestApp::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "letters").await;
    app.register_image(&auth, "acme", space, "leaf", &grid_png(500, 800))
        .await;
    let hocr = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
 "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en"><body>
<div class="ocr_page" title="image &quot;leaf.tif&quot;; bbox 0 0 1000 1600">
 <span class="ocr_line" title="bbox 100 100 900 140">
  <span class="ocrx_word" title="bbox 100 100 300 140">Running</span>
  <span class="ocrx_word" title="bbox 320 100 500 140">along</span>
  <span class="ocrx_word" title="bbox 520 100 600 140">the</span>
 </span>
 <span class="ocr_line" title="bbox 100 200 900 240">
  <span class="ocrx_word" title="bbox 100 200 300 240">river</span>
  <span class="ocrx_word" title="bbox 320 200 500 240">bank</span>
 </span>
</div></body></html>"#;
    let imported = import(&app, &auth, space, "leaf", "HOCR", hocr, "LINE").await;
    assert_eq!(imported.data()["importAnnotations"]["count"], 2);
    let search = format!("/iiif/search/2/acme/{space}/leaf");
    let found = search_ok(&app, &format!("{search}?q=%22the%20river%22")).await;
    assert_search_page(&found);
    assert_eq!(values(&found), ["Running along the", "river bank"]);
    let canvas = app.url(&format!("/iiif/manifest/3/acme/{space}/leaf/canvas"));
    assert_eq!(
        found["items"][0]["target"]["id"],
        format!("{canvas}#xywh=50,50,400,20")
    );
    let highlights = hits(&found);
    assert_eq!(highlights.len(), 1, "{found}");
    assert_eq!(highlights[0]["motivation"], "highlighting");
    let targets = highlights[0]["target"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0]["source"], found["items"][0]["id"]);
    assert_eq!(targets[0]["selector"][0]["exact"], "the");
    assert_eq!(targets[0]["selector"][0]["prefix"], "Running along ");
    assert_eq!(targets[1]["selector"][0]["exact"], "river");
    assert_eq!(targets[1]["selector"][0]["suffix"], " bank");
    // the file's language (en) stems: "run" finds "Running"
    let stemmed = search_ok(&app, &format!("{search}?q=run")).await;
    assert_eq!(values(&stemmed), ["Running along the"]);
    let v1 = search_ok(
        &app,
        &format!("/iiif/search/1/acme/{space}/leaf?q=%22the%20river%22"),
    )
    .await;
    assert_eq!(v1["hits"][0]["annotations"].as_array().unwrap().len(), 2);
    assert_eq!(v1["hits"][0]["match"], "the river");
    assert_eq!(v1["hits"][0]["before"], "Running along ");
    app.stop().await;
}

#[tokio::test]
async fn a_named_query_is_searched_as_one_book_with_pages_of_100() {
    let app = TestApp::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "books").await;
    for (n, id) in ["p2", "p1", "other"].iter().enumerate() {
        app.register_image(&auth, "acme", space, id, &grid_png(200, 100))
            .await;
        let (book, number) = match *id {
            "p1" => ("b1", 1),
            "p2" => ("b1", 2),
            _ => ("b2", n as i64),
        };
        let updated = app
            .graphql(
                &auth,
                "mutation($s: Int!, $id: String!, $b: String!, $n: Int!) { updateAsset(customer: \"acme\", space: $s, id: $id,
                    patch: {string1: $b, number1: $n}) { id } }",
                json!({ "s": space, "id": id, "b": book, "n": number }),
            )
            .await;
        assert!(updated.body["errors"].is_null(), "{}", updated.body);
    }
    app.graphql(
        &auth,
        "mutation { createNamedQuery(customer: \"acme\", input: {name: \"book\",
            template: \"space=p1&s1=p2&canvas=n1&label=Book {p2}\"}) { name } }",
        json!({}),
    )
    .await;
    // 150 words on page 2, 1 on page 1, and one on the other book that must stay out
    let many: Vec<Word> = (0..150).map(|i| ("ship", i, 0, 1, 1)).collect();
    import(
        &app,
        &auth,
        space,
        "p2",
        "ALTO",
        &alto(200, 100, &[&many]),
        "WORD",
    )
    .await;
    let one = alto(
        200,
        100,
        &[&[("ship", 10, 10, 20, 10), ("ahoy", 40, 10, 20, 10)]],
    );
    import(&app, &auth, space, "p1", "ALTO", &one, "WORD").await;
    import(&app, &auth, space, "other", "ALTO", &one, "WORD").await;

    let (_, manifest) = app
        .get_json(&format!("/iiif/query/3/acme/book/{space}/b1"))
        .await;
    let search = manifest["service"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        search,
        app.url(&format!("/iiif/search/2/acme/query/book/{space}/b1"))
    );
    let first = search_ok(&app, &format!("{search}?q=ship")).await;
    assert_search_page(&first);
    assert_eq!(first["partOf"]["total"], 151);
    assert_eq!(first["items"].as_array().unwrap().len(), 100);
    assert_eq!(first["startIndex"], 0);
    // canvas order: page 1's word comes first, on page 1's canvas, part of the book
    let p1_canvas = app.url(&format!("/iiif/manifest/3/acme/{space}/p1/canvas"));
    assert!(
        first["items"][0]["target"]["id"]
            .as_str()
            .unwrap()
            .starts_with(&p1_canvas)
    );
    assert_eq!(
        first["items"][0]["target"]["partOf"][0]["id"],
        app.url(&format!("/iiif/query/3/acme/book/{space}/b1"))
    );
    assert_eq!(
        first["items"][0]["target"]["partOf"][0]["label"]["none"][0],
        "Book b1"
    );
    assert!(first["prev"].is_null());
    let next = first["next"]["id"].as_str().unwrap().to_owned();
    let second = search_ok(&app, &next).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 51);
    assert_eq!(second["startIndex"], 100);
    assert!(second["next"].is_null());
    assert_eq!(second["prev"]["id"], first["id"]);
    assert_eq!(second["partOf"]["last"]["id"], second["id"]);
    let v1 = search_ok(
        &app,
        &format!("/iiif/search/1/acme/query/book/{space}/b1?q=ahoy"),
    )
    .await;
    assert_eq!(v1["within"]["total"], 1);
    let terms = search_ok(
        &app,
        &format!("/iiif/autocomplete/2/acme/query/book/{space}/b1?q=sh"),
    )
    .await;
    assert_eq!(terms["items"], json!([{ "value": "ship", "total": 151 }]));
    app.stop().await;
}

#[tokio::test]
async fn captions_are_found_on_their_time_range() {
    let app = TestApp::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "sounds").await;
    let song = app
        .register_file(
            &auth,
            "acme",
            space,
            "song",
            "audio/mpeg",
            &media_fixture("audio-cbr.mp3"),
        )
        .await;
    assert_eq!(song["status"], "READY");
    let vtt = "WEBVTT\n\n00:00.500 --> 00:01.250\nThe first <i>verse</i>\n";
    let imported = import(&app, &auth, space, "song", "WEBVTT", vtt, "WORD").await;
    assert_eq!(imported.data()["importAnnotations"]["count"], 1);
    let found = search_ok(&app, &format!("/iiif/search/2/acme/{space}/song?q=verse")).await;
    assert_search_page(&found);
    assert!(
        found["items"][0]["target"]["id"]
            .as_str()
            .unwrap()
            .ends_with("/song/canvas#t=0.5,1.25")
    );
    assert_eq!(found["items"][0]["body"]["value"], "The first verse");
    let bad = import(
        &app,
        &auth,
        space,
        "song",
        "WEBVTT",
        "00:01.000 --> 00:02.000\nx",
        "WORD",
    )
    .await;
    bad.expect_error("INVALID_ANNOTATIONS");
    app.stop().await;
}
