//! The extract stage's indicator triage: each indicator the scanner found is an indicator to
//! act on, an observable only (an identifier, an ASN, a Windows binary a report names to
//! describe a technique), or a false positive with its reason.

use std::collections::BTreeMap;

use ctiforge_entities::quote_at;
use ctiforge_ioc::Indicator;
use ctiforge_model::analysis::Ioc;
use ctiforge_model::{IocType, Span};

/// Programs and libraries that ship with Windows: a report that names them describes the
/// technique, not an indicator to block.
const SYSTEM_BINARIES: &[&str] = &[
    "at.exe",
    "attrib.exe",
    "bcdedit.exe",
    "bitsadmin.exe",
    "certutil.exe",
    "cmd.exe",
    "cmstp.exe",
    "comsvcs.dll",
    "conhost.exe",
    "cscript.exe",
    "csc.exe",
    "dllhost.exe",
    "explorer.exe",
    "forfiles.exe",
    "installutil.exe",
    "ipconfig.exe",
    "lsass.exe",
    "msbuild.exe",
    "mshta.exe",
    "msiexec.exe",
    "net.exe",
    "net1.exe",
    "netsh.exe",
    "netstat.exe",
    "nltest.exe",
    "ntdll.dll",
    "odbcconf.exe",
    "powershell.exe",
    "psexec.exe",
    "pwsh.exe",
    "reg.exe",
    "regasm.exe",
    "regsvcs.exe",
    "regsvr32.exe",
    "rundll32.exe",
    "sc.exe",
    "schtasks.exe",
    "services.exe",
    "svchost.exe",
    "systeminfo.exe",
    "taskkill.exe",
    "tasklist.exe",
    "vssadmin.exe",
    "wbadmin.exe",
    "werfault.exe",
    "wevtutil.exe",
    "whoami.exe",
    "winlogon.exe",
    "wmic.exe",
    "wscript.exe",
    "kernel32.dll",
    "user32.dll",
    "advapi32.dll",
];

/// Whether a file name or path names a Windows system binary.
fn is_system_binary(kind: IocType, value: &str) -> bool {
    if !matches!(kind, IocType::Filename | IocType::Filepath) {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    let name = lower.rsplit(['\\', '/']).next().unwrap_or(&lower);
    SYSTEM_BINARIES.contains(&name)
        && (kind == IocType::Filename
            || lower.starts_with("c:\\windows\\system32\\")
            || lower.starts_with("c:\\windows\\syswow64\\")
            || lower.starts_with("%systemroot%"))
}

/// The indicators of a report, deduplicated by (type, value) and sorted three ways.
#[derive(Debug, Default)]
pub(crate) struct Sorted {
    /// Worth acting on: to block or hunt.
    pub iocs: Vec<Ioc>,
    /// Identifiers (ATT&CK, CVE, CWE ids...), ASNs and Windows' own binaries.
    pub observables: Vec<Ioc>,
    /// Flagged as false positives, with the reason.
    pub false_positives: Vec<Ioc>,
}

/// Identifiers (ATT&CK, CVE, CWE ids...) and ASNs are observables, not indicators to block.
fn is_observable_only(kind: IocType) -> bool {
    !kind.is_observable() || kind == IocType::Asn
}

/// Indicators deduplicated by (type, value), split into actionable indicators, identifiers
/// (and Windows' own binaries) and false positives, each in the order of first occurrence.
pub(crate) fn sort_indicators(text: &str, sentences: &[Span], indicators: &[Indicator]) -> Sorted {
    type Key = (bool, bool, IocType, String);
    let mut seen: BTreeMap<Key, Ioc> = BTreeMap::new();
    let mut order: Vec<Key> = Vec::new();
    for indicator in indicators {
        let kind = indicator.kind;
        let key = (
            indicator.is_false_positive(),
            is_observable_only(indicator.kind)
                || is_system_binary(indicator.kind, &indicator.value),
            kind,
            indicator.value.clone(),
        );
        if let Some(existing) = seen.get_mut(&key) {
            existing.occurrences += 1;
            existing.defanged |= indicator.defanged;
            continue;
        }
        let Some(evidence) = quote_at(text, sentences, indicator.start) else {
            continue;
        };
        order.push(key.clone());
        seen.insert(
            key,
            Ioc {
                kind,
                value: indicator.value.clone(),
                defanged: indicator.defanged,
                occurrences: 1,
                host: indicator.host.clone(),
                reason: indicator.false_positive.clone(),
                context: indicator.context.clone(),
                evidence,
            },
        );
    }
    let mut sorted = Sorted::default();
    for key in order {
        let Some(ioc) = seen.remove(&key) else {
            continue;
        };
        match (key.0, key.1) {
            (true, _) => sorted.false_positives.push(ioc),
            (false, true) => sorted.observables.push(ioc),
            (false, false) => sorted.iocs.push(ioc),
        }
    }
    sorted
}
