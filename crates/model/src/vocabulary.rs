//! The closed vocabularies of the Analysis: TLP levels, indicator types, exploitation status,
//! risk levels, hunting-lead kinds, response phases and rule origins. Each is an enum whose
//! stable name (`as_str`, `Display`, serde) is the string the JSON has always carried, so
//! consumers match exhaustively instead of comparing literals.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The error returned when a string names no member of a vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// What was being parsed (`TLP level`, `IOC type`...).
    pub what: &'static str,
    /// The string given.
    pub given: String,
    /// The names accepted.
    pub expected: Vec<&'static str>,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} '{}'; expected one of {}",
            self.what,
            self.given,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownName {}

/// Declares a vocabulary: the enum, its stable names, `ALL`, `Display`, `FromStr`
/// (case-insensitive, surrounding space ignored) and serde with those names.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            JsonSchema,
        )]
        pub enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every member, in the order of the declaration.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name, as in the JSON output.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The name for people: underscores read as spaces (`proof of concept`).
            pub fn label(self) -> String {
                self.as_str().replace('_', " ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|member| member.as_str().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| UnknownName {
                        what: $what,
                        given: s.to_owned(),
                        expected: $name::ALL.iter().map(|m| m.as_str()).collect(),
                    })
            }
        }
    };
}

vocabulary! {
    /// A Traffic Light Protocol 2.0 level: who may see the intelligence.
    pub enum Tlp ("TLP level") {
        /// TLP:CLEAR, no restriction.
        Clear = "clear",
        /// TLP:GREEN, the community.
        Green = "green",
        /// TLP:AMBER, the organisation and its clients.
        Amber = "amber",
        /// TLP:AMBER+STRICT, the organisation only.
        AmberStrict = "amber+strict",
        /// TLP:RED, named recipients only.
        Red = "red",
    }
}

impl Tlp {
    /// The marking as written on documents: `TLP:AMBER+STRICT`.
    pub fn marking(self) -> String {
        format!("TLP:{}", self.as_str().to_uppercase())
    }
}

vocabulary! {
    /// The type of an indicator or identifier. The names are the stable strings of the JSON
    /// output (`"type": "sha256"`), listed in `shared/DESIGN.md`.
    pub enum IocType ("IOC type") {
        /// IPv4 address.
        Ipv4 = "ipv4",
        /// IPv6 address.
        Ipv6 = "ipv6",
        /// IPv4 or IPv6 network in CIDR notation.
        Cidr = "cidr",
        /// Domain name with a registrable name under a public suffix.
        Domain = "domain",
        /// URL (with a scheme, or a domain or address followed by a path).
        Url = "url",
        /// E-mail address.
        Email = "email",
        /// MD5 hash.
        Md5 = "md5",
        /// SHA-1 hash.
        Sha1 = "sha1",
        /// SHA-256 hash.
        Sha256 = "sha256",
        /// SHA-512 hash.
        Sha512 = "sha512",
        /// ssdeep fuzzy hash.
        Ssdeep = "ssdeep",
        /// Import hash of a PE file (MD5 of its import table), when the report labels it so.
        Imphash = "imphash",
        /// Authenticode hash of a PE file (SHA-256), when the report labels it so.
        Authentihash = "authentihash",
        /// CVE id.
        Cve = "cve",
        /// Autonomous system number (`AS13335`).
        Asn = "asn",
        /// MAC address.
        Mac = "mac",
        /// Bitcoin address (base58check or bech32).
        Btc = "btc",
        /// Ethereum address.
        Eth = "eth",
        /// Monero address.
        Xmr = "xmr",
        /// File name with a known extension.
        Filename = "filename",
        /// Windows or Unix file path.
        Filepath = "filepath",
        /// Windows registry key.
        Registry = "registry",
        /// HTTP user agent.
        UserAgent = "user_agent",
        /// ATT&CK technique or sub-technique id (`T1059.001`).
        AttackTechnique = "attack_technique",
        /// ATT&CK tactic id (`TA0001`).
        AttackTactic = "attack_tactic",
        /// ATT&CK mitigation id (`M1030`).
        AttackMitigation = "attack_mitigation",
        /// ATLAS technique id (`AML.T0043`).
        AtlasTechnique = "atlas_technique",
        /// D3FEND technique id (`D3-NI`).
        D3fendTechnique = "d3fend_technique",
        /// CWE id.
        Cwe = "cwe",
        /// CAPEC id.
        Capec = "capec",
    }
}

impl IocType {
    /// Whether this is an observable of an attack (network, host or file artefact) rather than
    /// a reference to a catalog entry (CVE, ATT&CK, ATLAS, D3FEND, CWE, CAPEC ids).
    pub fn is_observable(self) -> bool {
        !matches!(
            self,
            IocType::Cve
                | IocType::AttackTechnique
                | IocType::AttackTactic
                | IocType::AttackMitigation
                | IocType::AtlasTechnique
                | IocType::D3fendTechnique
                | IocType::Cwe
                | IocType::Capec
        )
    }

    /// Whether this names a place on a network (address, network, domain, URL).
    pub fn is_network(self) -> bool {
        matches!(
            self,
            IocType::Ipv4 | IocType::Ipv6 | IocType::Cidr | IocType::Domain | IocType::Url
        )
    }

    /// Whether this is a file hash.
    pub fn is_hash(self) -> bool {
        matches!(
            self,
            IocType::Md5 | IocType::Sha1 | IocType::Sha256 | IocType::Sha512
        )
    }
}

vocabulary! {
    /// What the report states about exploitation of what it is about, as a judgement with its
    /// sentence (the names before ctiforge 0.2 are read as aliases).
    pub enum ExploitationStatus ("exploitation status") {
        /// Exploited by attackers: stated ("have been observed exploiting", "actively
        /// exploited"), or a CVE of the report is in CISA KEV.
        #[serde(alias = "active")]
        InTheWild = "in_the_wild",
        /// A proof of concept or exploit code is public, with no exploitation stated.
        #[serde(alias = "proof_of_concept")]
        PocPublic = "poc_public",
        /// The report says no exploitation is known ("no known public exploitation").
        #[serde(alias = "none")]
        NoneKnown = "none_known",
        /// The report does not say.
        #[serde(alias = "unknown")]
        NotStated = "not_stated",
    }
}

vocabulary! {
    /// What can be done about a report's vulnerabilities, as the report states it (CSAF's
    /// remediation categories, and the device that must go).
    pub enum RemediationStatus ("remediation status") {
        /// A fixed version, patch or update is available.
        FixAvailable = "fix_available",
        /// Steps that reduce the risk without fixing it (segment, restrict, disable a feature).
        Mitigation = "mitigation",
        /// A configuration change that avoids the flaw.
        Workaround = "workaround",
        /// No fix is available yet.
        NoneAvailable = "none_available",
        /// The vendor will not fix it (end of life, end of support).
        NoFixPlanned = "no_fix_planned",
        /// Replace or remove the product or device.
        ReplaceOrRemove = "replace_or_remove",
    }
}

vocabulary! {
    /// What a sentence of a report does: tells what happened, advises, points elsewhere,
    /// describes the document, lists indicators, or heads a section. Techniques are drawn from
    /// narrative only; indicators in references and advice are checked as references.
    pub enum SentenceRole ("sentence role") {
        /// What the adversary did, what a vulnerability is, what is affected.
        Narrative = "narrative",
        /// Recommendations, mitigations and fixes ("organizations should...", "update to...").
        Advice = "advice",
        /// Links, contact and reporting text, legal notices, acknowledgements.
        Reference = "reference",
        /// About the document: scores, dates, sectors, headquarters.
        Metadata = "metadata",
        /// A row of a table or list of indicators.
        Indicators = "indicators",
        /// A section heading.
        Heading = "heading",
    }
}

vocabulary! {
    /// The band of the risk score.
    pub enum RiskLevel ("risk level") {
        /// Below 25.
        Low = "low",
        /// 25 to 49.
        Medium = "medium",
        /// 50 to 74.
        High = "high",
        /// 75 and above.
        Critical = "critical",
    }
}

impl RiskLevel {
    /// The level of a 0–100 score.
    pub fn of_score(score: u32) -> Self {
        match score {
            75.. => RiskLevel::Critical,
            50..=74 => RiskLevel::High,
            25..=49 => RiskLevel::Medium,
            _ => RiskLevel::Low,
        }
    }
}

vocabulary! {
    /// What a hunting lead looks at (the vocabulary of `shared/DESIGN.md`).
    pub enum LeadKind ("hunting-lead kind") {
        /// Network connections, DNS, proxy and flow records.
        NetworkTrafficPattern = "network_traffic_pattern",
        /// A named log (AWS CloudTrail, Azure activity, Okta system log...), with the events
        /// to look for.
        #[serde(alias = "cloud_audit")]
        LogSource = "log_source",
        /// An API endpoint, such as an AI model's inference endpoint.
        ApiEndpoint = "api_endpoint",
        /// Process creation and command lines.
        Process = "process",
        /// Files and loaded modules.
        File = "file",
        /// Windows registry.
        Registry = "registry",
        /// Sign-ins and authentication.
        Authentication = "authentication",
        /// Anything else.
        Other = "other",
    }
}

vocabulary! {
    /// A phase of incident response (NIST SP 800-61).
    pub enum Phase ("response phase") {
        /// Before or at the start: logs, patches, readiness.
        Preparation = "preparation",
        /// Finding and scoping the activity.
        DetectionAndAnalysis = "detection_and_analysis",
        /// Stopping it from spreading.
        Containment = "containment",
        /// Removing the attacker's foothold.
        Eradication = "eradication",
        /// Returning to service.
        Recovery = "recovery",
        /// Improving defences afterwards.
        LessonsLearned = "lessons_learned",
    }
}

vocabulary! {
    /// What a generated Sigma rule was drawn from.
    pub enum RuleOrigin ("rule origin") {
        /// The report's indicators.
        Indicators = "indicators",
        /// A hunting lead of the report.
        HuntingLead = "hunting_lead",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for tlp in Tlp::ALL {
            assert_eq!(tlp.as_str().parse::<Tlp>(), Ok(*tlp));
            let json = serde_json::to_string(tlp).expect("serialize");
            assert_eq!(json, format!("\"{}\"", tlp.as_str()));
            assert_eq!(serde_json::from_str::<Tlp>(&json).expect("parse"), *tlp);
        }
        for kind in IocType::ALL {
            assert_eq!(kind.to_string().parse::<IocType>(), Ok(*kind));
        }
        assert_eq!(" Amber+Strict ".parse::<Tlp>(), Ok(Tlp::AmberStrict));
        assert_eq!(Tlp::AmberStrict.marking(), "TLP:AMBER+STRICT");
        assert_eq!(ExploitationStatus::InTheWild.label(), "in the wild");
    }

    #[test]
    fn names_before_0_2_are_read_as_aliases() {
        for (old, new) in [
            ("active", ExploitationStatus::InTheWild),
            ("proof_of_concept", ExploitationStatus::PocPublic),
            ("none", ExploitationStatus::NoneKnown),
            ("unknown", ExploitationStatus::NotStated),
        ] {
            let read: ExploitationStatus =
                serde_json::from_str(&format!("\"{old}\"")).expect("an alias");
            assert_eq!(read, new);
        }
        let lead: LeadKind = serde_json::from_str("\"cloud_audit\"").expect("an alias");
        assert_eq!(lead, LeadKind::LogSource);
    }

    #[test]
    fn unknown_names_list_the_choices() {
        let err = "purple".parse::<Tlp>().expect_err("not a level");
        assert_eq!(
            err.to_string(),
            "unknown TLP level 'purple'; expected one of clear, green, amber, amber+strict, red"
        );
    }

    #[test]
    fn risk_levels_follow_the_score_bands() {
        assert_eq!(RiskLevel::of_score(0), RiskLevel::Low);
        assert_eq!(RiskLevel::of_score(24), RiskLevel::Low);
        assert_eq!(RiskLevel::of_score(25), RiskLevel::Medium);
        assert_eq!(RiskLevel::of_score(50), RiskLevel::High);
        assert_eq!(RiskLevel::of_score(75), RiskLevel::Critical);
        assert_eq!(RiskLevel::of_score(100), RiskLevel::Critical);
    }
}
