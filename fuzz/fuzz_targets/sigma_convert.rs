//! Any text as a Sigma collection (YAML through our nesting-capped loader, detection,
//! condition), converted for every target: no panic, and every rule ends with a query or a
//! reason.
#![no_main]

use ctiforge_sigma::convert::{Target, convert_collection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(collection) = ctiforge_sigma::rules::parse_yaml(text) else {
        return;
    };
    for target in Target::ALL {
        for result in convert_collection(&collection, target, &[]) {
            assert!(result.query.is_some() != result.error.is_some());
        }
    }
});
