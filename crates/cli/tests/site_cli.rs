//! The web UI of `ctiforge serve` in a real browser: Debian's chromium driven by playwright-core
//! (crates/cli/tests/browser/check_site.mjs) signs in, submits a report, follows it to its page,
//! clicks the graph, searches by an indicator, downloads the bundle and audits accessibility with
//! axe-core. `.ci/run` installs chromium and the node packages and sets CTIFORGE_BROWSER_TESTS=1.

mod common;

use std::path::Path;
use std::process::Command;

use common::assert_succeeded;
use common::service::{Service, token};

#[test]
fn the_web_ui_works_in_a_real_browser() {
    if std::env::var_os("CTIFORGE_BROWSER_TESTS").is_none() {
        skip!("SKIPPED the web UI browser test: set CTIFORGE_BROWSER_TESTS=1 (.ci/run does)");
        return;
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let artifacts = manifest.join("../../target/browser-artifacts/site");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("store.db").display());
    let analyst = token(&db, "analyst", "writer");
    // No --anonymous-read: a visitor without a session is sent to sign in.
    let service = Service::start(&db, &[], &dir.path().join("serve.log"));
    let output = Command::new("node")
        .arg(manifest.join("tests/browser/check_site.mjs"))
        .arg(&service.base)
        .arg(&analyst)
        .arg(manifest.join("../../examples/reports/hospital-intrusion.md"))
        .arg(&artifacts)
        .output()
        .expect("node runs");
    assert_succeeded(
        &output,
        &format!("the web UI; server log:\n{}", service.log()),
    );
    for shot in ["report-desktop.png", "feed-phone.png", "report-phone.png"] {
        assert!(
            std::fs::metadata(artifacts.join(shot)).is_ok_and(|m| m.len() > 10_000),
            "screenshot {shot} saved"
        );
    }
    eprintln!("{}", String::from_utf8_lossy(&output.stdout).trim());
}
