//! The ctiforge knowledge base.
//!
//! ATT&CK (Enterprise, Mobile, ICS), ATLAS, D3FEND, CISA KEV, MISP galaxy clusters and MISP
//! warninglists, loaded from their published formats into one [`Catalog`] of facts — ids, names,
//! aliases, tactics, relations, mappings and list entries — and indexed for lookups. Every later
//! stage (IOC false positives, technique mapping, enrichment, STIX) asks this crate.
//!
//! The binary embeds a compact snapshot built by `ctiforge kb build`, so nothing needs to be
//! set up; [`KnowledgeBase::from_snapshot`] reads a newer one.
//!
//! ```
//! use ctiforge_kb::{Catalog, KnowledgeBase, Technique};
//! use ctiforge_model::Domain;
//!
//! let technique = |id: &str, name: &str, revoked_by: Option<&str>| Technique {
//!     id: id.into(), name: name.into(), domains: vec![Domain::Enterprise],
//!     tactics: vec!["TA0002".into()], platforms: vec![], parent: None, deprecated: false,
//!     revoked: revoked_by.is_some(), revoked_by: revoked_by.map(Into::into),
//!     attack_references: vec![], maturity: None, stix_id: None,
//! };
//! let catalog = Catalog {
//!     techniques: vec![
//!         technique("T1059", "Command and Scripting Interpreter", None),
//!         technique("T1086", "PowerShell (old)", Some("T1059")),
//!     ],
//!     ..Catalog::default()
//! };
//! let kb = KnowledgeBase::new(catalog);
//! assert_eq!(kb.resolve_technique("t1086").map(|t| t.id.as_str()), Some("T1059"));
//! assert_eq!(kb.find("command and scripting interpreter").len(), 1);
//! ```
#![deny(missing_docs)]

mod catalog;
mod describe;
mod error;
pub mod snapshot;
mod sources;
mod warnindex;

use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use ctiforge_model::Domain;
use serde::Serialize;

pub use catalog::*;
pub use describe::{Description, Field, Related, Section};
pub use error::{Error, Result};
pub use sources::{ProseKind, ProseText, load_prose, strip_markup};
pub use warnindex::{Bytes, ListIds, ListInfo, WarninglistIndex};

/// The snapshot built from `shared/data` by `ctiforge kb build`, embedded in the binary
/// (committed gzip-compressed; `build.rs` inflates it).
static EMBEDDED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ctiforge-kb.bin"));

/// One entry of the knowledge base, by kind and position in its catalog vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entry {
    /// [`Catalog::tactics`].
    Tactic(usize),
    /// [`Catalog::techniques`].
    Technique(usize),
    /// [`Catalog::groups`].
    Group(usize),
    /// [`Catalog::software`].
    Software(usize),
    /// [`Catalog::campaigns`].
    Campaign(usize),
    /// [`Catalog::mitigations`].
    Mitigation(usize),
    /// [`Catalog::detection_strategies`].
    DetectionStrategy(usize),
    /// [`Catalog::analytics`].
    Analytic(usize),
    /// [`Catalog::data_components`].
    DataComponent(usize),
    /// [`Catalog::case_studies`].
    CaseStudy(usize),
    /// [`Catalog::d3fend_techniques`].
    D3fend(usize),
    /// [`Catalog::kev`].
    Kev(usize),
    /// [`Catalog::galaxy_clusters`].
    Galaxy(usize),
}

/// A count shown by `kb info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// What is counted (`techniques (active)`).
    pub label: String,
    /// How many.
    pub value: usize,
}

/// A source with the counts of what it contributed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceSummary {
    /// The source.
    pub source: Source,
    /// Counts per kind of object.
    pub counts: Vec<Count>,
}

/// A near match offered when a query finds nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The id or name that is close to the query.
    pub text: String,
    /// The id of the entry it belongs to.
    pub id: String,
    /// Similarity in `[0, 1]`.
    pub similarity: f64,
}

/// The loaded, indexed knowledge base.
///
/// Each part is decoded from the snapshot when first asked for, and the lookup index built
/// when first used: `ioc extract` reads the warninglist index and the ids and never pays for
/// the catalog (see `docs/decisions/0013-start-up.md`).
#[derive(Debug, Clone)]
pub struct KnowledgeBase {
    catalog: Part<Catalog>,
    warninglists: Part<Vec<Warninglist>>,
    warninglist_index: Part<WarninglistIndex>,
    known_ids: Part<Vec<String>>,
    ids: OnceLock<Lookup>,
    names: OnceLock<Lookup>,
    rows: OnceLock<Rows>,
}

/// A part of the knowledge base: decoded already, or a section of the embedded snapshot that
/// is decoded on first use. Only the embedded snapshot is decoded lazily: a test decodes it
/// whole, so decoding cannot fail at run time; a snapshot file is decoded and checked at once.
#[derive(Debug, Clone)]
struct Part<T> {
    value: OnceLock<T>,
    section: &'static [u8],
    decode: fn(&'static [u8]) -> Result<T>,
}

impl<T> Part<T> {
    fn ready(value: T) -> Self {
        Part {
            value: OnceLock::from(value),
            section: &[],
            decode: |_| unreachable!("a ready part is never decoded"),
        }
    }

    fn pending(section: &'static [u8], decode: fn(&'static [u8]) -> Result<T>) -> Self {
        Part {
            value: OnceLock::new(),
            section,
            decode,
        }
    }

    fn get(&self) -> &T {
        self.value.get_or_init(|| {
            (self.decode)(self.section).unwrap_or_else(|e| {
                panic!("the embedded snapshot is built and checked with the binary: {e}")
            })
        })
    }
}

/// A lookup table of entries: upper-case id → entries (a few ids exist in several kinds, e.g.
/// tactic names), or normalised name or alias → entries. Keys are ids and names from the
/// catalog, not from outside, so the fast FxHash serves (SipHash's flooding resistance is not
/// needed; it took half the build time). The names (40,000 with the MISP synonyms) are built
/// apart from the ids, only when a name is looked up: an analysis never does.
type Lookup = FxHashMap<String, Vec<Entry>>;

/// The relation and mapping rows by the ids at their ends: built apart from [`Index`], so
/// that two threads can build the two at once ([`KnowledgeBase::index_relations`]).
#[derive(Debug, Clone, Default)]
struct Rows {
    relations_from: FxHashMap<String, Vec<usize>>,
    relations_to: FxHashMap<String, Vec<usize>>,
    d3fend_by_attack: FxHashMap<String, Vec<usize>>,
    d3fend_by_defense: FxHashMap<String, Vec<usize>>,
    countermeasures_by_mitigation: FxHashMap<String, Vec<usize>>,
    mitigations_by_countermeasure: FxHashMap<String, Vec<usize>>,
}

impl KnowledgeBase {
    /// A knowledge base of a catalog, without warninglists.
    pub fn new(catalog: Catalog) -> Self {
        Self::with_warninglists(catalog, Vec::new())
    }

    /// A knowledge base of a catalog and MISP warninglists.
    pub fn with_warninglists(catalog: Catalog, warninglists: Vec<Warninglist>) -> Self {
        KnowledgeBase {
            warninglist_index: Part::ready(WarninglistIndex::build(&warninglists)),
            known_ids: Part::ready(snapshot::known_ids(&catalog)),
            warninglists: Part::ready(warninglists),
            catalog: Part::ready(catalog),
            ids: OnceLock::new(),
            names: OnceLock::new(),
            rows: OnceLock::new(),
        }
    }

    /// Loads every source from a data folder laid out like `shared/data`.
    pub fn from_dir(root: &Path) -> Result<Self> {
        let (catalog, warninglists) = sources::load_catalog(root)?;
        Ok(Self::with_warninglists(catalog, warninglists))
    }

    /// Reads a snapshot, every section decoded and checked; `origin` names it in errors (a
    /// file name).
    pub fn from_snapshot(bytes: &[u8], origin: &str) -> Result<Self> {
        let contents = snapshot::decode(bytes, origin)?;
        let index = WarninglistIndex::open(Bytes::Shared(contents.warninglist_index.into()))
            .ok_or_else(|| Error::SnapshotCorrupt {
                origin: origin.to_owned(),
                message: "warninglist index".into(),
            })?;
        Ok(KnowledgeBase {
            catalog: Part::ready(contents.catalog),
            warninglists: Part::ready(contents.warninglists),
            warninglist_index: Part::ready(index),
            known_ids: Part::ready(contents.known_ids),
            ids: OnceLock::new(),
            names: OnceLock::new(),
            rows: OnceLock::new(),
        })
    }

    /// The snapshot embedded in this binary; its sections are decoded when first used.
    pub fn embedded() -> Result<Self> {
        const ORIGIN: &str = "embedded snapshot";
        let sections = snapshot::sections(EMBEDDED, ORIGIN)?;
        Ok(KnowledgeBase {
            catalog: Part::pending(sections.catalog, |s| {
                snapshot::decode_section(s, ORIGIN, "catalog")
            }),
            warninglists: Part::pending(sections.warninglists, |s| {
                snapshot::decode_compressed_section(s, ORIGIN, "warninglists")
            }),
            warninglist_index: Part::pending(sections.warninglist_index, |s| {
                WarninglistIndex::open(Bytes::Static(s)).ok_or_else(|| Error::SnapshotCorrupt {
                    origin: ORIGIN.to_owned(),
                    message: "warninglist index".into(),
                })
            }),
            known_ids: Part::pending(sections.known_ids, |s| {
                snapshot::decode_section(s, ORIGIN, "ids")
            }),
            ids: OnceLock::new(),
            names: OnceLock::new(),
            rows: OnceLock::new(),
        })
    }

    /// The header (sources and versions) of the embedded snapshot, without decoding the rest.
    pub fn embedded_header() -> Result<snapshot::Header> {
        snapshot::decode_header(EMBEDDED, "embedded snapshot")
    }

    /// The bytes of the embedded snapshot.
    pub fn embedded_bytes() -> &'static [u8] {
        EMBEDDED
    }

    /// Encodes this knowledge base as snapshot bytes.
    pub fn to_snapshot(&self) -> Vec<u8> {
        snapshot::encode(self.catalog(), self.warninglists())
    }

    /// The underlying facts.
    pub fn catalog(&self) -> &Catalog {
        self.catalog.get()
    }

    /// The MISP warninglists, used to flag IOC false positives.
    pub fn warninglists(&self) -> &[Warninglist] {
        self.warninglists.get()
    }

    /// The warninglists, indexed for lookups.
    pub fn warninglist_index(&self) -> &WarninglistIndex {
        self.warninglist_index.get()
    }

    /// Every technique, tactic, mitigation and D3FEND id (ATT&CK, ATLAS, D3FEND), sorted.
    pub fn known_ids(&self) -> &[String] {
        self.known_ids.get()
    }

    fn ids(&self) -> &Lookup {
        self.ids.get_or_init(|| ids(self.catalog()))
    }

    fn names(&self) -> &Lookup {
        self.names.get_or_init(|| names(self.catalog()))
    }

    fn rows(&self) -> &Rows {
        self.rows.get_or_init(|| Rows::build(self.catalog()))
    }

    /// Builds the relation and mapping index now rather than on first use: a caller with a
    /// spare thread (the analyzer at start-up) builds it while another builds the id index.
    pub fn index_relations(&self) {
        self.rows();
    }

    /// Entries with this id (`T1190`, `g0016`, `D3-NI`, `CVE-2021-44228`), case-insensitive.
    pub fn get(&self, id: &str) -> &[Entry] {
        let id = id.trim();
        // Ids are nearly always asked for as the catalog writes them: no copy for those.
        let found = if id.bytes().any(|b| b.is_ascii_lowercase()) {
            self.ids().get(&id.to_ascii_uppercase())
        } else {
            self.ids().get(id)
        };
        found.map_or(&[], Vec::as_slice)
    }

    /// Entries with this name or alias, case-insensitive (`Cozy Bear` → G0016).
    pub fn by_name(&self, name: &str) -> &[Entry] {
        self.names()
            .get(&normalize(name))
            .map_or(&[], Vec::as_slice)
    }

    /// Entries matching a query: by id first, then by name or alias. ATT&CK, ATLAS and D3FEND
    /// entries come before MISP galaxy clusters.
    pub fn find(&self, query: &str) -> Vec<Entry> {
        let mut found: Vec<Entry> = self.get(query).to_vec();
        for entry in self.by_name(query) {
            if !found.contains(entry) {
                found.push(*entry);
            }
        }
        found.sort_by_key(|e| matches!(e, Entry::Galaxy(_)));
        found
    }

    /// A technique (ATT&CK or ATLAS) by id, as stored (revoked ones included).
    pub fn technique(&self, id: &str) -> Option<&Technique> {
        self.get(id).iter().find_map(|e| match e {
            Entry::Technique(i) => Some(&self.catalog().techniques[*i]),
            _ => None,
        })
    }

    /// A technique by id, following `revoked-by` to the entry that replaces it.
    pub fn resolve_technique(&self, id: &str) -> Option<&Technique> {
        let mut technique = self.technique(id)?;
        let mut seen = HashSet::new();
        while let Some(next) = technique.revoked_by.as_deref() {
            if !seen.insert(next) {
                break;
            }
            match self.technique(next) {
                Some(replacement) => technique = replacement,
                None => break,
            }
        }
        Some(technique)
    }

    /// A group by id, following revocation.
    pub fn group(&self, id: &str) -> Option<&Group> {
        let group = self.get(id).iter().find_map(|e| match e {
            Entry::Group(i) => Some(&self.catalog().groups[*i]),
            _ => None,
        })?;
        match group.revoked_by.as_deref() {
            Some(next) if next != group.id => self.group(next).or(Some(group)),
            _ => Some(group),
        }
    }

    /// A tactic by id.
    pub fn tactic(&self, id: &str) -> Option<&Tactic> {
        self.get(id).iter().find_map(|e| match e {
            Entry::Tactic(i) => Some(&self.catalog().tactics[*i]),
            _ => None,
        })
    }

    /// Tactics of a domain in matrix order.
    pub fn tactics(&self, domain: Domain) -> impl Iterator<Item = &Tactic> {
        self.catalog()
            .tactics
            .iter()
            .filter(move |t| t.domain == domain)
    }

    /// A mitigation by id.
    pub fn mitigation(&self, id: &str) -> Option<&Mitigation> {
        self.get(id).iter().find_map(|e| match e {
            Entry::Mitigation(i) => Some(&self.catalog().mitigations[*i]),
            _ => None,
        })
    }

    /// An ATT&CK v18 detection strategy by id (`DET0080`).
    pub fn detection_strategy(&self, id: &str) -> Option<&DetectionStrategy> {
        self.get(id).iter().find_map(|e| match e {
            Entry::DetectionStrategy(i) => Some(&self.catalog().detection_strategies[*i]),
            _ => None,
        })
    }

    /// An ATT&CK v18 analytic by id (`AN0219`).
    pub fn analytic(&self, id: &str) -> Option<&Analytic> {
        self.get(id).iter().find_map(|e| match e {
            Entry::Analytic(i) => Some(&self.catalog().analytics[*i]),
            _ => None,
        })
    }

    /// An ATT&CK data component by id (`DC0084`).
    pub fn data_component(&self, id: &str) -> Option<&DataComponent> {
        self.get(id).iter().find_map(|e| match e {
            Entry::DataComponent(i) => Some(&self.catalog().data_components[*i]),
            _ => None,
        })
    }

    /// A D3FEND technique by id.
    pub fn d3fend(&self, id: &str) -> Option<&D3fendTechnique> {
        self.get(id).iter().find_map(|e| match e {
            Entry::D3fend(i) => Some(&self.catalog().d3fend_techniques[*i]),
            _ => None,
        })
    }

    /// The KEV entry of a CVE, if CISA lists it.
    pub fn kev(&self, cve: &str) -> Option<&KevEntry> {
        self.get(cve).iter().find_map(|e| match e {
            Entry::Kev(i) => Some(&self.catalog().kev[*i]),
            _ => None,
        })
    }

    /// Relationships whose source is `id`.
    pub fn relations_from(&self, id: &str) -> impl Iterator<Item = &Relationship> {
        self.lookup_rows(
            &self.rows().relations_from,
            id,
            &self.catalog().relationships,
        )
    }

    /// Relationships whose target is `id`.
    pub fn relations_to(&self, id: &str) -> impl Iterator<Item = &Relationship> {
        self.lookup_rows(&self.rows().relations_to, id, &self.catalog().relationships)
    }

    /// D3FEND countermeasures inferred for an ATT&CK technique, with their artifact paths.
    pub fn countermeasures(&self, attack_id: &str) -> impl Iterator<Item = &D3fendMapping> {
        self.lookup_rows(
            &self.rows().d3fend_by_attack,
            attack_id,
            &self.catalog().d3fend_mappings,
        )
    }

    /// ATT&CK techniques a D3FEND technique counters, with their artifact paths.
    pub fn countered_techniques(&self, d3fend_id: &str) -> impl Iterator<Item = &D3fendMapping> {
        self.lookup_rows(
            &self.rows().d3fend_by_defense,
            d3fend_id,
            &self.catalog().d3fend_mappings,
        )
    }

    /// D3FEND techniques that D3FEND relates to an ATT&CK mitigation.
    pub fn mitigation_countermeasures(
        &self,
        mitigation_id: &str,
    ) -> impl Iterator<Item = &MitigationCountermeasure> {
        self.lookup_rows(
            &self.rows().countermeasures_by_mitigation,
            mitigation_id,
            &self.catalog().mitigation_countermeasures,
        )
    }

    /// ATT&CK mitigations that D3FEND relates to a D3FEND technique.
    pub fn countermeasure_mitigations(
        &self,
        d3fend_id: &str,
    ) -> impl Iterator<Item = &MitigationCountermeasure> {
        self.lookup_rows(
            &self.rows().mitigations_by_countermeasure,
            d3fend_id,
            &self.catalog().mitigation_countermeasures,
        )
    }

    fn lookup_rows<'a, T>(
        &'a self,
        map: &'a FxHashMap<String, Vec<usize>>,
        key: &str,
        rows: &'a [T],
    ) -> impl Iterator<Item = &'a T> + 'a {
        map.get(&key.trim().to_ascii_uppercase())
            .into_iter()
            .flatten()
            .map(move |i| &rows[*i])
    }

    /// The id of an entry (a galaxy cluster's is its UUID).
    pub fn entry_id(&self, entry: Entry) -> &str {
        let c = self.catalog();
        match entry {
            Entry::Tactic(i) => &c.tactics[i].id,
            Entry::Technique(i) => &c.techniques[i].id,
            Entry::Group(i) => &c.groups[i].id,
            Entry::Software(i) => &c.software[i].id,
            Entry::Campaign(i) => &c.campaigns[i].id,
            Entry::Mitigation(i) => &c.mitigations[i].id,
            Entry::DetectionStrategy(i) => &c.detection_strategies[i].id,
            Entry::Analytic(i) => &c.analytics[i].id,
            Entry::DataComponent(i) => &c.data_components[i].id,
            Entry::CaseStudy(i) => &c.case_studies[i].id,
            Entry::D3fend(i) => &c.d3fend_techniques[i].id,
            Entry::Kev(i) => &c.kev[i].cve,
            Entry::Galaxy(i) => &c.galaxy_clusters[i].uuid,
        }
    }

    /// The name of an entry.
    pub fn entry_name(&self, entry: Entry) -> &str {
        let c = self.catalog();
        match entry {
            Entry::Tactic(i) => &c.tactics[i].name,
            Entry::Technique(i) => &c.techniques[i].name,
            Entry::Group(i) => &c.groups[i].name,
            Entry::Software(i) => &c.software[i].name,
            Entry::Campaign(i) => &c.campaigns[i].name,
            Entry::Mitigation(i) => &c.mitigations[i].name,
            Entry::DetectionStrategy(i) => &c.detection_strategies[i].name,
            Entry::Analytic(i) => &c.analytics[i].id,
            Entry::DataComponent(i) => &c.data_components[i].name,
            Entry::CaseStudy(i) => &c.case_studies[i].name,
            Entry::D3fend(i) => &c.d3fend_techniques[i].name,
            Entry::Kev(i) => &c.kev[i].name,
            Entry::Galaxy(i) => &c.galaxy_clusters[i].value,
        }
    }

    /// Whether an entry is current: neither revoked nor deprecated by its source.
    pub fn is_active(&self, entry: Entry) -> bool {
        let c = self.catalog();
        match entry {
            Entry::Technique(i) => c.techniques[i].is_active(),
            Entry::Group(i) => !c.groups[i].deprecated && !c.groups[i].revoked,
            Entry::Software(i) => !c.software[i].deprecated && !c.software[i].revoked,
            Entry::Campaign(i) => !c.campaigns[i].deprecated && !c.campaigns[i].revoked,
            Entry::Mitigation(i) => !c.mitigations[i].deprecated && !c.mitigations[i].revoked,
            _ => true,
        }
    }

    /// The name of the entry with this id, or the id itself when unknown.
    pub fn name_of<'a>(&'a self, id: &'a str) -> &'a str {
        self.get(id)
            .first()
            .map_or(id, |entry| self.entry_name(*entry))
    }

    /// Ids and names close to a query that matched nothing, best first.
    pub fn suggest(&self, query: &str, limit: usize) -> Vec<Suggestion> {
        let id_query = query.trim().to_ascii_uppercase();
        let name_query = normalize(query);
        let mut scored: Vec<Suggestion> = Vec::new();
        let mut consider = |text: &str, key_query: &str, entries: &[Entry]| {
            let Some(entry) = entries.first() else {
                return;
            };
            // Revoked and deprecated entries are offered only when nothing current is as close.
            let penalty = if self.is_active(*entry) { 0.0 } else { 0.05 };
            let similarity = strsim::jaro_winkler(key_query, text) - penalty;
            if similarity >= 0.85 {
                {
                    scored.push(Suggestion {
                        text: text.to_owned(),
                        id: self.entry_id(*entry).to_owned(),
                        similarity,
                    });
                }
            }
        };
        for (key, entries) in self.ids() {
            consider(key, &id_query, entries);
        }
        for (key, entries) in self.names() {
            consider(key, &name_query, entries);
        }
        scored.sort_by(|a, b| {
            b.similarity
                .total_cmp(&a.similarity)
                .then_with(|| a.text.cmp(&b.text))
        });
        let mut seen = HashSet::new();
        scored.retain(|s| seen.insert(s.id.clone()));
        scored.truncate(limit);
        scored
    }

    /// Each source with the counts of what it contributed.
    pub fn summary(&self) -> Vec<SourceSummary> {
        self.catalog()
            .sources
            .iter()
            .map(|source| SourceSummary {
                source: source.clone(),
                counts: self.counts_for(&source.key),
            })
            .collect()
    }

    fn counts_for(&self, key: &str) -> Vec<Count> {
        let c = self.catalog();
        let count = |label: &str, value: usize| Count {
            label: label.to_owned(),
            value,
        };
        let domain = match key {
            "attack-enterprise" => Some(Domain::Enterprise),
            "attack-mobile" => Some(Domain::Mobile),
            "attack-ics" => Some(Domain::Ics),
            "atlas" => Some(Domain::Atlas),
            _ => None,
        };
        if let Some(domain) = domain {
            let techniques = || {
                c.techniques
                    .iter()
                    .filter(move |t| t.domains.contains(&domain))
            };
            let mut counts = vec![
                count("tactics", self.tactics(domain).count()),
                count(
                    "techniques (active)",
                    techniques()
                        .filter(|t| t.is_active() && !t.is_subtechnique())
                        .count(),
                ),
                count(
                    "sub-techniques (active)",
                    techniques()
                        .filter(|t| t.is_active() && t.is_subtechnique())
                        .count(),
                ),
                count(
                    "techniques revoked",
                    techniques().filter(|t| t.revoked).count(),
                ),
                count(
                    "techniques deprecated",
                    techniques().filter(|t| t.deprecated && !t.revoked).count(),
                ),
                count(
                    "mitigations (active)",
                    c.mitigations
                        .iter()
                        .filter(|m| m.domains.contains(&domain) && !m.deprecated && !m.revoked)
                        .count(),
                ),
            ];
            if domain == Domain::Atlas {
                counts.push(count("case studies", c.case_studies.len()));
                return counts;
            }
            let active_software = |kind| {
                c.software
                    .iter()
                    .filter(|s| s.domains.contains(&domain) && s.kind == kind)
                    .filter(|s| !s.deprecated && !s.revoked)
                    .count()
            };
            counts.extend([
                count(
                    "groups (active)",
                    c.groups
                        .iter()
                        .filter(|g| g.domains.contains(&domain) && !g.deprecated && !g.revoked)
                        .count(),
                ),
                count("malware (active)", active_software(SoftwareKind::Malware)),
                count("tools (active)", active_software(SoftwareKind::Tool)),
                count(
                    "campaigns (active)",
                    c.campaigns
                        .iter()
                        .filter(|x| x.domains.contains(&domain) && !x.deprecated && !x.revoked)
                        .count(),
                ),
                count(
                    "detection strategies",
                    c.detection_strategies
                        .iter()
                        .filter(|d| d.domains.contains(&domain))
                        .count(),
                ),
                count(
                    "analytics",
                    c.analytics
                        .iter()
                        .filter(|a| a.domains.contains(&domain))
                        .count(),
                ),
                count(
                    "data components",
                    c.data_components
                        .iter()
                        .filter(|d| d.domains.contains(&domain))
                        .count(),
                ),
            ]);
            return counts;
        }
        match key {
            "d3fend" => {
                // Counted over active ATT&CK techniques, as D3FEND's own coverage figures are.
                let covered: HashSet<&str> = c
                    .d3fend_mappings
                    .iter()
                    .map(|m| m.attack.as_str())
                    .filter(|id| self.technique(id).is_some_and(Technique::is_active))
                    .collect();
                vec![
                    count("defensive techniques", c.d3fend_techniques.len()),
                    count("ATT&CK → D3FEND inference rows", c.d3fend_mappings.len()),
                    count(
                        "active ATT&CK techniques with countermeasures",
                        covered.len(),
                    ),
                    count(
                        "mitigation → D3FEND links",
                        c.mitigation_countermeasures.len(),
                    ),
                ]
            }
            "kev" => vec![
                count("vulnerabilities", c.kev.len()),
                count(
                    "known ransomware use",
                    c.kev
                        .iter()
                        .filter(|k| k.ransomware == RansomwareUse::Known)
                        .count(),
                ),
            ],
            "misp-galaxy" => {
                let mut galaxies: Vec<(&str, usize)> = Vec::new();
                for cluster in &c.galaxy_clusters {
                    match galaxies.iter_mut().find(|(g, _)| *g == cluster.galaxy) {
                        Some((_, n)) => *n += 1,
                        None => galaxies.push((&cluster.galaxy, 1)),
                    }
                }
                let version = |galaxy: &str| {
                    self.catalog()
                        .sources
                        .iter()
                        .filter(|s| s.key == "misp-galaxy")
                        .flat_map(|s| &s.components)
                        .find(|part| part.name == galaxy)
                        .map_or(String::new(), |part| format!(" (v{})", part.version))
                };
                galaxies
                    .into_iter()
                    .map(|(g, n)| count(&format!("{g} clusters{}", version(g)), n))
                    .collect()
            }
            "misp-warninglists" => vec![
                count("lists", self.warninglists().len()),
                count(
                    "entries",
                    self.warninglists().iter().map(Warninglist::len).sum(),
                ),
            ],
            _ => Vec::new(),
        }
    }
}

/// Lower case with single spaces: the key of the name index.
fn normalize(name: &str) -> String {
    let trimmed = name.trim();
    let spaced_once = !trimmed
        .as_bytes()
        .windows(2)
        .any(|w| w[0].is_ascii_whitespace() && w[1].is_ascii_whitespace())
        && !trimmed.contains(['\t', '\n', '\r']);
    if spaced_once {
        trimmed.to_lowercase()
    } else {
        trimmed
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    }
}

/// Calls `visit` with each entry of the catalog, its id (if it has one) and its names.
fn each_entry(
    c: &Catalog,
    mut visit: impl FnMut(Option<&str>, &mut dyn Iterator<Item = &str>, Entry),
) {
    for (i, t) in c.tactics.iter().enumerate() {
        visit(
            Some(&t.id),
            &mut std::iter::once(t.name.as_str()),
            Entry::Tactic(i),
        );
    }
    for (i, t) in c.techniques.iter().enumerate() {
        visit(
            Some(&t.id),
            &mut std::iter::once(t.name.as_str()),
            Entry::Technique(i),
        );
    }
    for (i, g) in c.groups.iter().enumerate() {
        let names = std::iter::once(&g.name)
            .chain(&g.aliases)
            .map(String::as_str);
        visit(Some(&g.id), &mut names.into_iter(), Entry::Group(i));
    }
    for (i, s) in c.software.iter().enumerate() {
        let names = std::iter::once(&s.name)
            .chain(&s.aliases)
            .map(String::as_str);
        visit(Some(&s.id), &mut names.into_iter(), Entry::Software(i));
    }
    for (i, x) in c.campaigns.iter().enumerate() {
        let names = std::iter::once(&x.name)
            .chain(&x.aliases)
            .map(String::as_str);
        visit(Some(&x.id), &mut names.into_iter(), Entry::Campaign(i));
    }
    for (i, m) in c.mitigations.iter().enumerate() {
        visit(
            Some(&m.id),
            &mut std::iter::once(m.name.as_str()),
            Entry::Mitigation(i),
        );
    }
    for (i, d) in c.detection_strategies.iter().enumerate() {
        visit(
            Some(&d.id),
            &mut std::iter::once(d.name.as_str()),
            Entry::DetectionStrategy(i),
        );
    }
    for (i, a) in c.analytics.iter().enumerate() {
        visit(Some(&a.id), &mut std::iter::empty(), Entry::Analytic(i));
    }
    for (i, d) in c.data_components.iter().enumerate() {
        visit(
            Some(&d.id),
            &mut std::iter::once(d.name.as_str()),
            Entry::DataComponent(i),
        );
    }
    for (i, s) in c.case_studies.iter().enumerate() {
        visit(
            Some(&s.id),
            &mut std::iter::once(s.name.as_str()),
            Entry::CaseStudy(i),
        );
    }
    for (i, d) in c.d3fend_techniques.iter().enumerate() {
        visit(
            Some(&d.id),
            &mut std::iter::once(d.name.as_str()),
            Entry::D3fend(i),
        );
    }
    for (i, k) in c.kev.iter().enumerate() {
        visit(Some(&k.cve), &mut std::iter::empty(), Entry::Kev(i));
    }
    for (i, g) in c.galaxy_clusters.iter().enumerate() {
        let names = std::iter::once(&g.value)
            .chain(&g.synonyms)
            .map(String::as_str);
        visit(None, &mut names.into_iter(), Entry::Galaxy(i));
    }
}

/// Upper-case id → entries.
fn ids(c: &Catalog) -> Lookup {
    let mut ids = Lookup::default();
    each_entry(c, |id, _, entry| {
        if let Some(id) = id {
            push_unique(ids.entry(id.to_ascii_uppercase()).or_default(), entry);
        }
    });
    ids
}

/// Normalised name or alias → entries.
fn names(c: &Catalog) -> Lookup {
    let mut names = Lookup::default();
    each_entry(c, |_, spelt, entry| {
        for name in spelt {
            let key = normalize(name);
            if !key.is_empty() {
                push_unique(names.entry(key).or_default(), entry);
            }
        }
    });
    names
}

impl Rows {
    fn build(c: &Catalog) -> Self {
        let mut rows = Rows::default();
        for (i, r) in c.relationships.iter().enumerate() {
            push_row(&mut rows.relations_from, &r.source, i);
            push_row(&mut rows.relations_to, &r.target, i);
        }
        for (i, m) in c.d3fend_mappings.iter().enumerate() {
            push_row(&mut rows.d3fend_by_attack, &m.attack, i);
            push_row(&mut rows.d3fend_by_defense, &m.d3fend, i);
        }
        for (i, m) in c.mitigation_countermeasures.iter().enumerate() {
            push_row(&mut rows.countermeasures_by_mitigation, &m.mitigation, i);
            push_row(&mut rows.mitigations_by_countermeasure, &m.d3fend, i);
        }
        rows
    }
}

fn push_unique(entries: &mut Vec<Entry>, entry: Entry) {
    if !entries.contains(&entry) {
        entries.push(entry);
    }
}

fn push_row(map: &mut FxHashMap<String, Vec<usize>>, key: &str, row: usize) {
    // Catalog ids are upper case already: look the key up as written, and allocate only for a
    // new one (the ends of the 22,800 relationships repeat).
    if !key.bytes().any(|b| b.is_ascii_lowercase())
        && let Some(rows) = map.get_mut(key)
    {
        rows.push(row);
        return;
    }
    map.entry(key.to_ascii_uppercase()).or_default().push(row);
}
