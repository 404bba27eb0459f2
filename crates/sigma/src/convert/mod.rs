//! Sigma rules to SIEM queries.
//!
//! A rule goes through the processing pipelines (rsigma's pySigma-compatible implementation;
//! ours are YAML files in `crates/sigma/pipelines/`), is lowered to one boolean expression
//! with every modifier applied ([`ir`]), and is rendered by the target's dialect
//! ([`targets`]). Filter rules are AND-ed into the rules they name; correlation rules become
//! aggregations where the target language has them (Splunk, ES|QL, Kusto).

mod correlate;
pub mod ir;
#[cfg(test)]
mod pipeline_tests;
mod pipelines;
mod render;
mod targets;

use std::collections::HashMap;

use rsigma_eval::pipeline::{Pipeline, PipelineState};
use rsigma_parser::{
    CorrelationRule, FilterRule, FilterRuleTarget, LogSource, SigmaCollection, SigmaRule,
};
use serde::Serialize;

pub use ir::Unsupported;
pub use pipelines::{builtin_pipelines, load_pipeline, parse as parse_pipeline};

/// A query language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Splunk SPL.
    Splunk,
    /// Elasticsearch Lucene query string.
    Lucene,
    /// Elasticsearch ES|QL.
    Esql,
    /// Elasticsearch EQL.
    Eql,
    /// Microsoft Kusto (Sentinel, Defender XDR).
    Kusto,
    /// CrowdStrike Falcon LogScale.
    Logscale,
    /// IBM QRadar AQL.
    Aql,
    /// SQL, SQLite dialect.
    Sql,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 8] = [
        Target::Splunk,
        Target::Lucene,
        Target::Esql,
        Target::Eql,
        Target::Kusto,
        Target::Logscale,
        Target::Aql,
        Target::Sql,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Splunk => "splunk",
            Target::Lucene => "lucene",
            Target::Esql => "esql",
            Target::Eql => "eql",
            Target::Kusto => "kusto",
            Target::Logscale => "logscale",
            Target::Aql => "aql",
            Target::Sql => "sql",
        }
    }

    /// Parses a name (`qradar` and `sentinel`, `defender` are accepted too).
    pub fn from_name(name: &str) -> Option<Target> {
        Some(match name.to_ascii_lowercase().as_str() {
            "splunk" | "spl" => Target::Splunk,
            "lucene" | "elasticsearch" => Target::Lucene,
            "esql" | "es|ql" => Target::Esql,
            "eql" => Target::Eql,
            "kusto" | "kql" | "sentinel" | "defender" => Target::Kusto,
            "logscale" | "log_scale" | "crowdstrike" => Target::Logscale,
            "aql" | "qradar" => Target::Aql,
            "sql" | "sqlite" => Target::Sql,
            _ => return None,
        })
    }

    /// The file extension for one query.
    pub fn extension(self) -> &'static str {
        match self {
            Target::Splunk => "spl",
            Target::Lucene => "lucene",
            Target::Esql => "esql",
            Target::Eql => "eql",
            Target::Kusto => "kql",
            Target::Logscale => "logscale",
            Target::Aql => "aql",
            Target::Sql => "sql",
        }
    }

    fn dialect(self) -> &'static dyn render::Dialect {
        match self {
            Target::Splunk => &targets::Splunk,
            Target::Lucene => &targets::Lucene,
            Target::Esql => &targets::Esql,
            Target::Eql => &targets::Eql,
            Target::Kusto => &targets::Kusto,
            Target::Logscale => &targets::LogScale,
            Target::Aql => &targets::Aql,
            Target::Sql => &targets::Sql,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The result for one rule.
#[derive(Debug, Clone, Serialize)]
pub struct Conversion {
    /// The rule's id.
    pub id: Option<String>,
    /// Its title.
    pub title: String,
    /// `rule` or `correlation`.
    pub kind: &'static str,
    /// The query, when it converted.
    pub query: Option<String>,
    /// Why it did not.
    pub error: Option<String>,
}

/// Converts every rule and correlation rule of a collection (filters are applied to the rules
/// they name). Results come in the collection's order, rules first.
pub fn convert_collection(
    collection: &SigmaCollection,
    target: Target,
    pipelines: &[Pipeline],
) -> Vec<Conversion> {
    let mut out = Vec::with_capacity(collection.rules.len() + collection.correlations.len());
    let mut converted: HashMap<String, Converted> = HashMap::new();
    for rule in &collection.rules {
        let filters: Vec<&FilterRule> = collection
            .filters
            .iter()
            .filter(|f| filter_applies(f, rule))
            .collect();
        let result = convert_rule_with(rule, &filters, target, pipelines);
        if let Ok(c) = &result {
            for key in rule.id.iter().chain(rule.name.iter()) {
                converted.insert(key.clone(), c.clone());
            }
        }
        out.push(Conversion {
            id: rule.id.clone(),
            title: rule.title.clone(),
            kind: "rule",
            query: result.as_ref().ok().map(|c| c.query.clone()),
            error: result.err().map(|e| e.0),
        });
    }
    for correlation in &collection.correlations {
        let result = convert_correlation(correlation, &converted, target, pipelines);
        out.push(Conversion {
            id: correlation.id.clone(),
            title: correlation.title.clone(),
            kind: "correlation",
            query: result.as_ref().ok().cloned(),
            error: result.err().map(|e| e.0),
        });
    }
    out
}

/// A rule as the evaluator should see it: the filters that apply AND-ed in, then the
/// pipelines applied.
pub fn prepare_rule(
    rule: &SigmaRule,
    filters: &[FilterRule],
    pipelines: &[Pipeline],
) -> Result<SigmaRule, Unsupported> {
    let applicable: Vec<&FilterRule> = filters.iter().filter(|f| filter_applies(f, rule)).collect();
    prepare(rule, &applicable, pipelines).map(|(rule, _)| rule)
}

/// The rule with `filters` AND-ed in and `pipelines` applied, and the pipelines' state.
fn prepare(
    rule: &SigmaRule,
    filters: &[&FilterRule],
    pipelines: &[Pipeline],
) -> Result<(SigmaRule, PipelineState), Unsupported> {
    let mut rule = rule.clone();
    for filter in filters {
        append_filter(&mut rule, filter);
    }
    let state = pipelines::apply(&mut rule, pipelines)?;
    for detection in rule.detection.named.values_mut() {
        drop_resolved_expand(detection);
    }
    Ok((rule, state))
}

/// Removes `expand` from items whose placeholders a pipeline has filled, so that evaluators
/// read the filled values as ordinary Sigma strings (wildcards included).
fn drop_resolved_expand(detection: &mut rsigma_parser::Detection) {
    use rsigma_parser::{Detection, Modifier, SigmaValue};
    match detection {
        Detection::AllOf(items) => {
            for item in items {
                let unresolved = item.values.iter().any(
                    |v| matches!(v, SigmaValue::String(s) if s.original.matches('%').count() >= 2),
                );
                if !unresolved {
                    item.field.modifiers.retain(|m| *m != Modifier::Expand);
                }
            }
        }
        Detection::AnyOf(parts) | Detection::And(parts) => {
            parts.iter_mut().for_each(drop_resolved_expand)
        }
        Detection::ArrayMatch { body, .. } => drop_resolved_expand(body),
        Detection::Conditional { named, .. } => named.values_mut().for_each(drop_resolved_expand),
        Detection::Keywords(_) => {}
    }
}

/// Literals of which an event must contain one (case-insensitively, in the named field) for
/// `rule` to match; `None` when the rule gives no such set.
pub fn rule_literals(rule: &SigmaRule) -> Option<Vec<(String, String)>> {
    let expr = ir::lower(&rule.detection).ok()?;
    ir::necessary_literals(&expr)
}

/// Test events for a rule (after its pipelines): one that must match and, for each AND term
/// of its condition, one that must not. `None` when the rule has a test that cannot be
/// satisfied by construction (a regular expression, a field reference...).
pub fn rule_examples(rule: &SigmaRule) -> Option<(ir::Map, Vec<ir::Map>)> {
    let expr = ir::lower(&rule.detection).ok()?;
    ir::examples(&expr)
}

/// Converts one rule.
pub fn convert_rule(
    rule: &SigmaRule,
    target: Target,
    pipelines: &[Pipeline],
) -> Result<String, Unsupported> {
    convert_rule_with(rule, &[], target, pipelines).map(|c| c.query)
}

/// A converted rule with the parts a correlation needs.
#[derive(Debug, Clone)]
pub(crate) struct Converted {
    /// The whole query.
    pub query: String,
    /// The condition alone.
    pub condition: String,
    /// Commands that must run before it (Splunk).
    pub preamble: Vec<String>,
    /// The table or index a pipeline chose.
    pub table: Option<String>,
}

fn convert_rule_with(
    rule: &SigmaRule,
    filters: &[&FilterRule],
    target: Target,
    pipelines: &[Pipeline],
) -> Result<Converted, Unsupported> {
    let (rule, state) = prepare(rule, filters, pipelines)?;
    let mut expr = ir::lower(&rule.detection)?;
    let postscript = if target == Target::Splunk {
        targets::Splunk::hoist_regexes(&mut expr)
    } else {
        Vec::new()
    };
    let mut extras = render::Extras::default();
    let condition = render::render(target.dialect(), &expr, &mut extras)?;
    let table = state_string(&state, &["query_table", "table", "index"]);
    let mut query = assemble(target, &condition, &extras.preamble, table.as_deref());
    for line in &postscript {
        query.push('\n');
        query.push_str(line);
    }
    let mut preamble = extras.preamble;
    if !postscript.is_empty() {
        // A correlation runs the rule as a sub-search: the filters come after its condition.
        preamble.extend(postscript.iter().cloned());
    }
    Ok(Converted {
        query,
        condition,
        preamble,
        table,
    })
}

fn state_string(state: &PipelineState, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| {
        state
            .state
            .get(*k)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    })
}

fn assemble(target: Target, condition: &str, preamble: &[String], table: Option<&str>) -> String {
    match target {
        Target::Splunk if !preamble.is_empty() => {
            format!("{}\n| search {condition}", preamble.join("\n"))
        }
        Target::Esql => format!(
            "from {} metadata _id, _index, _version | where {condition}",
            table.unwrap_or("*")
        ),
        Target::Eql => format!("{} where {condition}", table.unwrap_or("any")),
        Target::Kusto => match table {
            Some(t) => format!("{t}\n| where {condition}"),
            None => condition.to_owned(),
        },
        Target::Aql => format!(
            "SELECT * FROM {} WHERE {condition}",
            table.unwrap_or("events")
        ),
        Target::Sql => format!(
            "SELECT * FROM {} WHERE {condition}",
            table.unwrap_or("logs")
        ),
        _ => condition.to_owned(),
    }
}

/// Whether a filter rule applies to `rule`: it names the rule (id or name), or it targets
/// any rule and its logsource fields match the rule's.
fn filter_applies(filter: &FilterRule, rule: &SigmaRule) -> bool {
    let named = match &filter.rules {
        FilterRuleTarget::Any => true,
        FilterRuleTarget::Specific(names) => names
            .iter()
            .any(|n| rule.id.as_deref() == Some(n) || rule.name.as_deref() == Some(n)),
    };
    named
        && filter
            .logsource
            .as_ref()
            .is_none_or(|ls| logsource_within(ls, &rule.logsource))
}

fn logsource_within(filter: &LogSource, rule: &LogSource) -> bool {
    let same = |f: &Option<String>, r: &Option<String>| {
        f.as_ref()
            .is_none_or(|f| r.as_ref().is_some_and(|r| r.eq_ignore_ascii_case(f)))
    };
    same(&filter.category, &rule.category)
        && same(&filter.product, &rule.product)
        && same(&filter.service, &rule.service)
}

/// ANDs a filter's condition into the rule, its selections renamed so they cannot collide.
fn append_filter(rule: &mut SigmaRule, filter: &FilterRule) {
    use rsigma_parser::ConditionExpr;
    let prefix = format!(
        "__filter_{}_",
        filter
            .id
            .as_deref()
            .or(filter.name.as_deref())
            .unwrap_or("anonymous")
    );
    for (name, detection) in &filter.detection.named {
        rule.detection
            .named
            .insert(format!("{prefix}{name}"), detection.clone());
    }
    let renamed: Vec<ConditionExpr> = filter
        .detection
        .conditions
        .iter()
        .map(|c| rename_identifiers(c, &prefix, &filter.detection.named))
        .collect();
    let filter_condition = match renamed.len() {
        1 => renamed.into_iter().next(),
        0 => None,
        _ => Some(ConditionExpr::Or(renamed)),
    };
    if let Some(fc) = filter_condition {
        rule.detection.conditions = rule
            .detection
            .conditions
            .iter()
            .map(|c| ConditionExpr::And(vec![c.clone(), fc.clone()]))
            .collect();
    }
}

fn rename_identifiers(
    expr: &rsigma_parser::ConditionExpr,
    prefix: &str,
    named: &HashMap<String, rsigma_parser::Detection>,
) -> rsigma_parser::ConditionExpr {
    use rsigma_parser::{ConditionExpr as C, SelectorPattern};
    match expr {
        C::And(a) => C::And(
            a.iter()
                .map(|x| rename_identifiers(x, prefix, named))
                .collect(),
        ),
        C::Or(a) => C::Or(
            a.iter()
                .map(|x| rename_identifiers(x, prefix, named))
                .collect(),
        ),
        C::Not(x) => C::Not(Box::new(rename_identifiers(x, prefix, named))),
        C::Identifier(name) => C::Identifier(format!("{prefix}{name}")),
        C::Selector {
            quantifier,
            pattern,
        } => {
            // `them` inside a filter means the filter's own selections.
            let names: Vec<C> = named
                .keys()
                .filter(|n| match pattern {
                    SelectorPattern::Them => !n.starts_with('_'),
                    SelectorPattern::Pattern(p) => ir::name_matches(p, n),
                })
                .map(|n| C::Identifier(format!("{prefix}{n}")))
                .collect();
            match quantifier {
                rsigma_parser::Quantifier::All => C::And(names),
                _ => C::Or(names),
            }
        }
    }
}

fn convert_correlation(
    correlation: &CorrelationRule,
    converted: &HashMap<String, Converted>,
    target: Target,
    pipelines: &[Pipeline],
) -> Result<String, Unsupported> {
    let mut correlation = correlation.clone();
    let mut state = PipelineState::new(HashMap::new());
    for pipeline in pipelines {
        pipeline
            .apply_to_correlation(&mut correlation, &mut state)
            .map_err(|e| Unsupported(format!("pipeline {}: {e}", pipeline.name)))?;
    }
    let mut parts = Vec::new();
    for reference in &correlation.rules {
        let c = converted.get(reference).ok_or_else(|| {
            Unsupported(format!(
                "the correlation refers to rule `{reference}`, which is not in the converted \
                 set or did not convert"
            ))
        })?;
        parts.push((reference.as_str(), c));
    }
    correlate::render(target, &correlation, &parts)
}

#[cfg(test)]
mod tests;
