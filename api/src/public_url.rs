//! The base of every URL the server writes into JSON, and IIIF identifier encoding.

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

pub use iiif::url::{asset_path, segment};
