//! Reading the knowledge-base sources from a data folder laid out like `shared/data`:
//!
//! ```text
//! attack/{enterprise,mobile,ics}-attack.json   ATT&CK STIX 2.1 (or 2.0) bundles
//! atlas/ATLAS.yaml                             ATLAS data
//! d3fend/{techniques,attack_mappings,mitigations}.json
//! kev/known_exploited_vulnerabilities.json     CISA KEV
//! misp-galaxy/clusters/*.json                  MISP galaxy clusters
//! misp-warninglists/lists/*/list.json          MISP warninglists
//! ```
//!
//! This module is the crate's only file I/O: the parsers take bytes, and `kb build` needs
//! something to hand them the files and name them in errors.

mod atlas;
mod attack;
mod d3fend;
mod kev;
mod misp;
mod prose;

pub use prose::{ProseKind, ProseText, load_prose, strip_markup};

use std::fs;
use std::path::{Path, PathBuf};

use ctiforge_model::Domain;
use sha2::{Digest, Sha256};

use crate::catalog::{Catalog, Source, SourceComponent, SourceFile, Warninglist};
use crate::error::{Error, Result};

/// Loads every source under `root` into a catalog and the MISP warninglists.
pub fn load_catalog(root: &Path) -> Result<(Catalog, Vec<Warninglist>)> {
    let mut reader = DataDir { root };
    let mut catalog = Catalog::default();

    let mut bundles = Vec::new();
    for (domain, file, key, name) in [
        (
            Domain::Enterprise,
            "enterprise-attack.json",
            "attack-enterprise",
            "ATT&CK Enterprise",
        ),
        (
            Domain::Mobile,
            "mobile-attack.json",
            "attack-mobile",
            "ATT&CK Mobile",
        ),
        (Domain::Ics, "ics-attack.json", "attack-ics", "ATT&CK ICS"),
    ] {
        let relative = format!("attack/{file}");
        let (bytes, source_file) =
            reader.read(&relative, "an ATT&CK STIX bundle from mitre/cti")?;
        let bundle = attack::parse_bundle(&bytes, domain, &reader.path(&relative))?;
        catalog.sources.push(Source {
            key: key.into(),
            name: name.into(),
            version: bundle.version().unwrap_or("unknown").to_owned(),
            origin: reader.origin("attack"),
            components: Vec::new(),
            files: vec![source_file],
        });
        bundles.push(bundle);
    }
    let attack = attack::merge(&bundles);
    drop(bundles);

    let (bytes, source_file) =
        reader.read("atlas/ATLAS.yaml", "ATLAS.yaml from mitre-atlas/atlas-data")?;
    let text = String::from_utf8_lossy(&bytes);
    let atlas = atlas::parse(&text, &reader.path("atlas/ATLAS.yaml"))?;
    catalog.sources.push(Source {
        key: "atlas".into(),
        name: "MITRE ATLAS".into(),
        version: atlas.version.clone(),
        origin: reader.origin("atlas"),
        components: Vec::new(),
        files: vec![source_file],
    });

    let hint = "the D3FEND catalog JSON of shared/data/d3fend";
    let (bytes, techniques_file) = reader.read("d3fend/techniques.json", hint)?;
    let (d3fend_version, d3fend_techniques) =
        d3fend::parse_techniques(&bytes, &reader.path("d3fend/techniques.json"))?;
    let (bytes, mappings_file) = reader.read("d3fend/attack_mappings.json", hint)?;
    let d3fend_mappings =
        d3fend::parse_mappings(&bytes, &reader.path("d3fend/attack_mappings.json"))?;
    let (bytes, mitigations_file) = reader.read("d3fend/mitigations.json", hint)?;
    let mitigation_countermeasures =
        d3fend::parse_mitigations(&bytes, &reader.path("d3fend/mitigations.json"))?;
    catalog.sources.push(Source {
        key: "d3fend".into(),
        name: "MITRE D3FEND".into(),
        version: d3fend_version,
        origin: reader.origin("d3fend"),
        components: Vec::new(),
        files: vec![techniques_file, mappings_file, mitigations_file],
    });

    let kev_path = "kev/known_exploited_vulnerabilities.json";
    let (bytes, kev_file) = reader.read(kev_path, "the CISA KEV catalog JSON")?;
    let (kev_version, kev) = kev::parse(&bytes, &reader.path(kev_path))?;
    catalog.sources.push(Source {
        key: "kev".into(),
        name: "CISA Known Exploited Vulnerabilities".into(),
        version: kev_version,
        origin: reader.origin("kev"),
        components: Vec::new(),
        files: vec![kev_file],
    });

    let mut galaxy_files = Vec::new();
    let mut galaxies = Vec::new();
    for relative in reader.list("misp-galaxy/clusters", "threat-actor.json")? {
        let (bytes, source_file) = reader.read(&relative, "a MISP galaxy cluster file")?;
        let (galaxy, version, clusters) =
            misp::parse_galaxy(&bytes, &reader.path(&relative), &attack.uuid_to_id)?;
        galaxies.push(SourceComponent {
            name: galaxy,
            version,
        });
        catalog.galaxy_clusters.extend(clusters);
        galaxy_files.push(source_file);
    }
    catalog.sources.push(Source {
        key: "misp-galaxy".into(),
        name: "MISP galaxy clusters".into(),
        version: format!("{} galaxies", galaxies.len()),
        origin: reader.origin("misp-galaxy"),
        components: galaxies,
        files: galaxy_files,
    });

    let mut list_files = Vec::new();
    let mut warninglists = Vec::new();
    for folder in reader.list("misp-warninglists/lists", "rfc1918")? {
        let relative = format!("{folder}/list.json");
        let (bytes, source_file) = reader.read(&relative, "a MISP warninglist")?;
        let slug = folder.rsplit('/').next().unwrap_or(&folder);
        warninglists.push(misp::parse_warninglist(
            &bytes,
            slug,
            &reader.path(&relative),
        )?);
        list_files.push(source_file);
    }
    catalog.sources.push(Source {
        key: "misp-warninglists".into(),
        name: "MISP warninglists".into(),
        version: format!("{} lists", warninglists.len()),
        origin: reader.origin("misp-warninglists"),
        components: warninglists
            .iter()
            .map(|w| SourceComponent {
                name: w.slug.clone(),
                version: w.version.clone(),
            })
            .collect(),
        files: list_files,
    });

    catalog.tactics = attack.tactics;
    catalog.tactics.extend(atlas.tactics);
    catalog.techniques = attack.techniques;
    catalog.techniques.extend(atlas.techniques);
    catalog.groups = attack.groups;
    catalog.software = attack.software;
    catalog.campaigns = attack.campaigns;
    catalog.mitigations = attack.mitigations;
    catalog.mitigations.extend(atlas.mitigations);
    catalog.relationships = attack.relationships;
    catalog.relationships.extend(atlas.relationships);
    catalog.detection_strategies = attack.detection_strategies;
    catalog.analytics = attack.analytics;
    catalog.data_components = attack.data_components;
    catalog.case_studies = atlas.case_studies;
    catalog.d3fend_techniques = d3fend_techniques;
    catalog.d3fend_mappings = d3fend_mappings;
    catalog.mitigation_countermeasures = mitigation_countermeasures;
    catalog.kev = kev;
    sort_by_id(&mut catalog);
    Ok((catalog, warninglists))
}

/// Puts every id-keyed vector in id order (tactics keep matrix order), so that equal sources
/// give equal catalogs whatever order the folder lists its files in.
fn sort_by_id(catalog: &mut Catalog) {
    catalog.techniques.sort_by(|a, b| a.id.cmp(&b.id));
    catalog.groups.sort_by(|a, b| a.id.cmp(&b.id));
    catalog.software.sort_by(|a, b| a.id.cmp(&b.id));
    catalog.campaigns.sort_by(|a, b| a.id.cmp(&b.id));
    catalog.mitigations.sort_by(|a, b| a.id.cmp(&b.id));
    catalog.relationships.sort();
    catalog.relationships.dedup();
    catalog.detection_strategies.sort_by(|a, b| a.id.cmp(&b.id));
    catalog.analytics.sort_by(|a, b| a.id.cmp(&b.id));
    catalog.data_components.sort_by(|a, b| a.id.cmp(&b.id));
    catalog.case_studies.sort_by(|a, b| a.id.cmp(&b.id));
    catalog.d3fend_techniques.sort_by(|a, b| a.id.cmp(&b.id));
    catalog.mitigation_countermeasures.sort();
    catalog.mitigation_countermeasures.dedup();
}

struct DataDir<'a> {
    root: &'a Path,
}

impl DataDir<'_> {
    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Reads a source file, with its checksum for the snapshot's provenance.
    fn read(&mut self, relative: &str, hint: &'static str) -> Result<(Vec<u8>, SourceFile)> {
        let path = self.path(relative);
        let bytes = fs::read(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                Error::Missing { path, hint }
            } else {
                Error::Read { path, source }
            }
        })?;
        let sha256 = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok((
            bytes,
            SourceFile {
                path: relative.to_owned(),
                sha256,
            },
        ))
    }

    /// The entries of a folder, sorted, as paths relative to the root; `required` must be
    /// among them so that an empty or wrong folder is caught.
    fn list(&self, relative: &str, required: &'static str) -> Result<Vec<String>> {
        let path = self.path(relative);
        let entries = fs::read_dir(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                Error::Missing {
                    path: path.clone(),
                    hint: "a folder copied from the MISP repositories",
                }
            } else {
                Error::Read {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if (is_dir || name.ends_with(".json")) && !name.starts_with('.') {
                names.push(name);
            }
        }
        names.sort();
        if !names.iter().any(|n| n == required) {
            return Err(Error::Missing {
                path: path.join(required),
                hint: "a folder copied from the MISP repositories",
            });
        }
        Ok(names
            .into_iter()
            .map(|n| format!("{relative}/{n}"))
            .collect())
    }

    /// `owner/repo @ commit` from a dataset's provenance file, when it has one.
    fn origin(&self, folder: &str) -> Option<String> {
        let candidates = ["PROVENANCE.json", "provenance.json", "build_info.json"];
        let value: serde_json::Value = candidates
            .iter()
            .find_map(|name| fs::read(self.root.join(folder).join(name)).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())?;
        let meta = value.get("meta").unwrap_or(&value);
        let repo = meta
            .get("source_repo")
            .or_else(|| meta.get("source"))?
            .as_str()?;
        let commit = meta
            .get("commit")
            .or_else(|| meta.get("d3fend_commit"))?
            .as_str()?;
        let repo = repo.trim_end_matches('/');
        let short_repo = repo
            .rsplitn(3, '/')
            .take(2)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("/");
        Some(format!(
            "{short_repo} @ {}",
            commit.get(..12).unwrap_or(commit)
        ))
    }
}
