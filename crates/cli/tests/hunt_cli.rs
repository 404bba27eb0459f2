//! `ctiforge hunt` as a process: the timeline and summary, JSON lines per DESIGN.md, CSV,
//! `--min-level`, exit codes and bad input.

mod common;

use common::ctiforge;

const RULES: &str = "title: Encoded PowerShell
id: 7e0c1a52-0000-4000-8000-000000000001
level: high
logsource:
  product: test
  service: app
detection:
  sel:
    cmd|contains: ' -enc '
  condition: sel
---
title: Whoami
id: 7e0c1a52-0000-4000-8000-000000000002
level: medium
logsource:
  product: test
  service: app
detection:
  sel:
    cmd|endswith: 'whoami'
  condition: sel
";

const LOG: &str = r#"{"timestamp": "2026-01-01T10:00:02Z", "host": "ward-3", "cmd": "powershell -enc AAAA"}
{"timestamp": "2026-01-01T10:00:01Z", "host": "ward-3", "cmd": "whoami"}
{"timestamp": "2026-01-01T10:00:03Z", "host": "ward-3", "cmd": "notepad"}
not json at all
"#;

fn setup() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("rules.yml"), RULES).expect("write");
    std::fs::create_dir(dir.path().join("logs")).expect("mkdir");
    std::fs::write(dir.path().join("logs/app.jsonl"), LOG).expect("write");
    let rules = dir.path().join("rules.yml").display().to_string();
    let logs = dir.path().join("logs").display().to_string();
    (dir, rules, logs)
}

#[test]
fn the_timeline_is_in_time_order_with_a_summary() {
    let (_dir, rules, logs) = setup();
    let output = ctiforge(&["hunt", "--rules", &rules, "--logsource", "test:app", &logs]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let whoami = stdout.find("Whoami").expect("whoami row");
    let encoded = stdout.find("Encoded PowerShell").expect("encoded row");
    assert!(whoami < encoded, "time order: {stdout}");
    assert!(stdout.contains("1 files, 3 events read"), "{stdout}");
    assert!(
        stdout.contains("1 events skipped: malformed JSON line"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 detections by 2 rules: 1 high, 1 medium"),
        "{stdout}"
    );
}

#[test]
fn json_lines_follow_the_design_contract_and_csv_has_a_header() {
    let (_dir, rules, logs) = setup();
    let output = ctiforge(&[
        "hunt",
        "--rules",
        &rules,
        "--logsource",
        "test:app",
        "--format",
        "jsonl",
        &logs,
    ]);
    assert_eq!(output.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2);
    let first = &lines[0];
    assert_eq!(first["rule_id"], "7e0c1a52-0000-4000-8000-000000000002");
    assert_eq!(first["rule_title"], "Whoami");
    assert_eq!(first["level"], "medium");
    assert_eq!(first["timestamp"], "2026-01-01T10:00:01Z");
    assert!(
        first["source"]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("app.jsonl"))
    );
    assert_eq!(first["source"]["record"], 2);
    assert_eq!(first["event"]["cmd"], "whoami");

    let output = ctiforge(&[
        "hunt",
        "--rules",
        &rules,
        "--logsource",
        "test:app",
        "--format",
        "csv",
        &logs,
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("timestamp,level,rule_id,rule_title,kind,file,record,host,event\n"));
    assert_eq!(stdout.lines().count(), 3);
}

#[test]
fn min_level_and_no_detection_exit_1() {
    let (_dir, rules, logs) = setup();
    let output = ctiforge(&[
        "hunt",
        "--rules",
        &rules,
        "--logsource",
        "test:app",
        "--min-level",
        "high",
        "--format",
        "jsonl",
        &logs,
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
    // Without a logsource for these events no rule applies: exit 1, and the summary says why.
    let output = ctiforge(&["hunt", "--rules", &rules, &logs]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("No detections."), "{stdout}");
    assert!(
        stdout.contains("3 events of no recognised logsource (give --logsource"),
        "{stdout}"
    );
}

#[test]
fn unreadable_input_is_a_clear_error() {
    let (dir, rules, _logs) = setup();
    let output = ctiforge(&["hunt", "--rules", &rules, "/nonexistent/logs"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/logs"));
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, [0u8, 159, 146, 150]).expect("write");
    let output = ctiforge(&["hunt", "--rules", &rules, junk.to_str().expect("path")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no log file could be read") && stderr.contains("not a log format"),
        "{stderr}"
    );
}

#[test]
fn sigmahq_rules_over_the_evtx_samples_give_a_timeline() {
    let (Some(rules), Some(evtx)) = (
        common::shared_data("sigma/rules"),
        common::shared_data("evtx"),
    ) else {
        return;
    };
    let (rules, evtx) = (rules.display().to_string(), evtx.display().to_string());
    let output = ctiforge(&["hunt", "--rules", &rules, &evtx]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("time "),
        "{}",
        &stdout[..200.min(stdout.len())]
    );
    let summary = stdout.split("\nSummary\n").nth(1).expect("summary");
    let detections: u64 = summary
        .lines()
        .find_map(|l| l.trim().split(" detections by ").next()?.parse().ok())
        .expect("detections line");
    assert!(detections > 1_000, "{summary}");
    let events: u64 = summary
        .lines()
        .find_map(|l| {
            l.split(" files, ")
                .nth(1)?
                .split(" events read")
                .next()?
                .parse()
                .ok()
        })
        .expect("events line");
    assert!(events > 8_000, "{summary}");
    // EVTX samples sit next to READMEs, a pcap and an ETL file: those are listed, not fatal.
    assert!(summary.contains("file not read: ") && summary.contains(".pcap: not a log format"));
}
