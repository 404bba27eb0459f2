//! How long loading the embedded knowledge-base snapshot takes, by step.
//!
//! - `decode`: LZ4 frame + postcard → `Catalog` (the committed snapshot, built from
//!   `shared/data`: ATT&CK 18.1, ATLAS 5.6.0, D3FEND 1.2.0, KEV, MISP galaxies and warninglists);
//! - `index`: building the id, name and relation indexes (on first lookup);
//! - `open`: `KnowledgeBase::embedded()`, which decodes nothing yet;
//! - `open_for_ioc`: what `ioc extract` pays: the warninglist index and the ids;
//! - `open_and_index_all`: what `analyze` pays: every section and the lookup index.
//!
//! Run: `cargo bench -p ctiforge-kb --bench load`. The bar (issue #2): well under 50 ms.

use criterion::{Criterion, criterion_group, criterion_main};
use ctiforge_kb::{KnowledgeBase, snapshot};

fn load(c: &mut Criterion) {
    let bytes = KnowledgeBase::embedded_bytes();
    let mut group = c.benchmark_group("kb_load");
    group.sample_size(30);
    group.bench_function("decode", |b| {
        b.iter_with_large_drop(|| snapshot::decode(bytes, "embedded").expect("decodes"))
    });
    let catalog = snapshot::decode(bytes, "embedded")
        .expect("decodes")
        .catalog;
    group.bench_function("index", |b| {
        b.iter_batched(
            || KnowledgeBase::new(catalog.clone()),
            |kb| {
                kb.get("T1059");
                kb
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("open", |b| {
        b.iter_with_large_drop(|| KnowledgeBase::embedded().expect("loads"))
    });
    group.bench_function("open_for_ioc", |b| {
        b.iter_with_large_drop(|| {
            let kb = KnowledgeBase::embedded().expect("loads");
            kb.warninglist_index();
            kb.known_ids();
            kb
        })
    });
    group.bench_function("open_and_index_all", |b| {
        b.iter_with_large_drop(|| {
            let kb = KnowledgeBase::embedded().expect("loads");
            kb.get("T1059");
            kb.warninglist_index();
            kb
        })
    });
    group.bench_function("header_only", |b| {
        b.iter(|| KnowledgeBase::embedded_header().expect("reads"))
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
