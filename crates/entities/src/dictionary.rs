//! Exact, case-sensitive lookup of a dictionary's names in text, at ASCII word boundaries.
//!
//! Names are found by hashing the text at word starts, not by an automaton: with a table of
//! the 5,232 spellings the whole entity index builds in 3–4.6 ms, where the Aho-Corasick
//! automaton alone took 8–11 ms of `analyze`'s start-up (issue #22). A name is looked up only
//! where the text's word equals the first word of some name, so prose costs a hash probe per
//! word.

use rustc_hash::FxHashMap;

/// A dictionary of names, each with a value.
#[derive(Debug)]
pub(crate) struct Dictionary<T> {
    names: FxHashMap<Box<[u8]>, T>,
    /// The first word of every name, with the length in bytes of the longest name it starts.
    first_words: FxHashMap<Box<[u8]>, usize>,
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

/// The end of the word at `start`: a run of ASCII letters and digits, or else the one byte.
fn word_end(bytes: &[u8], start: usize) -> usize {
    let run = bytes[start..].iter().take_while(|&&b| is_word(b)).count();
    start + run.max(1)
}

impl<T> Dictionary<T> {
    /// A dictionary of `entries`; of names written alike, the first one's value is kept.
    pub(crate) fn new(entries: impl IntoIterator<Item = (String, T)>) -> Self {
        let mut names: FxHashMap<Box<[u8]>, T> = FxHashMap::default();
        let mut first_words: FxHashMap<Box<[u8]>, usize> = FxHashMap::default();
        for (name, value) in entries {
            let bytes = name.into_bytes();
            if bytes.is_empty() || names.contains_key(bytes.as_slice()) {
                continue;
            }
            let first = bytes[..word_end(&bytes, 0)].into();
            let longest = first_words.entry(first).or_default();
            *longest = (*longest).max(bytes.len());
            names.insert(bytes.into_boxed_slice(), value);
        }
        Self { names, first_words }
    }

    /// How many names the dictionary holds.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// The names in `text`, leftmost first, the longest where several start at one place, none
    /// overlapping: `(start, end, value)`. A name starts at the text's start or after a byte
    /// that is not an ASCII letter or digit, and ends likewise. Where the longest name at a
    /// place runs on into a word (`Cobalt StrikeT1059`, text whose table cells lost their
    /// separators), nothing is found there: a shorter name inside it (`Cobalt`) would be a
    /// guess.
    pub(crate) fn find<'s>(&'s self, text: &str) -> Vec<(usize, usize, &'s T)> {
        let bytes = text.as_bytes();
        let mut found = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let first_end = word_end(bytes, at);
            let starts_here = at == 0 || !is_word(bytes[at - 1]);
            if let Some(&longest) = starts_here
                .then(|| self.first_words.get(&bytes[at..first_end]))
                .flatten()
            {
                let limit = bytes.len().min(at + longest);
                let longest_match = (first_end..=limit)
                    .rev()
                    .find_map(|end| self.names.get(&bytes[at..end]).map(|v| (end, v)));
                if let Some((end, value)) = longest_match {
                    if end == bytes.len() || !is_word(bytes[end]) {
                        found.push((at, end, value));
                    }
                    at = end;
                    continue;
                }
            }
            at = first_end;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dictionary(names: &[&str]) -> Dictionary<usize> {
        Dictionary::new(names.iter().enumerate().map(|(i, n)| (n.to_string(), i)))
    }

    fn found(d: &Dictionary<usize>, text: &str) -> Vec<String> {
        d.find(text)
            .into_iter()
            .map(|(s, e, v)| format!("{}={v}", &text[s..e]))
            .collect()
    }

    #[test]
    fn names_are_found_whole_at_word_boundaries_the_longest_first() {
        let d = dictionary(&["APT28", "Fancy Bear", "Fancy", "Cobalt Strike", "Ms.Tea"]);
        assert_eq!(
            found(
                &d,
                "APT28 (Fancy Bear) used Cobalt Strike; Fancy, not APT28x or xAPT28."
            ),
            ["APT28=0", "Fancy Bear=1", "Cobalt Strike=3", "Fancy=2"]
        );
        assert_eq!(found(&d, "Ms.Tea and Ms.Teapot"), ["Ms.Tea=4"]);
        assert_eq!(found(&d, "apt28 fancy bear"), Vec::<String>::new());
    }

    #[test]
    fn a_longest_name_glued_to_the_next_word_hides_the_shorter_ones_inside_it() {
        let d = dictionary(&["Cobalt", "Cobalt Strike", "Emotet"]);
        assert_eq!(
            found(&d, "Cobalt StrikeT1059 EmotetT1566"),
            Vec::<String>::new()
        );
        assert_eq!(
            found(&d, "Cobalt Strike, Cobalt and Emotet"),
            ["Cobalt Strike=1", "Cobalt=0", "Emotet=2"]
        );
    }

    #[test]
    fn non_ascii_text_and_names_are_matched_on_their_bytes() {
        let d = dictionary(&["Ägypten", "Lazarus"]);
        assert_eq!(
            found(&d, "éLazarus in Ägypten, ÄgyptenX"),
            ["Lazarus=1", "Ägypten=0"]
        );
        assert_eq!(found(&d, "€"), Vec::<String>::new());
        assert_eq!(found(&d, ""), Vec::<String>::new());
    }

    #[test]
    fn the_first_of_names_written_alike_keeps_its_value() {
        let d = dictionary(&["Turla", "Turla"]);
        assert_eq!(d.len(), 1);
        assert_eq!(found(&d, "Turla"), ["Turla=0"]);
    }
}
