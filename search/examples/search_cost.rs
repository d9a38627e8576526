//! What a search costs inside the index, without HTTP or a database: a book of 1,000 pages of
//! 300 OCR words (a 5,000-word vocabulary, Zipf-like frequencies), then searches over the whole
//! book for the commonest word, a word about once a page, a rare word and a phrase, and
//! autocomplete.
//!
//! cargo run --release -p vitrine-search --example search_cost

use std::time::Instant;

use vitrine_search::{AssetText, Filters, SearchIndex, Source};

fn main() {
    let vocabulary: Vec<String> = (0..5000).map(|n| format!("w{n:04}x")).collect();
    let mut seed = 7u64;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as f64 / (1u64 << 31) as f64
    };
    // Zipf-like: rank ~ exp(u * ln(N))
    let mut pick = || vocabulary[((next() * (5000f64).ln()).exp() as usize - 1).min(4999)].clone();
    let mut id = 0;
    let assets: Vec<AssetText> = (0..1000)
        .map(|page| AssetText {
            key: format!("1/1/p{page:05}"),
            annotations: (0..300)
                .map(|_| {
                    id += 1;
                    Source {
                        id,
                        motivation: "supplementing".into(),
                        text: pick(),
                        language: None,
                        created: 0,
                        creator: None,
                        xywh: Some([1, 2, 3, 4]),
                        time: None,
                    }
                })
                .collect(),
        })
        .collect();
    let index = SearchIndex::in_memory().unwrap();
    let started = Instant::now();
    index.apply(&assets, 1).unwrap();
    println!(
        "indexed 300,000 words in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let scope: Vec<String> = assets.iter().map(|asset| asset.key.clone()).collect();
    let phrase = format!(
        "\"{} {}\"",
        assets[10].annotations[5].text, assets[10].annotations[6].text
    );
    for (label, q) in [
        ("commonest word", "w0000x".to_owned()),
        // about once a page: a page of results reads ~75 documents
        ("common word", "w0025x".to_owned()),
        ("rare word", "w3000x".to_owned()),
        ("phrase", phrase),
    ] {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..20 {
            let started = Instant::now();
            found = index
                .search(&scope, &q, &Filters::default(), 0, 100)
                .unwrap()
                .total;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "search, {label}: {found} annotations, p50 {:.2} ms",
            times[10]
        );
    }
    let mut times = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        index
            .complete(&scope, "w01", &Filters::default(), 1, 100)
            .unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!("autocomplete, 3 letters: p50 {:.2} ms", times[10]);
}
