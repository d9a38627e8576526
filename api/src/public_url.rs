//! The base of every URL the server writes into JSON, and IIIF identifier encoding.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use poem::http::{HeaderMap, header};

use crate::server::AppState;

/// The configured public URL, or `http://{Host}` of this request.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(configured) = &state.config.public_url {
        return configured.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| !host.is_empty() && !host.contains(['/', ' ', '@', '\\']))
        .map(str::to_owned)
        .unwrap_or_else(|| state.local_addr.to_string());
    format!("http://{host}")
}

/// Characters escaped in one path segment: the IIIF identifier rules (`/ ? # [ ] @ %`,
/// spaces and non-ASCII) and whatever else a URL path cannot hold.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b']')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// One URL path segment.
pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// `{customer}/{space}/{asset}` with each part encoded.
pub fn asset_path(customer: &str, space: i32, asset: &str) -> String {
    format!("{}/{space}/{}", segment(customer), segment(asset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_encoded_as_iiif_asks() {
        assert_eq!(segment("ark:/12025/654xz321"), "ark:%2F12025%2F654xz321");
        assert_eq!(segment("page 1?#%[@]"), "page%201%3F%23%25%5B%40%5D");
        assert_eq!(segment("café"), "caf%C3%A9");
        assert_eq!(asset_path("acme", 2, "a b"), "acme/2/a%20b");
    }
}
