//! How long writing a 1,000-canvas manifest takes (model -> JSON value -> text).
use std::time::Instant;

use vitrine_iiif::presentation::*;

fn main() {
    let canvases: Vec<Canvas> = (0..1000)
        .map(|n| {
            let service = ImageService {
                v3: format!("http://127.0.0.1:8080/iiif/3/bench/1/b1-{n:05}"),
                v2: format!("http://127.0.0.1:8080/iiif/2/bench/1/b1-{n:05}"),
            };
            let id = format!("http://127.0.0.1:8080/iiif/manifest/3/bench/1/b1-{n:05}/canvas");
            Canvas {
                page_id: format!("{id}/page"),
                annotation_id: format!("{id}/page/painting"),
                id,
                label: Text::plain(format!("b1-{n:05}")),
                width: Some(48),
                height: Some(64),
                duration: None,
                body: Some(Body::Image {
                    service: service.clone(),
                    width: 48,
                    height: 64,
                }),
                thumbnail: Some(Thumbnail {
                    service,
                    width: 48,
                    height: 64,
                }),
                rendering: Vec::new(),
                restriction: None,
            }
        })
        .collect();
    let manifest = Manifest {
        id: "http://127.0.0.1:8080/iiif/query/3/bench/book/1/b1".into(),
        label: Text::plain("book"),
        summary: None,
        metadata: Vec::new(),
        required_statement: None,
        rights: None,
        homepage: Vec::new(),
        see_also: Vec::new(),
        provider: None,
        behavior: vec!["paged".into()],
        viewing_direction: None,
        thumbnail: None,
        canvases,
        structures: Vec::new(),
        rendering: Vec::new(),
        part_of: Vec::new(),
        search: None,
    };
    for _ in 0..3 {
        let start = Instant::now();
        let value = v3::manifest(&manifest);
        let built = start.elapsed();
        let text = value.to_string();
        let written = start.elapsed();
        println!("value {built:?}, text {written:?}, {} bytes", text.len());
    }
}
