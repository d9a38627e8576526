//! The configuration keys, and where their values come from: an optional TOML file, then
//! `VITRINE_*` environment variables (whose values win), read into the raw struct.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};

use super::settings::Config;
use super::validation::RawConfig;

/// The prefix of every configuration environment variable.
pub const ENV_PREFIX: &str = "VITRINE_";

/// Environment variables with the prefix that are not configuration keys.
const ENV_NOT_KEYS: &[&str] = &["VITRINE_CONFIG"];
/// Prefixes of environment variables that belong to tools around Vitrine (the test suites).
const ENV_FOREIGN_PREFIXES: &[&str] = &["VITRINE_TEST_"];

/// Every key as the file spells it. Keep in step with [`RawConfig`] and `vitrine.sample.toml`.
pub const KEYS: &[(&str, ValueKind)] = &[
    ("data_dir", ValueKind::Text),
    ("listen", ValueKind::Text),
    ("public_url", ValueKind::Text),
    ("rest_api_prefix", ValueKind::Text),
    ("database_url", ValueKind::Text),
    ("storage_url", ValueKind::Text),
    ("storage_s3_endpoint", ValueKind::Text),
    ("storage_s3_region", ValueKind::Text),
    ("storage_s3_access_key_id", ValueKind::Text),
    ("storage_s3_secret_access_key", ValueKind::Text),
    ("storage_s3_virtual_hosted", ValueKind::Bool),
    ("storage_timeout_seconds", ValueKind::Integer),
    ("admin_key", ValueKind::Text),
    ("import_roots", ValueKind::List),
    ("allow_private_origins", ValueKind::Bool),
    ("workers", ValueKind::Integer),
    ("jwt_secret", ValueKind::Text),
    ("jwt_ttl_seconds", ValueKind::Integer),
    ("log_format", ValueKind::Text),
    ("log_level", ValueKind::Text),
    ("graphql_max_depth", ValueKind::Integer),
    ("graphql_max_complexity", ValueKind::Integer),
    ("graphql_max_aliases", ValueKind::Integer),
    ("max_request_bytes", ValueKind::Integer),
    ("max_anonymous_request_bytes", ValueKind::Integer),
    ("shutdown_timeout_seconds", ValueKind::Integer),
    ("http_header_timeout_seconds", ValueKind::Integer),
    ("http_idle_timeout_seconds", ValueKind::Integer),
    ("max_connections", ValueKind::Integer),
    ("tile_size", ValueKind::Integer),
    ("jpeg_quality", ValueKind::Integer),
    ("max_image_pixels", ValueKind::Integer),
    ("build_process_pixels", ValueKind::Integer),
    ("ingest_memory_budget_bytes", ValueKind::Integer),
    ("image_max_width", ValueKind::Integer),
    ("image_max_area", ValueKind::Integer),
    ("render_cache_bytes", ValueKind::Integer),
    ("decoded_tile_cache_bytes", ValueKind::Integer),
    ("tile_disk_cache_bytes", ValueKind::Integer),
    ("http_threads", ValueKind::Integer),
    ("render_threads", ValueKind::Integer),
    ("render_timeout_ms", ValueKind::Integer),
    ("render_queue_length", ValueKind::Integer),
    ("heavy_render_threads", ValueKind::Integer),
    ("heavy_render_pixels", ValueKind::Integer),
    ("origin_max_bytes", ValueKind::Integer),
    ("origin_timeout_seconds", ValueKind::Integer),
    ("max_upload_bytes", ValueKind::Integer),
    ("origin_connect_timeout_seconds", ValueKind::Integer),
    ("ingest_max_attempts", ValueKind::Integer),
    ("ingest_retry_base_ms", ValueKind::Integer),
    ("ingest_retry_max_seconds", ValueKind::Integer),
    ("job_timeout_seconds", ValueKind::Integer),
    ("max_assets_per_customer", ValueKind::Integer),
    ("max_bytes_per_customer", ValueKind::Integer),
    ("collection_max_items", ValueKind::Integer),
    ("manifest_cache_bytes", ValueKind::Integer),
    ("search_index_dir", ValueKind::Text),
    ("search_catch_up_ms", ValueKind::Integer),
    ("orphan_sweep_minutes", ValueKind::Integer),
    ("auth_trusted_proxies", ValueKind::List),
    ("iiif_cors_origins", ValueKind::List),
    ("api_cors_origins", ValueKind::List),
    ("auth_token_ttl_seconds", ValueKind::Integer),
    ("auth_max_failures", ValueKind::Integer),
    ("auth_failure_window_seconds", ValueKind::Integer),
];

#[derive(Debug, Clone, Copy)]
pub enum ValueKind {
    Text,
    Integer,
    Bool,
    /// Comma-separated in the environment, an array in the file.
    List,
}

impl Config {
    /// Reads the file (if any) and the process environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let environment: BTreeMap<String, String> = std::env::vars().collect();
        Self::from_sources(file, &environment)
    }

    /// Reads the file (if any) and then the given environment, whose values win.
    pub fn from_sources(
        file: Option<&Path>,
        environment: &BTreeMap<String, String>,
    ) -> anyhow::Result<Self> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                text.parse::<toml::Table>()
                    .with_context(|| format!("config file {} is not valid TOML", path.display()))?
            }
            None => toml::Table::new(),
        };
        for (name, value) in environment {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if ENV_NOT_KEYS.contains(&name.as_str())
                || ENV_FOREIGN_PREFIXES.iter().any(|p| name.starts_with(p))
            {
                continue;
            }
            let key = key.to_ascii_lowercase();
            let Some((_, kind)) = KEYS.iter().find(|(known, _)| *known == key) else {
                bail!("unknown configuration variable {name}");
            };
            table.insert(key, env_value(name, value, *kind)?);
        }
        let raw: RawConfig = table.try_into().map_err(|error: toml::de::Error| {
            anyhow::anyhow!("invalid configuration: {}", error.message())
        })?;
        raw.validate()
    }
}

fn env_value(name: &str, value: &str, kind: ValueKind) -> anyhow::Result<toml::Value> {
    Ok(match kind {
        ValueKind::Text => toml::Value::String(value.to_owned()),
        ValueKind::Integer => toml::Value::Integer(
            value
                .trim()
                .parse()
                .with_context(|| format!("{name} must be a whole number, got {value:?}"))?,
        ),
        ValueKind::Bool => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
            "false" | "0" | "no" | "off" | "" => toml::Value::Boolean(false),
            _ => bail!("{name} must be true or false, got {value:?}"),
        },
        ValueKind::List => toml::Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| toml::Value::String(item.to_owned()))
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::env;

    #[test]
    fn environment_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vitrine.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nworkers = 3\nimport_roots = [\"/srv/a\"]\n",
        )
        .unwrap();
        let config = Config::from_sources(
            Some(&file),
            &env(&[
                ("VITRINE_WORKERS", "5"),
                ("VITRINE_IMPORT_ROOTS", "/srv/b, /srv/c"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.workers, 5);
        assert_eq!(
            config.import_roots,
            vec![PathBuf::from("/srv/b"), PathBuf::from("/srv/c")]
        );
    }

    #[test]
    fn rejects_unknown_keys_in_file_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vitrine.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let error = Config::from_sources(Some(&file), &env(&[])).unwrap_err();
        assert!(format!("{error:#}").contains("lisen"), "{error:#}");
        let error = Config::from_sources(None, &env(&[("VITRINE_DATABSE_URL", "x")])).unwrap_err();
        assert!(error.to_string().contains("VITRINE_DATABSE_URL"));
        // the test suites' own variables are not configuration
        Config::from_sources(
            None,
            &env(&[("VITRINE_TEST_DATABASE_URL", "x"), ("VITRINE_CONFIG", "y")]),
        )
        .unwrap();
    }
}
