//! Text analysis shared by indexing, querying and hit finding: words are split on anything
//! that is not a letter or digit, lower-cased and folded to ASCII ("Café" and "cafe" are one
//! word), then stemmed in the annotation's language when it has a stemmer.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer, Token,
};

/// Words longer than this many bytes are not indexed (base64 blobs, URLs run together).
const LONGEST_WORD: usize = 60;

/// The languages with a stemmer, by their ISO 639-1 code.
const STEMMED: &[(&str, Language)] = &[
    ("ar", Language::Arabic),
    ("da", Language::Danish),
    ("de", Language::German),
    ("el", Language::Greek),
    ("en", Language::English),
    ("es", Language::Spanish),
    ("fi", Language::Finnish),
    ("fr", Language::French),
    ("hu", Language::Hungarian),
    ("it", Language::Italian),
    ("nb", Language::Norwegian),
    ("nl", Language::Dutch),
    ("nn", Language::Norwegian),
    ("no", Language::Norwegian),
    ("pt", Language::Portuguese),
    ("ro", Language::Romanian),
    ("ru", Language::Russian),
    ("sv", Language::Swedish),
    ("ta", Language::Tamil),
    ("tr", Language::Turkish),
];

/// How a text is cut into index terms: folded words, stemmed in one language or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Analysis {
    stemmer: Option<Language>,
}

/// One word of a text: its byte range there and its index term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub from: usize,
    pub to: usize,
    pub term: String,
}

impl Analysis {
    /// Folding only: what autocomplete lists and what annotations without a language get.
    pub const PLAIN: Analysis = Analysis { stemmer: None };

    /// The analysis of a BCP 47 language tag: stemmed when its primary language has a
    /// stemmer, plain otherwise.
    pub fn for_language(language: Option<&str>) -> Self {
        let primary = language
            .and_then(|tag| tag.split('-').next())
            .map(|primary| primary.to_ascii_lowercase());
        let stemmer = primary.and_then(|primary| {
            STEMMED
                .iter()
                .find(|(code, _)| *code == primary)
                .map(|(_, language)| *language)
        });
        Self { stemmer }
    }

    /// Every distinct analysis there is, so that a query can be put in each.
    pub fn all() -> Vec<Analysis> {
        let mut all = vec![Analysis::PLAIN];
        for (_, language) in STEMMED {
            let analysis = Analysis {
                stemmer: Some(*language),
            };
            if !all.contains(&analysis) {
                all.push(analysis);
            }
        }
        all
    }

    fn analyzer(self) -> TextAnalyzer {
        let builder = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(LONGEST_WORD))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter);
        match self.stemmer {
            Some(language) => builder.filter(Stemmer::new(language)).build(),
            None => builder.build(),
        }
    }

    /// The words of a text, in order.
    pub fn words(self, text: &str) -> Vec<Word> {
        let mut analyzer = self.analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut words = Vec::new();
        while stream.advance() {
            let token = stream.token();
            words.push(Word {
                from: token.offset_from,
                to: token.offset_to,
                term: token.text.clone(),
            });
        }
        words
    }

    /// The words of a text as tantivy tokens with consecutive positions.
    pub(crate) fn tokens(self, text: &str) -> Vec<Token> {
        self.words(text)
            .into_iter()
            .enumerate()
            .map(|(position, word)| Token {
                offset_from: word.from,
                offset_to: word.to,
                position,
                text: word.term,
                position_length: 1,
            })
            .collect()
    }

    /// The terms of a query text.
    pub fn terms(self, text: &str) -> Vec<String> {
        self.words(text).into_iter().map(|word| word.term).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(
            Analysis::PLAIN.terms("Café CRÈME, naïve"),
            ["cafe", "creme", "naive"]
        );
    }

    #[test]
    fn stemming_follows_the_language() {
        let english = Analysis::for_language(Some("en-GB"));
        assert_eq!(english.terms("Running ships"), ["run", "ship"]);
        assert_eq!(Analysis::for_language(Some("xx")), Analysis::PLAIN);
        assert_eq!(Analysis::for_language(None).terms("Running"), ["running"]);
    }

    #[test]
    fn words_keep_their_byte_ranges() {
        let text = "Zürich, 1848";
        let words = Analysis::PLAIN.words(text);
        assert_eq!(&text[words[0].from..words[0].to], "Zürich");
        assert_eq!(words[1].term, "1848");
    }
}
