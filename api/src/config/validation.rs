//! The keys as read ([`RawConfig`]), and their check into [`Config`]: each key's default and
//! range, and the rules between keys (a public URL outside loopback, import roots clear of the
//! server's own files).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use super::settings::{Config, LogFormat, Secret, mask_url_password};
use crate::cors::CorsOrigins;

/// The keys as read, before any check.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    public_url: Option<String>,
    rest_api_prefix: Option<String>,
    database_url: Option<String>,
    storage_url: Option<String>,
    storage_s3_endpoint: Option<String>,
    storage_s3_region: Option<String>,
    storage_s3_access_key_id: Option<String>,
    storage_s3_secret_access_key: Option<String>,
    storage_s3_virtual_hosted: Option<bool>,
    storage_timeout_seconds: Option<i64>,
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
    build_process_pixels: Option<i64>,
    image_max_width: Option<i64>,
    image_max_area: Option<i64>,
    render_cache_bytes: Option<i64>,
    decoded_tile_cache_bytes: Option<i64>,
    tile_disk_cache_bytes: Option<i64>,
    http_threads: Option<i64>,
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
    orphan_sweep_minutes: Option<i64>,
    auth_trusted_proxies: Option<Vec<String>>,
    iiif_cors_origins: Option<Vec<String>>,
    api_cors_origins: Option<Vec<String>>,
    auth_token_ttl_seconds: Option<i64>,
    auth_max_failures: Option<i64>,
    auth_failure_window_seconds: Option<i64>,
}

impl Config {
    /// The configuration of a fresh embedded installation in `data_dir`.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
        RawConfig {
            data_dir: Some(data_dir.into()),
            ..RawConfig::default()
        }
        .validate()
    }
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
    pub(super) fn validate(self) -> anyhow::Result<Config> {
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
        let non_empty = |value: Option<String>| value.filter(|value| !value.is_empty());
        let storage_s3_endpoint = non_empty(self.storage_s3_endpoint);
        if let Some(endpoint) = &storage_s3_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            bail!("storage_s3_endpoint must be an http:// or https:// URL, got {endpoint:?}");
        }
        let storage = storage::StoreOptions {
            s3: storage::S3Settings {
                endpoint: storage_s3_endpoint,
                region: non_empty(self.storage_s3_region),
                access_key_id: non_empty(self.storage_s3_access_key_id),
                secret_access_key: non_empty(self.storage_s3_secret_access_key),
                virtual_hosted: self.storage_s3_virtual_hosted.unwrap_or(false),
            },
            request_timeout: std::time::Duration::from_secs(in_range(
                "storage_timeout_seconds",
                self.storage_timeout_seconds.unwrap_or(10),
                1..=600,
            )? as u64),
        };

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
        // nodes sharing a PostgreSQL database must sign tokens and seal origin secrets alike;
        // a secret generated into each node's data dir would differ from node to node
        if jwt_secret.is_none()
            && domain::DatabaseKind::of_url(&database_url) == Some(domain::DatabaseKind::Postgres)
        {
            bail!(
                "jwt_secret (VITRINE_JWT_SECRET) is required with a postgres:// database: every \
                 node sharing it must use the same signing secret (32+ characters). A node that \
                 ran with a generated one keeps its tokens valid with the contents of {}",
                data_dir.join("jwt-secret").display()
            );
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
            storage,
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
                self.max_image_pixels.unwrap_or(4_000_000_000),
                1..=i64::MAX,
            )? as u64,
            // a process costs a few milliseconds to start: photos are built in the server's,
            // masters of tens of megapixels (seconds of work) in their own
            build_process_pixels: in_range(
                "build_process_pixels",
                self.build_process_pixels
                    .unwrap_or(DEFAULT_BUILD_PROCESS_PIXELS as i64),
                0..=i64::MAX,
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
                self.render_cache_bytes.unwrap_or(DEFAULT_CACHE_BYTES),
                0..=i64::MAX,
            )? as u64,
            decoded_tile_cache_bytes: in_range(
                "decoded_tile_cache_bytes",
                self.decoded_tile_cache_bytes.unwrap_or(DEFAULT_CACHE_BYTES),
                0..=i64::MAX,
            )? as u64,
            tile_disk_cache_bytes: in_range(
                "tile_disk_cache_bytes",
                self.tile_disk_cache_bytes.unwrap_or(0),
                0..=i64::MAX,
            )? as u64,
            // renders have threads of their own, so requests need fewer: on a busy machine
            // every extra runtime thread costs wake-ups (bench/static.sh: one thread on two
            // cores took a tile from 48.6 to 36.7 µs of CPU)
            http_threads: match self.http_threads {
                Some(threads) => in_range("http_threads", threads, 1..=256)? as usize,
                None => (cores() / 2).max(1),
            },
            // one render more than the cores: while a render thread waits for its next job
            // (the request answered, the next one's tiles read), the others keep the cores
            // busy (bench/memory.sh, W3 at IIPImage's budget: 166 % CPU and 214 req/s with
            // two threads on two cores, 188 % and 237 req/s with three)
            render_threads: match self.render_threads {
                Some(threads) => in_range("render_threads", threads, 1..=256)? as usize,
                None => cores() + 1,
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
            orphan_sweep_minutes: in_range(
                "orphan_sweep_minutes",
                self.orphan_sweep_minutes.unwrap_or(60),
                0..=10_080,
            )? as u64,
            auth_trusted_proxies: auth::IpRanges::parse(
                &self.auth_trusted_proxies.unwrap_or_default(),
            )
            .map_err(|why| anyhow::anyhow!("auth_trusted_proxies: {why}"))?,
            iiif_cors_origins: CorsOrigins::parse(
                "iiif_cors_origins",
                &self.iiif_cors_origins.unwrap_or_else(|| vec!["*".into()]),
            )?,
            api_cors_origins: CorsOrigins::parse(
                "api_cors_origins",
                &self.api_cors_origins.unwrap_or_default(),
            )?,
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
/// Each memory cache's default size: sized to fit beside IIPImage's footprint, not to hold a
/// benchmark's whole working set (docs/benchmarks.md: W3's peak went from 568 to 274 MB when
/// the caches went from 128 + 256 MiB to 32 + 32, W3 from 3.1x to 1.6x IIPImage's req/s).
const DEFAULT_CACHE_BYTES: i64 = 32 * 1024 * 1024;

/// Masters from which a pyramid is built by a process of its own.
const DEFAULT_BUILD_PROCESS_PIXELS: u64 = 16_000_000;

/// The cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

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
    use crate::config::env;

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
        assert_eq!(config.decoded_tile_cache_bytes, 32 * 1024 * 1024);
        assert_eq!(config.render_cache_bytes, 32 * 1024 * 1024);
        // half the memory, shared by the workers, at least 256 MiB
        assert!(config.ingest_memory_budget_bytes >= 256 * 1024 * 1024);
        if let Some(usable) = usable_memory() {
            assert!(config.ingest_memory_budget_bytes <= (usable / 2).max(256 * 1024 * 1024));
        }
        assert_eq!(config.render_timeout_ms, 30_000);
        assert_eq!(config.heavy_render_threads, 1);
        assert_eq!(config.render_threads, cores() + 1);
        assert_eq!(config.build_process_pixels, 16_000_000);
        assert_eq!(config.http_threads, (cores() / 2).max(1));
        let none = Config::from_sources(None, &env(&[("VITRINE_DECODED_TILE_CACHE_BYTES", "0")]));
        assert_eq!(none.unwrap().decoded_tile_cache_bytes, 0);
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
            ("VITRINE_HTTP_THREADS", "0"),
            ("VITRINE_HTTP_THREADS", "257"),
            ("VITRINE_BUILD_PROCESS_PIXELS", "-1"),
            ("VITRINE_BUILD_PROCESS_PIXELS", "many"),
            ("VITRINE_STORAGE_S3_ENDPOINT", "127.0.0.1:9000"),
            ("VITRINE_STORAGE_TIMEOUT_SECONDS", "0"),
        ] {
            assert!(
                Config::from_sources(None, &env(&[(name, value)])).is_err(),
                "{name}={value}"
            );
        }
    }

    /// Nodes sharing a PostgreSQL database sign alike: a generated per-node secret is refused.
    #[test]
    fn postgres_needs_a_configured_signing_secret() {
        let database = (
            "VITRINE_DATABASE_URL",
            "postgres://postgres@127.0.0.1/vitrine",
        );
        let error = Config::from_sources(None, &env(&[database])).unwrap_err();
        assert!(error.to_string().contains("VITRINE_JWT_SECRET"), "{error}");
        let secret = ("VITRINE_JWT_SECRET", "0123456789abcdef0123456789abcdef");
        assert!(Config::from_sources(None, &env(&[database, secret])).is_ok());
        assert!(
            Config::from_sources(None, &env(&[])).is_ok(),
            "SQLite generates one"
        );
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
}
