//! Cross-validation by report on the TRAM sentences, and the choice of thresholds.
//!
//! Folds: a report's fold is the first four bytes of SHA-256 of its title, big-endian, modulo
//! the fold count, so that the scikit-learn baseline (`bench/attack_baseline.py`) uses the same
//! split. Each fold's model is trained on everything except that fold's report sentences (and
//! TRAM spans cut from those reports). Thresholds are chosen on the other folds' predictions
//! and scored on the held-out fold (nested), so the reported figures are not tuned on the data
//! they are measured on.
//!
//! Scores are in TRAM's label space (`tram/labels.txt`): a predicted sub-technique outside it
//! counts as its parent when the parent is in it; other predictions are outside the space and
//! not scored. Macro averages run over the labels with at least one gold example in the
//! evaluated set.

use std::collections::{BTreeMap, BTreeSet};

use ctiforge_kb::{KnowledgeBase, ProseKind};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::corpus::{Corpus, Example, Origin};
use crate::model::Calibration;
use crate::overlap::NearCopies;
use crate::train::{Settings, train};

use crate::{MapScratch, Mapper, SentenceScores};

/// The fold of a report.
pub fn fold_of(report: &str, folds: u32) -> u32 {
    let digest = Sha256::digest(report.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % folds.max(1)
}

/// Precision, recall and F1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prf {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

/// True positives, false positives and false negatives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    /// True positives.
    pub tp: u32,
    /// False positives.
    pub fp: u32,
    /// False negatives.
    #[serde(rename = "fn")]
    pub fn_: u32,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
    }

    /// Precision, recall and F1 of these counts (0 where undefined).
    pub fn prf(self) -> Prf {
        let ratio = |a: u32, b: u32| {
            if b == 0 {
                0.0
            } else {
                f64::from(a) / f64::from(b)
            }
        };
        let precision = ratio(self.tp, self.tp + self.fp);
        let recall = ratio(self.tp, self.tp + self.fn_);
        let f1 = ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_);
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

/// Scores over a label space.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Micro-averaged.
    pub micro: Prf,
    /// Macro-averaged over labels with gold support.
    pub macro_avg: Prf,
    /// Per label: (label, counts).
    pub per_label: Vec<(String, Counts)>,
}

impl Metrics {
    fn from_counts(labels: &[String], counts: &[Counts]) -> Self {
        let mut total = Counts::default();
        let mut sums = (0.0, 0.0, 0.0);
        let mut supported = 0.0;
        for c in counts {
            total.add(*c);
            if c.tp + c.fn_ > 0 {
                let prf = c.prf();
                sums.0 += prf.precision;
                sums.1 += prf.recall;
                sums.2 += prf.f1;
                supported += 1.0;
            }
        }
        let mean = |x: f64| if supported > 0.0 { x / supported } else { 0.0 };
        Metrics {
            micro: total.prf(),
            macro_avg: Prf {
                precision: mean(sums.0),
                recall: mean(sums.1),
                f1: mean(sums.2),
            },
            per_label: labels.iter().cloned().zip(counts.iter().copied()).collect(),
        }
    }
}

/// One scored report.
struct Scored {
    fold: u32,
    sentences: Vec<SentenceScores>,
    /// Gold label indices per sentence.
    gold: Vec<Vec<usize>>,
}

/// The outcome of cross-validation.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Folds.
    pub folds: u32,
    /// Reports and sentences evaluated.
    pub reports: usize,
    /// Sentences evaluated.
    pub sentences: usize,
    /// Sentence-level scores (nested: thresholds chosen on the other folds).
    pub sentence: Metrics,
    /// Document-level scores (nested).
    pub document: Metrics,
    /// Document-level scores of the classifier alone (no ids, names, lexicon or prior), with
    /// the same nested threshold choice: what the other signals add.
    pub document_classifier_only: Metrics,
    /// Thresholds chosen on all folds: what the shipped model uses.
    pub calibration: Calibration,
    /// Training texts left out of at least one fold as near-copies of its held-out sentences.
    pub near_copies_left_out: usize,
    /// The training settings.
    pub settings: String,
}

/// Whether `example` may be used to train the model that is tested on `fold`, before
/// near-copies are dropped (see [`near_copy_folds`]).
pub fn trains_fold(example: &Example, fold: u32, folds: u32) -> bool {
    match (example.origin, &example.report) {
        (Origin::TramReport | Origin::TramSpan, Some(report)) => fold_of(report, folds) != fold,
        _ => true,
    }
}

/// The examples that train the model tested on `fold`: those `keep` allows, less every one
/// whose `left_out` mask (one bit per fold, as [`near_copy_folds`] gives) has the fold's bit.
pub(crate) fn fold_training<'c>(
    examples: &'c [Example],
    left_out: &[u32],
    fold: u32,
    keep: impl Fn(&Example) -> bool,
) -> Vec<&'c Example> {
    examples
        .iter()
        .zip(left_out)
        .filter(|(e, mask)| *mask & (1 << fold) == 0 && keep(e))
        .map(|(e, _)| e)
        .collect()
}

/// For each example of the corpus, the folds (as bits) whose held-out TRAM report sentences
/// it near-copies (see [`crate::overlap`]): it is left out of those folds' training. TRAM's
/// bootstrap rows are mostly ATT&CK procedure examples, and many repeat a sentence of the
/// TRAM reports; ATT&CK's own procedure examples sometimes do too.
pub fn near_copy_folds(corpus: &Corpus, folds: u32) -> Vec<u32> {
    let index = NearCopies::new(corpus.examples.iter().map(|e| e.text.as_str()));
    let mut masks = vec![0u32; corpus.examples.len()];
    for example in &corpus.examples {
        let (Origin::TramReport, Some(report)) = (example.origin, example.report.as_deref()) else {
            continue;
        };
        let fold = fold_of(report, folds);
        for i in index.of(&example.text) {
            let other = &corpus.examples[i as usize];
            // The held-out sentence itself, and the spans of its report, are held out anyway.
            if other.report.as_deref() != Some(report) {
                masks[i as usize] |= 1 << fold;
            }
        }
    }
    masks
}

/// The TRAM split as JSON lines, for `bench/attack_baseline.py`: a header with the folds and
/// TRAM's labels, then every corpus example with its origin, TRAM labels, report, the fold of
/// that report, and the folds whose training leaves it out as a near-copy.
pub fn export_split(
    corpus: &Corpus,
    folds: u32,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let near_copies = near_copy_folds(corpus, folds);
    let header = serde_json::json!({ "folds": folds, "labels": corpus.tram_labels });
    writeln!(out, "{header}")?;
    for (example, mask) in corpus.examples.iter().zip(&near_copies) {
        let left_out: Vec<u32> = (0..folds).filter(|f| mask & (1 << f) != 0).collect();
        let row = serde_json::json!({
            "text": example.text,
            "origin": example.origin.name(),
            "labels": example.tram_labels,
            "report": example.report,
            "fold": example.report.as_deref().map(|r| fold_of(r, folds)),
            "left_out_of": left_out,
        });
        writeln!(out, "{row}")?;
    }
    Ok(())
}

/// The label-space map of [`cross_validate`]: TRAM labels by id, with revoked labels also
/// under their replacement.
fn label_map<'a>(labels: &'a [String], kb: &'a KnowledgeBase) -> BTreeMap<&'a str, usize> {
    // A label revoked since TRAM annotated (T1574.002 DLL Side-Loading is now part of
    // T1574.001) is scored under its replacement, the id ctiforge reports.
    let mut label_index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, label) in labels.iter().enumerate() {
        label_index.insert(label.as_str(), i);
        if let Some(replacement) = kb.resolve_technique(label)
            && replacement.id != *label
        {
            label_index.entry(replacement.id.as_str()).or_insert(i);
        }
    }
    label_index
}

/// Trains a model and measures its phrase strengths on the TRAM report sentences among
/// `examples` (see [`Mapper::measure_phrases`]), and the names TRAM's labels cannot measure
/// on ATT&CK and ATLAS prose ([`measure_names_on_prose`]).
pub fn fit(
    examples: &[&Example],
    kb: &KnowledgeBase,
    settings: &Settings,
    calibration: Calibration,
    inputs: Vec<(String, String)>,
    tram_labels: &[String],
    progress: &(dyn Fn(&str) + Sync),
) -> crate::model::Model {
    let mut model = train(examples, kb, settings, calibration, inputs, progress);
    let label_index = label_map(tram_labels, kb);
    let label_of = |id: &str| to_tram(id, kb, &label_index).map(|i| tram_labels[i].clone());
    let sentences: Vec<(&str, Vec<String>)> = examples
        .iter()
        .filter(|e| e.origin == Origin::TramReport)
        .map(|e| (e.text.as_str(), e.tram_labels.clone()))
        .collect();
    let probe = Mapper::new(kb, model.clone());
    let mut strengths = probe.measure_phrases(&sentences, &label_of);
    for measured in measure_names_on_prose(&probe, examples, kb) {
        if !strengths
            .iter()
            .any(|(p, t, _)| *p == measured.0 && *t == measured.1)
        {
            strengths.push(measured);
        }
    }
    model.phrase_strengths = strengths;
    model
}

/// The strengths of technique names measured on the ATT&CK procedure examples and ATLAS
/// case-study steps among `examples` (see [`Mapper::measure_names`]), at the level of the
/// technique's family (a procedure example carries one label, often a sibling's) and across
/// domains: a text about Default Accounts (T1078.001) supports the name of its ICS namesake
/// Default Credentials (T0812); which domain a report is about is the placement's concern.
fn measure_names_on_prose(
    probe: &Mapper<'_>,
    examples: &[&Example],
    kb: &KnowledgeBase,
) -> Vec<(String, String, f32)> {
    let family = |id: &str| -> String {
        kb.technique(id)
            .and_then(|t| t.parent.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let mut linked: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (enterprise, namesake) in crate::twins::Twins::new(kb).pairs() {
        let (e, n) = (family(enterprise), family(namesake));
        linked.entry(e.clone()).or_default().insert(n.clone());
        linked.entry(n).or_default().insert(e);
    }
    let families = |labels: &[String]| -> Vec<String> {
        let mut out = BTreeSet::new();
        for label in labels {
            let f = family(label);
            out.extend(linked.get(&f).into_iter().flatten().cloned());
            out.insert(f);
        }
        out.into_iter().collect()
    };
    let prose: Vec<(&str, Vec<String>)> = examples
        .iter()
        .filter(|e| {
            matches!(
                e.origin,
                Origin::Prose(ProseKind::Procedure | ProseKind::CaseStudy)
            )
        })
        .map(|e| (e.text.as_str(), families(&e.labels)))
        .collect();
    probe.measure_names(&prose, &|id: &str| Some(family(id)))
}

/// Runs grouped cross-validation.
pub fn cross_validate(
    corpus: &Corpus,
    kb: &KnowledgeBase,
    settings: &Settings,
    folds: u32,
    progress: &(dyn Fn(&str) + Sync),
) -> Outcome {
    let labels = &corpus.tram_labels;
    let label_index = label_map(labels, kb);

    // Reports in file order, with their sentences.
    let mut reports: Vec<(&str, Vec<&Example>)> = Vec::new();
    for example in &corpus.examples {
        if example.origin != Origin::TramReport {
            continue;
        }
        let Some(report) = example.report.as_deref() else {
            continue;
        };
        match reports.iter_mut().find(|(r, _)| *r == report) {
            Some((_, list)) => list.push(example),
            None => reports.push((report, vec![example])),
        }
    }

    let near_copies = near_copy_folds(corpus, folds);
    let mut scored: Vec<Scored> = Vec::new();
    let mut tram_of: Vec<Option<usize>> = Vec::new();
    let mut classifier_only: Vec<Vec<SentenceScores>> = Vec::new();
    let mut last = None;
    for fold in 0..folds {
        progress(&format!("fold {}/{folds}: training", fold + 1));
        let training = fold_training(&corpus.examples, &near_copies, fold, |e| {
            trains_fold(e, fold, folds)
        });
        let model = fit(
            &training,
            kb,
            settings,
            Calibration::default(),
            Vec::new(),
            labels,
            progress,
        );
        // The thresholds are chosen with the software prior among the settings tried.
        let mapper = Mapper::new(kb, model).collecting_software();
        if tram_of.is_empty() {
            tram_of = mapper
                .technique_ids()
                .iter()
                .map(|id| to_tram(id, kb, &label_index))
                .collect();
        }
        progress(&format!("fold {}/{folds}: scoring", fold + 1));
        let mut scratch = MapScratch::default();
        for (report, sentences) in &reports {
            if fold_of(report, folds) != fold {
                continue;
            }
            let scores: Vec<SentenceScores> = sentences
                .iter()
                .map(|e| mapper.score_sentence(&e.text, &mut scratch))
                .collect();
            classifier_only.push(
                scores
                    .iter()
                    .map(|s| SentenceScores {
                        hits: s
                            .hits
                            .iter()
                            .filter_map(|h| {
                                let p = h
                                    .signals
                                    .iter()
                                    .find(|x| matches!(x.signal, crate::Signal::Classifier))?;
                                Some(crate::SentenceHit {
                                    technique: h.technique,
                                    score: p.strength,
                                    signals: Vec::new(),
                                })
                            })
                            .collect(),
                        tactics: Vec::new(),
                        software: Vec::new(),
                    })
                    .collect(),
            );
            let gold = sentences
                .iter()
                .map(|e| {
                    e.tram_labels
                        .iter()
                        .filter_map(|l| label_index.get(l.as_str()).copied())
                        .collect()
                })
                .collect();
            scored.push(Scored {
                fold,
                sentences: scores,
                gold,
            });
        }
        last = Some(mapper);
    }
    // Any fold's mapper can pool for all: pooling only needs the software table, which does
    // not depend on the training split.
    match last {
        Some(mapper) => {
            let predictions = Predictions {
                mapper: &mapper,
                scored: &scored,
                tram_of: &tram_of,
                labels: labels.len(),
            };
            let mut outcome = finish(&predictions, &classifier_only, labels, folds, settings);
            outcome.near_copies_left_out = near_copies.iter().filter(|&&m| m != 0).count();
            outcome
        }
        None => Outcome {
            folds,
            reports: 0,
            sentences: 0,
            sentence: Metrics::default(),
            document: Metrics::default(),
            document_classifier_only: Metrics::default(),
            calibration: Calibration::default(),
            near_copies_left_out: 0,
            settings: settings.to_string(),
        },
    }
}

fn finish(
    predictions: &Predictions<'_>,
    classifier_only: &[Vec<SentenceScores>],
    labels: &[String],
    folds: u32,
    settings: &Settings,
) -> Outcome {
    let n = labels.len();
    let mut sentence_counts = vec![Counts::default(); n];
    let mut document_counts = vec![Counts::default(); n];
    let mut plain_counts = vec![Counts::default(); n];
    let scored = predictions.scored;
    let all: Vec<usize> = (0..scored.len()).collect();
    for fold in 0..folds {
        let (tune, test): (Vec<usize>, Vec<usize>) =
            all.iter().partition(|&&i| scored[i].fold != fold);
        let calibration = predictions.choose(None, &tune);
        add_all(
            &mut sentence_counts,
            &predictions.sentence_level(&test, calibration.sentence_threshold),
        );
        add_all(
            &mut document_counts,
            &predictions.document_level(None, &test, &calibration),
        );
        let plain = predictions.choose(Some(classifier_only), &tune);
        add_all(
            &mut plain_counts,
            &predictions.document_level(Some(classifier_only), &test, &plain),
        );
    }
    Outcome {
        folds,
        reports: scored.len(),
        sentences: scored.iter().map(|s| s.sentences.len()).sum(),
        sentence: Metrics::from_counts(labels, &sentence_counts),
        document: Metrics::from_counts(labels, &document_counts),
        document_classifier_only: Metrics::from_counts(labels, &plain_counts),
        calibration: predictions.choose(None, &all),
        near_copies_left_out: 0,
        settings: settings.to_string(),
    }
}

fn add_all(total: &mut [Counts], more: &[Counts]) {
    for (t, m) in total.iter_mut().zip(more) {
        t.add(*m);
    }
}

/// The TRAM label a technique counts as, if any.
fn to_tram(id: &str, kb: &KnowledgeBase, labels: &BTreeMap<&str, usize>) -> Option<usize> {
    if let Some(&i) = labels.get(id) {
        return Some(i);
    }
    let parent = kb.technique(id)?.parent.as_deref()?;
    labels.get(parent).copied()
}

/// Micro- and macro-F1 of per-label counts (macro over labels with gold support).
fn f1s(counts: &[Counts]) -> (f64, f64) {
    let mut total = Counts::default();
    let (mut sum, mut supported) = (0.0, 0.0);
    for c in counts {
        total.add(*c);
        if c.tp + c.fn_ > 0 {
            sum += c.prf().f1;
            supported += 1.0;
        }
    }
    let macro_f1 = if supported > 0.0 {
        sum / supported
    } else {
        0.0
    };
    (total.prf().f1, macro_f1)
}

fn tally(predicted: &BTreeSet<usize>, gold: &BTreeSet<usize>, counts: &mut [Counts]) {
    for &p in predicted {
        if gold.contains(&p) {
            counts[p].tp += 1;
        } else {
            counts[p].fp += 1;
        }
    }
    for &g in gold.difference(predicted) {
        counts[g].fn_ += 1;
    }
}

/// The held-out predictions of cross-validation, scored in TRAM's label space.
struct Predictions<'a> {
    /// Pools sentence scores (any fold's mapper: pooling only needs the software table).
    mapper: &'a Mapper<'a>,
    scored: &'a [Scored],
    /// Technique index → TRAM label index.
    tram_of: &'a [Option<usize>],
    /// Labels in the space.
    labels: usize,
}

impl Predictions<'_> {
    fn sentence_level(&self, reports: &[usize], threshold: f32) -> Vec<Counts> {
        let mut counts = vec![Counts::default(); self.labels];
        for &r in reports {
            for (sentence, gold) in self.scored[r].sentences.iter().zip(&self.scored[r].gold) {
                let predicted: BTreeSet<usize> = sentence
                    .hits
                    .iter()
                    .filter(|h| h.score >= threshold)
                    .filter_map(|h| self.tram_of.get(h.technique).copied().flatten())
                    .collect();
                tally(&predicted, &gold.iter().copied().collect(), &mut counts);
            }
        }
        counts
    }

    /// Document-level counts; `replacement` swaps in other sentence scores (the classifier
    /// alone) for the same reports.
    fn document_level(
        &self,
        replacement: Option<&[Vec<SentenceScores>]>,
        reports: &[usize],
        calibration: &Calibration,
    ) -> Vec<Counts> {
        let mut counts = vec![Counts::default(); self.labels];
        for &r in reports {
            let sentences = replacement.map_or(&self.scored[r].sentences, |x| &x[r]);
            let predicted: BTreeSet<usize> = self
                .mapper
                .pool(sentences, calibration)
                .into_iter()
                .filter(|(_, score, _, _)| *score >= calibration.document_threshold)
                .filter_map(|(t, _, _, _)| self.tram_of.get(t).copied().flatten())
                .collect();
            let gold: BTreeSet<usize> = self.scored[r].gold.iter().flatten().copied().collect();
            tally(&predicted, &gold, &mut counts);
        }
        counts
    }

    /// Grid search for the thresholds on `reports`: the sentence threshold by sentence-level
    /// micro-F1, the document settings by the mean of document-level micro- and macro-F1.
    fn choose(
        &self,
        replacement: Option<&[Vec<SentenceScores>]>,
        reports: &[usize],
    ) -> Calibration {
        let steps = |from: f32, to: f32, step: f32| {
            let count = ((to - from) / step).round() as u32;
            (0..=count).map(move |i| from + step * i as f32)
        };
        let mut best = Calibration::default();
        let mut best_sentence = -1.0;
        if replacement.is_none() {
            for threshold in steps(0.1, 0.9, 0.05) {
                let (f1, _) = f1s(&self.sentence_level(reports, threshold));
                if f1 > best_sentence {
                    best_sentence = f1;
                    best.sentence_threshold = threshold;
                }
            }
        }
        let priors: &[f32] = if replacement.is_none() {
            &[0.0, 0.5, 1.0]
        } else {
            &[0.0]
        };
        let mut candidates = Vec::new();
        for floor in [0.2, 0.3, 0.4, 0.5] {
            for depth in [1, 2, 3] {
                for &prior in priors {
                    for threshold in steps(0.3, 0.95, 0.05) {
                        let candidate = Calibration {
                            document_threshold: threshold,
                            pooling_floor: floor,
                            pooling_depth: depth,
                            software_prior: prior,
                            ..best
                        };
                        let (micro, macro_f1) =
                            f1s(&self.document_level(replacement, reports, &candidate));
                        candidates.push((candidate, (micro + macro_f1) / 2.0));
                    }
                }
            }
        }
        best_of(&candidates).unwrap_or(best)
    }
}

/// The document settings among `candidates` (in grid order, with their objective): of those
/// within [`NEAR_TIE`] of the best objective, the one with the lowest document threshold, then
/// the best objective, then the first. On TRAM's folds the objective at thresholds 0.60 and
/// 0.65 differed by 0.00003, and the bare maximum jumped from one to the other when four
/// phrases were added, changing about a hundred findings on the 108 reports. Where TRAM cannot
/// tell two thresholds apart, the lower is taken: outside TRAM's labels the mapper misses far
/// more than it invents (held-out procedure examples, document level: precision 0.87, recall
/// 0.54 for Enterprise; 0.75 and 0.30 for ICS), and an analyst can dismiss a finding whose
/// sentence is shown but never sees a missed one.
fn best_of(candidates: &[(Calibration, f64)]) -> Option<Calibration> {
    let top = candidates.iter().map(|(_, v)| *v).fold(f64::MIN, f64::max);
    let mut best: Option<&(Calibration, f64)> = None;
    for candidate in candidates.iter().filter(|(_, v)| *v >= top - NEAR_TIE) {
        let better = best.is_none_or(|(b, v)| {
            candidate.0.document_threshold < b.document_threshold
                || (candidate.0.document_threshold == b.document_threshold && candidate.1 > *v)
        });
        if better {
            best = Some(candidate);
        }
    }
    best.map(|(c, _)| *c)
}

/// Objectives closer than this are a tie: a few findings' worth of the mean of document
/// micro- and macro-F1 over TRAM's 106 reports (one finding moves micro-F1 by 0.0003 to 0.0005).
const NEAR_TIE: f64 = 0.001;

/// One labelled text and what the mapper said about it.
#[derive(Debug, Clone, Serialize)]
pub struct LabelledResult {
    /// The item's id.
    pub id: String,
    /// Gold technique ids.
    pub gold: Vec<String>,
    /// Predicted technique ids.
    pub predicted: Vec<String>,
}

/// Scores `mapper` on labelled texts (each a sentence or a document) in the whole technique
/// space, with the model's own thresholds. A predicted parent of a gold sub-technique is
/// implied by it and counts neither way.
pub fn score_labelled(
    mapper: &Mapper<'_>,
    kb: &KnowledgeBase,
    items: &[(String, String, Vec<String>)],
) -> (Counts, Vec<LabelledResult>) {
    let mut total = Counts::default();
    let mut results = Vec::new();
    for (id, text, gold) in items {
        let (_, sentences) = ctiforge_text::segment(text);
        let mapping = mapper.map_document(text, &sentences, &crate::MapOptions::default());
        let gold_set: BTreeSet<&str> = gold.iter().map(String::as_str).collect();
        let implied: BTreeSet<&str> = gold
            .iter()
            .filter_map(|g| kb.technique(g)?.parent.as_deref())
            .collect();
        let predicted: Vec<String> = mapping
            .techniques
            .iter()
            .map(|t| t.id.clone())
            .filter(|p| gold_set.contains(p.as_str()) || !implied.contains(p.as_str()))
            .collect();
        let predicted_set: BTreeSet<&str> = predicted.iter().map(String::as_str).collect();
        total.tp += predicted_set.intersection(&gold_set).count() as u32;
        total.fp += predicted_set.difference(&gold_set).count() as u32;
        total.fn_ += gold_set.difference(&predicted_set).count() as u32;
        results.push(LabelledResult {
            id: id.clone(),
            gold: gold.clone(),
            predicted,
        });
    }
    (total, results)
}

/// What `attack train` does: thresholds by cross-validation over `folds` (when at least 2,
/// else the defaults), then the model fitted on the whole corpus with them. Returns the
/// cross-validation outcome too, for reporting.
pub fn train_shipped(
    corpus: &Corpus,
    kb: &KnowledgeBase,
    settings: &Settings,
    folds: u32,
    progress: &(dyn Fn(&str) + Sync),
) -> (Option<Outcome>, crate::model::Model) {
    let outcome = (folds >= 2).then(|| cross_validate(corpus, kb, settings, folds, progress));
    let calibration = outcome
        .as_ref()
        .map_or_else(Calibration::default, |o| o.calibration);
    let examples: Vec<&Example> = corpus.examples.iter().collect();
    let mut model = fit(
        &examples,
        kb,
        settings,
        calibration,
        corpus.inputs.clone(),
        &corpus.tram_labels,
        progress,
    );
    // Prototype thresholds by cross-validation over the sources of every domain.
    if folds >= 2 {
        let split = crate::domains::split(corpus, kb, folds);
        let outcomes = crate::domains::prototype_outcomes(corpus, kb, &split, progress);
        let ratio = crate::domains::positives_per_negative(corpus);
        let thresholds = crate::domains::prototype_thresholds(&outcomes, ratio, None);
        crate::domains::set_prototype_thresholds(&mut model, &thresholds);
    }
    (outcome, model)
}

#[cfg(test)]
mod tests {
    use super::{Calibration, best_of};

    fn at(threshold: f32, depth: u32) -> Calibration {
        Calibration {
            document_threshold: threshold,
            pooling_depth: depth,
            ..Calibration::default()
        }
    }

    #[test]
    fn of_two_thresholds_tram_cannot_tell_apart_the_lower_is_chosen_whichever_leads() {
        for (a, b) in [(0.74577, 0.74574), (0.74574, 0.74577)] {
            let candidates = [
                (at(0.55, 2), 0.74167),
                (at(0.60, 2), a),
                (at(0.65, 2), b),
                (at(0.70, 2), 0.74143),
            ];
            let chosen = best_of(&candidates).expect("a choice");
            assert_eq!(chosen.document_threshold, 0.60, "{a} {b}");
        }
    }

    #[test]
    fn a_clearly_better_threshold_wins_and_a_tie_in_threshold_goes_to_the_better_objective() {
        let candidates = [
            (at(0.50, 1), 0.70),
            (at(0.65, 1), 0.74),
            (at(0.65, 3), 0.7405),
            (at(0.65, 2), 0.7405),
        ];
        let chosen = best_of(&candidates).expect("a choice");
        assert_eq!((chosen.document_threshold, chosen.pooling_depth), (0.65, 3));
        assert!(best_of(&[]).is_none());
    }
}
