//! `ctiforge ioc extract` as a process: formats, stdin, the JSONL batch contract of
//! shared/DESIGN.md, false positives on request.

mod common;

use common::run;
use std::process::Output;

fn lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn batch_jsonl_follows_the_design_contract() {
    let input = concat!(
        r#"{"id": "a", "text": "C2 at hxxp://evil[.]com/x and 10.0.0.1"}"#,
        "\n",
        r#"{"id": 7, "text": "nothing here"}"#,
        "\n"
    );
    let output = run(&["ioc", "extract", "--jsonl", "-"], input);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = lines(&output);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["id"], "a");
    assert_eq!(records[1]["id"], 7);
    assert_eq!(records[1]["iocs"].as_array().map(Vec::len), Some(0));
    let iocs = records[0]["iocs"].as_array().expect("iocs");
    assert_eq!(
        iocs.len(),
        2,
        "the URL and its host; the private address is left out without --all: {iocs:?}"
    );
    assert_eq!(iocs[0]["type"], "domain");
    assert_eq!(iocs[0]["derived_from"], "url");
    let url = &iocs[1];
    assert_eq!(url["type"], "url");
    assert_eq!(url["value"], "http://evil.com/x");
    assert_eq!(url["raw"], "hxxp://evil[.]com/x");
    assert_eq!(url["start"], 6);
    assert_eq!(url["end"], 25);
    assert_eq!(url["defanged"], true);

    let output = run(&["ioc", "extract", "--jsonl", "--all"], input);
    let records = lines(&output);
    let private = records[0]["iocs"]
        .as_array()
        .expect("iocs")
        .iter()
        .find(|i| i["value"] == "10.0.0.1")
        .cloned()
        .expect("flagged address listed with --all");
    assert!(
        private["false_positive"]
            .as_str()
            .is_some_and(|r| r.contains("RFC 1918"))
    );
}

#[test]
fn batch_errors_name_the_line() {
    let output = run(
        &["ioc", "extract", "--jsonl"],
        "{\"id\": 1, \"text\": \"ok\"}\nnot json\n",
    );
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("line 2"), "{message}");
}

#[test]
fn html_files_yield_the_article_indicators_with_sentences() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("report.html");
    std::fs::write(
        &path,
        "<html><body><nav>9.9.9.9</nav><article><p>The loader beacons to hxxps://cdn-update[.]net/a.bin. It also contacts 45.77.12.9.</p></article><footer>8.8.4.4</footer></body></html>",
    )
    .expect("write");
    let output = run(
        &[
            "ioc",
            "extract",
            path.to_str().expect("utf-8"),
            "--format",
            "jsonl",
        ],
        "",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found = lines(&output);
    let values: Vec<&str> = found.iter().filter_map(|i| i["value"].as_str()).collect();
    assert_eq!(
        values,
        [
            "cdn-update.net",
            "https://cdn-update.net/a.bin",
            "45.77.12.9"
        ]
    );
    assert_eq!(found[2]["sentence"], "It also contacts 45.77.12.9.");
}

#[test]
fn table_csv_and_json_outputs() {
    let text =
        "Beacon to 45.77.12.9 and 45.77.12.9 again, hash d41d8cd98f00b204e9800998ecf8427f.\n";
    let table = run(&["ioc", "extract"], text);
    let table = String::from_utf8_lossy(&table.stdout);
    let ip_row = table
        .lines()
        .find(|l| l.starts_with("ipv4"))
        .expect("ip row");
    assert!(
        ip_row.contains("45.77.12.9") && ip_row.split_whitespace().nth(2) == Some("2"),
        "{table}"
    );

    let csv = run(&["ioc", "extract", "--format", "csv"], text);
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(
        csv.starts_with("type,value,raw,start,end,defanged,host,port,false_positive,context\n")
    );
    assert_eq!(csv.lines().count(), 4);

    let json = run(&["ioc", "extract", "--format", "json"], text);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).expect("a JSON array");
    assert_eq!(parsed.as_array().map(Vec::len), Some(3));
}

#[test]
fn missing_files_are_input_errors() {
    let output = run(&["ioc", "extract", "/no/such/report.pdf"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/no/such/report.pdf"));
}

/// Regression (issue #3): every TRAM report goes through batch extraction with sentences; a
/// no-break space before a period once made the sentence splitter panic.
#[test]
fn the_tram_report_corpus_extracts_without_error() {
    let data = std::env::var_os("CTIFORGE_DATA").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        std::path::PathBuf::from,
    );
    let Ok(train) = std::fs::read_to_string(data.join("tram/train.jsonl")) else {
        skip!("SKIPPED: no shared data at {}", data.display());
        return;
    };
    let mut reports: Vec<(String, String)> = Vec::new();
    for line in train.lines() {
        let row: serde_json::Value = serde_json::from_str(line).expect("TRAM rows are JSON");
        let (report, text) = (
            row["report"].as_str().unwrap_or(""),
            row["text"].as_str().unwrap_or(""),
        );
        match reports.last_mut() {
            Some((name, body)) if name == report => {
                body.push('\n');
                body.push_str(text);
            }
            _ => reports.push((report.to_owned(), text.to_owned())),
        }
    }
    let input: String = reports
        .iter()
        .map(|(name, body)| serde_json::json!({"id": name, "text": body}).to_string() + "\n")
        .collect();
    let output = run(&["ioc", "extract", "--jsonl", "--all"], &input);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = lines(&output);
    assert_eq!(records.len(), reports.len());
    let total: usize = records
        .iter()
        .map(|r| r["iocs"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(
        total > 5_000,
        "the corpus holds thousands of indicators, found {total}"
    );
    for record in &records {
        for ioc in record["iocs"].as_array().expect("iocs") {
            assert!(
                ioc["sentence"]
                    .as_str()
                    .is_some_and(|s| s.contains(ioc["raw"].as_str().unwrap_or("\u{0}"))),
                "the sentence holds the indicator: {ioc}"
            );
        }
    }
}
