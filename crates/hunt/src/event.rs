//! Events as the evaluator sees them: one JSON object per event with the field names Sigma
//! rules use, and the logsources the event belongs to.
//!
//! - Windows events (EVTX, or EVTX exported as JSON) are flattened: `System` gives `Channel`,
//!   `EventID`, `Provider_Name`, `Computer`, `TimeCreated`...; `EventData` (or `UserData`)
//!   fields come to the top. Names with spaces (Defender's `Source Name`) also answer without
//!   them; Security 4688 also answers to the Sysmon names of process creation (`Image`,
//!   `ParentImage`, `User`...).
//! - The logsource comes from the channel (service) and the channel with the event id
//!   (category), following SigmaHQ's Windows taxonomy; from `eventSource` for CloudTrail; from
//!   `_path`/`@stream` for Zeek (whose `id_orig_h` flattening also answers as `id.orig_h`).

use ctiforge_sigma::taxonomy::{CHANNELS, other_categories, sysmon_categories};
use serde_json::{Map, Value};

/// A logsource an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Source {
    /// `windows`, `aws`, `zeek`, `azure`...
    pub product: Option<String>,
    /// `process_creation`, `dns_query`...
    pub category: Option<String>,
    /// `sysmon`, `security`, `cloudtrail`, `dns`...
    pub service: Option<String>,
}

impl Source {
    fn new(product: &str, category: Option<&str>, service: Option<&str>) -> Source {
        Source {
            product: Some(product.to_owned()),
            category: category.map(str::to_owned),
            service: service.map(str::to_owned),
        }
    }

    /// Parses `product[:service[:category]]`, as given on the command line.
    pub fn parse(spec: &str) -> Source {
        let mut parts = spec
            .split(':')
            .map(|p| (!p.is_empty()).then(|| p.to_owned()));
        Source {
            product: parts.next().flatten(),
            service: parts.next().flatten(),
            category: parts.next().flatten(),
        }
    }
}

/// Security 4688's names for Sysmon process-creation fields.
const SECURITY_4688: &[(&str, &str)] = &[
    ("NewProcessName", "Image"),
    ("ParentProcessName", "ParentImage"),
    ("NewProcessId", "ProcessId"),
    ("SubjectLogonId", "LogonId"),
    ("MandatoryLabel", "IntegrityLevel"),
];

/// The text of a value: strings as they are, numbers and booleans written out.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A Windows value as evtx writes it: a plain value, or `{"#text": v, "#attributes": {...}}`.
fn unwrap_text(value: &Value) -> &Value {
    value.get("#text").unwrap_or(value)
}

/// Flattens an `{"Event": {"System", "EventData"|"UserData"}}` record into one object.
pub fn flatten_windows(record: &Value) -> Option<Value> {
    let event = record.get("Event")?;
    let system = event.get("System")?;
    let mut out = Map::new();
    if let Some(system) = system.as_object() {
        for (key, value) in system {
            match key.as_str() {
                "Provider" => {
                    if let Some(attrs) = value.get("#attributes").and_then(Value::as_object) {
                        for (k, v) in attrs {
                            out.insert(format!("Provider_{k}"), v.clone());
                        }
                    }
                }
                "TimeCreated" => {
                    if let Some(t) = value.pointer("/#attributes/SystemTime") {
                        out.insert("TimeCreated".into(), t.clone());
                    }
                }
                "Execution" | "Security" | "Correlation" => {
                    if let Some(attrs) = value.get("#attributes").and_then(Value::as_object) {
                        for (k, v) in attrs {
                            out.insert(k.clone(), v.clone());
                        }
                    }
                }
                _ => {
                    out.insert(key.clone(), unwrap_text(value).clone());
                }
            }
        }
    }
    for section in ["EventData", "UserData"] {
        match event.get(section) {
            Some(Value::Object(data)) => flatten_data(data, &mut out),
            Some(other @ Value::Array(_)) => {
                out.insert("Data".into(), other.clone());
            }
            _ => {}
        }
    }
    Some(Value::Object(out))
}

fn flatten_data(data: &Map<String, Value>, out: &mut Map<String, Value>) {
    for (key, value) in data {
        if key == "#attributes" {
            continue;
        }
        match value {
            // UserData wraps its fields in one element named after the event.
            Value::Object(inner) if !inner.contains_key("#text") => flatten_data(inner, out),
            _ => {
                out.entry(key.clone())
                    .or_insert_with(|| unwrap_text(value).clone());
            }
        }
    }
}

/// Adds the other names a field answers to: spaceless Defender names, Security 4688's Sysmon
/// names, Zeek's `id.orig_h` for `id_orig_h`.
fn add_aliases(object: &mut Map<String, Value>, source_hint: Hint) {
    let mut extra: Vec<(String, Value)> = Vec::new();
    for (key, value) in object.iter() {
        if key.contains(' ') {
            let bare: String = key.chars().filter(|c| *c != ' ').collect();
            if !object.contains_key(&bare) {
                extra.push((bare, value.clone()));
            }
        }
        if source_hint == Hint::Zeek
            && let Some(rest) = key.strip_prefix("id_")
        {
            extra.push((format!("id.{rest}"), value.clone()));
        }
    }
    if source_hint == Hint::Security4688 {
        for (theirs, sigma) in SECURITY_4688 {
            if let Some(v) = object.get(*theirs)
                && !object.contains_key(*sigma)
            {
                extra.push(((*sigma).to_owned(), v.clone()));
            }
        }
        if !object.contains_key("User")
            && let (Some(domain), Some(user)) = (
                object.get("SubjectDomainName").and_then(text),
                object.get("SubjectUserName").and_then(text),
            )
        {
            extra.push(("User".into(), Value::String(format!("{domain}\\{user}"))));
        }
    }
    for (k, v) in extra {
        object.entry(k).or_insert(v);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
    None,
    Security4688,
    Zeek,
}

/// An event ready for evaluation.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The fields.
    pub value: Value,
    /// The logsources it belongs to; empty when none is recognised.
    pub sources: Vec<Source>,
    /// Its `EventID`, when it has a numeric one.
    pub event_id: Option<i64>,
    /// Its time, as written in the log, when it has one.
    pub timestamp: Option<String>,
}

/// Normalizes one parsed record (from any reader) and finds its logsources.
pub fn prepare(record: Value, declared: Option<&Source>) -> Prepared {
    let mut value = flatten_windows(&record).unwrap_or(record);
    let mut sources = Vec::new();
    let mut hint = Hint::None;
    let event_id = value.get("EventID").and_then(|v| match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    });
    if let Value::Object(object) = &value {
        if let Some(channel) = object.get("Channel").and_then(Value::as_str) {
            let service = CHANNELS
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(channel))
                .map(|(_, s)| *s);
            let id = event_id;
            let categories: &[&str] = match (service, id) {
                (Some("sysmon"), Some(id)) => sysmon_categories(id),
                (Some(service), Some(id)) => other_categories(service, id),
                _ => &[],
            };
            if service == Some("security") && id == Some(4688) {
                hint = Hint::Security4688;
            }
            sources.push(Source::new("windows", None, service));
            for category in categories {
                sources.push(Source::new("windows", Some(category), service));
            }
        } else if object.contains_key("eventSource") && object.contains_key("eventName") {
            sources.push(Source::new("aws", None, Some("cloudtrail")));
        } else if let Some(path) = object
            .get("_path")
            .or_else(|| object.get("@stream"))
            .and_then(Value::as_str)
        {
            hint = Hint::Zeek;
            sources.push(Source::new("zeek", None, Some(path)));
        } else if object.contains_key("activityDisplayName") {
            sources.push(Source::new("azure", None, Some("auditlogs")));
        } else if object.contains_key("operationName") && object.contains_key("resourceId") {
            sources.push(Source::new("azure", None, Some("activitylogs")));
        }
    }
    if sources.is_empty()
        && let Some(declared) = declared
    {
        sources.push(declared.clone());
    }
    if let Value::Object(object) = &mut value {
        add_aliases(object, hint);
    }
    let timestamp = timestamp_of(&value);
    Prepared {
        value,
        sources,
        event_id,
        timestamp,
    }
}

/// Fields that carry an event's time, most specific first.
const TIME_FIELDS: &[&str] = &[
    "TimeCreated",
    "eventTime",
    "@timestamp",
    "timestamp",
    "ts",
    "time",
    "UtcTime",
    "createdDateTime",
    "activityDateTime",
];

fn timestamp_of(value: &Value) -> Option<String> {
    let object = value.as_object()?;
    for field in TIME_FIELDS {
        match object.get(*field) {
            Some(Value::String(s)) if !s.is_empty() => return Some(s.clone()),
            Some(Value::Number(n)) => {
                // Zeek's epoch seconds with a fraction.
                let seconds = n.as_f64()?;
                let whole = seconds.floor() as i64;
                let nanos = ((seconds - seconds.floor()) * 1e9) as i32;
                let ts = jiff::Timestamp::new(whole, nanos).ok()?;
                return Some(ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            }
            _ => {}
        }
    }
    None
}

/// Seconds since the epoch for a timestamp string, for correlation windows.
pub fn epoch_seconds(timestamp: &str) -> Option<i64> {
    if let Ok(ts) = timestamp.parse::<jiff::Timestamp>() {
        return Some(ts.as_second());
    }
    // "2025-11-27 07:40:10.132" (Sysmon UtcTime): UTC without a zone.
    let civil = timestamp.replace(' ', "T");
    civil
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp().as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sysmon_registry_set_event_is_in_both_registry_categories() {
        let record = serde_json::json!({"Event": {"System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
            "EventID": 13, "Channel": "Microsoft-Windows-Sysmon/Operational",
            "TimeCreated": {"#attributes": {"SystemTime": "2025-01-02T03:04:05.000Z"}}},
            "EventData": {"TargetObject": "HKLM\\Software\\x", "Details": "DWORD (0x00000001)"}}});
        let p = prepare(record, None);
        assert_eq!(p.value["Provider_Name"], "Microsoft-Windows-Sysmon");
        assert_eq!(p.value["TargetObject"], "HKLM\\Software\\x");
        let categories: Vec<_> = p
            .sources
            .iter()
            .filter_map(|s| s.category.clone())
            .collect();
        assert_eq!(categories, ["registry_set", "registry_event"]);
        assert_eq!(p.timestamp.as_deref(), Some("2025-01-02T03:04:05.000Z"));
    }

    #[test]
    fn security_4688_answers_to_sysmon_names() {
        let record = serde_json::json!({"Channel": "Security", "EventID": 4688,
            "NewProcessName": "C:\\Windows\\System32\\whoami.exe",
            "SubjectDomainName": "CORP", "SubjectUserName": "alice"});
        let p = prepare(record, None);
        assert_eq!(p.value["Image"], "C:\\Windows\\System32\\whoami.exe");
        assert_eq!(p.value["User"], "CORP\\alice");
        assert!(
            p.sources
                .iter()
                .any(|s| s.category.as_deref() == Some("process_creation"))
        );
    }

    #[test]
    fn zeek_and_defender_names_get_their_sigma_spelling() {
        let p = prepare(
            serde_json::json!({"@stream": "dns", "id_orig_h": "10.0.0.1", "ts": 1588205199.5}),
            None,
        );
        assert_eq!(p.value["id.orig_h"], "10.0.0.1");
        assert_eq!(p.sources[0].service.as_deref(), Some("dns"));
        assert_eq!(p.timestamp.as_deref(), Some("2020-04-30T00:06:39.500000Z"));
        let p = prepare(
            serde_json::json!({"Channel": "Microsoft-Windows-Windows Defender/Operational", "EventID": 1116, "Source Name": "x"}),
            None,
        );
        assert_eq!(p.value["SourceName"], "x");
    }

    #[test]
    fn unknown_json_takes_the_declared_logsource() {
        let declared = Source::parse("linux::process_creation");
        let p = prepare(serde_json::json!({"cmd": "id"}), Some(&declared));
        assert_eq!(p.sources, [declared]);
        assert_eq!(
            epoch_seconds("2025-11-27 07:40:10.132"),
            Some(1_764_229_210)
        );
    }
}
