//! The base of every URL the server writes into JSON, and IIIF identifier encoding.

use std::net::{IpAddr, SocketAddr};

use iiif::image::ApiVersion;
use iiif::presentation::Version;
use poem::http::{HeaderMap, header};

use crate::state::AppState;

/// The configured public URL, or (on a loopback listener, the only one allowed without a
/// public URL) `http://{Host}` of this request when that names this machine: any other Host
/// (a DNS-rebinding page, a forged header) gets the bound address instead.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(configured) = &state.config.public_url {
        return configured.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    local_base(host, state.local_addr)
}

/// `http://{host}` when `host` is a loopback name or address, else `http://{local_addr}`.
fn local_base(host: Option<&str>, local_addr: SocketAddr) -> String {
    match host.filter(|host| names_loopback(host)) {
        Some(host) => format!("http://{host}"),
        None => format!("http://{local_addr}"),
    }
}

/// Whether a Host header value is `localhost` or a loopback address, with an optional port.
fn names_loopback(host: &str) -> bool {
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((name, "")) => (name, None),
            Some((name, rest)) => match rest.strip_prefix(':') {
                Some(port) => (name, Some(port)),
                None => return false,
            },
            None => return false,
        },
        None => match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        },
    };
    if port.is_some_and(|port| port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

pub use iiif::url::{asset_path, segment};

/// The public URLs of IIIF resources for this request's base, in one Presentation version.
pub fn links(state: &AppState, headers: &HeaderMap, version: Version) -> domain::Links {
    domain::Links::new(public_base(state, headers), version)
}

/// An image's service: `{base}/iiif/{v}/{customer}/{space}/{asset}`.
pub fn image_service_id(
    state: &AppState,
    headers: &HeaderMap,
    version: ApiVersion,
    customer: &str,
    space: i32,
    asset: &str,
) -> String {
    links(state, headers, Version::V3).image_service_id(version, customer, space, asset)
}

/// The degraded variant of an image service: the sizes a restricted image leaves open.
pub fn degraded_service_id(
    state: &AppState,
    headers: &HeaderMap,
    version: ApiVersion,
    customer: &str,
    space: i32,
    asset: &str,
) -> String {
    format!(
        "{}/degraded",
        image_service_id(state, headers, version, customer, space, asset)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18, item 15: without a public URL, only a Host naming this machine is used.
    #[test]
    fn only_loopback_hosts_reach_urls() {
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        for host in [
            "localhost:8080",
            "127.0.0.1:9000",
            "[::1]:8080",
            "LOCALHOST",
        ] {
            assert_eq!(local_base(Some(host), local), format!("http://{host}"));
        }
        for forged in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.1:80/x",
            "127.0.0.1@evil.example",
            "[::1]evil",
            "",
        ] {
            assert_eq!(local_base(Some(forged), local), "http://127.0.0.1:8080");
        }
        assert_eq!(local_base(None, local), "http://127.0.0.1:8080");
    }
}
