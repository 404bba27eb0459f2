//! Rule drafts from a report: one per kind of indicator and logsource, and one per hunting
//! lead where a sound rule exists. A draft becomes Sigma YAML here; `lib.rs` proves it.

use ctiforge_model::Analysis;
use ctiforge_model::{IocType, LeadKind, RuleOrigin};

/// One selection: `field|modifiers` and its values (OR-ed).
pub(crate) type Selection = Vec<(String, Vec<String>)>;

/// A rule before it is written.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    /// What makes it unique within a report (for its id).
    pub key: String,
    pub title: String,
    pub description: String,
    pub origin: RuleOrigin,
    pub product: Option<&'static str>,
    pub category: Option<&'static str>,
    pub service: Option<&'static str>,
    /// Named selections, in order.
    pub selections: Vec<(String, Selection)>,
    pub condition: String,
    pub tags: Vec<String>,
    pub level: &'static str,
    pub falsepositives: Vec<String>,
    /// Placeholders: name, meaning, example values for the self-test.
    pub placeholders: Vec<(String, String, Vec<String>)>,
}

impl Draft {
    /// A short name of its logsource.
    pub fn logsource_name(&self) -> String {
        [self.product, self.service, self.category]
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Escapes a value for Sigma: `*` and `?` are literal, and a backslash before one of them or
/// before another backslash is doubled.
pub(crate) fn escape_sigma(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '*' | '?' => {
                out.push('\\');
                out.push(c);
            }
            '\\' if matches!(chars.get(i + 1), Some('*' | '?' | '\\') | None) => {
                out.push_str("\\\\");
            }
            _ => out.push(c),
        }
    }
    out
}

/// A YAML single-quoted scalar.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Writes the rule as Sigma YAML.
pub(crate) fn to_yaml(
    draft: &Draft,
    id: &str,
    date: &str,
    references: &[String],
    author: &str,
) -> String {
    let mut y = String::new();
    y.push_str(&format!("title: {}\n", quote(&draft.title)));
    y.push_str(&format!("id: {id}\n"));
    y.push_str("status: experimental\n");
    y.push_str(&format!("description: {}\n", quote(&draft.description)));
    if !references.is_empty() {
        y.push_str("references:\n");
        for r in references {
            y.push_str(&format!("    - {}\n", quote(r)));
        }
    }
    y.push_str(&format!("author: {}\n", quote(author)));
    y.push_str(&format!("date: {date}\n"));
    if !draft.tags.is_empty() {
        y.push_str("tags:\n");
        for t in &draft.tags {
            y.push_str(&format!("    - {t}\n"));
        }
    }
    y.push_str("logsource:\n");
    for (key, value) in [
        ("product", draft.product),
        ("category", draft.category),
        ("service", draft.service),
    ] {
        if let Some(v) = value {
            y.push_str(&format!("    {key}: {v}\n"));
        }
    }
    y.push_str("detection:\n");
    for (name, selection) in &draft.selections {
        y.push_str(&format!("    {name}:\n"));
        for (field, values) in selection {
            if values.len() == 1 {
                y.push_str(&format!("        {field}: {}\n", quote(&values[0])));
            } else {
                y.push_str(&format!("        {field}:\n"));
                for v in values {
                    y.push_str(&format!("            - {}\n", quote(v)));
                }
            }
        }
    }
    y.push_str(&format!("    condition: {}\n", draft.condition));
    y.push_str("falsepositives:\n");
    for f in &draft.falsepositives {
        y.push_str(&format!("    - {}\n", quote(f)));
    }
    y.push_str(&format!("level: {}\n", draft.level));
    y
}

/// The indicators of one kind, escaped for Sigma, in the analysis's order.
fn values(analysis: &Analysis, kinds: &[IocType]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for ioc in &analysis.iocs {
        if kinds.contains(&ioc.kind)
            && !out.contains(&ioc.value)
            && crate::ordinary::why(ioc).is_none()
        {
            out.push(ioc.value.clone());
        }
    }
    out
}

/// The report's title, shortened to keep rule titles within Sigma's conventions.
fn report_name(analysis: &Analysis) -> String {
    let title = analysis
        .report
        .title
        .clone()
        .unwrap_or_else(|| "the analysed report".to_owned());
    if title.chars().count() > 60 {
        let cut: String = title.chars().take(59).collect();
        format!("\"{}…\"", cut.trim_end())
    } else {
        format!("\"{title}\"")
    }
}

fn has_technique(analysis: &Analysis, prefix: &str) -> bool {
    analysis.techniques.iter().any(|t| t.id.starts_with(prefix))
}

/// ATT&CK tags for the report's techniques in `tactic` (Enterprise ids only), with the tactic.
fn tactic_tags(analysis: &Analysis, tactic: &str) -> Vec<String> {
    let mut tags = vec![format!("attack.{tactic}")];
    for t in &analysis.techniques {
        if t.id.starts_with('T')
            && !t.id.starts_with("T0")
            && t.tactics.iter().any(|(short, _)| short == tactic)
        {
            tags.push(format!("attack.{}", t.id.to_lowercase()));
        }
    }
    tags
}

/// How the values of one selection are written.
#[derive(Clone, Copy)]
enum Shape {
    /// As they are.
    Same,
    /// `.value`: the value as a parent domain, for `endswith`.
    Subdomain,
}

/// A rule drawn from the report's indicators of some kinds: which values, where they are
/// looked for, and how the rule reads. `{name}` in the texts is the report's quoted title.
struct IndicatorRule {
    key: &'static str,
    values: fn(&Analysis) -> Vec<String>,
    title: &'static str,
    description: &'static str,
    logsource: (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    ),
    /// Named selections: name, `field|modifiers`, value shape.
    selections: &'static [(&'static str, &'static str, Shape)],
    /// The ATT&CK tactic whose techniques of the report tag the rule.
    tactic: &'static str,
    falsepositive: &'static str,
}

const INDICATOR_RULES: &[IndicatorRule] = &[
    IndicatorRule {
        key: "ioc-ip-network",
        values: ip_values,
        title: "Connection to IP addresses reported in {name}",
        description: "Network connections to the IP addresses that {name} reports as indicators.",
        logsource: (Some("windows"), Some("network_connection"), None),
        selections: &[("selection", "DestinationIp", Shape::Same)],
        tactic: "command-and-control",
        falsepositive: "Shared hosting or CDN addresses reused by legitimate services",
    },
    IndicatorRule {
        key: "ioc-ip-firewall",
        values: ip_values,
        title: "Firewall traffic to IP addresses reported in {name}",
        description: "Firewall log entries towards the IP addresses that {name} reports as indicators.",
        logsource: (None, Some("firewall"), None),
        selections: &[("selection", "dst_ip", Shape::Same)],
        tactic: "command-and-control",
        falsepositive: "Shared hosting or CDN addresses reused by legitimate services",
    },
    IndicatorRule {
        key: "ioc-domain-dns",
        values: domain_values,
        title: "DNS query for domains reported in {name}",
        description: "DNS queries for the domains (and their subdomains) that {name} reports as indicators.",
        logsource: (Some("windows"), Some("dns_query"), None),
        selections: &[
            ("selection_exact", "QueryName", Shape::Same),
            ("selection_sub", "QueryName|endswith", Shape::Subdomain),
        ],
        tactic: "command-and-control",
        falsepositive: "Security tools resolving indicators for enrichment",
    },
    IndicatorRule {
        key: "ioc-domain-proxy",
        values: domain_values,
        title: "Proxy requests to domains reported in {name}",
        description: "Web proxy requests to the domains (and their subdomains) that {name} reports as indicators.",
        logsource: (None, Some("proxy"), None),
        selections: &[
            ("selection_exact", "cs-host", Shape::Same),
            ("selection_sub", "cs-host|endswith", Shape::Subdomain),
        ],
        tactic: "command-and-control",
        falsepositive: "Security tools fetching indicators for enrichment",
    },
    IndicatorRule {
        key: "ioc-url-proxy",
        values: url_path_values,
        title: "Proxy requests for URL paths reported in {name}",
        description: "Web proxy requests whose URI contains a path of the URLs that {name} reports as indicators.",
        logsource: (None, Some("proxy"), None),
        selections: &[("selection", "c-uri|contains", Shape::Same)],
        tactic: "command-and-control",
        falsepositive: "Legitimate sites that share the path",
    },
    IndicatorRule {
        key: "ioc-hash-process",
        values: hash_values,
        title: "Process image with a hash reported in {name}",
        description: "Processes started from files whose hash {name} reports as an indicator (Sysmon `Hashes`).",
        logsource: (Some("windows"), Some("process_creation"), None),
        selections: &[("selection", "Hashes|contains", Shape::Same)],
        tactic: "execution",
        falsepositive: "None expected",
    },
    IndicatorRule {
        key: "ioc-hash-image-load",
        values: hash_values,
        title: "Module loaded with a hash reported in {name}",
        description: "Images (DLLs) loaded whose hash {name} reports as an indicator (Sysmon `Hashes`).",
        logsource: (Some("windows"), Some("image_load"), None),
        selections: &[("selection", "Hashes|contains", Shape::Same)],
        tactic: "execution",
        falsepositive: "None expected",
    },
    IndicatorRule {
        key: "ioc-file-process",
        values: file_name_values,
        title: "Process started from a file named in {name}",
        description: "Processes whose image has a file name that {name} reports as an indicator.",
        logsource: (Some("windows"), Some("process_creation"), None),
        selections: &[("selection", "Image|endswith", Shape::Same)],
        tactic: "execution",
        falsepositive: "Legitimate software with the same file name",
    },
    IndicatorRule {
        key: "ioc-file-written",
        values: file_name_values,
        title: "File written with a name from {name}",
        description: "Files created with a name that {name} reports as an indicator.",
        logsource: (Some("windows"), Some("file_event"), None),
        selections: &[("selection", "TargetFilename|endswith", Shape::Same)],
        tactic: "execution",
        falsepositive: "Legitimate software with the same file name",
    },
    IndicatorRule {
        key: "ioc-path-written",
        values: windows_path_values,
        title: "File written at a path reported in {name}",
        description: "Files created at the Windows paths that {name} reports.",
        logsource: (Some("windows"), Some("file_event"), None),
        selections: &[("selection", "TargetFilename", Shape::Same)],
        tactic: "execution",
        falsepositive: "Legitimate software using the same path",
    },
    IndicatorRule {
        key: "ioc-registry-set",
        values: registry_values,
        title: "Registry value set under a key reported in {name}",
        description: "Registry values set under the keys that {name} reports.",
        logsource: (Some("windows"), Some("registry_set"), None),
        selections: &[("selection", "TargetObject|contains", Shape::Same)],
        tactic: "persistence",
        falsepositive: "Legitimate software writing the same key",
    },
];

/// The kinds of indicator some rule above uses.
const USED_KINDS: &[IocType] = &[
    IocType::Ipv4,
    IocType::Ipv6,
    IocType::Domain,
    IocType::Url,
    IocType::Md5,
    IocType::Sha1,
    IocType::Sha256,
    IocType::Filename,
    IocType::Filepath,
    IocType::Registry,
];

fn ip_values(analysis: &Analysis) -> Vec<String> {
    values(analysis, &[IocType::Ipv4, IocType::Ipv6])
}

/// Domains, and the hosts of URLs that are not addresses, escaped for Sigma.
fn domain_values(analysis: &Analysis) -> Vec<String> {
    let mut domains = values(analysis, &[IocType::Domain]);
    // Hosts that are ordinary, or that the analysis calls false positives as domains.
    let ordinary: Vec<&str> = analysis
        .iocs
        .iter()
        .filter(|i| i.kind == IocType::Domain && crate::ordinary::why(i).is_some())
        .chain(
            analysis
                .false_positives
                .iter()
                .filter(|i| i.kind == IocType::Domain),
        )
        .map(|i| i.value.as_str())
        .collect();
    for ioc in &analysis.iocs {
        if ioc.kind == IocType::Url
            && let Some(host) = &ioc.host
            && host.parse::<std::net::IpAddr>().is_err()
            && !domains.contains(host)
            && !ordinary.contains(&host.as_str())
            && crate::ordinary::why(ioc).is_none()
        {
            domains.push(host.clone());
        }
    }
    domains.iter().map(|d| escape_sigma(d)).collect()
}

/// The paths of URLs (five characters or more), escaped.
fn url_path_values(analysis: &Analysis) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for ioc in analysis.iocs.iter().filter(|i| i.kind == IocType::Url) {
        let Some((_, rest)) = ioc.value.split_once("://") else {
            continue;
        };
        let Some(slash) = rest.find('/') else {
            continue;
        };
        let path = &rest[slash..];
        if path.len() >= 5 && !paths.contains(&escape_sigma(path)) {
            paths.push(escape_sigma(path));
        }
    }
    paths
}

/// Hashes as Sysmon writes them in `Hashes` (`SHA256=…`).
fn hash_values(analysis: &Analysis) -> Vec<String> {
    let mut hashes = Vec::new();
    for (kind, prefix) in [
        (IocType::Md5, "MD5="),
        (IocType::Sha1, "SHA1="),
        (IocType::Sha256, "SHA256="),
    ] {
        for v in values(analysis, &[kind]) {
            hashes.push(format!("{prefix}{v}"));
        }
    }
    hashes
}

/// File names as the end of a path (`\name.exe`), escaped.
fn file_name_values(analysis: &Analysis) -> Vec<String> {
    values(analysis, &[IocType::Filename])
        .iter()
        .map(|f| format!("\\{}", escape_sigma(f)))
        .collect()
}

fn windows_path_values(analysis: &Analysis) -> Vec<String> {
    values(analysis, &[IocType::Filepath])
        .iter()
        .filter(|p| p.contains('\\'))
        .map(|p| escape_sigma(p))
        .collect()
}

/// Registry keys from below the hive (Sysmon writes `HKLM\…` and `HKU\…`), escaped.
fn registry_values(analysis: &Analysis) -> Vec<String> {
    values(analysis, &[IocType::Registry])
        .iter()
        .map(|k| {
            let below = k.split_once('\\').map_or(k.as_str(), |(_, rest)| rest);
            format!("\\{}", escape_sigma(below))
        })
        .collect()
}

impl IndicatorRule {
    fn draft(&self, analysis: &Analysis, name: &str) -> Option<Draft> {
        let values = (self.values)(analysis);
        if values.is_empty() {
            return None;
        }
        let selections: Vec<(String, Selection)> = self
            .selections
            .iter()
            .map(|(selection, field, shape)| {
                let shaped = match shape {
                    Shape::Same => values.clone(),
                    Shape::Subdomain => values.iter().map(|v| format!(".{v}")).collect(),
                };
                ((*selection).to_owned(), vec![((*field).to_owned(), shaped)])
            })
            .collect();
        let condition = if selections.len() == 1 {
            selections[0].0.clone()
        } else {
            "1 of selection_*".to_owned()
        };
        Some(Draft {
            key: self.key.to_owned(),
            title: self.title.replace("{name}", name),
            description: self.description.replace("{name}", name),
            origin: RuleOrigin::Indicators,
            product: self.logsource.0,
            category: self.logsource.1,
            service: self.logsource.2,
            selections,
            condition,
            tags: tactic_tags(analysis, self.tactic),
            level: "high",
            falsepositives: vec![self.falsepositive.to_owned()],
            placeholders: Vec::new(),
        })
    }
}

/// Drafts from the report's indicators, and notes on what it could not use.
pub(crate) fn from_indicators(analysis: &Analysis, notes: &mut Vec<String>) -> Vec<Draft> {
    let name = report_name(analysis);
    let drafts = INDICATOR_RULES
        .iter()
        .filter_map(|rule| rule.draft(analysis, &name))
        .collect();
    if analysis.iocs.is_empty() {
        notes.push(
            "The report names no indicators, so no indicator rules were made; see the \
             hunting-lead rules and the rules selected for its techniques."
                .into(),
        );
    } else {
        let mut unused: Vec<&str> = analysis
            .iocs
            .iter()
            .filter(|i| !USED_KINDS.contains(&i.kind))
            .map(|i| i.kind.as_str())
            .collect();
        unused.sort_unstable();
        unused.dedup();
        if !unused.is_empty() {
            notes.push(format!(
                "No rule for indicators of kind {}: no logsource records them in a form a rule can match reliably.",
                unused.join(", ")
            ));
        }
        let mut ordinary: Vec<(&str, Vec<&str>)> = Vec::new();
        for ioc in analysis
            .iocs
            .iter()
            .filter(|i| USED_KINDS.contains(&i.kind))
        {
            if let Some(why) = crate::ordinary::why(ioc) {
                match ordinary.iter_mut().find(|(w, _)| *w == why) {
                    Some((_, values)) if !values.contains(&ioc.value.as_str()) => {
                        values.push(&ioc.value)
                    }
                    Some(_) => {}
                    None => ordinary.push((why, vec![&ioc.value])),
                }
            }
        }
        for (why, values) in ordinary {
            notes.push(format!(
                "Left out of the indicator rules, as {why}: {}. A rule on them would fire on \
                 normal activity; hunt for them with what the report says around them (parent \
                 process, command line, path).",
                values.join(", ")
            ));
        }
    }
    drafts
}

/// Drafts from the report's hunting leads and context where a sound behavioural rule exists.
pub(crate) fn from_leads(analysis: &Analysis, notes: &mut Vec<String>) -> Vec<Draft> {
    let name = report_name(analysis);
    let mut drafts: Vec<Draft> = [device_egress, cloudtrail_tamper, inference_endpoint]
        .into_iter()
        .filter_map(|lead| lead(analysis, &name))
        .collect();
    drafts.extend(crate::behaviour::drafts(analysis, &name));
    if drafts.is_empty() {
        notes.push(
            "No hunting-lead rule: the report's leads (see hunting_leads) have no behavioural \
             rule here that would not fire on normal activity."
                .into(),
        );
    }
    drafts
}

/// Medical or OT devices reaching a destination outside their allow list: for reports on
/// healthcare or industrial control systems.
fn device_egress(analysis: &Analysis, name: &str) -> Option<Draft> {
    let health = analysis
        .entities
        .sectors
        .iter()
        .any(|s| s.name.eq_ignore_ascii_case("health"));
    let ics = analysis.techniques.iter().any(|t| t.id.starts_with("T0"));
    if !health && !ics {
        return None;
    }
    Some(Draft {
        key: "lead-device-egress".into(),
        title: "Medical or OT device network reaching a destination outside its allow list".into(),
        description: format!(
            "{name} concerns {}. Devices on those networks talk to a short, known list of \
             servers; a connection from their subnets to anything else deserves a look. Fill \
             %device_subnets% with the device networks' address patterns (e.g. 10.20.*) and \
             %allowed_destinations% with the servers they may reach.",
            if health {
                "healthcare and connected medical devices"
            } else {
                "industrial control systems"
            }
        ),
        origin: RuleOrigin::HuntingLead,
        product: None,
        category: Some("firewall"),
        service: None,
        selections: vec![
            (
                "selection".into(),
                vec![("src_ip|expand".into(), vec!["%device_subnets%".into()])],
            ),
            (
                "filter_allowed".into(),
                vec![(
                    "dst_ip|expand".into(),
                    vec!["%allowed_destinations%".into()],
                )],
            ),
        ],
        condition: "selection and not filter_allowed".into(),
        tags: vec![
            "attack.command-and-control".into(),
            "attack.exfiltration".into(),
        ],
        level: "medium",
        falsepositives: vec!["Vendor maintenance or updates not yet in the allow list".into()],
        placeholders: vec![
            (
                "device_subnets".into(),
                "address patterns of the medical/OT device networks".into(),
                vec!["10.20.*".into()],
            ),
            (
                "allowed_destinations".into(),
                "addresses those devices may reach".into(),
                vec!["10.1.1.5".into()],
            ),
        ],
    })
}

/// CloudTrail logging stopped, deleted or narrowed: for reports that describe disabling cloud
/// logging.
fn cloudtrail_tamper(analysis: &Analysis, name: &str) -> Option<Draft> {
    let applies = has_technique(analysis, "T1562.008")
        || has_technique(analysis, "T1562")
            && analysis.hunting_leads.iter().any(|l| {
                l.kind == LeadKind::LogSource
                    && l.where_
                        .iter()
                        .any(|w| w.to_lowercase().contains("cloudtrail"))
            });
    if !applies {
        return None;
    }
    Some(Draft {
        key: "lead-cloudtrail-tamper".into(),
        title: "CloudTrail logging stopped, deleted or narrowed".into(),
        description: format!(
            "{name} describes disabling cloud logging (T1562.008). These CloudTrail calls \
             stop, delete or reduce a trail."
        ),
        origin: RuleOrigin::HuntingLead,
        product: Some("aws"),
        category: None,
        service: Some("cloudtrail"),
        selections: vec![(
            "selection".into(),
            vec![
                (
                    "eventSource".into(),
                    vec!["cloudtrail.amazonaws.com".into()],
                ),
                (
                    "eventName".into(),
                    vec![
                        "StopLogging".into(),
                        "DeleteTrail".into(),
                        "UpdateTrail".into(),
                        "PutEventSelectors".into(),
                    ],
                ),
            ],
        )],
        condition: "selection".into(),
        tags: vec!["attack.defense-evasion".into(), "attack.t1562.008".into()],
        level: "high",
        falsepositives: vec!["Administrators reconfiguring trails".into()],
        placeholders: Vec::new(),
    })
}

/// An AI inference endpoint called by a client outside its allow list: for reports on attacks
/// on AI systems (ATLAS).
fn inference_endpoint(analysis: &Analysis, name: &str) -> Option<Draft> {
    let applies = analysis
        .hunting_leads
        .iter()
        .any(|l| l.kind == LeadKind::ApiEndpoint)
        || analysis
            .techniques
            .iter()
            .any(|t| t.id.starts_with("AML.T"));
    if !applies {
        return None;
    }
    Some(Draft {
        key: "lead-inference-endpoint".into(),
        title: "AI inference endpoint used by a client outside its allow list".into(),
        description: format!(
            "{name} describes attacks on an AI system through its inference API (ATLAS). \
             Fill %inference_paths% with the endpoint's URI paths (e.g. /v1/predict*) and \
             %inference_clients% with the client addresses that may call it."
        ),
        origin: RuleOrigin::HuntingLead,
        product: None,
        category: Some("webserver"),
        service: None,
        selections: vec![
            (
                "selection".into(),
                vec![(
                    "cs-uri-stem|expand".into(),
                    vec!["%inference_paths%".into()],
                )],
            ),
            (
                "filter_clients".into(),
                vec![("c-ip|expand".into(), vec!["%inference_clients%".into()])],
            ),
        ],
        condition: "selection and not filter_clients".into(),
        tags: vec!["attack.collection".into()],
        level: "medium",
        falsepositives: vec!["New internal consumers of the model".into()],
        placeholders: vec![
            (
                "inference_paths".into(),
                "URI paths of the inference API".into(),
                vec!["/v1/predict*".into()],
            ),
            (
                "inference_clients".into(),
                "addresses allowed to call it".into(),
                vec!["10.9.0.*".into()],
            ),
        ],
    })
}
