//! Object storage for masters and derivatives: a small [`BlobStore`] over object_store, opened
//! from a URL (`file://` folder, `memory://`, `s3://`, `gs://` or `az://` bucket and prefix), with the range reads the
//! image server needs.
//!
//! This crate knows bytes and keys only: not what an asset is, nor any web framework.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

pub mod keys;

/// What went wrong with storage, as a stable kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The storage URL or a key is not acceptable.
    InvalidLocation,
    /// No object at that key.
    NotFound,
    /// The store refused the credentials, or they do not reach that object.
    Denied,
    /// The backend failed (network, permissions, disk); usually worth a retry.
    Backend,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidLocation => "invalid-storage-location",
            ErrorKind::NotFound => "object-not-found",
            ErrorKind::Denied => "storage-access-denied",
            ErrorKind::Backend => "storage-unavailable",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::InvalidLocation,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

/// S3 error codes object_store reports only inside a generic error's text.
const S3_DENIED_CODES: &[&str] = &[
    "<Code>AccessDenied</Code>",
    "<Code>InvalidAccessKeyId</Code>",
    "<Code>SignatureDoesNotMatch</Code>",
];

impl From<object_store::Error> for Error {
    fn from(error: object_store::Error) -> Self {
        let kind = match &error {
            object_store::Error::NotFound { .. } => ErrorKind::NotFound,
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => ErrorKind::Denied,
            object_store::Error::Generic { source, .. } => {
                let text = source.to_string();
                if text.contains("<Code>NoSuchBucket</Code>") {
                    ErrorKind::NotFound
                } else if S3_DENIED_CODES.iter().any(|code| text.contains(code)) {
                    ErrorKind::Denied
                } else {
                    ErrorKind::Backend
                }
            }
            _ => ErrorKind::Backend,
        };
        Self {
            kind,
            message: error.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where objects live, as parsed from a storage URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageLocation {
    /// `file:///absolute/folder`
    Folder(PathBuf),
    /// `memory://`: gone when the process ends (tests, trials).
    Memory,
    /// `s3://bucket[/prefix]`, credentials and region from the standard `AWS_*` variables.
    S3 { bucket: String, prefix: String },
    /// `gs://bucket[/prefix]`, credentials from the standard `GOOGLE_*` variables.
    Gcs { bucket: String, prefix: String },
    /// `az://container[/prefix]`, account and credentials from the standard `AZURE_*` variables.
    Azure { container: String, prefix: String },
}

impl StorageLocation {
    pub fn parse(text: &str) -> Result<Self> {
        let url = url::Url::parse(text)
            .map_err(|error| Error::invalid(format!("{text:?} is not a URL: {error}")))?;
        match url.scheme() {
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|_| Error::invalid(format!("{text:?} is not an absolute file URL")))?;
                Ok(StorageLocation::Folder(path))
            }
            "memory" => Ok(StorageLocation::Memory),
            "s3" | "gs" | "az" => {
                let bucket = url.host_str().filter(|host| !host.is_empty());
                let bucket = bucket
                    .ok_or_else(|| Error::invalid(format!("{text:?} names no bucket")))?
                    .to_owned();
                let prefix = url.path().trim_matches('/').to_owned();
                Ok(match url.scheme() {
                    "s3" => StorageLocation::S3 { bucket, prefix },
                    "gs" => StorageLocation::Gcs { bucket, prefix },
                    _ => StorageLocation::Azure {
                        container: bucket,
                        prefix,
                    },
                })
            }
            other => Err(Error::invalid(format!(
                "storage scheme {other:?} is not supported; use file://, memory://, s3://, gs:// or az://"
            ))),
        }
    }
}

/// How the server reaches its own S3-compatible store (`s3://` storage). What is unset comes
/// from the standard `AWS_*` variables (`AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// ...), then object_store's defaults.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// An S3-compatible endpoint (`http://127.0.0.1:9000`, `https://s3.example.org`); AWS
    /// when unset. `http://` endpoints are allowed.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Virtual-hosted-style requests (`bucket.host/key`). Off by default: path-style requests
    /// (`host/bucket/key`) are what MinIO, Ceph, Garage and R2 accept, and AWS too.
    pub virtual_hosted: bool,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .field("virtual_hosted", &self.virtual_hosted)
            .finish()
    }
}

/// How a store is opened: its S3 settings, and how long one request to a remote store may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    pub s3: S3Settings,
    /// A request to a remote store, retries included, gives up after this long: a store that
    /// is down makes callers fail within this bound instead of hanging.
    pub request_timeout: std::time::Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            s3: S3Settings::default(),
            request_timeout: std::time::Duration::from_secs(10),
        }
    }
}

impl StoreOptions {
    /// Bounded retries and timeouts for a remote store.
    fn retry(&self) -> object_store::RetryConfig {
        object_store::RetryConfig {
            max_retries: 3,
            retry_timeout: self.request_timeout,
            ..Default::default()
        }
    }

    fn client(&self) -> object_store::ClientOptions {
        object_store::ClientOptions::new()
            .with_connect_timeout(self.request_timeout.min(std::time::Duration::from_secs(3)))
            .with_timeout(self.request_timeout)
    }
}

/// Creates a folder (and its missing parents) that only its owner can enter, whatever the umask.
fn create_private_dir(path: &std::path::Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// A bucket read with credentials a customer configured: never the server's own credentials,
/// environment or instance metadata.
pub struct S3OriginAccess {
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `us-east-1` when empty.
    pub region: String,
    /// An S3-compatible endpoint (`https://host[:port]`); AWS when `None`.
    pub endpoint: Option<String>,
    /// The client every request goes through: the caller decides which addresses it may
    /// reach, its timeouts and that it uses no proxy.
    pub http: reqwest::Client,
}

impl std::fmt::Debug for S3OriginAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3OriginAccess")
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Hands object_store a client built elsewhere instead of one from its own options (which
/// would honour proxy variables and resolve names without the caller's address check).
#[derive(Debug)]
struct GivenClient(reqwest::Client);

impl object_store::client::HttpConnector for GivenClient {
    fn connect(
        &self,
        _options: &object_store::ClientOptions,
    ) -> object_store::Result<object_store::client::HttpClient> {
        Ok(object_store::client::HttpClient::new(self.0.clone()))
    }
}

fn with_prefix(store: impl ObjectStore, prefix: &str) -> Arc<dyn ObjectStore> {
    if prefix.is_empty() {
        Arc::new(store)
    } else {
        Arc::new(PrefixStore::new(store, prefix))
    }
}

/// Objects by key. Keys are `/`-separated relative paths such as `acme/1/page-1/pyramid.tif`.
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// A folder store's own handle: reading is a system call, not a request, so small reads
    /// are made on the calling thread and larger ones in one blocking task with the file
    /// opened once.
    folder: Option<Folder>,
}

#[derive(Clone)]
struct Folder {
    store: Arc<object_store::local::LocalFileSystem>,
    /// Sealed objects kept open between reads, by key (see [`BlobStore::get_sealed_ranges`]).
    open_files: Arc<OpenFiles>,
}

/// Open files by key. Opening a file walks its path, checks permissions and allocates a
/// descriptor, which cost a tile request a tenth of its CPU (`docs/benchmarks.md`).
type OpenFiles = quick_cache::sync::Cache<String, Arc<std::fs::File>>;

/// How many sealed objects a folder store keeps open: the pyramids being viewed, a few
/// descriptors each way of the system's default limit of 1,024.
const OPEN_FILES: usize = 128;

/// Reads from a folder store of at most this many bytes in all are made on the calling thread
/// (an open and a read of a few tiles, from the page cache as a rule): handing them to a
/// blocking thread and back cost a tile request more CPU in thread switches than the read
/// itself (`docs/benchmarks.md`). Larger reads go to a blocking thread.
const INLINE_READ_BYTES: u64 = 1 << 20;

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobStore({})", self.store)
    }
}

/// The ranges to read for `ranges`: sorted, with those that touch or overlap joined.
fn touching_runs(ranges: &[Range<u64>]) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.iter().filter(|r| r.start < r.end).cloned().collect();
    sorted.sort_by_key(|range| range.start);
    let mut runs: Vec<Range<u64>> = Vec::with_capacity(sorted.len());
    for range in sorted {
        match runs.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => runs.push(range),
        }
    }
    runs
}

impl BlobStore {
    /// Opens a store with the default options (S3 settings from the environment).
    pub fn open(location: &StorageLocation) -> Result<Self> {
        Self::open_with(location, &StoreOptions::default())
    }

    /// Opens a store, creating a folder store's folder when it is missing.
    pub fn open_with(location: &StorageLocation, options: &StoreOptions) -> Result<Self> {
        let mut folder = None;
        let store: Arc<dyn ObjectStore> = match location {
            StorageLocation::Folder(path) => {
                create_private_dir(path).map_err(|error| Error {
                    kind: ErrorKind::Backend,
                    message: format!("cannot create storage folder {}: {error}", path.display()),
                })?;
                let local = Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(path)?
                        .with_automatic_cleanup(true),
                );
                folder = Some(Folder {
                    store: local.clone(),
                    open_files: Arc::new(OpenFiles::new(OPEN_FILES)),
                });
                local
            }
            StorageLocation::Memory => Arc::new(InMemory::new()),
            StorageLocation::S3 { bucket, prefix } => {
                let settings = &options.s3;
                let mut builder = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_virtual_hosted_style_request(settings.virtual_hosted)
                    .with_retry(options.retry())
                    .with_client_options(options.client());
                if let Some(endpoint) = &settings.endpoint {
                    builder = builder
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_endpoint(endpoint);
                }
                if let Some(region) = &settings.region {
                    builder = builder.with_region(region);
                }
                if let Some(key) = &settings.access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &settings.secret_access_key {
                    builder = builder.with_secret_access_key(secret);
                }
                let s3 = builder.build()?;
                with_prefix(s3, prefix)
            }
            StorageLocation::Gcs { bucket, prefix } => {
                let gcs = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(bucket)
                    .with_retry(options.retry())
                    .with_client_options(options.client())
                    .build()?;
                with_prefix(gcs, prefix)
            }
            StorageLocation::Azure { container, prefix } => {
                let azure = object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_container_name(container)
                    .with_retry(options.retry())
                    .with_client_options(options.client())
                    .build()?;
                with_prefix(azure, prefix)
            }
        };
        Ok(Self { store, folder })
    }

    /// Opens a customer's bucket with the credentials given, and nothing else: the builder
    /// starts empty (no `AWS_*` variables), and static credentials leave object_store no
    /// reason to ask an instance-metadata or container-credentials endpoint.
    pub fn open_s3_origin(access: S3OriginAccess) -> Result<Self> {
        if access.access_key_id.is_empty() || access.secret_access_key.is_empty() {
            return Err(Error::invalid(
                "S3 origins need an access key id and a secret",
            ));
        }
        let region = if access.region.is_empty() {
            "us-east-1".to_owned()
        } else {
            access.region
        };
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(access.bucket)
            .with_access_key_id(access.access_key_id)
            .with_secret_access_key(access.secret_access_key)
            .with_region(region)
            .with_skip_signature(false)
            .with_virtual_hosted_style_request(false)
            .with_http_connector(GivenClient(access.http))
            .with_retry(object_store::RetryConfig {
                max_retries: 2,
                retry_timeout: std::time::Duration::from_secs(30),
                ..Default::default()
            });
        if let Some(endpoint) = access.endpoint {
            builder = builder
                .with_allow_http(endpoint.starts_with("http://"))
                .with_endpoint(endpoint);
        }
        Ok(Self {
            store: Arc::new(builder.build()?),
            folder: None,
        })
    }

    fn path(key: &str) -> Result<ObjectPath> {
        if key.is_empty()
            || key.starts_with('/')
            || key
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..")
        {
            return Err(Error::invalid(format!(
                "object key {key:?} is not a clean relative path"
            )));
        }
        ObjectPath::parse(key)
            .map_err(|error| Error::invalid(format!("object key {key:?}: {error}")))
    }

    /// Writes an object whole, replacing any previous one.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.forget_open(key);
        self.store
            .put(&Self::path(key)?, PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// Writes an object from a file, a part at a time, so a large upload never sits in memory
    /// whole; the object appears only once every part is written.
    pub async fn put_file(&self, key: &str, file: std::fs::File) -> Result<()> {
        use tokio::io::AsyncReadExt;
        const PART: usize = 8 * 1024 * 1024;
        let upload = self.store.put_multipart(&Self::path(key)?).await?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
        let mut file = tokio::fs::File::from_std(file);
        let mut buffer = vec![0u8; 1024 * 1024];
        loop {
            let read = match file.read(&mut buffer).await {
                Ok(read) => read,
                Err(error) => {
                    let _ = writer.abort().await;
                    return Err(Error {
                        kind: ErrorKind::Backend,
                        message: format!("cannot read the file to store: {error}"),
                    });
                }
            };
            if read == 0 {
                break;
            }
            writer.wait_for_capacity(2).await?;
            writer.write(&buffer[..read]);
        }
        writer.finish().await?;
        self.forget_open(key);
        Ok(())
    }

    /// Reads an object whole.
    pub async fn get(&self, key: &str) -> Result<Bytes> {
        Ok(self.store.get(&Self::path(key)?).await?.bytes().await?)
    }

    /// Reads an object into a temporary file (gone once the file is closed) a chunk at a
    /// time, so a large object never sits in memory whole; with its length.
    pub async fn get_file(&self, key: &str) -> Result<(std::fs::File, u64)> {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        let local = |error: std::io::Error| Error {
            kind: ErrorKind::Backend,
            message: format!("cannot write the object to a temporary file: {error}"),
        };
        let mut stream = self.store.get(&Self::path(key)?).await?.into_stream();
        let mut file = tokio::fs::File::from_std(tempfile::tempfile().map_err(local)?);
        let mut length = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            length += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(local)?;
        }
        file.flush().await.map_err(local)?;
        Ok((file.into_std().await, length))
    }

    /// Reads bytes `range` of an object.
    pub async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes> {
        self.get_ranges(key, std::slice::from_ref(&range))
            .await?
            .pop()
            .ok_or_else(|| Error {
                kind: ErrorKind::Backend,
                message: "a range was not read".to_owned(),
            })
    }

    /// A key written or deleted here is no longer read through a file opened before.
    fn forget_open(&self, key: &str) {
        if let Some(folder) = &self.folder {
            folder.open_files.remove(key);
        }
    }

    /// `runs` of a folder store's object read on this thread, when they are small enough
    /// ([`INLINE_READ_BYTES`]); `None` for other stores and larger reads. A sealed object's
    /// file is kept open for the next read.
    #[cfg(unix)]
    fn read_inline(
        &self,
        key: &str,
        runs: &[Range<u64>],
        sealed: bool,
    ) -> Option<Result<Vec<Bytes>>> {
        use std::os::unix::fs::FileExt;
        let folder = self.folder.as_ref()?;
        let total: u64 = runs
            .iter()
            .map(|run| run.end.saturating_sub(run.start))
            .sum();
        if total > INLINE_READ_BYTES {
            return None;
        }
        let failed = |error: std::io::Error| Error {
            kind: match error.kind() {
                std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                _ => ErrorKind::Backend,
            },
            message: format!("cannot read {key}: {error}"),
        };
        let open_files = Some(&folder.open_files).filter(|_| sealed);
        let read = || {
            let file = match open_files.and_then(|files| files.get(key)) {
                Some(file) => file,
                None => {
                    let path = folder.store.path_to_filesystem(&Self::path(key)?)?;
                    let file = Arc::new(std::fs::File::open(path).map_err(failed)?);
                    if let Some(files) = open_files {
                        files.insert(key.to_owned(), file.clone());
                    }
                    file
                }
            };
            runs.iter()
                .map(|run| {
                    let mut bytes = vec![0; (run.end - run.start) as usize];
                    file.read_exact_at(&mut bytes, run.start).map_err(|error| {
                        if error.kind() == std::io::ErrorKind::UnexpectedEof {
                            Error {
                                kind: ErrorKind::Backend,
                                message: format!("{key} ends before byte {}", run.end),
                            }
                        } else {
                            failed(error)
                        }
                    })?;
                    Ok(Bytes::from(bytes))
                })
                .collect()
        };
        Some(read())
    }

    #[cfg(not(unix))]
    fn read_inline(&self, _: &str, _: &[Range<u64>], _: bool) -> Option<Result<Vec<Bytes>>> {
        None
    }

    /// Reads several byte ranges of one object, in the order given. Ranges that touch (the
    /// tiles of one pyramid row, say) are read as one range; a folder store reads them all
    /// with the file opened once, a remote one with one request per run of touching ranges,
    /// made together, and never bytes that were not asked for.
    pub async fn get_ranges(&self, key: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.read_ranges(key, ranges, false).await
    }

    /// [`BlobStore::get_ranges`] of an object that is written once and never replaced (the
    /// derivatives of one processing version, whose keys name the version): a folder store
    /// keeps the file open for the next read. A write or delete of the key through this store
    /// closes it; one made by another process goes unseen until the file falls out of the
    /// [`OPEN_FILES`] kept, so only sealed objects may be read this way.
    pub async fn get_sealed_ranges(&self, key: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.read_ranges(key, ranges, true).await
    }

    async fn read_ranges(
        &self,
        key: &str,
        ranges: &[Range<u64>],
        sealed: bool,
    ) -> Result<Vec<Bytes>> {
        let runs = touching_runs(ranges);
        if runs.is_empty() {
            Self::path(key)?;
            return Ok(ranges.iter().map(|_| Bytes::new()).collect());
        }
        let fetched: Vec<Bytes> = if let Some(read) = self.read_inline(key, &runs, sealed) {
            read?
        } else if self.folder.is_some() {
            self.store.get_ranges(&Self::path(key)?, &runs).await?
        } else {
            let path = Self::path(key)?;
            futures::future::try_join_all(
                runs.iter()
                    .map(|run| self.store.get_range(&path, run.clone())),
            )
            .await?
        };
        ranges
            .iter()
            .map(|range| {
                let run = runs
                    .iter()
                    .position(|run| run.start <= range.start && range.end <= run.end)
                    .ok_or_else(|| Error {
                        kind: ErrorKind::Backend,
                        message: "a range was not read".to_owned(),
                    })?;
                let offset = runs[run].start;
                let bytes = &fetched[run];
                let (start, end) = (
                    (range.start - offset) as usize,
                    (range.end - offset) as usize,
                );
                if end > bytes.len() {
                    return Err(Error {
                        kind: ErrorKind::Backend,
                        message: format!("{key} ends before byte {}", range.end),
                    });
                }
                Ok(bytes.slice(start..end))
            })
            .collect()
    }

    /// The size of an object in bytes.
    pub async fn size(&self, key: &str) -> Result<u64> {
        Ok(self.store.head(&Self::path(key)?).await?.size)
    }

    /// Deletes an object; deleting a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.forget_open(key);
        match self.store.delete(&Self::path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Whether the store answers with these credentials: one listing of a key nobody writes,
    /// which a missing bucket, a refused credential or an unreachable endpoint fails.
    pub async fn check(&self) -> Result<()> {
        let probe = ObjectPath::from("vitrine-readiness-probe");
        self.store.list_with_delimiter(Some(&probe)).await?;
        Ok(())
    }

    /// Every object of the store with when it was last written, in no particular order.
    pub async fn list_all(&self) -> Result<Vec<(String, std::time::SystemTime)>> {
        Ok(self
            .store
            .list(None)
            .map_ok(|meta| (meta.location.to_string(), meta.last_modified.into()))
            .try_collect()
            .await?)
    }

    /// Every key under a prefix (`a/b` lists `a/b/...`), sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let prefix = Self::path(prefix)?;
        let mut keys: Vec<String> = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await?;
        keys.sort();
        Ok(keys)
    }
}

/// The suite every backend must pass. Public behind `testsuite` so backends outside this crate
/// (an S3 test server, say) can run it too.
#[cfg(any(test, feature = "testsuite"))]
pub mod testsuite {
    use super::*;

    /// Runs every check against an empty store.
    pub async fn run(store: &BlobStore) {
        round_trips_whole_objects_and_ranges(store).await;
        missing_objects_are_not_found(store).await;
        lists_and_deletes_by_prefix(store).await;
        refuses_unclean_keys(store).await;
    }

    async fn round_trips_whole_objects_and_ranges(store: &BlobStore) {
        let bytes = Bytes::from_static(b"0123456789abcdef");
        store
            .put("acme/1/page/pyramid.tif", bytes.clone())
            .await
            .unwrap();
        assert_eq!(store.get("acme/1/page/pyramid.tif").await.unwrap(), bytes);
        let (mut file, length) = store.get_file("acme/1/page/pyramid.tif").await.unwrap();
        let mut copy = Vec::new();
        std::io::Seek::rewind(&mut file).unwrap();
        std::io::Read::read_to_end(&mut file, &mut copy).unwrap();
        assert_eq!((length, &copy[..]), (16, &bytes[..]));
        assert_eq!(
            &store
                .get_range("acme/1/page/pyramid.tif", 4..8)
                .await
                .unwrap()[..],
            b"4567"
        );
        assert_eq!(store.size("acme/1/page/pyramid.tif").await.unwrap(), 16);
        // touching, overlapping, out of order, apart and empty: each comes back as asked
        let ranges = [8..12, 0..4, 4..8, 2..6, 14..16, 9..9];
        let read = store
            .get_ranges("acme/1/page/pyramid.tif", &ranges)
            .await
            .unwrap();
        let read: Vec<&[u8]> = read.iter().map(|bytes| &bytes[..]).collect();
        assert_eq!(read, [&b"89ab"[..], b"0123", b"4567", b"2345", b"ef", b""]);
        assert!(
            store
                .get_ranges("acme/1/page/pyramid.tif", &[0..4, 12..20])
                .await
                .is_err(),
            "a range past the end is an error, not short bytes"
        );
        assert!(
            store
                .get_range("acme/1/page/pyramid.tif", 12..20)
                .await
                .is_err(),
            "a range past the end is an error, not short bytes"
        );
        // a sealed object reads the same, and a write through the store is read at once
        let sealed = store
            .get_sealed_ranges("acme/1/page/pyramid.tif", &ranges)
            .await
            .unwrap();
        let sealed: Vec<&[u8]> = sealed.iter().map(|bytes| &bytes[..]).collect();
        assert_eq!(
            sealed,
            [&b"89ab"[..], b"0123", b"4567", b"2345", b"ef", b""]
        );
        assert!(
            store
                .get_sealed_ranges("acme/1/page/pyramid.tif", std::slice::from_ref(&(12..20)))
                .await
                .is_err()
        );
        store
            .put("acme/1/page/pyramid.tif", Bytes::from_static(b"ABCDEFGH"))
            .await
            .unwrap();
        assert_eq!(
            &store
                .get_sealed_ranges("acme/1/page/pyramid.tif", std::slice::from_ref(&(2..4)))
                .await
                .unwrap()[0][..],
            b"CD"
        );
        store.put("acme/1/page/pyramid.tif", bytes).await.unwrap();
        // a read larger than a folder store makes on the calling thread
        let large = Bytes::from(
            (0..3_000_000u32)
                .map(|i| (i % 253) as u8)
                .collect::<Vec<u8>>(),
        );
        store
            .put("acme/1/large/pyramid.tif", large.clone())
            .await
            .unwrap();
        let read = store
            .get_ranges(
                "acme/1/large/pyramid.tif",
                &[100..1_500_000, 1_500_000..2_999_999],
            )
            .await
            .unwrap();
        assert_eq!(read[0], large.slice(100..1_500_000));
        assert_eq!(read[1], large.slice(1_500_000..2_999_999));
        store.delete("acme/1/large/pyramid.tif").await.unwrap();
        store
            .put("acme/1/page/pyramid.tif", Bytes::from_static(b"new"))
            .await
            .unwrap();
        assert_eq!(
            &store.get("acme/1/page/pyramid.tif").await.unwrap()[..],
            b"new"
        );
    }

    async fn missing_objects_are_not_found(store: &BlobStore) {
        let error = store.get("acme/none").await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::NotFound);
        let error = store.get_file("acme/none").await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
        let error = store.get_range("acme/none", 0..4).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
        let error = store
            .get_ranges("acme/none", &[0..4, 4..8])
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
        store.delete("acme/none").await.unwrap();
    }

    async fn lists_and_deletes_by_prefix(store: &BlobStore) {
        store
            .put("list/a/1", Bytes::from_static(b"1"))
            .await
            .unwrap();
        store
            .put("list/a/2", Bytes::from_static(b"2"))
            .await
            .unwrap();
        store
            .put("list/b/1", Bytes::from_static(b"3"))
            .await
            .unwrap();
        assert_eq!(
            store.list("list/a").await.unwrap(),
            vec!["list/a/1", "list/a/2"]
        );
        store.delete("list/a/1").await.unwrap();
        assert_eq!(store.list("list/a").await.unwrap(), vec!["list/a/2"]);
    }

    async fn refuses_unclean_keys(store: &BlobStore) {
        for key in ["", "/abs", "a/../b", "a//b", "./a"] {
            let error = store.put(key, Bytes::from_static(b"x")).await.unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidLocation, "{key:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_store_passes_the_suite() {
        testsuite::run(&BlobStore::open(&StorageLocation::Memory).unwrap()).await;
    }

    #[tokio::test]
    async fn folder_store_passes_the_suite_and_writes_files() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("objects");
        let store = BlobStore::open(&StorageLocation::Folder(folder.clone())).unwrap();
        testsuite::run(&store).await;
        assert!(folder.join("acme/1/page/pyramid.tif").is_file());
    }

    /// The first three bytes of `key`, read as a sealed object or not.
    async fn first_three(store: &BlobStore, key: &str, sealed: bool) -> Result<Bytes> {
        let range = std::slice::from_ref(&(0..3));
        let mut read = if sealed {
            store.get_sealed_ranges(key, range).await?
        } else {
            store.get_ranges(key, range).await?
        };
        Ok(read.remove(0))
    }

    #[tokio::test]
    async fn folder_store_keeps_sealed_objects_open_until_written_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("objects");
        let store = BlobStore::open(&StorageLocation::Folder(folder.clone())).unwrap();
        let key = "acme/1/page/pyramid-v1.tif";
        let sealed = |store| first_three(store, key, true);
        store
            .put(key, Bytes::from_static(b"old bytes"))
            .await
            .unwrap();
        assert_eq!(&sealed(&store).await.unwrap()[..], b"old");
        // replaced behind the store's back, as no one replaces a sealed object: the file
        // opened for the first read is the one read, where an unsealed read opens it afresh
        std::fs::write(folder.join("replacement"), b"new bytes").unwrap();
        std::fs::rename(folder.join("replacement"), folder.join(key)).unwrap();
        assert_eq!(&sealed(&store).await.unwrap()[..], b"old");
        assert_eq!(&first_three(&store, key, false).await.unwrap()[..], b"new");
        // a write through the store closes it
        store
            .put(key, Bytes::from_static(b"put bytes"))
            .await
            .unwrap();
        assert_eq!(&sealed(&store).await.unwrap()[..], b"put");
        store.delete(key).await.unwrap();
        assert_eq!(sealed(&store).await.unwrap_err().kind, ErrorKind::NotFound);
        assert!(first_three(&store, "../escape", true).await.is_err());
    }

    #[test]
    fn parses_storage_urls() {
        assert_eq!(
            StorageLocation::parse("file:///srv/objects").unwrap(),
            StorageLocation::Folder("/srv/objects".into())
        );
        assert_eq!(
            StorageLocation::parse("memory://").unwrap(),
            StorageLocation::Memory
        );
        assert_eq!(
            StorageLocation::parse("s3://bucket/some/prefix/").unwrap(),
            StorageLocation::S3 {
                bucket: "bucket".into(),
                prefix: "some/prefix".into()
            }
        );
        assert_eq!(
            StorageLocation::parse("gs://bucket").unwrap(),
            StorageLocation::Gcs {
                bucket: "bucket".into(),
                prefix: "".into()
            }
        );
        assert_eq!(
            StorageLocation::parse("az://container/p").unwrap(),
            StorageLocation::Azure {
                container: "container".into(),
                prefix: "p".into()
            }
        );
        for bad in ["ftp://x", "s3:///nobucket", "not a url", "gs://", "az:///x"] {
            assert_eq!(
                StorageLocation::parse(bad).unwrap_err().kind,
                ErrorKind::InvalidLocation,
                "{bad}"
            );
        }
    }
}
