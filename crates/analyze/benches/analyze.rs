//! The main job by stage, on a ~50 KB real report: the longest TRAM report in
//! `../shared/data/tram/train.jsonl` (or `$CTIFORGE_DATA`), its sentences joined into one text
//! and cut at 50 KB. One thread.
//!
//! - `ingest`: decoding and sentence segmentation (`ctiforge_text::ingest`);
//! - `iocs`: IOC extraction over the text;
//! - `techniques`: technique mapping of every sentence, pooled;
//! - `analyze`: the whole Analysis (the two above plus entities, correlation, risk,
//!   mitigations, hunting leads, response, summary, and since 2026-12-05 the generated Sigma
//!   rules with their proofs, which `ctiforge analyze` always ran);
//! - `stix`, `markdown`: building the outputs from the Analysis.
//!
//! Run: `cargo bench -p ctiforge-analyze --bench analyze`. The bar (issue #6): a 50 KB report
//! in under 50 ms on one core.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use ctiforge_analyze::{Analyzer, Options};
use ctiforge_attack::{MapOptions, Mapper};
use ctiforge_ioc::Extractor;
use ctiforge_kb::KnowledgeBase;
use ctiforge_model::Tlp;
use ctiforge_text::Input;

const SIZE: usize = 50_000;

fn report() -> String {
    let data = std::env::var_os("CTIFORGE_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    let text = std::fs::read_to_string(data.join("tram/train.jsonl"))
        .expect("tram/train.jsonl under ../shared/data or $CTIFORGE_DATA");
    let mut reports: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let Ok(row) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if row["source"] != "tram2_mjson" {
            continue;
        }
        let (Some(report), Some(sentence)) = (row["report"].as_str(), row["text"].as_str()) else {
            continue;
        };
        let body = reports.entry(report.to_owned()).or_default();
        body.push_str(sentence);
        body.push('\n');
    }
    let mut longest = reports
        .into_values()
        .max_by_key(String::len)
        .unwrap_or_default();
    let mut cut = SIZE.min(longest.len());
    while !longest.is_char_boundary(cut) {
        cut -= 1;
    }
    longest.truncate(cut);
    longest
}

fn stages(c: &mut Criterion) {
    let kb = KnowledgeBase::embedded().expect("knowledge base");
    let analyzer = Analyzer::new(
        &kb,
        Options {
            version: "bench".to_owned(),
            now: Some(jiff::Timestamp::UNIX_EPOCH),
            ..Options::default()
        },
    )
    .expect("model");
    let mapper = Mapper::embedded(&kb).expect("model");
    let extractor = Extractor::with_knowledge_base(&kb);
    let text = report();
    eprintln!("report: {} bytes", text.len());
    let ingest = || {
        ctiforge_text::ingest(Input {
            bytes: text.as_bytes(),
            path: Some("report.txt"),
            ..Input::default()
        })
        .expect("ingests")
    };
    let document = ingest();
    let analysis = analyzer.analyze(&document, Tlp::Clear, &[]);

    let mut group = c.benchmark_group("analyze_50kb");
    group.sample_size(20);
    group.bench_function("ingest", |b| b.iter(ingest));
    group.bench_function("iocs", |b| {
        b.iter(|| extractor.extract(&document.text).len())
    });
    group.bench_function("techniques", |b| {
        b.iter(|| {
            mapper
                .map_document(&document.text, &document.sentences, &MapOptions::default())
                .techniques
                .len()
        })
    });
    group.bench_function("analyze", |b| {
        b.iter(|| analyzer.analyze(&document, Tlp::Clear, &[]))
    });
    group.bench_function("stix", |b| {
        b.iter(|| ctiforge_stix::bundle(&analysis, &kb, "2026-11-01T00:00:00.000Z"))
    });
    group.bench_function("markdown", |b| {
        b.iter(|| ctiforge_report::markdown(&analysis))
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
