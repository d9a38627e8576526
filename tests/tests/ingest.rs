//! Ingest at scale over real HTTP: the job queue with workers, retries of transient origin
//! failures, batches (GraphQL list and CSV) with their counters and live progress, re-ingest,
//! deletion of stored objects, and quotas. Origins are a local server (`Origin`) that serves
//! good masters, a 404, a corrupt file, a slow answer and a flapping 503.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use vitrine_tests::images::grid_png;
use vitrine_tests::{Auth, Origin, S3Server, TestApp, media_fixture};

/// A server with two workers that may fetch from loopback origins, timing out after 1 s.
async fn app_with_workers() -> TestApp {
    TestApp::builder()
        .workers(2)
        .config(|config| {
            config.allow_private_origins = true;
            config.origin_timeout_seconds = 1;
            config.ingest_max_attempts = 3;
        })
        .start()
        .await
}

async fn asset(app: &TestApp, auth: &Auth, space: i64, id: &str) -> Value {
    let response = app
        .graphql(
            auth,
            "query($s: Int!, $id: String!) { asset(customer: \"acme\", space: $s, id: $id) {
                id status error width height finished batch } }",
            json!({ "s": space, "id": id }),
        )
        .await;
    response.data()["asset"].clone()
}

/// Polls an asset until it is READY or ERROR.
async fn settled(app: &TestApp, auth: &Auth, space: i64, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let current = asset(app, auth, space, id).await;
        if matches!(current["status"].as_str(), Some("READY" | "ERROR")) {
            return current;
        }
        assert!(Instant::now() < deadline, "{id} never settled: {current}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn register(app: &TestApp, auth: &Auth, space: i64, id: &str, origin: &str) -> Value {
    let response = app
        .graphql(
            auth,
            "mutation($s: Int!, $id: String!, $o: String!) {
                registerAsset(customer: \"acme\", space: $s, input: {id: $id, mediaType: \"image/png\", origin: $o}) {
                    id status } }",
            json!({ "s": space, "id": id, "o": origin }),
        )
        .await;
    response.data()["registerAsset"].clone()
}

#[tokio::test]
async fn workers_process_registrations_and_retry_only_transient_failures() {
    let app = app_with_workers().await;
    let origin = Origin::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;

    let good = origin.add("good.png", "image/png", grid_png(300, 200));
    let missing = origin.url("missing.png");
    let corrupt = origin.add("corrupt.png", "image/png", b"not a png at all".to_vec());
    let slow = origin.add("slow.png", "image/png", grid_png(10, 10));
    let flapping = origin.add("flapping.png", "image/png", grid_png(64, 64));
    origin.flap("flapping.png", 2);

    for (id, url) in [
        ("good", &good),
        ("missing", &missing),
        ("corrupt", &corrupt),
        ("slow", &slow),
        ("flapping", &flapping),
    ] {
        let registered = register(&app, &auth, space, id, url).await;
        assert_eq!(registered["status"], "WAITING", "{id} returns at once");
    }

    let good = settled(&app, &auth, space, "good").await;
    assert_eq!(good["status"], "READY");
    assert_eq!(
        (good["width"].as_i64(), good["height"].as_i64()),
        (Some(300), Some(200))
    );
    assert!(good["finished"].is_string());
    assert_eq!(origin.hits("good.png"), 1);

    let missing = settled(&app, &auth, space, "missing").await;
    assert_eq!(missing["status"], "ERROR");
    assert!(
        missing["error"]
            .as_str()
            .unwrap()
            .starts_with("origin-refused"),
        "{missing}"
    );
    assert_eq!(
        origin.hits("missing.png"),
        1,
        "a 404 is permanent: no retry"
    );

    let corrupt = settled(&app, &auth, space, "corrupt").await;
    assert_eq!(corrupt["status"], "ERROR");
    assert_eq!(
        origin.hits("corrupt.png"),
        1,
        "an undecodable master is not retried"
    );

    let flapping = settled(&app, &auth, space, "flapping").await;
    assert_eq!(flapping["status"], "READY", "{flapping}");
    assert_eq!(origin.hits("flapping.png"), 3, "two 503s, then success");

    let slow = settled(&app, &auth, space, "slow").await;
    assert_eq!(slow["status"], "ERROR");
    assert!(
        slow["error"]
            .as_str()
            .unwrap()
            .starts_with("origin-unavailable"),
        "{slow}"
    );
    assert_eq!(
        origin.hits("slow.png"),
        3,
        "timeouts are retried up to the attempt limit"
    );
    app.stop().await;
}

#[tokio::test]
async fn reingest_and_changes_that_need_it_queue_processing_again() {
    let app = app_with_workers().await;
    let origin = Origin::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;
    let url = origin.add("a.png", "image/png", grid_png(40, 30));
    register(&app, &auth, space, "a", &url).await;
    assert_eq!(settled(&app, &auth, space, "a").await["status"], "READY");
    assert_eq!(origin.hits("a.png"), 1);

    // a metadata change does not reprocess
    let patched = app
        .graphql(
            &auth,
            "mutation($s: Int!) { updateAsset(customer: \"acme\", space: $s, id: \"a\", patch: {string1: \"x\"}) { status } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(patched.data()["updateAsset"]["status"], "READY");

    // a new origin does
    let other = origin.add("b.png", "image/png", grid_png(80, 60));
    let patched = app
        .graphql(
            &auth,
            "mutation($s: Int!, $o: String!) { updateAsset(customer: \"acme\", space: $s, id: \"a\", patch: {origin: $o}) { status } }",
            json!({ "s": space, "o": other }),
        )
        .await;
    assert_eq!(patched.data()["updateAsset"]["status"], "WAITING");
    let done = settled(&app, &auth, space, "a").await;
    assert_eq!(done["width"], 80);
    assert_eq!(origin.hits("b.png"), 1);

    let reingested = app
        .graphql(
            &auth,
            "mutation($s: Int!) { reingestAsset(customer: \"acme\", space: $s, id: \"a\", wait: true) { status width } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(reingested.data()["reingestAsset"]["status"], "READY");
    assert_eq!(origin.hits("b.png"), 2);

    let missing = app
        .graphql(
            &auth,
            "mutation($s: Int!) { reingestAsset(customer: \"acme\", space: $s, id: \"nope\") { status } }",
            json!({ "s": space }),
        )
        .await;
    missing.expect_error("NOT_FOUND");
    app.stop().await;
}

#[tokio::test]
async fn deleting_an_asset_removes_every_stored_object() {
    let app = TestApp::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;
    let before = app.stored_object_count().await;
    let registered = app
        .register_image(&auth, "acme", space, "a", &grid_png(600, 400))
        .await;
    assert_eq!(registered["status"], "READY");
    assert!(
        app.stored_object_count().await > before + 1,
        "a pyramid and thumbnails"
    );
    let deleted = app
        .graphql(
            &auth,
            "mutation($s: Int!) { deleteAsset(customer: \"acme\", space: $s, id: \"a\") }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(deleted.data()["deleteAsset"], true);
    assert_eq!(app.stored_object_count().await, before);
    app.stop().await;
}

const CREATE_BATCH: &str = "mutation($m: [BatchMemberInput!]!) {
    createBatch(customer: \"acme\", members: $m) { id count completed errors finished superseded } }";

async fn batch(app: &TestApp, auth: &Auth, id: i64) -> Value {
    let response = app
        .graphql(
            auth,
            "query($id: Int!) { batch(customer: \"acme\", id: $id) {
                id count completed errors finished superseded
                members(first: 100) { totalCount edges { node { index space assetId status error } } }
                errorMembers: members(status: ERROR) { totalCount }
                readyMembers: members(status: READY) { totalCount } } }",
            json!({ "id": id }),
        )
        .await;
    response.data()["batch"].clone()
}

async fn finished_batch(app: &TestApp, auth: &Auth, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let current = batch(app, auth, id).await;
        if current["finished"].is_string() {
            return current;
        }
        assert!(Instant::now() < deadline, "batch never finished: {current}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Counters equal the members' states.
fn assert_counters_match_members(batch: &Value) {
    assert_eq!(
        batch["completed"], batch["readyMembers"]["totalCount"],
        "{batch}"
    );
    assert_eq!(
        batch["errors"], batch["errorMembers"]["totalCount"],
        "{batch}"
    );
}

#[tokio::test]
async fn batches_are_all_or_nothing_and_their_counters_follow_their_members() {
    let app = app_with_workers().await;
    let origin = Origin::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;

    // every invalid member is reported, and nothing is created
    let invalid = app
        .graphql(
            &auth,
            CREATE_BATCH,
            json!({ "m": [
                { "space": space, "id": "ok", "mediaType": "image/png", "origin": origin.url("x.png") },
                { "space": space, "id": "a/b", "mediaType": "image/png", "origin": origin.url("x.png") },
                { "space": space, "id": "c", "mediaType": "nonsense", "origin": origin.url("x.png") },
                { "space": 999, "id": "d", "mediaType": "image/png", "origin": origin.url("x.png") },
                { "space": space, "id": "ok", "mediaType": "image/png", "origin": origin.url("x.png") },
                { "space": space, "id": "e", "mediaType": "image/png", "origin": "ftp://example.org/e" },
            ] }),
        )
        .await;
    invalid.expect_error("INVALID_BATCH");
    let problems: Vec<(i64, String)> = invalid.body["errors"][0]["extensions"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["member"].as_i64().unwrap(),
                p["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        vec![
            (1, "INVALID_ID".to_owned()),
            (2, "INVALID_MEDIA_TYPE".to_owned()),
            (3, "NOT_FOUND".to_owned()),
            (4, "CONFLICT".to_owned()),
            (5, "INVALID_ORIGIN".to_owned()),
        ]
    );
    let nothing = app
        .graphql(
            &auth,
            "query($s: Int!) { customer(name: \"acme\") { batches { totalCount } }
               space(customer: \"acme\", id: $s) { assets { totalCount } } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(nothing.data()["customer"]["batches"]["totalCount"], 0);
    assert_eq!(nothing.data()["space"]["assets"]["totalCount"], 0);

    // a valid batch with some failing members
    let mut members = Vec::new();
    for n in 0..6 {
        let url = origin.add(&format!("p{n}.png"), "image/png", grid_png(50 + n, 40));
        members.push(json!({ "space": space, "id": format!("p{n}"), "mediaType": "image/png", "origin": url, "number1": n }));
    }
    members.push(json!({ "space": space, "id": "gone", "mediaType": "image/png", "origin": origin.url("gone.png") }));
    members.push(
        json!({ "space": space, "id": "bad", "mediaType": "image/png",
        "origin": origin.add("bad.png", "image/png", b"garbage".to_vec()) }),
    );
    let created = app
        .graphql(&auth, CREATE_BATCH, json!({ "m": members }))
        .await;
    let created = created.data()["createBatch"].clone();
    assert_eq!(created["count"], 8);
    let id = created["id"].as_i64().unwrap();

    let done = finished_batch(&app, &auth, id).await;
    assert_eq!(done["completed"], 6, "{done}");
    assert_eq!(done["errors"], 2, "{done}");
    assert_counters_match_members(&done);
    assert_eq!(asset(&app, &auth, space, "p3").await["batch"], id);

    let active = app
        .graphql(
            &auth,
            "{ customer(name: \"acme\") { all: batches { totalCount } active: batches(active: true) { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(active.data()["customer"]["all"]["totalCount"], 1);
    assert_eq!(active.data()["customer"]["active"]["totalCount"], 0);

    // re-submitting takes the existing assets over and processes them again
    let again = app
        .graphql(
            &auth,
            CREATE_BATCH,
            json!({ "m": [ { "space": space, "id": "p0", "mediaType": "image/png", "origin": origin.url("p1.png") } ] }),
        )
        .await;
    let again_id = again.data()["createBatch"]["id"].as_i64().unwrap();
    let again = finished_batch(&app, &auth, again_id).await;
    assert_eq!(again["completed"], 1);
    assert_eq!(asset(&app, &auth, space, "p0").await["width"], 51);

    // a batch of someone else is not found
    let other = app.customer_with_key("other").await;
    app.graphql(
        &other,
        "query($id: Int!) { batch(customer: \"acme\", id: $id) { id } }",
        json!({ "id": id }),
    )
    .await
    .expect_error("FORBIDDEN");
    app.stop().await;

    // a list over the batch limit becomes two batches of one import, listed together
    let many: Vec<Value> = (0..domain::MAX_BATCH_MEMBERS + 1)
        .map(|n| json!({ "space": 1, "id": format!("m{n}"), "mediaType": "image/png", "origin": "https://example.org/x.png" }))
        .collect();
    let big = TestApp::builder()
        .max_request_bytes(8 * 1024 * 1024)
        .start()
        .await;
    let auth2 = big.customer_with_key("acme").await;
    big.create_space(&auth2, "acme", "s").await;
    let created = big
        .graphql(
            &auth2,
            "mutation($m: [BatchMemberInput!]!) { createBatch(customer: \"acme\", members: $m) { id count import } }",
            json!({ "m": many }),
        )
        .await;
    let first = created.data()["createBatch"].clone();
    assert_eq!(first["count"], domain::MAX_BATCH_MEMBERS, "{first}");
    assert_eq!(first["import"], first["id"], "{first}");
    let listed = big
        .graphql(
            &auth2,
            "{ customer(name: \"acme\") { batches(first: 10) { nodes { id count import } } } }",
            json!({}),
        )
        .await;
    let nodes = listed.data()["customer"]["batches"]["nodes"].clone();
    let mut counts: Vec<i64> = nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|batch| {
            assert_eq!(batch["import"], first["id"], "{nodes}");
            batch["count"].as_i64().unwrap()
        })
        .collect();
    counts.sort();
    assert_eq!(counts, vec![1, domain::MAX_BATCH_MEMBERS as i64]);
    big.stop().await;
}

#[tokio::test]
async fn batch_progress_streams_over_websocket_until_the_batch_finishes() {
    let app = app_with_workers().await;
    let origin = Origin::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;
    let members: Vec<Value> = (0..4)
        .map(|n| {
            let url = origin.add(&format!("w{n}.png"), "image/png", grid_png(200, 150));
            json!({ "space": space, "id": format!("w{n}"), "mediaType": "image/png", "origin": url })
        })
        .collect();
    let created = app
        .graphql(&auth, CREATE_BATCH, json!({ "m": members }))
        .await;
    let id = created.data()["createBatch"]["id"].as_i64().unwrap();

    let updates = progress_until_finished(&app, &auth, id).await;
    assert!(!updates.is_empty());
    let last = updates.last().unwrap();
    assert_eq!(last["completed"], 4, "{updates:?}");
    assert!(last["finished"].is_string());
    assert!(
        updates[..updates.len() - 1]
            .iter()
            .all(|u| u["finished"].is_null())
    );
    let completed: Vec<i64> = updates
        .iter()
        .map(|u| u["completed"].as_i64().unwrap())
        .collect();
    assert!(
        completed.windows(2).all(|w| w[0] <= w[1]),
        "counters only grow: {completed:?}"
    );

    // without a credential the subscription is refused
    let mut request = (app.base_url.replacen("http", "ws", 1) + "/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |value: Value| Message::Text(value.to_string().into());
    socket
        .send(send(json!({ "type": "connection_init" })))
        .await
        .unwrap();
    socket
        .send(send(json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription($id: Int!) { batchProgress(customer: \"acme\", id: $id) { completed } }",
            "variables": { "id": id } } })))
        .await
        .unwrap();
    loop {
        let Message::Text(text) = socket.next().await.unwrap().unwrap() else {
            continue;
        };
        let value: Value = serde_json::from_str(&text).unwrap();
        if value["type"] == "connection_ack" {
            continue;
        }
        let code = &value["payload"]["errors"][0]["extensions"]["code"];
        assert_eq!(code, "UNAUTHENTICATED", "{value}");
        break;
    }
    app.stop().await;
}

/// Every update of a batch's progress subscription, until the stream completes.
async fn progress_until_finished(app: &TestApp, auth: &Auth, id: i64) -> Vec<Value> {
    let mut request = (app.base_url.replacen("http", "ws", 1) + "/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let Auth::Basic { key, secret } = auth else {
        panic!("basic auth expected")
    };
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{key}:{secret}"),
    );
    let send = |value: Value| Message::Text(value.to_string().into());
    socket
        .send(send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Basic {basic}") } })))
        .await
        .unwrap();
    socket
        .send(send(json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription($id: Int!) { batchProgress(customer: \"acme\", id: $id) { completed errors finished } }",
            "variables": { "id": id } } })))
        .await
        .unwrap();
    let mut updates = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("progress arrives")
            .expect("socket open")
            .unwrap();
        let Message::Text(text) = message else {
            continue;
        };
        let value: Value = serde_json::from_str(&text).unwrap();
        match value["type"].as_str() {
            Some("next") => updates.push(value["payload"]["data"]["batchProgress"].clone()),
            Some("complete") => return updates,
            Some("error") => panic!("subscription failed: {value}"),
            _ => {}
        }
    }
}

const RETRY_FAILED_BATCH: &str = "mutation($id: Int!) {
    retryFailedBatch(customer: \"acme\", batch: $id) { id count completed errors finished } }";

const CANCEL_BATCH: &str = "mutation($id: Int!) {
    cancelBatch(customer: \"acme\", batch: $id) { id count completed errors finished } }";

#[tokio::test]
async fn failed_batch_members_are_retried_once_their_origins_are_fixed() {
    let app = app_with_workers().await;
    let origin = Origin::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;
    let mut members: Vec<Value> = (0..4)
        .map(|n| {
            let url = origin.add(&format!("r{n}.png"), "image/png", grid_png(60, 40));
            json!({ "space": space, "id": format!("r{n}"), "mediaType": "image/png", "origin": url })
        })
        .collect();
    // one origin is not there yet, one serves a file that is not an image
    members.push(json!({ "space": space, "id": "late", "mediaType": "image/png", "origin": origin.url("late.png") }));
    members.push(
        json!({ "space": space, "id": "broken", "mediaType": "image/png",
        "origin": origin.add("broken.png", "image/png", b"not a png".to_vec()) }),
    );
    let created = app
        .graphql(&auth, CREATE_BATCH, json!({ "m": members }))
        .await;
    let id = created.data()["createBatch"]["id"].as_i64().unwrap();
    let failed = finished_batch(&app, &auth, id).await;
    assert_eq!(
        (failed["completed"].as_i64(), failed["errors"].as_i64()),
        (Some(4), Some(2))
    );

    // only the customer's own key may retry it, and only batches that exist
    let other = app.customer_with_key("other").await;
    app.graphql(&other, RETRY_FAILED_BATCH, json!({ "id": id }))
        .await
        .expect_error("FORBIDDEN");
    app.graphql(&auth, RETRY_FAILED_BATCH, json!({ "id": id + 100 }))
        .await
        .expect_error("NOT_FOUND");

    origin.add("late.png", "image/png", grid_png(30, 20));
    origin.add("broken.png", "image/png", grid_png(40, 30));
    let retried = app
        .graphql(&auth, RETRY_FAILED_BATCH, json!({ "id": id }))
        .await;
    let retried = retried.data()["retryFailedBatch"].clone();
    assert_eq!(retried["id"], id);
    assert_eq!(
        (retried["completed"].as_i64(), retried["errors"].as_i64()),
        (Some(4), Some(0))
    );
    assert!(retried["finished"].is_null(), "{retried}");

    // the progress subscription follows the reopened batch to its new end
    let updates = progress_until_finished(&app, &auth, id).await;
    let last = updates.last().expect("at least one update");
    assert_eq!(
        (last["completed"].as_i64(), last["errors"].as_i64()),
        (Some(6), Some(0))
    );
    assert!(last["finished"].is_string(), "{updates:?}");

    let done = finished_batch(&app, &auth, id).await;
    assert_eq!(
        (done["completed"].as_i64(), done["errors"].as_i64()),
        (Some(6), Some(0)),
        "{done}"
    );
    assert_counters_match_members(&done);
    assert!(
        done["members"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|edge| edge["node"]["status"] == "READY"),
        "{done}"
    );
    assert_eq!(asset(&app, &auth, space, "late").await["width"], 30);
    assert_eq!(asset(&app, &auth, space, "broken").await["width"], 40);
    assert_eq!(
        origin.hits("r0.png"),
        1,
        "members that were READY are not fetched again"
    );
    assert_eq!(origin.hits("late.png"), 2);

    // with nothing failed, a retry changes nothing
    let again = app
        .graphql(&auth, RETRY_FAILED_BATCH, json!({ "id": id }))
        .await;
    assert_eq!(
        again.data()["retryFailedBatch"]["finished"],
        done["finished"]
    );
    app.stop().await;
}

#[tokio::test]
async fn cancelling_a_batch_ends_the_members_still_waiting() {
    // no workers: every member waits
    let app = TestApp::builder().start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;
    let members: Vec<Value> = (0..3)
        .map(|n| {
            json!({ "space": space, "id": format!("q{n}"), "mediaType": "image/png",
            "origin": format!("https://example.org/q{n}.png") })
        })
        .collect();
    let created = app
        .graphql(&auth, CREATE_BATCH, json!({ "m": members }))
        .await;
    let id = created.data()["createBatch"]["id"].as_i64().unwrap();

    let other = app.customer_with_key("other").await;
    app.graphql(&other, CANCEL_BATCH, json!({ "id": id }))
        .await
        .expect_error("FORBIDDEN");

    let cancelled = app.graphql(&auth, CANCEL_BATCH, json!({ "id": id })).await;
    let cancelled = cancelled.data()["cancelBatch"].clone();
    assert_eq!(
        (
            cancelled["completed"].as_i64(),
            cancelled["errors"].as_i64()
        ),
        (Some(0), Some(3))
    );
    assert!(cancelled["finished"].is_string(), "{cancelled}");
    let current = batch(&app, &auth, id).await;
    assert_counters_match_members(&current);
    for edge in current["members"]["edges"].as_array().unwrap() {
        assert_eq!(edge["node"]["status"], "ERROR", "{edge}");
        assert_eq!(edge["node"]["error"], "cancelled: the batch was cancelled");
    }
    let q0 = asset(&app, &auth, space, "q0").await;
    assert_eq!(q0["status"], "ERROR");
    assert_eq!(q0["error"], "cancelled: the batch was cancelled");

    // a finished batch has nothing left to cancel
    let again = app.graphql(&auth, CANCEL_BATCH, json!({ "id": id })).await;
    assert_eq!(again.data()["cancelBatch"], cancelled);
    app.stop().await;
}

const IMPORT_CSV: &str = "mutation($csv: String!, $dry: Boolean!) {
    importCsv(customer: \"acme\", content: $csv, dryRun: $dry) {
        totalRows validRows errors { line column code message }
        rows { line space id mediaType origin string1 number1 tags }
        batch { id count } } }";

#[tokio::test]
async fn csv_imports_report_every_problem_and_create_a_batch_when_there_is_none() {
    let app = app_with_workers().await;
    let origin = Origin::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "books").await;
    let a = origin.add("a.png", "image/png", grid_png(30, 30));
    let b = origin.add("b.png", "image/png", grid_png(31, 30));

    let bad = format!(
        "Line,ID,MediaType,Space,Origin,Reference1,Number1\n\
         1,a,image/png,{space},{a},book1,1\n\
         1,b,image/png,{space},{b},book1,x\n\
         3,a,image/png,{space},{a},book1,3\n\
         4,c,image/png,99,{a},,\n\
         5,d/e,nonsense,{space},ftp://x/y,,\n\
         6,,image/png,{space},{a},,\n"
    );
    let checked = app
        .graphql(&auth, IMPORT_CSV, json!({ "csv": bad, "dry": false }))
        .await;
    let checked = checked.data()["importCsv"].clone();
    assert_eq!(checked["totalRows"], 6);
    assert!(checked["batch"].is_null());
    let errors: Vec<(i64, String, String)> = checked["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap(),
                e["column"].as_str().unwrap_or("").to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        (1, "Number1", "INVALID_NUMBER"),
        (1, "Line", "DUPLICATE_LINE"),
        (3, "ID", "DUPLICATE_ASSET"),
        (4, "Space", "UNKNOWN_SPACE"),
        (5, "ID", "INVALID_ID"),
        (5, "MediaType", "INVALID_MEDIA_TYPE"),
        (5, "Origin", "INVALID_ORIGIN"),
        (6, "ID", "MISSING_VALUE"),
    ] {
        let expected = (expected.0, expected.1.to_owned(), expected.2.to_owned());
        assert!(
            errors.contains(&expected),
            "{expected:?} missing from {errors:?}"
        );
    }
    let assets = app
        .graphql(
            &auth,
            "query($s: Int!) { space(customer: \"acme\", id: $s) { assets { totalCount } } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(
        assets.data()["space"]["assets"]["totalCount"],
        0,
        "nothing created"
    );

    let good = format!(
        "\u{feff}line,id,mediatype,space,origin,reference1,number1,tags\r\n\
         1,a,image/png,{space},{a},\"book, one\",1,p;q\r\n\
         2,b,image/png,{space},{b},\"book, one\",2,\r\n"
    );
    let dry = app
        .graphql(&auth, IMPORT_CSV, json!({ "csv": good, "dry": true }))
        .await;
    let dry = dry.data()["importCsv"].clone();
    assert_eq!(
        (dry["totalRows"].as_i64(), dry["validRows"].as_i64()),
        (Some(2), Some(2))
    );
    assert!(dry["batch"].is_null(), "a dry run creates nothing");
    assert_eq!(dry["rows"][0]["string1"], "book, one");
    assert_eq!(dry["rows"][0]["tags"], json!(["p", "q"]));

    let imported = app
        .graphql(&auth, IMPORT_CSV, json!({ "csv": good, "dry": false }))
        .await;
    let batch_id = imported.data()["importCsv"]["batch"]["id"]
        .as_i64()
        .unwrap();
    let done = finished_batch(&app, &auth, batch_id).await;
    assert_eq!(done["completed"], 2, "{done}");
    let lines = app
        .graphql(
            &auth,
            "query($id: Int!) { batch(customer: \"acme\", id: $id) { members { edges { node { line assetId } } } } }",
            json!({ "id": batch_id }),
        )
        .await;
    assert_eq!(
        lines.data()["batch"]["members"]["edges"][1]["node"],
        json!({ "line": 2, "assetId": "b" })
    );

    // header problems and the content/file rule
    let no_origin = app
        .graphql(
            &auth,
            IMPORT_CSV,
            json!({ "csv": "Line,ID,MediaType,Space\n1,a,image/png,1\n", "dry": true }),
        )
        .await;
    assert_eq!(
        no_origin.data()["importCsv"]["errors"][0]["code"],
        "MISSING_COLUMN"
    );
    app.graphql(
        &auth,
        "mutation { importCsv(customer: \"acme\") { totalRows } }",
        json!({}),
    )
    .await
    .expect_error("INVALID_INPUT");
    app.stop().await;
}

#[tokio::test]
async fn csv_dry_runs_show_every_row_with_its_cells_and_problems() {
    let app = TestApp::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "books").await;
    let csv = format!(
        "Line,ID,MediaType,Space,Origin,Notes\n\
         1,a,image/png,{space},https://example.org/a.png,kept\n\
         2,b,image/png\n\
         3,c/d,image/png,{space},https://example.org/c.png,\n"
    );
    let checked = app
        .graphql(
            &auth,
            "mutation($csv: String!) { importCsv(customer: \"acme\", content: $csv, dryRun: true) {
                totalRows validRows rows { line fileLine valid cells { header column value }
                errors { line column code } } } }",
            json!({ "csv": csv }),
        )
        .await;
    let checked = checked.data()["importCsv"].clone();
    assert_eq!(
        (&checked["totalRows"], &checked["validRows"]),
        (&json!(3), &json!(1))
    );
    let rows = checked["rows"].as_array().unwrap();
    let lines: Vec<(&Value, &Value, &Value)> = rows
        .iter()
        .map(|row| (&row["line"], &row["fileLine"], &row["valid"]))
        .collect();
    assert_eq!(
        lines,
        vec![
            (&json!(1), &json!(2), &json!(true)),
            (&json!(3), &json!(3), &json!(false)),
            (&json!(3), &json!(4), &json!(false)),
        ],
        "every row in file order, the one that does not parse too"
    );
    assert_eq!(
        rows[0]["cells"][5],
        json!({ "header": "Notes", "column": null, "value": "kept" })
    );
    assert_eq!(
        rows[1]["cells"],
        json!([
            { "header": "Line", "column": "Line", "value": "2" },
            { "header": "ID", "column": "ID", "value": "b" },
            { "header": "MediaType", "column": "MediaType", "value": "image/png" },
        ])
    );
    assert_eq!(
        rows[1]["errors"],
        json!([{ "line": 3, "column": null, "code": "MALFORMED_ROW" }])
    );
    assert_eq!(
        rows[2]["errors"],
        json!([{ "line": 3, "column": "ID", "code": "INVALID_ID" }])
    );
    app.stop().await;
}

/// Posts `mutation` with `csv` as its `$file` upload, as a browser's GraphQL multipart form.
async fn with_csv_upload(
    app: &TestApp,
    auth: &Auth,
    mutation: &str,
    csv: Vec<u8>,
) -> vitrine_tests::GraphqlResponse {
    let Auth::Basic { key, secret } = auth else {
        unreachable!("customer keys are basic credentials")
    };
    let operations = json!({ "query": mutation, "variables": { "file": null } });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", r#"{"0": ["variables.file"]}"#)
        .part(
            "0",
            reqwest::multipart::Part::bytes(csv)
                .file_name("import.csv")
                .mime_str("text/csv")
                .unwrap(),
        );
    let response = app
        .client
        .post(app.url("/graphql"))
        .basic_auth(key, Some(secret))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    vitrine_tests::GraphqlResponse { status, body }
}

const STAGE_CSV: &str = "mutation($file: Upload!) {
    stageCsvImport(customer: \"acme\", file: $file) {
        id expires totalRows validRows errorCount pagesWithErrors } }";

const STAGED_ROWS: &str = "query($id: String!, $after: String, $withErrors: Boolean!) {
    csvImport(customer: \"acme\", id: $id) {
        rows(first: 100, after: $after, withErrors: $withErrors) {
            totalCount pageInfo { hasNextPage endCursor }
            edges { node { line fileLine valid cells { header column value }
                           errors { line column code message } } } } } }";

const CONFIRM_CSV: &str = "mutation($id: String!) {
    confirmCsvImport(customer: \"acme\", id: $id) { totalRows validRows batch { id count } } }";

#[tokio::test]
async fn staged_csv_imports_page_every_row_and_confirm_once() {
    let app = app_with_workers().await;
    let origin = Origin::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "books").await;
    let a = origin.add("a.png", "image/png", grid_png(30, 30));
    let b = origin.add("b.png", "image/png", grid_png(31, 30));

    // 250 rows, 3 bad: a field missing (so it does not parse), a bad ID, a bad Number1
    let mut csv = String::from("Line,ID,MediaType,Space,Origin,Reference1,Number1\n");
    for line in 1..=250 {
        let row = match line {
            40 => format!("40,p40,image/png,{space},{a},book"),
            150 => format!("150,bad/id,image/png,{space},{a},book,150"),
            230 => format!("230,p230,image/png,{space},{a},book,many"),
            _ => format!("{line},p{line},image/png,{space},{a},book,{line}"),
        };
        csv.push_str(&row);
        csv.push('\n');
    }
    let staged = with_csv_upload(&app, &auth, STAGE_CSV, csv.into_bytes()).await;
    let staged = staged.data()["stageCsvImport"].clone();
    assert_eq!(
        (
            &staged["totalRows"],
            &staged["validRows"],
            &staged["errorCount"],
            &staged["pagesWithErrors"]
        ),
        (&json!(250), &json!(247), &json!(3), &json!([1, 2, 3])),
        "{staged}"
    );
    let id = staged["id"].as_str().unwrap().to_owned();

    // three pages of 100, 100 and 50 rows, without uploading again
    let mut after = Value::Null;
    let mut rows = 0;
    let mut highlighted = Vec::new();
    for page in 1..=3 {
        let response = app
            .graphql(
                &auth,
                STAGED_ROWS,
                json!({ "id": id, "after": after, "withErrors": false }),
            )
            .await;
        let connection = response.data()["csvImport"]["rows"].clone();
        assert_eq!(connection["totalCount"], 250);
        assert_eq!(connection["pageInfo"]["hasNextPage"], page < 3);
        let edges = connection["edges"].as_array().unwrap();
        assert_eq!(edges.len(), if page < 3 { 100 } else { 50 });
        for edge in edges {
            let row = &edge["node"];
            rows += 1;
            assert_eq!(row["fileLine"], rows + 1, "file order");
            if row["valid"] == false {
                let error = &row["errors"][0];
                highlighted.push((
                    page,
                    row["line"].as_i64().unwrap(),
                    error["column"].as_str().map(str::to_owned),
                    error["code"].as_str().unwrap().to_owned(),
                ));
            }
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(
        highlighted,
        vec![
            (1, 41, None, "MALFORMED_ROW".to_owned()),
            (2, 150, Some("ID".to_owned()), "INVALID_ID".to_owned()),
            (
                3,
                230,
                Some("Number1".to_owned()),
                "INVALID_NUMBER".to_owned()
            ),
        ]
    );
    let only_errors = app
        .graphql(
            &auth,
            STAGED_ROWS,
            json!({ "id": id, "after": null, "withErrors": true }),
        )
        .await;
    let only_errors = only_errors.data()["csvImport"]["rows"].clone();
    assert_eq!(only_errors["totalCount"], 3);
    // the row that does not parse still shows its cells, for the preview table
    let malformed = &only_errors["edges"][0]["node"];
    assert_eq!(
        malformed["cells"][1],
        json!({ "header": "ID", "column": "ID", "value": "p40" })
    );
    app.graphql(
        &auth,
        "query($id: String!) { csvImport(customer: \"acme\", id: $id) { rows(first: 101) { totalCount } } }",
        json!({ "id": id }),
    )
    .await
    .expect_error("BAD_REQUEST");

    // all or nothing: refused while errors remain
    app.graphql(&auth, CONFIRM_CSV, json!({ "id": id }))
        .await
        .expect_error("INVALID_INPUT");
    let assets = app
        .graphql(
            &auth,
            "query($s: Int!) { space(customer: \"acme\", id: $s) { assets { totalCount } } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(assets.data()["space"]["assets"]["totalCount"], 0);

    // another customer's key, and ids nobody staged, find nothing
    let beta = app.customer_with_key("beta").await;
    app.graphql(
        &beta,
        "query($id: String!) { csvImport(customer: \"beta\", id: $id) { totalRows } }",
        json!({ "id": id }),
    )
    .await
    .expect_error("NOT_FOUND");
    app.graphql(
        &beta,
        "mutation($id: String!) { confirmCsvImport(customer: \"beta\", id: $id) { totalRows } }",
        json!({ "id": id }),
    )
    .await
    .expect_error("NOT_FOUND");
    app.graphql(&auth, CONFIRM_CSV, json!({ "id": "no-such-import" }))
        .await
        .expect_error("NOT_FOUND");

    // a clean file confirms into a batch, once
    let clean = format!(
        "Line,ID,MediaType,Space,Origin,Reference1,Number1\n\
         1,a,image/png,{space},{a},book,1\n\
         2,b,image/png,{space},{b},book,2\n"
    );
    let clean = with_csv_upload(&app, &auth, STAGE_CSV, clean.into_bytes()).await;
    let clean_id = clean.data()["stageCsvImport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let confirmed = app
        .graphql(&auth, CONFIRM_CSV, json!({ "id": clean_id }))
        .await;
    let batch_id = confirmed.data()["confirmCsvImport"]["batch"]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(confirmed.data()["confirmCsvImport"]["batch"]["count"], 2);
    app.graphql(&auth, CONFIRM_CSV, json!({ "id": clean_id }))
        .await
        .expect_error("CONFLICT");
    let done = finished_batch(&app, &auth, batch_id).await;
    assert_eq!(done["completed"], 2, "{done}");
    let read = app
        .graphql(
            &auth,
            "query($id: String!) { csvImport(customer: \"acme\", id: $id) { batch { id } } }",
            json!({ "id": clean_id }),
        )
        .await;
    assert_eq!(read.data()["csvImport"]["batch"]["id"], batch_id);

    // an expired import is refused with its own code, then is gone
    let db = domain::connect(&app.configuration().database_url)
        .await
        .unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        "UPDATE staged_imports SET expires = created",
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let expired = app
        .graphql(&auth, CONFIRM_CSV, json!({ "id": clean_id }))
        .await
        .expect_error("EXPIRED");
    assert!(expired.contains("stage the file again"), "{expired}");
    app.graphql(&auth, CONFIRM_CSV, json!({ "id": clean_id }))
        .await
        .expect_error("NOT_FOUND");
    app.stop().await;
}

#[tokio::test]
async fn staged_rows_warn_of_origins_that_cannot_be_fetched_now() {
    let app = app_with_workers().await;
    let origin = Origin::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "books").await;
    let here = origin.add("here.png", "image/png", grid_png(30, 30));
    let gone = origin.url("gone.png");
    let locked = origin.add("locked-page.png", "image/png", grid_png(30, 30));
    let file = app.add_master("present.png", &grid_png(30, 30));
    let absent = file.replace("present.png", "absent.png");
    let csv = format!(
        "Line,ID,MediaType,Space,Origin\n\
         1,here,image/png,{space},{here}\n\
         2,gone,image/png,{space},{gone}\n\
         3,locked,image/png,{space},{locked}\n\
         4,present,image/png,{space},{file}\n\
         5,absent,image/png,{space},{absent}\n\
         6,bad/id,image/png,{space},{gone}\n"
    );
    let staged = with_csv_upload(&app, &auth, STAGE_CSV, csv.into_bytes()).await;
    let id = staged.data()["stageCsvImport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rows = |check: bool| {
        let app = &app;
        let auth = &auth;
        let id = id.clone();
        async move {
            let response = app
                .graphql(
                    auth,
                    "query($id: String!, $check: Boolean!) { csvImport(customer: \"acme\", id: $id) {
                        rows(checkOrigins: $check) { nodes { line valid warnings { line column code message } } } } }",
                    json!({ "id": id, "check": check }),
                )
                .await;
            response.data()["csvImport"]["rows"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| (row["line"].as_i64().unwrap(), row["warnings"].clone()))
                .collect::<Vec<_>>()
        }
    };

    // not asked: nothing is checked
    assert!(
        rows(false)
            .await
            .iter()
            .all(|(_, warnings)| warnings == &json!([]))
    );
    let checked = rows(true).await;
    let warned: Vec<i64> = checked
        .iter()
        .filter(|(_, warnings)| warnings != &json!([]))
        .map(|(line, _)| *line)
        .collect();
    // the 404, the origin wanting credentials no rule gives, the missing file; the row with a
    // problem is not checked (it cannot be imported anyway)
    assert_eq!(warned, vec![2, 3, 5], "{checked:?}");
    let warning = &checked[1].1[0];
    assert_eq!(
        (&warning["line"], &warning["column"], &warning["code"]),
        (&json!(2), &json!("Origin"), &json!("ORIGIN_UNREACHABLE"))
    );
    assert!(
        warning["message"].as_str().unwrap().contains("404"),
        "{warning}"
    );
    assert!(
        checked[4].1[0]["message"]
            .as_str()
            .unwrap()
            .contains("absent.png"),
        "{checked:?}"
    );

    // warnings do not stop a confirmation: a clean file with a missing origin imports, and
    // that member fails at ingest as the warning said
    let clean = format!(
        "Line,ID,MediaType,Space,Origin\n1,here,image/png,{space},{here}\n2,gone,image/png,{space},{gone}\n"
    );
    let clean = with_csv_upload(&app, &auth, STAGE_CSV, clean.into_bytes()).await;
    let clean_id = clean.data()["stageCsvImport"]["id"].clone();
    let confirmed = app
        .graphql(&auth, CONFIRM_CSV, json!({ "id": clean_id }))
        .await;
    let batch_id = confirmed.data()["confirmCsvImport"]["batch"]["id"]
        .as_i64()
        .unwrap();
    let done = finished_batch(&app, &auth, batch_id).await;
    assert_eq!(
        (&done["completed"], &done["errors"]),
        (&json!(1), &json!(1)),
        "{done}"
    );
    app.stop().await;
}

#[tokio::test]
async fn staging_refuses_files_that_are_not_csv_imports_and_serves_a_sample() {
    let app = TestApp::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "books").await;
    assert_eq!(space, 1, "the sample names space 1");

    let sample = app.graphql(&auth, "{ csvSample }", json!({})).await.data()["csvSample"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        sample.starts_with(
            "Line,ID,MediaType,Space,Origin,Reference1,Reference2,Reference3,Number1,Number2,\
             Number3,MaxUnauthorised,Tags,Roles\r\n"
        ),
        "{sample}"
    );
    app.graphql(&Auth::None, "{ csvSample }", json!({}))
        .await
        .expect_error("UNAUTHENTICATED");
    let staged = with_csv_upload(&app, &auth, STAGE_CSV, sample.into_bytes()).await;
    let staged = &staged.data()["stageCsvImport"];
    assert_eq!(
        (&staged["validRows"], &staged["errorCount"]),
        (&json!(2), &json!(0))
    );

    let mut too_many = String::from("Line,ID,MediaType,Space,Origin\n");
    for line in 1..=domain::MAX_IMPORT_MEMBERS + 1 {
        too_many.push_str(&format!(
            "{line},p{line},image/png,1,https://example.org/{line}.png\n"
        ));
    }
    for (what, content) in [
        ("not a CSV", grid_png(10, 10)),
        ("another header", b"Name,Size\nx,1\n".to_vec()),
        ("no rows", b"Line,ID,MediaType,Space,Origin\n".to_vec()),
        ("too many rows", too_many.into_bytes()),
    ] {
        let refused = with_csv_upload(&app, &auth, STAGE_CSV, content).await;
        assert_eq!(
            refused.error_code().as_deref(),
            Some("INVALID_INPUT"),
            "{what}: {:#}",
            refused.body
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn quotas_refuse_registrations_over_the_limit() {
    let app = TestApp::builder()
        .config(|config| config.max_assets_per_customer = 2)
        .start()
        .await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;
    let register_doc = "mutation($s: Int!, $id: String!) {
        registerAsset(customer: \"acme\", space: $s, input: {id: $id, mediaType: \"image/png\", origin: \"https://example.org/a.png\"}) { id } }";
    for id in ["a", "b"] {
        app.graphql(&auth, register_doc, json!({ "s": space, "id": id }))
            .await
            .data();
    }
    app.graphql(&auth, register_doc, json!({ "s": space, "id": "c" }))
        .await
        .expect_error("QUOTA_EXCEEDED");
    app.graphql(
        &auth,
        CREATE_BATCH,
        json!({ "m": [ { "space": space, "id": "d", "mediaType": "image/png", "origin": "https://example.org/d.png" } ] }),
    )
    .await
    .expect_error("QUOTA_EXCEEDED");
    // re-registering existing assets in a batch adds none
    app.graphql(
        &auth,
        CREATE_BATCH,
        json!({ "m": [ { "space": space, "id": "a", "mediaType": "image/png", "origin": "https://example.org/a.png" } ] }),
    )
    .await
    .data();
    app.stop().await;
}

#[tokio::test]
async fn audio_video_and_files_are_stored_probed_and_served_with_ranges() {
    let app = TestApp::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "av").await;

    let video_bytes = media_fixture("video-h264-aac.mp4");
    let video = app
        .register_file(&auth, "acme", space, "film", "video/mp4", &video_bytes)
        .await;
    assert_eq!(video["status"], "READY", "{video}");
    assert_eq!(video["family"], "VIDEO");
    assert_eq!(
        (video["width"].as_i64(), video["height"].as_i64()),
        (Some(64), Some(48))
    );
    assert!(
        (video["duration"].as_f64().unwrap() - 2.0).abs() < 0.1,
        "{video}"
    );
    assert!(video["imageService"].is_null());
    let media_url = video["mediaUrl"].as_str().unwrap().to_owned();
    assert!(
        media_url.ends_with("/media/acme/1/film/original.mp4"),
        "{media_url}"
    );

    let whole = app.client.get(&media_url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let tag = whole.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(whole.bytes().await.unwrap(), video_bytes);

    let part = app
        .client
        .get(&media_url)
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{}", video_bytes.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), video_bytes[100..200]);
    let tail = app
        .client
        .get(&media_url)
        .header("Range", "bytes=-10")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tail.bytes().await.unwrap(),
        video_bytes[video_bytes.len() - 10..]
    );
    let beyond = app
        .client
        .get(&media_url)
        .header("Range", format!("bytes={}-", video_bytes.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);
    let cached = app
        .client
        .get(&media_url)
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    let audio = app
        .register_file(
            &auth,
            "acme",
            space,
            "song",
            "audio/mpeg",
            &media_fixture("audio-cbr.mp3"),
        )
        .await;
    assert_eq!(audio["status"], "READY", "{audio}");
    assert!((audio["duration"].as_f64().unwrap() - 2.0).abs() < 0.1);
    assert!(audio["width"].is_null());

    let pdf = app
        .register_file(
            &auth,
            "acme",
            space,
            "doc",
            "application/pdf",
            &media_fixture("doc.pdf"),
        )
        .await;
    assert_eq!(pdf["status"], "READY", "{pdf}");
    let served = app
        .client
        .get(pdf["mediaUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.headers()["content-type"], "application/pdf");
    assert_eq!(served.headers()["content-disposition"], "inline");

    // a customer's HTML or SVG never runs as a page of this origin
    let page = b"<html><body><script>fetch('/graphql')</script></body></html>";
    for (id, media_type) in [
        ("page", "text/html"),
        ("xhtml", "application/xhtml+xml"),
        ("feed", "application/xml"),
    ] {
        let file = app
            .register_file(&auth, "acme", space, id, media_type, page)
            .await;
        assert_eq!(file["status"], "READY", "{file}");
        let served = app
            .client
            .get(file["mediaUrl"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(served.status(), 200);
        let headers = served.headers();
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment"),
            "{media_type}: {disposition}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{media_type}");
        assert_eq!(
            headers["content-security-policy"], "sandbox",
            "{media_type}"
        );
    }
    // errors from the media routes carry the same confinement
    let missing = app.get("/media/acme/1/nothing/original.html").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["content-security-policy"], "sandbox");
    assert_eq!(missing.headers()["x-content-type-options"], "nosniff");

    // the declared type is checked against the bytes
    let liar = app
        .register_file(
            &auth,
            "acme",
            space,
            "liar",
            "image/jpeg",
            &media_fixture("image.png"),
        )
        .await;
    assert_eq!(liar["status"], "ERROR");
    assert!(
        liar["error"]
            .as_str()
            .unwrap()
            .starts_with("wrong-media-type"),
        "{liar}"
    );
    let sound_as_video = app
        .register_file(
            &auth,
            "acme",
            space,
            "odd",
            "video/mp4",
            &media_fixture("audio-cbr.mp3"),
        )
        .await;
    assert_eq!(sound_as_video["status"], "ERROR");
    let truncated = &video_bytes[..video_bytes.len() / 2];
    let cut = app
        .register_file(&auth, "acme", space, "cut", "video/mp4", truncated)
        .await;
    assert_eq!(cut["status"], "ERROR");
    assert!(
        cut["error"]
            .as_str()
            .unwrap()
            .starts_with("unreadable-media"),
        "{cut}"
    );

    // images and unknown files are not media; an asset that failed has nothing to serve
    for path in [
        "/media/acme/1/film/other.mp4",
        "/media/acme/1/cut/original.mp4",
        "/media/acme/1/nope/original.mp4",
        "/media/acme/x/film/original.mp4",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    let image = app
        .register_image(&auth, "acme", space, "pic", &grid_png(20, 20))
        .await;
    assert!(image["status"] == "READY");
    assert_eq!(
        app.get("/media/acme/1/pic/original.bin").await.status(),
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn origin_rules_send_credentials_to_matching_origins_only() {
    let app = app_with_workers().await;
    let origin = Origin::start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;
    let locked = origin.add("locked.png", "image/png", grid_png(20, 20));

    register(&app, &auth, space, "before", &locked).await;
    let before = settled(&app, &auth, space, "before").await;
    assert!(
        before["error"]
            .as_str()
            .unwrap()
            .starts_with("origin-refused"),
        "{before}"
    );

    let rule_doc = "mutation($p: String!, $u: String!) {
        createOriginRule(customer: \"acme\", input: {pattern: $p, username: $u, password: \"secret\"}) { id pattern username } }";
    app.graphql(&auth, rule_doc, json!({ "p": "([", "u": "user" }))
        .await
        .expect_error("INVALID_INPUT");
    app.graphql(
        &auth,
        rule_doc,
        json!({ "p": "^https://elsewhere/", "u": "wrong" }),
    )
    .await
    .data();
    let pattern = format!("^http://{}/locked", origin.addr);
    let rule = app
        .graphql(&auth, rule_doc, json!({ "p": pattern, "u": "user" }))
        .await;
    let rule = rule.data()["createOriginRule"].clone();
    assert_eq!(rule["username"], "user");
    let listed = app
        .graphql(
            &auth,
            "{ customer(name: \"acme\") { originRules { pattern username } } }",
            json!({}),
        )
        .await;
    let listed = listed.data()["customer"]["originRules"].to_string();
    assert!(
        !listed.contains("secret"),
        "the password is never returned: {listed}"
    );

    register(&app, &auth, space, "after", &locked).await;
    assert_eq!(
        settled(&app, &auth, space, "after").await["status"],
        "READY"
    );

    let other = app.customer_with_key("other").await;
    app.graphql(
        &other,
        "mutation($id: Int!) { deleteOriginRule(customer: \"acme\", id: $id) }",
        json!({ "id": rule["id"] }),
    )
    .await
    .expect_error("FORBIDDEN");
    app.graphql(
        &auth,
        "mutation($id: Int!) { deleteOriginRule(customer: \"acme\", id: $id) }",
        json!({ "id": rule["id"] }),
    )
    .await
    .data();
    app.stop().await;
}

#[tokio::test]
async fn a_byte_quota_refuses_registrations_once_reached() {
    let app = TestApp::builder()
        .config(|config| config.max_bytes_per_customer = 1000)
        .start()
        .await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;
    let first = app
        .register_image(&auth, "acme", space, "big", &grid_png(400, 300))
        .await;
    assert_eq!(
        first["status"], "READY",
        "the first registration is under the limit"
    );
    app.graphql(
        &auth,
        "mutation($s: Int!) { registerAsset(customer: \"acme\", space: $s, input: {id: \"next\", mediaType: \"image/png\", origin: \"https://example.org/a.png\"}) { id } }",
        json!({ "s": space }),
    )
    .await
    .expect_error("QUOTA_EXCEEDED");
    // another customer is not affected
    let other = app.customer_with_key("other").await;
    let other_space = app.create_space(&other, "other", "photos").await;
    let theirs = app
        .register_image(&other, "other", other_space, "small", &grid_png(10, 10))
        .await;
    assert_eq!(theirs["status"], "READY");
    app.stop().await;
}

/// Makes every job look held by a worker that died an hour ago (a node killed mid-job).
async fn jobs_held_by_a_dead_worker(app: &TestApp) {
    use domain::entities::job;
    use sea_orm::{EntityTrait, sea_query::Expr};
    let db = domain::connect(&app.configuration().database_url)
        .await
        .unwrap();
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value("running"))
        .col_expr(job::Column::LockedBy, Expr::value("killed-node/0"))
        .col_expr(job::Column::HeartbeatAt, Expr::value(Some(past)))
        .col_expr(job::Column::Attempts, Expr::value(1))
        .exec(&db)
        .await
        .unwrap();
}

/// A job whose worker died runs again in a process of its own: when that process dies too
/// (here it kills itself, as an out-of-memory kill would), the job is poisoned, not retried,
/// and the server goes on serving; a process that merely fails is a transient failure.
#[tokio::test]
async fn a_job_that_kills_its_own_process_is_poisoned_and_the_server_survives() {
    let mut app = TestApp::builder()
        .config(|config| {
            config.job_timeout_seconds = 1;
            config.ingest_retry_base_ms = 50;
            config.ingest_max_attempts = 2;
        })
        .start()
        .await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "bombs").await;
    let origin = app.add_master("bomb.png", &grid_png(40, 30));
    register(&app, &auth, space, "bomb", &origin).await;
    let origin = app.add_master("flaky.png", &grid_png(40, 30));
    register(&app, &auth, space, "flaky", &origin).await;
    jobs_held_by_a_dead_worker(&app).await;

    // the job's own process: a shell that dies by SIGKILL for "bomb" and exits 3 otherwise
    let shell = |script: &str| ingest::Isolation {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into(), "sh".into()],
    };
    let script = r#"case "$*" in *--job\ 1\ *) kill -KILL $$ ;; *) exit 3 ;; esac"#;
    app.restart(|config| {
        config.workers = 1;
        config.job_process = Some(shell(script));
    })
    .await;

    let bomb = settled(&app, &auth, space, "bomb").await;
    assert_eq!(bomb["status"], "ERROR", "{bomb}");
    let error = bomb["error"].as_str().unwrap();
    assert!(error.starts_with("job-poisoned:"), "{error}");
    let flaky = settled(&app, &auth, space, "flaky").await;
    assert_eq!(flaky["status"], "ERROR", "{flaky}");
    let error = flaky["error"].as_str().unwrap();
    assert!(
        error.starts_with("ingest-failed:") && error.contains("exit status: 3"),
        "{error}"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);

    // a job that never crashed runs in the server as before
    let origin = app.add_master("fine.png", &grid_png(40, 30));
    register(&app, &auth, space, "fine", &origin).await;
    assert_eq!(settled(&app, &auth, space, "fine").await["status"], "READY");
    app.stop().await;
}

/// Masters of `build_process_pixels` or more are built by a process of the server's own
/// (`vitrine build-pyramid`; a shell stands in for it here). What that process answers is the
/// asset's outcome: a failure keeps its code, and a process that dies (as an out-of-memory kill
/// would) fails only its asset. The process's allocator has one arena. Smaller masters are
/// still built in the server.
#[tokio::test]
async fn large_masters_are_built_by_a_process_of_their_own() {
    let script = r#"input=$(cat)
case "$input" in
  *'"tile_size":256'*) ;;
  *) echo "no request on stdin" >&2; exit 9 ;;
esac
[ "$MALLOC_ARENA_MAX" = 1 ] || { echo "MALLOC_ARENA_MAX is '$MALLOC_ARENA_MAX'" >&2; exit 9; }
if [ -e "$0.die" ]; then kill -KILL $$; fi
echo '{"outcome":"failed","code":"image-too-large","message":"the child says no"}'"#;
    let folder = tempfile::tempdir().unwrap();
    let marker = folder.path().join("child");
    let app = TestApp::builder()
        .workers(1)
        .config(move |config| {
            config.ingest_max_attempts = 1;
            config.build_process_pixels = 1_000;
            config.job_process = Some(ingest::Isolation {
                program: "/bin/sh".into(),
                args: vec!["-c".into(), script.into(), marker.clone().into()],
            });
        })
        .start()
        .await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "maps").await;

    let origin = app.add_master("large.png", &grid_png(40, 30));
    register(&app, &auth, space, "large", &origin).await;
    let large = settled(&app, &auth, space, "large").await;
    assert_eq!(large["status"], "ERROR", "{large}");
    assert_eq!(
        large["error"], "image-too-large: the child says no",
        "{large}"
    );

    std::fs::write(folder.path().join("child.die"), "").unwrap();
    let origin = app.add_master("dies.png", &grid_png(40, 30));
    register(&app, &auth, space, "dies", &origin).await;
    let dies = settled(&app, &auth, space, "dies").await;
    assert_eq!(dies["status"], "ERROR", "{dies}");
    let error = dies["error"].as_str().unwrap();
    assert!(
        error.starts_with("internal: the build's own process ended without an answer")
            && error.contains("signal: 9"),
        "{error}"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);

    // under the threshold: built here, whatever the child would say
    let origin = app.add_master("small.png", &grid_png(30, 20));
    register(&app, &auth, space, "small", &origin).await;
    assert_eq!(
        settled(&app, &auth, space, "small").await["status"],
        "READY"
    );
    app.stop().await;
}

const S3_RULE: &str = "mutation($p: String!, $u: String!, $k: String!, $e: String) {
    createOriginRule(customer: \"acme\", input: {pattern: $p, strategy: S3, username: $u, password: $k, endpoint: $e}) {
        id strategy username endpoint } }";

/// Issue 18, item 5: `s3://` origins were read with the server's own credentials (and, with
/// none, made the server ask the cloud metadata address). Now an `s3://` origin is read only
/// with the access key of the customer's own S3 origin rule, against a real S3 server (moto)
/// that checks every signature.
#[tokio::test]
async fn s3_origins_use_only_the_customers_own_access_key() {
    let Some(s3) = S3Server::start("their-masters", "scans/page-1.png", grid_png(40, 30)).await
    else {
        return;
    };
    let app = TestApp::builder()
        .workers(2)
        .config(|config| {
            // moto listens on loopback
            config.allow_private_origins = true;
            config.origin_timeout_seconds = 20;
            config.ingest_max_attempts = 1;
        })
        .start()
        .await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;
    let origin = "s3://their-masters/scans/page-1.png";

    register(&app, &auth, space, "no-rule", origin).await;
    let refused = settled(&app, &auth, space, "no-rule").await;
    let error = refused["error"].as_str().unwrap();
    assert!(
        error.starts_with("origin-forbidden") && error.contains("no S3 origin rule"),
        "{refused}"
    );
    assert!(!error.contains("169.254"), "{refused}");

    let pattern = "^s3://their-masters/";
    let wrong = app
        .graphql(
            &auth,
            S3_RULE,
            json!({ "p": pattern, "u": s3.access_key_id, "k": "not-the-secret", "e": s3.endpoint }),
        )
        .await;
    let wrong = wrong.data()["createOriginRule"].clone();
    assert_eq!(wrong["strategy"], "S3");
    register(&app, &auth, space, "wrong-key", origin).await;
    let denied = settled(&app, &auth, space, "wrong-key").await;
    let error = denied["error"].as_str().unwrap();
    assert!(
        error.starts_with("origin-refused") && error.contains("refused the access key"),
        "{denied}"
    );
    assert!(
        !error.contains("127.0.0.1"),
        "no endpoint in the message: {denied}"
    );
    app.graphql(
        &auth,
        "mutation($id: Int!) { deleteOriginRule(customer: \"acme\", id: $id) }",
        json!({ "id": wrong["id"] }),
    )
    .await
    .data();

    app.graphql(
        &auth,
        S3_RULE,
        json!({ "p": pattern, "u": s3.access_key_id, "k": s3.secret_access_key, "e": s3.endpoint }),
    )
    .await
    .data();
    let listed = app
        .graphql(
            &auth,
            "{ customer(name: \"acme\") { originRules { strategy username endpoint } } }",
            json!({}),
        )
        .await;
    assert!(
        !listed.data().to_string().contains(&s3.secret_access_key),
        "the secret is never returned"
    );
    register(&app, &auth, space, "with-key", origin).await;
    let ready = settled(&app, &auth, space, "with-key").await;
    assert_eq!(ready["status"], "READY", "{ready}");
    assert_eq!(
        (ready["width"].as_i64(), ready["height"].as_i64()),
        (Some(40), Some(30))
    );

    // another customer's rule is not this one's
    let other = app.customer_with_key("other").await;
    let other_space = app.create_space(&other, "other", "photos").await;
    let taken = app
        .graphql(
            &other,
            "mutation($s: Int!, $o: String!) { registerAsset(customer: \"other\", space: $s, wait: true, input: {id: \"copy\", mediaType: \"image/png\", origin: $o}) { status error } }",
            json!({ "s": other_space, "o": origin }),
        )
        .await;
    let taken = &taken.data()["registerAsset"];
    assert!(
        taken["error"]
            .as_str()
            .unwrap()
            .starts_with("origin-forbidden"),
        "{taken}"
    );
    app.stop().await;
}

/// Issue 18, items 5 and 18: an S3 rule's endpoint on a private address is refused like a
/// private http(s) origin, and `gs://` and `az://` origins are refused with a clear reason.
#[tokio::test]
async fn s3_endpoints_on_private_addresses_and_gs_az_origins_are_refused() {
    let app = TestApp::builder().workers(1).start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;
    app.graphql(
        &auth,
        S3_RULE,
        json!({ "p": "^s3://masters/", "u": "AKIAEXAMPLE", "k": "secret", "e": "http://169.254.169.254" }),
    )
    .await
    .data();
    app.graphql(
        &auth,
        S3_RULE,
        json!({ "p": "^s3://bad/", "u": "AKIAEXAMPLE", "k": "secret", "e": "ftp://s3.example.org" }),
    )
    .await
    .expect_error("INVALID_INPUT");
    register(&app, &auth, space, "meta", "s3://masters/a.png").await;
    let failed = settled(&app, &auth, space, "meta").await;
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.starts_with("origin-forbidden") && error.contains("private address"),
        "{failed}"
    );
    assert!(!error.contains("169.254"), "{failed}");
    for origin in ["gs://bucket/a.png", "az://container/a.png"] {
        let message = app
            .graphql(
                &auth,
                "mutation($s: Int!, $o: String!) { registerAsset(customer: \"acme\", space: $s, input: {id: \"cloud\", mediaType: \"image/png\", origin: $o}) { id } }",
                json!({ "s": space, "o": origin }),
            )
            .await
            .expect_error("INVALID_ORIGIN");
        assert!(message.contains("not supported"), "{origin}: {message}");
    }
    app.stop().await;
}

/// Issue 18, item 6: a `file://` origin under an import root that resolves (through a
/// symbolic link) into the data dir is refused, so the signing secret cannot be registered
/// as a master and downloaded.
#[cfg(unix)]
#[tokio::test]
async fn file_origins_that_resolve_into_the_data_dir_are_refused() {
    let app = TestApp::builder().workers(1).start().await;
    let auth = app.customer_with_key("acme").await;
    let space = app.create_space(&auth, "acme", "photos").await;
    let data = app.data_dir();
    // the generated signing secret where there is one (a server on PostgreSQL is given its
    // secret and keeps other files there)
    let secret = if data.join("jwt-secret").is_file() {
        "jwt-secret"
    } else {
        std::fs::write(data.join("server-file"), b"not for customers").unwrap();
        "server-file"
    };
    let masters = app.masters_dir();
    std::os::unix::fs::symlink(&data, masters.join("data")).unwrap();
    std::os::unix::fs::symlink(data.join(secret), masters.join("key.png")).unwrap();
    for (id, path) in [
        ("through-dir", masters.join("data").join(secret)),
        ("through-file", masters.join("key.png")),
        ("direct", data.join(secret)),
    ] {
        let origin = url::Url::from_file_path(&path).unwrap().to_string();
        register(&app, &auth, space, id, &origin).await;
        let failed = settled(&app, &auth, space, id).await;
        assert!(
            failed["error"]
                .as_str()
                .unwrap()
                .starts_with("origin-forbidden"),
            "{id}: {failed}"
        );
    }
    assert_eq!(
        app.get("/media/acme/1/through-file/original.png")
            .await
            .status(),
        404
    );
    app.stop().await;
}

/// Decompression bombs (a few hundred bytes claiming tens of thousands of pixels a side) fail
/// with IMAGE_TOO_LARGE from their header when even reading them in bands would take more than
/// the job's memory budget, and as truncated at their first missing row otherwise; a truncated
/// master fails instead of becoming READY with its missing part painted grey; the worker goes
/// on with the next job.
#[tokio::test]
async fn decompression_bombs_and_truncated_masters_fail() {
    use vitrine_tests::images::{jpeg_claiming, noise_jpeg, png_claiming};
    let app = TestApp::builder()
        .config(|config| config.ingest_memory_budget_bytes = 256 * 1024 * 1024)
        .start()
        .await;
    let acme = app.customer_with_key("acme").await;
    let space = app.create_space(&acme, "acme", "images").await;
    // headers that lie about the size: refused from the header when even reading them a band
    // at a time is over the budget, failed at the first missing row or block otherwise
    for (id, media_type, bomb, code) in [
        (
            "png-wide",
            "image/png",
            png_claiming(60_000, 60_000),
            "image-too-large",
        ),
        (
            "png-bomb",
            "image/png",
            png_claiming(20_000, 20_000),
            "truncated-image",
        ),
        (
            "jpeg-bomb",
            "image/jpeg",
            jpeg_claiming(30_000, 30_000),
            "truncated-image",
        ),
    ] {
        assert!(bomb.len() < 1000, "{id}: {} bytes", bomb.len());
        let refused = app
            .register_file(&acme, "acme", space, id, media_type, &bomb)
            .await;
        assert_eq!(refused["status"], "ERROR", "{refused}");
        let error = refused["error"].as_str().unwrap();
        assert!(error.starts_with(code), "{id}: {error}");
        if code == "image-too-large" {
            assert!(error.contains("memory budget"), "{error}");
        }
    }
    let whole = noise_jpeg(600, 400);
    let truncated = app
        .register_file(
            &acme,
            "acme",
            space,
            "truncated",
            "image/jpeg",
            &whole[..whole.len() / 2],
        )
        .await;
    assert_eq!(truncated["status"], "ERROR", "{truncated}");
    assert!(
        truncated["error"]
            .as_str()
            .unwrap()
            .starts_with("truncated-image"),
        "{truncated}"
    );
    let ready = app
        .register_file(&acme, "acme", space, "whole", "image/jpeg", &whole)
        .await;
    assert_eq!(ready["status"], "READY", "{ready}");
    assert_eq!(
        (ready["width"].as_i64(), ready["height"].as_i64()),
        (Some(600), Some(400))
    );
}
