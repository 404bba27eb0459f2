//! `ctiforge hunt`: Sigma rules over logs, as a timeline, JSON lines or CSV.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use ctiforge_hunt::{Detection, Hunter, Options, Source, Summary};
use ctiforge_sigma::{convert, rules};

use super::Outcome;

#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Sigma rule files or folders (searched recursively for .yml and .yaml). Repeatable.
    #[arg(long, short = 'r', value_name = "RULE|DIR", required = true)]
    rules: Vec<PathBuf>,
    /// Processing pipeline for the rules: a built-in name (`ctiforge sigma convert
    /// --list-pipelines`) or a pySigma-format YAML file, e.g. to map rule fields to your
    /// JSON's. Repeatable.
    #[arg(long = "pipeline", short = 'p', value_name = "NAME|FILE")]
    pipelines: Vec<String>,
    /// Output: a readable timeline with a summary, JSON lines (one detection per line), or
    /// CSV.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Leave out detections below this level.
    #[arg(long, value_enum)]
    min_level: Option<MinLevel>,
    /// The logsource of JSON events ctiforge does not recognise, as
    /// `product[:service[:category]]` (e.g. `linux::process_creation`, `okta:okta`).
    #[arg(long, value_name = "SPEC")]
    logsource: Option<String>,
    /// No progress line, even on a terminal.
    #[arg(long)]
    no_progress: bool,
    /// Evaluate every rule of an event's logsource instead of only those whose literals the
    /// event contains: slower, same detections (for checking and benchmarking).
    #[arg(long)]
    no_prefilter: bool,
    /// Detections held in memory, in MiB, before they wait (sorted) in temporary files; the
    /// output is the same whatever the value.
    #[arg(long, value_name = "MIB", default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    detections_memory_mib: u64,
    /// Longest one rule may take on one event, in milliseconds, before it is set aside for
    /// the rest of the hunt (it is reported in the summary).
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    rule_budget_ms: u64,
    /// Log files or folders (walked recursively): EVTX, JSON lines, JSON arrays, CloudTrail
    /// `{"Records": [...]}`, Zeek JSON or TSV, CSV; gzip-compressed or not. The format is
    /// found from the content.
    #[arg(value_name = "LOG", required = true)]
    logs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Timeline table and summary.
    Table,
    /// One detection per line: rule_id, rule_title, level, timestamp, source, event...
    Jsonl,
    /// One detection per row.
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MinLevel {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl MinLevel {
    fn name(self) -> &'static str {
        match self {
            MinLevel::Informational => "informational",
            MinLevel::Low => "low",
            MinLevel::Medium => "medium",
            MinLevel::High => "high",
            MinLevel::Critical => "critical",
        }
    }
}

pub fn run(args: &HuntArgs) -> anyhow::Result<Outcome> {
    let pipelines = args
        .pipelines
        .iter()
        .map(|name| convert::load_pipeline(name).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let rule_files = rules::rule_files(&args.rules)?;
    if rule_files.is_empty() {
        bail!("no .yml or .yaml rule files under the --rules paths");
    }
    let set = rules::load(&rule_files);
    for (file, error) in &set.errors {
        eprintln!("{}: rule not loaded: {error}", file.display());
    }
    let logs = ctiforge_hunt::log_files(&args.logs)?;
    if logs.is_empty() {
        bail!("no log files under the given paths");
    }
    let options = Options {
        declared: args.logsource.as_deref().map(Source::parse),
        min_level: args.min_level.map(|l| l.name().to_owned()),
        threads: 0,
        no_prefilter: args.no_prefilter,
        memory_budget: usize::try_from(args.detections_memory_mib * 1024 * 1024)
            .unwrap_or(usize::MAX),
        rule_budget: Some(std::time::Duration::from_millis(args.rule_budget_ms)),
    };
    let (hunter, errors) = Hunter::new(&set.collection, &pipelines, options);
    for (rule, error) in &errors {
        eprintln!("rule {rule} not compiled: {error}");
    }
    if hunter.rule_count() == 0 {
        // Nothing to hunt with is an error (exit 2), not "nothing found" (exit 1).
        bail!(
            "no rule loaded: {} rule file(s) could not be parsed and {} rule(s) could not be \
             compiled (the reasons are above); fix them or point --rules at valid Sigma rules",
            set.errors.len(),
            errors.len()
        );
    }
    let show_progress = !args.no_progress && std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let progress = |done: usize, total: usize, found: u64| {
        if show_progress {
            eprint!("\r[{done}/{total} files] {found} detections ");
            if done == total {
                eprint!("\r{}\r", " ".repeat(40));
            }
        }
    };
    let (timeline, summary) = hunter
        .timeline(&logs, &progress)
        .context("hunting (writing detections to a temporary file)")?;
    let elapsed = started.elapsed();
    let found = timeline.len();
    let detections = timeline.into_iter();
    // Buffered: a locked stdout flushes at every line break, a system call per detection.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Table => {
            write_timeline(&mut out, detections)?;
            write_summary(
                &mut out,
                &summary,
                hunter.rule_count(),
                errors.len(),
                elapsed,
            )?;
        }
        Format::Jsonl => {
            for d in detections {
                serde_json::to_writer(&mut out, &d.context("reading detections back")?)?;
                out.write_all(b"\n")?;
            }
            // The detections before the summary, also where both streams share a terminal.
            out.flush()?;
            eprint_summary(&summary, elapsed);
        }
        Format::Csv => {
            write_csv(&mut out, detections)?;
            out.flush()?;
            eprint_summary(&summary, elapsed);
        }
    }
    out.flush()?;
    if summary.files == summary.failed_files.len() {
        let reasons: Vec<String> = summary
            .failed_files
            .iter()
            .map(|(f, e)| format!("{}: {e}", f.display()))
            .collect();
        bail!("no log file could be read:\n{}", reasons.join("\n"));
    }
    Ok(if found == 0 {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}

/// A short description of the event: who did what.
fn gist(d: &Detection) -> String {
    let e = &d.event;
    let pick = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| e.get(*k).and_then(|v| v.as_str().map(str::to_owned)))
    };
    let mut parts = Vec::new();
    if let Some(v) = pick(&[
        "CommandLine",
        "ScriptBlockText",
        "Image",
        "TargetFilename",
        "TargetObject",
        "QueryName",
        "ServiceName",
        "TargetUserName",
    ]) {
        parts.push(v);
    }
    if let Some(v) = pick(&["eventName"]) {
        parts.push(format!(
            "{v} by {}",
            pick_path(e, "userIdentity.arn").unwrap_or_default()
        ));
    }
    if let Some(v) = pick(&["query"]) {
        parts.push(v);
    }
    let text = parts.join(" | ");
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    if text.chars().count() > 110 {
        format!("{}…", text.chars().take(109).collect::<String>())
    } else {
        text
    }
}

fn pick_path(value: &serde_json::Value, path: &str) -> Option<String> {
    let mut v = value;
    for part in path.split('.') {
        v = v.get(part)?;
    }
    v.as_str().map(str::to_owned)
}

fn host(d: &Detection) -> String {
    ["Computer", "@system", "sourceIPAddress", "id.orig_h"]
        .iter()
        .find_map(|k| d.event.get(*k).and_then(|v| v.as_str().map(str::to_owned)))
        .unwrap_or_default()
}

type Detections = ctiforge_hunt::timeline::Merge;

fn write_timeline(out: &mut impl Write, detections: Detections) -> anyhow::Result<()> {
    let mut detections = detections.peekable();
    if detections.peek().is_none() {
        writeln!(out, "No detections.")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<24}  {:<8}  {:<50}  {:<18}  event",
        "time", "level", "rule", "host"
    )?;
    for d in detections {
        let d = d.context("reading detections back")?;
        let title: String = d.rule_title.chars().take(50).collect();
        let hostname: String = host(&d).chars().take(18).collect();
        writeln!(
            out,
            "{:<24}  {:<8}  {:<50}  {:<18}  {}",
            d.timestamp
                .as_deref()
                .unwrap_or("-")
                .chars()
                .take(24)
                .collect::<String>(),
            d.level.as_deref().unwrap_or("-"),
            title,
            hostname,
            gist(&d)
        )?;
    }
    Ok(())
}

fn write_summary(
    out: &mut impl Write,
    summary: &Summary,
    rules: usize,
    rule_errors: usize,
    elapsed: std::time::Duration,
) -> anyhow::Result<()> {
    writeln!(out)?;
    writeln!(out, "Summary")?;
    writeln!(
        out,
        "  {} files, {} events read in {:.2} s ({:.0} events/s); {} rules{}",
        summary.files,
        summary.events,
        elapsed.as_secs_f64(),
        summary.events as f64 / elapsed.as_secs_f64().max(1e-9),
        rules,
        if rule_errors > 0 {
            format!(" ({rule_errors} did not compile)")
        } else {
            String::new()
        }
    )?;
    if summary.unrouted > 0 {
        writeln!(
            out,
            "  {} events of no recognised logsource (give --logsource to hunt them)",
            summary.unrouted
        )?;
    }
    for (reason, n) in &summary.skipped {
        writeln!(out, "  {n} events skipped: {reason}")?;
    }
    for (file, error) in &summary.failed_files {
        writeln!(out, "  file not read: {}: {error}", file.display())?;
    }
    for line in slow_rules(summary) {
        writeln!(out, "  {line}")?;
    }
    let total: u64 = summary.per_rule.values().sum();
    let mut by_level: std::collections::BTreeMap<u8, u64> = Default::default();
    for ((rank, _, _), n) in &summary.per_rule {
        *by_level.entry(*rank).or_default() += n;
    }
    let names = [
        "unknown",
        "informational",
        "low",
        "medium",
        "high",
        "critical",
    ];
    let levels: Vec<String> = by_level
        .iter()
        .rev()
        .map(|(rank, n)| format!("{n} {}", names[usize::from(*rank).min(5)]))
        .collect();
    if total == 0 {
        writeln!(out, "  no detections")?;
    } else {
        writeln!(
            out,
            "  {total} detections by {} rules: {}",
            summary.per_rule.len(),
            levels.join(", ")
        )?;
    }
    let mut rows: Vec<(&(u8, String, String), &u64)> = summary.per_rule.iter().collect();
    rows.sort_by(|a, b| b.0.0.cmp(&a.0.0).then(b.1.cmp(a.1)).then(a.0.1.cmp(&b.0.1)));
    for ((rank, title, id), n) in rows {
        writeln!(
            out,
            "  {n:>7}  {:<13} {title} ({id})",
            names[usize::from(*rank).min(5)]
        )?;
    }
    Ok(())
}

fn eprint_summary(summary: &Summary, elapsed: std::time::Duration) {
    let total: u64 = summary.per_rule.values().sum();
    let skipped: u64 = summary.skipped.values().sum();
    eprintln!(
        "{} files, {} events, {} skipped, {} of no known logsource, {} files not read; {total} detections by {} rules in {:.2} s",
        summary.files,
        summary.events,
        skipped,
        summary.unrouted,
        summary.failed_files.len(),
        summary.per_rule.len(),
        elapsed.as_secs_f64()
    );
    for (file, error) in &summary.failed_files {
        eprintln!("file not read: {}: {error}", file.display());
    }
    for line in slow_rules(summary) {
        eprintln!("{line}");
    }
}

/// One line per rule set aside for going over the per-event budget.
fn slow_rules(summary: &Summary) -> Vec<String> {
    summary
        .slow_rules
        .iter()
        .map(|(rule, seconds, origin)| {
            format!(
                "rule set aside after {seconds:.2} s on one event ({} record {}), over the \
                 --rule-budget-ms budget: {rule}",
                origin.file.display(),
                origin.record
            )
        })
        .collect()
}

fn write_csv(out: &mut impl Write, detections: Detections) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record([
        "timestamp",
        "level",
        "rule_id",
        "rule_title",
        "kind",
        "file",
        "record",
        "host",
        "event",
    ])?;
    for d in detections {
        let d = d.context("reading detections back")?;
        csv.write_record([
            d.timestamp.as_deref().unwrap_or(""),
            d.level.as_deref().unwrap_or(""),
            d.rule_id.as_deref().unwrap_or(""),
            &d.rule_title,
            d.kind.as_str(),
            &d.source.file.display().to_string(),
            &d.source.record.to_string(),
            &host(&d),
            &serde_json::to_string(&d.event).context("event as JSON")?,
        ])?;
    }
    csv.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctiforge_hunt::level_rank;

    #[test]
    fn levels_rank_in_order() {
        let ranks: Vec<u8> = [
            MinLevel::Informational,
            MinLevel::Low,
            MinLevel::Medium,
            MinLevel::High,
            MinLevel::Critical,
        ]
        .iter()
        .map(|l| level_rank(Some(l.name())))
        .collect();
        assert_eq!(ranks, [1, 2, 3, 4, 5]);
    }
}
