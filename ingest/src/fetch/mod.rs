//! Reading a master from its origin: http(s) with limits, `file://` under the import roots
//! (never into the server's own data), and `s3://` buckets with the customer's own credentials
//! (never the server's). `gs://` and `az://` origins are refused.
//!
//! - this file: the policy, the fetcher and the dispatch by scheme
//! - `addresses`: keeping http(s) origins, their redirects and S3 endpoints off private
//!   addresses
//! - `http`: http(s) origins, with limits, and checked with HEAD or a one-byte range
//! - `file`: `file://` origins under the import roots, never into the server's own data
//! - `s3`: `s3://` origins read with the customer's own S3 origin rule

mod addresses;
mod fetched;
mod file;
mod http;
mod s3;

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;

use crate::error::{Error, ErrorKind, Result};
use addresses::{PublicOnly, RedirectRefused, redirect_allowed};

pub use fetched::{Fetched, SPOOL_BYTES};
pub use file::resolve_existing;

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

/// Fetches masters under a policy.
#[derive(Debug, Clone)]
pub struct Fetcher {
    policy: OriginPolicy,
    http: reqwest::Client,
    /// Masters larger than this are kept in a file ([`SPOOL_BYTES`]; smaller in tests).
    spool_bytes: u64,
}

fn forbidden(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::OriginForbidden, message)
}

/// What a fetch is for: the master's bytes, or only whether it could be fetched now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Bytes,
    Presence,
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
        Ok(Self {
            policy,
            http,
            spool_bytes: SPOOL_BYTES,
        })
    }

    /// The master's bytes, in memory.
    pub async fn fetch(&self, origin: &str) -> Result<Bytes> {
        self.fetch_with(origin, None).await?.into_bytes()
    }

    /// The master, with the credentials of the customer's origin rule that matched: HTTP
    /// basic for an http(s) origin, an access key for an `s3://` one. One over
    /// [`SPOOL_BYTES`] from a `file://` or http(s) origin comes as a file.
    pub async fn fetch_with(
        &self,
        origin: &str,
        credentials: Option<&domain::OriginCredentials>,
    ) -> Result<Fetched> {
        self.obtain(origin, credentials, Want::Bytes)
            .await
            .map(|fetched| fetched.unwrap_or(Fetched::Bytes(Bytes::new())))
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
    ) -> Result<Option<Fetched>> {
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

    fn too_large(&self) -> Error {
        Error::new(
            ErrorKind::TooLarge,
            format!("the master is over {} bytes", self.policy.max_bytes),
        )
    }
}

fn unreadable_rule(rule: i64) -> Error {
    forbidden(format!(
        "the secret of origin rule {rule} cannot be read (it was sealed under another signing secret); create the rule again"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn fetcher(roots: Vec<PathBuf>, allow_private: bool) -> Fetcher {
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

    #[tokio::test]
    async fn gs_and_az_origins_are_refused_clearly() {
        for origin in ["gs://bucket/a.jpg", "az://container/a.jpg"] {
            let error = fetcher(vec![], false).fetch(origin).await.unwrap_err();
            assert_eq!(error.kind, ErrorKind::OriginForbidden, "{error}");
            assert!(error.message.contains("not supported"), "{error}");
        }
    }
}
