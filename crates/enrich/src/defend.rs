//! What to do about a report: ATT&CK mitigations and D3FEND countermeasures, hunting leads,
//! and incident-response steps, all derived from the findings.

use std::collections::{BTreeMap, BTreeSet};

use ctiforge_ioc::{Indicator, IocType};
use ctiforge_kb::{KnowledgeBase, RelationKind};
use ctiforge_model::Span;

use crate::analysis::{
    AttackMitigation, Countermeasure, D3fendGroup, Entities, Exploitation, HuntingLead, Ioc,
    Mitigations, Quote, ResponsePhase, ResponseStep, StatedId, Technique, Vulnerability,
};
use crate::entities::quote_at;

/// D3FEND tactics in the order D3FEND presents them.
const D3FEND_TACTICS: &[&str] = &[
    "Model", "Harden", "Detect", "Isolate", "Deceive", "Evict", "Restore",
];
/// Countermeasures kept per D3FEND tactic.
const PER_TACTIC: usize = 6;

pub(crate) fn mitigations(
    kb: &KnowledgeBase,
    techniques: &[Technique],
    text: &str,
    sentences: &[Span],
    indicators: &[Indicator],
) -> Mitigations {
    let mut attack: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for technique in techniques {
        for relation in kb.relations_to(&technique.id) {
            if relation.kind == RelationKind::Mitigates && relation.source.starts_with('M') {
                attack
                    .entry(relation.source.clone())
                    .or_default()
                    .insert(technique.id.clone());
            }
        }
    }
    let mut attack: Vec<AttackMitigation> = attack
        .into_iter()
        .filter_map(|(id, techniques)| {
            let mitigation = kb.mitigation(&id)?;
            if mitigation.revoked || mitigation.deprecated {
                return None;
            }
            Some(AttackMitigation {
                url: format!("https://attack.mitre.org/mitigations/{id}/"),
                name: mitigation.name.clone(),
                id,
                techniques: techniques.into_iter().collect(),
            })
        })
        .collect();
    attack.sort_by(|a, b| {
        b.techniques
            .len()
            .cmp(&a.techniques.len())
            .then(a.id.cmp(&b.id))
    });

    // D3FEND: for each countermeasure, the report techniques it counters and the paths.
    struct Found {
        techniques: BTreeSet<String>,
        paths: BTreeSet<String>,
    }
    let mut d3fend: BTreeMap<String, Found> = BTreeMap::new();
    for technique in techniques {
        let mut ids = vec![technique.id.as_str()];
        if let Some(parent) = kb
            .technique(&technique.id)
            .and_then(|t| t.parent.as_deref())
        {
            ids.push(parent);
        }
        for id in ids {
            for mapping in kb.countermeasures(id) {
                let entry = d3fend.entry(mapping.d3fend.clone()).or_insert(Found {
                    techniques: BTreeSet::new(),
                    paths: BTreeSet::new(),
                });
                entry.techniques.insert(technique.id.clone());
                if entry.paths.len() < 4 {
                    entry.paths.insert(format!(
                        "{} {} {} → {} {}",
                        technique.id,
                        mapping.offensive_relation,
                        mapping.offensive_artifact,
                        mapping.defensive_relation,
                        mapping.defensive_artifact
                    ));
                }
            }
        }
    }
    let mut by_tactic: BTreeMap<&str, Vec<Countermeasure>> = BTreeMap::new();
    for (id, found) in d3fend {
        let Some(technique) = kb.d3fend(&id) else {
            continue;
        };
        let Some(&tactic) = D3FEND_TACTICS.iter().find(|t| **t == technique.tactic) else {
            continue;
        };
        // Specific countermeasures (that counter few ATT&CK techniques overall) rank above
        // broad ones that counter the same number of the report's techniques.
        let breadth = kb.countered_techniques(&id).count().max(1) as f32;
        let score = found.techniques.len() as f32 * (1.0 + 1.0 / breadth.ln_1p());
        by_tactic.entry(tactic).or_default().push(Countermeasure {
            url: format!(
                "https://d3fend.mitre.org/technique/d3f:{}/",
                technique.name.replace([' ', '-', '/'], "")
            ),
            name: technique.name.clone(),
            id,
            techniques: found.techniques.into_iter().collect(),
            paths: found.paths.into_iter().collect(),
            score: (score * 1000.0).round() / 1000.0,
        });
    }
    let d3fend = D3FEND_TACTICS
        .iter()
        .filter_map(|tactic| {
            let mut list = by_tactic.remove(tactic)?;
            list.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
            list.truncate(PER_TACTIC);
            Some(D3fendGroup {
                tactic: (*tactic).to_owned(),
                countermeasures: list,
            })
        })
        .collect();

    let mut stated = Vec::new();
    for indicator in indicators {
        let name = match indicator.kind {
            IocType::AttackMitigation => kb.mitigation(&indicator.value).map(|m| m.name.clone()),
            IocType::D3fendTechnique => kb.d3fend(&indicator.value).map(|d| d.name.clone()),
            _ => None,
        };
        if let (Some(name), Some(evidence)) = (name, quote_at(text, sentences, indicator.start))
            && !stated.iter().any(|s: &StatedId| s.id == indicator.value)
        {
            stated.push(StatedId {
                id: indicator.value.clone(),
                name,
                evidence,
            });
        }
    }
    Mitigations {
        attack,
        d3fend,
        stated,
    }
}

/// The lead kind a log source and data component call for.
fn lead_kind(source: &str, component: &str) -> &'static str {
    let source = source.to_lowercase();
    let component = component.to_lowercase();
    if source.starts_with("aws:cloudtrail")
        || source.starts_with("azure:audit")
        || source.starts_with("gcp:audit")
        || source.starts_with("m365:")
        || source.starts_with("kubernetes:")
    {
        "cloud_audit"
    } else if source.starts_with("nsm:")
        || source.contains("vpcflow")
        || source.starts_with("network")
        || component.contains("network")
    {
        "network_traffic_pattern"
    } else if component.contains("logon")
        || component.contains("authentication")
        || source.contains("signin")
        || source.contains("okta")
    {
        "authentication"
    } else if component.contains("registry") {
        "registry"
    } else if component.contains("process")
        || component.contains("command")
        || component.contains("script")
    {
        "process"
    } else if component.contains("file") || component.contains("module") {
        "file"
    } else {
        "log_source"
    }
}

const STATED_HUNTING: &[&str] = &[
    "hunt for",
    "look for",
    "monitor for",
    "search for",
    "review logs",
    "should monitor",
    "watch for",
    "monitor the",
    "review aws",
    "review cloudtrail",
    "review the",
];

pub(crate) fn hunting_leads(
    kb: &KnowledgeBase,
    techniques: &[Technique],
    iocs: &[Ioc],
    text: &str,
    sentences: &[Span],
) -> Vec<HuntingLead> {
    let mut leads = Vec::new();
    // From ATT&CK v18 detection strategies: per technique, the log sources its analytics name,
    // grouped by lead kind.
    for technique in techniques {
        let mut by_kind: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for relation in kb.relations_to(&technique.id) {
            if relation.kind != RelationKind::Detects {
                continue;
            }
            let Some(strategy) = kb.detection_strategy(&relation.source) else {
                continue;
            };
            for analytic_id in &strategy.analytics {
                let Some(analytic) = kb.analytic(analytic_id) else {
                    continue;
                };
                for source in &analytic.log_sources {
                    let component = source
                        .data_component
                        .as_deref()
                        .and_then(|id| kb.data_component(id))
                        .map_or("", |d| d.name.as_str());
                    let place = if source.channel.is_empty() || source.channel.len() > 60 {
                        source.name.clone()
                    } else {
                        format!("{} {}", source.name, source.channel)
                    };
                    by_kind
                        .entry(lead_kind(&source.name, component))
                        .or_default()
                        .insert(place);
                }
            }
        }
        let evidence: Vec<Quote> = technique
            .evidence
            .iter()
            .take(1)
            .map(|e| Quote {
                start: e.start,
                end: e.end,
                text: e.text.clone(),
            })
            .collect();
        // One lead per technique: typed by the kind most of its log sources have (the
        // catch-all `log_source` only when nothing more specific applies), with the most
        // specific places first.
        let specific = by_kind
            .iter()
            .filter(|(kind, _)| **kind != "log_source")
            .max_by_key(|(kind, places)| (places.len(), std::cmp::Reverse(**kind)))
            .map(|(kind, _)| *kind);
        if let Some(kind) = specific.or_else(|| by_kind.keys().next().copied()) {
            let mut places: Vec<String> = by_kind.remove(kind).into_iter().flatten().collect();
            places.extend(by_kind.into_values().flatten());
            places.dedup();
            places.truncate(6);
            leads.push(HuntingLead {
                kind: kind.to_owned(),
                what: format!("{} ({}) activity", technique.name, technique.id),
                where_: places,
                why: vec![technique.id.clone()],
                evidence: evidence.clone(),
            });
        }
        if technique.id.starts_with("AML.") {
            leads.push(HuntingLead {
                kind: "api_endpoint".to_owned(),
                what: format!(
                    "{} ({}) against model inference or AI service endpoints: unusual query \
                     volume, prompts with instructions, extraction-like sweeps",
                    technique.name, technique.id
                ),
                where_: vec![
                    "AI inference endpoint access logs".to_owned(),
                    "API gateway logs".to_owned(),
                ],
                why: vec![technique.id.clone()],
                evidence,
            });
        }
    }
    // From indicators.
    let mut by_type: BTreeMap<&str, Vec<&Ioc>> = BTreeMap::new();
    for ioc in iocs {
        by_type.entry(ioc.kind.as_str()).or_default().push(ioc);
    }
    let ioc_lead = |kind: &str, what: &str, places: &[&str], list: &[&Ioc]| HuntingLead {
        kind: kind.to_owned(),
        what: what.to_owned(),
        where_: places.iter().map(|p| (*p).to_owned()).collect(),
        why: list.iter().map(|i| i.value.clone()).collect(),
        evidence: list.iter().take(2).map(|i| i.evidence.clone()).collect(),
    };
    let network: Vec<&Ioc> = ["ipv4", "ipv6", "cidr", "domain", "url"]
        .iter()
        .flat_map(|t| by_type.get(t).into_iter().flatten().copied())
        .collect();
    if !network.is_empty() {
        leads.push(ioc_lead(
            "network_traffic_pattern",
            "connections, DNS queries and web requests to the report's network indicators",
            &[
                "firewall and proxy logs",
                "Zeek conn.log and dns.log",
                "WinEventLog:Sysmon EventCode=3/22",
                "AWS:VPCFlowLogs",
            ],
            &network,
        ));
    }
    let files: Vec<&Ioc> = ["md5", "sha1", "sha256", "sha512", "filename", "filepath"]
        .iter()
        .flat_map(|t| by_type.get(t).into_iter().flatten().copied())
        .collect();
    if !files.is_empty() {
        leads.push(ioc_lead(
            "file",
            "files, processes and loaded modules matching the report's hashes, names and paths",
            &[
                "EDR file and process telemetry",
                "WinEventLog:Sysmon EventCode=1/7/11",
            ],
            &files,
        ));
    }
    if let Some(keys) = by_type.get("registry") {
        leads.push(ioc_lead(
            "registry",
            "creation or modification of the report's registry keys",
            &["WinEventLog:Sysmon EventCode=12/13"],
            keys,
        ));
    }
    if let Some(agents) = by_type.get("user_agent") {
        leads.push(ioc_lead(
            "network_traffic_pattern",
            "HTTP requests with the report's user agents",
            &["proxy logs", "Zeek http.log"],
            agents,
        ));
    }
    if let Some(emails) = by_type.get("email") {
        leads.push(ioc_lead(
            "other",
            "mail from or to the report's addresses",
            &["mail gateway logs", "m365:exchange"],
            emails,
        ));
    }
    // Hunting guidance the report states.
    for span in sentences {
        let Some(sentence) = text.get(span.start..span.end) else {
            continue;
        };
        let lower = sentence.to_lowercase();
        if STATED_HUNTING.iter().any(|w| lower.contains(w)) {
            let kind = if lower.contains("traffic") || lower.contains("connection") {
                "network_traffic_pattern"
            } else if lower.contains("cloudtrail") || lower.contains("audit log") {
                "cloud_audit"
            } else if lower.contains("api") || lower.contains("endpoint") {
                "api_endpoint"
            } else if lower.contains("process") || lower.contains("command line") {
                "process"
            } else {
                "other"
            };
            leads.push(HuntingLead {
                kind: kind.to_owned(),
                what: sentence.trim().to_owned(),
                where_: Vec::new(),
                why: vec!["stated in the report".to_owned()],
                evidence: vec![Quote {
                    start: span.start,
                    end: span.end,
                    text: sentence.to_owned(),
                }],
            });
        }
    }
    leads
}

/// Response steps by phase, from what the report describes.
pub(crate) fn response(
    techniques: &[Technique],
    iocs: &[Ioc],
    vulnerabilities: &[Vulnerability],
    exploitation: &Exploitation,
    entities: &Entities,
    leads: &[HuntingLead],
    mitigations: &Mitigations,
) -> Vec<ResponsePhase> {
    let has = |id: &str| {
        techniques
            .iter()
            .any(|t| t.id == id || t.id.starts_with(&format!("{id}.")))
    };
    let tactic = |id: &str| -> Vec<String> {
        techniques
            .iter()
            .filter(|t| t.tactics.iter().any(|(tid, _)| tid == id))
            .map(|t| t.id.clone())
            .collect()
    };
    let step = |action: String, because: Vec<String>| ResponseStep { action, because };
    let mut phases: Vec<(&str, Vec<ResponseStep>)> = Vec::new();

    let mut preparation = Vec::new();
    let sources: BTreeSet<&str> = leads
        .iter()
        .flat_map(|l| l.where_.iter().map(String::as_str))
        .collect();
    if !sources.is_empty() {
        preparation.push(step(
            format!(
                "Confirm these log sources are collected and retained: {}.",
                sources
                    .iter()
                    .take(8)
                    .copied()
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            leads
                .iter()
                .flat_map(|l| l.why.iter().cloned())
                .take(6)
                .collect(),
        ));
    }
    for v in vulnerabilities {
        let deadline = v
            .kev_due_date
            .as_deref()
            .map(|d| format!(" (CISA KEV due date {d})"))
            .unwrap_or_default();
        preparation.push(step(
            format!(
                "Find every exposed instance of {} and patch {}{deadline}.",
                v.product.as_deref().unwrap_or("the affected product"),
                v.id
            ),
            vec![v.id.clone()],
        ));
    }
    phases.push(("preparation", preparation));

    let mut detection = Vec::new();
    if !iocs.is_empty() {
        let mut types: BTreeMap<&str, usize> = BTreeMap::new();
        for ioc in iocs {
            *types.entry(ioc.kind.as_str()).or_default() += 1;
        }
        detection.push(step(
            format!(
                "Search the retained logs for the report's {} indicators ({}) over at least the period the report covers.",
                iocs.len(),
                types.iter().map(|(t, n)| format!("{n} {t}")).collect::<Vec<_>>().join(", ")
            ),
            iocs.iter().take(5).map(|i| i.value.clone()).collect(),
        ));
    }
    for lead in leads
        .iter()
        .filter(|l| {
            l.why
                .iter()
                .any(|w| w.starts_with('T') || w.starts_with("AML."))
        })
        .take(8)
    {
        detection.push(step(
            format!(
                "Hunt for {} in {}.",
                lead.what,
                if lead.where_.is_empty() {
                    "the relevant logs".to_owned()
                } else {
                    lead.where_.join(", ")
                }
            ),
            lead.why.clone(),
        ));
    }
    phases.push(("detection_and_analysis", detection));

    let mut containment = Vec::new();
    let network: Vec<String> = iocs
        .iter()
        .filter(|i| matches!(i.kind.as_str(), "ipv4" | "ipv6" | "domain" | "url" | "cidr"))
        .map(|i| i.value.clone())
        .collect();
    if !network.is_empty() {
        containment.push(step(
            format!(
                "Block the {} network indicators at the firewall, proxy and DNS resolver.",
                network.len()
            ),
            network.into_iter().take(5).collect(),
        ));
    }
    if exploitation.status == "active" && has("T1190") {
        containment.push(step(
            "Take the exploited internet-facing system off the internet or behind a VPN until it is patched and checked for web shells and new accounts.".to_owned(),
            vec!["T1190".to_owned()],
        ));
    }
    let credential = tactic("TA0006");
    if !credential.is_empty() || has("T1078") {
        let mut because = credential.clone();
        if has("T1078") {
            because.push("T1078".to_owned());
        }
        containment.push(step(
            "Reset the passwords of exposed accounts (domain administrators and service accounts first), revoke sessions and tokens, and reset the krbtgt password twice if domain credentials were dumped.".to_owned(),
            because,
        ));
    }
    let lateral = tactic("TA0008");
    if !lateral.is_empty() {
        containment.push(step(
            "Isolate affected hosts and restrict remote administration (RDP, SMB, WinRM, PsExec) to jump hosts while the intrusion is scoped.".to_owned(),
            lateral,
        ));
    }
    if entities.sectors.iter().any(|s| s.name == "Health") {
        containment.push(step(
            "Segment clinical and medical-device networks from the affected IT systems and switch to downtime procedures where patient care depends on affected systems.".to_owned(),
            vec!["sector: Health".to_owned()],
        ));
    }
    phases.push(("containment", containment));

    let mut eradication = Vec::new();
    let persistence = tactic("TA0003");
    if !persistence.is_empty() {
        let names: Vec<String> = techniques
            .iter()
            .filter(|t| persistence.contains(&t.id))
            .map(|t| t.name.clone())
            .collect();
        eradication.push(step(
            format!("Remove the persistence the report describes ({}) from every affected host; compare against a known-good baseline.", names.join(", ")),
            persistence,
        ));
    }
    let malware: Vec<String> = entities
        .malware
        .iter()
        .chain(&entities.tools)
        .map(|m| m.name.clone())
        .collect();
    if !malware.is_empty() {
        eradication.push(step(
            format!("Remove the malware and tools named in the report ({}) and rebuild hosts where they ran with privileges.", malware.join(", ")),
            malware,
        ));
    }
    phases.push(("eradication", eradication));

    let mut recovery = Vec::new();
    let impact = tactic("TA0040");
    if has("T1486") || has("T1490") || has("T1485") {
        recovery.push(step(
            "Restore encrypted or destroyed data from offline backups after confirming the backups are clean; the report describes destruction of recovery options, so verify backup integrity first.".to_owned(),
            impact.clone(),
        ));
    }
    if !impact.is_empty() || !iocs.is_empty() {
        recovery.push(step(
            "Return systems to service in stages with heightened monitoring on the hunting leads above.".to_owned(),
            impact,
        ));
    }
    phases.push(("recovery", recovery));

    let mut lessons = Vec::new();
    for group in &mitigations.d3fend {
        if let Some(best) = group.countermeasures.first() {
            lessons.push(step(
                format!(
                    "{}: adopt {} ({}), which counters {} of the report's techniques.",
                    group.tactic,
                    best.name,
                    best.id,
                    best.techniques.len()
                ),
                best.techniques.clone(),
            ));
        }
    }
    if let Some(best) = mitigations.attack.first() {
        lessons.push(step(
            format!(
                "Prioritise ATT&CK mitigation {} {} (covers {} techniques of this report).",
                best.id,
                best.name,
                best.techniques.len()
            ),
            best.techniques.clone(),
        ));
    }
    phases.push(("lessons_learned", lessons));

    phases
        .into_iter()
        .filter(|(_, steps)| !steps.is_empty())
        .map(|(phase, steps)| ResponsePhase {
            phase: phase.to_owned(),
            steps,
        })
        .collect()
}
