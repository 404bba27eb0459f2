//! Hunting leads: where and what to hunt, typed in the vocabulary of `shared/DESIGN.md`. They
//! come from three places, in this order: the log sources ATT&CK's detection strategies name
//! for each technique, the report's indicators, and the hunting guidance the report states.

use std::collections::{BTreeMap, BTreeSet};

use ctiforge_kb::{KnowledgeBase, RelationKind};
use ctiforge_model::analysis::{HuntingLead, Ioc, Technique};
use ctiforge_model::{IocType, LeadKind, Quote, Span};

/// Phrases that introduce hunting guidance in a report.
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

/// The hunting leads of a report.
pub fn hunting_leads(
    kb: &KnowledgeBase,
    techniques: &[Technique],
    iocs: &[Ioc],
    text: &str,
    sentences: &[Span],
) -> Vec<HuntingLead> {
    let mut leads: Vec<HuntingLead> = Vec::new();
    for technique in techniques {
        for lead in technique_leads(kb, technique) {
            merge_into_family(&mut leads, lead, &technique.id);
        }
    }
    leads.extend(indicator_leads(iocs));
    leads.extend(stated_leads(text, sentences));
    leads
}

/// A technique's family: the technique itself for a parent, its parent for a sub-technique
/// (`T1566.001` → `T1566`, `AML.T0051.001` → `AML.T0051`).
fn family(id: &str) -> &str {
    let dots = if id.starts_with("AML.") { 2 } else { 1 };
    match id.match_indices('.').nth(dots - 1) {
        Some((at, _)) => &id[..at],
        None => id,
    }
}

/// Adds a technique's lead, or folds it into the lead of the same kind already made for a
/// technique of its family (one lead for T1566 and T1566.001, not two with the same text).
fn merge_into_family(leads: &mut Vec<HuntingLead>, lead: HuntingLead, technique: &str) {
    let same = leads.iter_mut().find(|l| {
        l.kind == lead.kind
            && l.why
                .first()
                .is_some_and(|w| family(w) == family(technique) && w.as_str() != technique)
    });
    let Some(same) = same else {
        leads.push(lead);
        return;
    };
    same.why.push(technique.to_owned());
    if let Some(at) = same.what.find(") ") {
        // "Phishing (T1566) activity" → "Phishing (T1566) and Spearphishing Attachment
        // (T1566.001) activity".
        let name = lead.what.split(") ").next().unwrap_or("");
        same.what = format!(
            "{}) and {}){}",
            &same.what[..at],
            name,
            &same.what[at + 1..]
        );
    }
    for place in lead.where_ {
        if !same.where_.contains(&place) && same.where_.len() < 8 {
            same.where_.push(place);
        }
    }
}

/// The lead kind a log source and data component call for.
fn lead_kind(source: &str, component: &str) -> LeadKind {
    let source = source.to_lowercase();
    let component = component.to_lowercase();
    if source.starts_with("aws:cloudtrail")
        || source.starts_with("azure:audit")
        || source.starts_with("gcp:audit")
        || source.starts_with("m365:")
        || source.starts_with("kubernetes:")
    {
        LeadKind::LogSource
    } else if source.starts_with("nsm:")
        || source.contains("vpcflow")
        || source.starts_with("network")
        || component.contains("network")
    {
        LeadKind::NetworkTrafficPattern
    } else if component.contains("logon")
        || component.contains("authentication")
        || source.contains("signin")
        || source.contains("okta")
    {
        LeadKind::Authentication
    } else if component.contains("registry") {
        LeadKind::Registry
    } else if component.contains("process")
        || component.contains("command")
        || component.contains("script")
    {
        LeadKind::Process
    } else if component.contains("file") || component.contains("module") {
        LeadKind::File
    } else {
        LeadKind::LogSource
    }
}

/// The log sources ATT&CK v18's detection strategies name for a technique, by lead kind, the
/// kinds in the order of their names.
fn log_sources_by_kind(
    kb: &KnowledgeBase,
    technique: &str,
) -> BTreeMap<&'static str, (LeadKind, BTreeSet<String>)> {
    let mut by_kind: BTreeMap<&'static str, (LeadKind, BTreeSet<String>)> = BTreeMap::new();
    let strategies = kb
        .relations_to(technique)
        .filter(|r| r.kind == RelationKind::Detects)
        .filter_map(|r| kb.detection_strategy(&r.source));
    for strategy in strategies {
        for analytic in strategy.analytics.iter().filter_map(|id| kb.analytic(id)) {
            for source in &analytic.log_sources {
                let component = source
                    .data_component
                    .as_deref()
                    .and_then(|id| kb.data_component(id))
                    .map_or("", |d| d.name.as_str());
                // ATT&CK writes "None" where an analytic names no channel.
                let channel = source.channel.trim();
                let place = if channel.is_empty()
                    || channel.eq_ignore_ascii_case("none")
                    || channel.len() > 60
                {
                    source.name.clone()
                } else {
                    format!("{} {}", source.name, channel)
                };
                let kind = lead_kind(&source.name, component);
                by_kind
                    .entry(kind.as_str())
                    .or_insert_with(|| (kind, BTreeSet::new()))
                    .1
                    .insert(place);
            }
        }
    }
    by_kind
}

/// One lead per technique, typed by the kind most of its log sources have (the catch-all
/// `log_source` only when nothing more specific applies), with the most specific places
/// first; and for an ATLAS technique, a lead on the AI service's endpoints.
fn technique_leads(kb: &KnowledgeBase, technique: &Technique) -> Vec<HuntingLead> {
    let mut leads = Vec::new();
    let evidence: Vec<Quote> = technique
        .evidence
        .iter()
        .take(1)
        .map(|e| e.quote())
        .collect();
    let mut by_kind = log_sources_by_kind(kb, &technique.id);
    let specific = by_kind
        .iter()
        .filter(|(_, (kind, _))| *kind != LeadKind::LogSource)
        .max_by_key(|(name, (_, places))| (places.len(), std::cmp::Reverse(**name)))
        .map(|(name, _)| *name);
    if let Some(name) = specific.or_else(|| by_kind.keys().next().copied())
        && let Some((kind, first)) = by_kind.remove(name)
    {
        let mut places: Vec<String> = first.into_iter().collect();
        places.extend(by_kind.into_values().flat_map(|(_, places)| places));
        places.dedup();
        places.truncate(6);
        leads.push(HuntingLead {
            kind,
            what: format!("{} ({}) activity", technique.name, technique.id),
            where_: places,
            why: vec![technique.id.clone()],
            evidence: evidence.clone(),
        });
    }
    if technique.id.starts_with("AML.") {
        leads.push(HuntingLead {
            kind: LeadKind::ApiEndpoint,
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
    leads
}

/// What to hunt for a group of indicator types, and where.
struct IndicatorHunt {
    types: &'static [IocType],
    kind: LeadKind,
    what: &'static str,
    places: &'static [&'static str],
}

/// The indicator leads, in the order they are listed.
const INDICATOR_HUNTS: &[IndicatorHunt] = &[
    IndicatorHunt {
        types: &[
            IocType::Ipv4,
            IocType::Ipv6,
            IocType::Cidr,
            IocType::Domain,
            IocType::Url,
        ],
        kind: LeadKind::NetworkTrafficPattern,
        what: "connections, DNS queries and web requests to the report's network indicators",
        places: &[
            "firewall and proxy logs",
            "Zeek conn.log and dns.log",
            "WinEventLog:Sysmon EventCode=3/22",
            "AWS:VPCFlowLogs",
        ],
    },
    IndicatorHunt {
        types: &[
            IocType::Md5,
            IocType::Sha1,
            IocType::Sha256,
            IocType::Sha512,
            IocType::Filename,
            IocType::Filepath,
        ],
        kind: LeadKind::File,
        what: "files, processes and loaded modules matching the report's hashes, names and paths",
        places: &[
            "EDR file and process telemetry",
            "WinEventLog:Sysmon EventCode=1/7/11",
        ],
    },
    IndicatorHunt {
        types: &[IocType::Registry],
        kind: LeadKind::Registry,
        what: "creation or modification of the report's registry keys",
        places: &["WinEventLog:Sysmon EventCode=12/13"],
    },
    IndicatorHunt {
        types: &[IocType::UserAgent],
        kind: LeadKind::NetworkTrafficPattern,
        what: "HTTP requests with the report's user agents",
        places: &["proxy logs", "Zeek http.log"],
    },
    IndicatorHunt {
        types: &[IocType::Email],
        kind: LeadKind::Other,
        what: "mail from or to the report's addresses",
        places: &["mail gateway logs", "m365:exchange"],
    },
];

/// One lead per group of indicator types the report has, the indicators grouped by type in
/// the order of the group's types.
fn indicator_leads(iocs: &[Ioc]) -> Vec<HuntingLead> {
    INDICATOR_HUNTS
        .iter()
        .filter_map(|hunt| {
            let list: Vec<&Ioc> = hunt
                .types
                .iter()
                .flat_map(|kind| iocs.iter().filter(move |i| i.kind == *kind))
                .collect();
            (!list.is_empty()).then(|| HuntingLead {
                kind: hunt.kind,
                what: hunt.what.to_owned(),
                where_: hunt.places.iter().map(|p| (*p).to_owned()).collect(),
                why: list.iter().map(|i| i.value.clone()).collect(),
                evidence: list.iter().take(2).map(|i| i.evidence.clone()).collect(),
            })
        })
        .collect()
}

/// Logs reports name (lower case, as written) → the name a lead gives.
const NAMED_LOGS: &[(&str, &str)] = &[
    ("cloudtrail", "AWS CloudTrail"),
    ("vpc flow log", "AWS VPC Flow Logs"),
    ("guardduty", "Amazon GuardDuty"),
    ("sign-in log", "Microsoft Entra ID sign-in logs"),
    ("signin log", "Microsoft Entra ID sign-in logs"),
    ("entra id", "Microsoft Entra ID logs"),
    ("azure ad", "Microsoft Entra ID logs"),
    ("azure activity log", "Azure Activity Log"),
    ("unified audit log", "Microsoft 365 unified audit log"),
    ("okta", "Okta System Log"),
    ("sysmon", "Sysmon"),
    ("security event log", "Windows Security event log"),
    ("windows event log", "Windows event logs"),
    ("event id", "Windows event logs"),
    ("powershell log", "PowerShell logs"),
    ("script block", "PowerShell script block logs"),
    ("kubernetes audit", "Kubernetes audit log"),
    ("gcp audit", "Google Cloud audit logs"),
    ("cloud audit log", "Google Cloud audit logs"),
    ("zeek", "Zeek"),
    ("dns log", "DNS logs"),
    ("proxy log", "web proxy logs"),
    ("firewall log", "firewall logs"),
    ("vpn log", "VPN logs"),
    ("edr", "EDR telemetry"),
    ("web server log", "web server logs"),
    ("access log", "web server access logs"),
];

/// The event names a sentence lists: CamelCase API names (`StopLogging`), event ids
/// (`4624`, after "event id").
fn event_names(sentence: &str) -> Vec<String> {
    let mut names: Vec<String> = sentence
        .split(|c: char| !c.is_alphanumeric() && c != ':')
        .filter(|w| {
            w.len() >= 6
                && w.starts_with(|c: char| c.is_ascii_uppercase())
                && w.chars().skip(1).any(|c| c.is_ascii_uppercase())
                && w.chars().any(|c| c.is_ascii_lowercase())
                && !w.contains(':')
                // Not the log's own name (CloudTrail, GuardDuty, PowerShell).
                && !NAMED_LOGS
                    .iter()
                    .any(|(_, log)| log.to_lowercase().contains(&w.to_lowercase()))
        })
        .map(str::to_owned)
        .collect();
    let lower = sentence.to_lowercase();
    if let Some(at) = lower.find("event id") {
        names.extend(
            sentence[at..]
                .split(|c: char| !c.is_ascii_digit())
                .filter(|n| (3..=5).contains(&n.len()))
                .take(8)
                .map(|n| format!("event ID {n}")),
        );
    }
    names.dedup();
    names
}

/// Hunting guidance the report states: a lead for each log it names (with the events to look
/// for), else one lead for the sentence.
fn stated_leads(text: &str, sentences: &[Span]) -> Vec<HuntingLead> {
    let mut leads = Vec::new();
    for span in sentences {
        let Some(sentence) = text.get(span.start..span.end) else {
            continue;
        };
        let lower = sentence.to_lowercase();
        if !STATED_HUNTING.iter().any(|w| lower.contains(w)) {
            continue;
        }
        let evidence = vec![Quote {
            start: span.start,
            end: span.end,
            text: sentence.to_owned(),
        }];
        let mut named: Vec<&str> = Vec::new();
        for (cue, log) in NAMED_LOGS {
            if lower.contains(cue) && !named.contains(log) {
                named.push(log);
            }
        }
        if !named.is_empty() {
            let events = event_names(sentence);
            for log in named {
                leads.push(HuntingLead {
                    kind: LeadKind::LogSource,
                    what: if events.is_empty() {
                        sentence.trim().to_owned()
                    } else {
                        format!("{log}: {}", events.join(", "))
                    },
                    where_: vec![log.to_owned()],
                    why: vec!["stated in the report".to_owned()],
                    evidence: evidence.clone(),
                });
            }
            continue;
        }
        let kind = if lower.contains("traffic") || lower.contains("connection") {
            LeadKind::NetworkTrafficPattern
        } else if lower.contains("cloudtrail") || lower.contains("audit log") {
            LeadKind::LogSource
        } else if lower.contains("api") || lower.contains("endpoint") {
            LeadKind::ApiEndpoint
        } else if lower.contains("process") || lower.contains("command line") {
            LeadKind::Process
        } else {
            LeadKind::Other
        };
        leads.push(HuntingLead {
            kind,
            what: sentence.trim().to_owned(),
            where_: Vec::new(),
            why: vec!["stated in the report".to_owned()],
            evidence,
        });
    }
    leads
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_share_one_lead() {
        assert_eq!(family("T1566.001"), "T1566");
        assert_eq!(family("T1566"), "T1566");
        assert_eq!(family("AML.T0051.001"), "AML.T0051");
        assert_eq!(family("AML.T0051"), "AML.T0051");
        let lead = |id: &str, name: &str, place: &str| HuntingLead {
            kind: LeadKind::ApiEndpoint,
            what: format!("{name} ({id}) against model inference endpoints"),
            where_: vec![place.to_owned()],
            why: vec![id.to_owned()],
            evidence: Vec::new(),
        };
        let mut leads = Vec::new();
        merge_into_family(
            &mut leads,
            lead("AML.T0051", "LLM Prompt Injection", "gateway"),
            "AML.T0051",
        );
        merge_into_family(
            &mut leads,
            lead("AML.T0051.001", "Indirect", "inference"),
            "AML.T0051.001",
        );
        assert_eq!(leads.len(), 1);
        assert_eq!(
            leads[0].what,
            "LLM Prompt Injection (AML.T0051) and Indirect (AML.T0051.001) against model inference endpoints"
        );
        assert_eq!(leads[0].why, ["AML.T0051", "AML.T0051.001"]);
        assert_eq!(leads[0].where_, ["gateway", "inference"]);
    }

    #[test]
    fn a_stated_lead_names_its_log_and_events() {
        let text = "Review AWS CloudTrail for StopLogging, DeleteTrail and PutBucketPolicy events. Hunt for traffic to 198.51.100.23.";
        let (_, sentences) = ctiforge_text::segment(text);
        let leads = stated_leads(text, &sentences);
        assert_eq!(leads.len(), 2);
        assert_eq!(leads[0].kind, LeadKind::LogSource);
        assert_eq!(leads[0].where_, ["AWS CloudTrail"]);
        assert_eq!(
            leads[0].what,
            "AWS CloudTrail: StopLogging, DeleteTrail, PutBucketPolicy"
        );
        assert_eq!(leads[1].kind, LeadKind::NetworkTrafficPattern);
    }
}
