//! `ctiforge kb`: info, lookup, build.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Subcommand;
use ctiforge_kb::{Description, KnowledgeBase, snapshot};

use super::{Outcome, load_kb};

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Show each source, its version and what it contributed.
    Info {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Look up an id (T1190, TA0001, G0016, S0002, C0024, M1030, DET0001, AN0001, DC0001,
    /// AML.T0043, D3-NI, CVE-2021-44228) or a name or alias ("Cozy Bear"), case-insensitive.
    ///
    /// Exits 1 when nothing matches, after suggesting near matches.
    Lookup {
        /// The id, name or alias.
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        /// Print JSON (every related entry, no truncation).
        #[arg(long)]
        json: bool,
        /// How many related entries to show per section in the text output.
        #[arg(long, default_value_t = 20, conflicts_with = "all")]
        limit: usize,
        /// Show every related entry in the text output.
        #[arg(long)]
        all: bool,
    },
    /// Build a snapshot from the sources' published files.
    ///
    /// The build is deterministic (same sources, same bytes) and atomic (a failed build leaves
    /// the previous file untouched).
    Build {
        /// Folder laid out like ctiforge's shared/data: attack/, atlas/, d3fend/, kev/,
        /// misp-galaxy/, misp-warninglists/.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// Where to write the snapshot; a name ending in `.gz` gets it gzip-compressed. To
        /// update the one embedded in ctiforge, write crates/kb/snapshot/ctiforge-kb.bin.gz
        /// and rebuild.
        #[arg(long, value_name = "FILE", default_value = "ctiforge-kb.bin")]
        out: PathBuf,
    },
}

pub fn run(command: &KbCommand, kb_path: Option<&Path>) -> anyhow::Result<Outcome> {
    match command {
        KbCommand::Info { json } => info(kb_path, *json),
        KbCommand::Lookup {
            query,
            json,
            limit,
            all,
        } => lookup(
            kb_path,
            &query.join(" "),
            *json,
            if *all { usize::MAX } else { *limit },
        ),
        KbCommand::Build { from, out } => build(from, out),
    }
}

fn info(kb_path: Option<&Path>, json: bool) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let kb = load_kb(kb_path)?;
    let load_time = started.elapsed();
    let summary = kb.summary();
    let mut out = std::io::stdout().lock();
    if json {
        let document = serde_json::json!({
            "snapshot": {
                "origin": origin(kb_path),
                "format": snapshot::FORMAT_VERSION,
            },
            "sources": summary,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&document)?)?;
        return Ok(Outcome::Success);
    }
    let size = match kb_path {
        Some(path) => std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        None => KnowledgeBase::embedded_bytes().len() as u64,
    };
    writeln!(
        out,
        "Knowledge base: {} (format {}, {:.1} MB), loaded in {} ms\n",
        origin(kb_path),
        snapshot::FORMAT_VERSION,
        size as f64 / 1e6,
        load_time.as_millis()
    )?;
    for entry in summary {
        let source = &entry.source;
        let origin = source
            .origin
            .as_deref()
            .map(|o| format!("  ({o})"))
            .unwrap_or_default();
        writeln!(out, "{}  {}{origin}", source.name, source.version)?;
        for count in &entry.counts {
            writeln!(out, "  {:<42} {:>7}", count.label, count.value)?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{ATTRIBUTION}")?;
    Ok(Outcome::Success)
}

/// The attribution the sources' terms ask for wherever their data is shown (see NOTICE).
const ATTRIBUTION: &str = "ATT&CK®, ATLAS™ and D3FEND™ are trademarks of The MITRE Corporation. \
© 2025 The MITRE Corporation. This work is reproduced and distributed with the permission of The \
MITRE Corporation. KEV: CISA, CC0. MISP galaxy and warninglists: the MISP Project, CC0. \
See NOTICE for the licences.";

fn origin(kb_path: Option<&Path>) -> String {
    kb_path.map_or_else(
        || "embedded snapshot".to_owned(),
        |p| p.display().to_string(),
    )
}

fn lookup(
    kb_path: Option<&Path>,
    query: &str,
    json: bool,
    limit: usize,
) -> anyhow::Result<Outcome> {
    // A look-up is a name, an id or a few words; near-match search over a long query is slow
    // (100 KB took 22 s), so a longer query is refused.
    const MAX_QUERY: usize = 256;
    let length = query.chars().count();
    if length > MAX_QUERY {
        bail!(
            "the query is {length} characters; a look-up takes at most {MAX_QUERY} (a name, an \
             id such as T1059.001, or a few words)"
        );
    }
    let kb = load_kb(kb_path)?;
    let found = kb.find(query);
    let mut out = std::io::stdout().lock();
    if found.is_empty() {
        let suggestions = kb.suggest(query, 5);
        if json {
            let document = serde_json::json!({
                "query": query, "matches": [], "suggestions": suggestions,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&document)?)?;
        } else {
            writeln!(out, "Nothing in the knowledge base matches '{query}'.")?;
            if !suggestions.is_empty() {
                writeln!(out, "Did you mean:")?;
                for s in &suggestions {
                    let name = kb.name_of(&s.id);
                    writeln!(out, "  {:<14} {name}", s.id)?;
                }
            }
        }
        return Ok(Outcome::Negative);
    }
    let descriptions: Vec<Description> = found.iter().map(|e| kb.describe(*e)).collect();
    if json {
        let document = serde_json::json!({ "query": query, "matches": descriptions });
        writeln!(out, "{}", serde_json::to_string_pretty(&document)?)?;
    } else {
        for (n, description) in descriptions.iter().enumerate() {
            if n > 0 {
                writeln!(out, "\n{}\n", "─".repeat(72))?;
            }
            write_description(&mut out, description, limit)?;
        }
    }
    Ok(Outcome::Success)
}

fn write_description(out: &mut impl Write, d: &Description, limit: usize) -> std::io::Result<()> {
    writeln!(out, "{}  {}  [{}]", d.id, d.name, d.kind)?;
    let width = d.fields.iter().map(|f| f.label.len()).max().unwrap_or(0);
    for field in &d.fields {
        writeln!(out, "  {:<width$}  {}", field.label, field.value)?;
    }
    for section in &d.sections {
        writeln!(out, "\n{} ({})", section.title, section.items.len())?;
        let id_width = section
            .items
            .iter()
            .take(limit)
            .map(|i| i.id.chars().count())
            .max()
            .unwrap_or(0)
            .min(40);
        for item in section.items.iter().take(limit) {
            let mut line = format!("  {:<id_width$}  {}", item.id, item.name);
            if let Some(note) = &item.note {
                line.push_str(&format!("  — {note}"));
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        if section.items.len() > limit {
            writeln!(
                out,
                "  … {} more (--all or --json shows them)",
                section.items.len() - limit
            )?;
        }
    }
    Ok(())
}

fn build(from: &Path, out: &Path) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    eprintln!("Reading sources from {} …", from.display());
    let kb = KnowledgeBase::from_dir(from)
        .with_context(|| format!("cannot build the knowledge base from {}", from.display()))?;
    let mut bytes = kb.to_snapshot();
    if out.extension().is_some_and(|e| e == "gz") {
        // Deterministic: flate2 writes no time or name into the header.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&bytes)?;
        bytes = encoder.finish()?;
    }
    crate::output::write_atomic(out, &bytes)?;
    eprintln!(
        "Wrote {} ({:.2} MB) in {:.1} s:",
        out.display(),
        bytes.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    for source in &kb.catalog().sources {
        eprintln!("  {:<38} {}", source.name, source.version);
    }
    Ok(Outcome::Success)
}
