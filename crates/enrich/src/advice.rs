//! The report's own recommendations: every advice sentence quoted in full, in the report's
//! order, each mapped where it fits to the ATT&CK mitigations and D3FEND techniques it amounts
//! to ("isolate the devices from business networks" → M1030 Network Segmentation, D3-NI
//! Network Isolation; "update to version 3.2" → M1051 Update Software, D3-SU Software Update).
//!
//! The mapping is a table of what defenders write, not a model: each row names the words that
//! must appear (any of them) and, when a word alone is ambiguous, words one of which must also
//! appear. Ids the knowledge base does not know are left out, so a table row can never put a
//! wrong name on the page.

use ctiforge_kb::KnowledgeBase;
use ctiforge_model::analysis::{Defense, Recommendation};
use ctiforge_model::{SentenceRole, Span};

use crate::mitigations::d3fend_url;

/// One kind of advice: the words that say it and what it amounts to.
struct Rule {
    /// Any of these (lower case, matched at the start of a word).
    any: &'static [&'static str],
    /// And, when not empty, any of these too.
    with: &'static [&'static str],
    /// ATT&CK mitigations.
    attack: &'static [&'static str],
    /// D3FEND techniques.
    d3fend: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        any: &[
            "segment",
            "isolat",
            "air gap",
            "air-gap",
            "behind firewalls",
            "not accessible from the internet",
            "minimize network exposure",
            "separate network",
            "dmz",
            "vlan",
        ],
        with: &[],
        attack: &["M1030"],
        d3fend: &["D3-NI"],
    },
    Rule {
        any: &[
            "firewall",
            "block",
            "filter",
            "allowlist",
            "whitelist",
            "deny",
        ],
        with: &[
            "traffic",
            "port",
            "network",
            "inbound",
            "outbound",
            "connection",
            "ip address",
            "firewall",
            "access",
        ],
        attack: &["M1037"],
        d3fend: &["D3-NTF"],
    },
    Rule {
        any: &["restrict", "limit", "minimize", "minimise"],
        with: &[
            "network access",
            "remote access",
            "access to the",
            "exposure",
            "internet",
            "access from",
        ],
        attack: &["M1035"],
        d3fend: &["D3-NAM"],
    },
    Rule {
        any: &["vpn", "virtual private network", "encrypted tunnel"],
        with: &[],
        attack: &["M1035"],
        d3fend: &["D3-ET"],
    },
    Rule {
        any: &[
            "update",
            "upgrade",
            "patch",
            "latest version",
            "fixed version",
            "newer version",
            "new version",
            "firmware version",
            "hotfix",
            "service pack",
        ],
        with: &[],
        attack: &["M1051"],
        d3fend: &["D3-SU"],
    },
    Rule {
        any: &["encrypt"],
        with: &[
            "at rest", "disk", "storage", "stored", "drive", "database", "backups",
        ],
        attack: &["M1041"],
        d3fend: &["D3-DENCR"],
    },
    Rule {
        any: &["encrypt", "tls", "https"],
        with: &[
            "transit",
            "traffic",
            "communication",
            "connection",
            "protocol",
            "channel",
        ],
        attack: &["M1041"],
        d3fend: &["D3-MENCR"],
    },
    Rule {
        any: &["encrypt"],
        with: &[],
        attack: &["M1041"],
        d3fend: &[],
    },
    Rule {
        any: &[
            "multi-factor",
            "multifactor",
            "mfa",
            "two-factor",
            "2fa",
            "phishing-resistant",
        ],
        with: &[],
        attack: &["M1032"],
        d3fend: &["D3-MFA"],
    },
    Rule {
        any: &[
            "default password",
            "default credential",
            "change the password",
            "change passwords",
        ],
        with: &[],
        attack: &["M1027"],
        d3fend: &["D3-CFP"],
    },
    Rule {
        any: &[
            "strong password",
            "password polic",
            "complex password",
            "unique password",
            "passphrase",
        ],
        with: &[],
        attack: &["M1027"],
        d3fend: &["D3-SPP"],
    },
    Rule {
        any: &[
            "least privilege",
            "least-privilege",
            "privileged account",
            "administrative privilege",
            "admin rights",
            "administrator rights",
            "user rights",
            "permissions",
        ],
        with: &[],
        attack: &["M1026"],
        d3fend: &["D3-UAP"],
    },
    Rule {
        any: &["account lockout", "lock out", "lockout"],
        with: &[],
        attack: &["M1036"],
        d3fend: &["D3-AL"],
    },
    Rule {
        any: &["backup", "back up", "offline copies", "restore"],
        with: &[],
        attack: &["M1053"],
        d3fend: &[],
    },
    Rule {
        any: &["disable", "remove", "turn off", "uninstall", "deactivate"],
        with: &[
            "service",
            "feature",
            "port",
            "protocol",
            "function",
            "interface",
            "unused",
            "unnecessary",
            "option",
            "account",
            "macro",
        ],
        attack: &["M1042"],
        d3fend: &["D3-ACH"],
    },
    Rule {
        any: &[
            "training",
            "train ",
            "awareness",
            "social engineering",
            "unsolicited",
            "do not click",
            "suspicious link",
            "suspicious email",
            "phishing",
        ],
        with: &[],
        attack: &["M1017"],
        d3fend: &[],
    },
    Rule {
        any: &["audit", "logging", "log ", "logs", "monitor"],
        with: &[],
        attack: &["M1047"],
        d3fend: &[],
    },
    Rule {
        any: &[
            "inventory",
            "asset management",
            "identify all",
            "identify affected",
        ],
        with: &[],
        attack: &[],
        d3fend: &["D3-AI"],
    },
    Rule {
        any: &[
            "application control",
            "application allowlist",
            "executable allowlist",
            "allowlisting",
        ],
        with: &[],
        attack: &["M1038"],
        d3fend: &["D3-EAL"],
    },
    Rule {
        any: &[
            "antivirus",
            "anti-virus",
            "antimalware",
            "anti-malware",
            "endpoint detection",
            "edr",
        ],
        with: &[],
        attack: &["M1049"],
        d3fend: &[],
    },
    Rule {
        any: &["vulnerability scan", "scan for vulnerabilit"],
        with: &[],
        attack: &["M1016"],
        d3fend: &[],
    },
    Rule {
        any: &[
            "certificate",
            "code signing",
            "signed firmware",
            "digitally signed",
        ],
        with: &["verify", "validate", "check", "signed", "signing"],
        attack: &["M1045"],
        d3fend: &[],
    },
];

/// Words too few for a recommendation (a list label, a fragment).
const MIN_WORDS: usize = 4;

/// The report's recommendations: its advice sentences in order, each with what it maps to.
pub fn recommendations(
    kb: &KnowledgeBase,
    text: &str,
    sentences: &[Span],
    roles: &[SentenceRole],
) -> Vec<Recommendation> {
    let mut seen = std::collections::BTreeSet::new();
    let mut found = Vec::new();
    for (span, role) in sentences.iter().zip(roles) {
        if *role != SentenceRole::Advice {
            continue;
        }
        let Some(sentence) = span.slice(text) else {
            continue;
        };
        let words = tidy(sentence);
        if words.split_whitespace().count() < MIN_WORDS || !seen.insert(words.to_lowercase()) {
            continue;
        }
        let (mitigations, countermeasures) = defenses(kb, &words);
        found.push(Recommendation {
            text: words,
            evidence: ctiforge_model::analysis::Quote {
                start: span.start,
                end: span.end,
                text: sentence.to_owned(),
            },
            mitigations,
            countermeasures,
        });
    }
    found
}

/// A sentence as one line: list marks and Markdown emphasis gone, white space single.
fn tidy(sentence: &str) -> String {
    let line = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = line
        .trim_start_matches(['-', '*', '•', '·'])
        .trim()
        .trim_matches('*')
        .trim();
    line.to_owned()
}

/// The ATT&CK mitigations and D3FEND techniques a recommendation amounts to, each once, in
/// table order.
pub fn defenses(kb: &KnowledgeBase, sentence: &str) -> (Vec<Defense>, Vec<Defense>) {
    let lower = format!(" {}", sentence.to_lowercase());
    // A cue starts a word and does not begin a hyphenated name ("update-gateway.example").
    let says = |cue: &str| {
        lower.match_indices(cue).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + cue.len()..].chars().next();
            before.is_none_or(|c| !c.is_alphanumeric()) && after != Some('-')
        })
    };
    let mut attack: Vec<Defense> = Vec::new();
    let mut d3fend: Vec<Defense> = Vec::new();
    for rule in RULES {
        if !rule.any.iter().any(|cue| says(cue)) {
            continue;
        }
        if !rule.with.is_empty() && !rule.with.iter().any(|cue| says(cue)) {
            continue;
        }
        for id in rule.attack {
            if attack.iter().any(|d| d.id == *id) {
                continue;
            }
            if let Some(m) = kb.mitigation(id).filter(|m| !m.revoked && !m.deprecated) {
                attack.push(Defense {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    url: format!("https://attack.mitre.org/mitigations/{}/", m.id),
                });
            }
        }
        for id in rule.d3fend {
            if d3fend.iter().any(|d| d.id == *id) {
                continue;
            }
            if let Some(t) = kb.d3fend(id) {
                d3fend.push(Defense {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    url: d3fend_url(&t.name),
                });
            }
        }
    }
    (attack, d3fend)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kb() -> KnowledgeBase {
        KnowledgeBase::embedded().expect("the embedded knowledge base")
    }

    fn ids(kb: &KnowledgeBase, sentence: &str) -> Vec<String> {
        let (a, d) = defenses(kb, sentence);
        a.into_iter().chain(d).map(|d| d.id).collect()
    }

    #[test]
    fn every_id_in_the_table_is_in_the_knowledge_base() {
        let kb = kb();
        for rule in RULES {
            for id in rule.attack {
                assert!(
                    kb.mitigation(id).is_some(),
                    "{id} is not an ATT&CK mitigation"
                );
            }
            for id in rule.d3fend {
                assert!(kb.d3fend(id).is_some(), "{id} is not a D3FEND technique");
            }
        }
    }

    #[test]
    fn advice_maps_to_what_it_amounts_to() {
        let kb = kb();
        let isolate = ids(
            &kb,
            "Locate control system networks and remote devices behind firewalls and isolate them from business networks.",
        );
        assert!(
            isolate.contains(&"M1030".to_owned()) && isolate.contains(&"D3-NI".to_owned()),
            "{isolate:?}"
        );
        let update = ids(
            &kb,
            "Philips recommends users upgrade to version 4.2 or later.",
        );
        assert_eq!(update, ["M1051", "D3-SU"]);
        let encrypt = ids(&kb, "Encrypt patient data at rest on every workstation.");
        assert_eq!(encrypt, ["M1041", "D3-DENCR"]);
        let mfa = ids(&kb, "Require phishing-resistant MFA for all remote access.");
        assert!(
            mfa.contains(&"M1032".to_owned()) && mfa.contains(&"D3-MFA".to_owned()),
            "{mfa:?}"
        );
        // A word inside a host name is not advice.
        assert!(ids(&kb, "Hunt for traffic to update-gateway[.]example.").is_empty());
        // "block" alone, of a person, is not traffic filtering.
        assert!(
            ids(
                &kb,
                "Do not let one vendor block your incident response plans."
            )
            .is_empty()
        );
    }

    #[test]
    fn only_advice_sentences_become_recommendations_each_once() {
        let kb = kb();
        let text = "The actor exploited the gateway. Organizations should update the gateway to 13.1. Organizations should update the gateway to 13.1. Apply.";
        let (_, sentences) = ctiforge_text::segment(text);
        let roles = vec![
            SentenceRole::Narrative,
            SentenceRole::Advice,
            SentenceRole::Advice,
            SentenceRole::Advice,
        ];
        let found = recommendations(&kb, text, &sentences, &roles);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].text,
            "Organizations should update the gateway to 13.1."
        );
        assert_eq!(
            found[0].evidence.start,
            text.find("Organizations").expect("in the text")
        );
        assert_eq!(found[0].mitigations[0].id, "M1051");
    }
}
