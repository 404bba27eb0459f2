//! MISP galaxy clusters and MISP warninglists.
//!
//! Formats: <https://github.com/MISP/misp-galaxy/blob/main/schema_clusters.json> and
//! <https://github.com/MISP/misp-warninglists/blob/main/schema.json>.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::catalog::{GalaxyCluster, Warninglist, WarninglistKind};
use crate::error::{Error, Result};

#[derive(Deserialize)]
struct ClusterFile {
    #[serde(rename = "type")]
    galaxy: String,
    version: serde_json::Value,
    values: Vec<RawCluster>,
}

#[derive(Deserialize)]
struct RawCluster {
    value: String,
    uuid: String,
    #[serde(default)]
    meta: ClusterMeta,
    #[serde(default)]
    related: Vec<Related>,
}

#[derive(Deserialize, Default)]
struct ClusterMeta {
    #[serde(default)]
    synonyms: Vec<String>,
    country: Option<serde_json::Value>,
    #[serde(rename = "cfr-suspected-state-sponsor")]
    state_sponsor: Option<String>,
}

#[derive(Deserialize)]
struct Related {
    #[serde(rename = "dest-uuid")]
    dest_uuid: String,
}

/// Parses one galaxy cluster file; returns the galaxy's version and its clusters.
///
/// `attack_ids` maps ATT&CK STIX UUIDs to ATT&CK ids: MISP's ATT&CK galaxies reuse those UUIDs,
/// so a cluster related to (or equal to) one is linked to that group or software.
pub(crate) fn parse_galaxy(
    bytes: &[u8],
    path: &Path,
    attack_ids: &HashMap<String, String>,
) -> Result<(String, String, Vec<GalaxyCluster>)> {
    let file: ClusterFile = serde_json::from_slice(bytes).map_err(|source| Error::Json {
        path: path.to_owned(),
        what: "MISP galaxy cluster file",
        source,
    })?;
    let clusters = file
        .values
        .into_iter()
        .map(|c| {
            let mut linked: Vec<String> = std::iter::once(&c.uuid)
                .chain(c.related.iter().map(|r| &r.dest_uuid))
                .filter_map(|uuid| attack_ids.get(uuid).cloned())
                .collect();
            linked.sort();
            linked.dedup();
            let country = match c.meta.country {
                Some(serde_json::Value::String(s)) => Some(s),
                Some(serde_json::Value::Array(items)) => items
                    .into_iter()
                    .find_map(|v| v.as_str().map(str::to_owned)),
                _ => c.meta.state_sponsor,
            };
            GalaxyCluster {
                galaxy: file.galaxy.clone(),
                synonyms: c
                    .meta
                    .synonyms
                    .into_iter()
                    .filter(|s| !s.trim().is_empty() && !s.eq_ignore_ascii_case(&c.value))
                    .collect(),
                value: c.value,
                uuid: c.uuid,
                country,
                attack_ids: linked,
            }
        })
        .collect();
    Ok((file.galaxy, scalar_text(&file.version), clusters))
}

#[derive(Deserialize)]
struct RawWarninglist {
    name: String,
    version: serde_json::Value,
    #[serde(rename = "type")]
    kind: String,
    list: Vec<String>,
    #[serde(default)]
    matching_attributes: Vec<String>,
}

/// Parses one warninglist (`lists/<slug>/list.json`).
pub(crate) fn parse_warninglist(bytes: &[u8], slug: &str, path: &Path) -> Result<Warninglist> {
    let raw: RawWarninglist = serde_json::from_slice(bytes).map_err(|source| Error::Json {
        path: path.to_owned(),
        what: "MISP warninglist",
        source,
    })?;
    let kind = match raw.kind.as_str() {
        "cidr" => WarninglistKind::Cidr,
        "string" => WarninglistKind::String,
        "hostname" => WarninglistKind::Hostname,
        "substring" => WarninglistKind::Substring,
        "regex" => WarninglistKind::Regex,
        other => {
            return Err(Error::Format {
                path: path.to_owned(),
                message: format!(
                    "unknown warninglist type '{other}'; expected cidr, string, hostname, substring or regex"
                ),
            });
        }
    };
    Ok(Warninglist::new(
        slug.to_owned(),
        raw.name,
        scalar_text(&raw.version),
        kind,
        raw.matching_attributes,
        &raw.list,
    ))
}

fn scalar_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
