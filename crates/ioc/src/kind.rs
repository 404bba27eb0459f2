//! The kinds of indicator ctiforge extracts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The type of an indicator or identifier. The names are the stable strings of the JSON output
/// (`"type": "sha256"`), listed in `shared/DESIGN.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IocType {
    /// IPv4 address.
    Ipv4,
    /// IPv6 address.
    Ipv6,
    /// IPv4 or IPv6 network in CIDR notation.
    Cidr,
    /// Domain name with a registrable name under a public suffix.
    Domain,
    /// URL (with a scheme, or a domain or address followed by a path).
    Url,
    /// E-mail address.
    Email,
    /// MD5 hash.
    Md5,
    /// SHA-1 hash.
    Sha1,
    /// SHA-256 hash.
    Sha256,
    /// SHA-512 hash.
    Sha512,
    /// ssdeep fuzzy hash.
    Ssdeep,
    /// CVE id.
    Cve,
    /// Autonomous system number (`AS13335`).
    Asn,
    /// MAC address.
    Mac,
    /// Bitcoin address (base58check or bech32).
    Btc,
    /// Ethereum address.
    Eth,
    /// Monero address.
    Xmr,
    /// File name with a known extension.
    Filename,
    /// Windows or Unix file path.
    Filepath,
    /// Windows registry key.
    Registry,
    /// HTTP user agent.
    UserAgent,
    /// ATT&CK technique or sub-technique id (`T1059.001`).
    AttackTechnique,
    /// ATT&CK tactic id (`TA0001`).
    AttackTactic,
    /// ATT&CK mitigation id (`M1030`).
    AttackMitigation,
    /// ATLAS technique id (`AML.T0043`).
    AtlasTechnique,
    /// D3FEND technique id (`D3-NI`).
    D3fendTechnique,
    /// CWE id.
    Cwe,
    /// CAPEC id.
    Capec,
}

impl IocType {
    /// Every type, in output order.
    pub const ALL: [IocType; 28] = [
        IocType::Ipv4,
        IocType::Ipv6,
        IocType::Cidr,
        IocType::Domain,
        IocType::Url,
        IocType::Email,
        IocType::Md5,
        IocType::Sha1,
        IocType::Sha256,
        IocType::Sha512,
        IocType::Ssdeep,
        IocType::Cve,
        IocType::Asn,
        IocType::Mac,
        IocType::Btc,
        IocType::Eth,
        IocType::Xmr,
        IocType::Filename,
        IocType::Filepath,
        IocType::Registry,
        IocType::UserAgent,
        IocType::AttackTechnique,
        IocType::AttackTactic,
        IocType::AttackMitigation,
        IocType::AtlasTechnique,
        IocType::D3fendTechnique,
        IocType::Cwe,
        IocType::Capec,
    ];

    /// The stable name (`sha256`, `attack_technique`).
    pub fn as_str(self) -> &'static str {
        match self {
            IocType::Ipv4 => "ipv4",
            IocType::Ipv6 => "ipv6",
            IocType::Cidr => "cidr",
            IocType::Domain => "domain",
            IocType::Url => "url",
            IocType::Email => "email",
            IocType::Md5 => "md5",
            IocType::Sha1 => "sha1",
            IocType::Sha256 => "sha256",
            IocType::Sha512 => "sha512",
            IocType::Ssdeep => "ssdeep",
            IocType::Cve => "cve",
            IocType::Asn => "asn",
            IocType::Mac => "mac",
            IocType::Btc => "btc",
            IocType::Eth => "eth",
            IocType::Xmr => "xmr",
            IocType::Filename => "filename",
            IocType::Filepath => "filepath",
            IocType::Registry => "registry",
            IocType::UserAgent => "user_agent",
            IocType::AttackTechnique => "attack_technique",
            IocType::AttackTactic => "attack_tactic",
            IocType::AttackMitigation => "attack_mitigation",
            IocType::AtlasTechnique => "atlas_technique",
            IocType::D3fendTechnique => "d3fend_technique",
            IocType::Cwe => "cwe",
            IocType::Capec => "capec",
        }
    }

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
}

impl fmt::Display for IocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IocType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IocType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = IocType::ALL.iter().map(|t| t.as_str()).collect();
                format!(
                    "unknown IOC type '{s}'; expected one of {}",
                    names.join(", ")
                )
            })
    }
}
