//! Extraction throughput on one benchmark corpus, as a plain process: for A/B runs of two builds
//! (`bench/ioc_ab.sh`), which criterion's saved baselines cannot compare across commits.
//!
//! `cargo run --release -p ctiforge-ioc --example throughput -- tram|attack [PASSES] [--warninglists]`
//!
//! Prints the number of indicators of one pass and MiB/s over all passes.

#[path = "../benches/support/corpus.rs"]
mod corpus;

use std::process::ExitCode;
use std::time::Instant;

use ctiforge_ioc::Extractor;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let warninglists = args.iter().any(|a| a == "--warninglists");
    let mut positional = args.iter().filter(|a| !a.starts_with("--"));
    let corpus_name = positional.next().map_or("tram", String::as_str);
    let passes: u32 = match positional.next().map(|p| p.parse()) {
        None => 20,
        Some(Ok(passes)) if passes > 0 => passes,
        Some(_) => {
            eprintln!("error: PASSES must be a positive number");
            return ExitCode::from(2);
        }
    };
    let text = match corpus_name {
        "tram" => corpus::tram(),
        "attack" => corpus::attack_descriptions(),
        other => {
            eprintln!("error: unknown corpus '{other}'; use tram or attack");
            return ExitCode::from(2);
        }
    };
    let Some(text) = text else {
        eprintln!("error: no shared data for '{corpus_name}'; set CTIFORGE_DATA");
        return ExitCode::from(2);
    };
    let kb;
    let extractor = if warninglists {
        kb = match ctiforge_kb::KnowledgeBase::embedded() {
            Ok(kb) => kb,
            Err(error) => {
                eprintln!("error: embedded knowledge base: {error}");
                return ExitCode::FAILURE;
            }
        };
        let extractor = Extractor::with_knowledge_base(&kb);
        // The warninglist index is built on first use; keep that out of the timing.
        extractor.extract("8.8.8.8");
        extractor
    } else {
        Extractor::new()
    };
    // One pass untimed, as criterion warms up: building the ATT&CK corpus frees a large parsed
    // JSON document, and the allocator's first pass after that pays for consolidating it.
    extractor.extract(&text);
    let started = Instant::now();
    let mut found = 0;
    for _ in 0..passes {
        found = extractor.extract(&text).len();
    }
    let seconds = started.elapsed().as_secs_f64();
    let mib = text.len() as f64 * f64::from(passes) / (1024.0 * 1024.0);
    println!("{found} {:.1}", mib / seconds);
    ExitCode::SUCCESS
}
