//! `ctiforge analyze`: reports in, the Analysis JSON, Markdown, HTML, STIX 2.1 and the rest
//! out. The pipeline is `ctiforge-analyze`; this command parses arguments, reads inputs and
//! writes files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use ctiforge_analyze::{Analyzer, Format, Options, render, safe_file_name};
use ctiforge_model::Tlp;
use ctiforge_model::analysis::{Analysis, HistoryEntry};
use rayon::prelude::*;

use super::{Outcome, SiemTarget, load_kb};
use crate::{history, input, output};

/// An output format on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// Every format.
    All,
    /// analysis.json
    Json,
    /// report.md
    Md,
    /// report.html, one self-contained page with the threat graph
    Html,
    /// bundle.json (STIX 2.1)
    Stix,
    /// navigator-<domain>.json
    Navigator,
    /// misp-event.json
    Misp,
    /// sigma/<rule id>.yml and queries/<target>/
    Sigma,
}

/// A TLP level on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TlpArg {
    Clear,
    Green,
    Amber,
    #[value(name = "amber+strict")]
    AmberStrict,
    Red,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Reports: files (text, Markdown, HTML, PDF), http(s) URLs, or `-` for stdin.
    #[arg(value_name = "INPUT", required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder. With one input the files go straight into it; with several, into one
    /// sub-folder per report. Without it, the Analysis JSON of a single input goes to stdout.
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
    #[arg(long, value_enum, default_value = "clear")]
    tlp: TlpArg,
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
}

pub fn run(args: &AnalyzeArgs, kb_path: Option<&Path>) -> anyhow::Result<Outcome> {
    let formats = formats(&args.format);
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
    let kb = load_kb(kb_path)?;
    let analyzer = Analyzer::new(
        &kb,
        Options {
            sigma_rules: collection.as_ref(),
            targets: args.siem.iter().map(|t| t.target()).collect(),
            now: args.now,
            ..Options::default()
        },
    )?;
    let history = match &args.history {
        Some(path) => history::read(path)?,
        None => Vec::new(),
    };
    let tlp = tlp(args.tlp);
    let analyzed: Mutex<Vec<HistoryEntry>> = Mutex::new(Vec::new());
    let analyze_one = |input: &Path| -> anyhow::Result<Analysis> {
        let raw = input::read_raw(input, &input::fetch_options(args.allow_private))?;
        let document = analyzer
            .read(raw.input())
            .with_context(|| format!("cannot read {}", input.display()))?;
        let analysis = analyzer.analyze(&document, tlp, &history);
        if let Ok(mut list) = analyzed.lock() {
            list.push(HistoryEntry::of(&analysis));
        }
        Ok(analysis)
    };

    let result = match &args.out {
        None => analyze_one(&args.inputs[0]).and_then(|analysis| {
            let mut stdout = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut stdout, &analysis)?;
            stdout.write_all(b"\n")?;
            Ok(())
        }),
        Some(out) => {
            let single = args.inputs.len() == 1;
            output::clean_leftovers(if single {
                out.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
            } else {
                out
            });
            let done = AtomicUsize::new(0);
            let failures: Vec<String> = args
                .inputs
                .par_iter()
                .enumerate()
                .filter_map(|(i, input)| {
                    let folder = if single {
                        out.clone()
                    } else {
                        out.join(format!("{:03}-{}", i + 1, stem(input)))
                    };
                    let result = analyze_one(input).and_then(|analysis| {
                        let files = render(&analysis, &kb, &formats, analyzer.now())
                            .into_iter()
                            .map(|o| (o.name, o.bytes))
                            .collect::<Vec<_>>();
                        output::replace_folder(&folder, &files)
                    });
                    let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                    let total = args.inputs.len();
                    match result {
                        Ok(()) => {
                            eprintln!(
                                "[{finished}/{total}] {} → {}",
                                input.display(),
                                folder.display()
                            );
                            None
                        }
                        Err(err) => {
                            eprintln!("[{finished}/{total}] {}: error: {err:#}", input.display());
                            Some(input.display().to_string())
                        }
                    }
                })
                .collect();
            if failures.is_empty() {
                Ok(())
            } else {
                Err(anyhow::anyhow!(
                    "{} of {} reports could not be analyzed: {}",
                    failures.len(),
                    args.inputs.len(),
                    failures.join(", ")
                ))
            }
        }
    };
    if let Some(path) = &args.history {
        history::append(path, &history, analyzed.into_inner().unwrap_or_default())?;
    }
    result.map(|()| Outcome::Success)
}

/// The formats asked for, in the order they are written, `all` standing for every one.
fn formats(list: &[FormatArg]) -> Vec<Format> {
    if list.contains(&FormatArg::All) {
        return Format::ALL.to_vec();
    }
    list.iter()
        .filter_map(|f| match f {
            FormatArg::All => None,
            FormatArg::Json => Some(Format::Json),
            FormatArg::Md => Some(Format::Markdown),
            FormatArg::Html => Some(Format::Html),
            FormatArg::Stix => Some(Format::Stix),
            FormatArg::Navigator => Some(Format::Navigator),
            FormatArg::Misp => Some(Format::Misp),
            FormatArg::Sigma => Some(Format::Sigma),
        })
        .collect()
}

fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    text.parse()
        .map_err(|_| "not an RFC 3339 time such as 2026-10-14T00:00:00Z".to_owned())
}

fn tlp(arg: TlpArg) -> Tlp {
    match arg {
        TlpArg::Clear => Tlp::Clear,
        TlpArg::Green => Tlp::Green,
        TlpArg::Amber => Tlp::Amber,
        TlpArg::AmberStrict => Tlp::AmberStrict,
        TlpArg::Red => Tlp::Red,
    }
}

/// The input's file stem as a folder name (`stdin` for `-`).
fn stem(input: &Path) -> String {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stdin".to_owned());
    safe_file_name(&stem)
}
