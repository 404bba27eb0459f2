//! Technique prototypes for ICS, Mobile and ATLAS: one TF-IDF centroid per technique of the
//! domain, built from that domain's own prose (procedure examples, descriptions, case-study
//! steps), and a sentence's nearest centroid.
//!
//! The classifier learns these techniques from a handful of examples among 50,000, competing
//! with every Enterprise technique, and almost never scores them high enough. A centroid
//! competes only within its domain and, with character n-grams beside the words, matches
//! wording it has not seen exactly (`setpoints` and `set point`, `firmware` and
//! `firmware-update`). It is consulted only for documents whose own words place them in the
//! domain ([`crate::twins::contexts`]); the domain's similarity threshold is chosen by
//! cross-validation over sources (`crate::domains`). Decision 0015 has the measurements.

use std::collections::HashMap;

use ctiforge_model::Domain;
use serde::{Deserialize, Serialize};
use twox_hash::XxHash3_64;

use crate::corpus::Example;
use crate::features::{self, Scratch};
use ctiforge_kb::KnowledgeBase;

/// Seed of character n-gram hashes (word features use 1–3).
const CHAR_GRAM: u64 = 11;
/// Character n-grams of these lengths, within words padded by a space on each side.
const GRAMS: std::ops::RangeInclusive<usize> = 3..=5;
/// Words longer than this (blobs, hashes) give no n-grams.
const MAX_WORD: usize = 40;
/// Features kept per centroid.
pub const KEEP: usize = 300;
/// The domains that get prototypes (Enterprise has the classifier's thousands of examples).
pub const DOMAINS: [Domain; 3] = [Domain::Ics, Domain::Mobile, Domain::Atlas];

/// The centroids of one domain, stored as an inverted index (feature → the centroids it is
/// part of, with its weight there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prototypes {
    /// The domain.
    pub domain: Domain,
    /// Technique ids, one per centroid.
    pub classes: Vec<String>,
    /// Feature hashes kept in some centroid, sorted.
    pub keys: Vec<u64>,
    /// The inverse document frequency of each key.
    pub idf: Vec<f32>,
    /// `keys.len() + 1` offsets into `targets` and `weights`.
    pub offsets: Vec<u32>,
    /// The centroid each weight belongs to.
    pub targets: Vec<u16>,
    /// The weights.
    pub weights: Vec<f32>,
    /// The inverse document frequency given to a feature that is in no centroid.
    pub unseen_idf: f32,
    /// A sentence supports its nearest technique at or above this cosine similarity.
    pub threshold: f32,
}

/// Reusable buffers.
#[derive(Debug, Default)]
pub struct PrototypeScratch {
    words: Scratch,
    features: Vec<u64>,
    grams: Vec<u64>,
    scores: Vec<f32>,
}

/// The raw term frequencies of `text`: word features (unigrams, bigrams, stems; once each) and
/// character n-grams of each word, counted.
fn terms(text: &str, scratch: &mut PrototypeScratch) -> Vec<(u64, f32)> {
    features::extract(text, &mut scratch.words, &mut scratch.features);
    let grams = &mut scratch.grams;
    grams.clear();
    let mut padded = String::new();
    for word in text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
    {
        if word.len() > MAX_WORD || word.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        padded.clear();
        padded.push(' ');
        padded.extend(word.chars().flat_map(char::to_lowercase));
        padded.push(' ');
        let bounds: Vec<usize> = padded
            .char_indices()
            .map(|(i, _)| i)
            .chain([padded.len()])
            .collect();
        let chars = bounds.len() - 1;
        for n in GRAMS {
            for start in 0..chars.saturating_sub(n - 1) {
                let gram = &padded[bounds[start]..bounds[start + n]];
                grams.push(XxHash3_64::oneshot_with_seed(CHAR_GRAM, gram.as_bytes()));
            }
        }
    }
    grams.sort_unstable();
    let mut out: Vec<(u64, f32)> = scratch.features.iter().map(|&f| (f, 1.0)).collect();
    for run in grams.chunk_by(|a, b| a == b) {
        out.push((run[0], 1.0 + (run.len() as f32).ln()));
    }
    out.sort_unstable_by_key(|&(k, _)| k);
    out.dedup_by_key(|(k, _)| *k);
    out
}

fn normalize(vector: &mut [(u64, f32)]) {
    let norm = vector.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, w) in vector.iter_mut() {
            *w /= norm;
        }
    }
}

impl Prototypes {
    /// Builds the centroids of `domain` from `texts` (each with the index of its technique in
    /// `classes`), keeping each centroid's `keep` heaviest features.
    pub fn train(domain: Domain, classes: Vec<String>, texts: &[(&str, u16)], keep: usize) -> Self {
        let mut scratch = PrototypeScratch::default();
        let vectors: Vec<Vec<(u64, f32)>> =
            texts.iter().map(|(t, _)| terms(t, &mut scratch)).collect();
        let mut df: HashMap<u64, u32> = HashMap::new();
        for vector in &vectors {
            for &(k, _) in vector {
                *df.entry(k).or_default() += 1;
            }
        }
        let n = texts.len() as f32;
        let idf_of = |df: u32| ((1.0 + n) / (1.0 + df as f32)).ln() + 1.0;
        let mut centroids: Vec<HashMap<u64, f32>> = vec![HashMap::new(); classes.len()];
        for (vector, &(_, class)) in vectors.into_iter().zip(texts) {
            let mut vector: Vec<(u64, f32)> = vector
                .into_iter()
                .map(|(k, tf)| (k, tf * idf_of(df[&k])))
                .collect();
            normalize(&mut vector);
            let centroid = &mut centroids[usize::from(class)];
            for (k, w) in vector {
                *centroid.entry(k).or_default() += w;
            }
        }
        let mut postings: Vec<(u64, u16, f32)> = Vec::new();
        for (class, centroid) in centroids.into_iter().enumerate() {
            let mut weights: Vec<(u64, f32)> = centroid.into_iter().collect();
            weights.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            weights.truncate(keep);
            normalize(&mut weights);
            postings.extend(weights.into_iter().map(|(k, w)| (k, class as u16, w)));
        }
        postings.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut out = Self {
            domain,
            classes,
            keys: Vec::new(),
            idf: Vec::new(),
            offsets: vec![0],
            targets: Vec::with_capacity(postings.len()),
            weights: Vec::with_capacity(postings.len()),
            unseen_idf: idf_of(0),
            threshold: 1.0,
        };
        for run in postings.chunk_by(|a, b| a.0 == b.0) {
            out.keys.push(run[0].0);
            out.idf.push(idf_of(df[&run[0].0]));
            for &(_, class, w) in run {
                out.targets.push(class);
                out.weights.push(w);
            }
            out.offsets.push(out.targets.len() as u32);
        }
        out
    }

    /// The nearest technique of `text` (index into `classes`) and its cosine similarity.
    pub fn nearest(&self, text: &str, scratch: &mut PrototypeScratch) -> Option<(usize, f32)> {
        let terms = terms(text, scratch);
        let scores = &mut scratch.scores;
        scores.clear();
        scores.resize(self.classes.len(), 0.0);
        let mut norm = 0.0f32;
        for (key, tf) in terms {
            let Ok(i) = self.keys.binary_search(&key) else {
                norm += (tf * self.unseen_idf).powi(2);
                continue;
            };
            let weight = tf * self.idf[i];
            norm += weight * weight;
            let (from, to) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
            for (&class, &w) in self.targets[from..to].iter().zip(&self.weights[from..to]) {
                scores[usize::from(class)] += weight * w;
            }
        }
        if norm <= 0.0 {
            return None;
        }
        let norm = norm.sqrt();
        scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .filter(|(_, s)| **s > 0.0)
            .map(|(class, s)| (class, s / norm))
    }

    /// The invariants that [`Prototypes::nearest`] relies on.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.offsets.len() != self.keys.len() + 1
            || self.idf.len() != self.keys.len()
            || self.targets.len() != self.weights.len()
            || self.offsets.last().map(|&o| o as usize) != Some(self.targets.len())
            || self.offsets.windows(2).any(|w| w[0] > w[1])
            || self.keys.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(format!(
                "inconsistent {} prototype table",
                self.domain.as_str()
            ));
        }
        if self
            .targets
            .iter()
            .any(|&t| usize::from(t) >= self.classes.len())
        {
            return Err("a prototype weight names a technique that does not exist".into());
        }
        Ok(())
    }
}

/// Whether a sentence of a document placed in `domain` may support one of its techniques: an
/// ATLAS technique needs a sentence about the AI system itself (as an ATLAS twin does), since
/// attacks on AI systems are usually one part of a larger intrusion.
pub fn may_support(sentence: &str, domain: Domain) -> bool {
    domain != Domain::Atlas || crate::twins::mentions(sentence, domain)
}

/// The centroids of every domain in [`DOMAINS`], from `examples`: each text labelled with a
/// technique of the domain counts for its most specific such label, when the text is the
/// domain's own prose or the technique is not also an Enterprise one (TRAM's Enterprise
/// sentences stay out of Mobile techniques that ATT&CK lists in both). Thresholds are left at
/// 1.0 (off) for the caller to set from cross-validation.
pub fn train_domains(examples: &[&Example], kb: &KnowledgeBase) -> Vec<Prototypes> {
    train_for(&DOMAINS, examples, kb, KEEP)
}

/// [`train_domains`] for `domains`, keeping `keep` features per centroid.
pub fn train_for(
    domains: &[Domain],
    examples: &[&Example],
    kb: &KnowledgeBase,
    keep: usize,
) -> Vec<Prototypes> {
    domains
        .iter()
        .map(|&domain| {
            let mut classes: Vec<String> = Vec::new();
            let mut index: HashMap<String, u16> = HashMap::new();
            let mut texts: Vec<(&str, u16)> = Vec::new();
            for example in examples {
                let own = example.domain == Some(domain.as_str());
                let best = example
                    .labels
                    .iter()
                    .filter_map(|l| kb.resolve_technique(l))
                    .filter(|t| t.is_active() && t.domains.contains(&domain))
                    .filter(|t| own || !t.domains.contains(&Domain::Enterprise))
                    .max_by(|a, b| {
                        a.parent
                            .is_some()
                            .cmp(&b.parent.is_some())
                            .then(b.id.cmp(&a.id))
                    });
                let Some(technique) = best else {
                    continue;
                };
                let class = *index.entry(technique.id.clone()).or_insert_with(|| {
                    classes.push(technique.id.clone());
                    (classes.len() - 1) as u16
                });
                texts.push((example.text.as_str(), class));
            }
            Prototypes::train(domain, classes, &texts, keep)
        })
        .collect()
}

/// The similarity threshold that maximises F1 over `outcomes` — each held-out text's nearest
/// technique's similarity and whether it was right — when `gold` texts are to be found.
/// Returns 1.0 (nothing passes) when nothing is ever right.
pub fn choose_threshold(outcomes: &[(f32, bool)], gold: usize) -> f32 {
    let mut sorted: Vec<(f32, bool)> = outcomes.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut best, mut threshold) = (0u32, 0.0f64, 1.0f32);
    for (i, &(similarity, right)) in sorted.iter().enumerate() {
        tp += u32::from(right);
        // Only between distinct similarities: a threshold passes all equal ones.
        if sorted.get(i + 1).is_some_and(|next| next.0 == similarity) {
            continue;
        }
        let predicted = (i + 1) as f64;
        let f1 = 2.0 * f64::from(tp) / (predicted + gold as f64);
        if f1 > best {
            best = f1;
            threshold = similarity;
        }
    }
    threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trained() -> Prototypes {
        let classes = vec!["T0836".to_owned(), "T0809".to_owned()];
        let texts = [
            (
                "The attacker changed the setpoint of the controller to overheat the tank.",
                0,
            ),
            ("Setpoints were modified on the pressure controllers.", 0),
            (
                "The malware wiped the data on the engineering workstation.",
                1,
            ),
            ("It deleted files and destroyed the historian database.", 1),
        ];
        Prototypes::train(Domain::Ics, classes, &texts, 500)
    }

    #[test]
    fn a_sentence_is_nearest_the_technique_whose_words_it_shares() {
        let prototypes = trained();
        prototypes.check().expect("consistent");
        let mut scratch = PrototypeScratch::default();
        let (class, similarity) = prototypes
            .nearest("They modified setpoints on the boiler.", &mut scratch)
            .expect("a match");
        assert_eq!(prototypes.classes[class], "T0836");
        assert!(similarity > 0.1 && similarity <= 1.0, "{similarity}");
        let (class, _) = prototypes
            .nearest("Files on the historian were wiped.", &mut scratch)
            .expect("a match");
        assert_eq!(prototypes.classes[class], "T0809");
        assert!(prototypes.nearest("", &mut scratch).is_none());
        assert!(prototypes.nearest("12345 67890", &mut scratch).is_none());
    }

    #[test]
    fn the_threshold_maximises_f1() {
        // Five texts to find; right answers at 0.9 and 0.8, a wrong one at 0.7, right at 0.4.
        let outcomes = [(0.9, true), (0.8, true), (0.7, false), (0.4, true)];
        // t=0.9: 2/(1+5)=0.33; 0.8: 4/7=0.57; 0.7: 4/8=0.5; 0.4: 6/9=0.67.
        assert_eq!(choose_threshold(&outcomes, 5), 0.4);
        assert_eq!(choose_threshold(&[(0.5, false)], 3), 1.0);
    }
}
