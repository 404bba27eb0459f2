//! ATT&CK Navigator layers (layer format 4.5), one per ATT&CK domain the report touches:
//! each technique scored 0–100 with its evidence as the comment.

use ctiforge_kb::KnowledgeBase;
use ctiforge_model::Analysis;
use serde_json::{Value, json};

/// `(domain, layer)` for each ATT&CK domain with techniques (`enterprise-attack`,
/// `mobile-attack`, `ics-attack`). ATLAS techniques have no Navigator domain and are left out.
pub fn navigator_layers(analysis: &Analysis, kb: &KnowledgeBase) -> Vec<(String, Value)> {
    let attack_version = kb
        .catalog()
        .sources
        .iter()
        .find(|s| s.key == "attack-enterprise")
        .map_or_else(|| "18".to_owned(), |s| major(&s.version));
    let title = analysis
        .report
        .title
        .as_deref()
        .unwrap_or("Untitled report");
    let mut layers = Vec::new();
    for (short, domain) in [
        ("enterprise", "enterprise-attack"),
        ("mobile", "mobile-attack"),
        ("ics", "ics-attack"),
    ] {
        let mut techniques = Vec::new();
        for technique in analysis
            .techniques
            .iter()
            .filter(|t| t.domains.iter().any(|d| d.as_str() == short))
        {
            let comment: Vec<&str> = technique.evidence.iter().map(|e| e.text.trim()).collect();
            for (tactic, _) in &technique.tactics {
                let Some(tactic) = kb.tactic(tactic) else {
                    continue;
                };
                if tactic.domain.attack_name() != domain {
                    continue;
                }
                techniques.push(json!({
                    "techniqueID": technique.id,
                    "tactic": tactic.shortname,
                    "score": (technique.score * 100.0).round() as u32,
                    "comment": comment.join(" | "),
                    "enabled": true,
                    "metadata": [],
                    "links": [],
                    "showSubtechniques": technique.id.contains('.'),
                }));
            }
        }
        if techniques.is_empty() {
            continue;
        }
        // The platforms of the report's techniques (Navigator requires a non-empty filter).
        let platforms: std::collections::BTreeSet<&str> = analysis
            .techniques
            .iter()
            .filter(|t| t.domains.iter().any(|d| d.as_str() == short))
            .filter_map(|t| kb.technique(&t.id))
            .flat_map(|t| t.platforms.iter().map(String::as_str))
            .collect();
        let layer = json!({
            "name": format!("{title} ({domain})"),
            "versions": {"attack": attack_version, "navigator": "5.1.0", "layer": "4.5"},
            "domain": domain,
            "description": format!(
                "Techniques ctiforge found in the report (sha256 {}); score = ctiforge's confidence x 100, comment = evidence.",
                analysis.report.sha256
            ),
            "filters": {"platforms": platforms},
            "sorting": 3,
            "layout": {
                "layout": "side",
                "aggregateFunction": "max",
                "showID": true,
                "showName": true,
                "showAggregateScores": false,
                "countUnscored": false,
                "expandedSubtechniques": "annotated"
            },
            "hideDisabled": false,
            "techniques": techniques,
            "gradient": {"colors": ["#ffe5e5", "#ff3333"], "minValue": 0, "maxValue": 100},
            "legendItems": [],
            "metadata": [
                {"name": "generator", "value": format!("{} {}", analysis.generator.name, analysis.generator.version)},
                {"name": "tlp", "value": analysis.report.tlp}
            ],
            "links": [],
            "showTacticRowBackground": false,
            "tacticRowBackground": "#dddddd",
            "selectTechniquesAcrossTactics": true,
            "selectSubtechniquesWithParent": false,
            "selectVisibleTechniques": false
        });
        layers.push((domain.to_owned(), layer));
    }
    layers
}

fn major(version: &str) -> String {
    version.split('.').next().unwrap_or(version).to_owned()
}
