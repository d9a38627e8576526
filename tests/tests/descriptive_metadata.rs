//! Descriptive metadata and publishing over real HTTP: fields a space declares, values set
//! through GraphQL and CSV and checked against them, listing filters on them, manifests (3.0,
//! checked against the official schema, and 2.1) built from them with labels in several
//! languages, homepage and seeAlso from URL templates, the provider and its logo, and canvas
//! labels from a template; and unpublished assets and spaces, absent from every public route
//! until they are published again.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vitrine_tests::conformance::assert_presentation_3;
use vitrine_tests::images::grid_png;
use vitrine_tests::{Auth, TestApp};

const FIELDS: &str = r#"[
  { key: "title", label: [{language: "en", value: "Title"}, {language: "fr", value: "Titre"}],
    type: TEXT, required: true },
  { key: "creator", label: [{language: "en", value: "Creator"}], type: TEXT, multiple: true },
  { key: "made", label: [{language: "en", value: "Date"}], type: DATE },
  { key: "kind", label: [{language: "en", value: "Kind"}], type: CHOICE,
    options: ["map", "letter"] },
  { key: "description", label: [{language: "en", value: "Description"}], type: TEXT }
]"#;

/// A space declaring the fields above, with manifests described by them.
async fn described_space(app: &TestApp, auth: &Auth) -> i64 {
    let space = app.create_space(auth, "acme", "atlases").await;
    described_fields(app, auth, space).await;
    app.graphql(
        &Auth::admin(),
        r#"mutation { updateCustomer(name: "acme", patch: {
            provider: { label: "Acme Museum", homepage: "https://acme.example.org/",
                        logo: "https://acme.example.org/logo.png" } }) { name } }"#,
        json!({}),
    )
    .await
    .data();
    space
}

/// Declares the fields above on `space`, with the manifest settings that use them.
async fn described_fields(app: &TestApp, auth: &Auth, space: i64) {
    let patched = app
        .graphql(
            auth,
            &format!(
                r#"mutation($s: Int!) {{ updateSpace(customer: "acme", id: $s, patch: {{
                    fields: {FIELDS},
                    labelField: "title", summaryField: "description",
                    metadataFields: ["creator", "made", "kind"],
                    homepage: {{ template: "https://collections.example.org/objects/{{s1}}" }},
                    seeAlso: {{ template: "https://collections.example.org/api/{{s1}}.json",
                                format: "application/json", label: "Record" }},
                    canvasLabelTemplate: "Page {{n1}}" }})
                  {{ fields {{ key type required multiple options label {{ language value }} }}
                     presentation {{ labelField canvasLabelTemplate homepage {{ template }} }} }} }}"#
            ),
            json!({ "s": space }),
        )
        .await;
    let updated = &patched.data()["updateSpace"];
    assert_eq!(updated["fields"].as_array().unwrap().len(), 5);
    assert_eq!(updated["fields"][0]["label"][1]["language"], "fr");
    assert_eq!(updated["fields"][3]["options"], json!(["map", "letter"]));
    assert_eq!(updated["presentation"]["canvasLabelTemplate"], "Page {n1}");
}

const REGISTER: &str = "mutation($s: Int!, $i: AssetInput!) {
    registerAsset(customer: \"acme\", space: $s, wait: true, input: $i) {
        id status fields { key values } } }";

async fn register(
    app: &TestApp,
    auth: &Auth,
    space: i64,
    input: Value,
) -> vitrine_tests::GraphqlResponse {
    let id = input["id"].as_str().unwrap().to_owned();
    let origin = app.add_master(&format!("{id}.png"), &grid_png(64, 48));
    let mut input = input;
    input["mediaType"] = json!("image/png");
    input["origin"] = json!(origin);
    app.graphql(auth, REGISTER, json!({ "s": space, "i": input }))
        .await
}

/// The values of a `metadata` list: label (English) to values (no language).
fn metadata(manifest: &Value) -> Vec<(String, Vec<String>)> {
    manifest["metadata"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|entry| {
            (
                entry["label"]["en"][0]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                entry["value"]["none"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|value| value.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn declared_fields_are_checked_filtered_and_shown_in_manifests_of_both_versions() {
    // a worker, for the batch below
    let app = TestApp::builder().workers(1).start().await;
    let auth = app.customer_with_key("acme").await;
    let space = described_space(&app, &auth).await;

    // values that do not fit their declaration are field errors, and create nothing
    for (fields, needle) in [
        (json!([{ "key": "made", "values": ["1871-13"] }]), "made"),
        (json!([{ "key": "kind", "values": ["photo"] }]), "kind"),
        (json!([{ "key": "colour", "values": ["red"] }]), "colour"),
        (
            json!([{ "key": "made", "values": ["1871", "1872"] }]),
            "one value",
        ),
        (json!([]), "required"),
    ] {
        let mut all = vec![json!({ "key": "title", "values": ["Atlas"] })];
        if fields.as_array().unwrap().is_empty() {
            all.clear();
        }
        all.extend(fields.as_array().unwrap().iter().cloned());
        let refused = register(&app, &auth, space, json!({ "id": "bad", "fields": all })).await;
        let message = refused.expect_error("INVALID_METADATA");
        assert!(message.contains(needle), "{message} lacks {needle}");
    }
    let (status, _) = app
        .get_json(&format!("/iiif/manifest/3/acme/{space}/bad"))
        .await;
    assert_eq!(status, 404, "a refused registration leaves no asset");

    for page in 1..=3 {
        let mut fields = vec![json!({ "key": "title", "values": ["Atlas of the World"] })];
        if page == 1 {
            fields.extend([
                json!({ "key": "creator", "values": ["Mercator", " Hondius "] }),
                json!({ "key": "made", "values": ["1606-03"] }),
                json!({ "key": "kind", "values": ["map"] }),
                json!({ "key": "description", "values": ["A world atlas."] }),
            ]);
        }
        let registered = register(
            &app,
            &auth,
            space,
            json!({ "id": format!("atlas-{page}"), "string1": "atlas", "number1": page,
                    "fields": fields }),
        )
        .await;
        let asset = &registered.data()["registerAsset"];
        assert_eq!(asset["status"], "READY", "{asset}");
        if page == 1 {
            assert_eq!(
                asset["fields"][1],
                json!({ "key": "creator", "values": ["Mercator", "Hondius"] }),
                "values are trimmed and kept in declaration order"
            );
        }
    }

    // filters: every value given must be held
    let listed = |filter: Value| {
        let app = &app;
        let auth = &auth;
        async move {
            let found = app
                .graphql(
                    auth,
                    "query($s: Int!, $f: AssetFilterInput) { space(customer: \"acme\", id: $s) {
                        assets(filter: $f) { nodes { id } } } }",
                    json!({ "s": space, "f": filter }),
                )
                .await;
            found.data()["space"]["assets"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|node| node["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed(json!({ "fields": [{ "key": "creator", "values": ["Hondius"] }] })).await,
        ["atlas-1"]
    );
    assert_eq!(
        listed(json!({ "fields": [{ "key": "creator", "values": ["Hondius", "Blaeu"] }] })).await,
        Vec::<String>::new()
    );
    assert_eq!(
        listed(json!({ "fields": [{ "key": "title", "values": ["Atlas of the World"] }] }))
            .await
            .len(),
        3
    );

    // a URL filter matches the URL as it is stored (parsed: with its trailing slash)
    let linked = app
        .graphql(
            &auth,
            "mutation($s: Int!) { updateSpace(customer: \"acme\", id: $s, patch: { fields: [
                { key: \"title\", label: [{value: \"Title\"}], type: TEXT, required: true },
                { key: \"creator\", label: [{language: \"en\", value: \"Creator\"}], type: TEXT, multiple: true },
                { key: \"made\", label: [{language: \"en\", value: \"Date\"}], type: DATE },
                { key: \"kind\", label: [{language: \"en\", value: \"Kind\"}], type: CHOICE, options: [\"map\", \"letter\"] },
                { key: \"description\", label: [{language: \"en\", value: \"Description\"}], type: TEXT },
                { key: \"source\", label: [{value: \"Source\"}], type: URL } ] }) { id } }",
            json!({ "s": space }),
        )
        .await;
    linked.data();
    let patch_source = "mutation($s: Int!) { updateAsset(customer: \"acme\", space: $s, id: \"atlas-3\",
        patch: { fields: [{ key: \"source\", values: [\"https://example.org\"] }] }) { fields { key values } } }";
    let sourced = app
        .graphql(&auth, patch_source, json!({ "s": space }))
        .await;
    assert!(sourced.data().to_string().contains("https://example.org/"));
    assert_eq!(
        listed(json!({ "fields": [{ "key": "source", "values": ["https://example.org"] }] })).await,
        ["atlas-3"]
    );
    // restore the declaration the manifests below are read with
    described_fields(&app, &auth, space).await;

    // a batch over an existing page that gives no values keeps them, though the title is
    // required, and says whether it is published
    let origin = app.add_master("atlas-2.png", &grid_png(64, 48));
    let again = app
        .graphql(
            &auth,
            "mutation($m: [BatchMemberInput!]!) { createBatch(customer: \"acme\", members: $m) { id } }",
            json!({ "m": [{ "space": space, "id": "atlas-2", "mediaType": "image/png",
                            "origin": origin, "string1": "atlas", "number1": 2,
                            "published": false }] }),
        )
        .await;
    again.data();
    let page_two = app
        .graphql(
            &auth,
            "query($s: Int!) { asset(customer: \"acme\", space: $s, id: \"atlas-2\") { published fields { key values } } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(
        page_two.data()["asset"],
        json!({ "published": false, "fields": [{ "key": "title", "values": ["Atlas of the World"] }] })
    );
    // a new asset still needs its title
    let untitled = app
        .graphql(
            &auth,
            "mutation($m: [BatchMemberInput!]!) { createBatch(customer: \"acme\", members: $m) { id } }",
            json!({ "m": [{ "space": space, "id": "atlas-4", "mediaType": "image/png", "origin": origin }] }),
        )
        .await;
    untitled.expect_error("INVALID_BATCH");
    assert!(untitled.body.to_string().contains("INVALID_METADATA"));
    publish(
        &app,
        &auth,
        "updateAsset(customer: \"acme\", space: $s, id: \"atlas-2\"",
        space,
        true,
    )
    .await;
    // processed again by the batch: back in manifests once it is ready
    answers(&app, &format!("/iiif/manifest/3/acme/{space}/atlas-2"), 200).await;

    // one asset's manifest, 3.0
    let (status, manifest) = app
        .get_json(&format!("/iiif/manifest/3/acme/{space}/atlas-1"))
        .await;
    assert_eq!(status, 200, "{manifest}");
    assert_presentation_3(&manifest);
    assert_eq!(manifest["label"], json!({ "none": ["Atlas of the World"] }));
    assert_eq!(manifest["summary"], json!({ "none": ["A world atlas."] }));
    assert_eq!(
        metadata(&manifest),
        vec![
            (
                "Creator".to_owned(),
                vec!["Mercator".to_owned(), "Hondius".to_owned()]
            ),
            ("Date".to_owned(), vec!["1606-03".to_owned()]),
            ("Kind".to_owned(), vec!["map".to_owned()]),
        ]
    );
    assert_eq!(
        manifest["homepage"],
        json!([{ "id": "https://collections.example.org/objects/atlas", "type": "Text",
                 "label": { "none": ["Atlas of the World"] } }])
    );
    assert_eq!(
        manifest["seeAlso"],
        json!([{ "id": "https://collections.example.org/api/atlas.json", "type": "Dataset",
                 "label": { "none": ["Record"] }, "format": "application/json" }])
    );
    assert_eq!(manifest["provider"][0]["type"], "Agent");
    assert_eq!(
        manifest["provider"][0]["label"],
        json!({ "none": ["Acme Museum"] })
    );
    assert_eq!(
        manifest["provider"][0]["logo"][0],
        json!({ "id": "https://acme.example.org/logo.png", "type": "Image", "format": "image/png" })
    );
    assert_eq!(manifest["items"][0]["label"], json!({ "none": ["Page 1"] }));

    // a named query: its own canvas labels and metadata, described by its first page
    app.graphql(
        &auth,
        r#"mutation { createNamedQuery(customer: "acme", input: { name: "atlas",
            template: "space=p1&s1=p2&canvas=n1&canvasLabel=f. {n1}&metadata=title;made&summary=Pages of {p2}" }) { name } }"#,
        json!({}),
    )
    .await
    .data();
    let (status, book) = app
        .get_json(&format!("/iiif/query/3/acme/atlas/{space}/atlas"))
        .await;
    assert_eq!(status, 200, "{book}");
    assert_presentation_3(&book);
    assert_eq!(book["label"], json!({ "none": ["Atlas of the World"] }));
    assert_eq!(book["summary"], json!({ "none": ["Pages of atlas"] }));
    // described by its last page, which has no description: no summary from the field
    app.graphql(
        &auth,
        r#"mutation { createNamedQuery(customer: "acme", input: { name: "atlas-end",
            template: "space=p1&s1=p2&describe=last" }) { name } }"#,
        json!({}),
    )
    .await
    .data();
    let (_, from_the_end) = app
        .get_json(&format!("/iiif/query/3/acme/atlas-end/{space}/atlas"))
        .await;
    assert!(from_the_end["summary"].is_null(), "{from_the_end}");

    let labels: Vec<&Value> = book["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["label"])
        .collect();
    assert_eq!(
        labels,
        [
            &json!({ "none": ["f. 1"] }),
            &json!({ "none": ["f. 2"] }),
            &json!({ "none": ["f. 3"] })
        ]
    );
    // the title's label is in two languages; the query's list of fields wins over the space's
    assert_eq!(
        book["metadata"][0]["label"],
        json!({ "en": ["Title"], "fr": ["Titre"] })
    );
    assert_eq!(book["metadata"][1]["value"], json!({ "none": ["1606-03"] }));
    assert_eq!(book["metadata"].as_array().unwrap().len(), 2);
    assert_eq!(
        book["homepage"][0]["id"],
        "https://collections.example.org/objects/atlas"
    );

    // 2.1: the same, in its own shapes
    let (status, old) = app
        .get_json(&format!("/iiif/manifest/2/acme/{space}/atlas-1"))
        .await;
    assert_eq!(status, 200, "{old}");
    assert_eq!(old["label"], "Atlas of the World");
    assert_eq!(old["description"], "A world atlas.");
    assert_eq!(
        old["metadata"][0]["label"],
        json!({ "@value": "Creator", "@language": "en" })
    );
    assert_eq!(old["metadata"][0]["value"], json!(["Mercator", "Hondius"]));
    assert_eq!(old["logo"], "https://acme.example.org/logo.png");
    let related: Vec<&str> = old["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|link| link["@id"].as_str().unwrap())
        .collect();
    assert_eq!(
        related,
        [
            "https://collections.example.org/objects/atlas",
            "https://acme.example.org/"
        ]
    );
    assert_eq!(
        old["seeAlso"][0]["@id"],
        "https://collections.example.org/api/atlas.json"
    );
    assert_eq!(old["sequences"][0]["canvases"][0]["label"], "Page 1");
    let (_, old_book) = app
        .get_json(&format!("/iiif/query/2/acme/atlas/{space}/atlas"))
        .await;
    assert_eq!(
        old_book["metadata"][0]["label"],
        json!([{ "@value": "Title", "@language": "en" }, { "@value": "Titre", "@language": "fr" }])
    );

    // a change replaces the fields it names; a required one cannot be cleared
    let patch = "mutation($s: Int!, $f: [FieldValueInput!]) { updateAsset(customer: \"acme\",
        space: $s, id: \"atlas-1\", patch: { fields: $f }) { fields { key values } } }";
    let changed = app
        .graphql(
            &auth,
            patch,
            json!({ "s": space, "f": [{ "key": "made", "values": [] }, { "key": "kind", "values": ["letter"] }] }),
        )
        .await;
    let held = &changed.data()["updateAsset"]["fields"];
    assert!(
        held.as_array()
            .unwrap()
            .iter()
            .all(|field| field["key"] != "made")
    );
    assert!(
        held.as_array()
            .unwrap()
            .contains(&json!({ "key": "kind", "values": ["letter"] }))
    );
    app.graphql(
        &auth,
        patch,
        json!({ "s": space, "f": [{ "key": "title", "values": [] }] }),
    )
    .await
    .expect_error("INVALID_METADATA");
    assert_eq!(
        listed(json!({ "fields": [{ "key": "kind", "values": ["map"] }] })).await,
        Vec::<String>::new(),
        "the filter index follows the change"
    );

    // bad declarations are refused whole
    for bad in [
        r#"[{ key: "id", label: [{value: "Id"}], type: TEXT }]"#,
        r#"[{ key: "kind", label: [{value: "Kind"}], type: CHOICE }]"#,
        r#"[{ key: "a", label: [], type: TEXT }]"#,
        r#"[{ key: "a", label: [{language: "not a tag", value: "A"}], type: TEXT }]"#,
    ] {
        app.graphql(
            &auth,
            &format!(
                "mutation($s: Int!) {{ updateSpace(customer: \"acme\", id: $s, patch: {{ fields: {bad} }}) {{ id }} }}"
            ),
            json!({ "s": space }),
        )
        .await
        .expect_error("INVALID_METADATA");
    }
    app.graphql(
        &auth,
        r#"mutation($s: Int!) { updateSpace(customer: "acme", id: $s, patch: {
            homepage: { template: "collections.example.org/{s1}" } }) { id } }"#,
        json!({ "s": space }),
    )
    .await
    .expect_error("INVALID_INPUT");
}

const IMPORT_CSV: &str = "mutation($csv: String!, $dry: Boolean!) {
    importCsv(customer: \"acme\", content: $csv, dryRun: $dry) {
        totalRows validRows errors { line column code message }
        rows { line fields { key values } cells { header column value } }
        batches { id } } }";

#[tokio::test]
async fn csv_columns_named_after_field_keys_import_descriptive_values() {
    let app = TestApp::builder().workers(1).start().await;
    let auth = app.customer_with_key("acme").await;
    let space = described_space(&app, &auth).await;
    let a = app.add_master("a.png", &grid_png(30, 30));
    let b = app.add_master("b.png", &grid_png(31, 30));

    let csv = |made: &str| {
        format!(
            "Line,ID,MediaType,Space,Origin,Title,Creator,Creator,Made,Shelfmark\n\
             1,a,image/png,{space},{a},Letter one,Ann,Bob,1850-01-02,X1\n\
             2,b,image/png,{space},{b},Letter two,Cy,,{made},X2\n"
        )
    };
    let dry = app
        .graphql(
            &auth,
            IMPORT_CSV,
            json!({ "csv": csv("1850-02-30"), "dry": true }),
        )
        .await;
    let dry = &dry.data()["importCsv"];
    assert_eq!(dry["validRows"], 1, "{dry}");
    assert_eq!(dry["errors"].as_array().unwrap().len(), 1, "{dry}");
    let error = &dry["errors"][0];
    assert_eq!(
        (
            error["line"].as_i64(),
            error["column"].as_str(),
            error["code"].as_str()
        ),
        (Some(2), Some("made"), Some("INVALID_METADATA"))
    );
    // the cell to highlight names the same column; a column no field has stays unnamed
    let cells = dry["rows"][1]["cells"].as_array().unwrap();
    let made = cells.iter().find(|cell| cell["header"] == "Made").unwrap();
    assert_eq!(made["column"], "made");
    let shelfmark = cells
        .iter()
        .find(|cell| cell["header"] == "Shelfmark")
        .unwrap();
    assert!(shelfmark["column"].is_null());
    assert_eq!(
        dry["rows"][0]["fields"],
        json!([{ "key": "title", "values": ["Letter one"] },
               { "key": "creator", "values": ["Ann", "Bob"] },
               { "key": "made", "values": ["1850-01-02"] }])
    );

    // a required column left empty is a line error too
    let untitled = format!("Line,ID,MediaType,Space,Origin,Title\n7,c,image/png,{space},{a},\n");
    let refused = app
        .graphql(&auth, IMPORT_CSV, json!({ "csv": untitled, "dry": true }))
        .await;
    let refused = &refused.data()["importCsv"];
    assert_eq!(refused["errors"][0]["line"], 7, "{refused}");
    assert_eq!(refused["errors"][0]["code"], "INVALID_METADATA");

    let imported = app
        .graphql(
            &auth,
            IMPORT_CSV,
            json!({ "csv": csv("1851"), "dry": false }),
        )
        .await;
    let imported = &imported.data()["importCsv"];
    assert!(
        imported["errors"].as_array().unwrap().is_empty(),
        "{imported}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let read = app
            .graphql(
                &auth,
                "query($s: Int!) { space(customer: \"acme\", id: $s) {
                    assets(filter: { fields: [{ key: \"creator\", values: [\"Bob\"] }] }) {
                        nodes { id status fields { key values } } } } }",
                json!({ "s": space }),
            )
            .await;
        let nodes = read.data()["space"]["assets"]["nodes"].clone();
        assert_eq!(nodes.as_array().unwrap().len(), 1, "{nodes}");
        assert_eq!(nodes[0]["id"], "a");
        if nodes[0]["status"] == "READY" {
            let (status, manifest) = app
                .get_json(&format!("/iiif/manifest/3/acme/{space}/a"))
                .await;
            assert_eq!(status, 200);
            assert_presentation_3(&manifest);
            assert_eq!(manifest["label"], json!({ "none": ["Letter one"] }));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the import did not finish: {nodes}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Polls `path` until it answers `status` (published state reaches image delivery within the
/// two seconds its lookups are cached for). An auth probe answers 200 with the status in its
/// body.
async fn answers(app: &TestApp, path: &str, status: u16) -> Value {
    settles(app, path, status, |_| true).await
}

/// Polls `path` until it answers `status` with a body that passes `check` (named-query scopes
/// of search are also kept for two seconds).
async fn settles(app: &TestApp, path: &str, status: u16, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (mut got, body) = app.get_json(path).await;
        if path.contains("/probe/") && got == 200 {
            got = body["status"].as_u64().unwrap_or_default() as u16;
        }
        if got == status && check(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{path} answers {got}, not {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The changes `publish` makes: to the first page, and to its whole space.
const PAGE_ONE: &str = "updateAsset(customer: \"acme\", space: $s, id: \"p1\"";
const THE_SPACE: &str = "updateSpace(customer: \"acme\", id: $s";

/// Publishes or withdraws through `change` (a mutation up to its patch, taking `$s`) and checks
/// the answer.
async fn publish(app: &TestApp, auth: &Auth, change: &str, space: i64, published: bool) {
    let name = &change[..change.find('(').unwrap()];
    let changed = app
        .graphql(
            auth,
            &format!(
                "mutation($s: Int!, $p: Boolean!) {{ {change}, patch: {{ published: $p }}) {{ published }} }}"
            ),
            json!({ "s": space, "p": published }),
        )
        .await;
    assert_eq!(changed.data()[name]["published"], published);
}

fn canvas_count(manifest: &Value) -> usize {
    manifest["items"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default()
}

fn collection_ids(collection: &Value) -> Vec<String> {
    collection["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn unpublished_assets_and_spaces_are_absent_from_every_public_route() {
    let app = TestApp::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "letters").await;
    for page in 1..=2 {
        let origin = app.add_master(&format!("p{page}.png"), &grid_png(64, 48));
        let registered = app
            .graphql(
                &auth,
                REGISTER,
                json!({ "s": space, "i": { "id": format!("p{page}"), "mediaType": "image/png",
                        "origin": origin, "string1": "letter", "number1": page } }),
            )
            .await;
        assert_eq!(registered.data()["registerAsset"]["status"], "READY");
        let annotation = format!(
            r#"[{{"body": {{"value": "greetings from page {page}"}}, "target": "c#xywh=0,0,10,10"}}]"#
        );
        app.graphql(
            &auth,
            "mutation($s: Int!, $a: String!, $c: String!) { importAnnotations(customer: \"acme\",
                space: $s, asset: $a, format: W3C, content: $c) { count } }",
            json!({ "s": space, "a": format!("p{page}"), "c": annotation }),
        )
        .await
        .data();
    }
    app.graphql(
        &auth,
        r#"mutation { createNamedQuery(customer: "acme", input: { name: "letter",
            template: "s1=p1&canvas=n1" }) { name } }"#,
        json!({}),
    )
    .await
    .data();

    let one = |path: &str| path.replace("{space}", &space.to_string());
    let routes: Vec<String> = [
        "/iiif/3/acme/{space}/p1/info.json",
        "/iiif/3/acme/{space}/p1/full/max/0/default.jpg",
        "/iiif/2/acme/{space}/p1/info.json",
        "/iiif/manifest/3/acme/{space}/p1",
        "/iiif/manifest/2/acme/{space}/p1",
        "/iiif/annotations/3/acme/{space}/p1",
        "/iiif/search/2/acme/{space}/p1?q=greetings",
        "/auth/2/probe/acme/{space}/p1",
    ]
    .iter()
    .map(|path| one(path))
    .collect();
    let query = "/iiif/query/3/acme/letter/letter";
    let search = "/iiif/search/2/acme/query/letter/letter?q=greetings";
    let space_collection = one("/iiif/collection/3/acme/{space}");
    let hits = |page: &Value| page["items"].as_array().map(Vec::len).unwrap_or_default();

    let everything_public = || async {
        for path in &routes {
            answers(&app, path, 200).await;
        }
        assert_eq!(canvas_count(&answers(&app, query, 200).await), 2);
        settles(&app, search, 200, |page| hits(page) == 2).await;
        assert_eq!(
            collection_ids(&answers(&app, &space_collection, 200).await).len(),
            2
        );
    };
    everything_public().await;

    publish(&app, &auth, PAGE_ONE, space, false).await;
    for path in &routes {
        answers(&app, path, 404).await;
    }
    let book = answers(&app, query, 200).await;
    assert_eq!(canvas_count(&book), 1, "{book}");
    assert!(book.to_string().contains("/p2"));
    assert!(!book.to_string().contains("/p1"));
    let found = settles(&app, search, 200, |page| hits(page) == 1).await;
    assert!(!found.to_string().contains("page 1"));
    let listed = collection_ids(&answers(&app, &space_collection, 200).await);
    assert_eq!(listed.len(), 1);
    assert!(listed[0].ends_with("/p2"));
    // its customer still sees it, marked, and can list what is unpublished
    let held = app
        .graphql(
            &auth,
            "query($s: Int!) { space(customer: \"acme\", id: $s) {
                assets(filter: { published: false }) { nodes { id published status } } } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(
        held.data()["space"]["assets"]["nodes"],
        json!([{ "id": "p1", "published": false, "status": "READY" }])
    );

    publish(&app, &auth, PAGE_ONE, space, true).await;
    everything_public().await;

    // a whole space at once
    publish(&app, &auth, THE_SPACE, space, false).await;
    for path in &routes {
        answers(&app, path, 404).await;
    }
    answers(&app, &one("/iiif/manifest/3/acme/{space}/p2"), 404).await;
    answers(&app, &space_collection, 404).await;
    answers(&app, query, 404).await;
    answers(&app, search, 404).await;
    let customer = answers(&app, "/iiif/collection/3/acme", 200).await;
    assert!(collection_ids(&customer).is_empty(), "{customer}");

    publish(&app, &auth, THE_SPACE, space, true).await;
    everything_public().await;
    let customer = answers(&app, "/iiif/collection/3/acme", 200).await;
    assert_eq!(collection_ids(&customer), [app.url(&space_collection)]);
}
