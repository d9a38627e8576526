//! The portal: the web app digitisation teams use, served at `/` from files embedded in the
//! binary (`portal/` at the repository's root; no build step, native ES modules). It speaks
//! only the public GraphQL API and the IIIF and media URLs it shows.

use poem::endpoint::{EmbeddedFileEndpoint, EmbeddedFilesEndpoint};
use poem::http::{HeaderValue, header};
use poem::{Endpoint, EndpointExt, Response, Route};

#[derive(rust_embed::RustEmbed)]
#[folder = "../portal"]
struct Files;

/// The policy of every portal answer: scripts, styles and connections from this origin only
/// (no inline script), images also from `blob:` and `data:` (local previews), never framed.
/// The one inline style allowed is the `<style>` OpenSeadragon 6.1.1 adds, by its hash
/// (`portal/vendor/openseadragon/README.md`; the portal's browser test fails when it changes).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'sha256-9xTiqzfwFaL2SGb1rmr8gysEwVVjIvqWAgmZgqFqpEE='; \
     img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// `/` (the app's page) and `/portal/...` (its modules and styles).
pub fn routes() -> (impl Endpoint, impl Endpoint) {
    let page = EmbeddedFileEndpoint::<Files>::new("index.html").after(secured);
    let files = Route::new()
        .nest("/", EmbeddedFilesEndpoint::<Files>::new())
        .after(secured);
    (page, files)
}

async fn secured(answer: poem::Result<Response>) -> poem::Result<Response> {
    let mut response = answer?;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // the files change with the binary: revalidate (their ETag answers 304)
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
