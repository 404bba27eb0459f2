//! Any bytes as a technique-model file (`attack map --model FILE`): an error or a model that
//! maps text without panicking, never a crash.
#![no_main]

use std::sync::OnceLock;

use ctiforge_attack::model::Model;
use ctiforge_attack::{MapOptions, Mapper};
use ctiforge_kb::KnowledgeBase;
use libfuzzer_sys::fuzz_target;

fn kb() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| KnowledgeBase::embedded().expect("embedded knowledge base"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = Model::decode(data, "fuzz") {
        let mapper = Mapper::new(kb(), model);
        let text = "The actor ran schtasks /create and Mimikatz.";
        let (_, sentences) = ctiforge_text::segment(text);
        let _ = mapper.map_document(text, &sentences, &MapOptions::default());
    }
});
