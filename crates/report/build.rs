//! Fetches the report page's front-end library (cytoscape.js, pinned in web/package-lock.json)
//! from the npm registry with `npm ci` when it is not installed yet, and copies it into
//! OUT_DIR, where src/html.rs inlines it. The library is never committed.

use std::path::Path;
use std::process::Command;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let web = Path::new(&manifest).join("web");
    println!("cargo:rerun-if-changed=web/package.json");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    let library = web.join("node_modules/cytoscape/dist/cytoscape.min.js");
    if !library.is_file() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&web)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => fail(&format!("`npm ci` in {} failed ({s})", web.display())),
            Err(e) => fail(&format!("cannot run npm ({e})")),
        }
    }
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    // The minified file starts with the library's MIT licence notice, which the page keeps.
    if let Err(e) = std::fs::copy(&library, Path::new(&out).join("cytoscape.min.js")) {
        fail(&format!("cannot copy {}: {e}", library.display()));
    }
}

fn fail(message: &str) -> ! {
    eprintln!(
        "error: {message}.\nThe HTML report inlines cytoscape.js from the npm registry: install \
         Node.js and npm, or run `npm ci` in crates/report/web, then build again."
    );
    std::process::exit(1);
}
