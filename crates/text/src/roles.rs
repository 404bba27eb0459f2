//! The role of each sentence: narrative, advice, reference, metadata, indicators or heading.
//!
//! Two readings decide it. The section a sentence stands in: a heading such as "Mitigations",
//! "Recommended practices" or "What to do" opens advice; "References", "Contact",
//! "Acknowledgements", "Legal notice" open references; "Indicators of compromise" opens an
//! indicator list. And the sentence itself: "organizations should…", "we recommend…", a
//! sentence that starts with an imperative ("Update…", "Restrict…", "Isolate…") is advice;
//! "For more information, see URL", "please contact…", a copyright line is a reference; a
//! CVSS vector or a "Release date:" line is metadata. Everything else is narrative: what
//! happened, what is vulnerable, what is affected.

use ctiforge_model::{Document, SentenceRole, Span};

/// Section headings (lower case, numbering and punctuation removed) that open advice.
const ADVICE_SECTIONS: &[&str] = &[
    "mitigation",
    "mitigations",
    "recommendation",
    "recommendations",
    "recommended practices",
    "recommended actions",
    "recommended mitigations",
    "general recommendations",
    "general security recommendations",
    "security recommendations",
    "remediation",
    "remediations",
    "workaround",
    "workarounds",
    "solution",
    "solutions",
    "what to do",
    "what you should do",
    "what should i do",
    "actions to take",
    "actions to take today",
    "defensive measures",
    "best practices",
    "how to protect",
    "protection",
    "prevention",
    "hardening",
    "hardening guidance",
    "guidance",
    "next steps",
    "countermeasures",
    "compensating controls",
    "fixes",
    "patches",
    "vendor response",
    "mitigations and workarounds",
    "mitigation and remediation",
    "mitigation recommendations",
];

/// Section headings that open detection guidance: what defenders look for is advice, not what
/// the adversary did. Matched whole, unlike [`ADVICE_SECTIONS`], so that "Detection evasion"
/// or "Detection of the loader" stays narrative.
const DETECTION_SECTIONS: &[&str] = &[
    "detection",
    "detections",
    "detection opportunities",
    "detection guidance",
    "detection methods",
    "detection and hunting",
    "detection and response",
    "detection and mitigation",
    "detection and mitigations",
    "hunting",
    "hunting queries",
    "hunting guidance",
    "threat hunting",
    "advanced hunting",
    "advanced hunting queries",
    "hunting and detection",
    "how to detect",
];

/// Section headings that open references and boilerplate.
const REFERENCE_SECTIONS: &[&str] = &[
    "references",
    "reference",
    "resources",
    "additional resources",
    "additional information",
    "for more information",
    "more information",
    "further reading",
    "contact",
    "contact information",
    "contact us",
    "acknowledgements",
    "acknowledgments",
    "acknowledgement",
    "acknowledgment",
    "researcher",
    "researchers",
    "credits",
    "disclaimer",
    "disclaimers",
    "legal notice",
    "legal disclaimer",
    "legal notice and terms of use",
    "terms of use",
    "update history",
    "revision history",
    "document history",
    "version history",
    "reporting",
    "report suspicious activity",
    "feedback",
    "about",
    "about the authors",
    "about this report",
    "sources",
    "related",
    "related articles",
    "related posts",
    "cisa disclaimer",
    "advisory conversion disclaimer",
];

/// Section headings that open lists of indicators.
const INDICATOR_SECTIONS: &[&str] = &[
    "indicators of compromise",
    "indicators",
    "iocs",
    "ioc",
    "network indicators",
    "host indicators",
    "file indicators",
    "hashes",
    "file hashes",
    "appendix indicators of compromise",
    "appendix iocs",
    "observables",
];

/// Verbs that start an instruction (lower case).
const IMPERATIVES: &[&str] = &[
    "adopt",
    "apply",
    "assess",
    "audit",
    "avoid",
    "back",
    "backup",
    "block",
    "change",
    "configure",
    "consider",
    "contact",
    "deploy",
    "disable",
    "disallow",
    "disconnect",
    "do",
    "educate",
    "employ",
    "enable",
    "encrypt",
    "enforce",
    "ensure",
    "establish",
    "filter",
    "follow",
    "harden",
    "identify",
    "implement",
    "inspect",
    "install",
    "isolate",
    "keep",
    "limit",
    "locate",
    "maintain",
    "minimize",
    "minimise",
    "monitor",
    "patch",
    "perform",
    "place",
    "prevent",
    "prioritize",
    "prohibit",
    "protect",
    "reboot",
    "reduce",
    "remove",
    "replace",
    "report",
    "require",
    "reset",
    "restrict",
    "review",
    "revoke",
    "rotate",
    "scan",
    "secure",
    "segment",
    "segregate",
    "set",
    "store",
    "train",
    "turn",
    "update",
    "upgrade",
    "use",
    "utilise",
    "utilize",
    "validate",
    "verify",
];

/// Phrases that make a sentence advice wherever it stands.
const ADVICE_PHRASES: &[&str] = &[
    " should ",
    " must ",
    " recommend",
    " recommends ",
    " advise",
    " encourage",
    " urge",
    " it is important to",
    " best practice",
    " are advised",
    " is advised",
    " can take ",
    " to reduce the risk",
    " to minimize the risk",
    " to mitigate",
    " mitigate ",
    " defensive measures",
    " compensating control",
    " workaround",
    " has released ",
    " have released ",
    // A vendor's remedy, not "has provided affiliates with better defense evasion" (a 2024
    // ransomware advisory's summary, whose technique was lost as advice).
    " has provided a fix",
    " has provided fixes",
    " has provided a patch",
    " has provided patches",
    " has provided an update",
    " has provided updates",
    " has provided firmware",
    " has provided mitigation",
    " has provided workaround",
    " has provided the following",
    " have provided the following",
    " has provided some immediate",
    " has issued ",
    " released a fix",
    " released a patch",
    " released an update",
    " released version",
    " released firmware",
    " fixed in ",
    " is fixed ",
    " upgrade to ",
    " update to ",
    " updating to ",
    " upgrading to ",
    " are available for download",
    " no fix ",
    " will not be fixing",
    " not plan to",
    " end of life",
    " end-of-life",
    // What a defence does: "Deploying an intrusion detection system can help identify port
    // scans" (none of TRAM's labelled sentences says it).
    " can help identify",
    " can help detect",
    " can help prevent",
    " can help protect",
    " can help mitigate",
    " can help reduce",
    " can help organizations",
    " can help defenders",
    " can help administrators",
    " can help security teams",
    // Detection write-ups: "This EventCode can be helpful to monitor suspicious processes
    // accessing … browser databases for credential dumping" (Splunk's RedLine analysis);
    // "EDR tools are particularly useful for detecting lateral connections" (a CISA advisory).
    " helpful to monitor",
    " helpful to detect",
    " helpful for detecting",
    " helpful in detecting",
    " useful for detecting",
    " useful to detect",
    " useful for monitoring",
    " help security analysts",
    " help analysts",
];

/// Phrases that make a sentence a reference or boilerplate.
const REFERENCE_PHRASES: &[&str] = &[
    "refer to the",
    "for more information",
    "for additional information",
    "for further information",
    "more information is available",
    "please contact",
    "please reach out",
    "please report",
    "reach out to",
    "contact the",
    "report incidents",
    "report suspicious",
    "report anomalous",
    "report findings",
    "report their findings",
    "to report ",
    "visit ",
    "available at ",
    "available on the",
    "can be found at",
    "see the",
    "read more",
    "learn more",
    "subscribe",
    "follow us",
    "all rights reserved",
    "copyright",
    "©",
    "provided \"as is\"",
    "provided as is",
    "as is\" for informational",
    "does not endorse",
    "does not provide any warranties",
    "traffic light protocol",
    "tlp:white",
    "tlp:clear",
    "thanks to",
    "thank ",
    "acknowledge",
    "reported this vulnerability",
    "reported these vulnerabilities",
    "reporting this vulnerability",
    "reporting these vulnerabilities",
    "for reporting",
    "coordinated disclosure",
    "this advisory was extracted",
    "this csaf advisory",
    "this product is provided",
    "this document is",
    "further dissemination",
];

/// Phrases that make a sentence metadata.
const METADATA_PHRASES: &[&str] = &[
    "cvss v3",
    "cvss v4",
    "cvss:",
    "vector string",
    "base score of",
    "has been assigned to this vulnerability",
    "have been assigned to these vulnerabilities",
    "release date:",
    "publisher:",
    "last revised",
    "critical infrastructure sectors:",
    "countries/areas deployed:",
    "company headquarters location:",
    "published:",
    "updated:",
    "author:",
    "authors:",
];

/// The role of each sentence of `document`, in order.
pub fn roles(document: &Document) -> Vec<SentenceRole> {
    let text = document.text.as_str();
    let mut roles = Vec::with_capacity(document.sentences.len());
    let mut section = SentenceRole::Narrative;
    let mut paragraphs = document.paragraphs.iter().peekable();
    let mut heading_paragraph: Option<Span> = None;
    // The last paragraph judged, so that a long paragraph of many sentences is judged once.
    let mut judged: Option<Span> = None;
    for sentence in &document.sentences {
        // The paragraph holding this sentence: is it a heading?
        while paragraphs.peek().is_some_and(|p| p.end < sentence.start) {
            paragraphs.next();
        }
        let paragraph = paragraphs.peek().copied().copied();
        if let Some(p) = paragraph
            && judged != Some(p)
            && {
                judged = Some(p);
                is_heading(text, p)
            }
        {
            heading_paragraph = Some(p);
            section = section_role(p.slice(text).unwrap_or(""));
        }
        if heading_paragraph.is_some() && heading_paragraph == paragraph {
            roles.push(SentenceRole::Heading);
            continue;
        }
        let words = sentence.slice(text).unwrap_or("");
        roles.push(sentence_role(words, section));
    }
    roles
}

/// A paragraph that is one short line without a sentence's final period: a heading (Markdown
/// and HTML headings are paragraphs of their own; in plain text and PDF, so are titles).
fn is_heading(text: &str, paragraph: Span) -> bool {
    let Some(words) = paragraph.slice(text) else {
        return false;
    };
    let line = words.trim();
    // A line in capitals is a heading at any length a title reaches: CISA numbers its
    // weakness titles and writes them in capitals ("3.2.1 IMPROPER NEUTRALIZATION OF SPECIAL
    // ELEMENTS USED IN AN SQL COMMAND ('SQL INJECTION') CWE-89").
    let capitals = line.chars().any(char::is_alphabetic) && !line.chars().any(char::is_lowercase);
    let (longest, most_words) = if capitals { (200, 30) } else { (120, 12) };
    if line.contains('\n') || line.len() > longest || line.is_empty() {
        return false;
    }
    let line = line.trim_start_matches('#').trim();
    if line.starts_with("- ") || line.starts_with("* ") || line.contains(" | ") {
        return false;
    }
    let count = line.split_whitespace().count();
    if count > most_words || line.ends_with(['.', '!', '?', ';', ',']) || line.contains("://") {
        return false;
    }
    // A line of mostly lower-case words with a verb that makes it a statement ("Currently no
    // fix is planned") or an imperative first ("Implement security recommendations according
    // to the manual") is a sentence without its period, unless it names a known section.
    let lower_words = line
        .split_whitespace()
        .skip(1)
        .filter(|w| w.starts_with(|c: char| c.is_lowercase()))
        .count();
    let lower = line.to_lowercase();
    let mut words = lower.split_whitespace();
    let first = words.next().unwrap_or("");
    let statement = IMPERATIVES.contains(&first)
        || words.any(|w| {
            matches!(
                w,
                "is" | "are"
                    | "was"
                    | "were"
                    | "has"
                    | "have"
                    | "will"
                    | "should"
                    | "must"
                    | "can"
                    | "cannot"
                    | "may"
                    | "does"
                    | "not"
            )
        });
    count < 4
        || lower_words * 2 <= count
        || !statement
        || section_role(line) != SentenceRole::Narrative
}

/// The role a heading gives the sentences under it.
fn section_role(heading: &str) -> SentenceRole {
    let name = heading_name(heading);
    let in_list = |list: &[&str]| {
        list.iter().any(|h| {
            name == *h || name.ends_with(&format!(" {h}")) || name.starts_with(&format!("{h} "))
        })
    };
    if INDICATOR_SECTIONS
        .iter()
        .any(|h| name == *h || name.contains(&format!("{h} ")) || name.ends_with(h))
    {
        SentenceRole::Indicators
    } else if in_list(ADVICE_SECTIONS) || DETECTION_SECTIONS.contains(&name.as_str()) {
        SentenceRole::Advice
    } else if in_list(REFERENCE_SECTIONS) {
        SentenceRole::Reference
    } else {
        SentenceRole::Narrative
    }
}

/// A heading in lower case, without Markdown marks, numbering ("4.", "3.2.1", "IV.") and
/// punctuation.
fn heading_name(heading: &str) -> String {
    let lower = heading.trim().trim_start_matches('#').to_lowercase();
    let words: Vec<String> = lower
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '/')
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .skip_while(|w| {
            w.chars().all(|c| c.is_ascii_digit() || c == '.')
                || matches!(
                    w.as_str(),
                    "i" | "ii"
                        | "iii"
                        | "iv"
                        | "v"
                        | "vi"
                        | "vii"
                        | "viii"
                        | "ix"
                        | "x"
                        | "appendix"
                        | "section"
                )
                || (w.len() == 1 && w.chars().all(|c| c.is_ascii_lowercase()))
        })
        .collect();
    words.join(" ").replace(':', "")
}

/// The role of one sentence within a section of role `section`.
fn sentence_role(sentence: &str, section: SentenceRole) -> SentenceRole {
    let lower = format!(" {} ", sentence.to_lowercase());
    let bare = lower
        .trim_start()
        .trim_start_matches(['-', '*', '•', '●', '▪', '◦', ' '])
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ')')
        .trim_start();
    if METADATA_PHRASES.iter().any(|p| lower.contains(p)) {
        return SentenceRole::Metadata;
    }
    // A rule's strings and file names are the malware's artefacts: indicators, not narrative.
    if is_detection_code(bare) {
        return SentenceRole::Indicators;
    }
    if is_reference(&lower) {
        return SentenceRole::Reference;
    }
    if section == SentenceRole::Indicators {
        return SentenceRole::Indicators;
    }
    if section == SentenceRole::Reference {
        return SentenceRole::Reference;
    }
    let first = bare
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .next()
        .unwrap_or("");
    // What an advisory's mitigations section says of exploitation ("No known public
    // exploitation … has been reported", "not exploitable remotely") is a statement, not advice.
    if states_exploitability(&lower) {
        return SentenceRole::Narrative;
    }
    if section == SentenceRole::Advice
        || advice_label(bare)
        || IMPERATIVES.contains(&first)
        || imperative_after_clause(bare)
        || imperative_after_adverb(bare)
        || ADVICE_PHRASES.iter().any(|p| lower.contains(p))
    {
        return SentenceRole::Advice;
    }
    SentenceRole::Narrative
}

/// A sentence under a label of advice: "Detection: Monitor for newly constructed network
/// connections…", "Mitigation: Perform regular vulnerability scanning…" (CISA quotes ATT&CK's
/// detections and mitigations after each technique). `bare` is lower case.
fn advice_label(bare: &str) -> bool {
    const LABELS: [&str; 12] = [
        "detection",
        "detections",
        "detection opportunity",
        "detection opportunities",
        "mitigation",
        "mitigations",
        "recommendation",
        "recommendations",
        "remediation",
        "prevention",
        "hunting",
        "hunting query",
    ];
    bare.split_once(':')
        .is_some_and(|(label, _)| LABELS.contains(&label.trim()))
}

/// A line of a detection rule or query rather than prose: KQL (`ProcessCommandLine has_any
/// (…)`, `| where …`), a YARA rule, a Sigma rule's keys. The commands inside name techniques
/// the rule looks for, not ones the report saw. `bare` is lower case.
fn is_detection_code(bare: &str) -> bool {
    const KQL: [&str; 10] = [
        " has_any (",
        " has_any(",
        " has_all (",
        " has_all(",
        "| where ",
        "| summarize ",
        "| project ",
        "| extend ",
        "deviceprocessevents",
        "devicenetworkevents",
    ];
    let yara = bare.starts_with("rule ") && bare.contains('{')
        || bare.contains("condition:") && (bare.contains("strings:") || bare.contains("meta:"));
    let sigma =
        bare.contains("logsource:") || bare.contains("detection:") && bare.contains("selection");
    yara || sigma || KQL.iter().any(|k| bare.contains(k))
}

/// An imperative after an opening clause: "When internet access is required, use a virtual
/// private network", "If possible, disable the service". `bare` is lower case.
fn imperative_after_clause(bare: &str) -> bool {
    const OPENERS: [&str; 9] = [
        "when ",
        "whenever ",
        "if ",
        "where ",
        "wherever ",
        "before ",
        "after ",
        "once ",
        "until ",
    ];
    if !OPENERS.iter().any(|o| bare.starts_with(o)) {
        return false;
    }
    let Some((_, rest)) = bare.split_once(", ") else {
        return false;
    };
    let next = rest
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .next()
        .unwrap_or("");
    IMPERATIVES.contains(&next)
}

/// An imperative after an adverb: "Physically disconnect the PLC from any external networks",
/// "Periodically inspect…", "Only grant…" in CISA's advisories. `bare` is lower case.
fn imperative_after_adverb(bare: &str) -> bool {
    let mut words = bare.split(|c: char| !c.is_alphanumeric() && c != '-');
    let (Some(first), Some(next)) = (words.next(), words.next()) else {
        return false;
    };
    (first.ends_with("ly") || first == "only") && IMPERATIVES.contains(&next)
}

/// A statement about how a flaw can be exploited or whether it has been.
fn states_exploitability(lower: &str) -> bool {
    lower.contains("exploit")
        && [
            "no known public exploitation",
            "has been reported",
            "have been reported",
            "not exploitable",
            "exploitable remotely",
            "in order to exploit",
            "attack complexity",
            "is required to exploit",
            "are required to exploit",
        ]
        .iter()
        .any(|p| lower.contains(p))
}

/// References: a reference phrase, or a sentence that is mostly a link.
fn is_reference(lower: &str) -> bool {
    if REFERENCE_PHRASES.iter().any(|p| lower.contains(p)) {
        return true;
    }
    let words: Vec<&str> = lower.split_whitespace().collect();
    let links = words
        .iter()
        .map(|w| {
            w.rsplit("](")
                .next()
                .unwrap_or(w)
                .trim_start_matches(['<', '(', '[', '"', '\''])
        })
        .filter(|w| w.starts_with("http://") || w.starts_with("https://") || w.starts_with("www."))
        .count();
    // A link the sentence sends the reader to.
    let pointing = [
        " see ",
        "details",
        " advisory",
        " bulletin",
        "information",
        "refer to",
        "available",
        "instructions",
        "download",
    ];
    links > 0 && (words.len() - links <= 6 || pointing.iter().any(|p| lower.contains(p)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, ingest};

    fn roles_of(markdown: &str) -> Vec<(String, SentenceRole)> {
        let document = ingest(Input {
            bytes: markdown.as_bytes(),
            path: Some("r.md"),
            ..Input::default()
        })
        .expect("reads");
        roles(&document)
            .into_iter()
            .zip(&document.sentences)
            .map(|(role, s)| (document.slice(*s).to_owned(), role))
            .collect()
    }

    fn role_of(found: &[(String, SentenceRole)], start: &str) -> SentenceRole {
        found
            .iter()
            .find(|(s, _)| s.starts_with(start))
            .unwrap_or_else(|| panic!("no sentence {start:?} in {found:?}"))
            .1
    }

    #[test]
    fn detection_guidance_and_detection_rules_are_not_what_happened() {
        let found = roles_of(
            "# Intrusion\n\n\
             The actors disabled Windows event logging to evade detection.\n\n\
             Detection: Monitor for newly constructed network connections from pings.\n\n\
             This EventCode can be helpful to monitor processes reading browser databases.\n\n\
             EDR tools are particularly useful for detecting lateral connections.\n\n\
             ## Detection evasion\n\n\
             The loader checks for a debugger.\n\n\
             ## Hunting queries\n\n\
             Look for rundll32 launched by Office.\n\n\
             ## Sample query\n\n\
             DeviceProcessEvents | where ProcessCommandLine has_any (\"whoami\", \"net group\")\n\n\
             import \"pe\" rule Loader { meta: description = \"the loader of the campaign\" \
             strings: $a = \"x\" condition: $a }\n",
        );
        assert_eq!(
            role_of(&found, "The actors disabled"),
            SentenceRole::Narrative
        );
        assert_eq!(role_of(&found, "Detection: Monitor"), SentenceRole::Advice);
        assert_eq!(role_of(&found, "This EventCode"), SentenceRole::Advice);
        assert_eq!(role_of(&found, "EDR tools"), SentenceRole::Advice);
        // A section named for evading detection is still the adversary's.
        assert_eq!(role_of(&found, "The loader"), SentenceRole::Narrative);
        assert_eq!(role_of(&found, "Look for rundll32"), SentenceRole::Advice);
        assert_eq!(
            role_of(&found, "DeviceProcessEvents"),
            SentenceRole::Indicators
        );
        assert_eq!(role_of(&found, "import"), SentenceRole::Indicators);
    }

    #[test]
    fn sections_and_sentences_give_each_sentence_its_role() {
        let found = roles_of(
            "# Intrusion at a clinic\n\n\
             The actors exploited CVE-2023-4966 and dumped LSASS. They moved over RDP.\n\n\
             Organizations should update firewall rules to block RDP from the internet.\n\n\
             ## Mitigations\n\n\
             Currently no fix is planned\n\n\
             - Isolate the affected devices.\n\
             - The vendor patched the flaw in 2.2.\n\n\
             ## References\n\n\
             - The advisory of the manufacturer, https://vendor.example/psirt\n\n\
             ## Indicators of compromise\n\n\
             | type | value |\n|---|---|\n| SHA-256 | 3f5d8c1a9b7e2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e7b9d1f |\n\n\
             ## 4. TECHNICAL DETAILS\n\n\
             3.2.1 IMPROPER NEUTRALIZATION OF SPECIAL ELEMENTS USED IN AN SQL COMMAND ('SQL \
             INJECTION') CWE-89\n\n\
             THE IMPLANT WAS FOUND ON TWO HOSTS AND CALLED BACK EVERY HOUR TO ITS SERVER.\n\n\
             A CVSS v3 base score of 9.8 has been calculated.\n\n\
             For more information, see https://www.cisa.gov/ics.\n\n\
             Restrict access to the management interface.\n",
        );
        use SentenceRole::*;
        assert_eq!(role_of(&found, "Intrusion at a clinic"), Heading);
        assert_eq!(role_of(&found, "Currently no fix is planned"), Advice);
        assert_eq!(role_of(&found, "The actors exploited"), Narrative);
        assert_eq!(role_of(&found, "They moved over RDP"), Narrative);
        assert_eq!(role_of(&found, "Organizations should update"), Advice);
        assert_eq!(role_of(&found, "Mitigations"), Heading);
        assert_eq!(role_of(&found, "- Isolate the affected"), Advice);
        assert_eq!(role_of(&found, "- The vendor patched"), Advice);
        assert_eq!(
            role_of(&found, "- The advisory of the manufacturer"),
            Reference
        );
        assert_eq!(role_of(&found, "SHA-256 | 3f5d"), Indicators);
        assert_eq!(role_of(&found, "A CVSS v3 base score"), Metadata);
        assert_eq!(role_of(&found, "3.2.1 IMPROPER NEUTRALIZATION"), Heading);
        // A sentence written in capitals ends with its period.
        assert_eq!(role_of(&found, "THE IMPLANT WAS FOUND"), Narrative);
        assert_eq!(role_of(&found, "For more information"), Reference);
        assert_eq!(role_of(&found, "Restrict access"), Advice);
    }

    #[test]
    fn a_vendor_providing_a_fix_is_advice_a_ransomware_update_providing_evasion_is_not() {
        let found = roles_of(
            "Siemens has provided a fix for the affected firmware.\n\n\
             This update has enabled the ransomware to encrypt Linux devices and has provided \
             affiliates with better defense evasion.\n",
        );
        use SentenceRole::*;
        assert_eq!(role_of(&found, "Siemens has provided"), Advice);
        assert_eq!(role_of(&found, "This update has enabled"), Narrative);
    }

    #[test]
    fn an_imperative_after_an_adverb_is_advice() {
        let found = roles_of(
            "Physically disconnect the PLC from any external networks.\n\n\
             Periodically inspect the logs.\n\n\
             Only use trusted removable media.\n\n\
             Utilize multi-factor authentication to make credential theft more difficult.\n\n\
             Initially the actor used a VPN.\n\n\
             Finally, the implant deleted itself.\n",
        );
        use SentenceRole::*;
        assert_eq!(role_of(&found, "Physically disconnect"), Advice);
        assert_eq!(role_of(&found, "Periodically inspect"), Advice);
        assert_eq!(role_of(&found, "Only use"), Advice);
        // From Vice Society's TRAM report, where it gave Multi-Factor Authentication.
        assert_eq!(role_of(&found, "Utilize multi-factor"), Advice);
        assert_eq!(role_of(&found, "Initially the actor"), Narrative);
        assert_eq!(role_of(&found, "Finally, the implant"), Narrative);
    }

    #[test]
    fn what_a_defence_can_help_do_is_advice() {
        // A list item of a real report (EclecticIQ on a Cobalt Strike variant), which gave
        // Network Service Discovery from "attempting to scan the network".
        let found = roles_of(
            "• Network traffic analysis: Network traffic analysis can help identify traffic \
             that is not legitimate or is attempting to scan the network.\n\n\
             The loader scanned the network for open SMB shares.\n",
        );
        use SentenceRole::*;
        assert_eq!(role_of(&found, "• Network traffic"), Advice);
        assert_eq!(role_of(&found, "The loader scanned"), Narrative);
    }

    #[test]
    fn an_imperative_after_an_opening_clause_is_advice() {
        // The first from CISA's icsa-24-158-03, which it gave External Remote Services.
        let found = roles_of(
            "When internet access is required, use a virtual private network (VPN) or other \
             means to prevent unauthorized access.\n\n\
             If possible, disable the FTP service on the controller.\n\n\
             When the victim opened the attachment, the macro downloaded a loader.\n\n\
             If successful, the attacker could execute code as root.\n",
        );
        use SentenceRole::*;
        assert_eq!(role_of(&found, "When internet access"), Advice);
        assert_eq!(role_of(&found, "If possible"), Advice);
        assert_eq!(role_of(&found, "When the victim"), Narrative);
        assert_eq!(role_of(&found, "If successful"), Narrative);
    }

    #[test]
    fn numbered_and_capitalised_headings_are_named_by_their_words() {
        assert_eq!(heading_name("## 4. MITIGATIONS"), "mitigations");
        assert_eq!(
            heading_name("3.2.1 Vulnerability overview"),
            "vulnerability overview"
        );
        assert_eq!(
            heading_name("Appendix A: Indicators of Compromise"),
            "indicators of compromise"
        );
        assert_eq!(section_role("Recommended Practices"), SentenceRole::Advice);
        assert_eq!(section_role("Technical details"), SentenceRole::Narrative);
        assert_eq!(section_role("Legal Notice"), SentenceRole::Reference);
    }
}
