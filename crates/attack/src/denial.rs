//! Sentences that deny what they describe: "the group is not exploiting software
//! vulnerabilities", "we found no evidence that data was exfiltrated", "no lateral movement
//! was observed". Such a sentence names a behaviour only to say it did not happen, so it is
//! evidence of no technique.
//!
//! The rule is narrow on purpose, because a negation inside a description of what happened is
//! common: "files that are not excluded by filters are collected", "a VPN endpoint that did
//! not have MFA enabled", "staged the binary but did not execute it", "does not require
//! administrator rights". A sentence is a denial only when its first negation governs the
//! main clause:
//!
//! - the negation is an auxiliary with "not" ("did not", "is not", "hasn't"...), "no
//!   evidence/indication/sign(s)", or a sentence that opens with "No" or "None";
//! - nothing before it opens a subordinate, relative or second clause ("after", "if", "that",
//!   "which", "and", "but"..., or a check: "checks to ensure it is not..."), and it is not
//!   inside brackets;
//! - nothing after it brings a positive part back ("but", "instead", "only", "and", "then",
//!   "which", a semicolon...);
//! - it does not deny a requirement ("does not require", "need", "rely", "have to"), which
//!   affirms the behaviour.
//!
//! Of TRAM's 31,335 sentences, 3 with a technique label are denials by this rule ("we don't
//! see many instances of domain fronting", "No pdb/debug strings are present", "Many people
//! don't protect their router…") and 59 without one.

/// Auxiliaries that "not" negates.
const AUXILIARIES: [&str; 10] = [
    "did", "does", "do", "is", "are", "was", "were", "has", "have", "had",
];
/// The same with "n't" attached (either apostrophe is accepted).
const CONTRACTED: [&str; 10] = [
    "didn't", "doesn't", "don't", "isn't", "aren't", "wasn't", "weren't", "hasn't", "haven't",
    "hadn't",
];
/// Nouns that "no" turns into a denial anywhere in the sentence.
const NO_NOUNS: [&str; 4] = ["evidence", "indication", "sign", "signs"];
/// Words that, before the negation, put it in a clause other than the main one: conjunctions
/// and relatives, and the verbs of a check whose object is the negated clause ("checks to
/// ensure it is not running in a virtual machine" describes the check, which happened).
const CLAUSE_BEFORE: [&str; 39] = [
    "after",
    "before",
    "when",
    "once",
    "since",
    "because",
    "although",
    "though",
    "while",
    "if",
    "unless",
    "until",
    "whether",
    "which",
    "who",
    "whom",
    "whose",
    "where",
    "as",
    "so",
    "that",
    "and",
    "or",
    "but",
    "ensure",
    "ensures",
    "ensuring",
    "check",
    "checks",
    "checking",
    "verify",
    "verifies",
    "verifying",
    "confirm",
    "confirms",
    "confirming",
    "determine",
    "determines",
    "determining",
];
/// Words that, after the negation, bring back a positive part.
const POSITIVE_AFTER: [&str; 25] = [
    "but",
    "however",
    "instead",
    "rather",
    "although",
    "though",
    "while",
    "except",
    "only",
    "unless",
    "until",
    "yet",
    "also",
    "so",
    "because",
    "therefore",
    "thus",
    "then",
    "and",
    "if",
    "when",
    "which",
    "who",
    "that",
    "whereas",
];
/// Verbs whose negation affirms the behaviour ("does not require administrator rights").
const REQUIREMENTS: [&str; 6] = ["require", "requires", "need", "needs", "rely", "depend"];

/// One word of a sentence: lower-cased, with whether it stands inside brackets.
struct Word {
    text: String,
    bracketed: bool,
}

/// The words of `sentence` (letters, digits and apostrophes), lower-cased; a semicolon is a
/// word of its own.
fn words(sentence: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    let flush = |current: &mut String, depth: usize, out: &mut Vec<Word>| {
        if !current.is_empty() {
            out.push(Word {
                text: std::mem::take(current),
                bracketed: depth > 0,
            });
        }
    };
    for c in sentence.chars() {
        if c.is_alphanumeric() || c == '\'' || c == '’' {
            current.extend(c.to_lowercase().map(|c| if c == '’' { '\'' } else { c }));
            continue;
        }
        flush(&mut current, depth, &mut out);
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ';' => out.push(Word {
                text: ";".to_owned(),
                bracketed: depth > 0,
            }),
            _ => {}
        }
    }
    flush(&mut current, depth, &mut out);
    out
}

/// Where the first negation of `words` is: (its first word, the first word after it).
fn negation(sentence: &str, words: &[Word]) -> Option<(usize, usize)> {
    let is = |k: usize, list: &[&str]| {
        words
            .get(k)
            .is_some_and(|w| list.contains(&w.text.as_str()))
    };
    // "No data was taken", "None of the hosts..."; not "no[.]txt", a defanged file name.
    let opening = sentence.trim_start().as_bytes();
    let opens_with_no = ["no ", "none "].iter().any(|word| {
        opening.len() > word.len()
            && opening[..word.len()].eq_ignore_ascii_case(word.as_bytes())
            && opening[word.len()].is_ascii_alphabetic()
    });
    if opens_with_no {
        return Some((0, 1));
    }
    (0..words.len()).find_map(|k| {
        if is(k, &AUXILIARIES) && words.get(k + 1).is_some_and(|w| w.text == "not") {
            Some((k, k + 2))
        } else if is(k, &CONTRACTED) {
            Some((k, k + 1))
        } else if words[k].text == "no" && is(k + 1, &NO_NOUNS) {
            // "no evidence that ...", "no sign of ...": the clause after is what is denied.
            let after = k + 2;
            Some((k, after + usize::from(is(after, &["that", "of"]))))
        } else {
            None
        }
    })
}

/// Whether `sentence` has the word "no", "not" or "none", or a word ending in "n't": most
/// sentences have none and are not split into words.
fn may_deny(sentence: &str) -> bool {
    let bytes = sentence.as_bytes();
    let letter = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_alphanumeric);
    let lower = |at: usize| bytes.get(at).map(u8::to_ascii_lowercase);
    (0..bytes.len())
        .filter(|&at| bytes[at] | 0x20 == b'n')
        .any(|at| {
            if at > 0 && letter(at - 1) {
                // Inside a word: only "n't" counts.
                return bytes[at + 1..].starts_with(b"'t")
                    || bytes[at + 1..].starts_with("’t".as_bytes());
            }
            lower(at + 1) == Some(b'o')
                && (!letter(at + 2)
                    || lower(at + 2) == Some(b't') && !letter(at + 3)
                    || lower(at + 2) == Some(b'n')
                        && lower(at + 3) == Some(b'e')
                        && !letter(at + 4))
        })
}

/// Whether `sentence` denies the behaviour it describes (see the module documentation).
pub fn denies(sentence: &str) -> bool {
    if !may_deny(sentence) {
        return false;
    }
    let words = words(sentence);
    let Some((start, after)) = negation(sentence, &words) else {
        return false;
    };
    if words[start].bracketed {
        return false;
    }
    let before = &words[..start];
    if before
        .iter()
        .any(|w| CLAUSE_BEFORE.contains(&w.text.as_str()))
    {
        return false;
    }
    let rest = words.get(after..).unwrap_or_default();
    let requirement = rest
        .first()
        .is_some_and(|w| REQUIREMENTS.contains(&w.text.as_str()))
        || rest.first().is_some_and(|w| w.text == "have")
            && rest.get(1).is_some_and(|w| w.text == "to");
    if requirement {
        return false;
    }
    !rest
        .iter()
        .any(|w| w.text == ";" || POSITIVE_AFTER.contains(&w.text.as_str()))
}

#[cfg(test)]
mod tests {
    use super::denies;

    #[test]
    fn a_sentence_that_says_a_behaviour_did_not_happen_is_a_denial() {
        for sentence in [
            "Scattered Spider is not exploiting software vulnerabilities.",
            "We did not find an infection vector.",
            "The team did not discover any useful credentials on open file shares.",
            "The actor didn’t deploy ransomware in this intrusion.",
            "We found no evidence that the actors exfiltrated data.",
            "There is no indication of lateral movement.",
            "No data was exfiltrated from the network.",
            "Investigators have not observed the use of PowerShell.",
            "Fantasy, however, does not use this runtime argument.",
        ] {
            assert!(denies(sentence), "{sentence}");
        }
    }

    #[test]
    fn only_sentences_with_a_negation_word_are_read_closely() {
        for sentence in [
            "Not now.",
            "We did not.",
            "None of it",
            "It isn't",
            "It isn’t",
            "no",
        ] {
            assert!(super::may_deny(sentence), "{sentence}");
        }
        for sentence in [
            "Another unknown node now",
            "Nothing",
            "nobody knows",
            "annotate",
        ] {
            assert!(!super::may_deny(sentence), "{sentence}");
        }
    }

    #[test]
    fn a_negation_inside_what_happened_is_not_a_denial() {
        for sentence in [
            // A relative or subordinate clause.
            "It collects files that are not excluded by filters in the search policy.",
            "The actor connected via a VPN endpoint that did not have MFA enabled.",
            "After confirming the FTP accounts did not provide shell access, the actor used the VPN.",
            "The malware checks the locale and does not run if the device is in Russia.",
            "Some versions check to ensure it is not being executed inside a virtual machine.",
            // A positive part before or after.
            "The actors staged a ransomware binary on the backup server but did not execute it.",
            "The sample does not communicate over SSH but uses HTTPS.",
            "The loader does not write to disk; it injects the payload into memory.",
            "The actor did not use Mimikatz and instead dumped LSASS with comsvcs.dll.",
            // A requirement denied affirms the behaviour.
            "Hiding the icon does not require any special permissions.",
            "The account does not need to be an administrator to create the task.",
            // Inside brackets.
            "It disables Windows Defender (does not scan downloaded files) and deletes logs.",
            // No negation at all, or "no" as a word of something else.
            "The actor exploited CVE-2023-4966 to gain access.",
            "no[.]txt downloads and executes the payload",
        ] {
            assert!(!denies(sentence), "{sentence}");
        }
    }
}
