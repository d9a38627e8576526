//! Searching a scope: `q` cut into clauses, each clause into terms by every analysis, the
//! documents holding any of them found, and the matching annotations counted and ordered
//! from the index alone; only the documents of the page asked for are read back.

use std::collections::{BTreeMap, HashMap, HashSet};

use tantivy::collector::DocSetCollector;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, TermQuery, TermSetQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, Searcher, Term};

use super::places::{Place, SegmentWords};
use super::stored::{LayoutColumns, Stored};
use super::{Filters, Matched, Results, SearchIndex};
use crate::Result;
use crate::analysis::{Analysis, Word};
use crate::layout::Map;
use crate::locate::{self, Located};

impl SearchIndex {
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

    pub(super) fn scope_query(&self, scope: &[String]) -> TermSetQuery {
        TermSetQuery::new(
            scope
                .iter()
                .map(|key| Term::from_field_text(self.fields.asset, key)),
        )
    }

    /// The documents of the scope's assets that match a query (all of them without), in
    /// index order; with `by_scope` false, those of any asset (the caller checks the scope).
    pub(super) fn addresses(
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
}

#[cfg(test)]
mod tests {
    use super::super::tests::{index, scope, source};
    use super::super::{AssetText, Filters, SearchIndex, join};
    use crate::analysis::Analysis;
    use crate::locate;

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
}
