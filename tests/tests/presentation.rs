//! IIIF Presentation 3.0 and 2.1 over real HTTP: single-asset manifests (image, audio, video,
//! other files) and what their ids dereference to, named-query manifests (a 300-page book
//! registered through one batch), collections split into trees, presentation settings, and the
//! HTTP rules (content types, CORS, ETag and 304). Every 3.0 document is checked against the
//! official JSON Schema; 2.1 documents get shape tests.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use vitrine_tests::conformance::{
    CONFORMANCE_DIR, assert_presentation_3, presentation_3, presentation_3_class, problems,
};
use vitrine_tests::images::grid_png;
use vitrine_tests::{Auth, Origin, TestApp, media_fixture};

struct Fetched {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

async fn fetch(app: &TestApp, path: &str) -> Fetched {
    fetch_with(app, path, &[]).await
}

async fn fetch_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Fetched {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        // the router's own 404 for paths no route matches is plain text
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Fetched {
        status,
        headers,
        body,
    }
}

/// Fetches a document that must exist and pass the Presentation 3 schema.
async fn valid_v3(app: &TestApp, path: &str) -> Fetched {
    let fetched = fetch(app, path).await;
    assert_eq!(fetched.status, 200, "{path}: {}", fetched.body);
    assert_presentation_3(&fetched.body);
    fetched
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(HeaderValue::to_str)
        .and_then(Result::ok)
        .unwrap_or_default()
}

/// The path part of one of the server's URLs.
fn path_of(app: &TestApp, url: &str) -> String {
    url.strip_prefix(&app.base_url)
        .unwrap_or_else(|| panic!("{url} is not on {}", app.base_url))
        .to_owned()
}

/// The fixtures the presentation-validator itself refuses (its Python `Draft7Validator` over
/// the same schema gives exactly this list): the `broken_*` ones and four more whose own
/// labels or contents show the mistake they carry.
const INVALID_FIXTURES: &[&str] = &[
    "broken_choice.json",
    "broken_collection.json",
    "broken_embedded_annos.json",
    "broken_service.json",
    "broken_simple_image.json",
    "collection_of_canvases.json",
    "non_cc_license.json",
    "old_format_label.json",
    "rights_lang_issues.json",
];

#[test]
fn the_schema_accepts_the_validators_good_fixtures_and_rejects_its_broken_ones() {
    let mut checked = 0;
    for entry in std::fs::read_dir(format!("{CONFORMANCE_DIR}/presentation3-fixtures")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let document: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let found = problems(presentation_3(), &document);
        if INVALID_FIXTURES.contains(&name.as_str()) {
            assert!(!found.is_empty(), "{name} should be refused");
        } else {
            assert!(found.is_empty(), "{name} should pass: {found:?}");
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} fixtures found");
}

/// Registers an image with metadata and waits for it.
async fn register_image_with(
    app: &TestApp,
    auth: &Auth,
    space: i64,
    id: &str,
    extra: Value,
) -> Value {
    let origin = app.add_master(&format!("{id}.png"), &grid_png(640, 480));
    let mut input = json!({ "id": id, "mediaType": "image/png", "origin": origin });
    input
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let response = app
        .graphql(
            auth,
            "mutation($s: Int!, $i: AssetInput!) {
                registerAsset(customer: \"acme\", space: $s, wait: true, input: $i) { id status error } }",
            json!({ "s": space, "i": input }),
        )
        .await;
    let asset = response.data()["registerAsset"].clone();
    assert_eq!(asset["status"], "READY", "{asset}");
    asset
}

#[tokio::test]
async fn an_image_manifest_validates_dereferences_and_follows_its_settings() {
    let app = TestApp::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "paintings").await;
    register_image_with(
        &app,
        &auth,
        space,
        "night watch",
        json!({ "string1": "SK-C-5", "number1": 1642, "tags": ["oil", "militia"] }),
    )
    .await;
    let path = format!("/iiif/manifest/3/acme/{space}/night%20watch");

    let fetched = valid_v3(&app, &path).await;
    let manifest = &fetched.body;
    assert_eq!(manifest["id"], app.url(&path));
    assert_eq!(manifest["label"], json!({ "none": ["night watch"] }));
    assert_eq!(
        header(&fetched.headers, "content-type"),
        "application/ld+json;profile=\"http://iiif.io/api/presentation/3/context.json\""
    );
    assert_eq!(header(&fetched.headers, "access-control-allow-origin"), "*");
    let metadata: Vec<(String, String)> = manifest["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["label"]["en"][0].as_str().unwrap().to_owned(),
                entry["value"]["none"][0].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        metadata,
        vec![
            ("Reference 1".to_owned(), "SK-C-5".to_owned()),
            ("Number 1".to_owned(), "1642".to_owned()),
            ("Tags".to_owned(), "oil, militia".to_owned()),
        ]
    );
    assert_eq!(
        manifest["partOf"][0]["id"],
        app.url(&format!("/iiif/collection/3/acme/{space}"))
    );

    // one canvas of the image's size, painted with a full/max image offering both services
    let canvas = &manifest["items"][0];
    assert_eq!(
        (canvas["width"].as_u64(), canvas["height"].as_u64()),
        (Some(640), Some(480))
    );
    let body = &canvas["items"][0]["items"][0]["body"];
    let service_3 = app.url(&format!("/iiif/3/acme/{space}/night%20watch"));
    assert_eq!(body["id"], format!("{service_3}/full/max/0/default.jpg"));
    assert_eq!(body["service"][0]["id"], service_3);
    assert_eq!(body["service"][0]["type"], "ImageService3");
    assert_eq!(body["service"][1]["@type"], "ImageService2");
    assert_eq!(
        app.client
            .get(body["id"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // the thumbnail is a stored size, answered by the image service
    let thumbnail = &manifest["thumbnail"][0];
    assert_eq!(
        (thumbnail["width"].as_u64(), thumbnail["height"].as_u64()),
        (Some(200), Some(150))
    );
    assert_eq!(
        app.client
            .get(thumbnail["id"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // every id dereferences to the same JSON, with its own context
    for embedded in [
        canvas.clone(),
        canvas["items"][0].clone(),
        canvas["items"][0]["items"][0].clone(),
    ] {
        let own = fetch(&app, &path_of(&app, embedded["id"].as_str().unwrap())).await;
        assert_eq!(own.status, 200, "{}", embedded["id"]);
        let mut without_context = own.body.clone();
        without_context.as_object_mut().unwrap().remove("@context");
        assert_eq!(without_context, embedded);
        assert_eq!(
            own.body["@context"],
            "http://iiif.io/api/presentation/3/context.json"
        );
    }
    // a page and an annotation are top-level classes of the schema; a canvas is checked as one
    let page = fetch(
        &app,
        &path_of(&app, canvas["items"][0]["id"].as_str().unwrap()),
    )
    .await;
    assert_presentation_3(&page.body);
    let painting = fetch(
        &app,
        &path_of(&app, canvas["items"][0]["items"][0]["id"].as_str().unwrap()),
    )
    .await;
    assert_presentation_3(&painting.body);
    let canvas_alone = fetch(&app, &path_of(&app, canvas["id"].as_str().unwrap())).await;
    let found = problems(&presentation_3_class("canvas"), &canvas_alone.body);
    assert!(found.is_empty(), "{found:?}");

    // caching: ETag and 304; plain JSON when asked for
    let tag = header(&fetched.headers, "etag").to_owned();
    assert!(!tag.is_empty());
    let again = fetch_with(&app, &path, &[("If-None-Match", &tag)]).await;
    assert_eq!(again.status, 304);
    let plain = fetch_with(&app, &path, &[("Accept", "application/json")]).await;
    assert_eq!(header(&plain.headers, "content-type"), "application/json");
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url(&path))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(preflight.headers(), "access-control-allow-origin"),
        "*"
    );

    // settings: the space's label template, rights and statement reach the manifest
    let updated = app
        .graphql(
            &auth,
            "mutation($s: Int!) { updateSpace(customer: \"acme\", id: $s, patch: {
                manifestLabelTemplate: \"{s1} ({n1})\",
                manifestSummaryTemplate: \"Object {s1} in space {space}\",
                rights: \"https://creativecommons.org/licenses/by/4.0/\",
                requiredStatement: {label: \"Attribution\", value: \"Rijksmuseum\"},
                metadata: [{label: \"Collection\", value: \"Paintings\"}] }) {
                presentation { rights manifestLabelTemplate requiredStatement { label value } } } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(
        updated.data()["updateSpace"]["presentation"]["rights"],
        "http://creativecommons.org/licenses/by/4.0/"
    );
    let customer = app
        .graphql(
            &auth,
            "mutation { updateCustomer(name: \"acme\", patch: {
                rights: \"http://rightsstatements.org/vocab/InC/1.0/\",
                requiredStatement: {label: \"Provider\", value: \"Acme\"} }) {
                presentation { rights } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        customer.data()["updateCustomer"]["presentation"]["rights"],
        "http://rightsstatements.org/vocab/InC/1.0/"
    );
    let changed = valid_v3(&app, &path).await;
    assert_ne!(header(&changed.headers, "etag"), tag);
    assert_eq!(changed.body["label"]["none"][0], "SK-C-5 (1642)");
    assert_eq!(
        changed.body["summary"]["none"][0],
        format!("Object SK-C-5 in space {space}")
    );
    // the space's settings win over the customer's
    assert_eq!(
        changed.body["rights"],
        "http://creativecommons.org/licenses/by/4.0/"
    );
    assert_eq!(
        changed.body["requiredStatement"]["value"]["none"][0],
        "Rijksmuseum"
    );
    let last = changed.body["metadata"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["label"]["none"][0], "Collection");

    // an asset change shows at once
    app.graphql(
        &auth,
        "mutation($s: Int!) { updateAsset(customer: \"acme\", space: $s, id: \"night watch\",
            patch: {string1: \"SK-C-6\"}) { id } }",
        json!({ "s": space }),
    )
    .await
    .data();
    let renamed = valid_v3(&app, &path).await;
    assert_eq!(renamed.body["label"]["none"][0], "SK-C-6 (1642)");

    // refused settings change nothing
    for (patch, code) in [
        ("rights: \"http://example.org/mine\"", "INVALID_INPUT"),
        ("manifestLabelTemplate: \"{Title}\"", "INVALID_INPUT"),
        ("behavior: [\"sideways\"]", "INVALID_INPUT"),
        ("viewingDirection: \"upwards\"", "INVALID_INPUT"),
        (
            "requiredStatement: {label: \"\", value: \"x\"}",
            "INVALID_NAME",
        ),
        ("name: \"paintings\", rights: \"nonsense\"", "INVALID_INPUT"),
    ] {
        let refused = app
            .graphql(
                &auth,
                &format!(
                    "mutation($s: Int!) {{ updateSpace(customer: \"acme\", id: $s, patch: {{ {patch} }}) {{ id }} }}"
                ),
                json!({ "s": space }),
            )
            .await;
        refused.expect_error(code);
    }
    let unchanged = fetch(&app, &path).await;
    assert_eq!(
        header(&unchanged.headers, "etag"),
        header(&renamed.headers, "etag")
    );
    // null clears a setting
    app.graphql(
        &auth,
        "mutation($s: Int!) { updateSpace(customer: \"acme\", id: $s, patch: {manifestLabelTemplate: null}) { id } }",
        json!({ "s": space }),
    )
    .await
    .data();
    assert_eq!(
        valid_v3(&app, &path).await.body["label"]["none"][0],
        "night watch"
    );

    // Presentation 2.1: the shape of IIIF-REFERENCE §2.8
    let path_2 = format!("/iiif/manifest/2/acme/{space}/night%20watch");
    let v2 = fetch(&app, &path_2).await;
    assert_eq!(v2.status, 200);
    assert_eq!(header(&v2.headers, "content-type"), "application/json");
    let manifest_2 = &v2.body;
    assert_eq!(
        manifest_2["@context"],
        "http://iiif.io/api/presentation/2/context.json"
    );
    assert_eq!(manifest_2["@id"], app.url(&path_2));
    assert_eq!(manifest_2["@type"], "sc:Manifest");
    assert_eq!(manifest_2["label"], "night watch");
    assert_eq!(
        manifest_2["license"],
        "http://creativecommons.org/licenses/by/4.0/"
    );
    assert_eq!(manifest_2["attribution"], "Rijksmuseum");
    assert_eq!(
        manifest_2["within"],
        app.url(&format!("/iiif/collection/2/acme/{space}"))
    );
    let sequence = &manifest_2["sequences"][0];
    assert_eq!(sequence["@type"], "sc:Sequence");
    let canvas_2 = &sequence["canvases"][0];
    assert_eq!(canvas_2["@type"], "sc:Canvas");
    assert_eq!(
        (canvas_2["width"].as_u64(), canvas_2["height"].as_u64()),
        (Some(640), Some(480))
    );
    let image = &canvas_2["images"][0];
    assert_eq!(image["@type"], "oa:Annotation");
    assert_eq!(image["motivation"], "sc:painting");
    assert_eq!(image["on"], canvas_2["@id"]);
    assert_eq!(image["resource"]["@type"], "dctypes:Image");
    let service_2 = app.url(&format!("/iiif/2/acme/{space}/night%20watch"));
    assert_eq!(
        image["resource"]["@id"],
        format!("{service_2}/full/full/0/default.jpg")
    );
    assert_eq!(image["resource"]["service"]["@id"], service_2);
    assert_eq!(
        image["resource"]["service"]["profile"],
        "http://iiif.io/api/image/2/level2.json"
    );
    assert!(manifest_2.get("items").is_none() && manifest_2.get("id").is_none());
    let canvas_2_own = fetch(&app, &path_of(&app, canvas_2["@id"].as_str().unwrap())).await;
    assert_eq!(canvas_2_own.body["@type"], "sc:Canvas");
    let list = fetch(
        &app,
        &format!("{}/page", path_of(&app, canvas_2["@id"].as_str().unwrap())),
    )
    .await;
    assert_eq!(list.body["@type"], "sc:AnnotationList");
    assert_eq!(list.body["resources"][0], *image);

    // bad addresses: clear 404s with a code, never a 500
    for bad in [
        format!("/iiif/manifest/3/acme/{space}/missing"),
        "/iiif/manifest/3/acme/999/night%20watch".to_owned(),
        "/iiif/manifest/3/acme/x/night%20watch".to_owned(),
        format!("/iiif/manifest/3/nobody/{space}/night%20watch"),
        format!("/iiif/manifest/3/acme/{space}/night%20watch/canvas/other"),
        format!("/iiif/manifest/4/acme/{space}/night%20watch"),
    ] {
        let response = fetch(&app, &bad).await;
        assert_eq!(response.status, 404, "{bad}");
    }
    let missing = fetch(&app, &format!("/iiif/manifest/3/acme/{space}/missing")).await;
    assert_eq!(missing.body["code"], "not-found");
}

#[tokio::test]
async fn audio_video_files_and_unready_assets_get_the_canvases_they_need() {
    let app = TestApp::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "av").await;
    for (id, media_type, fixture) in [
        ("song", "audio/mpeg", "audio-cbr.mp3"),
        ("film", "video/mp4", "video-h264-aac.mp4"),
        ("report", "application/pdf", "doc.pdf"),
    ] {
        let asset = app
            .register_file(
                &auth,
                "acme",
                space,
                id,
                media_type,
                &media_fixture(fixture),
            )
            .await;
        assert_eq!(asset["status"], "READY", "{asset}");
    }

    let song = valid_v3(&app, &format!("/iiif/manifest/3/acme/{space}/song"))
        .await
        .body;
    let canvas = &song["items"][0];
    let duration = canvas["duration"].as_f64().unwrap();
    assert!(duration > 0.0 && canvas.get("width").is_none(), "{canvas}");
    let body = &canvas["items"][0]["items"][0]["body"];
    assert_eq!(body["type"], "Sound");
    assert_eq!(body["format"], "audio/mpeg");
    assert_eq!(body["duration"].as_f64(), Some(duration));
    assert_eq!(
        app.client
            .get(body["id"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let film = valid_v3(&app, &format!("/iiif/manifest/3/acme/{space}/film"))
        .await
        .body;
    let canvas = &film["items"][0];
    assert_eq!(
        (canvas["width"].as_u64(), canvas["height"].as_u64()),
        (Some(64), Some(48))
    );
    assert!(canvas["duration"].as_f64().unwrap() > 1.0);
    let body = &canvas["items"][0]["items"][0]["body"];
    assert_eq!(body["type"], "Video");
    assert_eq!(body["format"], "video/mp4");
    assert!(body["id"].as_str().unwrap().ends_with("/film/original.mp4"));

    let report = valid_v3(&app, &format!("/iiif/manifest/3/acme/{space}/report"))
        .await
        .body;
    let canvas = &report["items"][0];
    assert_eq!(
        canvas["items"][0]["items"],
        json!([]),
        "a placeholder paints nothing"
    );
    let rendering = &report["rendering"][0];
    assert_eq!(rendering["format"], "application/pdf");
    assert_eq!(rendering["type"], "Text");
    assert_eq!(
        app.client
            .get(rendering["id"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let painting = fetch(
        &app,
        &format!("/iiif/manifest/3/acme/{space}/report/canvas/page/painting"),
    )
    .await;
    assert_eq!(painting.status, 404);

    // 2.1 cannot paint sound: the recording is offered in rendering on a sized canvas
    let song_2 = fetch(&app, &format!("/iiif/manifest/2/acme/{space}/song"))
        .await
        .body;
    let canvas_2 = &song_2["sequences"][0]["canvases"][0];
    assert!(canvas_2["width"].as_u64().unwrap() > 0);
    assert_eq!(canvas_2["images"], json!([]));
    assert_eq!(canvas_2["rendering"][0]["@type"], "dctypes:Sound");

    // an asset still waiting for processing is a 404 that says so
    let waiting = app
        .graphql(
            &auth,
            "mutation($s: Int!) { registerAsset(customer: \"acme\", space: $s,
                input: {id: \"later\", mediaType: \"image/png\", origin: \"https://example.org/later.png\"}) { status } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(waiting.data()["registerAsset"]["status"], "WAITING");
    let pending = fetch(&app, &format!("/iiif/manifest/3/acme/{space}/later")).await;
    assert_eq!(pending.status, 404);
    assert!(
        pending.body["message"]
            .as_str()
            .unwrap()
            .contains("still being processed"),
        "{}",
        pending.body
    );
}

async fn wait_for_batch(app: &TestApp, auth: &Auth, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let response = app
            .graphql(
                auth,
                "query($id: Int!) { batch(customer: \"acme\", id: $id) { count completed errors finished } }",
                json!({ "id": id }),
            )
            .await;
        let batch = response.data()["batch"].clone();
        if batch["finished"].is_string() {
            return batch;
        }
        assert!(Instant::now() < deadline, "batch never finished: {batch}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn canvas_asset_ids(manifest: &Value) -> Vec<String> {
    manifest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|canvas| {
            let id = canvas["id"].as_str().unwrap();
            let trimmed = id.strip_suffix("/canvas").unwrap();
            trimmed.rsplit('/').next().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_book_of_300_pages_from_one_batch_is_one_paged_manifest_in_page_order() {
    let app = TestApp::builder()
        .workers(2)
        .config(|config| config.allow_private_origins = true)
        .start()
        .await;
    let origin = Origin::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "books").await;

    // pages registered out of order; string2 holds the table of contents
    let page_image = grid_png(48, 64);
    let mut members = Vec::new();
    for n in (1..=300).rev() {
        let url = origin.add(&format!("page-{n}.png"), "image/png", page_image.clone());
        let chapter = match n {
            1..=100 => "Part 1|||Chapter 1",
            101..=200 => "Part 1|||Chapter 2",
            _ => "Part 2",
        };
        members.push(json!({
            "space": space, "id": format!("b1-{n:03}"), "mediaType": "image/png", "origin": url,
            "string1": "b1", "string2": chapter, "number1": n,
        }));
    }
    // another book's page, which must stay out
    let other = origin.add("other.png", "image/png", page_image.clone());
    members.push(
        json!({ "space": space, "id": "b2-001", "mediaType": "image/png",
        "origin": other, "string1": "b2", "number1": 1 }),
    );
    let created = app
        .graphql(
            &auth,
            "mutation($m: [BatchMemberInput!]!) { createBatch(customer: \"acme\", members: $m) { id } }",
            json!({ "m": members }),
        )
        .await;
    let batch_id = created.data()["createBatch"]["id"].as_i64().unwrap();
    let batch = wait_for_batch(&app, &auth, batch_id).await;
    assert_eq!(
        (batch["completed"].as_i64(), batch["errors"].as_i64()),
        (Some(301), Some(0))
    );

    let query = app
        .graphql(
            &auth,
            "mutation { createNamedQuery(customer: \"acme\", input: {name: \"book\",
                template: \"space=p1&s1=p2&canvas=n1&label=Book {p2}&behavior=paged\"}) {
                name parameters manifest manifest2 } }",
            json!({}),
        )
        .await;
    let query = query.data()["createNamedQuery"].clone();
    assert_eq!(query["parameters"], 2);
    assert_eq!(
        query["manifest"],
        app.url("/iiif/query/3/acme/book/{p1}/{p2}")
    );
    assert_eq!(
        query["manifest2"],
        app.url("/iiif/query/2/acme/book/{p1}/{p2}")
    );

    let path = format!("/iiif/query/3/acme/book/{space}/b1");
    let fetched = valid_v3(&app, &path).await;
    let manifest = &fetched.body;
    assert_eq!(manifest["id"], app.url(&path));
    assert_eq!(manifest["label"]["none"][0], "Book b1");
    assert_eq!(manifest["behavior"], json!(["paged"]));
    let expected: Vec<String> = (1..=300).map(|n| format!("b1-{n:03}")).collect();
    assert_eq!(canvas_asset_ids(manifest), expected);
    // canvases are the single-asset manifests' canvases, and dereference
    let first_canvas = manifest["items"][0]["id"].as_str().unwrap();
    assert_eq!(
        first_canvas,
        app.url(&format!("/iiif/manifest/3/acme/{space}/b1-001/canvas"))
    );
    assert_eq!(fetch(&app, &path_of(&app, first_canvas)).await.status, 200);
    // the space name works as the space parameter too
    let by_name = valid_v3(&app, "/iiif/query/3/acme/book/books/b1").await;
    assert_eq!(canvas_asset_ids(&by_name.body).len(), 300);

    // GraphQL preview lists the same assets
    let preview = app
        .graphql(
            &auth,
            "query($p: [String!]!) { namedQuery(customer: \"acme\", name: \"book\") {
                preview(parameters: $p, first: 300) { id } } }",
            json!({ "p": [space.to_string(), "b1"] }),
        )
        .await;
    let previewed: Vec<String> = preview.data()["namedQuery"]["preview"]
        .as_array()
        .unwrap()
        .iter()
        .map(|asset| asset["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(previewed, expected);

    // swapping two pages' number1 swaps their canvases
    for (id, number) in [("b1-002", 3), ("b1-003", 2)] {
        app.graphql(
            &auth,
            "mutation($s: Int!, $id: String!, $n: Int!) { updateAsset(customer: \"acme\", space: $s, id: $id,
                patch: {number1: $n}) { id } }",
            json!({ "s": space, "id": id, "n": number }),
        )
        .await
        .data();
    }
    let reordered = valid_v3(&app, &path).await;
    assert_ne!(
        header(&reordered.headers, "etag"),
        header(&fetched.headers, "etag")
    );
    assert_eq!(
        &canvas_asset_ids(&reordered.body)[..4],
        ["b1-001", "b1-003", "b1-002", "b1-004"]
    );

    // a table of contents from string2, with Part 1 nesting two chapters
    app.graphql(
        &auth,
        "mutation { updateCustomer(name: \"acme\", patch: {rangeField: STRING2, viewingDirection: \"right-to-left\"}) { name } }",
        json!({}),
    )
    .await
    .data();
    let with_toc = valid_v3(&app, &path).await.body;
    assert_eq!(with_toc["viewingDirection"], "right-to-left");
    let structures = with_toc["structures"].as_array().unwrap();
    let labels: Vec<&str> = structures
        .iter()
        .map(|range| range["label"]["none"][0].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Part 1", "Part 2"]);
    let chapters = structures[0]["items"].as_array().unwrap();
    assert_eq!(chapters.len(), 2);
    assert_eq!(chapters[1]["label"]["none"][0], "Chapter 2");
    assert_eq!(chapters[1]["items"].as_array().unwrap().len(), 100);
    assert_eq!(structures[1]["items"].as_array().unwrap().len(), 100);
    assert_eq!(structures[1]["items"][0]["type"], "Canvas");
    assert!(
        structures[0]["id"]
            .as_str()
            .unwrap()
            .starts_with(&app.url(&path))
    );

    // 2.1: one sequence in the same order, ranges flattened with the outer ones marked top
    let v2 = fetch(&app, &format!("/iiif/query/2/acme/book/{space}/b1"))
        .await
        .body;
    assert_eq!(v2["viewingHint"], "paged");
    assert_eq!(v2["viewingDirection"], "right-to-left");
    assert_eq!(
        v2["sequences"][0]["canvases"].as_array().unwrap().len(),
        300
    );
    let ranges_2 = v2["structures"].as_array().unwrap();
    assert_eq!(ranges_2.len(), 4);
    assert_eq!(
        ranges_2
            .iter()
            .filter(|range| range["viewingHint"] == "top")
            .count(),
        2
    );
    assert_eq!(ranges_2[0]["ranges"].as_array().unwrap().len(), 2);

    // bad requests and bad templates
    for (bad, status) in [
        ("/iiif/query/3/acme/nothing/1/b1".to_owned(), 404),
        (format!("/iiif/query/3/acme/book/{space}"), 400),
        (format!("/iiif/query/3/acme/book/{space}/b1/extra"), 400),
        (format!("/iiif/query/3/acme/book/{space}/no-such-book"), 404),
        ("/iiif/query/3/acme/book/999/b1".to_owned(), 404),
        ("/iiif/query/3/nobody/book/1/b1".to_owned(), 404),
    ] {
        let response = fetch(&app, &bad).await;
        assert_eq!(response.status, status, "{bad}: {}", response.body);
        assert!(response.body["message"].is_string());
    }
    for (template, code) in [
        ("s1=p2", "INVALID_INPUT"),
        ("colour=red", "INVALID_INPUT"),
        ("s1=p1&canvas=height", "INVALID_INPUT"),
    ] {
        app.graphql(
            &auth,
            "mutation($t: String!) { createNamedQuery(customer: \"acme\", input: {name: \"bad\", template: $t}) { name } }",
            json!({ "t": template }),
        )
        .await
        .expect_error(code);
    }
    app.graphql(
        &auth,
        "mutation { createNamedQuery(customer: \"acme\", input: {name: \"book\", template: \"s1=p1\"}) { name } }",
        json!({}),
    )
    .await
    .expect_error("CONFLICT");
    app.graphql(
        &auth,
        "mutation { createNamedQuery(customer: \"acme\", input: {name: \"a/b\", template: \"s1=p1\"}) { name } }",
        json!({}),
    )
    .await
    .expect_error("INVALID_NAME");
    let listed = app
        .graphql(
            &auth,
            "{ customer(name: \"acme\") { namedQueries { name template } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed.data()["customer"]["namedQueries"],
        json!([{ "name": "book", "template": "space=p1&s1=p2&canvas=n1&label=Book {p2}&behavior=paged" }])
    );

    // a template change and a rename take effect; deletion makes the URL a 404
    let renamed = app
        .graphql(
            &auth,
            "mutation { updateNamedQuery(customer: \"acme\", name: \"book\",
                input: {name: \"volume\", template: \"s1=p1&canvas=n1 desc\"}) { name parameters } }",
            json!({}),
        )
        .await;
    assert_eq!(renamed.data()["updateNamedQuery"]["parameters"], 1);
    assert_eq!(fetch(&app, &path).await.status, 404);
    let descending = valid_v3(&app, "/iiif/query/3/acme/volume/b1").await.body;
    assert_eq!(canvas_asset_ids(&descending)[0], "b1-300");
    app.graphql(
        &auth,
        "mutation { deleteNamedQuery(customer: \"acme\", name: \"volume\") }",
        json!({}),
    )
    .await
    .data();
    assert_eq!(
        fetch(&app, "/iiif/query/3/acme/volume/b1").await.status,
        404
    );
}

#[tokio::test]
async fn big_spaces_become_a_tree_of_collections_that_all_validate() {
    let app = TestApp::builder()
        .config(|config| config.collection_max_items = 3)
        .start()
        .await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "prints").await;
    app.create_space(&auth, "acme", "empty").await;
    for n in 1..=7 {
        let extra = if n <= 2 {
            json!({ "string1": "café set/1", "number1": 3 - n })
        } else {
            json!({})
        };
        register_image_with(&app, &auth, space, &format!("print-{n}"), extra).await;
    }

    // named-query parameters are path segments: encoded in ids, decoded when read
    app.graphql(
        &auth,
        "mutation { createNamedQuery(customer: \"acme\", input: {name: \"set\", template: \"s1=p1\"}) { name } }",
        json!({}),
    )
    .await
    .data();
    let encoded = "/iiif/query/3/acme/set/caf%C3%A9%20set%2F1";
    let set = valid_v3(&app, encoded).await.body;
    assert_eq!(set["id"], app.url(encoded));
    assert_eq!(canvas_asset_ids(&set), ["print-2", "print-1"]);

    // 7 assets, 3 per collection: the root lists parts, each part lists manifests
    let root_path = format!("/iiif/collection/3/acme/{space}");
    let root = valid_v3(&app, &root_path).await.body;
    assert_eq!(root["label"]["none"][0], "prints");
    assert_eq!(root["behavior"], json!(["multi-part"]));
    assert_eq!(root["partOf"][0]["id"], app.url("/iiif/collection/3/acme"));
    let parts: Vec<String> = root["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            assert_eq!(item["type"], "Collection");
            item["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(parts.len(), 3);
    let mut listed = Vec::new();
    for part in &parts {
        let part_document = valid_v3(&app, &path_of(&app, part)).await.body;
        assert_eq!(part_document["partOf"][0]["id"], app.url(&root_path));
        for item in part_document["items"].as_array().unwrap() {
            assert_eq!(item["type"], "Manifest");
            assert!(item["thumbnail"][0]["id"].is_string());
            let manifest = path_of(&app, item["id"].as_str().unwrap());
            assert_eq!(fetch(&app, &manifest).await.status, 200);
            listed.push(item["label"]["none"][0].as_str().unwrap().to_owned());
        }
    }
    let expected: Vec<String> = (1..=7).map(|n| format!("print-{n}")).collect();
    assert_eq!(listed, expected);
    for missing in ["part/1/3", "part/2/0", "part/0/0", "part/x/1"] {
        assert_eq!(
            fetch(&app, &format!("{root_path}/{missing}")).await.status,
            404,
            "{missing}"
        );
    }

    // the customer's collection lists its spaces
    let customer = valid_v3(&app, "/iiif/collection/3/acme").await.body;
    let spaces: Vec<&str> = customer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["label"]["none"][0].as_str().unwrap())
        .collect();
    assert_eq!(spaces, ["prints", "empty"]);
    let empty = valid_v3(
        &app,
        &path_of(&app, customer["items"][1]["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(empty.body["items"], json!([]));

    // 2.1 collections
    let v2 = fetch(&app, &format!("/iiif/collection/2/acme/{space}"))
        .await
        .body;
    assert_eq!(v2["@type"], "sc:Collection");
    assert_eq!(v2["collections"].as_array().unwrap().len(), 3);
    let leaf_2 = fetch(
        &app,
        &path_of(&app, v2["collections"][0]["@id"].as_str().unwrap()),
    )
    .await
    .body;
    assert_eq!(leaf_2["manifests"].as_array().unwrap().len(), 3);
    assert_eq!(leaf_2["manifests"][0]["@type"], "sc:Manifest");
    assert_eq!(fetch(&app, "/iiif/collection/3/nobody").await.status, 404);
    assert_eq!(fetch(&app, "/iiif/collection/3/acme/999").await.status, 404);
}
