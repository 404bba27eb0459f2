//! `ctiforge attack map|eval` as a process: the table, `--json`, the JSONL batch contract of
//! shared/DESIGN.md, HTML input, and clear errors.

mod common;

use common::run;

const REPORT: &str = "The intruders used Kerberoasting to request service tickets. \
    They then ran vssadmin delete shadows /all /quiet and encrypted the file servers.";

#[test]
fn batch_jsonl_follows_the_design_contract() {
    let input = format!(
        "{}\n\n{}\n",
        serde_json::json!({"id": "doc-1", "text": REPORT}),
        serde_json::json!({"id": 2, "text": "Nothing to see here."})
    );
    let output = run(&["attack", "map", "--jsonl"], &input);
    assert!(output.status.success(), "{output:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(
        lines.len(),
        2,
        "one output line per input line, blank lines skipped"
    );
    assert_eq!(lines[0]["id"], "doc-1");
    assert_eq!(lines[1]["id"], 2);
    assert_eq!(lines[1]["techniques"], serde_json::json!([]));
    let techniques = lines[0]["techniques"].as_array().expect("techniques");
    let ids: Vec<&str> = techniques.iter().filter_map(|t| t["id"].as_str()).collect();
    assert!(ids.contains(&"T1558.003"), "{ids:?}");
    assert!(ids.contains(&"T1490"), "{ids:?}");
    for technique in techniques {
        assert!(technique["name"].is_string());
        let score = technique["score"].as_f64().expect("score");
        assert!((0.0..=1.0).contains(&score));
        for evidence in technique["evidence"].as_array().expect("evidence") {
            let (start, end) = (
                evidence["start"].as_u64().expect("start") as usize,
                evidence["end"].as_u64().expect("end") as usize,
            );
            assert_eq!(
                &REPORT[start..end],
                evidence["text"].as_str().expect("text")
            );
        }
    }
}

#[test]
fn a_file_gives_a_readable_table_and_json_with_explanations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("report.html");
    std::fs::write(
        &path,
        format!(
            "<html><head><title>Intrusion</title><script>var schtasks = 1;</script></head>\
             <body><nav>Home | About</nav><article><h1>Intrusion</h1><p>{REPORT}</p></article>\
             </body></html>"
        ),
    )
    .expect("write");
    let path = path.to_str().expect("utf-8 path");
    let table = run(&["attack", "map", path, "--explain"], "");
    assert!(table.status.success(), "{table:?}");
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("T1558.003") && text.contains("Kerberoasting"),
        "{text}"
    );
    assert!(text.contains("signals:"), "{text}");
    assert!(
        !text.contains("T1053.005"),
        "script content is not report text: {text}"
    );

    let json = run(&["attack", "map", path, "--json", "--rollup"], "");
    assert!(json.status.success(), "{json:?}");
    let mapping: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let techniques = mapping["techniques"].as_array().expect("techniques");
    assert!(techniques.iter().any(|t| t["id"] == "T1558"), "{mapping:#}");
    assert!(
        techniques
            .iter()
            .all(|t| !t["id"].as_str().unwrap_or(".").contains('.'))
    );
    let signals = &techniques[0]["evidence"][0]["signals"];
    assert!(
        signals.as_array().is_some_and(|s| !s.is_empty()),
        "{mapping:#}"
    );
}

#[test]
fn bad_input_gives_a_clear_error_and_exit_2() {
    let output = run(&["attack", "map", "--min-score", "3"], "text");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("between 0 and 1"));

    let output = run(&["attack", "map", "--jsonl"], "{\"id\": 1}\n");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 1") && stderr.contains("\"text\""),
        "{stderr}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model.bin");
    std::fs::write(&model, b"not a model").expect("write");
    let output = run(
        &["attack", "map", "--model", model.to_str().expect("path")],
        "text",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not a ctiforge technique model"),
        "{stderr}"
    );

    let output = run(&["attack", "map", "/nonexistent/report.txt"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/report.txt"));

    let output = run(&["attack", "eval", "--from", "/nonexistent"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent"));
}

#[test]
fn labelled_sentences_are_scored_in_the_whole_technique_space() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("labelled.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"id": "a", "text": "The attacker hid instructions in a web page: an indirect prompt injection.", "labels": ["AML.T0051.001"]}"#,
            "\n",
            r#"{"id": "b", "text": "Operators suffered a loss of view for hours.", "labels": ["T0829"]}"#,
            "\n"
        ),
    )
    .expect("write");
    let output = run(
        &[
            "attack",
            "eval",
            "--labelled",
            path.to_str().expect("path"),
            "--json",
        ],
        "",
    );
    assert!(output.status.success(), "{output:?}");
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(result["counts"]["tp"], 2, "{result:#}");
    assert_eq!(result["counts"]["fn"], 0, "{result:#}");
}

/// A CSAF advisory describes products and weaknesses. Its device-heavy wording once placed a
/// tenth of the sentences of CISA's icsa-24-256-18 (Rockwell, CIP Security) in Mobile, and the
/// advice "Users who do not wish to use CIP security can disable the feature per device" then
/// gained the Mobile namesake of Impair Defenses. Advisories are placed by cue words only.
#[test]
fn an_advisory_is_not_placed_in_a_domain_by_its_wording() {
    let Some(advisory) = common::shared_data("advisories/cisa-csaf/ics-2024/icsa-24-256-18.json")
    else {
        return;
    };
    let advisory = advisory.to_str().expect("path");
    for args in [
        &["analyze", advisory][..],
        &["attack", "map", advisory, "--json"][..],
    ] {
        let output = run(args, "");
        assert!(output.status.success(), "{args:?}: {output:?}");
        let result: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let techniques = result["techniques"].as_array().expect("techniques");
        // Nor is the advice Impair Defenses (an evasion technique, which advisories do not
        // describe; see the next test).
        assert!(
            !techniques.iter().any(|t| t["id"] == "T1562"),
            "{args:?}: {techniques:#?}"
        );
        let mobile: Vec<&serde_json::Value> = techniques
            .iter()
            .filter(|t| {
                t["domains"]
                    .as_array()
                    .is_some_and(|d| d.contains(&"mobile".into()))
            })
            .collect();
        assert!(mobile.is_empty(), "{args:?}: {mobile:#?}");
    }
}

/// `analyze` of one of CISA's 2024 ICS advisories in the shared data, as JSON; `None` (with a
/// message) when the data is absent.
fn analyze_advisory(advisory: &str) -> Option<serde_json::Value> {
    let path = common::shared_data(&format!("advisories/cisa-csaf/ics-2024/{advisory}"))?;
    let output = run(&["analyze", path.to_str().expect("path")], "");
    assert!(output.status.success(), "{advisory}: {output:?}");
    Some(serde_json::from_slice(&output.stdout).expect("JSON"))
}

/// An advisory says what exploiting a weakness gives an attacker. Its sentences about the
/// product's own protocols and encodings once gave command-and-control and evasion techniques:
/// Web Protocols from "The affected web server is allowing HTTP methods like PUT and Delete"
/// and "missing general HTTP security headers", Obfuscated Files from "a hardcoded key to
/// obfuscate the configuration backup". What the weakness gives stays.
#[test]
fn an_advisory_gives_what_the_weakness_gives_not_an_intruders_later_steps() {
    for (advisory, kept) in [
        ("icsa-24-165-13.json", "T1539"),
        ("icsa-24-228-04.json", "T1110"),
        ("icsa-24-074-08.json", "T1498"),
    ] {
        let Some(result) = analyze_advisory(advisory) else {
            return;
        };
        let techniques = result["techniques"].as_array().expect("techniques");
        let ids: Vec<&str> = techniques.iter().filter_map(|t| t["id"].as_str()).collect();
        assert!(ids.contains(&kept), "{advisory}: {ids:?}");
        for technique in techniques {
            let tactics: Vec<String> = technique["tactics"]
                .as_array()
                .expect("tactics")
                .iter()
                .map(|t| t.to_string())
                .collect();
            assert!(
                tactics
                    .iter()
                    .any(|t| !t.contains("Command and Control") && !t.contains("Defense Evasion")),
                "{advisory}: {} {tactics:?}",
                technique["id"]
            );
        }
    }
}

/// An advisory's sentences about the product itself are not an attacker's execution or
/// discovery: OpenSSL's "The OpenSSL asn1parse command line application is also impacted by
/// this issue" gave Windows Command Shell, "called by the public API functions
/// PEM_write_bio_…" Native API, and CISA's advice "Physically disconnect the PLC from any
/// external networks" System Network Configuration Discovery. The weakness's denial of service
/// stays. Nor is an advisory's injection (of code, SQL, commands) Process Injection.
#[test]
fn an_advisory_describes_execution_and_discovery_only_with_an_attacker() {
    for (advisory, kept, gone) in [
        (
            "icsa-24-165-10.json",
            "T1498",
            &["T1059", "T1059.003", "T0807", "T1106", "T0834"][..],
        ),
        ("icsa-24-144-01.json", "T1498", &["T1016"][..]),
        // Siemens: "This could allow an attacker to execute code in the context of the
        // current process" is the weakness's code execution, not Process Injection.
        ("icsa-24-137-01.json", "T1498", &["T1055"][..]),
    ] {
        let Some(result) = analyze_advisory(advisory) else {
            return;
        };
        let ids: Vec<&str> = result["techniques"]
            .as_array()
            .expect("techniques")
            .iter()
            .filter_map(|t| t["id"].as_str())
            .collect();
        assert!(ids.contains(&kept), "{advisory}: {ids:?}");
        for id in gone {
            assert!(!ids.contains(id), "{advisory}: {id} in {ids:?}");
        }
    }
}
