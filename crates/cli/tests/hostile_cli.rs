//! Hostile inputs to `ctiforge analyze` (issue #18), generated here (nothing large is
//! committed): each must end with a clear error or a result, never an abort, within a memory
//! ceiling read from the kernel's accounting of the child (`getrusage` of children, peak RSS).

mod common;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `ctiforge analyze INPUT -o DIR --format json EXTRA…`: its output and the peak
/// resident memory of the child in MiB.
fn analyze(input: &Path, out: &Path, extra: &[&str]) -> (Output, u64) {
    let (input, out) = (input.to_str().expect("path"), out.to_str().expect("path"));
    let mut args = vec!["analyze", input, "-o", out, "--format", "json"];
    args.extend_from_slice(extra);
    measured(&args)
}

/// Whether GNU time is there to measure the child's peak memory; under CI its absence fails.
fn time_available() -> bool {
    let there = Path::new("/usr/bin/time").exists();
    assert!(
        there || std::env::var_os("CI").is_none(),
        "/usr/bin/time is missing (.ci/run installs Debian's `time`)"
    );
    there
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn html_nested_fifty_thousand_deep_is_read_not_a_stack_overflow() {
    if !time_available() {
        eprintln!("skipped: /usr/bin/time is missing (.ci/run installs it)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("deep.html");
    let page = format!(
        "<html><body>{}<p>The actor ran vssadmin delete shadows /all /quiet.</p>{}</body></html>",
        "<div>".repeat(50_000),
        "</div>".repeat(50_000)
    );
    std::fs::write(&input, page).expect("write");
    let (output, peak) = analyze(&input, &dir.path().join("out"), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let analysis = std::fs::read_to_string(dir.path().join("out/analysis.json")).expect("json");
    assert!(analysis.contains("T1490"), "the text is still read");
    assert!(peak < 512, "peak {peak} MiB");
}

#[test]
fn a_pdf_whose_form_draws_itself_is_a_clear_error_not_an_abort() {
    if !time_available() {
        eprintln!("skipped: /usr/bin/time is missing (.ci/run installs it)");
        return;
    }
    let objects: [&[u8]; 5] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /X1 5 0 R >> >> >>",
        b"<< /Length 6 >>\nstream\n/X1 Do\nendstream",
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X1 5 0 R >> >> /Length 6 >>\nstream\n/X1 Do\nendstream",
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(b"xref\n0 6\n0000000000 65535 f \n");
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("self.pdf");
    std::fs::write(&input, pdf).expect("write");
    let (output, _) = analyze(&input, &dir.path().join("out"), &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("draws itself"),
        "{}",
        stderr(&output)
    );
    assert!(
        !dir.path().join("out/analysis.json").exists(),
        "nothing half-written"
    );
}

#[test]
fn a_report_over_the_input_limit_is_refused_with_the_limit_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("big.txt");
    let sentence = "The actors exploited CVE-2023-4966 and ran vssadmin delete shadows. ";
    std::fs::write(
        &input,
        sentence.repeat(2 * 1024 * 1024 / sentence.len() + 1),
    )
    .expect("write");
    let output = common::ctiforge(&[
        "analyze",
        input.to_str().expect("path"),
        "-o",
        dir.path().join("out").to_str().expect("path"),
        "--max-input-mib",
        "1",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("over the limit of 1 MiB") && message.contains("--max-input-mib"),
        "{message}"
    );
}

#[test]
fn one_long_line_of_indicators_stays_within_its_memory_ceiling() {
    if !time_available() {
        eprintln!("skipped: /usr/bin/time is missing (.ci/run installs it)");
        return;
    }
    // One 4 MB line of sentences with indicators: every indicator used to scan its whole line
    // again (quadratic: minutes for 10 MB; BENCHMARKS.md has the times).
    // The second shape is of domain cues and introduced names, each looked at in its context
    // (a name once scanned the whole text for its lower-case form: 60 s on this line).
    let sentences = [
        "The actors exploited CVE-2023-4966 on 203.0.113.9 and ran vssadmin delete shadows /all /quiet. ",
        "The Android app of Frostbyte malware runs on Windows, macOS, Android and iOS with a \
         Mozilla/5.0 (Linux; Android 8) agent on the DCs. Packed Loading Admin SharesFrostbyte \
         operators attacked. ",
    ];
    for (n, sentence) in sentences.iter().enumerate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("line.txt");
        std::fs::write(&input, sentence.repeat(4 * 1024 * 1024 / sentence.len())).expect("write");
        let (output, peak) = analyze(&input, &dir.path().join("out"), &[]);
        assert!(output.status.success(), "shape {n}: {}", stderr(&output));
        assert!(peak < 512, "shape {n}: peak {peak} MiB for 4 MB");
    }
}

/// Runs `ctiforge hunt --rules RULE EXTRA… LOG` on a rule and a log written here.
fn hunt_one(rule: &str, log: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let (rule_file, log_file) = (dir.path().join("rule.yml"), dir.path().join("events.jsonl"));
    std::fs::write(&rule_file, rule).expect("write");
    std::fs::write(&log_file, log).expect("write");
    let mut args = vec!["hunt", "--rules", rule_file.to_str().expect("path")];
    args.extend_from_slice(extra);
    args.push(log_file.to_str().expect("path"));
    common::ctiforge(&args)
}

/// The command failed with exit 2 and said `message`.
fn assert_refused(output: &Output, message: &str) {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    assert!(stderr(output).contains(message), "{}", stderr(output));
}

#[test]
fn hunt_with_no_rule_loaded_is_an_error_not_nothing_found() {
    let output = hunt_one("title: [unclosed\n", "{\"EventID\": 1}\n", &[]);
    assert_refused(&output, "no rule loaded");
}

#[test]
fn a_rule_nested_a_hundred_thousand_deep_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("deep.yml");
    let yaml = format!(
        "title: deep\nlogsource:\n  product: windows\ndetection:\n  sel: {}{}\n  condition: sel\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    std::fs::write(&rule, yaml).expect("write");
    let output = common::ctiforge(&["sigma", "check", rule.to_str().expect("path")]);
    assert_eq!(output.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert!(all.contains("nest more than 64"), "{all}");
}

#[test]
fn a_look_up_longer_than_a_name_is_refused_with_the_limit() {
    let query = "a".repeat(100_000);
    let output = common::ctiforge(&["kb", "lookup", &query]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("at most 256"),
        "{}",
        stderr(&output)
    );
}

/// `ioc extract FILE` in the table format.
fn ioc_table(path: &Path) -> Output {
    common::ctiforge(&["ioc", "extract", path.to_str().expect("path")])
}

#[test]
fn ioc_extract_reads_utf16_with_and_without_a_byte_order_mark() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "Beacon to 45.77.1.2 every minute.\n";
    let utf16le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let utf16be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let with_bom: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(utf16le.iter().copied())
        .collect();
    for (name, bytes) in [
        ("le.txt", utf16le),
        ("be.txt", utf16be),
        ("bom.txt", with_bom),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let output = ioc_table(&path);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let table = String::from_utf8_lossy(&output.stdout);
        assert!(table.contains("45.77.1.2"), "{name}: {table}");
    }
}

#[test]
fn ioc_extract_refuses_binary_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("blob.bin");
    let bytes: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, bytes).expect("write");
    let output = ioc_table(&path);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("binary"), "{}", stderr(&output));
}

#[test]
fn an_indicator_across_the_read_boundary_is_not_cut() {
    // 8 MiB of one token, then an address: the first read ends inside the address.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("long.txt");
    let mut text = "x".repeat(8 * 1024 * 1024 - 5);
    text.push_str(" 45.77.123.45 end\n");
    std::fs::write(&path, text).expect("write");
    let output = ioc_table(&path);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("45.77.123.45"));
}

/// Runs `ctiforge ARGS…` under GNU time: its output and peak resident memory in MiB
/// (`/usr/bin/time -f %M` reports KiB).
fn measured(args: &[&str]) -> (Output, u64) {
    let output = Command::new("/usr/bin/time")
        .args(["-f", "peak-kib=%M", env!("CARGO_BIN_EXE_ctiforge")])
        .args(args)
        .output()
        .expect("runs /usr/bin/time");
    let peak = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("peak-kib="))
        .filter_map(|k| k.trim().parse::<u64>().ok())
        .next_back()
        .unwrap_or(0);
    (output, peak / 1024)
}

const EVIL_RULE: &str = "title: evil image
id: 1d0c7a2e-0000-4000-8000-00000000000a
level: high
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\\evil.exe'
  condition: sel
";

#[test]
fn hunt_memory_stays_flat_however_many_events_match() {
    if !time_available() {
        eprintln!("skipped: /usr/bin/time is missing (.ci/run installs it)");
        return;
    }
    // 40 MB of events that all match, gzip-compressed to a few hundred KB; and the same events
    // as one JSON array. Every detection used to be held until the end (~13x the events).
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("evil.yml");
    std::fs::write(&rule, EVIL_RULE).expect("write");
    let line = format!(
        "{{\"EventID\": 1, \"Image\": \"C:\\\\Windows\\\\evil.exe\", \"CommandLine\": \"evil.exe {}\", \"UtcTime\": \"2026-01-01 00:00:00\"}}",
        "A".repeat(120)
    );
    let count = 40 * 1024 * 1024 / (line.len() + 1);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for _ in 0..count {
        std::io::Write::write_all(&mut gz, format!("{line}\n").as_bytes()).expect("compress");
    }
    let packed = dir.path().join("events.jsonl.gz");
    std::fs::write(&packed, gz.finish().expect("finish")).expect("write");
    let array = dir.path().join("events.json");
    std::fs::write(
        &array,
        format!("[{}]", vec![line.as_str(); count].join(",")),
    )
    .expect("write");
    for log in [&packed, &array] {
        let (output, peak) = measured(&[
            "hunt",
            "--rules",
            rule.to_str().expect("path"),
            "--logsource",
            "windows::process_creation",
            "--format",
            "jsonl",
            "--detections-memory-mib",
            "4",
            log.to_str().expect("path"),
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        let lines = output.stdout.iter().filter(|b| **b == b'\n').count();
        assert_eq!(lines, count, "every detection written once");
        assert!(peak < 160, "peak {peak} MiB for {}", log.display());
    }
}

fn regex_rule(id_suffix: &str, pattern: &str) -> String {
    format!(
        "title: regex {id_suffix}
id: 1d0c7a2e-0000-4000-8000-0000000000{id_suffix}
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    CommandLine|re: '{pattern}'
  condition: sel
"
    )
}

#[test]
fn a_regex_too_large_to_search_quickly_is_refused_with_the_limit() {
    let output = hunt_one(
        &regex_rule("0c", "(?s)(.{1,2000}X){1,5}"),
        "{\"EventID\": 1, \"CommandLine\": \"x\"}\n",
        &["--logsource", "windows::process_creation"],
    );
    assert_refused(&output, "compiles to more than 4 MiB");
}

#[test]
fn a_rule_over_its_time_budget_on_one_event_is_set_aside_and_reported() {
    let event = format!(
        "{{\"EventID\": 1, \"CommandLine\": \"{}\"}}\n",
        "A".repeat(2_000_000)
    );
    let output = hunt_one(
        &regex_rule("0b", "(?s)(.{1,400}X){1,5}"),
        &event.repeat(2),
        &[
            "--logsource",
            "windows::process_creation",
            "--rule-budget-ms",
            "1",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}{}", stderr(&output));
    assert_eq!(
        stdout.matches("rule set aside after").count(),
        1,
        "set aside once, on the first event: {stdout}"
    );
    assert!(stdout.contains("record 1)"), "{stdout}");
}

#[test]
fn a_report_over_its_time_budget_stops_with_the_budget_named_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("long.txt");
    let sentence = "The actors exploited CVE-2023-4966 on 203.0.113.9 and ran vssadmin delete shadows /all /quiet. ";
    std::fs::write(&input, sentence.repeat(40 * 1024 * 1024 / sentence.len())).expect("write");
    let out = dir.path().join("out");
    let started = std::time::Instant::now();
    let output = common::ctiforge(&[
        "analyze",
        input.to_str().expect("path"),
        "-o",
        out.to_str().expect("path"),
        "--max-seconds",
        "1",
    ]);
    assert_refused(&output, "longer than 1 s, the --max-seconds budget");
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    assert!(!out.exists(), "no output folder");
}
