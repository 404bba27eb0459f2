//! The index terms of an Analysis: what a report can be found by (indicators, techniques,
//! actors, software, CVEs, sectors), normalised so that a search matches however it was
//! written.

use std::collections::BTreeSet;

use ctiforge_model::Analysis;

use crate::{Term, TermKind};

/// The normalised form of a value searched for as `kind`: ids upper-case, names and
/// indicators lower-case, surrounding space removed.
pub fn normalize(kind: TermKind, value: &str) -> String {
    let value = value.trim();
    match kind {
        TermKind::Technique | TermKind::Cve => value.to_ascii_uppercase(),
        TermKind::Actor | TermKind::Software | TermKind::Sector | TermKind::Ioc => {
            value.to_lowercase()
        }
    }
}

/// The terms of an analysis, each once.
pub fn of(analysis: &Analysis) -> Vec<Term> {
    let mut terms: BTreeSet<Term> = BTreeSet::new();
    let mut add = |kind: TermKind, value: &str, label: &str| {
        let value = normalize(kind, value);
        if !value.is_empty() && value.len() <= 2048 {
            terms.insert(Term {
                kind,
                value,
                label: label.to_owned(),
            });
        }
    };
    for ioc in analysis.iocs.iter().chain(
        analysis
            .observables
            .iter()
            .filter(|o| o.kind.is_observable()),
    ) {
        add(TermKind::Ioc, &ioc.value, &ioc.value);
    }
    for technique in &analysis.techniques {
        let label = format!("{} {}", technique.id, technique.name);
        add(TermKind::Technique, &technique.id, &label);
    }
    for actor in &analysis.entities.threat_actors {
        add(TermKind::Actor, &actor.name, &actor.name);
        if let Some(id) = &actor.id {
            add(TermKind::Actor, id, &actor.name);
        }
        for mention in &actor.mentions {
            add(TermKind::Actor, mention, &actor.name);
        }
    }
    for attribution in &analysis.correlation.stated_attributions {
        add(TermKind::Actor, &attribution.actor, &attribution.actor);
    }
    for software in analysis
        .entities
        .malware
        .iter()
        .chain(&analysis.entities.tools)
    {
        add(TermKind::Software, &software.name, &software.name);
        if let Some(id) = &software.id {
            add(TermKind::Software, id, &software.name);
        }
    }
    for vulnerability in &analysis.entities.vulnerabilities {
        add(TermKind::Cve, &vulnerability.id, &vulnerability.id);
    }
    for sector in &analysis.entities.sectors {
        add(TermKind::Sector, &sector.name, &sector.name);
    }
    terms.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_normalised_per_kind() {
        assert_eq!(normalize(TermKind::Technique, " t1059.001 "), "T1059.001");
        assert_eq!(normalize(TermKind::Cve, "cve-2024-3400"), "CVE-2024-3400");
        assert_eq!(normalize(TermKind::Actor, "Cozy Bear"), "cozy bear");
        assert_eq!(normalize(TermKind::Ioc, "EVIL.example"), "evil.example");
    }
}
