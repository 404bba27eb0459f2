//! Conversion tests: one small rule per modifier and feature, converted for every target and
//! kept as a golden file (`snapshots/`), plus assertions on the cases where a wrong query would
//! silently match the wrong events.

use super::*;

fn collection(yaml: &str) -> SigmaCollection {
    rsigma_parser::parse_sigma_yaml(yaml).expect("parses")
}

fn convert(yaml: &str, target: Target) -> Result<String, String> {
    let results = convert_collection(&collection(yaml), target, &[]);
    let first = results.into_iter().next().expect("one rule");
    match (first.query, first.error) {
        (Some(q), _) => Ok(q),
        (None, Some(e)) => Err(e),
        (None, None) => Err("neither query nor error".into()),
    }
}

fn detection_rule(detection: &str) -> String {
    format!(
        "title: t\nid: 5b1d8f4e-0000-4000-8000-000000000001\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n{detection}"
    )
}

/// (name, detection) for every modifier and value form the specification has.
const CASES: &[(&str, &str)] = &[
    (
        "plain",
        "  sel:\n    Image: 'C:\\Windows\\cmd.exe'\n  condition: sel\n",
    ),
    (
        "contains",
        "  sel:\n    CommandLine|contains: ' -enc '\n  condition: sel\n",
    ),
    (
        "startswith",
        "  sel:\n    Image|startswith: 'C:\\Users\\'\n  condition: sel\n",
    ),
    (
        "endswith",
        "  sel:\n    Image|endswith: '\\rundll32.exe'\n  condition: sel\n",
    ),
    (
        "wildcards",
        "  sel:\n    Image: 'C:/Users/*/a?.exe'\n  condition: sel\n",
    ),
    (
        "backslash_before_star_escapes_it",
        "  sel:\n    Image: 'C:\\*\\a?.exe'\n  condition: sel\n",
    ),
    (
        "escaped_wildcard",
        "  sel:\n    ShareName: '\\\\\\\\\\*\\IPC$'\n  condition: sel\n",
    ),
    (
        "quotes",
        "  sel:\n    CommandLine|contains: 'say \"hi\" it''s'\n  condition: sel\n",
    ),
    (
        "all",
        "  sel:\n    CommandLine|contains|all: ['a', 'b']\n  condition: sel\n",
    ),
    (
        "list",
        "  sel:\n    Image|endswith: ['\\a.exe', '\\b.exe']\n  condition: sel\n",
    ),
    (
        "numbers",
        "  sel:\n    EventID: [4624, 4625]\n  condition: sel\n",
    ),
    (
        "compare",
        "  sel:\n    LogonType|gte: 3\n    Size|lt: 10\n  condition: sel\n",
    ),
    (
        "re",
        "  sel:\n    CommandLine|re: '^a.*\\d/b$'\n  condition: sel\n",
    ),
    (
        "re_flags",
        "  sel:\n    CommandLine|re|i|m: 'evil'\n  condition: sel\n",
    ),
    (
        "cidr",
        "  sel:\n    DestinationIp|cidr: '10.0.0.0/8'\n  condition: sel\n",
    ),
    (
        "cidr_12",
        "  sel:\n    DestinationIp|cidr: '172.16.0.0/14'\n  condition: sel\n",
    ),
    (
        "base64",
        "  sel:\n    CommandLine|base64: 'http'\n  condition: sel\n",
    ),
    (
        "base64offset",
        "  sel:\n    CommandLine|base64offset|contains: '/bin/bash'\n  condition: sel\n",
    ),
    (
        "wide_base64",
        "  sel:\n    CommandLine|wide|base64offset|contains: 'ping'\n  condition: sel\n",
    ),
    (
        "windash",
        "  sel:\n    CommandLine|windash|contains: ' -s '\n  condition: sel\n",
    ),
    ("cased", "  sel:\n    Name|cased: 'AbC'\n  condition: sel\n"),
    (
        "exists",
        "  sel:\n    User|exists: true\n    Proxy|exists: false\n  condition: sel\n",
    ),
    (
        "fieldref",
        "  sel:\n    Image|fieldref: ParentImage\n  condition: sel\n",
    ),
    (
        "null_and_empty",
        "  sel:\n    ParentImage: null\n  sel2:\n    Description: ''\n  condition: sel or sel2\n",
    ),
    ("bool", "  sel:\n    Enabled: true\n  condition: sel\n"),
    (
        "keywords",
        "  kw:\n    - 'evil tool'\n    - 1337\n  condition: kw\n",
    ),
    (
        "condition",
        "  sel_a:\n    A: 1\n  sel_b:\n    B: 2\n  filter_x:\n    C: 3\n  condition: 1 of sel_* and not filter_x\n",
    ),
    (
        "all_of_them",
        "  a:\n    A: 1\n  b:\n    B: 2\n  _internal:\n    C: 3\n  condition: all of them\n",
    ),
    (
        "or_of_and",
        "  a:\n    A: 1\n    B: 2\n  b:\n    C: 3\n  condition: a or b\n",
    ),
];

#[test]
fn every_modifier_for_every_target() {
    let mut out = String::new();
    for (name, detection) in CASES {
        out.push_str(&format!("## {name}\n"));
        let yaml = detection_rule(detection);
        for target in Target::ALL {
            let line = match convert(&yaml, target) {
                Ok(q) => q.replace('\n', " ⏎ "),
                Err(e) => format!("ERROR {e}"),
            };
            out.push_str(&format!("{:<9}{line}\n", target.name()));
        }
        out.push('\n');
    }
    insta::assert_snapshot!(out);
}

#[test]
fn splunk_or_binds_tighter_so_and_groups_are_parenthesised() {
    let q = convert(&detection_rule(CASES[28].1), Target::Splunk).expect("converts");
    assert_eq!(q, "(A=1 B=2) OR C=3");
}

#[test]
fn literal_asterisk_stays_literal() {
    let yaml = detection_rule("  sel:\n    F: 'a\\*b'\n  condition: sel\n");
    assert_eq!(convert(&yaml, Target::Splunk).as_deref(), Ok("F=\"a\\*b\""));
    assert_eq!(convert(&yaml, Target::Lucene).as_deref(), Ok("F:a\\*b"));
    assert_eq!(
        convert(&yaml, Target::Sql).as_deref(),
        Ok("SELECT * FROM logs WHERE F LIKE 'a*b' ESCAPE '\\'")
    );
    assert_eq!(convert(&yaml, Target::Kusto).as_deref(), Ok("F =~ \"a*b\""));
}

#[test]
fn sql_escapes_like_metacharacters_in_text() {
    let yaml = detection_rule("  sel:\n    F|contains: '50%_off'\n  condition: sel\n");
    assert_eq!(
        convert(&yaml, Target::Sql).as_deref(),
        Ok("SELECT * FROM logs WHERE F LIKE '%50\\%\\_off%' ESCAPE '\\'")
    );
}

#[test]
fn a_wildcard_inside_a_value_keeps_its_order_in_kusto() {
    // pySigma writes `F contains "a" and F contains "b.exe"`, which also matches "b.exe...a".
    let yaml = detection_rule("  sel:\n    F: 'a*b.exe'\n  condition: sel\n");
    assert_eq!(
        convert(&yaml, Target::Kusto).as_deref(),
        Ok("F matches regex \"(?i)^a.*b\\\\.exe$\"")
    );
}

#[test]
fn several_regexes_on_one_field_get_distinct_splunk_helpers() {
    let yaml = detection_rule("  sel:\n    - F|re: 'a'\n    - F|re: 'b'\n  condition: sel\n");
    let q = convert(&yaml, Target::Splunk).expect("converts");
    assert!(
        q.contains("(?<FMatch>a)") && q.contains("(?<FMatch2>b)"),
        "{q}"
    );
    assert!(
        q.ends_with("| search FCondition=\"true\" OR FCondition2=\"true\""),
        "{q}"
    );
}

#[test]
fn unsupported_features_say_why() {
    let keyword = detection_rule(CASES[25].1);
    let err = convert(&keyword, Target::Sql).expect_err("no keywords in SQL");
    assert!(err.contains("keyword"), "{err}");
    let placeholder = detection_rule("  sel:\n    F|expand: '%admins%'\n  condition: sel\n");
    let err = convert(&placeholder, Target::Splunk).expect_err("unfilled placeholder");
    assert!(
        err.contains("%admins%") && err.contains("pipeline"),
        "{err}"
    );
    let count = detection_rule("  a:\n    A: 1\n  b:\n    B: 1\n  condition: 2 of them\n");
    let err = convert(&count, Target::Splunk).expect_err("2 of");
    assert!(err.contains("2 of them"), "{err}");
}

#[test]
fn pipeline_vars_fill_placeholders() {
    let pipeline = rsigma_eval::pipeline::parse_pipeline(
        "name: p\nvars:\n  admins: [alice, bob]\ntransformations:\n  - type: value_placeholders\n",
    )
    .expect("pipeline");
    let yaml = detection_rule("  sel:\n    User|expand: '%admins%'\n  condition: sel\n");
    let results = convert_collection(&collection(&yaml), Target::Splunk, &[pipeline]);
    assert_eq!(
        results[0].query.as_deref(),
        Some("User IN (\"alice\", \"bob\")")
    );
}

#[test]
fn builtin_pipelines_load_and_map_fields() {
    for (name, _) in builtin_pipelines() {
        load_pipeline(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let xdr = load_pipeline("microsoft_xdr").expect("loads");
    let yaml = detection_rule(
        "  sel:\n    Image|endswith: '\\cmd.exe'\n    ParentImage|endswith: '\\winword.exe'\n  condition: sel\n",
    );
    let results = convert_collection(&collection(&yaml), Target::Kusto, &[xdr]);
    assert_eq!(
        results[0].query.as_deref(),
        Some(
            "DeviceProcessEvents\n| where FolderPath endswith \"\\\\cmd.exe\" and \
             InitiatingProcessFolderPath endswith \"\\\\winword.exe\""
        )
    );
    assert!(load_pipeline("no-such-pipeline").is_err());
}

const FILTERED: &str = "title: base
id: 9a5d6f2e-0000-4000-8000-000000000010
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\\cmd.exe'
  condition: sel
---
title: exclude admin tools
filter:
  rules:
    - 9a5d6f2e-0000-4000-8000-000000000010
  selection:
    ParentImage|endswith: '\\admin.exe'
  condition: not selection
";

#[test]
fn filter_rules_are_anded_into_the_rules_they_name() {
    let results = convert_collection(&collection(FILTERED), Target::Splunk, &[]);
    assert_eq!(results.len(), 1);
    assert_eq!(
        results[0].query.as_deref(),
        Some("Image=\"*\\\\cmd.exe\" NOT ParentImage=\"*\\\\admin.exe\"")
    );
}

const CORRELATED: &str = "title: failed logon
id: 0e95725d-0000-4000-8000-000000000020
name: failed_logon
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4625
  condition: sel
---
title: many failed logons
id: 0e95725d-0000-4000-8000-000000000021
correlation:
  type: event_count
  rules:
    - failed_logon
  group-by:
    - TargetUserName
  timespan: 5m
  condition:
    gte: 10
";

#[test]
fn correlations_aggregate_where_the_language_can() {
    let c = collection(CORRELATED);
    let results = convert_collection(&c, Target::Splunk, &[]);
    assert_eq!(
        results[1].query.as_deref(),
        Some(
            "search EventID=4625 | eval event_type=\"failed_logon\"\n| bin _time span=300s\n\
             | stats count as event_count by _time TargetUserName\n| where event_count>=10"
        )
    );
    let kusto = convert_collection(&c, Target::Kusto, &[]);
    let q = kusto[1].query.as_deref().unwrap_or_default();
    assert!(
        q.contains("| summarize event_count = count() by bin(TimeGenerated, 300s), TargetUserName")
            && q.ends_with("| where event_count >= 10"),
        "{q}"
    );
    let esql = convert_collection(&c, Target::Esql, &[]);
    let q = esql[1].query.as_deref().unwrap_or_default();
    assert!(
        q.contains("| stats event_count = count(*) by window = bucket(@timestamp, 300 seconds), TargetUserName"),
        "{q}"
    );
    let lucene = convert_collection(&c, Target::Lucene, &[]);
    let err = lucene[1].error.as_deref().unwrap_or_default();
    assert!(err.contains("splunk, esql or kusto"), "{err}");
}

#[test]
fn a_correlation_naming_a_missing_rule_says_so() {
    let yaml = CORRELATED.replace("    - failed_logon", "    - no_such_rule");
    let results = convert_collection(&collection(&yaml), Target::Splunk, &[]);
    assert!(
        results[1]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("no_such_rule")),
        "{:?}",
        results[1]
    );
}
