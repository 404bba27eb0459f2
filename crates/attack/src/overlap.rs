//! Near-copies between training and held-out texts, so that evaluation does not train on a
//! copy of what it tests.
//!
//! A training text is a near-copy of a held-out text when the two are equal once normalised
//! (lower case, words only), or when at least half of the held-out text's 8-word runs also
//! occur in the training text. TRAM's bootstrap rows, for example, are ATT&CK procedure
//! examples with the actor removed, and many repeat a sentence of a TRAM report nearly word
//! for word.

use std::collections::HashMap;

use twox_hash::XxHash3_64;

/// Words per run.
const RUN: usize = 8;

/// An index of texts by their normalised form and their 8-word runs.
#[derive(Debug, Default)]
pub struct NearCopies {
    whole: HashMap<u64, Vec<u32>>,
    runs: HashMap<u64, Vec<u32>>,
}

/// The lower-cased words of `text`.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn hash_words(words: &[String]) -> u64 {
    let mut joined = String::new();
    for w in words {
        joined.push_str(w);
        joined.push(' ');
    }
    XxHash3_64::oneshot(joined.as_bytes())
}

/// The distinct 8-word runs of `words`, hashed.
fn runs(words: &[String]) -> Vec<u64> {
    let mut runs: Vec<u64> = words.windows(RUN).map(hash_words).collect();
    runs.sort_unstable();
    runs.dedup();
    runs
}

impl NearCopies {
    /// Indexes `texts`; [`NearCopies::of`] answers with their positions.
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut index = Self::default();
        for (i, text) in texts.into_iter().enumerate() {
            let words = words(text);
            if words.is_empty() {
                continue;
            }
            index
                .whole
                .entry(hash_words(&words))
                .or_default()
                .push(i as u32);
            for run in runs(&words) {
                index.runs.entry(run).or_default().push(i as u32);
            }
        }
        index
    }

    /// The positions of the indexed texts that near-copy `text`, ascending.
    pub fn of(&self, text: &str) -> Vec<u32> {
        let words = words(text);
        if words.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<u32> = self
            .whole
            .get(&hash_words(&words))
            .cloned()
            .unwrap_or_default();
        let runs = runs(&words);
        if !runs.is_empty() {
            let mut shared: HashMap<u32, usize> = HashMap::new();
            for run in &runs {
                for &i in self.runs.get(run).into_iter().flatten() {
                    *shared.entry(i).or_default() += 1;
                }
            }
            found.extend(
                shared
                    .into_iter()
                    .filter(|&(_, n)| 2 * n >= runs.len())
                    .map(|(i, _)| i),
            );
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::NearCopies;

    #[test]
    fn finds_copies_and_half_shared_runs_but_not_paraphrases() {
        let index = NearCopies::new([
            // 0: the same words, other case and punctuation.
            "The actor used PowerShell to download a second-stage payload from its server.",
            // 1: the held-out sentence inside a longer text.
            "Earlier that week, the actor used PowerShell to download a second stage payload \
             from its server, then ran it.",
            // 2: a paraphrase: few shared runs.
            "A PowerShell command fetched the next stage from the attacker's host.",
            // 3: a short text.
            "Introduction",
        ]);
        let held_out =
            "the actor used powershell to download a second stage payload from its server";
        assert_eq!(index.of(held_out), vec![0, 1]);
        assert_eq!(index.of("INTRODUCTION."), vec![3]);
        assert!(index.of("Conclusion").is_empty());
        assert!(index.of("").is_empty());
    }
}
