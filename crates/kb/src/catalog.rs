//! The facts the knowledge base holds: one plain record type per kind of entry.
//!
//! A [`Catalog`] is what a snapshot serializes. It carries identifiers, names, aliases, tactics,
//! relations, mappings and list entries from the sources — never their prose (descriptions,
//! procedure texts, citations), which stays in the published files.

use ctiforge_model::Domain;
use serde::{Deserialize, Serialize};

/// Everything the knowledge base knows, as loaded from the sources.
///
/// Vectors are sorted by id (or by their natural key) so that the same sources always give
/// the same catalog, and so the same snapshot bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// Each source with its version and the files it was read from.
    pub sources: Vec<Source>,
    /// ATT&CK and ATLAS tactics, per domain in matrix order.
    pub tactics: Vec<Tactic>,
    /// ATT&CK techniques and sub-techniques (all domains) and ATLAS techniques.
    pub techniques: Vec<Technique>,
    /// ATT&CK groups (intrusion sets).
    pub groups: Vec<Group>,
    /// ATT&CK software: malware and tools.
    pub software: Vec<Software>,
    /// ATT&CK campaigns.
    pub campaigns: Vec<Campaign>,
    /// ATT&CK mitigations (M####) and ATLAS mitigations (AML.M####).
    pub mitigations: Vec<Mitigation>,
    /// Relations between entries, by their ATT&CK/ATLAS ids.
    pub relationships: Vec<Relationship>,
    /// ATT&CK v18 detection strategies (DET####).
    pub detection_strategies: Vec<DetectionStrategy>,
    /// ATT&CK v18 analytics (AN####) with the log sources they read.
    pub analytics: Vec<Analytic>,
    /// ATT&CK data components (DC####) with their log sources.
    pub data_components: Vec<DataComponent>,
    /// ATLAS case studies (AML.CS####) with the techniques of their procedures.
    pub case_studies: Vec<CaseStudy>,
    /// D3FEND defensive techniques (D3-…).
    pub d3fend_techniques: Vec<D3fendTechnique>,
    /// ATT&CK technique → D3FEND countermeasure links inferred through digital artifacts.
    pub d3fend_mappings: Vec<D3fendMapping>,
    /// ATT&CK mitigation (M####) → D3FEND technique links curated by D3FEND.
    pub mitigation_countermeasures: Vec<MitigationCountermeasure>,
    /// CISA Known Exploited Vulnerabilities.
    pub kev: Vec<KevEntry>,
    /// MISP galaxy clusters (threat actors, malware, tools, ransomware, sectors, countries...).
    pub galaxy_clusters: Vec<GalaxyCluster>,
}

/// One source of the knowledge base and the release it was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Stable key, e.g. `attack-enterprise`, `atlas`, `d3fend`, `kev`.
    pub key: String,
    /// Human-readable name.
    pub name: String,
    /// The release version the source states (`18.1`, `5.6.0`, `2025.08.25`...).
    pub version: String,
    /// Where the files came from (repository and commit), when the data folder records it.
    pub origin: Option<String>,
    /// Parts released separately (MISP galaxies, warninglists) with their own versions.
    pub components: Vec<SourceComponent>,
    /// The files read, relative to the data folder, with their SHA-256.
    pub files: Vec<SourceFile>,
}

/// A separately versioned part of a source: one MISP galaxy or warninglist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceComponent {
    /// The part's name (`threat-actor`, `rfc1918`).
    pub name: String,
    /// Its version.
    pub version: String,
}

/// A file that a source was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Path relative to the data folder.
    pub path: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// A tactic (TA####, AML.TA####).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tactic {
    /// `TA0001`, `AML.TA0004`.
    pub id: String,
    /// `Initial Access`.
    pub name: String,
    /// ATT&CK's `x_mitre_shortname` (`initial-access`); ATLAS tactics get a slug of their name.
    pub shortname: String,
    /// The matrix the tactic belongs to.
    pub domain: Domain,
    /// The equivalent ATT&CK tactic of an ATLAS tactic.
    pub attack_reference: Option<String>,
    /// The STIX id (ATT&CK only).
    pub stix_id: Option<String>,
}

/// A technique or sub-technique of ATT&CK (any domain) or ATLAS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Technique {
    /// `T1059.001`, `AML.T0043`.
    pub id: String,
    /// `PowerShell`.
    pub name: String,
    /// Domains the technique appears in.
    pub domains: Vec<Domain>,
    /// Tactic ids, in matrix order.
    pub tactics: Vec<String>,
    /// Platforms (`Windows`, `IaaS`...).
    pub platforms: Vec<String>,
    /// The parent technique of a sub-technique.
    pub parent: Option<String>,
    /// Marked deprecated by its source.
    pub deprecated: bool,
    /// Marked revoked by its source.
    pub revoked: bool,
    /// The id that replaces a revoked technique.
    pub revoked_by: Option<String>,
    /// ATT&CK techniques an ATLAS technique refers to.
    pub attack_references: Vec<String>,
    /// ATLAS maturity (`feasible`, `demonstrated`, `realized`).
    pub maturity: Option<String>,
    /// The STIX id (ATT&CK only).
    pub stix_id: Option<String>,
}

impl Technique {
    /// Neither deprecated nor revoked.
    pub fn is_active(&self) -> bool {
        !self.deprecated && !self.revoked
    }

    /// Whether this is a sub-technique.
    pub fn is_subtechnique(&self) -> bool {
        self.parent.is_some()
    }
}

/// An ATT&CK group (intrusion set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// `G0016`.
    pub id: String,
    /// `APT29`.
    pub name: String,
    /// Other names, without the primary name.
    pub aliases: Vec<String>,
    /// Domains the group appears in.
    pub domains: Vec<Domain>,
    /// Marked deprecated.
    pub deprecated: bool,
    /// Marked revoked.
    pub revoked: bool,
    /// The id that replaces a revoked group.
    pub revoked_by: Option<String>,
    /// The STIX id.
    pub stix_id: String,
}

/// Whether a piece of ATT&CK software is malware or a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SoftwareKind {
    /// STIX `malware`.
    Malware,
    /// STIX `tool`.
    Tool,
}

/// ATT&CK software (S####).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Software {
    /// `S0002`.
    pub id: String,
    /// `Mimikatz`.
    pub name: String,
    /// Malware or tool.
    pub kind: SoftwareKind,
    /// Other names, without the primary name.
    pub aliases: Vec<String>,
    /// Platforms.
    pub platforms: Vec<String>,
    /// Domains the software appears in.
    pub domains: Vec<Domain>,
    /// Marked deprecated.
    pub deprecated: bool,
    /// Marked revoked.
    pub revoked: bool,
    /// The id that replaces revoked software.
    pub revoked_by: Option<String>,
    /// The STIX id.
    pub stix_id: String,
}

/// An ATT&CK campaign (C####).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    /// `C0024`.
    pub id: String,
    /// `SolarWinds Compromise`.
    pub name: String,
    /// Other names, without the primary name.
    pub aliases: Vec<String>,
    /// First seen, `YYYY-MM-DD`.
    pub first_seen: Option<String>,
    /// Last seen, `YYYY-MM-DD`.
    pub last_seen: Option<String>,
    /// Domains the campaign appears in.
    pub domains: Vec<Domain>,
    /// Marked deprecated.
    pub deprecated: bool,
    /// Marked revoked.
    pub revoked: bool,
    /// The STIX id.
    pub stix_id: String,
}

/// An ATT&CK (M####) or ATLAS (AML.M####) mitigation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mitigation {
    /// `M1030`, `AML.M0015`.
    pub id: String,
    /// `Network Segmentation`.
    pub name: String,
    /// Domains the mitigation appears in.
    pub domains: Vec<Domain>,
    /// Marked deprecated.
    pub deprecated: bool,
    /// Marked revoked.
    pub revoked: bool,
    /// The STIX id (ATT&CK only).
    pub stix_id: Option<String>,
}

/// The kind of a [`Relationship`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RelationKind {
    /// A group, software or campaign uses a technique or software.
    Uses,
    /// A mitigation mitigates a technique.
    Mitigates,
    /// A sub-technique belongs to its parent.
    SubtechniqueOf,
    /// A campaign is attributed to a group.
    AttributedTo,
    /// A revoked entry is replaced by another.
    RevokedBy,
    /// A detection strategy detects a technique.
    Detects,
}

impl RelationKind {
    /// The STIX `relationship_type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::Uses => "uses",
            RelationKind::Mitigates => "mitigates",
            RelationKind::SubtechniqueOf => "subtechnique-of",
            RelationKind::AttributedTo => "attributed-to",
            RelationKind::RevokedBy => "revoked-by",
            RelationKind::Detects => "detects",
        }
    }
}

/// A relation between two entries, by id: `G0016 uses T1078`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Relationship {
    /// Source id.
    pub source: String,
    /// Relation kind.
    pub kind: RelationKind,
    /// Target id.
    pub target: String,
}

/// An ATT&CK v18 detection strategy (DET####).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectionStrategy {
    /// `DET0103`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The analytics (AN####) that implement it.
    pub analytics: Vec<String>,
    /// Domains it appears in.
    pub domains: Vec<Domain>,
}

/// A log source an analytic or data component reads, as ATT&CK names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LogSource {
    /// `WinEventLog:Security`, `AWS:CloudTrail`, `auditd:SYSCALL`.
    pub name: String,
    /// The channel or event within it (`EventCode=4688`).
    pub channel: String,
    /// The data component (DC####) it belongs to, when stated.
    pub data_component: Option<String>,
}

/// An ATT&CK v18 analytic (AN####).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analytic {
    /// `AN0110`.
    pub id: String,
    /// Platforms it applies to.
    pub platforms: Vec<String>,
    /// Log sources it reads.
    pub log_sources: Vec<LogSource>,
    /// Domains it appears in.
    pub domains: Vec<Domain>,
}

/// An ATT&CK data component (DC####).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataComponent {
    /// `DC0084`.
    pub id: String,
    /// `Active Directory Credential Request`.
    pub name: String,
    /// Log sources that carry it.
    pub log_sources: Vec<LogSource>,
    /// Domains it appears in.
    pub domains: Vec<Domain>,
}

/// An ATLAS case study (AML.CS####).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStudy {
    /// `AML.CS0000`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Incident date, as ATLAS states it.
    pub incident_date: Option<String>,
    /// The procedure's steps: (tactic id, technique id), in order.
    pub procedure: Vec<(String, String)>,
}

/// A D3FEND defensive technique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct D3fendTechnique {
    /// `D3-NI`.
    pub id: String,
    /// `Network Isolation`.
    pub name: String,
    /// `Model`, `Harden`, `Detect`, `Isolate`, `Deceive`, `Evict` or `Restore`.
    pub tactic: String,
    /// The parent D3FEND technique.
    pub parent: Option<String>,
    /// (relation, artifact label) pairs, e.g. (`filters`, `Inbound Internet Network Traffic`).
    pub artifacts: Vec<(String, String)>,
}

/// One inferred ATT&CK → D3FEND link and the digital-artifact path that explains it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct D3fendMapping {
    /// ATT&CK technique id.
    pub attack: String,
    /// D3FEND technique id.
    pub d3fend: String,
    /// What the attack does to the artifact (`produces`).
    pub offensive_relation: String,
    /// The artifact the attack acts on (`Inbound Internet Network Traffic`).
    pub offensive_artifact: String,
    /// What the defence does (`filters`).
    pub defensive_relation: String,
    /// The artifact the defence acts on: the same one or a more general class.
    pub defensive_artifact: String,
}

/// A D3FEND technique that D3FEND relates to an ATT&CK mitigation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MitigationCountermeasure {
    /// ATT&CK mitigation id (`M1037`).
    pub mitigation: String,
    /// D3FEND technique id (`D3-NI`).
    pub d3fend: String,
}

/// Whether CISA knows a KEV entry to be used in ransomware campaigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RansomwareUse {
    /// `Known`.
    Known,
    /// `Unknown`.
    Unknown,
}

/// A CISA KEV catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    /// `CVE-2021-44228` (upper case).
    pub cve: String,
    /// Vendor or project.
    pub vendor: String,
    /// Product.
    pub product: String,
    /// CISA's name for the vulnerability.
    pub name: String,
    /// Date added to the catalog, `YYYY-MM-DD`.
    pub date_added: String,
    /// Remediation due date for US federal agencies, `YYYY-MM-DD`.
    pub due_date: String,
    /// Known use in ransomware campaigns.
    pub ransomware: RansomwareUse,
    /// CWE ids.
    pub cwes: Vec<String>,
}

/// A MISP galaxy cluster: one named actor, malware family, tool, sector, country...
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GalaxyCluster {
    /// The galaxy type: `threat-actor`, `malpedia`, `tool`, `ransomware`, `sector`...
    pub galaxy: String,
    /// The cluster's value (its primary name).
    pub value: String,
    /// The cluster's UUID.
    pub uuid: String,
    /// Synonyms.
    pub synonyms: Vec<String>,
    /// Country or suspected state sponsor, when the cluster states one.
    pub country: Option<String>,
    /// ATT&CK ids of the groups/software this cluster relates to (by shared UUID).
    pub attack_ids: Vec<String>,
}

/// How a warninglist's entries match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WarninglistKind {
    /// IP networks; an address inside one matches.
    Cidr,
    /// Exact (case-insensitive) value.
    String,
    /// Host names; the name or any sub-domain of it matches.
    Hostname,
    /// The entry appears anywhere in the value.
    Substring,
    /// A regular expression.
    Regex,
}

/// A MISP warninglist.
///
/// The entries are stored newline-joined: one allocation per list instead of one per entry
/// keeps snapshot loading fast (the lists hold about 200,000 entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warninglist {
    /// The folder name (`rfc1918`, `alexa`).
    pub slug: String,
    /// The list's name.
    pub name: String,
    /// The list's version.
    pub version: String,
    /// How entries match.
    pub kind: WarninglistKind,
    /// The MISP attribute types it applies to (`ip-dst`, `domain`, `sha256`...).
    pub matching_attributes: Vec<String>,
    joined_entries: String,
}

impl Warninglist {
    /// A list from its parts; entries are trimmed and empty ones dropped.
    pub fn new(
        slug: String,
        name: String,
        version: String,
        kind: WarninglistKind,
        matching_attributes: Vec<String>,
        entries: &[String],
    ) -> Self {
        let joined_entries = entries
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty() && !e.contains('\n'))
            .collect::<Vec<_>>()
            .join("\n");
        Warninglist {
            slug,
            name,
            version,
            kind,
            matching_attributes,
            joined_entries,
        }
    }

    /// The entries, in source order.
    pub fn entries(&self) -> impl Iterator<Item = &str> {
        self.joined_entries.split('\n').filter(|e| !e.is_empty())
    }

    /// How many entries the list has.
    pub fn len(&self) -> usize {
        self.entries().count()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.joined_entries.is_empty()
    }
}
