//! Real public reports, retold in our own words (`bench/real-reports`), against what an
//! analyst reading each original finds: its adversaries and their aliases, its malware, its
//! exploitation status, the defenses its recommendations amount to, its indicators and the
//! links that are only references, its affected products and remediation, its hunting leads,
//! the sectors it says are targeted. Technique recall is printed, not checked: mapping plain
//! prose outside TRAM's techniques is issue #23.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ctiforge_analyze::{Analyzer, Options};
use ctiforge_kb::KnowledgeBase;
use ctiforge_model::Tlp;
use ctiforge_model::analysis::Analysis;
use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/real-reports");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("bench/real-reports")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".labels.json"))
        .collect();
    found.sort();
    found
}

fn strings(labels: &Value, key: &str) -> BTreeSet<String> {
    labels[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn missing(wanted: &BTreeSet<String>, found: &BTreeSet<String>) -> Vec<String> {
    wanted.difference(found).cloned().collect()
}

fn analyze(analyzer: &Analyzer<'_>, path: &Path) -> Analysis {
    let bytes = std::fs::read(path).expect("fixture text");
    let name = path.to_string_lossy().into_owned();
    let document = analyzer
        .read(ctiforge_text::Input {
            bytes: &bytes,
            path: Some(&name),
            ..Default::default()
        })
        .expect("reads");
    analyzer.analyze(&document, Tlp::Clear, &[])
}

#[test]
fn each_retold_report_reads_as_an_analyst_reads_the_original() {
    let kb = KnowledgeBase::embedded().expect("kb");
    let analyzer = Analyzer::new(&kb, Options::default()).expect("model");
    let labels_files = fixtures();
    assert!(labels_files.len() >= 5, "five fixtures: {labels_files:?}");
    let mut problems = Vec::new();
    let (mut techniques_wanted, mut techniques_found) = (0, 0);
    for labels_path in labels_files {
        let labels: Value =
            serde_json::from_slice(&std::fs::read(&labels_path).expect("labels")).expect("json");
        let text_path = PathBuf::from(labels_path.to_string_lossy().replace(".labels.json", ".md"));
        let name = text_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let a = analyze(&analyzer, &text_path);
        let e = &a.entities;
        let mut check = |part: &str, wrong: Vec<String>| {
            if !wrong.is_empty() {
                problems.push(format!("{name}: {part}: {wrong:?}"));
            }
        };

        let actors: BTreeSet<String> = e.threat_actors.iter().map(|x| x.name.clone()).collect();
        let aliases: BTreeSet<String> = e
            .threat_actors
            .iter()
            .flat_map(|x| x.mentions.iter().cloned())
            .collect();
        let malware: BTreeSet<String> = e.malware.iter().map(|x| x.name.clone()).collect();
        check(
            "actors missed",
            missing(&strings(&labels, "actors"), &actors),
        );
        check(
            "actors extra",
            missing(&actors, &strings(&labels, "actors")),
        );
        check(
            "aliases missed",
            missing(&strings(&labels, "actor_aliases"), &aliases),
        );
        check(
            "malware missed",
            missing(&strings(&labels, "malware"), &malware),
        );
        check(
            "malware extra",
            missing(&malware, &strings(&labels, "malware")),
        );

        let status = a.exploitation.status.to_string();
        if labels["exploitation"].as_str() != Some(status.as_str()) {
            check("exploitation", vec![status]);
        }

        let defenses: BTreeSet<String> = a
            .recommendations
            .iter()
            .flat_map(|r| r.mitigations.iter().chain(&r.countermeasures))
            .map(|d| d.id.clone())
            .collect();
        check(
            "defenses missed",
            missing(&strings(&labels, "defenses"), &defenses),
        );

        let iocs: BTreeSet<String> = a.iocs.iter().map(|i| i.value.clone()).collect();
        let flagged: BTreeSet<String> = a.false_positives.iter().map(|i| i.value.clone()).collect();
        check(
            "indicators missed",
            missing(&strings(&labels, "iocs"), &iocs),
        );
        check(
            "references listed as indicators",
            strings(&labels, "references")
                .intersection(&iocs)
                .cloned()
                .collect(),
        );
        check(
            "false positives not flagged",
            missing(&strings(&labels, "false_positives"), &flagged),
        );

        let logs: BTreeSet<String> = a
            .hunting_leads
            .iter()
            .filter(|l| l.why.iter().any(|w| w == "stated in the report"))
            .flat_map(|l| l.where_.iter().cloned())
            .collect();
        check(
            "stated logs missed",
            missing(&strings(&labels, "lead_logs"), &logs),
        );
        let lead_text: String = a.hunting_leads.iter().map(|l| l.what.as_str()).collect();
        check(
            "lead events missed",
            strings(&labels, "lead_events")
                .into_iter()
                .filter(|ev| !lead_text.contains(ev.as_str()))
                .collect(),
        );

        let products: BTreeSet<String> = a.affected.iter().map(|p| p.product.clone()).collect();
        check(
            "affected missed",
            missing(&strings(&labels, "affected"), &products),
        );
        let remediation: BTreeSet<String> = a
            .remediation
            .statuses
            .iter()
            .map(|s| s.status.to_string())
            .collect();
        check(
            "remediation missed",
            missing(&strings(&labels, "remediation"), &remediation),
        );

        if labels.get("sectors_targeted").is_some() {
            let targeted: BTreeSet<String> =
                e.targeted_sectors.iter().map(|s| s.name.clone()).collect();
            let wanted = strings(&labels, "sectors_targeted");
            check("targeted sectors missed", missing(&wanted, &targeted));
            check("targeted sectors extra", missing(&targeted, &wanted));
        }

        let wanted = strings(&labels, "techniques");
        let found: BTreeSet<String> = a.techniques.iter().map(|t| t.id.clone()).collect();
        techniques_wanted += wanted.len();
        techniques_found += wanted.intersection(&found).count();
        eprintln!(
            "{name}: techniques {}/{} ({:?} missed), found {:?}",
            wanted.intersection(&found).count(),
            wanted.len(),
            missing(&wanted, &found),
            found
        );
    }
    eprintln!("technique recall over the fixtures: {techniques_found}/{techniques_wanted}");
    assert!(problems.is_empty(), "{problems:#?}");
}
