//! Shared domain types of ctiforge: the schema every stage speaks.
//!
//! Every stage of the pipeline (ingest → extract → map → enrich → detect → render) speaks in
//! these types, so they live in one small crate with no I/O and few dependencies:
//! - [`Document`] and [`Span`]: a report as text, with sentences and paragraphs;
//! - [`analysis`]: the Analysis document (`ctiforge.analysis/1`) and its parts;
//! - [`evidence`]: quotes and the signals behind a technique;
//! - [`vocabulary`]: the closed vocabularies (TLP, IOC type, exploitation status, risk level,
//!   hunting-lead kind, response phase, rule origin) as enums with their stable names.
//!
//! ```
//! use ctiforge_model::{Domain, Span};
//!
//! let domain: Domain = "ics-attack".parse().unwrap();
//! assert_eq!(domain, Domain::Ics);
//! assert_eq!(domain.to_string(), "ics");
//!
//! let text = "The actor ran T1059.001 via PowerShell.";
//! let span = Span::new(14, 23);
//! assert_eq!(span.slice(text), Some("T1059.001"));
//! ```
#![deny(missing_docs)]

pub mod analysis;
pub mod evidence;
pub mod vocabulary;

pub use analysis::Analysis;
pub use evidence::{Evidence, Quote, Signal, SignalHit};
pub use vocabulary::{
    ExploitationStatus, IocType, LeadKind, Phase, RemediationStatus, RiskLevel, RuleOrigin,
    SentenceRole, Tlp, UnknownName,
};

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A knowledge domain: one of the three ATT&CK matrices, or MITRE ATLAS.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Domain {
    /// ATT&CK for Enterprise.
    Enterprise,
    /// ATT&CK for Mobile.
    Mobile,
    /// ATT&CK for ICS.
    Ics,
    /// MITRE ATLAS (attacks on AI systems).
    Atlas,
}

impl Domain {
    /// All domains, in the order reports and layers list them.
    pub const ALL: [Domain; 4] = [
        Domain::Enterprise,
        Domain::Mobile,
        Domain::Ics,
        Domain::Atlas,
    ];

    /// The short, stable name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Enterprise => "enterprise",
            Domain::Mobile => "mobile",
            Domain::Ics => "ics",
            Domain::Atlas => "atlas",
        }
    }

    /// The name ATT&CK uses in `x_mitre_domains` and Navigator layers (`enterprise-attack`).
    pub fn attack_name(self) -> &'static str {
        match self {
            Domain::Enterprise => "enterprise-attack",
            Domain::Mobile => "mobile-attack",
            Domain::Ics => "ics-attack",
            Domain::Atlas => "atlas",
        }
    }

    /// A human-readable title.
    pub fn title(self) -> &'static str {
        match self {
            Domain::Enterprise => "ATT&CK Enterprise",
            Domain::Mobile => "ATT&CK Mobile",
            Domain::Ics => "ATT&CK ICS",
            Domain::Atlas => "ATLAS",
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string names no known [`Domain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDomain(pub String);

impl fmt::Display for UnknownDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown domain '{}'; expected one of enterprise, mobile, ics, atlas",
            self.0
        )
    }
}

impl std::error::Error for UnknownDomain {}

impl FromStr for Domain {
    type Err = UnknownDomain;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "enterprise" | "enterprise-attack" => Ok(Domain::Enterprise),
            "mobile" | "mobile-attack" => Ok(Domain::Mobile),
            "ics" | "ics-attack" => Ok(Domain::Ics),
            "atlas" => Ok(Domain::Atlas),
            _ => Err(UnknownDomain(s.to_owned())),
        }
    }
}

/// A half-open byte range `[start, end)` into a document's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    /// First byte of the span.
    pub start: usize,
    /// One past the last byte of the span.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`; an inverted range is normalised to be empty at `start`.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The text the span covers, or `None` when it is out of range or not on character boundaries.
    pub fn slice(self, text: &str) -> Option<&str> {
        text.get(self.start..self.end)
    }
}

/// Where a document came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSource {
    /// The file it was read from.
    pub path: Option<String>,
    /// The URL it was fetched from.
    pub url: Option<String>,
    /// The media type it was read as (`text/html`, `text/markdown`, `application/pdf`...).
    pub media_type: String,
    /// The text encoding the bytes were decoded from (`UTF-8`, `windows-1252`...).
    pub encoding: String,
    /// Lower-case hex SHA-256 of the original bytes.
    pub sha256: String,
    /// Size of the original bytes.
    pub bytes: usize,
}

/// A report as text: its title, clean text, and paragraphs and sentences as spans into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// The title, from the markup or the first heading or line.
    pub title: Option<String>,
    /// The clean text: markup removed, one block per paragraph, list item or table row.
    pub text: String,
    /// Paragraph spans, in order, covering every non-blank block.
    pub paragraphs: Vec<Span>,
    /// Sentence spans, in order, each inside one paragraph.
    pub sentences: Vec<Span>,
    /// Where it came from.
    pub source: DocumentSource,
}

impl Document {
    /// The index of the sentence that contains byte `offset`, if any.
    pub fn sentence_at(&self, offset: usize) -> Option<usize> {
        let i = self.sentences.partition_point(|s| s.end <= offset);
        self.sentences
            .get(i)
            .filter(|s| s.start <= offset && offset < s.end)
            .map(|_| i)
    }

    /// The text of a span of this document.
    pub fn slice(&self, span: Span) -> &str {
        span.slice(&self.text).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_lookup_by_offset() {
        let text = "First one. Second one.".to_owned();
        let document = Document {
            title: None,
            paragraphs: vec![Span::new(0, text.len())],
            sentences: vec![Span::new(0, 10), Span::new(11, 22)],
            text,
            source: DocumentSource {
                path: None,
                url: None,
                media_type: "text/plain".into(),
                encoding: "UTF-8".into(),
                sha256: String::new(),
                bytes: 22,
            },
        };
        assert_eq!(document.sentence_at(0), Some(0));
        assert_eq!(document.sentence_at(12), Some(1));
        assert_eq!(
            document.sentence_at(10),
            None,
            "the space between sentences"
        );
        assert_eq!(document.slice(document.sentences[1]), "Second one.");
    }

    #[test]
    fn domain_names_round_trip() {
        for domain in Domain::ALL {
            assert_eq!(domain.as_str().parse::<Domain>(), Ok(domain));
            assert_eq!(domain.attack_name().parse::<Domain>(), Ok(domain));
            let json = serde_json::to_string(&domain).expect("serialize");
            assert_eq!(json, format!("\"{}\"", domain.as_str()));
        }
    }

    #[test]
    fn unknown_domain_lists_the_choices() {
        let err = "pre-attack".parse::<Domain>().expect_err("not a domain");
        assert!(err.to_string().contains("enterprise, mobile, ics, atlas"));
    }

    #[test]
    fn span_slice_respects_char_boundaries() {
        let text = "café T1059";
        assert_eq!(Span::new(6, 11).slice(text), Some("T1059"));
        // Byte 4 is inside the two-byte 'é'.
        assert_eq!(Span::new(4, 6).slice(text), None);
        assert_eq!(Span::new(0, 100).slice(text), None);
        assert!(Span::new(5, 3).is_empty());
    }
}
