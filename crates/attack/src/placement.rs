//! Which domain a sentence's wording belongs to, learned: one logistic model per prototype
//! domain (ICS, Mobile, ATLAS) against everything else, over the classifier's word features.
//!
//! Cue words ([`crate::twins`]) place a document in a domain when it names the domain's
//! equipment or platform (`PLC`, `Android`, `LLM`). Many descriptions of behaviour in these
//! domains name none ("the malware changed the set points of the pressure loop", "the app
//! reads the messages and forwards them"); their wording places them all the same. A sentence
//! the model places in a domain counts like a sentence that names a cue: for the document's
//! domain contexts (twins and prototypes) and for which sentences prototypes read.
//! Decision 0015 has the measurements.

use ctiforge_kb::KnowledgeBase;
use ctiforge_model::Domain;
use serde::{Deserialize, Serialize};

use crate::corpus::Example;
use crate::features::{self, Scratch};
use crate::model::sigmoid;
use crate::prototypes::DOMAINS;
use crate::train::{Encoded, Settings, indexed_features, sgd};

/// A sentence is placed in a domain at or above this probability.
pub const THRESHOLD: f32 = 0.5;
/// A domain's positives weigh `(negatives / positives) ^ BALANCE` each: 1 would make 0.5 the
/// even odds between a domain's texts and the rest, which placed 3.9 % of held-out Enterprise
/// texts in another domain; 0 (no weighting) placed 0.1 % but only 3 % of ICS texts; 0.5
/// places 1.3 % and 19 % (decision 0015).
const BALANCE: f32 = 0.5;
/// Weights smaller than this in magnitude are not stored.
const PRUNE: f32 = 0.25;
/// A feature must occur in at least this many training texts.
const MIN_COUNT: u32 = 2;

/// The three models, stored feature-major: `weights[key * 3 + domain]`, domains in the order
/// of [`DOMAINS`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// Feature hashes with a stored weight, sorted.
    #[serde(with = "crate::packed")]
    pub keys: Vec<u64>,
    /// Three weights per key.
    #[serde(with = "crate::packed")]
    pub weights: Vec<f32>,
    /// The bias of each domain (empty: an untrained placement that places nothing).
    #[serde(with = "crate::packed")]
    pub bias: Vec<f32>,
}

/// The prototype domain whose techniques `example` is labelled with and that Enterprise does
/// not share (index into [`DOMAINS`]); `None` for Enterprise text and negatives.
fn domain_of(example: &Example, kb: &KnowledgeBase) -> Option<usize> {
    let techniques: Vec<_> = example
        .labels
        .iter()
        .filter_map(|l| kb.resolve_technique(l))
        .filter(|t| t.is_active() && !t.domains.contains(&Domain::Enterprise))
        .collect();
    DOMAINS
        .iter()
        .position(|d| techniques.iter().any(|t| t.domains.contains(d)))
}

impl Placement {
    /// Learns the three models from `examples`: a text labelled with a technique of a domain
    /// (and not an Enterprise one) is that domain's positive, every other text its negative.
    pub fn train(examples: &[&Example], kb: &KnowledgeBase) -> Self {
        let (keys, features) = indexed_features(examples, MIN_COUNT);
        let encoded: Vec<Encoded> = features
            .into_iter()
            .zip(examples)
            .map(|(features, example)| Encoded {
                features,
                labels: domain_of(example, kb)
                    .map(|d| vec![d as u16])
                    .unwrap_or_default(),
            })
            .collect();
        let mut positives = [0usize; DOMAINS.len()];
        for example in &encoded {
            for &label in &example.labels {
                positives[usize::from(label)] += 1;
            }
        }
        if positives.contains(&0) {
            return Self::default();
        }
        let balance: Vec<f32> = positives
            .iter()
            .map(|&p| ((encoded.len() - p) as f32 / p as f32).powf(BALANCE))
            .collect();
        let (weights, bias) = sgd(
            &encoded,
            keys.len(),
            0..DOMAINS.len(),
            &balance,
            &Settings::default(),
            |_| {},
        );
        let mut out = Self {
            bias,
            ..Self::default()
        };
        for (key, row) in keys.iter().zip(weights.chunks_exact(DOMAINS.len())) {
            if row.iter().any(|w| w.abs() >= PRUNE) {
                out.keys.push(*key);
                out.weights.extend_from_slice(row);
            }
        }
        out
    }

    /// For each domain of [`DOMAINS`], whether `sentence`'s wording places it there.
    pub fn place(&self, sentence: &str, scratch: &mut PlacementScratch) -> [bool; 3] {
        if self.bias.len() != DOMAINS.len() {
            return [false; 3];
        }
        features::extract(sentence, &mut scratch.words, &mut scratch.features);
        if scratch.features.is_empty() {
            return [false; 3];
        }
        let value = features::value(scratch.features.len());
        let mut logits = [self.bias[0], self.bias[1], self.bias[2]];
        for feature in &scratch.features {
            if let Ok(i) = self.keys.binary_search(feature) {
                for (z, w) in logits.iter_mut().zip(&self.weights[i * 3..i * 3 + 3]) {
                    *z += w * value;
                }
            }
        }
        logits.map(|z| sigmoid(z) >= THRESHOLD)
    }

    /// [`Placement::place`] for each sentence, as one list per domain of [`DOMAINS`].
    pub fn place_all(&self, sentences: &[&str]) -> [Vec<bool>; 3] {
        let mut scratch = PlacementScratch::default();
        let mut out: [Vec<bool>; 3] = Default::default();
        for sentence in sentences {
            let placed = self.place(sentence, &mut scratch);
            for (list, p) in out.iter_mut().zip(placed) {
                list.push(p);
            }
        }
        out
    }

    /// The invariants that [`Placement::place`] relies on.
    pub(crate) fn check(&self) -> Result<(), String> {
        if (!self.bias.is_empty() && self.bias.len() != DOMAINS.len())
            || self.weights.len() != self.keys.len() * DOMAINS.len()
            || self.keys.windows(2).any(|w| w[0] >= w[1])
        {
            return Err("inconsistent placement table".into());
        }
        Ok(())
    }
}

/// Reusable buffers for [`Placement::place`].
#[derive(Debug, Default)]
pub struct PlacementScratch {
    words: Scratch,
    features: Vec<u64>,
}

/// The list of `domain` in what [`Placement::place_all`] returns (empty for Enterprise).
pub fn of(placed: &[Vec<bool>; 3], domain: Domain) -> &[bool] {
    DOMAINS
        .iter()
        .position(|d| *d == domain)
        .map_or(&[], |i| placed[i].as_slice())
}

/// Per domain of [`DOMAINS`], how many sentences [`Placement::place_all`] placed there: what
/// [`crate::twins::contexts`] takes.
pub fn counts(placed: &[Vec<bool>; 3]) -> Vec<(Domain, usize)> {
    DOMAINS
        .iter()
        .zip(placed)
        .map(|(&d, list)| (d, list.iter().filter(|&&p| p).count()))
        .collect()
}
