//! SigmaHQ's logsource taxonomy as ctiforge knows it: which Windows channel is which service,
//! which event ids are which category, and which logsources ctiforge can hunt in without
//! help. `hunt` routes events with it; `check` notes rules whose logsource it does not know.

use rsigma_parser::LogSource;

/// Windows channels and the Sigma service each one is.
pub const CHANNELS: &[(&str, &str)] = &[
    ("Security", "security"),
    ("System", "system"),
    ("Application", "application"),
    ("Microsoft-Windows-Sysmon/Operational", "sysmon"),
    ("Windows PowerShell", "powershell-classic"),
    ("Microsoft-Windows-PowerShell/Operational", "powershell"),
    ("PowerShellCore/Operational", "powershell"),
    (
        "Microsoft-Windows-TaskScheduler/Operational",
        "taskscheduler",
    ),
    (
        "Microsoft-Windows-Windows Defender/Operational",
        "windefend",
    ),
    ("Microsoft-Windows-WMI-Activity/Operational", "wmi"),
    ("Microsoft-Windows-Bits-Client/Operational", "bits-client"),
    ("Microsoft-Windows-DNS-Client/Operational", "dns-client"),
    ("DNS Server", "dns-server"),
    (
        "Microsoft-Windows-DNS-Server/Analytical",
        "dns-server-analytic",
    ),
    ("Microsoft-Windows-DNS-Server/Audit", "dns-server-audit"),
    (
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
        "terminalservices-localsessionmanager",
    ),
    (
        "Microsoft-Windows-CodeIntegrity/Operational",
        "codeintegrity-operational",
    ),
    ("Microsoft-Windows-AppLocker/EXE and DLL", "applocker"),
    ("Microsoft-Windows-AppLocker/MSI and Script", "applocker"),
    (
        "Microsoft-Windows-AppLocker/Packaged app-Deployment",
        "applocker",
    ),
    (
        "Microsoft-Windows-AppLocker/Packaged app-Execution",
        "applocker",
    ),
    ("Microsoft-Windows-NTLM/Operational", "ntlm"),
    (
        "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",
        "firewall-as",
    ),
    ("Microsoft-Windows-SMBClient/Security", "smbclient-security"),
    (
        "Microsoft-Windows-SMBClient/Connectivity",
        "smbclient-connectivity",
    ),
    ("Microsoft-Windows-SmbClient/Security", "smbclient-security"),
    ("Microsoft-Windows-LDAP-Client/Debug", "ldap_debug"),
    (
        "Microsoft-Windows-Security-Mitigations/KernelMode",
        "security-mitigations",
    ),
    (
        "Microsoft-Windows-Security-Mitigations/UserMode",
        "security-mitigations",
    ),
    ("Microsoft-Windows-PrintService/Admin", "printservice-admin"),
    (
        "Microsoft-Windows-PrintService/Operational",
        "printservice-operational",
    ),
    ("Microsoft-Windows-Shell-Core/Operational", "shell-core"),
    ("OpenSSH/Operational", "openssh"),
    (
        "Microsoft-Windows-DriverFrameworks-UserMode/Operational",
        "driver-framework",
    ),
    (
        "Microsoft-Windows-Kernel-ShimEngine/Operational",
        "shim-engine",
    ),
    (
        "Microsoft-Windows-Diagnosis-Scripted/Operational",
        "diagnosis-scripted",
    ),
    (
        "Microsoft-Windows-AppXDeploymentServer/Operational",
        "appxdeployment-server",
    ),
    (
        "Microsoft-Windows-AppxPackaging/Operational",
        "appxpackaging-om",
    ),
    ("Microsoft-Windows-CAPI2/Operational", "capi2"),
    ("Microsoft-Windows-Hyper-V-Worker-Admin", "hyper-v-worker"),
    (
        "Microsoft-Windows-Kernel-EventTracing/Admin",
        "kernel-event-tracing",
    ),
    (
        "Microsoft-Windows-Certificate-Services-Client-Lifecycle-System/Operational",
        "certificateservicesclient-lifecycle-system",
    ),
    ("Microsoft-Windows-Ntfs/Operational", "ntfs"),
    ("Microsoft-Windows-Windows Defender/WHC", "windefend"),
    (
        "Microsoft-Windows-MSExchange Management",
        "msexchange-management",
    ),
    ("MSExchange Management", "msexchange-management"),
    ("Microsoft-Windows-Sysmon-Operational", "sysmon"),
    ("Microsoft-Windows-GroupPolicy/Operational", "grouppolicy"),
    ("Microsoft-Windows-VHDMP/Operational", "vhdmp"),
    ("Microsoft-Windows-Kernel-PnP/Configuration", "kernel-pnp"),
];

/// Sysmon event ids and the categories they are.
pub fn sysmon_categories(id: i64) -> &'static [&'static str] {
    match id {
        1 => &["process_creation"],
        2 => &["file_change"],
        3 => &["network_connection"],
        4 | 16 => &["sysmon_status"],
        5 => &["process_termination"],
        6 => &["driver_load"],
        7 => &["image_load"],
        8 => &["create_remote_thread"],
        9 => &["raw_access_thread"],
        10 => &["process_access"],
        11 => &["file_event"],
        12 => &["registry_add", "registry_delete", "registry_event"],
        13 => &["registry_set", "registry_event"],
        14 => &["registry_rename", "registry_event"],
        15 => &["create_stream_hash"],
        17 | 18 => &["pipe_created"],
        19..=21 => &["wmi_event"],
        22 => &["dns_query"],
        23 | 26 => &["file_delete"],
        24 => &["clipboard_capture"],
        25 => &["process_tampering"],
        27 => &["file_block_executable"],
        28 => &["file_block_shredding"],
        29 => &["file_executable_detected"],
        255 => &["sysmon_error"],
        _ => &[],
    }
}

/// Categories other channels' events are, by (service, event id).
pub fn other_categories(service: &str, id: i64) -> &'static [&'static str] {
    match (service, id) {
        ("security", 4688) => &["process_creation"],
        ("powershell", 4104) => &["ps_script"],
        ("powershell", 4103) => &["ps_module"],
        ("powershell-classic", 400) => &["ps_classic_start"],
        ("powershell-classic", 600) => &["ps_classic_provider_start"],
        ("powershell-classic", 800) => &["ps_classic_script"],
        _ => &[],
    }
}

/// Every Windows category the tables above produce.
fn windows_categories() -> impl Iterator<Item = &'static str> {
    let sysmon = [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 19, 22, 23, 24, 25, 27, 28, 29, 255,
    ]
    .into_iter()
    .flat_map(sysmon_categories);
    let other = [
        ("security", 4688),
        ("powershell", 4104),
        ("powershell", 4103),
        ("powershell-classic", 400),
        ("powershell-classic", 600),
        ("powershell-classic", 800),
    ]
    .into_iter()
    .flat_map(|(s, id)| other_categories(s, id));
    sysmon.chain(other).copied()
}

/// Whether events of this logsource are recognised without a pipeline or `--logsource`.
pub fn known(logsource: &LogSource) -> bool {
    let is = |v: &Option<String>, x: &str| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(x));
    let service = logsource.service.as_deref();
    let category = logsource.category.as_deref();
    match logsource
        .product
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("windows") => {
            service.is_none_or(|s| {
                CHANNELS
                    .iter()
                    .any(|(_, known)| known.eq_ignore_ascii_case(s))
            }) && category.is_none_or(|c| windows_categories().any(|k| k.eq_ignore_ascii_case(c)))
        }
        Some("aws") => is(&logsource.service, "cloudtrail") && category.is_none(),
        Some("zeek") => category.is_none(),
        Some("azure") => {
            category.is_none()
                && (is(&logsource.service, "auditlogs") || is(&logsource.service, "activitylogs"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(product: &str, category: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            product: Some(product.into()),
            category: category.map(Into::into),
            service: service.map(Into::into),
            ..LogSource::default()
        }
    }

    #[test]
    fn hunted_logsources_are_known_and_others_are_not() {
        assert!(known(&ls("windows", Some("process_creation"), None)));
        assert!(known(&ls("windows", None, Some("security"))));
        assert!(known(&ls("windows", Some("registry_set"), None)));
        assert!(known(&ls("aws", None, Some("cloudtrail"))));
        assert!(known(&ls("zeek", None, Some("dns"))));
        assert!(!known(&ls("windows", Some("no_such_category"), None)));
        assert!(!known(&ls("okta", None, Some("okta"))));
        assert_eq!(sysmon_categories(13), ["registry_set", "registry_event"]);
    }
}
