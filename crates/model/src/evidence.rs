//! Evidence: the sentences of a report that support a finding, and for techniques the signals
//! that fired in each.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A quoted sentence of the report, by byte offsets into the report's text.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct Quote {
    /// Start byte offset.
    pub start: usize,
    /// End byte offset.
    pub end: usize,
    /// The sentence.
    pub text: String,
}

/// One reason a sentence points at a technique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// The technique's id is written in the sentence.
    ExplicitId {
        /// As written.
        text: String,
        /// The revoked id it replaces, when the text used one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        revoked: Option<String>,
    },
    /// The technique's name is written in the sentence.
    Name {
        /// The name as matched.
        phrase: String,
    },
    /// A command, API, tool or phrasing from the lexicon.
    Lexicon {
        /// The text matched.
        phrase: String,
    },
    /// The trained sentence classifier.
    Classifier,
    /// Software the report names is known to use the technique (document level only).
    SoftwarePrior {
        /// The software's ATT&CK id.
        software: String,
        /// Its name.
        name: String,
    },
    /// The report describes the Enterprise technique of the same name, and its own words
    /// place it in ICS or Mobile (document level only).
    DomainTwin {
        /// The Enterprise technique found in the report.
        of: String,
        /// `ics` or `mobile`.
        domain: String,
        /// The report's words that place it there (`PLC`, `Modbus`, `Android`...); empty when
        /// its wording alone places it there.
        cues: Vec<String>,
    },
    /// The sentence is nearest this technique's prototype among the techniques of its domain
    /// (ICS, Mobile or ATLAS), built from that domain's procedure examples and descriptions;
    /// used in reports whose own words place them in the domain (document level: the cues).
    Prototype {
        /// `ics`, `mobile` or `atlas`.
        domain: String,
        /// Cosine similarity to the technique's prototype.
        similarity: f32,
        /// The report's words that place it in the domain; empty when its wording alone
        /// places it there.
        cues: Vec<String>,
    },
}

impl Signal {
    /// The words of the sentence the signal rests on, when it rests on words (an id, a name, a
    /// lexicon phrase), for highlighting.
    pub fn phrase(&self) -> Option<&str> {
        match self {
            Signal::ExplicitId { text, .. } => Some(text),
            Signal::Name { phrase } | Signal::Lexicon { phrase } => Some(phrase),
            Signal::Classifier
            | Signal::SoftwarePrior { .. }
            | Signal::DomainTwin { .. }
            | Signal::Prototype { .. } => None,
        }
    }

    /// A short description for people: `id T1059`, `phrase “vssadmin”`, `classifier`.
    pub fn describe(&self) -> String {
        match self {
            Signal::ExplicitId { text, .. } => format!("id {text}"),
            Signal::Name { .. } => "name".to_owned(),
            Signal::Lexicon { phrase } => format!("phrase “{phrase}”"),
            Signal::Classifier => "classifier".to_owned(),
            Signal::SoftwarePrior { name, .. } => format!("software {name}"),
            Signal::DomainTwin { of, cues, .. } if cues.is_empty() => {
                format!("same behaviour as {of}, in a report worded as this domain's")
            }
            Signal::DomainTwin { of, cues, .. } => {
                format!(
                    "same behaviour as {of}, in a report about {}",
                    cues.join(", ")
                )
            }
            Signal::Prototype {
                domain, similarity, ..
            } => format!("nearest {domain} technique, similarity {similarity:.2}"),
        }
    }
}

/// A signal with its strength (a probability).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SignalHit {
    /// What fired.
    #[serde(flatten)]
    pub signal: Signal,
    /// How strongly, on its own.
    pub strength: f32,
}

/// A sentence that supports a technique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// Byte offset of the sentence in the text.
    pub start: usize,
    /// End byte offset.
    pub end: usize,
    /// The sentence.
    pub text: String,
    /// The technique's score in it.
    pub score: f32,
    /// The signals that fired.
    pub signals: Vec<SignalHit>,
}

impl Evidence {
    /// The sentence as a plain quote.
    pub fn quote(&self) -> Quote {
        Quote {
            start: self.start,
            end: self.end,
            text: self.text.clone(),
        }
    }
}
