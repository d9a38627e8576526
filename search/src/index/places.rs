//! Matches placed from the index alone: a segment's document maps and the word positions in
//! its postings, read in document order, give each match's first word, its length and the
//! annotations it starts and ends in.

use std::collections::HashMap;

use tantivy::columnar::BytesColumn;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, InvertedIndexReader, SegmentReader, Term};

use super::{Fields, MAP_FIELD};
use crate::layout::Map;
use crate::{Error, Result};

/// One segment's document maps and word positions, read in document order.
pub(super) struct SegmentWords {
    maps: BytesColumn,
    inverted: std::sync::Arc<InvertedIndexReader>,
    field: Field,
    /// Each term's postings in the segment (None: not there), advanced as documents go by.
    postings: HashMap<String, Option<SegmentPostings>>,
}

impl SegmentWords {
    pub(super) fn new(reader: &SegmentReader, fields: &Fields) -> Result<Self> {
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
    pub(super) fn maps(&self, docs: &[DocId]) -> Result<Vec<Vec<u8>>> {
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
    pub(super) fn places(
        &mut self,
        doc: DocId,
        clauses: &[Vec<String>],
        map: &Map<'_>,
    ) -> Result<Vec<Place>> {
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

/// A match placed by word positions: its first word and how many words, the annotations
/// (indices in the document) of its first and last word, and where their words start.
#[derive(Debug, Clone, Copy)]
pub(super) struct Place {
    pub(super) start: u32,
    pub(super) words: u32,
    pub(super) first: usize,
    pub(super) last: usize,
    pub(super) first_start: u32,
    pub(super) last_start: u32,
}

impl Place {
    /// An annotation's whole text, as listed without search terms.
    pub(super) fn whole(map: &Map<'_>, index: usize) -> Self {
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
