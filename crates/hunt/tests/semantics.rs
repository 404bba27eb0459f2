//! Hunting semantics on events of our own: every modifier matches what it should and nothing
//! else (so the literal prefilter drops nothing it must keep), logsource routing, filters,
//! correlation windows, and bad input counted and skipped.

use std::path::{Path, PathBuf};

use ctiforge_hunt::{Hunter, Kind, Options, Source};

/// Says why a test does not run; with `CI` set (`.ci/run` sets it) a skip is a failure.
macro_rules! skip {
    ($($arg:tt)*) => {{
        let message = format!($($arg)*);
        assert!(std::env::var_os("CI").is_none(), "{message} (CI is set: nothing may skip)");
        eprintln!("{message}");
    }};
}

fn hunt_with(rules: &str, log: &str, options: Options) -> Vec<ctiforge_hunt::Detection> {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule_file = dir.path().join("rules.yml");
    std::fs::write(&rule_file, rules).expect("write rules");
    let log_file = dir.path().join("events.jsonl");
    std::fs::write(&log_file, log).expect("write log");
    let set = ctiforge_sigma::rules::load(&[rule_file]);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let (hunter, errors) = Hunter::new(&set.collection, &[], options);
    assert!(errors.is_empty(), "{errors:?}");
    hunter.hunt(&[log_file], &|_, _, _| {}).expect("hunt").0
}

fn declared() -> Options {
    Options {
        declared: Some(Source::parse("test:app")),
        ..Options::default()
    }
}

fn rule(detection: &str) -> String {
    format!(
        "title: t\nid: 6c8a4e2b-0000-4000-8000-000000000001\nlevel: high\nlogsource:\n  product: test\n  service: app\ndetection:\n{detection}"
    )
}

/// (detection, an event that must match, an event that must not).
const CASES: &[(&str, &str, &str)] = &[
    (
        "  sel:\n    f: 'Abc'\n  condition: sel",
        r#"{"f": "aBC"}"#,
        r#"{"f": "abcd"}"#,
    ),
    (
        "  sel:\n    f|contains: 'evil'\n  condition: sel",
        r#"{"f": "so EVIL here"}"#,
        r#"{"f": "evi l"}"#,
    ),
    (
        "  sel:\n    f|startswith: 'C:\\Win'\n  condition: sel",
        r#"{"f": "c:\\windows"}"#,
        r#"{"f": "D:\\Win"}"#,
    ),
    (
        "  sel:\n    f|endswith: '.exe'\n  condition: sel",
        r#"{"f": "a.EXE"}"#,
        r#"{"f": "a.exe.txt"}"#,
    ),
    (
        "  sel:\n    f: 'a*b?c'\n  condition: sel",
        r#"{"f": "aXXbYc"}"#,
        r#"{"f": "aXXbc"}"#,
    ),
    (
        "  sel:\n    f|contains|all: ['one', 'two']\n  condition: sel",
        r#"{"f": "two and one"}"#,
        r#"{"f": "one only"}"#,
    ),
    (
        "  sel:\n    f|base64offset|contains: '/bin/bash'\n  condition: sel",
        r#"{"f": "echo IC9iaW4vYmFzaA== | base64 -d"}"#,
        r#"{"f": "/bin/bash"}"#,
    ),
    (
        "  sel:\n    f|wide|base64offset|contains: 'ping'\n  condition: sel",
        r#"{"f": "powershell -enc cABpAG4AZwA="}"#,
        r#"{"f": "ping"}"#,
    ),
    (
        "  sel:\n    f|windash|contains: ' -enc '\n  condition: sel",
        r#"{"f": "powershell /enc AAA"}"#,
        r#"{"f": "powershell enc AAA"}"#,
    ),
    (
        "  sel:\n    f|windash|contains: ' -enc '\n  condition: sel",
        "{\"f\": \"powershell \u{2013}enc AAA\"}",
        r#"{"f": "powershell -encX"}"#,
    ),
    (
        "  sel:\n    f|re: '^a\\d+z$'\n  condition: sel",
        r#"{"f": "a123z"}"#,
        r#"{"f": "A123Z"}"#,
    ),
    (
        "  sel:\n    f|re|i: '^a\\d+z$'\n  condition: sel",
        r#"{"f": "A123Z"}"#,
        r#"{"f": "a12"}"#,
    ),
    (
        "  sel:\n    f|cidr: '10.0.0.0/8'\n  condition: sel",
        r#"{"f": "10.20.30.40"}"#,
        r#"{"f": "11.0.0.1"}"#,
    ),
    (
        "  sel:\n    f|gte: 10\n  condition: sel",
        r#"{"f": 10}"#,
        r#"{"f": 9}"#,
    ),
    (
        "  sel:\n    f|lt: 10\n  condition: sel",
        r#"{"f": 3}"#,
        r#"{"f": 10}"#,
    ),
    (
        "  sel:\n    f|exists: true\n  condition: sel",
        r#"{"f": ""}"#,
        r#"{"g": 1}"#,
    ),
    (
        "  sel:\n    f|exists: false\n  condition: sel",
        r#"{"g": 1}"#,
        r#"{"f": "x"}"#,
    ),
    (
        "  sel:\n    f|fieldref: g\n  condition: sel",
        r#"{"f": "same", "g": "same"}"#,
        r#"{"f": "a", "g": "b"}"#,
    ),
    (
        "  sel:\n    f|cased: 'AbC'\n  condition: sel",
        r#"{"f": "AbC"}"#,
        r#"{"f": "abc"}"#,
    ),
    (
        "  sel:\n    f: null\n  condition: sel",
        r#"{"g": 1}"#,
        r#"{"f": "x"}"#,
    ),
    (
        "  sel:\n    f: ''\n  condition: sel",
        r#"{"f": ""}"#,
        r#"{"f": "x"}"#,
    ),
    (
        "  kw:\n    - 'mimikatz'\n  condition: kw",
        r#"{"a": {"b": "ran MIMIKATZ.exe"}}"#,
        r#"{"a": "mimi katz"}"#,
    ),
    (
        "  sel:\n    a.b: 'x'\n  condition: sel",
        r#"{"a": {"b": "x"}}"#,
        r#"{"a": {"c": "x"}}"#,
    ),
    (
        "  sel:\n    f|contains: 'Größe'\n  condition: sel",
        r#"{"f": "die GRÖSSE ist größe"}"#,
        r#"{"f": "grosse"}"#,
    ),
    (
        "  sel:\n    f: 4624\n  condition: sel",
        r#"{"f": "4624"}"#,
        r#"{"f": 4625}"#,
    ),
    (
        "  sel:\n    f|contains: 'evil'\n  filter:\n    g: 'ok'\n  condition: sel and not filter",
        r#"{"f": "evil", "g": "no"}"#,
        r#"{"f": "evil", "g": "OK"}"#,
    ),
    (
        "  sel_a:\n    f: 'a'\n  sel_b:\n    g: 'b'\n  condition: 1 of sel_*",
        r#"{"g": "b"}"#,
        r#"{"h": "a"}"#,
    ),
    (
        "  sel_a:\n    f: 'a'\n  sel_b:\n    g: 'b'\n  condition: all of sel_*",
        r#"{"f": "a", "g": "b"}"#,
        r#"{"f": "a"}"#,
    ),
];

#[test]
fn every_modifier_matches_what_it_should_with_and_without_the_prefilter() {
    for (detection, positive, negative) in CASES {
        let rules = rule(detection);
        for no_prefilter in [false, true] {
            let options = Options {
                no_prefilter,
                ..declared()
            };
            let hits = hunt_with(&rules, positive, options.clone());
            assert_eq!(
                hits.len(),
                1,
                "{detection} should match {positive} (no_prefilter {no_prefilter})"
            );
            let hits = hunt_with(&rules, negative, options);
            assert!(hits.is_empty(), "{detection} should not match {negative}");
        }
    }
}

#[test]
fn rules_only_meet_events_of_their_logsource() {
    let rules = rule("  sel:\n    f: 'x'\n  condition: sel");
    // No logsource declared: the events are counted but no rule applies.
    assert!(hunt_with(&rules, r#"{"f": "x"}"#, Options::default()).is_empty());
    let other = Options {
        declared: Some(Source::parse("test:other")),
        ..Options::default()
    };
    assert!(hunt_with(&rules, r#"{"f": "x"}"#, other).is_empty());
    assert_eq!(hunt_with(&rules, r#"{"f": "x"}"#, declared()).len(), 1);
}

const CORRELATION: &str = "title: failed logon
id: 1d3e5f70-0000-4000-8000-000000000001
name: failed_logon
logsource:
  product: test
  service: app
detection:
  sel:
    action: logon_failed
  condition: sel
---
title: brute force
id: 1d3e5f70-0000-4000-8000-000000000002
level: high
correlation:
  type: event_count
  rules:
    - failed_logon
  group-by:
    - user
  timespan: 5m
  condition:
    gte: 5
";

fn failures(user: &str, start: u32, step_seconds: u32, n: u32) -> String {
    (0..n)
        .map(|i| {
            let t = start + i * step_seconds;
            format!(
                "{{\"timestamp\": \"2026-01-01T10:{:02}:{:02}Z\", \"action\": \"logon_failed\", \"user\": \"{user}\"}}\n",
                t / 60,
                t % 60
            )
        })
        .collect()
}

#[test]
fn correlations_fire_inside_their_window_and_per_group() {
    // Five failures for alice within a minute: the correlation fires once it has five.
    let burst = failures("alice", 0, 10, 5);
    let hits = hunt_with(CORRELATION, &burst, declared());
    let correlations: Vec<_> = hits
        .iter()
        .filter(|d| d.kind == Kind::Correlation)
        .collect();
    assert_eq!(correlations.len(), 1, "{hits:#?}");
    assert_eq!(correlations[0].rule_title, "brute force");
    assert_eq!(hits.iter().filter(|d| d.kind == Kind::Detection).count(), 5);

    // Five failures two minutes apart span eight minutes: never five in one window.
    let slow = failures("alice", 0, 120, 5);
    let hits = hunt_with(CORRELATION, &slow, declared());
    assert!(hits.iter().all(|d| d.kind == Kind::Detection), "{hits:#?}");

    // Three for alice and three for bob: no group reaches five.
    let mixed = format!(
        "{}{}",
        failures("alice", 0, 5, 3),
        failures("bob", 20, 5, 3)
    );
    let hits = hunt_with(CORRELATION, &mixed, declared());
    assert!(hits.iter().all(|d| d.kind == Kind::Detection));
}

#[test]
fn malformed_lines_are_counted_and_the_rest_is_hunted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule_file = dir.path().join("r.yml");
    std::fs::write(&rule_file, rule("  sel:\n    f: 'x'\n  condition: sel")).expect("write");
    let log = dir.path().join("l.jsonl");
    std::fs::write(&log, "{\"f\": \"x\"}\nnot json\n{\"f\": \"x\"}\n").expect("write");
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, [0u8, 1, 2, 3]).expect("write");
    let set = ctiforge_sigma::rules::load(&[rule_file]);
    let (hunter, _) = Hunter::new(&set.collection, &[], declared());
    let (hits, summary) = hunter
        .hunt(&[log, junk.clone()], &|_, _, _| {})
        .expect("hunt");
    assert_eq!(hits.len(), 2);
    assert_eq!(summary.events, 2);
    assert_eq!(summary.skipped.get("malformed JSON line"), Some(&1));
    assert_eq!(summary.failed_files.len(), 1);
    assert_eq!(summary.failed_files[0].0, junk);
}

fn shared() -> Option<PathBuf> {
    let data = std::env::var_os("CTIFORGE_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    if data.join("evtx").is_dir() && data.join("logs").is_dir() {
        Some(data)
    } else {
        skip!(
            "SKIPPED: no shared data at {} (set CTIFORGE_DATA); .ci/run fails in this case",
            data.display()
        );
        None
    }
}

#[test]
fn the_prefilter_drops_no_detection_on_real_logs() {
    let Some(data) = shared() else {
        return;
    };
    let files = ctiforge_sigma::rules::rule_files(&[data.join("sigma/rules")]).expect("rules");
    let set = ctiforge_sigma::rules::load(&files);
    let logs = ctiforge_hunt::log_files(&[data.join("evtx"), data.join("logs")]).expect("logs");
    let run = |no_prefilter, memory_budget| {
        let options = Options {
            no_prefilter,
            memory_budget,
            ..Options::default()
        };
        let (hunter, _) = Hunter::new(&set.collection, &[], options);
        let (timeline, summary) = hunter.timeline(&logs, &|_, _, _| {}).expect("hunt");
        let runs = timeline.runs();
        let hits = timeline.collect().expect("read back");
        let keys: Vec<(Option<String>, String, PathBuf, u64)> = hits
            .iter()
            .map(|d| {
                (
                    d.timestamp.clone(),
                    d.rule_id.clone().unwrap_or_default(),
                    d.source.file.clone(),
                    d.source.record,
                )
            })
            .collect();
        (keys, summary.events, runs)
    };
    let (fast, events, runs) = run(false, 0);
    let (full, _, _) = run(true, 0);
    assert!(events > 8_000, "{events} events");
    assert!(fast.len() > 1_000, "{} detections", fast.len());
    assert_eq!(runs, 0, "the default budget holds these in memory");
    assert_eq!(fast, full);
    // With a small budget the detections wait in temporary files and merge back in order.
    let (spilled, _, runs) = run(false, 256 * 1024);
    assert!(runs > 3, "{runs} runs");
    assert_eq!(spilled, fast);
}

#[test]
fn real_windows_cloudtrail_and_zeek_samples_resolve_their_fields() {
    let Some(data) = shared() else {
        return;
    };
    let rules = "title: lsass access
id: 2b4e6a80-0000-4000-8000-000000000001
logsource:
  product: windows
  category: process_access
detection:
  sel:
    TargetImage|endswith: '\\lsass.exe'
  condition: sel
---
title: cloudtrail stop logging
id: 2b4e6a80-0000-4000-8000-000000000002
logsource:
  product: aws
  service: cloudtrail
detection:
  sel:
    eventSource: cloudtrail.amazonaws.com
    eventName: StopLogging
  condition: sel
---
title: zeek dns to the eval domain
id: 2b4e6a80-0000-4000-8000-000000000003
logsource:
  product: zeek
  service: dns
detection:
  sel:
    query|endswith: '.dmevals.local'
    id.resp_p: 53
  condition: sel
";
    let dir = tempfile::tempdir().expect("tempdir");
    let rule_file = dir.path().join("r.yml");
    std::fs::write(&rule_file, rules).expect("write");
    let set = ctiforge_sigma::rules::load(&[rule_file]);
    let (hunter, errors) = Hunter::new(&set.collection, &[], Options::default());
    assert!(errors.is_empty(), "{errors:?}");
    let logs = ctiforge_hunt::log_files(&[
        data.join("logs/windows-json/otrf-security-datasets/psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json"),
        data.join("logs/cloudtrail/suzaku-test-files/StopLogging.json"),
        data.join("logs/zeek/otrf-apt29-day1/NASHUA_dns.log"),
    ])
    .expect("logs");
    let (hits, summary) = hunter.hunt(&logs, &|_, _, _| {}).expect("hunt");
    assert!(
        summary.failed_files.is_empty(),
        "{:?}",
        summary.failed_files
    );
    let count = |title: &str| hits.iter().filter(|d| d.rule_title == title).count();
    assert!(count("lsass access") >= 1, "{}", count("lsass access"));
    assert_eq!(count("cloudtrail stop logging"), 1);
    assert!(count("zeek dns to the eval domain") >= 1);
}

#[test]
fn a_user_pipeline_maps_rule_fields_to_the_logs_own() {
    // The rule speaks Sysmon (`Image`); the log is an EDR export with `process.path`.
    let rules = "title: rundll32 from an EDR export
id: 4c2d8e10-0000-4000-8000-000000000001
logsource:
  product: edr
  category: process_creation
detection:
  sel:
    Image|endswith: '\\rundll32.exe'
  condition: sel
";
    let pipeline = rsigma_eval::pipeline::parse_pipeline(
        "name: edr\ntransformations:\n  - type: field_name_mapping\n    mapping:\n      Image: process.path\n",
    )
    .expect("pipeline");
    let dir = tempfile::tempdir().expect("tempdir");
    let rule_file = dir.path().join("r.yml");
    std::fs::write(&rule_file, rules).expect("write");
    let log = dir.path().join("edr.jsonl");
    std::fs::write(
        &log,
        "{\"process\": {\"path\": \"C:\\\\Windows\\\\System32\\\\rundll32.exe\"}}\n{\"process\": {\"path\": \"C:\\\\x.exe\"}}\n",
    )
    .expect("write");
    let set = ctiforge_sigma::rules::load(&[rule_file]);
    let options = Options {
        declared: Some(Source::parse("edr::process_creation")),
        ..Options::default()
    };
    let (hunter, errors) = Hunter::new(&set.collection, &[pipeline], options);
    assert!(errors.is_empty(), "{errors:?}");
    let (hits, _) = hunter.hunt(&[log], &|_, _, _| {}).expect("hunt");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].source.record, 1);
}

/// Reads `path` with the readers, returning (events, records skipped, skip reasons).
fn read_counts(path: &Path) -> (u64, u64, Vec<String>) {
    let (mut events, mut skipped, mut reasons) = (0, 0, Vec::new());
    ctiforge_hunt::readers::read(path, &mut |item| match item {
        ctiforge_hunt::readers::Item::Event { .. } => events += 1,
        ctiforge_hunt::readers::Item::Skipped { count, reason, .. } => {
            skipped += count;
            reasons.push(reason);
        }
    })
    .expect("readable");
    (events, skipped, reasons)
}

#[test]
fn every_record_of_a_damaged_evtx_chunk_is_counted_as_lost() {
    let Some(data) = shared() else {
        return;
    };
    let sample =
        data.join("evtx/EVTX-ATTACK-SAMPLES/Defense Evasion/DE_1102_security_log_cleared.evtx");
    let (whole, none, _) = read_counts(&sample);
    assert_eq!(none, 0);
    let mut bytes = std::fs::read(&sample).expect("sample");
    assert!(bytes.len() > 4096 + 3 * 65536, "a sample of several chunks");
    // Scribble over the records of the second chunk (its header stays readable).
    let start = 4096 + 65536 + 512 + 64;
    for (i, b) in bytes[start..start + 4096].iter_mut().enumerate() {
        *b = (i * 7 % 251) as u8;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let damaged = dir.path().join("damaged.evtx");
    std::fs::write(&damaged, &bytes).expect("write");
    let (events, lost, reasons) = read_counts(&damaged);
    assert!(lost > 1, "{lost} lost: {reasons:?}");
    assert_eq!(events + lost, whole, "{reasons:?}");
    // The same file gzip-compressed reads the same.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &bytes).expect("compress");
    let packed = dir.path().join("damaged.evtx.gz");
    std::fs::write(&packed, gz.finish().expect("finish")).expect("write");
    assert_eq!(read_counts(&packed).0, events);
}
