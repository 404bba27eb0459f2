//! The detect stage on reports of our own: every rule made passes its self-test, and the
//! self-test means what it says — a fresh hunt engine matches each positive event and none of
//! the negative ones (a property over random indicators).

use ctiforge_analyze::{Analyzer, Options};
use ctiforge_hunt::{Hunter, Source};
use ctiforge_kb::KnowledgeBase;
use ctiforge_model::Tlp;
use ctiforge_model::analysis::{Analysis, GeneratedRule};
use ctiforge_text::Input;
use proptest::prelude::*;

fn analyze(analyzer: &Analyzer<'_>, text: &str) -> Analysis {
    let document = analyzer
        .read(Input {
            bytes: text.as_bytes(),
            path: Some("report.txt"),
            ..Input::default()
        })
        .expect("ingests");
    analyzer.analyze(&document, Tlp::Clear, &[])
}

fn analyzer(kb: &KnowledgeBase) -> Analyzer<'_> {
    Analyzer::new(
        kb,
        Options {
            version: "test".to_owned(),
            ..Options::default()
        },
    )
    .expect("model")
}

fn options() -> ctiforge_detect::Options<'static> {
    ctiforge_detect::Options {
        collection: None,
        targets: vec![ctiforge_sigma::convert::Target::Splunk],
        per_technique: 5,
        date: "2026-11-26".into(),
    }
}

/// Re-hunts a generated rule's proof with an engine built from its YAML alone.
fn check_proof(rule: &GeneratedRule) {
    let collection = rsigma_parser::parse_sigma_yaml(&rule.yaml).expect("valid Sigma");
    let parsed = &collection.rules[0];
    let mut yaml = String::from("name: examples\nvars:\n");
    // The placeholders' example values are not in the rule; fill them as the proof did.
    let examples = [
        ("device_subnets", "10.20.*"),
        ("allowed_destinations", "10.1.1.5"),
        ("inference_paths", "/v1/predict*"),
        ("inference_clients", "10.9.0.*"),
    ];
    for (name, value) in examples {
        yaml.push_str(&format!("  {name}:\n    - '{value}'\n"));
    }
    yaml.push_str("transformations:\n  - type: value_placeholders\n");
    let pipeline = rsigma_eval::pipeline::parse_pipeline(&yaml).expect("pipeline");
    let declared = Source {
        product: parsed.logsource.product.clone(),
        category: parsed.logsource.category.clone(),
        service: parsed.logsource.service.clone(),
    };
    let (hunter, errors) = Hunter::new(
        &collection,
        &[pipeline],
        ctiforge_hunt::Options {
            declared: Some(declared),
            ..ctiforge_hunt::Options::default()
        },
    );
    assert!(errors.is_empty(), "{errors:?}");
    for event in &rule.proof.positive {
        assert_eq!(
            hunter.matching_rules(event.clone()),
            std::slice::from_ref(&rule.id),
            "{}",
            rule.yaml
        );
    }
    for event in &rule.proof.negative {
        assert!(
            hunter.matching_rules(event.clone()).is_empty(),
            "{event} matched\n{}",
            rule.yaml
        );
    }
    assert!(rule.proof.passed && !rule.proof.negative.is_empty());
}

#[test]
fn a_report_without_indicators_still_gets_lead_rules_and_says_why_not_more() {
    let kb = KnowledgeBase::embedded().expect("kb");
    let analyzer = analyzer(&kb);
    let text = "Advisory on hospital infusion pumps.\n\nThe intruders stopped CloudTrail logging with \
                StopLogging and deleted the trail (T1562.008) after moving into the hospital's \
                medical device network. They then queried the AI triage model's inference API \
                thousands of times to extract the model (AML.T0024).";
    let analysis = analyze(&analyzer, text);
    let content = ctiforge_detect::detection_content(&analysis, &options());
    let logsources: Vec<&str> = content
        .generated
        .iter()
        .map(|r| r.logsource.as_str())
        .collect();
    assert!(
        logsources.contains(&"aws/cloudtrail"),
        "{logsources:?} {:?}",
        content.notes
    );
    assert!(logsources.contains(&"firewall"), "{logsources:?}");
    assert!(logsources.contains(&"webserver"), "{logsources:?}");
    assert!(
        content
            .notes
            .iter()
            .any(|n| n.contains("names no indicators")),
        "{:?}",
        content.notes
    );
    for rule in &content.generated {
        check_proof(rule);
        assert!(
            !rule.queries.is_empty() && !rule.queries[0].1.starts_with("not converted"),
            "{:?}",
            rule.queries
        );
    }
    let cloudtrail = content
        .generated
        .iter()
        .find(|r| r.logsource == "aws/cloudtrail")
        .expect("cloudtrail rule");
    assert!(cloudtrail.tags.contains(&"attack.t1562.008".to_owned()));
    let egress = content
        .generated
        .iter()
        .find(|r| r.logsource == "firewall")
        .expect("egress rule");
    assert!(egress.yaml.contains("%device_subnets%"));
    assert!(
        egress.queries[0].1.contains("<device_subnets>"),
        "{:?}",
        egress.queries
    );
}

#[test]
fn ordinary_programs_keys_and_sites_are_left_out_of_indicator_rules_with_a_note() {
    // On the shared logs, nearly every match of a generated rule outside its own attack came
    // from values like these (bench/rule_trial.py).
    let kb = KnowledgeBase::embedded().expect("kb");
    let analyzer = analyzer(&kb);
    let text = "Intrusion note.\n\nThe loader updsvc.exe injected into notepad.exe and \
                WmiPrvSE.exe, then ran calc.exe to test execution. It persisted under \
                HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run and under \
                HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\UpdSvc. It \
                fetched its second stage from hxxps://raw.githubusercontent[.]com/x/y/main/s.ps1 \
                and beaconed to cdn-update-check[.]top.";
    let analysis = analyze(&analyzer, text);
    let content = ctiforge_detect::detection_content(&analysis, &options());
    let all_yaml: String = content.generated.iter().map(|r| r.yaml.as_str()).collect();
    assert!(all_yaml.contains("\\updsvc.exe"), "{all_yaml}");
    assert!(all_yaml.contains("cdn-update-check.top"), "{all_yaml}");
    assert!(
        all_yaml.contains("CurrentVersion\\Run\\UpdSvc"),
        "{all_yaml}"
    );
    for ordinary in [
        "notepad.exe",
        "WmiPrvSE.exe",
        "calc.exe",
        "raw.githubusercontent.com",
    ] {
        assert!(
            !all_yaml.contains(ordinary),
            "{ordinary} in a rule:\n{all_yaml}"
        );
    }
    assert!(
        !all_yaml.contains("CurrentVersion\\Run'"),
        "the bare Run key in a rule:\n{all_yaml}"
    );
    let note = content
        .notes
        .iter()
        .find(|n| n.contains("programs Windows or common software ship"))
        .unwrap_or_else(|| panic!("{:?}", content.notes));
    assert!(
        note.contains("notepad.exe") && note.contains("calc.exe"),
        "{note}"
    );
    assert!(
        content
            .notes
            .iter()
            .any(|n| n.contains("raw.githubusercontent.com")),
        "{:?}",
        content.notes
    );
    for rule in &content.generated {
        check_proof(rule);
    }
}

#[test]
fn techniques_with_a_sound_behavioural_rule_get_it_and_its_proof() {
    let kb = KnowledgeBase::embedded().expect("kb");
    let analyzer = analyzer(&kb);
    let text = "Ransomware note.\n\nBefore encrypting, the operators deleted all volume shadow \
                copies with vssadmin delete shadows /all /quiet to inhibit system recovery. \
                They dumped LSASS process memory with comsvcs.dll MiniDump to steal \
                credentials. They cleared the Windows Security event log with wevtutil cl \
                Security to hide their tracks.";
    let analysis = analyze(&analyzer, text);
    let ids: Vec<&str> = analysis.techniques.iter().map(|t| t.id.as_str()).collect();
    let content = ctiforge_detect::detection_content(&analysis, &options());
    let by_title = |title: &str| content.generated.iter().find(|r| r.title == title);
    let expected = [
        (
            "T1490",
            "Shadow copies or backups deleted, or recovery turned off",
        ),
        ("T1003.001", "LSASS memory opened for reading"),
        ("T1070.001", "Windows Security event log cleared"),
    ];
    for (technique, title) in expected {
        if !ids.contains(&technique) {
            // The mapper decides the techniques; the template must follow it, not the text.
            assert!(by_title(title).is_none(), "{title} without {technique}");
            continue;
        }
        let rule = by_title(title)
            .unwrap_or_else(|| panic!("{title} for {technique}: {:?}", content.notes));
        check_proof(rule);
        assert!(
            rule.tags
                .contains(&format!("attack.{}", technique.to_lowercase())),
            "{:?}",
            rule.tags
        );
        assert!(rule.yaml.contains("describes"), "{}", rule.yaml);
    }
    assert!(
        ids.contains(&"T1490") && ids.contains(&"T1003.001"),
        "the mapper should find these in so plain a text: {ids:?}"
    );
}

fn hex(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(b"0123456789abcdef".to_vec()), len)
        .prop_map(|v| String::from_utf8(v).unwrap_or_default())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn every_generated_rule_matches_its_positives_and_not_its_negatives(
        sha in hex(64),
        md5 in hex(32),
        octet in 1u8..=223,
        label in "[a-z]{4,10}",
        file in "[a-z]{3,8}",
        key in "[A-Za-z]{4,10}",
    ) {
        let kb = KnowledgeBase::embedded().expect("kb");
        let analyzer = analyzer(&kb);
        let text = format!(
            "Incident report.\n\nThe loader {file}.exe (SHA256 {sha}, MD5 {md5}) was written to \
             C:\\Users\\Public\\{file}.dll and contacted {label}-update[.]com and \
             45.{octet}.17.{octet} over HTTPS. It persisted under \
             HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\{key}."
        );
        let analysis = analyze(&analyzer, &text);
        let content = ctiforge_detect::detection_content(&analysis, &options());
        prop_assert!(
            !content.notes.iter().any(|n| n.contains("not emitted")),
            "{:?}", content.notes
        );
        prop_assert!(content.generated.len() >= 6, "{:?}", content.generated.iter().map(|r| &r.title).collect::<Vec<_>>());
        for rule in &content.generated {
            check_proof(rule);
        }
    }
}
