//! Configuration: an optional TOML file and `VITRINE_*` environment variables, read into a raw
//! struct that rejects unknown keys, then checked into [`Config`]. Secrets never appear in
//! `Debug` output.
//!
//! - `sources`: the keys, and reading the file and the environment into the raw struct
//! - `validation`: the raw struct, and its check into [`Config`]: defaults, ranges, and the
//!   rules between keys
//! - `settings`: the checked [`Config`], its masked `Debug`, and the server's own paths that
//!   import roots must keep clear of

mod settings;
mod sources;
mod validation;

pub use settings::{Config, LogFormat, Secret};
pub use sources::{ENV_PREFIX, KEYS, ValueKind};

/// An environment holding only the given variables.
#[cfg(test)]
fn env(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
