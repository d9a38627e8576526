//! The tantivy index: one document per asset, motivation and language, holding the text of
//! those annotations in order, so that a phrase is found across annotation boundaries (word
//! and line OCR). Matches are counted and placed from the index's word positions; only the
//! annotations a page of results quotes are analysed again, to find their words' bytes.
//!
//! - this file: what is indexed and found, the schema, and opening, writing and committing
//! - `search`: phrase and word queries over a scope, counted and placed from the index
//! - `places`: matches placed from the word positions in a segment's postings
//! - `stored`: documents read back, and the bytes of a placed match in their text
//! - `complete`: autocomplete from the dictionary, or from the scope's text

mod complete;
mod places;
mod search;
mod stored;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::schema::{
    BytesOptions, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::PreTokenizedString;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::analysis::Analysis;
use crate::layout::{self, Map};
use crate::locate::Located;
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

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn source(id: i64, text: &str, language: Option<&str>) -> Source {
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

    pub(super) fn index() -> SearchIndex {
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

    pub(super) fn scope(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|key| key.to_string()).collect()
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
