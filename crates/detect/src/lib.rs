//! Detection content for one analysed report.
//!
//! - **Generated rules**: from the report's indicators (one rule per kind and logsource, the
//!   values as a list) and from its hunting leads where a sound behavioural rule exists
//!   (device networks leaving their allow list, CloudTrail tampering, AI inference endpoints
//!   called from outside their clients), with placeholders the user fills.
//! - **Proof**: each generated rule is parsed back, test events are built from its detection
//!   (one that must match; for each AND term one that must not) and hunted with the same
//!   engine as `ctiforge hunt`; a rule that fails is not emitted, and a note says why.
//! - **Selected rules**: existing rules from a collection (`--sigma-rules`) tagged with the
//!   report's techniques, ranked by logsource fit (the rule's product is a platform the
//!   report points at), level and status, with the reason.
//! - **Queries**: every rule converted for the requested targets.

#![deny(missing_docs)]

mod behaviour;
mod draft;
mod ordinary;

use std::collections::BTreeMap;
use std::path::PathBuf;

use ctiforge_hunt::{Hunter, Source};
use ctiforge_model::Analysis;
use ctiforge_model::IocType;
use ctiforge_model::analysis::{DetectionContent, GeneratedRule, Proof, SelectedRule};
use ctiforge_sigma::convert::{self, Target};
use ctiforge_sigma::rules::RuleSet;
use rsigma_eval::pipeline::Pipeline;
use uuid::Uuid;

/// Namespace of generated rule ids.
const NAMESPACE: Uuid = Uuid::from_u128(0x2c5e_8a41_7b3d_4f96_a1e0_5d7c_9b2f_4e83);

/// What to make besides the generated rules.
#[derive(Debug, Default)]
pub struct Options<'a> {
    /// A rule collection to select existing rules from.
    pub collection: Option<&'a RuleSet>,
    /// Query targets.
    pub targets: Vec<Target>,
    /// How many selected rules per technique at most.
    pub per_technique: usize,
    /// The date to write into rules when the report states none (`YYYY-MM-DD`).
    pub date: String,
}

/// The detection content of `analysis`.
pub fn detection_content(analysis: &Analysis, options: &Options) -> DetectionContent {
    let mut notes = Vec::new();
    let mut drafts = draft::from_indicators(analysis, &mut notes);
    drafts.extend(draft::from_leads(analysis, &mut notes));
    let mut generated = Vec::new();
    for d in &drafts {
        match realise(analysis, d, options) {
            Ok(rule) => generated.push(rule),
            Err(reason) => notes.push(format!("Rule \"{}\" not emitted: {reason}", d.title)),
        }
    }
    let selected = match options.collection {
        Some(set) => select(analysis, set, options),
        None => {
            notes.push(
                "No existing rules selected for the report's techniques: give a Sigma rule \
                 collection with --sigma-rules (e.g. a SigmaHQ checkout)."
                    .into(),
            );
            Vec::new()
        }
    };
    DetectionContent {
        generated,
        selected,
        notes,
        targets: options
            .targets
            .iter()
            .map(|t| t.name().to_owned())
            .collect(),
    }
}

/// A pipeline that fills placeholders with `values` (name → list).
fn placeholder_pipeline(values: &[(String, Vec<String>)]) -> Option<Pipeline> {
    if values.is_empty() {
        return None;
    }
    let mut yaml = String::from("name: ctiforge placeholders\nvars:\n");
    for (name, list) in values {
        yaml.push_str(&format!("  {name}:\n"));
        for v in list {
            yaml.push_str(&format!("    - '{}'\n", v.replace('\'', "''")));
        }
    }
    yaml.push_str("transformations:\n  - type: value_placeholders\n");
    rsigma_eval::pipeline::parse_pipeline(&yaml).ok()
}

fn realise(
    analysis: &Analysis,
    d: &draft::Draft,
    options: &Options,
) -> Result<GeneratedRule, String> {
    let date = analysis
        .report
        .published
        .as_ref()
        .map_or_else(|| options.date.clone(), |p| p.date.clone());
    let references: Vec<String> = analysis
        .report
        .url
        .iter()
        .chain(analysis.report.path.iter())
        .cloned()
        .collect();
    let author = format!("ctiforge {}", env!("CARGO_PKG_VERSION"));
    let body = draft::to_yaml(
        d,
        "00000000-0000-0000-0000-000000000000",
        &date,
        &references,
        &author,
    );
    let id = Uuid::new_v5(
        &NAMESPACE,
        format!("{}\n{}\n{body}", analysis.report.sha256, d.key).as_bytes(),
    )
    .to_string();
    let yaml = draft::to_yaml(d, &id, &date, &references, &author);
    let collection =
        rsigma_parser::parse_sigma_yaml(&yaml).map_err(|e| format!("invalid Sigma: {e}"))?;
    let rule = collection
        .rules
        .first()
        .ok_or("the YAML holds no rule")?
        .clone();

    // The self-test: placeholders filled with examples, events built from the detection.
    let examples: Vec<(String, Vec<String>)> = d
        .placeholders
        .iter()
        .map(|(name, _, values)| (name.clone(), values.clone()))
        .collect();
    let test_pipelines: Vec<Pipeline> = placeholder_pipeline(&examples).into_iter().collect();
    let prepared = convert::prepare_rule(&rule, &[], &test_pipelines).map_err(|e| e.0)?;
    let (positive, negatives) = convert::rule_examples(&prepared)
        .ok_or("its detection has a test no example event can be built for")?;
    let declared = Source {
        product: d.product.map(str::to_owned),
        category: d.category.map(str::to_owned),
        service: d.service.map(str::to_owned),
    };
    let hunt_options = ctiforge_hunt::Options {
        declared: Some(declared),
        ..ctiforge_hunt::Options::default()
    };
    let (hunter, errors) = Hunter::new(&collection, &test_pipelines, hunt_options);
    if let Some((_, e)) = errors.first() {
        return Err(format!("the hunt engine cannot compile it: {e}"));
    }
    let positive = serde_json::Value::Object(positive);
    let negatives: Vec<serde_json::Value> = negatives
        .into_iter()
        .map(serde_json::Value::Object)
        .collect();
    let hits = |event: &serde_json::Value| hunter.matching_rules(event.clone()).contains(&id);
    let positive_matched = usize::from(hits(&positive));
    let negative_matched = negatives.iter().filter(|e| hits(e)).count();
    let passed = positive_matched == 1 && negative_matched == 0;
    if !passed {
        return Err(format!(
            "its self-test failed ({positive_matched}/1 positive events matched, {negative_matched} negative events matched)"
        ));
    }

    // Queries: placeholders shown as <name> for the user to replace.
    let shown: Vec<(String, Vec<String>)> = d
        .placeholders
        .iter()
        .map(|(name, _, _)| (name.clone(), vec![format!("<{name}>")]))
        .collect();
    let query_pipelines: Vec<Pipeline> = placeholder_pipeline(&shown).into_iter().collect();
    let queries = queries_for(&rule, &options.targets, &query_pipelines);

    Ok(GeneratedRule {
        id,
        title: d.title.clone(),
        origin: d.origin,
        logsource: d.logsource_name(),
        level: d.level.to_owned(),
        tags: d.tags.clone(),
        placeholders: d
            .placeholders
            .iter()
            .map(|(name, meaning, _)| (format!("%{name}%"), meaning.clone()))
            .collect(),
        yaml,
        proof: Proof {
            positive: vec![positive],
            negative: negatives,
            positive_matched,
            negative_matched,
            passed,
        },
        queries,
    })
}

fn queries_for(
    rule: &rsigma_parser::SigmaRule,
    targets: &[Target],
    pipelines: &[Pipeline],
) -> Vec<(String, String)> {
    targets
        .iter()
        .map(|t| {
            let text = match convert::convert_rule(rule, *t, pipelines) {
                Ok(q) => q,
                Err(e) => format!("not converted: {}", e.0),
            };
            (t.name().to_owned(), text)
        })
        .collect()
}

/// A rule's status as Sigma writes it (`stable`, `test`...), empty when it has none.
fn status_name(rule: &rsigma_parser::SigmaRule) -> String {
    rule.status
        .map(|s| format!("{s:?}").to_lowercase())
        .unwrap_or_default()
}

fn status_rank(status: &str) -> u8 {
    match status {
        "stable" => 3,
        "test" => 2,
        "experimental" => 1,
        _ => 0,
    }
}

/// Rules of the collection tagged with the report's techniques: per technique the best
/// `per_technique` by level, then status, then title; a rule that serves several techniques
/// is listed once with all of them.
/// The platforms the report points at: from its products and platform-shaped indicators.
/// Lower-cased Sigma product names.
fn platforms(analysis: &Analysis) -> Vec<&'static str> {
    let mut text: Vec<String> = analysis
        .entities
        .products
        .iter()
        .map(|p| p.name.to_lowercase())
        .collect();
    // Indicators and observables shaped by one platform (the leads' log sources are not
    // used: ATT&CK lists every platform a technique exists on).
    for ioc in analysis.iocs.iter().chain(&analysis.observables) {
        let value = ioc.value.to_lowercase();
        let windows = ioc.kind == IocType::Registry
            || (ioc.kind == IocType::Filepath && value.contains('\\'))
            || (ioc.kind == IocType::Filename
                && [".exe", ".dll", ".ps1", ".bat"]
                    .iter()
                    .any(|e| value.ends_with(e)));
        if windows {
            text.push("windows".into());
        } else if ioc.kind == IocType::Filepath
            && ["/etc/", "/tmp/", "/var/", "/usr/"]
                .iter()
                .any(|p| value.starts_with(p))
        {
            text.push("linux".into());
        }
    }
    let hints: &[(&str, &[&str])] = &[
        ("windows", &["windows", "winevent", "sysmon", "microsoft"]),
        ("linux", &["linux", "auditd"]),
        ("macos", &["macos"]),
        ("aws", &["aws", "cloudtrail", "amazon"]),
        ("azure", &["azure", "entra"]),
        ("gcp", &["gcp", "google cloud"]),
        ("m365", &["m365", "office 365", "microsoft 365"]),
        ("okta", &["okta"]),
    ];
    hints
        .iter()
        .filter(|(_, words)| text.iter().any(|t| words.iter().any(|w| t.contains(w))))
        .map(|(product, _)| *product)
        .collect()
}

fn select(analysis: &Analysis, set: &RuleSet, options: &Options) -> Vec<SelectedRule> {
    let platforms = platforms(analysis);
    let fits = |rule: &rsigma_parser::SigmaRule| {
        rule.logsource
            .product
            .as_deref()
            .is_none_or(|p| platforms.iter().any(|q| q.eq_ignore_ascii_case(p)))
    };
    let wanted: Vec<String> = analysis
        .techniques
        .iter()
        .filter(|t| t.id.starts_with('T'))
        .map(|t| t.id.clone())
        .collect();
    let per_technique = if options.per_technique == 0 {
        5
    } else {
        options.per_technique
    };
    // Rule index → (its report techniques, level rank, status rank, logsource fit).
    type Choice = (Vec<String>, u8, u8, bool);
    let mut chosen: BTreeMap<usize, Choice> = BTreeMap::new();
    for technique in &wanted {
        let tag = format!("attack.{}", technique.to_lowercase());
        let mut candidates: Vec<(usize, u8, u8, bool)> = set
            .collection
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)))
            .filter_map(|(i, r)| {
                let rank = status_rank(&status_name(r));
                let level = ctiforge_hunt::level_rank(r.level.as_ref().map(|l| l.as_str()));
                (rank > 0).then_some((i, level, rank, fits(r)))
            })
            .collect();
        candidates.sort_by(|a, b| {
            (b.3, b.1, b.2).cmp(&(a.3, a.1, a.2)).then_with(|| {
                set.collection.rules[a.0]
                    .title
                    .cmp(&set.collection.rules[b.0].title)
            })
        });
        for (i, level, status, fit) in candidates.into_iter().take(per_technique) {
            let entry = chosen.entry(i).or_insert((Vec::new(), level, status, fit));
            entry.0.push(technique.clone());
        }
    }
    // Best first: logsource fit, level, status, then title.
    let mut chosen: Vec<(usize, Choice)> = chosen.into_iter().collect();
    chosen.sort_by(|(a, x), (b, y)| {
        (y.3, y.1, y.2).cmp(&(x.3, x.1, x.2)).then_with(|| {
            set.collection.rules[*a]
                .title
                .cmp(&set.collection.rules[*b].title)
        })
    });
    chosen
        .into_iter()
        .map(|(i, (techniques, level, status, fit))| {
            let rule = &set.collection.rules[i];
            let level_name = rule.level.as_ref().map(|l| l.as_str().to_owned()).unwrap_or_default();
            let status_name = status_name(rule);
            let tags: Vec<String> = techniques.iter().map(|t| format!("attack.{}", t.to_lowercase())).collect();
            SelectedRule {
                id: rule.id.clone().unwrap_or_default(),
                title: rule.title.clone(),
                path: set
                    .rule_files
                    .get(i)
                    .map(|p: &PathBuf| p.display().to_string())
                    .unwrap_or_default(),
                level: level_name.clone(),
                status: status_name.clone(),
                techniques,
                reason: format!(
                    "tagged {}; {}; level {level_name} ({level}/5), status {status_name} ({status}/3); among the {per_technique} best per technique",
                    tags.join(", "),
                    match (&rule.logsource.product, fit) {
                        (None, _) => "any platform".to_owned(),
                        (Some(p), true) => format!("{p}, which the report points at"),
                        (Some(p), false) => format!("{p}, which the report does not mention"),
                    }
                ),
                queries: queries_for(rule, &options.targets, &[]),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::draft::escape_sigma;

    #[test]
    fn sigma_escaping_keeps_values_literal() {
        assert_eq!(escape_sigma("C:\\Windows\\x.exe"), "C:\\Windows\\x.exe");
        assert_eq!(escape_sigma("a*b?"), "a\\*b\\?");
        // `\\\server`: Sigma reads `\\` as one backslash and keeps `\s` as it is.
        assert_eq!(escape_sigma("\\\\server\\share"), "\\\\\\server\\share");
        assert_eq!(escape_sigma("trailing\\"), "trailing\\\\");
    }
}
