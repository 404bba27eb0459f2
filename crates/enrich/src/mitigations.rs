//! What to do about the report's techniques: the ATT&CK mitigations that mitigate them, the
//! D3FEND countermeasures that counter them (through D3FEND's inferred ATT&CK mappings), and
//! the mitigation and countermeasure ids the report writes itself.

use std::collections::{BTreeMap, BTreeSet};

use ctiforge_entities::quote_at;
use ctiforge_ioc::{Indicator, IocType};
use ctiforge_kb::{KnowledgeBase, RelationKind};
use ctiforge_model::Span;
use ctiforge_model::analysis::{
    AttackMitigation, Countermeasure, D3fendGroup, Mitigations, StatedId, Technique,
};

/// D3FEND tactics in the order D3FEND presents them.
const D3FEND_TACTICS: &[&str] = &[
    "Model", "Harden", "Detect", "Isolate", "Deceive", "Evict", "Restore",
];
/// Countermeasures kept per D3FEND tactic.
const PER_TACTIC: usize = 6;

/// The mitigations of the report's techniques and those it states.
pub fn mitigations(
    kb: &KnowledgeBase,
    techniques: &[Technique],
    text: &str,
    sentences: &[Span],
    indicators: &[Indicator],
) -> Mitigations {
    Mitigations {
        attack: attack_mitigations(kb, techniques),
        d3fend: d3fend_countermeasures(kb, techniques),
        stated: stated_ids(kb, text, sentences, indicators),
    }
}

/// ATT&CK mitigations of the report's techniques, those that cover most of them first.
fn attack_mitigations(kb: &KnowledgeBase, techniques: &[Technique]) -> Vec<AttackMitigation> {
    let mut covered: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for technique in techniques {
        for relation in kb.relations_to(&technique.id) {
            if relation.kind == RelationKind::Mitigates && relation.source.starts_with('M') {
                covered
                    .entry(relation.source.clone())
                    .or_default()
                    .insert(technique.id.clone());
            }
        }
    }
    let mut attack: Vec<AttackMitigation> = covered
        .into_iter()
        .filter_map(|(id, techniques)| {
            let mitigation = kb.mitigation(&id)?;
            if mitigation.revoked || mitigation.deprecated {
                return None;
            }
            Some(AttackMitigation {
                url: format!("https://attack.mitre.org/mitigations/{id}/"),
                name: mitigation.name.clone(),
                id,
                techniques: techniques.into_iter().collect(),
            })
        })
        .collect();
    attack.sort_by(|a, b| {
        b.techniques
            .len()
            .cmp(&a.techniques.len())
            .then(a.id.cmp(&b.id))
    });
    attack
}

/// The report techniques one countermeasure counters, and how (at most four paths).
struct Countered {
    techniques: BTreeSet<String>,
    paths: BTreeSet<String>,
}

/// D3FEND countermeasures of the report's techniques (and of their parents), grouped by
/// D3FEND tactic in D3FEND's order, the best [`PER_TACTIC`] of each.
fn d3fend_countermeasures(kb: &KnowledgeBase, techniques: &[Technique]) -> Vec<D3fendGroup> {
    let mut countered: BTreeMap<String, Countered> = BTreeMap::new();
    for technique in techniques {
        let mut ids = vec![technique.id.as_str()];
        if let Some(parent) = kb
            .technique(&technique.id)
            .and_then(|t| t.parent.as_deref())
        {
            ids.push(parent);
        }
        for id in ids {
            for mapping in kb.countermeasures(id) {
                let entry = countered
                    .entry(mapping.d3fend.clone())
                    .or_insert(Countered {
                        techniques: BTreeSet::new(),
                        paths: BTreeSet::new(),
                    });
                entry.techniques.insert(technique.id.clone());
                if entry.paths.len() < 4 {
                    entry.paths.insert(format!(
                        "{} {} {} → {} {}",
                        technique.id,
                        mapping.offensive_relation,
                        mapping.offensive_artifact,
                        mapping.defensive_relation,
                        mapping.defensive_artifact
                    ));
                }
            }
        }
    }
    let mut by_tactic: BTreeMap<&str, Vec<Countermeasure>> = BTreeMap::new();
    for (id, found) in countered {
        let Some(technique) = kb.d3fend(&id) else {
            continue;
        };
        let Some(&tactic) = D3FEND_TACTICS.iter().find(|t| **t == technique.tactic) else {
            continue;
        };
        // Specific countermeasures (that counter few ATT&CK techniques overall) rank above
        // broad ones that counter the same number of the report's techniques.
        let breadth = kb.countered_techniques(&id).count().max(1) as f32;
        let score = found.techniques.len() as f32 * (1.0 + 1.0 / breadth.ln_1p());
        by_tactic.entry(tactic).or_default().push(Countermeasure {
            url: d3fend_url(&technique.name),
            name: technique.name.clone(),
            id,
            techniques: found.techniques.into_iter().collect(),
            paths: found.paths.into_iter().collect(),
            score: (score * 1000.0).round() / 1000.0,
        });
    }
    D3FEND_TACTICS
        .iter()
        .filter_map(|tactic| {
            let mut list = by_tactic.remove(tactic)?;
            list.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
            list.truncate(PER_TACTIC);
            Some(D3fendGroup {
                tactic: (*tactic).to_owned(),
                countermeasures: list,
            })
        })
        .collect()
}

/// The D3FEND page of a technique, from its name (`Network Isolation` →
/// `d3f:NetworkIsolation`).
pub fn d3fend_url(name: &str) -> String {
    format!(
        "https://d3fend.mitre.org/technique/d3f:{}/",
        name.replace([' ', '-', '/'], "")
    )
}

/// Mitigation and countermeasure ids the report writes (`M1030`, `D3-NI`), once each.
fn stated_ids(
    kb: &KnowledgeBase,
    text: &str,
    sentences: &[Span],
    indicators: &[Indicator],
) -> Vec<StatedId> {
    let mut stated = Vec::new();
    for indicator in indicators {
        let name = match indicator.kind {
            IocType::AttackMitigation => kb.mitigation(&indicator.value).map(|m| m.name.clone()),
            IocType::D3fendTechnique => kb.d3fend(&indicator.value).map(|d| d.name.clone()),
            _ => None,
        };
        if let (Some(name), Some(evidence)) = (name, quote_at(text, sentences, indicator.start))
            && !stated.iter().any(|s: &StatedId| s.id == indicator.value)
        {
            stated.push(StatedId {
                id: indicator.value.clone(),
                name,
                evidence,
            });
        }
    }
    stated
}
