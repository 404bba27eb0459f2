//! The main job's middle: a [`Document`] goes in, an [`Analysis`] comes out — techniques,
//! indicators, entities, correlation, exploitation, risk, mitigations, hunting leads and
//! response steps, each with the sentences that support it.

pub mod analysis;
mod defend;
mod entities;
mod findings;

use std::collections::{BTreeMap, BTreeSet};

use ctiforge_attack::{MapOptions, Mapper};
use ctiforge_ioc::{Extractor, Indicator, IocType};
use ctiforge_kb::KnowledgeBase;
use ctiforge_model::Document;

pub use crate::analysis::*;
use crate::entities::{EntityIndex, quote_at};

/// Options of one analysis.
#[derive(Debug, Clone)]
pub struct Options {
    /// The TLP marking (`clear`, `green`, `amber`, `amber+strict`, `red`).
    pub tlp: String,
    /// The program version written in the analysis.
    pub version: String,
}

/// Builds analyses. Create once (it indexes the knowledge base) and use for many reports,
/// from many threads.
pub struct Analyzer<'kb> {
    kb: &'kb KnowledgeBase,
    mapper: Mapper<'kb>,
    extractor: Extractor,
    entities: EntityIndex,
    correlator: findings::Correlator,
}

impl std::fmt::Debug for Analyzer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("mapper", &self.mapper)
            .finish()
    }
}

/// Identifiers (ATT&CK, CVE, CWE ids...) and ASNs are observables, not indicators to block.
fn is_observable_only(kind: IocType) -> bool {
    !kind.is_observable() || kind == IocType::Asn
}

impl<'kb> Analyzer<'kb> {
    /// An analyzer with the given technique mapper.
    pub fn new(kb: &'kb KnowledgeBase, mapper: Mapper<'kb>) -> Self {
        Self {
            kb,
            mapper,
            extractor: Extractor::with_knowledge_base(kb),
            entities: EntityIndex::new(kb),
            correlator: findings::Correlator::new(kb),
        }
    }

    /// Analyzes one document.
    pub fn analyze(&self, document: &Document, options: &Options) -> Analysis {
        let text = document.text.as_str();
        let sentences = &document.sentences;

        let mapping = self
            .mapper
            .map_document(text, sentences, &MapOptions::default());
        let techniques: Vec<Technique> = mapping
            .techniques
            .into_iter()
            .map(|t| Technique {
                id: t.id,
                name: t.name,
                domains: t.domains,
                tactics: t.tactics.into_iter().map(|t| (t.id, t.name)).collect(),
                score: t.score,
                evidence: t.evidence,
            })
            .collect();
        let kill_chain = self.kill_chain(&techniques);

        let indicators = self.extractor.extract(text);
        let (iocs, observables, false_positives) = group_indicators(text, sentences, &indicators);

        let mut entities = self.entities.find(text, sentences);
        entities.vulnerabilities = findings::vulnerabilities(self.kb, text, sentences, &indicators);
        let correlation = self.correlator.correlate(self.kb, &techniques, &entities);
        let exploitation = findings::exploitation(text, sentences, &entities.vulnerabilities);
        let risk = findings::risk(
            &exploitation,
            &entities.vulnerabilities,
            &techniques,
            &entities,
            correlation.stated_attributions.len(),
            iocs.len(),
        );
        let mitigations = defend::mitigations(self.kb, &techniques, text, sentences, &indicators);
        let hunting_leads = defend::hunting_leads(self.kb, &techniques, &iocs, text, sentences);
        let response = defend::response(
            &techniques,
            &iocs,
            &entities.vulnerabilities,
            &exploitation,
            &entities,
            &hunting_leads,
            &mitigations,
        );
        let summary = summarize(
            text,
            sentences,
            &techniques,
            &iocs,
            &entities,
            &exploitation,
            &risk,
            &kill_chain,
        );

        let generator = Generator {
            name: "ctiforge".to_owned(),
            version: options.version.clone(),
            sources: self
                .kb
                .catalog()
                .sources
                .iter()
                .map(|s| (s.name.clone(), s.version.clone()))
                .collect(),
        };
        let source = &document.source;
        Analysis {
            schema: SCHEMA,
            generator,
            report: ReportInfo {
                title: document.title.clone(),
                path: source.path.clone(),
                url: source.url.clone(),
                media_type: source.media_type.clone(),
                sha256: source.sha256.clone(),
                bytes: source.bytes,
                characters: text.chars().count(),
                sentences: sentences.len(),
                published: findings::published(text, sentences),
                language: whatlang::detect(text)
                    .filter(|info| info.is_reliable())
                    .map(|info| info.lang().code().to_owned()),
                tlp: options.tlp.clone(),
            },
            summary,
            techniques,
            kill_chain,
            iocs,
            observables,
            false_positives,
            entities,
            correlation,
            exploitation,
            risk,
            mitigations,
            hunting_leads,
            response,
            detection: analysis::DetectionContent::default(),
        }
    }

    fn kill_chain(&self, techniques: &[Technique]) -> Vec<KillChainStep> {
        let mut steps = Vec::new();
        for domain in ctiforge_model::Domain::ALL {
            for tactic in self.kb.tactics(domain) {
                let under: Vec<String> = techniques
                    .iter()
                    .filter(|t| t.tactics.iter().any(|(id, _)| *id == tactic.id))
                    .map(|t| t.id.clone())
                    .collect();
                if !under.is_empty() {
                    steps.push(KillChainStep {
                        tactic: tactic.id.clone(),
                        name: tactic.name.clone(),
                        domain: domain.as_str().to_owned(),
                        techniques: under,
                    });
                }
            }
        }
        steps
    }
}

/// Programs and libraries that ship with Windows: a report that names them describes the
/// technique, not an indicator to block.
const SYSTEM_BINARIES: &[&str] = &[
    "at.exe",
    "attrib.exe",
    "bcdedit.exe",
    "bitsadmin.exe",
    "certutil.exe",
    "cmd.exe",
    "cmstp.exe",
    "comsvcs.dll",
    "conhost.exe",
    "cscript.exe",
    "csc.exe",
    "dllhost.exe",
    "explorer.exe",
    "forfiles.exe",
    "installutil.exe",
    "ipconfig.exe",
    "lsass.exe",
    "msbuild.exe",
    "mshta.exe",
    "msiexec.exe",
    "net.exe",
    "net1.exe",
    "netsh.exe",
    "netstat.exe",
    "nltest.exe",
    "ntdll.dll",
    "odbcconf.exe",
    "powershell.exe",
    "psexec.exe",
    "pwsh.exe",
    "reg.exe",
    "regasm.exe",
    "regsvcs.exe",
    "regsvr32.exe",
    "rundll32.exe",
    "sc.exe",
    "schtasks.exe",
    "services.exe",
    "svchost.exe",
    "systeminfo.exe",
    "taskkill.exe",
    "tasklist.exe",
    "vssadmin.exe",
    "wbadmin.exe",
    "werfault.exe",
    "wevtutil.exe",
    "whoami.exe",
    "winlogon.exe",
    "wmic.exe",
    "wscript.exe",
    "kernel32.dll",
    "user32.dll",
    "advapi32.dll",
];

/// Whether a file name or path names a Windows system binary.
fn is_system_binary(kind: IocType, value: &str) -> bool {
    if !matches!(kind, IocType::Filename | IocType::Filepath) {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    let name = lower.rsplit(['\\', '/']).next().unwrap_or(&lower);
    SYSTEM_BINARIES.contains(&name)
        && (kind == IocType::Filename
            || lower.starts_with("c:\\windows\\system32\\")
            || lower.starts_with("c:\\windows\\syswow64\\")
            || lower.starts_with("%systemroot%"))
}

/// Indicators deduplicated by (type, value), split into actionable indicators, identifiers
/// (and Windows' own binaries) and false positives.
fn group_indicators(
    text: &str,
    sentences: &[ctiforge_model::Span],
    indicators: &[Indicator],
) -> (Vec<Ioc>, Vec<Ioc>, Vec<Ioc>) {
    let mut seen: BTreeMap<(bool, bool, String, String), Ioc> = BTreeMap::new();
    let mut order: Vec<(bool, bool, String, String)> = Vec::new();
    for indicator in indicators {
        let kind = indicator.kind.as_str().to_owned();
        let key = (
            indicator.is_false_positive(),
            is_observable_only(indicator.kind)
                || is_system_binary(indicator.kind, &indicator.value),
            kind.clone(),
            indicator.value.clone(),
        );
        if let Some(existing) = seen.get_mut(&key) {
            existing.occurrences += 1;
            existing.defanged |= indicator.defanged;
            continue;
        }
        let Some(evidence) = quote_at(text, sentences, indicator.start) else {
            continue;
        };
        order.push(key.clone());
        seen.insert(
            key,
            Ioc {
                kind,
                value: indicator.value.clone(),
                defanged: indicator.defanged,
                occurrences: 1,
                host: indicator.host.clone(),
                reason: indicator.false_positive.clone(),
                context: indicator.context.clone(),
                evidence,
            },
        );
    }
    let (mut iocs, mut observables, mut false_positives) = (Vec::new(), Vec::new(), Vec::new());
    for key in order {
        let Some(ioc) = seen.remove(&key) else {
            continue;
        };
        match (key.0, key.1) {
            (true, _) => false_positives.push(ioc),
            (false, true) => observables.push(ioc),
            (false, false) => iocs.push(ioc),
        }
    }
    (iocs, observables, false_positives)
}

/// The few sentences that carry the report (most findings per sentence, the opening
/// favoured), and key points written from the findings.
#[allow(clippy::too_many_arguments)]
fn summarize(
    text: &str,
    sentences: &[ctiforge_model::Span],
    techniques: &[Technique],
    iocs: &[Ioc],
    entities: &Entities,
    exploitation: &Exploitation,
    risk: &Risk,
    kill_chain: &[KillChainStep],
) -> Summary {
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
    points.push(format!(
        "Exploitation: {}.",
        exploitation.status.replace('_', " ")
    ));
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
