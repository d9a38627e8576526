//! Deciding, per request, whether a visitor may see a restricted asset: the session cookie,
//! external services' trusted cookies and headers, the client's address, and the caches that
//! keep this cheap on tile traffic. Also the failure throttles of logins and API keys.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth::{AccessTokens, Decision, IpRanges, Requested, Throttle};
use domain::{AccessProfile, Asset, AuthService, SessionLookup};
use poem::http::{HeaderMap, header};
use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::RestError;

/// How long a session or a service list is reused before it is read again. A logout on this
/// node takes effect at once; on other nodes within this time.
const LOOKUP_TTL: Duration = Duration::from_secs(2);

/// The auth services that grant an asset's roles, each with the roles it grants.
pub type GrantingServices = Arc<Vec<(AuthService, Vec<String>)>>;

/// Access decisions for every request: shared behind an `Arc`.
pub struct VisitorAccess {
    pub tokens: AccessTokens,
    pub token_ttl: i64,
    trusted_proxies: IpRanges,
    /// Failed viewer logins, by client address and by account.
    pub login_failures: Throttle,
    /// Failed API-key checks, by client address and by key.
    pub key_failures: Throttle,
    services: Cache<(i32, Vec<String>), (Instant, GrantingServices)>,
    sessions: Cache<(i32, String), (Instant, Arc<SessionLookup>)>,
    /// Keys the tokens of access forms and logout links (see [`VisitorAccess::form_token`]).
    form_key: [u8; 32],
}

impl std::fmt::Debug for VisitorAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisitorAccess")
            .field("token_ttl", &self.token_ttl)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

/// The session cookie of a customer: one per customer, so tenants never share sessions.
pub fn session_cookie_name(customer: &str) -> String {
    format!("vitrine-auth-{customer}")
}

/// The value of a cookie in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// The refusal a decision makes: 401 when logging in could help, 403 when nothing can.
pub fn refusal(decision: Decision, what: &str) -> Option<RestError> {
    match decision {
        Decision::Allowed => None,
        Decision::LoginRequired => Some(RestError::new(
            "login-required",
            format!(
                "{what} is restricted: gain access through the auth service in its info.json or manifest"
            ),
        )),
        Decision::Forbidden => Some(RestError::new(
            "forbidden",
            format!("{what} is restricted and no access service grants it"),
        )),
    }
}

/// What an image request asks for, for the access decision.
pub fn requested_image(request: &iiif::image::ResolvedRequest) -> Requested {
    if request.is_full_region() {
        Requested::WholeImageAt(request.width.max(request.height))
    } else {
        Requested::Other
    }
}

impl VisitorAccess {
    pub fn new(config: &Config, signing_secret: &[u8]) -> Self {
        let window = Duration::from_secs(config.auth_failure_window_seconds);
        let max = config.auth_max_failures as usize;
        Self {
            tokens: AccessTokens::new(signing_secret),
            token_ttl: config.auth_token_ttl_seconds,
            trusted_proxies: config.auth_trusted_proxies.clone(),
            login_failures: Throttle::new(max, window),
            key_failures: Throttle::new(max, window),
            services: Cache::new(10_000),
            sessions: Cache::new(100_000),
            form_key: Sha256::new()
                .chain_update(b"vitrine form tokens\0")
                .chain_update(signing_secret)
                .finalize()
                .into(),
        }
    }

    /// The token an access form or a logout link must carry: a digest, keyed with a server
    /// secret, of what it is for (`purpose`), the form's nonce cookie, and the visitor's
    /// session cookie as it is when the page is served. Nothing a browser stores can forge
    /// it, and a token made for one session (or none) is refused with another.
    pub fn form_token(
        &self,
        customer_id: i32,
        purpose: &str,
        nonce: &str,
        session: Option<&str>,
    ) -> String {
        let session = session.map(auth::session_digest).unwrap_or_default();
        Sha256::new()
            .chain_update(self.form_key)
            .chain_update(customer_id.to_be_bytes())
            .chain_update(b"\0")
            .chain_update(purpose.as_bytes())
            .chain_update(b"\0")
            .chain_update(nonce.as_bytes())
            .chain_update(b"\0")
            .chain_update(session.as_bytes())
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Whether a connection comes from one of the trusted proxies.
    pub fn is_trusted_proxy(&self, peer: Option<IpAddr>) -> bool {
        peer.is_some_and(|peer| self.trusted_proxies.contains(peer))
    }

    /// The visitor's address (see [`auth::client_address`]).
    pub fn client_address(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok());
        peer.map(|peer| auth::client_address(peer, forwarded, &self.trusted_proxies))
    }

    /// The services that grant any of an asset's roles.
    pub async fn services(
        &self,
        domain: &domain::Domain,
        customer_id: i32,
        roles: &[String],
    ) -> Result<GrantingServices, RestError> {
        let key = (customer_id, roles.to_vec());
        if let Some((read, services)) = self.services.get(&key)
            && read.elapsed() < LOOKUP_TTL
        {
            return Ok(services);
        }
        let services = Arc::new(
            domain
                .services_granting(customer_id, roles)
                .await
                .map_err(RestError::unavailable)?,
        );
        self.services
            .insert(key, (Instant::now(), services.clone()));
        Ok(services)
    }

    /// The session the request's cookie names, if it carries one.
    pub async fn cookie_session(
        &self,
        domain: &domain::Domain,
        customer_id: i32,
        customer: &str,
        headers: &HeaderMap,
    ) -> Result<Option<Arc<SessionLookup>>, RestError> {
        let Some(secret) = cookie(headers, &session_cookie_name(customer)) else {
            return Ok(None);
        };
        let key = (customer_id, auth::session_digest(secret));
        if let Some((read, lookup)) = self.sessions.get(&key)
            && read.elapsed() < LOOKUP_TTL
        {
            return Ok(Some(lookup));
        }
        let lookup = Arc::new(
            domain
                .visitor_session(customer_id, secret)
                .await
                .map_err(RestError::unavailable)?,
        );
        self.sessions.insert(key, (Instant::now(), lookup.clone()));
        Ok(Some(lookup))
    }

    /// Drops what this node remembers of a session, after it changed or ended.
    pub fn forget_session(&self, customer_id: i32, secret: &str) {
        self.sessions
            .remove(&(customer_id, auth::session_digest(secret)));
    }

    /// The roles external services grant this request: only on requests that came through a
    /// trusted proxy (which vouches for the cookie or header), and only when it carries it.
    pub fn external_roles(
        &self,
        services: &[(AuthService, Vec<String>)],
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Vec<String> {
        if !peer.is_some_and(|peer| self.trusted_proxies.contains(peer)) {
            return Vec::new();
        }
        services
            .iter()
            .filter(|(service, _)| service.profile == AccessProfile::External)
            .filter(|(service, _)| {
                let by_cookie = service
                    .trusted_cookie
                    .as_deref()
                    .is_some_and(|name| cookie(headers, name).is_some());
                let by_header = service.trusted_header.as_deref().is_some_and(|name| {
                    headers
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .is_some_and(|value| !value.trim().is_empty())
                });
                by_cookie || by_header
            })
            .flat_map(|(_, roles)| roles.iter().cloned())
            .collect()
    }

    /// Whether this request may have what it asks of an asset, from its ambient credentials
    /// only (the session cookie, an external service's aspect): never from a bearer token.
    pub async fn decide(
        &self,
        domain: &domain::Domain,
        asset: &Asset,
        requested: Requested,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Result<Decision, RestError> {
        if auth::is_open(&asset.roles, asset.max_unauthorised) {
            return Ok(Decision::Allowed);
        }
        // the open sizes need no lookup at all
        if auth::decide(&asset.roles, asset.max_unauthorised, &[], false, requested)
            == Decision::Allowed
        {
            return Ok(Decision::Allowed);
        }
        let services = self
            .services(domain, asset.customer_id, &asset.roles)
            .await?;
        let mut held = self.external_roles(&services, headers, peer);
        if let Some(session) = self
            .cookie_session(domain, asset.customer_id, &asset.customer, headers)
            .await?
            && let SessionLookup::Live(session) = session.as_ref()
        {
            held.extend(session.roles.iter().cloned());
        }
        Ok(auth::decide(
            &asset.roles,
            asset.max_unauthorised,
            &held,
            !services.is_empty(),
            requested,
        ))
    }

    /// The roles a visitor holds with a customer from ambient credentials (the session cookie,
    /// external services' aspects), for reading restricted annotation text.
    pub async fn visitor_roles(
        &self,
        domain: &domain::Domain,
        customer: &str,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Result<Vec<String>, domain::Error> {
        let has_cookie = cookie(headers, &session_cookie_name(customer)).is_some();
        let trusted = peer.is_some_and(|peer| self.trusted_proxies.contains(peer));
        if !has_cookie && !trusted {
            return Ok(Vec::new());
        }
        let customer_id = match domain.visitor_customer(customer).await {
            Ok(id) => id,
            // an unknown customer is the search's 404 to give
            Err(error) if error.kind == domain::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut roles = if trusted {
            self.external_roles(&domain.external_services(customer_id).await?, headers, peer)
        } else {
            Vec::new()
        };
        if has_cookie
            && let Ok(Some(session)) = self
                .cookie_session(domain, customer_id, customer, headers)
                .await
            && let SessionLookup::Live(session) = session.as_ref()
        {
            roles.extend(session.roles.iter().cloned());
        }
        Ok(roles)
    }

    /// The roles an access token stands for, for the probe and Auth 1.0 info.json: none when
    /// there is no token, or it is forged, expired, another customer's, or its session ended.
    pub async fn token_roles(
        &self,
        domain: &domain::Domain,
        customer_id: i32,
        customer: &str,
        headers: &HeaderMap,
    ) -> Result<Option<Vec<String>>, RestError> {
        let Some(token) = bearer(headers) else {
            return Ok(None);
        };
        let Ok(claims) = self.tokens.verify(token) else {
            return Ok(None);
        };
        if claims.cus != customer {
            return Ok(None);
        }
        match domain
            .visitor_session_by_id(customer_id, claims.sid)
            .await
            .map_err(RestError::unavailable)?
        {
            // a token carries the roles granted for the origin it was issued to
            SessionLookup::Live(session) => Ok(Some(match claims.ori.as_str() {
                auth::ANY_ORIGIN => session.roles,
                "" => session.roles_for(None),
                origin => session.roles_for(Some(origin)),
            })),
            SessionLookup::Missing | SessionLookup::Expired => Ok(None),
        }
    }
}

/// The bearer token of the `Authorization` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::HeaderValue;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; vitrine-auth-acme=s3cr3t; vitrine-auth-acme2=x"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("b=\"2\""));
        assert_eq!(cookie(&headers, "vitrine-auth-acme"), Some("s3cr3t"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "vitrine-auth"), None);
    }

    #[test]
    fn bearer_tokens_need_the_scheme() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
    }
}
