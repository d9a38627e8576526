//! Several nodes over one PostgreSQL database and one S3 bucket (moto on loopback): nodes
//! starting together migrate once; two `vitrine serve` processes share registration,
//! processing, tiles, manifests, Content Search and credentials, with one killed mid-batch and
//! the other finishing every asset exactly once; a database outage is a 503 the node recovers
//! from; and a change made through one node (reingest, restriction, deletion) is what the other
//! serves within the documented bound, with auth sessions valid on either.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use vitrine_tests::images::grid_png;
use vitrine_tests::visitor::{self, pair, posted};
use vitrine_tests::{
    ADMIN_KEY, ADMIN_SECRET, Auth, Backend, NodeProcess, PostgresCluster, S3Server, STORAGE_BUCKET,
    STORAGE_URL, TEST_SIGNING_SECRET, TestApp, TestDatabase, store_in_bucket,
};

const MEMBERS: usize = 200;
/// Longer than any request may take while a backend is down: past it, the request hangs.
const BOUND: Duration = Duration::from_secs(60);

#[tokio::test]
async fn nodes_starting_together_migrate_once() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let mut connections = Vec::new();
    for _ in 0..4 {
        connections.push(domain::connect(&database.url).await.unwrap());
    }
    let migrations = futures::future::join_all(connections.iter().map(domain::migrate)).await;
    for migrated in migrations {
        migrated.expect("every node starts, whichever migrated");
    }
    database.drop_database().await;
}

/// The batch's counters, read through `base_url`.
async fn batch(app: &TestApp, base_url: &str, auth: &Auth, id: i64) -> Value {
    let answer = app
        .graphql_at(
            base_url,
            auth,
            "query($b: Int!) { batch(customer: \"acme\", id: $b) { count completed errors finished } }",
            json!({ "b": id }),
        )
        .await;
    answer.data()["batch"].clone()
}

/// The settings of a `vitrine serve` process over `database` and the bucket of `s3`, with the
/// test's admin key and signing secret, reading masters from `masters`.
fn node_settings(
    database: &TestDatabase,
    s3: &S3Server,
    masters: &std::path::Path,
    data: &std::path::Path,
    workers: usize,
) -> Vec<(&'static str, String)> {
    let settings = s3.settings();
    vec![
        ("VITRINE_DATA_DIR", data.display().to_string()),
        ("VITRINE_DATABASE_URL", database.url.clone()),
        ("VITRINE_STORAGE_URL", STORAGE_URL.into()),
        ("VITRINE_STORAGE_S3_ENDPOINT", s3.endpoint.clone()),
        ("VITRINE_STORAGE_S3_REGION", "us-east-1".into()),
        (
            "VITRINE_STORAGE_S3_ACCESS_KEY_ID",
            settings.access_key_id.unwrap(),
        ),
        (
            "VITRINE_STORAGE_S3_SECRET_ACCESS_KEY",
            settings.secret_access_key.unwrap(),
        ),
        ("VITRINE_JWT_SECRET", TEST_SIGNING_SECRET.into()),
        ("VITRINE_ADMIN_KEY", format!("{ADMIN_KEY}:{ADMIN_SECRET}")),
        ("VITRINE_IMPORT_ROOTS", masters.display().to_string()),
        ("VITRINE_WORKERS", workers.to_string()),
        ("VITRINE_JOB_TIMEOUT_SECONDS", "2".into()),
        ("VITRINE_INGEST_RETRY_BASE_MS", "50".into()),
    ]
}

#[tokio::test]
async fn two_nodes_share_the_work_and_one_finishes_what_a_killed_one_held() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let Some(s3) = S3Server::start_open(STORAGE_BUCKET).await else {
        return;
    };
    let Some(binary) = NodeProcess::binary() else {
        return;
    };
    // the test's own console over the same database and bucket: no workers, it only holds the
    // masters and the client helpers; all the work is done by the two processes
    let console = TestApp::builder()
        .database_url(database.url.clone())
        .config({
            let settings = s3.settings();
            move |config| store_in_bucket(config, settings)
        })
        .start()
        .await;
    let masters = console.masters_dir();
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // node A: two workers; node B: one
    let mut node_a = NodeProcess::start(
        &binary,
        &node_settings(&database, &s3, &masters, data_a.path(), 2),
    )
    .await;
    let node_b = NodeProcess::start(
        &binary,
        &node_settings(&database, &s3, &masters, data_b.path(), 1),
    )
    .await;
    let a = node_a.base_url.clone();
    let b = node_b.base_url.clone();

    let acme = console.customer_with_key("acme").await;
    let space = console.create_space(&acme, "acme", "letters").await;
    let members: Vec<Value> = (0..MEMBERS)
        .map(|index| {
            let origin = console.add_master(&format!("m{index}.png"), &grid_png(640, 480));
            json!({ "space": space, "id": format!("m{index}"), "mediaType": "image/png", "origin": origin })
        })
        .collect();

    // credentials signed by one node hold on the other
    let token = console
        .graphql_at(
            &a,
            &Auth::None,
            "mutation($k: String!, $s: String!) { login(key: $k, secret: $s) }",
            json!({ "k": ADMIN_KEY, "s": ADMIN_SECRET }),
        )
        .await;
    let bearer = Auth::Bearer(token.data()["login"].as_str().unwrap().to_owned());
    let through_b = console
        .graphql_at(&b, &bearer, "{ customers { totalCount } }", json!({}))
        .await;
    assert_eq!(through_b.data()["customers"]["totalCount"], 1);

    // a batch registered through node A
    let created = console
        .graphql_at(
            &a,
            &acme,
            "mutation($m: [BatchMemberInput!]!) { createBatch(customer: \"acme\", members: $m) { id count } }",
            json!({ "m": members }),
        )
        .await;
    let batch_id = created.data()["createBatch"]["id"].as_i64().unwrap();
    assert_eq!(created.data()["createBatch"]["count"], MEMBERS);

    // node A is killed mid-batch
    let mut seen = Value::Null;
    for _ in 0..600 {
        seen = batch(&console, &b, &acme, batch_id).await;
        if seen["completed"].as_i64().unwrap() >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    loop {
        let m0 = console
            .graphql_at(
                &b,
                &acme,
                "query($s: Int!) { asset(customer: \"acme\", space: $s, id: \"m0\") { status } }",
                json!({ "s": space }),
            )
            .await;
        if m0.data()["asset"]["status"] == "READY" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // an annotation written through node A on a processed asset, before A is killed
    let annotated = console
        .graphql_at(
            &a,
            &acme,
            "mutation($s: Int!) { createAnnotation(customer: \"acme\", space: $s, asset: \"m0\", input: {value: \"quokka\"}) { id } }",
            json!({ "s": space }),
        )
        .await;
    annotated.data();
    node_a.kill().await;
    let at_kill = seen["completed"].as_i64().unwrap();
    assert!(
        (20..MEMBERS as i64).contains(&at_kill),
        "the kill comes mid-batch: {seen}"
    );

    // node B finishes every member: the jobs node A held come back when their lease ends
    let mut ended = Value::Null;
    for _ in 0..600 {
        ended = batch(&console, &b, &acme, batch_id).await;
        if !ended["finished"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(ended["count"], MEMBERS, "{ended}");
    assert_eq!(ended["completed"], MEMBERS, "exactly once each: {ended}");
    assert_eq!(ended["errors"], 0, "{ended}");
    let ready = console
        .graphql_at(
            &b,
            &acme,
            "query($s: Int!) { space(customer: \"acme\", id: $s) { assets(filter: {status: READY}) { totalCount } } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(
        ready.data()["space"]["assets"]["totalCount"],
        MEMBERS,
        "every asset READY"
    );

    // no orphan: every stored object belongs to one of the batch's assets, each has its pyramid
    let store = s3.bucket_store("objects");
    let keys = store.list("1").await.unwrap();
    let expected: BTreeSet<String> = (0..MEMBERS).map(|index| format!("m{index}")).collect();
    let mut with_pyramid = BTreeSet::new();
    for key in &keys {
        let asset = key
            .split('/')
            .nth(2)
            .and_then(|folder| folder.strip_prefix("i."))
            .unwrap_or_else(|| panic!("{key} is no asset's object"));
        assert!(expected.contains(asset), "{key} belongs to no asset");
        if key.contains("/pyramid-") {
            with_pyramid.insert(asset.to_owned());
        }
    }
    assert_eq!(with_pyramid, expected, "each asset has its pyramid");

    // the annotation written through A is found by Content Search on node B
    let (status, hits) = console
        .get_json(&format!("{b}/iiif/search/2/acme/{space}/m0?q=quokka"))
        .await;
    assert_eq!(status, 200, "{hits}");
    assert_eq!(hits["items"].as_array().map(Vec::len), Some(1), "{hits}");

    // tiles and manifests of assets node A made, from node B
    let tile = visitor::get(
        &format!("{b}/iiif/3/acme/{space}/m1/0,0,256,256/256,/0/default.jpg"),
        None,
        None,
    )
    .await;
    assert_eq!(tile.status, 200);
    let (status, manifest) = console
        .get_json(&format!("{b}/iiif/manifest/3/acme/{space}/m1"))
        .await;
    assert_eq!(status, 200, "{manifest}");
    assert_eq!(manifest["type"], "Manifest");
    drop(node_b);
    console.stop().await;
    database.drop_database().await;
}

#[tokio::test]
async fn a_database_restart_under_load_is_a_503_and_the_node_recovers_without_a_restart() {
    // a server of the test's own: the machine's shared one is never stopped
    let Some(cluster) = PostgresCluster::start().await else {
        return;
    };
    let app = TestApp::builder()
        .database_url(cluster.url.clone())
        .start()
        .await;
    let acme = app.customer_with_key("acme").await;
    let space = app.create_space(&acme, "acme", "letters").await;
    let page = app
        .register_image(&acme, "acme", space, "page", &grid_png(300, 200))
        .await;
    assert_eq!(page["status"], "READY", "{page}");
    let info = format!("/iiif/3/acme/{space}/page/info.json");
    assert_eq!(app.get(&info).await.status(), 200);

    // load: info.json asked again and again until the end, every answer counted by status
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let load = tokio::spawn({
        let (client, url) = (app.client.clone(), app.url(&info));
        async move {
            let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
            while !*stopped.borrow() {
                let response = tokio::time::timeout(BOUND, client.get(&url).send())
                    .await
                    .expect("no request hangs")
                    .expect("every request is answered");
                *statuses.entry(response.status().as_u16()).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            statuses
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    cluster.stop_server().await;
    // past the few seconds an asset's record is kept in memory
    tokio::time::sleep(Duration::from_secs(3)).await;
    let ready = tokio::time::timeout(BOUND, app.get("/readyz"))
        .await
        .expect("readyz answers");
    assert_eq!(ready.status(), 503);
    let refused = tokio::time::timeout(BOUND, app.get(&info))
        .await
        .expect("no hang");
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "database-unavailable");
    let answer = tokio::time::timeout(
        BOUND,
        app.graphql(&acme, "{ customers { totalCount } }", json!({})),
    )
    .await
    .expect("no hang");
    assert_eq!(answer.error_code().as_deref(), Some("DATABASE_UNAVAILABLE"));

    cluster.start_server().await;
    let mut status = 0;
    for _ in 0..60 {
        status = app.get("/readyz").await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(status, 200, "ready again without a restart");
    assert_eq!(app.get(&info).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send_replace(true);
    let statuses = load.await.unwrap();
    assert!(
        statuses.keys().all(|status| [200, 503].contains(status)),
        "only answers and the designed 503s: {statuses:?}"
    );
    assert!(
        statuses.contains_key(&200) && statuses.contains_key(&503),
        "{statuses:?}"
    );
    app.stop().await;
}

/// Within the documented bound (2 s: how long a node keeps an asset's record), a change made
/// through one node (a reingest, a restriction and its lifting, a deletion) is what every other
/// node serves, and a visitor's session and token from one node hold on the other.
const COHERENCE_BOUND: Duration = Duration::from_secs(2);
/// The viewer's origin the auth flow is walked from.
const VIEWER: &str = "https://viewer.example.org";

#[tokio::test]
async fn a_change_through_one_node_reaches_the_other_within_the_bound() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let Some(s3) = S3Server::start_open(STORAGE_BUCKET).await else {
        return;
    };
    let node = |workers: usize| {
        let settings = s3.settings();
        TestApp::builder()
            .database_url(database.url.clone())
            .workers(workers)
            .config(move |config| store_in_bucket(config, settings))
            .start()
    };
    let node_a = node(1).await;
    let node_b = node(0).await;
    let acme = node_a.customer_with_key("acme").await;
    let space = node_a.create_space(&acme, "acme", "maps").await;
    // the master is a file node A can read again under the same origin
    let origin = node_a.add_master("map.png", &grid_png(600, 400));
    let registered = node_a
        .graphql(
            &acme,
            "mutation($s: Int!, $o: String!) { registerAsset(customer: \"acme\", space: $s, wait: true, input: {id: \"map\", mediaType: \"image/png\", origin: $o}) { status } }",
            json!({ "s": space, "o": origin }),
        )
        .await;
    assert_eq!(registered.data()["registerAsset"]["status"], "READY");
    let info = format!("/iiif/3/acme/{space}/map/info.json");
    let tile = format!("/iiif/3/acme/{space}/map/0,0,256,256/256,/0/default.jpg");
    let (status, described) = node_b.get_json(&info).await;
    assert_eq!((status, described["width"].as_i64()), (200, Some(600)));
    assert_eq!(node_b.get(&tile).await.status(), 200);

    // restricted through A: once the bound has passed, B refuses the tile to a visitor without
    // a session, and a session opened on A opens it on B (its token too)
    let b_url = |path: &str| format!("{}{path}", node_b.base_url);
    for (query, variables) in [
        (
            "mutation { createAuthService(customer: \"acme\", input: {name: \"terms\", profile: ACTIVE, kind: CLICKTHROUGH, label: \"Terms\"}) { name } }",
            json!({}),
        ),
        (
            "mutation { createRole(customer: \"acme\", input: {name: \"reader\", authService: \"terms\"}) { name } }",
            json!({}),
        ),
        (
            "mutation($s: Int!, $r: [String!]) { updateAsset(customer: \"acme\", space: $s, id: \"map\", patch: {roles: $r, maxUnauthorised: 100}) { id } }",
            json!({ "s": space, "r": ["reader"] }),
        ),
    ] {
        node_a.graphql(&acme, query, variables).await.data();
    }
    tokio::time::sleep(COHERENCE_BOUND + Duration::from_millis(500)).await;
    assert_eq!(visitor::get(&b_url(&tile), None, None).await.status, 401);
    let granted =
        visitor::pass_access_page(&node_a.url("/auth/2/acme/access/terms"), VIEWER, None, &[])
            .await;
    assert_eq!(granted.status, 200, "{}", granted.text);
    let session = pair(&granted.set_cookie("vitrine-auth-acme").expect("a session"));
    let opened = visitor::get(&b_url(&tile), Some(&session), None).await;
    assert_eq!(opened.status, 200, "A's session opens the tile on B");
    let token_page = visitor::get(
        &b_url(&format!("/auth/2/acme/token?messageId=1&origin={VIEWER}")),
        Some(&session),
        None,
    )
    .await;
    let (message, _) = posted(&token_page.text);
    let token = message["accessToken"].as_str().expect("a token from B");
    let probe = format!("/auth/2/probe/acme/{space}/map");
    let probed = visitor::get(&node_a.url(&probe), None, Some(token)).await;
    assert_eq!(probed.json()["status"], 200, "B's token holds on A");
    // the restriction lifted through A: open on B once the bound has passed
    node_a
        .graphql(
            &acme,
            "mutation($s: Int!) { updateAsset(customer: \"acme\", space: $s, id: \"map\", patch: {roles: [], maxUnauthorised: -1}) { id } }",
            json!({ "s": space }),
        )
        .await
        .data();
    tokio::time::sleep(COHERENCE_BOUND + Duration::from_millis(500)).await;
    assert_eq!(visitor::get(&b_url(&tile), None, None).await.status, 200);

    // reingested through A from a new master: B serves the new one once the bound has passed
    std::fs::write(node_a.masters_dir().join("map.png"), grid_png(400, 300)).unwrap();
    let again = node_a
        .graphql(
            &acme,
            "mutation($s: Int!) { reingestAsset(customer: \"acme\", space: $s, id: \"map\", wait: true) { status width } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(again.data()["reingestAsset"]["width"], 400);
    // meanwhile B answers whole images, old or new, never an error
    assert_eq!(node_b.get(&tile).await.status(), 200);
    tokio::time::sleep(COHERENCE_BOUND + Duration::from_millis(500)).await;
    let (status, described) = node_b.get_json(&info).await;
    assert_eq!((status, described["width"].as_i64()), (200, Some(400)));
    let from_a = node_a.get(&tile).await.bytes().await.unwrap();
    let from_b = node_b.get(&tile).await.bytes().await.unwrap();
    assert_eq!(from_a, from_b, "both nodes serve the new tile");

    // deleted through A: B no longer serves it once the bound has passed
    let deleted = node_a
        .graphql(
            &acme,
            "mutation($s: Int!) { deleteAsset(customer: \"acme\", space: $s, id: \"map\") }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(deleted.data()["deleteAsset"], true);
    tokio::time::sleep(COHERENCE_BOUND + Duration::from_millis(500)).await;
    assert_eq!(node_b.get(&info).await.status(), 404);
    assert_eq!(node_b.get(&tile).await.status(), 404);
    node_b.stop().await;
    node_a.stop().await;
    database.drop_database().await;
}
