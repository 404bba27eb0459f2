//! ATT&CK STIX bundles (Enterprise, Mobile, ICS; STIX 2.1 or 2.0) → catalog records.
//!
//! Objects are merged by STIX id across bundles, so a group present in Enterprise and Mobile
//! becomes one record with both domains. See the ATT&CK data model:
//! <https://github.com/mitre/cti/blob/master/USAGE.md>.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use ctiforge_model::Domain;
use serde::Deserialize;

use crate::catalog::{
    Analytic, Campaign, DataComponent, DetectionStrategy, Group, LogSource, Mitigation,
    RelationKind, Relationship, Software, SoftwareKind, Tactic, Technique,
};
use crate::error::{Error, Result};

#[derive(Deserialize)]
struct Bundle {
    #[serde(rename = "type")]
    kind: String,
    objects: Vec<StixObject>,
}

/// The fields of a STIX object that the knowledge base keeps; the rest (prose, citations) is
/// skipped by the parser.
#[derive(Deserialize, Default)]
#[serde(default)]
struct StixObject {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    name: Option<String>,
    revoked: bool,
    x_mitre_deprecated: bool,
    external_references: Vec<ExternalReference>,
    kill_chain_phases: Vec<KillChainPhase>,
    x_mitre_platforms: Vec<String>,
    x_mitre_shortname: Option<String>,
    x_mitre_version: Option<String>,
    aliases: Vec<String>,
    x_mitre_aliases: Vec<String>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    tactic_refs: Vec<String>,
    relationship_type: Option<String>,
    source_ref: Option<String>,
    target_ref: Option<String>,
    x_mitre_analytic_refs: Vec<String>,
    x_mitre_log_source_references: Vec<AnalyticLogSource>,
    x_mitre_log_sources: Vec<ComponentLogSource>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExternalReference {
    source_name: String,
    external_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KillChainPhase {
    phase_name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AnalyticLogSource {
    x_mitre_data_component_ref: String,
    name: String,
    channel: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ComponentLogSource {
    name: String,
    channel: String,
}

impl StixObject {
    /// The ATT&CK id (`T1059.001`, `G0016`, `DET0103`, `AN0110`...), from the `mitre-*`
    /// external reference.
    fn attack_id(&self) -> Option<&str> {
        self.external_references
            .iter()
            .find(|r| r.source_name.starts_with("mitre-") && r.external_id.is_some())
            .and_then(|r| r.external_id.as_deref())
    }

    fn inactive(&self) -> bool {
        self.revoked || self.x_mitre_deprecated
    }
}

/// One parsed bundle, remembered with its domain.
pub(crate) struct ParsedBundle {
    domain: Domain,
    version: Option<String>,
    objects: Vec<StixObject>,
}

impl ParsedBundle {
    /// The ATT&CK release the bundle states (`x-mitre-collection.x_mitre_version`).
    pub(crate) fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
}

/// Parses one ATT&CK bundle.
pub(crate) fn parse_bundle(bytes: &[u8], domain: Domain, path: &Path) -> Result<ParsedBundle> {
    let bundle: Bundle = serde_json::from_slice(bytes).map_err(|source| Error::Json {
        path: path.to_owned(),
        what: "STIX bundle",
        source,
    })?;
    if bundle.kind != "bundle" {
        return Err(Error::Format {
            path: path.to_owned(),
            message: format!(
                "expected a STIX bundle (\"type\": \"bundle\"), found type '{}'",
                bundle.kind
            ),
        });
    }
    if !bundle.objects.iter().any(|o| o.kind == "attack-pattern") {
        return Err(Error::Format {
            path: path.to_owned(),
            message: "the bundle holds no attack-pattern objects; is this an ATT&CK bundle?".into(),
        });
    }
    let version = bundle
        .objects
        .iter()
        .find(|o| o.kind == "x-mitre-collection")
        .and_then(|o| o.x_mitre_version.clone());
    Ok(ParsedBundle {
        domain,
        version,
        objects: bundle.objects,
    })
}

/// The ATT&CK part of the catalog.
#[derive(Default)]
pub(crate) struct AttackRecords {
    pub tactics: Vec<Tactic>,
    pub techniques: Vec<Technique>,
    pub groups: Vec<Group>,
    pub software: Vec<Software>,
    pub campaigns: Vec<Campaign>,
    pub mitigations: Vec<Mitigation>,
    pub relationships: Vec<Relationship>,
    pub detection_strategies: Vec<DetectionStrategy>,
    pub analytics: Vec<Analytic>,
    pub data_components: Vec<DataComponent>,
    /// STIX UUID (without the type prefix) → ATT&CK id, for linking MISP galaxy clusters.
    pub uuid_to_id: HashMap<String, String>,
}

/// Merges parsed bundles into catalog records.
pub(crate) fn merge(bundles: &[ParsedBundle]) -> AttackRecords {
    // STIX id → (ATT&CK id, object, domains); first occurrence wins, domains accumulate.
    let mut by_stix: BTreeMap<&str, (&str, &StixObject, BTreeSet<Domain>)> = BTreeMap::new();
    for bundle in bundles {
        for object in &bundle.objects {
            let Some(attack_id) = object.attack_id() else {
                continue;
            };
            // Pre-2019 course-of-action objects reuse technique ids (T1066); they are deprecated
            // and would shadow the techniques, so only M#### mitigations are kept.
            if object.kind == "course-of-action" && !attack_id.starts_with('M') {
                continue;
            }
            by_stix
                .entry(object.id.as_str())
                .or_insert_with(|| (attack_id, object, BTreeSet::new()))
                .2
                .insert(bundle.domain);
        }
    }
    let id_of = |stix: &str| by_stix.get(stix).map(|(id, _, _)| *id);

    let mut revoked_by: HashMap<&str, &str> = HashMap::new();
    let mut relationships = BTreeSet::new();
    for bundle in bundles {
        for object in bundle.objects.iter().filter(|o| o.kind == "relationship") {
            let (Some(kind), Some(source), Some(target)) = (
                object.relationship_type.as_deref().and_then(relation_kind),
                object.source_ref.as_deref(),
                object.target_ref.as_deref(),
            ) else {
                continue;
            };
            let (Some(source_id), Some(target_id)) = (id_of(source), id_of(target)) else {
                continue;
            };
            if kind == RelationKind::RevokedBy {
                revoked_by.insert(source_id, target_id);
            } else {
                // Keep only relations between active entries: what ATT&CK's site shows.
                let ends_active = !by_stix[source].1.inactive() && !by_stix[target].1.inactive();
                if object.inactive() || !ends_active {
                    continue;
                }
            }
            relationships.insert(Relationship {
                source: source_id.to_owned(),
                kind,
                target: target_id.to_owned(),
            });
        }
    }

    let tactics = tactics_in_matrix_order(bundles);
    let mut records = AttackRecords {
        relationships: relationships.into_iter().collect(),
        ..AttackRecords::default()
    };

    for (stix_id, (attack_id, object, domains)) in &by_stix {
        let id = (*attack_id).to_owned();
        let name = object.name.clone().unwrap_or_default();
        let domains: Vec<Domain> = domains.iter().copied().collect();
        let revoked_by = revoked_by.get(attack_id).map(|s| (*s).to_owned());
        if let Some((_, uuid)) = stix_id.split_once("--") {
            records.uuid_to_id.insert(uuid.to_owned(), id.clone());
        }
        match object.kind.as_str() {
            "attack-pattern" => records.techniques.push(Technique {
                parent: id.split_once('.').map(|(parent, _)| parent.to_owned()),
                tactics: technique_tactics(object, &domains, &tactics),
                id,
                name,
                domains,
                platforms: object.x_mitre_platforms.clone(),
                deprecated: object.x_mitre_deprecated,
                revoked: object.revoked,
                revoked_by,
                attack_references: Vec::new(),
                maturity: None,
                stix_id: Some((*stix_id).to_owned()),
            }),
            "intrusion-set" => records.groups.push(Group {
                aliases: other_names(&name, &object.aliases),
                id,
                name,
                domains,
                deprecated: object.x_mitre_deprecated,
                revoked: object.revoked,
                revoked_by,
                stix_id: (*stix_id).to_owned(),
            }),
            "malware" | "tool" => records.software.push(Software {
                kind: if object.kind == "malware" {
                    SoftwareKind::Malware
                } else {
                    SoftwareKind::Tool
                },
                aliases: other_names(&name, &object.x_mitre_aliases),
                id,
                name,
                platforms: object.x_mitre_platforms.clone(),
                domains,
                deprecated: object.x_mitre_deprecated,
                revoked: object.revoked,
                revoked_by,
                stix_id: (*stix_id).to_owned(),
            }),
            "campaign" => records.campaigns.push(Campaign {
                aliases: other_names(&name, &object.aliases),
                id,
                name,
                first_seen: object.first_seen.as_deref().map(date_part),
                last_seen: object.last_seen.as_deref().map(date_part),
                domains,
                deprecated: object.x_mitre_deprecated,
                revoked: object.revoked,
                stix_id: (*stix_id).to_owned(),
            }),
            "course-of-action" => records.mitigations.push(Mitigation {
                id,
                name,
                domains,
                deprecated: object.x_mitre_deprecated,
                revoked: object.revoked,
                stix_id: Some((*stix_id).to_owned()),
            }),
            "x-mitre-detection-strategy" => records.detection_strategies.push(DetectionStrategy {
                id,
                name,
                analytics: object
                    .x_mitre_analytic_refs
                    .iter()
                    .filter_map(|r| id_of(r).map(str::to_owned))
                    .collect(),
                domains,
            }),
            "x-mitre-analytic" => records.analytics.push(Analytic {
                id,
                platforms: object.x_mitre_platforms.clone(),
                log_sources: object
                    .x_mitre_log_source_references
                    .iter()
                    .map(|l| LogSource {
                        name: l.name.clone(),
                        channel: l.channel.clone(),
                        data_component: id_of(&l.x_mitre_data_component_ref).map(str::to_owned),
                    })
                    .collect(),
                domains,
            }),
            "x-mitre-data-component" => records.data_components.push(DataComponent {
                id,
                name,
                log_sources: object
                    .x_mitre_log_sources
                    .iter()
                    .map(|l| LogSource {
                        name: l.name.clone(),
                        channel: l.channel.clone(),
                        data_component: None,
                    })
                    .collect(),
                domains,
            }),
            _ => {}
        }
    }
    records.tactics = tactics.into_iter().map(|(_, tactic)| tactic).collect();
    records
}

fn relation_kind(name: &str) -> Option<RelationKind> {
    Some(match name {
        "uses" => RelationKind::Uses,
        "mitigates" => RelationKind::Mitigates,
        "subtechnique-of" => RelationKind::SubtechniqueOf,
        "attributed-to" => RelationKind::AttributedTo,
        "revoked-by" => RelationKind::RevokedBy,
        "detects" => RelationKind::Detects,
        _ => return None,
    })
}

/// Tactics of each domain in the order of its matrices (`x-mitre-matrix.tactic_refs`), keyed by
/// the domain so that kill-chain phase names resolve per domain.
fn tactics_in_matrix_order(bundles: &[ParsedBundle]) -> Vec<(Domain, Tactic)> {
    let mut ordered: Vec<(Domain, Tactic)> = Vec::new();
    for bundle in bundles {
        let by_stix: HashMap<&str, &StixObject> = bundle
            .objects
            .iter()
            .filter(|o| o.kind == "x-mitre-tactic")
            .map(|o| (o.id.as_str(), o))
            .collect();
        // Active matrices first, so the main matrix sets the order; deprecated ones only add
        // tactics not seen yet.
        let mut matrices: Vec<&StixObject> = bundle
            .objects
            .iter()
            .filter(|o| o.kind == "x-mitre-matrix")
            .collect();
        matrices.sort_by_key(|m| m.inactive());
        let refs = matrices.iter().flat_map(|m| m.tactic_refs.iter());
        // Tactics that no matrix lists still count; they go last.
        let unlisted = bundle
            .objects
            .iter()
            .filter(|o| o.kind == "x-mitre-tactic")
            .map(|o| &o.id);
        for stix_id in refs.chain(unlisted) {
            let Some(object) = by_stix.get(stix_id.as_str()) else {
                continue;
            };
            let Some(id) = object.attack_id() else {
                continue;
            };
            if ordered
                .iter()
                .any(|(d, t)| *d == bundle.domain && t.id == id)
            {
                continue;
            }
            ordered.push((
                bundle.domain,
                Tactic {
                    id: id.to_owned(),
                    name: object.name.clone().unwrap_or_default(),
                    shortname: object.x_mitre_shortname.clone().unwrap_or_default(),
                    domain: bundle.domain,
                    attack_reference: None,
                    stix_id: Some(object.id.clone()),
                },
            ));
        }
    }
    ordered
}

/// Tactic ids of a technique from its kill-chain phases, in matrix order.
fn technique_tactics(
    object: &StixObject,
    domains: &[Domain],
    tactics: &[(Domain, Tactic)],
) -> Vec<String> {
    tactics
        .iter()
        .filter(|(domain, tactic)| {
            domains.contains(domain)
                && object
                    .kill_chain_phases
                    .iter()
                    .any(|p| p.phase_name == tactic.shortname)
        })
        .map(|(_, tactic)| tactic.id.clone())
        .fold(Vec::new(), |mut ids, id| {
            if !ids.contains(&id) {
                ids.push(id);
            }
            ids
        })
}

/// Aliases without the primary name and without repeats, in source order.
fn other_names(name: &str, aliases: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for alias in aliases {
        let alias = alias.trim();
        if alias.is_empty()
            || alias.eq_ignore_ascii_case(name)
            || out.iter().any(|a| a.eq_ignore_ascii_case(alias))
        {
            continue;
        }
        out.push(alias.to_owned());
    }
    out
}

fn date_part(timestamp: &str) -> String {
    timestamp.get(..10).unwrap_or(timestamp).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"{"type":"bundle","id":"bundle--1","spec_version":"2.0","objects":[
      {"type":"x-mitre-tactic","id":"x-mitre-tactic--a","name":"Execution","x_mitre_shortname":"execution",
       "external_references":[{"source_name":"mitre-attack","external_id":"TA0002"}]},
      {"type":"x-mitre-matrix","id":"x-mitre-matrix--m","name":"M","tactic_refs":["x-mitre-tactic--a"],
       "external_references":[{"source_name":"mitre-attack","external_id":"enterprise-attack"}]},
      {"type":"attack-pattern","id":"attack-pattern--p","name":"Command and Scripting Interpreter",
       "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"execution"}],
       "external_references":[{"source_name":"mitre-attack","external_id":"T1059"}]},
      {"type":"attack-pattern","id":"attack-pattern--c","name":"PowerShell",
       "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"execution"}],
       "external_references":[{"source_name":"mitre-attack","external_id":"T1059.001"}]},
      {"type":"attack-pattern","id":"attack-pattern--old","name":"Old","revoked":true,
       "external_references":[{"source_name":"mitre-attack","external_id":"T1086"}]},
      {"type":"course-of-action","id":"course-of-action--old","name":"Old mitigation","x_mitre_deprecated":true,
       "external_references":[{"source_name":"mitre-attack","external_id":"T1086"}]},
      {"type":"relationship","id":"relationship--1","relationship_type":"revoked-by",
       "source_ref":"attack-pattern--old","target_ref":"attack-pattern--c"},
      {"type":"relationship","id":"relationship--2","relationship_type":"subtechnique-of",
       "source_ref":"attack-pattern--c","target_ref":"attack-pattern--p"}
    ]}"#;

    #[test]
    fn stix_2_0_bundle_merges_with_revocations_and_matrix_order() {
        let bundle = parse_bundle(MINI.as_bytes(), Domain::Enterprise, Path::new("mini.json"))
            .expect("parses");
        assert_eq!(bundle.version(), None);
        let records = merge(&[bundle]);
        assert_eq!(records.tactics.len(), 1);
        let powershell = records
            .techniques
            .iter()
            .find(|t| t.id == "T1059.001")
            .expect("sub-technique");
        assert_eq!(powershell.parent.as_deref(), Some("T1059"));
        assert_eq!(powershell.tactics, ["TA0002"]);
        let old = records
            .techniques
            .iter()
            .find(|t| t.id == "T1086")
            .expect("revoked");
        assert_eq!(old.revoked_by.as_deref(), Some("T1059.001"));
        // The deprecated course-of-action with a technique id is not a mitigation.
        assert!(records.mitigations.is_empty());
        assert_eq!(records.relationships.len(), 2);
    }

    #[test]
    fn a_bundle_without_techniques_is_rejected() {
        let err = parse_bundle(
            br#"{"type":"bundle","objects":[]}"#,
            Domain::Ics,
            Path::new("x.json"),
        )
        .err()
        .expect("rejected");
        assert!(err.to_string().contains("x.json"), "{err}");
    }
}
