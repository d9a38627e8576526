//! Searching annotations: a node's tantivy index kept up to the database's annotation change
//! log, and the public Content Search and Autocomplete reads over an asset or a named query.
//! The database is the truth; the index can be dropped and rebuilt from it at any time.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use iiif::presentation::{Container, Text, TextAnnotation};
use iiif::search::{Hit, Quote};
use quick_cache::sync::Cache;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use search::{AssetText, Completion, Filters, SearchIndex, Source, asset_key};

use crate::Domain;
use crate::entities::{annotation, annotation_change};
use crate::error::{Error, Result};
use crate::presentation::{Links, Member, SearchScope, asset_label, query_label, query_settings};

/// Change-log rows read per index commit while catching up.
const CATCH_UP_BATCH: u64 = 500;

/// Assets read per index commit while rebuilding.
const REBUILD_BATCH: usize = 200;

/// How long a node reuses what a named query selected before reading it again: a search and
/// the autocompletes typed after it need not read a thousand asset rows each. Changes to the
/// query's assets reach searches within this time, as a logout reaches other nodes' session
/// caches.
const SCOPE_TTL: Duration = Duration::from_secs(2);

/// Named-query scopes a node keeps at most.
const SCOPE_CACHE_ENTRIES: usize = 256;

/// Matched annotations per page of results.
pub const RESULTS_PER_PAGE: usize = 100;

/// Most terms one autocomplete answer lists.
pub const MAX_COMPLETIONS: usize = 100;

/// A search: its terms, its filters and the page wanted (from 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchRequest {
    pub q: String,
    pub filters: Filters,
    pub page: usize,
    /// The roles the visitor holds: restricted assets are searched only when one of their
    /// roles is among them (open sizes of an image do not open its text).
    pub roles: Vec<String>,
}

/// Whether a visitor holding `held` may read an asset's annotations: open assets, and
/// restricted ones whose roles they hold.
fn text_visible(roles: &[String], max_unauthorised: i32, held: &[String]) -> bool {
    auth::is_open(roles, max_unauthorised) || roles.iter().any(|role| held.contains(role))
}

/// What an autocomplete request asks.
#[derive(Debug, Clone, PartialEq)]
pub struct CompleteRequest {
    /// The text to complete (its last word, after the words before it).
    pub q: String,
    pub filters: Filters,
    /// The fewest occurrences a suggestion needs.
    pub min: u64,
    /// The roles the visitor holds (see [`SearchRequest::roles`]).
    pub roles: Vec<String>,
}

/// One page of matches, ready to be written as a Search 2.0 or 1.0 document.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    /// The manifest whose canvases the matches are on.
    pub manifest: Container,
    pub total: usize,
    /// Pages in all (at least 1).
    pub pages: usize,
    pub start_index: usize,
    pub items: Vec<TextAnnotation>,
    pub hits: Vec<Hit>,
}

/// A node's search index and the domain it catches up from.
#[derive(Clone)]
pub struct Searcher {
    domain: Domain,
    index: Arc<SearchIndex>,
    sync: Arc<tokio::sync::Mutex<()>>,
    scopes: Arc<Cache<ScopeKey, KeptScope>>,
    /// Whether the index has reached the end of the change log once since it opened.
    caught_up: Arc<std::sync::atomic::AtomicBool>,
}

/// How far a node's index is from the change log while it first catches up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchingUp {
    /// The change the index is up to.
    pub at: u64,
    /// The latest change in the database.
    pub latest: u64,
}

/// What a named query selected, as read at `read`.
#[derive(Debug)]
struct QueryScope {
    label: String,
    members: Vec<Member>,
    /// Each member's key in the index.
    keys: Vec<String>,
}

/// Named-query scopes by customer, query name and parameters.
type ScopeKey = (String, String, Vec<String>);

/// A scope as kept, when it was read.
type KeptScope = (Instant, Arc<QueryScope>);

/// A kept scope still young enough at `now` to use.
fn fresh(kept: Option<KeptScope>, now: Instant) -> Option<Arc<QueryScope>> {
    kept.filter(|(read, _)| now.saturating_duration_since(*read) < SCOPE_TTL)
        .map(|(_, scope)| scope)
}

impl std::fmt::Debug for Searcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Searcher")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// What a scope resolved to: the customer, the manifest and the space and id of its READY
/// assets in canvas order.
struct Resolved {
    manifest: Container,
    /// Each asset's space and id, in scope order.
    assets: Vec<(i32, String)>,
    /// Each asset's key in the index.
    keys: Vec<String>,
}

/// One annotation as [`asset_sources`] reads it, from a JSON array in this order.
#[derive(serde::Deserialize)]
struct SourceRow {
    id: i64,
    value: String,
    format: String,
    motivation: String,
    language: Option<String>,
    /// Unix seconds.
    created: i64,
    creator: Option<String>,
    x: Option<i32>,
    y: Option<i32>,
    w: Option<i32>,
    h: Option<i32>,
    time_start: Option<f64>,
    time_end: Option<f64>,
}

impl From<SourceRow> for Source {
    fn from(row: SourceRow) -> Self {
        Source {
            id: row.id,
            text: search::formats::plain_text(&row.value, &row.format),
            motivation: row.motivation,
            language: row.language,
            created: row.created,
            creator: row.creator,
            xywh: match (row.x, row.y, row.w, row.h) {
                (Some(x), Some(y), Some(w), Some(h)) => Some([x, y, w, h]),
                _ => None,
            },
            time: row
                .time_start
                .zip(row.time_end)
                .map(|(start, end)| [start, end]),
        }
    }
}

/// An asset's annotations as the index takes them, in id order. They are read as one JSON
/// array built by the database: a row per annotation costs the SQLite driver a thread
/// hand-off each, which made reading a page of OCR words cost more than indexing it.
async fn asset_sources(
    db: &impl ConnectionTrait,
    customer_id: i32,
    space: i32,
    asset: &str,
) -> Result<Vec<Source>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT json_agg(json_build_array(id, value, format, motivation, language, \
             floor(extract(epoch FROM created))::bigint, creator, x, y, w, h, time_start, \
             time_end))::text FROM annotations \
             WHERE customer_id = $1 AND space_id = $2 AND asset_id = $3"
        }
        _ => {
            "SELECT json_group_array(json_array(id, value, format, motivation, language, \
             unixepoch(created), creator, x, y, w, h, time_start, time_end)) FROM annotations \
             WHERE customer_id = ? AND space_id = ? AND asset_id = ?"
        }
    };
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        [customer_id.into(), space.into(), asset.into()],
    );
    let json: Option<String> = match db.query_one_raw(statement).await? {
        Some(row) => row.try_get_by_index(0)?,
        None => None,
    };
    let mut rows: Vec<SourceRow> = match json {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| Error::internal(format!("cannot read annotations of {asset}: {e}")))?,
        None => Vec::new(),
    };
    rows.sort_unstable_by_key(|row| row.id);
    Ok(rows.into_iter().map(Source::from).collect())
}

fn task_failed(error: tokio::task::JoinError) -> Error {
    Error::internal(format!("search task failed: {error}"))
}

fn index_failed(error: search::Error) -> Error {
    Error::internal(error.to_string())
}

impl Searcher {
    pub fn new(domain: Domain, index: Arc<SearchIndex>) -> Self {
        Self {
            domain,
            index,
            sync: Arc::new(tokio::sync::Mutex::new(())),
            scopes: Arc::new(Cache::new(SCOPE_CACHE_ENTRIES)),
            caught_up: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        }
    }

    /// `None` once the index has caught up with the change log since it opened (a new node
    /// with an empty index builds it from the database that way); until then, how far it is.
    /// Afterwards the index trails other nodes' writes by at most the catch-up period.
    pub async fn catching_up(&self) -> Result<Option<CatchingUp>> {
        use std::sync::atomic::Ordering;
        if self.caught_up.load(Ordering::Acquire) {
            return Ok(None);
        }
        let latest = annotation_change::Entity::find()
            .order_by_desc(annotation_change::Column::Seq)
            .one(self.domain.db())
            .await?
            .map_or(0, |change| change.seq as u64);
        let at = self.index.sequence();
        if at >= latest {
            self.caught_up.store(true, Ordering::Release);
            return Ok(None);
        }
        Ok(Some(CatchingUp { at, latest }))
    }

    /// The change-log number the index is up to.
    pub fn sequence(&self) -> u64 {
        self.index.sequence()
    }

    /// Brings the index up to the change log: each asset whose annotations changed since the
    /// index's sequence number is indexed again from the database (removed when it has none
    /// left). Every change committed before the call is applied when it returns. Returns how
    /// many changes were applied.
    pub async fn catch_up(&self) -> Result<u64> {
        let _one_at_a_time = self.sync.lock().await;
        let mut applied = 0;
        loop {
            let from = self.index.sequence();
            let changes = annotation_change::Entity::find()
                .filter(annotation_change::Column::Seq.gt(from as i64))
                .order_by_asc(annotation_change::Column::Seq)
                .limit(CATCH_UP_BATCH)
                .all(self.domain.db())
                .await?;
            let Some(last) = changes.last() else {
                self.caught_up
                    .store(true, std::sync::atomic::Ordering::Release);
                return Ok(applied);
            };
            let upto = last.seq as u64;
            let mut seen = HashSet::new();
            let mut texts = Vec::new();
            for change in &changes {
                if seen.insert((change.customer_id, change.space_id, change.asset_id.clone())) {
                    texts.push(
                        self.asset_text(change.customer_id, change.space_id, &change.asset_id)
                            .await?,
                    );
                }
            }
            let index = self.index.clone();
            tokio::task::spawn_blocking(move || index.apply(&texts, upto))
                .await
                .map_err(task_failed)?
                .map_err(index_failed)?;
            applied += changes.len() as u64;
            // a short batch held every change committed before it was read; changes made
            // since wait for the next call, so a steady stream of writes is indexed in
            // batches rather than one small commit after another
            if (changes.len() as u64) < CATCH_UP_BATCH {
                return Ok(applied);
            }
        }
    }

    /// Empties the index and indexes every annotated asset again. Returns how many assets.
    pub async fn rebuild(&self) -> Result<usize> {
        let _one_at_a_time = self.sync.lock().await;
        let upto: Option<i64> = annotation_change::Entity::find()
            .select_only()
            .column_as(
                sea_orm::sea_query::ExprTrait::max(Expr::col(annotation_change::Column::Seq)),
                "upto",
            )
            .into_tuple()
            .one(self.domain.db())
            .await?
            .flatten();
        let assets: Vec<(i32, i32, String)> = annotation::Entity::find()
            .select_only()
            .column(annotation::Column::CustomerId)
            .column(annotation::Column::SpaceId)
            .column(annotation::Column::AssetId)
            .distinct()
            .order_by_asc(annotation::Column::CustomerId)
            .order_by_asc(annotation::Column::SpaceId)
            .order_by_asc(annotation::Column::AssetId)
            .into_tuple()
            .all(self.domain.db())
            .await?;
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.clear())
            .await
            .map_err(task_failed)?
            .map_err(index_failed)?;
        for chunk in assets.chunks(REBUILD_BATCH) {
            let mut texts = Vec::with_capacity(chunk.len());
            for (customer_id, space, asset) in chunk {
                texts.push(self.asset_text(*customer_id, *space, asset).await?);
            }
            let index = self.index.clone();
            tokio::task::spawn_blocking(move || index.stage(&texts))
                .await
                .map_err(task_failed)?
                .map_err(index_failed)?;
        }
        let index = self.index.clone();
        let upto = upto.unwrap_or(0).max(0) as u64;
        tokio::task::spawn_blocking(move || index.commit(upto))
            .await
            .map_err(task_failed)?
            .map_err(index_failed)?;
        Ok(assets.len())
    }

    async fn asset_text(&self, customer_id: i32, space: i32, asset: &str) -> Result<AssetText> {
        Ok(AssetText {
            key: asset_key(customer_id, space, asset),
            annotations: asset_sources(self.domain.db(), customer_id, space, asset).await?,
        })
    }

    /// The manifest and READY assets a scope covers.
    async fn resolve(
        &self,
        customer: &str,
        scope: &SearchScope,
        links: &Links,
        held: &[String],
    ) -> Result<Resolved> {
        let domain = &self.domain;
        match scope {
            SearchScope::Asset { space, id } => {
                let (owner, _, asset, settings) =
                    domain.published_asset(customer, *space, id).await?;
                let (assets, keys) = if text_visible(&asset.roles, asset.max_unauthorised, held) {
                    let key = asset_key(owner.id, asset.space, &asset.id);
                    (vec![(asset.space, asset.id.clone())], vec![key])
                } else {
                    (Vec::new(), Vec::new())
                };
                Ok(Resolved {
                    manifest: Container {
                        id: links.manifest(customer, *space, id),
                        label: Some(Text::plain(asset_label(&asset, &settings))),
                    },
                    assets,
                    keys,
                })
            }
            SearchScope::Query { name, parameters } => {
                let selected = self.query_scope(customer, name, parameters).await?;
                let (assets, keys) = selected
                    .members
                    .iter()
                    .zip(&selected.keys)
                    .filter(|(member, _)| {
                        text_visible(&member.roles, member.max_unauthorised, held)
                    })
                    .map(|(member, key)| ((member.space, member.id.clone()), key.clone()))
                    .unzip();
                Ok(Resolved {
                    manifest: Container {
                        id: links.query(customer, name, parameters),
                        label: Some(Text::plain(selected.label.clone())),
                    },
                    assets,
                    keys,
                })
            }
        }
    }

    /// What a named query selects, read again when the node's copy is older than
    /// [`SCOPE_TTL`].
    async fn query_scope(
        &self,
        customer: &str,
        name: &str,
        parameters: &[String],
    ) -> Result<Arc<QueryScope>> {
        let key = (customer.to_owned(), name.to_owned(), parameters.to_vec());
        let read = Instant::now();
        if let Some(scope) = fresh(self.scopes.get(&key), read) {
            return Ok(scope);
        }
        let domain = &self.domain;
        let owner = domain.public_customer(customer).await?;
        let found = domain.query_members(&owner, name, parameters).await?;
        if found.first.assets.is_empty() {
            return Err(Error::not_found(format!(
                "no ready assets match named query {name:?} with these parameters"
            )));
        }
        let keys = found
            .members
            .iter()
            .map(|member| asset_key(owner.id, member.space, &member.id))
            .collect();
        let scope = Arc::new(QueryScope {
            label: query_label(
                &found.first,
                name,
                parameters,
                &query_settings(&owner, &found.first)?,
            ),
            members: found.members,
            keys,
        });
        self.scopes.insert(key, (read, scope.clone()));
        Ok(scope)
    }

    /// A page of the annotations in scope matching a search, with their hits. `within` is the
    /// URL of the whole result set, which hit ids are made from.
    pub async fn search(
        &self,
        customer: &str,
        scope: &SearchScope,
        request: &SearchRequest,
        links: &Links,
        within: &str,
    ) -> Result<SearchOutcome> {
        if request.page == 0 {
            return Err(Error::bad_request("pages are numbered from 1"));
        }
        let resolved = self.resolve(customer, scope, links, &request.roles).await?;
        self.catch_up().await?;
        let Resolved {
            manifest,
            assets,
            keys,
        } = resolved;
        let index = self.index.clone();
        let (q, filters) = (request.q.clone(), request.filters.clone());
        let start_index = (request.page - 1).saturating_mul(RESULTS_PER_PAGE);
        let results = tokio::task::spawn_blocking(move || {
            index.search(&keys, &q, &filters, start_index, RESULTS_PER_PAGE)
        })
        .await
        .map_err(task_failed)?
        .map_err(index_failed)?;
        let total = results.total;
        let pages = total.div_ceil(RESULTS_PER_PAGE).max(1);
        if request.page > pages {
            return Err(Error::bad_request(format!(
                "page {} is out of range: the results have {pages} page(s)",
                request.page
            )));
        }
        let page_items = &results.annotations;
        let mut ids: HashMap<i64, String> = HashMap::new();
        let mut items = Vec::with_capacity(page_items.len());
        for matched in page_items {
            let Some((space, asset)) = assets.get(matched.scope) else {
                continue;
            };
            let id = links.annotation(customer, *space, asset, matched.entry.id);
            ids.insert(matched.entry.id, id.clone());
            let target = links.canvas_target(
                customer,
                *space,
                asset,
                matched.entry.xywh,
                matched.entry.time,
            );
            items.push(TextAnnotation {
                id,
                motivation: matched.motivation.clone(),
                value: matched.value.clone(),
                format: "text/plain".to_owned(),
                language: matched.language.clone(),
                target,
                creator: matched.entry.creator.clone(),
            });
        }
        // a phrase's later annotation may fall on the next page; its id is still its URL
        let annotation_url = |id: i64, scope: usize| -> String {
            ids.get(&id).cloned().unwrap_or_else(|| {
                assets
                    .get(scope)
                    .map(|(space, asset)| links.annotation(customer, *space, asset, id))
                    .unwrap_or_default()
            })
        };
        // the index returns the hits that start on the page; a hit is named by its first
        // annotation and where it starts there, so its id is the same on every request
        let hits = results
            .hits
            .iter()
            .map(|hit| Hit {
                id: format!("{within}#hit-{}-{}", hit.parts[0].annotation, hit.from),
                whole: hit.whole,
                quotes: hit
                    .parts
                    .iter()
                    .map(|part| Quote {
                        annotation: annotation_url(part.annotation, hit.scope),
                        prefix: part.prefix.clone(),
                        exact: part.exact.clone(),
                        suffix: part.suffix.clone(),
                    })
                    .collect(),
            })
            .collect();
        Ok(SearchOutcome {
            manifest,
            total,
            pages,
            start_index,
            items,
            hits,
        })
    }

    /// Completions of `q` over the scope's annotations, alphabetically.
    pub async fn complete(
        &self,
        customer: &str,
        scope: &SearchScope,
        request: &CompleteRequest,
        links: &Links,
    ) -> Result<Vec<Completion>> {
        let keys = self
            .resolve(customer, scope, links, &request.roles)
            .await?
            .keys;
        self.catch_up().await?;
        let index = self.index.clone();
        let (q, filters, min) = (request.q.clone(), request.filters.clone(), request.min);
        tokio::task::spawn_blocking(move || {
            index.complete(&keys, &q, &filters, min, MAX_COMPLETIONS)
        })
        .await
        .map_err(task_failed)?
        .map_err(index_failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(label: &str) -> Arc<QueryScope> {
        Arc::new(QueryScope {
            label: label.to_owned(),
            members: Vec::new(),
            keys: Vec::new(),
        })
    }

    fn key(name: &str) -> ScopeKey {
        ("acme".to_owned(), name.to_owned(), vec!["1".to_owned()])
    }

    #[test]
    fn named_query_scopes_are_kept_briefly_and_boundedly() {
        let cache: Cache<ScopeKey, KeptScope> = Cache::new(SCOPE_CACHE_ENTRIES);
        let read = Instant::now();
        cache.insert(key("book"), (read, scope("Book")));
        let found = fresh(cache.get(&key("book")), read + SCOPE_TTL / 2).unwrap();
        assert_eq!(found.label, "Book");
        assert!(fresh(cache.get(&key("book")), read + SCOPE_TTL).is_none());
        assert!(fresh(cache.get(&key("other")), read).is_none());

        for n in 0..SCOPE_CACHE_ENTRIES * 4 {
            cache.insert(key(&n.to_string()), (read, scope("q")));
        }
        assert!(cache.len() <= SCOPE_CACHE_ENTRIES, "{}", cache.len());
    }
}
