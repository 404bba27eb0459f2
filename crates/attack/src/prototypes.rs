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
/// Words that make a sentence a possibility or a denial (whole words, any case).
const HEDGES: [&str; 19] = [
    "could",
    "may",
    "might",
    "would",
    "will",
    "should",
    "must",
    "needs",
    "recommend",
    "recommends",
    "if",
    "unless",
    "not",
    "no",
    "never",
    "cannot",
    "can't",
    "couldn't",
    "isn't",
];
/// Words of a sentence about a weakness rather than its use, and the words that make it a use.
const WEAKNESS: [&str; 3] = ["vulnerability", "vulnerabilities", "vulnerable"];
const USED: [&str; 5] = ["exploited", "exploiting", "used", "leveraged", "abused"];
/// How many sentences away from a cue a sentence may be and still be read (ICS, Mobile).
pub const CUE_WINDOW: usize = 2;
/// A document in which at least this share of the sentences name the domain's equipment or
/// platform is about that domain throughout, and every sentence of it is read.
pub const DENSE_SHARE: f32 = 0.1;
/// Shorter sentences never support a prototype technique.
pub const MIN_WORDS: usize = 5;
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
    #[serde(with = "crate::packed")]
    pub keys: Vec<u64>,
    /// The inverse document frequency of each key.
    #[serde(with = "crate::packed")]
    pub idf: Vec<f32>,
    /// `keys.len() + 1` offsets into `targets` and `weights`.
    #[serde(with = "crate::packed")]
    pub offsets: Vec<u32>,
    /// The centroid each weight belongs to.
    #[serde(with = "crate::packed")]
    pub targets: Vec<u16>,
    /// The weights.
    #[serde(with = "crate::packed")]
    pub weights: Vec<f32>,
    /// The inverse document frequency given to a feature that is in no centroid.
    pub unseen_idf: f32,
    /// A sentence supports its nearest technique at or above this cosine similarity, in a
    /// document whose cue words place it in the domain.
    pub threshold: f32,
    /// The same, in a document that only the learned placement puts in the domain
    /// ([`crate::placement`]).
    pub wording_threshold: f32,
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
            wording_threshold: 1.0,
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

/// Whether a sentence of a document placed in a domain may support one of its techniques: it
/// has at least [`MIN_WORDS`] words and no label in its first words or, in a list item,
/// anywhere (a heading or a `Vendor: …` line describes no behaviour), states what happened
/// rather than what could, will or did not, or should ([`HEDGES`]: an advisory's "could allow an attacker to…" and "not
/// exploitable remotely" are near the centroids of the behaviour they name), is not about a
/// weakness unless it was used ("a vulnerability exists in…"). Where it stands in the document
/// is [`near_cues`]'s concern.
pub fn may_support(sentence: &str) -> bool {
    let words = || {
        sentence
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .filter(|w| !w.is_empty())
    };
    let has = |list: &[&str]| words().any(|w| list.iter().any(|h| w.eq_ignore_ascii_case(h)));
    // `Vulnerabilities: …`, `- Equipment: …`, `- Vendor Product 5580: V35`: a label in the
    // first words, or a list item with one anywhere.
    let trimmed = sentence.trim_start();
    let labelled = trimmed.split_whitespace().take(4).any(|w| w.ends_with(':'))
        || (trimmed.starts_with(['-', '*', '•']) && trimmed.contains(": "));
    let letters = sentence
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count();
    // A weakness counts only when it was used.
    let weakness_only = has(&WEAKNESS) && !has(&USED);
    letters >= MIN_WORDS && !labelled && !has(&HEDGES) && !weakness_only
}

/// For each of a document's sentences, whether prototypes of `domain` read it: it is
/// [`near_cues`] and [`may_support`] holds. The mapper and the threshold choice both read
/// through this.
pub fn readable(sentences: &[&str], domain: Domain, placed: &[bool]) -> Vec<bool> {
    near_cues(sentences, domain, placed)
        .into_iter()
        .zip(sentences)
        .map(|(near, sentence)| near && may_support(sentence))
        .collect()
}

/// For each of a document's sentences, whether it is near a sentence that names `domain`'s
/// equipment or platform (a cue of [`crate::twins`]) or that `placed` says the learned
/// placement puts in the domain ([`crate::placement`]; empty: none): within [`CUE_WINDOW`] sentences for ICS
/// and Mobile, the sentence itself for ATLAS. A report placed in a domain by its cues is often
/// about more than that domain (a red-team report with one section on phones); prototypes
/// read only the part about it, unless [`DENSE_SHARE`] of its sentences name the domain (ICS
/// and Mobile): then the whole report is about it.
pub fn near_cues(sentences: &[&str], domain: Domain, placed: &[bool]) -> Vec<bool> {
    let window = if domain == Domain::Atlas {
        0
    } else {
        CUE_WINDOW
    };
    // Placed sentences count where the document is dense with them, as for its context
    // ([`crate::twins::contexts`]): one in a hundred Enterprise sentences is misplaced, and an
    // ATLAS report's ordinary intrusion (a phishing mail, open-source research) is worded
    // like the case studies' steps.
    let placed_count = placed.iter().filter(|&&p| p).count();
    let by_wording =
        sentences.len() <= 3 || placed_count as f32 >= DENSE_SHARE * sentences.len() as f32;
    let named: Vec<bool> = sentences
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (by_wording && placed.get(i).copied().unwrap_or(false))
                || crate::twins::mentions(s, domain)
        })
        .collect();
    // ATLAS stays sentence by sentence: reports about AI systems are mostly also about the
    // ordinary intrusion around them (a cloud key, a phishing mail), which its centroids misread.
    let naming = named.iter().filter(|&&n| n).count();
    if domain != Domain::Atlas
        && naming >= 2
        && naming as f32 >= DENSE_SHARE * sentences.len() as f32
    {
        return vec![true; sentences.len()];
    }
    (0..sentences.len())
        .map(|i| {
            let from = i.saturating_sub(window);
            let to = (i + window + 1).min(sentences.len());
            named[from..to].iter().any(|&n| n)
        })
        .collect()
}

/// The centroids of every domain in [`DOMAINS`], from `examples`: each text labelled with a
/// technique of the domain counts for its most specific such label, when the text is the
/// domain's own prose or the technique is not also an Enterprise one (TRAM's Enterprise
/// sentences stay out of Mobile techniques that ATT&CK lists in both). Thresholds are left at
/// 1.0 (off) for the caller to set from cross-validation.
pub fn train_domains(examples: &[&Example], kb: &KnowledgeBase) -> Vec<Prototypes> {
    DOMAINS
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
            Prototypes::train(domain, classes, &texts, KEEP)
        })
        .collect()
}

/// The similarity threshold that maximises F1 over `outcomes` — for each prediction its
/// similarity, its weight (how many predictions it stands for) and whether it was right — when
/// `gold` texts are to be found. Returns 1.0 (nothing passes) when nothing is ever right.
pub fn choose_threshold(outcomes: &[(f32, f64, bool)], gold: usize) -> f32 {
    let mut sorted: Vec<(f32, f64, bool)> = outcomes.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut predicted, mut best, mut threshold) = (0.0f64, 0.0f64, 0.0f64, 1.0f32);
    for (i, &(similarity, weight, right)) in sorted.iter().enumerate() {
        predicted += weight;
        if right {
            tp += weight;
        }
        // Only between distinct similarities: a threshold passes all equal ones.
        if sorted.get(i + 1).is_some_and(|next| next.0 == similarity) {
            continue;
        }
        let f1 = 2.0 * tp / (predicted + gold as f64);
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
    fn only_statements_of_what_happened_are_read() {
        assert!(may_support(
            "The malware sent commands to open the breakers at the substation."
        ));
        // Advisory language: possibility, denial, advice, a weakness, a label, a heading.
        for sentence in [
            "Successful exploitation could allow an attacker to gain full access.",
            "This vulnerability is not exploitable remotely.",
            "Users should restart the device after the update.",
            "A denial-of-service vulnerability exists in the web server.",
            "- Vulnerabilities: Use of Hard-coded Credentials",
            "- Rockwell Automation ControlLogix 5580: V35.011",
            "- SINEMA Remote Connect Server",
        ] {
            assert!(!may_support(sentence), "{sentence}");
        }
        // A weakness that was used is an attack step.
        assert!(may_support(
            "The actor exploited a vulnerability in the HMI web server."
        ));
    }

    #[test]
    fn only_sentences_near_a_cue_are_read() {
        let sentences = [
            "The actor phished the finance team.",
            "It stole the domain admin password.",
            "It moved to the plant network.",
            "There it changed the setpoints on the PLC.",
            "It waited a week.",
            "It exfiltrated mail from the CEO.",
            "It deleted the backups.",
            "Then it encrypted the file servers.",
        ];
        let near = near_cues(&sentences, Domain::Ics, &[]);
        assert_eq!(
            near,
            [false, true, true, true, true, true, false, false],
            "two sentences either side of the PLC one"
        );
        // ATLAS: only the sentence that names the AI system.
        let ai = [
            "It phished the staff.",
            "It injected a prompt into the LLM.",
            "It left.",
        ];
        assert_eq!(near_cues(&ai, Domain::Atlas, &[]), [false, true, false]);
    }

    #[test]
    fn a_report_about_the_plant_throughout_is_read_throughout() {
        // Two of twelve sentences name ICS equipment (at least a tenth): every sentence is
        // read, also the last, five sentences after the last cue.
        let mut sentences = vec![
            "The actor phished the finance team.",
            "It sent Modbus writes to the PLC.",
            "It changed the setpoints on the HMI.",
        ];
        sentences.extend(["It waited a week."; 8]);
        sentences.push("It made the system unusable.");
        assert_eq!(sentences.len(), 12);
        assert!(near_cues(&sentences, Domain::Ics, &[]).iter().all(|&n| n));
        // One cue in twelve is not enough: only the window around it.
        sentences[2] = "It changed the setpoints.";
        let near = near_cues(&sentences, Domain::Ics, &[]);
        assert_eq!(near.iter().filter(|&&n| n).count(), 4, "{near:?}");
        // ATLAS never reads a sentence that does not name the AI system.
        let ai = [
            "The actor stole a cloud key.",
            "It injected a prompt into the LLM.",
            "The LLM leaked its instructions.",
            "It left.",
        ];
        assert_eq!(
            near_cues(&ai, Domain::Atlas, &[]),
            [false, true, true, false]
        );
    }

    #[test]
    fn placed_sentences_are_read_where_the_document_is_dense_with_them() {
        // Twenty sentences, none with a cue; the learned placement puts one in Mobile: a
        // misplacement in an Enterprise report, not read.
        let sentences = ["It stole the contacts and the call logs of the victim."; 20];
        let mut placed = vec![false; 20];
        placed[7] = true;
        assert!(!near_cues(&sentences, Domain::Mobile, &placed).contains(&true));
        // Two of twenty (a tenth): the report is about phones throughout.
        placed[15] = true;
        assert!(
            near_cues(&sentences, Domain::Mobile, &placed)
                .iter()
                .all(|&n| n)
        );
        // ATLAS reads the placed sentences themselves, nothing around them.
        let near = near_cues(&sentences, Domain::Atlas, &placed);
        assert_eq!(near.iter().filter(|&&n| n).count(), 2, "{near:?}");
        assert!(near[7] && near[15]);
    }

    #[test]
    fn the_threshold_maximises_f1() {
        // Five texts to find; right answers at 0.9 and 0.8, a wrong one at 0.7, right at 0.4.
        let outcomes = [
            (0.9, 1.0, true),
            (0.8, 1.0, true),
            (0.7, 1.0, false),
            (0.4, 1.0, true),
        ];
        // t=0.9: 2/(1+5)=0.33; 0.8: 4/7=0.57; 0.7: 4/8=0.5; 0.4: 6/9=0.67.
        assert_eq!(choose_threshold(&outcomes, 5), 0.4);
        assert_eq!(choose_threshold(&[(0.5, 1.0, false)], 3), 1.0);
        // A negative below 0.4 that stands for three wrong predictions: 0.4 now gives
        // 6/(6+5)=0.55 < 0.57, so 0.8 wins.
        let mut weighted = outcomes.to_vec();
        weighted.push((0.45, 3.0, false));
        assert_eq!(choose_threshold(&weighted, 5), 0.8);
    }
}
