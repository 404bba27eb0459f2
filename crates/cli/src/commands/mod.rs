//! One module per command group.

pub mod analyze;
pub mod attack;
pub mod hunt;
pub mod ioc;
pub mod kb;
pub mod sigma;

use std::path::Path;

use anyhow::Context;
use clap::ValueEnum;
use ctiforge_kb::KnowledgeBase;
use ctiforge_sigma::convert::Target;

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the command ran and its answer is negative.
    Negative,
}

/// The knowledge base: the snapshot at `path` when given, else the embedded one.
pub fn load_kb(path: Option<&Path>) -> anyhow::Result<KnowledgeBase> {
    match path {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| {
                format!("cannot read knowledge-base snapshot {}", path.display())
            })?;
            Ok(KnowledgeBase::from_snapshot(
                &bytes,
                &path.display().to_string(),
            )?)
        }
        None => Ok(KnowledgeBase::embedded()?),
    }
}

/// A batch-mode input line: `{"id", "text"}`.
#[derive(Debug, serde::Deserialize)]
pub struct BatchInput {
    /// Echoed back as given (string or number).
    pub id: serde_json::Value,
    /// A sentence or a whole document.
    pub text: String,
}

/// Calls `each` for every non-blank line of `reader`, parsed as a [`BatchInput`]; a line
/// that is not one stops with an error naming the file and line.
pub fn for_each_batch_line(
    reader: impl std::io::BufRead,
    input: &Path,
    mut each: impl FnMut(BatchInput) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for (number, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", input.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: BatchInput = serde_json::from_str(&line).with_context(|| {
            format!(
                "{} line {}: expected a JSON object {{\"id\": ..., \"text\": \"...\"}}",
                input.display(),
                number + 1
            )
        })?;
        each(record)?;
    }
    Ok(())
}

/// A query language on the command line, with the names people also use for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SiemTarget {
    /// Splunk SPL.
    #[value(alias = "spl")]
    Splunk,
    /// Elasticsearch Lucene query string.
    #[value(alias = "elasticsearch")]
    Lucene,
    /// Elasticsearch ES|QL.
    #[value(alias = "es|ql")]
    Esql,
    /// Elasticsearch EQL.
    Eql,
    /// Microsoft Kusto (Sentinel, Defender XDR).
    #[value(aliases = ["kql", "sentinel", "defender"])]
    Kusto,
    /// CrowdStrike Falcon LogScale.
    #[value(aliases = ["log_scale", "crowdstrike"])]
    Logscale,
    /// IBM QRadar AQL.
    #[value(alias = "qradar")]
    Aql,
    /// SQL, SQLite dialect.
    #[value(alias = "sqlite")]
    Sql,
}

impl SiemTarget {
    /// The converter's target.
    pub fn target(self) -> Target {
        match self {
            SiemTarget::Splunk => Target::Splunk,
            SiemTarget::Lucene => Target::Lucene,
            SiemTarget::Esql => Target::Esql,
            SiemTarget::Eql => Target::Eql,
            SiemTarget::Kusto => Target::Kusto,
            SiemTarget::Logscale => Target::Logscale,
            SiemTarget::Aql => Target::Aql,
            SiemTarget::Sql => Target::Sql,
        }
    }
}
