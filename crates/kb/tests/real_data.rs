//! The knowledge base built from the real sources in `../shared/data` (or `$CTIFORGE_DATA`).
//!
//! The expected counts are the ones the sources publish (ATT&CK v18.1, ATLAS 5.6.0, D3FEND
//! 1.2.0, KEV 2025.08.25); see `shared/data/README.md`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ctiforge_kb::{Entry, KnowledgeBase, RelationKind, SoftwareKind};
use ctiforge_model::Domain;

/// Says why a test does not run; with `CI` set (`.ci/run` sets it) a skip is a failure.
macro_rules! skip {
    ($($arg:tt)*) => {{
        let message = format!($($arg)*);
        assert!(std::env::var_os("CI").is_none(), "{message} (CI is set: nothing may skip)");
        eprintln!("{message}");
    }};
}

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CTIFORGE_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    if dir.join("attack/enterprise-attack.json").is_file() {
        Some(dir)
    } else {
        skip!(
            "SKIPPED: no shared data at {} (set CTIFORGE_DATA); .ci/run fails in this case",
            dir.display()
        );
        None
    }
}

/// The knowledge base loaded from the sources, once per test binary.
fn kb() -> Option<&'static KnowledgeBase> {
    static KB: OnceLock<Option<KnowledgeBase>> = OnceLock::new();
    KB.get_or_init(|| {
        data_dir().map(|dir| KnowledgeBase::from_dir(&dir).expect("the shared data loads"))
    })
    .as_ref()
}

#[test]
fn counts_match_the_published_releases() {
    let Some(kb) = kb() else { return };
    let c = kb.catalog();
    let enterprise = |t: &&ctiforge_kb::Technique| t.domains.contains(&Domain::Enterprise);
    let active = c
        .techniques
        .iter()
        .filter(enterprise)
        .filter(|t| t.is_active());
    assert_eq!(active.clone().filter(|t| !t.is_subtechnique()).count(), 216);
    assert_eq!(active.filter(|t| t.is_subtechnique()).count(), 475);
    let active_groups = c
        .groups
        .iter()
        .filter(|g| g.domains.contains(&Domain::Enterprise) && !g.revoked && !g.deprecated);
    assert_eq!(active_groups.count(), 172);
    let campaigns = c
        .campaigns
        .iter()
        .filter(|x| x.domains.contains(&Domain::Enterprise));
    assert_eq!(campaigns.count(), 52);
    let mitigations = c
        .mitigations
        .iter()
        .filter(|m| m.domains.contains(&Domain::Enterprise) && !m.deprecated && !m.revoked);
    assert_eq!(mitigations.count(), 44);
    let strategies = c
        .detection_strategies
        .iter()
        .filter(|d| d.domains.contains(&Domain::Enterprise));
    assert_eq!(strategies.count(), 691);
    assert_eq!(
        c.techniques
            .iter()
            .filter(|t| t.domains == [Domain::Atlas])
            .count(),
        170
    );
    assert_eq!(c.d3fend_techniques.len(), 248);
    assert_eq!(c.kev.len(), 1404);

    // Mobile and ICS, from shared/data/README.md.
    let active_in = |domain| {
        c.techniques
            .iter()
            .filter(move |t| t.domains.contains(&domain) && t.is_active())
    };
    assert_eq!(
        active_in(Domain::Mobile)
            .filter(|t| !t.is_subtechnique())
            .count(),
        77
    );
    assert_eq!(
        active_in(Domain::Mobile)
            .filter(|t| t.is_subtechnique())
            .count(),
        47
    );
    assert_eq!(active_in(Domain::Ics).count(), 83);
    let malware = c
        .software
        .iter()
        .filter(|s| s.domains.contains(&Domain::Enterprise) && s.kind == SoftwareKind::Malware)
        .filter(|s| !s.revoked && !s.deprecated);
    assert_eq!(malware.count(), 693);
}

#[test]
fn every_source_records_its_version() {
    let Some(kb) = kb() else { return };
    let version = |key: &str| {
        kb.catalog()
            .sources
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.version.clone())
            .unwrap_or_else(|| panic!("source {key} is recorded"))
    };
    assert_eq!(version("attack-enterprise"), "18.1");
    assert_eq!(version("attack-mobile"), "18.1");
    assert_eq!(version("attack-ics"), "18.1");
    assert_eq!(version("atlas"), "5.6.0");
    assert_eq!(version("d3fend"), "1.2.0");
    assert_eq!(version("kev"), "2025.08.25");
    for source in &kb.catalog().sources {
        assert!(!source.files.is_empty(), "{} lists its files", source.key);
        assert!(source.files.iter().all(|f| f.sha256.len() == 64));
    }
}

#[test]
fn tactics_are_in_matrix_order() {
    let Some(kb) = kb() else { return };
    let enterprise: Vec<&str> = kb
        .tactics(Domain::Enterprise)
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(enterprise.len(), 14);
    assert_eq!(
        enterprise.first(),
        Some(&"TA0043"),
        "Reconnaissance comes first"
    );
    assert_eq!(enterprise.last(), Some(&"TA0040"), "Impact comes last");
    assert_eq!(kb.tactics(Domain::Ics).count(), 12);
    assert_eq!(kb.tactics(Domain::Atlas).count(), 16);
}

#[test]
fn techniques_carry_tactics_parents_and_platforms() {
    let Some(kb) = kb() else { return };
    let t1190 = kb.technique("t1190").expect("T1190 exists");
    assert_eq!(t1190.name, "Exploit Public-Facing Application");
    assert_eq!(t1190.tactics, ["TA0001"]);
    assert!(t1190.platforms.iter().any(|p| p == "Linux"));

    let powershell = kb.technique("T1059.001").expect("T1059.001 exists");
    assert_eq!(powershell.parent.as_deref(), Some("T1059"));
    assert!(
        kb.relations_from("T1059.001")
            .any(|r| r.kind == RelationKind::SubtechniqueOf && r.target == "T1059")
    );

    let atlas = kb.technique("AML.T0043").expect("ATLAS technique");
    assert_eq!(atlas.name, "Craft Adversarial Data");
    assert!(atlas.tactics.iter().all(|t| t.starts_with("AML.TA")));
    assert!(!atlas.tactics.is_empty());
}

#[test]
fn revoked_ids_resolve_to_their_replacement() {
    let Some(kb) = kb() else { return };
    let old = kb
        .technique("T1086")
        .expect("the revoked technique is kept");
    assert!(old.revoked);
    assert_eq!(old.revoked_by.as_deref(), Some("T1059.001"));
    assert_eq!(
        kb.resolve_technique("T1086").map(|t| t.id.as_str()),
        Some("T1059.001")
    );
    // Every revoked technique with a replacement resolves to one that is not revoked (it may
    // be deprecated: mobile T1431 is replaced by T1476, itself deprecated).
    for technique in kb
        .catalog()
        .techniques
        .iter()
        .filter(|t| t.revoked_by.is_some())
    {
        let resolved = kb.resolve_technique(&technique.id).expect("resolves");
        assert!(!resolved.revoked, "{} → {}", technique.id, resolved.id);
    }
}

#[test]
fn aliases_resolve_case_insensitively() {
    let Some(kb) = kb() else { return };
    let found = kb.find("cozy BEAR");
    let Some(Entry::Group(i)) = found.first() else {
        panic!("Cozy Bear finds a group first: {found:?}");
    };
    assert_eq!(kb.catalog().groups[*i].id, "G0016");
    assert_eq!(kb.catalog().groups[*i].name, "APT29");
    assert_eq!(kb.group("g0016").map(|g| g.name.as_str()), Some("APT29"));
    // Ids in any case and with spaces around, as written and as the catalog writes them.
    assert!(!kb.get("T1059.001").is_empty());
    assert_eq!(kb.get(" t1059.001 "), kb.get("T1059.001"));
    assert!(kb.get("T1059.0011").is_empty());
    // MISP's threat-actor cluster for APT29 is linked to G0016 by its UUID.
    let galaxy_link = found.iter().any(|e| match e {
        Entry::Galaxy(i) => kb.catalog().galaxy_clusters[*i]
            .attack_ids
            .contains(&"G0016".to_owned()),
        _ => false,
    });
    assert!(galaxy_link, "a MISP cluster for Cozy Bear links to G0016");
}

#[test]
fn d3fend_mappings_explain_the_artifact_path() {
    let Some(kb) = kb() else { return };
    let t1190: Vec<_> = kb.countermeasures("T1190").collect();
    let ids: std::collections::BTreeSet<&str> = t1190.iter().map(|m| m.d3fend.as_str()).collect();
    // shared/data/d3fend/README.md: T1190 has 13 inferred countermeasures.
    assert_eq!(ids.len(), 13, "{ids:?}");
    let itf = t1190
        .iter()
        .find(|m| m.d3fend == "D3-ITF")
        .expect("Inbound Traffic Filtering counters T1190");
    assert_eq!(itf.offensive_artifact, "Inbound Internet Network Traffic");
    assert_eq!(itf.defensive_relation, "filters");

    assert_eq!(
        kb.d3fend("D3-NI").map(|d| d.name.as_str()),
        Some("Network Isolation")
    );
    let via_m1037: Vec<&str> = kb
        .mitigation_countermeasures("M1037")
        .map(|m| m.d3fend.as_str())
        .collect();
    assert_eq!(via_m1037, ["D3-NI"]);
}

#[test]
fn v18_detection_strategies_name_their_log_sources() {
    let Some(kb) = kb() else { return };
    let strategies: Vec<&str> = kb
        .relations_to("T1190")
        .filter(|r| r.kind == RelationKind::Detects)
        .map(|r| r.source.as_str())
        .collect();
    assert!(!strategies.is_empty());
    let c = kb.catalog();
    let strategy = c
        .detection_strategies
        .iter()
        .find(|d| d.id == strategies[0])
        .expect("strategy exists");
    let sources: Vec<&str> = strategy
        .analytics
        .iter()
        .filter_map(|a| c.analytics.iter().find(|x| &x.id == a))
        .flat_map(|a| a.log_sources.iter().map(|l| l.name.as_str()))
        .collect();
    assert!(sources.len() >= 5, "{sources:?}");
}

#[test]
fn kev_and_warninglists_are_loaded() {
    let Some(kb) = kb() else { return };
    let log4shell = kb.kev("cve-2021-44228").expect("Log4Shell is in KEV");
    assert_eq!(log4shell.vendor, "Apache");
    assert_eq!(log4shell.ransomware, ctiforge_kb::RansomwareUse::Known);
    let rfc1918 = kb
        .warninglists()
        .iter()
        .find(|w| w.slug == "rfc1918")
        .expect("rfc1918 list");
    assert_eq!(
        rfc1918.entries().collect::<Vec<_>>(),
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    );
    let total: usize = kb.warninglists().iter().map(|w| w.len()).sum();
    assert!(total > 190_000, "{total}");
}

#[test]
fn the_snapshot_round_trips_and_the_embedded_one_is_current() {
    let Some(kb) = kb() else { return };
    let bytes = kb.to_snapshot();
    let decoded = KnowledgeBase::from_snapshot(&bytes, "fresh").expect("decodes");
    assert_eq!(decoded.catalog(), kb.catalog());
    assert_eq!(decoded.warninglists(), kb.warninglists());
    assert_eq!(
        decoded.warninglist_index().bytes(),
        kb.warninglist_index().bytes()
    );
    assert_eq!(decoded.known_ids(), kb.known_ids());
    // Same sources, same bytes: the build is deterministic, and the committed snapshot was
    // built from exactly these sources. If this fails after a data or format change, run
    //   cargo run --release -- kb build --from ../shared/data --out crates/kb/snapshot/ctiforge-kb.bin.gz
    assert!(
        bytes == KnowledgeBase::embedded_bytes(),
        "the embedded snapshot is stale; rebuild it (see the comment above)"
    );
}

#[test]
fn unknown_queries_get_near_matches() {
    let Some(kb) = kb() else { return };
    assert!(kb.find("T1909").is_empty());
    let suggestions = kb.suggest("Cozy Baer", 5);
    assert_eq!(suggestions.first().map(|s| s.id.as_str()), Some("G0016"));
    let suggestions = kb.suggest("T1190.001", 5);
    assert!(
        suggestions.iter().any(|s| s.id == "T1190"),
        "{suggestions:?}"
    );
}

/// A copy of the data folder made of symlinks, with one file replaced or removed.
fn data_with(change: impl FnOnce(&Path)) -> Option<(tempfile::TempDir, PathBuf)> {
    let source = data_dir()?;
    let temp = tempfile::tempdir().expect("tempdir");
    let root = temp.path().join("data");
    std::fs::create_dir_all(&root).expect("create");
    for entry in std::fs::read_dir(&source).expect("list data") {
        let entry = entry.expect("entry");
        let target = root.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir(&target).expect("dir");
            for file in std::fs::read_dir(entry.path()).expect("list") {
                let file = file.expect("file");
                std::os::unix::fs::symlink(file.path(), target.join(file.file_name()))
                    .expect("symlink");
            }
        }
    }
    change(&root);
    Some((temp, root))
}

#[test]
fn a_corrupt_source_file_is_named_in_the_error() {
    let Some((_temp, root)) = data_with(|root| {
        let file = root.join("kev/known_exploited_vulnerabilities.json");
        std::fs::remove_file(&file).expect("unlink");
        std::fs::write(
            &file,
            br#"{"catalogVersion": "x", "vulnerabilities": [{"cveID""#,
        )
        .expect("write");
    }) else {
        return;
    };
    let err = KnowledgeBase::from_dir(&root).expect_err("corrupt KEV is rejected");
    let message = err.to_string();
    assert!(
        message.contains("kev/known_exploited_vulnerabilities.json"),
        "{message}"
    );
    assert!(message.contains("CISA KEV catalog"), "{message}");
}

#[test]
fn a_missing_source_file_is_named_in_the_error() {
    let Some((_temp, root)) = data_with(|root| {
        std::fs::remove_file(root.join("atlas/ATLAS.yaml")).expect("unlink");
    }) else {
        return;
    };
    let err = KnowledgeBase::from_dir(&root).expect_err("missing ATLAS is rejected");
    assert!(
        matches!(err, ctiforge_kb::Error::Missing { ref path, .. } if path.ends_with("atlas/ATLAS.yaml")),
        "{err}"
    );
}
