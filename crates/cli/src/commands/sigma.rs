//! `ctiforge sigma check`: every problem of a rule collection, located.
//! `ctiforge sigma convert`: rules as queries for a SIEM.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use ctiforge_analyze::safe_file_name;
use ctiforge_sigma::convert::{self, Target};
use ctiforge_sigma::{Finding, Severity, check_files, rules};

use super::args::SiemTarget;
use super::{Outcome, load_kb};

#[derive(Debug, Subcommand)]
pub enum SigmaCommand {
    /// Check Sigma rules: YAML and condition syntax, modifiers, undefined selections, the
    /// specification's lints, ATT&CK tags against the knowledge base, duplicate ids. All
    /// problems of all files are reported at once, each with file:line:column and rule id.
    /// Exit 0 when no rule has an error, 1 when some do.
    Check {
        /// Rule files or folders (searched recursively for .yml and .yaml).
        #[arg(value_name = "RULE|DIR", required = true)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also show informational suggestions.
        #[arg(long)]
        all: bool,
    },
    /// Convert Sigma rules to queries: one per rule, after the processing pipelines. Rules
    /// that cannot convert are reported with the reason while the rest convert; exit 1 if
    /// any failed. Filter rules are applied to the rules they name; correlation rules
    /// convert for splunk, esql and kusto.
    Convert {
        /// Query language.
        #[arg(
            long,
            short = 't',
            value_enum,
            required_unless_present = "list_pipelines"
        )]
        target: Option<SiemTarget>,
        /// Processing pipeline: a built-in name (see --list-pipelines) or a pySigma-format
        /// YAML file. Repeatable; applied by priority.
        #[arg(long = "pipeline", short = 'p', value_name = "NAME|FILE")]
        pipelines: Vec<String>,
        /// Output: `plain` (queries, one block per rule), `jsonl` (rule id, title, query or
        /// error) or `files` (one file per rule in --output).
        #[arg(long, value_enum, default_value_t = ConvertFormat::Plain)]
        format: ConvertFormat,
        /// Folder for --format files.
        #[arg(long, short = 'o', value_name = "DIR")]
        output: Option<PathBuf>,
        /// List the built-in pipelines and exit.
        #[arg(long, exclusive = true)]
        list_pipelines: bool,
        /// Rule files or folders (searched recursively for .yml and .yaml).
        #[arg(value_name = "RULE|DIR", required_unless_present = "list_pipelines")]
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConvertFormat {
    /// Each query followed by a blank line.
    Plain,
    /// One JSON object per rule per line.
    Jsonl,
    /// One file per rule, named by rule id, in --output.
    Files,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `file:line:column: severity[code] rule-id: message`, then a summary.
    Text,
    /// One JSON object per finding per line.
    Jsonl,
}

pub fn run(command: &SigmaCommand, kb_path: Option<&Path>) -> anyhow::Result<Outcome> {
    match command {
        SigmaCommand::Check { paths, format, all } => check(paths, *format, *all, kb_path),
        SigmaCommand::Convert {
            target,
            pipelines,
            format,
            output,
            list_pipelines,
            paths,
        } => {
            let Some(target) = target.filter(|_| !*list_pipelines).map(SiemTarget::target) else {
                for (name, what) in convert::builtin_pipelines() {
                    println!("{name:<18} {what}");
                }
                return Ok(Outcome::Success);
            };
            convert_rules(paths, target, pipelines, *format, output.as_deref())
        }
    }
}

fn check(
    paths: &[PathBuf],
    format: Format,
    all: bool,
    kb_path: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let files = rules::rule_files(paths)?;
    if files.is_empty() {
        bail!(
            "no .yml or .yaml files under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let kb = load_kb(kb_path)?;
    let findings: Vec<Finding> = check_files(&files, &kb)
        .into_iter()
        .filter(|f| all || f.severity != Severity::Info)
        .collect();
    // Buffered: a locked stdout flushes at every line break, a system call per finding.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for f in &findings {
        match format {
            Format::Jsonl => {
                serde_json::to_writer(&mut out, f)?;
                out.write_all(b"\n")?;
            }
            Format::Text => writeln!(
                out,
                "{}:{}:{}: {}[{}]{}: {}",
                f.file.display(),
                f.line,
                f.column,
                f.severity,
                f.code,
                f.rule_id
                    .as_deref()
                    .map(|id| format!(" {id}"))
                    .unwrap_or_default(),
                f.message
            )?,
        }
    }
    out.flush()?;
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let bad_files: std::collections::BTreeSet<&Path> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.file.as_path())
        .collect();
    eprintln!(
        "{} files checked: {errors} errors in {} files, {warnings} warnings",
        files.len(),
        bad_files.len()
    );
    Ok(if errors > 0 {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}

fn convert_rules(
    paths: &[PathBuf],
    target: Target,
    pipeline_names: &[String],
    format: ConvertFormat,
    output: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let output = match (format, output) {
        (ConvertFormat::Files, None) => bail!("--format files needs --output DIR"),
        (ConvertFormat::Files, Some(dir)) => Some(dir),
        (_, Some(_)) => bail!("--output is only for --format files"),
        (_, None) => None,
    };
    let pipelines = pipeline_names
        .iter()
        .map(|name| convert::load_pipeline(name).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let files = rules::rule_files(paths)?;
    if files.is_empty() {
        bail!("no .yml or .yaml files under the given paths");
    }
    let set = rules::load(&files);
    let results = convert::convert_collection(&set.collection, target, &pipelines);
    let origins = set.rule_files.iter().chain(set.correlation_files.iter());
    if let Some(dir) = output {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut out = std::io::stdout().lock();
    let mut failed = set.errors.len();
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for (file, error) in &set.errors {
        eprintln!("{}: cannot parse: {error}", file.display());
        *reasons.entry("parse error".into()).or_default() += 1;
    }
    let mut names = std::collections::BTreeSet::new();
    for (result, file) in results.iter().zip(origins) {
        if let Some(error) = &result.error {
            failed += 1;
            eprintln!(
                "{}: {} ({}): {error}",
                file.display(),
                result.id.as_deref().unwrap_or("no id"),
                result.title
            );
            *reasons.entry(reason_class(error)).or_default() += 1;
        }
        match format {
            ConvertFormat::Plain => {
                if let Some(query) = &result.query {
                    writeln!(out, "{query}\n")?;
                }
            }
            ConvertFormat::Jsonl => {
                let line = serde_json::json!({
                    "file": file,
                    "id": result.id,
                    "title": result.title,
                    "kind": result.kind,
                    "target": target,
                    "query": result.query,
                    "error": result.error,
                });
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
            }
            ConvertFormat::Files => {
                let (Some(query), Some(dir)) = (&result.query, output) else {
                    continue;
                };
                let stem = file_stem(result.id.as_deref(), file, &mut names);
                let path = dir.join(format!("{stem}.{}", target.extension()));
                write_query(&path, query)?;
            }
        }
    }
    let total = results.len() + set.errors.len();
    eprintln!(
        "{} of {total} rules converted to {target}{}",
        total - failed,
        if failed == 0 {
            String::new()
        } else {
            format!(
                "; {failed} failed: {}",
                reasons
                    .iter()
                    .map(|(r, n)| format!("{n} {r}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    Ok(if failed > 0 {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}

/// The kind of a conversion error, for the summary: its text up to the first backquote.
fn reason_class(error: &str) -> String {
    let head = error.split('`').next().unwrap_or(error).trim();
    head.trim_end_matches([':', ' ']).to_owned()
}

/// A file name for a rule: its id, else its file's stem; made unique.
fn file_stem(
    id: Option<&str>,
    file: &Path,
    used: &mut std::collections::BTreeSet<String>,
) -> String {
    let base = safe_file_name(
        &id.map(str::to_owned)
            .or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "rule".into()),
    );
    let mut name = base.clone();
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

fn write_query(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(b'\n');
    crate::output::write_atomic(path, &bytes)
}

/// A rule collection to select rules from (`analyze --sigma-rules`): every rule under `dir`.
pub fn load_collection(dir: &Path) -> anyhow::Result<rules::RuleSet> {
    let files = rules::rule_files(std::slice::from_ref(&dir.to_path_buf()))?;
    if files.is_empty() {
        bail!(
            "no .yml or .yaml rules under --sigma-rules {}",
            dir.display()
        );
    }
    Ok(rules::load(&files))
}
