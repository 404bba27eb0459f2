//! SigmaHQ's regression data: for each case, its rule over its EVTX sample must fire exactly
//! `match_count` times (at least once where the case gives no count). Reads
//! `../shared/data/sigma` (or `$CTIFORGE_DATA/sigma`).

use std::path::{Path, PathBuf};

use ctiforge_hunt::{Hunter, Options};
use rsigma_parser::SigmaCollection;

/// Says why a test does not run; with `CI` set (`.ci/run` sets it) a skip is a failure.
macro_rules! skip {
    ($($arg:tt)*) => {{
        let message = format!($($arg)*);
        assert!(std::env::var_os("CI").is_none(), "{message} (CI is set: nothing may skip)");
        eprintln!("{message}");
    }};
}

/// Cases whose sample holds more events that satisfy the rule than SigmaHQ's `match_count`
/// says (each event read by hand; every one meets the rule's selection and none its filter).
/// Their exact count is asserted, so a change either way is caught.
const MORE_THAN_SIGMAHQ_COUNTS: &[(&str, u64, &str)] = &[
    (
        "0b9ad457-2554-44c1-82c2-d56a99c42377",
        3,
        "three AnyDesk writes under \\AppData\\Roaming\\AnyDesk\\user.conf (.new twice, ~RF…TMP)",
    ),
    (
        "8fbf3271-1ef6-4e94-8210-03c2317947f6",
        3,
        "procdump64.exe, procdump64a.exe and procdump.exe each written once",
    ),
    (
        "45e112d0-7759-4c2a-aa36-9f8fb79d3393",
        3,
        "three ZoneMap\\Domains values (http, https, *) set to DWORD 2",
    ),
    (
        "c7dcacd0-cc59-4004-b0a4-1d6cdebe6f3e",
        2,
        "AutoShareServer and AutoShareWks both set to DWORD 0",
    ),
];

fn sigma_dir() -> Option<PathBuf> {
    let data = std::env::var_os("CTIFORGE_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    let sigma = data.join("sigma");
    if sigma.join("regression_data").is_dir() {
        Some(sigma)
    } else {
        skip!(
            "SKIPPED: no Sigma regression data at {} (set CTIFORGE_DATA); .ci/run fails in this case",
            sigma.display()
        );
        None
    }
}

/// One case of an `info.yml`: the rule id, the sample and the expected count.
struct Case {
    rule_id: String,
    sample: PathBuf,
    expected: Option<u64>,
}

fn cases(info: &Path, sigma: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(info).expect("info.yml");
    let value = |line: &str, key: &str| {
        line.trim()
            .trim_start_matches("- ")
            .strip_prefix(key)
            .map(|v| v.trim().trim_matches('\'').trim_matches('"').to_owned())
    };
    let mut rule_id = None;
    let mut in_metadata = false;
    let mut out = Vec::new();
    let mut expected = None;
    for line in text.lines() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with("rule_metadata:") {
            in_metadata = true;
        } else if !line.starts_with(' ') {
            in_metadata = false;
        }
        if in_metadata && let Some(id) = value(line, "id:") {
            rule_id = Some(id);
        }
        if let Some(n) = value(line, "match_count:") {
            expected = n.parse().ok();
        }
        if let Some(path) = value(line, "path:")
            && let Some(id) = &rule_id
        {
            out.push(Case {
                rule_id: id.clone(),
                sample: sigma.join(path),
                expected,
            });
            expected = None;
        }
    }
    // `match_count` may come after `path` in a case.
    if let (Some(last), Some(n)) = (out.last_mut(), expected) {
        last.expected = Some(n);
    }
    out
}

fn info_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            info_files(&entry, out);
        } else if entry.file_name().is_some_and(|n| n == "info.yml") {
            out.push(entry);
        }
    }
}

#[test]
fn every_sigmahq_regression_case_fires_its_rule_as_often_as_expected() {
    let Some(sigma) = sigma_dir() else {
        return;
    };
    let folders: Vec<PathBuf> = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|f| sigma.join(f))
        .collect();
    let files = ctiforge_sigma::rules::rule_files(&folders).expect("rule files");
    let set = ctiforge_sigma::rules::load(&files);
    let mut infos = Vec::new();
    info_files(&sigma.join("regression_data"), &mut infos);
    let mut passed = 0;
    let mut failures = Vec::new();
    let mut total = 0;
    for info in &infos {
        for case in cases(info, &sigma) {
            total += 1;
            let mut collection = SigmaCollection::new();
            collection.rules = set
                .collection
                .rules
                .iter()
                .filter(|r| r.id.as_deref() == Some(case.rule_id.as_str()))
                .cloned()
                .collect();
            collection.filters = set.collection.filters.clone();
            if collection.rules.is_empty() {
                failures.push(format!(
                    "{}: rule {} not found",
                    info.display(),
                    case.rule_id
                ));
                continue;
            }
            let (hunter, errors) = Hunter::new(&collection, &[], Options::default());
            assert!(errors.is_empty(), "{}: {errors:?}", case.rule_id);
            let (detections, summary) = hunter
                .hunt(std::slice::from_ref(&case.sample), &|_, _, _| {})
                .expect("hunt");
            let fired = detections
                .iter()
                .filter(|d| d.rule_id.as_deref() == Some(case.rule_id.as_str()))
                .count() as u64;
            let known = MORE_THAN_SIGMAHQ_COUNTS
                .iter()
                .find(|(id, _, _)| *id == case.rule_id);
            let ok = match (known, case.expected) {
                (Some((_, ours, _)), _) => fired == *ours,
                (None, Some(n)) => fired == n,
                (None, None) => fired >= 1,
            };
            if ok {
                passed += 1;
            } else {
                failures.push(format!(
                    "{}: rule {} fired {fired} times, expected {} ({} events, failed files {:?})",
                    case.sample.display(),
                    case.rule_id,
                    case.expected
                        .map_or("at least 1".to_owned(), |n| n.to_string()),
                    summary.events,
                    summary.failed_files
                ));
            }
        }
    }
    eprintln!(
        "regression: {passed} of {total} cases pass ({} with more matching events than SigmaHQ counts)",
        MORE_THAN_SIGMAHQ_COUNTS.len()
    );
    assert!(total >= 200, "only {total} cases found");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
