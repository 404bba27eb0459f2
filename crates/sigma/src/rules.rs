//! Loading rule collections: files found under folders, parsed in parallel, each rule
//! remembering its file.

use std::path::{Path, PathBuf};

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
        collect(path, &mut files)?;
    }
    Ok(files)
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
    })?;
    if meta.is_file() {
        files.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot list {}: {e}", path.display())))?
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

/// Parses `files` on all cores. A file that fails does not stop the others.
pub fn load(files: &[PathBuf]) -> RuleSet {
    let parsed: Vec<(PathBuf, Result<SigmaCollection, String>)> =
        parallel_map(files, |f| (f.clone(), parse_file(f)));
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

/// `f` over `items` on all cores, results in order; a panic in `f` is raised here.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

fn parse_file(path: &Path) -> Result<SigmaCollection, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    rsigma_parser::parse_sigma_yaml(&text).map_err(|e| e.to_string())
}
