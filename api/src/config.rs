//! Configuration: an optional TOML file and `VITRINE_*` environment variables, read into a raw
//! struct that rejects unknown keys, then checked into [`Config`]. Secrets never appear in
//! `Debug` output.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

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
    ("ingest_memory_budget_bytes", ValueKind::Integer),
    ("image_max_width", ValueKind::Integer),
    ("image_max_area", ValueKind::Integer),
    ("render_cache_bytes", ValueKind::Integer),
    ("decoded_tile_cache_bytes", ValueKind::Integer),
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
    ("auth_trusted_proxies", ValueKind::List),
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

/// The keys as read, before any check.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    public_url: Option<String>,
    rest_api_prefix: Option<String>,
    database_url: Option<String>,
    storage_url: Option<String>,
    admin_key: Option<String>,
    import_roots: Option<Vec<PathBuf>>,
    allow_private_origins: Option<bool>,
    workers: Option<i64>,
    jwt_secret: Option<String>,
    jwt_ttl_seconds: Option<i64>,
    log_format: Option<String>,
    log_level: Option<String>,
    graphql_max_depth: Option<i64>,
    graphql_max_complexity: Option<i64>,
    graphql_max_aliases: Option<i64>,
    max_request_bytes: Option<i64>,
    max_anonymous_request_bytes: Option<i64>,
    shutdown_timeout_seconds: Option<i64>,
    http_header_timeout_seconds: Option<i64>,
    http_idle_timeout_seconds: Option<i64>,
    max_connections: Option<i64>,
    tile_size: Option<i64>,
    jpeg_quality: Option<i64>,
    max_image_pixels: Option<i64>,
    ingest_memory_budget_bytes: Option<i64>,
    image_max_width: Option<i64>,
    image_max_area: Option<i64>,
    render_cache_bytes: Option<i64>,
    decoded_tile_cache_bytes: Option<i64>,
    render_threads: Option<i64>,
    render_timeout_ms: Option<i64>,
    render_queue_length: Option<i64>,
    heavy_render_threads: Option<i64>,
    heavy_render_pixels: Option<i64>,
    origin_max_bytes: Option<i64>,
    origin_timeout_seconds: Option<i64>,
    max_upload_bytes: Option<i64>,
    origin_connect_timeout_seconds: Option<i64>,
    ingest_max_attempts: Option<i64>,
    ingest_retry_base_ms: Option<i64>,
    ingest_retry_max_seconds: Option<i64>,
    job_timeout_seconds: Option<i64>,
    max_assets_per_customer: Option<i64>,
    max_bytes_per_customer: Option<i64>,
    collection_max_items: Option<i64>,
    manifest_cache_bytes: Option<i64>,
    search_index_dir: Option<String>,
    search_catch_up_ms: Option<i64>,
    auth_trusted_proxies: Option<Vec<String>>,
    auth_token_ttl_seconds: Option<i64>,
    auth_max_failures: Option<i64>,
    auth_failure_window_seconds: Option<i64>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A string that is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

/// Checked configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Base of every URL in JSON; from the request's Host when unset.
    pub public_url: Option<String>,
    /// Where the DLCS-compatible REST API is mounted: `/api`, or another path.
    pub rest_api_prefix: String,
    pub database_url: String,
    pub storage_url: String,
    pub admin_key: Option<auth::ApiKeyCredential>,
    pub import_roots: Vec<PathBuf>,
    pub allow_private_origins: bool,
    pub workers: usize,
    /// Signing secret for management tokens; generated into the data dir when unset.
    pub jwt_secret: Option<Secret>,
    pub jwt_ttl_seconds: i64,
    pub log_format: LogFormat,
    pub log_level: String,
    pub graphql_max_depth: usize,
    pub graphql_max_complexity: usize,
    /// Aliased fields per GraphQL operation, fragments expanded.
    pub graphql_max_aliases: usize,
    pub max_request_bytes: usize,
    /// Cap on a GraphQL body sent without a valid credential (which may send no files).
    pub max_anonymous_request_bytes: usize,
    pub shutdown_timeout_seconds: u64,
    /// Time a client has to send a whole request head once it has begun.
    pub http_header_timeout_seconds: u64,
    /// A connection with no traffic for this long is closed.
    pub http_idle_timeout_seconds: u64,
    /// Connections held open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Pyramid tile size in pixels (a multiple of 16).
    pub tile_size: u32,
    /// JPEG quality of tiles, thumbnails and rendered JPEGs.
    pub jpeg_quality: u8,
    /// Largest master decoded, in pixels (decompression-bomb guard).
    pub max_image_pixels: u64,
    /// Most memory one ingest job may take to decode a master and build its pyramid,
    /// estimated from the master's header; larger masters end in IMAGE_TOO_LARGE.
    pub ingest_memory_budget_bytes: u64,
    /// Largest output width and height served (`maxWidth`/`maxHeight`).
    pub image_max_width: u32,
    /// Largest output area served (`maxArea`).
    pub image_max_area: u64,
    /// Memory for rendered images kept for reuse.
    pub render_cache_bytes: u64,
    /// Memory for decoded pyramid tiles kept for the renders that need them again.
    pub decoded_tile_cache_bytes: u64,
    /// Concurrent renders (decode, resize, encode) on the blocking pool.
    pub render_threads: usize,
    /// Time a render may take, waiting for a render slot included, before it is answered 503.
    pub render_timeout_ms: u64,
    /// Renders that may wait for a slot; more are answered 503 at once.
    pub render_queue_length: usize,
    /// Concurrent heavy renders (large outputs, and GIF, PNG or TIFF over a quarter of
    /// `heavy_render_pixels`), in a pool of their own.
    pub heavy_render_threads: usize,
    /// Output pixels from which a render is heavy.
    pub heavy_render_pixels: u64,
    /// Largest master fetched from an origin, in bytes.
    pub origin_max_bytes: u64,
    /// Time allowed to fetch a master.
    pub origin_timeout_seconds: u64,
    /// Largest upload through `uploadAsset`, in bytes.
    pub max_upload_bytes: usize,
    /// Time allowed to connect to an origin.
    pub origin_connect_timeout_seconds: u64,
    /// Attempts an ingest job gets before a transient failure is final.
    pub ingest_max_attempts: i32,
    /// Wait before the first retry, in milliseconds; each further retry waits twice as long.
    pub ingest_retry_base_ms: u64,
    /// Longest wait between retries.
    pub ingest_retry_max_seconds: u64,
    /// A job whose worker sent no heartbeat for this long is taken back.
    pub job_timeout_seconds: u64,
    /// Assets a customer may hold (0: no limit).
    pub max_assets_per_customer: u64,
    /// Bytes of derivatives and masters a customer may store (0: no limit).
    pub max_bytes_per_customer: u64,
    /// Most items one IIIF collection lists; bigger sets become a tree of collections.
    pub collection_max_items: u64,
    /// Memory in bytes for written manifests and collections kept for reuse.
    pub manifest_cache_bytes: u64,
    /// This node's search index folder; None keeps it in memory (rebuilt on each start).
    pub search_index_dir: Option<PathBuf>,
    /// How often the index catches up with annotation changes made through other nodes.
    pub search_catch_up_ms: u64,
    /// Proxies whose `X-Forwarded-For` (and, for external auth services, trusted cookie or
    /// header) are believed. Empty: the connection's peer is the client.
    pub auth_trusted_proxies: auth::IpRanges,
    /// How long an IIIF access token lives.
    pub auth_token_ttl_seconds: i64,
    /// Failed logins (or API-key checks) per client address or account within the window
    /// before further attempts are refused.
    pub auth_max_failures: u32,
    pub auth_failure_window_seconds: u64,
    /// How a job whose worker died runs again: the `vitrine` binary sets itself here, so such
    /// a job runs in a child process (`run-job`). Not a setting; `None` runs it in-process.
    pub job_process: Option<ingest::Isolation>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("rest_api_prefix", &self.rest_api_prefix)
            .field("database_url", &mask_url_password(&self.database_url))
            .field("storage_url", &mask_url_password(&self.storage_url))
            .field("admin_key", &self.admin_key)
            .field("import_roots", &self.import_roots)
            .field("allow_private_origins", &self.allow_private_origins)
            .field("workers", &self.workers)
            .field("jwt_secret", &self.jwt_secret)
            .field("jwt_ttl_seconds", &self.jwt_ttl_seconds)
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("graphql_max_depth", &self.graphql_max_depth)
            .field("graphql_max_complexity", &self.graphql_max_complexity)
            .field("graphql_max_aliases", &self.graphql_max_aliases)
            .field("max_request_bytes", &self.max_request_bytes)
            .field(
                "max_anonymous_request_bytes",
                &self.max_anonymous_request_bytes,
            )
            .field("shutdown_timeout_seconds", &self.shutdown_timeout_seconds)
            .field(
                "http_header_timeout_seconds",
                &self.http_header_timeout_seconds,
            )
            .field("http_idle_timeout_seconds", &self.http_idle_timeout_seconds)
            .field("max_connections", &self.max_connections)
            .field("tile_size", &self.tile_size)
            .field("jpeg_quality", &self.jpeg_quality)
            .field("max_image_pixels", &self.max_image_pixels)
            .field(
                "ingest_memory_budget_bytes",
                &self.ingest_memory_budget_bytes,
            )
            .field("image_max_width", &self.image_max_width)
            .field("image_max_area", &self.image_max_area)
            .field("render_cache_bytes", &self.render_cache_bytes)
            .field("decoded_tile_cache_bytes", &self.decoded_tile_cache_bytes)
            .field("render_threads", &self.render_threads)
            .field("render_timeout_ms", &self.render_timeout_ms)
            .field("render_queue_length", &self.render_queue_length)
            .field("heavy_render_threads", &self.heavy_render_threads)
            .field("heavy_render_pixels", &self.heavy_render_pixels)
            .field("origin_max_bytes", &self.origin_max_bytes)
            .field("origin_timeout_seconds", &self.origin_timeout_seconds)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field(
                "origin_connect_timeout_seconds",
                &self.origin_connect_timeout_seconds,
            )
            .field("ingest_max_attempts", &self.ingest_max_attempts)
            .field("ingest_retry_base_ms", &self.ingest_retry_base_ms)
            .field("ingest_retry_max_seconds", &self.ingest_retry_max_seconds)
            .field("job_timeout_seconds", &self.job_timeout_seconds)
            .field("max_assets_per_customer", &self.max_assets_per_customer)
            .field("max_bytes_per_customer", &self.max_bytes_per_customer)
            .field("collection_max_items", &self.collection_max_items)
            .field("manifest_cache_bytes", &self.manifest_cache_bytes)
            .field("search_index_dir", &self.search_index_dir)
            .field("search_catch_up_ms", &self.search_catch_up_ms)
            .field("auth_trusted_proxies", &self.auth_trusted_proxies)
            .field("auth_token_ttl_seconds", &self.auth_token_ttl_seconds)
            .field("auth_max_failures", &self.auth_max_failures)
            .field(
                "auth_failure_window_seconds",
                &self.auth_failure_window_seconds,
            )
            .field("job_process", &self.job_process)
            .finish()
    }
}

/// Replaces the password of a URL, if any, with `***`.
fn mask_url_password(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => text.to_owned(),
    }
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

    /// The configuration of a fresh embedded installation in `data_dir`.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
        RawConfig {
            data_dir: Some(data_dir.into()),
            ..RawConfig::default()
        }
        .validate()
    }

    /// Where the first start writes the generated admin key.
    pub fn admin_key_file(&self) -> PathBuf {
        self.data_dir.join("admin-key")
    }

    /// Where the generated token-signing secret lives.
    pub fn jwt_secret_file(&self) -> PathBuf {
        self.data_dir.join("jwt-secret")
    }

    /// The server's own folders and files, which no import root may hold or lie inside and
    /// no `file://` origin may read: the data dir, the storage folder, the search index and
    /// the SQLite database.
    pub fn protected_paths(&self) -> Vec<PathBuf> {
        let mut paths = vec![self.data_dir.clone()];
        if let Ok(storage::StorageLocation::Folder(folder)) =
            storage::StorageLocation::parse(&self.storage_url)
        {
            paths.push(folder);
        }
        paths.extend(self.search_index_dir.clone());
        paths.extend(domain::sqlite_file(&self.database_url));
        paths
    }

    /// Refuses import roots that hold, or lie inside, one of [`Config::protected_paths`],
    /// comparing the paths with symbolic links resolved: `file://` origins under such a root
    /// could read the signing secret or other customers' masters.
    pub fn check_import_roots(&self) -> anyhow::Result<()> {
        let protected: Vec<(PathBuf, PathBuf)> = self
            .protected_paths()
            .into_iter()
            .map(|path| (ingest::resolve_existing(&path), path))
            .collect();
        for root in &self.import_roots {
            let resolved = ingest::resolve_existing(root);
            for (own, named) in &protected {
                let relation = if resolved.starts_with(own) {
                    "is inside"
                } else if own.starts_with(&resolved) {
                    "holds"
                } else {
                    continue;
                };
                bail!(
                    "import root {} {relation} the server's own {}; file:// origins could read its secrets, so use a folder outside the data dir and storage",
                    root.display(),
                    named.display()
                );
            }
        }
        Ok(())
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

fn in_range(name: &str, value: i64, range: std::ops::RangeInclusive<i64>) -> anyhow::Result<i64> {
    if !range.contains(&value) {
        bail!(
            "{name} must be between {} and {}, got {value}",
            range.start(),
            range.end()
        );
    }
    Ok(value)
}

impl RawConfig {
    fn validate(self) -> anyhow::Result<Config> {
        let data_dir = self
            .data_dir
            .unwrap_or_else(|| PathBuf::from("./vitrine-data"));
        let listen_text = self.listen.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen: SocketAddr = listen_text.parse().with_context(|| {
            format!("listen must be an address such as 127.0.0.1:8080, got {listen_text:?}")
        })?;

        let public_url = match self.public_url {
            Some(text) => {
                let parsed = url::Url::parse(&text)
                    .with_context(|| format!("public_url {text:?} is not a URL"))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    bail!("public_url must be an http(s) URL with a host, got {text:?}");
                }
                if parsed.query().is_some() || parsed.fragment().is_some() {
                    bail!("public_url must not have a query or fragment");
                }
                Some(text.trim_end_matches('/').to_owned())
            }
            None => None,
        };
        let rest_api_prefix = self.rest_api_prefix.unwrap_or_else(|| "/api".to_owned());
        let prefix_segments = rest_api_prefix
            .strip_prefix('/')
            .map(|rest| rest.split('/'));
        let valid_prefix = prefix_segments.is_some_and(|mut segments| {
            segments.all(|segment| {
                !segment.is_empty()
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                    && segment != "."
                    && segment != ".."
            })
        });
        let taken = ["/iiif", "/auth", "/media", "/graphql", "/portal"];
        if !valid_prefix
            || taken.iter().any(|route| {
                rest_api_prefix == *route || rest_api_prefix.starts_with(&format!("{route}/"))
            })
        {
            bail!(
                "rest_api_prefix must be a path such as /api, of letters, digits, -, _ and ., \
                 outside the IIIF, auth, media, GraphQL and portal routes; got {rest_api_prefix:?}"
            );
        }
        // without a public URL, ids and redirects would be built from the request's Host
        // header, which anyone reaching a public address can forge
        if public_url.is_none() && !listen.ip().is_loopback() {
            bail!(
                "public_url (VITRINE_PUBLIC_URL) is required when listen ({listen}) is not a \
                 loopback address: set it to the URL visitors use, such as https://iiif.example.org"
            );
        }

        let database_url = self
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}/vitrine.db", data_dir.display()));
        if domain::DatabaseKind::of_url(&database_url).is_none() {
            bail!(
                "database_url must start with sqlite:// or postgres://, got {:?}",
                mask_url_password(&database_url)
            );
        }

        let storage_url = self
            .storage_url
            .unwrap_or_else(|| format!("file://{}", absolute(&data_dir.join("objects")).display()));
        storage::StorageLocation::parse(&storage_url)
            .map_err(|error| anyhow::anyhow!("storage_url: {error}"))?;

        let admin_key = self
            .admin_key
            .map(|pair| {
                auth::ApiKeyCredential::parse_pair(&pair).map_err(|_| {
                    anyhow::anyhow!("admin_key must be key:secret with both halves non-empty")
                })
            })
            .transpose()?;
        if admin_key
            .as_ref()
            .is_some_and(|admin| admin.secret.len() < 16)
        {
            bail!("admin_key secret must be at least 16 characters");
        }

        let import_roots = self.import_roots.unwrap_or_default();
        for root in &import_roots {
            if !root.is_absolute() {
                bail!(
                    "import_roots must be absolute paths, got {}",
                    root.display()
                );
            }
        }

        let workers = match self.workers {
            Some(workers) => in_range("workers", workers, 0..=256)? as usize,
            None => std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1),
        };

        let jwt_secret = self.jwt_secret.map(Secret::new);
        if jwt_secret
            .as_ref()
            .is_some_and(|secret| secret.expose().len() < 32)
        {
            bail!("jwt_secret must be at least 32 characters");
        }
        let jwt_ttl_seconds = in_range(
            "jwt_ttl_seconds",
            self.jwt_ttl_seconds.unwrap_or(3600),
            60..=31_536_000,
        )?;

        let log_format = match self.log_format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => bail!("log_format must be text or json, got {other:?}"),
        };
        let log_level = self.log_level.unwrap_or_else(|| "info".to_owned());
        tracing_subscriber::EnvFilter::try_new(&log_level)
            .with_context(|| format!("log_level {log_level:?} is not a valid filter"))?;

        let search_index_dir = match self.search_index_dir.as_deref() {
            Some("memory") => None,
            Some("") => bail!("search_index_dir must be a folder, or memory"),
            Some(dir) => Some(PathBuf::from(dir)),
            None => Some(data_dir.join("index")),
        };

        let config = Config {
            data_dir,
            listen,
            public_url,
            rest_api_prefix,
            database_url,
            storage_url,
            admin_key,
            import_roots,
            allow_private_origins: self.allow_private_origins.unwrap_or(false),
            workers,
            jwt_secret,
            jwt_ttl_seconds,
            log_format,
            log_level,
            graphql_max_depth: in_range(
                "graphql_max_depth",
                self.graphql_max_depth.unwrap_or(15),
                2..=100,
            )? as usize,
            graphql_max_complexity: in_range(
                "graphql_max_complexity",
                self.graphql_max_complexity.unwrap_or(20_000),
                10..=10_000_000,
            )? as usize,
            graphql_max_aliases: in_range(
                "graphql_max_aliases",
                self.graphql_max_aliases.unwrap_or(100),
                1..=100_000,
            )? as usize,
            max_request_bytes: in_range(
                "max_request_bytes",
                self.max_request_bytes.unwrap_or(4 * 1024 * 1024),
                1024..=1024 * 1024 * 1024,
            )? as usize,
            max_anonymous_request_bytes: in_range(
                "max_anonymous_request_bytes",
                self.max_anonymous_request_bytes.unwrap_or(16 * 1024),
                1024..=1024 * 1024,
            )? as usize,
            shutdown_timeout_seconds: in_range(
                "shutdown_timeout_seconds",
                self.shutdown_timeout_seconds.unwrap_or(30),
                0..=3600,
            )? as u64,
            http_header_timeout_seconds: in_range(
                "http_header_timeout_seconds",
                self.http_header_timeout_seconds.unwrap_or(10),
                1..=300,
            )? as u64,
            http_idle_timeout_seconds: in_range(
                "http_idle_timeout_seconds",
                self.http_idle_timeout_seconds.unwrap_or(15),
                1..=3600,
            )? as u64,
            max_connections: in_range(
                "max_connections",
                self.max_connections.unwrap_or(4096),
                1..=1_000_000,
            )? as usize,
            tile_size: {
                let size = in_range("tile_size", self.tile_size.unwrap_or(256), 64..=2048)?;
                if size % 16 != 0 {
                    bail!("tile_size must be a multiple of 16, got {size}");
                }
                size as u32
            },
            jpeg_quality: in_range("jpeg_quality", self.jpeg_quality.unwrap_or(85), 1..=100)? as u8,
            max_image_pixels: in_range(
                "max_image_pixels",
                self.max_image_pixels.unwrap_or(1_000_000_000),
                1..=i64::MAX,
            )? as u64,
            ingest_memory_budget_bytes: match self.ingest_memory_budget_bytes {
                Some(bytes) => in_range(
                    "ingest_memory_budget_bytes",
                    bytes,
                    16 * 1024 * 1024..=i64::MAX,
                )? as u64,
                None => default_ingest_memory_budget(workers),
            },
            image_max_width: in_range(
                "image_max_width",
                self.image_max_width.unwrap_or(12_000),
                16..=65_000,
            )? as u32,
            image_max_area: in_range(
                "image_max_area",
                self.image_max_area.unwrap_or(100_000_000),
                256..=i64::MAX,
            )? as u64,
            render_cache_bytes: in_range(
                "render_cache_bytes",
                self.render_cache_bytes.unwrap_or(256 * 1024 * 1024),
                0..=i64::MAX,
            )? as u64,
            decoded_tile_cache_bytes: in_range(
                "decoded_tile_cache_bytes",
                self.decoded_tile_cache_bytes.unwrap_or(128 * 1024 * 1024),
                0..=i64::MAX,
            )? as u64,
            render_threads: match self.render_threads {
                Some(threads) => in_range("render_threads", threads, 1..=256)? as usize,
                None => std::thread::available_parallelism()
                    .map(usize::from)
                    .unwrap_or(1),
            },
            render_timeout_ms: in_range(
                "render_timeout_ms",
                self.render_timeout_ms.unwrap_or(30_000),
                1..=3_600_000,
            )? as u64,
            render_queue_length: in_range(
                "render_queue_length",
                self.render_queue_length.unwrap_or(256),
                0..=1_000_000,
            )? as usize,
            heavy_render_threads: in_range(
                "heavy_render_threads",
                self.heavy_render_threads.unwrap_or(1),
                1..=256,
            )? as usize,
            heavy_render_pixels: in_range(
                "heavy_render_pixels",
                self.heavy_render_pixels.unwrap_or(16_000_000),
                1..=i64::MAX,
            )? as u64,
            origin_max_bytes: in_range(
                "origin_max_bytes",
                self.origin_max_bytes.unwrap_or(2 * 1024 * 1024 * 1024),
                1..=i64::MAX,
            )? as u64,
            origin_timeout_seconds: in_range(
                "origin_timeout_seconds",
                self.origin_timeout_seconds.unwrap_or(300),
                1..=86_400,
            )? as u64,
            max_upload_bytes: in_range(
                "max_upload_bytes",
                self.max_upload_bytes.unwrap_or(1024 * 1024 * 1024),
                1024..=i64::MAX,
            )? as usize,
            origin_connect_timeout_seconds: in_range(
                "origin_connect_timeout_seconds",
                self.origin_connect_timeout_seconds.unwrap_or(10),
                1..=3_600,
            )? as u64,
            ingest_max_attempts: in_range(
                "ingest_max_attempts",
                self.ingest_max_attempts.unwrap_or(5),
                1..=100,
            )? as i32,
            ingest_retry_base_ms: in_range(
                "ingest_retry_base_ms",
                self.ingest_retry_base_ms.unwrap_or(5000),
                1..=3_600_000,
            )? as u64,
            ingest_retry_max_seconds: in_range(
                "ingest_retry_max_seconds",
                self.ingest_retry_max_seconds.unwrap_or(600),
                1..=86_400,
            )? as u64,
            job_timeout_seconds: in_range(
                "job_timeout_seconds",
                self.job_timeout_seconds.unwrap_or(60),
                1..=86_400,
            )? as u64,
            max_assets_per_customer: in_range(
                "max_assets_per_customer",
                self.max_assets_per_customer.unwrap_or(0),
                0..=i64::MAX,
            )? as u64,
            max_bytes_per_customer: in_range(
                "max_bytes_per_customer",
                self.max_bytes_per_customer.unwrap_or(0),
                0..=i64::MAX,
            )? as u64,
            collection_max_items: in_range(
                "collection_max_items",
                self.collection_max_items.unwrap_or(1000),
                2..=100_000,
            )? as u64,
            manifest_cache_bytes: in_range(
                "manifest_cache_bytes",
                self.manifest_cache_bytes.unwrap_or(64 * 1024 * 1024),
                0..=i64::MAX,
            )? as u64,
            search_index_dir,
            search_catch_up_ms: in_range(
                "search_catch_up_ms",
                self.search_catch_up_ms.unwrap_or(1000),
                50..=600_000,
            )? as u64,
            auth_trusted_proxies: auth::IpRanges::parse(
                &self.auth_trusted_proxies.unwrap_or_default(),
            )
            .map_err(|why| anyhow::anyhow!("auth_trusted_proxies: {why}"))?,
            auth_token_ttl_seconds: in_range(
                "auth_token_ttl_seconds",
                self.auth_token_ttl_seconds.unwrap_or(300),
                10..=86_400,
            )?,
            auth_max_failures: in_range(
                "auth_max_failures",
                self.auth_max_failures.unwrap_or(5),
                1..=10_000,
            )? as u32,
            auth_failure_window_seconds: in_range(
                "auth_failure_window_seconds",
                self.auth_failure_window_seconds.unwrap_or(300),
                1..=86_400,
            )? as u64,
            job_process: None,
        };
        config.check_import_roots()?;
        Ok(config)
    }
}

/// The default memory budget of an ingest job: half the memory this process may use (the
/// machine's, or its container's limit when lower), shared by the workers that may each
/// decode a master at once, and never under 256 MiB.
fn default_ingest_memory_budget(workers: usize) -> u64 {
    const MIB: u64 = 1024 * 1024;
    let usable = usable_memory().unwrap_or(4096 * MIB);
    (usable / 2 / workers.max(1) as u64).max(256 * MIB)
}

/// Bytes of memory this process may use: the machine's total (`/proc/meminfo`), or the
/// cgroup's limit when it is lower. `None` where neither can be read.
fn usable_memory() -> Option<u64> {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })?
        .saturating_mul(1024);
    let limit = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .filter_map(|path| std::fs::read_to_string(path).ok())
    .find_map(|text| text.trim().parse::<u64>().ok());
    Some(limit.map_or(total, |limit| limit.min(total)))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_the_embedded_installation() {
        let config = Config::from_sources(None, &env(&[])).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./vitrine-data"));
        assert_eq!(config.database_url, "sqlite://./vitrine-data/vitrine.db");
        assert!(config.storage_url.starts_with("file:///"));
        assert!(config.storage_url.ends_with("vitrine-data/objects"));
        assert!(config.admin_key.is_none());
        assert!(!config.allow_private_origins);
        assert_eq!(config.decoded_tile_cache_bytes, 128 * 1024 * 1024);
        // half the memory, shared by the workers, at least 256 MiB
        assert!(config.ingest_memory_budget_bytes >= 256 * 1024 * 1024);
        if let Some(usable) = usable_memory() {
            assert!(config.ingest_memory_budget_bytes <= (usable / 2).max(256 * 1024 * 1024));
        }
        assert_eq!(config.render_timeout_ms, 30_000);
        assert_eq!(config.heavy_render_threads, 1);
        let none = Config::from_sources(None, &env(&[("VITRINE_DECODED_TILE_CACHE_BYTES", "0")]));
        assert_eq!(none.unwrap().decoded_tile_cache_bytes, 0);
    }

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

    #[test]
    fn rejects_invalid_values() {
        for (name, value) in [
            ("VITRINE_LISTEN", "localhost"),
            ("VITRINE_WORKERS", "many"),
            ("VITRINE_DATABASE_URL", "mysql://x"),
            ("VITRINE_STORAGE_URL", "ftp://x"),
            ("VITRINE_ADMIN_KEY", "nocolon"),
            ("VITRINE_ADMIN_KEY", "key:short"),
            ("VITRINE_PUBLIC_URL", "ftp://example.org"),
            ("VITRINE_ALLOW_PRIVATE_ORIGINS", "maybe"),
            ("VITRINE_LOG_FORMAT", "xml"),
            ("VITRINE_JWT_SECRET", "short"),
            ("VITRINE_IMPORT_ROOTS", "relative/dir"),
            ("VITRINE_DECODED_TILE_CACHE_BYTES", "-1"),
            ("VITRINE_INGEST_MEMORY_BUDGET_BYTES", "1000"),
            ("VITRINE_RENDER_TIMEOUT_MS", "0"),
            ("VITRINE_HEAVY_RENDER_THREADS", "0"),
        ] {
            assert!(
                Config::from_sources(None, &env(&[(name, value)])).is_err(),
                "{name}={value}"
            );
        }
    }

    /// Issue 18, item 15: outside loopback the Host header is never trusted for URLs.
    #[test]
    fn public_url_is_required_outside_loopback() {
        for listen in ["0.0.0.0:8080", "192.0.2.10:8080", "[::]:8080"] {
            let error =
                Config::from_sources(None, &env(&[("VITRINE_LISTEN", listen)])).unwrap_err();
            assert!(
                format!("{error:#}").contains("public_url (VITRINE_PUBLIC_URL) is required"),
                "{listen}: {error:#}"
            );
            Config::from_sources(
                None,
                &env(&[
                    ("VITRINE_LISTEN", listen),
                    ("VITRINE_PUBLIC_URL", "https://iiif.example.org"),
                ]),
            )
            .unwrap();
        }
        for listen in ["127.0.0.1:8080", "[::1]:8080"] {
            Config::from_sources(None, &env(&[("VITRINE_LISTEN", listen)])).unwrap();
        }
    }

    #[test]
    fn import_roots_may_not_reach_the_servers_own_files() {
        let sandbox = tempfile::tempdir().unwrap();
        let data = sandbox.path().join("data");
        let with_root = |root: &Path, extra: &[(&str, &str)]| {
            let mut pairs = vec![
                ("VITRINE_DATA_DIR", data.to_str().unwrap()),
                ("VITRINE_IMPORT_ROOTS", root.to_str().unwrap()),
            ];
            pairs.extend_from_slice(extra);
            Config::from_sources(None, &env(&pairs))
        };
        for root in [
            sandbox.path().to_path_buf(),
            data.join("masters"),
            data.clone(),
        ] {
            let error = with_root(&root, &[]).unwrap_err().to_string();
            assert!(error.contains("import root"), "{}: {error}", root.display());
        }
        with_root(&sandbox.path().join("masters"), &[]).unwrap();
        // the storage folder and the database count too, wherever they are
        let objects = sandbox.path().join("objects");
        let storage = format!("file://{}", objects.display());
        let error = with_root(&objects, &[("VITRINE_STORAGE_URL", &storage)]).unwrap_err();
        assert!(error.to_string().contains("objects"), "{error}");
        let database = format!("sqlite://{}/db/vitrine.db", sandbox.path().display());
        with_root(
            &sandbox.path().join("db"),
            &[("VITRINE_DATABASE_URL", &database)],
        )
        .unwrap_err();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&data, sandbox.path().join("link")).unwrap();
            with_root(&sandbox.path().join("link/masters"), &[]).unwrap_err();
        }
    }

    #[test]
    fn debug_masks_secrets() {
        let config = Config::from_sources(
            None,
            &env(&[
                ("VITRINE_ADMIN_KEY", "admin:supersecretvalue123"),
                ("VITRINE_JWT_SECRET", "jwtsecretjwtsecretjwtsecretjwtsecret"),
                (
                    "VITRINE_DATABASE_URL",
                    "postgres://user:dbpassword@localhost/db",
                ),
            ]),
        )
        .unwrap();
        let printed = format!("{config:?}");
        for secret in ["supersecretvalue123", "jwtsecretjwtsecret", "dbpassword"] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
        }
        assert!(printed.contains("admin"));
    }
}
