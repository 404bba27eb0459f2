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
    let Some(path) = common::shared_data("tram/train.jsonl") else {
        return;
    };
    let train = std::fs::read_to_string(path).expect("tram/train.jsonl reads");
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

/// Fields that identify one occurrence, for comparing two runs.
fn occurrences(records: &[serde_json::Value]) -> Vec<(String, String, u64, u64, bool)> {
    records
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap_or_default().to_owned(),
                r["value"].as_str().unwrap_or_default().to_owned(),
                r["start"].as_u64().unwrap_or_default(),
                r["end"].as_u64().unwrap_or_default(),
                r.get("false_positive").is_some(),
            )
        })
        .collect()
}

/// A file of several megabytes is read in chunks; the cuts fall after a line of prose that ends
/// a sentence, so no sentence and no reference list runs across one, and the file gives the
/// indicators the same text gives read whole (batch mode reads each record whole). The reports
/// here end with reference lists long enough that a cut at the last line break would land
/// inside one, and the same URL stands in prose and in another report's list.
#[test]
fn large_files_read_in_chunks_give_what_the_whole_text_gives() {
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 3_500_000 {
        text.push_str(&format!(
            "Report {n} describes a loader that the operators kept for weeks.\n\
             The loader beacons to hxxp://relay{n}[.]example-c2[.]net/g and 198.51.100.{}.\n\
             It was first seen at https://news{}.vendor-blog.net/analysis in prose.\n\
             References\n",
            n % 250,
            n % 7
        ));
        for k in 0..400 {
            text.push_str(&format!(
                "[{k}] https://blog.vendor{}.com/post/{k}\n",
                k % 7
            ));
        }
        text.push_str(&format!(
            "[400] https://news{}.vendor-blog.net/analysis\n",
            n % 7
        ));
        text.push('\n');
        n += 1;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.txt");
    std::fs::write(&path, &text).expect("write");
    let chunked = run(
        &[
            "ioc",
            "extract",
            "--all",
            "--format",
            "jsonl",
            path.to_str().expect("utf-8"),
        ],
        "",
    );
    common::assert_succeeded(&chunked, "ioc extract of a large file");
    let batch_input = serde_json::json!({"id": 1, "text": text}).to_string();
    let whole = run(&["ioc", "extract", "--jsonl", "--all"], &batch_input);
    common::assert_succeeded(&whole, "ioc extract --jsonl");
    let whole = &lines(&whole)[0]["iocs"];
    let whole = whole.as_array().expect("iocs");
    let chunked = lines(&chunked);
    assert!(chunked.len() > 10_000, "{} records", chunked.len());
    let (chunked_found, whole_found) = (occurrences(&chunked), occurrences(whole));
    let first_difference = chunked_found
        .iter()
        .zip(&whole_found)
        .position(|(a, b)| a != b);
    assert_eq!(
        (first_difference, chunked_found.len()),
        (None, whole_found.len()),
        "first difference: {:?} against {:?}",
        first_difference.map(|i| &chunked_found[i]),
        first_difference.map(|i| &whole_found[i]),
    );
    // Reference entries are flagged everywhere, and the URL also written in prose is not.
    let flagged = |host: &str| {
        chunked
            .iter()
            .filter(|r| r["type"] == "url" && r["host"].as_str().is_some_and(|h| h.contains(host)))
            .map(|r| r.get("false_positive").is_some())
            .collect::<Vec<bool>>()
    };
    let entries = flagged("blog.vendor");
    assert!(entries.len() > 10_000 && entries.iter().all(|f| *f));
    let cited = flagged("news");
    assert!(cited.len() > 50 && cited.iter().all(|f| !*f));
}

/// JSON lines give each occurrence its sentence's offsets in the input and write the
/// sentence's text once, on the first occurrence in it.
#[test]
fn jsonl_writes_each_sentence_once_with_offsets() {
    let text = "Intro line.\nThe dropper fetched hxxp://a[.]example-bad[.]net/x from 45.77.12.9 and 45.77.12.10.\nLater it used 91.215.85.3.\n";
    let output = run(&["ioc", "extract", "--format", "jsonl"], text);
    common::assert_succeeded(&output, "ioc extract --format jsonl");
    let found = lines(&output);
    let values: Vec<&str> = found.iter().filter_map(|i| i["value"].as_str()).collect();
    assert_eq!(
        values,
        [
            "a.example-bad.net",
            "http://a.example-bad.net/x",
            "45.77.12.9",
            "45.77.12.10",
            "91.215.85.3"
        ]
    );
    let sentence =
        "The dropper fetched hxxp://a[.]example-bad[.]net/x from 45.77.12.9 and 45.77.12.10.";
    assert_eq!(found[0]["sentence"], sentence);
    for record in &found[1..4] {
        assert!(record.get("sentence").is_none(), "{record}");
    }
    assert_eq!(found[4]["sentence"], "Later it used 91.215.85.3.");
    for record in &found {
        let (start, end) = (
            record["sentence_start"].as_u64().expect("start") as usize,
            record["sentence_end"].as_u64().expect("end") as usize,
        );
        let (at, to) = (
            record["start"].as_u64().expect("start") as usize,
            record["end"].as_u64().expect("end") as usize,
        );
        assert!(start <= at && to <= end, "{record}");
        assert!(text[start..end].contains(&text[at..to]), "{record}");
    }
    let last = found[4]["sentence_start"].as_u64().expect("offset") as usize;
    assert_eq!(&text[last..][..13], "Later it used");
}

/// `ctiforge ioc extract big.txt | head -1`: the reader leaves early; ctiforge stops quietly
/// with success instead of printing "error: Broken pipe".
#[test]
fn a_reader_that_leaves_early_is_not_an_error() {
    use std::io::Read;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.txt");
    let text: String = (0..20_000)
        .map(|i| {
            format!(
                "The implant beaconed to 198.51.{}.{} every hour.\n",
                i / 250,
                i % 250
            )
        })
        .collect();
    std::fs::write(&path, text).expect("write");
    for format in ["table", "jsonl", "json", "csv"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ctiforge"))
            .args([
                "ioc",
                "extract",
                "--format",
                format,
                path.to_str().expect("path"),
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("ctiforge starts");
        let mut first = [0u8; 64];
        child
            .stdout
            .take()
            .expect("stdout")
            .read_exact(&mut first)
            .expect("some output");
        // The read end is closed here, with most of the output not yet written.
        let output = child.wait_with_output().expect("ctiforge ends");
        assert!(output.status.success(), "{format}: {output:?}");
        assert!(
            output.stderr.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
