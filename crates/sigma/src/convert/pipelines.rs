//! Processing pipelines: ours (YAML in `crates/sigma/pipelines/`, pySigma's format), rsigma's,
//! or a file, loaded and applied on rsigma's implementation with two mendings:
//!
//! - **`add_condition` with a list of values** (`source: [A, B]`, "one of these") — pySigma
//!   accepts it, rsigma 0.15 reads the list as null, which would turn the condition into
//!   "field absent". Before parsing, each such list is replaced by a marker string that
//!   carries the values; after the pipeline has run, the marker is replaced by the values.
//! - **`field_name_mapping` to several fields** (`ParentImage: [ParentProcessName,
//!   ActingProcessName]`) — rsigma copies the whole selection once per field and ORs the copies;
//!   pySigma ORs the one test (`(A or B) and C`, not `(A and C) or (B and C)`: the same events,
//!   a query that grows with each such field). The list is carried as one marker field name
//!   and the test split here.
//! - **`hashes_fields`** — rsigma 0.15 splits `Hashes: [MD5=a, SHA1=b]` into items that must
//!   *all* match (MD5 = a AND SHA1 = b), where the list means one of them. The transformation
//!   is carried as a state entry instead and done here after the pipeline: each `ALGO=value`
//!   becomes a test of the `ALGO` field, the tests OR-ed (AND-ed only under `|all`), unknown
//!   algorithms (IMPHASH...) dropped, `contains` read as a prefix of the hash (pySigma's
//!   reading).
//! - **`detection_item_failure` limited to fields** (`field_name_conditions`) — rsigma 0.15
//!   ignores the field conditions and refuses every rule the item applies to. Such an item is
//!   carried as a state entry and checked here after the pipeline, on the field names as the
//!   pipeline leaves them; the refusal names the field.
//! - **Order of added conditions**: rsigma keeps them in a hash map, so a condition with
//!   several fields came out in a different order from one run to the next. They are sorted
//!   by field name after each pipeline, so queries are stable.

use std::path::Path;

use rsigma_eval::pipeline::{Pipeline, PipelineState, parse_pipeline};
use rsigma_parser::{
    Detection, DetectionItem, FieldSpec, Modifier, SigmaRule, SigmaString, SigmaValue,
};
use serde::{Deserialize, Serialize};
use yaml_serde::Value;

use super::Unsupported;

/// Starts a marker field name standing for several fields (a test of any of them).
const ANY_FIELD: &str = "\u{1}ctiforge-any-field\u{1}";

/// Starts a marker string standing for a list of values (never in a real rule: a control
/// character).
const ANY_OF: &str = "\u{1}ctiforge-any-of\u{1}";

/// Our built-in pipelines: name, what it does, YAML.
const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "sysmon",
        "Windows categories as Sysmon event ids, logsource the sysmon service (as pySigma's)",
        include_str!("../../pipelines/sysmon.yml"),
    ),
    (
        "windows_audit",
        "process creation, registry and network categories as Security-audit events (4688, \
         4657, 5156), logsource the security service (as pySigma's windows-audit, with more fields)",
        include_str!("../../pipelines/windows_audit.yml"),
    ),
    (
        "windows_logsources",
        "Windows services and PowerShell categories as `Channel` conditions (as pySigma's \
         windows-logsources)",
        include_str!("../../pipelines/windows_logsources.yml"),
    ),
    (
        "splunk_windows",
        "Windows services as Splunk `source` conditions, EventID as EventCode (as pySigma's)",
        include_str!("../../pipelines/splunk_windows.yml"),
    ),
    (
        "splunk_cim",
        "process, registry, file and proxy fields as Splunk CIM data-model fields (as pySigma's)",
        include_str!("../../pipelines/splunk_cim.yml"),
    ),
    (
        "microsoft_xdr",
        "Windows categories as Defender XDR tables and their field names",
        include_str!("../../pipelines/microsoft_xdr.yml"),
    ),
    (
        "ecs_windows",
        "Windows fields as Elastic Common Schema, Winlogbeat 7+ (as pySigma's)",
        include_str!("../../pipelines/ecs_windows.yml"),
    ),
    (
        "ecs_windows_old",
        "Windows fields as Winlogbeat before 7 shipped them: channels, event_id, event_data.* \
         (as pySigma's)",
        include_str!("../../pipelines/ecs_windows_old.yml"),
    ),
    (
        "ecs_zeek",
        "Zeek logs as Filebeat's Zeek module indexes them in ECS, generic network and web \
         categories as Zeek logs (as pySigma's ecs_zeek_beats and ecs_zeek_corelight)",
        include_str!("../../pipelines/ecs_zeek.yml"),
    ),
    (
        "ecs_kubernetes",
        "Kubernetes audit events under kubernetes.audit, as Elastic's integration indexes them \
         (as pySigma's)",
        include_str!("../../pipelines/ecs_kubernetes.yml"),
    ),
    (
        "ecs_macos_esf",
        "macOS Endpoint Security events in ECS: categories as ESF events, fields as ECS names \
         (as pySigma's)",
        include_str!("../../pipelines/ecs_macos_esf.yml"),
    ),
    (
        "sentinel_asim",
        "endpoint and web categories as Sentinel ASIM parsers and their columns (as pySigma's)",
        include_str!("../../pipelines/sentinel_asim.yml"),
    ),
    (
        "qradar_fields",
        "Sigma fields as QRadar properties and products as log source types (as pySigma's \
         qradar-aql-fields)",
        include_str!("../../pipelines/qradar_fields.yml"),
    ),
    (
        "sentinel_windows",
        "Windows Security and Sysmon events in Sentinel's SecurityEvent and Event tables",
        include_str!("../../pipelines/sentinel_windows.yml"),
    ),
];

/// The pipelines that can be named: ours, then rsigma's `fibratus_windows`.
/// Each entry: name and what it does.
pub fn builtin_pipelines() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = BUILTIN.iter().map(|(n, d, _)| (*n, *d)).collect();
    out.push(("fibratus_windows", "Windows fields for Fibratus (rsigma)"));
    out
}

/// pySigma's names for pipelines we have under another name.
const ALIASES: &[(&str, &str)] = &[
    ("windows-audit", "windows_audit"),
    ("windows-logsources", "windows_logsources"),
    ("qradar-aql-fields", "qradar_fields"),
    ("ecs_zeek_beats", "ecs_zeek"),
    ("ecs_zeek_corelight", "ecs_zeek"),
];

/// Loads a pipeline by built-in name (ours or pySigma's spelling) or from a pySigma-format
/// YAML file.
pub fn load_pipeline(name_or_path: &str) -> Result<Pipeline, String> {
    let name_or_path = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name_or_path)
        .map_or(name_or_path, |(_, name)| name);
    if let Some((_, _, yaml)) = BUILTIN.iter().find(|(n, _, _)| *n == name_or_path) {
        return parse(yaml).map_err(|e| format!("built-in pipeline {name_or_path}: {e}"));
    }
    if let Some(pipeline) = rsigma_eval::pipeline::builtin::resolve_builtin(name_or_path) {
        return pipeline.map_err(|e| format!("built-in pipeline {name_or_path}: {e}"));
    }
    let path = Path::new(name_or_path);
    if !path.exists() {
        let names: Vec<&str> = builtin_pipelines().iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "no pipeline named {name_or_path} and no such file; built-in pipelines: {}",
            names.join(", ")
        ));
    }
    let yaml = std::fs::read_to_string(path)
        .map_err(|e| format!("pipeline {}: cannot read it: {e}", path.display()))?;
    parse(&yaml).map_err(|e| format!("pipeline {}: {e}", path.display()))
}

/// Parses pipeline YAML, with `add_condition` value lists carried as markers.
pub fn parse(yaml: &str) -> Result<Pipeline, String> {
    let mut doc: Value = yaml_serde::from_str(yaml).map_err(|e| e.to_string())?;
    if rewrite(&mut doc)? {
        let text = yaml_serde::to_string(&doc).map_err(|e| e.to_string())?;
        return parse_pipeline(&text).map_err(|e| e.to_string());
    }
    parse_pipeline(yaml).map_err(|e| e.to_string())
}

/// Replaces each list value of an `add_condition`'s `conditions` by a marker string and
/// each `hashes_fields` by a `set_state` that carries its settings (at any depth, `nest`
/// included); true when anything was replaced.
fn rewrite(value: &mut Value) -> Result<bool, String> {
    let mut changed = false;
    match value {
        Value::Mapping(map) => {
            if map.get("type").and_then(Value::as_str) == Some("hashes_fields") {
                let settings = HashesFields::from_yaml(map);
                map.insert("type".into(), "set_state".into());
                map.insert("key".into(), HASHES_STATE.into());
                map.insert(
                    "value".into(),
                    serde_json::to_string(&settings)
                        .map_err(|e| e.to_string())?
                        .into(),
                );
                changed = true;
            }
            if map.get("type").and_then(Value::as_str) == Some("detection_item_failure")
                && map.contains_key("field_name_conditions")
            {
                let failure = FieldFailure::from_yaml(map)?;
                map.insert("type".into(), "set_state".into());
                map.insert(
                    "key".into(),
                    format!("{FIELD_FAILURE_STATE}{}", failure.id).into(),
                );
                map.insert(
                    "value".into(),
                    serde_json::to_string(&failure)
                        .map_err(|e| e.to_string())?
                        .into(),
                );
                map.remove("field_name_conditions");
                changed = true;
            }
            if map.get("type").and_then(Value::as_str) == Some("field_name_mapping")
                && let Some(Value::Mapping(mapping)) = map.get_mut("mapping")
            {
                for (_, target) in mapping.iter_mut() {
                    if let Value::Sequence(fields) = target
                        && fields.len() > 1
                    {
                        let names: Vec<&str> = fields.iter().filter_map(Value::as_str).collect();
                        *target = Value::String(format!("{ANY_FIELD}{}", names.join("\u{1}")));
                        changed = true;
                    }
                }
            }
            let is_add_condition = map.get("type").and_then(Value::as_str) == Some("add_condition");
            if is_add_condition && let Some(Value::Mapping(conditions)) = map.get_mut("conditions")
            {
                for (field, v) in conditions.iter_mut() {
                    if let Value::Sequence(items) = v {
                        let values = items
                            .iter()
                            .map(|item| match item {
                                Value::String(s) => Ok(serde_json::Value::from(s.as_str())),
                                Value::Number(n) if n.as_i64().is_some() => {
                                    Ok(serde_json::Value::from(n.as_i64()))
                                }
                                other => Err(format!(
                                    "add_condition {}: list values must be strings or integers, \
                                     not {other:?}",
                                    field.as_str().unwrap_or("?")
                                )),
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        *v = Value::String(format!("{ANY_OF}{}", serde_json::Value::Array(values)));
                        changed = true;
                    }
                }
            }
            for (_, v) in map.iter_mut() {
                changed |= rewrite(v)?;
            }
        }
        Value::Sequence(items) => {
            for v in items {
                changed |= rewrite(v)?;
            }
        }
        _ => {}
    }
    Ok(changed)
}

/// Applies pipelines in priority order (their variables shared), then mends what rsigma
/// leaves: list markers become values, added conditions are sorted.
pub(super) fn apply(
    rule: &mut SigmaRule,
    pipelines: &[Pipeline],
) -> Result<PipelineState, Unsupported> {
    let mut ordered: Vec<&Pipeline> = pipelines.iter().collect();
    ordered.sort_by_key(|p| p.priority);
    let mut vars = std::collections::HashMap::new();
    for p in &ordered {
        vars.extend(p.vars.clone());
    }
    let mut state = PipelineState::new(vars);
    for pipeline in ordered {
        pipeline
            .apply(rule, &mut state)
            .map_err(|e| Unsupported(failure_message(&pipeline.name, &e.to_string())))?;
        let failures: Vec<String> = state
            .state
            .keys()
            .filter(|k| k.starts_with(FIELD_FAILURE_STATE))
            .cloned()
            .collect();
        for key in failures {
            let failure: Option<FieldFailure> = state
                .state
                .remove(&key)
                .and_then(|v| v.as_str().and_then(|s| serde_json::from_str(s).ok()));
            if let Some(field) = failure.as_ref().and_then(|f| f.offending_field(rule)) {
                let message = failure.map(|f| f.message).unwrap_or_default();
                return Err(Unsupported(format!(
                    "pipeline {}: field {field}: {message}",
                    pipeline.name
                )));
            }
        }
        if let Some(settings) = state.state.remove(HASHES_STATE) {
            let settings: HashesFields = settings
                .as_str()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            for detection in rule.detection.named.values_mut() {
                settings
                    .apply(detection)
                    .map_err(|e| Unsupported(format!("pipeline {}: {e}", pipeline.name)))?;
            }
        }
    }
    for (name, detection) in rule.detection.named.iter_mut() {
        expand_markers(detection);
        split_any_field(detection);
        if name.starts_with("__pipeline_cond_")
            && let Detection::AllOf(items) = detection
        {
            items.sort_by(|a, b| a.field.name.cmp(&b.field.name));
        }
    }
    Ok(state)
}

/// The state key that carries a `hashes_fields` transformation to [`apply`].
const HASHES_STATE: &str = "ctiforge.hashes_fields";

/// pySigma's `hashes_fields`: `Hashes` (`ALGO=value,...` as Sysmon writes it) as one field per
/// algorithm.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default)]
struct HashesFields {
    valid_hash_algos: Vec<String>,
    field_prefix: String,
    drop_algo_prefix: bool,
    /// Ours, not pySigma's: the field of an algorithm whose name is not prefix + algorithm
    /// (QRadar's `MD5 Hash`, `IMP Hash`).
    field_names: std::collections::BTreeMap<String, String>,
}

impl Default for HashesFields {
    fn default() -> Self {
        HashesFields {
            valid_hash_algos: ["MD5", "SHA1", "SHA256", "IMPHASH"]
                .map(String::from)
                .to_vec(),
            field_prefix: "File".into(),
            drop_algo_prefix: false,
            field_names: std::collections::BTreeMap::new(),
        }
    }
}

impl HashesFields {
    fn from_yaml(map: &yaml_serde::Mapping) -> Self {
        let mut out = HashesFields::default();
        if let Some(Value::Sequence(algos)) = map.get("valid_hash_algos") {
            out.valid_hash_algos = algos
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_uppercase)
                .collect();
        }
        if let Some(prefix) = map.get("field_prefix").and_then(Value::as_str) {
            out.field_prefix = prefix.into();
        }
        if let Some(drop) = map.get("drop_algo_prefix").and_then(Value::as_bool) {
            out.drop_algo_prefix = drop;
        }
        if let Some(Value::Mapping(names)) = map.get("field_names") {
            out.field_names = names
                .iter()
                .filter_map(|(algo, field)| {
                    Some((algo.as_str()?.to_uppercase(), field.as_str()?.to_owned()))
                })
                .collect();
        }
        out
    }

    /// Rewrites every `Hashes`/`Hash` item of the detection.
    fn apply(&self, detection: &mut Detection) -> Result<(), String> {
        match detection {
            Detection::AllOf(items) => {
                let (hashes, rest): (Vec<_>, Vec<_>) =
                    std::mem::take(items).into_iter().partition(|item| {
                        matches!(item.field.name.as_deref(), Some("Hashes" | "Hash"))
                    });
                if hashes.is_empty() {
                    *items = rest;
                    return Ok(());
                }
                let mut parts = Vec::new();
                if !rest.is_empty() {
                    parts.push(Detection::AllOf(rest));
                }
                for item in hashes {
                    parts.push(self.split(item)?);
                }
                *detection = match parts.len() {
                    1 => parts.remove(0),
                    _ => Detection::And(parts),
                };
            }
            Detection::AnyOf(parts) | Detection::And(parts) => {
                for part in parts {
                    self.apply(part)?;
                }
            }
            Detection::ArrayMatch { body, .. } => self.apply(body)?,
            Detection::Conditional { named, .. } => {
                for part in named.values_mut() {
                    self.apply(part)?;
                }
            }
            Detection::Keywords(_) => {}
        }
        Ok(())
    }

    /// One `Hashes` item as tests of the algorithm fields.
    fn split(&self, item: DetectionItem) -> Result<Detection, String> {
        let all = item.field.modifiers.contains(&Modifier::All);
        let mut modifiers: Vec<Modifier> = item
            .field
            .modifiers
            .iter()
            .copied()
            .filter(|m| *m != Modifier::All)
            .map(|m| {
                if m == Modifier::Contains {
                    Modifier::StartsWith
                } else {
                    m
                }
            })
            .collect();
        modifiers.dedup();
        let mut by_field: Vec<(String, Vec<SigmaValue>)> = Vec::new();
        for value in &item.values {
            let SigmaValue::String(s) = value else {
                continue;
            };
            let Some((algo, hash)) = s.original.split_once('=') else {
                continue;
            };
            let algo = algo.trim_start_matches('*').to_uppercase();
            if !self.valid_hash_algos.contains(&algo) {
                continue;
            }
            let field = if let Some(field) = self.field_names.get(&algo) {
                field.clone()
            } else if self.drop_algo_prefix {
                self.field_prefix.clone()
            } else {
                format!("{}{algo}", self.field_prefix)
            };
            let value = SigmaValue::String(SigmaString::new(hash.trim_end_matches('*')));
            match by_field.iter_mut().find(|(f, _)| *f == field) {
                Some((_, values)) => values.push(value),
                None => by_field.push((field, vec![value])),
            }
        }
        if by_field.is_empty() {
            return Err(format!(
                "no hash of a known algorithm in {:?} (known: {})",
                item.field.name.as_deref().unwrap_or("Hashes"),
                self.valid_hash_algos.join(", ")
            ));
        }
        let tests: Vec<Detection> = by_field
            .into_iter()
            .map(|(field, values)| {
                let mut modifiers = modifiers.clone();
                if all && values.len() > 1 {
                    modifiers.push(Modifier::All);
                }
                Detection::AllOf(vec![DetectionItem {
                    field: FieldSpec::new(Some(field), modifiers),
                    values,
                }])
            })
            .collect();
        Ok(if all {
            Detection::And(tests)
        } else {
            Detection::AnyOf(tests)
        })
    }
}

/// The state keys that carry field-limited `detection_item_failure`s to [`apply`].
const FIELD_FAILURE_STATE: &str = "ctiforge.field_failure.";

/// A `detection_item_failure` for the items whose field is (`include`) or is not (`exclude`)
/// in a list.
#[derive(Debug, Serialize, Deserialize)]
struct FieldFailure {
    id: String,
    message: String,
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
}

impl FieldFailure {
    fn from_yaml(map: &yaml_serde::Mapping) -> Result<Self, String> {
        let id = map
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("unnamed")
            .to_owned();
        let message = map
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("the pipeline has no such field")
            .to_owned();
        let mut failure = FieldFailure {
            id,
            message,
            include: None,
            exclude: None,
        };
        let Some(Value::Sequence(conditions)) = map.get("field_name_conditions") else {
            return Err(format!(
                "{}: field_name_conditions must be a list",
                failure.id
            ));
        };
        for condition in conditions {
            let fields: Vec<String> = match condition.get("fields") {
                Some(Value::Sequence(f)) => f
                    .iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect(),
                _ => Vec::new(),
            };
            match condition.get("type").and_then(Value::as_str) {
                Some("include_fields") => failure.include = Some(fields),
                Some("exclude_fields") => failure.exclude = Some(fields),
                other => {
                    return Err(format!(
                        "{}: detection_item_failure supports include_fields and exclude_fields \
                         field conditions, not {other:?}",
                        failure.id
                    ));
                }
            }
        }
        Ok(failure)
    }

    /// The first field of the rule that the failure is about.
    fn offending_field(&self, rule: &SigmaRule) -> Option<String> {
        let mut fields = Vec::new();
        for detection in rule.detection.named.values() {
            collect_fields(detection, &mut fields);
        }
        fields.into_iter().find(|field| {
            self.include
                .as_ref()
                .is_none_or(|list| list.contains(field))
                && self
                    .exclude
                    .as_ref()
                    .is_none_or(|list| !list.contains(field))
        })
    }
}

fn collect_fields(detection: &Detection, out: &mut Vec<String>) {
    match detection {
        Detection::AllOf(items) => {
            for name in items.iter().filter_map(|item| item.field.name.as_deref()) {
                match name.strip_prefix(ANY_FIELD) {
                    Some(fields) => out.extend(fields.split('\u{1}').map(str::to_owned)),
                    None => out.push(name.to_owned()),
                }
            }
        }
        Detection::AnyOf(parts) | Detection::And(parts) => {
            parts.iter().for_each(|part| collect_fields(part, out))
        }
        Detection::ArrayMatch { body, .. } => collect_fields(body, out),
        Detection::Conditional { named, .. } => {
            named.values().for_each(|part| collect_fields(part, out))
        }
        Detection::Keywords(_) => {}
    }
}

/// A pipeline's refusal in its own words: rsigma files `rule_failure` and
/// `detection_item_failure` messages under "invalid modifier combination", which misleads.
fn failure_message(pipeline: &str, error: &str) -> String {
    for marker in [
        "Pipeline rule failure: ",
        "Pipeline detection item failure: ",
    ] {
        if let Some((_, message)) = error.split_once(marker) {
            return format!("pipeline {pipeline}: {message}");
        }
    }
    format!("pipeline {pipeline}: {error}")
}

/// Replaces each test of a marker field (several fields) by one test per field, OR-ed, the
/// other tests of the selection kept beside them.
fn split_any_field(detection: &mut Detection) {
    match detection {
        Detection::AllOf(items) => {
            let marked = |item: &DetectionItem| {
                item.field
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with(ANY_FIELD))
            };
            if !items.iter().any(marked) {
                return;
            }
            let (split, rest): (Vec<_>, Vec<_>) =
                std::mem::take(items).into_iter().partition(marked);
            let mut parts = Vec::new();
            if !rest.is_empty() {
                parts.push(Detection::AllOf(rest));
            }
            for item in split {
                let name = item.field.name.as_deref().unwrap_or_default();
                let fields = name.strip_prefix(ANY_FIELD).unwrap_or(name).split('\u{1}');
                parts.push(Detection::AnyOf(
                    fields
                        .map(|field| {
                            Detection::AllOf(vec![DetectionItem {
                                field: FieldSpec::new(
                                    Some(field.to_owned()),
                                    item.field.modifiers.clone(),
                                ),
                                values: item.values.clone(),
                            }])
                        })
                        .collect(),
                ));
            }
            *detection = if parts.len() == 1 {
                parts.remove(0)
            } else {
                Detection::And(parts)
            };
        }
        Detection::AnyOf(parts) | Detection::And(parts) => {
            parts.iter_mut().for_each(split_any_field)
        }
        Detection::ArrayMatch { body, .. } => split_any_field(body),
        Detection::Conditional { named, .. } => named.values_mut().for_each(split_any_field),
        Detection::Keywords(_) => {}
    }
}

fn expand_markers(detection: &mut Detection) {
    match detection {
        Detection::AllOf(items) => {
            for item in items {
                let marked = item.values.iter().find_map(|v| match v {
                    SigmaValue::String(s) => s.original.strip_prefix(ANY_OF).map(str::to_owned),
                    _ => None,
                });
                if let Some(json) = marked {
                    let values: Vec<serde_json::Value> =
                        serde_json::from_str(&json).unwrap_or_default();
                    item.values = values
                        .iter()
                        .filter_map(|v| match v {
                            serde_json::Value::String(s) => {
                                Some(SigmaValue::String(SigmaString::new(s)))
                            }
                            serde_json::Value::Number(n) => n.as_i64().map(SigmaValue::Integer),
                            _ => None,
                        })
                        .collect();
                }
            }
        }
        Detection::AnyOf(parts) | Detection::And(parts) => {
            parts.iter_mut().for_each(expand_markers)
        }
        Detection::ArrayMatch { body, .. } => expand_markers(body),
        Detection::Conditional { named, .. } => named.values_mut().for_each(expand_markers),
        Detection::Keywords(_) => {}
    }
}
