//! IOC extraction throughput on real report text, and on inputs built to make a backtracking
//! extractor blow up.
//!
//! Corpus: the 31,335 report sentences of `shared/data/tram/train.jsonl` (TRAM's annotated
//! reports), joined per report — 2.8 MB of real threat-report prose with IOC appendices; and
//! the descriptions of ATT&CK Enterprise's objects (6 MB, links and ids on most lines).
//! Set `CTIFORGE_DATA` to read the data from elsewhere.
//!
//! Run: `cargo bench -p ctiforge-ioc --bench extract`. Results: BENCHMARKS.md.

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ctiforge_ioc::Extractor;

fn data_dir() -> PathBuf {
    std::env::var_os("CTIFORGE_DATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    )
}

/// The descriptions of every object in ATT&CK Enterprise, one per paragraph (6 MB): threat-report
/// prose denser in indicators than TRAM's reports, with Markdown links to technique pages and
/// `(Citation: ...)` on most lines.
fn attack_descriptions() -> Option<String> {
    let bundle = std::fs::read(data_dir().join("attack/enterprise-attack.json")).ok()?;
    let bundle: serde_json::Value = serde_json::from_slice(&bundle).ok()?;
    let descriptions = bundle["objects"]
        .as_array()?
        .iter()
        .filter_map(|object| object["description"].as_str())
        .collect::<Vec<_>>();
    Some(descriptions.join("\n\n"))
}

/// The TRAM report text, one report per paragraph.
pub fn corpus() -> Option<String> {
    let data = data_dir();
    let text = std::fs::read_to_string(data.join("tram/train.jsonl")).ok()?;
    let mut reports: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let Ok(row) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let report = row["report"].as_str().unwrap_or("").to_owned();
        let sentence = row["text"].as_str().unwrap_or("").to_owned();
        match reports.last_mut() {
            Some((name, sentences)) if *name == report => sentences.push(sentence),
            _ => reports.push((report, vec![sentence])),
        }
    }
    Some(
        reports
            .into_iter()
            .map(|(_, sentences)| sentences.join("\n"))
            .collect::<Vec<_>>()
            .join("\n\n"),
    )
}

fn extract(c: &mut Criterion) {
    let Some(text) = corpus() else {
        eprintln!("SKIPPED: no shared data (tram/train.jsonl); set CTIFORGE_DATA");
        return;
    };
    let kb = ctiforge_kb::KnowledgeBase::embedded().expect("embedded knowledge base");
    let plain = Extractor::new();
    let checked = Extractor::with_knowledge_base(&kb);
    checked.extract("warm up the warninglist index: 8.8.8.8");

    let mut group = c.benchmark_group("ioc_extract");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("tram_corpus", |b| b.iter(|| plain.extract(&text)));
    group.bench_function("tram_corpus_with_warninglists", |b| {
        b.iter(|| checked.extract(&text))
    });
    group.finish();

    if let Some(descriptions) = attack_descriptions() {
        let mut group = c.benchmark_group("ioc_extract_attack");
        group.sample_size(10);
        group.throughput(Throughput::Bytes(descriptions.len() as u64));
        group.bench_function("enterprise_descriptions", |b| {
            b.iter(|| plain.extract(&descriptions))
        });
        group.finish();
    }

    // Inputs that make backtracking regexes or naive loops explode; time must stay linear.
    let mut group = c.benchmark_group("ioc_adversarial");
    group.sample_size(10);
    let size = 1 << 20;
    let adversarial = [
        ("dots", "a.".repeat(size / 2)),
        ("defang_markers", "[.]".repeat(size / 3)),
        ("digits_and_dots", "1.2.".repeat(size / 4)),
        ("hex_run", "a".repeat(size)),
        ("colons", "a:".repeat(size / 2)),
        ("spaced_dots", "a dot ".repeat(size / 6)),
        ("backslashes", "C:\\a ".repeat(size / 5)),
        ("at_signs", "a@".repeat(size / 2)),
        (
            "unbalanced_closers",
            format!("http://a.com/{}", ")".repeat(size)),
        ),
        ("schemes", "a://".repeat(size / 4)),
        ("url_runs", "http://a.com/)".repeat(size / 14)),
    ];
    for (name, input) in &adversarial {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(*name, |b| b.iter(|| plain.extract(input)));
    }
    group.finish();
}

criterion_group!(benches, extract);
criterion_main!(benches);
