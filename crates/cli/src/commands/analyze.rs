//! `ctiforge analyze`: reports in, the Analysis JSON, Markdown and STIX 2.1 out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail};
use clap::Args;
use ctiforge_attack::Mapper;
use ctiforge_enrich::{Analysis, Analyzer, HistoryEntry, Options};
use ctiforge_kb::KnowledgeBase;

use super::{Outcome, load_kb};

/// Output formats.
const FORMATS: &[&str] = &["json", "md", "html", "stix", "navigator", "misp", "sigma"];

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Reports: files (text, Markdown, HTML, PDF), http(s) URLs, or `-` for stdin.
    #[arg(value_name = "INPUT", required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder. With one input the files go straight into it; with several, into one
    /// sub-folder per report. Without it, the Analysis JSON of a single input goes to stdout.
    #[arg(short, long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Comma-separated outputs: json (analysis.json), md (report.md), html (report.html, one
    /// self-contained page with the threat graph), stix (bundle.json), navigator
    /// (navigator-<domain>.json), misp (misp-event.json), sigma (sigma/<rule id>.yml for
    /// each generated rule and queries/<target>/ for every rule), or all.
    #[arg(long, default_value = "all", value_name = "LIST")]
    format: String,
    /// TLP marking of the outputs.
    #[arg(long, default_value = "clear", value_parser = ["clear", "green", "amber", "amber+strict", "red"])]
    tlp: String,
    /// Timestamp for the STIX objects when the report states no publication date
    /// (RFC 3339, e.g. 2026-10-14T00:00:00Z). Give it for byte-identical reruns.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
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
    /// Comma-separated query targets for every rule: splunk, kusto, lucene, esql, eql,
    /// logscale, qradar (aql), sql.
    #[arg(long, value_name = "LIST", default_value = "")]
    siem: String,
}

fn parse_targets(list: &str) -> anyhow::Result<Vec<ctiforge_sigma::convert::Target>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|name| {
            ctiforge_sigma::convert::Target::from_name(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown --siem target {name:?}; choose from splunk, kusto, lucene, esql, eql, logscale, qradar, sql"
                )
            })
        })
        .collect()
}

pub fn run(args: &AnalyzeArgs, kb_path: Option<&Path>) -> anyhow::Result<Outcome> {
    let formats = parse_formats(&args.format)?;
    let now = match &args.now {
        Some(text) => Some(text.parse::<jiff::Timestamp>().with_context(|| {
            format!("--now {text:?} is not an RFC 3339 time such as 2026-10-14T00:00:00Z")
        })?),
        None => None,
    };
    if args.out.is_none() && args.inputs.len() > 1 {
        bail!("several inputs need an output folder: add -o DIR");
    }
    let targets = parse_targets(&args.siem)?;
    let collection = match &args.sigma_rules {
        Some(dir) => {
            let files = ctiforge_sigma::rules::rule_files(std::slice::from_ref(dir))?;
            if files.is_empty() {
                bail!(
                    "no .yml or .yaml rules under --sigma-rules {}",
                    dir.display()
                );
            }
            Some(ctiforge_sigma::rules::load(&files))
        }
        None => None,
    };
    let kb = load_kb(kb_path)?;
    let analyzer = Analyzer::new(&kb, Mapper::embedded(&kb)?);
    let options = Options {
        tlp: args.tlp.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };

    let history = match &args.history {
        Some(path) => read_history(path)?,
        None => Vec::new(),
    };
    let analyzed: Mutex<Vec<HistoryEntry>> = Mutex::new(Vec::new());
    let analyze_one = |input: &Path| -> anyhow::Result<Analysis> {
        let mut analysis = read_and_analyze(&analyzer, input, &options, args.allow_private)?;
        analysis.correlate_history(&history);
        let detect = ctiforge_detect::Options {
            collection: collection.as_ref(),
            targets: targets.clone(),
            per_technique: 5,
            date: timestamp(&analysis, now)[..10].to_owned(),
        };
        analysis.detection = ctiforge_detect::detection_content(&analysis, &detect);
        if let Ok(mut list) = analyzed.lock() {
            list.push(HistoryEntry::of(&analysis));
        }
        Ok(analysis)
    };

    let Some(out) = &args.out else {
        let analysis = analyze_one(&args.inputs[0])?;
        if let Some(path) = &args.history {
            append_history(path, &history, analyzed.into_inner().unwrap_or_default())?;
        }
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, &analysis)?;
        stdout.write_all(b"\n")?;
        return Ok(Outcome::Success);
    };

    let single = args.inputs.len() == 1;
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(args.inputs.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(input) = args.inputs.get(i) else {
                        break;
                    };
                    let folder = if single {
                        out.clone()
                    } else {
                        out.join(folder_name(input, i))
                    };
                    let result = analyze_one(input)
                        .and_then(|analysis| write_outputs(&analysis, &kb, &folder, &formats, now));
                    let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                    match result {
                        Ok(()) => eprintln!(
                            "[{finished}/{}] {} → {}",
                            args.inputs.len(),
                            input.display(),
                            folder.display()
                        ),
                        Err(err) => {
                            eprintln!(
                                "[{finished}/{}] {}: error: {err:#}",
                                args.inputs.len(),
                                input.display()
                            );
                            if let Ok(mut list) = failures.lock() {
                                list.push(input.display().to_string());
                            }
                        }
                    }
                }
            });
        }
    });
    if let Some(path) = &args.history {
        append_history(path, &history, analyzed.into_inner().unwrap_or_default())?;
    }
    let failures = failures.into_inner().unwrap_or_default();
    if !failures.is_empty() {
        bail!(
            "{} of {} reports could not be analyzed: {}",
            failures.len(),
            args.inputs.len(),
            failures.join(", ")
        );
    }
    Ok(Outcome::Success)
}

fn parse_formats(list: &str) -> anyhow::Result<Vec<&'static str>> {
    let mut formats = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item == "all" {
            return Ok(FORMATS.to_vec());
        }
        match FORMATS.iter().find(|f| **f == item) {
            Some(f) => formats.push(*f),
            None => bail!(
                "unknown format {item:?} in --format; choose from {}, or all",
                FORMATS.join(", ")
            ),
        }
    }
    if formats.is_empty() {
        bail!(
            "--format is empty; choose from {}, or all",
            FORMATS.join(", ")
        );
    }
    Ok(formats)
}

fn read_and_analyze(
    analyzer: &Analyzer<'_>,
    input: &Path,
    options: &Options,
    allow_private: bool,
) -> anyhow::Result<Analysis> {
    let document = super::attack::read_document(input, allow_private)?;
    if document.text.trim().is_empty() {
        bail!("{} has no text to analyze", input.display());
    }
    Ok(analyzer.analyze(&document, options))
}

/// `report-name` from the input, numbered so that two inputs never share a folder.
fn folder_name(input: &Path, index: usize) -> String {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stdin".to_owned());
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{:03}-{clean}", index + 1)
}

/// The STIX timestamp: the report's publication date, else `--now`, else the current time.
fn timestamp(analysis: &Analysis, now: Option<jiff::Timestamp>) -> String {
    if let Some(published) = &analysis.report.published {
        return format!("{}T00:00:00.000Z", published.date);
    }
    let time = now.unwrap_or_else(jiff::Timestamp::now);
    time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn write_outputs(
    analysis: &Analysis,
    kb: &KnowledgeBase,
    folder: &Path,
    formats: &[&str],
    now: Option<jiff::Timestamp>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create output folder {}", folder.display()))?;
    let time = timestamp(analysis, now);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for format in formats {
        match *format {
            "json" => files.push((
                "analysis.json".into(),
                pretty(&serde_json::to_value(analysis)?)?,
            )),
            "md" => files.push((
                "report.md".into(),
                ctiforge_report::markdown(analysis).into_bytes(),
            )),
            "html" => {
                let bundle = ctiforge_stix::bundle(analysis, kb, &time);
                files.push((
                    "report.html".into(),
                    ctiforge_report::html(analysis, &bundle).into_bytes(),
                ));
            }
            "stix" => files.push((
                "bundle.json".into(),
                pretty(&ctiforge_stix::bundle(analysis, kb, &time))?,
            )),
            "navigator" => {
                for (domain, layer) in ctiforge_report::navigator_layers(analysis, kb) {
                    files.push((format!("navigator-{domain}.json"), pretty(&layer)?));
                }
            }
            "sigma" => {
                for rule in &analysis.detection.generated {
                    files.push((
                        format!("sigma/{}.yml", rule.id),
                        rule.yaml.clone().into_bytes(),
                    ));
                    for (target, query) in &rule.queries {
                        files.push((
                            query_file(target, &rule.id),
                            format!("{query}\n").into_bytes(),
                        ));
                    }
                }
                for rule in &analysis.detection.selected {
                    for (target, query) in &rule.queries {
                        files.push((
                            query_file(target, &rule.id),
                            format!("{query}\n").into_bytes(),
                        ));
                    }
                }
            }
            _ => files.push((
                "misp-event.json".into(),
                pretty(&ctiforge_report::misp_event(analysis, &time[..10]))?,
            )),
        }
    }
    for (name, bytes) in files {
        let path = folder.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        ctiforge_kb::snapshot::write_atomic(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// `queries/<target>/<rule id>.<extension>`.
fn query_file(target: &str, id: &str) -> String {
    let extension =
        ctiforge_sigma::convert::Target::from_name(target).map_or("txt", |t| t.extension());
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("queries/{target}/{safe}.{extension}")
}

fn pretty(value: &serde_json::Value) -> anyhow::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn read_history(path: &Path) -> anyhow::Result<Vec<HistoryEntry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read history {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            serde_json::from_str(line).with_context(|| {
                format!(
                    "{} line {} is not a ctiforge history entry; was the file written by `analyze --history`?",
                    path.display(),
                    number + 1
                )
            })
        })
        .collect()
}

/// Rewrites the history with the new entries added (sorted by hash; reports already in it
/// skipped), atomically, so an interrupted run loses nothing.
fn append_history(
    path: &Path,
    history: &[HistoryEntry],
    mut new: Vec<HistoryEntry>,
) -> anyhow::Result<()> {
    new.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    let mut bytes = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for entry in history.iter().chain(&new) {
        if seen.insert(entry.sha256.clone()) {
            serde_json::to_writer(&mut bytes, entry)?;
            bytes.push(b'\n');
        }
    }
    ctiforge_kb::snapshot::write_atomic(path, &bytes)
        .with_context(|| format!("cannot write history {}", path.display()))
}
