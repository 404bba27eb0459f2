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
    parse_yaml(&text)
}

/// Deepest nesting of YAML flow collections (`[`, `{`) a rule may have; real rules use two or
/// three. The parser's time grows with the square of the depth (100,000 levels: 80 s).
pub const MAX_FLOW_DEPTH: usize = 64;
/// Widest indentation of a rule line; real rules stay under 20 columns.
pub const MAX_INDENT: usize = 256;

/// Parses Sigma YAML after refusing nesting no rule needs ([`MAX_FLOW_DEPTH`],
/// [`MAX_INDENT`]), so that a hostile file is rejected at once, not after minutes.
pub fn parse_yaml(text: &str) -> Result<SigmaCollection, String> {
    check_nesting(text)?;
    rsigma_parser::parse_sigma_yaml(text).map_err(|e| e.to_string())
}

pub(crate) fn check_nesting(text: &str) -> Result<(), String> {
    for (number, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if indent > MAX_INDENT {
            return Err(format!(
                "line {} is indented {indent} columns, more than the {MAX_INDENT} a rule may use",
                number + 1
            ));
        }
    }
    let (mut depth, mut quote) = (0usize, None::<char>);
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '{') => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(format!(
                        "its lists and maps nest more than {MAX_FLOW_DEPTH} deep; no Sigma rule needs that"
                    ));
                }
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            (None, '\n') => {}
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod nesting_tests {
    use super::*;

    #[test]
    fn nesting_no_rule_needs_is_refused_before_parsing() {
        let deep = format!(
            "title: x\ndetection:\n  sel: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let error = parse_yaml(&deep).expect_err("refused");
        assert!(error.contains("nest more than 64"), "{error}");
        let wide = format!("title: x\n{}a: 1\n", " ".repeat(1000));
        assert!(
            parse_yaml(&wide)
                .expect_err("refused")
                .contains("indented 1000")
        );
        // Brackets inside quoted strings do not count.
        let quoted = format!("title: '{}'\n", "[".repeat(200));
        assert!(check_nesting(&quoted).is_ok());
    }
}
