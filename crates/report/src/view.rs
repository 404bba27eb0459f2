//! What the templates see besides the Analysis itself (the ATT&CK matrix, evidence with its
//! phrases highlighted, entity groups, the graph) and the filters they use.

use ctiforge_model::{Analysis, Domain, Evidence};
use html_escape::encode_text as text;
use minijinja::{Environment, Error, ErrorKind, Value, context};
use serde::Serialize;
use serde_json::Value as Json;

use crate::SECTIONS;
use crate::graph::{self, KINDS};

/// The template context of an Analysis.
pub(crate) fn context(a: &Analysis) -> Value {
    let title = a.report.title.as_deref().unwrap_or("Untitled report");
    let source = a
        .report
        .url
        .as_deref()
        .or(a.report.path.as_deref())
        .unwrap_or("stdin");
    context! {
        a => Value::from_serialize(a),
        title => title,
        source => source,
        sections => SECTIONS,
        entity_groups => entity_groups(a),
        matrix => matrix(a),
        technique_views => technique_views(a),
        advised => advised(a),
    }
}

/// A defense the report's recommendations amount to, and how many recommend it.
#[derive(Serialize)]
struct Advised<'a> {
    defense: &'a ctiforge_model::analysis::Defense,
    count: usize,
}

/// The ATT&CK mitigations and D3FEND techniques the report's own recommendations amount to,
/// most recommended first (ATT&CK ids before D3FEND ids on ties, then in report order).
fn advised(a: &Analysis) -> Vec<Advised<'_>> {
    let mut found: Vec<Advised<'_>> = Vec::new();
    for r in &a.recommendations {
        for defense in r.mitigations.iter().chain(&r.countermeasures) {
            match found.iter_mut().find(|f| f.defense.id == defense.id) {
                Some(f) => f.count += 1,
                None => found.push(Advised { defense, count: 1 }),
            }
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.count));
    found
}

#[derive(Serialize)]
struct EntityGroup<'a> {
    label: &'static str,
    entities: &'a [ctiforge_model::analysis::Entity],
}

fn entity_groups(a: &Analysis) -> Vec<EntityGroup<'_>> {
    a.entities
        .labelled()
        .into_iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(label, entities)| EntityGroup { label, entities })
        .collect()
}

/// A score as one of eleven heat steps (0–10), for the matrix colours.
fn heat(score: f32) -> u8 {
    (score.clamp(0.0, 1.0) * 10.0).round() as u8
}

#[derive(Serialize)]
struct Cell {
    id: String,
    name: String,
    score: f32,
    heat: u8,
    evidence: String,
}

#[derive(Serialize)]
struct Tactic {
    name: String,
    cells: Vec<Cell>,
}

#[derive(Serialize)]
struct MatrixDomain {
    title: &'static str,
    tactics: Vec<Tactic>,
}

/// Per domain, the tactics in matrix order with the report's techniques under each.
fn matrix(a: &Analysis) -> Vec<MatrixDomain> {
    let mut domains: Vec<Domain> = a.kill_chain.iter().map(|k| k.domain).collect();
    domains.dedup();
    domains
        .into_iter()
        .map(|domain| MatrixDomain {
            title: domain.title(),
            tactics: a
                .kill_chain
                .iter()
                .filter(|k| k.domain == domain)
                .map(|step| Tactic {
                    name: step.name.clone(),
                    cells: step
                        .techniques
                        .iter()
                        .filter_map(|id| a.techniques.iter().find(|t| &t.id == id))
                        .map(|t| Cell {
                            id: t.id.clone(),
                            name: t.name.clone(),
                            score: t.score,
                            heat: heat(t.score),
                            evidence: t
                                .evidence
                                .first()
                                .map(|e| e.text.trim().to_owned())
                                .unwrap_or_default(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

#[derive(Serialize)]
struct EvidenceView {
    html: String,
    score: f32,
    signals: String,
    start: usize,
    end: usize,
}

#[derive(Serialize)]
struct TechniqueView {
    id: String,
    name: String,
    tactics: String,
    score: f32,
    heat: u8,
    evidence: Vec<EvidenceView>,
}

fn technique_views(a: &Analysis) -> Vec<TechniqueView> {
    a.techniques
        .iter()
        .map(|t| TechniqueView {
            id: t.id.clone(),
            name: t.name.clone(),
            tactics: t
                .tactics
                .iter()
                .map(|(_, name)| name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            score: t.score,
            heat: heat(t.score),
            evidence: t
                .evidence
                .iter()
                .map(|e| EvidenceView {
                    html: highlighted(e),
                    score: e.score,
                    signals: e
                        .signals
                        .iter()
                        .map(|s| s.signal.describe())
                        .collect::<Vec<_>>()
                        .join(", "),
                    start: e.start,
                    end: e.end,
                })
                .collect(),
        })
        .collect()
}

/// The evidence sentence, escaped, with the phrases that fired marked.
fn highlighted(evidence: &Evidence) -> String {
    let mut phrases: Vec<&str> = evidence
        .signals
        .iter()
        .filter_map(|s| s.signal.phrase())
        .collect();
    phrases.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let sentence = evidence.text.trim();
    let lower = sentence.to_lowercase();
    let mut marks: Vec<(usize, usize)> = Vec::new();
    for phrase in phrases {
        let needle = phrase.to_lowercase();
        // Lower-casing can change lengths outside ASCII; then offsets would not match.
        if needle.is_empty() || lower.len() != sentence.len() {
            continue;
        }
        let mut from = 0;
        while let Some(i) = lower[from..].find(&needle) {
            let (s, e) = (from + i, from + i + needle.len());
            if !marks.iter().any(|&(ms, me)| s < me && ms < e) {
                marks.push((s, e));
            }
            from = e;
        }
    }
    marks.sort_unstable();
    let mut html = String::new();
    let mut at = 0;
    for (s, e) in marks {
        if !sentence.is_char_boundary(s) || !sentence.is_char_boundary(e) {
            continue;
        }
        html.push_str(&text(&sentence[at..s]));
        html.push_str("<mark>");
        html.push_str(&text(&sentence[s..e]));
        html.push_str("</mark>");
        at = e;
    }
    html.push_str(&text(&sentence[at..]));
    html
}

#[derive(Serialize)]
struct LegendKind {
    #[serde(rename = "type")]
    kind: &'static str,
    label: &'static str,
    shape: &'static str,
    count: usize,
}

/// The graph of a bundle for the page: the SVG, the legend, and how much was drawn.
pub(crate) fn graph(bundle: &Json) -> Value {
    let graph = graph::from_bundle(bundle);
    let kinds: Vec<LegendKind> = KINDS
        .iter()
        .enumerate()
        .filter_map(|(i, kind)| {
            let count = graph.nodes.iter().filter(|n| n.kind == i).count();
            (count > 0).then_some(LegendKind {
                kind: kind.stix_type,
                label: kind.label,
                shape: kind.shape(),
                count,
            })
        })
        .collect();
    context! {
        svg => graph::svg(&graph),
        total => graph.total,
        drawn => graph.nodes.len(),
        kinds => kinds,
    }
}

/// The report's filters: `cell` (a Markdown table cell), `md` (report text in Markdown: no raw
/// HTML), `code` (inside a Markdown code span), `fence` (inside a fenced block), `label`
/// (`in_the_wild` → `in the wild`) and `fixed(n)` (a number with n decimals).
pub(crate) fn add_filters(env: &mut Environment<'static>) {
    env.add_filter("cell", |text: &str| {
        text.replace('|', "\\|").replace('\n', " ")
    });
    env.add_filter("md", |text: &str| {
        text.replace('<', "&lt;").replace('>', "&gt;")
    });
    env.add_filter("code", |text: &str| text.replace('`', "'"));
    env.add_filter("fence", |text: &str| text.replace("```", "`\u{200B}``"));
    env.add_filter("label", |text: &str| text.replace('_', " "));
    env.add_filter(
        "fixed",
        |value: Value, digits: u32| -> Result<String, Error> {
            let number = f64::try_from(value.clone()).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("fixed: {value} is not a number"),
                )
            })?;
            // Scores are f32 in the Analysis: format them as f32 so that 0.125 rounds as it
            // always did.
            Ok(format!("{:.*}", digits as usize, number as f32))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlighting_marks_phrases_and_escapes_the_rest() {
        let evidence = Evidence {
            start: 0,
            end: 40,
            text: "They ran <b>vssadmin delete shadows</b>.".into(),
            score: 0.9,
            signals: vec![ctiforge_model::SignalHit {
                signal: ctiforge_model::Signal::Lexicon {
                    phrase: "vssadmin delete shadows".into(),
                },
                strength: 0.9,
            }],
        };
        assert_eq!(
            highlighted(&evidence),
            "They ran &lt;b&gt;<mark>vssadmin delete shadows</mark>&lt;/b&gt;."
        );
    }

    #[test]
    fn heat_steps_cover_the_scores() {
        assert_eq!(heat(0.0), 0);
        assert_eq!(heat(0.46), 5);
        assert_eq!(heat(1.4), 10);
    }
}
