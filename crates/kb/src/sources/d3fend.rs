//! D3FEND catalog JSON (`techniques.json`, `attack_mappings.json`, `mitigations.json`).
//!
//! The mappings are D3FEND's inferred "offensive artifact → defensive artifact" links; see
//! `shared/data/d3fend/README.md` for how they are derived.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::catalog::{D3fendMapping, D3fendTechnique, MitigationCountermeasure};
use crate::error::{Error, Result};

#[derive(Deserialize)]
struct Meta {
    d3fend_version: String,
}

#[derive(Deserialize)]
struct TechniquesFile {
    meta: Meta,
    techniques: Vec<RawTechnique>,
}

#[derive(Deserialize)]
struct RawTechnique {
    id: String,
    label: String,
    tactic: String,
    parent_id: Option<String>,
    #[serde(default)]
    artifact_relations: Vec<ArtifactRelation>,
}

#[derive(Deserialize)]
struct ArtifactRelation {
    relation: String,
    artifact_label: String,
}

#[derive(Deserialize)]
struct MappingsFile {
    techniques: BTreeMap<String, AttackEntry>,
}

#[derive(Deserialize)]
struct AttackEntry {
    #[serde(default)]
    mappings: Vec<RawMapping>,
}

#[derive(Deserialize)]
struct RawMapping {
    d3fend_id: String,
    offensive_relation: String,
    offensive_artifact: String,
    defensive_relation: String,
    via_artifact: String,
}

#[derive(Deserialize)]
struct MitigationsFile {
    mitigations: BTreeMap<String, MitigationEntry>,
}

#[derive(Deserialize)]
struct MitigationEntry {
    #[serde(default)]
    d3fend_ids: Vec<String>,
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8], path: &Path, what: &'static str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| Error::Json {
        path: path.to_owned(),
        what,
        source,
    })
}

/// Parses `techniques.json`; returns the D3FEND version and the techniques.
pub(crate) fn parse_techniques(
    bytes: &[u8],
    path: &Path,
) -> Result<(String, Vec<D3fendTechnique>)> {
    let file: TechniquesFile = parse_json(bytes, path, "D3FEND techniques file")?;
    let techniques = file
        .techniques
        .into_iter()
        .map(|t| D3fendTechnique {
            id: t.id,
            name: t.label,
            tactic: t.tactic,
            parent: t.parent_id,
            artifacts: t
                .artifact_relations
                .into_iter()
                .map(|a| (a.relation, a.artifact_label))
                .collect(),
        })
        .collect();
    Ok((file.meta.d3fend_version, techniques))
}

/// Parses `attack_mappings.json` into one row per inference path, deduplicated.
pub(crate) fn parse_mappings(bytes: &[u8], path: &Path) -> Result<Vec<D3fendMapping>> {
    let file: MappingsFile = parse_json(bytes, path, "D3FEND ATT&CK mappings file")?;
    let mut rows: Vec<D3fendMapping> = file
        .techniques
        .into_iter()
        .flat_map(|(attack, entry)| {
            entry.mappings.into_iter().map(move |m| D3fendMapping {
                attack: attack.clone(),
                d3fend: m.d3fend_id,
                offensive_relation: m.offensive_relation,
                offensive_artifact: m.offensive_artifact,
                defensive_relation: m.defensive_relation,
                defensive_artifact: m.via_artifact,
            })
        })
        .collect();
    rows.sort();
    rows.dedup();
    Ok(rows)
}

/// Parses `mitigations.json` into M#### → D3FEND links.
pub(crate) fn parse_mitigations(
    bytes: &[u8],
    path: &Path,
) -> Result<Vec<MitigationCountermeasure>> {
    let file: MitigationsFile = parse_json(bytes, path, "D3FEND mitigations file")?;
    Ok(file
        .mitigations
        .into_iter()
        .flat_map(|(mitigation, entry)| {
            entry
                .d3fend_ids
                .into_iter()
                .map(move |d3fend| MitigationCountermeasure {
                    mitigation: mitigation.clone(),
                    d3fend,
                })
        })
        .collect())
}
