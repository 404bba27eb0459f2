//! Indicators of compromise and identifiers in report text: extraction, refanging, validation
//! and false-positive flagging.
//!
//! The extractor reads text once, splitting it into tokens at whitespace and at characters that
//! cannot occur inside an indicator; it refangs each token (`hxxp[:]//evil[.]com`) while keeping
//! a map to source offsets, classifies it with structural checks (no backtracking regexes, so
//! time is linear in the input), and validates what it finds (public suffixes, octets,
//! checksums). False positives are kept with the reason, never silently dropped.
//!
//! ```
//! use ctiforge_ioc::{Extractor, IocType};
//!
//! let text = "The loader beacons to hxxps://update-check[.]com/gate.php from 10.0.0.5.";
//! let found = Extractor::new().extract(text);
//! let url = found.iter().find(|i| i.kind == IocType::Url).unwrap();
//! assert_eq!(url.value, "https://update-check.com/gate.php");
//! assert!(url.defanged);
//! assert_eq!(&text[url.start..url.end], "hxxps://update-check[.]com/gate.php");
//! let private = found.iter().find(|i| i.kind == IocType::Ipv4).unwrap();
//! assert!(private.false_positive.as_deref().unwrap().contains("RFC 1918"));
//! ```
#![deny(missing_docs)]

mod classify;
pub mod refang;
mod references;
mod scan;
pub mod validate;
mod warninglist;

use std::collections::HashSet;

use serde::Serialize;

pub use ctiforge_model::IocType;
pub use references::closes_sections as closes_reference_sections;
pub use warninglist::{WarninglistHit, Warninglists};

/// One indicator or identifier found in the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Indicator {
    /// What it is.
    #[serde(rename = "type")]
    pub kind: IocType,
    /// The refanged, normalized value (lower-case domains, hosts and hex digests).
    pub value: String,
    /// The text as it appears in the source.
    pub raw: String,
    /// Byte offset of `raw` in the source text.
    pub start: usize,
    /// Byte offset just past `raw`.
    pub end: usize,
    /// Whether the source wrote it defanged.
    pub defanged: bool,
    /// The host of a URL or the domain of an e-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// A port written with an address or URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Why this is probably not an indicator of the attack, when it is flagged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub false_positive: Option<String>,
    /// Notes that qualify a real indicator (`dynamic DNS provider`...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// For a domain read out of a URL or e-mail address (its host), the type it came from;
    /// its offsets are those of the URL or address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<IocType>,
}

impl Indicator {
    /// An indicator written as is at `start..end` of `text` (not defanged, nothing flagged).
    pub fn plain(kind: IocType, value: String, text: &str, start: usize, end: usize) -> Self {
        Indicator {
            kind,
            value,
            raw: text[start..end].to_owned(),
            start,
            end,
            defanged: false,
            host: None,
            port: None,
            false_positive: None,
            context: Vec::new(),
            derived_from: None,
        }
    }

    /// Whether the indicator is flagged as a false positive.
    pub fn is_false_positive(&self) -> bool {
        self.false_positive.is_some()
    }
}

/// Adds the host of every URL and e-mail address as a `domain` indicator of its own (marked
/// with `derived_from`, at the URL's offsets; the scan never reports a domain inside a URL or
/// address token): STIX consumers and blocklists want the domain, and every peer extractor lists it.
fn derive_domains(found: &mut Vec<Indicator>) {
    let mut derived = Vec::new();
    for parent in found.iter() {
        if !matches!(parent.kind, IocType::Url | IocType::Email) {
            continue;
        }
        let Some(host) = parent.host.as_deref().and_then(validate::domain) else {
            continue;
        };
        derived.push(Indicator {
            kind: IocType::Domain,
            value: host,
            raw: parent.raw.clone(),
            start: parent.start,
            end: parent.end,
            defanged: parent.defanged,
            host: None,
            port: None,
            false_positive: parent.false_positive.clone(),
            context: Vec::new(),
            derived_from: Some(parent.kind),
        });
    }
    if derived.is_empty() {
        return;
    }
    found.extend(derived);
    found.sort_by_key(|a| (a.start, a.end, a.kind));
}

/// Extracts indicators. Cheap to build: the warninglist index is the knowledge base's,
/// prebuilt; the few automata it needs are built on first use.
#[derive(Debug, Default)]
pub struct Extractor {
    warninglists: Option<Warninglists>,
    /// Every id the knowledge base knows, sorted.
    known_ids: Option<Vec<String>>,
}

impl Extractor {
    /// An extractor without knowledge-base checks (no warninglists, ids not verified).
    pub fn new() -> Self {
        Extractor::default()
    }

    /// An extractor that flags entries of the MISP warninglists and catalog ids (ATT&CK,
    /// ATLAS, D3FEND) that the knowledge base does not know.
    pub fn with_knowledge_base(kb: &ctiforge_kb::KnowledgeBase) -> Self {
        Extractor {
            warninglists: Some(Warninglists::from_index(kb.warninglist_index().clone())),
            known_ids: Some(kb.known_ids().to_vec()),
        }
    }

    /// Builds now what is otherwise built on first use (the warninglists' few automata), so
    /// that a caller with a spare thread pays for it off the critical path.
    pub fn warm_up(&self) {
        if let Some(lists) = &self.warninglists {
            lists.warm_up();
        }
    }

    fn warninglist_index(&self) -> Option<&Warninglists> {
        self.warninglists.as_ref()
    }

    /// Every indicator in `text`, in order of appearance, false positives included (flagged).
    pub fn extract(&self, text: &str) -> Vec<Indicator> {
        self.extract_with(text, &mut Memo::default())
    }

    /// [`Extractor::extract`] for a caller that reads many texts in turn (a stream in chunks,
    /// a batch of records): warninglist answers are kept in `memo` from one text to the next.
    pub fn extract_with<'e>(&'e self, text: &str, memo: &mut Memo<'e>) -> Vec<Indicator> {
        let mut found = scan::scan(text);
        derive_domains(&mut found);
        self.flag(text, &mut found, memo);
        found
    }

    fn flag<'e>(&'e self, text: &str, found: &mut [Indicator], memo: &mut Memo<'e>) {
        let index = self.warninglist_index();
        for indicator in found.iter_mut() {
            let hits = match index {
                Some(index) => memo.hits(index, indicator),
                None => &[],
            };
            if indicator.false_positive.is_none() {
                indicator.false_positive = self.reason(text, indicator, hits);
            }
            for hit in hits {
                if hit.context {
                    indicator
                        .context
                        .push(format!("listed in MISP warninglist '{}'", hit.name));
                } else if indicator.defanged {
                    // The author defanged it on purpose: report the listing, keep the
                    // indicator.
                    indicator.context.push(format!(
                        "listed in MISP warninglist '{}', but the report defangs it",
                        hit.name
                    ));
                }
            }
        }
        flag_reference_only(text, found);
    }

    fn reason(&self, text: &str, indicator: &Indicator, hits: &[WarninglistHit]) -> Option<String> {
        use IocType::*;
        match indicator.kind {
            Ipv4 => {
                let ip = indicator.value.parse().ok()?;
                if let Some(reason) = validate::special_ipv4(ip) {
                    return Some(reason.to_owned());
                }
                if scan::follows_version_word(text, indicator.start) {
                    return Some("version number, not an address".to_owned());
                }
            }
            Ipv6 => {
                let ip = indicator.value.parse().ok()?;
                if let Some(reason) = validate::special_ipv6(ip) {
                    return Some(reason.to_owned());
                }
            }
            Cidr => {
                let network = indicator.value.split('/').next()?;
                let special = match network.parse::<std::net::IpAddr>().ok()? {
                    std::net::IpAddr::V4(ip) => validate::special_ipv4(ip),
                    std::net::IpAddr::V6(ip) => validate::special_ipv6(ip),
                };
                if let Some(reason) = special {
                    return Some(reason.to_owned());
                }
            }
            Domain | Email | Url => {
                let host = indicator.host.as_deref().unwrap_or(&indicator.value);
                if let Some(reason) = reserved_domain(host) {
                    return Some(reason.to_owned());
                }
            }
            AttackTechnique | AttackTactic | AttackMitigation | AtlasTechnique
            | D3fendTechnique => {
                if let Some(known) = &self.known_ids
                    && known.binary_search(&indicator.value).is_err()
                {
                    return Some("no such id in the knowledge base".to_owned());
                }
            }
            _ => {}
        }
        if indicator.defanged {
            return None;
        }
        // A dynamic-DNS or similar name is context; a popular parent domain does not make it
        // benign.
        let has_context = hits.iter().any(|hit| hit.context);
        let hit = hits
            .iter()
            .find(|hit| !(hit.context || hit.via_parent && has_context))?;
        Some(format!("listed in MISP warninglist '{}'", hit.name))
    }
}

/// Domains reserved for documentation and testing (RFC 2606, RFC 6761).
fn reserved_domain(host: &str) -> Option<&'static str> {
    let reserved = ["example.com", "example.net", "example.org"];
    let hit = reserved.iter().any(|r| {
        host.strip_suffix(r)
            .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
    });
    hit.then_some("domain reserved for documentation (RFC 2606)")
}

/// The host of a URL or e-mail address, or the value itself (a domain).
fn host_of(indicator: &Indicator) -> &str {
    indicator.host.as_deref().unwrap_or(&indicator.value)
}

/// Warninglist answers already looked up, by type and value. Reports, feeds and logs name the
/// same hosts, addresses and hashes again and again, and each lookup costs several probes of
/// tables far larger than the processor's caches (a quarter of extraction without this). Holds
/// at most [`Memo::CAPACITY`] values, then starts over, so memory stays bounded on any input.
#[derive(Debug, Default)]
pub struct Memo<'e> {
    /// Hashed with `foldhash`, seeded per process: fast, and no input can choose collisions.
    hits: hashbrown::HashMap<MemoKey, Vec<WarninglistHit<'e>>>,
}

impl<'e> Memo<'e> {
    /// The most values kept.
    pub const CAPACITY: usize = 1 << 16;

    /// The lists `indicator` is on, looked up once per value.
    fn hits(&mut self, lists: &'e Warninglists, indicator: &Indicator) -> &[WarninglistHit<'e>] {
        if self.hits.len() >= Self::CAPACITY {
            self.hits.clear();
        }
        let key = Lookup {
            kind: indicator.kind,
            value: &indicator.value,
        };
        self.hits.entry_ref(&key).or_insert_with(|| {
            lists.check(indicator.kind, &indicator.value, indicator.host.as_deref())
        })
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MemoKey {
    kind: IocType,
    value: Box<str>,
}

/// A [`MemoKey`] borrowed, so that a lookup allocates nothing; hashes as the key does.
#[derive(Hash)]
struct Lookup<'a> {
    kind: IocType,
    value: &'a str,
}

impl hashbrown::Equivalent<MemoKey> for Lookup<'_> {
    fn equivalent(&self, key: &MemoKey) -> bool {
        self.kind == key.kind && self.value == &*key.value
    }
}

impl From<&Lookup<'_>> for MemoKey {
    fn from(key: &Lookup<'_>) -> Self {
        MemoKey {
            kind: key.kind,
            value: key.value.into(),
        }
    }
}

/// Domains and URLs whose every occurrence lies in a references section are citations, not
/// indicators.
fn flag_reference_only(text: &str, found: &mut [Indicator]) {
    let mut sections = references::ReferenceSections::new(text);
    // For each domain and URL, in text order: whether it lies in a references section.
    let in_references: Vec<Option<bool>> = found
        .iter()
        .map(|i| {
            matches!(i.kind, IocType::Domain | IocType::Url)
                .then(|| sections.contains(i.start, i.end))
        })
        .collect();
    // A defanged indicator was written as an indicator, never as a citation.
    let citation = |i: &Indicator, in_references: Option<bool>| {
        in_references == Some(true) && i.false_positive.is_none() && !i.defanged
    };
    let candidates: Vec<usize> = (0..found.len())
        .filter(|&k| citation(&found[k], in_references[k]))
        .collect();
    if candidates.is_empty() {
        return;
    }
    let cited_elsewhere: HashSet<&str> = found
        .iter()
        .zip(&in_references)
        .filter(|(_, inside)| **inside == Some(false))
        .map(|(i, _)| host_of(i))
        .collect();
    let only_cited: Vec<usize> = candidates
        .into_iter()
        .filter(|&k| !cited_elsewhere.contains(host_of(&found[k])))
        .collect();
    for k in only_cited {
        found[k].false_positive =
            Some("appears only in the report's references, as a citation".to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warninglist::tests::list;
    use ctiforge_kb::WarninglistKind;

    fn extractor() -> Extractor {
        Extractor {
            warninglists: Some(Warninglists::new(&[
                list(
                    "google",
                    WarninglistKind::Hostname,
                    &["domain", "url"],
                    &["google.com"],
                ),
                list(
                    "resolvers",
                    WarninglistKind::Cidr,
                    &["ip-dst"],
                    &["8.8.8.8/32"],
                ),
            ])),
            known_ids: None,
        }
    }

    #[test]
    fn a_memo_kept_across_texts_changes_no_answer() {
        let extractor = extractor();
        let texts = [
            "Beacons to google.com and 8.8.8.8, then to evil-update.com.",
            "Again: GOOGLE.COM, hxxp://google[.]com/, 8.8.8.8 and evil-update.com.",
            "And 8.8.8.8 once more, beside 203.0.113.7 and maps.google.com.",
        ];
        let mut memo = Memo::default();
        for text in texts {
            let fresh = extractor.extract(text);
            assert!(fresh.iter().any(|i| i.false_positive.is_some()), "{text}");
            assert_eq!(extractor.extract_with(text, &mut memo), fresh, "{text}");
        }
        // One entry per type and value seen, not per occurrence.
        assert!(memo.hits.len() < texts.len() * 4, "{}", memo.hits.len());
    }

    #[test]
    fn a_memo_holds_at_most_its_capacity() {
        let extractor = extractor();
        let addresses: String = (0..Memo::CAPACITY + 100)
            .map(|n| format!("100.{}.{}.{} ", (n >> 16) & 255, (n >> 8) & 255, n & 255))
            .collect();
        let mut memo = Memo::default();
        let found = extractor.extract_with(&addresses, &mut memo);
        assert_eq!(found.len(), Memo::CAPACITY + 100);
        assert!(memo.hits.len() <= Memo::CAPACITY, "{}", memo.hits.len());
        assert!(!memo.hits.is_empty());
    }
}
