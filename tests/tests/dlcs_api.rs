//! The DLCS-compatible registration API (`/api`), resource by resource as the DLCS API
//! reference describes them (dlcs/book `API_Reference/*.md`, dlcs/public-docs): customers,
//! spaces, images, the queue and batches; hydra collections and their paging; a synchronous
//! PUT; a 250-image queue submission polled to the end; tenancy; and the bad inputs, each a
//! 4xx with a hydra `Status` body carrying Vitrine's stable code that writes nothing.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use vitrine_tests::images::grid_png;
use vitrine_tests::{Auth, TestApp};

/// The fields of an Image resource, as the DLCS reference names them.
const IMAGE_FIELDS: [&str; 25] = [
    "@context",
    "@id",
    "@type",
    "id",
    "space",
    "infoJson",
    "origin",
    "tags",
    "roles",
    "string1",
    "string2",
    "string3",
    "number1",
    "number2",
    "number3",
    "width",
    "height",
    "maxUnauthorised",
    "mediaType",
    "family",
    "ingesting",
    "error",
    "batch",
    "created",
    "finished",
];

/// A JSON answer: its status, headers and body.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

/// A request to the API with a JSON body sent as is (with no `Content-Type` unless given).
async fn call(
    app: &TestApp,
    auth: &Auth,
    method: Method,
    path: &str,
    body: Option<&Value>,
    content_type: Option<&str>,
) -> Answer {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        app.url(&format!("/api{path}"))
    };
    let mut request = app.client.request(method, url);
    request = match auth {
        Auth::None => request,
        Auth::Basic { key, secret } => request.basic_auth(key, Some(secret)),
        Auth::Bearer(token) => request.bearer_auth(token),
        Auth::Raw(value) => request.header("authorization", value),
    };
    if let Some(body) = body {
        request = request.body(serde_json::to_vec(body).expect("json"));
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.expect("API request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(app: &TestApp, auth: &Auth, path: &str) -> Answer {
    call(app, auth, Method::GET, path, None, None).await
}

/// Checks a hydra error: its status, `@type`, `statusCode` and Vitrine's code.
fn assert_status(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{:#}", answer.body);
    assert_eq!(answer.body["@type"], "Status", "{:#}", answer.body);
    assert_eq!(answer.body["statusCode"], status);
    assert_eq!(answer.body["code"], code, "{:#}", answer.body);
    assert!(!answer.body["description"].as_str().unwrap_or("").is_empty());
}

/// A server with a customer `acme` (its key), its number, and a space.
async fn acme(app: &TestApp) -> (Auth, i64, i64) {
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "books").await;
    let number = get(app, &auth, "/customers/acme").await.body["id"]
        .as_i64()
        .expect("customer number");
    (auth, number, space)
}

/// Polls a batch until it is finished.
async fn finished_batch(app: &TestApp, auth: &Auth, url: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let batch = get(app, auth, url).await;
        assert_eq!(batch.status, 200, "{:#}", batch.body);
        if !batch.body["finished"].is_null() {
            return batch.body;
        }
        assert!(
            Instant::now() < deadline,
            "batch never finished: {:#}",
            batch.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The entry point links the customers; `/api/openapi.json` is an OpenAPI 3 description of
/// every route, with its operations and the Basic security scheme.
#[tokio::test]
async fn the_entry_point_and_the_openapi_description_name_every_route() {
    let app = TestApp::start().await;
    let entry = get(&app, &Auth::None, "/").await;
    assert_eq!(entry.status, 200);
    assert_eq!(entry.body["customers"], app.url("/api/customers"));

    let description = get(&app, &Auth::None, "/openapi.json").await;
    assert_eq!(description.status, 200);
    assert!(
        description.body["openapi"]
            .as_str()
            .is_some_and(|version| version.starts_with("3.")),
        "{:#}",
        description.body
    );
    assert_eq!(description.body["servers"][0]["url"], app.url("/api"));
    let expected = [
        ("/customers", &["get"][..]),
        ("/customers/{customer}", &["get"]),
        ("/customers/{customer}/spaces", &["get", "post"]),
        (
            "/customers/{customer}/spaces/{space}",
            &["get", "put", "patch", "delete"],
        ),
        (
            "/customers/{customer}/spaces/{space}/images",
            &["get", "post", "patch"],
        ),
        (
            "/customers/{customer}/spaces/{space}/images/{image}",
            &["get", "put", "patch", "delete"],
        ),
        ("/customers/{customer}/queue", &["get", "post"]),
        ("/customers/{customer}/queue/batches", &["get"]),
        ("/customers/{customer}/queue/active", &["get"]),
        ("/customers/{customer}/queue/recent", &["get"]),
        ("/customers/{customer}/queue/batches/{batch}", &["get"]),
        (
            "/customers/{customer}/queue/batches/{batch}/images",
            &["get"],
        ),
        (
            "/customers/{customer}/queue/batches/{batch}/completedImages",
            &["get"],
        ),
        (
            "/customers/{customer}/queue/batches/{batch}/errorImages",
            &["get"],
        ),
    ];
    let paths = description.body["paths"].as_object().expect("paths");
    assert_eq!(paths.len(), expected.len(), "{:?}", paths.keys());
    for (path, methods) in expected {
        for method in methods {
            assert!(
                paths[path][method]["responses"].is_object(),
                "{method} {path} is not described"
            );
        }
    }
    let mut operations: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    let described = operations.len();
    operations.sort_unstable();
    operations.dedup();
    assert_eq!(operations.len(), described, "operationIds are unique");
    assert_eq!(described, 24);
    let image = schema_properties(&description.body, "Image");
    for field in IMAGE_FIELDS {
        assert!(image.contains_key(field), "Image.{field} is not described");
    }
    assert_eq!(
        description.body["components"]["securitySchemes"]["basic"]["scheme"],
        "basic"
    );
    app.stop().await;
}

/// The properties a component schema describes, its own and those of the schemas it is built
/// from (`allOf`, as a flattened part such as the references is described).
fn schema_properties(description: &Value, name: &str) -> serde_json::Map<String, Value> {
    let schema = &description["components"]["schemas"][name];
    let mut properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        let part = match part["$ref"].as_str() {
            Some(reference) => {
                let name = reference.trim_start_matches("#/components/schemas/");
                Value::Object(schema_properties(description, name))
            }
            None => part["properties"].clone(),
        };
        properties.extend(part.as_object().cloned().unwrap_or_default());
    }
    properties
}

/// Customer: `{customer}` is its number or its name; an admin key lists every customer, a
/// customer's key only its own.
#[tokio::test]
async fn customers_are_addressed_by_number_or_name() {
    let app = TestApp::start().await;
    let (auth, number, _) = acme(&app).await;
    app.customer_with_key("globex").await;

    let by_name = get(&app, &auth, "/customers/acme").await;
    let by_number = get(&app, &auth, &format!("/customers/{number}")).await;
    assert_eq!(by_name.status, 200);
    assert_eq!(by_name.body, by_number.body);
    assert_eq!(by_name.body["@type"], "vocab:Customer");
    assert_eq!(by_name.body["name"], "acme");
    assert_eq!(
        by_name.body["@id"],
        app.url(&format!("/api/customers/{number}"))
    );
    assert_eq!(
        by_name.body["queue"],
        app.url(&format!("/api/customers/{number}/queue"))
    );

    // a name wins over a number, and only canonical numbers are numbers
    let numeric = app.customer_with_key(&number.to_string()).await;
    let named = get(&app, &numeric, &format!("/customers/{number}")).await;
    assert_eq!(named.status, 200, "{:#}", named.body);
    assert_eq!(named.body["name"], number.to_string());
    let own_number = named.body["id"].as_i64().unwrap();
    assert_ne!(own_number, number);
    let by_admin = get(&app, &Auth::admin(), &format!("/customers/{number}")).await;
    assert_eq!(by_admin.body["id"], own_number);
    let padded = get(&app, &Auth::admin(), &format!("/customers/0{own_number}")).await;
    assert_status(&padded, 404, "not-found");
    let foreign = get(&app, &numeric, "/customers/acme").await;
    assert_status(&foreign, 403, "forbidden");
    let all = get(&app, &Auth::admin(), "/customers").await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body["@type"], "Collection");
    assert_eq!(all.body["totalItems"], 3);
    let own = get(&app, &auth, "/customers").await;
    assert_eq!(own.body["totalItems"], 1);
    assert_eq!(own.body["member"][0]["name"], "acme");
    app.stop().await;
}

/// Space: POST creates (201, `Location`), GET reads, the collection pages with hydra views,
/// PUT replaces, PATCH changes what it names, DELETE removes an empty space (204) and refuses
/// one with images (409).
#[tokio::test]
async fn spaces_are_created_paged_changed_and_deleted() {
    let app = TestApp::start().await;
    let (auth, number, books) = acme(&app).await;
    let spaces = format!("/customers/{number}/spaces");

    let created = call(
        &app,
        &auth,
        Method::POST,
        &spaces,
        Some(&json!({"name": "maps", "defaultTags": ["map"], "maxUnauthorised": 200, "@type": "vocab:Space"})),
        Some("application/json"),
    )
    .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let maps = created.body["id"].as_i64().expect("space number");
    let url = created.body["@id"].as_str().expect("@id").to_owned();
    assert_eq!(url, app.url(&format!("/api{spaces}/{maps}")));
    assert_eq!(created.headers["location"], url.as_str());
    assert_eq!(created.body["@type"], "vocab:Space");
    assert_eq!(created.body["defaultTags"], json!(["map"]));
    assert_eq!(created.body["maxUnauthorised"], 200);
    assert_eq!(created.body["images"], format!("{url}/images"));
    call(
        &app,
        &auth,
        Method::POST,
        &spaces,
        Some(&json!({"name": "letters"})),
        None,
    )
    .await;

    let first = get(&app, &auth, &format!("{spaces}?pageSize=2")).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["totalItems"], 3);
    assert_eq!(first.body["pageSize"], 2);
    assert_eq!(first.body["member"].as_array().map(Vec::len), Some(2));
    let view = &first.body["view"];
    assert_eq!(view["@type"], "PartialCollectionView");
    assert!(view.get("previous").is_none());
    let next = view["next"].as_str().expect("next page");
    assert_eq!(view["last"], next);
    let second = get(&app, &auth, next).await;
    assert_eq!(second.body["member"].as_array().map(Vec::len), Some(1));
    assert_eq!(second.body["member"][0]["name"], "letters");
    assert!(second.body["view"]["previous"].is_string());
    assert!(second.body["view"].get("next").is_none());

    let replaced = call(
        &app,
        &auth,
        Method::PUT,
        &format!("{spaces}/{maps}"),
        Some(&json!({"name": "atlases"})),
        None,
    )
    .await;
    assert_eq!(replaced.status, 200, "{:#}", replaced.body);
    assert_eq!(replaced.body["name"], "atlases");
    assert_eq!(
        replaced.body["defaultTags"],
        json!([]),
        "PUT resets defaults"
    );
    assert_eq!(replaced.body["maxUnauthorised"], -1);
    let patched = call(
        &app,
        &auth,
        Method::PATCH,
        &format!("{spaces}/{maps}"),
        Some(&json!({"defaultRoles": ["staff"]})),
        None,
    )
    .await;
    assert_eq!(patched.body["name"], "atlases");
    assert_eq!(patched.body["defaultRoles"], json!(["staff"]));
    let missing = call(
        &app,
        &auth,
        Method::PUT,
        &format!("{spaces}/999"),
        Some(&json!({"name": "nowhere"})),
        None,
    )
    .await;
    assert_status(&missing, 404, "not-found");

    let origin = app.add_master("one.png", &grid_png(32, 24));
    let registered = call(
        &app,
        &auth,
        Method::POST,
        &format!("{spaces}/{books}/images"),
        Some(&json!({"id": "one", "origin": origin, "mediaType": "image/png"})),
        None,
    )
    .await;
    assert_eq!(registered.status, 201, "{:#}", registered.body);
    let full = get(&app, &auth, &format!("{spaces}/{books}")).await;
    assert_eq!(full.body["approximateNumberOfImages"], 1);
    let refused = call(
        &app,
        &auth,
        Method::DELETE,
        &format!("{spaces}/{books}"),
        None,
        None,
    )
    .await;
    assert_status(&refused, 409, "conflict");

    let deleted = call(
        &app,
        &auth,
        Method::DELETE,
        &format!("{spaces}/{maps}"),
        None,
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
    assert_status(
        &get(&app, &auth, &format!("{spaces}/{maps}")).await,
        404,
        "not-found",
    );
    app.stop().await;
}

/// Image: POST registers and queues (201; without an `id` the server assigns a UUID), GET
/// reads every documented field, the collection filters by string1-3, number1-3 and tags,
/// PATCH changes one image or a collection of them, DELETE removes it (204).
#[tokio::test]
async fn images_are_registered_filtered_changed_and_deleted() {
    let app = TestApp::start().await;
    let (auth, number, space) = acme(&app).await;
    let images = format!("/customers/{number}/spaces/{space}/images");
    let origin = app.add_master("page.png", &grid_png(40, 30));

    let named = call(
        &app,
        &auth,
        Method::POST,
        &images,
        Some(&json!({
            "id": "page-1", "origin": origin, "mediaType": "image/png", "string1": "book-a",
            "number1": 1, "tags": ["bound", "scanned"], "total_items": 7, "family": "I"
        })),
        Some("text/plain"),
    )
    .await;
    assert_eq!(named.status, 201, "{:#}", named.body);
    let image = &named.body;
    assert_eq!(
        image["@id"],
        app.url(&format!("/api{images}/page-1")),
        "{image:#}"
    );
    assert_eq!(named.headers["location"], image["@id"].as_str().unwrap());
    for field in IMAGE_FIELDS {
        assert!(image.get(field).is_some(), "no {field} in {image:#}");
    }
    assert_eq!(image["@type"], "vocab:Image");
    assert_eq!(image["space"], space);
    assert_eq!(image["family"], "I");
    assert_eq!(image["ingesting"], true);
    assert_eq!(image["error"], "");
    assert_eq!(
        image["infoJson"],
        app.url(&format!("/iiif/3/acme/{space}/page-1"))
    );

    let unnamed = call(
        &app,
        &auth,
        Method::POST,
        &images,
        Some(&json!({"origin": origin, "mediaType": "image/png", "string1": "book-b", "number1": 2, "tags": ["bound"]})),
        None,
    )
    .await;
    assert_eq!(unnamed.status, 201, "{:#}", unnamed.body);
    let assigned = unnamed.body["id"].as_str().expect("assigned id").to_owned();
    assert!(uuid::Uuid::parse_str(&assigned).is_ok(), "{assigned}");

    let read = get(&app, &auth, &format!("{images}/page-1")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["string1"], "book-a");
    assert_eq!(read.body["tags"], json!(["bound", "scanned"]));

    for (query, ids) in [
        ("string1=book-a", vec!["page-1"]),
        ("number1=2", vec![assigned.as_str()]),
        ("tags=bound", vec![assigned.as_str(), "page-1"]),
        ("tags=bound,scanned", vec!["page-1"]),
        ("string1=book-b&number1=1", vec![]),
    ] {
        let listed = get(&app, &auth, &format!("{images}?{query}")).await;
        assert_eq!(listed.status, 200, "{query}: {:#}", listed.body);
        let mut found: Vec<&str> = listed.body["member"]
            .as_array()
            .expect("member")
            .iter()
            .map(|image| image["id"].as_str().unwrap())
            .collect();
        found.sort_unstable();
        let mut wanted = ids.clone();
        wanted.sort_unstable();
        assert_eq!(found, wanted, "{query}");
        assert_eq!(listed.body["totalItems"], ids.len());
        let first = url::Url::parse(listed.body["view"]["first"].as_str().unwrap()).unwrap();
        let kept: Vec<(String, String)> = first.query_pairs().into_owned().collect();
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap();
            assert!(
                kept.contains(&(name.to_owned(), value.to_owned())),
                "paging links keep the filter {pair}: {first}"
            );
        }
    }
    assert_status(
        &get(&app, &auth, &format!("{images}?number1=one")).await,
        400,
        "bad-request",
    );

    let patched = call(
        &app,
        &auth,
        Method::PATCH,
        &format!("{images}/page-1"),
        Some(&json!({"string2": "vol. 1", "number1": null, "roles": ["staff"]})),
        None,
    )
    .await;
    assert_eq!(patched.status, 200, "{:#}", patched.body);
    assert_eq!(patched.body["string1"], "book-a");
    assert_eq!(patched.body["string2"], "vol. 1");
    assert_eq!(patched.body["number1"], Value::Null);
    assert_eq!(patched.body["roles"], json!(["staff"]));

    let half_bad = call(
        &app,
        &auth,
        Method::PATCH,
        &images,
        Some(&json!({"member": [
            {"id": "page-1", "string3": "never"},
            {"id": assigned, "origin": "ftp://example.org/x.png"},
            {"id": "no-such-image", "string3": "never"}
        ]})),
        None,
    )
    .await;
    assert_status(&half_bad, 400, "invalid-input");
    let problems: Vec<(u64, &str)> = half_bad.body["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|problem| {
            (
                problem["index"].as_u64().unwrap(),
                problem["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(problems, vec![(1, "invalid-origin"), (2, "not-found")]);
    let untouched = get(&app, &auth, &format!("{images}/page-1")).await;
    assert_eq!(
        untouched.body["string3"],
        Value::Null,
        "nothing was changed"
    );
    let read_back = call(
        &app,
        &auth,
        Method::PATCH,
        &format!("{images}/page-1"),
        Some(&json!({"mediaType": "", "string3": "shelf 8"})),
        None,
    )
    .await;
    assert_eq!(read_back.status, 200, "{:#}", read_back.body);
    assert_eq!(read_back.body["mediaType"], "image/png");

    let many = call(
        &app,
        &auth,
        Method::PATCH,
        &images,
        Some(&json!({"@type": "Collection", "member": [
            {"id": "page-1", "string3": "shelf 9"},
            {"id": assigned, "string3": "shelf 9"}
        ]})),
        None,
    )
    .await;
    assert_eq!(many.status, 200, "{:#}", many.body);
    assert_eq!(many.body["totalItems"], 2);
    let shelved = get(&app, &auth, &format!("{images}?string3=shelf%209")).await;
    assert_eq!(shelved.body["totalItems"], 2);

    let deleted = call(
        &app,
        &auth,
        Method::DELETE,
        &format!("{images}/page-1"),
        None,
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
    assert_status(
        &get(&app, &auth, &format!("{images}/page-1")).await,
        404,
        "not-found",
    );
    app.stop().await;
}

/// Image PUT is synchronous: the answer comes once the image is processed, READY with its
/// size (201 when created), and its `infoJson` answers; a second PUT replaces every
/// property (200). A PUT whose master cannot be read answers with the failed image.
#[tokio::test]
async fn a_synchronous_put_returns_a_ready_image_whose_info_json_answers() {
    let app = TestApp::start().await;
    let (auth, number, space) = acme(&app).await;
    let image = format!("/customers/{number}/spaces/{space}/images/plate-7");
    let origin = app.add_master("plate.png", &grid_png(120, 80));

    let created = call(
        &app,
        &auth,
        Method::PUT,
        &image,
        Some(
            &json!({"origin": origin, "mediaType": "image/png", "string1": "first", "tags": ["a"]}),
        ),
        None,
    )
    .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.body["ingesting"], false);
    assert_eq!(created.body["error"], "");
    assert_eq!(created.body["width"], 120);
    assert_eq!(created.body["height"], 80);
    assert!(created.body["finished"].is_string());
    let info = created.body["infoJson"].as_str().expect("infoJson");
    let (status, description) = app.get_json(info).await;
    assert_eq!(status, 200, "{description:#}");
    assert_eq!(description["width"], 120);
    assert_eq!(description["id"], info);

    let replaced = call(
        &app,
        &auth,
        Method::PUT,
        &image,
        Some(&json!({"origin": origin, "mediaType": "image/png", "string2": "second"})),
        None,
    )
    .await;
    assert_eq!(replaced.status, 200, "{:#}", replaced.body);
    assert_eq!(replaced.body["ingesting"], false);
    assert_eq!(
        replaced.body["string1"],
        Value::Null,
        "PUT replaces every property"
    );
    assert_eq!(replaced.body["string2"], "second");
    assert_eq!(replaced.body["tags"], json!([]));

    let gone = app.add_master("gone.png", b"not an image at all");
    let failed = call(
        &app,
        &auth,
        Method::PUT,
        &format!("/customers/{number}/spaces/{space}/images/broken"),
        Some(&json!({"origin": gone, "mediaType": "image/png"})),
        None,
    )
    .await;
    assert_eq!(failed.status, 201, "{:#}", failed.body);
    assert_eq!(failed.body["ingesting"], false);
    assert!(
        !failed.body["error"].as_str().unwrap_or("").is_empty(),
        "{:#}",
        failed.body
    );
    app.stop().await;
}

/// Queue: a hydra Collection of 250 images POSTed with no `Content-Type` (with a property
/// the reference does not define, and members without `mediaType`) is one batch (201); it is
/// polled to `finished` with exact counts, and its images, completedImages and errorImages
/// collections list exactly its members; active and recent batches and the queue's counts
/// follow.
#[tokio::test]
async fn a_250_image_collection_is_one_batch_polled_to_finished_with_exact_counts() {
    let app = TestApp::builder()
        .workers(2)
        .config(|config| config.ingest_max_attempts = 1)
        .start()
        .await;
    a_250_image_collection(app).await;
}

/// The same submission on PostgreSQL, where two workers claim its jobs with `SKIP LOCKED`.
#[tokio::test]
async fn a_250_image_collection_on_postgresql() {
    let Some(database) =
        vitrine_tests::TestDatabase::create(vitrine_tests::Backend::Postgres).await
    else {
        return;
    };
    let app = TestApp::builder()
        .database_url(database.url.clone())
        .workers(2)
        .config(|config| config.ingest_max_attempts = 1)
        .start()
        .await;
    a_250_image_collection(app).await;
    database.drop_database().await;
}

async fn a_250_image_collection(app: TestApp) {
    let (auth, number, space) = acme(&app).await;
    let png = grid_png(48, 32);
    let mut missing = Vec::new();
    let member: Vec<Value> = (0..250)
        .map(|index| {
            let id = format!("leaf-{index:03}");
            let origin = if index % 25 == 7 {
                missing.push(id.clone());
                app.add_master(&format!("{id}.png"), &png)
                    .replace(".png", ".absent")
            } else {
                app.add_master(&format!("{id}.png"), &png)
            };
            let mut image = json!({"id": id, "space": space, "origin": origin, "number1": index});
            if index % 2 == 0 {
                image["mediaType"] = json!("image/png");
            }
            image
        })
        .collect();
    assert_eq!(missing.len(), 10);
    let body = json!({"@context": "http://www.w3.org/ns/hydra/context.jsonld",
        "@type": "Collection", "total_items": 250, "member": member});
    let queue = format!("/customers/{number}/queue");
    let submitted = call(&app, &auth, Method::POST, &queue, Some(&body), None).await;
    assert_eq!(submitted.status, 201, "{:#}", submitted.body);
    let batch = submitted.body["@id"]
        .as_str()
        .expect("batch @id")
        .to_owned();
    assert_eq!(submitted.headers["location"], batch.as_str());
    assert_eq!(submitted.body["@type"], "vocab:Batch");
    assert_eq!(submitted.body["count"], 250);
    assert!(submitted.body["submitted"].is_string());
    assert_eq!(submitted.body["superseded"], false);

    let listed = get(&app, &auth, &format!("{queue}/batches")).await;
    assert_eq!(listed.body["member"][0]["@id"], batch.as_str());

    let finished = finished_batch(&app, &auth, &batch).await;
    assert_eq!(finished["count"], 250);
    assert_eq!(finished["completed"], 240, "{finished:#}");
    assert_eq!(finished["errors"], 10, "{finished:#}");
    assert_eq!(finished["images"], format!("{batch}/images"));

    let errors = get(&app, &auth, finished["errorImages"].as_str().unwrap()).await;
    assert_eq!(errors.body["totalItems"], 10);
    let mut failed: Vec<String> = errors.body["member"]
        .as_array()
        .unwrap()
        .iter()
        .map(|image| {
            assert!(
                !image["error"].as_str().unwrap_or("").is_empty(),
                "{image:#}"
            );
            assert_eq!(image["batch"], batch.as_str());
            image["id"].as_str().unwrap().to_owned()
        })
        .collect();
    failed.sort();
    assert_eq!(failed, missing);
    // a member deleted since is still listed, with what the batch knows of it
    let deleted = call(
        &app,
        &auth,
        Method::DELETE,
        &format!("/customers/{number}/spaces/{space}/images/{}", missing[0]),
        None,
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
    let errors = get(&app, &auth, finished["errorImages"].as_str().unwrap()).await;
    assert_eq!(errors.body["totalItems"], 10);
    let gone = &errors.body["member"][0];
    assert_eq!(gone["id"], missing[0].as_str());
    assert!(gone.get("width").is_none(), "{gone:#}");
    assert!(!gone["error"].as_str().unwrap_or("").is_empty(), "{gone:#}");
    assert_eq!(gone["batch"], batch.as_str());

    let completed = get(&app, &auth, finished["completedImages"].as_str().unwrap()).await;
    assert_eq!(completed.body["totalItems"], 240);
    assert_eq!(completed.body["pageSize"], 100);
    assert_eq!(completed.body["member"].as_array().map(Vec::len), Some(100));
    assert_eq!(completed.body["view"]["totalPages"], 3);
    let last = get(
        &app,
        &auth,
        completed.body["view"]["last"].as_str().unwrap(),
    )
    .await;
    assert_eq!(last.body["member"].as_array().map(Vec::len), Some(40));
    let all = get(&app, &auth, &format!("{batch}/images?pageSize=1000")).await;
    assert_eq!(all.body["totalItems"], 250);
    let members = all.body["member"].as_array().unwrap();
    assert_eq!(members.len(), 250);
    // a member without mediaType takes the one its bytes have
    let inferred = members
        .iter()
        .find(|image| image["id"] == "leaf-001")
        .unwrap();
    assert_eq!(inferred["mediaType"], "image/png", "{inferred:#}");
    assert_eq!(inferred["width"], 48);

    let counts = get(&app, &auth, &queue).await;
    assert_eq!(counts.status, 200);
    assert_eq!(counts.body["@type"], "vocab:Queue");
    assert_eq!(counts.body["batchesWaiting"], 0);
    assert_eq!(counts.body["imagesWaiting"], 0);
    let recent = get(&app, &auth, &format!("{queue}/recent")).await;
    assert_eq!(recent.body["member"][0]["@id"], batch.as_str());
    let active = get(&app, &auth, &format!("{queue}/active")).await;
    assert_eq!(active.body["totalItems"], 0);
    let listed = get(&app, &auth, &format!("{queue}/batches")).await;
    assert_eq!(listed.body["totalItems"], 1);
    app.stop().await;
}

/// Tenancy: another customer's key is refused (403) on every route, no credential or a wrong
/// secret is 401 with a Basic challenge, and nothing is written.
#[tokio::test]
async fn another_customers_key_is_refused_on_every_route() {
    let app = TestApp::start().await;
    let (_, number, space) = acme(&app).await;
    let intruder = app.customer_with_key("globex").await;
    let spaces = format!("/customers/{number}/spaces");
    let images = format!("{spaces}/{space}/images");
    let queue = format!("/customers/{number}/queue");
    let body = json!({"name": "x", "origin": "https://example.org/a.jpg", "member": []});
    let routes = [
        (Method::GET, format!("/customers/{number}")),
        (Method::GET, "/customers/acme".to_owned()),
        (Method::GET, spaces.clone()),
        (Method::POST, spaces.clone()),
        (Method::GET, format!("{spaces}/{space}")),
        (Method::PUT, format!("{spaces}/{space}")),
        (Method::PATCH, format!("{spaces}/{space}")),
        (Method::DELETE, format!("{spaces}/{space}")),
        (Method::GET, images.clone()),
        (Method::POST, images.clone()),
        (Method::PATCH, images.clone()),
        (Method::GET, format!("{images}/a")),
        (Method::PUT, format!("{images}/a")),
        (Method::PATCH, format!("{images}/a")),
        (Method::DELETE, format!("{images}/a")),
        (Method::GET, queue.clone()),
        (Method::POST, queue.clone()),
        (Method::GET, format!("{queue}/batches")),
        (Method::GET, format!("{queue}/active")),
        (Method::GET, format!("{queue}/recent")),
        (Method::GET, format!("{queue}/batches/1")),
        (Method::GET, format!("{queue}/batches/1/images")),
        (Method::GET, format!("{queue}/batches/1/completedImages")),
        (Method::GET, format!("{queue}/batches/1/errorImages")),
    ];
    for (method, path) in &routes {
        let refused = call(&app, &intruder, method.clone(), path, Some(&body), None).await;
        assert_status(&refused, 403, "forbidden");
        let anonymous = call(&app, &Auth::None, method.clone(), path, Some(&body), None).await;
        assert_status(&anonymous, 401, "unauthenticated");
        assert!(
            anonymous.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic"),
            "{method} {path}"
        );
    }
    // a wrong secret is 401 too (once: failures from one address are throttled)
    let wrong = Auth::basic("test-admin", "not-the-secret-at-all");
    let refused = call(&app, &wrong, Method::GET, &spaces, None, None).await;
    assert_status(&refused, 401, "unauthenticated");
    let count = get(&app, &Auth::admin(), &spaces).await;
    assert_eq!(count.body["totalItems"], 1);
    assert_eq!(count.body["member"][0]["approximateNumberOfImages"], 0);
    app.stop().await;
}

/// Bad input: an unknown space, an id with `/`, an origin refused, a batch over the limit and
/// malformed JSON each answer 4xx with Vitrine's code and write nothing; a refused batch
/// lists the problem of each member.
#[tokio::test]
async fn bad_input_answers_4xx_with_a_code_and_writes_nothing() {
    let app = TestApp::start().await;
    let (auth, number, space) = acme(&app).await;
    let images = format!("/customers/{number}/spaces/{space}/images");
    let queue = format!("/customers/{number}/queue");
    let origin = app.add_master("good.png", &grid_png(16, 16));
    let post = |path: String, body: Value| {
        let app = &app;
        let auth = &auth;
        async move { call(app, auth, Method::POST, &path, Some(&body), None).await }
    };

    let unknown_space = post(
        format!("/customers/{number}/spaces/99/images"),
        json!({"id": "a", "origin": origin}),
    )
    .await;
    assert_status(&unknown_space, 404, "not-found");
    let not_a_space = get(&app, &auth, &format!("/customers/{number}/spaces/x/images")).await;
    assert_status(&not_a_space, 404, "not-found");
    let slash = post(images.clone(), json!({"id": "a/b", "origin": origin})).await;
    assert_status(&slash, 400, "invalid-id");
    let refused_origin = post(
        images.clone(),
        json!({"id": "a", "origin": "ftp://example.org/a.png"}),
    )
    .await;
    assert_status(&refused_origin, 400, "invalid-origin");
    let no_origin = post(images.clone(), json!({"id": "a"})).await;
    assert_status(&no_origin, 400, "invalid-origin");
    let wrong_type = post(
        images.clone(),
        json!({"id": "a", "origin": origin, "number1": "one"}),
    )
    .await;
    assert_status(&wrong_type, 400, "invalid-input");

    let malformed = call(
        &app,
        &auth,
        Method::POST,
        &queue,
        None,
        Some("application/json"),
    )
    .await;
    assert_status(&malformed, 400, "invalid-input");
    let truncated = app
        .client
        .post(app.url(&format!("/api{queue}")))
        .basic_auth("x", Some("y"))
        .body("{\"member\": [");
    assert_eq!(truncated.send().await.unwrap().status().as_u16(), 401);
    let truncated = app
        .client
        .post(app.url(&format!("/api{queue}")))
        .basic_auth(
            match &auth {
                Auth::Basic { key, .. } => key.as_str(),
                _ => unreachable!(),
            },
            Some(match &auth {
                Auth::Basic { secret, .. } => secret.as_str(),
                _ => unreachable!(),
            }),
        )
        .body("{\"member\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(truncated.status().as_u16(), 400);
    let body: Value = truncated.json().await.unwrap();
    assert_eq!(body["code"], "invalid-input");

    let mixed = post(
        queue.clone(),
        json!({"member": [
            {"id": "fine", "space": space, "origin": origin},
            {"id": "x/y", "space": space, "origin": origin},
            {"id": "elsewhere", "space": 99, "origin": origin},
            {"id": "ftp", "space": space, "origin": "ftp://example.org/a"},
        ]}),
    )
    .await;
    assert_status(&mixed, 400, "invalid-input");
    let problems: Vec<(u64, String, String)> = mixed.body["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|problem| {
            (
                problem["index"].as_u64().unwrap(),
                problem["field"].as_str().unwrap_or("").to_owned(),
                problem["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        vec![
            (1, "id".to_owned(), "invalid-id".to_owned()),
            (2, "space".to_owned(), "not-found".to_owned()),
            (3, "origin".to_owned(), "invalid-origin".to_owned()),
        ]
    );
    let unplaced = post(
        queue.clone(),
        json!({"member": [
            {"id": "a", "origin": origin},
            {"id": "x/y", "space": space, "origin": origin}
        ]}),
    )
    .await;
    assert_status(&unplaced, 400, "invalid-input");
    let problems = unplaced.body["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(problems[0]["index"], 0);
    assert_eq!(problems[0]["field"], "space");
    assert_eq!(problems[1]["index"], 1);
    assert_eq!(problems[1]["code"], "invalid-id");

    let over: Vec<Value> = (0..domain::MAX_BATCH_MEMBERS + 1)
        .map(|index| json!({"id": format!("n{index}"), "space": space, "origin": origin}))
        .collect();
    let too_many = post(queue.clone(), json!({"member": over})).await;
    assert_status(&too_many, 400, "invalid-input");
    let empty = post(queue.clone(), json!({"member": []})).await;
    assert_status(&empty, 400, "invalid-input");

    let paging = get(&app, &auth, &format!("{images}?page=0")).await;
    assert_status(&paging, 400, "bad-request");
    let paging = get(&app, &auth, &format!("{images}?pageSize=5000")).await;
    assert_status(&paging, 400, "bad-request");
    let batch = get(&app, &auth, &format!("{queue}/batches/12")).await;
    assert_status(&batch, 404, "not-found");
    let unknown_customer = get(&app, &Auth::admin(), "/customers/nobody").await;
    assert_status(&unknown_customer, 404, "not-found");

    let listed = get(&app, &auth, &images).await;
    assert_eq!(listed.body["totalItems"], 0, "nothing was registered");
    let batches = get(&app, &auth, &format!("{queue}/batches")).await;
    assert_eq!(batches.body["totalItems"], 0, "no batch was created");
    app.stop().await;
}

/// The prefix is a setting: the same API under another path, and nothing under `/api`.
#[tokio::test]
async fn the_prefix_is_configurable() {
    let app = TestApp::builder()
        .config(|config| config.rest_api_prefix = "/dlcs/v2".to_owned())
        .start()
        .await;
    let (status, body) = app.get_json("/dlcs/v2/customers").await;
    assert_eq!(status, 401, "{body:#}");
    let (status, description) = app.get_json("/dlcs/v2/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(description["servers"][0]["url"], app.url("/dlcs/v2"));
    assert_eq!(app.get("/api/customers").await.status().as_u16(), 404);
    app.stop().await;
}

/// A body over `max_request_bytes` is refused (413) without being parsed, and writes nothing;
/// an anonymous one is refused (401) before it is read.
#[tokio::test]
async fn bodies_over_the_request_limit_are_refused() {
    let app = TestApp::builder().max_request_bytes(2048).start().await;
    let (auth, number, space) = acme(&app).await;
    let member: Vec<Value> = (0..100)
        .map(|index| json!({"id": format!("n{index}"), "space": space, "origin": "https://example.org/a.jpg"}))
        .collect();
    let queue = format!("/customers/{number}/queue");
    let refused = call(
        &app,
        &auth,
        Method::POST,
        &queue,
        Some(&json!({"member": member})),
        None,
    )
    .await;
    assert_status(&refused, 413, "payload-too-large");
    // without a credential the body is never read: 401, not 413
    let anonymous = call(
        &app,
        &Auth::None,
        Method::POST,
        &queue,
        Some(&json!({"member": member})),
        None,
    )
    .await;
    assert_status(&anonymous, 401, "unauthenticated");
    let batches = get(&app, &auth, &format!("{queue}/batches")).await;
    assert_eq!(batches.body["totalItems"], 0);
    app.stop().await;
}
