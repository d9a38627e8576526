//! Reading a master from its origin: http(s) with limits, `file://` under the import roots,
//! and object stores (`s3://`, `gs://`, `az://`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use crate::error::{Error, ErrorKind, Result};

/// Where masters may come from, and how much of them.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    /// Folders `file://` origins may read from (canonicalised).
    pub import_roots: Vec<PathBuf>,
    /// Whether http(s) origins on loopback, private or link-local addresses are allowed.
    pub allow_private: bool,
    /// Largest master, in bytes.
    pub max_bytes: u64,
    /// Time allowed to connect, and for the whole transfer.
    pub connect_timeout: Duration,
    pub timeout: Duration,
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
        Ok(Self { policy, http })
    }

    /// The master's bytes.
    pub async fn fetch(&self, origin: &str) -> Result<Bytes> {
        self.fetch_with(origin, None).await
    }

    /// The master's bytes, sending HTTP basic credentials to an http(s) origin.
    pub async fn fetch_with(
        &self,
        origin: &str,
        credentials: Option<&domain::OriginCredentials>,
    ) -> Result<Bytes> {
        let url = url::Url::parse(origin)
            .map_err(|error| forbidden(format!("origin is not a URL: {error}")))?;
        match url.scheme() {
            "http" | "https" => self.fetch_http(url, credentials).await,
            "file" => self.fetch_file(&url).await,
            "s3" | "gs" | "az" => self.fetch_object(&url).await,
            other => Err(forbidden(format!(
                "origins of scheme {other:?} are not fetched"
            ))),
        }
    }

    async fn fetch_http(
        &self,
        url: url::Url,
        credentials: Option<&domain::OriginCredentials>,
    ) -> Result<Bytes> {
        if url.host_str().is_none_or(str::is_empty) {
            return Err(forbidden("origin has no host"));
        }
        if !self.policy.allow_private && literal_private(&url) {
            return Err(forbidden(format!(
                "{url} is a private address; private origins are not allowed"
            )));
        }
        let mut request = self.http.get(url.clone());
        if let Some(credentials) = credentials {
            // reqwest drops the header when a redirect leaves the host
            request = request.basic_auth(&credentials.username, Some(&credentials.password));
        }
        let response = request
            .send()
            .await
            .map_err(|error| match refused(&error) {
                Some(reason) => forbidden(reason),
                None => Error::new(
                    ErrorKind::OriginUnavailable,
                    format!("cannot fetch {url}: {error}"),
                ),
            })?;
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
        if response
            .content_length()
            .is_some_and(|length| length > self.policy.max_bytes)
        {
            return Err(self.too_large());
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
        Ok(body.freeze())
    }

    fn too_large(&self) -> Error {
        Error::new(
            ErrorKind::TooLarge,
            format!("the master is over {} bytes", self.policy.max_bytes),
        )
    }

    async fn fetch_file(&self, url: &url::Url) -> Result<Bytes> {
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
        let bytes = tokio::fs::read(&path).await.map_err(|error| {
            Error::new(
                ErrorKind::OriginRefused,
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        Ok(Bytes::from(bytes))
    }

    async fn fetch_object(&self, url: &url::Url) -> Result<Bytes> {
        let bucket = url
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| forbidden("object origin names no bucket"))?;
        let key = url.path().trim_start_matches('/');
        let location = storage::StorageLocation::parse(&format!("{}://{bucket}", url.scheme()))?;
        let store = storage::BlobStore::open(&location)?;
        let size = store.size(key).await.map_err(|error| match error.kind {
            storage::ErrorKind::NotFound => {
                Error::new(ErrorKind::OriginRefused, format!("no object {url}"))
            }
            _ => Error::from(error),
        })?;
        if size > self.policy.max_bytes {
            return Err(self.too_large());
        }
        Ok(store.get(key).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetcher(roots: Vec<PathBuf>, allow_private: bool) -> Fetcher {
        Fetcher::new(OriginPolicy {
            import_roots: roots,
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
}
