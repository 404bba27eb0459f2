//! The extract stage's indicator triage: each indicator the scanner found is an indicator to
//! act on, an observable only (an identifier, an ASN, a Windows binary a report names to
//! describe a technique), or a false positive with its reason.

use std::collections::BTreeMap;

use ctiforge_entities::quote_at;
use ctiforge_ioc::Indicator;
use ctiforge_model::analysis::Ioc;
use ctiforge_model::{IocType, SentenceRole, Span};

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
            // Written on its own anywhere, it is not only derived.
            if indicator.derived_from.is_none() {
                existing.derived_from = None;
            }
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
                derived_from: indicator.derived_from,
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

/// Marks as references the links, domains and addresses a report cites rather than describes:
/// those in reference, advice, metadata or heading sentences (unless written defanged, the
/// way reports mark attacker infrastructure), every other mention of a host so marked, and the
/// publisher's own site.
pub(crate) fn flag_references(
    indicators: &mut [Indicator],
    document: &ctiforge_model::Document,
    roles: &[SentenceRole],
) {
    let is_link = |kind: IocType| matches!(kind, IocType::Url | IocType::Domain | IocType::Email);
    let is_file = |kind: IocType| {
        matches!(
            kind,
            IocType::Filename | IocType::Filepath | IocType::Registry
        )
    };
    let publisher = document
        .source
        .url
        .as_deref()
        .and_then(|u| u.split("://").nth(1))
        .and_then(|rest| rest.split(['/', ':', '?', '#']).next())
        .map(|h| h.trim_start_matches("www.").to_ascii_lowercase());
    let host_of = |i: &Indicator| {
        i.host
            .clone()
            .unwrap_or_else(|| i.value.clone())
            .trim_start_matches("www.")
            .to_ascii_lowercase()
    };
    let mut cited_hosts = std::collections::BTreeSet::new();
    for indicator in indicators.iter_mut() {
        if indicator.is_false_positive() || indicator.defanged {
            continue;
        }
        let role = document
            .sentence_at(indicator.start)
            .and_then(|i| roles.get(i))
            .copied()
            .unwrap_or(SentenceRole::Narrative);
        if is_file(indicator.kind)
            && matches!(
                role,
                SentenceRole::Advice | SentenceRole::Reference | SentenceRole::Metadata
            )
        {
            indicator.false_positive = Some(format!(
                "named in {} sentence (a product's own file or setting), not as the attacker's",
                with_article(&role.label())
            ));
            continue;
        }
        if !is_link(indicator.kind) {
            continue;
        }
        let host = host_of(indicator);
        if let Some(site) = &publisher
            && (host == *site || host.ends_with(&format!(".{site}")))
        {
            indicator.false_positive = Some("the publisher's own site".to_owned());
            cited_hosts.insert(host);
            continue;
        }
        if role != SentenceRole::Narrative && role != SentenceRole::Indicators {
            indicator.false_positive = Some(format!(
                "a reference: cited in {} sentence, not described as attacker infrastructure",
                with_article(&role.label())
            ));
            cited_hosts.insert(host);
        }
    }
    for indicator in indicators.iter_mut() {
        if !indicator.is_false_positive()
            && is_link(indicator.kind)
            && !indicator.defanged
            && cited_hosts.contains(&host_of(indicator))
        {
            indicator.false_positive =
                Some("a reference: its site is cited elsewhere in the report".to_owned());
        }
    }
}

/// Source-code file extensions: a vulnerability description names `parser.c` or
/// `AccountManagerService.java` to say where the flaw is.
const SOURCE_EXTENSIONS: &[&str] = &[
    "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "java", "go", "rs", "kt", "swift", "cs", "m", "mm",
    "scala", "erl", "ex", "exs",
];

/// `word` after its indefinite article ("an advice", "a reference").
fn with_article(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

/// Why a file named in a vulnerability's description is not an indicator.
const FLAW_FILE: &str = "names where a vulnerability is (a product's file), not an attacker's file";

/// Words of a sentence that describes a vulnerability (lower case).
const FLAW_WORDS: &[&str] = &[
    "vulnerab",
    "injection",
    "overflow",
    "flaw",
    "could allow",
    "allows a",
    "allow a",
    "improper",
    "hard-coded",
    "hardcoded",
    "exists in",
    "in the script",
    "functionality of",
    "memory corruption",
    "insecure permissions",
    "denial of service",
    "traversal",
    "is loaded from",
    "to be loaded from",
    "stores an",
    "default password",
];
/// Words of a sentence that describes an intrusion: a file there may be the attacker's.
const INTRUSION_WORDS: &[&str] = &[
    "malware",
    "payload",
    "dropped",
    "implant",
    "backdoor",
    "ransomware",
    "the actor",
    "actors",
    "threat actor",
    "beacon",
    "loader",
    "downloaded",
    "persistence",
    "staged",
    "exfiltrat",
    "webshell",
    "web shell",
];

/// Whether the text around a file name describes a vulnerability and not an intrusion.
fn locates_a_flaw(before_lower: &str, after: &str) -> bool {
    // Only its own sentence counts.
    let before = before_lower.rsplit(". ").next().unwrap_or(before_lower);
    let after = after.split(". ").next().unwrap_or(after);
    let around = format!("{before} {}", after.to_ascii_lowercase());
    FLAW_WORDS.iter().any(|w| around.contains(w))
        && !INTRUSION_WORDS.iter().any(|w| around.contains(w))
}

/// What follows `at` on its line, at most `limit` bytes.
fn line_after(text: &str, at: usize, limit: usize) -> &str {
    let start = at.min(text.len());
    let mut end = (start + limit).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let rest = &text[start..end];
    rest.find('\n').map_or(rest, |i| &rest[..i])
}

/// Flags what the sentence around an indicator shows it is not: a version number written like
/// an address (`Product: 6.5.0.2`, `firmware 8.6.0.4`), a commit id that looks like a hash, a
/// source file, a system device path or a product's file named to locate a flaw, a product or
/// class name written like a domain (`X.Org`, `AccountManagerService.java`, `W2.1.NA`).
pub(crate) fn flag_in_context(indicators: &mut [Indicator], text: &str) {
    const LOOK_BEHIND: usize = 200;
    for indicator in indicators.iter_mut().filter(|i| !i.is_false_positive()) {
        let raw = text.get(indicator.start..indicator.end).unwrap_or("");
        // What stands before it on its line, at most LOOK_BEHIND bytes (a long line must not
        // make each indicator scan it again).
        let end = indicator.start.min(text.len());
        let mut window = end.saturating_sub(LOOK_BEHIND);
        while !text.is_char_boundary(window) {
            window += 1;
        }
        let line_start = text[window..end]
            .rfind('\n')
            .map_or(window, |i| window + i + 1);
        let before = text.get(line_start..indicator.start).unwrap_or("");
        let after = line_after(text, indicator.end, LOOK_BEHIND);
        let before_lower = before.to_ascii_lowercase();
        let reason = match indicator.kind {
            IocType::Ipv4 => {
                let listed_version =
                    before.trim_start().starts_with("- ") && before.trim_end().ends_with(':');
                let compared = before.trim_end().ends_with(['<', '>', '=', '≤', '≥']);
                let version_words = ["version", "firmware", "release", "build", "update"];
                (listed_version
                    || compared
                    || version_words.iter().any(|w| before_lower.contains(w)))
                .then_some("a version number, not an address")
            }
            IocType::Md5 | IocType::Sha1 | IocType::Sha256 => {
                let near = &before_lower[before_lower.len().saturating_sub(16)..];
                near.contains("commit")
                    .then_some("a source-code commit id, not a file hash")
            }
            IocType::Filename => {
                let extension = indicator
                    .value
                    .rsplit('.')
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if SOURCE_EXTENSIONS.contains(&extension.as_str()) {
                    Some("a source file, named to locate a flaw")
                } else {
                    locates_a_flaw(&before_lower, after).then_some(FLAW_FILE)
                }
            }
            IocType::Filepath => {
                if ["/dev/", "/proc/", "/sys/"]
                    .iter()
                    .any(|p| indicator.value.starts_with(p))
                {
                    Some("a system device or kernel path")
                } else {
                    locates_a_flaw(&before_lower, after).then_some(FLAW_FILE)
                }
            }
            IocType::Domain if !indicator.defanged => name_like_domain(raw)
                .then_some("a product, class or version name written like a domain"),
            _ => None,
        };
        if let Some(reason) = reason {
            indicator.false_positive = Some(reason.to_owned());
        }
    }
}

/// `X.Org`, `AccountManagerService.java`, `W2.1.NA`: capitals inside a label, a one-letter
/// capital name before a capitalised suffix, or a version in the middle.
fn name_like_domain(raw: &str) -> bool {
    let labels: Vec<&str> = raw.split('.').collect();
    let camel = labels.iter().any(|label| {
        label
            .as_bytes()
            .windows(2)
            .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
    });
    let capital_suffix = labels
        .last()
        .is_some_and(|tld| tld.len() > 1 && tld.starts_with(|c: char| c.is_ascii_uppercase()));
    let one_letter = labels.len() == 2 && labels[0].len() == 1 && capital_suffix;
    let versioned = labels.len() >= 3
        && labels[1..labels.len() - 1]
            .iter()
            .any(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
        && labels[0].len() <= 4
        && labels[0].bytes().any(|b| b.is_ascii_digit());
    camel || one_letter || versioned
}
