//! Autocomplete: a single word completed from the `words` dictionary and counted over the
//! scope; several words, or filters, by reading the scope's text.

use std::collections::{BTreeMap, HashMap, HashSet};

use tantivy::collector::DocSetCollector;
use tantivy::postings::Postings;
use tantivy::query::{PhraseQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Term};

use super::{Completion, Filters, SearchIndex};
use crate::Result;
use crate::analysis::Analysis;

impl SearchIndex {
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
    use super::super::tests::{index, scope};
    use super::super::{Completion, Filters};

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
}
