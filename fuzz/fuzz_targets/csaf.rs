//! Any bytes as a JSON file through ingest, where CSAF advisories are recognised and read
//! (notes, product tree, vulnerabilities): no panic, and every sentence span lies on
//! character boundaries of the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = ctiforge_text::Input { bytes: data, path: Some("advisory.json"), ..Default::default() };
    if let Ok(document) = ctiforge_text::ingest(input) {
        for span in &document.sentences {
            assert!(document.text.get(span.start..span.end).is_some());
        }
    }
});
