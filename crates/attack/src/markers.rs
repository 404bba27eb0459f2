//! Evidence for a sub-technique. The classifier learns a sub-technique from the texts labelled
//! with it and its parent from the whole family's, so a sentence about the family ("the
//! malware ran commands") often scores a sub-technique too (Windows Command Shell). A
//! sub-technique is reported from the classifier alone only when the sentence has one of its
//! *markers*: a word, stem or word pair that its training texts use markedly more often than
//! the rest of its family's (`cmd` for Windows Command Shell, `mutex` for Mutual Exclusion).
//! Without one, the sentence supports the parent. Explicit ids, names and lexicon phrases of the
//! sub-technique are evidence of their own and are not checked.
//!
//! The markers are learned with the classifier, from the same examples (inside each fold of an
//! evaluation), and stored in the model as feature hashes ([`crate::features`]).

use std::collections::HashMap;

use ctiforge_kb::KnowledgeBase;

use crate::train::Encoded;

/// A marker is in at least this many of the sub-technique's texts...
const MIN_TEXTS: u32 = 2;
/// ...and at least this share of them...
const MIN_RATE: f64 = 0.02;
/// ...and at least this many times as common there as in the rest of the family's texts.
const MIN_RATIO: f64 = 3.0;
/// A family with fewer texts outside the sub-technique cannot tell them apart: its
/// sub-techniques are not checked.
const MIN_FAMILY: u32 = 5;
/// The commonest markers kept per sub-technique.
const MAX_MARKERS: usize = 200;

/// Per sub-technique that the classifier can tell from its family: its markers (feature
/// hashes, sorted), possibly none. Sub-techniques absent from the list are not checked.
///
/// `classes` are the classifier's technique ids and `examples` its encoded examples (a
/// sub-technique's example also carries its parent's class, see [`crate::train::label_ids`]),
/// their features indexes into `keys`.
pub(crate) fn mine(
    classes: &[String],
    examples: &[Encoded],
    keys: &[u64],
    kb: &KnowledgeBase,
) -> Vec<(String, Vec<u64>)> {
    let mut texts = vec![0u32; classes.len()];
    let mut counts: Vec<HashMap<u32, u32>> = vec![HashMap::new(); classes.len()];
    for example in examples {
        for &class in &example.labels {
            let class = usize::from(class);
            texts[class] += 1;
            for &feature in &example.features {
                *counts[class].entry(feature).or_default() += 1;
            }
        }
    }
    let index: HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let mut out = Vec::new();
    for (class, id) in classes.iter().enumerate() {
        let Some(parent) = kb.technique(id).and_then(|t| t.parent.as_deref()) else {
            continue;
        };
        let Some(&parent) = index.get(parent) else {
            continue;
        };
        let own = texts[class];
        let family = texts[parent].saturating_sub(own);
        if own == 0 || family < MIN_FAMILY {
            continue;
        }
        let mut found: Vec<(u32, u64)> = counts[class]
            .iter()
            .filter(|&(feature, &n)| {
                let rate = f64::from(n) / f64::from(own);
                let elsewhere = counts[parent]
                    .get(feature)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(n);
                let rest = (f64::from(elsewhere) + 1.0) / (f64::from(family) + 2.0);
                n >= MIN_TEXTS && rate >= MIN_RATE && rate >= MIN_RATIO * rest
            })
            .map(|(&feature, &n)| (n, keys[feature as usize]))
            .collect();
        found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        found.truncate(MAX_MARKERS);
        let mut markers: Vec<u64> = found.into_iter().map(|(_, key)| key).collect();
        markers.sort_unstable();
        out.push((id.clone(), markers));
    }
    out
}

/// Whether a text with `features` (sorted) has one of `markers` (sorted).
pub(crate) fn has_marker(features: &[u64], markers: &[u64]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < features.len() && j < markers.len() {
        match features[i].cmp(&markers[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_lists_meet_on_a_shared_value() {
        assert!(has_marker(&[1, 5, 9], &[2, 9]));
        assert!(!has_marker(&[1, 5, 9], &[2, 6, 10]));
        assert!(!has_marker(&[], &[1]));
        assert!(!has_marker(&[1], &[]));
    }
}
