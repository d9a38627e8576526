//! Assembling and running the HTTP server: state, routes, bind, graceful shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, Route, get};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::cors;
use crate::graphql::{self, QueryLimits};
use crate::iiif_image::{self, DeliverySettings, ImageDelivery};
use crate::iiif_presentation;
use crate::iiif_search::{self, Service};
use crate::ops;
pub use crate::state::AppState;
use crate::telemetry::{self, Metrics};
use iiif::presentation::Version;

/// A running server.
#[derive(Debug)]
pub struct RunningServer {
    /// The address actually bound (the configured port may be 0).
    pub local_addr: SocketAddr,
    /// The admin key created on this start, when the installation had none.
    pub created_admin_key: Option<domain::CreatedApiKey>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    processing: crate::processing::Processing,
    catch_up: JoinHandle<()>,
    sweep: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting connections, lets requests in flight finish, and waits.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.wait().await
    }

    /// Waits until the server stops (after [`RunningServer::begin_shutdown`] or on its own),
    /// then stops the ingest workers.
    pub async fn wait(self) -> anyhow::Result<()> {
        let served = self.task.await;
        self.catch_up.abort();
        if let Some(sweep) = &self.sweep {
            sweep.abort();
        }
        self.processing.shutdown().await;
        served
            .context("server task failed")?
            .context("server stopped with an error")
    }

    /// Sends the shutdown signal without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Opens the database (migrating it) and the domain services for a configuration.
pub async fn open_domain(config: &Config) -> anyhow::Result<domain::Domain> {
    if domain::DatabaseKind::of_url(&config.database_url) == Some(domain::DatabaseKind::Sqlite) {
        create_private_dir(&config.data_dir)?;
    }
    let db = domain::connect(&config.database_url)
        .await
        .context("cannot open the database")?;
    domain::migrate(&db)
        .await
        .context("cannot apply database migrations")?;
    let jwt_secret = signing_secret(config)?;
    let settings = domain::CredentialSettings {
        jwt_secret,
        jwt_ttl_seconds: config.jwt_ttl_seconds,
        static_admin: config.admin_key.clone(),
    };
    let queue = domain::QueueSettings {
        max_attempts: config.ingest_max_attempts,
        retry_base: Duration::from_millis(config.ingest_retry_base_ms),
        retry_max: Duration::from_secs(config.ingest_retry_max_seconds),
        job_timeout: Duration::from_secs(config.job_timeout_seconds),
    };
    let quotas = domain::Quotas {
        max_assets: config.max_assets_per_customer,
        max_bytes: config.max_bytes_per_customer,
    };
    let domain = domain::Domain::with_settings(db, settings, queue, quotas);
    let sealed = domain
        .seal_plain_origin_secrets()
        .await
        .context("cannot seal the stored origin-rule secrets")?;
    if sealed > 0 {
        tracing::info!(
            sealed,
            "origin-rule secrets stored in plain text are now sealed"
        );
    }
    Ok(domain)
}

/// Creates the data dir (or any folder of the server's own secrets) so that only its owner
/// can enter it, whatever the umask, and tightens an existing one that others could read.
pub fn create_private_dir(path: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(path)
        .with_context(|| format!("cannot create data dir {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("cannot read data dir {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot make {} private", path.display()))?;
            tracing::info!(dir = %path.display(), "data dir made private to its owner (0700)");
        }
    }
    Ok(())
}

/// The secret management tokens and IIIF access tokens are signed with (each under its own
/// derived key and audience): configured, or generated once into the data dir.
fn signing_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    Ok(match &config.jwt_secret {
        Some(secret) => secret.expose().as_bytes().to_vec(),
        None => read_or_create_secret(&config.jwt_secret_file())?.into_bytes(),
    })
}

/// Opens this node's search index (in memory when no folder is configured) over the domain.
pub fn open_search(config: &Config, domain: &domain::Domain) -> anyhow::Result<domain::Searcher> {
    let index = match &config.search_index_dir {
        Some(dir) => search::SearchIndex::open(dir).with_context(|| {
            format!(
                "cannot open the search index in {} (is another vitrine process using it?)",
                dir.display()
            )
        })?,
        None => search::SearchIndex::in_memory().context("cannot create the search index")?,
    };
    Ok(domain::Searcher::new(domain.clone(), Arc::new(index)))
}

/// Keeps the index caught up with annotation changes made through any node.
fn keep_caught_up(searcher: domain::Searcher, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match searcher.catch_up().await {
                Ok(0) => {}
                Ok(applied) => tracing::debug!(applied, "search index caught up"),
                Err(error) => tracing::warn!(%error, "search index could not catch up"),
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// Sweeps the object store of orphans every `every`, the first time one period after the start.
fn keep_swept(ingestor: ingest::Ingestor, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(error) = ingestor.sweep_orphans(ingest::ORPHAN_GRACE).await {
                tracing::warn!(%error, "orphan sweep failed; the next one tries again");
            }
        }
    })
}

/// Reads a secret file, or creates it (mode 0600) with a fresh random secret when it does not
/// exist. Any other read failure stops the start: replacing the secret would end every session.
fn read_or_create_secret(path: &Path) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(existing) => {
            if let Err(error) = make_private(path) {
                tracing::warn!(%error, "the signing secret file may be readable by others");
            }
            let existing = existing.trim().to_owned();
            if existing.len() < 32 {
                anyhow::bail!(
                    "{} holds a secret shorter than 32 characters",
                    path.display()
                );
            }
            Ok(existing)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                create_private_dir(parent)?;
            }
            let secret = auth::generate_signing_secret();
            write_private_file(path, &secret)?;
            Ok(secret)
        }
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Makes an existing file readable and writable by its owner only.
fn make_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} private", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Writes a file only its owner can read.
pub fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // the mode above applies only to a file this call creates
    make_private(path)?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// On an installation with no admin key at all (none configured, none stored), creates one and
/// writes it to the data dir, so the first user can get in.
async fn bootstrap_admin_key(
    config: &Config,
    domain: &domain::Domain,
) -> anyhow::Result<Option<domain::CreatedApiKey>> {
    if config.admin_key.is_some() || domain.has_admin_keys().await? {
        return Ok(None);
    }
    // make sure the key can be written before creating it, so its secret is never lost
    create_private_dir(&config.data_dir)?;
    let key_file = config.admin_key_file();
    write_private_file(&key_file, "")?;
    let created = match domain.create_admin_key().await {
        Ok(created) => created,
        Err(error) => {
            let _ = std::fs::remove_file(&key_file);
            return Err(anyhow::anyhow!(
                "cannot create the first admin key: {error}"
            ));
        }
    };
    write_private_file(&key_file, &format!("{}:{}\n", created.key, created.secret))?;
    Ok(Some(created))
}

/// Descriptors kept for everything but client connections: the database pool, storage
/// (a folder store keeps up to 128 pyramids open besides its other reads), the search index,
/// origin fetches and logs.
const RESERVED_FILES: u64 = 384;

/// The connection cap that fits the open-file limit, raising the limit first if it can.
fn connection_cap(wanted: usize) -> usize {
    let Some(limit) = crate::connections::raise_open_file_limit(wanted as u64 + RESERVED_FILES)
    else {
        return wanted;
    };
    let fits = limit.saturating_sub(RESERVED_FILES).max(16) as usize;
    if fits < wanted {
        tracing::warn!(
            wanted,
            open_file_limit = limit,
            cap = fits,
            "the open file limit holds fewer connections than max_connections; capping there"
        );
    }
    wanted.min(fits)
}

fn delivery_settings(config: &Config) -> DeliverySettings {
    DeliverySettings {
        limits: iiif::image::Limits {
            max_width: Some(config.image_max_width),
            max_height: Some(config.image_max_width),
            max_area: Some(config.image_max_area),
            upscaling: true,
        },
        jpeg_quality: config.jpeg_quality,
        render_cache_bytes: config.render_cache_bytes,
        decoded_tile_cache_bytes: config.decoded_tile_cache_bytes,
        render_threads: config.render_threads,
        heavy_render_threads: config.heavy_render_threads,
        heavy_render_pixels: config.heavy_render_pixels,
        render_queue_length: config.render_queue_length,
        render_timeout: Duration::from_millis(config.render_timeout_ms),
        tile_disk_cache: (
            config.data_dir.join("tile-cache"),
            config.tile_disk_cache_bytes,
        ),
    }
}

/// How this node's ingestor is set up.
pub fn ingest_options(config: &Config) -> ingest::IngestOptions {
    ingest::IngestOptions {
        tile_size: config.tile_size,
        jpeg_quality: config.jpeg_quality,
        max_pixels: config.max_image_pixels,
        memory_budget: config.ingest_memory_budget_bytes,
        concurrent_builds: 1,
        origins: ingest::OriginPolicy {
            import_roots: config.import_roots.clone(),
            allow_private: config.allow_private_origins,
            max_bytes: config.origin_max_bytes,
            connect_timeout: Duration::from_secs(config.origin_connect_timeout_seconds),
            timeout: Duration::from_secs(config.origin_timeout_seconds),
            protected_paths: config.protected_paths(),
            own_buckets: match storage::StorageLocation::parse(&config.storage_url) {
                Ok(storage::StorageLocation::S3 { bucket, prefix }) => {
                    vec![ingest::OwnBucket { bucket, prefix }]
                }
                _ => vec![],
            },
        },
        isolation: config.job_process.clone(),
        build_process_pixels: config.build_process_pixels,
    }
}

/// Binds, builds every route and starts serving in the background.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    config.check_import_roots()?;
    let domain = open_domain(&config).await?;
    let created_admin_key = bootstrap_admin_key(&config, &domain).await?;
    let storage = config.open_storage()?;

    let acceptor = TcpListener::bind(config.listen)
        .into_acceptor()
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let acceptor = crate::connections::Guarded::new(
        acceptor,
        connection_cap(config.max_connections),
        Duration::from_secs(config.http_header_timeout_seconds),
    );
    let local_addr = acceptor
        .local_addr()
        .into_iter()
        .find_map(|addr| addr.as_socket_addr().copied())
        .context("listener has no socket address")?;

    let schema = graphql::build_schema(QueryLimits {
        max_depth: config.graphql_max_depth,
        max_complexity: config.graphql_max_complexity,
        max_aliases: config.graphql_max_aliases,
    });
    let metrics = Arc::new(Metrics::default());
    let shutdown_timeout = Duration::from_secs(config.shutdown_timeout_seconds);
    let config_idle_timeout = config.http_idle_timeout_seconds;
    let images = Arc::new(ImageDelivery::new(
        domain.clone(),
        storage.clone(),
        delivery_settings(&config),
    ));
    let ingestor = ingest::Ingestor::new(domain.clone(), storage.clone(), ingest_options(&config))
        .context("cannot set up ingest")?;
    let sweep = (config.workers > 0 && config.orphan_sweep_minutes > 0).then(|| {
        keep_swept(
            ingestor.clone(),
            Duration::from_secs(config.orphan_sweep_minutes * 60),
        )
    });
    let processing = crate::processing::Processing::start(ingestor, config.workers);
    let documents = Arc::new(iiif_presentation::DocumentCache::new(
        config.manifest_cache_bytes,
    ));
    let search = open_search(&config, &domain)?;
    let catch_up = keep_caught_up(
        search.clone(),
        Duration::from_millis(config.search_catch_up_ms),
    );
    let access = Arc::new(crate::visitor_access::VisitorAccess::new(
        &config,
        &signing_secret(&config)?,
    ));
    let public_cors = Arc::new(config.iiif_cors_origins.clone());
    let api_cors = Arc::new(config.api_cors_origins.clone());
    let state = AppState {
        access,
        config: Arc::new(config),
        domain,
        images,
        documents,
        storage: storage.clone(),
        processing: processing.clone(),
        search,
        schema,
        metrics: metrics.clone(),
        local_addr,
    };

    let (portal_page, portal_files) = crate::portal::routes();
    let routes = Route::new()
        .at("/", portal_page)
        .nest("/portal", portal_files)
        .at(
            "/graphql",
            get(graphql::graphiql).post(graphql::execute).around({
                let origins = api_cors.clone();
                move |endpoint, request| cors::api(endpoint, request, origins.clone())
            }),
        )
        .at("/graphql/ws", get(graphql::subscriptions))
        .nest(
            state.config.rest_api_prefix.clone(),
            crate::dlcs::routes().around({
                let origins = api_cors.clone();
                move |endpoint, request| cors::api(endpoint, request, origins.clone())
            }),
        )
        .nest("/iiif/3", iiif_image::routes(iiif::image::ApiVersion::V3))
        .nest("/iiif/2", iiif_image::routes(iiif::image::ApiVersion::V2))
        .nest("/media", crate::media::routes())
        .nest("/auth", crate::iiif_auth::routes())
        .nest(
            "/iiif/manifest/3",
            iiif_presentation::manifest_routes(Version::V3),
        )
        .nest(
            "/iiif/manifest/2",
            iiif_presentation::manifest_routes(Version::V2),
        )
        .nest(
            "/iiif/query/3",
            iiif_presentation::query_routes(Version::V3),
        )
        .nest(
            "/iiif/query/2",
            iiif_presentation::query_routes(Version::V2),
        )
        .nest(
            "/iiif/collection/3",
            iiif_presentation::collection_routes(Version::V3),
        )
        .nest(
            "/iiif/collection/2",
            iiif_presentation::collection_routes(Version::V2),
        )
        .nest(
            "/iiif/annotations/3",
            iiif_presentation::annotation_routes(),
        )
        .nest(
            "/iiif/search/2",
            iiif_search::routes(Service::Search, 2, Version::V3),
        )
        .nest(
            "/iiif/search/1",
            iiif_search::routes(Service::Search, 1, Version::V2),
        )
        .nest(
            "/iiif/search/1p3",
            iiif_search::routes(Service::Search, 1, Version::V3),
        )
        .nest(
            "/iiif/autocomplete/2",
            iiif_search::routes(Service::Autocomplete, 2, Version::V3),
        )
        .nest(
            "/iiif/autocomplete/1",
            iiif_search::routes(Service::Autocomplete, 1, Version::V2),
        )
        .nest(
            "/iiif/autocomplete/1p3",
            iiif_search::routes(Service::Autocomplete, 1, Version::V3),
        )
        .at("/healthz", get(ops::healthz))
        .at("/readyz", get(ops::readyz))
        .at("/metrics", get(ops::metrics))
        .data(state)
        .around(move |endpoint, request| cors::public(endpoint, request, public_cors.clone()))
        .around(move |endpoint, request| telemetry::observe(endpoint, request, metrics.clone()));

    let (shutdown, shutdown_signal) = oneshot::channel::<()>();
    let server = poem::Server::new_with_acceptor(acceptor)
        .idle_timeout(Duration::from_secs(config_idle_timeout));
    let task = tokio::spawn(async move {
        server
            .run_with_graceful_shutdown(
                routes,
                async move {
                    let _ = shutdown_signal.await;
                },
                Some(shutdown_timeout),
            )
            .await
    });
    tracing::info!("listening on http://{local_addr}");
    Ok(RunningServer {
        local_addr,
        created_admin_key,
        shutdown: Some(shutdown),
        task,
        processing,
        catch_up,
        sweep,
    })
}
