//! The summary: the few sentences that carry the report, quoted, and key points written
//! from the findings.

use std::collections::{BTreeMap, BTreeSet};

use ctiforge_model::Span;
use ctiforge_model::analysis::{KillChainStep, Quote, Risk, Summary};

use crate::Findings;

/// The few sentences that carry the report (most findings per sentence, the opening
/// favoured), and key points written from the findings.
pub fn summarize(
    text: &str,
    sentences: &[Span],
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
    let quotes = chosen
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
    let sectors: Vec<&str> = entities.sectors.iter().map(|a| a.name.as_str()).collect();
    if !sectors.is_empty() {
        points.push(format!("Sectors: {}.", sectors.join(", ")));
    }
    if !techniques.is_empty() {
        let tactics: BTreeSet<&str> = kill_chain.iter().map(|k| k.name.as_str()).collect();
        points.push(format!(
            "{} techniques across {} tactics; strongest: {}.",
            techniques.len(),
            tactics.len(),
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
    }
}
