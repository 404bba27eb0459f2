//! `ctiforge sigma check` as a process: file:line:column output, JSON lines, exit codes.

mod common;

use common::ctiforge;

const GOOD: &str = "title: Good rule\nid: 0b0c3c9a-8a7e-4d0e-9f41-2f1b6d3c5e71\nstatus: test\ndescription: Whoami run by anyone.\nauthor: ctiforge tests\ndate: 2026-11-25\ntags:\n    - attack.discovery\n    - attack.t1033\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        Image|endswith: '\\whoami.exe'\n    condition: selection\nfalsepositives:\n    - Administrators\nlevel: low\n";

#[test]
fn a_clean_folder_exits_0_and_a_broken_rule_exits_1_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("nested")).expect("mkdir");
    std::fs::write(dir.path().join("nested/good.yml"), GOOD).expect("write");
    let folder = dir.path().to_str().expect("path");
    let output = ctiforge(&["sigma", "check", folder]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("1 files checked: 0 errors"));

    let broken = GOOD
        .replace("0b0c3c9a", "1b0c3c9a")
        .replace("condition: selection", "condition: selection and not (");
    std::fs::write(dir.path().join("broken.yaml"), broken).expect("write");
    let output = ctiforge(&["sigma", "check", folder]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("broken.yaml:16:"), "{stdout}");
    assert!(
        stdout.contains("error[condition-syntax] 1b0c3c9a-8a7e-4d0e-9f41-2f1b6d3c5e71"),
        "{stdout}"
    );

    let output = ctiforge(&["sigma", "check", "--format", "jsonl", folder]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert!(
        lines.iter().any(|f| f["code"] == "condition-syntax"
            && f["line"] == 16
            && f["severity"] == "error")
    );
}

#[test]
fn missing_paths_and_empty_folders_are_usage_errors() {
    let output = ctiforge(&["sigma", "check", "/nonexistent/rules"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/rules"));
    let dir = tempfile::tempdir().expect("tempdir");
    let output = ctiforge(&["sigma", "check", dir.path().to_str().expect("path")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no .yml or .yaml files"));
}
