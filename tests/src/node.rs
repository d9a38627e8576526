//! A `vitrine serve` process, for tests that need a node they can kill (SIGKILL) mid-work: the
//! binary cargo built beside this test, with a clean environment and the settings given.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running `vitrine serve`; killed when dropped.
#[derive(Debug)]
pub struct NodeProcess {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    child: Child,
}

impl NodeProcess {
    /// The `vitrine` binary of this build (`cargo test --workspace` builds it), or `None` when
    /// it is missing outside CI (the test is then skipped); under CI that is a failure.
    pub fn binary() -> Option<PathBuf> {
        let test = std::env::current_exe().expect("the test's own path");
        let profile = test
            .parent()
            .and_then(|deps| deps.parent())
            .expect("tests run from target/<profile>/deps");
        let binary = profile.join("vitrine");
        if binary.is_file() {
            return Some(binary);
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs {} (cargo test --workspace builds it)",
            binary.display()
        );
        eprintln!(
            "skipped: no {}; run cargo build --bin vitrine",
            binary.display()
        );
        None
    }

    /// Starts `binary serve` on a free loopback port with only the `VITRINE_*` settings
    /// given (and quiet logs); returns once it listens.
    pub async fn start(binary: &PathBuf, settings: &[(&str, String)]) -> NodeProcess {
        let mut command = Command::new(binary);
        for (name, _) in std::env::vars() {
            if name.starts_with("VITRINE_") || name.starts_with("AWS_") {
                command.env_remove(name);
            }
        }
        command
            .arg("serve")
            .env("VITRINE_LISTEN", "127.0.0.1:0")
            .env("VITRINE_LOG_LEVEL", "warn")
            .envs(settings.iter().map(|(name, value)| (*name, value)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("vitrine serve starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let base_url = loop {
            match lines.next_line().await.expect("stdout line") {
                Some(line) => {
                    if let Some(address) = line.strip_prefix("listening on ") {
                        break address.trim().to_owned();
                    }
                }
                None => panic!("vitrine serve exited before listening"),
            }
        };
        // keep reading, so that later output never meets a closed pipe
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        NodeProcess { base_url, child }
    }

    /// Kills the process at once (SIGKILL): no shutdown, jobs left held.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("kill the node");
    }
}
