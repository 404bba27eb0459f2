//! Any bytes, claimed as each format, through ingest: no panic, and every sentence span lies
//! on character boundaries of the document text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for path in ["r.txt", "r.md", "r.html", "r.pdf"] {
        let input = ctiforge_text::Input { bytes: data, path: Some(path), ..Default::default() };
        if let Ok(document) = ctiforge_text::ingest(input) {
            for span in &document.sentences {
                assert!(document.text.get(span.start..span.end).is_some());
            }
        }
    }
});
