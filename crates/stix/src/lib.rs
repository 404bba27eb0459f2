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

#![deny(missing_docs)]

use std::collections::BTreeSet;

use ctiforge_kb::KnowledgeBase;
use ctiforge_model::analysis::{Analysis, Entity, Ioc};
use ctiforge_model::{Domain, IocType, Tlp};
use serde_json::{Value, json};
use uuid::Uuid;

/// ctiforge's UUIDv5 namespace for the ids of its STIX objects.
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a4e_9d3b_5c7a_8e0f_1b2c_3d4e_5f60);
/// STIX 2.1's namespace for cyber-observable ids (§2.9).
const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00ab_edb4_aa42_466c_9c01_fed2_3315_a9b7);
/// The TLP 2.0 property extension (OASIS CTI TC).
const TLP_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The TLP 2.0 marking definition of a level (OASIS CTI TC): its id.
fn marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The STIX id of the TLP 2.0 marking definition of `tlp`, for callers that filter bundles
/// by marking.
pub fn tlp_marking_id(tlp: Tlp) -> &'static str {
    marking_id(tlp)
}

fn id(kind: &str, key: &str) -> String {
    format!(
        "{kind}--{}",
        Uuid::new_v5(&NAMESPACE, format!("{kind}|{key}").as_bytes())
    )
}

fn sco_id(kind: &str, contributing: &Value) -> String {
    // STIX: the UUIDv5 of the canonical JSON of the id-contributing properties. Each object
    // here has one key (`value`, `name`, `key`, or `hashes` with one algorithm), so key order
    // cannot vary, and serde_json writes it without spaces: the canonical form (RFC 8785) of
    // these string properties.
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
    marking: Tlp,
    objects: Vec<Value>,
    ids: BTreeSet<String>,
    /// What the report object refers to, in the order added.
    refs: Vec<String>,
}

/// The STIX ids of the named entities, by kind.
struct Named {
    actors: Vec<String>,
    malware: Vec<String>,
    tools: Vec<String>,
    campaigns: Vec<String>,
}

impl<'a> Builder<'a> {
    fn new(analysis: &'a Analysis, kb: &'a KnowledgeBase, timestamp: &'a str) -> Self {
        Self {
            analysis,
            kb,
            timestamp,
            identity: id("identity", "ctiforge"),
            marking: analysis.report.tlp,
            objects: Vec::new(),
            ids: BTreeSet::new(),
            refs: Vec::new(),
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
            object["object_marking_refs"] = json!([marking_id(self.marking)]);
        }
        self.objects.push(object);
        id
    }

    /// Adds an object and lists it in the report.
    fn push_ref(&mut self, object: Value) -> String {
        let id = self.push(object);
        self.refs.push(id.clone());
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
        self.marking_and_identity();
        let techniques = self.techniques();
        let named = Named {
            actors: self.entities(&self.analysis.entities.threat_actors, "intrusion-set"),
            malware: self.entities(&self.analysis.entities.malware, "malware"),
            tools: self.entities(&self.analysis.entities.tools, "tool"),
            campaigns: self.entities(&self.analysis.entities.campaigns, "campaign"),
        };
        let vulnerabilities = self.vulnerabilities();
        let indicators = self.indicators();
        self.sigma_rules();
        self.mitigations(&techniques);
        let owner = self.ownership(&techniques, &named);
        self.relate_findings(&techniques, &named, &indicators, &vulnerabilities);
        self.victims(owner.as_deref(), &named.campaigns);
        self.report();
        json!({
            "type": "bundle",
            "id": id("bundle", &self.analysis.report.sha256),
            "objects": self.objects,
        })
    }

    /// The TLP marking definition and ctiforge's identity, first.
    fn marking_and_identity(&mut self) {
        let level = self.marking.as_str();
        self.push(json!({
            "type": "marking-definition",
            "id": marking_id(self.marking),
            "created": "2022-10-01T00:00:00.000Z",
            "name": self.marking.marking(),
            "extensions": {
                TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}
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
    }

    /// Attack patterns, reusing ATT&CK's ids: (technique id, STIX id).
    fn techniques(&mut self) -> Vec<(String, String)> {
        let mut ids = Vec::new();
        for technique in &self.analysis.techniques {
            let entry = self.kb.technique(&technique.id);
            let stix = entry
                .and_then(|t| t.stix_id.clone())
                .unwrap_or_else(|| id("attack-pattern", &technique.id));
            let (source, url) = reference(&technique.id, &technique.domains);
            let evidence: Vec<&str> = technique.evidence.iter().map(|e| e.text.as_str()).collect();
            let phases: Vec<Value> = technique
                .tactics
                .iter()
                .filter_map(|(tactic, _)| {
                    let t = self.kb.tactic(tactic)?;
                    Some(json!({"kill_chain_name": kill_chain_name(&technique.domains), "phase_name": t.shortname}))
                })
                .collect();
            let stix = self.push_ref(json!({
                "type": "attack-pattern",
                "id": stix,
                "name": technique.name,
                "description": format!("Evidence in the report (score {:.2}): {}", technique.score, evidence.join(" | ")),
                "external_references": [{"source_name": source, "external_id": technique.id, "url": url}],
                "kill_chain_phases": phases,
            }));
            ids.push((technique.id.clone(), stix));
        }
        ids
    }

    /// Vulnerabilities, with their KEV status.
    fn vulnerabilities(&mut self) -> Vec<String> {
        let mut ids = Vec::new();
        for v in &self.analysis.entities.vulnerabilities {
            let description = if v.kev {
                format!(
                    "In CISA's Known Exploited Vulnerabilities catalog since {} ({}).",
                    v.kev_date_added.as_deref().unwrap_or("?"),
                    v.kev_name.as_deref().unwrap_or("")
                )
            } else {
                "Named in the report.".to_owned()
            };
            ids.push(self.push_ref(json!({
                "type": "vulnerability",
                "id": id("vulnerability", &v.id),
                "name": v.id,
                "description": description,
                "external_references": [{"source_name": "cve", "external_id": v.id}],
            })));
        }
        ids
    }

    /// Indicators with the observed-data they are based on.
    fn indicators(&mut self) -> Vec<String> {
        let mut ids = Vec::new();
        for ioc in &self.analysis.iocs {
            if let Some((indicator, observable)) = self.indicator(ioc) {
                self.relationship(&indicator, "based-on", &observable);
                ids.push(indicator.clone());
                self.refs.push(indicator);
                self.refs.push(observable);
            }
        }
        ids
    }

    /// Generated Sigma rules that passed their self-test, as Sigma-pattern indicators.
    fn sigma_rules(&mut self) {
        for rule in &self.analysis.detection.generated {
            self.push_ref(json!({
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
        }
    }

    /// ATT&CK mitigations and D3FEND countermeasures as courses of action that mitigate the
    /// report's techniques.
    fn mitigations(&mut self, techniques: &[(String, String)]) {
        let stix_of = |id: &str| {
            techniques
                .iter()
                .find(|(t, _)| t == id)
                .map(|(_, stix)| stix.clone())
        };
        for mitigation in &self.analysis.mitigations.attack {
            let stix = self
                .kb
                .mitigation(&mitigation.id)
                .and_then(|m| m.stix_id.clone())
                .unwrap_or_else(|| id("course-of-action", &mitigation.id));
            let stix = self.push_ref(json!({
                "type": "course-of-action",
                "id": stix,
                "name": mitigation.name,
                "external_references": [{"source_name": "mitre-attack", "external_id": mitigation.id, "url": mitigation.url}],
            }));
            for target in mitigation.techniques.iter().filter_map(|t| stix_of(t)) {
                self.relationship(&stix, "mitigates", &target);
            }
        }
        for group in &self.analysis.mitigations.d3fend {
            for countermeasure in &group.countermeasures {
                let stix = self.push_ref(json!({
                    "type": "course-of-action",
                    "id": id("course-of-action", &countermeasure.id),
                    "name": format!("{} ({})", countermeasure.name, countermeasure.id),
                    "description": format!("D3FEND {} countermeasure. {}", group.tactic, countermeasure.paths.join("; ")),
                    "external_references": [{"source_name": "d3fend", "external_id": countermeasure.id, "url": countermeasure.url}],
                }));
                for target in countermeasure.techniques.iter().filter_map(|t| stix_of(t)) {
                    self.relationship(&stix, "mitigates", &target);
                }
            }
        }
    }

    /// With one actor named, or one the report attributes the activity to, the report's
    /// techniques and software are its and its campaigns are attributed to it.
    fn ownership(&mut self, techniques: &[(String, String)], named: &Named) -> Option<String> {
        let a = self.analysis;
        let stated: Vec<&str> = a
            .correlation
            .stated_attributions
            .iter()
            .filter_map(|s| s.id.as_deref())
            .collect();
        let attributed: Vec<&String> = named
            .actors
            .iter()
            .zip(&a.entities.threat_actors)
            .filter(|(_, e)| e.id.as_deref().is_some_and(|id| stated.contains(&id)))
            .map(|(stix, _)| stix)
            .collect();
        let named_actors: Vec<&String> = named.actors.iter().collect();
        let owner = match (attributed.as_slice(), named_actors.as_slice()) {
            ([one], _) | (_, [one]) => (*one).clone(),
            _ => return None,
        };
        for (_, technique) in techniques {
            self.relationship(&owner, "uses", technique);
        }
        for software in named.malware.iter().chain(&named.tools) {
            self.relationship(&owner, "uses", software);
        }
        for campaign in &named.campaigns {
            self.relationship(campaign, "attributed-to", &owner);
        }
        Some(owner)
    }

    /// Indicators indicate the one malware named; exploitation techniques target the CVEs.
    fn relate_findings(
        &mut self,
        techniques: &[(String, String)],
        named: &Named,
        indicators: &[String],
        vulnerabilities: &[String],
    ) {
        if let [malware] = named.malware.as_slice() {
            for indicator in indicators {
                self.relationship(indicator, "indicates", malware);
            }
        }
        let exploit_techniques = ["T1190", "T1210", "T1068", "T1203", "T1211", "T1212"];
        for (technique, stix) in techniques {
            if exploit_techniques.contains(&technique.as_str()) {
                for vulnerability in vulnerabilities {
                    self.relationship(stix, "targets", vulnerability);
                }
            }
        }
    }

    /// The victims: organisations of the report's sectors, targeted by the owner and the
    /// campaigns.
    fn victims(&mut self, owner: Option<&str>, campaigns: &[String]) {
        let sectors: BTreeSet<&str> = self
            .analysis
            .entities
            .sectors
            .iter()
            .filter_map(|s| industry(&s.name))
            .collect();
        if sectors.is_empty() {
            return;
        }
        let list: Vec<&str> = sectors.iter().copied().collect();
        let victim = self.push_ref(json!({
            "type": "identity",
            "id": id("identity", &format!("victims|{}", list.join(","))),
            "name": format!("Organizations in {}", list.join(", ")),
            "identity_class": "class",
            "sectors": list,
        }));
        for attacker in owner
            .into_iter()
            .chain(campaigns.iter().map(String::as_str))
        {
            self.relationship(attacker, "targets", &victim);
        }
    }

    /// The report, referring to everything, relationships last.
    fn report(&mut self) {
        let a = self.analysis;
        let relationships: Vec<String> = self
            .objects
            .iter()
            .filter(|o| o["type"] == "relationship")
            .filter_map(|o| o["id"].as_str().map(str::to_owned))
            .collect();
        let mut refs = std::mem::take(&mut self.refs);
        refs.extend(relationships);
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
            ids.push(self.push_ref(object));
        }
        ids
    }

    /// An indicator and the observed-data (holding the observable) it is based on.
    fn indicator(&mut self, ioc: &Ioc) -> Option<(String, String)> {
        let escaped = ioc.value.replace('\\', "\\\\").replace('\'', "\\'");
        let (pattern, observable) = match ioc.kind {
            IocType::Ipv4 | IocType::Cidr if !ioc.value.contains(':') => (
                format!("[ipv4-addr:value = '{escaped}']"),
                json!({"type": "ipv4-addr", "value": ioc.value}),
            ),
            IocType::Ipv6 | IocType::Cidr => (
                format!("[ipv6-addr:value = '{escaped}']"),
                json!({"type": "ipv6-addr", "value": ioc.value}),
            ),
            IocType::Domain => (
                format!("[domain-name:value = '{escaped}']"),
                json!({"type": "domain-name", "value": ioc.value}),
            ),
            IocType::Url => {
                // STIX requires a URI (RFC 3986): a URL written without a scheme
                // (`evil.com/gate.php`) is given `http://`, as a browser would.
                let value = if ioc.value.contains("://") {
                    ioc.value.clone()
                } else {
                    format!("http://{}", ioc.value)
                };
                let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
                (
                    format!("[url:value = '{escaped}']"),
                    json!({"type": "url", "value": value}),
                )
            }
            IocType::Email => (
                format!("[email-addr:value = '{escaped}']"),
                json!({"type": "email-addr", "value": ioc.value}),
            ),
            IocType::Md5 | IocType::Sha1 | IocType::Sha256 | IocType::Sha512 => {
                let algorithm = match ioc.kind {
                    IocType::Md5 => "MD5",
                    IocType::Sha1 => "SHA-1",
                    IocType::Sha256 => "SHA-256",
                    _ => "SHA-512",
                };
                (
                    format!("[file:hashes.'{algorithm}' = '{escaped}']"),
                    json!({"type": "file", "hashes": {algorithm: ioc.value}}),
                )
            }
            IocType::Filename => (
                format!("[file:name = '{escaped}']"),
                json!({"type": "file", "name": ioc.value}),
            ),
            IocType::Registry => {
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

fn reference(id: &str, domains: &[Domain]) -> (&'static str, String) {
    if id.starts_with("AML.") {
        return (
            "mitre-atlas",
            format!("https://atlas.mitre.org/techniques/{id}"),
        );
    }
    let source = if domains.contains(&Domain::Enterprise) {
        "mitre-attack"
    } else if domains.contains(&Domain::Ics) {
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

fn kill_chain_name(domains: &[Domain]) -> &'static str {
    if domains.contains(&Domain::Enterprise) {
        "mitre-attack"
    } else if domains.contains(&Domain::Ics) {
        "mitre-ics-attack"
    } else if domains.contains(&Domain::Mobile) {
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
