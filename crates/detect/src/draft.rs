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
        if kinds.contains(&ioc.kind) && !out.contains(&ioc.value) {
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

fn ioc_draft(
    key: &str,
    title: String,
    description: String,
    logsource: (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    ),
    selections: Vec<(String, Selection)>,
    tags: Vec<String>,
    falsepositives: &[&str],
) -> Draft {
    let condition = if selections.len() == 1 {
        selections[0].0.clone()
    } else {
        "1 of selection_*".to_owned()
    };
    Draft {
        key: key.to_owned(),
        title,
        description,
        origin: RuleOrigin::Indicators,
        product: logsource.0,
        category: logsource.1,
        service: logsource.2,
        selections,
        condition,
        tags,
        level: "high",
        falsepositives: falsepositives.iter().map(|s| (*s).to_owned()).collect(),
        placeholders: Vec::new(),
    }
}

/// Drafts from the report's indicators, and notes on what it could not use.
pub(crate) fn from_indicators(analysis: &Analysis, notes: &mut Vec<String>) -> Vec<Draft> {
    let name = report_name(analysis);
    let mut drafts = Vec::new();
    let c2 = tactic_tags(analysis, "command-and-control");
    let execution = tactic_tags(analysis, "execution");
    let persistence = tactic_tags(analysis, "persistence");
    let sel = |field: &str, vals: Vec<String>| vec![(field.to_owned(), vals)];

    let ips = values(analysis, &[IocType::Ipv4, IocType::Ipv6]);
    if !ips.is_empty() {
        drafts.push(ioc_draft(
            "ioc-ip-network",
            format!("Connection to IP addresses reported in {name}"),
            format!("Network connections to the IP addresses that {name} reports as indicators."),
            (Some("windows"), Some("network_connection"), None),
            vec![("selection".into(), sel("DestinationIp", ips.clone()))],
            c2.clone(),
            &["Shared hosting or CDN addresses reused by legitimate services"],
        ));
        drafts.push(ioc_draft(
            "ioc-ip-firewall",
            format!("Firewall traffic to IP addresses reported in {name}"),
            format!(
                "Firewall log entries towards the IP addresses that {name} reports as indicators."
            ),
            (None, Some("firewall"), None),
            vec![("selection".into(), sel("dst_ip", ips))],
            c2.clone(),
            &["Shared hosting or CDN addresses reused by legitimate services"],
        ));
    }

    let mut domains = values(analysis, &[IocType::Domain]);
    for ioc in &analysis.iocs {
        if ioc.kind == IocType::Url
            && let Some(host) = &ioc.host
            && host.parse::<std::net::IpAddr>().is_err()
            && !domains.contains(host)
        {
            domains.push(host.clone());
        }
    }
    if !domains.is_empty() {
        let escaped: Vec<String> = domains.iter().map(|d| escape_sigma(d)).collect();
        let subdomains: Vec<String> = escaped.iter().map(|d| format!(".{d}")).collect();
        drafts.push(ioc_draft(
            "ioc-domain-dns",
            format!("DNS query for domains reported in {name}"),
            format!("DNS queries for the domains (and their subdomains) that {name} reports as indicators."),
            (Some("windows"), Some("dns_query"), None),
            vec![
                ("selection_exact".into(), sel("QueryName", escaped.clone())),
                ("selection_sub".into(), sel("QueryName|endswith", subdomains.clone())),
            ],
            c2.clone(),
            &["Security tools resolving indicators for enrichment"],
        ));
        drafts.push(ioc_draft(
            "ioc-domain-proxy",
            format!("Proxy requests to domains reported in {name}"),
            format!("Web proxy requests to the domains (and their subdomains) that {name} reports as indicators."),
            (None, Some("proxy"), None),
            vec![
                ("selection_exact".into(), sel("cs-host", escaped)),
                ("selection_sub".into(), sel("cs-host|endswith", subdomains)),
            ],
            c2.clone(),
            &["Security tools fetching indicators for enrichment"],
        ));
    }

    let paths: Vec<String> = analysis
        .iocs
        .iter()
        .filter(|i| i.kind == IocType::Url)
        .filter_map(|i| {
            let rest = i.value.split_once("://")?.1;
            let path = &rest[rest.find('/')?..];
            (path.len() >= 5).then(|| escape_sigma(path))
        })
        .fold(Vec::new(), |mut acc, p| {
            if !acc.contains(&p) {
                acc.push(p);
            }
            acc
        });
    if !paths.is_empty() {
        drafts.push(ioc_draft(
            "ioc-url-proxy",
            format!("Proxy requests for URL paths reported in {name}"),
            format!("Web proxy requests whose URI contains a path of the URLs that {name} reports as indicators."),
            (None, Some("proxy"), None),
            vec![("selection".into(), sel("c-uri|contains", paths))],
            c2.clone(),
            &["Legitimate sites that share the path"],
        ));
    }

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
    if !hashes.is_empty() {
        drafts.push(ioc_draft(
            "ioc-hash-process",
            format!("Process image with a hash reported in {name}"),
            format!("Processes started from files whose hash {name} reports as an indicator (Sysmon `Hashes`)."),
            (Some("windows"), Some("process_creation"), None),
            vec![("selection".into(), sel("Hashes|contains", hashes.clone()))],
            execution.clone(),
            &["None expected"],
        ));
        drafts.push(ioc_draft(
            "ioc-hash-image-load",
            format!("Module loaded with a hash reported in {name}"),
            format!(
                "Images (DLLs) loaded whose hash {name} reports as an indicator (Sysmon `Hashes`)."
            ),
            (Some("windows"), Some("image_load"), None),
            vec![("selection".into(), sel("Hashes|contains", hashes))],
            execution.clone(),
            &["None expected"],
        ));
    }

    let files: Vec<String> = values(analysis, &[IocType::Filename])
        .iter()
        .map(|f| format!("\\{}", escape_sigma(f)))
        .collect();
    if !files.is_empty() {
        drafts.push(ioc_draft(
            "ioc-file-process",
            format!("Process started from a file named in {name}"),
            format!("Processes whose image has a file name that {name} reports as an indicator."),
            (Some("windows"), Some("process_creation"), None),
            vec![("selection".into(), sel("Image|endswith", files.clone()))],
            execution.clone(),
            &["Legitimate software with the same file name"],
        ));
        drafts.push(ioc_draft(
            "ioc-file-written",
            format!("File written with a name from {name}"),
            format!("Files created with a name that {name} reports as an indicator."),
            (Some("windows"), Some("file_event"), None),
            vec![("selection".into(), sel("TargetFilename|endswith", files))],
            execution.clone(),
            &["Legitimate software with the same file name"],
        ));
    }

    let filepaths: Vec<String> = values(analysis, &[IocType::Filepath])
        .iter()
        .filter(|p| p.contains('\\'))
        .map(|p| escape_sigma(p))
        .collect();
    if !filepaths.is_empty() {
        drafts.push(ioc_draft(
            "ioc-path-written",
            format!("File written at a path reported in {name}"),
            format!("Files created at the Windows paths that {name} reports."),
            (Some("windows"), Some("file_event"), None),
            vec![("selection".into(), sel("TargetFilename", filepaths))],
            execution,
            &["Legitimate software using the same path"],
        ));
    }

    let keys: Vec<String> = values(analysis, &[IocType::Registry])
        .iter()
        .map(|k| {
            // Sysmon writes HKLM\... and HKU\...; match from below the hive.
            let below = k.split_once('\\').map_or(k.as_str(), |(_, rest)| rest);
            format!("\\{}", escape_sigma(below))
        })
        .collect();
    if !keys.is_empty() {
        drafts.push(ioc_draft(
            "ioc-registry-set",
            format!("Registry value set under a key reported in {name}"),
            format!("Registry values set under the keys that {name} reports."),
            (Some("windows"), Some("registry_set"), None),
            vec![("selection".into(), sel("TargetObject|contains", keys))],
            persistence,
            &["Legitimate software writing the same key"],
        ));
    }

    if analysis.iocs.is_empty() {
        notes.push(
            "The report names no indicators, so no indicator rules were made; see the \
             hunting-lead rules and the rules selected for its techniques."
                .into(),
        );
    } else {
        let used = [
            "ipv4", "ipv6", "domain", "url", "md5", "sha1", "sha256", "filename", "filepath",
            "registry",
        ];
        let mut unused: Vec<&str> = analysis
            .iocs
            .iter()
            .map(|i| i.kind.as_str())
            .filter(|k| !used.contains(k))
            .collect();
        unused.sort_unstable();
        unused.dedup();
        if !unused.is_empty() {
            notes.push(format!(
                "No rule for indicators of kind {}: no logsource records them in a form a rule can match reliably.",
                unused.join(", ")
            ));
        }
    }
    drafts
}

/// Drafts from the report's hunting leads and context where a sound behavioural rule exists.
pub(crate) fn from_leads(analysis: &Analysis, notes: &mut Vec<String>) -> Vec<Draft> {
    let name = report_name(analysis);
    let mut drafts = Vec::new();
    let health = analysis
        .entities
        .sectors
        .iter()
        .any(|s| s.name.eq_ignore_ascii_case("health"));
    let ics = analysis.techniques.iter().any(|t| t.id.starts_with("T0"));
    if health || ics {
        drafts.push(Draft {
            key: "lead-device-egress".into(),
            title: "Medical or OT device network reaching a destination outside its allow list"
                .into(),
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
        });
    }
    if has_technique(analysis, "T1562.008")
        || has_technique(analysis, "T1562")
            && analysis
                .hunting_leads
                .iter()
                .any(|l| l.kind == LeadKind::CloudAudit)
    {
        drafts.push(Draft {
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
        });
    }
    if analysis
        .hunting_leads
        .iter()
        .any(|l| l.kind == LeadKind::ApiEndpoint)
        || analysis
            .techniques
            .iter()
            .any(|t| t.id.starts_with("AML.T"))
    {
        drafts.push(Draft {
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
        });
    }
    if drafts.is_empty() {
        notes.push(
            "No hunting-lead rule: the report's leads (see hunting_leads) have no behavioural \
             rule here that would not fire on normal activity."
                .into(),
        );
    }
    drafts
}
