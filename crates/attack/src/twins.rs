//! The same behaviour in another matrix. ATT&CK repeats many Enterprise techniques in its ICS
//! and Mobile matrices under the same name (Remote System Discovery is T1018 in Enterprise and
//! T0846 in ICS; Audio Capture is T1123 and, on phones, T1429). The classifier learns the
//! Enterprise form from thousands of examples and the ICS or Mobile form from a handful, so a
//! report about a plant or a phone gets the twin of each Enterprise technique it describes,
//! with the same evidence, when the report itself says it is about industrial control systems
//! or mobile devices (its own words, listed with the twin). ATLAS does the same for attacks on
//! AI systems (Exploit Public-Facing Application is T1190 and AML.T0049).

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::prototypes::DENSE_SHARE;
use ctiforge_kb::KnowledgeBase;
use ctiforge_model::Domain;
use regex::{Regex, RegexBuilder};

/// Words that place a report in a domain: equipment, protocols and platforms, not sectors
/// (a hospital or a utility runs ordinary IT too).
const CUES: [(Domain, &[&str]); 3] = [
    (
        Domain::Ics,
        &[
            "plc",
            "plcs",
            "programmable logic controller",
            "programmable logic controllers",
            "hmi",
            "hmis",
            "human-machine interface",
            "human machine interface",
            "scada",
            "rtu",
            "rtus",
            "industrial control system",
            "industrial control systems",
            "ics",
            "control system",
            "control systems",
            "distributed control system",
            "dcs",
            "safety instrumented system",
            "safety instrumented systems",
            "safety system",
            "safety controller",
            "safety controllers",
            "engineering workstation",
            "engineering workstations",
            "historian",
            "ladder logic",
            "field device",
            "field devices",
            "operational technology",
            "modbus",
            "dnp3",
            "iec 104",
            "iec-104",
            "iec 60870-5-104",
            "iec 61850",
            "opc",
            "opc ua",
            "profinet",
            "ethernet/ip",
            "s7comm",
            "codesys",
            "tristation",
            "triconex",
            "wincc",
            "substation",
            "substations",
            // What a write-up calls the plant's side of the network, in place of the kit's
            // names ("spread to industrial networks"); not "industrial sector", a customer.
            "industrial network",
            "industrial networks",
            "industrial environment",
            "industrial environments",
            "industrial process",
            "industrial processes",
            "industrial equipment",
            "industrial device",
            "industrial devices",
            "industrial protocol",
            "industrial protocols",
            // Sensor networks of utilities (Fuxnet's targets, 2024: "industrial sensor and
            // monitoring infrastructure", "sensor gateways", "the RS485/MBus").
            "industrial sensor",
            "industrial sensors",
            "sensor gateway",
            "sensor gateways",
            "rs485",
            "rs-485",
            "ot network",
            "ot networks",
            "ot environment",
            "ot environments",
            // ATT&CK for ICS's asset names (its `x-mitre-asset` objects) not listed above.
            "intelligent electronic device",
            "intelligent electronic devices",
            "protection relay",
            "protection relays",
            "remote terminal unit",
            "remote terminal units",
            "programmable automation controller",
            "programmable automation controllers",
            "data historian",
            "operator workstation",
            "operator workstations",
            "variable frequency drive",
            "variable frequency drives",
            "field i/o",
            // Connected medical devices: ATT&CK for ICS is the matrix hospitals map them to.
            "medical device",
            "medical devices",
            "infusion pump",
            "infusion pumps",
            "patient monitor",
            "patient monitors",
            "iomt",
        ],
    ),
    (
        Domain::Mobile,
        &[
            "android",
            "ios",
            "iphone",
            "iphones",
            "ipad",
            "apk",
            "apks",
            "smartphone",
            "smartphones",
            "mobile device",
            "mobile devices",
            "mobile app",
            "mobile apps",
            "mobile application",
            "mobile applications",
            "google play",
            "play store",
            "app store",
            "accessibility service",
            "accessibility services",
            "device administrator",
            "broadcast receiver",
            "jailbroken",
            "rooted device",
            "sms",
        ],
    ),
    (
        Domain::Atlas,
        &[
            "machine learning",
            "machine-learning",
            "ml model",
            "ml models",
            "ai model",
            "ai models",
            "llm",
            "llms",
            "large language model",
            "large language models",
            "chatbot",
            "neural network",
            "deep learning",
            "training data",
            "inference api",
            "prompt",
            "prompts",
            "model weights",
            "hugging face",
            "ai agent",
            "ai agents",
            "ai system",
            "ai systems",
            "generative ai",
            "retrieval-augmented generation",
        ],
    ),
];

/// Namesakes under other names: ATT&CK for ICS and Mobile describe the same behaviour as these
/// Enterprise techniques under a name of their own (from the techniques' definitions).
const RENAMED: [(&str, &str, Domain); 14] = [
    ("T1078.001", "T0812", Domain::Ics), // Default Accounts → Default Credentials
    ("T1059.003", "T0807", Domain::Ics), // Windows Command Shell → Command-Line Interface
    ("T1059.004", "T0807", Domain::Ics), // Unix Shell → Command-Line Interface
    ("T1059.001", "T0853", Domain::Ics), // PowerShell → Scripting
    ("T1059.005", "T0853", Domain::Ics), // Visual Basic → Scripting
    ("T1059.006", "T0853", Domain::Ics), // Python → Scripting
    ("T1071", "T0869", Domain::Ics), // Application Layer Protocol → Standard Application Layer Protocol
    ("T1090", "T0884", Domain::Ics), // Proxy → Connection Proxy
    ("T1070", "T0872", Domain::Ics), // Indicator Removal → Indicator Removal on Host
    ("T1529", "T0816", Domain::Ics), // System Shutdown/Reboot → Device Restart/Shutdown
    ("T1499", "T0814", Domain::Ics), // Endpoint Denial of Service → Denial of Service
    ("T1049", "T0840", Domain::Ics), // System Network Connections Discovery → Network Connection Enumeration
    // Mobile keeps the old parent name: Indicator Removal on Host (a 2021 Android spyware
    // write-up's "deleting zip files" gave only the Enterprise techniques).
    ("T1070", "T1630", Domain::Mobile), // Indicator Removal → Indicator Removal on Host
    ("T1070.004", "T1630.002", Domain::Mobile), // File Deletion → File Deletion
];

/// One pattern per domain, longest cues first.
static CUE_PATTERNS: LazyLock<Vec<(Domain, Regex)>> = LazyLock::new(|| {
    CUES.iter()
        .map(|(domain, cues)| {
            let mut cues: Vec<&str> = cues.to_vec();
            cues.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
            let alternation = cues
                .iter()
                .map(|c| regex::escape(c))
                .collect::<Vec<_>>()
                .join("|");
            // ASCII word boundaries and case folding (the cues are ASCII): a Unicode `\b`
            // sends the engine to its slowest search on any non-ASCII text (decision 0013).
            let pattern = RegexBuilder::new(&format!(r"\b(?:{alternation})\b"))
                .case_insensitive(true)
                .unicode(false)
                .build()
                .expect("cue pattern");
            (*domain, pattern)
        })
        .collect()
});

/// How a document places itself in ICS, Mobile or ATLAS: the distinct cues it uses, and how
/// many of its sentences the learned placement puts there ([`crate::placement`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The domain.
    pub domain: Domain,
    /// Distinct cues as first written, in order of appearance.
    pub cues: Vec<String>,
    /// Sentences whose wording places them in the domain.
    pub placed: usize,
}

/// The domains `text` places itself in, by its cues or by `placed` (per domain, how many
/// sentences [`crate::placement`] places there). A text of up to three sentences needs one
/// mention of a cue or one placed sentence; a longer one two of either kind, so that a report
/// on Windows malware that names SCADA once in passing stays an Enterprise report, and placed
/// sentences must also be [`DENSE_SHARE`] of its sentences: the learned placement misplaces
/// about one Enterprise sentence in a hundred, which a long report would always reach.
pub fn contexts(text: &str, sentences: usize, placed: &[(Domain, usize)]) -> Vec<Context> {
    let needed = if sentences <= 3 { 1 } else { 2 };
    let mut found = Vec::new();
    for (domain, pattern) in CUE_PATTERNS.iter() {
        let mut mentions = 0;
        let mut cues: Vec<String> = Vec::new();
        let mut last_end = 0;
        for found in cue_matches(pattern, text) {
            let cue = found.as_str();
            // "Industrial Control Systems (ICS)": a name and its abbreviation are one mention.
            let abbreviation = last_end > 0 && text[last_end..found.start()].trim() == "(";
            last_end = found.end();
            if !abbreviation {
                mentions += 1;
            }
            if !cues.iter().any(|c| c.eq_ignore_ascii_case(cue)) {
                cues.push(cue.to_owned());
            }
        }
        let placed = placed
            .iter()
            .filter(|(d, _)| d == domain)
            .map(|(_, n)| *n)
            .sum::<usize>();
        let dense = sentences <= 3 || placed as f32 >= DENSE_SHARE * sentences as f32;
        if mentions >= needed || (placed >= needed && dense) {
            found.push(Context {
                domain: *domain,
                cues,
                placed,
            });
        }
    }
    found
}

/// Words before `prompt` that make it a shell's, a login's or a push notification's, not an
/// AI model's (`a command prompt`, `MFA push prompts`, `the file download prompt`).
const OTHER_PROMPTS: [&str; 21] = [
    "command",
    "cmd",
    "shell",
    "bash",
    "terminal",
    "powershell",
    "dos",
    "sudo",
    "login",
    "logon",
    "password",
    "credential",
    "authentication",
    "mfa",
    "2fa",
    "push",
    "uac",
    "download",
    "consent",
    "control",
    "dialog",
];

/// The cues of one domain's pattern in `text`. `IOS` in a Cisco context and `ICS` as a file
/// extension are rare in prose that ends up here; the lower-case `ios` and `ics` are words of
/// other languages, and never count; nor does a `prompt` of a shell, a login or an MFA push,
/// nor a cue that is not about the kit (see [`is_not_the_kit`]).
fn cue_matches<'t>(pattern: &Regex, text: &'t str) -> impl Iterator<Item = regex::Match<'t>> {
    pattern.find_iter(text).filter(|m| {
        let cue = m.as_str();
        cue != "ios"
            && cue != "ics"
            && !is_other_prompt(text, m.start(), cue)
            && !is_not_the_kit(text, m.start(), m.end())
    })
}

/// Whether the cue at `start..end` names something other than the domain's kit, as the TRAM
/// reports showed: a phone in a browser's user agent (`Mozilla/5.0 (Linux; Android 8.0.0; …`,
/// a Cobalt Strike profile's), a phone platform in a list of the platforms a product runs on
/// ("available for Windows, macOS, Linux, Android, IOS and Chrome"), `DCs` (domain
/// controllers; the control system is `DCS`), a "software engineering workstation", "mobile
/// device management" (the IT server that manages phones).
fn is_not_the_kit(text: &str, start: usize, end: usize) -> bool {
    let cue = &text[start..end];
    let is = |word: &str| cue.eq_ignore_ascii_case(word);
    if is("dcs") {
        return cue != "DCS";
    }
    // The 120 bytes around the cue on its line (bounded: a cue on a line of megabytes costs
    // no more than one on a short line).
    let from = text.ceil_char_boundary(start.saturating_sub(120));
    let to = text.floor_char_boundary(end + 120);
    let line_start = text[from..start].rfind('\n').map_or(from, |i| from + i + 1);
    let line_end = text[end..to].find('\n').map_or(to, |i| end + i);
    let before = &text[line_start..start];
    if before.contains("Mozilla/") {
        return true;
    }
    if ["android", "ios", "iphone", "ipad"].iter().any(|p| is(p)) {
        let from = text.ceil_char_boundary(start.saturating_sub(60).max(line_start));
        let to = text.floor_char_boundary((end + 60).min(line_end));
        let around = &text[from..to];
        let desktop = around.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
            ["windows", "macos", "linux"]
                .iter()
                .any(|d| w.eq_ignore_ascii_case(d))
        });
        if desktop && around.contains(", ") {
            return true;
        }
    }
    let word_before = before.trim_end().rsplit(' ').next().unwrap_or("");
    let after = text[end..].trim_start_matches(' ');
    let word_after = after
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    // Cisco's router software is "IOS" ("Cisco IOS and IOS XE"); Apple's is written "iOS".
    cue == "IOS"
        && (word_before.eq_ignore_ascii_case("cisco")
            || ["xe", "xr"].iter().any(|w| word_after.eq_ignore_ascii_case(w)))
        // Ivanti's Connect Secure VPN is "Ivanti ICS" in most write-ups of its exploitation.
        || cue == "ICS"
        && (word_before.eq_ignore_ascii_case("ivanti")
            || ["vpn", "vpns", "appliance", "appliances"]
                .iter()
                .any(|w| word_after.eq_ignore_ascii_case(w)))
        || (is("engineering workstation") || is("engineering workstations"))
            && word_before.eq_ignore_ascii_case("software")
        || (is("mobile device") || is("mobile devices"))
            && word_after.to_ascii_lowercase().starts_with("manage")
}

/// Words near a `prompt` that make it a device's or a service's login prompt (`it checks the
/// prompt and selects the appropriate credentials`), unless words of [`AI_WORDS`] are near
/// it too (`the injected prompt made the agent leak a password`).
const LOGIN_WORDS: [&str; 10] = [
    "credential",
    "password",
    "passcode",
    "mfa",
    "multifactor",
    "username",
    "telnet",
    "ssh",
    "banner",
    "brute",
];

/// Words that keep a `prompt` an AI model's even beside [`LOGIN_WORDS`].
const AI_WORDS: [&str; 13] = [
    "ai",
    "mcp",
    "llm",
    "model",
    "chatbot",
    "agent",
    "assistant",
    "injection",
    "injected",
    "jailbreak",
    "gpt",
    "copilot",
    "genai",
];

/// How far around a `prompt` [`LOGIN_WORDS`] and [`AI_WORDS`] are looked for, in bytes, on
/// the same line.
const PROMPT_WINDOW: usize = 120;

/// Whether the cue at `start` is `prompt` after a word of [`OTHER_PROMPTS`], or a login
/// prompt by the words around it.
fn is_other_prompt(text: &str, start: usize, cue: &str) -> bool {
    if !cue
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case("prompt"))
    {
        return false;
    }
    // `multifactor authentication (MFA) prompts`: the word before, past a closing bracket.
    let before = text[..start].trim_end_matches(|c: char| c.is_whitespace() || ")]\"'".contains(c));
    let word = before
        .rsplit(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or("");
    if OTHER_PROMPTS.iter().any(|w| w.eq_ignore_ascii_case(word)) {
        return true;
    }
    let from = text.ceil_char_boundary(start.saturating_sub(PROMPT_WINDOW));
    let to = text.floor_char_boundary(start + cue.len() + PROMPT_WINDOW);
    let line_start = text[from..start].rfind('\n').map_or(from, |i| from + i + 1);
    let line_end = text[start..to].find('\n').map_or(to, |i| start + i);
    let near = text[line_start..line_end].to_ascii_lowercase();
    let words: Vec<&str> = near
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let login = words
        .iter()
        .any(|w| LOGIN_WORDS.iter().any(|l| w.starts_with(l)));
    let ai = words.iter().any(|w| {
        AI_WORDS
            .iter()
            .any(|a| w == a || (a.len() > 3 && w.starts_with(a)))
    });
    login && !ai
}

/// Whether `sentence` itself uses a cue of `domain`. ATLAS twins need it: attacks on AI
/// systems are usually one part of a larger intrusion, and the intrusion's own valid accounts
/// or phishing are not the AI system's.
pub fn mentions(sentence: &str, domain: Domain) -> bool {
    CUE_PATTERNS
        .iter()
        .any(|(d, pattern)| *d == domain && cue_matches(pattern, sentence).next().is_some())
}

/// Enterprise technique id → its ICS and Mobile namesakes.
#[derive(Debug, Default)]
pub struct Twins {
    by_enterprise: HashMap<String, Vec<(String, Domain)>>,
}

impl Twins {
    /// Pairs every active Enterprise technique with the active ICS, Mobile and ATLAS
    /// techniques of the same name (case and spacing aside). A sub-technique's name counts
    /// with its parent's (Acquire Infrastructure: Domains is not Compromise Infrastructure:
    /// Domains), except that an Enterprise sub-technique also matches a technique of the same
    /// name that has no parent (Phishing: Spearphishing Attachment is ICS's Spearphishing
    /// Attachment).
    pub fn new(kb: &KnowledgeBase) -> Self {
        let fold = |name: &str| {
            name.to_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let parent_name = |technique: &ctiforge_kb::Technique| {
            technique
                .parent
                .as_deref()
                .and_then(|p| kb.technique(p))
                .map(|p| p.name.clone())
        };
        let full = |technique: &ctiforge_kb::Technique| {
            fold(&format!(
                "{}: {}",
                parent_name(technique).unwrap_or_default(),
                technique.name
            ))
        };
        let mut by_full: HashMap<String, Vec<(String, Domain)>> = HashMap::new();
        let mut top_level: HashMap<String, Vec<(String, Domain)>> = HashMap::new();
        for technique in kb.catalog().techniques.iter().filter(|t| t.is_active()) {
            for domain in [Domain::Ics, Domain::Mobile, Domain::Atlas] {
                if !technique.domains.contains(&domain)
                    || technique.domains.contains(&Domain::Enterprise)
                {
                    continue;
                }
                let entry = (technique.id.clone(), domain);
                by_full
                    .entry(full(technique))
                    .or_default()
                    .push(entry.clone());
                if technique.parent.is_none() {
                    top_level
                        .entry(fold(&technique.name))
                        .or_default()
                        .push(entry);
                }
            }
        }
        let mut by_enterprise: HashMap<String, Vec<(String, Domain)>> = HashMap::new();
        for technique in kb.catalog().techniques.iter().filter(|t| t.is_active()) {
            if !technique.domains.contains(&Domain::Enterprise) {
                continue;
            }
            let found = by_full
                .get(&full(technique))
                .or_else(|| top_level.get(&fold(&technique.name)));
            if let Some(list) = found {
                by_enterprise.insert(technique.id.clone(), list.clone());
            }
        }
        for (enterprise, namesake, domain) in RENAMED {
            let active = |id: &str| kb.technique(id).is_some_and(|t| t.is_active());
            if active(enterprise) && active(namesake) {
                let list = by_enterprise.entry(enterprise.to_owned()).or_default();
                if !list.iter().any(|(id, _)| id == namesake) {
                    list.push((namesake.to_owned(), domain));
                }
            }
        }
        Self { by_enterprise }
    }

    /// The namesakes of an Enterprise technique in `domain`.
    pub fn of<'a>(&'a self, enterprise: &str, domain: Domain) -> impl Iterator<Item = &'a str> {
        self.by_enterprise
            .get(enterprise)
            .into_iter()
            .flatten()
            .filter(move |(_, d)| *d == domain)
            .map(|(id, _)| id.as_str())
    }

    /// Every Enterprise technique with each of its namesakes.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_enterprise
            .iter()
            .flat_map(|(e, list)| list.iter().map(move |(id, _)| (e.as_str(), id.as_str())))
    }

    /// How many Enterprise techniques have a namesake.
    pub fn len(&self) -> usize {
        self.by_enterprise.len()
    }

    /// Whether no technique has a namesake.
    pub fn is_empty(&self) -> bool {
        self.by_enterprise.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::{RENAMED, Twins, contexts};
    use ctiforge_model::Domain;

    #[test]
    fn namesakes_come_from_the_knowledge_base_and_every_renamed_pair_exists() {
        let kb = ctiforge_kb::KnowledgeBase::embedded().expect("embedded knowledge base");
        for (enterprise, namesake, domain) in RENAMED {
            let e = kb.technique(enterprise).expect(enterprise);
            let n = kb.technique(namesake).expect(namesake);
            assert!(e.is_active() && n.is_active(), "{enterprise} {namesake}");
            assert!(e.domains.contains(&Domain::Enterprise) && n.domains.contains(&domain));
        }
        let twins = Twins::new(&kb);
        assert!(twins.len() > 60, "{}", twins.len());
        assert_eq!(
            twins.of("T1018", Domain::Ics).collect::<Vec<_>>(),
            vec!["T0846"]
        );
        assert_eq!(
            twins.of("T1123", Domain::Mobile).collect::<Vec<_>>(),
            vec!["T1429"]
        );
        assert_eq!(
            twins.of("T1078.001", Domain::Ics).collect::<Vec<_>>(),
            vec!["T0812"]
        );
        assert_eq!(
            twins.of("T1070.004", Domain::Mobile).collect::<Vec<_>>(),
            vec!["T1630.002"]
        );
        assert!(twins.of("T1486", Domain::Ics).next().is_none());
        assert_eq!(
            twins.of("T1190", Domain::Atlas).collect::<Vec<_>>(),
            vec!["AML.T0049"]
        );
        assert_eq!(
            twins.of("T1583.001", Domain::Atlas).collect::<Vec<_>>(),
            vec!["AML.T0008.002"]
        );
        assert!(twins.of("T1584.001", Domain::Atlas).next().is_none());
        assert_eq!(
            twins.of("T1566.001", Domain::Ics).collect::<Vec<_>>(),
            vec!["T0865"]
        );
    }

    #[test]
    fn a_short_text_needs_one_cue_a_long_one_two_mentions() {
        let plc = "The implant sent Modbus writes to the PLC.";
        let found = contexts(plc, 1, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].domain, Domain::Ics);
        assert_eq!(found[0].cues, vec!["Modbus", "PLC"]);

        let passing = "The ransomware encrypted file servers. It spread by SMB. \
                       It deleted shadow copies. The vendor also sells SCADA software.";
        assert!(contexts(passing, 4, &[]).is_empty());

        let phone = "The APK asks for SMS permissions.";
        assert_eq!(contexts(phone, 1, &[])[0].domain, Domain::Mobile);
        assert!(contexts("The company's ios team and the ics file.", 1, &[]).is_empty());
    }

    #[test]
    fn cues_that_are_not_about_the_kit_do_not_place_a_report() {
        // A Cobalt Strike profile's user agent (Bumblebee's write-up), twice.
        let agent = "useragent 'Mozilla/5.0 (Linux; Android 8.0.0; SM-G960F Build/R16NW)'\n\
                     user_agent: Mozilla/5.0 (Linux; Android 8.0.0; SM-G960F Build/R16NW)\n\
                     Mozilla/5.0 (iPhone; CPU iPhone OS 12_0_1 like Mac OS X)";
        assert!(contexts(agent, 3, &[]).is_empty());
        // Domain controllers, a developer's workstation and MDM (CISA's red-team report).
        let it = "Only DCs were able to cross that boundary. The team moved through DCs. \
                  They reached a software engineering workstation. They abused mobile device \
                  management (MDM). The organization's mobile device management server.";
        assert!(contexts(it, 5, &[]).is_empty());
        // The platforms a product runs on, in one sentence (3CX's write-up).
        let platforms = "The software is available for Windows, macOS, Linux, Android, IOS and \
                         Chrome. Attacks on Windows and macOS were reported. It beaconed. It slept.";
        assert!(contexts(platforms, 4, &[]).is_empty());
        // A phone platform beside a desktop one, not in a list, is a cue.
        let both =
            "The backdoor has builds for Windows and Android. The Android app hides its icon.";
        assert_eq!(contexts(both, 4, &[])[0].cues, vec!["Android"]);
        // The kit itself, named in two sentences, still places the report.
        let plant = "The actors reached the DCS. Then they changed the engineering \
                     workstation's project files. They wiped servers. They left.";
        let found = contexts(plant, 4, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].cues, vec!["DCS", "engineering workstation"]);
        let phones = "The app steals SMS. It hides on Android devices. It asks for contacts.";
        assert_eq!(contexts(phones, 3, &[])[0].domain, Domain::Mobile);
    }

    #[test]
    fn ivanti_ics_and_cisco_ios_are_not_the_kit_and_an_abbreviation_is_one_mention() {
        // A write-up of CISA's Ivanti directive (read 2026-12-08): Ivanti Connect Secure is
        // "Ivanti ICS", and one sentence names industrial control systems with its acronym.
        let ivanti = "Agencies must secure Industrial Control Systems (ICS) against two flaws. \
                      Over 22,000 Ivanti ICS VPNs are exposed online. Threat actors exploited \
                      CVE-2023-46805. Ivanti released patches. Agencies must disconnect them.";
        assert!(contexts(ivanti, 5, &[]).is_empty());
        let appliance = "The ICS appliances were reset. The ICS VPN was patched. It was wiped.";
        assert!(contexts(appliance, 4, &[]).is_empty());
        // Nor is Cisco's IOS a phone's (a Salt Typhoon write-up, read 2026-12-08).
        let cisco = "Smart Install in Cisco IOS and IOS XE allowed code execution. They moved \
                     on. They left. They came back.";
        assert!(contexts(cisco, 4, &[]).is_empty());
        // The name and the acronym in two places are two mentions.
        let plant = "The actors reached the industrial control systems. Later the ICS network \
                     went down. They wiped servers. They left.";
        assert_eq!(contexts(plant, 4, &[])[0].domain, Domain::Ics);
    }

    #[test]
    fn the_plant_side_of_the_network_is_ics_but_an_industrial_customer_is_not() {
        let spread = "The worm spread from the IT network to the industrial network over SMB.";
        let found = contexts(spread, 1, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].domain, Domain::Ics);
        assert_eq!(found[0].cues, vec!["industrial network"]);
        let relay = "It sent trip commands to the protection relays.";
        assert_eq!(contexts(relay, 1, &[])[0].cues, vec!["protection relays"]);
        let sector = "The group targets the industrial sector and industrial companies.";
        assert!(contexts(sector, 1, &[]).is_empty());
    }

    #[test]
    fn a_shell_login_or_push_prompt_is_not_an_ai_prompt() {
        let shell =
            "They opened a Command Prompt and hit MFA push prompts. The login prompt came up.";
        assert!(contexts(shell, 1, &[]).is_empty());
        assert!(!super::mentions("A bash prompt appeared.", Domain::Atlas));
        // A device's login prompt, by the credentials beside it (RapperBot's write-up).
        let device = "Once connected, it checks the prompt and, based on the prompt, it \
                      selects the appropriate credentials from its list.";
        assert!(contexts(device, 1, &[]).is_empty());
        // An MFA prompt, written with its abbreviation in brackets or with its passcode
        // (CISA's red-team report).
        for mfa in [
            "Multifactor authentication (MFA) prompts prevented the team from gaining access.",
            "However, a prompt for an MFA passcode blocked this attempt.",
        ] {
            assert!(contexts(mfa, 1, &[]).is_empty(), "{mfa}");
        }
        // Credentials beside a prompt given to an AI model stay an AI context.
        let leaked = "The injected prompt made the agent leak the user's password.";
        assert_eq!(contexts(leaked, 1, &[])[0].cues, vec!["prompt"]);
        // The window around a prompt is cut at character boundaries: non-ASCII text on
        // either side, and a line break that ends it before the credentials.
        let wide = format!(
            "x{}prompt{}",
            "é".repeat(100),
            " – ünïcödé – the credentials".repeat(8)
        );
        assert!(contexts(&wide, 1, &[]).is_empty());
        let other_line = "Paste the prompt\nThe credentials were reused.";
        assert_eq!(contexts(other_line, 1, &[])[0].cues, vec!["prompt"]);
        let injected = "The attacker hid a prompt in the page. The chatbot followed the prompts.";
        assert_eq!(
            contexts(injected, 2, &[])[0].cues,
            vec!["prompt", "chatbot", "prompts"]
        );
    }
}
