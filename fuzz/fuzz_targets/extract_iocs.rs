//! Any text through the IOC extractor: no panic, and every indicator's offsets slice its raw
//! text out of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for indicator in ctiforge_ioc::Extractor::new().extract(&text) {
        assert_eq!(text.get(indicator.start..indicator.end), Some(indicator.raw.as_str()));
    }
});
