//! CVEs named in the report, with their CISA KEV entry and any CVSS score stated beside them.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use ctiforge_ioc::{Indicator, IocType};
use ctiforge_kb::{KnowledgeBase, RansomwareUse};
use ctiforge_model::Span;
use ctiforge_model::analysis::Vulnerability;
use regex::Regex;

use crate::quote_at;

/// `CVSS 9.8`, `CVSSv3 base score of 10.0`...
static CVSS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)CVSS(?:v?3(?:\.\d)?)?(?:\s+base)?(?:\s+score)?(?:\s+of)?[:\s]+(\d{1,2}\.\d)")
        .expect("constant pattern")
});

pub(crate) fn warm_up() {
    LazyLock::force(&CVSS);
}

/// CVEs with their KEV entry and any CVSS score the text states next to them.
pub fn vulnerabilities(
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
