//! Running the `vitrine` binary in tests: a clean environment and `serve` on a free port.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const BINARY: &str = env!("CARGO_BIN_EXE_vitrine");

/// A command with no VITRINE_* variables from the caller's environment, the data dir given,
/// and quiet logs.
pub fn vitrine(data_dir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    for (name, _) in std::env::vars() {
        if name.starts_with("VITRINE_") {
            command.env_remove(name);
        }
    }
    command
        .env("VITRINE_DATA_DIR", data_dir)
        .env("VITRINE_LOG_LEVEL", "warn");
    command
}

/// Runs `serve` from `command` on an ephemeral port; returns the child, its base URL and what
/// it printed before listening.
pub fn serve(mut command: Command) -> (Child, String, Vec<String>) {
    let mut child = command
        .arg("serve")
        .env("VITRINE_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("vitrine serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut printed = Vec::new();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.expect("stdout line");
        if let Some(address) = line.strip_prefix("listening on ") {
            let base = address.trim().to_owned();
            // keep draining, so that later output never meets a closed pipe
            std::thread::spawn(move || lines.for_each(drop));
            return (child, base, printed);
        }
        printed.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("vitrine serve exited before listening; printed {printed:?}");
}
