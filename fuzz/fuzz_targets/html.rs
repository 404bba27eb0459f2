//! Any bytes as an HTML page through ingest: no panic (deep or unclosed nesting included),
//! and every sentence span lies on character boundaries of the extracted text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = ctiforge_text::Input { bytes: data, path: Some("page.html"), ..Default::default() };
    if let Ok(document) = ctiforge_text::ingest(input) {
        for span in &document.sentences {
            assert!(document.text.get(span.start..span.end).is_some());
        }
    }
});
