//! The IIIF Presentation API 3.0 and 2.1: single-asset manifests and their canvases, pages and
//! annotations (`/iiif/manifest/{v}/...`), named-query manifests (`/iiif/query/{v}/...`) and
//! collections (`/iiif/collection/{v}/...`), with CORS, content negotiation, ETag and 304.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use bytes::Bytes;
use domain::Part;
use iiif::presentation::{Version, v2, v3};
use percent_encoding::percent_decode_str;
use poem::http::{HeaderMap, header};
use poem::web::{Data, Path};
use poem::{Endpoint, EndpointExt, Request, Response, Route, get, handler};
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use serde_json::Value;

use crate::error::RestError;
use crate::http::{
    error_response, etag, json_media_type, not_modified, preflight, unchanged, validators,
    with_cors,
};
use crate::public_url::links;
use crate::state::AppState;

/// Manifests are rebuilt from the database on each request; caches may keep them this long.
const PRESENTATION_CACHE_CONTROL: &str = "public, max-age=60";

/// Written documents by a digest of the model they were written from. The model is read from
/// the database on every request, so a hit is always current: only the writing (the costly
/// part for big manifests) is saved, and nothing needs invalidating.
pub struct DocumentCache {
    written: Cache<u64, (Bytes, Arc<str>), DocumentWeight>,
}

#[derive(Clone)]
struct DocumentWeight;

impl Weighter<u64, (Bytes, Arc<str>)> for DocumentWeight {
    fn weight(&self, _key: &u64, (text, tag): &(Bytes, Arc<str>)) -> u64 {
        (8 + text.len() + tag.len()) as u64
    }
}

impl std::fmt::Debug for DocumentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentCache")
            .field("documents", &self.written.len())
            .field("bytes", &self.written.weight())
            .finish()
    }
}

impl DocumentCache {
    /// A cache holding at most `bytes` of written documents.
    pub fn new(bytes: u64) -> Self {
        Self {
            written: Cache::with_weighter(10_000, bytes.max(1), DocumentWeight),
        }
    }

    /// The text and ETag of the document written from `model` by `write`.
    fn get_or_write(
        &self,
        model: &impl Hash,
        what: &str,
        version: Version,
        write: impl FnOnce() -> Value,
    ) -> (Bytes, Arc<str>) {
        let mut hasher = DefaultHasher::new();
        (what, version, model).hash(&mut hasher);
        let key = hasher.finish();
        if let Some(hit) = self.written.get(&key) {
            return hit;
        }
        let written = write().to_string();
        let tag: Arc<str> = etag("presentation", &written).into();
        let text = Bytes::from(written);
        self.written.insert(key, (text.clone(), tag.clone()));
        (text, tag)
    }
}

/// `/iiif/manifest/{v}`: an asset's manifest, its canvas, the canvas's page and annotation.
pub fn manifest_routes(version: Version) -> impl Endpoint {
    let piece = |piece: Piece| {
        get(serve_asset)
            .head(serve_asset)
            .options(preflight)
            .data(piece)
    };
    Route::new()
        .at("/:customer/:space/:asset", piece(Piece::Manifest))
        .at("/:customer/:space/:asset/canvas", piece(Piece::Canvas))
        .at("/:customer/:space/:asset/canvas/page", piece(Piece::Page))
        .at(
            "/:customer/:space/:asset/canvas/page/painting",
            piece(Piece::Painting),
        )
        .data(version)
}

/// `/iiif/annotations/3`: an asset's annotation page, and each annotation in it.
pub fn annotation_routes() -> impl Endpoint {
    Route::new()
        .at(
            "/:customer/:space/:asset",
            get(serve_annotations)
                .head(serve_annotations)
                .options(preflight),
        )
        .at(
            "/:customer/:space/:asset/:id",
            get(serve_annotation)
                .head(serve_annotation)
                .options(preflight),
        )
}

/// `/iiif/query/{v}`: named-query manifests, `/{customer}/{name}/{p1}/{p2}...`.
pub fn query_routes(version: Version) -> impl Endpoint {
    Route::new()
        .at(
            "/:customer/:name",
            get(query_without_parameters)
                .head(query_without_parameters)
                .options(preflight),
        )
        .at(
            "/:customer/:name/*parameters",
            get(serve_query).head(serve_query).options(preflight),
        )
        .data(version)
}

/// `/iiif/collection/{v}`: a customer's spaces, a space's assets, and parts of big ones.
pub fn collection_routes(version: Version) -> impl Endpoint {
    Route::new()
        .at(
            "/:customer",
            get(customer_collection)
                .head(customer_collection)
                .options(preflight),
        )
        .at(
            "/:customer/part/:level/:index",
            get(customer_collection_part)
                .head(customer_collection_part)
                .options(preflight),
        )
        .at(
            "/:customer/:space",
            get(space_collection)
                .head(space_collection)
                .options(preflight),
        )
        .at(
            "/:customer/:space/part/:level/:index",
            get(space_collection_part)
                .head(space_collection_part)
                .options(preflight),
        )
        .data(version)
}

pub(crate) fn failure(error: domain::Error) -> Response {
    error_response(RestError::from(error))
}

/// A JSON document written from `model` (or taken from the cache), with its media type,
/// validators, and a 304 when the client's copy is current. The ETag is the text's digest, so
/// it changes exactly when the document does.
fn document(
    state: &AppState,
    version: Version,
    headers: &HeaderMap,
    (model, what): (&impl Hash, &str),
    write: impl FnOnce() -> Value,
) -> Response {
    let (text, tag) = state.documents.get_or_write(model, what, version, write);
    if not_modified(headers, &tag, None) {
        return with_cors(unchanged(&tag, None, PRESENTATION_CACHE_CONTROL).finish());
    }
    let ld_by_default = version == Version::V3;
    let response = validators(Response::builder(), &tag, None, PRESENTATION_CACHE_CONTROL)
        .header(
            header::CONTENT_TYPE,
            json_media_type(version.context(), ld_by_default, headers),
        )
        .header(header::VARY, "Accept")
        .body(text);
    with_cors(response)
}

fn space_number(space: &str) -> Result<i32, domain::Error> {
    space
        .parse::<i32>()
        .map_err(|_| domain::Error::not_found(format!("no space {space:?}")))
}

fn part(level: &str, index: &str) -> Result<Part, domain::Error> {
    match (level.parse::<u32>(), index.parse::<u64>()) {
        (Ok(level), Ok(index)) => Ok(Part { level, index }),
        _ => Err(domain::Error::not_found("this collection has no such part")),
    }
}

/// Which document of an asset's manifest a route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Manifest,
    Canvas,
    Page,
    Painting,
}

impl Piece {
    fn name(self) -> &'static str {
        match self {
            Piece::Manifest => "manifest",
            Piece::Canvas => "canvas",
            Piece::Page => "page",
            Piece::Painting => "painting",
        }
    }
}

async fn asset_document(
    version: Version,
    (customer, space, asset): (String, String, String),
    state: &AppState,
    headers: &HeaderMap,
    piece: Piece,
) -> Response {
    let space = match space_number(&space) {
        Ok(space) => space,
        Err(error) => return failure(error),
    };
    let links = links(state, headers, version);
    let manifest = match state
        .domain
        .asset_manifest(&customer, space, &asset, &links)
        .await
    {
        Ok(manifest) => manifest,
        Err(error) => return failure(error),
    };
    let canvas = &manifest.canvases[0];
    let body = match (piece, version) {
        (Piece::Manifest, Version::V3) => v3::manifest(&manifest),
        (Piece::Manifest, Version::V2) => v2::manifest(&manifest),
        (Piece::Canvas, Version::V3) => v3::canvas_document(canvas),
        (Piece::Canvas, Version::V2) => v2::canvas_document(canvas),
        (Piece::Page, Version::V3) => v3::page_document(canvas),
        (Piece::Page, Version::V2) => v2::page_document(canvas),
        (Piece::Painting, _) => {
            let painting = match version {
                Version::V3 => v3::annotation_document(canvas),
                Version::V2 => v2::annotation_document(canvas),
            };
            match painting {
                Some(body) => body,
                None => {
                    return failure(domain::Error::not_found(
                        "this canvas paints nothing in this version",
                    ));
                }
            }
        }
    };
    document(state, version, headers, (&manifest, piece.name()), || body)
}

#[handler]
async fn serve_asset(
    version: Data<&Version>,
    piece: Data<&Piece>,
    Path(address): Path<(String, String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    asset_document(**version, address, &state, headers, **piece).await
}

async fn annotation_document(
    (customer, space, asset): (&str, &str, &str),
    only: Option<&str>,
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
) -> Response {
    let space = match space_number(space) {
        Ok(space) => space,
        Err(error) => return failure(error),
    };
    let only = match only.map(str::parse::<i64>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return failure(domain::Error::not_found("no such annotation")),
    };
    let links = links(state, headers, Version::V3);
    // a restricted asset's text is for visitors holding one of its roles, as in search
    let held = match state
        .access
        .visitor_roles(&state.domain, customer, headers, peer)
        .await
    {
        Ok(held) => held,
        Err(error) => return failure(error),
    };
    let (list, restricted) = match state
        .domain
        .annotation_list(customer, space, asset, only, &links, &held)
        .await
    {
        Ok(found) => found,
        Err(error) => return failure(error),
    };
    let mut response = match only {
        None => document(state, Version::V3, headers, (&list, "annotations"), || {
            v3::annotation_list(&list)
        }),
        Some(_) => document(state, Version::V3, headers, (&list, "annotation"), || {
            v3::text_annotation_document(&list.items[0])
        }),
    };
    if restricted {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            poem::http::HeaderValue::from_static(crate::http::RESTRICTED_CACHE_CONTROL),
        );
    }
    response
}

#[handler]
async fn serve_annotations(
    Path((customer, space, asset)): Path<(String, String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
    remote: &poem::web::RemoteAddr,
) -> Response {
    let peer = remote.as_socket_addr().map(|address| address.ip());
    annotation_document((&customer, &space, &asset), None, &state, headers, peer).await
}

#[handler]
async fn serve_annotation(
    Path((customer, space, asset, id)): Path<(String, String, String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
    remote: &poem::web::RemoteAddr,
) -> Response {
    let peer = remote.as_socket_addr().map(|address| address.ip());
    annotation_document(
        (&customer, &space, &asset),
        Some(&id),
        &state,
        headers,
        peer,
    )
    .await
}

async fn query_document(
    version: Version,
    customer: &str,
    name: &str,
    parameters: &[String],
    state: &AppState,
    headers: &HeaderMap,
) -> Response {
    let links = links(state, headers, version);
    match state
        .domain
        .named_query_manifest(customer, name, parameters, &links)
        .await
    {
        Ok(manifest) => document(
            state,
            version,
            headers,
            (&manifest, "query"),
            || match version {
                Version::V3 => v3::manifest(&manifest),
                Version::V2 => v2::manifest(&manifest),
            },
        ),
        Err(error) => failure(error),
    }
}

#[handler]
async fn query_without_parameters(
    version: Data<&Version>,
    Path((customer, name)): Path<(String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    query_document(**version, &customer, &name, &[], &state, headers).await
}

#[handler]
async fn serve_query(
    version: Data<&Version>,
    Path((customer, name, _)): Path<(String, String, String)>,
    request: &Request,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    match path_parameters(request.original_uri().path(), 6) {
        Ok(parameters) => {
            query_document(**version, &customer, &name, &parameters, &state, headers).await
        }
        Err(error) => failure(error),
    }
}

/// The parameters after the first `skip` segments of a path such as
/// `/iiif/query/{v}/{customer}/{name}/{p1}/{p2}...` (6), each segment decoded on
/// its own so that an encoded `/` (`%2F`) stays inside its parameter. A trailing slash adds
/// none.
pub(crate) fn path_parameters(path: &str, skip: usize) -> Result<Vec<String>, domain::Error> {
    let raw = path.trim_end_matches('/');
    raw.split('/')
        .skip(skip)
        .map(|segment| {
            let decoded = percent_decode_str(segment)
                .decode_utf8()
                .map_err(|_| domain::Error::bad_request("parameters must be UTF-8"))?;
            if decoded.is_empty() {
                return Err(domain::Error::bad_request(
                    "named-query parameters must not be empty",
                ));
            }
            Ok(decoded.into_owned())
        })
        .collect()
}

async fn collection_document(
    version: Version,
    customer: &str,
    space: Option<&str>,
    part: Option<Part>,
    state: &AppState,
    headers: &HeaderMap,
) -> Response {
    let links = links(state, headers, version);
    let fanout = state.config.collection_max_items;
    let collection = match space {
        None => {
            state
                .domain
                .customer_collection(customer, part, fanout, &links)
                .await
        }
        Some(space) => {
            let space = match space_number(space) {
                Ok(space) => space,
                Err(error) => return failure(error),
            };
            state
                .domain
                .space_collection(customer, space, part, fanout, &links)
                .await
        }
    };
    match collection {
        Ok(collection) => {
            document(
                state,
                version,
                headers,
                (&collection, "collection"),
                || match version {
                    Version::V3 => v3::collection(&collection),
                    Version::V2 => v2::collection(&collection),
                },
            )
        }
        Err(error) => failure(error),
    }
}

#[handler]
async fn customer_collection(
    version: Data<&Version>,
    Path(customer): Path<String>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    collection_document(**version, &customer, None, None, &state, headers).await
}

#[handler]
async fn customer_collection_part(
    version: Data<&Version>,
    Path((customer, level, index)): Path<(String, String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    let part = match part(&level, &index) {
        Ok(part) => part,
        Err(error) => return failure(error),
    };
    collection_document(**version, &customer, None, Some(part), &state, headers).await
}

#[handler]
async fn space_collection(
    version: Data<&Version>,
    Path((customer, space)): Path<(String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    collection_document(**version, &customer, Some(&space), None, &state, headers).await
}

#[handler]
async fn space_collection_part(
    version: Data<&Version>,
    Path((customer, space, level, index)): Path<(String, String, String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    let part = match part(&level, &index) {
        Ok(part) => part,
        Err(error) => return failure(error),
    };
    collection_document(
        **version,
        &customer,
        Some(&space),
        Some(part),
        &state,
        headers,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_decoded_segment_by_segment() {
        assert_eq!(
            path_parameters("/iiif/query/3/acme/book/1/caf%C3%A9%20set%2F1/", 6).unwrap(),
            ["1", "café set/1"]
        );
        assert!(
            path_parameters("/iiif/query/3/acme/book", 6)
                .unwrap()
                .is_empty()
        );
        assert!(path_parameters("/iiif/query/3/acme/book/a//b", 6).is_err());
        assert!(path_parameters("/iiif/query/3/acme/book/%FF", 6).is_err());
    }
}
