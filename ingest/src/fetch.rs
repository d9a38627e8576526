//! Reading a master from its origin: http(s) with limits, `file://` under the import roots
//! (never into the server's own data), and `s3://` buckets with the customer's own credentials
//! (never the server's). `gs://` and `az://` origins are refused.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use crate::error::{Error, ErrorKind, Result};

/// Where masters may come from, and how much of them.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    /// Folders `file://` origins may read from (canonicalised).
    pub import_roots: Vec<PathBuf>,
    /// Folders and files of the server itself (data directory, storage folder, database,
    /// index) that no `file://` origin may resolve into, even under an import root.
    pub protected_paths: Vec<PathBuf>,
    /// The server's own object storage bucket and prefix, refused as an `s3://` origin.
    pub own_buckets: Vec<OwnBucket>,
    /// Whether http(s) origins on loopback, private or link-local addresses are allowed.
    pub allow_private: bool,
    /// Largest master, in bytes.
    pub max_bytes: u64,
    /// Time allowed to connect, and for the whole transfer.
    pub connect_timeout: Duration,
    pub timeout: Duration,
}

/// A bucket and key prefix (empty: the whole bucket) of the server's own storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnBucket {
    pub bucket: String,
    pub prefix: String,
}

impl OwnBucket {
    /// Whether an object is in it. Bucket names compare without case, so that no spelling of
    /// the name gets past; a prefix matches whole path segments.
    fn holds(&self, bucket: &str, key: &str) -> bool {
        if !self.bucket.eq_ignore_ascii_case(bucket) {
            return false;
        }
        let prefix = self.prefix.trim_matches('/');
        prefix.is_empty()
            || key == prefix
            || key
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// A path with symbolic links and `..` resolved as far as it exists; the part that does not
/// exist yet is appended as written.
pub fn resolve_existing(path: &Path) -> PathBuf {
    resolve_within(path, 40)
}

/// [`resolve_existing`], following at most `links` symbolic links that point at paths that
/// do not exist (yet), such as a link to a data dir the server has still to create.
fn resolve_within(path: &Path, links: usize) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut resolved = PathBuf::new();
    for component in absolute.components() {
        match component {
            // what is resolved so far is a real path, so its parent is the real parent
            std::path::Component::ParentDir => {
                resolved.pop();
            }
            std::path::Component::CurDir => {}
            other => {
                resolved.push(other);
                if let Ok(real) = resolved.canonicalize() {
                    resolved = real;
                } else if let (Ok(target), Some(links)) =
                    (std::fs::read_link(&resolved), links.checked_sub(1))
                {
                    resolved.pop();
                    resolved = resolve_within(&resolved.join(target), links);
                }
            }
        }
    }
    resolved
}

/// Fetches masters under a policy.
#[derive(Debug, Clone)]
pub struct Fetcher {
    policy: OriginPolicy,
    http: reqwest::Client,
}

const MAX_REDIRECTS: usize = 5;

/// The error a connection attempt to a private address ends in; found again in the error chain
/// to tell a refusal from an unreachable origin.
#[derive(Debug)]
struct PrivateAddress(String);

impl std::fmt::Display for PrivateAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} resolves to a private address", self.0)
    }
}

impl std::error::Error for PrivateAddress {}

/// A redirect that is not followed, and why.
#[derive(Debug)]
struct RedirectRefused(String);

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the origin sent {}", self.0)
    }
}

impl std::error::Error for RedirectRefused {}

/// Resolves host names for the http client and refuses private addresses. Checking the
/// address the connection is actually made to (not an earlier lookup) defeats DNS rebinding,
/// and every redirect hop goes through it too.
#[derive(Debug)]
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addresses.iter().any(|address| is_private(address.ip())) {
                return Err(
                    Box::new(PrivateAddress(host)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether the `hop`-th redirect (from 1) may be followed: at most [`MAX_REDIRECTS`], http(s)
/// only, and none to a private IP literal (names are checked when they are resolved).
fn redirect_allowed(url: &url::Url, hop: usize, allow_private: bool) -> Result<(), String> {
    if hop > MAX_REDIRECTS {
        return Err(format!("more than {MAX_REDIRECTS} redirects"));
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("a redirect to a {} URL", url.scheme()));
    }
    if !allow_private && literal_private(url) {
        return Err(format!("a redirect to the private address {url}"));
    }
    Ok(())
}

/// Whether a URL's host is an IP literal in a private range.
fn literal_private(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(v4)) => is_private(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => is_private(IpAddr::V6(v6)),
        _ => false,
    }
}

/// Whether a request error came from a refused address or redirect, and why.
fn refused(error: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(private) = current.downcast_ref::<PrivateAddress>() {
            return Some(format!("{private}; private origins are not allowed"));
        }
        if let Some(redirect) = current.downcast_ref::<RedirectRefused>() {
            return Some(redirect.to_string());
        }
        source = current.source();
    }
    None
}

fn forbidden(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::OriginForbidden, message)
}

/// Whether an address is one a public origin must not resolve to.
fn is_private(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0 // "this network", 0.0.0.0/8
                || a >= 240 // reserved
                || a == 100 && (64..128).contains(&b) // carrier-grade NAT
                || a == 198 && (18..20).contains(&b) // benchmarking
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            let segments = v6.segments();
            // an IPv4 address carried inside: mapped, compatible, NAT64 or 6to4
            let embedded = |high: u16, low: u16| {
                let [a, b] = high.to_be_bytes();
                let [c, d] = low.to_be_bytes();
                is_private(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)))
            };
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private(IpAddr::V4(v4)))
                || segments[..6] == [0; 6] && embedded(segments[6], segments[7])
                || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && embedded(segments[6], segments[7])
                || first == 0x2002 && embedded(segments[1], segments[2])
        }
    }
}

/// What a fetch is for: the master's bytes, or only whether it could be fetched now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Bytes,
    Presence,
}

/// The master's length as the answer declares it: its Content-Length, or for a range (206) the
/// whole length its Content-Range gives. Read from the headers, which a HEAD answer has too.
fn declared_length(response: &reqwest::Response) -> Option<u64> {
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|value: &reqwest::header::HeaderValue| value.to_str().ok())
    };
    if response.status() == reqwest::StatusCode::PARTIAL_CONTENT {
        let range = header(reqwest::header::CONTENT_RANGE)?;
        return range.rsplit_once('/')?.1.trim().parse().ok();
    }
    header(reqwest::header::CONTENT_LENGTH)?.trim().parse().ok()
}

/// The request made of an http(s) origin: the master, or (to check it is there) a HEAD, or
/// the first byte when the server does not answer HEAD.
#[derive(Debug, Clone, Copy)]
enum HttpAsk {
    Get,
    Head,
    FirstByte,
}

impl Fetcher {
    pub fn new(policy: OriginPolicy) -> Result<Self> {
        let allow_private = policy.allow_private;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            // previous() lists the URLs requested so far, the first included: this is hop n
            match redirect_allowed(attempt.url(), attempt.previous().len(), allow_private) {
                Ok(()) => attempt.follow(),
                Err(reason) => attempt.error(RedirectRefused(reason)),
            }
        });
        let mut builder = reqwest::Client::builder()
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.timeout)
            .redirect(redirects)
            // a proxy from the environment would resolve names itself, past the address check
            .no_proxy()
            .user_agent(concat!("vitrine/", env!("CARGO_PKG_VERSION")));
        if !policy.allow_private {
            builder = builder.dns_resolver(std::sync::Arc::new(PublicOnly));
        }
        let http = builder.build().map_err(|error| {
            Error::new(
                ErrorKind::Internal,
                format!("cannot build the http client: {error}"),
            )
        })?;
        let mut policy = policy;
        policy.import_roots = policy
            .import_roots
            .iter()
            .filter_map(|root| root.canonicalize().ok())
            .collect();
        policy.protected_paths = policy
            .protected_paths
            .iter()
            .map(|path| resolve_existing(path))
            .collect();
        Ok(Self { policy, http })
    }

    /// The master's bytes.
    pub async fn fetch(&self, origin: &str) -> Result<Bytes> {
        self.fetch_with(origin, None).await
    }

    /// The master's bytes, with the credentials of the customer's origin rule that matched:
    /// HTTP basic for an http(s) origin, an access key for an `s3://` one.
    pub async fn fetch_with(
        &self,
        origin: &str,
        credentials: Option<&domain::OriginCredentials>,
    ) -> Result<Bytes> {
        self.obtain(origin, credentials, Want::Bytes)
            .await
            .map(Option::unwrap_or_default)
    }

    /// Whether the master could be fetched now, without reading it: a file that exists
    /// under an import root, an http(s) origin answering HEAD (or a one-byte range), an S3
    /// object present; with the same policy, refusals and size limit as [`Self::fetch_with`].
    pub async fn check_with(
        &self,
        origin: &str,
        credentials: Option<&domain::OriginCredentials>,
    ) -> Result<()> {
        self.obtain(origin, credentials, Want::Presence)
            .await
            .map(|_| ())
    }

    async fn obtain(
        &self,
        origin: &str,
        credentials: Option<&domain::OriginCredentials>,
        want: Want,
    ) -> Result<Option<Bytes>> {
        let url = url::Url::parse(origin)
            .map_err(|error| forbidden(format!("origin is not a URL: {error}")))?;
        match url.scheme() {
            "http" | "https" => self.fetch_http(url, credentials, want).await,
            "file" => self.fetch_file(&url, want).await,
            "s3" => self.fetch_s3(&url, credentials, want).await,
            "gs" | "az" => Err(forbidden(format!(
                "{}:// origins are not supported; serve the master over https (with an origin rule for its credentials) or from s3:// with an S3 origin rule",
                url.scheme()
            ))),
            other => Err(forbidden(format!(
                "origins of scheme {other:?} are not fetched"
            ))),
        }
    }

    async fn fetch_http(
        &self,
        url: url::Url,
        credentials: Option<&domain::OriginCredentials>,
        want: Want,
    ) -> Result<Option<Bytes>> {
        if url.host_str().is_none_or(str::is_empty) {
            return Err(forbidden("origin has no host"));
        }
        if !self.policy.allow_private && literal_private(&url) {
            return Err(forbidden(format!(
                "{url} is a private address; private origins are not allowed"
            )));
        }
        let first = match want {
            Want::Bytes => HttpAsk::Get,
            Want::Presence => HttpAsk::Head,
        };
        let mut response = self.send_http(&url, credentials, first).await?;
        if want == Want::Presence && matches!(response.status().as_u16(), 405 | 501) {
            // a server without HEAD: ask for the first byte instead
            response = self
                .send_http(&url, credentials, HttpAsk::FirstByte)
                .await?;
        }
        let status = response.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(Error::new(
                ErrorKind::OriginUnavailable,
                format!("origin answered {status}"),
            ));
        }
        if !status.is_success() {
            return Err(Error::new(
                ErrorKind::OriginRefused,
                format!("origin answered {status}"),
            ));
        }
        if declared_length(&response).is_some_and(|length| length > self.policy.max_bytes) {
            return Err(self.too_large());
        }
        if want == Want::Presence {
            return Ok(None);
        }
        let mut body = BytesMut::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|error| {
                Error::new(
                    ErrorKind::OriginUnavailable,
                    format!("transfer failed: {error}"),
                )
            })?;
            if body.len() as u64 + chunk.len() as u64 > self.policy.max_bytes {
                return Err(self.too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body.freeze()))
    }

    /// One request to an http(s) origin, with the rule's credentials.
    async fn send_http(
        &self,
        url: &url::Url,
        credentials: Option<&domain::OriginCredentials>,
        ask: HttpAsk,
    ) -> Result<reqwest::Response> {
        let mut request = match ask {
            HttpAsk::Get => self.http.get(url.clone()),
            HttpAsk::Head => self.http.head(url.clone()),
            HttpAsk::FirstByte => self
                .http
                .get(url.clone())
                .header(reqwest::header::RANGE, "bytes=0-0"),
        };
        match credentials {
            Some(domain::OriginCredentials::Basic { username, password }) => {
                // reqwest drops the header when a redirect leaves the host
                request = request.basic_auth(username, Some(password));
            }
            Some(domain::OriginCredentials::Unreadable { rule }) => {
                return Err(unreadable_rule(*rule));
            }
            Some(domain::OriginCredentials::S3(_)) | None => {}
        }
        request.send().await.map_err(|error| match refused(&error) {
            Some(reason) => forbidden(reason),
            None => Error::new(
                ErrorKind::OriginUnavailable,
                format!("cannot fetch {url}: {error}"),
            ),
        })
    }

    fn too_large(&self) -> Error {
        Error::new(
            ErrorKind::TooLarge,
            format!("the master is over {} bytes", self.policy.max_bytes),
        )
    }

    async fn fetch_file(&self, url: &url::Url, want: Want) -> Result<Option<Bytes>> {
        let path = url
            .to_file_path()
            .map_err(|_| forbidden("file origin is not an absolute local path"))?;
        // canonicalising resolves `..` and symbolic links before the root check
        let path = tokio::fs::canonicalize(&path).await.map_err(|error| {
            Error::new(
                ErrorKind::OriginRefused,
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        if self
            .policy
            .protected_paths
            .iter()
            .any(|protected| path.starts_with(protected))
        {
            return Err(forbidden(
                "the file origin resolves into the server's own data directory or storage, which is never an origin",
            ));
        }
        if !self
            .policy
            .import_roots
            .iter()
            .any(|root| path.starts_with(root))
        {
            return Err(forbidden(format!(
                "{} is not under an import root",
                path.display()
            )));
        }
        let metadata = tokio::fs::metadata(&path).await.map_err(|error| {
            Error::new(
                ErrorKind::OriginRefused,
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        if !metadata.is_file() {
            return Err(Error::new(
                ErrorKind::OriginRefused,
                format!("{} is not a file", path.display()),
            ));
        }
        if metadata.len() > self.policy.max_bytes {
            return Err(self.too_large());
        }
        if want == Want::Presence {
            return Ok(None);
        }
        let bytes = tokio::fs::read(&path).await.map_err(|error| {
            Error::new(
                ErrorKind::OriginRefused,
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        Ok(Some(Bytes::from(bytes)))
    }

    /// Reads an object with the customer's S3 rule only: never the server's credentials, its
    /// environment or an instance-metadata endpoint, never the server's own bucket, and an
    /// endpoint only on a public address (unless private origins are allowed).
    async fn fetch_s3(
        &self,
        url: &url::Url,
        credentials: Option<&domain::OriginCredentials>,
        want: Want,
    ) -> Result<Option<Bytes>> {
        let bucket = url
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| forbidden("s3 origin names no bucket"))?;
        let key = url.path().trim_start_matches('/');
        if key.is_empty() {
            return Err(forbidden("s3 origin names no object"));
        }
        if self
            .policy
            .own_buckets
            .iter()
            .any(|own| own.holds(bucket, key))
        {
            return Err(forbidden(format!(
                "s3://{bucket}/{key} is in this server's own storage, which is never an origin"
            )));
        }
        let s3 = match credentials {
            Some(domain::OriginCredentials::S3(s3)) => s3,
            Some(domain::OriginCredentials::Unreadable { rule }) => {
                return Err(unreadable_rule(*rule));
            }
            _ => {
                return Err(forbidden(format!(
                    "no S3 origin rule of this customer matches {url}; s3:// origins are read only with the customer's own access key (createOriginRule with strategy S3)"
                )));
            }
        };
        if let Some(endpoint) = &s3.endpoint {
            self.check_endpoint(s3.rule, endpoint).await?;
        }
        let store = storage::BlobStore::open_s3_origin(storage::S3OriginAccess {
            bucket: bucket.to_owned(),
            access_key_id: s3.access_key_id.clone(),
            secret_access_key: s3.secret_access_key.clone(),
            region: s3.region.clone(),
            endpoint: s3.endpoint.clone(),
            http: self.http.clone(),
        })
        .map_err(|error| {
            forbidden(format!(
                "origin rule {} cannot be used for {url}: {error}",
                s3.rule
            ))
        })?;
        let size = store
            .size(key)
            .await
            .map_err(|error| s3_error(url, s3.rule, error))?;
        if size > self.policy.max_bytes {
            return Err(self.too_large());
        }
        if want == Want::Presence {
            return Ok(None);
        }
        store
            .get(key)
            .await
            .map(Some)
            .map_err(|error| s3_error(url, s3.rule, error))
    }

    /// Refuses an S3 endpoint on a private address, as http(s) origins are refused; the
    /// connection itself goes through the same address check, so a name that changes its
    /// answer later is refused too.
    async fn check_endpoint(&self, rule: i64, endpoint: &str) -> Result<()> {
        if self.policy.allow_private {
            return Ok(());
        }
        let private = || {
            forbidden(format!(
                "the endpoint of origin rule {rule} is a private address; private origins are not allowed"
            ))
        };
        let endpoint = url::Url::parse(endpoint)
            .map_err(|_| forbidden(format!("origin rule {rule} has an invalid endpoint")))?;
        if literal_private(&endpoint) {
            return Err(private());
        }
        let host = endpoint
            .host_str()
            .ok_or_else(|| forbidden(format!("origin rule {rule} has an invalid endpoint")))?;
        let port = endpoint.port_or_known_default().unwrap_or(443);
        let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::OriginUnavailable,
                    format!("the endpoint of origin rule {rule} does not resolve"),
                )
            })?
            .collect();
        if addresses.iter().any(|address| is_private(address.ip())) {
            return Err(private());
        }
        Ok(())
    }
}

fn unreadable_rule(rule: i64) -> Error {
    forbidden(format!(
        "the secret of origin rule {rule} cannot be read (it was sealed under another signing secret); create the rule again"
    ))
}

/// What a customer is told when their bucket fails: the kind of failure and their own URL,
/// never the endpoint or the store's own words (they may name internal hosts); those go to
/// the log.
fn s3_error(url: &url::Url, rule: i64, error: storage::Error) -> Error {
    match error.kind {
        storage::ErrorKind::NotFound => {
            Error::new(ErrorKind::OriginRefused, format!("no object {url}"))
        }
        storage::ErrorKind::Denied => Error::new(
            ErrorKind::OriginRefused,
            format!("the store refused the access key of origin rule {rule} for {url}"),
        ),
        storage::ErrorKind::InvalidLocation => {
            forbidden(format!("{url} does not name a valid object key"))
        }
        storage::ErrorKind::Backend => {
            tracing::warn!(origin = %url, rule, %error, "s3 origin failed");
            Error::new(
                ErrorKind::OriginUnavailable,
                format!("the store of origin rule {rule} could not be reached or failed for {url}"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetcher(roots: Vec<PathBuf>, allow_private: bool) -> Fetcher {
        Fetcher::new(OriginPolicy {
            import_roots: roots,
            protected_paths: vec![],
            own_buckets: vec![],
            allow_private,
            max_bytes: 1000,
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
        })
        .unwrap()
    }

    #[test]
    fn private_addresses_are_recognised() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.1.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "240.0.0.1",
            "224.0.0.1",
            "198.18.0.1",
            "::7f00:1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "ff02::1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in [
            "8.8.8.8",
            "2001:4860::8888",
            "100.128.0.1",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }

    /// A loopback http origin: `/here.jpg` (10 bytes), `/big.jpg` (declares 5000), `/nohead.jpg`
    /// (405 to HEAD, 206 to a range), anything else 404. Returns its base URL and the request
    /// lines it was sent.
    async fn origin_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let log = log.clone();
                tokio::spawn(async move {
                    let mut head = vec![0u8; 4096];
                    let read = socket.read(&mut head).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&head[..read]).to_string();
                    let line = head.lines().next().unwrap_or_default().to_owned();
                    let ranged = head.to_ascii_lowercase().contains("range: bytes=0-0");
                    log.lock()
                        .unwrap()
                        .push(format!("{line}{}", if ranged { " (range)" } else { "" }));
                    let answer = match line.split(' ').take(2).collect::<Vec<_>>()[..] {
                        [_, "/here.jpg"] => {
                            "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789"
                        }
                        [_, "/big.jpg"] => "HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n",
                        ["HEAD", "/nohead.jpg"] => {
                            "HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n"
                        }
                        ["GET", "/nohead.jpg"] => {
                            "HTTP/1.1 206 Partial Content\r\ncontent-range: bytes 0-0/400\r\ncontent-length: 1\r\n\r\nx"
                        }
                        _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
                    };
                    // a HEAD answer carries no body, whatever its content-length says
                    let answer = if line.starts_with("HEAD") {
                        answer.split_inclusive("\r\n\r\n").next().unwrap_or(answer)
                    } else {
                        answer
                    };
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        (base, seen)
    }

    #[tokio::test]
    async fn origins_are_checked_without_reading_them() {
        let (base, seen) = origin_server().await;
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("a.jpg"), b"inside").unwrap();
        std::fs::write(root.path().join("big.jpg"), vec![0u8; 2000]).unwrap();
        let open = fetcher(vec![root.path().to_path_buf()], true);
        let file = |name: &str| {
            url::Url::from_file_path(root.path().join(name))
                .unwrap()
                .to_string()
        };

        open.check_with(&file("a.jpg"), None).await.unwrap();
        let missing = open.check_with(&file("none.jpg"), None).await.unwrap_err();
        assert_eq!(missing.kind, ErrorKind::OriginRefused);
        assert_eq!(
            open.check_with(&file("big.jpg"), None)
                .await
                .unwrap_err()
                .kind,
            ErrorKind::TooLarge
        );
        let outside = open
            .check_with("file:///etc/hostname", None)
            .await
            .unwrap_err();
        assert_eq!(outside.kind, ErrorKind::OriginForbidden);

        open.check_with(&format!("{base}/here.jpg"), None)
            .await
            .unwrap();
        let gone = open
            .check_with(&format!("{base}/gone.jpg"), None)
            .await
            .unwrap_err();
        assert_eq!(
            (gone.kind, gone.message.as_str()),
            (ErrorKind::OriginRefused, "origin answered 404 Not Found")
        );
        assert_eq!(
            open.check_with(&format!("{base}/big.jpg"), None)
                .await
                .unwrap_err()
                .kind,
            ErrorKind::TooLarge
        );
        // a server refusing HEAD is asked for one byte, whose 206 says it is there and how big
        open.check_with(&format!("{base}/nohead.jpg"), None)
            .await
            .unwrap();
        let small = fetcher(vec![], true);
        let mut small_policy = small.policy.clone();
        small_policy.max_bytes = 100;
        let small = Fetcher::new(small_policy).unwrap();
        assert_eq!(
            small
                .check_with(&format!("{base}/nohead.jpg"), None)
                .await
                .unwrap_err()
                .kind,
            ErrorKind::TooLarge
        );
        let requests = seen.lock().unwrap().clone();
        assert!(
            requests
                .iter()
                .all(|request| request.starts_with("HEAD ") || request.ends_with("(range)")),
            "a check never downloads a master: {requests:?}"
        );
        assert!(
            requests.contains(&"GET /nohead.jpg HTTP/1.1 (range)".to_owned()),
            "{requests:?}"
        );

        // the same policy as fetching: a private address stays refused when not allowed
        let closed = fetcher(vec![root.path().to_path_buf()], false);
        let private = closed
            .check_with(&format!("{base}/here.jpg"), None)
            .await
            .unwrap_err();
        assert_eq!(private.kind, ErrorKind::OriginForbidden);
    }

    #[tokio::test]
    async fn file_origins_only_under_import_roots() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("a.jpg"), b"inside").unwrap();
        std::fs::write(outside.path().join("b.jpg"), b"outside").unwrap();
        std::fs::write(root.path().join("big.jpg"), vec![0u8; 2000]).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path().join("b.jpg"), root.path().join("escape.jpg"))
            .unwrap();
        let fetcher = fetcher(vec![root.path().to_path_buf()], false);
        let url = |path: &std::path::Path| url::Url::from_file_path(path).unwrap().to_string();
        assert_eq!(
            &fetcher
                .fetch(&url(&root.path().join("a.jpg")))
                .await
                .unwrap()[..],
            b"inside"
        );
        let outside_error = fetcher
            .fetch(&url(&outside.path().join("b.jpg")))
            .await
            .unwrap_err();
        assert_eq!(outside_error.kind, ErrorKind::OriginForbidden);
        let dotted = format!(
            "{}/../{}/b.jpg",
            url(root.path()),
            outside.path().file_name().unwrap().to_string_lossy()
        );
        assert_eq!(
            fetcher.fetch(&dotted).await.unwrap_err().kind,
            ErrorKind::OriginForbidden
        );
        #[cfg(unix)]
        assert_eq!(
            fetcher
                .fetch(&url(&root.path().join("escape.jpg")))
                .await
                .unwrap_err()
                .kind,
            ErrorKind::OriginForbidden
        );
        assert_eq!(
            fetcher
                .fetch(&url(&root.path().join("big.jpg")))
                .await
                .unwrap_err()
                .kind,
            ErrorKind::TooLarge
        );
        assert_eq!(
            fetcher
                .fetch(&url(&root.path().join("none.jpg")))
                .await
                .unwrap_err()
                .kind,
            ErrorKind::OriginRefused
        );
    }

    #[test]
    fn redirects_are_checked_hop_by_hop() {
        let url = |text: &str| url::Url::parse(text).unwrap();
        assert!(redirect_allowed(&url("https://example.org/a"), 1, false).is_ok());
        assert!(redirect_allowed(&url("https://example.org/a"), 5, false).is_ok());
        assert!(redirect_allowed(&url("https://example.org/a"), 6, false).is_err());
        assert!(redirect_allowed(&url("http://10.0.0.8/a"), 1, false).is_err());
        assert!(redirect_allowed(&url("http://[::1]/a"), 1, false).is_err());
        assert!(redirect_allowed(&url("http://10.0.0.8/a"), 1, true).is_ok());
        assert!(redirect_allowed(&url("file:///etc/passwd"), 1, true).is_err());
    }

    #[tokio::test]
    async fn names_that_resolve_to_private_addresses_are_refused_when_connecting() {
        let error = fetcher(vec![], false)
            .fetch("http://localhost:9/x.jpg")
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::OriginForbidden, "{error}");
    }

    #[tokio::test]
    async fn loopback_http_is_refused_unless_allowed() {
        let error = fetcher(vec![], false)
            .fetch("http://127.0.0.1:9/x.jpg")
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::OriginForbidden);
        let error = fetcher(vec![], true)
            .fetch("http://127.0.0.1:9/x.jpg")
            .await
            .unwrap_err();
        assert_eq!(
            error.kind,
            ErrorKind::OriginUnavailable,
            "allowed, but nothing listens on port 9"
        );
    }

    fn s3_rule(endpoint: Option<&str>) -> domain::OriginCredentials {
        domain::OriginCredentials::S3(domain::S3Credentials {
            rule: 3,
            access_key_id: "AKIACUSTOMER".into(),
            secret_access_key: "customer-secret".into(),
            region: String::new(),
            endpoint: endpoint.map(str::to_owned),
        })
    }

    #[tokio::test]
    async fn s3_origins_need_the_customers_own_rule() {
        // with no rule there is no request at all: no server credentials, no metadata endpoint
        let error = fetcher(vec![], false)
            .fetch("s3://any-bucket/masters/a.jpg")
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::OriginForbidden, "{error}");
        assert!(error.message.contains("no S3 origin rule"), "{error}");
        assert!(!error.message.contains("169.254"), "{error}");
        let basic = domain::OriginCredentials::Basic {
            username: "user".into(),
            password: "password".into(),
        };
        let error = fetcher(vec![], false)
            .fetch_with("s3://any-bucket/a.jpg", Some(&basic))
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::OriginForbidden, "{error}");
        let unreadable = domain::OriginCredentials::Unreadable { rule: 9 };
        let error = fetcher(vec![], false)
            .fetch_with("s3://any-bucket/a.jpg", Some(&unreadable))
            .await
            .unwrap_err();
        assert!(error.message.contains("origin rule 9"), "{error}");
    }

    #[tokio::test]
    async fn the_servers_own_bucket_is_never_an_origin() {
        let mut policy = fetcher(vec![], true).policy;
        policy.own_buckets = vec![OwnBucket {
            bucket: "vitrine-objects".into(),
            prefix: "prod".into(),
        }];
        let fetcher = Fetcher::new(policy).unwrap();
        let rule = s3_rule(Some("http://127.0.0.1:9"));
        for origin in [
            "s3://vitrine-objects/prod/1/1/secret/master",
            "s3://VITRINE-OBJECTS/prod/1/1/secret/master",
            "s3://vitrine-objects/prod",
        ] {
            let error = fetcher.fetch_with(origin, Some(&rule)).await.unwrap_err();
            assert_eq!(error.kind, ErrorKind::OriginForbidden, "{origin}: {error}");
            assert!(error.message.contains("own storage"), "{error}");
        }
        // outside the prefix the rule is used (and nothing listens on port 9)
        let error = fetcher
            .fetch_with("s3://vitrine-objects/production/a.jpg", Some(&rule))
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::OriginUnavailable, "{error}");
        assert!(!error.message.contains("127.0.0.1"), "{error}");
    }

    #[tokio::test]
    async fn s3_endpoints_on_private_addresses_are_refused() {
        for endpoint in [
            "http://169.254.169.254",
            "http://127.0.0.1:9000",
            "http://[::1]:9000",
            "http://localhost:9000",
            "http://10.0.0.8",
        ] {
            let error = fetcher(vec![], false)
                .fetch_with("s3://bucket/a.jpg", Some(&s3_rule(Some(endpoint))))
                .await
                .unwrap_err();
            assert_eq!(
                error.kind,
                ErrorKind::OriginForbidden,
                "{endpoint}: {error}"
            );
            assert!(error.message.contains("private address"), "{error}");
            assert!(!error.message.contains(endpoint), "{error}");
        }
    }

    #[tokio::test]
    async fn gs_and_az_origins_are_refused_clearly() {
        for origin in ["gs://bucket/a.jpg", "az://container/a.jpg"] {
            let error = fetcher(vec![], false).fetch(origin).await.unwrap_err();
            assert_eq!(error.kind, ErrorKind::OriginForbidden, "{error}");
            assert!(error.message.contains("not supported"), "{error}");
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn file_origins_never_resolve_into_the_servers_data() {
        let sandbox = tempfile::tempdir().unwrap();
        let root = sandbox.path().join("masters");
        let data = sandbox.path().join("data");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("jwt-secret"), b"secret").unwrap();
        std::os::unix::fs::symlink(&data, root.join("data")).unwrap();
        std::os::unix::fs::symlink(data.join("jwt-secret"), root.join("key.jpg")).unwrap();
        // even an import root that (wrongly) holds the data directory reads nothing from it
        let mut policy = fetcher(vec![root.clone(), sandbox.path().to_path_buf()], false).policy;
        policy.protected_paths = vec![data.clone()];
        let fetcher = Fetcher::new(policy).unwrap();
        let url = |path: &std::path::Path| url::Url::from_file_path(path).unwrap().to_string();
        for path in [
            root.join("data/jwt-secret"),
            root.join("key.jpg"),
            data.join("jwt-secret"),
        ] {
            let error = fetcher.fetch(&url(&path)).await.unwrap_err();
            assert_eq!(error.kind, ErrorKind::OriginForbidden, "{}", path.display());
            assert!(error.message.contains("own data"), "{error}");
        }
    }

    #[test]
    fn paths_resolve_through_links_as_far_as_they_exist() {
        let sandbox = tempfile::tempdir().unwrap();
        let real = sandbox.path().canonicalize().unwrap();
        assert_eq!(
            resolve_existing(&sandbox.path().join("a/../b/c")),
            real.join("b/c")
        );
        #[cfg(unix)]
        {
            std::fs::create_dir(real.join("target")).unwrap();
            std::os::unix::fs::symlink(real.join("target"), real.join("link")).unwrap();
            assert_eq!(
                resolve_existing(&real.join("link/new")),
                real.join("target/new")
            );
            std::os::unix::fs::symlink(real.join("later"), real.join("dangling")).unwrap();
            assert_eq!(
                resolve_existing(&real.join("dangling/new")),
                real.join("later/new")
            );
        }
    }
}
