//! An [`Analysis`] as a STIX 2.1 bundle.
//!
//! - Ids are deterministic: UUIDv5 under ctiforge's namespace from the object's natural key
//!   (the report's SHA-256, an indicator's type and value...), so analysing the same report
//!   again updates objects instead of duplicating them. Cyber-observables use STIX's own
//!   namespace and id-contributing properties (STIX 2.1 §2.9).
//! - ATT&CK techniques, groups, software, campaigns and mitigations reuse ATT&CK's STIX ids
//!   and external references, so they merge with ATT&CK data already in a platform.
//! - Every object carries the TLP 2.0 marking chosen; every reference resolves inside the
//!   bundle.

use std::collections::BTreeSet;

use ctiforge_enrich::{Analysis, Entity, Ioc};
use ctiforge_kb::KnowledgeBase;
use serde_json::{Value, json};
use uuid::Uuid;

/// ctiforge's UUIDv5 namespace for the ids of its STIX objects.
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a4e_9d3b_5c7a_8e0f_1b2c_3d4e_5f60);
/// STIX 2.1's namespace for cyber-observable ids (§2.9).
const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00ab_edb4_aa42_466c_9c01_fed2_3315_a9b7);
/// The TLP 2.0 property extension (OASIS CTI TC).
const TLP_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The TLP 2.0 marking definitions: (level, id).
const TLP: &[(&str, &str)] = &[
    (
        "clear",
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    ),
    (
        "green",
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    ),
    (
        "amber",
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    ),
    (
        "amber+strict",
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    ),
    (
        "red",
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    ),
];

/// The TLP levels accepted.
pub fn tlp_levels() -> impl Iterator<Item = &'static str> {
    TLP.iter().map(|(level, _)| *level)
}

fn id(kind: &str, key: &str) -> String {
    format!(
        "{kind}--{}",
        Uuid::new_v5(&NAMESPACE, format!("{kind}|{key}").as_bytes())
    )
}

fn sco_id(kind: &str, contributing: &Value) -> String {
    // STIX: the UUIDv5 of the canonical JSON of the id-contributing properties. serde_json
    // writes object keys sorted (no `preserve_order`) and without spaces, which is the
    // canonical form for these simple string properties.
    let canonical = contributing.to_string();
    format!(
        "{kind}--{}",
        Uuid::new_v5(&SCO_NAMESPACE, canonical.as_bytes())
    )
}

/// Builds the bundle. `timestamp` is an RFC 3339 UTC time (`2026-10-14T00:00:00.000Z`) used
/// for `created`, `modified`, `published` and `valid_from`, so that the output depends only on
/// its inputs.
pub fn bundle(analysis: &Analysis, kb: &KnowledgeBase, timestamp: &str) -> Value {
    Builder::new(analysis, kb, timestamp).build()
}

struct Builder<'a> {
    analysis: &'a Analysis,
    kb: &'a KnowledgeBase,
    timestamp: &'a str,
    identity: String,
    marking: (&'static str, &'static str),
    objects: Vec<Value>,
    ids: BTreeSet<String>,
}

impl<'a> Builder<'a> {
    fn new(analysis: &'a Analysis, kb: &'a KnowledgeBase, timestamp: &'a str) -> Self {
        let marking = TLP
            .iter()
            .find(|(level, _)| *level == analysis.report.tlp)
            .copied()
            .unwrap_or(TLP[0]);
        Self {
            analysis,
            kb,
            timestamp,
            identity: id("identity", "ctiforge"),
            marking,
            objects: Vec::new(),
            ids: BTreeSet::new(),
        }
    }

    /// Adds an object once; the common properties are filled in here.
    fn push(&mut self, mut object: Value) -> String {
        let id = object["id"].as_str().unwrap_or_default().to_owned();
        if !self.ids.insert(id.clone()) {
            return id;
        }
        let is_sco = matches!(
            object["type"].as_str(),
            Some(
                "ipv4-addr"
                    | "ipv6-addr"
                    | "domain-name"
                    | "url"
                    | "email-addr"
                    | "file"
                    | "windows-registry-key"
            )
        );
        object["spec_version"] = json!("2.1");
        if !is_sco && object["type"] != "marking-definition" {
            object["created"] = json!(self.timestamp);
            object["modified"] = json!(self.timestamp);
            if object["type"] != "identity" || id != self.identity {
                object["created_by_ref"] = json!(self.identity);
            }
        }
        if object["type"] != "marking-definition" {
            object["object_marking_refs"] = json!([self.marking.1]);
        }
        self.objects.push(object);
        id
    }

    fn relationship(&mut self, source: &str, kind: &str, target: &str) {
        let key = format!("{source}|{kind}|{target}");
        self.push(json!({
            "type": "relationship",
            "id": id("relationship", &key),
            "relationship_type": kind,
            "source_ref": source,
            "target_ref": target,
        }));
    }

    fn build(mut self) -> Value {
        let a = self.analysis;
        self.push(json!({
            "type": "marking-definition",
            "id": self.marking.1,
            "created": "2022-10-01T00:00:00.000Z",
            "name": format!("TLP:{}", self.marking.0.to_uppercase()),
            "extensions": {
                TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": self.marking.0}
            }
        }));
        let identity = self.identity.clone();
        self.push(json!({
            "type": "identity",
            "id": identity,
            "name": "ctiforge",
            "identity_class": "system",
            "description": "Threat reports turned into intelligence by ctiforge.",
        }));

        let mut refs: Vec<String> = Vec::new();
        let mut technique_ids = Vec::new();
        for technique in &a.techniques {
            let entry = self.kb.technique(&technique.id);
            let stix = entry
                .and_then(|t| t.stix_id.clone())
                .unwrap_or_else(|| id("attack-pattern", &technique.id));
            let (source, url) = reference(&technique.id, &technique.domains);
            let evidence: Vec<&str> = technique.evidence.iter().map(|e| e.text.as_str()).collect();
            let object = json!({
                "type": "attack-pattern",
                "id": stix,
                "name": technique.name,
                "description": format!("Evidence in the report (score {:.2}): {}", technique.score, evidence.join(" | ")),
                "external_references": [{"source_name": source, "external_id": technique.id, "url": url}],
                "kill_chain_phases": technique.tactics.iter().filter_map(|(tactic, _)| {
                    let t = self.kb.tactic(tactic)?;
                    Some(json!({"kill_chain_name": kill_chain_name(&technique.domains), "phase_name": t.shortname}))
                }).collect::<Vec<_>>(),
            });
            let stix = self.push(object);
            technique_ids.push((technique.id.clone(), stix.clone()));
            refs.push(stix);
        }

        let actors = self.entities(&a.entities.threat_actors, "intrusion-set");
        let malware = self.entities(&a.entities.malware, "malware");
        let tools = self.entities(&a.entities.tools, "tool");
        let campaigns = self.entities(&a.entities.campaigns, "campaign");
        refs.extend(
            actors
                .iter()
                .chain(&malware)
                .chain(&tools)
                .chain(&campaigns)
                .cloned(),
        );

        let mut vulnerabilities = Vec::new();
        for v in &a.entities.vulnerabilities {
            let mut description = "Named in the report.".to_owned();
            if v.kev {
                description = format!(
                    "In CISA's Known Exploited Vulnerabilities catalog since {} ({}).",
                    v.kev_date_added.as_deref().unwrap_or("?"),
                    v.kev_name.as_deref().unwrap_or("")
                );
            }
            let stix = self.push(json!({
                "type": "vulnerability",
                "id": id("vulnerability", &v.id),
                "name": v.id,
                "description": description,
                "external_references": [{"source_name": "cve", "external_id": v.id}],
            }));
            vulnerabilities.push(stix.clone());
            refs.push(stix);
        }

        let mut indicators = Vec::new();
        for ioc in &a.iocs {
            if let Some((indicator, observable)) = self.indicator(ioc) {
                self.relationship(&indicator, "based-on", &observable);
                indicators.push(indicator.clone());
                refs.push(indicator);
                refs.push(observable);
            }
        }

        // Generated Sigma rules that passed their self-test, as Sigma-pattern indicators.
        for rule in &a.detection.generated {
            let indicator = self.push(json!({
                "type": "indicator",
                "id": id("indicator", &format!("sigma|{}", rule.id)),
                "name": rule.title,
                "description": format!(
                    "Sigma rule generated by ctiforge from the report ({}), proven on its test events.",
                    rule.origin
                ),
                "indicator_types": ["malicious-activity"],
                "pattern": rule.yaml,
                "pattern_type": "sigma",
                "valid_from": self.timestamp,
            }));
            refs.push(indicator);
        }

        // Mitigations: ATT&CK courses of action mitigate the report's techniques.
        for mitigation in &a.mitigations.attack {
            let stix = self
                .kb
                .mitigation(&mitigation.id)
                .and_then(|m| m.stix_id.clone())
                .unwrap_or_else(|| id("course-of-action", &mitigation.id));
            let stix = self.push(json!({
                "type": "course-of-action",
                "id": stix,
                "name": mitigation.name,
                "external_references": [{"source_name": "mitre-attack", "external_id": mitigation.id, "url": mitigation.url}],
            }));
            refs.push(stix.clone());
            for technique in &mitigation.techniques {
                if let Some((_, target)) = technique_ids.iter().find(|(t, _)| t == technique) {
                    let target = target.clone();
                    self.relationship(&stix, "mitigates", &target);
                }
            }
        }
        for group in &a.mitigations.d3fend {
            for countermeasure in &group.countermeasures {
                let stix = self.push(json!({
                    "type": "course-of-action",
                    "id": id("course-of-action", &countermeasure.id),
                    "name": format!("{} ({})", countermeasure.name, countermeasure.id),
                    "description": format!("D3FEND {} countermeasure. {}", group.tactic, countermeasure.paths.join("; ")),
                    "external_references": [{"source_name": "d3fend", "external_id": countermeasure.id, "url": countermeasure.url}],
                }));
                refs.push(stix.clone());
                for technique in &countermeasure.techniques {
                    if let Some((_, target)) = technique_ids.iter().find(|(t, _)| t == technique) {
                        let target = target.clone();
                        self.relationship(&stix, "mitigates", &target);
                    }
                }
            }
        }

        // Relationships the report supports.
        let stated: Vec<&str> = a
            .correlation
            .stated_attributions
            .iter()
            .filter_map(|s| s.id.as_deref())
            .collect();
        let attributed: Vec<String> = actors
            .iter()
            .zip(&a.entities.threat_actors)
            .filter(|(_, e)| e.id.as_deref().is_some_and(|id| stated.contains(&id)))
            .map(|(stix, _)| stix.clone())
            .collect();
        // With one actor named or stated, the report's techniques and software are its.
        let owner = if attributed.len() == 1 {
            Some(attributed[0].clone())
        } else if actors.len() == 1 {
            Some(actors[0].clone())
        } else {
            None
        };
        if let Some(owner) = &owner {
            for (_, technique) in &technique_ids {
                self.relationship(owner, "uses", technique);
            }
            for software in malware.iter().chain(&tools) {
                self.relationship(owner, "uses", software);
            }
            for campaign in &campaigns {
                self.relationship(campaign, "attributed-to", owner);
            }
        }
        if malware.len() == 1 {
            for indicator in &indicators {
                self.relationship(indicator, "indicates", &malware[0]);
            }
        }
        let exploit_techniques = ["T1190", "T1210", "T1068", "T1203", "T1211", "T1212"];
        for (technique, stix) in &technique_ids {
            if exploit_techniques.contains(&technique.as_str()) {
                for vulnerability in &vulnerabilities {
                    self.relationship(stix, "targets", vulnerability);
                }
            }
        }
        if !a.entities.sectors.is_empty() {
            let sectors: BTreeSet<&str> = a
                .entities
                .sectors
                .iter()
                .filter_map(|s| industry(&s.name))
                .collect();
            if !sectors.is_empty() {
                let victim = self.push(json!({
                    "type": "identity",
                    "id": id("identity", &format!("victims|{}", sectors.iter().copied().collect::<Vec<_>>().join(","))),
                    "name": format!("Organizations in {}", sectors.iter().copied().collect::<Vec<_>>().join(", ")),
                    "identity_class": "class",
                    "sectors": sectors.iter().collect::<Vec<_>>(),
                }));
                refs.push(victim.clone());
                let attackers: Vec<String> = owner
                    .iter()
                    .cloned()
                    .chain(campaigns.iter().cloned())
                    .collect();
                for attacker in attackers {
                    self.relationship(&attacker, "targets", &victim);
                }
            }
        }

        // The report, referring to everything.
        let rels: Vec<String> = self
            .objects
            .iter()
            .filter(|o| o["type"] == "relationship")
            .filter_map(|o| o["id"].as_str().map(str::to_owned))
            .collect();
        refs.extend(rels);
        let mut seen = BTreeSet::new();
        refs.retain(|r| seen.insert(r.clone()));
        let title = a
            .report
            .title
            .clone()
            .unwrap_or_else(|| "Untitled report".to_owned());
        let mut report = json!({
            "type": "report",
            "id": id("report", &a.report.sha256),
            "name": title,
            "description": a.summary.sentences.iter().map(|q| q.text.as_str()).collect::<Vec<_>>().join(" "),
            "report_types": ["threat-report"],
            "published": self.timestamp,
            "object_refs": refs,
        });
        if let Some(url) = &a.report.url {
            report["external_references"] = json!([{"source_name": "report", "url": url}]);
        }
        self.push(report);

        json!({
            "type": "bundle",
            "id": id("bundle", &a.report.sha256),
            "objects": self.objects,
        })
    }

    fn entities(&mut self, entities: &[Entity], kind: &str) -> Vec<String> {
        let mut ids = Vec::new();
        for entity in entities {
            let stix = entity
                .stix_id
                .clone()
                .unwrap_or_else(|| id(kind, &entity.name.to_lowercase()));
            let mut object = json!({
                "type": kind,
                "id": stix,
                "name": entity.name,
                "description": format!("Named in the report as {}.", entity.mentions.join(", ")),
            });
            if let Some(attack_id) = &entity.id {
                let path = match kind {
                    "intrusion-set" => "groups",
                    "campaign" => "campaigns",
                    _ => "software",
                };
                object["external_references"] = json!([{
                    "source_name": "mitre-attack",
                    "external_id": attack_id,
                    "url": format!("https://attack.mitre.org/{path}/{attack_id}/"),
                }]);
            }
            match kind {
                "malware" => object["is_family"] = json!(true),
                "intrusion-set" | "campaign" if entity.mentions.len() > 1 => {
                    object["aliases"] = json!(entity.mentions)
                }
                _ => {}
            }
            ids.push(self.push(object));
        }
        ids
    }

    /// An indicator and the observed-data (holding the observable) it is based on.
    fn indicator(&mut self, ioc: &Ioc) -> Option<(String, String)> {
        let escaped = ioc.value.replace('\\', "\\\\").replace('\'', "\\'");
        let (pattern, observable) = match ioc.kind.as_str() {
            "ipv4" | "cidr" if !ioc.value.contains(':') => (
                format!("[ipv4-addr:value = '{escaped}']"),
                json!({"type": "ipv4-addr", "value": ioc.value}),
            ),
            "ipv6" | "cidr" => (
                format!("[ipv6-addr:value = '{escaped}']"),
                json!({"type": "ipv6-addr", "value": ioc.value}),
            ),
            "domain" => (
                format!("[domain-name:value = '{escaped}']"),
                json!({"type": "domain-name", "value": ioc.value}),
            ),
            "url" => (
                format!("[url:value = '{escaped}']"),
                json!({"type": "url", "value": ioc.value}),
            ),
            "email" => (
                format!("[email-addr:value = '{escaped}']"),
                json!({"type": "email-addr", "value": ioc.value}),
            ),
            "md5" | "sha1" | "sha256" | "sha512" => {
                let algorithm = match ioc.kind.as_str() {
                    "md5" => "MD5",
                    "sha1" => "SHA-1",
                    "sha256" => "SHA-256",
                    _ => "SHA-512",
                };
                (
                    format!("[file:hashes.'{algorithm}' = '{escaped}']"),
                    json!({"type": "file", "hashes": {algorithm: ioc.value}}),
                )
            }
            "filename" => (
                format!("[file:name = '{escaped}']"),
                json!({"type": "file", "name": ioc.value}),
            ),
            "registry" => {
                // STIX requires the full hive name (HKEY_LOCAL_MACHINE, not HKLM).
                let key = full_hive(&ioc.value);
                let escaped = key.replace('\\', "\\\\").replace('\'', "\\'");
                (
                    format!("[windows-registry-key:key = '{escaped}']"),
                    json!({"type": "windows-registry-key", "key": key}),
                )
            }
            _ => return None,
        };
        let kind = observable["type"].as_str()?.to_owned();
        let contributing = match kind.as_str() {
            "file" => match observable.get("hashes") {
                Some(hashes) => json!({"hashes": hashes}),
                None => json!({"name": observable["name"]}),
            },
            "windows-registry-key" => json!({"key": observable["key"]}),
            _ => json!({"value": observable["value"]}),
        };
        let mut observable = observable;
        observable["id"] = json!(sco_id(&kind, &contributing));
        let sco = self.push(observable);
        // STIX relates an indicator to what it was based on through observed-data.
        let observable = self.push(json!({
            "type": "observed-data",
            "id": id("observed-data", &format!("{}|{}", ioc.kind, ioc.value)),
            "first_observed": self.timestamp,
            "last_observed": self.timestamp,
            "number_observed": ioc.occurrences.max(1),
            "object_refs": [sco],
        }));
        let indicator = self.push(json!({
            "type": "indicator",
            "id": id("indicator", &format!("{}|{}", ioc.kind, ioc.value)),
            "name": format!("{} {}", ioc.kind, ioc.value),
            "description": format!("From the report: {}", ioc.evidence.text),
            "indicator_types": ["malicious-activity"],
            "pattern": pattern,
            "pattern_type": "stix",
            "valid_from": self.timestamp,
        }));
        Some((indicator, observable))
    }
}

fn reference(id: &str, domains: &[String]) -> (&'static str, String) {
    if id.starts_with("AML.") {
        return (
            "mitre-atlas",
            format!("https://atlas.mitre.org/techniques/{id}"),
        );
    }
    let source = if domains.iter().any(|d| d == "enterprise") {
        "mitre-attack"
    } else if domains.iter().any(|d| d == "ics") {
        "mitre-ics-attack"
    } else {
        "mitre-mobile-attack"
    };
    (
        source,
        format!(
            "https://attack.mitre.org/techniques/{}/",
            id.replace('.', "/")
        ),
    )
}

fn kill_chain_name(domains: &[String]) -> &'static str {
    if domains.iter().any(|d| d == "enterprise") {
        "mitre-attack"
    } else if domains.iter().any(|d| d == "ics") {
        "mitre-ics-attack"
    } else if domains.iter().any(|d| d == "mobile") {
        "mitre-mobile-attack"
    } else {
        "mitre-atlas"
    }
}

/// A sector name → STIX 2.1 industry-sector-ov.
fn industry(sector: &str) -> Option<&'static str> {
    Some(match sector {
        "Health" => "healthcare",
        "Pharmacy" => "pharmaceuticals",
        "Finance" => "financial-services",
        "Energy" | "Oil" => "energy",
        "Electric" | "Water" => "utilities",
        "Government, Administration" => "government",
        "Academia - University" | "Education" => "education",
        "Manufacturing" => "manufacturing",
        "Telecoms" => "telecommunications",
        "Transport" | "Railway" | "Civil Aviation" => "transportation",
        "Defense" | "Military" => "defense",
        "Retail" => "retail",
        _ => return None,
    })
}

/// `HKLM\\X` → `HKEY_LOCAL_MACHINE\\X`.
fn full_hive(key: &str) -> String {
    let (hive, rest) = key.split_once('\\').unwrap_or((key, ""));
    let full = match hive.to_ascii_uppercase().as_str() {
        "HKLM" => "HKEY_LOCAL_MACHINE",
        "HKCU" => "HKEY_CURRENT_USER",
        "HKCR" => "HKEY_CLASSES_ROOT",
        "HKU" => "HKEY_USERS",
        "HKCC" => "HKEY_CURRENT_CONFIG",
        _ => hive,
    };
    if rest.is_empty() {
        full.to_owned()
    } else {
        format!("{full}\\{rest}")
    }
}
