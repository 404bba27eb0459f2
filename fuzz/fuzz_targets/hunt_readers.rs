//! Any bytes as a log file (EVTX, JSON, JSON lines, Zeek, CSV, gzip of those), every event
//! read prepared for evaluation: no panic, and every event prepared is a JSON object.
#![no_main]

use ctiforge_hunt::{event, readers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = readers::read_bytes(data, &mut |item| {
        if let readers::Item::Event { value, .. } = item {
            let prepared = event::prepare(value, None);
            assert!(prepared.value.is_object());
        }
    });
});
