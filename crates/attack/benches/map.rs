//! Technique-mapping speed on real report sentences: the first 2,000 sentences of the TRAM
//! reports in `../shared/data/tram/train.jsonl` (or `$CTIFORGE_DATA`), one thread.
//!
//! - `score_sentences`: every signal (ids, names, lexicon, software, classifier) per sentence;
//!   throughput is reported in sentences per second (criterion's "elements");
//! - `map_document`: the same sentences as one document, pooled into techniques;
//! - `load_model`: decoding and indexing the embedded model (the bar: under 100 ms).
//!
//! Run: `cargo bench -p ctiforge-attack --bench map`. The bar (issue #4): at least 50,000
//! sentences per second per core.

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ctiforge_attack::model::Model;
use ctiforge_attack::{EMBEDDED_MODEL, MapOptions, MapScratch, Mapper};
use ctiforge_kb::KnowledgeBase;
use ctiforge_model::Span;

const SENTENCES: usize = 2000;

fn sentences() -> Vec<String> {
    let data = std::env::var_os("CTIFORGE_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    let text = std::fs::read_to_string(data.join("tram/train.jsonl"))
        .expect("tram/train.jsonl under ../shared/data or $CTIFORGE_DATA");
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["source"] == "tram2_mjson")
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .take(SENTENCES)
        .collect()
}

fn map(c: &mut Criterion) {
    let kb = KnowledgeBase::embedded().expect("knowledge base");
    let mapper = Mapper::embedded(&kb).expect("model");
    let sentences = sentences();
    let mut group = c.benchmark_group("attack_map");
    group.sample_size(20);
    group.throughput(Throughput::Elements(sentences.len() as u64));
    group.bench_function("score_sentences", |b| {
        let mut scratch = MapScratch::default();
        b.iter(|| {
            sentences
                .iter()
                .map(|s| mapper.score_sentence(s, &mut scratch).hits.len())
                .sum::<usize>()
        })
    });
    let mut document = String::new();
    let mut spans = Vec::new();
    for sentence in &sentences {
        let start = document.len();
        document.push_str(sentence);
        spans.push(Span::new(start, document.len()));
        document.push('\n');
    }
    group.bench_function("map_document", |b| {
        b.iter(|| {
            mapper
                .map_document(&document, &spans, &MapOptions::default())
                .techniques
                .len()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("attack_model");
    group.sample_size(20);
    group.bench_function("load_model", |b| {
        b.iter_with_large_drop(|| {
            Mapper::new(
                &kb,
                Model::decode(EMBEDDED_MODEL, "embedded").expect("decodes"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, map);
criterion_main!(benches);
