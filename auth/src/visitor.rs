//! The visitor side of IIIF Authorization: who may see a restricted asset, the session secret a
//! visitor's browser holds, the short-lived access tokens IIIF clients show to the probe
//! service, and the checks around them (web origins, client addresses, failure throttling).
//!
//! No HTTP and no database here: the API layer reads cookies and headers, the domain stores
//! sessions, and both call these functions to decide.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::keys::random_bytes;
use crate::{Error, Result};

const ISSUER: &str = "vitrine";
const AUDIENCE: &str = "vitrine-iiif-access";

/// What an asset request asks for, as far as access is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// The whole image at a size whose longest edge is this many pixels.
    WholeImageAt(u32),
    /// Anything else: part of an image, or a media file.
    Other,
}

/// The outcome of an access decision, with the status a refused request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// 401: one of the asset's roles is granted by an access service, so logging in can help.
    LoginRequired,
    /// 403: nothing this visitor can do gives access.
    Forbidden,
}

impl Decision {
    /// The HTTP status of this decision (what the probe reports, and what content gets).
    pub fn status(self) -> u16 {
        match self {
            Decision::Allowed => 200,
            Decision::LoginRequired => 401,
            Decision::Forbidden => 403,
        }
    }
}

/// Whether an asset is open to everyone: no roles, and every size open.
pub fn is_open(roles: &[String], max_unauthorised: i32) -> bool {
    roles.is_empty() && max_unauthorised < 0
}

/// The access decision. An open asset is always allowed; otherwise a visitor holding one of the
/// asset's roles is, and so is anyone asking for the whole image no larger than
/// `max_unauthorised` on its longest edge. `grantable` says whether some access service grants
/// one of the asset's roles, which makes a refusal a 401 rather than a 403.
pub fn decide(
    roles: &[String],
    max_unauthorised: i32,
    held: &[String],
    grantable: bool,
    requested: Requested,
) -> Decision {
    if is_open(roles, max_unauthorised) || roles.iter().any(|role| held.contains(role)) {
        return Decision::Allowed;
    }
    if let Requested::WholeImageAt(longest) = requested
        && max_unauthorised > 0
        && longest <= max_unauthorised as u32
    {
        return Decision::Allowed;
    }
    if grantable {
        Decision::LoginRequired
    } else {
        Decision::Forbidden
    }
}

/// A new session secret for a visitor's cookie: 256 random bits, URL-safe base64.
pub fn generate_session_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// What is stored for a session secret: its SHA-256, hex. The secret has 256 bits of entropy,
/// so a fast hash is enough, and looking the digest up leaks nothing about the secret.
pub fn session_digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The `ori` of a token that carries every role of its session (external services' aspects,
/// which go with every request the browser makes, and 1.0 tokens read by this site itself).
pub const ANY_ORIGIN: &str = "*";

/// What an access token says: which visitor session it stands for, of which customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The session's number (never its cookie secret).
    pub sid: i64,
    /// The customer whose session it is.
    pub cus: String,
    /// The origin the token was issued to, whose roles it carries: "" for this site's own
    /// pages, [`ANY_ORIGIN`] for every role of the session.
    #[serde(default)]
    pub ori: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// Issues and verifies IIIF access tokens: HS256 JWTs under a key derived from the server's
/// signing secret, with an audience of their own, so a management token is never an access
/// token and the other way round.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens").finish_non_exhaustive()
    }
}

impl AccessTokens {
    pub fn new(secret: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"vitrine iiif access tokens\0");
        hasher.update(secret);
        let key = hasher.finalize();
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
        }
    }

    /// A token for a session, valid for `ttl_seconds` from now.
    pub fn issue(&self, session: i64, customer: &str, ttl_seconds: i64) -> Result<String> {
        self.issue_for(session, customer, "", ttl_seconds)
    }

    /// Signs an access token for the roles `origin` was granted in the session.
    pub fn issue_for(
        &self,
        session: i64,
        customer: &str,
        origin: &str,
        ttl_seconds: i64,
    ) -> Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            sid: session,
            cus: customer.to_owned(),
            ori: origin.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + ttl_seconds,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|error| Error::internal(format!("cannot sign access token: {error}")))
    }

    /// Checks signature, algorithm (HS256 only, so never `none`), issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<AccessClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = 0;
        decode::<AccessClaims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|error| Error::invalid_credential(format!("invalid access token: {error}")))
    }
}

/// A web origin as a browser sends it (`https://viewer.example.org`, `http://localhost:8080`):
/// http or https, a host, an optional port, nothing else. Returns it normalised (lower-case
/// host, default port dropped), or `None` for anything that is not exactly an origin.
pub fn web_origin(text: &str) -> Option<String> {
    if text.len() > 2048 || text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let url = url::Url::parse(text).ok()?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.host_str().is_some();
    // `Url` adds the "/" path itself; refuse origins that were sent with one
    if !plain || text.ends_with('/') {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

/// A set of address ranges in CIDR form (`10.0.0.0/8`, `2001:db8::/32`; a bare address is a
/// range of one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpRanges(Vec<ipnet::IpNet>);

impl IpRanges {
    /// Parses ranges; the error names the first one that is not a range.
    pub fn parse<S: AsRef<str>>(ranges: &[S]) -> std::result::Result<Self, String> {
        ranges
            .iter()
            .map(|range| {
                let range = range.as_ref().trim();
                range
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| range.parse::<IpAddr>().map(ipnet::IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| format!("{range:?} is not an IP address range such as 10.0.0.0/8"))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(IpRanges)
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|range| range.contains(&address))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ranges in CIDR form, as stored.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }
}

/// IPv4 addresses mapped into IPv6 (`::ffff:10.0.0.1`, as dual-stack sockets report them) are
/// compared as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The visitor's address: the connection's peer, unless that peer is one of the trusted
/// proxies, in which case the `X-Forwarded-For` entries are read from the right, skipping
/// trusted proxies, and the first untrusted one is the visitor. A client cannot forge its
/// address by sending its own `X-Forwarded-For`: only entries added by trusted proxies count.
pub fn client_address(
    peer: IpAddr,
    forwarded_for: Option<&str>,
    trusted_proxies: &IpRanges,
) -> IpAddr {
    let mut address = canonical(peer);
    if !trusted_proxies.contains(address) {
        return address;
    }
    let Some(forwarded_for) = forwarded_for else {
        return address;
    };
    for hop in forwarded_for.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(hop) => {
                address = canonical(hop);
                if !trusted_proxies.contains(address) {
                    return address;
                }
            }
            // a malformed entry: stop at the last address a trusted proxy vouched for
            Err(_) => return address,
        }
    }
    address
}

/// Counts failures (wrong passwords, wrong API-key secrets) per key over a sliding window,
/// and refuses further attempts once a key reaches the limit. Callers key failures by what
/// was guessed *and* where from (`account:{name}@{address}`), besides the address alone, so
/// guesses from one address never lock out the owner presenting the right secret from another.
///
/// A key that reaches the limit is locked for the window; each further lockout without an
/// intervening success doubles the lock (backoff), up to [`MAX_BACKOFF_DOUBLINGS`] times.
///
/// Callers record an attempt as a failure *before* checking the secret ([`Throttle::attempt`])
/// and take it back on success ([`Throttle::forgive`]), so concurrent guesses cannot all slip
/// past the check while the hash runs. Memory is bounded: long keys are hashed, and past
/// `MAX_KEYS` keys the ones whose last failure is oldest are forgotten first.
#[derive(Debug)]
pub struct Throttle {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, Failures>>,
}

/// One key's recent failures, and how many times it was locked out in a row.
#[derive(Debug, Default)]
struct Failures {
    times: VecDeque<Instant>,
    lockouts: u32,
    last: Option<Instant>,
}

const MAX_KEYS: usize = 100_000;
const MAX_KEY_BYTES: usize = 160;
/// The longest lock is the window times 2 to this power.
pub const MAX_BACKOFF_DOUBLINGS: u32 = 6;

/// A key as stored: as given when short, its digest when long.
fn bounded(key: &str) -> String {
    if key.len() <= MAX_KEY_BYTES {
        key.to_owned()
    } else {
        format!("sha256:{}", session_digest(key))
    }
}

/// The throttle key of a client address: IPv4 addresses whole, IPv6 by their /64, which one
/// client usually holds entirely.
pub fn throttle_address(address: IpAddr) -> String {
    match canonical(address) {
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            format!(
                "{:x}:{:x}:{:x}:{:x}::/64",
                segments[0], segments[1], segments[2], segments[3]
            )
        }
        v4 => v4.to_string(),
    }
}

impl Throttle {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// How long a key is locked after its `lockouts`-th lockout in a row (from 0).
    fn lock_time(&self, lockouts: u32) -> Duration {
        self.window
            .saturating_mul(1 << lockouts.min(MAX_BACKOFF_DOUBLINGS))
    }

    /// `Err(wait)` when `key` has failed too often: how long until it may try again.
    pub fn check(&self, key: &str) -> std::result::Result<(), Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = failures.get_mut(&bounded(key)) else {
            return Ok(());
        };
        // a key quiet for twice its last lock starts its backoff over
        if entry
            .last
            .is_some_and(|last| now.duration_since(last) >= self.lock_time(entry.lockouts) * 2)
        {
            entry.lockouts = 0;
            entry.times.clear();
            return Ok(());
        }
        if entry.times.len() >= self.max_failures {
            let last = *entry.times.back().expect("at least max_failures entries");
            let until = last + self.lock_time(entry.lockouts);
            if now < until {
                return Err(until - now);
            }
            // the lock has passed: a fresh set of attempts, and a longer lock next time
            entry.lockouts = entry.lockouts.saturating_add(1);
            entry.times.clear();
            return Ok(());
        }
        while entry
            .times
            .front()
            .is_some_and(|first| now.duration_since(*first) >= self.window)
        {
            entry.times.pop_front();
        }
        Ok(())
    }

    /// Checks every key and, when none is over the limit, counts this attempt against each as
    /// a failure at once. `Err(wait)` refuses the attempt (and records nothing).
    pub fn attempt(&self, keys: &[String]) -> std::result::Result<(), Duration> {
        if let Some(wait) = keys.iter().find_map(|key| self.check(key).err()) {
            return Err(wait);
        }
        for key in keys {
            self.fail(key);
        }
        Ok(())
    }

    /// Records a failure of `key`.
    pub fn fail(&self, key: &str) {
        let now = Instant::now();
        let key = bounded(key);
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_KEYS && !failures.contains_key(&key) {
            let horizon = self.lock_time(MAX_BACKOFF_DOUBLINGS) * 2;
            failures.retain(|_, entry| {
                entry
                    .last
                    .is_some_and(|last| now.duration_since(last) < horizon)
            });
            if failures.len() >= MAX_KEYS {
                // forget the tenth of keys that failed longest ago
                let mut last: Vec<(Instant, String)> = failures
                    .iter()
                    .filter_map(|(key, entry)| entry.last.map(|at| (at, key.clone())))
                    .collect();
                last.sort_unstable();
                for (_, key) in last.into_iter().take(MAX_KEYS / 10) {
                    failures.remove(&key);
                }
            }
        }
        let entry = failures.entry(key).or_default();
        entry.times.push_back(now);
        entry.last = Some(now);
        while entry.times.len() > self.max_failures {
            entry.times.pop_front();
        }
    }

    /// Takes back the most recent failure of `key` (an attempt that turned out right).
    pub fn forgive(&self, key: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let key = bounded(key);
        if let Some(entry) = failures.get_mut(&key) {
            entry.times.pop_back();
            if entry.times.is_empty() && entry.lockouts == 0 {
                failures.remove(&key);
            }
        }
    }

    /// Forgets `key`'s failures (after it succeeded).
    pub fn clear(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&bounded(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn decisions_follow_roles_and_open_sizes() {
        let staff = roles(&["staff"]);
        let none = roles(&[]);
        let part = Requested::Other;
        // open: no roles, every size open
        assert_eq!(decide(&none, -1, &none, false, part), Decision::Allowed);
        // a role held
        assert_eq!(decide(&staff, 0, &staff, true, part), Decision::Allowed);
        // wrong role, or none, with a service that grants it: 401; without: 403
        let other = roles(&["other"]);
        assert_eq!(
            decide(&staff, 0, &other, true, part),
            Decision::LoginRequired
        );
        assert_eq!(decide(&staff, 0, &none, false, part), Decision::Forbidden);
        // open sizes: whole image up to the limit only
        let small = Requested::WholeImageAt(200);
        let large = Requested::WholeImageAt(201);
        assert_eq!(decide(&staff, 200, &none, true, small), Decision::Allowed);
        assert_eq!(
            decide(&staff, 200, &none, true, large),
            Decision::LoginRequired
        );
        assert_eq!(
            decide(&staff, 200, &none, true, part),
            Decision::LoginRequired
        );
        // 0: nothing open; no roles but closed sizes: nobody gets in
        assert_eq!(
            decide(&staff, 0, &none, true, small),
            Decision::LoginRequired
        );
        assert_eq!(decide(&none, 100, &none, false, large), Decision::Forbidden);
        assert_eq!(
            decide(&none, 100, &none, false, Requested::WholeImageAt(100)),
            Decision::Allowed
        );
    }

    #[test]
    fn access_tokens_verify_and_refuse_forgeries() {
        let tokens = AccessTokens::new(b"0123456789abcdef0123456789abcdef");
        let token = tokens.issue(7, "acme", 300).unwrap();
        let claims = tokens.verify(&token).unwrap();
        assert_eq!((claims.sid, claims.cus.as_str()), (7, "acme"));
        assert_eq!(claims.exp - claims.iat, 300);

        // another server's secret
        let theirs = AccessTokens::new(b"another-secret-another-secret-xx");
        assert!(
            tokens
                .verify(&theirs.issue(7, "acme", 300).unwrap())
                .is_err()
        );
        // expired
        assert!(
            tokens
                .verify(&tokens.issue(7, "acme", -5).unwrap())
                .is_err()
        );
        // a management token signed with the very same secret is not an access token
        let management = crate::JwtSigner::new(b"0123456789abcdef0123456789abcdef", 60);
        assert!(
            tokens
                .verify(&management.issue("key", "secret").unwrap())
                .is_err()
        );

        let now = chrono::Utc::now().timestamp();
        let forged = |header: &str, claims: serde_json::Value, signature: &str| {
            format!(
                "{}.{}.{signature}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            )
        };
        let good_claims = serde_json::json!({"sid": 7, "cus": "acme", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 60});
        // alg none, unsigned
        assert!(
            tokens
                .verify(&forged(
                    r#"{"alg":"none","typ":"JWT"}"#,
                    good_claims.clone(),
                    ""
                ))
                .is_err()
        );
        // a valid signature over other claims, spliced onto these
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            tokens
                .verify(&forged(
                    r#"{"alg":"HS256","typ":"JWT"}"#,
                    good_claims,
                    signature
                ))
                .is_err()
        );

        // wrong issuer and wrong audience, correctly signed with the derived key
        let mut hasher = Sha256::new();
        hasher.update(b"vitrine iiif access tokens\0");
        hasher.update(b"0123456789abcdef0123456789abcdef");
        let key = EncodingKey::from_secret(&hasher.finalize());
        for (iss, aud) in [("someone-else", AUDIENCE), (ISSUER, "vitrine-management")] {
            let claims = serde_json::json!({"sid": 7, "cus": "acme", "iss": iss, "aud": aud, "iat": now, "exp": now + 60});
            let token = encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
            assert!(tokens.verify(&token).is_err(), "{iss} {aud}");
        }
    }

    #[test]
    fn origins_are_exactly_scheme_host_and_port() {
        assert_eq!(
            web_origin("https://viewer.example.org").as_deref(),
            Some("https://viewer.example.org")
        );
        assert_eq!(
            web_origin("http://LOCALHOST:8080").as_deref(),
            Some("http://localhost:8080")
        );
        assert_eq!(
            web_origin("https://a.org:443").as_deref(),
            Some("https://a.org")
        );
        for bad in [
            "",
            "null",
            "viewer.example.org",
            "https://a.org/",
            "https://a.org/path",
            "https://a.org?x=1",
            "https://a.org#f",
            "javascript:alert(1)",
            "ftp://a.org",
            "https://user@a.org",
            "https://a.org\"><script>",
            "https://a .org",
        ] {
            assert_eq!(web_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn client_addresses_trust_only_configured_proxies() {
        let proxies = IpRanges::parse(&["10.0.0.0/8"]).unwrap();
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let outsider: IpAddr = "203.0.113.9".parse().unwrap();
        // a direct client cannot claim another address
        assert_eq!(
            client_address(outsider, Some("192.168.1.5"), &proxies),
            outsider
        );
        // through the proxy: the rightmost untrusted entry
        assert_eq!(
            client_address(peer, Some("1.2.3.4, 192.168.1.5, 10.0.0.7"), &proxies),
            "192.168.1.5".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(peer, None, &proxies), peer);
        assert_eq!(client_address(peer, Some("junk"), &proxies), peer);
        // mapped IPv4
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert!(proxies.contains(mapped));
        assert!(IpRanges::parse(&["10.0.0.0/33"]).is_err());
        assert!(IpRanges::parse(&["not an address"]).is_err());
        assert!(
            IpRanges::parse(&["192.168.1.7"])
                .unwrap()
                .contains("192.168.1.7".parse().unwrap())
        );
    }

    #[test]
    fn throttle_refuses_after_the_limit_until_the_window_passes() {
        let throttle = Throttle::new(3, Duration::from_millis(200));
        for _ in 0..3 {
            assert!(throttle.check("a").is_ok());
            throttle.fail("a");
        }
        assert!(throttle.check("a").is_err());
        assert!(throttle.check("b").is_ok());
        std::thread::sleep(Duration::from_millis(250));
        assert!(throttle.check("a").is_ok());
        throttle.fail("a");
        throttle.clear("a");
        assert!(throttle.check("a").is_ok());
    }

    #[test]
    fn each_lockout_in_a_row_doubles_the_wait() {
        let window = Duration::from_millis(100);
        let throttle = Throttle::new(2, window);
        throttle.fail("a");
        throttle.fail("a");
        let first = throttle.check("a").unwrap_err();
        assert!(first <= window);
        std::thread::sleep(window + Duration::from_millis(20));
        assert!(throttle.check("a").is_ok());
        throttle.fail("a");
        throttle.fail("a");
        let second = throttle.check("a").unwrap_err();
        assert!(second > window && second <= window * 2, "{second:?}");
        // a success starts over
        throttle.clear("a");
        throttle.fail("a");
        throttle.fail("a");
        assert!(throttle.check("a").unwrap_err() <= window);
    }

    #[test]
    fn attempts_count_before_the_check_and_success_takes_them_back() {
        let throttle = Throttle::new(2, Duration::from_secs(60));
        let keys = ["address:1".to_owned(), "account:a".to_owned()];
        assert!(throttle.attempt(&keys).is_ok());
        assert!(throttle.attempt(&keys).is_ok());
        // two attempts in flight (or failed) already: a third waits, whatever its secret
        assert!(throttle.attempt(&keys).is_err());
        throttle.forgive(&keys[0]);
        throttle.clear(&keys[1]);
        assert!(throttle.attempt(&keys).is_ok());
        // long keys are bounded, and still told apart
        let long_a = "k".repeat(10_000);
        let long_b = format!("{long_a}b");
        throttle.fail(&long_a);
        throttle.fail(&long_a);
        assert!(throttle.check(&long_a).is_err());
        assert!(throttle.check(&long_b).is_ok());
        // one IPv6 client is its /64
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(throttle_address(a), throttle_address(b));
        assert_eq!(throttle_address("10.0.0.1".parse().unwrap()), "10.0.0.1");
    }

    #[test]
    fn session_secrets_are_random_and_stored_as_digests() {
        let (one, two) = (generate_session_secret(), generate_session_secret());
        assert_ne!(one, two);
        assert_eq!(session_digest(&one).len(), 64);
        assert_ne!(session_digest(&one), one);
    }
}
