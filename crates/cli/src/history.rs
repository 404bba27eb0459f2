//! `analyze --history FILE`: earlier analyses as JSON lines, one [`HistoryEntry`] each (enough
//! to find a report again, not its text), read before and rewritten after a run.

use std::path::Path;

use anyhow::Context;
use ctiforge_model::analysis::HistoryEntry;

use crate::output::write_atomic;

/// The entries of `path`; none when it does not exist yet.
pub fn read(path: &Path) -> anyhow::Result<Vec<HistoryEntry>> {
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
pub fn append(
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
    write_atomic(path, &bytes).with_context(|| format!("cannot write history {}", path.display()))
}
