//! Any bytes inside each JSON log wrapper the hunt reads (a top-level array, CloudTrail's
//! `{"Records": [...]}`, Graph's `{"value": [...]}`, JSON lines), so that the streaming
//! document parser sees mostly JSON: no panic, events are objects, and a skipped record
//! always stands for at least one.
#![no_main]

use ctiforge_hunt::readers;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&wrapper, body)) = data.split_first() else {
        return;
    };
    let (open, close): (&[u8], &[u8]) = match wrapper % 4 {
        0 => (b"[", b"]"),
        1 => (b"{\"Records\": [", b"]}"),
        2 => (b"{\"meta\": 1, \"value\": [", b"], \"next\": null}"),
        _ => (b"", b""),
    };
    let bytes = [open, body, close].concat();
    let _ = readers::read_bytes(&bytes, &mut |item| match item {
        readers::Item::Event { value, .. } => assert!(value.is_object()),
        readers::Item::Skipped { count, .. } => assert!(count >= 1),
    });
});
