//! Vulnerabilities, exploitation status, correlation with known groups and campaigns, the
//! risk score, and the report's date and language.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use ctiforge_ioc::{Indicator, IocType};
use ctiforge_kb::{KnowledgeBase, RansomwareUse, RelationKind};
use ctiforge_model::Span;
use regex::Regex;

use crate::analysis::{
    Attribution, Correlation, Dated, Entities, Exploitation, Quote, Risk, RiskFactor, Similar,
    Technique, Vulnerability,
};
use crate::entities::quote_at;

/// `CVSS 9.8`, `CVSSv3 base score of 10.0`...
static CVSS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)CVSS(?:v?3(?:\.\d)?)?(?:\s+base)?(?:\s+score)?(?:\s+of)?[:\s]+(\d{1,2}\.\d)")
        .expect("constant pattern")
});

const MONTHS: &str =
    "january|february|march|april|may|june|july|august|september|october|november|december";
static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(20\d\d|19\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
        .expect("constant pattern")
});
static US_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)\b({MONTHS})\s+(\d{{1,2}}),\s+(\d{{4}})\b"))
        .expect("constant pattern")
});
static EU_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)\b(\d{{1,2}})\s+({MONTHS})\s+(\d{{4}})\b")).expect("constant pattern")
});

/// CVEs with their KEV entry and any CVSS score the text states next to them.
pub(crate) fn vulnerabilities(
    kb: &KnowledgeBase,
    text: &str,
    sentences: &[Span],
    indicators: &[Indicator],
) -> Vec<Vulnerability> {
    let cvss = &*CVSS;
    let mut found: BTreeMap<String, Vulnerability> = BTreeMap::new();
    for indicator in indicators.iter().filter(|i| i.kind == IocType::Cve) {
        let id = indicator.value.to_uppercase();
        let quote = quote_at(text, sentences, indicator.start);
        let entry = found.entry(id.clone()).or_insert_with(|| {
            let kev = kb.kev(&id);
            Vulnerability {
                id: id.clone(),
                kev: kev.is_some(),
                kev_name: kev.map(|k| k.name.clone()),
                product: kev.map(|k| format!("{} {}", k.vendor, k.product)),
                kev_date_added: kev.map(|k| k.date_added.clone()),
                kev_due_date: kev.map(|k| k.due_date.clone()),
                known_ransomware_use: kev.is_some_and(|k| k.ransomware == RansomwareUse::Known),
                cvss: None,
                evidence: Vec::new(),
            }
        });
        if let Some(quote) = quote {
            if entry.cvss.is_none()
                && let Some(score) = cvss
                    .captures(&quote.text)
                    .and_then(|c| c[1].parse::<f32>().ok())
                    .filter(|s| (0.0..=10.0).contains(s))
            {
                entry.cvss = Some(score);
            }
            if !entry.evidence.contains(&quote) && entry.evidence.len() < 3 {
                entry.evidence.push(quote);
            }
        }
    }
    found.into_values().collect()
}

const ACTIVE: &[&str] = &[
    "exploited in the wild",
    "exploitation in the wild",
    "actively exploited",
    "active exploitation",
    "being exploited",
    "under active attack",
    "exploited the vulnerability",
    "exploited a vulnerability",
    "exploited cve-",
    "exploiting cve-",
    "exploited the",
];
const POC: &[&str] = &[
    "proof-of-concept",
    "proof of concept",
    " poc ",
    "public exploit",
    "exploit code is publicly available",
    "exploit code was published",
];
const NONE: &[&str] = &[
    "no evidence of exploitation",
    "not been exploited",
    "not aware of any exploitation",
    "no known exploitation",
    "not known to be exploited",
];

/// Exploitation status from the text and the KEV status of the report's CVEs.
pub(crate) fn exploitation(
    text: &str,
    sentences: &[Span],
    vulnerabilities: &[Vulnerability],
) -> Exploitation {
    let mut evidence = Vec::new();
    let mut reasons = Vec::new();
    let (mut active, mut poc, mut none) = (false, false, false);
    for span in sentences {
        let Some(sentence) = text.get(span.start..span.end) else {
            continue;
        };
        let lower = format!(" {} ", sentence.to_lowercase());
        let quote = || Quote {
            start: span.start,
            end: span.end,
            text: sentence.to_owned(),
        };
        if NONE.iter().any(|p| lower.contains(p)) {
            none = true;
            evidence.push(quote());
        } else if ACTIVE.iter().any(|p| lower.contains(p)) {
            active = true;
            evidence.push(quote());
        } else if POC.iter().any(|p| lower.contains(p)) {
            poc = true;
            evidence.push(quote());
        }
    }
    if active {
        reasons.push("the report describes exploitation".to_owned());
    }
    for v in vulnerabilities.iter().filter(|v| v.kev) {
        reasons.push(format!(
            "{} is in CISA KEV (added {})",
            v.id,
            v.kev_date_added.as_deref().unwrap_or("?")
        ));
    }
    let kev = vulnerabilities.iter().any(|v| v.kev);
    let status = if active || kev {
        "active"
    } else if poc {
        reasons.push("the report mentions a proof-of-concept or public exploit".to_owned());
        "proof_of_concept"
    } else if none {
        reasons.push("the report says there is no known exploitation".to_owned());
        "none"
    } else {
        reasons.push("the report does not say".to_owned());
        "unknown"
    };
    evidence.truncate(5);
    Exploitation {
        status: status.to_owned(),
        reasons,
        evidence,
    }
}

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
pub(crate) struct Correlator {
    /// (id, name, techniques), groups then campaigns.
    actors: Vec<(String, String, BTreeSet<String>)>,
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
    pub(crate) fn new(kb: &KnowledgeBase) -> Self {
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
        Self { actors, weights }
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
    pub(crate) fn correlate(
        &self,
        kb: &KnowledgeBase,
        techniques: &[Technique],
        entities: &Entities,
    ) -> Correlation {
        let report: BTreeSet<String> = techniques
            .iter()
            .flat_map(|t| with_parent(kb, &t.id))
            .collect();
        let total: f32 = report.iter().map(|t| self.weight(t)).sum();
        let mut groups = Vec::new();
        let mut campaigns = Vec::new();
        for (id, name, set) in &self.actors {
            let shared: Vec<String> = report.intersection(set).cloned().collect();
            if shared.len() < 2 || total <= 0.0 {
                continue;
            }
            let covered: f32 = shared.iter().map(|t| self.weight(t)).sum();
            let similar = Similar {
                id: id.clone(),
                name: name.clone(),
                score: (covered / total * 1000.0).round() / 1000.0,
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
        Correlation {
            note: "Similarity of ATT&CK technique sets, weighted so that rare techniques count \
                   more; this is not attribution. Stated attributions are those the report \
                   itself makes."
                .to_owned(),
            similar_groups: groups,
            similar_campaigns: campaigns,
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

/// Impact tactics: Enterprise/Mobile Impact, ICS Impact and Inhibit Response Function.
const IMPACT_TACTICS: &[&str] = &["TA0040", "TA0105", "TA0107", "TA0111"];
/// Sectors where an attack can harm people directly.
const LIFE_SAFETY: &[&str] = &["Health", "Electric", "Water", "Oil", "Energy", "Pharmacy"];
const CRITICAL: &[&str] = &[
    "Finance",
    "Government, Administration",
    "Telecoms",
    "Transport",
    "Railway",
    "Civil Aviation",
    "Defense",
    "Military",
    "Manufacturing",
];

/// The risk score. Every factor is listed, with 0 points when absent; docs/risk-model.md
/// explains each weight.
pub(crate) fn risk(
    exploitation: &Exploitation,
    vulnerabilities: &[Vulnerability],
    techniques: &[Technique],
    entities: &Entities,
    attributions: usize,
    indicators: usize,
) -> Risk {
    let mut factors = Vec::new();
    let mut factor = |name: &str, weight: u32, points: u32, reason: String| {
        factors.push(RiskFactor {
            factor: name.to_owned(),
            weight,
            points: points.min(weight),
            reason,
        });
    };
    let (points, reason) = match exploitation.status.as_str() {
        "active" => (25, "exploitation is active".to_owned()),
        "proof_of_concept" => (12, "a proof-of-concept or public exploit exists".to_owned()),
        other => (0, format!("exploitation status: {other}")),
    };
    factor("exploitation", 25, points, reason);

    let kev: Vec<&str> = vulnerabilities
        .iter()
        .filter(|v| v.kev)
        .map(|v| v.id.as_str())
        .collect();
    let ransomware = vulnerabilities.iter().any(|v| v.known_ransomware_use);
    factor(
        "kev",
        15,
        if kev.is_empty() {
            0
        } else if ransomware {
            15
        } else {
            10
        },
        if kev.is_empty() {
            "no CVE of the report is in CISA KEV".to_owned()
        } else {
            format!(
                "in CISA KEV: {}{}",
                kev.join(", "),
                if ransomware {
                    " (known ransomware use)"
                } else {
                    ""
                }
            )
        },
    );

    let impact: Vec<&str> = techniques
        .iter()
        .filter(|t| {
            t.tactics
                .iter()
                .any(|(id, _)| IMPACT_TACTICS.contains(&id.as_str()))
        })
        .map(|t| t.id.as_str())
        .collect();
    factor(
        "impact",
        15,
        if impact.is_empty() { 0 } else { 15 },
        if impact.is_empty() {
            "no impact technique".to_owned()
        } else {
            format!("impact techniques: {}", impact.join(", "))
        },
    );

    let sectors: Vec<&str> = entities.sectors.iter().map(|s| s.name.as_str()).collect();
    let life = sectors.iter().any(|s| LIFE_SAFETY.contains(s));
    let critical = sectors.iter().any(|s| CRITICAL.contains(s));
    factor(
        "sector",
        15,
        if life {
            15
        } else if critical {
            8
        } else {
            0
        },
        if sectors.is_empty() {
            "no sector named".to_owned()
        } else if life {
            format!(
                "life-safety sector (patient or public safety): {}",
                sectors.join(", ")
            )
        } else {
            format!("sectors: {}", sectors.join(", "))
        },
    );

    let tactics: BTreeSet<&str> = techniques
        .iter()
        .flat_map(|t| t.tactics.iter().map(|(id, _)| id.as_str()))
        .collect();
    factor(
        "kill_chain_breadth",
        15,
        (tactics.len() as u32) * 3 / 2,
        format!(
            "{} tactics across {} techniques",
            tactics.len(),
            techniques.len()
        ),
    );

    factor(
        "attribution",
        5,
        if attributions > 0 { 5 } else { 0 },
        if attributions > 0 {
            "the report attributes the activity to a known actor".to_owned()
        } else {
            "no stated attribution".to_owned()
        },
    );

    factor(
        "actionable_indicators",
        10,
        match indicators {
            0 => 0,
            1..=4 => 4,
            5..=19 => 7,
            _ => 10,
        },
        format!(
            "{indicators} indicator{} to block or hunt",
            if indicators == 1 { "" } else { "s" }
        ),
    );

    let score: u32 = factors.iter().map(|f| f.points).sum::<u32>().min(100);
    let level = match score {
        75.. => "critical",
        50..=74 => "high",
        25..=49 => "medium",
        _ => "low",
    };
    Risk {
        score,
        level: level.to_owned(),
        factors,
        model: "docs/risk-model.md".to_owned(),
    }
}

/// A publication date the text states near its start: `Published 2026-10-14`,
/// `October 14, 2026`, `14 October 2026`.
pub(crate) fn published(text: &str, sentences: &[Span]) -> Option<Dated> {
    let head_end = text.char_indices().nth(3000).map_or(text.len(), |(i, _)| i);
    let head = &text[..head_end];
    let (iso, us, eu) = (&*ISO_DATE, &*US_DATE, &*EU_DATE);
    let month_number = |name: &str| {
        MONTHS
            .split('|')
            .position(|m| m.eq_ignore_ascii_case(name))
            .map(|i| i + 1)
    };
    let mut candidates: Vec<(usize, String)> = Vec::new();
    for c in iso.captures_iter(head) {
        candidates.push((c.get(0)?.start(), format!("{}-{}-{}", &c[1], &c[2], &c[3])));
    }
    for c in us.captures_iter(head) {
        let day: u32 = c[2].parse().ok()?;
        if let Some(month) = month_number(&c[1]).filter(|_| (1..=31).contains(&day)) {
            candidates.push((c.get(0)?.start(), format!("{}-{month:02}-{day:02}", &c[3])));
        }
    }
    for c in eu.captures_iter(head) {
        let day: u32 = c[1].parse().ok()?;
        if let Some(month) = month_number(&c[2]).filter(|_| (1..=31).contains(&day)) {
            candidates.push((c.get(0)?.start(), format!("{}-{month:02}-{day:02}", &c[3])));
        }
    }
    // Prefer a date in a sentence that says "published", "posted" or "updated".
    candidates.sort();
    let pick = candidates
        .iter()
        .find(|(at, _)| {
            quote_at(text, sentences, *at).is_some_and(|q| {
                let lower = q.text.to_lowercase();
                ["published", "posted", "updated", "released", "date:"]
                    .iter()
                    .any(|w| lower.contains(w))
            })
        })
        .or_else(|| candidates.first())?;
    Some(Dated {
        date: pick.1.clone(),
        evidence: quote_at(text, sentences, pick.0)?,
    })
}
