//! The report text the IOC benchmarks read, built from `shared/data` (or `CTIFORGE_DATA`):
//! shared by the criterion bench and the `throughput` example.

use std::path::PathBuf;

fn data_dir() -> PathBuf {
    std::env::var_os("CTIFORGE_DATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    )
}

/// The descriptions of every object in ATT&CK Enterprise, one per paragraph (6 MB): threat-report
/// prose denser in indicators than TRAM's reports, with Markdown links to technique pages and
/// `(Citation: ...)` on most lines.
pub fn attack_descriptions() -> Option<String> {
    let bundle = std::fs::read(data_dir().join("attack/enterprise-attack.json")).ok()?;
    let bundle: serde_json::Value = serde_json::from_slice(&bundle).ok()?;
    let descriptions = bundle["objects"]
        .as_array()?
        .iter()
        .filter_map(|object| object["description"].as_str())
        .collect::<Vec<_>>();
    Some(descriptions.join("\n\n"))
}

/// The TRAM report text, one report per paragraph.
pub fn tram() -> Option<String> {
    let data = data_dir();
    let text = std::fs::read_to_string(data.join("tram/train.jsonl")).ok()?;
    let mut reports: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let Ok(row) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let report = row["report"].as_str().unwrap_or("").to_owned();
        let sentence = row["text"].as_str().unwrap_or("").to_owned();
        match reports.last_mut() {
            Some((name, sentences)) if *name == report => sentences.push(sentence),
            _ => reports.push((report, vec![sentence])),
        }
    }
    Some(
        reports
            .into_iter()
            .map(|(_, sentences)| sentences.join("\n"))
            .collect::<Vec<_>>()
            .join("\n\n"),
    )
}
