//! The checked configuration: [`Config`] and its parts, a `Debug` that never prints a secret,
//! and the server's own paths, which import roots must keep clear of.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::cors::CorsOrigins;

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
    /// How `s3://` storage is reached (endpoint, region, credentials, path style) and how long
    /// a request to a remote store may take.
    pub storage: storage::StoreOptions,
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
    /// Largest GraphQL or REST API request body.
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
    /// Masters of at least this many pixels are built by a process of their own, whose memory
    /// is the system's again when it ends; 0 builds every master in this process.
    pub build_process_pixels: u64,
    /// Largest output width and height served (`maxWidth`/`maxHeight`).
    pub image_max_width: u32,
    /// Largest output area served (`maxArea`).
    pub image_max_area: u64,
    /// Memory for rendered images kept for reuse.
    pub render_cache_bytes: u64,
    /// Memory for decoded pyramid tiles kept for the renders that need them again.
    pub decoded_tile_cache_bytes: u64,
    /// A cache of stored tiles on this node's disk ({data_dir}/tile-cache), in front of a
    /// remote store; bytes, 0 for none.
    pub tile_disk_cache_bytes: u64,
    /// Threads of the async runtime, which answer requests (HTTP, lookups, tile reads);
    /// renders and ingest have threads of their own.
    pub http_threads: usize,
    /// Concurrent renders (decode, resize, encode), each on a thread of its own.
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
    /// Minutes between orphan sweeps of the object store on a node with workers (0: none).
    pub orphan_sweep_minutes: u64,
    /// Proxies whose `X-Forwarded-For` (and, for external auth services, trusted cookie or
    /// header) are believed. Empty: the connection's peer is the client.
    pub auth_trusted_proxies: auth::IpRanges,
    /// Web origins that may read the IIIF routes from a browser (default: any).
    pub iiif_cors_origins: CorsOrigins,
    /// Web origins that may call GraphQL and the REST API from a browser (default: none but
    /// the portal's own).
    pub api_cors_origins: CorsOrigins,
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
            .field("storage", &self.storage)
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
            .field("build_process_pixels", &self.build_process_pixels)
            .field("image_max_width", &self.image_max_width)
            .field("image_max_area", &self.image_max_area)
            .field("render_cache_bytes", &self.render_cache_bytes)
            .field("decoded_tile_cache_bytes", &self.decoded_tile_cache_bytes)
            .field("tile_disk_cache_bytes", &self.tile_disk_cache_bytes)
            .field("http_threads", &self.http_threads)
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
            .field("orphan_sweep_minutes", &self.orphan_sweep_minutes)
            .field("auth_trusted_proxies", &self.auth_trusted_proxies)
            .field("iiif_cors_origins", &self.iiif_cors_origins)
            .field("api_cors_origins", &self.api_cors_origins)
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
pub(super) fn mask_url_password(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => text.to_owned(),
    }
}

impl Config {
    /// Where the first start writes the generated admin key.
    pub fn admin_key_file(&self) -> PathBuf {
        self.data_dir.join("admin-key")
    }

    /// The storage URL with any password masked, to show in messages.
    pub fn storage_url_shown(&self) -> String {
        mask_url_password(&self.storage_url)
    }

    /// Opens the object store the configuration names.
    pub fn open_storage(&self) -> anyhow::Result<storage::BlobStore> {
        let location = storage::StorageLocation::parse(&self.storage_url)?;
        storage::BlobStore::open_with(&location, &self.storage)
            .with_context(|| format!("cannot open object storage {}", self.storage_url_shown()))
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::env;

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
                ("VITRINE_STORAGE_S3_SECRET_ACCESS_KEY", "s3secretvalue"),
                ("VITRINE_STORAGE_S3_ACCESS_KEY_ID", "s3keyid"),
            ]),
        )
        .unwrap();
        let printed = format!("{config:?}");
        for secret in [
            "supersecretvalue123",
            "jwtsecretjwtsecret",
            "dbpassword",
            "s3secretvalue",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
        }
        assert!(printed.contains("admin"));
        assert!(printed.contains("s3keyid"), "{printed}");
    }
}
