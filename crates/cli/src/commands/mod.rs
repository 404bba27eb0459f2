//! One module per command group.

pub mod analyze;
pub mod args;
pub mod attack;
pub mod hunt;
pub mod ioc;
pub mod kb;
pub mod serve;
pub mod sigma;

use std::path::Path;

use anyhow::Context;
use ctiforge_kb::KnowledgeBase;

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
