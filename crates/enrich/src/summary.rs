//! The summary: the few sentences that carry the report, quoted, and key points written
//! from the findings.

use std::collections::{BTreeMap, BTreeSet};

use ctiforge_model::analysis::{KillChainStep, Quote, Risk, Summary};
use ctiforge_model::{SentenceRole, Span};

use crate::Findings;

/// Cues of a sentence that warns what could happen (matched in lower case).
const RISK_CUES: &[&str] = &[
    "could allow",
    "may allow",
    "might allow",
    "would allow",
    "could enable",
    "may enable",
    "could lead to",
    "may lead to",
    "could result in",
    "may result in",
    "could cause",
    "may cause",
    "could compromise",
    "could be used to",
    "may be used to",
    "could permit",
    "poses a risk",
    "pose a risk",
    "risk to patient",
    "patient safety",
    "could expose",
    "may expose",
    "could impact",
    "could affect",
];
/// Key risks kept at most.
const MAX_RISKS: usize = 5;

/// The few narrative sentences that carry the report (most findings per sentence, the opening
/// favoured) and its first recommendation, the risks it warns of, and key points written from
/// the findings.
pub fn summarize(
    text: &str,
    sentences: &[Span],
    roles: &[SentenceRole],
    first_advice: Option<&Quote>,
    findings: &Findings<'_>,
    risk: &Risk,
    kill_chain: &[KillChainStep],
) -> Summary {
    let Findings {
        techniques,
        iocs,
        entities,
        exploitation,
        ..
    } = *findings;
    let mut weight: BTreeMap<usize, f32> = BTreeMap::new();
    let mut credit = |start: usize, amount: f32| {
        let i = sentences.partition_point(|s| s.end <= start);
        if i < sentences.len() {
            *weight.entry(i).or_default() += amount;
        }
    };
    for technique in techniques {
        for evidence in &technique.evidence {
            credit(evidence.start, technique.score);
        }
    }
    let named = entities
        .threat_actors
        .iter()
        .chain(&entities.malware)
        .chain(&entities.campaigns)
        .chain(&entities.sectors);
    for entity in named {
        for quote in &entity.evidence {
            credit(quote.start, 1.0);
        }
    }
    for vulnerability in &entities.vulnerabilities {
        for quote in &vulnerability.evidence {
            credit(quote.start, 1.5);
        }
    }
    for quote in &exploitation.evidence {
        credit(quote.start, 1.0);
    }
    let mut ranked: Vec<(usize, f32)> = weight
        .into_iter()
        .filter(|(i, _)| {
            let s = sentences[*i];
            if roles.get(*i).is_some_and(|r| *r != SentenceRole::Narrative) {
                return false;
            }
            let words = text
                .get(s.start..s.end)
                .map_or(0, |t| t.split_whitespace().count());
            (6..=60).contains(&words)
        })
        .map(|(i, w)| (i, w * (1.0 + 1.0 / (1.0 + i as f32 / 10.0))))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut chosen: Vec<usize> = ranked.iter().take(4).map(|(i, _)| *i).collect();
    chosen.sort_unstable();
    let mut quotes: Vec<Quote> = chosen
        .into_iter()
        .filter_map(|i| {
            let s = sentences[i];
            Some(Quote {
                start: s.start,
                end: s.end,
                text: text.get(s.start..s.end)?.to_owned(),
            })
        })
        .collect();
    if let Some(advice) = first_advice
        && !quotes.iter().any(|q| q.start == advice.start)
    {
        quotes.push(advice.clone());
    }

    let mut points = Vec::new();
    points.push(format!("Risk {}/100 ({}).", risk.score, risk.level));
    points.push(format!("Exploitation: {}.", exploitation.status.label()));
    for v in &entities.vulnerabilities {
        points.push(format!(
            "{}{}{}.",
            v.id,
            v.product
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default(),
            if v.kev { ", in CISA KEV" } else { "" }
        ));
    }
    let actors: Vec<&str> = entities
        .threat_actors
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    if !actors.is_empty() {
        points.push(format!("Actors named: {}.", actors.join(", ")));
    }
    let malware: Vec<&str> = entities.malware.iter().map(|a| a.name.as_str()).collect();
    if !malware.is_empty() {
        points.push(format!("Malware named: {}.", malware.join(", ")));
    }
    let targeted: Vec<&str> = entities
        .targeted_sectors
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    let mentioned: Vec<&str> = entities
        .sectors
        .iter()
        .map(|a| a.name.as_str())
        .filter(|name| !targeted.contains(name))
        .collect();
    match (targeted.is_empty(), mentioned.is_empty()) {
        (true, true) => {}
        (false, true) => points.push(format!("Sectors: {}.", targeted.join(", "))),
        (true, false) => points.push(format!("Sectors mentioned: {}.", mentioned.join(", "))),
        (false, false) => points.push(format!(
            "Sectors: {}; also mentioned: {}.",
            targeted.join(", "),
            mentioned.join(", ")
        )),
    }
    if !techniques.is_empty() {
        let tactics: BTreeSet<&str> = kill_chain.iter().map(|k| k.name.as_str()).collect();
        points.push(format!(
            "{} across {}; strongest: {}.",
            counted(techniques.len(), "technique", "techniques"),
            counted(tactics.len(), "tactic", "tactics"),
            techniques
                .iter()
                .take(3)
                .map(|t| format!("{} {}", t.id, t.name))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !iocs.is_empty() {
        points.push(format!(
            "{} indicator{} to block or hunt.",
            iocs.len(),
            if iocs.len() == 1 { "" } else { "s" }
        ));
    }
    Summary {
        sentences: quotes,
        key_points: points,
        key_risks: key_risks(text, sentences, roles),
    }
}

/// The narrative sentences that warn what could happen ("could allow an attacker to…"), each
/// wording once, in report order.
fn key_risks(text: &str, sentences: &[Span], roles: &[SentenceRole]) -> Vec<Quote> {
    let mut seen = BTreeSet::new();
    sentences
        .iter()
        .zip(roles)
        .filter(|(_, role)| **role == SentenceRole::Narrative)
        .filter_map(|(span, _)| {
            let sentence = span.slice(text)?;
            let lower = sentence.to_lowercase();
            let words = sentence.split_whitespace().count();
            let warns =
                (6..=80).contains(&words) && RISK_CUES.iter().any(|cue| lower.contains(cue));
            (warns && seen.insert(lower)).then(|| Quote {
                start: span.start,
                end: span.end,
                text: sentence.to_owned(),
            })
        })
        .take(MAX_RISKS)
        .collect()
}

/// "1 technique", "3 techniques".
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
