//! Any text through technique mapping with the embedded model: no panic, and every evidence
//! span slices its sentence out of the input.
#![no_main]

use std::sync::OnceLock;

use ctiforge_attack::{MapOptions, Mapper};
use ctiforge_kb::KnowledgeBase;
use libfuzzer_sys::fuzz_target;

fn kb() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| KnowledgeBase::embedded().expect("embedded knowledge base"))
}

fn mapper() -> &'static Mapper<'static> {
    static MAPPER: OnceLock<Mapper<'static>> = OnceLock::new();
    MAPPER.get_or_init(|| Mapper::embedded(kb()).expect("embedded model"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (_, sentences) = ctiforge_text::segment(&text);
    let mapping = mapper().map_document(&text, &sentences, &MapOptions::default());
    for technique in mapping.techniques {
        for evidence in technique.evidence {
            assert_eq!(text.get(evidence.start..evidence.end), Some(evidence.text.as_str()));
        }
    }
});
