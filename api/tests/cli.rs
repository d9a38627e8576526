//! The `vitrine` binary as a user runs it: first start on an empty data dir, configuration
//! errors, the admin commands, the schema command, and graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{BINARY, vitrine};

fn serve(data_dir: &Path) -> (Child, String, Vec<String>) {
    common::serve(vitrine(data_dir))
}

fn post_graphql(base: &str, credential: &str, query: &str) -> serde_json::Value {
    let (key, secret) = credential.split_once(':').expect("key:secret");
    reqwest::blocking::Client::new()
        .post(format!("{base}/graphql"))
        .basic_auth(key, Some(secret))
        .json(&serde_json::json!({ "query": query }))
        .send()
        .expect("graphql request")
        .json()
        .expect("graphql answers JSON")
}

fn terminate_and_wait(mut child: Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "vitrine did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value of `name` in a running process's environment.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn environment_of(child: &Child, name: &str) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{}/environ", child.id())).expect("environ");
    environ
        .split(|&byte| byte == 0)
        .filter_map(|entry| std::str::from_utf8(entry).ok())
        .find_map(|entry| entry.strip_prefix(&format!("{name}=")).map(str::to_owned))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_server_limits_glibc_arenas_unless_the_operator_chose() {
    let data = tempfile::tempdir().unwrap();
    let mut command = vitrine(data.path());
    command.env_remove("MALLOC_ARENA_MAX");
    let (child, base, _) = common::serve(command);
    assert_eq!(
        environment_of(&child, "MALLOC_ARENA_MAX").as_deref(),
        Some("2")
    );
    assert!(
        reqwest::blocking::get(format!("{base}/healthz"))
            .unwrap()
            .status()
            .is_success()
    );
    assert!(terminate_and_wait(child).success());

    let mut command = vitrine(data.path());
    command.env("MALLOC_ARENA_MAX", "6");
    let (child, _, _) = common::serve(command);
    assert_eq!(
        environment_of(&child, "MALLOC_ARENA_MAX").as_deref(),
        Some("6")
    );
    assert!(terminate_and_wait(child).success());
}

#[test]
fn the_server_answers_on_as_many_runtime_threads_as_http_threads_says() {
    let data = tempfile::tempdir().unwrap();
    for threads in [1, 3] {
        let mut command = vitrine(data.path());
        command.env("VITRINE_HTTP_THREADS", threads.to_string());
        let (child, base, printed) = common::serve(command);
        let healthy = reqwest::blocking::get(format!("{base}/healthz"))
            .unwrap()
            .status()
            .is_success();
        assert!(terminate_and_wait(child).success());
        assert!(healthy);
        // the count is the runtime's own, not the setting read back
        let line = printed
            .iter()
            .find(|line| line.starts_with("threads: "))
            .unwrap_or_else(|| panic!("no threads line in {printed:?}"));
        assert!(
            line.starts_with(&format!("threads: {threads} answering requests")),
            "{line}"
        );
    }
}

#[test]
fn first_start_creates_and_prints_an_admin_key_that_works() {
    let data = tempfile::tempdir().unwrap();
    let (child, base, printed) = serve(data.path());
    let key_line = printed
        .iter()
        .find_map(|line| line.trim().strip_prefix("key:"))
        .expect("admin key printed");
    let secret_line = printed
        .iter()
        .find_map(|line| line.trim().strip_prefix("secret:"))
        .expect("admin secret printed");
    let (key, secret) = (key_line.trim(), secret_line.trim());

    let key_file = data.path().join("admin-key");
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap().trim(),
        format!("{key}:{secret}")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(data.path().join("vitrine.db").is_file());
    assert!(data.path().join("objects").is_dir());

    let created = post_graphql(
        &base,
        &format!("{key}:{secret}"),
        "mutation { createCustomer(input: {name: \"acme\"}) { name } }",
    );
    assert_eq!(
        created["data"]["createCustomer"]["name"], "acme",
        "{created}"
    );
    let status = terminate_and_wait(child);
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );

    // a second start keeps the key it made and makes no other
    let (child, base, printed) = serve(data.path());
    assert!(
        !printed.iter().any(|line| line.contains("secret:")),
        "{printed:?}"
    );
    let listed = post_graphql(
        &base,
        &format!("{key}:{secret}"),
        "{ customers { totalCount } }",
    );
    assert_eq!(listed["data"]["customers"]["totalCount"], 1, "{listed}");
    assert!(terminate_and_wait(child).success());
}

#[test]
fn admin_commands_create_customers_and_keys() {
    let data = tempfile::tempdir().unwrap();
    let migrated = vitrine(data.path()).arg("migrate").output().unwrap();
    assert!(migrated.status.success());
    let created = vitrine(data.path())
        .args([
            "admin",
            "create-customer",
            "acme",
            "--display-name",
            "Acme Museum",
        ])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let again = vitrine(data.path())
        .args(["admin", "create-customer", "acme"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("conflict"));

    let key = vitrine(data.path())
        .args(["admin", "create-key", "--customer", "acme"])
        .output()
        .unwrap();
    assert!(
        key.status.success(),
        "{}",
        String::from_utf8_lossy(&key.stderr)
    );
    let printed = String::from_utf8(key.stdout).unwrap();
    let field = |name: &str| {
        printed
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .expect(name)
    };
    let credential = format!("{}:{}", field("key:"), field("secret:"));
    let missing = vitrine(data.path())
        .args(["admin", "create-key", "--customer", "ghost"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let neither = vitrine(data.path())
        .args(["admin", "create-key"])
        .output()
        .unwrap();
    assert!(
        !neither.status.success(),
        "create-key needs --customer or --admin"
    );

    let (child, base, _) = serve(data.path());
    let own = post_graphql(
        &base,
        &credential,
        "{ customer(name: \"acme\") { displayName } }",
    );
    assert_eq!(
        own["data"]["customer"]["displayName"], "Acme Museum",
        "{own}"
    );
    let others = post_graphql(&base, &credential, "{ customers { totalCount } }");
    assert_eq!(
        others["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{others}"
    );
    assert!(terminate_and_wait(child).success());
}

#[test]
fn configuration_errors_stop_the_start_with_a_message() {
    let data = tempfile::tempdir().unwrap();
    let typo = vitrine(data.path())
        .arg("serve")
        .env("VITRINE_LISTN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!typo.status.success());
    assert!(String::from_utf8_lossy(&typo.stderr).contains("VITRINE_LISTN"));

    let file = data.path().join("vitrine.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nunknown_key = 1\n").unwrap();
    let unknown = vitrine(data.path())
        .args(["--config", file.to_str().unwrap(), "serve"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown_key"));
}

/// Issue 18, item 6: a data dir under an import root let a customer register
/// `file://.../jwt-secret` and sign admin tokens with it.
#[test]
fn import_roots_that_reach_the_data_dir_stop_the_start() {
    let sandbox = tempfile::tempdir().unwrap();
    let data = sandbox.path().join("data");
    let masters = sandbox.path().join("masters");
    std::fs::create_dir_all(&masters).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&data, sandbox.path().join("link")).unwrap();
    let mut roots = vec![
        (sandbox.path().to_path_buf(), "holds"),
        (data.join("masters"), "is inside"),
    ];
    #[cfg(unix)]
    roots.push((sandbox.path().join("link/masters"), "is inside"));
    for (root, relation) in roots {
        let refused = vitrine(&data)
            .arg("serve")
            .env("VITRINE_LISTEN", "127.0.0.1:0")
            .env("VITRINE_IMPORT_ROOTS", &root)
            .output()
            .unwrap();
        assert!(!refused.status.success(), "{}", root.display());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("import root") && stderr.contains(relation),
            "{}: {stderr}",
            root.display()
        );
    }
    // beside the data dir is fine
    let (child, _, _) = common::serve({
        let mut command = vitrine(&data);
        command.env("VITRINE_IMPORT_ROOTS", &masters);
        command
    });
    assert!(terminate_and_wait(child).success());
}

/// Issue 18, item 17: `vitrine.db` was world-readable. The data dir is created 0700 and the
/// files the server writes into it 0600, whatever the umask; an existing world-readable
/// database is tightened too.
#[cfg(unix)]
#[test]
fn the_data_dir_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = tempfile::tempdir().unwrap();
    let data = sandbox.path().join("fresh").join("data");
    let (child, _, _) = serve(&data);
    assert!(terminate_and_wait(child).success());
    let mode = |name: &str| {
        std::fs::metadata(data.join(name))
            .unwrap_or_else(|error| panic!("{name}: {error}"))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(""), 0o700, "the data dir");
    assert_eq!(mode("objects"), 0o700);
    for file in ["vitrine.db", "jwt-secret", "admin-key"] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
    for file in ["vitrine.db", "jwt-secret"] {
        std::fs::set_permissions(data.join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (child, _, _) = serve(&data);
    assert!(terminate_and_wait(child).success());
    assert_eq!(mode(""), 0o700, "an existing data dir is tightened");
    assert_eq!(
        mode("vitrine.db"),
        0o600,
        "an existing database is tightened"
    );
    assert_eq!(mode("jwt-secret"), 0o600, "an existing secret is tightened");
}

#[test]
fn schema_graphql_is_the_schema_command_output() {
    let output = Command::new(BINARY).arg("schema").output().unwrap();
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql")).unwrap();
    assert!(
        String::from_utf8(output.stdout).unwrap() == committed,
        "schema.graphql is stale: run `cargo run -p vitrine-api -- schema > schema.graphql`"
    );
}

#[test]
fn logs_can_be_json() {
    let data = tempfile::tempdir().unwrap();
    let mut child = vitrine(data.path())
        .arg("serve")
        .env("VITRINE_LISTEN", "127.0.0.1:0")
        .env("VITRINE_LOG_FORMAT", "json")
        .env("VITRINE_LOG_LEVEL", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (found, listening) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(record) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if record["message"]
                .as_str()
                .is_some_and(|message| message.starts_with("listening on"))
            {
                let _ = found.send(record);
            }
        }
    });
    let listening = listening.recv_timeout(Duration::from_secs(30));
    let status = terminate_and_wait(child);
    let record = listening.expect("a JSON log line says where the server listens, within 30 s");
    assert_eq!(record["level"], "INFO");
    assert!(status.success());
}
