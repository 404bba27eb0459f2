//! `ctiforge kb` and the CLI contract (exit codes, errors naming files), run as a real process.

mod common;

use common::ctiforge;
use std::path::PathBuf;
use std::process::{Command, Output};

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn data_dir() -> Option<PathBuf> {
    let enterprise = common::shared_data("attack/enterprise-attack.json")?;
    Some(enterprise.parent()?.parent()?.to_path_buf())
}

#[test]
fn info_lists_every_source_with_its_version() {
    let output = ctiforge(&["kb", "info", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let versions: Vec<(String, String)> = info["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| {
            (
                s["source"]["key"].as_str().unwrap_or_default().to_owned(),
                s["source"]["version"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    for (key, version) in [
        ("attack-enterprise", "18.1"),
        ("attack-mobile", "18.1"),
        ("attack-ics", "18.1"),
        ("atlas", "5.6.0"),
        ("d3fend", "1.2.0"),
        ("kev", "2025.08.25"),
    ] {
        assert!(
            versions.contains(&(key.to_owned(), version.to_owned())),
            "{key} {version} in {versions:?}"
        );
    }
    assert!(versions.iter().any(|(k, _)| k == "misp-galaxy"));
    assert!(versions.iter().any(|(k, _)| k == "misp-warninglists"));

    let text = ctiforge(&["kb", "info"]);
    assert!(text.status.success());
    assert!(stdout(&text).contains("techniques (active)"));
}

#[test]
fn lookup_t1190_shows_tactic_mitigations_and_d3fend() {
    let output = ctiforge(&["kb", "lookup", "T1190"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    for expected in [
        "Exploit Public-Facing Application",
        "Initial Access (TA0001)",
        "M1030  Network Segmentation",
        "D3-ITF",
        "D3-NI",
        "Detection strategies",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn lookup_d3fend_and_atlas_ids() {
    let output = ctiforge(&["kb", "lookup", "d3-ni"]);
    assert!(output.status.success());
    assert!(stdout(&output).starts_with("D3-NI  Network Isolation  [d3fend-technique]"));

    let output = ctiforge(&["kb", "lookup", "AML.T0043", "--json"]);
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["matches"][0]["name"], "Craft Adversarial Data");
}

#[test]
fn lookup_by_alias_and_cve() {
    let output = ctiforge(&["kb", "lookup", "Cozy", "Bear", "--json"]);
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["matches"][0]["id"], "G0016");
    assert_eq!(json["matches"][0]["kind"], "group");

    let output = ctiforge(&["kb", "lookup", "cve-2021-44228"]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.contains("CVE-2021-44228"), "{text}");
    let ransomware = text
        .lines()
        .find(|l| l.trim_start().starts_with("Ransomware use"))
        .expect("ransomware line");
    assert!(ransomware.trim_end().ends_with(" known"), "{ransomware}");
}

#[test]
fn unknown_lookup_exits_1_with_suggestions() {
    let output = ctiforge(&["kb", "lookup", "Cozy Baer"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("Nothing in the knowledge base matches 'Cozy Baer'"));
    assert!(text.contains("G0016"), "{text}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(ctiforge(&["kb", "frobnicate"]).status.code(), Some(2));
    assert_eq!(ctiforge(&["kb", "lookup"]).status.code(), Some(2));
}

#[test]
fn version_names_the_sources() {
    let output = ctiforge(&["--version"]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.contains("ATT&CK Enterprise"), "{text}");
    assert!(text.contains("18.1"), "{text}");
    assert!(text.contains("MITRE D3FEND"), "{text}");
}

#[test]
fn a_bad_snapshot_file_is_an_input_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.bin");
    let output = ctiforge(&["--kb", missing.to_str().expect("utf-8"), "kb", "info"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("nope.bin"), "{}", stderr(&output));

    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, b"this is not a snapshot").expect("write");
    let output = ctiforge(&["--kb", garbage.to_str().expect("utf-8"), "kb", "info"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("garbage.bin"), "{message}");
    assert!(
        message.contains("not a ctiforge knowledge-base snapshot"),
        "{message}"
    );
}

#[test]
fn build_from_a_missing_folder_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("kb.bin");
    let from = dir.path().join("no-data");
    let output = ctiforge(&[
        "kb",
        "build",
        "--from",
        from.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("attack/enterprise-attack.json is missing"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists(), "no snapshot is written");
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
}

#[test]
fn build_then_use_the_built_snapshot() {
    let Some(data) = data_dir() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("kb.bin");
    let out_arg = out.to_str().expect("utf-8");
    let output = ctiforge(&[
        "kb",
        "build",
        "--from",
        data.to_str().expect("utf-8"),
        "--out",
        out_arg,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    // Deterministic and identical to the embedded snapshot built from the same data.
    let built = std::fs::read(&out).expect("snapshot written");
    let embedded = ctiforge_kb::KnowledgeBase::embedded_bytes();
    assert!(
        built == embedded,
        "the build differs from the embedded snapshot"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_ctiforge"))
        .args(["kb", "lookup", "T1059.001"])
        .env("CTIFORGE_KB", &out)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("PowerShell"));
}
