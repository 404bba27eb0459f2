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
use crate::eval::fold_of;
use crate::features::{self, Scratch};
use crate::model::sigmoid;
use crate::prototypes::DOMAINS;
use crate::train::{Encoded, Settings, indexed_features, sgd};

/// A sentence is placed in a domain at or above this probability.
pub const THRESHOLD: f32 = 0.5;
/// A domain's positives weigh `(negatives / positives) ^ b` each, `b` one of these, chosen per
/// domain inside the training data ([`Placement::train`]): 1 makes 0.5 the even odds between
/// a domain's texts and the rest, 0 is no weighting.
pub const BALANCES: [f32; 3] = [0.0, 0.5, 1.0];
/// Folds of the training data on which the balance is chosen.
const INNER_FOLDS: u32 = 3;
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
    /// The exponent of [`BALANCES`] chosen for each domain, for reports.
    #[serde(with = "crate::packed")]
    pub balance: Vec<f32>,
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
    /// Each domain's positive weight is the one of [`BALANCES`] whose placement of held-out
    /// texts has the best F1 over [`INNER_FOLDS`] folds of `examples`, split by source or
    /// report: chosen inside whatever data it is given, so inside each fold of an evaluation.
    pub fn train(examples: &[&Example], kb: &KnowledgeBase) -> Self {
        let domains: Vec<Option<usize>> = examples.iter().map(|e| domain_of(e, kb)).collect();
        let balance = choose_balance(examples, &domains);
        Self::fit(examples, &domains, balance)
    }

    /// The three models trained on `examples` whose domains are `domains`, each domain's
    /// positives weighed by the exponent `balance` gives it.
    fn fit(examples: &[&Example], domains: &[Option<usize>], balance: [f32; 3]) -> Self {
        let (keys, features) = indexed_features(examples, MIN_COUNT);
        let encoded: Vec<Encoded> = features
            .into_iter()
            .zip(domains)
            .map(|(features, domain)| Encoded {
                features,
                labels: domain.map(|d| vec![d as u16]).unwrap_or_default(),
            })
            .collect();
        let mut positives = [0usize; DOMAINS.len()];
        for domain in domains.iter().flatten() {
            positives[*domain] += 1;
        }
        if positives.contains(&0) {
            return Self::default();
        }
        let weights: Vec<f32> = positives
            .iter()
            .zip(balance)
            .map(|(&p, b)| ((encoded.len() - p) as f32 / p as f32).powf(b))
            .collect();
        let (weights, bias) = sgd(
            &encoded,
            keys.len(),
            0..DOMAINS.len(),
            &weights,
            &Settings::default(),
            |_| {},
        );
        let mut out = Self {
            bias,
            balance: balance.to_vec(),
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
            || (!self.balance.is_empty() && self.balance.len() != DOMAINS.len())
            || self.keys.windows(2).any(|w| w[0] >= w[1])
        {
            return Err("inconsistent placement table".into());
        }
        Ok(())
    }
}

/// Per domain, the exponent of [`BALANCES`] whose placement of held-out texts has the best F1
/// (ties to the smaller weight) over [`INNER_FOLDS`] folds of `examples` by source, else
/// report, else text.
fn choose_balance(examples: &[&Example], domains: &[Option<usize>]) -> [f32; 3] {
    let fold: Vec<u32> = examples
        .iter()
        .map(|e| {
            let unit = e
                .source
                .as_deref()
                .or(e.report.as_deref())
                .unwrap_or(&e.text);
            // Salted: an outer evaluation's folds hash the same units.
            fold_of(&format!("placement {unit}"), INNER_FOLDS)
        })
        .collect();
    // Per candidate and domain: true positives, false positives, false negatives.
    let mut counts = [[[0u32; 3]; DOMAINS.len()]; BALANCES.len()];
    let mut scratch = PlacementScratch::default();
    for held_out in 0..INNER_FOLDS {
        let (training, training_domains): (Vec<&Example>, Vec<Option<usize>>) = examples
            .iter()
            .zip(domains)
            .zip(&fold)
            .filter(|(_, f)| **f != held_out)
            .map(|((e, d), _)| (*e, *d))
            .unzip();
        for (candidate, &b) in BALANCES.iter().enumerate() {
            let model = Placement::fit(&training, &training_domains, [b; 3]);
            for ((example, domain), _) in examples
                .iter()
                .zip(domains)
                .zip(&fold)
                .filter(|(_, f)| **f == held_out)
            {
                let placed = model.place(&example.text, &mut scratch);
                for (d, count) in counts[candidate].iter_mut().enumerate() {
                    match (placed[d], *domain == Some(d)) {
                        (true, true) => count[0] += 1,
                        (true, false) => count[1] += 1,
                        (false, true) => count[2] += 1,
                        (false, false) => {}
                    }
                }
            }
        }
    }
    let f1 = |[tp, fp, fn_]: [u32; 3]| 2.0 * f64::from(tp) / f64::from((2 * tp + fp + fn_).max(1));
    std::array::from_fn(|d| {
        let mut best = 0;
        for candidate in 1..BALANCES.len() {
            if f1(counts[candidate][d]) > f1(counts[best][d]) {
                best = candidate;
            }
        }
        BALANCES[best]
    })
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
