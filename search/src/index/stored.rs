//! Documents read back from the index: their layouts from the segments' fast-field columns,
//! their stored text, and where in that text a placed match lies.

use std::collections::HashMap;

use tantivy::columnar::BytesColumn;
use tantivy::query::Query;
use tantivy::schema::Value;
use tantivy::{DocAddress, Searcher, TantivyDocument};

use super::places::Place;
use super::{Entry, LAYOUT_FIELD, SearchIndex};
use crate::analysis::{Analysis, Word};
use crate::layout;
use crate::locate::Span;
use crate::{Error, Result};

/// Each segment's layout column, opened once per search.
pub(super) type LayoutColumns = HashMap<u32, BytesColumn>;

impl SearchIndex {
    /// The stored documents of the scope's assets that match a query (all of them without).
    pub(super) fn documents(
        &self,
        scope: &[String],
        query: Option<&dyn Query>,
    ) -> Result<Vec<Stored>> {
        let searcher = self.reader.searcher();
        let mut columns = LayoutColumns::new();
        self.addresses(&searcher, scope, query, true)?
            .into_iter()
            .map(|address| self.stored(&mut columns, &searcher, address))
            .collect()
    }

    /// A document's layout, from its segment's column.
    pub(super) fn layout(
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
    pub(super) fn stored(
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

/// A document as stored.
pub(super) struct Stored {
    pub(super) asset: String,
    pub(super) body: String,
    pub(super) layout: Vec<Entry>,
    pub(super) analysis: Analysis,
    pub(super) motivation: String,
    pub(super) language: Option<String>,
}

impl Stored {
    /// Where a placed match lies in the text: only the annotations it starts and ends in are
    /// analysed again (each once, kept in `words`) to find its words' bytes.
    pub(super) fn span(
        &self,
        place: &Place,
        words: &mut HashMap<usize, Vec<Word>>,
    ) -> Result<Span> {
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
