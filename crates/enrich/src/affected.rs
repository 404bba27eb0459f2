//! Affected products and devices, and what can be done about them.
//!
//! Products come from where reports put them: the items of an "Affected products" (or
//! versions, devices, systems) section, read as `product: versions`; the summary lines of an
//! advisory (`Vendor: X`, `Equipment: Y`); and sentences that give a product with its versions
//! ("NetScaler ADC versions 13.1 before 13.1-49.15", "Easergy Studio prior to 9.3.5"). The
//! remediation status comes from what the report's sentences say: a fixed version is out, only
//! mitigations or a workaround exist, no fix is available or planned, the device must go.

use std::sync::LazyLock;

use ctiforge_model::analysis::{AffectedProduct, Quote, Remediation, RemediationFinding};
use ctiforge_model::{RemediationStatus, SentenceRole, Span};
use regex::Regex;

/// Most products kept from one report (a long appendix of part numbers is summarised by its
/// first ones).
const MAX_PRODUCTS: usize = 100;

/// A product named just before its versions: capitalised words, then "version(s)", "prior
/// to", "before", "through" or "earlier than", then a version.
///
/// Word characters are ASCII and the Latin letters of Latin-1 and Latin Extended-A/B
/// ([`WORD`]), not Unicode's `\w`: compiling `\w` six times took 3–4.5 ms of every `analyze`
/// start, this 0.5 ms, and advisories write product names in Latin script (`Bürkert`).
static PRODUCT_VERSIONS: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(
        r"(?x)
        (?P<name>(?:[A-Z][{w}+\-/.]*|[0-9][{w}\-]*[A-Za-z][{w}\-]*)(?:\ (?:[A-Z0-9][{w}+\-/.]*))*)
        \ (?:firmware\ |software\ )?
        (?P<versions>
            (?:(?:versions?|v\.?|releases?|builds?)\ )?
            (?:prior\ to|before|earlier\ than|up\ to|through|older\ than|<=?|from)?\ ?
            (?:version\ |v)?
            [0-9]+(?:\.[0-9A-Za-z]+)+
            (?:[^.;:\n]{{0,60}}?(?:\ and\ (?:prior|earlier|later|before)|\ or\ (?:earlier|later|prior)|\ through\ v?[0-9][{w}.\-]*|\ to\ v?[0-9][{w}.\-]*|\ before\ v?[0-9][{w}.\-]*))?
        )",
        w = WORD
    );
    Regex::new(&pattern).expect("a valid pattern")
});

/// The word characters of product names, for a character class: ASCII letters, digits and
/// `_`, and the letters of Latin-1 Supplement and Latin Extended-A/B (not `×` and `÷`).
const WORD: &str = "A-Za-z0-9_À-ÖØ-öø-ɏ";

pub(crate) fn warm_up() {
    LazyLock::force(&PRODUCT_VERSIONS);
}

/// Words that start a capitalised run but are not products.
const NOT_PRODUCTS: &[&str] = &[
    "The",
    "This",
    "These",
    "All",
    "Users",
    "Update",
    "Upgrade",
    "Versions",
    "Version",
    "CVE",
    "CVSS",
    "In",
    "On",
    "For",
    "See",
    "If",
    "When",
    "Customers",
    "Apply",
    "Install",
    "Firmware",
    "Software",
    "Release",
    "Releases",
    "Fixed",
    "From",
    "Prior",
    "A",
    "An",
    "It",
];

/// The products and devices the report says are affected.
pub fn affected(text: &str, sentences: &[Span], roles: &[SentenceRole]) -> Vec<AffectedProduct> {
    let mut found: Vec<AffectedProduct> = Vec::new();
    let mut vendor: Option<String> = None;
    let mut in_section = false;
    let mut equipment: Vec<(String, Quote)> = Vec::new();
    for (span, role) in sentences.iter().zip(roles) {
        let Some(sentence) = span.slice(text) else {
            continue;
        };
        let quote = || Quote {
            start: span.start,
            end: span.end,
            text: sentence.to_owned(),
        };
        let line = sentence.trim().trim_start_matches(['-', '*', '•']).trim();
        if *role == SentenceRole::Heading {
            in_section = is_affected_heading(line);
            continue;
        }
        if let Some(name) = labelled(line, &["vendor", "manufacturer"]) {
            vendor = Some(name.to_owned());
            continue;
        }
        if let Some(names) = labelled(
            line,
            &[
                "equipment",
                "product",
                "products",
                "affected products",
                "device",
                "devices",
            ],
        ) {
            equipment.push((names.to_owned(), quote()));
            continue;
        }
        if let Some(named) = following_vendor(line) {
            vendor = Some(named);
            in_section = true;
            continue;
        }
        if matches!(role, SentenceRole::Reference | SentenceRole::Metadata) {
            continue;
        }
        let listed = sentence.trim_start().starts_with(['-', '*', '•']);
        if in_section && (listed || !line.ends_with('.')) && line.len() <= 300 {
            if let Some(product) = item(line, vendor.as_deref(), quote()) {
                add(&mut found, product);
            }
            continue;
        }
        if *role == SentenceRole::Narrative {
            for product in with_versions(line, vendor.as_deref(), &quote()) {
                add(&mut found, product);
            }
        }
    }
    if found.is_empty() {
        for (names, evidence) in equipment {
            for name in split_names(&names) {
                add(
                    &mut found,
                    AffectedProduct {
                        vendor: vendor.clone(),
                        product: name,
                        versions: Vec::new(),
                        evidence: evidence.clone(),
                    },
                );
            }
        }
    } else if let Some(vendor) = &vendor {
        for product in &mut found {
            product.vendor.get_or_insert_with(|| vendor.clone());
        }
    }
    found.truncate(MAX_PRODUCTS);
    found
}

/// "Affected products", "Products affected", "Affected versions", "Affected devices",
/// "Affected systems", "Vulnerable versions".
fn is_affected_heading(line: &str) -> bool {
    let lower = line.trim_start_matches('#').to_lowercase();
    (lower.contains("affected") || lower.contains("vulnerable"))
        && [
            "product",
            "version",
            "device",
            "system",
            "model",
            "software",
            "firmware",
            "component",
        ]
        .iter()
        .any(|w| lower.contains(w))
        && !lower.contains("not affected")
        && !lower.contains("unaffected")
}

/// `Vendor: Siemens` → `Siemens` (the label is one of `labels`, any case).
fn labelled<'t>(line: &'t str, labels: &[&str]) -> Option<&'t str> {
    let (label, value) = line.split_once(':')?;
    let label = label.trim().to_lowercase();
    let value = value.trim().trim_end_matches('.');
    (labels.contains(&label.as_str()) && !value.is_empty() && value.len() <= 200).then_some(value)
}

/// "The following Siemens products are affected:" → `Siemens`.
fn following_vendor(line: &str) -> Option<String> {
    let lower = line.to_lowercase();
    let rest = lower.strip_prefix("the following ")?;
    let end = rest.find(" products").or_else(|| rest.find(" devices"))?;
    if !rest[end..].contains("affected") {
        return None;
    }
    let start = "the following ".len();
    let name = line.get(start..start + end)?.trim();
    (!name.is_empty() && name.split_whitespace().count() <= 5).then(|| name.to_owned())
}

/// One item of an affected-products list: `Easergy Studio: <v9.3.5`,
/// `ThinManager versions 11.1.0 to 13.2.0`, `RUGGEDCOM APE1808`.
fn item(line: &str, vendor: Option<&str>, evidence: Quote) -> Option<AffectedProduct> {
    let (name, versions) = match line.split_once(": ") {
        Some((name, versions)) => (name.trim(), split_versions(versions)),
        None => match PRODUCT_VERSIONS.captures(line) {
            Some(c) if c.get(0).is_some_and(|m| m.start() == 0) => (
                c.name("name").map_or("", |m| m.as_str().trim()),
                split_versions(c.name("versions").map_or("", |m| m.as_str())),
            ),
            _ => (line.trim_end_matches(['.', ':']).trim(), Vec::new()),
        },
    };
    let product = strip_vendor(name, vendor);
    let words = product.split_whitespace().count();
    if product.is_empty() || words > 12 || product.ends_with(':') {
        return None;
    }
    Some(AffectedProduct {
        vendor: vendor.map(str::to_owned),
        product,
        versions,
        evidence,
    })
}

/// Products given with their versions in a sentence.
fn with_versions(line: &str, vendor: Option<&str>, evidence: &Quote) -> Vec<AffectedProduct> {
    let lower = line.to_lowercase();
    // A version in a sentence about an update is the fix, not the flaw.
    let about_flaw = [
        "affect",
        "vulnerab",
        "prior to",
        "before",
        "earlier",
        "and older",
        "through",
        "up to",
    ]
    .iter()
    .any(|w| lower.contains(w))
        && ![
            "update to",
            "upgrade to",
            "fixed in",
            "has released",
            "patched in",
            "available in",
        ]
        .iter()
        .any(|w| lower.contains(w));
    if !about_flaw {
        return Vec::new();
    }
    PRODUCT_VERSIONS
        .captures_iter(line)
        .filter_map(|c| {
            let name = trim_name(&c["name"])?;
            Some(AffectedProduct {
                vendor: vendor.map(str::to_owned),
                product: strip_vendor(name, vendor),
                versions: split_versions(&c["versions"]),
                evidence: evidence.clone(),
            })
        })
        .collect()
}

/// A capitalised run without the sentence words that start it ("The", "Users"...), at most
/// six words.
fn trim_name(name: &str) -> Option<&str> {
    let mut rest = name.trim();
    while let Some(first) = rest.split_whitespace().next() {
        if NOT_PRODUCTS.contains(&first) {
            rest = rest[first.len()..].trim_start();
        } else {
            break;
        }
    }
    let words = rest.split_whitespace().count();
    (words > 0 && words <= 6 && rest.chars().any(char::is_alphabetic)).then_some(rest)
}

/// `Schneider Electric Easergy Studio` with vendor `Schneider Electric` → `Easergy Studio`.
/// (Advisories built from product trees may repeat it: `MicroDicom MicroDicom DICOM Viewer`.)
fn strip_vendor(name: &str, vendor: Option<&str>) -> String {
    let mut name = name.trim();
    while let Some(vendor) = vendor
        && let Some(head) = name.get(..vendor.len())
        && head.eq_ignore_ascii_case(vendor)
        && name[vendor.len()..].starts_with(' ')
    {
        name = name[vendor.len()..].trim_start();
    }
    name.to_owned()
}

/// `11.1.0|11.2.0`, `V2.1 SP1, V2.2` → one entry each; prose ("all versions") kept whole.
fn split_versions(versions: &str) -> Vec<String> {
    versions
        .split(['|', ';'])
        .flat_map(|part| {
            if part.matches(',').count() >= 1 && !part.contains(" and ") {
                part.split(',').map(str::trim).collect::<Vec<_>>()
            } else {
                vec![part.trim()]
            }
        })
        .map(|v| v.trim_end_matches('.').trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// `A, B and C (D)` → the names.
fn split_names(names: &str) -> Vec<String> {
    names
        .split([',', ';'])
        .flat_map(|part| part.split(" and "))
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty() && n.split_whitespace().count() <= 10)
        .collect()
}

/// Adds a product, merging versions with the same product already found.
fn add(found: &mut Vec<AffectedProduct>, product: AffectedProduct) {
    let same_product = |a: &str, b: &str| {
        let (a, b) = (a.to_lowercase(), b.to_lowercase());
        a == b || a.ends_with(&format!(" {b}")) || b.ends_with(&format!(" {a}"))
    };
    if let Some(same) = found
        .iter_mut()
        .find(|p| same_product(&p.product, &product.product))
    {
        for version in product.versions {
            if !same.versions.contains(&version) {
                same.versions.push(version);
            }
        }
        return;
    }
    found.push(product);
}

/// No fix is available yet. (Also what makes a sentence not say a fix is available.)
const NONE_AVAILABLE: &[&str] = &[
    "no fix is available",
    "no fix available",
    "no patch is available",
    "no patch available",
    "no update is available",
    "no fix is currently available",
    "has not released a fix",
    "has not released a patch",
    "has not yet released",
    "not yet available",
    "no fix yet",
    "no known fix",
    "unpatched",
    "currently no fix",
    "no fixes are available",
];

/// The vendor will not fix it. (Also what makes a sentence not say a fix is available.)
const NO_FIX_PLANNED: &[&str] = &[
    "no fix is planned",
    "no fix planned",
    "does not plan to",
    "do not plan to",
    "will not be fixed",
    "will not release",
    "end of life",
    "end-of-life",
    "end of support",
    "end-of-support",
    "no longer supported",
    "no longer support",
    "reached end",
    "discontinued",
    "not be patched",
    "no plans to",
];

/// Cues of each remediation status, matched in lower case. The first sentence that says it is
/// the evidence.
const REMEDIATION_CUES: &[(RemediationStatus, &[&str])] = &[
    (
        RemediationStatus::FixAvailable,
        &[
            "has released",
            "have released",
            "released a new version",
            "released an update",
            "released updates",
            "released a patch",
            "released patches",
            "update to version",
            "update to v",
            "upgrade to version",
            "upgrade to v",
            "upgrade to the latest",
            "update to the latest",
            "fixed in",
            "fixed version",
            "is fixed",
            "has been fixed",
            "has fixed",
            "patched in",
            "apply the patch",
            "apply patches",
            "apply the update",
            "install the update",
            "recommends updating",
            "recommends upgrading",
            "recommends users update",
            "recommends users upgrade",
            "recommends users to update",
            "recommends users to upgrade",
            "patch and update information",
            "or later version",
            "or later",
            "security update",
            "hotfix",
            "update to ",
            "upgrade to ",
            "or greater",
            "or higher",
            "and later",
            "or newer",
            "corrected in",
            "resolved in",
            "resolved this",
            "remediated in",
            "released software update",
            "software updates",
            "released firmware",
            "firmware update",
            "product updates",
            "supplied patch",
            "patch software",
            "new release",
            "latest version",
            "latest firmware",
        ],
    ),
    (
        RemediationStatus::Mitigation,
        &[
            "mitigat",
            "to reduce the risk",
            "reduce the risk",
            "restrict access",
            "limit access",
            "minimize network exposure",
            "isolate them",
            "behind firewalls",
            "compensating",
            "network segmentation",
            "segment",
        ],
    ),
    (
        RemediationStatus::Workaround,
        &[
            "workaround",
            "work around",
            "as a temporary measure",
            "temporarily disable",
            "until a fix",
        ],
    ),
    (RemediationStatus::NoneAvailable, NONE_AVAILABLE),
    (RemediationStatus::NoFixPlanned, NO_FIX_PLANNED),
    (
        RemediationStatus::ReplaceOrRemove,
        &[
            "replace the device",
            "replace affected",
            "replace the affected",
            "remove the device",
            "remove affected devices",
            "remove the affected",
            "discontinue use",
            "stop using",
            "disconnect the device",
            "decommission",
            "migrate to a supported",
            "migrate to the successor",
            "replace it with",
        ],
    ),
];

/// Each remediation status the report states, in vocabulary order, with its first sentence.
pub fn remediation(text: &str, sentences: &[Span], roles: &[SentenceRole]) -> Remediation {
    let mut found: Vec<Option<Quote>> = vec![None; REMEDIATION_CUES.len()];
    for (span, role) in sentences.iter().zip(roles) {
        if found.iter().all(Option::is_some) {
            break;
        }
        if !matches!(role, SentenceRole::Advice | SentenceRole::Narrative) {
            continue;
        }
        let Some(sentence) = span.slice(text) else {
            continue;
        };
        let lower = sentence.to_lowercase();
        let says = |cues: &[&str]| cues.iter().any(|cue| lower.contains(cue));
        for ((status, cues), slot) in REMEDIATION_CUES.iter().zip(found.iter_mut()) {
            // "no fix is available" is not "a fix is available"; "there is no workaround" is
            // not a workaround.
            let negated = match status {
                RemediationStatus::FixAvailable => says(NONE_AVAILABLE) || says(NO_FIX_PLANNED),
                RemediationStatus::Workaround => {
                    says(&["no workaround", "no known workaround", "not a workaround"])
                }
                _ => false,
            };
            if slot.is_none() && says(cues) && !negated {
                *slot = Some(Quote {
                    start: span.start,
                    end: span.end,
                    text: sentence.to_owned(),
                });
            }
        }
    }
    let statuses = REMEDIATION_CUES
        .iter()
        .zip(found)
        .filter_map(|((status, _), evidence)| {
            evidence.map(|evidence| RemediationFinding {
                status: *status,
                evidence,
            })
        })
        .collect();
    Remediation { statuses }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<Span>, Vec<SentenceRole>) {
        let (_, sentences) = ctiforge_text::segment(text);
        let roles = vec![SentenceRole::Narrative; sentences.len()];
        (sentences, roles)
    }

    #[test]
    fn an_affected_products_section_gives_products_vendor_and_versions() {
        let text = "# Advisory\n\n- Vendor: Acme Medical\n- Equipment: InfuseLink\n\n## Affected products\n\nThe following Acme Medical products are affected:\n\n- Acme Medical InfuseLink pump: versions 2.1 and prior\n- InfuseLink gateway: 3.0.1|3.0.2\n\n## Mitigations\n\nAcme Medical has released version 2.2.\n";
        let document = ctiforge_text::ingest(ctiforge_text::Input {
            bytes: text.as_bytes(),
            path: Some("advisory.md"),
            ..Default::default()
        })
        .expect("markdown");
        let roles = ctiforge_text::roles(&document);
        let found = affected(&document.text, &document.sentences, &roles);
        let names: Vec<(&str, Option<&str>, Vec<&str>)> = found
            .iter()
            .map(|p| {
                (
                    p.product.as_str(),
                    p.vendor.as_deref(),
                    p.versions.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                (
                    "InfuseLink pump",
                    Some("Acme Medical"),
                    vec!["versions 2.1 and prior"]
                ),
                (
                    "InfuseLink gateway",
                    Some("Acme Medical"),
                    vec!["3.0.1", "3.0.2"]
                ),
            ]
        );
        let remediation = remediation(&document.text, &document.sentences, &roles);
        let statuses: Vec<_> = remediation.statuses.iter().map(|s| s.status).collect();
        assert_eq!(statuses, [RemediationStatus::FixAvailable]);
    }

    #[test]
    fn a_sentence_with_a_product_and_its_versions_gives_both() {
        let text =
            "The flaw affects NetScaler ADC versions 13.1 before 13.1-49.15 and is exploited.";
        let (sentences, roles) = read(text);
        let found = affected(text, &sentences, &roles);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].product, "NetScaler ADC");
        assert_eq!(found[0].versions, ["versions 13.1 before 13.1-49.15"]);
        // The version of a fix is not an affected version.
        let fix = "Users should update NetScaler ADC to version 13.1-49.15.";
        let (sentences, roles) = read(fix);
        assert!(affected(fix, &sentences, &roles).is_empty());
    }

    #[test]
    fn product_names_in_latin_script_keep_their_accented_letters() {
        let text = "The flaw affects Bürkert Type 8681 Control Head versions 2.4 and prior.";
        let (sentences, roles) = read(text);
        let found = affected(text, &sentences, &roles);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].product, "Bürkert Type 8681 Control Head");
        assert_eq!(found[0].versions, ["versions 2.4 and prior"]);
    }

    #[test]
    fn remediation_reads_negation_and_end_of_life() {
        let text = "Currently no fix is available for the pump. The gateway has reached end of life and will not be patched. Replace the device with a supported model.";
        let (sentences, roles) = read(text);
        let statuses: Vec<_> = remediation(text, &sentences, &roles)
            .statuses
            .iter()
            .map(|s| s.status)
            .collect();
        assert_eq!(
            statuses,
            [
                RemediationStatus::NoneAvailable,
                RemediationStatus::NoFixPlanned,
                RemediationStatus::ReplaceOrRemove
            ]
        );
    }
}
