//! The risk score: every factor listed with the points it gave (0 when absent);
//! `docs/risk-model.md` explains each weight.

use std::collections::BTreeSet;

use ctiforge_model::analysis::{
    Entities, Exploitation, Risk, RiskFactor, Technique, Vulnerability,
};
use ctiforge_model::{ExploitationStatus, RiskLevel};

use crate::exploitation::HEDGES;

/// Impact tactics: Enterprise/Mobile Impact, ICS Impact and Inhibit Response Function.
const IMPACT_TACTICS: &[&str] = &["TA0040", "TA0105", "TA0107", "TA0111"];
/// Sectors where an attack can harm people directly.
const LIFE_SAFETY: &[&str] = &[
    "Health",
    "Electric",
    "Water",
    "Oil",
    "Energy",
    "Pharmacy",
    "Dams",
    "Nuclear",
    "Chemical",
    "Emergency Services",
];
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

/// Initial access tactics: Enterprise, Mobile and ICS.
const INITIAL_ACCESS: &[&str] = &["TA0001", "TA0027", "TA0108"];
/// Initial access by exploiting a weakness: the `exploitation` status speaks for these (an
/// advisory's "could be exploited remotely" maps to them without any intrusion).
const BY_EXPLOIT: &[&str] = &["T1190", "T0819", "T0866", "T1210", "T1203", "T0862"];
/// The points of an intrusion described without an exploit, below an exploited CVE's 25
/// and as much as an impact technique.
const INTRUSION: u32 = 15;

/// The names of the initial access techniques that are not exploits, in the order found,
/// each with a sentence that reports it rather than says it could happen; a name shared by
/// matrices (External Remote Services, T1133 and T0822) once.
fn intrusion_entries(techniques: &[Technique]) -> Vec<&str> {
    let mut names: Vec<&str> = techniques
        .iter()
        .filter(|t| {
            let id = t.id.split('.').next().unwrap_or(&t.id);
            !BY_EXPLOIT.contains(&id)
                && t.tactics
                    .iter()
                    .any(|(tactic, _)| INITIAL_ACCESS.contains(&tactic.as_str()))
                && t.evidence.iter().any(|e| {
                    let lower = e.text.to_lowercase();
                    !HEDGES.iter().any(|h| lower.contains(h))
                })
        })
        .map(|t| t.name.as_str())
        .collect();
    let mut seen = BTreeSet::new();
    names.retain(|n| seen.insert(*n));
    names
}

/// The risk score. Every factor is listed, with 0 points when absent; docs/risk-model.md
/// explains each weight. `advisory`: the report is a CSAF advisory, which describes weaknesses,
/// not intrusions.
pub fn risk(
    exploitation: &Exploitation,
    vulnerabilities: &[Vulnerability],
    techniques: &[Technique],
    entities: &Entities,
    attributions: usize,
    indicators: usize,
    advisory: bool,
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
    let (mut points, mut reason) = match exploitation.status {
        ExploitationStatus::InTheWild => (25, "exploited in the wild".to_owned()),
        ExploitationStatus::PocPublic => (
            12,
            "a proof of concept or exploit code is public".to_owned(),
        ),
        ExploitationStatus::NoneKnown => (0, "no exploitation is known".to_owned()),
        ExploitationStatus::NotStated => (0, "the report does not say".to_owned()),
    };
    // An intrusion that needed no exploit (stolen credentials, a help-desk call, phishing) is
    // as real as one that did: the report says how the intruders got in.
    // Not in a CSAF advisory, nor when the report says no exploitation is known: a product's
    // weakness ("uses a default password") is no intrusion.
    let entries = intrusion_entries(techniques);
    if points < INTRUSION
        && !advisory
        && exploitation.status != ExploitationStatus::NoneKnown
        && !entries.is_empty()
    {
        reason = format!(
            "{reason}; it describes how intruders got in without an exploit: {}",
            entries.join(", ")
        );
        points = INTRUSION;
    }
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
    // Ransomware the report says was deployed is impact even when no sentence mapped to T1486.
    let ransomware_named: Vec<&str> = entities
        .malware
        .iter()
        .filter(|m| {
            m.evidence
                .iter()
                .any(|q| q.text.to_lowercase().contains("ransomware"))
        })
        .map(|m| m.name.as_str())
        .collect();
    let mut why = Vec::new();
    if !impact.is_empty() {
        why.push(format!("impact techniques: {}", impact.join(", ")));
    }
    if !ransomware_named.is_empty() {
        why.push(format!("ransomware named: {}", ransomware_named.join(", ")));
    }
    factor(
        "impact",
        15,
        if why.is_empty() { 0 } else { 15 },
        if why.is_empty() {
            "no impact technique and no ransomware named".to_owned()
        } else {
            why.join("; ")
        },
    );

    // The sectors the report says are targeted; all it names when it says of none.
    let named = if entities.targeted_sectors.is_empty() {
        &entities.sectors
    } else {
        &entities.targeted_sectors
    };
    let sectors: Vec<&str> = named.iter().map(|s| s.name.as_str()).collect();
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
            // Only the sectors that are life-safety are called so.
            let (safety, other): (Vec<&str>, Vec<&str>) =
                sectors.iter().partition(|s| LIFE_SAFETY.contains(s));
            let mut reason = format!(
                "life-safety sector (patient or public safety): {}",
                safety.join(", ")
            );
            if !other.is_empty() {
                reason.push_str(&format!("; also: {}", other.join(", ")));
            }
            reason
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
    Risk {
        score,
        level: RiskLevel::of_score(score),
        factors,
        model: "docs/risk-model.md".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctiforge_model::{Domain, Evidence};

    fn technique(id: &str, tactic: &str, sentence: &str) -> Technique {
        Technique {
            id: id.to_owned(),
            name: "External Remote Services".to_owned(),
            domains: vec![Domain::Enterprise],
            tactics: vec![(tactic.to_owned(), "Initial Access".to_owned())],
            score: 0.8,
            evidence: vec![Evidence {
                start: 0,
                end: sentence.len(),
                text: sentence.to_owned(),
                score: 0.8,
                signals: Vec::new(),
            }],
        }
    }

    #[test]
    fn an_intrusion_names_each_way_in_once_and_a_possibility_is_none() {
        let not_stated = Exploitation {
            status: ExploitationStatus::NotStated,
            reasons: Vec::new(),
            evidence: Vec::new(),
        };
        let used = "The actors logged in to the plant's VPN portal.";
        let both = [
            technique("T1133", "TA0001", used),
            technique("T0822", "TA0108", used),
        ];
        let risk = risk(&not_stated, &[], &both, &Entities::default(), 0, 0, false);
        let exploitation = &risk.factors[0];
        assert_eq!(exploitation.points, INTRUSION);
        assert_eq!(
            exploitation
                .reason
                .matches("External Remote Services")
                .count(),
            1,
            "{}",
            exploitation.reason
        );
        // The same technique from "could", or in a CSAF advisory, is no intrusion.
        let could = [technique(
            "T1133",
            "TA0001",
            "An attacker could log in to the VPN portal.",
        )];
        let hedged = super::risk(&not_stated, &[], &could, &Entities::default(), 0, 0, false);
        assert_eq!(hedged.factors[0].points, 0);
        let advisory = super::risk(&not_stated, &[], &both, &Entities::default(), 0, 0, true);
        assert_eq!(advisory.factors[0].points, 0);
    }
}
