//! One module per command group.

pub mod ioc;
pub mod kb;

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
