//! Annotations over real HTTP: created, changed and deleted through GraphQL with their rules,
//! listed on the asset, and published as a Presentation 3.0 annotation page whose every
//! annotation dereferences and passes the official schema.

use serde_json::{Value, json};
use vitrine_tests::conformance::{assert_presentation_3, presentation_3_class, problems};
use vitrine_tests::images::grid_png;
use vitrine_tests::{Auth, TestApp, media_fixture};

const CREATE: &str = "mutation($s: Int!, $a: String!, $i: AnnotationInput!) {
    createAnnotation(customer: \"acme\", space: $s, asset: $a, input: $i) {
        id motivation value format language region { x y w h } time { start end } creator url } }";

async fn create(app: &TestApp, auth: &Auth, space: i64, asset: &str, input: Value) -> Value {
    app.graphql(auth, CREATE, json!({ "s": space, "a": asset, "i": input }))
        .await
        .body
}

#[tokio::test]
async fn annotations_are_checked_listed_and_published_as_a_page() {
    let app = TestApp::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "letters").await;
    let image = app
        .register_image(&auth, "acme", space, "letter", &grid_png(400, 300))
        .await;
    assert_eq!(image["status"], "READY");
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

    let word = create(
        &app,
        &auth,
        space,
        "letter",
        json!({ "motivation": "supplementing", "value": "Dearest", "language": "en",
                "region": { "x": 10, "y": 20, "w": 100, "h": 30 }, "creator": "Transcriber" }),
    )
    .await;
    let word = &word["data"]["createAnnotation"];
    assert_eq!(word["format"], "text/plain");
    let comment = create(
        &app,
        &auth,
        space,
        "letter",
        json!({ "value": "A <b>fine</b> hand", "format": "text/html" }),
    )
    .await;
    assert_eq!(
        comment["data"]["createAnnotation"]["motivation"],
        "commenting"
    );
    let caption = create(
        &app,
        &auth,
        space,
        "song",
        json!({ "motivation": "supplementing", "value": "First verse", "time": { "start": 0.5, "end": 1.5 } }),
    )
    .await;
    assert!(caption["errors"].is_null(), "{caption}");

    // bad input: a clear code, nothing written
    for (asset, input, code) in [
        ("letter", json!({ "value": "" }), "INVALID_INPUT"),
        (
            "letter",
            json!({ "value": "x", "motivation": "shouting" }),
            "INVALID_INPUT",
        ),
        (
            "letter",
            json!({ "value": "x", "format": "application/pdf" }),
            "INVALID_INPUT",
        ),
        (
            "letter",
            json!({ "value": "x", "language": "english" }),
            "INVALID_INPUT",
        ),
        (
            "letter",
            json!({ "value": "x", "region": { "x": 350, "y": 0, "w": 100, "h": 10 } }),
            "INVALID_INPUT",
        ),
        (
            "letter",
            json!({ "value": "x", "region": { "x": 0, "y": 0, "w": 0, "h": 10 } }),
            "INVALID_INPUT",
        ),
        (
            "letter",
            json!({ "value": "x", "time": { "start": 0, "end": 1 } }),
            "INVALID_INPUT",
        ),
        (
            "song",
            json!({ "value": "x", "region": { "x": 0, "y": 0, "w": 1, "h": 1 } }),
            "INVALID_INPUT",
        ),
        (
            "song",
            json!({ "value": "x", "time": { "start": 2, "end": 1 } }),
            "INVALID_INPUT",
        ),
        (
            "song",
            json!({ "value": "x", "time": { "start": 0, "end": 9999 } }),
            "INVALID_INPUT",
        ),
        ("missing", json!({ "value": "x" }), "NOT_FOUND"),
    ] {
        let response = app
            .graphql(&auth, CREATE, json!({ "s": space, "a": asset, "i": input }))
            .await;
        response.expect_error(code);
    }
    let listed = app
        .graphql(
            &auth,
            "query($s: Int!) { asset(customer: \"acme\", space: $s, id: \"letter\") {
                annotationPage
                all: annotations { totalCount edges { node { id value } } }
                words: annotations(motivation: \"supplementing\") { totalCount } } }",
            json!({ "s": space }),
        )
        .await;
    let asset = &listed.data()["asset"];
    assert_eq!(asset["all"]["totalCount"], 2);
    assert_eq!(asset["words"]["totalCount"], 1);
    assert_eq!(asset["all"]["edges"][0]["node"]["value"], "Dearest");

    // the published page: every annotation validates and dereferences
    let page_url = asset["annotationPage"].as_str().unwrap().to_owned();
    let (status, page) = app.get_json(&page_url).await;
    assert_eq!(status, 200, "{page}");
    assert_presentation_3(&page);
    assert_eq!(page["id"], page_url);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let canvas = app.url(&format!("/iiif/manifest/3/acme/{space}/letter/canvas"));
    assert_eq!(items[0]["target"], format!("{canvas}#xywh=10,20,100,30"));
    assert_eq!(items[0]["body"]["value"], "Dearest");
    assert_eq!(items[0]["body"]["language"], "en");
    assert_eq!(items[1]["target"], canvas);
    let annotation_class = presentation_3_class("annotation");
    for item in items {
        assert!(problems(&annotation_class, item).is_empty(), "{item}");
        let (status, own) = app.get_json(item["id"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        assert_presentation_3(&own);
        assert_eq!(own["body"], item["body"]);
    }
    assert_eq!(items[0]["id"], word["url"]);
    let song_page = app
        .get_json(&app.url(&format!("/iiif/annotations/3/acme/{space}/song")))
        .await
        .1;
    assert_presentation_3(&song_page);
    assert!(
        song_page["items"][0]["target"]
            .as_str()
            .unwrap()
            .ends_with("/song/canvas#t=0.5,1.5")
    );

    // changes: a patch is checked as a whole; null clears
    let id = word["id"].as_i64().unwrap();
    let moved = app
        .graphql(
            &auth,
            "mutation($id: Int!) { updateAnnotation(customer: \"acme\", id: $id,
                patch: {value: \"Dearest Anne\", region: null}) { value region { x } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(moved.data()["updateAnnotation"]["value"], "Dearest Anne");
    assert!(moved.data()["updateAnnotation"]["region"].is_null());
    app.graphql(
        &auth,
        "mutation($id: Int!) { updateAnnotation(customer: \"acme\", id: $id,
            patch: {region: {x: 0, y: 0, w: 401, h: 1}}) { id } }",
        json!({ "id": id }),
    )
    .await
    .expect_error("INVALID_INPUT");
    let (_, after) = app.get_json(&page_url).await;
    assert_eq!(after["items"][0]["body"]["value"], "Dearest Anne");
    assert_eq!(after["items"][0]["target"], canvas);

    // another customer can neither change nor delete it
    let rival = app.customer_with_key("rival").await;
    app.graphql(
        &rival,
        "mutation($id: Int!) { deleteAnnotation(customer: \"acme\", id: $id) }",
        json!({ "id": id }),
    )
    .await
    .expect_error("FORBIDDEN");
    app.graphql(
        &rival,
        "mutation($id: Int!) { deleteAnnotation(customer: \"rival\", id: $id) }",
        json!({ "id": id }),
    )
    .await
    .expect_error("NOT_FOUND");
    app.graphql(
        &auth,
        "mutation($id: Int!) { deleteAnnotation(customer: \"acme\", id: $id) }",
        json!({ "id": id }),
    )
    .await
    .data();
    let (status, _) = app.get_json(word["url"].as_str().unwrap()).await;
    assert_eq!(status, 404);

    // deleting the asset deletes its annotations
    app.graphql(
        &auth,
        "mutation($s: Int!) { deleteAsset(customer: \"acme\", space: $s, id: \"song\") }",
        json!({ "s": space }),
    )
    .await
    .data();
    let (status, _) = app
        .get_json(&app.url(&format!("/iiif/annotations/3/acme/{space}/song")))
        .await;
    assert_eq!(status, 404);
    app.register_file(
        &auth,
        "acme",
        space,
        "song",
        "audio/mpeg",
        &media_fixture("audio-cbr.mp3"),
    )
    .await;
    let (status, again) = app
        .get_json(&app.url(&format!("/iiif/annotations/3/acme/{space}/song")))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        again["items"],
        json!([]),
        "a new asset under the same id starts bare"
    );
}
