//! Correlation: known groups and campaigns whose ATT&CK techniques overlap the report's,
//! attributions the text states, and earlier reports that share indicators or techniques.

use std::collections::{BTreeSet, HashMap};

use ctiforge_kb::{KnowledgeBase, RelationKind};
use ctiforge_model::analysis::{
    Attribution, Correlation, EarlierReport, Entities, HistoryEntry, Similar, Technique,
};

/// Fewest techniques a report and a group must share before the group is called similar.
const MIN_SHARED: usize = 3;
/// Fewest techniques a report must have for any similarity to mean something.
const MIN_TECHNIQUES: usize = 5;
/// Lowest similarity shown: the cosine of the two rarity-weighted technique sets. Below it
/// the overlap is what any two intrusions share.
const MIN_SCORE: f32 = 0.15;

const ATTRIBUTION_WORDS: &[&str] = &[
    "attributed to",
    "attribute this",
    "attribute the",
    "linked to",
    "tied to",
    "is behind",
    "are behind",
    "was behind",
    "conducted by",
    "carried out by",
    "operated by",
    "associated with",
];

/// The technique sets ATT&CK records for each active group and campaign, with the rarity
/// weight of each technique: knowledge-base facts, built once per analyzer.
#[derive(Debug)]
pub struct Correlator {
    /// (id, name, techniques), groups then campaigns.
    actors: Vec<(String, String, BTreeSet<String>)>,
    /// The sum of squared weights of each actor's techniques, in `actors` order.
    norms: Vec<f32>,
    /// ln(N / (1 + actors using the technique)), at least 0.1.
    weights: HashMap<String, f32>,
}

/// A technique and, for a sub-technique, its parent: ATT&CK records some actors under the
/// parent, so a report's T1059 meets a group's T1059.001.
fn with_parent(kb: &KnowledgeBase, id: &str) -> Vec<String> {
    let mut ids = vec![id.to_owned()];
    if let Some(parent) = kb.technique(id).and_then(|t| t.parent.clone()) {
        ids.push(parent);
    }
    ids
}

impl Correlator {
    /// The technique sets of every active ATT&CK group and campaign in `kb`.
    pub fn new(kb: &KnowledgeBase) -> Self {
        let catalog = kb.catalog();
        let named: Vec<(&str, &str)> = catalog
            .groups
            .iter()
            .filter(|g| !g.revoked && !g.deprecated)
            .map(|g| (g.id.as_str(), g.name.as_str()))
            .chain(
                catalog
                    .campaigns
                    .iter()
                    .filter(|c| !c.revoked && !c.deprecated)
                    .map(|c| (c.id.as_str(), c.name.as_str())),
            )
            .collect();
        let actors: Vec<(String, String, BTreeSet<String>)> = named
            .into_iter()
            .map(|(id, name)| {
                let techniques = kb
                    .relations_from(id)
                    .filter(|r| r.kind == RelationKind::Uses)
                    .filter(|r| kb.technique(&r.target).is_some())
                    .flat_map(|r| with_parent(kb, &r.target))
                    .collect();
                (id.to_owned(), name.to_owned(), techniques)
            })
            .collect();
        let mut frequency: HashMap<&str, usize> = HashMap::new();
        for (_, _, set) in &actors {
            for t in set {
                *frequency.entry(t.as_str()).or_default() += 1;
            }
        }
        let n = actors.len().max(1) as f32;
        let weights = frequency
            .into_iter()
            .map(|(t, f)| (t.to_owned(), (n / (1.0 + f as f32)).ln().max(0.1)))
            .collect();
        let mut correlator = Self {
            actors,
            weights,
            norms: Vec::new(),
        };
        correlator.norms = correlator
            .actors
            .iter()
            .map(|(_, _, set)| set.iter().map(|t| correlator.weight(t).powi(2)).sum())
            .collect();
        correlator
    }

    fn weight(&self, technique: &str) -> f32 {
        // A technique no actor uses is as rare as can be.
        let n = self.actors.len().max(1) as f32;
        self.weights
            .get(technique)
            .copied()
            .unwrap_or_else(|| n.ln().max(0.1))
    }

    /// Groups and campaigns whose ATT&CK technique sets overlap the report's, weighted by
    /// rarity, and the attributions the text states.
    pub fn correlate(
        &self,
        kb: &KnowledgeBase,
        techniques: &[Technique],
        entities: &Entities,
    ) -> Correlation {
        let report: BTreeSet<String> = techniques
            .iter()
            .flat_map(|t| with_parent(kb, &t.id))
            .collect();
        let norm: f32 = report.iter().map(|t| self.weight(t).powi(2)).sum();
        let mut groups = Vec::new();
        let mut campaigns = Vec::new();
        if techniques.len() < MIN_TECHNIQUES || norm <= 0.0 {
            return self.correlation(Vec::new(), Vec::new(), entities);
        }
        for ((id, name, set), group_norm) in self.actors.iter().zip(&self.norms) {
            let shared: Vec<String> = report.intersection(set).cloned().collect();
            if shared.len() < MIN_SHARED || *group_norm <= 0.0 {
                continue;
            }
            let dot: f32 = shared.iter().map(|t| self.weight(t).powi(2)).sum();
            let score = dot / (norm.sqrt() * group_norm.sqrt());
            if score < MIN_SCORE {
                continue;
            }
            let similar = Similar {
                id: id.clone(),
                name: name.clone(),
                score: (score * 1000.0).round() / 1000.0,
                shared_techniques: shared,
            };
            if id.starts_with('G') {
                groups.push(similar);
            } else {
                campaigns.push(similar);
            }
        }
        for list in [&mut groups, &mut campaigns] {
            list.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
            list.truncate(5);
        }
        self.correlation(groups, campaigns, entities)
    }

    fn correlation(
        &self,
        similar_groups: Vec<Similar>,
        similar_campaigns: Vec<Similar>,
        entities: &Entities,
    ) -> Correlation {
        Correlation {
            note: format!(
                "Similarity of ATT&CK technique sets (cosine, rare techniques weighted more), \
                 shown from {MIN_SCORE} with at least {MIN_SHARED} shared techniques and only \
                 for reports with {MIN_TECHNIQUES} or more; this is not attribution. Stated \
                 attributions are those the report itself makes."
            ),
            similar_groups,
            similar_campaigns,
            stated_attributions: stated_attributions(entities),
            earlier_reports: Vec::new(),
        }
    }
}

/// Attributions the report states: a sentence naming a known actor with an attribution word.
fn stated_attributions(entities: &Entities) -> Vec<Attribution> {
    let mut stated = Vec::new();
    for actor in &entities.threat_actors {
        for quote in &actor.evidence {
            let lower = quote.text.to_lowercase();
            if ATTRIBUTION_WORDS.iter().any(|w| lower.contains(w))
                && !stated.iter().any(|a: &Attribution| a.actor == actor.name)
            {
                stated.push(Attribution {
                    actor: actor.name.clone(),
                    id: actor.id.clone(),
                    evidence: quote.clone(),
                });
            }
        }
    }
    stated
}

/// Earlier reports (other than this one) that share an indicator, or whose techniques overlap
/// by a Jaccard similarity of 0.3 or more, most similar first, at most ten.
pub fn earlier_reports(mine: &HistoryEntry, history: &[HistoryEntry]) -> Vec<EarlierReport> {
    let techniques: BTreeSet<&str> = mine.techniques.iter().map(String::as_str).collect();
    let indicators: BTreeSet<&str> = mine.indicators.iter().map(String::as_str).collect();
    let mut found = Vec::new();
    for entry in history.iter().filter(|e| e.sha256 != mine.sha256) {
        let theirs: BTreeSet<&str> = entry.techniques.iter().map(String::as_str).collect();
        let shared_techniques: Vec<String> = techniques
            .intersection(&theirs)
            .map(|t| (*t).to_owned())
            .collect();
        let union = techniques.union(&theirs).count().max(1);
        let similarity = shared_techniques.len() as f32 / union as f32;
        let shared_indicators: Vec<String> = entry
            .indicators
            .iter()
            .filter(|i| indicators.contains(i.as_str()))
            .cloned()
            .collect();
        if shared_indicators.is_empty() && similarity < 0.3 {
            continue;
        }
        found.push(EarlierReport {
            sha256: entry.sha256.clone(),
            title: entry.title.clone(),
            published: entry.published.clone(),
            shared_indicators,
            shared_techniques,
            technique_similarity: (similarity * 1000.0).round() / 1000.0,
        });
    }
    found.sort_by(|a, b| {
        b.shared_indicators
            .len()
            .cmp(&a.shared_indicators.len())
            .then(b.technique_similarity.total_cmp(&a.technique_similarity))
            .then(a.sha256.cmp(&b.sha256))
    });
    found.truncate(10);
    found
}
