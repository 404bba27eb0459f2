//! Enrichment: what a report's findings mean and what to do about them.
//!
//! The stage after extraction and mapping. Given the techniques, indicators and entities found
//! in a report, it works out correlation (known groups and campaigns with overlapping
//! techniques, stated attributions, earlier reports), exploitation status, the risk score with
//! its factors, ATT&CK mitigations and D3FEND countermeasures, hunting leads, incident-response
//! steps and the summary. Every result keeps the sentences that support it. Nothing here reads
//! files or the network; `ctiforge-analyze` runs the stages in order.
//!
//! ```
//! use ctiforge_enrich::exploitation;
//! use ctiforge_model::ExploitationStatus;
//!
//! let text = "The flaw is actively exploited, CISA says.";
//! let (_, sentences) = ctiforge_text::segment(text);
//! let status = exploitation(text, &sentences, &[]);
//! assert_eq!(status.status, ExploitationStatus::InTheWild);
//! assert_eq!(status.evidence[0].text, text);
//! ```
#![deny(missing_docs)]

mod advice;
mod affected;
mod correlation;
mod exploitation;
mod leads;
mod mitigations;
mod response;
mod risk;
mod summary;

pub use advice::{defenses, recommendations};
pub use affected::{affected, remediation};
pub use correlation::{Correlator, earlier_reports};
pub use exploitation::exploitation;
pub use leads::hunting_leads;
pub use mitigations::{d3fend_url, mitigations};
pub use response::response;
pub use risk::risk;
pub use summary::summarize;

/// Compiles the patterns this crate builds on first use, so that a caller with a spare thread
/// (the analyzer at start-up) pays for them off the critical path.
pub fn warm_up() {
    affected::warm_up();
}

use ctiforge_model::analysis::{
    Entities, Exploitation, HuntingLead, Ioc, Mitigations, Technique, Vulnerability,
};

/// What the report says, as the earlier stages found it: the input of the response steps and
/// the summary.
#[derive(Debug, Clone, Copy)]
pub struct Findings<'a> {
    /// The report's techniques, best first.
    pub techniques: &'a [Technique],
    /// Its indicators worth acting on.
    pub iocs: &'a [Ioc],
    /// Its CVEs.
    pub vulnerabilities: &'a [Vulnerability],
    /// Whether it describes exploitation.
    pub exploitation: &'a Exploitation,
    /// Its named entities.
    pub entities: &'a Entities,
    /// Its hunting leads.
    pub leads: &'a [HuntingLead],
    /// Its mitigations.
    pub mitigations: &'a Mitigations,
}

impl Findings<'_> {
    /// Whether the report has the technique or one of its sub-techniques.
    pub fn has(&self, id: &str) -> bool {
        self.techniques.iter().any(|t| {
            t.id == id
                || t.id
                    .strip_prefix(id)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }

    /// The report's techniques under a tactic (`TA0006`).
    pub fn under_tactic(&self, tactic: &str) -> Vec<String> {
        self.techniques
            .iter()
            .filter(|t| t.tactics.iter().any(|(id, _)| id == tactic))
            .map(|t| t.id.clone())
            .collect()
    }
}
