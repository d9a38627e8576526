//! Processing one asset from its master to READY (or ERROR with the reason).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use domain::{Asset, AssetFacts, AssetFamily, ClaimedJob, Domain, JobEnd, JobKind, JobOutcome};
use imaging::{DecodeLimits, PyramidOptions};
use storage::{BlobStore, keys};
use tokio::sync::Semaphore;

use crate::child::build_here;
use crate::error::{Error, ErrorKind, Result};
use crate::fetch::{Fetched, Fetcher, OriginPolicy, SPOOL_BYTES};
use crate::probe;

/// Whether a process died rather than exited: a signal (an out-of-memory kill, an abort on a
/// failed allocation, a segfault) or Rust's panic status.
fn died(status: &std::process::ExitStatus) -> bool {
    #[cfg(unix)]
    if std::os::unix::process::ExitStatusExt::signal(status).is_some() {
        return true;
    }
    status.code() == Some(101)
}

/// How derivatives are made.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Pyramid tile size in pixels.
    pub tile_size: u32,
    /// JPEG quality of tiles and thumbnails.
    pub jpeg_quality: u8,
    /// Largest master, in pixels, decoded at all.
    pub max_pixels: u64,
    /// Most memory, in bytes, decoding one master and building its pyramid may take,
    /// estimated from the master's header before anything is decoded.
    pub memory_budget: u64,
    /// How many masters are decoded and tiled at once (each uses every core while tiling).
    pub concurrent_builds: usize,
    pub origins: OriginPolicy,
    /// How a job whose worker died is run again: in a child process, so that a master that
    /// kills its process a second time takes only that process down. `None` runs it here.
    pub isolation: Option<Isolation>,
    /// Masters of at least this many pixels are built by a process of their own (the
    /// `isolation` command's `build-pyramid`), so that the memory their build takes is the
    /// system's again when it ends. 0, or no `isolation`, builds every master here.
    pub build_process_pixels: u64,
}

/// This binary as a command of its own: `{program} {args…} run-job --job ID --worker NAME` runs
/// one held job and exits, `{program} {args…} build-pyramid` builds one pyramid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Isolation {
    pub program: std::path::PathBuf,
    pub args: Vec<std::ffi::OsString>,
}

impl Isolation {
    /// `{program} {args…} {subcommand}`, killed if its caller stops waiting for it.
    pub(crate) fn command(&self, subcommand: &str) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.program);
        command.args(&self.args).arg(subcommand).kill_on_drop(true);
        command
    }
}

/// How long the derivatives a processing replaced stay stored: longer than any node keeps an
/// asset's record (2 s) plus a render's deadline, so no node is left reading a removed object.
pub const STALE_DERIVATIVES_GRACE: Duration = Duration::from_secs(10);

/// Processes assets: the same code for a registration that waits, an upload, and the queue.
#[derive(Debug, Clone)]
pub struct Ingestor {
    domain: Domain,
    storage: BlobStore,
    options: Arc<IngestOptions>,
    fetcher: Fetcher,
    builds: Arc<Semaphore>,
}

impl Ingestor {
    pub fn new(domain: Domain, storage: BlobStore, options: IngestOptions) -> Result<Self> {
        let fetcher = Fetcher::new(options.origins.clone())?;
        let builds = Arc::new(Semaphore::new(options.concurrent_builds.max(1)));
        Ok(Self {
            domain,
            storage,
            options: Arc::new(options),
            fetcher,
            builds,
        })
    }

    pub(crate) fn storage(&self) -> &BlobStore {
        &self.storage
    }

    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Stores an uploaded master, received into a temporary file, where its job reads it.
    pub async fn store_upload_file(&self, asset: &Asset, file: std::fs::File) -> Result<()> {
        let key = keys::master(asset.customer_id, asset.space, &asset.id);
        Ok(self.storage.put_file(&key, file).await?)
    }

    /// Runs a job a worker claimed: here, or, when its previous worker died with it, in a
    /// process of its own (see [`IngestOptions::isolation`]).
    pub async fn run_claimed(&self, job: &ClaimedJob) -> domain::Result<()> {
        match &self.options.isolation {
            Some(isolation) if job.after_crash => self.run_isolated(job, isolation).await,
            _ => self.run(job).await.map(|_| ()),
        }
    }

    /// Runs a job in a child process and reads how that process ended. Killed by a signal or
    /// a panic, the child died with the job a second time: the job is poisoned. Any other
    /// failing exit is a transient failure (the child could not reach the database, say).
    async fn run_isolated(&self, job: &ClaimedJob, isolation: &Isolation) -> domain::Result<()> {
        let mut command = isolation.command("run-job");
        command
            .arg("--job")
            .arg(job.id.to_string())
            .arg("--worker")
            .arg(&job.worker)
            .stdin(std::process::Stdio::null());
        tracing::info!(job = job.id, asset = %job.asset.id, "running a job whose worker died in a process of its own");
        let status = match command.status().await {
            Ok(status) => status,
            Err(error) => {
                tracing::warn!(job = job.id, %error, "cannot start a process for the job; running it here");
                return self.run(job).await.map(|_| ());
            }
        };
        if status.success() {
            return Ok(());
        }
        let (reason, transient) = if died(&status) {
            tracing::warn!(job = job.id, asset = %job.asset.id, %status, "the job's own process died; the job is poisoned");
            (domain::poisoned_reason(2), false)
        } else {
            let reason = format!("ingest-failed: the job's own process exited with {status}");
            (reason, true)
        };
        // the child may have recorded its outcome before failing: then this is Lost, a no-op
        self.record(job, JobOutcome::Failed { reason, transient })
            .await
            .map(|_| ())
    }

    /// Runs a claimed job: builds the derivatives while sending heartbeats, then records the
    /// outcome. Only database failures are returned as errors. When the job turns out to be no
    /// longer this worker's, the work is dropped; if the asset was deleted meanwhile, whatever
    /// this attempt stored is removed.
    pub async fn run(&self, job: &ClaimedJob) -> domain::Result<JobEnd> {
        let asset = &job.asset;
        let outcome = {
            let heartbeats = self.heartbeats(job);
            tokio::pin!(heartbeats);
            tokio::select! {
                built = self.build(job) => match built {
                    Ok(facts) => JobOutcome::Done(facts),
                    Err(error) => {
                        tracing::warn!(customer = %asset.customer, space = asset.space, asset = %asset.id, attempt = job.attempt, code = error.code(), %error, "processing failed");
                        JobOutcome::Failed {
                            reason: format!("{}: {error}", error.code()),
                            transient: error.kind.is_transient(),
                        }
                    }
                },
                () = &mut heartbeats => {
                    tracing::warn!(job = job.id, asset = %asset.id, "job taken from this worker; dropping its work");
                    return self.after_lost(asset).await.map(|()| JobEnd::Lost);
                }
            }
        };
        self.record(job, outcome).await
    }

    /// Records an attempt's outcome, retrying database hiccups: the work is done and must not
    /// be thrown away.
    async fn record(&self, job: &ClaimedJob, outcome: JobOutcome) -> domain::Result<JobEnd> {
        let asset = &job.asset;
        let mut tries = 0;
        let end = loop {
            match self.domain.finish_job(job, outcome.clone()).await {
                Ok(end) => break end,
                Err(error) if tries < 4 => {
                    tries += 1;
                    tracing::warn!(job = job.id, %error, tries, "cannot record a job's outcome yet");
                    tokio::time::sleep(Duration::from_millis(250 << tries)).await;
                }
                Err(error) => return Err(error),
            }
        };
        match &end {
            JobEnd::Lost => self.after_lost(asset).await?,
            JobEnd::Finished(finished) if finished.status == domain::AssetStatus::Ready => {
                self.remove_older_derivatives_later(finished.clone(), job.clone());
            }
            JobEnd::Finished(_) | JobEnd::Retrying(..) => {}
        }
        Ok(end)
    }

    /// Ends (only) when the job is no longer this worker's.
    async fn heartbeats(&self, job: &ClaimedJob) {
        let period = (self.domain.queue_settings().job_timeout / 4).max(Duration::from_millis(50));
        let mut ticker = tokio::time::interval(period);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            match self.domain.heartbeat(job).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(error) => tracing::warn!(job = job.id, %error, "heartbeat failed"),
            }
        }
    }

    async fn after_lost(&self, asset: &Asset) -> domain::Result<()> {
        let exists = self
            .domain
            .delivered_asset(&asset.customer, asset.space, &asset.id)
            .await;
        match exists {
            Err(error) if error.kind == domain::ErrorKind::NotFound => {
                if let Err(error) = self.remove_stored(asset).await {
                    tracing::warn!(%error, asset = %asset.id, "cannot remove a deleted asset's objects");
                }
                Ok(())
            }
            Err(error) => Err(error),
            Ok(_) => Ok(()),
        }
    }

    /// Removes every object stored for an asset.
    pub async fn remove_stored(&self, asset: &Asset) -> Result<()> {
        let prefix = keys::asset_prefix(asset.customer_id, asset.space, &asset.id);
        for key in self.storage.list(&prefix).await? {
            self.storage.delete(&key).await?;
        }
        Ok(())
    }

    /// Processes an asset's pending job in this task and returns the asset once it is READY or
    /// ERROR: a registration that waits. Retries wait their turn here too; when a worker holds
    /// the job, this waits for the worker.
    pub async fn process_now(&self, asset: &Asset, worker: &str) -> domain::Result<Asset> {
        let poll = Duration::from_millis(100);
        loop {
            // the job goes in the same transaction that ends the asset READY or ERROR
            let Some(id) = self.domain.pending_job(asset).await? else {
                return self
                    .domain
                    .delivered_asset(&asset.customer, asset.space, &asset.id)
                    .await;
            };
            if let Some(job) = self.domain.claim_job_by_id(worker, id).await?
                && let JobEnd::Finished(done) = self.run(&job).await?
            {
                return Ok(done);
            }
            tokio::time::sleep(poll).await;
        }
    }

    async fn master(&self, job: &ClaimedJob) -> Result<Fetched> {
        let asset = &job.asset;
        match job.kind {
            JobKind::IngestStoredMaster => {
                let key = keys::master(asset.customer_id, asset.space, &asset.id);
                // a large upload is read back into a temporary file, as a large fetch is
                let read = async {
                    if self.storage.size(&key).await? > SPOOL_BYTES {
                        let (file, len) = self.storage.get_file(&key).await?;
                        Ok(Fetched::File { file, len })
                    } else {
                        self.storage.get(&key).await.map(Fetched::Bytes)
                    }
                };
                read.await
                    .map_err(|error: storage::Error| match error.kind {
                        // the upload may still be on its way to storage: worth another attempt
                        storage::ErrorKind::NotFound => {
                            Error::new(ErrorKind::Storage, "the uploaded master is not in storage")
                        }
                        _ => Error::from(error),
                    })
            }
            JobKind::Ingest => {
                let origin = asset.origin.as_deref().ok_or_else(|| {
                    Error::new(ErrorKind::OriginRefused, "the asset has no origin")
                })?;
                let credentials = self.credentials(asset.customer_id, origin).await?;
                self.fetcher.fetch_with(origin, credentials.as_ref()).await
            }
        }
    }

    /// Whether a customer's origin could be fetched now (see [`Fetcher::check_with`]), with
    /// the credentials of the customer's matching origin rule, as ingest would fetch it.
    pub async fn check_origin(&self, customer_id: i32, origin: &str) -> Result<()> {
        let credentials = self.credentials(customer_id, origin).await?;
        self.fetcher.check_with(origin, credentials.as_ref()).await
    }

    /// The credentials of the customer's origin rule that matches an origin, if any.
    async fn credentials(
        &self,
        customer_id: i32,
        origin: &str,
    ) -> Result<Option<domain::OriginCredentials>> {
        self.domain
            .origin_credentials(customer_id, origin)
            .await
            .map_err(|error| Error::new(ErrorKind::Database, error.to_string()))
    }

    async fn build(&self, job: &ClaimedJob) -> Result<AssetFacts> {
        let master = self.master(job).await?;
        // a master in a file is told by its first bytes
        let head = master.head()?;
        let inferred;
        let job = if job.asset.media_type.is_empty() {
            inferred = self.infer_media_type(job, &head).await?;
            &inferred
        } else {
            job
        };
        check_media_type(&job.asset, &head)?;
        drop(head);
        match job.asset.family {
            AssetFamily::Image => self.build_image(job, master).await,
            AssetFamily::Sound | AssetFamily::Video | AssetFamily::File => {
                let bytes = tokio::task::spawn_blocking(move || master.into_bytes())
                    .await
                    .map_err(|error| {
                        Error::new(ErrorKind::Internal, format!("read task failed: {error}"))
                    })??;
                self.store_as_is(job, bytes).await
            }
        }
    }

    /// Audio, video and other files are served as they are: the master is stored, and for
    /// audio and video its duration (and video size) is read from the container.
    async fn store_as_is(&self, job: &ClaimedJob, master: Bytes) -> Result<AssetFacts> {
        let asset = &job.asset;
        let facts = match asset.family {
            AssetFamily::Sound | AssetFamily::Video => {
                let bytes = master.clone();
                tokio::task::spawn_blocking(move || probe::probe_av(&bytes))
                    .await
                    .map_err(|error| {
                        Error::new(ErrorKind::Internal, format!("probe task failed: {error}"))
                    })?
                    .map(Some)
                    .map_err(|message| Error::new(ErrorKind::UnreadableMedia, message))?
            }
            _ => None,
        };
        self.ensure_still_held(job).await?;
        let master_key = keys::master(asset.customer_id, asset.space, &asset.id);
        if job.kind == JobKind::Ingest {
            self.storage.put(&master_key, master.clone()).await?;
        }
        Ok(AssetFacts {
            width: facts.as_ref().and_then(|f| f.width).map(|w| w as i32),
            height: facts.as_ref().and_then(|f| f.height).map(|h| h as i32),
            duration: facts.as_ref().and_then(|f| f.duration_seconds),
            bytes_stored: master.len() as i64,
            ..AssetFacts::default()
        })
    }

    /// A job replaced while it was building must not overwrite its successor's objects.
    async fn ensure_still_held(&self, job: &ClaimedJob) -> Result<()> {
        if self.domain.heartbeat(job).await.unwrap_or(true) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Internal,
                "the job was taken from this worker",
            ))
        }
    }

    /// Removes the derivatives earlier processings of an asset stored, once the one `job`
    /// made is recorded: those of older jobs and attempts, and those stored before versions.
    /// A later job's objects (a reingest already under way) are left alone.
    async fn remove_older_derivatives(&self, asset: &Asset, job: &ClaimedJob) -> Result<()> {
        let prefix = keys::asset_prefix(asset.customer_id, asset.space, &asset.id);
        let current = asset.derivatives.as_deref();
        for key in self.storage.list(&prefix).await? {
            let Some((_, keys::StoredObject::Derivative(version))) = keys::classify(&key) else {
                continue;
            };
            let older = match version {
                None => true,
                Some(version) if Some(version) == current => false,
                Some(version) => {
                    keys::version_order(version).is_some_and(|order| order < (job.id, job.attempt))
                }
            };
            if older {
                self.storage.delete(&key).await?;
            }
        }
        Ok(())
    }

    /// Removes older derivatives after [`STALE_DERIVATIVES_GRACE`], in the background: a node
    /// that read the asset's record just before may still ask for them meanwhile. Objects left
    /// when the process ends first are the orphan sweep's.
    fn remove_older_derivatives_later(&self, asset: Asset, job: ClaimedJob) {
        let ingestor = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(STALE_DERIVATIVES_GRACE).await;
            if let Err(error) = ingestor.remove_older_derivatives(&asset, &job).await {
                tracing::warn!(%error, asset = %asset.id, "cannot remove older derivatives yet; the orphan sweep will");
            }
        });
    }

    async fn build_image(&self, job: &ClaimedJob, master: Fetched) -> Result<AssetFacts> {
        let asset = &job.asset;
        let thumbnail_sizes = self
            .domain
            .space_thumbnail_sizes(asset.customer_id, asset.space)
            .await
            .map_err(|error| Error::new(ErrorKind::Database, error.to_string()))?;
        let options = PyramidOptions {
            tile_size: self.options.tile_size,
            jpeg_quality: self.options.jpeg_quality,
            thumbnail_sizes: thumbnail_sizes.iter().map(|size| *size as u32).collect(),
        };
        let limits = DecodeLimits {
            max_pixels: self.options.max_pixels,
            memory_budget: self.options.memory_budget,
        };
        let permit = self
            .builds
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::new(ErrorKind::Internal, "shutting down"))?;
        // only a master that may go to a process of its own has its header read here
        let child = self.options.isolation.as_ref().filter(|_| {
            imaging::probe(master.as_master()).is_ok_and(|(width, height)| {
                let pixels = u64::from(width) * u64::from(height);
                self.options.build_process_pixels > 0 && pixels >= self.options.build_process_pixels
            })
        });
        let built = match child {
            Some(isolation) => {
                let started = std::time::Instant::now();
                let built = isolation.build_pyramid(master, &limits, &options).await;
                drop(permit);
                let built = built?;
                tracing::info!(asset = %asset.id, width = built.width, height = built.height, seconds = started.elapsed().as_secs_f64(), "pyramid built in a process of its own");
                built
            }
            // the pyramid is written to a temporary file as its tiles come, then stored a part
            // at a time: neither the master's pixels nor the whole TIFF are ever held at once
            None => tokio::task::spawn_blocking(move || {
                let _permit = permit;
                let file = tempfile::tempfile().map_err(|error| {
                    Error::new(ErrorKind::Internal, format!("temporary file: {error}"))
                })?;
                build_here(master.as_master(), &limits, &options, file)
            })
            .await
            .map_err(|error| {
                Error::new(ErrorKind::Internal, format!("build task failed: {error}"))
            })??,
        };

        self.ensure_still_held(job).await?;
        // this processing's objects go under keys of their own: what an earlier one stored
        // stays whole for whoever still reads it, and goes once this one is recorded
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or_default();
        let version = keys::derivative_version(job.id, job.attempt, nonce);
        let (width, height, levels) = (built.width, built.height, built.levels);
        let longest_edges = built
            .thumbnails
            .iter()
            .map(|t| t.width.max(t.height) as i32)
            .collect();
        let mut bytes_stored = built.bytes as i64;
        for thumbnail in built.thumbnails {
            bytes_stored += thumbnail.jpeg.len() as i64;
            let key = keys::thumbnail(
                asset.customer_id,
                asset.space,
                &asset.id,
                Some(&version),
                (thumbnail.width, thumbnail.height),
            );
            self.storage.put(&key, Bytes::from(thumbnail.jpeg)).await?;
        }
        let pyramid_key = keys::pyramid(asset.customer_id, asset.space, &asset.id, Some(&version));
        let mut file = built.file;
        std::io::Seek::rewind(&mut file)
            .map_err(|error| Error::new(ErrorKind::Internal, format!("temporary file: {error}")))?;
        self.storage.put_file(&pyramid_key, file).await?;
        Ok(AssetFacts {
            width: Some(width as i32),
            height: Some(height as i32),
            duration: None,
            pyramid_levels: Some(levels as i32),
            tile_size: Some(self.options.tile_size as i32),
            thumbnail_sizes: longest_edges,
            bytes_stored,
            derivatives: Some(version),
        })
    }
}

impl Ingestor {
    /// An asset registered without a media type takes the one its bytes have, recorded before
    /// it is processed as what it turned out to be.
    async fn infer_media_type(&self, job: &ClaimedJob, master: &[u8]) -> Result<ClaimedJob> {
        let Some(sniffed) = probe::sniff(master) else {
            return Err(Error::new(
                ErrorKind::WrongMediaType,
                "no mediaType was given and the bytes are no format this server recognises; \
                 register the asset with its mediaType",
            ));
        };
        // a job taken from this worker (its asset changed meanwhile) records nothing
        self.ensure_still_held(job).await?;
        let asset = &job.asset;
        self.domain
            .record_inferred_media_type(asset.customer_id, asset.space, &asset.id, sniffed)
            .await
            .map_err(|error| Error::new(ErrorKind::Database, error.to_string()))?;
        let mut inferred = job.clone();
        inferred.asset.media_type = sniffed.to_owned();
        inferred.asset.family = AssetFamily::of_media_type(sniffed);
        Ok(inferred)
    }
}

/// Checks the declared media type against the bytes. Images, audio and video must be what they
/// say (allowing for aliases such as image/jpg); other files are taken as declared.
fn check_media_type(asset: &Asset, master: &[u8]) -> Result<()> {
    if asset.family == AssetFamily::File {
        return Ok(());
    }
    match probe::sniff(master) {
        Some(sniffed) if probe::same_media_type(&asset.media_type, sniffed) => Ok(()),
        Some(sniffed) => Err(Error::new(
            ErrorKind::WrongMediaType,
            format!(
                "the asset is declared {} but its bytes are {sniffed}",
                asset.media_type
            ),
        )),
        None => Err(Error::new(
            ErrorKind::WrongMediaType,
            format!(
                "the asset is declared {} but its bytes are no {} format this server reads",
                asset.media_type,
                asset.family.as_str()
            ),
        )),
    }
}
