//! A sentence → its sparse binary features, as 64-bit hashes: lower-cased word unigrams,
//! bigrams, and 5-character prefixes of long words (a cheap stem, so that `encrypts`,
//! `encrypted` and `encryption` share a feature). Hashing keeps the model free of strings and
//! the extraction free of allocations per token.

use twox_hash::XxHash3_64;

const UNIGRAM: u64 = 1;
const PREFIX: u64 = 3;
/// Words longer than this are blobs (base64, hashes), not words.
const MAX_WORD: usize = 40;
/// Words at least this long also give their prefix.
const STEM_FROM: usize = 7;
const STEM_LEN: usize = 5;

/// Texts with fewer features than this are scaled as if they had this many, so that one
/// strong word in a three-word line ("TLP:CLEAR.") cannot carry a whole sentence's weight.
const MIN_NORM: usize = 8;

/// The value of each present feature in a text with `count` features: the feature vector has
/// unit length, except that short texts are damped (see `MIN_NORM`).
pub fn value(count: usize) -> f32 {
    (count.max(MIN_NORM) as f32).sqrt().recip()
}

/// Reusable buffers for [`extract`].
#[derive(Debug, Default)]
pub struct Scratch {
    word: String,
}

/// Appends the features of `text` to `out`, sorted and without duplicates.
pub fn extract(text: &str, scratch: &mut Scratch, out: &mut Vec<u64>) {
    out.clear();
    let mut previous: Option<u64> = None;
    let word = &mut scratch.word;
    word.clear();
    let mut chars = text.chars().peekable();
    loop {
        let c = chars.next();
        match c {
            Some(c) if c.is_alphanumeric() || c == '_' => {
                word.extend(c.to_lowercase());
                continue;
            }
            _ => {}
        }
        if !word.is_empty() {
            previous = push_word(word, previous, out);
            word.clear();
        }
        if c.is_some_and(|c| !c.is_whitespace() && !is_joiner(c)) {
            // Sentence punctuation ends a bigram chain; joiners inside paths and command lines
            // (`cmd.exe`, `/c`, `C:\`) do not.
            previous = None;
        }
        if c.is_none() {
            break;
        }
    }
    out.sort_unstable();
    out.dedup();
}

fn is_joiner(c: char) -> bool {
    matches!(c, '.' | '/' | '\\' | '-' | ':' | '"' | '\'' | '%' | '$')
}

fn push_word(word: &str, previous: Option<u64>, out: &mut Vec<u64>) -> Option<u64> {
    let normal = normalize(word);
    if normal.len() > MAX_WORD {
        return None;
    }
    let unigram = XxHash3_64::oneshot_with_seed(UNIGRAM, normal.as_bytes());
    out.push(unigram);
    if let Some(previous) = previous {
        out.push(bigram(previous, unigram));
    }
    if normal.chars().count() >= STEM_FROM {
        let end = normal
            .char_indices()
            .nth(STEM_LEN)
            .map_or(normal.len(), |(i, _)| i);
        out.push(XxHash3_64::oneshot_with_seed(
            PREFIX,
            &normal.as_bytes()[..end],
        ));
    }
    Some(unigram)
}

/// Numbers become one word, long hexadecimal strings another: their values say nothing about
/// the technique, their presence sometimes does.
fn normalize(word: &str) -> &str {
    if word.bytes().all(|b| b.is_ascii_digit()) {
        "<num>"
    } else if word.len() >= 16 && word.bytes().all(|b| b.is_ascii_hexdigit()) {
        "<hex>"
    } else {
        word
    }
}

fn bigram(first: u64, second: u64) -> u64 {
    (first.rotate_left(29) ^ second).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5bd1_e995
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(text: &str) -> Vec<u64> {
        let mut out = Vec::new();
        extract(text, &mut Scratch::default(), &mut out);
        out
    }

    #[test]
    fn case_and_numbers_do_not_change_features() {
        assert_eq!(
            features("Runs CMD.EXE /c 42"),
            features("runs cmd.exe /c 7")
        );
    }

    #[test]
    fn bigrams_cross_joiners_but_not_sentence_punctuation() {
        // "cmd exe" is a bigram in both; "a, b" has no bigram, "a b" has one.
        assert_eq!(features("cmd.exe").len(), 3);
        assert_eq!(features("alpha, beta").len(), 2);
        assert_eq!(features("alpha beta").len(), 3);
    }

    #[test]
    fn long_words_share_a_stem() {
        let encrypted = features("encrypted");
        let encryption = features("encryption");
        assert_eq!(encrypted.len(), 2);
        assert!(encrypted.iter().any(|f| encryption.contains(f)));
    }

    #[test]
    fn blobs_are_not_words() {
        assert!(features(&"Z".repeat(100)).is_empty());
        assert_eq!(
            features("d41d8cd98f00b204e9800998ecf8427e"),
            features("ffffffffffffffffffff")
        );
    }
}
