//! The Analysis document (`"schema": "ctiforge.analysis/1"`): everything `analyze` found in one
//! report, each claim with its evidence. Field names are the stable machine interface; new
//! fields may be added, none renamed or removed within version 1. Every type reads back what
//! it writes, so a store can keep the JSON and render outputs from it later.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Domain;
pub use crate::evidence::{Evidence, Quote, Signal, SignalHit};
use crate::vocabulary::{
    ExploitationStatus, IocType, LeadKind, Phase, RemediationStatus, RiskLevel, RuleOrigin, Tlp,
};

/// The schema identifier written in every Analysis.
pub const SCHEMA: &str = "ctiforge.analysis/1";

/// The whole analysis.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Analysis {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// What produced it.
    pub generator: Generator,
    /// The report itself.
    pub report: ReportInfo,
    /// An extractive summary and key points.
    pub summary: Summary,
    /// Techniques, best first.
    pub techniques: Vec<Technique>,
    /// Tactics in matrix order with the report's techniques under each.
    pub kill_chain: Vec<KillChainStep>,
    /// Indicators worth acting on.
    pub iocs: Vec<Ioc>,
    /// Identifiers and observables that are not indicators (ATT&CK, CWE, CAPEC ids, Windows'
    /// own binaries...).
    pub observables: Vec<Ioc>,
    /// Candidates flagged as false positives, with the reason.
    pub false_positives: Vec<Ioc>,
    /// Named entities.
    pub entities: Entities,
    /// Similar known groups and campaigns; attributions stated in the text.
    pub correlation: Correlation,
    /// Products and devices the report says are affected (added in 0.2; empty when read from
    /// an older analysis).
    #[serde(default)]
    pub affected: Vec<AffectedProduct>,
    /// What the report says can be done: fix, mitigation, workaround, none (added in 0.2).
    #[serde(default)]
    pub remediation: Remediation,
    /// Whether the report describes exploitation.
    pub exploitation: Exploitation,
    /// The risk score and its factors.
    pub risk: Risk,
    /// The report's own recommendations, quoted in full, in its order, each mapped where it
    /// fits to ATT&CK mitigations and D3FEND countermeasures (added in 0.2).
    #[serde(default)]
    pub recommendations: Vec<Recommendation>,
    /// ATT&CK mitigations and D3FEND countermeasures of the report's techniques.
    pub mitigations: Mitigations,
    /// Where and what to hunt.
    pub hunting_leads: Vec<HuntingLead>,
    /// Incident-response steps by phase.
    pub response: Vec<ResponsePhase>,
    /// Sigma rules for this report, each proven on test events, and their queries.
    pub detection: DetectionContent,
}

/// Detection content: rules generated from the report, rules selected from a collection,
/// and why some were not made.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct DetectionContent {
    /// Rules generated from the report's indicators and hunting leads; only rules that passed
    /// their own test.
    pub generated: Vec<GeneratedRule>,
    /// Existing rules selected from `--sigma-rules` for the report's techniques, best first.
    pub selected: Vec<SelectedRule>,
    /// Why rules were not generated or not emitted.
    pub notes: Vec<String>,
    /// The query targets converted to.
    pub targets: Vec<String>,
}

/// A Sigma rule made for this report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GeneratedRule {
    /// Deterministic rule id (UUIDv5 of the report and the rule's content).
    pub id: String,
    /// Its title.
    pub title: String,
    /// What it was drawn from.
    pub origin: RuleOrigin,
    /// What it looks at: `process_creation`, `dns_query`, `cloudtrail`...
    pub logsource: String,
    /// Its level.
    pub level: String,
    /// ATT&CK tags.
    pub tags: Vec<String>,
    /// Placeholders the user fills (`%iomt_subnets%`...), each with what it means.
    pub placeholders: Vec<(String, String)>,
    /// The rule, as Sigma YAML.
    pub yaml: String,
    /// Its self-test.
    pub proof: Proof,
    /// Converted queries: target name and query, or the reason it does not convert.
    pub queries: Vec<(String, String)>,
}

/// A rule's self-test: synthetic events the hunt engine must and must not match.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Proof {
    /// Events the rule must match.
    pub positive: Vec<serde_json::Value>,
    /// Events it must not match.
    pub negative: Vec<serde_json::Value>,
    /// Positive events matched.
    pub positive_matched: usize,
    /// Negative events matched (must be 0).
    pub negative_matched: usize,
    /// Whether the rule passed.
    pub passed: bool,
}

/// An existing rule chosen for one of the report's techniques.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SelectedRule {
    /// The rule's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its file.
    pub path: String,
    /// Its level and status.
    pub level: String,
    /// Its status.
    pub status: String,
    /// The report's techniques it is tagged with.
    pub techniques: Vec<String>,
    /// Why it was chosen and where it ranks.
    pub reason: String,
    /// Converted queries: target name and query, or the reason it does not convert.
    pub queries: Vec<(String, String)>,
}

/// The program and data versions behind an analysis.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Generator {
    /// `ctiforge`.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Knowledge-base sources: (name, version).
    pub sources: Vec<(String, String)>,
}

/// The report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ReportInfo {
    /// Its title, when it has one.
    pub title: Option<String>,
    /// File path, when read from a file.
    pub path: Option<String>,
    /// URL, when fetched.
    pub url: Option<String>,
    /// Media type detected.
    pub media_type: String,
    /// SHA-256 of the input bytes.
    pub sha256: String,
    /// Input size in bytes.
    pub bytes: usize,
    /// Characters of extracted text.
    pub characters: usize,
    /// Sentences.
    pub sentences: usize,
    /// Publication date stated in the text (`YYYY-MM-DD`), with its evidence.
    pub published: Option<Dated>,
    /// The report's language (ISO 639-3, `eng`), when the text says enough to tell.
    pub language: Option<String>,
    /// The TLP marking of this analysis.
    pub tlp: Tlp,
}

/// A date with the sentence that states it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Dated {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Where.
    pub evidence: Quote,
}

/// Summary.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// The sentences that carry the report, in report order.
    pub sentences: Vec<Quote>,
    /// Key points, written from the findings.
    pub key_points: Vec<String>,
    /// The risks the report itself warns of, quoted (added in 0.2).
    #[serde(default)]
    pub key_risks: Vec<Quote>,
}

/// A product or device the report says is affected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AffectedProduct {
    /// The vendor, when the report names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The product or device.
    pub product: String,
    /// The affected versions as written (`<= 9.33`, `V2.1 SP1`, `all versions`).
    pub versions: Vec<String>,
    /// The sentence or list item that says so.
    pub evidence: Quote,
}

/// What the report says can be done about its vulnerabilities.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Remediation {
    /// Each status the report states, with its first sentence, in vocabulary order.
    pub statuses: Vec<RemediationFinding>,
}

/// One remediation status and the sentence that states it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RemediationFinding {
    /// The status.
    pub status: RemediationStatus,
    /// The sentence.
    pub evidence: Quote,
}

/// One recommendation of the report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Recommendation {
    /// The recommendation in full, as the report writes it.
    pub text: String,
    /// Where it stands.
    pub evidence: Quote,
    /// ATT&CK mitigations it amounts to (`M1030 Network Segmentation`).
    pub mitigations: Vec<Defense>,
    /// D3FEND techniques it amounts to (`D3-NI Network Isolation`).
    pub countermeasures: Vec<Defense>,
}

/// An ATT&CK mitigation or D3FEND technique a recommendation maps to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Defense {
    /// `M1030`, `D3-NI`.
    pub id: String,
    /// Its name in the knowledge base.
    pub name: String,
    /// Its page.
    pub url: String,
}

/// A technique found in the report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Technique {
    /// `T1059.001`, `AML.T0051`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Domains.
    pub domains: Vec<Domain>,
    /// Tactics: (id, name).
    pub tactics: Vec<(String, String)>,
    /// Score 0–1.
    pub score: f32,
    /// Evidence sentences with the signals behind each.
    pub evidence: Vec<Evidence>,
}

/// One tactic of the kill chain.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KillChainStep {
    /// `TA0001`.
    pub tactic: String,
    /// `Initial Access`.
    pub name: String,
    /// Domain.
    pub domain: Domain,
    /// The report's techniques under this tactic.
    pub techniques: Vec<String>,
}

/// An indicator or observable.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Ioc {
    /// Type (`ipv4`, `domain`, `sha256`...).
    #[serde(rename = "type")]
    pub kind: IocType,
    /// Normalized value.
    pub value: String,
    /// Whether the report defanged it.
    pub defanged: bool,
    /// Times it occurs.
    pub occurrences: usize,
    /// Host of a URL or e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Why it is a false positive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Context notes (dynamic DNS, URL shortener...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// For a domain known only as the host of URLs or e-mail addresses: the type it was read
    /// out of (`url`, `email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<IocType>,
    /// The first sentence it occurs in.
    pub evidence: Quote,
}

/// Named entities.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Entities {
    /// Threat actors and groups.
    pub threat_actors: Vec<Entity>,
    /// Malware.
    pub malware: Vec<Entity>,
    /// Tools.
    pub tools: Vec<Entity>,
    /// Campaigns.
    pub campaigns: Vec<Entity>,
    /// Vulnerabilities.
    pub vulnerabilities: Vec<Vulnerability>,
    /// Sectors.
    pub sectors: Vec<Entity>,
    /// Countries.
    pub countries: Vec<Entity>,
    /// Products and vendors.
    pub products: Vec<Entity>,
    /// The sectors the report says are targeted, attacked or affected (a subset of `sectors`,
    /// whose other members are only mentioned); added in 0.2.
    #[serde(default)]
    pub targeted_sectors: Vec<Entity>,
}

impl Entities {
    /// The named-entity lists with a heading for people, in reading order (vulnerabilities,
    /// which carry more than a name, are separate).
    pub fn labelled(&self) -> [(&'static str, &[Entity]); 7] {
        [
            ("Threat actors", &self.threat_actors),
            ("Malware", &self.malware),
            ("Tools", &self.tools),
            ("Campaigns", &self.campaigns),
            ("Sectors", &self.sectors),
            ("Countries", &self.countries),
            ("Products and vendors", &self.products),
        ]
    }
}

/// A named entity.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Entity {
    /// Canonical name.
    pub name: String,
    /// ATT&CK id (`G0016`, `S0002`, `C0024`) when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// ATT&CK STIX id, for reuse in bundles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stix_id: Option<String>,
    /// Where the name comes from (`attack`, `misp:threat-actor`, `misp:sector`, `kev`,
    /// `ctiforge`).
    pub source: String,
    /// The names as written in the report.
    pub mentions: Vec<String>,
    /// Where.
    pub evidence: Vec<Quote>,
}

impl Entity {
    /// Sentences kept per entity.
    pub const MAX_EVIDENCE: usize = 3;

    /// Records one more mention: its spelling when new, its sentence when new (up to
    /// [`Entity::MAX_EVIDENCE`]).
    pub fn note(&mut self, written: &str, quote: Option<Quote>) {
        if !self.mentions.iter().any(|m| m == written) {
            self.mentions.push(written.to_owned());
        }
        if let Some(quote) = quote
            && !self.evidence.contains(&quote)
            && self.evidence.len() < Self::MAX_EVIDENCE
        {
            self.evidence.push(quote);
        }
    }
}

/// A CVE.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Vulnerability {
    /// `CVE-2023-4966`.
    pub id: String,
    /// In CISA KEV.
    pub kev: bool,
    /// KEV name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kev_name: Option<String>,
    /// Vendor and product per KEV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Date added to KEV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kev_date_added: Option<String>,
    /// KEV due date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kev_due_date: Option<String>,
    /// Known ransomware use per KEV.
    pub known_ransomware_use: bool,
    /// CVSS base score stated in the text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss: Option<f32>,
    /// Where.
    pub evidence: Vec<Quote>,
}

/// Correlation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Correlation {
    /// Always "similarity, not attribution".
    pub note: String,
    /// Groups whose ATT&CK techniques overlap the report's most.
    pub similar_groups: Vec<Similar>,
    /// Campaigns likewise.
    pub similar_campaigns: Vec<Similar>,
    /// Attributions the text itself states.
    pub stated_attributions: Vec<Attribution>,
    /// Earlier reports (from `analyze --history`) that share indicators or techniques.
    pub earlier_reports: Vec<EarlierReport>,
}

/// An earlier report that shares indicators or techniques with this one.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EarlierReport {
    /// Its SHA-256.
    pub sha256: String,
    /// Its title.
    pub title: Option<String>,
    /// Its publication date, when it had one.
    pub published: Option<String>,
    /// Indicators both reports contain (`type:value`).
    pub shared_indicators: Vec<String>,
    /// Techniques both reports contain.
    pub shared_techniques: Vec<String>,
    /// Jaccard similarity of the two technique sets.
    pub technique_similarity: f32,
}

/// What `analyze --history` remembers of each report: enough to find it again, not the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryEntry {
    /// SHA-256 of the report.
    pub sha256: String,
    /// Its title.
    pub title: Option<String>,
    /// Its publication date.
    pub published: Option<String>,
    /// Its technique ids.
    pub techniques: Vec<String>,
    /// Its indicators, as `type:value`.
    pub indicators: Vec<String>,
}

impl HistoryEntry {
    /// The entry for an analysis.
    pub fn of(analysis: &Analysis) -> Self {
        Self {
            sha256: analysis.report.sha256.clone(),
            title: analysis.report.title.clone(),
            published: analysis.report.published.as_ref().map(|p| p.date.clone()),
            techniques: analysis.techniques.iter().map(|t| t.id.clone()).collect(),
            indicators: analysis
                .iocs
                .iter()
                .map(|i| format!("{}:{}", i.kind, i.value))
                .collect(),
        }
    }
}

/// A known group or campaign and its overlap with the report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Similar {
    /// `G0046`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Weighted overlap, 0–1 (rare techniques count more).
    pub score: f32,
    /// The techniques shared.
    pub shared_techniques: Vec<String>,
}

/// An attribution stated in the report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Attribution {
    /// The actor named.
    pub actor: String,
    /// Its ATT&CK id when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The sentence.
    pub evidence: Quote,
}

/// Exploitation status.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Exploitation {
    /// The status.
    pub status: ExploitationStatus,
    /// Why.
    pub reasons: Vec<String>,
    /// Sentences.
    pub evidence: Vec<Quote>,
}

/// Risk.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Risk {
    /// 0–100.
    pub score: u32,
    /// The band of the score.
    pub level: RiskLevel,
    /// Every factor considered, with the points it gave (0 when absent).
    pub factors: Vec<RiskFactor>,
    /// Where the model is documented.
    pub model: String,
}

/// One risk factor.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RiskFactor {
    /// Stable name (`exploitation`, `kev`...).
    pub factor: String,
    /// Most points the factor can give.
    pub weight: u32,
    /// Points given.
    pub points: u32,
    /// Why.
    pub reason: String,
}

/// Mitigations.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Mitigations {
    /// ATT&CK mitigations, most techniques covered first.
    pub attack: Vec<AttackMitigation>,
    /// D3FEND countermeasures grouped by D3FEND tactic.
    pub d3fend: Vec<D3fendGroup>,
    /// Mitigation and countermeasure ids written in the report.
    pub stated: Vec<StatedId>,
}

/// An ATT&CK mitigation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AttackMitigation {
    /// `M1030`.
    pub id: String,
    /// Name.
    pub name: String,
    /// The report's techniques it mitigates.
    pub techniques: Vec<String>,
    /// `https://attack.mitre.org/mitigations/M1030/`.
    pub url: String,
}

/// D3FEND countermeasures of one tactic.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct D3fendGroup {
    /// `Harden`, `Detect`, `Isolate`, `Deceive`, `Evict`, `Restore`, `Model`.
    pub tactic: String,
    /// Countermeasures, best first.
    pub countermeasures: Vec<Countermeasure>,
}

/// A D3FEND countermeasure.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Countermeasure {
    /// `D3-NI`.
    pub id: String,
    /// Name.
    pub name: String,
    /// The report's techniques it counters.
    pub techniques: Vec<String>,
    /// Paths: technique → offensive artifact → countermeasure.
    pub paths: Vec<String>,
    /// Ranking score: report techniques countered, weighted by specificity.
    pub score: f32,
    /// D3FEND page.
    pub url: String,
}

/// An id the report writes (`M1030`, `D3-NI`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StatedId {
    /// The id.
    pub id: String,
    /// Its name in the knowledge base.
    pub name: String,
    /// Where.
    pub evidence: Quote,
}

/// A hunting lead.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HuntingLead {
    /// What it looks at.
    pub kind: LeadKind,
    /// What to look for.
    pub what: String,
    /// Where: log sources (`WinEventLog:Sysmon EventCode=1`, `AWS:CloudTrail`...).
    #[serde(rename = "where")]
    pub where_: Vec<String>,
    /// Why: technique ids and indicator values.
    pub why: Vec<String>,
    /// Where the report says so.
    pub evidence: Vec<Quote>,
}

/// Response steps of one phase.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ResponsePhase {
    /// The phase.
    pub phase: Phase,
    /// Steps.
    pub steps: Vec<ResponseStep>,
}

/// A response step.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ResponseStep {
    /// What to do.
    pub action: String,
    /// The findings that call for it.
    pub because: Vec<String>,
}

/// The JSON Schema of the Analysis document (`docs/schema/analysis.schema.json` is this,
/// pretty-printed; a test keeps them equal).
pub fn json_schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Analysis)).unwrap_or_default();
    schema["$id"] = serde_json::json!("https://ctiforge.invalid/schema/analysis-1.json");
    schema["description"] = serde_json::json!(
        "ctiforge Analysis document, schema ctiforge.analysis/1: everything `ctiforge analyze` found in one report, each claim with its evidence (byte offsets into the report's extracted text)."
    );
    sorted(schema)
}

/// The value with every object's keys in sorted order, whether or not serde_json preserves
/// insertion order in this build (feature unification differs between a crate's build and the
/// workspace's).
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}
