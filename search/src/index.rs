//! The tantivy index: one document per asset, motivation and language, holding the text of
//! those annotations in order, so that a phrase is found across annotation boundaries (word
//! and line OCR). Matches are counted and placed from the index's word positions; only the
//! annotations a page of results quotes are analysed again, to find their words' bytes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tantivy::collector::DocSetCollector;
use tantivy::columnar::BytesColumn;
use tantivy::directory::MmapDirectory;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, TermQuery, TermSetQuery};
use tantivy::schema::{
    BytesOptions, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
    Value,
};
use tantivy::tokenizer::PreTokenizedString;
use tantivy::{
    DocAddress, DocId, DocSet, Index, IndexReader, IndexWriter, InvertedIndexReader, ReloadPolicy,
    Searcher, SegmentReader, TantivyDocument, Term,
};

use crate::analysis::{Analysis, Word};
use crate::layout::{self, Map};
use crate::locate::{self, Located, Span};
use crate::{Error, Result};

/// Changes when the documents' layout changes; an index of another version is rebuilt.
const SCHEMA_VERSION: u32 = 4;

/// Memory for the index writer's buffers.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// One annotation handed to the index.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub id: i64,
    pub motivation: String,
    /// Plain text (markup already removed).
    pub text: String,
    pub language: Option<String>,
    /// Creation time, in seconds since 1970.
    pub created: i64,
    pub creator: Option<String>,
    pub xywh: Option<[i32; 4]>,
    pub time: Option<[f64; 2]>,
}

/// The annotations of one asset, in the order they were made; `key` names the asset (see
/// [`asset_key`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AssetText {
    pub key: String,
    pub annotations: Vec<Source>,
}

/// The index's name for an asset: its customer's row id, space and id.
pub fn asset_key(customer_id: i32, space: i32, asset: &str) -> String {
    format!("{customer_id}/{space}/{asset}")
}

/// An annotation as the index stores it, with its byte range in its document's text (its
/// motivation and language are its document's).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub created: i64,
    pub creator: Option<String>,
    pub xywh: Option<[i32; 4]>,
    pub time: Option<[f64; 2]>,
    pub from: usize,
    pub to: usize,
}

/// Which annotations may match, besides the text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Any of these motivations (empty: any).
    pub motivations: Vec<String>,
    /// Created within any of these ranges, in seconds, both ends included (empty: any time).
    pub dates: Vec<(i64, i64)>,
    /// Made by any of these creators (empty: anyone).
    pub users: Vec<String>,
}

impl Filters {
    fn admit(&self, motivation: &str, entry: &Entry) -> bool {
        (self.motivations.is_empty() || self.motivations.iter().any(|m| m == motivation))
            && (self.dates.is_empty()
                || self
                    .dates
                    .iter()
                    .any(|(from, to)| (*from..=*to).contains(&entry.created)))
            && (self.users.is_empty()
                || entry
                    .creator
                    .as_ref()
                    .is_some_and(|creator| self.users.contains(creator)))
    }

    fn is_empty(&self) -> bool {
        self.motivations.is_empty() && self.dates.is_empty() && self.users.is_empty()
    }
}

/// An annotation in search results.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    /// The asset's key.
    pub asset: String,
    /// Where the asset is in the scope searched.
    pub scope: usize,
    pub entry: Entry,
    pub motivation: String,
    pub language: Option<String>,
    /// The annotation's text.
    pub value: String,
}

/// A page of results in scope order: how many annotations match in all, those of the page
/// (each once) and the hits that start in them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    pub total: usize,
    pub annotations: Vec<Matched>,
    pub hits: Vec<Located>,
}

/// A completion of an autocomplete prefix and how often it occurs in scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub value: String,
    pub total: u64,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    asset: Field,
    text: Field,
    words: Field,
    body: Field,
    layout: Field,
    map: Field,
    motivation: Field,
    language: Field,
}

/// The fast field holding each document's [`Map`].
const MAP_FIELD: &str = "map";

/// The fast field holding each document's layout.
const LAYOUT_FIELD: &str = "layout";

/// Each segment's layout column, opened once per search.
type LayoutColumns = HashMap<u32, BytesColumn>;

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let positions = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        asset: builder.add_text_field("asset", STRING | STORED),
        text: builder.add_text_field("text", positions.clone()),
        words: builder.add_text_field("words", positions),
        body: builder.add_text_field("body", STORED),
        // a fast field: stored bytes are read back a byte at a time
        layout: builder.add_bytes_field(LAYOUT_FIELD, BytesOptions::default().set_fast()),
        map: builder.add_bytes_field(MAP_FIELD, BytesOptions::default().set_fast()),
        motivation: builder.add_text_field("motivation", STORED),
        language: builder.add_text_field("language", STORED),
    };
    (builder.build(), fields)
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    schema: u32,
    sequence: u64,
}

/// A node's search index: a cache of the database's annotations, up to a sequence number of
/// the annotation change log.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("sequence", &self.sequence())
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index in a folder, creating it when there is none; an index written by
    /// another version of this layout is emptied (sequence 0) to be rebuilt.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let (schema, fields) = schema();
        let directory = MmapDirectory::open(dir).map_err(|e| Error::index(e.to_string()))?;
        let index = match Index::open_or_create(directory, schema.clone()) {
            Ok(index) if payload(&index).is_some_and(|p| p.schema == SCHEMA_VERSION) => index,
            Ok(index)
                if payload(&index).is_none() && index.searchable_segment_ids()?.is_empty() =>
            {
                index
            }
            _ => {
                tracing_rebuild(dir);
                std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                let directory =
                    MmapDirectory::open(dir).map_err(|e| Error::index(e.to_string()))?;
                Index::create(directory, schema, Default::default())?
            }
        };
        Self::with_index(index, fields)
    }

    /// An index in memory (tests, and nodes told to keep none on disk).
    pub fn in_memory() -> Result<Self> {
        let (schema, fields) = schema();
        Self::with_index(Index::create_in_ram(schema), fields)
    }

    fn with_index(index: Index, fields: Fields) -> Result<Self> {
        let writer: IndexWriter = index.writer(WRITER_MEMORY)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
        })
    }

    /// The last change-log sequence number whose changes the index holds.
    pub fn sequence(&self) -> u64 {
        payload(&self.index).map_or(0, |p| p.sequence)
    }

    /// Replaces what the index holds for each asset by its current annotations (none: the
    /// asset is removed), and records that the index is now up to `sequence`.
    pub fn apply(&self, assets: &[AssetText], sequence: u64) -> Result<()> {
        self.stage(assets)?;
        self.commit(sequence)
    }

    /// Like [`SearchIndex::apply`] without committing: searches see the change after
    /// [`SearchIndex::commit`].
    pub fn stage(&self, assets: &[AssetText]) -> Result<()> {
        let writer = self.writer.lock().map_err(|_| Error::poisoned())?;
        for asset in assets {
            writer.delete_term(Term::from_field_text(self.fields.asset, &asset.key));
            self.add(&writer, asset)?;
        }
        Ok(())
    }

    /// Removes every document, to be committed with what a rebuild stages after it.
    pub fn clear(&self) -> Result<()> {
        let writer = self.writer.lock().map_err(|_| Error::poisoned())?;
        writer.delete_all_documents()?;
        Ok(())
    }

    /// Makes staged changes searchable and records that the index is up to `sequence`.
    pub fn commit(&self, sequence: u64) -> Result<()> {
        let mut writer = self.writer.lock().map_err(|_| Error::poisoned())?;
        let payload = serde_json::to_string(&Payload {
            schema: SCHEMA_VERSION,
            sequence,
        })
        .map_err(|e| Error::index(e.to_string()))?;
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    fn add(&self, writer: &IndexWriter, asset: &AssetText) -> Result<()> {
        let mut groups: BTreeMap<(&str, Option<&str>), Vec<&Source>> = BTreeMap::new();
        for source in &asset.annotations {
            groups
                .entry((source.motivation.as_str(), source.language.as_deref()))
                .or_default()
                .push(source);
        }
        for ((motivation, language), sources) in groups {
            let analysis = Analysis::for_language(language);
            let (body, layout) = join(sources);
            let tokens = analysis.tokens(&body);
            let (mut starts, mut ids) = (Vec::with_capacity(layout.len()), Vec::new());
            let mut word = 0;
            for entry in &layout {
                while tokens
                    .get(word)
                    .is_some_and(|token| token.offset_from < entry.from)
                {
                    word += 1;
                }
                starts.push(word as u32);
                ids.push(entry.id);
            }
            let map = Map::encode(
                &asset.key,
                language.unwrap_or_default(),
                motivation,
                &starts,
                &ids,
            );
            let mut document = TantivyDocument::default();
            document.add_text(self.fields.asset, &asset.key);
            document.add_pre_tokenized_text(
                self.fields.text,
                PreTokenizedString {
                    text: String::new(),
                    tokens,
                },
            );
            document.add_bytes(self.fields.map, &map);
            document.add_pre_tokenized_text(
                self.fields.words,
                PreTokenizedString {
                    text: String::new(),
                    tokens: Analysis::PLAIN.tokens(&body),
                },
            );
            document.add_text(self.fields.motivation, motivation);
            document.add_text(self.fields.language, language.unwrap_or_default());
            document.add_bytes(self.fields.layout, &layout::encode(&layout));
            document.add_text(self.fields.body, &body);
            writer.add_document(document)?;
        }
        Ok(())
    }

    /// The annotations of the scope's assets that match `q` and the filters, in scope order:
    /// how many in all, and the `limit` from `offset` with the hits that start in them. `q`
    /// holds words and "quoted phrases"; an annotation matches when it holds any of them.
    /// Without terms, every annotation passing the filters matches, with no hits.
    ///
    /// Matches are counted and ordered from the index alone (each document's [`Map`] and the
    /// word positions in its postings); only the documents holding the page's annotations are
    /// read back to quote their hits.
    pub fn search(
        &self,
        scope: &[String],
        q: &str,
        filters: &Filters,
        offset: usize,
        limit: usize,
    ) -> Result<Results> {
        let clauses = locate::clauses(q);
        let alternatives = self.clause_terms(&clauses);
        let text_query = Self::text_query(&alternatives);
        if text_query.is_none() && !clauses.is_empty() {
            return Ok(Results::default());
        }
        let order: HashMap<&str, usize> = scope
            .iter()
            .enumerate()
            .map(|(index, key)| (key.as_str(), index))
            .collect();
        let searcher = self.reader.searcher();
        let mut terms: HashMap<Analysis, Vec<Vec<String>>> = HashMap::new();
        // (scope position, annotation id, document, index in its layout) of every match
        let mut found: Vec<(usize, i64, DocAddress, usize)> = Vec::new();
        // where the clauses match in each document, to quote those of the page
        let mut placed: HashMap<DocAddress, Vec<Place>> = HashMap::new();
        let mut columns = LayoutColumns::new();
        // a scope much larger than the documents holding the words, or covering most of the
        // index, is checked document by document rather than intersected with them
        let by_scope = Self::documents_with(&searcher, &alternatives)? * 2 > scope.len() as u64
            && (scope.len() as u64) * 2 < searcher.num_docs();
        let addresses = self.addresses(&searcher, scope, text_query.as_deref(), by_scope)?;
        for segment in addresses.chunk_by(|a, b| a.segment_ord == b.segment_ord) {
            let segment_ord = segment[0].segment_ord;
            let mut words = SegmentWords::new(searcher.segment_reader(segment_ord), &self.fields)?;
            let docs: Vec<DocId> = segment.iter().map(|address| address.doc_id).collect();
            for (&address, bytes) in segment.iter().zip(words.maps(&docs)?) {
                let map = Map::read(&bytes)?;
                let Some(&position) = order.get(map.asset) else {
                    continue;
                };
                if !filters.motivations.is_empty()
                    && !filters.motivations.iter().any(|m| m == map.motivation)
                {
                    continue;
                }
                let places = if clauses.is_empty() {
                    (0..map.len())
                        .map(|index| Place::whole(&map, index))
                        .collect()
                } else {
                    let analysis = Analysis::for_language(Some(map.language));
                    let clause_terms = terms
                        .entry(analysis)
                        .or_insert_with(|| clauses.iter().map(|c| analysis.terms(c)).collect());
                    words.places(address.doc_id, clause_terms, &map)?
                };
                // dates and creators are in the layout, read only when they filter
                let layout = if filters.dates.is_empty() && filters.users.is_empty() {
                    None
                } else {
                    Some(self.layout(&mut columns, &searcher, address)?)
                };
                let mut matched: Vec<usize> = Vec::new();
                let mut kept = Vec::new();
                for place in places {
                    let admitted = layout.as_ref().is_none_or(|layout| {
                        layout[place.first..=place.last]
                            .iter()
                            .all(|entry| filters.admit(map.motivation, entry))
                    });
                    if admitted {
                        matched.extend(place.first..=place.last);
                        kept.push(place);
                    }
                }
                matched.sort_unstable();
                matched.dedup();
                for index in matched {
                    found.push((position, map.id(index), address, index));
                }
                if !clauses.is_empty() && !kept.is_empty() {
                    placed.insert(address, kept);
                }
            }
        }
        found.sort_unstable();
        let total = found.len();
        let page: Vec<(usize, i64, DocAddress, usize)> =
            found.into_iter().skip(offset).take(limit).collect();
        let on_page: HashSet<i64> = page.iter().map(|(_, id, _, _)| *id).collect();
        let mut documents: BTreeMap<DocAddress, (usize, Stored)> = BTreeMap::new();
        for (position, _, address, _) in &page {
            if !documents.contains_key(address) {
                let stored = self.stored(&mut columns, &searcher, *address)?;
                documents.insert(*address, (*position, stored));
            }
        }
        let annotations = page
            .iter()
            .map(|(position, _, address, index)| {
                let (_, document) = &documents[address];
                let entry = &document.layout[*index];
                Matched {
                    asset: document.asset.clone(),
                    scope: *position,
                    value: document.body[entry.from..entry.to].to_owned(),
                    motivation: document.motivation.clone(),
                    language: document.language.clone(),
                    entry: entry.clone(),
                }
            })
            .collect();
        // the hits that start on the page, quoted from the words the index placed
        let mut hits: Vec<(usize, i64, Located)> = Vec::new();
        for (address, (position, document)) in &documents {
            let mut words: HashMap<usize, Vec<Word>> = HashMap::new();
            for place in placed.get(address).into_iter().flatten() {
                let first = document.layout[place.first].id;
                if !on_page.contains(&first) {
                    continue;
                }
                let span = document.span(place, &mut words)?;
                let mut located = locate::quote(&document.body, &document.layout, span);
                located.asset = document.asset.clone();
                located.scope = *position;
                hits.push((*position, first, located));
            }
        }
        hits.sort_by_key(|(position, first, located)| {
            (*position, *first, located.from, located.to)
        });
        Ok(Results {
            total,
            annotations,
            hits: hits.into_iter().map(|(_, _, located)| located).collect(),
        })
    }

    /// Completions of `q` in scope, alphabetically, those occurring at least `min` times; at
    /// most `limit`. The last word of `q` is completed; earlier words must precede it.
    pub fn complete(
        &self,
        scope: &[String],
        q: &str,
        filters: &Filters,
        min: u64,
        limit: usize,
    ) -> Result<Vec<Completion>> {
        let words = Analysis::PLAIN.words(q);
        let Some(last) = words.last() else {
            return Ok(Vec::new());
        };
        // A prefix ends where the text does: "caf" completes, "caf " does not.
        if last.to < q.len() {
            return Ok(Vec::new());
        }
        let mut totals: BTreeMap<String, u64> = if words.len() == 1 && filters.is_empty() {
            self.dictionary_completions(scope, &last.term)?
        } else {
            self.scanned_completions(scope, &words, filters)?
        };
        totals.retain(|_, total| *total >= min.max(1));
        Ok(totals
            .into_iter()
            .take(limit)
            .map(|(value, total)| Completion { value, total })
            .collect())
    }

    /// Terms of the `words` dictionary that start with `prefix`, counted over the scope.
    fn dictionary_completions(
        &self,
        scope: &[String],
        prefix: &str,
    ) -> Result<BTreeMap<String, u64>> {
        let searcher = self.reader.searcher();
        let in_scope = searcher.search(&self.scope_query(scope), &DocSetCollector)?;
        let mut by_segment: HashMap<u32, HashSet<u32>> = HashMap::new();
        for address in in_scope {
            by_segment
                .entry(address.segment_ord)
                .or_default()
                .insert(address.doc_id);
        }
        let mut totals = BTreeMap::new();
        for (segment_ord, reader) in searcher.segment_readers().iter().enumerate() {
            let Some(docs) = by_segment.get(&(segment_ord as u32)) else {
                continue;
            };
            let inverted = reader.inverted_index(self.fields.words)?;
            let mut stream = inverted
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .lt(prefix_end(prefix))
                .into_stream()?;
            while stream.advance() {
                let mut postings = inverted
                    .read_postings_from_terminfo(stream.value(), IndexRecordOption::WithFreqs)?;
                let mut total = 0u64;
                while postings.doc() != tantivy::TERMINATED {
                    if docs.contains(&postings.doc()) {
                        total += u64::from(postings.term_freq());
                    }
                    postings.advance();
                }
                if total > 0 {
                    let term = String::from_utf8_lossy(stream.key()).into_owned();
                    *totals.entry(term).or_insert(0) += total;
                }
            }
        }
        Ok(totals)
    }

    /// Completions found by reading the scope's text: for several words or with filters.
    fn scanned_completions(
        &self,
        scope: &[String],
        words: &[crate::analysis::Word],
        filters: &Filters,
    ) -> Result<BTreeMap<String, u64>> {
        let (last, before) = words.split_last().expect("at least one word");
        let before: Vec<String> = before.iter().map(|word| word.term.clone()).collect();
        let query: Option<Box<dyn Query>> = match before.len() {
            0 => None,
            1 => Some(Box::new(TermQuery::new(
                Term::from_field_text(self.fields.words, &before[0]),
                IndexRecordOption::Basic,
            ))),
            _ => Some(Box::new(PhraseQuery::new(
                before
                    .iter()
                    .map(|term| Term::from_field_text(self.fields.words, term))
                    .collect(),
            ))),
        };
        let mut totals = BTreeMap::new();
        for document in self.documents(scope, query.as_deref())? {
            let found = Analysis::PLAIN.words(&document.body);
            for (index, word) in found.iter().enumerate().skip(before.len()) {
                if !word.term.starts_with(&last.term) {
                    continue;
                }
                let start = index - before.len();
                if found[start..index]
                    .iter()
                    .zip(&before)
                    .any(|(word, term)| &word.term != term)
                {
                    continue;
                }
                let admitted = document
                    .layout
                    .iter()
                    .filter(|entry| entry.from < word.to && found[start].from < entry.to)
                    .all(|entry| filters.admit(&document.motivation, entry));
                if admitted {
                    let mut value = before.join(" ");
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(&word.term);
                    *totals.entry(value).or_insert(0) += 1;
                }
            }
        }
        Ok(totals)
    }

    /// Each clause cut into `text` terms by every analysis there is, each distinct cut once;
    /// clauses without a term are left out.
    fn clause_terms(&self, clauses: &[String]) -> Vec<Vec<Term>> {
        let mut seen: HashSet<Vec<String>> = HashSet::new();
        let mut alternatives = Vec::new();
        let analyses = Analysis::all();
        for clause in clauses {
            for &analysis in &analyses {
                let terms = analysis.terms(clause);
                if terms.is_empty() || !seen.insert(terms.clone()) {
                    continue;
                }
                alternatives.push(
                    terms
                        .iter()
                        .map(|term| Term::from_field_text(self.fields.text, term))
                        .collect(),
                );
            }
        }
        alternatives
    }

    /// Any of the alternatives (see [`Self::clause_terms`]); None when there are none.
    fn text_query(alternatives: &[Vec<Term>]) -> Option<Box<dyn Query>> {
        let queries: Vec<(Occur, Box<dyn Query>)> = alternatives
            .iter()
            .map(|terms| {
                let query: Box<dyn Query> = if terms.len() == 1 {
                    Box::new(TermQuery::new(terms[0].clone(), IndexRecordOption::Basic))
                } else {
                    Box::new(PhraseQuery::new(terms.clone()))
                };
                (Occur::Should, query)
            })
            .collect();
        (!queries.is_empty()).then(|| Box::new(BooleanQuery::new(queries)) as _)
    }

    /// About how many documents hold any of the alternatives: per alternative, the documents
    /// holding its rarest term.
    fn documents_with(searcher: &Searcher, alternatives: &[Vec<Term>]) -> Result<u64> {
        let mut total = 0;
        for terms in alternatives {
            let mut rarest = u64::MAX;
            for term in terms {
                rarest = rarest.min(searcher.doc_freq(term)?);
            }
            total += rarest;
        }
        Ok(total)
    }

    fn scope_query(&self, scope: &[String]) -> TermSetQuery {
        TermSetQuery::new(
            scope
                .iter()
                .map(|key| Term::from_field_text(self.fields.asset, key)),
        )
    }

    /// The documents of the scope's assets that match a query (all of them without), in
    /// index order; with `by_scope` false, those of any asset (the caller checks the scope).
    fn addresses(
        &self,
        searcher: &Searcher,
        scope: &[String],
        query: Option<&dyn Query>,
        by_scope: bool,
    ) -> Result<Vec<DocAddress>> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if by_scope || query.is_none() {
            clauses.push((Occur::Must, Box::new(self.scope_query(scope))));
        }
        if let Some(query) = query {
            clauses.push((Occur::Must, query.box_clone()));
        }
        let mut addresses: Vec<DocAddress> = searcher
            .search(&BooleanQuery::new(clauses), &DocSetCollector)?
            .into_iter()
            .collect();
        addresses.sort();
        Ok(addresses)
    }

    /// The stored documents of the scope's assets that match a query (all of them without).
    fn documents(&self, scope: &[String], query: Option<&dyn Query>) -> Result<Vec<Stored>> {
        let searcher = self.reader.searcher();
        let mut columns = LayoutColumns::new();
        self.addresses(&searcher, scope, query, true)?
            .into_iter()
            .map(|address| self.stored(&mut columns, &searcher, address))
            .collect()
    }

    /// A document's layout, from its segment's column.
    fn layout(
        &self,
        columns: &mut LayoutColumns,
        searcher: &Searcher,
        address: DocAddress,
    ) -> Result<Vec<Entry>> {
        let column = match columns.entry(address.segment_ord) {
            std::collections::hash_map::Entry::Occupied(found) => found.into_mut(),
            std::collections::hash_map::Entry::Vacant(missing) => missing.insert(
                searcher
                    .segment_reader(address.segment_ord)
                    .fast_fields()
                    .bytes(LAYOUT_FIELD)?
                    .ok_or_else(|| Error::index("an index segment has no layouts"))?,
            ),
        };
        let ord = column
            .term_ords(address.doc_id)
            .next()
            .ok_or_else(|| Error::index("an indexed document has no layout"))?;
        let mut bytes = Vec::new();
        column.ord_to_bytes(ord, &mut bytes)?;
        layout::decode(&bytes)
    }

    /// A document's text and layout.
    fn stored(
        &self,
        columns: &mut LayoutColumns,
        searcher: &Searcher,
        address: DocAddress,
    ) -> Result<Stored> {
        let document: TantivyDocument = searcher.doc(address)?;
        let text = |field| {
            document
                .get_first(field)
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let language = Some(text(self.fields.language)).filter(|tag| !tag.is_empty());
        Ok(Stored {
            asset: text(self.fields.asset),
            body: text(self.fields.body),
            layout: self.layout(columns, searcher, address)?,
            analysis: Analysis::for_language(language.as_deref()),
            motivation: text(self.fields.motivation),
            language,
        })
    }
}

/// One segment's document maps and word positions, read in document order.
struct SegmentWords {
    maps: BytesColumn,
    inverted: std::sync::Arc<InvertedIndexReader>,
    field: Field,
    /// Each term's postings in the segment (None: not there), advanced as documents go by.
    postings: HashMap<String, Option<SegmentPostings>>,
}

impl SegmentWords {
    fn new(reader: &SegmentReader, fields: &Fields) -> Result<Self> {
        let maps = reader
            .fast_fields()
            .bytes(MAP_FIELD)?
            .ok_or_else(|| Error::index("an index segment has no document maps"))?;
        Ok(Self {
            maps,
            inverted: reader.inverted_index(fields.text)?,
            field: fields.text,
            postings: HashMap::new(),
        })
    }

    /// The maps of documents (in increasing order), read in the column's order so that each
    /// block of it is read once.
    fn maps(&self, docs: &[DocId]) -> Result<Vec<Vec<u8>>> {
        let mut ords: Vec<(u64, usize)> = Vec::with_capacity(docs.len());
        for (index, &doc) in docs.iter().enumerate() {
            let ord = self
                .maps
                .term_ords(doc)
                .next()
                .ok_or_else(|| Error::index("an indexed document has no map"))?;
            ords.push((ord, index));
        }
        ords.sort_unstable();
        let sorted: Vec<u64> = ords.iter().map(|(ord, _)| *ord).collect();
        let mut read: Vec<Vec<u8>> = Vec::with_capacity(docs.len());
        let complete = self
            .maps
            .dictionary()
            .sorted_ords_to_term_cb(&sorted, |bytes| read.push(bytes.to_vec()))?;
        if !complete || read.len() != docs.len() {
            return Err(Error::index("an index segment is missing document maps"));
        }
        let mut maps = vec![Vec::new(); docs.len()];
        for ((_, index), bytes) in ords.into_iter().zip(read) {
            maps[index] = bytes;
        }
        Ok(maps)
    }

    /// Where the clauses (cut into the document's terms) match in a document; a place two
    /// clauses match is given once. Documents must be asked for in increasing order.
    fn places(&mut self, doc: DocId, clauses: &[Vec<String>], map: &Map<'_>) -> Result<Vec<Place>> {
        // (first word, words) of each match
        let mut places: Vec<(u32, u32)> = Vec::new();
        for terms in clauses {
            let mut lists: Vec<Vec<u32>> = Vec::with_capacity(terms.len());
            for term in terms {
                let list = self.positions(doc, term)?;
                if list.is_empty() {
                    break;
                }
                lists.push(list);
            }
            if lists.is_empty() || lists.len() < terms.len() {
                continue;
            }
            let length = terms.len() as u32;
            for &start in &lists[0] {
                let fits = lists
                    .iter()
                    .zip(0u32..)
                    .skip(1)
                    .all(|(list, offset)| list.binary_search(&(start + offset)).is_ok());
                if fits {
                    places.push((start, length));
                }
            }
        }
        if clauses.len() > 1 {
            places.sort_unstable();
            places.dedup();
        }
        Ok(places
            .into_iter()
            .map(|(start, words)| {
                let (first, last) = (map.entry_of(start), map.entry_of(start + words - 1));
                Place {
                    start,
                    words,
                    first,
                    last,
                    first_start: map.start(first),
                    last_start: map.start(last),
                }
            })
            .collect())
    }

    /// The positions of a term's words in a document, in order.
    fn positions(&mut self, doc: DocId, term: &str) -> Result<Vec<u32>> {
        if !self.postings.contains_key(term) {
            let postings = self.inverted.read_postings(
                &Term::from_field_text(self.field, term),
                IndexRecordOption::WithFreqsAndPositions,
            )?;
            self.postings.insert(term.to_owned(), postings);
        }
        let mut positions = Vec::new();
        if let Some(postings) = self.postings.get_mut(term).and_then(Option::as_mut) {
            if postings.doc() < doc {
                postings.seek(doc);
            }
            if postings.doc() == doc {
                postings.positions(&mut positions);
            }
        }
        Ok(positions)
    }
}

/// One document's text: the annotations' texts in order, a line each, and where each lies.
fn join<'a>(sources: impl IntoIterator<Item = &'a Source>) -> (String, Vec<Entry>) {
    let mut body = String::new();
    let mut layout = Vec::new();
    for source in sources {
        if !body.is_empty() {
            body.push('\n');
        }
        let from = body.len();
        body.push_str(&source.text);
        layout.push(Entry {
            id: source.id,
            created: source.created,
            creator: source.creator.clone(),
            xywh: source.xywh,
            time: source.time,
            from,
            to: body.len(),
        });
    }
    (body, layout)
}

/// A match placed by word positions: its first word and how many words, the annotations
/// (indices in the document) of its first and last word, and where their words start.
#[derive(Debug, Clone, Copy)]
struct Place {
    start: u32,
    words: u32,
    first: usize,
    last: usize,
    first_start: u32,
    last_start: u32,
}

impl Place {
    /// An annotation's whole text, as listed without search terms.
    fn whole(map: &Map<'_>, index: usize) -> Self {
        let start = map.start(index);
        Place {
            start,
            words: 0,
            first: index,
            last: index,
            first_start: start,
            last_start: start,
        }
    }
}

/// A document as stored.
struct Stored {
    asset: String,
    body: String,
    layout: Vec<Entry>,
    analysis: Analysis,
    motivation: String,
    language: Option<String>,
}

impl Stored {
    /// Where a placed match lies in the text: only the annotations it starts and ends in are
    /// analysed again (each once, kept in `words`) to find its words' bytes.
    fn span(&self, place: &Place, words: &mut HashMap<usize, Vec<Word>>) -> Result<Span> {
        let misplaced = || Error::index("a search match is not where the index put it");
        let mut word = |index: usize, position: u32, start: u32| -> Result<(usize, Word)> {
            let entry = self.layout.get(index).ok_or_else(misplaced)?;
            let analysed = words.entry(index).or_insert_with(|| {
                self.analysis
                    .words(self.body.get(entry.from..entry.to).unwrap_or_default())
            });
            let found = position
                .checked_sub(start)
                .and_then(|at| analysed.get(at as usize))
                .ok_or_else(misplaced)?;
            Ok((analysed.len(), found.clone()))
        };
        let end = place.start + place.words.max(1) - 1;
        let (_, first_word) = word(place.first, place.start, place.first_start)?;
        let (last_words, last_word) = word(place.last, end, place.last_start)?;
        let (first, last) = (&self.layout[place.first], &self.layout[place.last]);
        Ok(Span {
            from: first.from + first_word.from,
            to: last.from + last_word.to,
            first: place.first,
            last: place.last,
            whole: place.start == place.first_start
                && end + 1 == place.last_start + last_words as u32,
        })
    }
}

fn payload(index: &Index) -> Option<Payload> {
    let metas = index.load_metas().ok()?;
    serde_json::from_str(metas.payload.as_deref()?).ok()
}

fn tracing_rebuild(dir: &Path) {
    tracing::warn!(
        "search index at {} is from another version; it is emptied and rebuilt from the database",
        dir.display()
    );
}

/// The smallest byte string greater than every string starting with `prefix`.
fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0xff; prefix.len() + 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(id: i64, text: &str, language: Option<&str>) -> Source {
        Source {
            id,
            motivation: "supplementing".into(),
            text: text.into(),
            language: language.map(str::to_owned),
            created: 1_700_000_000 + id,
            creator: None,
            xywh: Some([0, 0, 10, 10]),
            time: None,
        }
    }

    fn page(key: &str, lines: &[(i64, &str)], language: Option<&str>) -> AssetText {
        AssetText {
            key: key.into(),
            annotations: lines
                .iter()
                .map(|(id, text)| source(*id, text, language))
                .collect(),
        }
    }

    fn index() -> SearchIndex {
        let index = SearchIndex::in_memory().unwrap();
        index
            .apply(
                &[
                    page(
                        "1/1/a",
                        &[(1, "The Café opened"), (2, "two birds sang"), (3, "two")],
                        None,
                    ),
                    page("1/1/b", &[(4, "running ships"), (5, "birds")], Some("en")),
                    page("2/1/a", &[(6, "birds of another customer")], None),
                ],
                7,
            )
            .unwrap();
        index
    }

    fn scope(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|key| key.to_string()).collect()
    }

    #[test]
    fn words_are_found_without_case_or_accents_in_scope_order() {
        let index = index();
        assert_eq!(index.sequence(), 7);
        let results = index
            .search(
                &scope(&["1/1/b", "1/1/a"]),
                "BIRDS cafe",
                &Filters::default(),
                0,
                100,
            )
            .unwrap();
        let ids: Vec<i64> = results.annotations.iter().map(|m| m.entry.id).collect();
        assert_eq!(ids, [5, 1, 2]);
        assert_eq!(results.hits.len(), 3);
        assert_eq!(results.hits[1].parts[0].exact, "Café");
        assert!(results.hits[0].whole);
    }

    #[test]
    fn a_phrase_spans_annotations_and_stemming_follows_language() {
        let index = index();
        let results = index
            .search(
                &scope(&["1/1/a"]),
                "\"sang two\"",
                &Filters::default(),
                0,
                100,
            )
            .unwrap();
        assert_eq!(results.hits.len(), 1);
        assert_eq!(results.hits[0].parts.len(), 2);
        let stemmed = index
            .search(&scope(&["1/1/b"]), "run ship", &Filters::default(), 0, 100)
            .unwrap();
        assert_eq!(stemmed.hits.len(), 2);
        let unstemmed = index
            .search(&scope(&["1/1/a"]), "open", &Filters::default(), 0, 100)
            .unwrap();
        assert!(unstemmed.hits.is_empty(), "no stemming without a language");
    }

    #[test]
    fn replacing_and_removing_an_asset() {
        let index = index();
        index
            .apply(&[page("1/1/a", &[(9, "only gulls")], None)], 8)
            .unwrap();
        let all = scope(&["1/1/a", "1/1/b"]);
        let birds = index
            .search(&all, "birds", &Filters::default(), 0, 100)
            .unwrap();
        assert_eq!(birds.annotations.len(), 1);
        index
            .apply(
                &[AssetText {
                    key: "1/1/b".into(),
                    annotations: Vec::new(),
                }],
                9,
            )
            .unwrap();
        assert!(
            index
                .search(&all, "birds", &Filters::default(), 0, 100)
                .unwrap()
                .hits
                .is_empty()
        );
        assert_eq!(index.sequence(), 9);
    }

    #[test]
    fn filters_narrow_and_no_terms_lists_everything() {
        let index = index();
        let filters = Filters {
            dates: vec![(1_700_000_002, 1_700_000_003)],
            ..Filters::default()
        };
        let results = index
            .search(&scope(&["1/1/a"]), "two", &filters, 0, 100)
            .unwrap();
        let ids: Vec<i64> = results.annotations.iter().map(|m| m.entry.id).collect();
        assert_eq!(ids, [2, 3]);
        let everything = index
            .search(&scope(&["1/1/a"]), "", &Filters::default(), 0, 100)
            .unwrap();
        assert_eq!(everything.annotations.len(), 3);
        assert!(everything.hits.is_empty());
        let commenting = Filters {
            motivations: vec!["commenting".into()],
            ..Filters::default()
        };
        assert!(
            index
                .search(&scope(&["1/1/a"]), "two", &commenting, 0, 100)
                .unwrap()
                .hits
                .is_empty()
        );
    }

    #[test]
    fn completions_count_in_scope() {
        let index = index();
        let one = scope(&["1/1/a", "1/1/b"]);
        let found = index
            .complete(&one, "bi", &Filters::default(), 1, 10)
            .unwrap();
        assert_eq!(
            found,
            [Completion {
                value: "birds".into(),
                total: 2
            }]
        );
        let two = index
            .complete(&one, "two bi", &Filters::default(), 1, 10)
            .unwrap();
        assert_eq!(
            two,
            [Completion {
                value: "two birds".into(),
                total: 1
            }]
        );
        assert!(
            index
                .complete(&one, "bi", &Filters::default(), 3, 10)
                .unwrap()
                .is_empty()
        );
        assert!(
            index
                .complete(&one, "birds ", &Filters::default(), 1, 10)
                .unwrap()
                .is_empty()
        );
    }

    /// Matches placed from the index's word positions are those found by reading the whole
    /// text again: the same places, quotes and annotations, over random pages of word and
    /// line annotations (case, accents, hyphens, annotations without words) in several
    /// segments.
    #[test]
    fn word_positions_place_hits_as_reading_the_text_does() {
        let vocabulary = [
            "Café", "cafe", "bird", "Birds", "two", "—", "naïve", "x", "sea-side", "1848",
        ];
        let mut seed = 11u64;
        let mut next = |below: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % below
        };
        let index = SearchIndex::in_memory().unwrap();
        let mut pages = Vec::new();
        let mut id = 0;
        for page in 0..10u64 {
            let annotations = (0..60)
                .map(|_| {
                    id += 1;
                    let words: Vec<&str> = (0..1 + next(4))
                        .map(|_| vocabulary[next(vocabulary.len())])
                        .collect();
                    source(id, &words.join(" "), None)
                })
                .collect();
            let asset = AssetText {
                key: format!("1/1/p{page}"),
                annotations,
            };
            // a commit each: one segment per page
            index.apply(std::slice::from_ref(&asset), page + 1).unwrap();
            pages.push(asset);
        }
        let keys: Vec<String> = pages.iter().map(|page| page.key.clone()).collect();
        for q in [
            "cafe",
            "BIRDS two",
            "\"two bird\"",
            "\"cafe cafe bird\"",
            "\"sea side\" 1848",
            "\"x x\" x",
            "naive \"naive x\"",
        ] {
            let results = index
                .search(&keys, q, &Filters::default(), 0, 1_000_000)
                .unwrap();
            let clauses: Vec<Vec<String>> = locate::clauses(q)
                .iter()
                .map(|clause| Analysis::PLAIN.terms(clause))
                .collect();
            let (mut hits, mut matched) = (Vec::new(), Vec::new());
            for (position, page) in pages.iter().enumerate() {
                let (body, layout) = join(&page.annotations);
                let mut ids = Vec::new();
                for span in locate::spans(&body, &layout, Analysis::PLAIN, &clauses) {
                    let mut located = locate::quote(&body, &layout, span);
                    located.asset = page.key.clone();
                    located.scope = position;
                    hits.push(located);
                    ids.extend(layout[span.first..=span.last].iter().map(|entry| entry.id));
                }
                ids.sort_unstable();
                ids.dedup();
                matched.extend(ids);
            }
            assert!(!hits.is_empty(), "{q}");
            assert_eq!(results.hits, hits, "{q}");
            let ids: Vec<i64> = results.annotations.iter().map(|m| m.entry.id).collect();
            assert_eq!(ids, matched, "{q}");
            assert_eq!(results.total, matched.len(), "{q}");
        }
    }

    #[test]
    fn an_index_on_disk_keeps_its_sequence() {
        let dir = tempfile::tempdir().unwrap();
        {
            let index = SearchIndex::open(dir.path()).unwrap();
            assert_eq!(index.sequence(), 0);
            index
                .apply(&[page("1/1/a", &[(1, "kept")], None)], 42)
                .unwrap();
        }
        let index = SearchIndex::open(dir.path()).unwrap();
        assert_eq!(index.sequence(), 42);
        assert_eq!(
            index
                .search(&scope(&["1/1/a"]), "kept", &Filters::default(), 0, 100)
                .unwrap()
                .hits
                .len(),
            1
        );
    }
}
