//! Keeping origins off private addresses: every address an http(s) connection is made to is
//! checked when it is resolved (which defeats DNS rebinding, and covers every redirect hop),
//! redirects are checked hop by hop, and IP literals and S3 endpoints are checked up front.

use std::net::IpAddr;

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
pub(super) struct RedirectRefused(pub(super) String);

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
pub(super) struct PublicOnly;

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
pub(super) fn redirect_allowed(
    url: &url::Url,
    hop: usize,
    allow_private: bool,
) -> Result<(), String> {
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
pub(super) fn literal_private(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(v4)) => is_private(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => is_private(IpAddr::V6(v6)),
        _ => false,
    }
}

/// Whether a request error came from a refused address or redirect, and why.
pub(super) fn refused(error: &reqwest::Error) -> Option<String> {
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

/// Whether an address is one a public origin must not resolve to.
pub(super) fn is_private(address: IpAddr) -> bool {
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

#[cfg(test)]
mod tests {
    use super::super::tests::fetcher;
    use super::*;
    use crate::error::ErrorKind;

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
