//! Correlation rules as aggregations: Splunk `stats`, ES|QL `STATS`, Kusto `summarize`.
//!
//! Time windows become fixed buckets of the timespan (Splunk `bin`, ES|QL `BUCKET`, Kusto
//! `bin`): a burst that straddles two buckets is counted in both halves, as in pySigma's
//! backends. `temporal_ordered` and boolean conditions over rule names have no aggregation
//! form and are refused with that reason.

use rsigma_parser::{ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType};

use super::{Converted, Target, Unsupported};

fn refuse<T>(message: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(message.into()))
}

/// The aggregate a correlation computes: its result name and, per language, its expression.
struct Aggregate {
    name: &'static str,
    splunk: String,
    esql: String,
    kusto: String,
}

impl Aggregate {
    /// An aggregate written the same way in every language.
    fn uniform(name: &'static str, expression: String) -> Aggregate {
        Aggregate {
            name,
            splunk: expression.clone(),
            esql: expression.clone(),
            kusto: expression,
        }
    }
}

fn aggregate(c: &CorrelationRule) -> Result<Aggregate, Unsupported> {
    let (field, percentile) = match &c.condition {
        CorrelationCondition::Threshold {
            field, percentile, ..
        } => (field.as_ref().and_then(|f| f.first()).cloned(), *percentile),
        CorrelationCondition::Extended(_) => {
            return refuse("a boolean condition over rule names has no aggregation form");
        }
    };
    let need_field = || {
        field.clone().ok_or_else(|| {
            Unsupported(format!(
                "a {} correlation needs `condition.field`",
                c.correlation_type.as_str()
            ))
        })
    };
    Ok(match c.correlation_type {
        CorrelationType::EventCount => Aggregate {
            name: "event_count",
            splunk: "count".into(),
            esql: "count(*)".into(),
            kusto: "count()".into(),
        },
        CorrelationType::ValueCount => {
            let f = need_field()?;
            Aggregate {
                name: "value_count",
                splunk: format!("dc({f})"),
                esql: format!("count_distinct({f})"),
                kusto: format!("dcount({f})"),
            }
        }
        CorrelationType::Temporal => Aggregate {
            name: "event_type_count",
            splunk: "dc(event_type)".into(),
            esql: "count_distinct(event_type)".into(),
            kusto: "dcount(event_type)".into(),
        },
        CorrelationType::ValueSum => {
            let f = need_field()?;
            Aggregate::uniform("value_sum", format!("sum({f})"))
        }
        CorrelationType::ValueAvg => {
            let f = need_field()?;
            Aggregate::uniform("value_avg", format!("avg({f})"))
        }
        CorrelationType::ValueMedian => {
            let f = need_field()?;
            Aggregate {
                name: "value_median",
                splunk: format!("median({f})"),
                esql: format!("median({f})"),
                kusto: format!("percentile({f}, 50)"),
            }
        }
        CorrelationType::ValuePercentile => {
            let f = need_field()?;
            let p = percentile.unwrap_or(95);
            Aggregate {
                name: "value_percentile",
                splunk: format!("perc{p}({f})"),
                esql: format!("percentile({f}, {p})"),
                kusto: format!("percentile({f}, {p})"),
            }
        }
        CorrelationType::TemporalOrdered => {
            return refuse(
                "temporal_ordered needs event order inside the window, which an aggregation \
                 cannot express",
            );
        }
    })
}

/// The threshold as `(operator, number)` pairs; a temporal rule without one needs every rule.
fn predicates(c: &CorrelationRule, rules: usize) -> Vec<(&'static str, u64)> {
    let symbol = |op: &ConditionOperator| match op {
        ConditionOperator::Lt => "<",
        ConditionOperator::Lte => "<=",
        ConditionOperator::Gt => ">",
        ConditionOperator::Gte => ">=",
        ConditionOperator::Eq => "==",
        ConditionOperator::Neq => "!=",
    };
    match &c.condition {
        CorrelationCondition::Threshold { predicates, .. } if !predicates.is_empty() => {
            predicates.iter().map(|(op, n)| (symbol(op), *n)).collect()
        }
        _ => vec![(">=", rules as u64)],
    }
}

/// The field each rule contributes to an alias.
fn alias_fields<'a>(c: &'a CorrelationRule, rule: &str) -> Vec<(&'a str, &'a str)> {
    c.aliases
        .iter()
        .filter_map(|a| a.mapping.get(rule).map(|f| (a.alias.as_str(), f.as_str())))
        .collect()
}

pub(crate) fn render(
    target: Target,
    c: &CorrelationRule,
    parts: &[(&str, &Converted)],
) -> Result<String, Unsupported> {
    let agg = aggregate(c)?;
    let limits = predicates(c, parts.len());
    let seconds = c.timespan.seconds.max(1);
    match target {
        Target::Splunk => Ok(splunk(c, parts, &agg, &limits, seconds)),
        Target::Esql => Ok(esql(c, parts, &agg, &limits, seconds)),
        Target::Kusto => Ok(kusto(c, parts, &agg, &limits, seconds)),
        other => refuse(format!(
            "correlation rules have no {other} form here; convert them for splunk, esql or kusto"
        )),
    }
}

fn splunk(
    c: &CorrelationRule,
    parts: &[(&str, &Converted)],
    agg: &Aggregate,
    limits: &[(&str, u64)],
    seconds: u64,
) -> String {
    let search = |p: &Converted| {
        if p.preamble.is_empty() {
            format!("search {}", p.condition)
        } else {
            format!("search * {} | search {}", p.preamble.join(" "), p.condition)
        }
    };
    let tag = |name: &str, conv: &Converted| {
        let mut s = format!("{} | eval event_type=\"{name}\"", search(conv));
        for (alias, field) in alias_fields(c, name) {
            s.push_str(&format!(" | eval {alias}={field}"));
        }
        s
    };
    let mut lines = Vec::new();
    if parts.len() == 1 {
        lines.push(tag(parts[0].0, parts[0].1));
    } else {
        lines.push("| multisearch".to_owned());
        for (name, conv) in parts {
            lines.push(format!("[ {} ]", tag(name, conv)));
        }
    }
    lines.push(format!("| bin _time span={seconds}s"));
    let mut by = vec!["_time".to_owned()];
    by.extend(c.group_by.iter().cloned());
    lines.push(format!(
        "| stats {} as {} by {}",
        agg.splunk,
        agg.name,
        by.join(" ")
    ));
    lines.push(threshold(agg.name, limits, "", " AND "));
    lines.join("\n")
}

fn esql(
    c: &CorrelationRule,
    parts: &[(&str, &Converted)],
    agg: &Aggregate,
    limits: &[(&str, u64)],
    seconds: u64,
) -> String {
    let index = parts
        .iter()
        .find_map(|(_, p)| p.table.clone())
        .unwrap_or_else(|| "*".into());
    let mut lines = vec![format!("from {index} metadata _id, _index, _version")];
    let conditions: Vec<String> = parts
        .iter()
        .map(|(_, p)| format!("({})", p.condition))
        .collect();
    lines.push(format!("| where {}", conditions.join(" or ")));
    let cases: Vec<String> = parts
        .iter()
        .map(|(name, p)| format!("({}), \"{name}\"", p.condition))
        .collect();
    lines.push(format!("| eval event_type = case({})", cases.join(", ")));
    for alias in &c.aliases {
        let cases: Vec<String> = parts
            .iter()
            .filter_map(|(name, p)| {
                alias
                    .mapping
                    .get(*name)
                    .map(|f| format!("({}), {f}", p.condition))
            })
            .collect();
        lines.push(format!(
            "| eval {} = case({})",
            alias.alias,
            cases.join(", ")
        ));
    }
    let mut by = vec![format!("window = bucket(@timestamp, {seconds} seconds)")];
    by.extend(c.group_by.iter().cloned());
    lines.push(format!(
        "| stats {} = {} by {}",
        agg.name,
        agg.esql,
        by.join(", ")
    ));
    lines.push(threshold(agg.name, limits, "", " and "));
    lines.join("\n")
}

fn kusto(
    c: &CorrelationRule,
    parts: &[(&str, &Converted)],
    agg: &Aggregate,
    limits: &[(&str, u64)],
    seconds: u64,
) -> String {
    let branch = |name: &str, p: &Converted| {
        let mut s = format!(
            "{} | where {} | extend event_type = \"{name}\"",
            p.table.as_deref().unwrap_or("union *"),
            p.condition
        );
        for (alias, field) in alias_fields(c, name) {
            s.push_str(&format!(" | extend {alias} = {field}"));
        }
        s
    };
    let mut lines = Vec::new();
    if parts.len() == 1 {
        lines.push(branch(parts[0].0, parts[0].1));
    } else {
        let branches: Vec<String> = parts
            .iter()
            .map(|(name, p)| format!("  ({})", branch(name, p)))
            .collect();
        lines.push(format!("union\n{}", branches.join(",\n")));
    }
    let mut by = vec![format!("bin(TimeGenerated, {seconds}s)")];
    by.extend(c.group_by.iter().cloned());
    lines.push(format!(
        "| summarize {} = {} by {}",
        agg.name,
        agg.kusto,
        by.join(", ")
    ));
    lines.push(threshold(agg.name, limits, " ", " and "));
    lines.join("\n")
}

/// `| where name>=10 and name<20`, with `space` around each operator.
fn threshold(name: &str, limits: &[(&str, u64)], space: &str, joiner: &str) -> String {
    let tests: Vec<String> = limits
        .iter()
        .map(|(op, n)| format!("{name}{space}{op}{space}{n}"))
        .collect();
    format!("| where {}", tests.join(joiner))
}
