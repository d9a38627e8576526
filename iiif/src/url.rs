//! Identifiers inside URLs: one path segment encoded as the IIIF specifications ask.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

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
