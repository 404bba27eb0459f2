//! Loading rule collections: files found under folders, parsed in parallel, each rule
//! remembering its file.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use rsigma_parser::SigmaCollection;

/// Rules, correlations and filters of many files, in file order.
#[derive(Debug)]
pub struct RuleSet {
    /// Everything parsed.
    pub collection: SigmaCollection,
    /// The file of each entry of `collection.rules`.
    pub rule_files: Vec<PathBuf>,
    /// The file of each entry of `collection.correlations`.
    pub correlation_files: Vec<PathBuf>,
    /// Files that could not be read or parsed, and documents that failed, with the reason.
    pub errors: Vec<(PathBuf, String)>,
}

/// The `.yml`/`.yaml` files at or under `paths`, sorted within each folder.
pub fn rule_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        std::fs::metadata(path).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
        })?;
        for entry in walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
        {
            let entry = entry.map_err(|e| {
                let at = e.path().unwrap_or(path).display().to_string();
                std::io::Error::other(format!("cannot list {at}: {e}"))
            })?;
            let is_rule = entry.depth() == 0
                || entry
                    .path()
                    .extension()
                    .is_some_and(|e| e == "yml" || e == "yaml");
            if entry.file_type().is_file() && is_rule {
                files.push(entry.into_path());
            }
        }
    }
    Ok(files)
}

/// Parses `files` on all cores. A file that fails does not stop the others.
pub fn load(files: &[PathBuf]) -> RuleSet {
    let parsed: Vec<(PathBuf, Result<SigmaCollection, String>)> = files
        .par_iter()
        .map(|f| (f.clone(), parse_file(f)))
        .collect();
    let mut set = RuleSet {
        collection: SigmaCollection::new(),
        rule_files: Vec::new(),
        correlation_files: Vec::new(),
        errors: Vec::new(),
    };
    for (file, result) in parsed {
        match result {
            Ok(c) => {
                set.rule_files
                    .extend(std::iter::repeat_n(file.clone(), c.rules.len()));
                set.correlation_files
                    .extend(std::iter::repeat_n(file.clone(), c.correlations.len()));
                for e in c.errors {
                    set.errors.push((file.clone(), e));
                }
                set.collection.rules.extend(c.rules);
                set.collection.correlations.extend(c.correlations);
                set.collection.filters.extend(c.filters);
            }
            Err(e) => set.errors.push((file, e)),
        }
    }
    set
}

fn parse_file(path: &Path) -> Result<SigmaCollection, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    rsigma_parser::parse_sigma_yaml(&text).map_err(|e| e.to_string())
}
