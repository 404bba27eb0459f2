//! Technique mapping: which ATT&CK (Enterprise, Mobile, ICS) and ATLAS techniques a report
//! describes, with the sentences that show each one and the signals that fired.
//!
//! Signals, per sentence and technique, each a probability on its own:
//! - explicit ids (`T1059.001`, `AML.T0051`), validated against the knowledge base, revoked
//!   ids followed to their replacement;
//! - technique names (multi-word names that belong to one technique only);
//! - the lexicon of commands, APIs, tools and phrasings in [`lexicon`];
//! - the trained classifier ([`model`]).
//!
//! They are combined by noisy-OR into one score. A document pools the best sentences of each
//! technique, and software the report names nudges the techniques ATT&CK records it using
//! (a weak prior that never reports a technique on its own). Thresholds come from
//! cross-validation by report ([`eval`]) and travel with the model.

#![deny(missing_docs)]

pub mod corpus;
pub mod denial;
pub mod domains;
pub mod eval;
pub mod features;
pub mod lexicon;
mod markers;
pub mod model;
pub mod overlap;
pub mod packed;
pub mod placement;
pub mod prototypes;
pub mod train;
pub mod twins;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use ctiforge_kb::{KnowledgeBase, RelationKind};
use ctiforge_model::{Domain, Span};
pub use ctiforge_model::{Evidence, Signal, SignalHit};
use serde::Serialize;

use crate::model::{Calibration, Classifier, ClassifierScratch, Model, logit, sigmoid};

/// The model trained by `ctiforge attack train` from `../shared/data`, embedded.
pub const EMBEDDED_MODEL: &[u8] = include_bytes!("../model/ctiforge-attack.bin");

/// The strength of an explicit, valid technique id.
const EXPLICIT_ID: f32 = 0.97;
/// The strength of a technique's full name.
const NAME: f32 = 0.75;
/// Sentence scores below this are not kept at all.
const KEEP_FLOOR: f32 = 0.05;

/// Errors of technique mapping and training.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model file is missing, damaged or of another version.
    #[error("technique model {origin}: {message}")]
    Model {
        /// The file, or "embedded".
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// Training data cannot be read.
    #[error("{}: {message}", path.display())]
    Data {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// The knowledge base sources cannot be read.
    #[error(transparent)]
    Kb(#[from] ctiforge_kb::Error),
}

/// A technique's score in one sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct SentenceHit {
    /// Index into [`Mapper::technique_ids`].
    pub technique: usize,
    /// The combined score.
    pub score: f32,
    /// The signals behind it.
    pub signals: Vec<SignalHit>,
}

/// Everything one sentence says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SentenceScores {
    /// Techniques scoring at least 0.05, best first.
    pub hits: Vec<SentenceHit>,
    /// Tactic ids written in the sentence (`TA0001`).
    pub tactics: Vec<String>,
    /// Software named in the sentence (indices into the mapper's software list).
    pub software: Vec<usize>,
}

/// A tactic, by id and name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TacticRef {
    /// `TA0002`.
    pub id: String,
    /// `Execution`.
    pub name: String,
}

/// A technique found in a document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TechniqueMatch {
    /// `T1059.001`, `AML.T0051`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The domains it belongs to.
    pub domains: Vec<Domain>,
    /// Its parent, for a sub-technique.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Its tactics, in matrix order.
    pub tactics: Vec<TacticRef>,
    /// The document-level score.
    pub score: f32,
    /// The best supporting sentences, best first.
    pub evidence: Vec<Evidence>,
    /// Document-level signals (the software prior).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub document_signals: Vec<SignalHit>,
}

/// A tactic id written in the text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TacticMention {
    /// The tactic.
    #[serde(flatten)]
    pub tactic: TacticRef,
    /// Where.
    pub evidence: Vec<Evidence>,
}

/// The techniques and tactics of one document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Mapping {
    /// Techniques, best first.
    pub techniques: Vec<TechniqueMatch>,
    /// Tactics named by id.
    pub tactics: Vec<TacticMention>,
}

/// Options for [`Mapper::map_document`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapOptions {
    /// Report techniques at or above this document score (default: the model's threshold).
    pub min_score: Option<f32>,
    /// Fold sub-techniques into their parents.
    pub rollup: bool,
    /// Evidence sentences per technique.
    pub max_evidence: usize,
    /// The document is a vulnerability advisory. Its sentences describe weaknesses and
    /// products ("stores credentials in cleartext", "users can disable the feature per
    /// device"), not an attacker's behaviour, so neither the technique prototypes (see
    /// [`prototypes`]) nor the placement by wording (see [`placement`]) read it: only cue
    /// words give it an ICS, Mobile or ATLAS context. Techniques whose every tactic comes
    /// after a weakness is exploited (command and control, evasion, exfiltration) or before
    /// (reconnaissance, resource development) are left out.
    pub advisory: bool,
}

impl Default for MapOptions {
    fn default() -> Self {
        Self {
            min_score: None,
            rollup: false,
            max_evidence: 3,
            advisory: false,
        }
    }
}

struct Phrase {
    pattern: String,
    technique: usize,
    strength: f32,
    prefix: bool,
    name: bool,
}

struct SoftwareName {
    id: String,
    name: String,
    techniques: Vec<usize>,
}

/// Software names and aliases, case-sensitive, with the techniques each uses: what the
/// software prior needs. Built on first use, and only used when the prior counts (see
/// [`Mapper::collecting_software`]).
struct SoftwareNames {
    automaton: AhoCorasick,
    info: Vec<SoftwareName>,
}

/// Reusable buffers.
#[derive(Debug, Default)]
pub struct MapScratch {
    classifier: ClassifierScratch,
}

/// Maps text to techniques. Build once; mapping is read-only and can run on many threads.
pub struct Mapper<'kb> {
    kb: &'kb KnowledgeBase,
    classifier: Classifier,
    /// Every technique any signal can name.
    technique_ids: Vec<String>,
    technique_index: HashMap<String, usize>,
    class_to_technique: Vec<usize>,
    phrases: AhoCorasick,
    phrase_info: Vec<Phrase>,
    /// Whether sentences are searched for software names: only when the software prior can
    /// move a score (the shipped model's prior is 0) or an evaluation weighs the prior.
    collect_software: bool,
    software: std::sync::OnceLock<SoftwareNames>,
    ids: regex::Regex,
    /// ICS and Mobile namesakes of Enterprise techniques, built on first use.
    twins: std::sync::OnceLock<twins::Twins>,
    /// Per sub-technique that needs evidence of its own (see [`markers`]): its parent's index
    /// and its markers.
    sub_markers: HashMap<usize, (usize, Vec<u64>)>,
}

impl std::fmt::Debug for Mapper<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapper")
            .field("techniques", &self.technique_ids.len())
            .field("phrases", &self.phrase_info.len())
            .field("collect_software", &self.collect_software)
            .finish()
    }
}

impl<'kb> Mapper<'kb> {
    /// A mapper with the embedded model.
    pub fn embedded(kb: &'kb KnowledgeBase) -> Result<Self, Error> {
        Ok(Self::new(kb, Model::decode(EMBEDDED_MODEL, "embedded")?))
    }

    /// A mapper with `model`.
    pub fn new(kb: &'kb KnowledgeBase, model: Model) -> Self {
        let mut technique_ids: Vec<String> = Vec::new();
        let mut technique_index: HashMap<String, usize> = HashMap::new();
        let mut intern = |id: &str| -> usize {
            if let Some(&i) = technique_index.get(id) {
                return i;
            }
            technique_ids.push(id.to_owned());
            technique_index.insert(id.to_owned(), technique_ids.len() - 1);
            technique_ids.len() - 1
        };
        // Every active technique has an index, so an explicit id always lands.
        for technique in kb.catalog().techniques.iter().filter(|t| t.is_active()) {
            intern(&technique.id);
        }
        let class_to_technique: Vec<usize> = model.classes.iter().map(|c| intern(c)).collect();

        // Phrases: the lexicon, then unambiguous multi-word technique names.
        let mut patterns: Vec<String> = Vec::new();
        let mut phrase_info = Vec::new();
        for &(pattern, technique, strength) in lexicon::ENTRIES {
            let Some(technique) = kb.resolve_technique(technique).filter(|t| t.is_active()) else {
                continue;
            };
            let prefix = pattern.ends_with('*');
            patterns.push(pattern.trim_end_matches('*').to_ascii_lowercase());
            phrase_info.push(Phrase {
                pattern: pattern.to_owned(),
                technique: intern(&technique.id),
                strength,
                prefix,
                name: false,
            });
        }
        let mut name_counts: HashMap<String, usize> = HashMap::new();
        let active = || kb.catalog().techniques.iter().filter(|t| t.is_active());
        for technique in active() {
            *name_counts
                .entry(technique.name.to_lowercase())
                .or_default() += 1;
        }
        // A technique named like a mitigation ("Multi-Factor Authentication", "Code Signing",
        // "Vulnerability Scanning") is named in most reports as the defence, or as its
        // absence ("a portal that had no multi-factor authentication"): the name alone is no
        // evidence of the technique.
        let defences: std::collections::HashSet<String> = kb
            .catalog()
            .mitigations
            .iter()
            .filter(|m| !m.deprecated)
            .map(|m| m.name.to_lowercase())
            .collect();
        for technique in active() {
            let name = technique.name.to_lowercase();
            if name.contains(' ')
                && name.len() >= 10
                && name_counts[&name] == 1
                && !defences.contains(&name)
            {
                patterns.push(name.clone());
                phrase_info.push(Phrase {
                    pattern: name,
                    technique: intern(&technique.id),
                    strength: NAME,
                    prefix: false,
                    name: true,
                });
            }
        }
        // Lower-case patterns over lower-cased text, rather than a case-insensitive automaton:
        // the same matches (both fold ASCII letters only), and a quarter of the build time
        // (1.5 against 6 ms of every start).
        let phrases = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .expect("the phrase table is far below Aho-Corasick's size limits");

        let measured: HashMap<(&str, &str), f32> = model
            .phrase_strengths
            .iter()
            .map(|(p, t, s)| ((p.as_str(), t.as_str()), *s))
            .collect();
        for phrase in &mut phrase_info {
            let key = (
                phrase.pattern.as_str(),
                technique_ids[phrase.technique].as_str(),
            );
            if let Some(&strength) = measured.get(&key) {
                phrase.strength = strength;
            }
        }
        // ASCII word boundaries: a Unicode `\b` makes the fast engines give up on text with
        // non-ASCII letters, and ids are ASCII (so are their digits: Unicode's `\d` is a
        // larger automaton to compile at every start).
        let ids = regex::Regex::new(r"(?-u:\b)(?:AML\.)?TA?[0-9]{4}(?:\.[0-9]{3})?(?-u:\b)")
            .expect("a constant pattern, covered by the tests");
        let collect_software = model.calibration.software_prior != 0.0;
        let sub_markers = model
            .sub_markers
            .iter()
            .filter_map(|(id, markers)| {
                let parent = kb.technique(id)?.parent.as_deref()?;
                let parent = *technique_index.get(parent)?;
                Some((*technique_index.get(id)?, (parent, markers.clone())))
            })
            .collect();
        Self {
            kb,
            classifier: Classifier::new(model),
            technique_ids,
            technique_index,
            class_to_technique,
            phrases,
            phrase_info,
            collect_software,
            software: std::sync::OnceLock::new(),
            ids,
            twins: std::sync::OnceLock::new(),
            sub_markers,
        }
    }

    /// The model in use.
    pub fn model(&self) -> &Model {
        self.classifier.model()
    }

    /// This mapper, searching sentences for software names even when its model's software
    /// prior is 0: for evaluations that try other priors on the same sentence scores.
    pub fn collecting_software(mut self) -> Self {
        self.collect_software = true;
        self
    }

    /// The software names, built on first use: every active software with at least one
    /// technique it uses, by its name and aliases of four characters or more.
    fn software_names(&self) -> &SoftwareNames {
        self.software.get_or_init(|| {
            let kb = self.kb;
            let mut patterns = Vec::new();
            let mut info = Vec::new();
            for software in kb
                .catalog()
                .software
                .iter()
                .filter(|s| !s.revoked && !s.deprecated)
            {
                let techniques: Vec<usize> = kb
                    .relations_from(&software.id)
                    .filter(|r| r.kind == RelationKind::Uses)
                    .filter_map(|r| kb.technique(&r.target).filter(|t| t.is_active()))
                    .filter_map(|t| self.technique_index.get(&t.id).copied())
                    .collect();
                if techniques.is_empty() {
                    continue;
                }
                for name in std::iter::once(&software.name).chain(&software.aliases) {
                    if name.chars().count() >= 4 {
                        patterns.push(name.clone());
                        info.push(SoftwareName {
                            id: software.id.clone(),
                            name: software.name.clone(),
                            techniques: techniques.clone(),
                        });
                    }
                }
            }
            let automaton = AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .expect("the software names are far below Aho-Corasick's size limits");
            SoftwareNames { automaton, info }
        })
    }

    /// Every technique id a signal can name; [`SentenceHit::technique`] indexes it.
    pub fn technique_ids(&self) -> &[String] {
        &self.technique_ids
    }

    /// The index of a technique id.
    pub fn technique_index(&self, id: &str) -> Option<usize> {
        self.technique_index.get(id).copied()
    }

    /// Scores one sentence. A sentence that denies what it describes (see [`denial`]) scores
    /// nothing.
    pub fn score_sentence(&self, text: &str, scratch: &mut MapScratch) -> SentenceScores {
        // "The group is not exploiting vulnerabilities" is evidence of nothing.
        if denial::denies(text) {
            return SentenceScores::default();
        }
        let mut signals: BTreeMap<usize, Vec<SignalHit>> = BTreeMap::new();
        let mut scores = SentenceScores::default();
        let mut add = |technique: usize, signal: Signal, strength: f32| {
            let list = signals.entry(technique).or_default();
            if !list.iter().any(|s| s.signal == signal) {
                list.push(SignalHit { signal, strength });
            }
        };

        for found in self.ids.find_iter(text) {
            let written = found.as_str();
            if written.starts_with("TA") || written.starts_with("AML.TA") {
                if self.kb.tactic(written).is_some() {
                    scores.tactics.push(written.to_owned());
                }
                continue;
            }
            let Some(technique) = self.kb.resolve_technique(written).filter(|t| t.is_active())
            else {
                continue;
            };
            let revoked = (technique.id != written).then(|| written.to_owned());
            if let Some(&index) = self.technique_index.get(&technique.id) {
                let signal = Signal::ExplicitId {
                    text: written.to_owned(),
                    revoked,
                };
                add(index, signal, EXPLICIT_ID);
            }
        }

        for (index, matched) in self.phrase_matches(text) {
            let phrase = &self.phrase_info[index];
            let signal = if phrase.name {
                Signal::Name { phrase: matched }
            } else {
                Signal::Lexicon { phrase: matched }
            };
            add(phrase.technique, signal, phrase.strength);
        }

        let bytes = text.as_bytes();
        let software = self.collect_software.then(|| self.software_names());
        for found in software
            .into_iter()
            .flat_map(|s| s.automaton.find_iter(text))
        {
            let (start, end) = (found.start(), found.end());
            let before_ok = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
            let after_ok = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
            if before_ok && after_ok {
                let software = found.pattern().as_usize();
                if !scores.software.contains(&software) {
                    scores.software.push(software);
                }
            }
        }

        self.classifier
            .scores(text, KEEP_FLOOR, &mut scratch.classifier, |class, p| {
                add(self.class_to_technique[class], Signal::Classifier, p);
            });
        self.settle_sub_techniques(&mut signals, scratch.classifier.features());

        for (technique, signals) in signals {
            let miss: f32 = signals.iter().map(|s| 1.0 - s.strength).product();
            let score = 1.0 - miss;
            if score >= KEEP_FLOOR {
                scores.hits.push(SentenceHit {
                    technique,
                    score,
                    signals,
                });
            }
        }
        scores.hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.technique.cmp(&b.technique))
        });
        scores
    }

    /// Sub-techniques only with evidence: a sub-technique that only the classifier supports,
    /// in a sentence without any of its markers (`features`, sorted), is its parent's support
    /// instead (see [`markers`]).
    fn settle_sub_techniques(
        &self,
        signals: &mut BTreeMap<usize, Vec<SignalHit>>,
        features: &[u64],
    ) {
        let unsupported: Vec<(usize, usize, f32)> = signals
            .iter()
            .filter_map(|(&technique, hits)| {
                let (parent, markers) = self.sub_markers.get(&technique)?;
                let [hit] = hits.as_slice() else {
                    return None;
                };
                (hit.signal == Signal::Classifier && !markers::has_marker(features, markers))
                    .then_some((technique, *parent, hit.strength))
            })
            .collect();
        for (technique, parent, strength) in unsupported {
            signals.remove(&technique);
            let hits = signals.entry(parent).or_default();
            match hits.iter_mut().find(|h| h.signal == Signal::Classifier) {
                Some(hit) => hit.strength = hit.strength.max(strength),
                None => hits.push(SignalHit {
                    signal: Signal::Classifier,
                    strength,
                }),
            }
        }
    }

    /// The phrases (lexicon entries and names) found in `text` at word boundaries: (phrase
    /// index, the text matched, extended to the end of the word for `*` patterns).
    fn phrase_matches(&self, text: &str) -> Vec<(usize, String)> {
        let bytes = text.as_bytes();
        let mut found_phrases = Vec::new();
        // The patterns are lower case; ASCII lower-casing keeps every offset.
        let lowered = text.to_ascii_lowercase();
        for found in self.phrases.find_overlapping_iter(&lowered) {
            let index = found.pattern().as_usize();
            let phrase = &self.phrase_info[index];
            let (start, end) = (found.start(), found.end());
            let starts_word = bytes[start].is_ascii_alphanumeric();
            let ends_word = bytes[end - 1].is_ascii_alphanumeric();
            let before_ok = !starts_word || start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
            let after_ok = phrase.prefix
                || !ends_word
                || end == bytes.len()
                || !bytes[end].is_ascii_alphanumeric();
            if !before_ok || !after_ok {
                continue;
            }
            let mut word_end = end;
            if phrase.prefix {
                while word_end < bytes.len()
                    && (bytes[word_end].is_ascii_alphanumeric() || bytes[word_end] == b'-')
                {
                    word_end += 1;
                }
            }
            found_phrases.push((index, start, word_end));
        }
        // A phrase inside a longer phrase is read as part of it: `inject*` in `SQL
        // injection` is not Process Injection, `Remote Services` in `External Remote
        // Services` not the other technique. Of two equal phrases of one technique (a name
        // that is also a lexicon entry), one cue, not two.
        let technique_of = |i: usize| self.phrase_info[i].technique;
        let kept: Vec<(usize, usize, usize)> = found_phrases
            .iter()
            .enumerate()
            .filter(|&(i, &(index, start, end))| {
                !found_phrases.iter().enumerate().any(|(j, &(other, s, e))| {
                    j != i
                        && s <= start
                        && end <= e
                        && (e - s > end - start
                            || (j < i && technique_of(other) == technique_of(index)))
                })
            })
            .map(|(_, &m)| m)
            .collect();
        kept.into_iter()
            .map(|(index, start, end)| (index, text.get(start..end).unwrap_or_default().to_owned()))
            .collect()
    }

    /// Measures each phrase's precision on labelled report sentences: how often a sentence
    /// with the phrase carries the phrase's technique (or a sub-technique of it, or its
    /// parent). `label_of` maps a technique to the label it counts as in the examples' label
    /// space, `None` outside it; phrases outside the space keep their prior. The estimate is
    /// shrunk towards the prior with the weight of 4 sentences (2 for a technique name), so a
    /// phrase seen twice moves little.
    pub fn measure_phrases(
        &self,
        sentences: &[(&str, Vec<String>)],
        label_of: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<(String, String, f32)> {
        self.measure(sentences, label_of, false)
    }

    /// Measures the precision of technique names alone, as [`Mapper::measure_phrases`] does
    /// for every phrase. For names outside TRAM's label space, measured on ATT&CK's procedure
    /// examples and ATLAS's case-study steps: a name that is also an everyday noun phrase of
    /// reports (`IP Addresses`, `Email Addresses`, `Social Media`) is found far more often in
    /// texts about other techniques than in its own.
    pub fn measure_names(
        &self,
        sentences: &[(&str, Vec<String>)],
        label_of: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<(String, String, f32)> {
        self.measure(sentences, label_of, true)
    }

    fn measure(
        &self,
        sentences: &[(&str, Vec<String>)],
        label_of: &dyn Fn(&str) -> Option<String>,
        names_only: bool,
    ) -> Vec<(String, String, f32)> {
        // A hand-written phrase's strength was chosen for it; a technique name's is only the
        // prior of every name, so a name weighs its measurements more: with a weight of 4, one
        // sentence where a name was wrong left it at (0 + 4 × 0.75) / 5 = 0.60, exactly the
        // document threshold ("multi-factor authentication" in a Duo advert, "chat messages"
        // in a prompt-injection write-up); with 2 it falls to 0.50, one right sentence lifts it
        // to 0.83.
        const PRIOR_WEIGHT: f32 = 4.0;
        const NAME_PRIOR_WEIGHT: f32 = 2.0;
        let mut seen = vec![(0u32, 0u32); self.phrase_info.len()];
        for (text, gold) in sentences {
            let mut counted = Vec::new();
            for (index, _) in self.phrase_matches(text) {
                if counted.contains(&index) || (names_only && !self.phrase_info[index].name) {
                    continue;
                }
                counted.push(index);
                let technique = &self.technique_ids[self.phrase_info[index].technique];
                let Some(label) = label_of(technique) else {
                    continue;
                };
                seen[index].0 += 1;
                if gold.contains(&label) {
                    seen[index].1 += 1;
                }
            }
        }
        self.phrase_info
            .iter()
            .zip(seen)
            .filter(|(_, (n, _))| *n > 0)
            .map(|(phrase, (n, hits))| {
                let weight = if phrase.name {
                    NAME_PRIOR_WEIGHT
                } else {
                    PRIOR_WEIGHT
                };
                let strength = (hits as f32 + weight * phrase.strength) / (n as f32 + weight);
                (
                    phrase.pattern.clone(),
                    self.technique_ids[phrase.technique].clone(),
                    strength,
                )
            })
            .collect()
    }

    /// Pools sentence scores into document scores: for each technique, the noisy-OR of its
    /// best `pooling_depth` sentences above `pooling_floor`, plus the software prior in
    /// log-odds. Returns (technique, score, supporting sentence indices best first, the
    /// software behind the prior).
    pub fn pool(
        &self,
        sentences: &[SentenceScores],
        calibration: &Calibration,
    ) -> Vec<(usize, f32, Vec<usize>, Vec<usize>)> {
        let mut pool = Pool::new(calibration, usize::MAX);
        for (index, sentence) in sentences.iter().enumerate() {
            pool.add(index, sentence);
        }
        pool.finish(self)
    }

    /// Maps a document whose sentences are `sentences` (byte spans into `text`). Sentences
    /// are scored one at a time and pooled as they come; only each technique's best
    /// sentences are remembered (and scored again for their evidence), so memory does not
    /// grow with the number of sentences that support a technique.
    pub fn map_document(&self, text: &str, sentences: &[Span], options: &MapOptions) -> Mapping {
        let mut scratch = MapScratch::default();
        let calibration = self.model().calibration;
        let keep_evidence = options.max_evidence.max(1);
        let mut pool = Pool::new(
            &calibration,
            keep_evidence.max(calibration.pooling_depth.max(1) as usize),
        );
        // Per tactic named by id: the first sentences naming it.
        let mut tactic_sentences: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, span) in sentences.iter().enumerate() {
            let Some(sentence) = span.slice(text) else {
                continue;
            };
            let scores = self.score_sentence(sentence, &mut scratch);
            pool.add(index, &scores);
            for id in scores.tactics {
                let list = tactic_sentences.entry(id).or_default();
                if list.len() < keep_evidence && !list.contains(&index) {
                    list.push(index);
                }
            }
        }
        let threshold = options.min_score.unwrap_or(calibration.document_threshold);
        // A sentence that supports several techniques is scored again once, not once per
        // technique.
        let mut rescored: HashMap<usize, SentenceScores> = HashMap::new();
        let mut evidence = |index: usize, technique: usize| -> Option<Evidence> {
            let span = sentences[index];
            let sentence = span.slice(text)?;
            let scores = rescored
                .entry(index)
                .or_insert_with(|| self.score_sentence(sentence, &mut scratch));
            let hit = scores.hits.iter().find(|h| h.technique == technique)?;
            Some(Evidence {
                start: span.start,
                end: span.end,
                text: sentence.to_owned(),
                score: round(hit.score),
                signals: hit.signals.iter().map(rounded).collect(),
            })
        };

        let mut found: BTreeMap<String, TechniqueMatch> = BTreeMap::new();
        for (technique, score, support, users) in pool.finish(self) {
            if score < threshold {
                continue;
            }
            let Some(entry) = self.kb.technique(&self.technique_ids[technique]) else {
                continue;
            };
            let target = match (&entry.parent, options.rollup) {
                (Some(parent), true) => self.kb.technique(parent).unwrap_or(entry),
                _ => entry,
            };
            let mut evidence: Vec<Evidence> = support
                .iter()
                .take(keep_evidence)
                .filter_map(|&i| evidence(i, technique))
                .collect();
            let document_signals: Vec<SignalHit> = users
                .iter()
                .map(|&s| SignalHit {
                    signal: Signal::SoftwarePrior {
                        software: self.software_names().info[s].id.clone(),
                        name: self.software_names().info[s].name.clone(),
                    },
                    strength: round(sigmoid(calibration.software_prior)),
                })
                .collect();
            let item = found
                .entry(target.id.clone())
                .or_insert_with(|| self.technique_match(target, 0.0, Vec::new(), Vec::new()));
            item.score = item.score.max(round(score));
            item.evidence.append(&mut evidence);
            for signal in document_signals {
                if !item.document_signals.contains(&signal) {
                    item.document_signals.push(signal);
                }
            }
        }
        let mut techniques: Vec<TechniqueMatch> = found.into_values().collect();
        let texts: Vec<&str> = sentences
            .iter()
            .map(|span| span.slice(text).unwrap_or_default())
            .collect();
        let placed = if options.advisory {
            std::array::from_fn(|_| vec![false; texts.len()])
        } else {
            self.model().placement.place_all(&texts)
        };
        let counts = placement::counts(&placed);
        let contexts = twins::contexts(text, sentences.len(), &counts);
        techniques.retain(|t| stands_in_its_domain(t, &contexts, sentences.len()));
        self.add_twins(&contexts, options.rollup, &mut techniques);
        if !options.advisory {
            self.add_prototypes(
                &texts,
                sentences,
                &contexts,
                &placed,
                options,
                &mut techniques,
            );
        }
        if options.advisory {
            techniques.retain(|t| {
                t.tactics
                    .iter()
                    .any(|tactic| !after_the_weakness(&tactic.name))
                    && (!t.tactics.iter().all(|tactic| {
                        after_the_weakness(&tactic.name) || needs_an_attacker(&tactic.name)
                    }) || t.evidence.iter().any(|e| names_an_attacker(&e.text)))
                    && !is_process_injection(t)
            });
        }
        for technique in &mut techniques {
            technique
                .evidence
                .sort_by(|a, b| b.score.total_cmp(&a.score).then(a.start.cmp(&b.start)));
            technique.evidence.dedup_by_key(|e| e.start);
            technique.evidence.truncate(options.max_evidence.max(1));
        }
        techniques.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));

        let mut tactics: BTreeMap<String, TacticMention> = BTreeMap::new();
        for (id, indexes) in tactic_sentences {
            let Some(tactic) = self.kb.tactic(&id) else {
                continue;
            };
            for index in indexes {
                let span = sentences[index];
                let Some(text) = span.slice(text) else {
                    continue;
                };
                tactics
                    .entry(tactic.id.clone())
                    .or_insert_with(|| TacticMention {
                        tactic: TacticRef {
                            id: tactic.id.clone(),
                            name: tactic.name.clone(),
                        },
                        evidence: Vec::new(),
                    })
                    .evidence
                    .push(Evidence {
                        start: span.start,
                        end: span.end,
                        text: text.to_owned(),
                        score: EXPLICIT_ID,
                        signals: vec![SignalHit {
                            signal: Signal::ExplicitId {
                                text: id.clone(),
                                revoked: None,
                            },
                            strength: EXPLICIT_ID,
                        }],
                    });
            }
        }
        Mapping {
            techniques,
            tactics: tactics.into_values().collect(),
        }
    }
}

/// Tactics that a vulnerability advisory does not describe: it says what exploiting a weakness
/// gives an attacker (access, execution, privileges, credentials, impact), not how an intruder
/// would stay hidden, communicate or carry data out. Its sentences about a product's protocols,
/// encodings and encryption ("the web server allows HTTP methods like PUT", "uses a hardcoded
/// key to obfuscate the configuration backup") read like those tactics' techniques: of 24 such
/// matches read in CISA's advisories, none was right.
fn after_the_weakness(tactic: &str) -> bool {
    matches!(
        tactic,
        "Command and Control"
            | "Defense Evasion"
            | "Evasion"
            | "Exfiltration"
            | "Reconnaissance"
            | "Resource Development"
    )
}

/// Tactics whose techniques an advisory describes only when an attacker is in the sentence.
/// Without one, the sentence is about the product: "The OpenSSL asn1parse command line
/// application is also impacted" (not Windows Command Shell), "called by the public API
/// functions PEM_write_bio_…" (not Native API), "a possible incorrectly saved screenshot" (not
/// Screen Capture). Of 57 such findings read in CISA's advisories, two were right (a Telnet
/// command-line interface that grants access, a directory listing left on).
fn needs_an_attacker(tactic: &str) -> bool {
    matches!(tactic, "Execution" | "Discovery" | "Collection")
}

/// Process Injection (Enterprise T1055, Mobile T1631, and their sub-techniques). What an
/// advisory injects is input into the product (code, SQL, commands, script into a web page,
/// messages, packets), and "execute code in the context of the current process" is the
/// weakness's code execution, not code hidden in another process: all 46 Process Injection
/// findings in the 478 CISA advisories were one of these.
fn is_process_injection(technique: &TechniqueMatch) -> bool {
    ["T1055", "T1631"]
        .iter()
        .any(|family| technique.id == *family || technique.parent.as_deref() == Some(family))
}

/// Whether a sentence speaks of an attacker or of exploitation.
fn names_an_attacker(sentence: &str) -> bool {
    const STEMS: [&str; 9] = [
        "attack",
        "adversar",
        "actor",
        "exploit",
        "malicious",
        "unauthenticated",
        "unauthori",
        "victim",
        "intrud",
    ];
    sentence
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_ascii_lowercase)
        .any(|word| STEMS.iter().any(|stem| word.starts_with(stem)) || word == "threat")
}

/// The strength from which a lexicon phrase names its domain's technique by itself (`gps
/// location`, `data poisoning`); weaker phrases are everyday words there (`gps`, `mislabeled`,
/// `pickle`).
const SPECIFIC_PHRASE: f32 = 0.8;

/// Whether a technique of ICS, Mobile or ATLAS alone (not also Enterprise) stands in this
/// document: the document's own words place it in one of the technique's domains (cues or
/// wording, [`twins::contexts`]), or the evidence is an id, a specific phrase of the lexicon, or
/// a sentence that names the device, phone or AI system itself. Otherwise the words behind it
/// are an intrusion's. ATLAS shares Enterprise's names (`User Execution`, `Phishing`), and so do
/// Mobile and ICS: read in the 108 TRAM and example reports, 34 such findings, all wrong —
/// mostly the Mobile or ICS namesakes of an Enterprise report's technique table ("Encrypted
/// Channel: Symmetric Cryptography", "Input Capture: Keylogging", "Graphical User
/// Interface"), and ransomware that stops "GPS-related services" (Location Tracking) or a
/// botnet report's "mislabeled" CVE (Poison Training Data).
///
/// A text of at most three sentences says too little about its domain for silence to count
/// ("It reported the phone's GPS position to the server"): there only ATLAS techniques are
/// held to this, and any lexicon phrase of theirs suffices, as before the rule covered ICS and
/// Mobile.
fn stands_in_its_domain(
    technique: &TechniqueMatch,
    contexts: &[twins::Context],
    sentences: usize,
) -> bool {
    let short = sentences <= 3;
    if technique.domains.contains(&Domain::Enterprise)
        || contexts
            .iter()
            .any(|c| technique.domains.contains(&c.domain))
        || (short && !technique.domains.contains(&Domain::Atlas))
    {
        return true;
    }
    technique.evidence.iter().any(|e| {
        technique
            .domains
            .iter()
            .any(|domain| twins::mentions(&e.text, *domain))
            || e.signals.iter().any(|s| match s.signal {
                Signal::ExplicitId { .. } => true,
                Signal::Lexicon { .. } => short || s.strength >= SPECIFIC_PHRASE,
                _ => false,
            })
    })
}

impl Mapper<'_> {
    /// A found technique, with its tactics from the knowledge base.
    fn technique_match(
        &self,
        entry: &ctiforge_kb::Technique,
        score: f32,
        evidence: Vec<Evidence>,
        document_signals: Vec<SignalHit>,
    ) -> TechniqueMatch {
        TechniqueMatch {
            id: entry.id.clone(),
            name: entry.name.clone(),
            domains: entry.domains.clone(),
            parent: entry.parent.clone(),
            tactics: entry
                .tactics
                .iter()
                .filter_map(|t| self.kb.tactic(t))
                .map(|t| TacticRef {
                    id: t.id.clone(),
                    name: t.name.clone(),
                })
                .collect(),
            score,
            evidence,
            document_signals,
        }
    }

    /// Adds the ICS or Mobile namesake of each Enterprise technique found, when the document's
    /// own words place it in that domain (see [`twins`]), with the same score and evidence.
    fn add_twins(
        &self,
        contexts: &[twins::Context],
        rollup: bool,
        techniques: &mut Vec<TechniqueMatch>,
    ) {
        if contexts.is_empty() {
            return;
        }
        let table = self.twins.get_or_init(|| twins::Twins::new(self.kb));
        let mut added: Vec<TechniqueMatch> = Vec::new();
        for context in contexts {
            for found in techniques.iter() {
                for twin_id in table.of(&found.id, context.domain) {
                    let Some(mut entry) = self.kb.technique(twin_id) else {
                        continue;
                    };
                    if rollup
                        && let Some(parent) =
                            entry.parent.as_deref().and_then(|p| self.kb.technique(p))
                    {
                        entry = parent;
                    }
                    let signal = SignalHit {
                        signal: Signal::DomainTwin {
                            of: found.id.clone(),
                            domain: context.domain.as_str().to_owned(),
                            cues: context.cues.clone(),
                        },
                        strength: found.score,
                    };
                    // Already found on its own, or as another technique's twin: keep that.
                    if techniques.iter().chain(&added).any(|t| t.id == entry.id) {
                        continue;
                    }
                    // Each quoted sentence says why it supports the twin too. An ATLAS
                    // twin keeps only sentences about the AI system.
                    let mut evidence = found.evidence.clone();
                    if context.domain == Domain::Atlas {
                        evidence.retain(|quote| twins::mentions(&quote.text, Domain::Atlas));
                        if evidence.is_empty() {
                            continue;
                        }
                    }
                    for quote in &mut evidence {
                        quote.signals.push(signal.clone());
                    }
                    let mut document_signals = found.document_signals.clone();
                    document_signals.push(signal);
                    added.push(self.technique_match(
                        entry,
                        found.score,
                        evidence,
                        document_signals,
                    ));
                }
            }
        }
        techniques.append(&mut added);
    }

    /// Whether one of the sentences nearest a sub-technique's centroid (`quotes`: similarity
    /// and sentence index) has one of its markers; true for techniques that need none.
    fn sub_technique_evident(&self, id: &str, quotes: &[(f32, usize)], texts: &[&str]) -> bool {
        let Some((_, markers)) = self
            .technique_index
            .get(id)
            .and_then(|i| self.sub_markers.get(i))
        else {
            return true;
        };
        let (mut scratch, mut features) = (features::Scratch::default(), Vec::new());
        quotes.iter().any(|&(_, index)| {
            features::extract(texts[index], &mut scratch, &mut features);
            markers::has_marker(&features, markers)
        })
    }

    /// Adds, in each domain the document's own words place it in, the techniques whose
    /// prototype a sentence is nearest (see [`prototypes`]) at or above the domain's
    /// threshold, unless already found. A prototype match scores the document threshold at the
    /// domain's similarity threshold, rising linearly to 1 at similarity 1.
    fn add_prototypes(
        &self,
        texts: &[&str],
        sentences: &[Span],
        contexts: &[twins::Context],
        placed: &[Vec<bool>; 3],
        options: &MapOptions,
        techniques: &mut Vec<TechniqueMatch>,
    ) {
        let floor = self.model().calibration.document_threshold;
        let min_score = options.min_score.unwrap_or(floor);
        let mut scratch = prototypes::PrototypeScratch::default();
        for context in contexts {
            let (domain, cues) = (context.domain, &context.cues);
            let Some(table) = self.model().prototypes.iter().find(|p| p.domain == domain) else {
                continue;
            };
            // Cue words are the stronger evidence that the document is about the domain.
            let threshold = if cues.is_empty() {
                table.wording_threshold
            } else {
                table.threshold
            };
            if threshold >= 1.0 {
                continue;
            }
            let score_of = |similarity: f32| {
                let above = (similarity - threshold) / (1.0 - threshold);
                round(floor + (1.0 - floor) * above.clamp(0.0, 1.0))
            };
            // Per technique: (similarity, sentence index) of each sentence nearest it.
            let mut nearest: BTreeMap<usize, Vec<(f32, usize)>> = BTreeMap::new();
            let readable = prototypes::readable(texts, domain, placement::of(placed, domain));
            for (index, sentence) in texts.iter().enumerate() {
                if !readable[index] {
                    continue;
                }
                if let Some((class, similarity)) = table.nearest(sentence, &mut scratch)
                    && similarity >= threshold
                    && score_of(similarity) >= min_score
                {
                    nearest.entry(class).or_default().push((similarity, index));
                }
            }
            for (class, mut quotes) in nearest {
                let Some(mut entry) = self.kb.technique(&table.classes[class]) else {
                    continue;
                };
                let rolled_up = options.rollup
                    || !self.sub_technique_evident(&table.classes[class], &quotes, texts);
                if rolled_up
                    && let Some(parent) = entry.parent.as_deref().and_then(|p| self.kb.technique(p))
                {
                    entry = parent;
                }
                // Prototypes fill gaps: a family (a technique and its sub-techniques) the
                // classifier or a twin already found is not refined by a nearest centroid.
                let family = entry.parent.as_deref().unwrap_or(&entry.id);
                if techniques
                    .iter()
                    .any(|t| t.id == family || t.parent.as_deref() == Some(family))
                {
                    continue;
                }
                quotes.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let evidence: Vec<Evidence> = quotes
                    .iter()
                    .take(options.max_evidence.max(1))
                    .map(|&(similarity, index)| {
                        let span = sentences[index];
                        let strength = score_of(similarity);
                        Evidence {
                            start: span.start,
                            end: span.end,
                            text: texts[index].to_owned(),
                            score: strength,
                            signals: vec![SignalHit {
                                signal: Signal::Prototype {
                                    domain: domain.as_str().to_owned(),
                                    similarity: round(similarity),
                                    cues: cues.clone(),
                                },
                                strength,
                            }],
                        }
                    })
                    .collect();
                let score = score_of(quotes[0].0);
                techniques.push(self.technique_match(entry, score, evidence, Vec::new()));
            }
        }
    }
}

/// Sentence scores pooled into document scores one sentence at a time (see
/// [`Mapper::pool`]), keeping per technique only its best `keep` sentences.
struct Pool {
    floor: f32,
    depth: usize,
    software_prior: f32,
    keep: usize,
    /// Per technique: (score, sentence index), best first (ties: the earlier sentence).
    best: BTreeMap<usize, Vec<(f32, usize)>>,
    software: Vec<usize>,
}

impl Pool {
    fn new(calibration: &Calibration, keep: usize) -> Pool {
        Pool {
            floor: calibration.pooling_floor,
            depth: calibration.pooling_depth.max(1) as usize,
            software_prior: calibration.software_prior,
            keep: keep.max(1),
            best: BTreeMap::new(),
            software: Vec::new(),
        }
    }

    fn add(&mut self, index: usize, sentence: &SentenceScores) {
        for hit in sentence.hits.iter().filter(|h| h.score >= self.floor) {
            let list = self.best.entry(hit.technique).or_default();
            // After every entry at least as good (sentences come in order, so ties go after).
            let at = list.partition_point(|&(score, _)| score >= hit.score);
            if at < self.keep {
                list.insert(at, (hit.score, index));
                list.truncate(self.keep);
            }
        }
        for &s in &sentence.software {
            if !self.software.contains(&s) {
                self.software.push(s);
            }
        }
    }

    fn finish(self, mapper: &Mapper) -> Vec<(usize, f32, Vec<usize>, Vec<usize>)> {
        let mut pooled = Vec::new();
        for (technique, list) in self.best {
            let miss: f32 = list.iter().take(self.depth).map(|(p, _)| 1.0 - p).product();
            let mut score = 1.0 - miss;
            // With a zero prior (what cross-validation chose for the shipped model) the
            // software explains nothing, so it is not reported either.
            let users: Vec<usize> = if self.software_prior == 0.0 {
                Vec::new()
            } else {
                self.software
                    .iter()
                    .copied()
                    .filter(|&s| {
                        mapper.software_names().info[s]
                            .techniques
                            .contains(&technique)
                    })
                    .collect()
            };
            if !users.is_empty() {
                score = sigmoid(logit(score) + self.software_prior);
            }
            pooled.push((
                technique,
                score,
                list.iter().map(|&(_, i)| i).collect(),
                users,
            ));
        }
        pooled
    }
}

fn round(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

fn rounded(hit: &SignalHit) -> SignalHit {
    SignalHit {
        signal: hit.signal.clone(),
        strength: round(hit.strength),
    }
}
