use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use ctiforge_kb::KnowledgeBase;
use regex::Regex;
use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The rule is invalid or will not work.
    Error,
    /// The rule works but breaks a convention or references something stale.
    Warning,
    /// A suggestion.
    Info,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One problem, located.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// How bad.
    pub severity: Severity,
    /// A stable code (`condition-syntax`, `unknown-modifier`, `attack-tag-unknown`, or
    /// `lint:<rsigma rule>`).
    pub code: String,
    /// The rule's id, when it has one.
    pub rule_id: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Checks rule files (a YAML file may hold several documents). Ids are compared across all
/// of them. Files that cannot be read give an error finding, not a failure.
pub fn check_files(paths: &[PathBuf], kb: &KnowledgeBase) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut ids: BTreeMap<String, (PathBuf, usize)> = BTreeMap::new();
    for path in paths {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                findings.extend(check_text(&text, path, kb));
                for (id, line) in rule_ids(&text) {
                    if let Some((first, first_line)) = ids.get(&id) {
                        findings.push(Finding {
                            file: path.clone(),
                            line,
                            column: 1,
                            severity: Severity::Error,
                            code: "duplicate-id".into(),
                            rule_id: Some(id.clone()),
                            message: format!(
                                "id {id} is also used by {}:{first_line}",
                                first.display()
                            ),
                        });
                    } else {
                        ids.insert(id, (path.clone(), line));
                    }
                }
            }
            Err(e) => findings.push(Finding {
                file: path.clone(),
                line: 0,
                column: 0,
                severity: Severity::Error,
                code: "unreadable".into(),
                rule_id: None,
                message: format!("cannot read the file: {e}"),
            }),
        }
    }
    findings.sort();
    findings
}

/// `id:` values at the top level of each document, with their line.
fn rule_ids(text: &str) -> Vec<(String, usize)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let id = line.strip_prefix("id:")?.trim().trim_matches(['\'', '"']);
            (!id.is_empty()).then(|| (id.to_owned(), i + 1))
        })
        .collect()
}

/// The line (1-based) and column of the first top-level or nested `key:` in `text`.
/// The modifiers of the Sigma specification, for suggestions.
const MODIFIERS: &[&str] = &[
    "contains",
    "startswith",
    "endswith",
    "all",
    "base64",
    "base64offset",
    "wide",
    "utf16le",
    "utf16be",
    "utf16",
    "windash",
    "re",
    "i",
    "m",
    "s",
    "cidr",
    "cased",
    "exists",
    "expand",
    "fieldref",
    "gt",
    "gte",
    "lt",
    "lte",
    "neq",
];

/// The modifier nearest to an unknown one, when it is near enough to be a typo.
fn suggest_modifier(unknown: &str) -> Option<&'static str> {
    MODIFIERS
        .iter()
        .map(|m| (strsim::damerau_levenshtein(unknown, m), *m))
        .filter(|(d, m)| *d <= 2 && m.len() > 2)
        .min()
        .map(|(_, m)| m)
}

/// Named detections no condition reaches (`them` reaches all but `_`-prefixed ones).
fn unused_selections(rule: &rsigma_parser::SigmaRule) -> Vec<String> {
    use rsigma_parser::{ConditionExpr, SelectorPattern};
    fn reached(expr: &ConditionExpr, names: &[&String], out: &mut Vec<String>) {
        match expr {
            ConditionExpr::And(a) | ConditionExpr::Or(a) => {
                a.iter().for_each(|x| reached(x, names, out));
            }
            ConditionExpr::Not(x) => reached(x, names, out),
            ConditionExpr::Identifier(n) => out.push(n.clone()),
            ConditionExpr::Selector { pattern, .. } => {
                for name in names {
                    let hit = match pattern {
                        SelectorPattern::Them => !name.starts_with('_'),
                        SelectorPattern::Pattern(p) => crate::convert::ir::name_matches(p, name),
                    };
                    if hit {
                        out.push((*name).clone());
                    }
                }
            }
        }
    }
    let names: Vec<&String> = rule.detection.named.keys().collect();
    let mut used = Vec::new();
    for condition in &rule.detection.conditions {
        reached(condition, &names, &mut used);
    }
    let mut unused: Vec<String> = names
        .into_iter()
        .filter(|n| !used.contains(n))
        .cloned()
        .collect();
    unused.sort();
    unused
}

/// The line and column (1-based) of the first line that starts with `key:`, whatever its
/// indentation.
fn key_position(text: &str, key: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let trimmed = line.trim_start();
        let rest = trimmed.strip_prefix(key)?;
        rest.starts_with(':')
            .then(|| (i + 1, line.len() - trimmed.len() + 1))
    })
}

/// The position of the first occurrence of `needle`.
fn text_position(text: &str, needle: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        line.find(needle)
            .map(|c| (i + 1, line[..c].chars().count() + 1))
    })
}

// rsigma's error messages, to locate them in the file.
static CONDITION_ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Condition parse error at (\d+):(\d+)").expect("constant"));
static YAML_ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"at line (\d+) column (\d+)").expect("constant"));
static MODIFIER_ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Unknown modifier '([^']*)'").expect("constant"));
static TECHNIQUE_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^T\d{4}(\.\d{3})?$").expect("constant"));

/// Checks one file's text.
pub fn check_text(text: &str, file: &Path, kb: &KnowledgeBase) -> Vec<Finding> {
    let first_id = rule_ids(text).into_iter().next().map(|(id, _)| id);
    let finding = |line: usize, column: usize, severity, code: &str, message: String| Finding {
        file: file.to_owned(),
        line,
        column,
        severity,
        code: code.to_owned(),
        rule_id: first_id.clone(),
        message,
    };
    let mut findings = Vec::new();
    let (condition_error, yaml_error, modifier_error) =
        (&*CONDITION_ERROR, &*YAML_ERROR, &*MODIFIER_ERROR);

    // Nesting no rule needs would make the parser and the linter quadratic: refuse it first.
    if let Err(message) = crate::rules::check_nesting(text) {
        return vec![finding(0, 0, Severity::Error, "parse", message)];
    }
    let collection = match rsigma_parser::parse_sigma_yaml(text) {
        Ok(collection) => Some(collection),
        Err(e) => {
            findings.push(finding(0, 0, Severity::Error, "parse", e.to_string()));
            None
        }
    };
    if let Some(collection) = &collection {
        for error in &collection.errors {
            let first_line = error.lines().next().unwrap_or(error).to_owned();
            if let Some(c) = condition_error.captures(error) {
                let (line, column) = key_position(text, "condition").unwrap_or((0, 0));
                let offset: usize = c[2].parse().unwrap_or(1);
                let column = column + "condition: ".len() + offset.saturating_sub(1);
                findings.push(finding(
                    line,
                    column,
                    Severity::Error,
                    "condition-syntax",
                    first_line,
                ));
            } else if let Some(c) = modifier_error.captures(error) {
                let (line, column) = text_position(text, &format!("|{}", &c[1])).unwrap_or((0, 0));
                let message = match suggest_modifier(&c[1]) {
                    Some(near) => format!("{first_line}; did you mean `{near}`?"),
                    None => first_line,
                };
                findings.push(finding(
                    line,
                    column,
                    Severity::Error,
                    "unknown-modifier",
                    message,
                ));
            } else if let Some(c) = yaml_error.captures(error) {
                let line = c[1].parse().unwrap_or(0);
                let column = c[2].parse().unwrap_or(0);
                findings.push(finding(line, column, Severity::Error, "yaml", first_line));
            } else {
                findings.push(finding(0, 0, Severity::Error, "parse", first_line));
            }
        }
        for rule in &collection.rules {
            if let Err(e) = rsigma_eval::compile_rule(rule) {
                let (line, column) = key_position(text, "condition").unwrap_or((0, 0));
                let mut f = finding(line, column, Severity::Error, "compile", e.to_string());
                f.rule_id = rule.id.clone().or(f.rule_id);
                findings.push(f);
            }
            for name in unused_selections(rule) {
                let (line, column) = key_position(text, &name).unwrap_or((0, 0));
                let mut f = finding(
                    line,
                    column,
                    Severity::Warning,
                    "unused-selection",
                    format!("selection `{name}` is not used by the condition"),
                );
                f.rule_id = rule.id.clone().or(f.rule_id);
                findings.push(f);
            }
            if !crate::taxonomy::known(&rule.logsource) {
                let (line, column) = key_position(text, "logsource").unwrap_or((0, 0));
                let mut f = finding(
                    line,
                    column,
                    Severity::Info,
                    "logsource-unmapped",
                    "no built-in reader or pipeline maps this logsource: hunting needs \
                     --logsource or a pipeline, conversion the target's field names"
                        .into(),
                );
                f.rule_id = rule.id.clone().or(f.rule_id);
                findings.push(f);
            }
            findings.extend(attack_tags(&rule.tags, text, kb).into_iter().map(
                |(line, column, severity, code, message)| {
                    let mut f = finding(line, column, severity, code, message);
                    f.rule_id = rule.id.clone().or(f.rule_id);
                    f
                },
            ));
        }
    }

    for warning in rsigma_parser::lint_yaml_str(text) {
        // Parse errors were reported above with better positions.
        if findings.iter().any(|f| f.message == warning.message) {
            continue;
        }
        let (line, column) = match &warning.span {
            // rsigma's spans count lines from 1 and columns from 0.
            Some(span) => (span.start_line as usize, span.start_col as usize + 1),
            None => warning
                .path
                .rsplit('/')
                .find(|s| !s.is_empty() && s.parse::<usize>().is_err())
                .and_then(|key| key_position(text, key))
                .unwrap_or((0, 0)),
        };
        let severity = match warning.severity {
            rsigma_parser::Severity::Error => Severity::Error,
            rsigma_parser::Severity::Warning => Severity::Warning,
            _ => Severity::Info,
        };
        findings.push(finding(
            line,
            column,
            severity,
            &format!("lint:{}", warning.rule),
            warning.message,
        ));
    }
    findings
}

/// ATT&CK tags (`attack.t1059.001`, `attack.execution`, `attack.g0016`, `attack.s0002`) checked
/// against the knowledge base.
fn attack_tags(
    tags: &[String],
    text: &str,
    kb: &KnowledgeBase,
) -> Vec<(usize, usize, Severity, &'static str, String)> {
    let mut out = Vec::new();
    let well_formed = &*TECHNIQUE_ID;
    for tag in tags {
        let Some(value) = tag.strip_prefix("attack.") else {
            continue;
        };
        let (line, column) = text_position(text, tag).unwrap_or((0, 0));
        let upper = value.to_uppercase();
        let first = upper.chars().next().unwrap_or(' ');
        let second_is_digit = upper.chars().nth(1).is_some_and(|c| c.is_ascii_digit());
        if first == 'T' && second_is_digit {
            match kb.technique(&upper) {
                None if !well_formed.is_match(&upper) => out.push((
                    line,
                    column,
                    Severity::Error,
                    "attack-tag-malformed",
                    format!("tag {tag}: technique ids look like attack.t1059 or attack.t1059.001"),
                )),
                // Rules may follow a newer ATT&CK release than the knowledge base.
                None => out.push((
                    line,
                    column,
                    Severity::Warning,
                    "attack-tag-unknown",
                    format!(
                        "tag {tag}: {upper} is not in ATT&CK {} (the knowledge base); a typo, or a newer release?",
                        attack_version(kb)
                    ),
                )),
                Some(t) if !t.is_active() => {
                    let replacement = kb
                        .resolve_technique(&upper)
                        .filter(|r| r.id != upper)
                        .map(|r| format!("; use attack.{} ({})", r.id.to_lowercase(), r.name))
                        .unwrap_or_default();
                    out.push((
                        line,
                        column,
                        Severity::Warning,
                        "attack-tag-revoked",
                        format!("tag {tag}: {upper} ({}) is revoked or deprecated{replacement}", t.name),
                    ));
                }
                Some(_) => {}
            }
        } else if (first == 'G' || first == 'S' || first == 'C') && second_is_digit {
            if kb.get(&upper).is_empty() {
                out.push((
                    line,
                    column,
                    Severity::Error,
                    "attack-tag-unknown",
                    format!("tag {tag}: {upper} is not an ATT&CK group, software or campaign"),
                ));
            }
        } else if upper.starts_with("DS") && upper[2..].chars().all(|c| c.is_ascii_digit()) {
            // Data-source ids (attack.ds0005): ATT&CK retired them in v18; accepted as is.
        } else {
            let shortname = value.replace('_', "-");
            let known = kb
                .catalog()
                .tactics
                .iter()
                .any(|t| t.shortname == shortname);
            if !known {
                out.push((
                    line,
                    column,
                    Severity::Warning,
                    "attack-tag-unknown",
                    format!(
                        "tag {tag}: {value} is not a tactic of ATT&CK {} (the knowledge base); a typo, or a newer release?",
                        attack_version(kb)
                    ),
                ));
            }
        }
    }
    out
}

fn attack_version(kb: &KnowledgeBase) -> String {
    kb.catalog()
        .sources
        .iter()
        .find(|s| s.key == "attack-enterprise")
        .map_or_else(|| "?".to_owned(), |s| s.version.clone())
}
