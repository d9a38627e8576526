//! IIIF Content Search 2.0 and 1.0 (`/iiif/search/{2|1}/...`) and their autocomplete
//! services (`/iiif/autocomplete/{2|1}/...`), over one asset (`/{customer}/{space}/{asset}`)
//! or a named query's manifest (`/{customer}/query/{name}/{p1}/...`).

use chrono::DateTime;
use domain::{SearchRequest, SearchScope};
use iiif::presentation::Version;
use iiif::search::{self as documents, ResultPage, Term, TermPage};
use poem::http::{HeaderMap, StatusCode, header};
use poem::web::{Data, Path};
use poem::{Endpoint, EndpointExt, Request, Response, Route, get, handler};
use search::Filters;

use crate::http::{json_media_type, preflight, with_cors};
use crate::iiif_presentation::{failure, path_parameters};
use crate::public_url::links;
use crate::state::AppState;

/// Which service a route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Search,
    Autocomplete,
}

#[derive(Debug, Clone, Copy)]
struct Api {
    service: Service,
    /// 2 or 1.
    version: u8,
    /// The Presentation version whose canvases results target.
    presentation: Version,
}

/// `/iiif/{search|autocomplete}/{2|1|1p3}`: Search `version` with targets on the canvases of
/// `presentation` manifests (Search 2: Presentation 3; Search 1: 2.1 at `1`, 3 at `1p3`).
pub fn routes(service: Service, version: u8, presentation: Version) -> impl Endpoint {
    Route::new()
        .at(
            "/:customer/query/:name",
            get(query_without_parameters)
                .head(query_without_parameters)
                .options(preflight),
        )
        .at(
            "/:customer/query/:name/*parameters",
            get(query_with_parameters)
                .head(query_with_parameters)
                .options(preflight),
        )
        .at(
            "/:customer/:space/:asset",
            get(asset).head(asset).options(preflight),
        )
        .data(Api {
            service,
            version,
            presentation,
        })
}

#[handler]
async fn asset(
    api: Data<&Api>,
    Path((customer, space, asset)): Path<(String, String, String)>,
    request: &Request,
    state: Data<&AppState>,
) -> Response {
    let Ok(space) = space.parse::<i32>() else {
        return failure(domain::Error::not_found(format!("no space {space:?}")));
    };
    let scope = SearchScope::Asset { space, id: asset };
    answer(**api, &customer, scope, request, &state).await
}

#[handler]
async fn query_without_parameters(
    api: Data<&Api>,
    Path((customer, name)): Path<(String, String)>,
    request: &Request,
    state: Data<&AppState>,
) -> Response {
    let scope = SearchScope::Query {
        name,
        parameters: Vec::new(),
    };
    answer(**api, &customer, scope, request, &state).await
}

#[handler]
async fn query_with_parameters(
    api: Data<&Api>,
    Path((customer, name, _)): Path<(String, String, String)>,
    request: &Request,
    state: Data<&AppState>,
) -> Response {
    // "", "iiif", service, api, customer, "query", name, then the parameters
    match path_parameters(request.original_uri().path(), 7) {
        Ok(parameters) => {
            let scope = SearchScope::Query { name, parameters };
            answer(**api, &customer, scope, request, &state).await
        }
        Err(error) => failure(error),
    }
}

/// The request's parameters: those this service implements, and the names of the others.
#[derive(Debug, Default, PartialEq)]
struct Parameters {
    q: Option<String>,
    motivation: Option<String>,
    date: Option<String>,
    user: Option<String>,
    page: Option<String>,
    min: Option<String>,
    ignored: Vec<String>,
}

fn parameters(query: &str, service: Service) -> Parameters {
    let mut found = Parameters::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match (name.as_ref(), service) {
            ("q", _) => &mut found.q,
            ("motivation", _) => &mut found.motivation,
            ("date", _) => &mut found.date,
            ("user", _) => &mut found.user,
            ("page", Service::Search) => &mut found.page,
            ("min", Service::Autocomplete) => &mut found.min,
            (other, _) => {
                if !found.ignored.iter().any(|seen| seen == other) {
                    found.ignored.push(other.to_owned());
                }
                continue;
            }
        };
        *slot = Some(value.into_owned());
    }
    found
}

fn bad_request(message: impl Into<String>) -> domain::Error {
    domain::Error::bad_request(message)
}

/// A whole-number parameter, `default` when absent or empty.
fn number<T: std::str::FromStr>(
    text: Option<&str>,
    name: &str,
    default: T,
) -> Result<T, domain::Error> {
    match text {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| bad_request(format!("{name} {text:?} is not a whole number"))),
    }
}

/// `date=` ranges: `YYYY-MM-DDThh:mm:ssZ/YYYY-MM-DDThh:mm:ssZ`, space-separated.
fn date_ranges(text: &str) -> Result<Vec<(i64, i64)>, domain::Error> {
    text.split_whitespace()
        .map(|range| {
            let parse = |moment: &str| {
                moment
                    .ends_with('Z')
                    .then(|| DateTime::parse_from_rfc3339(moment).ok())
                    .flatten()
                    .map(|moment| moment.timestamp())
            };
            match range.split_once('/').map(|(a, b)| (parse(a), parse(b))) {
                Some((Some(from), Some(to))) if from <= to => Ok((from, to)),
                _ => Err(bad_request(format!(
                    "date {range:?} is not a range YYYY-MM-DDThh:mm:ssZ/YYYY-MM-DDThh:mm:ssZ"
                ))),
            }
        })
        .collect()
}

/// The motivations a `motivation=` value selects. Search 1.0 says `painting` for
/// transcriptions (stored as `supplementing`) and `non-painting` for everything else.
fn motivations(text: &str, version: u8) -> Vec<String> {
    let mut selected = Vec::new();
    for value in text.split_whitespace() {
        let value = value
            .strip_prefix("oa:")
            .or_else(|| value.strip_prefix("sc:"))
            .unwrap_or(value);
        match (value, version) {
            ("painting", 1) => selected.push("supplementing".to_owned()),
            ("non-painting", 1) => selected.extend(
                domain::MOTIVATIONS
                    .iter()
                    .filter(|m| **m != "supplementing")
                    .map(|m| (*m).to_owned()),
            ),
            (other, _) => selected.push(other.to_owned()),
        }
    }
    selected
}

fn filters(found: &Parameters, version: u8) -> Result<Filters, domain::Error> {
    Ok(Filters {
        motivations: found
            .motivation
            .as_deref()
            .map(|text| motivations(text, version))
            .unwrap_or_default(),
        dates: found
            .date
            .as_deref()
            .map(date_ranges)
            .transpose()?
            .unwrap_or_default(),
        users: found
            .user
            .as_deref()
            .map(|text| text.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
    })
}

/// The service URL with the implemented parameters given, in a fixed order.
fn canonical(service: &str, found: &Parameters) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("q", &found.q),
        ("motivation", &found.motivation),
        ("date", &found.date),
        ("user", &found.user),
        ("min", &found.min),
    ] {
        if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
            query.append_pair(name, value);
        }
    }
    let query = query.finish();
    if query.is_empty() {
        service.to_owned()
    } else {
        format!("{service}?{query}")
    }
}

/// What a search answer depends on besides its URL: the media type asked for, and the
/// credentials that decide which restricted text it may hold.
const SEARCH_VARY: &str = "Accept, Authorization, Cookie";

fn with_page(url: &str, page: usize) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}page={page}")
}

async fn answer(
    api: Api,
    customer: &str,
    scope: SearchScope,
    request: &Request,
    state: &AppState,
) -> Response {
    let found = parameters(request.uri().query().unwrap_or(""), api.service);
    let peer = request
        .remote_addr()
        .as_socket_addr()
        .map(|address| address.ip());
    let roles = match state
        .access
        .visitor_roles(&state.domain, customer, request.headers(), peer)
        .await
    {
        Ok(roles) => roles,
        Err(error) => return failure(error),
    };
    // an answer given with roles may carry restricted text: only the visitor's own cache
    // may keep it, and no cache may give it for a request with other credentials
    let restricted = !roles.is_empty();
    let result = match api.service {
        Service::Search => {
            search(
                api,
                customer,
                &scope,
                &found,
                request.headers(),
                state,
                roles,
            )
            .await
        }
        Service::Autocomplete => {
            autocomplete(
                api,
                customer,
                &scope,
                &found,
                request.headers(),
                state,
                &roles,
            )
            .await
        }
    };
    match result {
        Ok(body) => {
            let context = match api.version {
                2 => documents::CONTEXT_2,
                _ => documents::CONTEXT_1,
            };
            with_cors(
                Response::builder()
                    .status(StatusCode::OK)
                    .header(
                        header::CONTENT_TYPE,
                        json_media_type(context, false, request.headers()),
                    )
                    .header(
                        header::CACHE_CONTROL,
                        if restricted { "private" } else { "no-cache" },
                    )
                    .header(header::VARY, SEARCH_VARY)
                    .body(body.to_string()),
            )
        }
        Err(error) => failure(error),
    }
}

async fn search(
    api: Api,
    customer: &str,
    scope: &SearchScope,
    found: &Parameters,
    headers: &HeaderMap,
    state: &AppState,
    roles: Vec<String>,
) -> Result<serde_json::Value, domain::Error> {
    let links = links(state, headers, api.presentation);
    let page: usize = number(found.page.as_deref(), "page", 1)?;
    let request = SearchRequest {
        q: found.q.clone().unwrap_or_default(),
        filters: filters(found, api.version)?,
        page,
        roles,
    };
    let service = links.search_service("search", api.version, customer, scope);
    let within = canonical(&service, found);
    let outcome = state
        .search
        .search(customer, scope, &request, &links, &within)
        .await?;
    let document = ResultPage {
        id: with_page(&within, page),
        first: with_page(&within, 1),
        last: with_page(&within, outcome.pages),
        next: (page < outcome.pages).then(|| with_page(&within, page + 1)),
        prev: (page > 1).then(|| with_page(&within, page - 1)),
        within,
        total: outcome.total,
        start_index: outcome.start_index,
        ignored: found.ignored.clone(),
        manifest: outcome.manifest,
        items: outcome.items,
        hits: outcome.hits,
    };
    Ok(match api.version {
        2 => documents::results_v2(&document),
        _ => documents::results_v1(&document),
    })
}

async fn autocomplete(
    api: Api,
    customer: &str,
    scope: &SearchScope,
    found: &Parameters,
    headers: &HeaderMap,
    state: &AppState,
    roles: &[String],
) -> Result<serde_json::Value, domain::Error> {
    let links = links(state, headers, api.presentation);
    let q = found
        .q
        .as_deref()
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| bad_request("autocomplete needs q, the text to complete"))?;
    let min: u64 = number(found.min.as_deref(), "min", 1)?;
    let filters = filters(found, api.version)?;
    let completions = state
        .search
        .complete(
            customer,
            scope,
            &domain::CompleteRequest {
                q: q.to_owned(),
                filters: filters.clone(),
                min,
                roles: roles.to_vec(),
            },
            &links,
        )
        .await?;
    let search_service = links.search_service("search", api.version, customer, scope);
    let service = links.search_service("autocomplete", api.version, customer, scope);
    let items = completions
        .into_iter()
        .map(|completion| Term {
            search: canonical(
                &search_service,
                &Parameters {
                    q: Some(completion.value.clone()),
                    motivation: found.motivation.clone(),
                    date: found.date.clone(),
                    user: found.user.clone(),
                    ..Parameters::default()
                },
            ),
            value: completion.value,
            total: completion.total,
        })
        .collect();
    let page = TermPage {
        id: canonical(&service, found),
        ignored: found.ignored.clone(),
        items,
    };
    Ok(match api.version {
        2 => documents::terms_v2(&page),
        _ => documents::terms_v1(&page),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_parameters_are_listed_as_ignored_once() {
        let found = parameters("q=two+birds&box=1&page=2&box=3&min=2", Service::Search);
        assert_eq!(found.q.as_deref(), Some("two birds"));
        assert_eq!(found.page.as_deref(), Some("2"));
        assert_eq!(found.ignored, ["box", "min"]);
        let found = parameters("q=bi&min=2&page=1", Service::Autocomplete);
        assert_eq!(found.min.as_deref(), Some("2"));
        assert_eq!(found.ignored, ["page"]);
    }

    #[test]
    fn dates_are_utc_ranges() {
        assert_eq!(
            date_ranges("2026-01-01T00:00:00Z/2026-01-01T00:00:10Z").unwrap(),
            [(1_767_225_600, 1_767_225_610)]
        );
        for bad in [
            "2026-01-01T00:00:00/2026-01-02T00:00:00Z",
            "2026-01-02T00:00:00Z/2026-01-01T00:00:00Z",
            "yesterday",
        ] {
            assert!(date_ranges(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn search_1_motivations_name_painting_for_transcriptions() {
        assert_eq!(motivations("sc:painting", 1), ["supplementing"]);
        assert!(!motivations("non-painting", 1).contains(&"supplementing".to_owned()));
        assert_eq!(motivations("painting", 2), ["painting"]);
        assert_eq!(motivations("oa:commenting", 2), ["commenting"]);
    }

    #[test]
    fn canonical_urls_keep_implemented_parameters_in_order() {
        let found = parameters("user=u&q=caf%C3%A9&x=1", Service::Search);
        assert_eq!(
            canonical("https://h/s", &found),
            "https://h/s?q=caf%C3%A9&user=u"
        );
        assert_eq!(with_page("https://h/s", 2), "https://h/s?page=2");
    }
}
