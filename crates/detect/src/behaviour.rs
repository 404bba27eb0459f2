//! Behavioural rules for techniques a report describes, where the behaviour shows in a log
//! ATT&CK names for the technique (its data components: Windows event logs, Sysmon process,
//! registry and process-access events) and the rule needs nothing of the environment: the
//! events are rare on a normal network, or the command lines are ones administrators seldom
//! type. Each was tried on the shared logs (`bench/rule_trial.py`): it matches recordings of
//! its technique and little else.

use ctiforge_model::{Analysis, RuleOrigin};

use crate::draft::{Draft, Selection};

/// One test of a selection: `field|modifiers` and its values (OR-ed).
type Test = (&'static str, &'static [&'static str]);

/// One template: the techniques that call for it and the rule.
struct Template {
    /// Technique ids (exact) that call for the rule.
    techniques: &'static [&'static str],
    key: &'static str,
    title: &'static str,
    /// What the rule looks for; the report's name and the technique go before it.
    what: &'static str,
    /// ATT&CK data component the log is.
    data_component: &'static str,
    logsource: (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    ),
    selections: &'static [(&'static str, &'static [Test])],
    condition: &'static str,
    tactic: &'static str,
    level: &'static str,
    falsepositive: &'static str,
}

const TEMPLATES: &[Template] = &[
    Template {
        techniques: &["T1070.001"],
        key: "lead-eventlog-cleared",
        title: "Windows Security event log cleared",
        what: "the Security log's own record that it was cleared (event 1102)",
        data_component: "Windows event log: Security (Log Cleared)",
        logsource: (Some("windows"), None, Some("security")),
        selections: &[("selection", &[("EventID", &["1102"])])],
        condition: "selection",
        tactic: "defense-evasion",
        level: "high",
        falsepositive: "Administrators clearing the log by hand",
    },
    Template {
        techniques: &["T1070.001"],
        key: "lead-systemlog-cleared",
        title: "Windows event log cleared (System record)",
        what: "the System log's record that an event log was cleared (event 104)",
        data_component: "Windows event log: System (Log Cleared)",
        logsource: (Some("windows"), None, Some("system")),
        selections: &[(
            "selection",
            &[
                ("EventID", &["104"]),
                ("Provider_Name", &["Microsoft-Windows-Eventlog"]),
            ],
        )],
        condition: "selection",
        tactic: "defense-evasion",
        level: "medium",
        falsepositive: "Administrators clearing logs by hand",
    },
    Template {
        techniques: &["T1490"],
        key: "lead-recovery-inhibited",
        title: "Shadow copies or backups deleted, or recovery turned off",
        what: "the command lines that delete shadow copies and backup catalogs or turn Windows \
               recovery off (vssadmin, wmic, wbadmin, bcdedit)",
        data_component: "Process: Process Creation",
        logsource: (Some("windows"), Some("process_creation"), None),
        selections: &[
            (
                "selection_vssadmin",
                &[
                    ("Image|endswith", &["\\vssadmin.exe"]),
                    ("CommandLine|contains|all", &["delete", "shadows"]),
                ],
            ),
            (
                "selection_wmic",
                &[
                    ("Image|endswith", &["\\wmic.exe"]),
                    ("CommandLine|contains|all", &["shadowcopy", "delete"]),
                ],
            ),
            (
                "selection_wbadmin",
                &[
                    ("Image|endswith", &["\\wbadmin.exe"]),
                    (
                        "CommandLine|contains",
                        &["delete catalog", "delete systemstatebackup"],
                    ),
                ],
            ),
            (
                "selection_bcdedit",
                &[
                    ("Image|endswith", &["\\bcdedit.exe"]),
                    (
                        "CommandLine|contains",
                        &["recoveryenabled no", "bootstatuspolicy ignoreallfailures"],
                    ),
                ],
            ),
        ],
        condition: "1 of selection_*",
        tactic: "impact",
        level: "high",
        falsepositive: "Backup software pruning its own shadow copies",
    },
    Template {
        techniques: &["T1543.003", "T1569.002"],
        key: "lead-service-suspicious-path",
        title: "Service installed that runs from a user-writable folder or a shell",
        what: "services installed (System event 7045) whose program lies in a user-writable \
               folder or is a command or PowerShell line",
        data_component: "Windows event log: System (Service Creation)",
        logsource: (Some("windows"), None, Some("system")),
        selections: &[
            (
                "selection",
                &[
                    ("EventID", &["7045"]),
                    ("Provider_Name", &["Service Control Manager"]),
                ],
            ),
            (
                "selection_path",
                &[(
                    "ImagePath|contains",
                    &[
                        "\\AppData\\",
                        "\\Temp\\",
                        "\\Users\\Public\\",
                        "\\ProgramData\\",
                        "cmd /c",
                        "cmd.exe /c",
                        "%COMSPEC%",
                        "powershell",
                        "\\\\127.0.0.1\\",
                        "\\ADMIN$\\",
                    ],
                )],
            ),
        ],
        condition: "selection and selection_path",
        tactic: "persistence",
        level: "high",
        falsepositive: "Installers that run a service from ProgramData",
    },
    Template {
        techniques: &["T1003.001"],
        key: "lead-lsass-access",
        title: "LSASS memory opened for reading",
        what: "processes opening lsass.exe with the access rights memory dumping needs \
               (Sysmon event 10)",
        data_component: "Process: Process Access",
        logsource: (Some("windows"), Some("process_access"), None),
        selections: &[
            (
                "selection",
                &[
                    ("TargetImage|endswith", &["\\lsass.exe"]),
                    (
                        "GrantedAccess",
                        &["0x1010", "0x1410", "0x1438", "0x143a", "0x1fffff"],
                    ),
                ],
            ),
            (
                "filter_defender",
                &[(
                    "SourceImage|startswith",
                    // Not System32: rundll32 with comsvcs.dll, PowerShell and Task Manager dump
                    // LSASS from there (all in the shared attack samples).
                    &[
                        "C:\\Program Files\\Windows Defender\\",
                        "C:\\ProgramData\\Microsoft\\Windows Defender\\",
                    ],
                )],
            ),
        ],
        condition: "selection and not filter_defender",
        tactic: "credential-access",
        level: "high",
        falsepositive: "Security and monitoring products that read LSASS",
    },
    Template {
        techniques: &["T1136.001"],
        key: "lead-local-account-created",
        title: "Local user account created",
        what: "local accounts created (Security event 4720)",
        data_component: "Windows event log: Security (User Account Creation)",
        logsource: (Some("windows"), None, Some("security")),
        selections: &[("selection", &[("EventID", &["4720"])])],
        condition: "selection",
        tactic: "persistence",
        level: "medium",
        falsepositive: "Administrators and provisioning tools creating accounts",
    },
    Template {
        techniques: &["T1562.001"],
        key: "lead-defender-disabled",
        title: "Microsoft Defender protection turned off in the registry",
        what: "the registry values that turn Defender or its real-time protection off",
        data_component: "Windows Registry: Windows Registry Key Modification",
        logsource: (Some("windows"), Some("registry_set"), None),
        selections: &[(
            "selection",
            &[
                (
                    "TargetObject|endswith",
                    &[
                        "\\Windows Defender\\DisableAntiSpyware",
                        "\\Windows Defender\\DisableAntiVirus",
                        "\\Real-Time Protection\\DisableRealtimeMonitoring",
                        "\\Real-Time Protection\\DisableBehaviorMonitoring",
                        "\\Real-Time Protection\\DisableIOAVProtection",
                    ],
                ),
                ("Details", &["DWORD (0x00000001)"]),
            ],
        )],
        condition: "selection",
        tactic: "defense-evasion",
        level: "high",
        falsepositive: "Group policy that replaces Defender with another product",
    },
    Template {
        techniques: &["T1047"],
        key: "lead-wmi-shell",
        title: "Shell started by WMI",
        what: "command interpreters whose parent is the WMI provider host, as remote WMI \
               execution starts them",
        data_component: "Process: Process Creation",
        logsource: (Some("windows"), Some("process_creation"), None),
        selections: &[(
            "selection",
            &[
                ("ParentImage|endswith", &["\\WmiPrvSE.exe"]),
                (
                    "Image|endswith",
                    &[
                        "\\cmd.exe",
                        "\\powershell.exe",
                        "\\pwsh.exe",
                        "\\mshta.exe",
                        "\\rundll32.exe",
                    ],
                ),
            ],
        )],
        condition: "selection",
        tactic: "execution",
        level: "medium",
        falsepositive: "Management software that runs scripts through WMI",
    },
];

/// The behavioural rules for the report's techniques.
pub(crate) fn drafts(analysis: &Analysis, name: &str) -> Vec<Draft> {
    TEMPLATES
        .iter()
        .filter_map(|t| {
            let found = t
                .techniques
                .iter()
                .find_map(|id| analysis.techniques.iter().find(|found| found.id == *id))?;
            let technique = &found.id;
            let selections: Vec<(String, Selection)> = t
                .selections
                .iter()
                .map(|(sel, items)| {
                    let items = items
                        .iter()
                        .map(|(field, values)| {
                            (
                                (*field).to_owned(),
                                values.iter().map(|v| (*v).to_owned()).collect(),
                            )
                        })
                        .collect();
                    ((*sel).to_owned(), items)
                })
                .collect();
            Some(Draft {
                key: t.key.into(),
                title: t.title.into(),
                description: format!(
                    "{name} describes {} ({technique}). This rule looks for {}, in a log ATT&CK \
                     names for the technique ({}).",
                    found.name, t.what, t.data_component
                ),
                origin: RuleOrigin::HuntingLead,
                product: t.logsource.0,
                category: t.logsource.1,
                service: t.logsource.2,
                selections,
                condition: t.condition.into(),
                tags: vec![
                    format!("attack.{}", t.tactic),
                    format!("attack.{}", technique.to_lowercase()),
                ],
                level: t.level,
                falsepositives: vec![t.falsepositive.into()],
                placeholders: Vec::new(),
            })
        })
        .collect()
}
