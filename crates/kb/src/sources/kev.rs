//! CISA Known Exploited Vulnerabilities catalog (`known_exploited_vulnerabilities.json`).
//!
//! Schema: <https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities_schema.json>.

use std::path::Path;

use serde::Deserialize;

use crate::catalog::{KevEntry, RansomwareUse};
use crate::error::{Error, Result};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Catalog {
    catalog_version: String,
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vulnerability {
    #[serde(rename = "cveID")]
    cve_id: String,
    vendor_project: String,
    product: String,
    vulnerability_name: String,
    date_added: String,
    due_date: String,
    #[serde(default)]
    known_ransomware_campaign_use: String,
    #[serde(default)]
    cwes: Vec<String>,
}

/// Parses the catalog; returns its version and entries sorted by CVE id.
pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<(String, Vec<KevEntry>)> {
    let catalog: Catalog = serde_json::from_slice(bytes).map_err(|source| Error::Json {
        path: path.to_owned(),
        what: "CISA KEV catalog",
        source,
    })?;
    let mut entries: Vec<KevEntry> = catalog
        .vulnerabilities
        .into_iter()
        .map(|v| KevEntry {
            cve: v.cve_id.trim().to_ascii_uppercase(),
            vendor: v.vendor_project,
            product: v.product,
            name: v.vulnerability_name,
            date_added: v.date_added,
            due_date: v.due_date,
            ransomware: if v
                .known_ransomware_campaign_use
                .eq_ignore_ascii_case("known")
            {
                RansomwareUse::Known
            } else {
                RansomwareUse::Unknown
            },
            cwes: v.cwes,
        })
        .collect();
    entries.sort_by(|a, b| a.cve.cmp(&b.cve));
    Ok((catalog.catalog_version, entries))
}
