//! Inflates the committed snapshot (`snapshot/ctiforge-kb.bin.gz`, gzip keeps the repository
//! small) into the build folder, where `include_bytes!` embeds it as is: the binary then reads
//! its sections in place, with nothing to decompress at run time
//! (docs/decisions/0013-start-up.md).

use std::io::Read;
use std::path::PathBuf;

fn main() {
    let source = "snapshot/ctiforge-kb.bin.gz";
    println!("cargo::rerun-if-changed={source}");
    let compressed = std::fs::read(source).unwrap_or_else(|e| panic!("cannot read {source}: {e}"));
    let mut snapshot = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut snapshot)
        .unwrap_or_else(|e| panic!("{source} is not a gzip file: {e}"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("ctiforge-kb.bin"), snapshot)
        .unwrap_or_else(|e| panic!("cannot write the inflated snapshot: {e}"));
}
