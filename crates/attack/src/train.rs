//! Training: one-vs-rest logistic regression by stochastic gradient descent over hashed word
//! features, one model per technique, deterministic for a given corpus and settings.
//!
//! Each class's weights depend only on its own gradients, so classes are split across threads
//! without changing a single bit of the result.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use rayon::prelude::*;

use ctiforge_kb::KnowledgeBase;
use twox_hash::XxHash3_64;

use crate::corpus::Example;
use crate::features::{self, Scratch};
use crate::model::{Calibration, Model, Provenance, sigmoid};

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Passes over the data.
    pub epochs: u32,
    /// The initial step size; it decays as 1/sqrt(epoch).
    pub learning_rate: f32,
    /// L2 penalty per step on the weights an example touches.
    pub l2: f32,
    /// Gradient weight of a positive label, against the many negatives each class sees.
    pub positive_weight: f32,
    /// A feature must occur in at least this many examples.
    pub min_count: u32,
    /// Weights smaller than this in magnitude are dropped from the stored model.
    pub prune: f32,
    /// Techniques with few examples get a larger positive weight:
    /// `positive_weight * max(1, RARE_REFERENCE / positives) ^ rare_boost` (0: none).
    pub rare_boost: f32,
}

/// Classes with at least this many positive examples get no rarity boost.
const RARE_REFERENCE: f32 = 20.0;

impl Default for Settings {
    fn default() -> Self {
        Self {
            epochs: 8,
            learning_rate: 0.4,
            l2: 1e-6,
            positive_weight: 4.0,
            min_count: 2,
            prune: 0.25,
            rare_boost: 0.0,
        }
    }
}

impl std::fmt::Display for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "epochs={} learning_rate={} l2={} positive_weight={} min_count={} prune={}",
            self.epochs,
            self.learning_rate,
            self.l2,
            self.positive_weight,
            self.min_count,
            self.prune
        )?;
        if self.rare_boost != 0.0 {
            write!(f, " rare_boost={}", self.rare_boost)?;
        }
        Ok(())
    }
}

/// The classes to train: every active technique the examples name, with the parents of
/// sub-techniques (a sub-technique's example is also an example of its parent). Revoked ids
/// follow their replacement.
pub fn label_ids(example: &Example, kb: &KnowledgeBase) -> Vec<String> {
    let mut ids = BTreeSet::new();
    for label in &example.labels {
        let Some(technique) = kb.resolve_technique(label) else {
            continue;
        };
        if !technique.is_active() {
            continue;
        }
        ids.insert(technique.id.clone());
        if let Some(parent) = &technique.parent {
            ids.insert(parent.clone());
        }
    }
    ids.into_iter().collect()
}

/// An example as training reads it: the indexes of its features and of its classes.
pub(crate) struct Encoded {
    pub(crate) features: Vec<u32>,
    pub(crate) labels: Vec<u16>,
}

/// The features of `examples` that occur in at least `min_count` of them (sorted hashes), and
/// each example's features as indexes into that list.
pub(crate) fn indexed_features(examples: &[&Example], min_count: u32) -> (Vec<u64>, Vec<Vec<u32>>) {
    let mut scratch = Scratch::default();
    let mut hashed: Vec<Vec<u64>> = Vec::with_capacity(examples.len());
    let mut counts: HashMap<u64, u32> = HashMap::new();
    for example in examples {
        let mut found = Vec::new();
        features::extract(&example.text, &mut scratch, &mut found);
        for &f in &found {
            *counts.entry(f).or_default() += 1;
        }
        hashed.push(found);
    }
    let mut keys: Vec<u64> = counts
        .into_iter()
        .filter(|&(_, n)| n >= min_count)
        .map(|(k, _)| k)
        .collect();
    keys.sort_unstable();
    let index: HashMap<u64, u32> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| (k, i as u32))
        .collect();
    let features = hashed
        .iter()
        .map(|found| found.iter().filter_map(|f| index.get(f).copied()).collect())
        .collect();
    (keys, features)
}

/// Trains a model on `examples`. `progress` hears about each epoch.
pub fn train(
    examples: &[&Example],
    kb: &KnowledgeBase,
    settings: &Settings,
    calibration: Calibration,
    inputs: Vec<(String, String)>,
    progress: &(dyn Fn(&str) + Sync),
) -> Model {
    let labels: Vec<Vec<String>> = examples.iter().map(|e| label_ids(e, kb)).collect();
    let classes: Vec<String> = labels
        .iter()
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let class_index: HashMap<&str, u16> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u16))
        .collect();

    let (keys, features) = indexed_features(examples, settings.min_count);
    let encoded: Vec<Encoded> = features
        .into_iter()
        .zip(&labels)
        .map(|(features, labels)| Encoded {
            features,
            labels: labels.iter().map(|l| class_index[l.as_str()]).collect(),
        })
        .collect();
    let sub_markers = crate::markers::mine(&classes, &encoded, &keys, kb);
    progress(&format!(
        "{} examples, {} features, {} techniques",
        encoded.len(),
        keys.len(),
        classes.len()
    ));

    let mut positives = vec![0u32; classes.len()];
    for example in &encoded {
        for &label in &example.labels {
            positives[usize::from(label)] += 1;
        }
    }
    let positive_weights: Vec<f32> = positives
        .iter()
        .map(|&n| {
            let rarity = (RARE_REFERENCE / n.max(1) as f32).max(1.0);
            settings.positive_weight * rarity.powf(settings.rare_boost)
        })
        .collect();

    // Each class learns on its own (one-vs-rest), so how classes are grouped into tasks does
    // not change a weight: the model is the same on any number of cores.
    const CLASSES_PER_TASK: usize = 4;
    let ranges: Vec<Range<usize>> = (0..classes.len())
        .step_by(CLASSES_PER_TASK)
        .map(|start| start..(start + CLASSES_PER_TASK).min(classes.len()))
        .collect();
    let parts: Vec<(Range<usize>, Vec<f32>, Vec<f32>)> = ranges
        .par_iter()
        .enumerate()
        .map(|(part, range)| {
            let report = |epoch: u32| {
                if part == 0 {
                    progress(&format!("epoch {}/{}", epoch + 1, settings.epochs));
                }
            };
            let (weights, bias) = sgd(
                &encoded,
                keys.len(),
                range.clone(),
                &positive_weights[range.clone()],
                settings,
                report,
            );
            (range.clone(), weights, bias)
        })
        .collect();

    let mut bias = vec![0.0; classes.len()];
    let mut rows: Vec<Vec<(u16, f32)>> = vec![Vec::new(); keys.len()];
    for (range, weights, part_bias) in &parts {
        let width = range.len();
        bias[range.clone()].copy_from_slice(part_bias);
        for (feature, row) in rows.iter_mut().enumerate() {
            for (offset, &w) in weights[feature * width..(feature + 1) * width]
                .iter()
                .enumerate()
            {
                if w.abs() >= settings.prune {
                    row.push(((range.start + offset) as u16, w));
                }
            }
        }
    }
    let mut model_keys = Vec::new();
    let mut offsets = vec![0u32];
    let mut targets = Vec::new();
    let mut weights = Vec::new();
    for (key, row) in keys.iter().zip(rows) {
        if row.is_empty() {
            continue;
        }
        model_keys.push(*key);
        for (class, w) in row {
            targets.push(class);
            weights.push(w);
        }
        offsets.push(targets.len() as u32);
    }

    let mut by_origin: BTreeSet<(&str, u32)> = BTreeSet::new();
    let mut origin_counts: HashMap<&str, u32> = HashMap::new();
    for example in examples {
        *origin_counts.entry(example.origin.name()).or_default() += 1;
    }
    by_origin.extend(origin_counts);
    Model {
        classes,
        bias,
        keys: model_keys,
        offsets,
        targets,
        weights,
        calibration,
        phrase_strengths: Vec::new(),
        provenance: Provenance {
            inputs,
            examples: by_origin
                .into_iter()
                .map(|(k, n)| (k.to_owned(), n))
                .collect(),
            settings: settings.to_string(),
        },
        prototypes: crate::prototypes::train_domains(examples, kb),
        placement: crate::placement::Placement::train(examples, kb),
        sub_markers,
    }
}

/// SGD for the classes in `range`; returns weights laid out feature-major
/// (`[feature * width + class]`) and the biases.
pub(crate) fn sgd(
    examples: &[Encoded],
    features: usize,
    range: Range<usize>,
    positive_weights: &[f32],
    settings: &Settings,
    report: impl Fn(u32),
) -> (Vec<f32>, Vec<f32>) {
    let width = range.len();
    let mut weights = vec![0.0f32; features * width];
    let mut bias = vec![0.0f32; width];
    let mut logits = vec![0.0f32; width];
    let mut gradient = vec![0.0f32; width];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    for epoch in 0..settings.epochs {
        report(epoch);
        order.sort_by_key(|&i| XxHash3_64::oneshot_with_seed(u64::from(epoch), &i.to_le_bytes()));
        let rate = settings.learning_rate / ((epoch + 1) as f32).sqrt();
        let decay = 1.0 - rate * settings.l2;
        for &i in &order {
            let example = &examples[i];
            if example.features.is_empty() {
                continue;
            }
            let value = features::value(example.features.len());
            logits.copy_from_slice(&bias);
            for &f in &example.features {
                let row = &weights[f as usize * width..(f as usize + 1) * width];
                for (z, w) in logits.iter_mut().zip(row) {
                    *z += w * value;
                }
            }
            for (g, &z) in gradient.iter_mut().zip(&logits) {
                *g = sigmoid(z);
            }
            for &label in &example.labels {
                let label = usize::from(label);
                if range.contains(&label) {
                    let g = &mut gradient[label - range.start];
                    *g = (*g - 1.0) * positive_weights[label - range.start];
                }
            }
            for (b, g) in bias.iter_mut().zip(&gradient) {
                *b -= rate * g;
            }
            let step = rate * value;
            for &f in &example.features {
                let row = &mut weights[f as usize * width..(f as usize + 1) * width];
                for (w, g) in row.iter_mut().zip(&gradient) {
                    *w = *w * decay - step * g;
                }
            }
        }
    }
    (weights, bias)
}
