//! What a report names: threat actors, malware, tools, campaigns, countries, products and
//! sectors from the knowledge base's names and aliases; CVEs with their CISA KEV entry; and the
//! publication date the text states.
//!
//! Part of the extract stage: it takes the document's text and sentence spans (and, for CVEs,
//! the indicators the IOC extractor found) and returns [`Entities`], every entity with the
//! sentences that name it.
//!
//! ```
//! use ctiforge_entities::EntityIndex;
//! use ctiforge_kb::KnowledgeBase;
//!
//! let kb = KnowledgeBase::embedded().unwrap();
//! let index = EntityIndex::new(&kb);
//! let text = "APT29 used Mimikatz against hospitals.";
//! let (_, sentences) = ctiforge_text::segment(text);
//! let entities = index.find(text, &sentences);
//! assert_eq!(entities.threat_actors[0].id.as_deref(), Some("G0016"));
//! assert_eq!(entities.tools[0].name, "Mimikatz");
//! assert_eq!(entities.sectors[0].name, "Health");
//! ```
#![deny(missing_docs)]

mod dates;
mod dictionary;
mod named;
mod names;
mod vulnerabilities;

pub use ctiforge_model::analysis::{Entities, Entity};
pub use dates::published;
pub use named::{add_named, sort_ransomware};
pub use names::{CISA_SECTORS, EntityIndex};
pub use vulnerabilities::vulnerabilities;

/// Compiles the patterns this crate builds on first use, so that a caller with a spare thread
/// (the analyzer at start-up) pays for them off the critical path.
pub fn warm_up() {
    dates::warm_up();
    named::warm_up();
    vulnerabilities::warm_up();
}

use ctiforge_model::{Quote, Span};

/// The sentence around byte `offset`, as a quote.
pub fn quote_at(text: &str, sentences: &[Span], offset: usize) -> Option<Quote> {
    let i = sentences.partition_point(|s| s.end <= offset);
    let span = sentences.get(i).filter(|s| s.start <= offset)?;
    Some(Quote {
        start: span.start,
        end: span.end,
        text: text.get(span.start..span.end)?.to_owned(),
    })
}
