//! Finding hits in a document's text: the words and phrases of a query located by byte range,
//! cut along the annotations they fall in, with the text around them.

#[cfg(test)]
use std::collections::HashSet;

#[cfg(test)]
use crate::analysis::Analysis;
use crate::index::Entry;

/// Bytes of text kept before and after a match.
const CONTEXT: usize = 48;

/// A match of one query clause: where it is in the document's text and, per annotation it
/// touches, the quote that selects it.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// The key of the asset it is on (set by the index).
    pub asset: String,
    /// Where that asset is in the scope searched (set by the index).
    pub scope: usize,
    pub from: usize,
    pub to: usize,
    /// The match is the whole text of its annotations (word-level OCR): its prefix and suffix
    /// come from the annotations around it.
    pub whole: bool,
    pub parts: Vec<Part>,
}

/// The piece of a match inside one annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub annotation: i64,
    pub prefix: String,
    pub exact: String,
    pub suffix: String,
}

/// The clauses of a query: each "quoted phrase", and each other word.
pub fn clauses(q: &str) -> Vec<String> {
    let mut clauses = Vec::new();
    let mut rest = q;
    while let Some(quote) = rest.find('"') {
        clauses.extend(rest[..quote].split_whitespace().map(str::to_owned));
        let after = &rest[quote + 1..];
        let end = after.find('"').unwrap_or(after.len());
        let phrase = after[..end].trim();
        if !phrase.is_empty() {
            clauses.push(phrase.to_owned());
        }
        rest = after.get(end + 1..).unwrap_or("");
    }
    clauses.extend(rest.split_whitespace().map(str::to_owned));
    clauses
}

/// A match found in a document, before its quotes are cut: its byte range, the annotations it
/// touches (indices into the layout) and whether it is their whole text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub from: usize,
    pub to: usize,
    pub first: usize,
    pub last: usize,
    pub whole: bool,
}

/// Every match of the clauses (already cut into this analysis's terms) in `body`, in text
/// order; a place matched by two clauses once. Searches place matches from the index's word
/// positions instead; this reads the whole text and is what the tests check them against.
#[cfg(test)]
pub(crate) fn spans(
    body: &str,
    layout: &[Entry],
    analysis: Analysis,
    clauses: &[Vec<String>],
) -> Vec<Span> {
    let words = analysis.words(body);
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for terms in clauses {
        if terms.is_empty() || terms.len() > words.len() {
            continue;
        }
        for start in 0..=words.len() - terms.len() {
            let window = &words[start..start + terms.len()];
            if window
                .iter()
                .zip(terms)
                .any(|(word, term)| &word.term != term)
            {
                continue;
            }
            let (from, to) = (window[0].from, window[window.len() - 1].to);
            if !seen.insert((from, to)) {
                continue;
            }
            // the layout and the words are in text order: find by bisection
            let first = layout.partition_point(|entry| entry.to <= from);
            let last = layout.partition_point(|entry| entry.from < to);
            if first >= last {
                continue;
            }
            let whole = layout[first..last].iter().all(|entry| {
                let inside = words.partition_point(|word| word.from < entry.from);
                words[inside..]
                    .iter()
                    .take_while(|word| word.to <= entry.to)
                    .all(|word| from <= word.from && word.to <= to)
            });
            found.push(Span {
                from,
                to,
                first,
                last: last - 1,
                whole,
            });
        }
    }
    found.sort_by_key(|span| (span.from, span.to));
    found
}

/// A span with its quotes cut from the text: per annotation, the matched text and what
/// surrounds it (inside the annotation, or around it when the match is its whole text).
pub(crate) fn quote(body: &str, layout: &[Entry], span: Span) -> Located {
    let parts = layout[span.first..=span.last]
        .iter()
        .map(|entry| {
            let start = span.from.max(entry.from);
            let end = span.to.min(entry.to);
            let (before, after) = if span.whole {
                (0, body.len())
            } else {
                (entry.from, entry.to)
            };
            Part {
                annotation: entry.id,
                prefix: tail(&body[before..start]),
                exact: flatten(&body[start..end]),
                suffix: head(&body[end..after]),
            }
        })
        .collect();
    Located {
        asset: String::new(),
        scope: 0,
        from: span.from,
        to: span.to,
        whole: span.whole,
        parts,
    }
}

fn flatten(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// The last few words of a text.
fn tail(text: &str) -> String {
    if text.len() <= CONTEXT {
        return flatten(text);
    }
    let mut start = text.len() - CONTEXT;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let cut = &text[start..];
    let cut = cut
        .find(char::is_whitespace)
        .map_or(cut, |space| &cut[space..]);
    flatten(cut)
}

/// The first few words of a text.
fn head(text: &str) -> String {
    if text.len() <= CONTEXT {
        return flatten(text);
    }
    let mut end = CONTEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = &text[..end];
    let cut = cut
        .rfind(char::is_whitespace)
        .map_or(cut, |space| &cut[..=space]);
    flatten(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every match of the clauses in `body` with its quotes, in text order.
    fn hits(body: &str, layout: &[Entry], analysis: Analysis, clauses: &[String]) -> Vec<Located> {
        let terms: Vec<Vec<String>> = clauses
            .iter()
            .map(|clause| analysis.terms(clause))
            .collect();
        spans(body, layout, analysis, &terms)
            .into_iter()
            .map(|span| quote(body, layout, span))
            .collect()
    }

    fn entry(id: i64, from: usize, to: usize) -> Entry {
        Entry {
            id,
            created: 0,
            creator: None,
            xywh: None,
            time: None,
            from,
            to,
        }
    }

    #[test]
    fn quoted_phrases_are_one_clause() {
        assert_eq!(
            clauses(r#"bird "two  birds" bush"#),
            ["bird", "two  birds", "bush"]
        );
        assert_eq!(clauses(r#""open phrase"#), ["open phrase"]);
        assert!(clauses("  ").is_empty());
    }

    #[test]
    fn a_word_inside_a_line_is_highlighted_with_its_line_around_it() {
        let body = "two birds in the bush";
        let found = hits(
            body,
            &[entry(7, 0, body.len())],
            Analysis::PLAIN,
            &["Birds".into()],
        );
        assert_eq!(found.len(), 1);
        assert!(!found[0].whole);
        assert_eq!(
            found[0].parts,
            [Part {
                annotation: 7,
                prefix: "two ".into(),
                exact: "birds".into(),
                suffix: " in the bush".into()
            }]
        );
    }

    #[test]
    fn a_phrase_over_a_line_break_touches_both_lines() {
        let body = "the first line ends with two\nbirds begin the second";
        let layout = [entry(1, 0, 28), entry(2, 29, body.len())];
        let found = hits(body, &layout, Analysis::PLAIN, &["two birds".into()]);
        assert_eq!(found.len(), 1);
        let parts = &found[0].parts;
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].annotation, parts[0].exact.as_str()), (1, "two"));
        assert_eq!((parts[1].annotation, parts[1].exact.as_str()), (2, "birds"));
        assert_eq!(parts[1].suffix, " begin the second");
    }

    #[test]
    fn a_whole_word_annotation_takes_its_context_from_its_neighbours() {
        let body = "old\nCafé\nopen";
        let layout = [entry(1, 0, 3), entry(2, 4, 9), entry(3, 10, body.len())];
        let found = hits(body, &layout, Analysis::PLAIN, &["cafe".into()]);
        assert!(found[0].whole);
        assert_eq!(found[0].parts[0].prefix, "old ");
        assert_eq!(found[0].parts[0].exact, "Café");
        assert_eq!(found[0].parts[0].suffix, " open");
    }

    #[test]
    fn context_is_cut_at_words() {
        let long = "word ".repeat(30);
        assert!(tail(&long).len() <= CONTEXT);
        assert!(tail(&long).starts_with(' '));
        assert!(head(&long).ends_with(' '));
    }
}
