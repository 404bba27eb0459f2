//! IOC extraction throughput on real report text, and on inputs built to make a backtracking
//! extractor blow up.
//!
//! Corpus: the 31,335 report sentences of `shared/data/tram/train.jsonl` (TRAM's annotated
//! reports), joined per report — 2.8 MB of real threat-report prose with IOC appendices; and
//! the descriptions of ATT&CK Enterprise's objects (6 MB, links and ids on most lines).
//! Set `CTIFORGE_DATA` to read the data from elsewhere.
//!
//! Run: `cargo bench -p ctiforge-ioc --bench extract`. Results: BENCHMARKS.md.

#[path = "support/corpus.rs"]
mod corpus;

use corpus::{attack_descriptions, tram};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ctiforge_ioc::Extractor;

fn extract(c: &mut Criterion) {
    let Some(text) = tram() else {
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
