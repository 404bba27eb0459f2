//! `ctiforge sigma check`: every problem of a rule collection, located.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use ctiforge_sigma::{Finding, Severity, check_files};

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `file:line:column: severity[code] rule-id: message`, then a summary.
    Text,
    /// One JSON object per finding per line.
    Jsonl,
}

pub fn run(command: &SigmaCommand, kb_path: Option<&Path>) -> anyhow::Result<Outcome> {
    let SigmaCommand::Check { paths, format, all } = command;
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files)?;
    }
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
        .filter(|f| *all || f.severity != Severity::Info)
        .collect();
    let mut out = std::io::stdout().lock();
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

fn collect(path: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_file() {
        files.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("cannot list {}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, files)?;
        } else if entry.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            files.push(entry);
        }
    }
    Ok(())
}
