//! Helpers shared by the integration tests that call Debian's image tools.

use std::process::Command;

/// Whether a command-line tool is installed. In CI (`CI` set) a missing tool is a failure,
/// never a silent skip.
pub fn tool_available(name: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .is_ok_and(|output| output.status.success());
    let in_ci = std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false");
    assert!(
        found || !in_ci,
        "{name} must be installed in CI (.ci/run installs it)"
    );
    if !found {
        eprintln!("skipped: {name} is not installed");
    }
    found
}
