//! MITRE ATLAS (`ATLAS.yaml`) → tactics, techniques, mitigations and case studies.
//!
//! Format: <https://github.com/mitre-atlas/atlas-data/blob/main/schemas/>.

use std::path::Path;

use ctiforge_model::Domain;
use serde::Deserialize;

use crate::catalog::{CaseStudy, Mitigation, RelationKind, Relationship, Tactic, Technique};
use crate::error::{Error, Result};

#[derive(Deserialize)]
struct AtlasFile {
    version: String,
    matrices: Vec<Matrix>,
    #[serde(rename = "case-studies", default)]
    case_studies: Vec<RawCaseStudy>,
}

#[derive(Deserialize)]
struct Matrix {
    #[serde(default)]
    tactics: Vec<RawTactic>,
    #[serde(default)]
    techniques: Vec<RawTechnique>,
    #[serde(default)]
    mitigations: Vec<RawMitigation>,
}

#[derive(Deserialize)]
struct AttackReference {
    id: String,
}

#[derive(Deserialize)]
struct RawTactic {
    id: String,
    name: String,
    #[serde(rename = "ATT&CK-reference")]
    attack_reference: Option<AttackReference>,
}

#[derive(Deserialize)]
struct RawTechnique {
    id: String,
    name: String,
    #[serde(default)]
    tactics: Vec<String>,
    #[serde(rename = "subtechnique-of")]
    subtechnique_of: Option<String>,
    #[serde(rename = "ATT&CK-reference")]
    attack_reference: Option<AttackReference>,
    maturity: Option<String>,
}

#[derive(Deserialize)]
struct RawMitigation {
    id: String,
    name: String,
    #[serde(default)]
    techniques: Vec<MitigatedTechnique>,
}

#[derive(Deserialize)]
struct MitigatedTechnique {
    id: String,
}

#[derive(Deserialize)]
struct RawCaseStudy {
    id: String,
    name: String,
    #[serde(rename = "incident-date")]
    incident_date: Option<String>,
    #[serde(default)]
    procedure: Vec<ProcedureStep>,
}

#[derive(Deserialize)]
struct ProcedureStep {
    tactic: String,
    technique: String,
}

/// The ATLAS part of the catalog.
pub(crate) struct AtlasRecords {
    pub version: String,
    pub tactics: Vec<Tactic>,
    pub techniques: Vec<Technique>,
    pub mitigations: Vec<Mitigation>,
    pub relationships: Vec<Relationship>,
    pub case_studies: Vec<CaseStudy>,
}

/// Parses `ATLAS.yaml`.
pub(crate) fn parse(text: &str, path: &Path) -> Result<AtlasRecords> {
    let document = yaml_to_json(text, path)?;
    if document.is_null() {
        return Err(Error::Format {
            path: path.to_owned(),
            message: "the file is empty; expected the ATLAS data document".into(),
        });
    }
    let file: AtlasFile = serde_json::from_value(document).map_err(|source| Error::Json {
        path: path.to_owned(),
        what: "ATLAS data file (id, version, matrices, case-studies)",
        source,
    })?;

    let mut records = AtlasRecords {
        version: file.version,
        tactics: Vec::new(),
        techniques: Vec::new(),
        mitigations: Vec::new(),
        relationships: Vec::new(),
        case_studies: Vec::new(),
    };
    for matrix in file.matrices {
        for tactic in matrix.tactics {
            records.tactics.push(Tactic {
                shortname: slug(&tactic.name),
                id: tactic.id,
                name: tactic.name,
                domain: Domain::Atlas,
                attack_reference: tactic.attack_reference.map(|r| r.id),
                stix_id: None,
            });
        }
        // Sub-techniques inherit their parent's tactics in ATLAS; resolve after the loop.
        for technique in matrix.techniques {
            if let Some(parent) = &technique.subtechnique_of {
                records.relationships.push(Relationship {
                    source: technique.id.clone(),
                    kind: RelationKind::SubtechniqueOf,
                    target: parent.clone(),
                });
            }
            records.techniques.push(Technique {
                id: technique.id,
                name: technique.name,
                domains: vec![Domain::Atlas],
                tactics: technique.tactics,
                platforms: Vec::new(),
                parent: technique.subtechnique_of,
                deprecated: false,
                revoked: false,
                revoked_by: None,
                attack_references: technique
                    .attack_reference
                    .map(|r| r.id)
                    .into_iter()
                    .collect(),
                maturity: technique.maturity,
                stix_id: None,
            });
        }
        for mitigation in matrix.mitigations {
            for technique in &mitigation.techniques {
                records.relationships.push(Relationship {
                    source: mitigation.id.clone(),
                    kind: RelationKind::Mitigates,
                    target: technique.id.clone(),
                });
            }
            records.mitigations.push(Mitigation {
                id: mitigation.id,
                name: mitigation.name,
                domains: vec![Domain::Atlas],
                deprecated: false,
                revoked: false,
                stix_id: None,
            });
        }
    }
    let parent_tactics: Vec<(String, Vec<String>)> = records
        .techniques
        .iter()
        .map(|t| (t.id.clone(), t.tactics.clone()))
        .collect();
    for technique in records
        .techniques
        .iter_mut()
        .filter(|t| t.tactics.is_empty())
    {
        if let Some((_, tactics)) = parent_tactics
            .iter()
            .find(|(id, _)| Some(id) == technique.parent.as_ref())
        {
            technique.tactics = tactics.clone();
        }
    }
    records.case_studies = file
        .case_studies
        .into_iter()
        .map(|c| CaseStudy {
            id: c.id,
            name: c.name,
            incident_date: c.incident_date,
            procedure: c
                .procedure
                .into_iter()
                .map(|s| (s.tactic, s.technique))
                .collect(),
        })
        .collect();
    Ok(records)
}

fn slug(name: &str) -> String {
    name.to_ascii_lowercase().replace(' ', "-")
}

/// The first YAML document of `text` as a JSON value, so serde's derive can read it. Scalars
/// that YAML types as numbers or booleans stay typed; dates stay strings. The YAML parser is
/// the one the Sigma engine (rsigma) already brings.
pub(crate) fn yaml_to_json(text: &str, path: &Path) -> Result<serde_json::Value> {
    yaml_serde::from_str(text).map_err(|e| Error::Yaml {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_techniques_inherit_tactics_and_mitigations_become_relations() {
        let text = r#"
id: ATLAS
version: 9.9.9
matrices:
- id: ATLAS
  tactics:
  - {id: AML.TA0000, name: AI Model Access}
  techniques:
  - {id: AML.T0040, name: AI Model Inference API Access, tactics: [AML.TA0000], maturity: realized,
     ATT&CK-reference: {id: T1133}}
  - {id: AML.T0040.000, name: Child, subtechnique-of: AML.T0040}
  mitigations:
  - {id: AML.M0004, name: Restrict Number of AI Model Queries, techniques: [{id: AML.T0040, use: x}]}
case-studies:
- {id: AML.CS0001, name: Case, incident-date: 2021-01-01, procedure: [{tactic: AML.TA0000, technique: AML.T0040}]}
"#;
        let records = parse(text, Path::new("ATLAS.yaml")).expect("parses");
        assert_eq!(records.version, "9.9.9");
        let child = &records.techniques[1];
        assert_eq!(child.tactics, ["AML.TA0000"]);
        assert_eq!(records.techniques[0].attack_references, ["T1133"]);
        assert!(records.relationships.contains(&Relationship {
            source: "AML.M0004".into(),
            kind: RelationKind::Mitigates,
            target: "AML.T0040".into(),
        }));
        assert_eq!(
            records.case_studies[0].incident_date.as_deref(),
            Some("2021-01-01")
        );
    }

    #[test]
    fn broken_yaml_names_the_file() {
        let err = parse("matrices: [\n  - {", Path::new("atlas/ATLAS.yaml"))
            .err()
            .expect("rejected");
        assert!(
            err.to_string()
                .starts_with("atlas/ATLAS.yaml is not valid YAML"),
            "{err}"
        );
    }
}
