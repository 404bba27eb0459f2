//! STIX objects as TAXII 2.1 serves them: versions, what a request selects, status resources.
//!
//! An object version is `(id, version)`, where the version is the object's `modified` (or
//! `created`; cyber-observables have neither and a single version `""`). The same id may be
//! stored under several TLP levels (one report TLP:CLEAR, another TLP:RED); a request sees only
//! the levels it may read. A stored object whose content changes (a re-analysis with a newer
//! knowledge base) becomes a new version with a later `modified`, so TAXII clients see the
//! history instead of a silent overwrite ([`next_version`]).

use ctiforge_model::Tlp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Cursor;

/// An object to store.
#[derive(Debug, Clone)]
pub struct NewObject {
    /// The object.
    pub body: Value,
    /// Its TLP.
    pub tlp: Tlp,
    /// The report it came from, if any.
    pub report: Option<i64>,
    /// When it is added.
    pub now: jiff::Timestamp,
}

/// What became of one object added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Added {
    /// Its id.
    pub id: String,
    /// The version stored (or already there).
    pub version: String,
    /// Whether it was stored (false: the same content was there already).
    pub stored: bool,
}

/// Which versions of each object a request wants (TAXII `match[version]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Versions {
    /// The newest version of each object (the default).
    #[default]
    Last,
    /// The oldest.
    First,
    /// Every version.
    All,
    /// These versions.
    Exactly(Vec<String>),
}

impl Versions {
    /// Reads a `match[version]` value: `last`, `first`, `all` or comma-separated timestamps.
    pub fn parse(text: &str) -> Self {
        let mut exact = Vec::new();
        let mut wanted = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "last" => wanted.push(Versions::Last),
                "first" => wanted.push(Versions::First),
                "all" => wanted.push(Versions::All),
                other => exact.push(other.to_owned()),
            }
        }
        if wanted.contains(&Versions::All) {
            return Versions::All;
        }
        match (wanted.first(), exact.is_empty()) {
            (Some(w), true) => w.clone(),
            (None, false) => Versions::Exactly(exact),
            // A mix of keywords and timestamps: every version, filtered by the caller.
            (Some(_), false) => Versions::All,
            (None, true) => Versions::Last,
        }
    }
}

/// A TAXII request for objects or their manifest.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// The TLP levels visible.
    pub tlps: Vec<Tlp>,
    /// Only objects added after this time (RFC 3339).
    pub added_after: Option<String>,
    /// `match[id]`.
    pub ids: Vec<String>,
    /// `match[type]`.
    pub types: Vec<String>,
    /// `match[version]`.
    pub versions: Versions,
    /// `match[spec_version]`.
    pub spec_versions: Vec<String>,
    /// Objects at most.
    pub limit: u32,
    /// Continue after this position (`next`).
    pub after: Option<Cursor>,
    /// Whether the bodies are wanted (not for a manifest).
    pub bodies: bool,
}

/// One stored object version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    /// Its id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// Its `spec_version`.
    pub spec_version: String,
    /// When it was added (RFC 3339 with microseconds).
    pub added: String,
    /// Its position in the order of addition.
    pub seq: i64,
    /// The object, when asked for.
    pub body: Option<Value>,
}

/// A page of objects.
#[derive(Debug, Clone, Default)]
pub struct ObjectPage {
    /// The objects, oldest addition first.
    pub objects: Vec<StoredObject>,
    /// Whether more match.
    pub more: bool,
    /// The cursor to continue with.
    pub next: Option<String>,
}

/// A TAXII status resource (TAXII 2.1 §4.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Its id.
    pub id: String,
    /// `complete` or `pending`.
    pub status: String,
    /// When the request arrived.
    pub request_timestamp: String,
    /// Objects in the request.
    pub total_count: u64,
    /// Objects stored.
    pub success_count: u64,
    /// Which.
    pub successes: Vec<StatusDetail>,
    /// Objects refused.
    pub failure_count: u64,
    /// Which, and why.
    pub failures: Vec<StatusDetail>,
    /// Objects not yet processed.
    pub pending_count: u64,
    /// Which.
    pub pendings: Vec<StatusDetail>,
}

/// One object of a status resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetail {
    /// The object's id.
    pub id: String,
    /// Its version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An object's version: `modified`, else `created`, else `""` (a cyber-observable).
pub fn version_of(object: &Value) -> String {
    object["modified"]
        .as_str()
        .or_else(|| object["created"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Whether two bodies say the same thing, whatever their `modified`.
pub fn same_content(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove("modified");
        }
        v
    };
    strip(a) == strip(b)
}

/// The version to store `object` under when `latest` (the newest stored version of its id at
/// its TLP) exists: `None` when the content is the same (nothing to store); otherwise its own
/// `modified` if later than `latest`'s, else one millisecond after `latest`'s — STIX requires a
/// new version to have a later `modified`. Cyber-observables (no `modified`) keep one version.
pub fn next_version(object: &Value, latest: Option<(&str, &Value)>) -> Option<String> {
    let own = version_of(object);
    let Some((latest_version, latest_body)) = latest else {
        return Some(own);
    };
    if same_content(object, latest_body) {
        return None;
    }
    if object.get("modified").is_none() {
        // No version property: the new content replaces the old under the same version.
        return Some(own);
    }
    if own.as_str() > latest_version {
        return Some(own);
    }
    let previous: jiff::Timestamp = latest_version.parse().ok()?;
    let next = previous + jiff::SignedDuration::from_millis(1);
    Some(stix_time(next))
}

/// A time as STIX writes it: RFC 3339, UTC, milliseconds.
pub fn stix_time(time: jiff::Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Checks an object posted to a collection: an object with `type`, `id` of that type and, for
/// anything but a cyber-observable, `spec_version` 2.1 with `created` and `modified`.
pub fn check_object(object: &Value) -> Result<(), String> {
    let Some(map) = object.as_object() else {
        return Err("not a JSON object".into());
    };
    let kind = map.get("type").and_then(Value::as_str).ok_or("no `type`")?;
    let id = map.get("id").and_then(Value::as_str).ok_or("no `id`")?;
    let Some((prefix, uuid)) = id.split_once("--") else {
        return Err(format!("`id` {id:?} is not TYPE--UUID"));
    };
    if prefix != kind || uuid.len() != 36 {
        return Err(format!("`id` {id:?} does not match type {kind:?}"));
    }
    if map.get("spec_version").and_then(Value::as_str) != Some("2.1") {
        return Err("`spec_version` is not \"2.1\"".into());
    }
    let observable = matches!(
        kind,
        "artifact"
            | "autonomous-system"
            | "directory"
            | "domain-name"
            | "email-addr"
            | "email-message"
            | "file"
            | "ipv4-addr"
            | "ipv6-addr"
            | "mac-addr"
            | "mutex"
            | "network-traffic"
            | "process"
            | "software"
            | "url"
            | "user-account"
            | "windows-registry-key"
            | "x509-certificate"
    );
    if !observable && kind != "marking-definition" {
        for key in ["created", "modified"] {
            let text = map
                .get(key)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("no `{key}`"))?;
            text.parse::<jiff::Timestamp>()
                .map_err(|_| format!("`{key}` {text:?} is not an RFC 3339 timestamp"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_changed_object_gets_a_later_version() {
        let old = json!({"id": "x", "modified": "2026-01-01T00:00:00.000Z", "name": "a"});
        let same = json!({"id": "x", "modified": "2026-01-01T00:00:00.000Z", "name": "a"});
        let changed = json!({"id": "x", "modified": "2026-01-01T00:00:00.000Z", "name": "b"});
        let later = json!({"id": "x", "modified": "2026-02-01T00:00:00.000Z", "name": "b"});
        let latest = Some(("2026-01-01T00:00:00.000Z", &old));
        assert_eq!(next_version(&same, latest), None);
        assert_eq!(
            next_version(&changed, latest).as_deref(),
            Some("2026-01-01T00:00:00.001Z")
        );
        assert_eq!(
            next_version(&later, latest).as_deref(),
            Some("2026-02-01T00:00:00.000Z")
        );
        assert_eq!(
            next_version(&old, None).as_deref(),
            Some("2026-01-01T00:00:00.000Z")
        );
    }

    #[test]
    fn version_filters_parse_as_taxii_says() {
        assert_eq!(Versions::parse(""), Versions::Last);
        assert_eq!(Versions::parse("first"), Versions::First);
        assert_eq!(Versions::parse("last,all"), Versions::All);
        assert_eq!(
            Versions::parse("2026-01-01T00:00:00.000Z"),
            Versions::Exactly(vec!["2026-01-01T00:00:00.000Z".into()])
        );
    }

    #[test]
    fn posted_objects_are_checked() {
        let good = json!({
            "type": "indicator", "id": "indicator--6f1c2a4e-9d3b-5c7a-8e0f-1b2c3d4e5f60",
            "spec_version": "2.1", "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z"
        });
        assert_eq!(check_object(&good), Ok(()));
        let mut wrong = good.clone();
        wrong["id"] = json!("malware--6f1c2a4e-9d3b-5c7a-8e0f-1b2c3d4e5f60");
        assert!(check_object(&wrong).is_err());
        let sco = json!({"type": "ipv4-addr", "id": "ipv4-addr--6f1c2a4e-9d3b-5c7a-8e0f-1b2c3d4e5f60", "spec_version": "2.1", "value": "203.0.113.9"});
        assert_eq!(check_object(&sco), Ok(()));
        assert!(check_object(&json!([1])).is_err());
    }
}
