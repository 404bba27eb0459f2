//! A MISP event (the JSON `{"Event": {...}}` that MISP imports and PyMISP loads): indicators
//! as attributes with MISP types and categories, CVEs, ATT&CK techniques and named actors as
//! galaxy tags, and the TLP tag.

use ctiforge_model::Analysis;
use serde_json::{Value, json};
use uuid::Uuid;

/// ctiforge's UUIDv5 namespace for MISP objects (distinct from the STIX one).
const NAMESPACE: Uuid = Uuid::from_u128(0x0c7d_4b1e_5a2f_4e63_9b18_2f4d_6a8c_1e30);

fn uuid(key: &str) -> String {
    Uuid::new_v5(&NAMESPACE, key.as_bytes()).to_string()
}

/// The MISP attribute (type, category, to_ids) for an indicator type.
fn attribute_type(kind: &str) -> Option<(&'static str, &'static str, bool)> {
    Some(match kind {
        "ipv4" | "ipv6" | "cidr" => ("ip-dst", "Network activity", true),
        "domain" => ("domain", "Network activity", true),
        "url" => ("url", "Network activity", true),
        "email" => ("email-src", "Payload delivery", true),
        "md5" => ("md5", "Payload delivery", true),
        "sha1" => ("sha1", "Payload delivery", true),
        "sha256" => ("sha256", "Payload delivery", true),
        "sha512" => ("sha512", "Payload delivery", true),
        "ssdeep" => ("ssdeep", "Payload delivery", true),
        "imphash" => ("imphash", "Payload delivery", true),
        "authentihash" => ("authentihash", "Payload delivery", true),
        "filename" | "filepath" => ("filename", "Payload delivery", false),
        "registry" => ("regkey", "Persistence mechanism", true),
        "user_agent" => ("user-agent", "Network activity", false),
        "btc" => ("btc", "Financial fraud", true),
        "xmr" => ("xmr", "Financial fraud", true),
        "mac" => ("mac-address", "Network activity", false),
        _ => return None,
    })
}

/// The event. `date` is `YYYY-MM-DD`.
pub fn misp_event(analysis: &Analysis, date: &str) -> Value {
    let title = analysis
        .report
        .title
        .as_deref()
        .unwrap_or("Untitled report");
    let event_uuid = uuid(&format!("event|{}", analysis.report.sha256));
    let mut attributes = Vec::new();
    for ioc in &analysis.iocs {
        let Some((kind, category, to_ids)) = attribute_type(ioc.kind.as_str()) else {
            continue;
        };
        attributes.push(json!({
            "uuid": uuid(&format!("attribute|{}|{}|{}", analysis.report.sha256, ioc.kind, ioc.value)),
            "type": kind,
            "category": category,
            "value": ioc.value,
            "to_ids": to_ids,
            "comment": ioc.evidence.text.trim(),
        }));
    }
    for v in &analysis.entities.vulnerabilities {
        attributes.push(json!({
            "uuid": uuid(&format!("attribute|{}|cve|{}", analysis.report.sha256, v.id)),
            "type": "vulnerability",
            "category": "External analysis",
            "value": v.id,
            "to_ids": false,
            "comment": if v.kev { "In CISA KEV" } else { "" },
        }));
    }
    let tlp = format!("tlp:{}", analysis.report.tlp);
    let mut tags = vec![json!({"name": tlp})];
    for technique in &analysis.techniques {
        let galaxy = if technique.id.starts_with("AML.") {
            continue;
        } else {
            "mitre-attack-pattern"
        };
        tags.push(json!({
            "name": format!("misp-galaxy:{galaxy}=\"{} - {}\"", technique.name, technique.id)
        }));
    }
    for actor in &analysis.entities.threat_actors {
        tags.push(json!({"name": format!("misp-galaxy:threat-actor=\"{}\"", actor.name)}));
    }
    for sector in &analysis.entities.sectors {
        tags.push(json!({"name": format!("misp-galaxy:sector=\"{}\"", sector.name)}));
    }
    let threat_level = match analysis.risk.level.as_str() {
        "critical" | "high" => "1",
        "medium" => "2",
        _ => "3",
    };
    json!({
        "Event": {
            "uuid": event_uuid,
            "info": title,
            "date": date,
            "threat_level_id": threat_level,
            "analysis": "2",
            "distribution": "0",
            "published": false,
            "Attribute": attributes,
            "Tag": tags,
        }
    })
}
