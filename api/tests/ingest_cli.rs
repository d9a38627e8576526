//! Ingest from the shell and across restarts: `vitrine import` with its checks and `--wait`,
//! and a batch that survives its server being killed (SIGKILL) halfway.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

const ADMIN: &str = "cli-admin:cli-admin-secret-0123456789";

/// A clean command with the masters folder as import root, a known admin key, and a short job
/// timeout.
fn vitrine(data_dir: &Path) -> Command {
    // the data dir proper is a folder beside the masters: an import root may not hold it
    let mut command = common::vitrine(&data_dir.join("data"));
    command
        .env("VITRINE_ADMIN_KEY", ADMIN)
        .env("VITRINE_IMPORT_ROOTS", masters(data_dir))
        .env("VITRINE_JOB_TIMEOUT_SECONDS", "2")
        .env("VITRINE_INGEST_RETRY_BASE_MS", "100");
    command
}

fn masters(data_dir: &Path) -> PathBuf {
    data_dir.join("masters")
}

/// Writes `count` PNG masters of `width` x `height` and returns their file:// origins.
fn write_masters(data_dir: &Path, count: usize, width: u32, height: u32) -> Vec<String> {
    std::fs::create_dir_all(masters(data_dir)).unwrap();
    (0..count)
        .map(|n| {
            let image = image::RgbImage::from_fn(width, height, |x, y| {
                image::Rgb([(x % 251) as u8, (y % 241) as u8, (n % 256) as u8])
            });
            let path = masters(data_dir).join(format!("m{n}.png"));
            image.save(&path).unwrap();
            format!("file://{}", path.display())
        })
        .collect()
}

fn serve(data_dir: &Path, workers: usize) -> (Child, String) {
    let mut command = vitrine(data_dir);
    command.env("VITRINE_WORKERS", workers.to_string());
    let (child, base, _) = common::serve(command);
    (child, base)
}

fn graphql(base: &str, query: &str, variables: Value) -> Value {
    let (key, secret) = ADMIN.split_once(':').unwrap();
    let body: Value = reqwest::blocking::Client::new()
        .post(format!("{base}/graphql"))
        .basic_auth(key, Some(secret))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"].clone()
}

fn setup_customer(data_dir: &Path) {
    let created = vitrine(data_dir)
        .args(["admin", "create-customer", "acme"])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
}

fn create_space(base: &str) -> i64 {
    graphql(
        base,
        "mutation { createSpace(customer: \"acme\", input: {name: \"s\"}) { id } }",
        json!({}),
    )["createSpace"]["id"]
        .as_i64()
        .unwrap()
}

/// A batch of PNG masters a0, a1, ... in `space`; returns its id.
fn create_batch(base: &str, space: i64, origins: &[String]) -> i64 {
    let members: Vec<Value> = origins
        .iter()
        .enumerate()
        .map(|(n, origin)| json!({ "space": space, "id": format!("a{n}"), "mediaType": "image/png", "origin": origin }))
        .collect();
    let created = graphql(
        base,
        "mutation($m: [BatchMemberInput!]!) { createBatch(customer: \"acme\", members: $m) { id } }",
        json!({ "m": members }),
    );
    created["createBatch"]["id"].as_i64().unwrap()
}

fn batch(base: &str, id: i64) -> Value {
    graphql(
        base,
        "query($id: Int!) { batch(customer: \"acme\", id: $id) { count completed errors finished
            ready: members(status: READY) { totalCount } } }",
        json!({ "id": id }),
    )["batch"]
        .clone()
}

fn finished_times(base: &str, space: i64) -> Vec<(String, Option<String>)> {
    let data = graphql(
        base,
        "query($s: Int!) { space(customer: \"acme\", id: $s) { assets(first: 1000) { edges { node { id finished } } } } }",
        json!({ "s": space }),
    );
    data["space"]["assets"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| {
            (
                edge["node"]["id"].as_str().unwrap().to_owned(),
                edge["node"]["finished"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn a_batch_survives_its_server_being_killed() {
    let data = tempfile::tempdir().unwrap();
    setup_customer(data.path());
    let origins = write_masters(data.path(), 24, 1200, 900);
    let (mut first, base) = serve(data.path(), 1);
    let space = create_space(&base);
    let id = create_batch(&base, space, &origins);

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let current = batch(&base, id);
        if current["completed"].as_i64().unwrap() >= 3 {
            break;
        }
        assert!(Instant::now() < deadline, "no progress: {current}");
        std::thread::sleep(Duration::from_millis(20));
    }
    first.kill().unwrap(); // SIGKILL: no chance to give its job back
    first.wait().unwrap();

    // the killed server cannot answer: read the state with one that processes nothing
    let (reader, base) = serve(data.path(), 0);
    let before = finished_times(&base, space);
    stop(reader);
    let done_before: Vec<_> = before
        .iter()
        .filter(|(_, f)| f.is_some())
        .cloned()
        .collect();
    assert!(
        done_before.len() >= 3 && done_before.len() < 24,
        "killed halfway: {}",
        done_before.len()
    );

    let (second, base) = serve(data.path(), 2);
    let deadline = Instant::now() + Duration::from_secs(180);
    let finished = loop {
        let current = batch(&base, id);
        if current["finished"].is_string() {
            break current;
        }
        assert!(
            Instant::now() < deadline,
            "the batch never finished after the restart: {current}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(finished["completed"], 24, "{finished}");
    assert_eq!(finished["errors"], 0, "{finished}");
    assert_eq!(finished["ready"]["totalCount"], 24);
    // what was done before the kill was not done again
    let after = finished_times(&base, space);
    for done in &done_before {
        assert!(after.contains(done), "{} was processed again", done.0);
    }
    stop(second);
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn import_checks_the_csv_then_creates_and_waits_for_the_batch() {
    let data = tempfile::tempdir().unwrap();
    setup_customer(data.path());
    let origins = write_masters(data.path(), 3, 120, 90);
    let (server, base) = serve(data.path(), 0);
    let space = create_space(&base);

    let bad = data.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!("Line,ID,MediaType,Space,Origin\n1,a,image/png,{space},{}\n2,a,image/png,{space},{}\n3,c,image/png,77,{}\n", origins[0], origins[1], origins[2]),
    )
    .unwrap();
    let refused = vitrine(data.path())
        .args(["import", bad.to_str().unwrap(), "--customer", "acme"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("line 2, ID") && stderr.contains("duplicate-asset"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 3, Space") && stderr.contains("unknown-space"),
        "{stderr}"
    );

    let good = data.path().join("good.csv");
    let rows: String = origins
        .iter()
        .enumerate()
        .map(|(n, origin)| format!("{},a{n},image/png,{space},{origin},book,{n}\n", n + 1))
        .collect();
    std::fs::write(
        &good,
        format!("Line,ID,MediaType,Space,Origin,Reference1,Number1\n{rows}"),
    )
    .unwrap();
    let dry = vitrine(data.path())
        .args([
            "import",
            good.to_str().unwrap(),
            "--customer",
            "acme",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(dry.status.success());
    assert!(String::from_utf8_lossy(&dry.stdout).contains("nothing was created"));

    let imported = vitrine(data.path())
        .args([
            "import",
            good.to_str().unwrap(),
            "--customer",
            "acme",
            "--wait",
        ])
        .env("VITRINE_WORKERS", "2")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&imported.stdout);
    assert!(
        imported.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(stdout.contains("3 ready, 0 errors"), "{stdout}");
    let assets = graphql(
        &base,
        "query($s: Int!) { space(customer: \"acme\", id: $s) { assets(filter: {string1: \"book\", status: READY}) { totalCount } } }",
        json!({ "s": space }),
    );
    assert_eq!(assets["space"]["assets"]["totalCount"], 3);

    let missing = vitrine(data.path())
        .args(["import", "/no/such.csv", "--customer", "acme"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    stop(server);
}

/// Runs `vitrine build-pyramid` on a master written to `folder`, as a server does for a large
/// master, and returns its answer.
fn build_in_child(folder: &Path, master: &[u8]) -> Value {
    use std::io::Write;
    std::fs::write(folder.join("master"), master).unwrap();
    let mut child = common::vitrine(folder)
        .arg("build-pyramid")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let request = json!({ "folder": folder, "tile_size": 256, "jpeg_quality": 80,
        "thumbnail_sizes": [100, 400], "max_pixels": 1_000_000_000u64, "memory_budget": 1u64 << 30 });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The child side of a large master's build: the pyramid and thumbnails land in the folder it
/// was given, and a bad master is an answer with its stable code, not a crash.
#[test]
fn build_pyramid_builds_in_the_folder_it_is_given_and_answers_failures_with_their_code() {
    let folder = tempfile::tempdir().unwrap();
    let image = image::RgbImage::from_fn(700, 500, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let built = build_in_child(folder.path(), &png);
    assert_eq!(built["outcome"], "built", "{built}");
    assert_eq!(
        (built["width"].as_u64(), built["height"].as_u64()),
        (Some(700), Some(500))
    );
    assert_eq!(built["levels"], 3, "{built}");
    assert_eq!(
        built["thumbnails"],
        json!([[100, 71], [400, 286]]),
        "{built}"
    );
    let tiff = std::fs::read(folder.path().join("pyramid.tif")).unwrap();
    assert_eq!(tiff.len() as u64, built["bytes"].as_u64().unwrap());
    assert!(tiff.starts_with(b"II*\0") || tiff.starts_with(b"II+\0"));
    let thumbnail = image::open(folder.path().join("thumbnail-400x286.jpg")).unwrap();
    assert_eq!((thumbnail.width(), thumbnail.height()), (400, 286));

    // a 16 x 16 PNG whose header claims 60,000 x 60,000 pixels (its checksum made right)
    let mut lying = Vec::new();
    image::RgbImage::new(16, 16)
        .write_to(
            &mut std::io::Cursor::new(&mut lying),
            image::ImageFormat::Png,
        )
        .unwrap();
    lying[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    lying[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let mut crc = !0u32;
    for byte in &lying[12..29] {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    lying[29..33].copy_from_slice(&(!crc).to_be_bytes());
    let failed = build_in_child(folder.path(), &lying);
    assert_eq!(failed["outcome"], "failed", "{failed}");
    assert_eq!(failed["code"], "image-too-large", "{failed}");
    // a master cut short
    let failed = build_in_child(folder.path(), &png[..png.len() / 2]);
    assert_eq!(failed["outcome"], "failed", "{failed}");
    assert!(
        matches!(
            failed["code"].as_str(),
            Some("truncated-image" | "unsupported-image")
        ),
        "{failed}"
    );
}

/// With `build_process_pixels` low, a server builds every master in a process of its own (the
/// real `vitrine build-pyramid`) and serves it as it would any other.
#[test]
fn a_server_builds_large_masters_in_processes_of_their_own() {
    let data = tempfile::tempdir().unwrap();
    setup_customer(data.path());
    let origins = write_masters(data.path(), 2, 600, 400);
    let mut command = vitrine(data.path());
    command
        .env("VITRINE_WORKERS", "1")
        .env("VITRINE_BUILD_PROCESS_PIXELS", "1000");
    let (server, base, _) = common::serve(command);
    let space = create_space(&base);
    let id = create_batch(&base, space, &origins);
    let deadline = Instant::now() + Duration::from_secs(60);
    let finished = loop {
        let current = batch(&base, id);
        if current["finished"].is_string() {
            break current;
        }
        assert!(Instant::now() < deadline, "never finished: {current}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(finished["ready"]["totalCount"], 2, "{finished}");
    let tile = reqwest::blocking::get(format!(
        "{base}/iiif/3/acme/{space}/a1/256,0,256,256/max/0/default.jpg"
    ))
    .unwrap();
    assert_eq!(tile.status(), 200);
    let tile = image::load_from_memory(&tile.bytes().unwrap()).unwrap();
    assert_eq!((tile.width(), tile.height()), (256, 256));
    stop(server);
}
