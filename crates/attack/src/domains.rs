//! Evaluation in every domain: ATT&CK procedure examples (Enterprise, Mobile, ICS) held out by
//! the group, software or campaign they describe, and ATLAS case-study steps held out by case
//! study, read with the technique's names and ids and the actor's names removed, so that the
//! mapper has to recognise the behaviour.
//!
//! Folds: a source's fold is [`fold_of`] its STIX id (or case-study id). Each fold's model
//! trains on everything except the fold's held-out texts and every training text that
//! near-copies one of them ([`crate::overlap`]): the same description is often given for a
//! group and its campaign, and TRAM's bootstrap rows repeat procedure examples.
//!
//! Scoring is per domain, in that domain's technique space (predictions in other domains are
//! not scored, as TRAM's evaluation scores only TRAM's labels), at two levels: each held-out
//! text alone (usually one sentence), and each source's texts of a domain read together as
//! one document. A predicted parent of a gold sub-technique is implied by it and counts
//! neither way. The thresholds are the model's own, chosen on the TRAM folds: nothing here is
//! tuned on these texts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ctiforge_kb::{KnowledgeBase, ProseKind};
use ctiforge_model::{Domain, Span};
use regex::{Regex, RegexBuilder};
use serde::Serialize;

use crate::corpus::{Corpus, Example, Origin};
use crate::eval::{Counts, Prf, fit, fold_of};
use crate::model::Calibration;
use crate::overlap::NearCopies;
use crate::placement::{self, Placement, PlacementScratch};
use crate::prototypes::{self, PrototypeScratch};
use crate::train::{Settings, label_ids};
use crate::twins;
use crate::{MapOptions, Mapper};

/// One held-out text.
#[derive(Debug, Clone, Serialize)]
pub struct HeldOut {
    /// Position in the corpus.
    pub example: usize,
    /// `enterprise`, `mobile`, `ics` or `atlas`.
    pub domain: &'static str,
    /// The group, software, campaign or case study.
    pub source: String,
    /// Its fold.
    pub fold: u32,
    /// The text as tested: names and ids removed.
    pub text: String,
    /// The technique (current id).
    pub gold: String,
}

/// The split: which texts are held out in which fold, and which training texts each fold
/// leaves out as near-copies.
#[derive(Debug, Clone)]
pub struct Split {
    /// Folds.
    pub folds: u32,
    /// The held-out texts, in corpus order.
    pub held_out: Vec<HeldOut>,
    /// Per corpus example, the folds (bits) whose training leaves it out.
    pub left_out: Vec<u32>,
}

/// Removes technique ids and names and the source's names from held-out text.
struct Redactor {
    ids: Regex,
    /// Multi-word names of every technique, longest first.
    names: Regex,
    by_source: HashMap<String, Option<Regex>>,
}

fn word_alternation(names: &mut Vec<String>) -> Option<Regex> {
    names.retain(|n| n.chars().filter(|c| c.is_alphanumeric()).count() >= 3);
    if names.is_empty() {
        return None;
    }
    names.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    names.dedup();
    let pattern = names
        .iter()
        .map(|n| regex::escape(n))
        .collect::<Vec<_>>()
        .join("|");
    RegexBuilder::new(&format!(r"\b(?:{pattern})\b"))
        .case_insensitive(true)
        .size_limit(1 << 26)
        .build()
        .ok()
}

impl Redactor {
    fn new(kb: &KnowledgeBase) -> Self {
        let mut names: Vec<String> = kb
            .catalog()
            .techniques
            .iter()
            .map(|t| t.name.clone())
            .filter(|n| n.split_whitespace().count() >= 2)
            .collect();
        Self {
            ids: Regex::new(r"(?i)\b(?:AML\.)?T[A]?\d{4}(?:\.\d{3})?\b").expect("id pattern"),
            names: word_alternation(&mut names).expect("technique names"),
            by_source: HashMap::new(),
        }
    }

    fn redact(&mut self, kb: &KnowledgeBase, example: &Example, gold: &str) -> String {
        let text = self.ids.replace_all(&example.text, "");
        let text = self.names.replace_all(&text, "this");
        // The gold technique's own name (and its parent's), even when one word long.
        let mut own: Vec<String> = Vec::new();
        let mut id = Some(gold);
        while let Some(current) = id {
            let Some(technique) = kb.technique(current) else {
                break;
            };
            own.push(technique.name.clone());
            id = technique.parent.as_deref();
        }
        let text = match word_alternation(&mut own) {
            Some(pattern) => pattern.replace_all(&text, "this").into_owned(),
            None => text.into_owned(),
        };
        let Some(source) = &example.source else {
            return text;
        };
        let pattern = self
            .by_source
            .entry(source.clone())
            .or_insert_with(|| word_alternation(&mut example.source_names.clone()));
        match pattern {
            Some(pattern) => pattern.replace_all(&text, "the actor").into_owned(),
            None => text,
        }
    }
}

/// Builds the split of `corpus` into `folds`.
pub fn split(corpus: &Corpus, kb: &KnowledgeBase, folds: u32) -> Split {
    let mut redactor = Redactor::new(kb);
    let mut held_out = Vec::new();
    for (i, example) in corpus.examples.iter().enumerate() {
        let (
            Origin::Prose(ProseKind::Procedure | ProseKind::CaseStudy),
            Some(source),
            Some(domain),
        ) = (example.origin, &example.source, example.domain)
        else {
            continue;
        };
        let Some(technique) = example
            .labels
            .first()
            .and_then(|l| kb.resolve_technique(l))
            .filter(|t| t.is_active())
        else {
            continue;
        };
        let text = redactor.redact(kb, example, &technique.id);
        if text.split_whitespace().count() < 3 {
            continue;
        }
        held_out.push(HeldOut {
            example: i,
            domain,
            source: source.clone(),
            fold: fold_of(source, folds),
            text,
            gold: technique.id.clone(),
        });
    }
    let index = NearCopies::new(corpus.examples.iter().map(|e| e.text.as_str()));
    let mut left_out = vec![0u32; corpus.examples.len()];
    for item in &held_out {
        left_out[item.example] |= 1 << item.fold;
        for j in index.of(&corpus.examples[item.example].text) {
            left_out[j as usize] |= 1 << item.fold;
        }
    }
    Split {
        folds,
        held_out,
        left_out,
    }
}

/// One text read by its fold's prototypes alone: a held-out ICS, Mobile or ATLAS text, or a
/// TRAM report sentence that describes no technique (a negative).
#[derive(Debug, Clone, Copy)]
pub struct PrototypeOutcome {
    /// The text's fold.
    pub fold: u32,
    /// The domain it was read in.
    pub domain: Domain,
    /// The similarity of its best sentence's nearest technique, when it may be read in the
    /// domain (placed there by its own words, as the mapper requires; negatives always are).
    pub similarity: Option<f32>,
    /// Whether that technique is the gold one (never, for a negative).
    pub right: bool,
    /// A negative.
    pub negative: bool,
    /// Placed in the domain by the learned placement alone, not by cue words.
    pub by_wording: bool,
}

/// Reads every held-out text of the prototype domains with prototypes trained without its
/// fold's texts and their near-copies, and every TRAM report sentence without a technique in
/// each domain, as if its report were placed there: thresholds chosen on attack steps alone
/// would pass a vendor line or a mitigation.
pub fn prototype_outcomes(
    corpus: &Corpus,
    kb: &KnowledgeBase,
    split: &Split,
    progress: &(dyn Fn(&str) + Sync),
) -> Vec<PrototypeOutcome> {
    let mut outcomes = Vec::new();
    let mut scratch = PrototypeScratch::default();
    let negatives: Vec<(u32, &str)> = corpus
        .examples
        .iter()
        .filter(|e| e.origin == Origin::TramReport && e.labels.is_empty())
        .filter_map(|e| Some((fold_of(e.report.as_deref()?, split.folds), e.text.as_str())))
        .collect();
    for fold in 0..split.folds {
        progress(&format!("fold {}/{}: prototypes", fold + 1, split.folds));
        let training =
            crate::eval::fold_training(&corpus.examples, &split.left_out, fold, |_| true);
        let tables = prototypes::train_domains(&training, kb);
        let placement = Placement::train(&training, kb);
        for item in split.held_out.iter().filter(|h| h.fold == fold) {
            let Some(table) =
                domain_of(item.domain).and_then(|d| tables.iter().find(|t| t.domain == d))
            else {
                continue;
            };
            let (_, sentences) = ctiforge_text::segment(&item.text);
            let texts: Vec<&str> = sentences
                .iter()
                .filter_map(|span| span.slice(&item.text))
                .collect();
            let placed_sentences = placement.place_all(&texts);
            let mine = placement::of(&placed_sentences, table.domain);
            let count = [(table.domain, mine.iter().filter(|&&p| p).count())];
            let context = twins::contexts(&item.text, sentences.len(), &count)
                .into_iter()
                .find(|c| c.domain == table.domain);
            let placed = context.is_some();
            let by_wording = context.is_some_and(|c| c.cues.is_empty());
            let readable = prototypes::readable(&texts, table.domain, mine);
            let best = texts
                .iter()
                .zip(readable)
                .filter(|(_, readable)| placed && *readable)
                .filter_map(|(sentence, _)| table.nearest(sentence, &mut scratch))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            outcomes.push(PrototypeOutcome {
                fold,
                domain: table.domain,
                similarity: best.map(|(_, s)| s),
                right: best.is_some_and(|(class, _)| table.classes[class] == item.gold),
                negative: false,
                by_wording,
            });
        }
        for table in &tables {
            let index = prototypes::DOMAINS.iter().position(|d| *d == table.domain);
            let mut scratch_place = PlacementScratch::default();
            for &(_, text) in negatives.iter().filter(|(f, _)| *f == fold) {
                // Read as if near a cue: for ATLAS that means naming the AI system itself, or
                // wording that places the sentence there.
                let near = table.domain != Domain::Atlas
                    || twins::mentions(text, Domain::Atlas)
                    || index.is_some_and(|i| placement.place(text, &mut scratch_place)[i]);
                let similarity = Some(text)
                    .filter(|t| near && prototypes::may_support(t))
                    .and_then(|t| table.nearest(t, &mut scratch))
                    .map(|(_, s)| s);
                outcomes.push(PrototypeOutcome {
                    fold,
                    domain: table.domain,
                    similarity,
                    right: false,
                    negative: true,
                    by_wording: false,
                });
            }
        }
    }
    outcomes
}

/// Each prototype domain's two thresholds, chosen on the outcomes of every fold but
/// `except`: one for documents its cue words place in the domain, one for documents only the
/// learned placement puts there (their texts are further from the centroids, and one threshold
/// for both rose above the similarities of right answers in cue-placed texts). The negatives
/// together weigh what TRAM's reports say they do: as many sentences without a technique per
/// held-out text as TRAM's reports have per sentence with one.
pub fn prototype_thresholds(
    outcomes: &[PrototypeOutcome],
    positives_per_negative: f64,
    except: Option<u32>,
) -> Vec<(Domain, f32, f32)> {
    let choose = |domain: Domain, by_wording: bool| {
        let mine: Vec<&PrototypeOutcome> = outcomes
            .iter()
            .filter(|o| o.domain == domain && Some(o.fold) != except)
            .filter(|o| o.negative || o.by_wording == by_wording)
            .collect();
        let gold = mine.iter().filter(|o| !o.negative).count();
        let negatives = mine.iter().filter(|o| o.negative).count();
        // Each negative stands for this many wrong predictions.
        let weight = if negatives == 0 {
            0.0
        } else {
            gold as f64 / positives_per_negative / negatives as f64
        };
        let scored: Vec<(f32, f64, bool)> = mine
            .iter()
            .filter_map(|o| {
                let w = if o.negative { weight } else { 1.0 };
                Some((o.similarity?, w, o.right))
            })
            .collect();
        prototypes::choose_threshold(&scored, gold)
    };
    prototypes::DOMAINS
        .iter()
        .map(|&domain| (domain, choose(domain, false), choose(domain, true)))
        .collect()
}

/// TRAM report sentences with a technique per sentence without one.
pub fn positives_per_negative(corpus: &Corpus) -> f64 {
    let tram = corpus
        .examples
        .iter()
        .filter(|e| e.origin == Origin::TramReport);
    let (positives, negatives) = tram.fold((0usize, 0usize), |(p, n), e| {
        if e.labels.is_empty() {
            (p, n + 1)
        } else {
            (p + 1, n)
        }
    });
    positives as f64 / negatives.max(1) as f64
}

/// Sets each domain's prototype threshold in `model`.
pub fn set_prototype_thresholds(
    model: &mut crate::model::Model,
    thresholds: &[(Domain, f32, f32)],
) {
    for table in &mut model.prototypes {
        if let Some(&(_, cues, wording)) = thresholds.iter().find(|t| t.0 == table.domain) {
            table.threshold = cues;
            table.wording_threshold = wording;
        }
    }
}

/// Scores of one domain.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DomainScores {
    /// The domain.
    pub domain: String,
    /// Sources (groups, software, campaigns, case studies) with held-out texts.
    pub sources: usize,
    /// Held-out texts.
    pub texts: usize,
    /// Each text alone.
    pub text_counts: Counts,
    /// Each text alone.
    pub text_level: Prf,
    /// Each source's texts together.
    pub document_counts: Counts,
    /// Each source's texts together.
    pub document_level: Prf,
    /// Held-out texts placed in their domain by cue words (for Enterprise: in any other
    /// domain, a misplacement).
    pub placed_by_cues: usize,
    /// Held-out texts placed there by the learned placement ([`crate::placement`]).
    pub placed_by_wording: usize,
    /// Held-out texts placed there either way.
    pub placed: usize,
    /// Techniques of this domain alone (not also of the text's) predicted on held-out texts of
    /// the other domains: false positives the figures above cannot see, such as a Mobile
    /// technique read into an Enterprise procedure example.
    pub foreign_text_fp: usize,
    /// The same, on the other domains' held-out documents.
    pub foreign_document_fp: usize,
}

/// One held-out text and what the mapper said.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// The domain.
    pub domain: String,
    /// The text as tested.
    pub text: String,
    /// The technique.
    pub gold: String,
    /// In-domain predictions.
    pub predicted: Vec<String>,
    /// In-domain techniques scored at least 0.05, with their scores.
    pub scores: Vec<(String, f32)>,
}

/// The outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Folds.
    pub folds: u32,
    /// Per domain.
    pub domains: Vec<DomainScores>,
    /// Training texts left out of at least one fold as near-copies of held-out texts (the
    /// held-out texts themselves not counted).
    pub near_copies_left_out: usize,
    /// Every held-out text with its predictions, in corpus order.
    pub samples: Vec<Sample>,
    /// The training settings.
    pub settings: String,
    /// Per fold, each domain's prototype thresholds for documents placed by cue words and by
    /// wording alone (chosen on the other folds).
    pub prototype_thresholds: Vec<(u32, String, f32, f32)>,
    /// Per fold, each domain's placement balance (chosen on inner folds of its training).
    pub placement_balance: Vec<(u32, String, f32)>,
}

fn domain_of(name: &str) -> Option<Domain> {
    Domain::ALL.into_iter().find(|d| d.as_str() == name)
}

/// Predicted ids in `domain`, with parents of gold sub-techniques (implied) left out.
fn in_domain(
    kb: &KnowledgeBase,
    domain: Domain,
    predicted: impl Iterator<Item = String>,
    gold: &BTreeSet<String>,
) -> BTreeSet<String> {
    let implied: BTreeSet<&str> = gold
        .iter()
        .filter_map(|g| kb.technique(g)?.parent.as_deref())
        .collect();
    predicted
        .filter(|p| kb.technique(p).is_some_and(|t| t.domains.contains(&domain)))
        .filter(|p| gold.contains(p) || !implied.contains(p.as_str()))
        .collect()
}

/// Counts, under each other domain, the techniques of `found` at or above `threshold` that
/// belong to that domain and not to `domain` (the held-out text's).
fn count_foreign(
    found: &[crate::TechniqueMatch],
    domain: Domain,
    threshold: f32,
    scores: &mut BTreeMap<&str, DomainScores>,
    counter: fn(&mut DomainScores) -> &mut usize,
) {
    for technique in found.iter().filter(|t| t.score >= threshold) {
        if technique.domains.contains(&domain) {
            continue;
        }
        for other in &technique.domains {
            *counter(scores.entry(other.as_str()).or_default()) += 1;
        }
    }
}

fn tally(predicted: &BTreeSet<String>, gold: &BTreeSet<String>, counts: &mut Counts) {
    counts.tp += predicted.intersection(gold).count() as u32;
    counts.fp += predicted.difference(gold).count() as u32;
    counts.fn_ += gold.difference(predicted).count() as u32;
}

/// Cross-validates over `split`: one model per fold, trained with `settings`, scored with
/// `calibration` (the thresholds chosen on the TRAM folds).
pub fn evaluate(
    corpus: &Corpus,
    kb: &KnowledgeBase,
    split: &Split,
    settings: &Settings,
    calibration: Calibration,
    progress: &(dyn Fn(&str) + Sync),
) -> Outcome {
    let folds = split.folds;
    let mut samples: Vec<Option<Sample>> = vec![None; split.held_out.len()];
    // (domain, source) → (texts joined, gold set)
    let mut documents: BTreeMap<(&str, &str), (u32, String, BTreeSet<String>)> = BTreeMap::new();
    for item in &split.held_out {
        let entry = documents
            .entry((item.domain, item.source.as_str()))
            .or_insert_with(|| (item.fold, String::new(), BTreeSet::new()));
        entry.1.push_str(&item.text);
        entry.1.push_str("\n\n");
        entry.2.insert(item.gold.clone());
    }
    let mut scores: BTreeMap<&str, DomainScores> = BTreeMap::new();
    let options = MapOptions {
        min_score: Some(0.05),
        ..MapOptions::default()
    };
    let outcomes = prototype_outcomes(corpus, kb, split, progress);
    let ratio = positives_per_negative(corpus);
    let mut thresholds = Vec::new();
    let mut balance = Vec::new();
    for fold in 0..folds {
        progress(&format!("fold {}/{folds}: training", fold + 1));
        let training =
            crate::eval::fold_training(&corpus.examples, &split.left_out, fold, |_| true);
        let mut model = fit(
            &training,
            kb,
            settings,
            calibration,
            Vec::new(),
            &corpus.tram_labels,
            progress,
        );
        balance.extend(
            prototypes::DOMAINS
                .iter()
                .zip(&model.placement.balance)
                .map(|(d, b)| (fold, d.as_str().to_owned(), *b)),
        );
        // Nested: the fold's prototype thresholds are chosen on the other folds.
        let fold_thresholds = prototype_thresholds(&outcomes, ratio, Some(fold));
        set_prototype_thresholds(&mut model, &fold_thresholds);
        thresholds.extend(
            fold_thresholds
                .into_iter()
                .map(|(d, cues, wording)| (fold, d.as_str().to_owned(), cues, wording)),
        );
        let mapper = Mapper::new(kb, model);
        progress(&format!("fold {}/{folds}: scoring", fold + 1));
        for (n, item) in split.held_out.iter().enumerate() {
            if item.fold != fold {
                continue;
            }
            let Some(domain) = domain_of(item.domain) else {
                continue;
            };
            let (_, sentences) = ctiforge_text::segment(&item.text);
            let mapping = mapper.map_document(&item.text, &sentences, &options);
            let gold = BTreeSet::from([item.gold.clone()]);
            let (by_cues, by_wording) = placements(&mapper, &item.text, &sentences, domain);
            let scored: Vec<(String, f32)> = mapping
                .techniques
                .iter()
                .filter(|t| t.domains.contains(&domain))
                .map(|t| (t.id.clone(), t.score))
                .collect();
            count_foreign(
                &mapping.techniques,
                domain,
                calibration.document_threshold,
                &mut scores,
                |s| &mut s.foreign_text_fp,
            );
            let predicted = in_domain(
                kb,
                domain,
                scored
                    .iter()
                    .filter(|(_, s)| *s >= calibration.document_threshold)
                    .map(|(id, _)| id.clone()),
                &gold,
            );
            let entry = scores.entry(item.domain).or_default();
            entry.texts += 1;
            entry.placed_by_cues += usize::from(by_cues);
            entry.placed_by_wording += usize::from(by_wording);
            entry.placed += usize::from(by_cues || by_wording);
            tally(&predicted, &gold, &mut entry.text_counts);
            samples[n] = Some(Sample {
                domain: item.domain.to_owned(),
                text: item.text.clone(),
                gold: item.gold.clone(),
                predicted: predicted.into_iter().collect(),
                scores: scored,
            });
        }
        for ((domain_name, _), (doc_fold, text, gold)) in &documents {
            if *doc_fold != fold {
                continue;
            }
            let Some(domain) = domain_of(domain_name) else {
                continue;
            };
            let (_, sentences) = ctiforge_text::segment(text);
            let mapping = mapper.map_document(text, &sentences, &options);
            count_foreign(
                &mapping.techniques,
                domain,
                calibration.document_threshold,
                &mut scores,
                |s| &mut s.foreign_document_fp,
            );
            let predicted = in_domain(
                kb,
                domain,
                mapping
                    .techniques
                    .into_iter()
                    .filter(|t| t.score >= calibration.document_threshold)
                    .map(|t| t.id),
                gold,
            );
            let entry = scores.entry(domain_name).or_default();
            entry.sources += 1;
            tally(&predicted, gold, &mut entry.document_counts);
        }
    }
    let domains = Domain::ALL
        .iter()
        .filter_map(|d| {
            let mut s = scores.remove(d.as_str())?;
            s.domain = d.as_str().to_owned();
            s.text_level = s.text_counts.prf();
            s.document_level = s.document_counts.prf();
            Some(s)
        })
        .collect();
    let held: BTreeSet<usize> = split.held_out.iter().map(|h| h.example).collect();
    Outcome {
        folds,
        domains,
        near_copies_left_out: split
            .left_out
            .iter()
            .enumerate()
            .filter(|(i, m)| **m != 0 && !held.contains(i))
            .count(),
        samples: samples.into_iter().flatten().collect(),
        settings: settings.to_string(),
        prototype_thresholds: thresholds,
        placement_balance: balance,
    }
}

/// Whether `text` is placed in `domain` (for Enterprise: in any prototype domain) by its cue
/// words, and by the learned placement of `mapper`'s model alone.
fn placements(mapper: &Mapper, text: &str, sentences: &[Span], domain: Domain) -> (bool, bool) {
    let mine = |d: Domain| d == domain || domain == Domain::Enterprise;
    let by_cues = twins::contexts(text, sentences.len(), &[])
        .iter()
        .any(|c| mine(c.domain));
    let texts: Vec<&str> = sentences.iter().filter_map(|s| s.slice(text)).collect();
    let placed = placement::counts(&mapper.model().placement.place_all(&texts));
    // No text: no cue words, only the placed sentences, under the same rule.
    let by_wording = twins::contexts("", sentences.len(), &placed)
        .iter()
        .any(|c| mine(c.domain));
    (by_cues, by_wording)
}

/// The split as JSON lines for `bench/attack_domain_baseline.py`: every corpus example with
/// its training labels (current ids, parents added) and the folds that leave it out, and for
/// held-out texts the fold, domain, source, tested text and gold technique.
pub fn export(
    corpus: &Corpus,
    kb: &KnowledgeBase,
    split: &Split,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut held: HashMap<usize, &HeldOut> = HashMap::new();
    for item in &split.held_out {
        held.insert(item.example, item);
    }
    let domains: BTreeMap<&str, Vec<String>> = Domain::ALL
        .iter()
        .map(|d| {
            let ids = kb
                .catalog()
                .techniques
                .iter()
                .filter(|t| t.is_active() && t.domains.contains(d))
                .map(|t| t.id.clone())
                .collect();
            (d.as_str(), ids)
        })
        .collect();
    let header = serde_json::json!({ "folds": split.folds, "domains": domains });
    writeln!(out, "{header}")?;
    for (i, example) in corpus.examples.iter().enumerate() {
        let folds: Vec<u32> = (0..split.folds)
            .filter(|f| split.left_out[i] & (1 << f) != 0)
            .collect();
        let mut row = serde_json::json!({
            "text": example.text,
            "labels": label_ids(example, kb),
            "left_out_of": folds,
        });
        if let Some(item) = held.get(&i) {
            row["test"] = serde_json::json!({
                "fold": item.fold,
                "domain": item.domain,
                "source": item.source,
                "text": item.text,
                "gold": item.gold,
            });
        }
        writeln!(out, "{row}")?;
    }
    Ok(())
}
