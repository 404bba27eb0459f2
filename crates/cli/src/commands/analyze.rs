//! `ctiforge analyze`: reports in, the Analysis JSON, Markdown, HTML, STIX 2.1 and the rest
//! out. The pipeline is `ctiforge-analyze`; this command parses arguments, reads inputs and
//! writes files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail};
use clap::Args;
use ctiforge_analyze::{Analyzer, Options, render, safe_file_name};
use ctiforge_model::Tlp;
use ctiforge_model::analysis::{Analysis, HistoryEntry};
use rayon::prelude::*;

use super::args::{FormatArg, SiemTarget, formats, parse_time, tlp_parser};
use super::{Outcome, load_kb};
use crate::{history, input, output};

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Reports: files (text, Markdown, HTML, PDF), http(s) URLs, or `-` for stdin.
    #[arg(value_name = "INPUT", required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder, replaced whole by each run (it must be new, empty or an earlier output).
    /// With one input the files go straight into it; with several, into one sub-folder per
    /// report. Without it, the Analysis JSON of a single input goes to stdout.
    #[arg(short, long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Outputs, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "all",
        value_name = "LIST"
    )]
    format: Vec<FormatArg>,
    /// TLP marking of the outputs.
    #[arg(long, default_value = "clear", value_parser = tlp_parser())]
    tlp: Tlp,
    /// Timestamp for the STIX objects when the report states no publication date
    /// (RFC 3339, e.g. 2026-10-14T00:00:00Z). Give it for byte-identical reruns.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    now: Option<jiff::Timestamp>,
    /// Allow fetching URLs that resolve to loopback, private or link-local addresses.
    #[arg(long)]
    allow_private: bool,
    /// A JSON-lines file of earlier analyses (created if missing): each report is compared
    /// with the reports already in it (shared indicators and techniques), then added.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// A Sigma rule collection (e.g. a SigmaHQ checkout) to select existing rules from for
    /// the report's techniques.
    #[arg(long, value_name = "DIR")]
    sigma_rules: Option<PathBuf>,
    /// Query targets for every rule, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST")]
    siem: Vec<SiemTarget>,
    /// Largest report read, in MiB; a larger one is refused with this limit named.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    max_input_mib: u32,
    /// Longest one report may take, in seconds. Past it the command stops with exit 2 and
    /// writes nothing more (output folders are replaced whole, so none is left half-written).
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    max_seconds: u64,
}

pub fn run(args: &AnalyzeArgs, kb_path: Option<&Path>) -> anyhow::Result<Outcome> {
    if args.out.is_none() && args.inputs.len() > 1 {
        bail!("several inputs need an output folder: add -o DIR");
    }
    if let Some(out) = &args.out {
        output::check_folder(out)?;
    }
    let collection = match &args.sigma_rules {
        Some(dir) => Some(super::sigma::load_collection(dir)?),
        None => None,
    };
    // The process ends with the command: freeing the knowledge base and the analyzer's
    // indexes one allocation at a time cost 5 ms of a 40 ms run, and the system reclaims
    // them at exit anyway.
    let kb = std::mem::ManuallyDrop::new(load_kb(kb_path)?);
    let options = Options {
        sigma_rules: collection.as_ref(),
        targets: args.siem.iter().map(|t| t.target()).collect(),
        now: args.now,
        max_input_bytes: args.max_input_mib as usize * 1024 * 1024,
        ..Options::default()
    };
    let analyzer = std::mem::ManuallyDrop::new(Analyzer::new(&kb, options)?);
    let history = match &args.history {
        Some(path) => history::read(path)?,
        None => Vec::new(),
    };
    let analyzed: Mutex<Vec<HistoryEntry>> = Mutex::new(Vec::new());
    let watchdog = Watchdog::start(std::time::Duration::from_secs(args.max_seconds));
    let analyze_one = |input: &Path| -> anyhow::Result<Analysis> {
        let raw = input::read_raw(input, &input::fetch_options(args.allow_private))?;
        let document = analyzer
            .read(raw.input())
            .with_context(|| format!("cannot read {}", input.display()))?;
        let analysis = analyzer.analyze(&document, args.tlp, &history);
        if let Ok(mut list) = analyzed.lock() {
            list.push(HistoryEntry::of(&analysis));
        }
        Ok(analysis)
    };
    let result = match &args.out {
        None => {
            let _timed = watchdog.watch(&args.inputs[0]);
            analyze_one(&args.inputs[0]).and_then(|analysis| {
                // Buffered: a locked stdout flushes at every line break, one system call
                // for each of the thousands of lines of the pretty-printed document.
                let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
                serde_json::to_writer_pretty(&mut stdout, &analysis)?;
                stdout.write_all(b"\n")?;
                Ok(stdout.flush()?)
            })
        }
        Some(out) => {
            let formats = formats(&args.format);
            let write = |input: &Path, folder: &Path| {
                let _timed = watchdog.watch(input);
                let analysis = analyze_one(input)?;
                output::replace_folder(folder, &render(&analysis, &kb, &formats, analyzer.now()))
            };
            write_all(&args.inputs, out, &write)
        }
    };
    if let Some(path) = &args.history {
        history::append(path, &history, analyzed.into_inner().unwrap_or_default())?;
    }
    result.map(|()| Outcome::Success)
}

/// Stops the process when one report takes longer than its budget. The analysis is linear in
/// its (capped) input, so this is a safety net: it cannot be interrupted midway, and a clear
/// exit beats a command that never ends. Output folders are only ever replaced whole
/// (`output::replace_folder`), so stopping leaves each one complete or as it was; temporary
/// folders are cleaned by the next run.
struct Watchdog {
    running: std::sync::Arc<Mutex<Vec<(usize, std::time::Instant, String)>>>,
    next: AtomicUsize,
}

impl Watchdog {
    fn start(budget: std::time::Duration) -> Watchdog {
        let running: std::sync::Arc<Mutex<Vec<(usize, std::time::Instant, String)>>> =
            Default::default();
        let watched = std::sync::Arc::clone(&running);
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_millis(100));
                let late = watched.lock().ok().and_then(|list| {
                    list.iter()
                        .find(|(_, started, _)| started.elapsed() > budget)
                        .map(|(_, _, name)| name.clone())
                });
                if let Some(name) = late {
                    eprintln!(
                        "error: {name}: the analysis took longer than {} s, the --max-seconds \
                         budget; stopped without writing its output. Split the report, or raise \
                         --max-seconds.",
                        budget.as_secs()
                    );
                    std::process::exit(2);
                }
            }
        });
        Watchdog {
            running,
            next: AtomicUsize::new(0),
        }
    }

    /// Watches one report until the returned guard is dropped.
    fn watch(&self, input: &Path) -> Watched<'_> {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut list) = self.running.lock() {
            list.push((id, std::time::Instant::now(), input.display().to_string()));
        }
        Watched { watchdog: self, id }
    }
}

struct Watched<'a> {
    watchdog: &'a Watchdog,
    id: usize,
}

impl Drop for Watched<'_> {
    fn drop(&mut self) {
        if let Ok(mut list) = self.watchdog.running.lock() {
            list.retain(|(id, _, _)| *id != self.id);
        }
    }
}

/// Runs `write(input, folder)` for every input on all cores, with progress on stderr: one
/// input writes into `out`, several into numbered sub-folders of it.
fn write_all(
    inputs: &[PathBuf],
    out: &Path,
    write: &(dyn Fn(&Path, &Path) -> anyhow::Result<()> + Sync),
) -> anyhow::Result<()> {
    let single = inputs.len() == 1;
    // One folder: only its own leftovers beside it (another run may be writing next to it);
    // a batch folder is this run's alone.
    if single {
        output::clean_leftovers(output::parent_of(out), &output::temporary_prefix(out));
    } else {
        output::clean_leftovers(out, output::TEMPORARY);
    }
    let done = AtomicUsize::new(0);
    let failures: Vec<String> = inputs
        .par_iter()
        .enumerate()
        .filter_map(|(i, input)| {
            let folder = if single {
                out.to_owned()
            } else {
                out.join(format!("{:03}-{}", i + 1, stem(input)))
            };
            let result = write(input, &folder);
            let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
            let (total, name) = (inputs.len(), input.display());
            match result {
                Ok(()) => {
                    eprintln!("[{finished}/{total}] {name} → {}", folder.display());
                    None
                }
                Err(err) => {
                    eprintln!("[{finished}/{total}] {name}: error: {err:#}");
                    Some(name.to_string())
                }
            }
        })
        .collect();
    if !failures.is_empty() {
        bail!(
            "{} of {} reports could not be analyzed: {}",
            failures.len(),
            inputs.len(),
            failures.join(", ")
        );
    }
    Ok(())
}

/// The input's file stem as a folder name (`stdin` for `-`).
fn stem(input: &Path) -> String {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stdin".to_owned());
    safe_file_name(&stem)
}
