//! `s3://` origins: read only with the customer's own S3 origin rule (never the server's
//! credentials, environment or instance metadata), never from the server's own bucket, and
//! through an endpoint only on a public address.

use super::addresses::{is_private, literal_private};
use super::{Fetched, Fetcher, Want, forbidden, unreadable_rule};
use crate::error::{Error, ErrorKind, Result};

impl Fetcher {
    /// Reads an object with the customer's S3 rule only: never the server's credentials, its
    /// environment or an instance-metadata endpoint, never the server's own bucket, and an
    /// endpoint only on a public address (unless private origins are allowed).
    pub(super) async fn fetch_s3(
        &self,
        url: &url::Url,
        credentials: Option<&domain::OriginCredentials>,
        want: Want,
    ) -> Result<Option<Fetched>> {
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
            .map(|bytes| Some(Fetched::Bytes(bytes)))
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
    use super::super::tests::fetcher;
    use super::super::{Fetcher, OwnBucket};
    use crate::error::ErrorKind;

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
}
