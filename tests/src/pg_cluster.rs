//! A PostgreSQL server of the test's own: `initdb` into a temp dir and `pg_ctl` on a free
//! loopback port, with the machine's PostgreSQL binaries. For tests that stop and restart the
//! database under a running node, which they must never do to the machine's shared server.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A private PostgreSQL server; stopped (immediately) and removed when dropped.
#[derive(Debug)]
pub struct PostgresCluster {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub url: String,
    port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// run the binaries as the `postgres` user (PostgreSQL refuses to run as root)
    as_postgres: bool,
}

impl PostgresCluster {
    /// Creates and starts a server. Without PostgreSQL's server binaries
    /// (`/usr/lib/postgresql/*/bin`, or the folder `VITRINE_TEST_PG_BIN` names) the test is
    /// skipped (`None`), except under CI, where that is a failure.
    pub async fn start() -> Option<PostgresCluster> {
        let Some(bin) = server_binaries() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs PostgreSQL's server binaries (initdb, pg_ctl)"
            );
            eprintln!("skipped: no PostgreSQL server binaries (initdb, pg_ctl)");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let as_postgres = running_as_root();
        if as_postgres {
            let (uid, gid) = postgres_user();
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown the dir");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let cluster = PostgresCluster {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            port,
            bin,
            dir,
            as_postgres,
        };
        cluster
            .run(
                "initdb",
                &[
                    "-D",
                    &cluster.data().display().to_string(),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
            )
            .await;
        cluster.start_server().await;
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// One of the server binaries, as the user that may run it.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        command.current_dir(self.dir.path());
        command
    }

    /// Runs one of the server binaries to its end; panics with its output when it fails.
    async fn run(&self, program: &str, args: &[&str]) {
        let mut command = tokio::process::Command::from(self.command(program));
        let output = command
            .args(args)
            .output()
            .await
            .unwrap_or_else(|error| panic!("{program} cannot run: {error}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts the server (again) and waits until it accepts connections.
    pub async fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        let data = self.data().display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &options, "-w", "start"],
        )
        .await;
    }

    /// Stops the server as an administrator's restart does: every session is ended at once,
    /// and no connection is accepted until [`PostgresCluster::start_server`].
    pub async fn stop_server(&self) {
        let data = self.data().display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"])
            .await;
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        // best effort: the temp dir goes either way
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// The folder of `initdb` and `pg_ctl`: `VITRINE_TEST_PG_BIN`, else the newest
/// `/usr/lib/postgresql/*/bin` that has them.
fn server_binaries() -> Option<PathBuf> {
    if let Some(folder) = std::env::var_os("VITRINE_TEST_PG_BIN") {
        return Some(PathBuf::from(folder));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_binaries(&bin).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn has_binaries(bin: &Path) -> bool {
    bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user
    std::fs::metadata("/proc/self").is_ok_and(|metadata| metadata.uid() == 0)
}

/// The `postgres` user's uid and gid.
fn postgres_user() -> (u32, u32) {
    let id = |flag: &str| {
        let output = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("id runs");
        assert!(
            output.status.success(),
            "no postgres user to run the server as"
        );
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .expect("a number")
    };
    (id("-u"), id("-g"))
}
