//! Vitrine's own storage on a real S3-protocol server (moto, on loopback): the storage suite,
//! readiness that names what is wrong with the store, images ingested into and served from the
//! bucket, and a store outage answered with 503 and Retry-After (never a 500 or a hang) from
//! which tiles and ingest recover by themselves.

use std::time::Duration;

use serde_json::{Value, json};
use vitrine_tests::images::grid_png;
use vitrine_tests::{
    Auth, FaultProxy, S3Server, STORAGE_BUCKET, STORAGE_URL, TestApp, store_in_bucket,
};

/// A moto server with the bucket, or `None` (skipped) where moto cannot run outside CI.
async fn s3_server() -> Option<S3Server> {
    S3Server::start_open(STORAGE_BUCKET).await
}

/// A test server's storage on the bucket, reached with `settings`.
fn on_bucket(settings: storage::S3Settings) -> impl FnOnce(&mut api::Config) + Send + 'static {
    move |config| store_in_bucket(config, settings)
}

#[tokio::test]
async fn the_storage_suite_passes_on_s3() {
    let Some(server) = s3_server().await else {
        return;
    };
    let store = server.bucket_store("suite");
    store.check().await.expect("the bucket answers");
    storage::testsuite::run(&store).await;
}

#[tokio::test]
async fn readiness_names_what_is_wrong_with_the_store() {
    let Some(server) = s3_server().await else {
        return;
    };
    let endpoint = server.endpoint.clone();
    let mut app = TestApp::builder()
        .config(on_bucket(server.settings()))
        .start()
        .await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);

    app.restart(|config| config.storage_url = "s3://no-such-bucket/objects".into())
        .await;
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 503, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("s3://no-such-bucket/objects"), "{message}");
    assert!(message.contains("no such bucket"), "{message}");

    // nothing listens on the endpoint's port once moto is gone
    drop(server);
    app.restart(move |config| {
        config.storage_url = STORAGE_URL.into();
        config.storage.s3.endpoint = Some(endpoint);
        config.storage.request_timeout = Duration::from_secs(1);
    })
    .await;
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{body}"
    );

    // a server that checks signatures refuses a wrong secret
    let signing = S3Server::start(STORAGE_BUCKET, "seed", b"x".to_vec())
        .await
        .expect("moto runs where the open one did");
    let settings = signing.settings();
    app.restart(move |config| {
        config.storage.s3 = storage::S3Settings {
            secret_access_key: Some("not-the-secret".into()),
            ..settings
        };
    })
    .await;
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "storage-unavailable");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("s3://vitrine/objects"), "{message}");
    assert!(message.contains("refuses the credentials"), "{message}");
    app.stop().await;
}

async fn asset_status(app: &TestApp, auth: &Auth, space: i64, id: &str) -> String {
    let answer = app
        .graphql(
            auth,
            "query($s: Int!, $id: String!) { asset(customer: \"acme\", space: $s, id: $id) { status error } }",
            json!({ "s": space, "id": id }),
        )
        .await;
    answer.data()["asset"]["status"]
        .as_str()
        .expect("a status")
        .to_owned()
}

/// Every key the bucket holds under the server's prefix for one asset of the first customer
/// (keys start with the customer's number).
async fn stored_keys(server: &S3Server, asset: &str) -> Vec<String> {
    let store = server.bucket_store("objects");
    store
        .list("1")
        .await
        .unwrap()
        .into_iter()
        .filter(|key| key.contains(&format!(".{asset}/")))
        .collect()
}

#[tokio::test]
async fn images_live_on_s3_and_a_store_outage_is_a_503_not_a_hang() {
    let Some(server) = s3_server().await else {
        return;
    };
    let proxy = FaultProxy::start(server.address()).await;
    let app = TestApp::builder()
        .workers(1)
        .config(on_bucket(storage::S3Settings {
            endpoint: Some(proxy.url()),
            ..server.settings()
        }))
        .config(|config| {
            config.storage.request_timeout = Duration::from_secs(2);
            config.ingest_max_attempts = 50;
            config.ingest_retry_max_seconds = 1;
        })
        .start()
        .await;
    let acme = app.customer_with_key("acme").await;
    let space = app.create_space(&acme, "acme", "scans").await;
    let page = app
        .register_image(&acme, "acme", space, "page-1", &grid_png(600, 400))
        .await;
    assert_eq!(page["status"], "READY", "{page}");
    let keys = stored_keys(&server, "page-1").await;
    assert!(
        keys.iter().any(|key| key.contains("/pyramid-")),
        "the pyramid is in the bucket: {keys:?}"
    );
    let service = page["imageService"].as_str().unwrap().to_owned();
    let tile = |region: &str| format!("{service}/{region}/256,/0/default.jpg");
    let first = app.client.get(tile("0,0,256,256")).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "image/jpeg");

    // the store goes away for 10 s: a tile it has not served yet is a 503 with Retry-After, in
    // bounded time
    proxy.set_down(true);
    let outage = tokio::time::Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(60),
        app.client.get(tile("256,0,256,256")).send(),
    )
    .await
    .expect("a tile request during an outage does not hang")
    .unwrap();
    assert_eq!(answer.status(), 503);
    assert!(answer.headers().get("retry-after").is_some());
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "storage-unavailable");
    assert_eq!(app.get("/readyz").await.status(), 503);

    // an image registered during the outage waits, retrying, and is READY once the store is back
    let origin = app.add_master("page-2.png", &grid_png(300, 200));
    let registered = app
        .graphql(
            &acme,
            "mutation($s: Int!, $o: String!) { registerAsset(customer: \"acme\", space: $s, input: {id: \"page-2\", mediaType: \"image/png\", origin: $o}) { status } }",
            json!({ "s": space, "o": origin }),
        )
        .await;
    assert_eq!(registered.data()["registerAsset"]["status"], "WAITING");
    tokio::time::sleep_until(outage + Duration::from_secs(10)).await;
    assert_ne!(asset_status(&app, &acme, space, "page-2").await, "READY");
    proxy.set_down(false);
    let mut status = String::new();
    for _ in 0..120 {
        status = asset_status(&app, &acme, space, "page-2").await;
        if status == "READY" || status == "ERROR" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, "READY", "ingest retried after the store came back");
    let again = app.client.get(tile("256,0,256,256")).send().await.unwrap();
    assert_eq!(again.status(), 200, "tiles are served again");
    assert_eq!(app.get("/readyz").await.status(), 200);

    // deleting an asset removes its objects from the bucket
    let deleted = app
        .graphql(
            &acme,
            "mutation($s: Int!) { deleteAsset(customer: \"acme\", space: $s, id: \"page-1\") }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(deleted.data()["deleteAsset"], true);
    assert_eq!(stored_keys(&server, "page-1").await, Vec::<String>::new());
    assert!(!stored_keys(&server, "page-2").await.is_empty());
    app.stop().await;
}

/// The derivative keys (pyramid and thumbnails) stored for an asset.
async fn derivative_keys(server: &S3Server, asset: &str) -> Vec<String> {
    stored_keys(server, asset)
        .await
        .into_iter()
        .filter(|key| key.contains("/pyramid") || key.contains("/thumb-"))
        .collect()
}

#[tokio::test]
async fn a_reingest_never_mixes_versions_and_orphans_are_swept() {
    let Some(server) = s3_server().await else {
        return;
    };
    let app = TestApp::builder()
        .config(on_bucket(server.settings()))
        .start()
        .await;
    let acme = app.customer_with_key("acme").await;
    let space = app.create_space(&acme, "acme", "scans").await;
    let page = app
        .register_image(&acme, "acme", space, "page", &grid_png(600, 400))
        .await;
    assert_eq!(page["status"], "READY", "{page}");
    let first = derivative_keys(&server, "page").await;
    assert!(!first.is_empty());

    // a reingest writes a new version beside the old one, which stays whole for readers
    // that still hold the old record
    let again = app
        .graphql(
            &acme,
            "mutation($s: Int!) { reingestAsset(customer: \"acme\", space: $s, id: \"page\", wait: true) { status } }",
            json!({ "s": space }),
        )
        .await;
    assert_eq!(again.data()["reingestAsset"]["status"], "READY");
    let both = derivative_keys(&server, "page").await;
    assert_eq!(both.len(), first.len() * 2, "{both:?}");
    assert!(first.iter().all(|key| both.contains(key)));
    let tile = format!("/iiif/3/acme/{space}/page/0,0,256,256/256,/0/default.jpg");
    assert_eq!(app.get(&tile).await.status(), 200);

    // ... and goes once no node can still ask for it
    tokio::time::sleep(ingest::STALE_DERIVATIVES_GRACE + Duration::from_secs(2)).await;
    let second = derivative_keys(&server, "page").await;
    assert_eq!(second.len(), first.len(), "{second:?}");
    assert!(second.iter().all(|key| !first.contains(key)));
    assert_eq!(app.get(&tile).await.status(), 200);

    // a crash between the database and the store leaves objects nothing refers to: a deleted
    // asset's, and a dead attempt's derivative; the sweep removes them and nothing else
    let store = server.bucket_store("objects");
    let ghost = format!("1/{space}/i.ghost/pyramid-v1-1-00000000.tif");
    let dead_attempt = format!("1/{space}/i.page/thumb-10x10-v999-1-00000000.jpg");
    for key in [&ghost, &dead_attempt] {
        store
            .put(key, bytes::Bytes::from_static(b"left over"))
            .await
            .unwrap();
    }
    let config = app.configuration();
    let ingestor = ingest::Ingestor::new(
        api::server::open_domain(config).await.unwrap(),
        config.open_storage().unwrap(),
        api::server::ingest_options(config),
    )
    .unwrap();
    let report = ingestor
        .sweep_orphans(Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(
        report.removed, 0,
        "nothing is removed inside the grace period"
    );
    let report = ingestor.sweep_orphans(Duration::ZERO).await.unwrap();
    assert_eq!(report.removed, 2, "{report:?}");
    assert!(matches!(
        store.get(&ghost).await,
        Err(storage::Error {
            kind: storage::ErrorKind::NotFound,
            ..
        })
    ));
    assert_eq!(derivative_keys(&server, "page").await, second);
    assert_eq!(app.get(&tile).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn tiles_read_once_come_from_the_disk_cache_while_the_store_is_away() {
    let Some(server) = s3_server().await else {
        return;
    };
    let proxy = FaultProxy::start(server.address()).await;
    let app = TestApp::builder()
        .config(on_bucket(storage::S3Settings {
            endpoint: Some(proxy.url()),
            ..server.settings()
        }))
        .config(|config| {
            config.storage.request_timeout = Duration::from_secs(2);
            config.tile_disk_cache_bytes = 64 * 1024;
        })
        .start()
        .await;
    let acme = app.customer_with_key("acme").await;
    let space = app.create_space(&acme, "acme", "scans").await;
    let page = app
        .register_image(&acme, "acme", space, "page", &grid_png(1024, 768))
        .await;
    assert_eq!(page["status"], "READY", "{page}");
    let tile = |region: &str| format!("/iiif/3/acme/{space}/page/{region}/256,/0/default.jpg");
    let mut first = Vec::new();
    for region in ["0,0,256,256", "256,0,256,256", "512,0,256,256"] {
        let answer = app.get(&tile(region)).await;
        assert_eq!(answer.status(), 200);
        first.push(answer.bytes().await.unwrap());
    }
    let cached: u64 = std::fs::read_dir(app.data_dir().join("tile-cache"))
        .unwrap()
        .flatten()
        .map(|entry| entry.metadata().unwrap().len())
        .sum();
    assert!(cached > 0 && cached <= 64 * 1024, "{cached} bytes on disk");

    proxy.set_down(true);
    for (region, bytes) in ["0,0,256,256", "256,0,256,256", "512,0,256,256"]
        .into_iter()
        .zip(&first)
    {
        let answer = app.get(&tile(region)).await;
        assert_eq!(answer.status(), 200, "{region} comes from the disk");
        assert_eq!(&answer.bytes().await.unwrap(), bytes);
    }
    let never_read = app.get(&tile("768,0,256,256")).await;
    assert_eq!(
        never_read.status(),
        503,
        "a tile never read needs the store"
    );
    app.stop().await;
}
