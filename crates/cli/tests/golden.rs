//! Golden tests: the Markdown report and the main findings of each example report, as insta
//! snapshots in `tests/snapshots/`. A change in what ctiforge finds shows up as a reviewable
//! diff; accept it with `cargo insta review` (or `INSTA_UPDATE=always cargo test`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn analyze(report: &Path) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_ctiforge"))
        .args([
            "analyze",
            "--format",
            "json,md",
            "--now",
            "2026-11-01T00:00:00Z",
            "-o",
        ])
        .arg(dir.path())
        // Run from the report's folder with its bare name, so that the path the Markdown
        // shows does not depend on where the repository is checked out.
        .arg(report.file_name().expect("file name"))
        .current_dir(report.parent().expect("folder"))
        .env_remove("CTIFORGE_KB")
        .output()
        .expect("ctiforge runs");
    assert!(output.status.success(), "{output:?}");
    let analysis =
        serde_json::from_slice(&std::fs::read(dir.path().join("analysis.json")).expect("json"))
            .expect("JSON");
    let markdown = std::fs::read_to_string(dir.path().join("report.md")).expect("md");
    (analysis, markdown)
}

/// The findings an analyst reads first, without the bulky evidence.
fn findings(a: &serde_json::Value) -> serde_json::Value {
    let names = |list: &serde_json::Value| -> Vec<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["name"].as_str().map(str::to_owned))
            .collect()
    };
    serde_json::json!({
        "published": a["report"]["published"]["date"],
        "techniques": a["techniques"].as_array().into_iter().flatten()
            .map(|t| format!("{} {} {:.2}", t["id"].as_str().unwrap_or(""), t["name"].as_str().unwrap_or(""), t["score"].as_f64().unwrap_or(0.0)))
            .collect::<Vec<_>>(),
        "iocs": a["iocs"].as_array().into_iter().flatten()
            .map(|i| format!("{} {}", i["type"].as_str().unwrap_or(""), i["value"].as_str().unwrap_or("")))
            .collect::<Vec<_>>(),
        "false_positives": a["false_positives"].as_array().into_iter().flatten()
            .map(|i| format!("{} {}: {}", i["type"].as_str().unwrap_or(""), i["value"].as_str().unwrap_or(""), i["reason"].as_str().unwrap_or("")))
            .collect::<Vec<_>>(),
        "actors": names(&a["entities"]["threat_actors"]),
        "malware": names(&a["entities"]["malware"]),
        "tools": names(&a["entities"]["tools"]),
        "sectors": names(&a["entities"]["sectors"]),
        "products": names(&a["entities"]["products"]),
        "vulnerabilities": a["entities"]["vulnerabilities"].as_array().into_iter().flatten()
            .map(|v| format!("{} kev={}", v["id"].as_str().unwrap_or(""), v["kev"]))
            .collect::<Vec<_>>(),
        "exploitation": a["exploitation"]["status"],
        "risk": format!("{} {}", a["risk"]["score"], a["risk"]["level"].as_str().unwrap_or("")),
        "similar_groups": a["correlation"]["similar_groups"].as_array().into_iter().flatten()
            .map(|g| format!("{} {}", g["id"].as_str().unwrap_or(""), g["name"].as_str().unwrap_or("")))
            .collect::<Vec<_>>(),
        "hunting_lead_kinds": a["hunting_leads"].as_array().into_iter().flatten()
            .map(|l| l["kind"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>(),
        "detection_rules": a["detection"]["generated"].as_array().into_iter().flatten()
            .map(|r| format!(
                "{} [{}] passed={} negatives={}",
                r["logsource"].as_str().unwrap_or(""),
                r["origin"].as_str().unwrap_or(""),
                r["proof"]["passed"],
                r["proof"]["negative"].as_array().map_or(0, Vec::len)
            ))
            .collect::<Vec<_>>(),
        "detection_notes": a["detection"]["notes"],
        "response_phases": a["response"].as_array().into_iter().flatten()
            .map(|p| format!("{} ({} steps)", p["phase"].as_str().unwrap_or(""), p["steps"].as_array().map_or(0, Vec::len)))
            .collect::<Vec<_>>(),
    })
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/reports")
        .join(name)
}

#[test]
fn hospital_intrusion() {
    let (analysis, markdown) = analyze(&example("hospital-intrusion.md"));
    insta::assert_json_snapshot!("hospital-intrusion.findings", findings(&analysis));
    insta::assert_snapshot!("hospital-intrusion.report.md", markdown);
}

#[test]
fn iomt_cloud_ai_advisory() {
    let (analysis, markdown) = analyze(&example("iomt-cloud-ai-advisory.md"));
    insta::assert_json_snapshot!("iomt-cloud-ai-advisory.findings", findings(&analysis));
    insta::assert_snapshot!("iomt-cloud-ai-advisory.report.md", markdown);
}
