//! `check` on crafted broken rules (every finding located) and on the SigmaHQ corpus in
//! `../shared/data/sigma` (or `$CTIFORGE_DATA/sigma`), which must have no errors.

use std::path::{Path, PathBuf};

use ctiforge_kb::KnowledgeBase;
use ctiforge_sigma::{Finding, Severity, check_files};

/// Says why a test does not run; with `CI` set (`.ci/run` sets it) a skip is a failure.
macro_rules! skip {
    ($($arg:tt)*) => {{
        let message = format!($($arg)*);
        assert!(std::env::var_os("CI").is_none(), "{message} (CI is set: nothing may skip)");
        eprintln!("{message}");
    }};
}

const HEAD: &str = "title: Test rule\nid: 11111111-1111-4111-8111-111111111111\nstatus: test\ndescription: d\nauthor: a\ndate: 2026-11-25\nlogsource:\n    product: windows\n    category: process_creation\n";

fn check(files: &[(&str, String)]) -> Vec<Finding> {
    let kb = KnowledgeBase::embedded().expect("kb");
    let dir = tempfile::tempdir().expect("tempdir");
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            path
        })
        .collect();
    check_files(&paths, &kb)
}

fn find<'a>(findings: &'a [Finding], code: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("no {code} in {findings:#?}"))
}

#[test]
fn every_problem_is_reported_with_its_position() {
    let findings = check(&[
        (
            "condition.yml",
            format!("{HEAD}detection:\n    sel:\n        Image|endswith: '\\x.exe'\n    condition: sel and (\nlevel: high\n"),
        ),
        (
            "modifier.yml",
            format!("{HEAD}detection:\n    sel:\n        Image|nosuchmod: 'x.exe'\n    condition: sel\nlevel: high\n")
                .replace("1111-4111", "2222-4111"),
        ),
        (
            "undefined.yml",
            format!("{HEAD}detection:\n    sel:\n        Image: 'x.exe'\n    condition: other\nlevel: high\n")
                .replace("1111-4111", "3333-4111"),
        ),
        ("yaml.yml", "title: [unclosed\n".to_owned()),
    ]);
    let condition = find(&findings, "condition-syntax");
    assert_eq!((condition.line, condition.severity), (13, Severity::Error));
    assert!(condition.column > 15, "{condition:?}");
    assert_eq!(
        condition.rule_id.as_deref(),
        Some("11111111-1111-4111-8111-111111111111")
    );
    let modifier = find(&findings, "unknown-modifier");
    assert_eq!((modifier.line, modifier.column), (12, 14), "{modifier:?}");
    assert!(modifier.message.contains("nosuchmod"));
    let undefined = find(&findings, "compile");
    assert_eq!(undefined.line, 13, "{undefined:?}");
    assert!(undefined.message.contains("other"));
    let yaml = find(&findings, "yaml");
    assert!(
        yaml.line >= 1 && yaml.file.ends_with("yaml.yml"),
        "{yaml:?}"
    );
}

#[test]
fn attack_tags_are_checked_against_the_knowledge_base() {
    let tags = "tags:\n    - attack.execution\n    - attack.t1059.001\n    - attack.t1574.002\n    - attack.t9999\n    - attack.t12\n    - attack.g0016\n    - attack.g9999\n    - attack.no-such-tactic\n";
    let rule = format!(
        "{HEAD}{tags}detection:\n    sel:\n        Image: 'x'\n    condition: sel\nlevel: low\n"
    );
    let findings = check(&[("tags.yml", rule)]);
    let messages: Vec<String> = findings
        .iter()
        .map(|f| format!("{} {} {}", f.code, f.line, f.message))
        .collect();
    let has = |needle: &str| messages.iter().any(|m| m.contains(needle));
    assert!(
        has("attack-tag-revoked 13") && has("attack.t1574.001"),
        "{messages:#?}"
    );
    assert!(
        has("attack-tag-unknown 14") && has("T9999 is not in ATT&CK 18.1"),
        "{messages:#?}"
    );
    assert!(has("attack-tag-malformed 15"), "{messages:#?}");
    assert!(has("G9999 is not an ATT&CK group"), "{messages:#?}");
    assert!(has("no-such-tactic is not a tactic"), "{messages:#?}");
    // attack.execution (line 11), attack.t1059.001 (12) and attack.g0016 (16) are fine.
    assert!(
        findings.iter().all(|f| ![11, 12, 16].contains(&f.line)),
        "{messages:#?}"
    );
}

#[test]
fn duplicate_ids_across_files_are_errors() {
    let rule =
        format!("{HEAD}detection:\n    sel:\n        Image: 'x'\n    condition: sel\nlevel: low\n");
    let findings = check(&[("a.yml", rule.clone()), ("b.yml", rule)]);
    let duplicate = find(&findings, "duplicate-id");
    assert!(
        duplicate.file.ends_with("b.yml") && duplicate.line == 2,
        "{duplicate:?}"
    );
    assert!(duplicate.message.contains("a.yml:2"));
}

#[test]
fn the_sigmahq_corpus_has_no_errors() {
    let data = std::env::var_os("CTIFORGE_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    let root = data.join("sigma");
    if !root.join("rules").is_dir() {
        skip!(
            "SKIPPED: no SigmaHQ rules at {} (set CTIFORGE_DATA); .ci/run fails in this case",
            root.display()
        );
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![
        root.join("rules"),
        root.join("rules-emerging-threats"),
        root.join("rules-threat-hunting"),
    ];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir").filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yml") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 3000, "{}", files.len());
    let kb = KnowledgeBase::embedded().expect("kb");
    let findings = check_files(&files, &kb);
    let errors: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(
        errors.is_empty(),
        "{} errors, e.g. {:#?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
}

#[test]
fn typos_unused_selections_and_unmapped_logsources_are_pointed_out() {
    let typo = format!(
        "{HEAD}detection:\n    sel:\n        Image|endwith: 'x.exe'\n    condition: sel\nlevel: low\n"
    );
    let findings = check(&[("typo.yml", typo)]);
    let f = find(&findings, "unknown-modifier");
    assert!(
        f.message.contains("did you mean `endswith`?"),
        "{}",
        f.message
    );
    assert_eq!((f.line, f.severity), (12, Severity::Error));

    let unused = format!(
        "{HEAD}detection:\n    sel:\n        Image|endswith: 'x.exe'\n    filter_forgotten:\n        User: admin\n    condition: sel\nlevel: low\n"
    );
    let findings = check(&[("unused.yml", unused)]);
    let f = find(&findings, "unused-selection");
    assert!(f.message.contains("`filter_forgotten`"), "{}", f.message);
    assert_eq!((f.line, f.severity), (13, Severity::Warning));
    assert!(findings.iter().all(|f| f.code != "logsource-unmapped"));

    // `1 of sel_*` reaches every selection it names; an unknown product is only noted.
    let okta = HEAD
        .replace("product: windows", "product: okta")
        .replace("category: process_creation", "service: okta");
    let used = format!(
        "{okta}detection:\n    sel_a:\n        A: 1\n    sel_b:\n        B: 1\n    condition: 1 of sel_*\nlevel: low\n"
    );
    let findings = check(&[("okta.yml", used)]);
    assert!(
        findings.iter().all(|f| f.code != "unused-selection"),
        "{findings:#?}"
    );
    assert_eq!(
        find(&findings, "logsource-unmapped").severity,
        Severity::Info
    );
}
