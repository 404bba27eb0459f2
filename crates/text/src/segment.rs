//! Paragraphs and sentences as byte spans.
//!
//! A sentence ends at `.`, `!` or `?` (or their full-width forms) followed by white space and
//! the start of a new sentence — so the dots of `1.2.3.4`, `evil[.]com`, `update.exe`,
//! `T1059.001`, `v2.3.1`, `C:\Windows\x.dll` and URLs never end one, because no space follows
//! them. Known abbreviations (`e.g.`, `Fig. 3`, `Inc.`) and initials do not end a sentence
//! either, and neither does a period followed by a lower-case word. A line break ends a
//! sentence unless the next line continues it in lower case (wrapped text); a blank line always
//! does. Text without any of these (a minified page, a log line, a list run together) is cut
//! into pieces of about [`MAX_SENTENCE`] bytes at spaces, so that a sentence quoted as evidence
//! stays readable and output does not grow with the square of the input.

use ctiforge_model::Span;

/// The length after which a sentence is cut at the next space or tab. Real sentences, even
/// long lists of indicators, stay well below it.
pub const MAX_SENTENCE: usize = 1_000;

/// Words that end with a period without ending a sentence (lower case, without the period).
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "eg", "ie", "etc", "cf", "vs", "viz", "al", "fig", "figs", "no", "nos", "nr",
    "vol", "pp", "p", "ch", "sec", "sect", "ver", "v", "approx", "est", "dept", "inc", "ltd",
    "corp", "co", "mr", "mrs", "ms", "dr", "prof", "st", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "e.u", "a.m", "p.m", "ref", "refs",
    "tab", "eq", "min", "max", "avg", "incl", "excl", "op", "cit", "ibid",
];

/// Paragraph spans: runs of text separated by blank lines, trimmed.
pub fn paragraphs(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut start: Option<usize> = None;
    let mut last_content_end = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        if blank {
            if let Some(s) = start.take() {
                spans.push(Span::new(s, last_content_end));
            }
        } else {
            let leading = line.len() - line.trim_start().len();
            if start.is_none() {
                start = Some(offset + leading);
            }
            last_content_end = offset + line.trim_end().len();
        }
        offset += line.len();
    }
    if let Some(s) = start {
        spans.push(Span::new(s, last_content_end));
    }
    spans
}

/// Sentence spans within the given paragraphs.
pub fn sentences(text: &str, paragraphs: &[Span]) -> Vec<Span> {
    let mut spans = Vec::new();
    for paragraph in paragraphs {
        split_paragraph(text, *paragraph, &mut spans);
    }
    spans
}

/// The sentence around an offset, found by segmenting only the stretch of text around it: the
/// same spans [`sentences`] gives over the whole text, for a fraction of the work when few
/// sentences are asked for (indicators in a long file). Asked in increasing offsets, the text is
/// read about once.
///
/// Why the stretch is enough: segmenting restarts at every line break whose next line does not
/// continue the sentence (it is blank or starts with anything but a lower-case letter) and at
/// every paragraph, whatever came before; so the sentences between two such breaks depend on
/// those bytes alone.
#[derive(Debug)]
pub struct SentenceFinder<'t> {
    text: &'t str,
    /// The stretch last segmented, and its sentences.
    stretch: Span,
    sentences: Vec<Span>,
}

impl<'t> SentenceFinder<'t> {
    /// A finder over `text`; nothing is segmented until a sentence is asked for.
    pub fn new(text: &'t str) -> Self {
        SentenceFinder {
            text,
            stretch: Span::new(0, 0),
            sentences: Vec::new(),
        }
    }

    /// The sentence holding byte `offset`, or `None` between sentences (white space).
    pub fn sentence_of(&mut self, offset: usize) -> Option<Span> {
        if offset >= self.text.len() {
            return None;
        }
        if !(self.stretch.start <= offset && offset < self.stretch.end) {
            self.segment_around(offset);
        }
        let i = self.sentences.partition_point(|s| s.end <= offset);
        self.sentences.get(i).filter(|s| s.start <= offset).copied()
    }

    fn segment_around(&mut self, offset: usize) {
        let text = self.text;
        let bytes = text.as_bytes();
        // Back to the break the stretch starts after (or the start of the text).
        let mut start = 0;
        let mut paragraph_start = true;
        let mut at = offset;
        while let Some(newline) = memchr::memrchr(b'\n', &bytes[..at]) {
            let line_before = line_ending_at(text, newline);
            if line_before.trim().is_empty() {
                // The line before is blank: a paragraph starts after it.
                start = newline + 1;
                break;
            }
            if !continues_on_next_line(text, newline + 1, text.len()) {
                start = newline + 1;
                paragraph_start = false;
                break;
            }
            at = newline;
        }
        // A paragraph's first sentence starts at its first character, as in [`paragraphs`].
        if paragraph_start {
            start += text[start..].len() - text[start..].trim_start().len();
        }
        // On to the break that ends it (or the end of the text).
        let mut end = text.len();
        let mut from = offset.max(start);
        while let Some(found) = memchr::memchr(b'\n', &bytes[from..]) {
            let newline = from + found;
            if line_ending_at(text, newline).trim().is_empty()
                || !continues_on_next_line(text, newline + 1, text.len())
            {
                end = newline;
                break;
            }
            from = newline + 1;
        }
        self.sentences.clear();
        let stretch = Span::new(start.min(end), end);
        split_paragraph(text, stretch, &mut self.sentences);
        // The stretch covers the offset even when it is white space before a paragraph.
        self.stretch = Span::new(start.min(offset), end.max(offset + 1));
    }
}

/// The line that `newline` ends (without it).
fn line_ending_at(text: &str, newline: usize) -> &str {
    let from = memchr::memrchr(b'\n', &text.as_bytes()[..newline]).map_or(0, |p| p + 1);
    &text[from..newline]
}

fn split_paragraph(text: &str, paragraph: Span, out: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let mut start = paragraph.start;
    let mut i = paragraph.start;
    let end = paragraph.end;
    let push = |s: usize, e: usize, out: &mut Vec<Span>| {
        let piece = &text[s..e];
        let leading = piece.len() - piece.trim_start().len();
        let trailing = piece.len() - piece.trim_end().len();
        if e - trailing > s + leading {
            out.push(Span::new(s + leading, e - trailing));
        }
    };
    while i < end {
        // Skip to the next byte that can end a sentence: a terminator, the lead byte of a
        // full-width one, or a newline. Within MAX_SENTENCE of the start nothing else
        // matters, and this table scan is what keeps segmenting at disk speed.
        if i - start < MAX_SENTENCE {
            let limit = end.min(start + MAX_SENTENCE);
            match bytes[i..limit]
                .iter()
                .position(|b| MAY_END[usize::from(*b)])
            {
                Some(skip) => i += skip,
                None => {
                    i = limit;
                    continue;
                }
            }
        }
        let b = bytes[i];
        // Cut at a space: never inside a token, so never inside an indicator.
        if i - start >= MAX_SENTENCE && matches!(b, b' ' | b'\t') {
            push(start, i, out);
            start = i + 1;
            i += 1;
            continue;
        }
        if b == b'\n' {
            if !continues_on_next_line(text, i + 1, end) {
                push(start, i, out);
                start = i + 1;
            }
            i += 1;
            continue;
        }
        let terminator_len = terminator_at(text, i);
        if terminator_len == 0 {
            i += 1;
            continue;
        }
        // Closing quotes and brackets belong to the sentence they close.
        let mut after = i + terminator_len;
        while after < end && matches!(bytes[after], b'"' | b'\'' | b')' | b']') {
            after += 1;
        }
        after = past_citations(bytes, after, end);
        // ASCII terminators need white space after them (the dots of `1.2.3.4` and
        // `update.exe` are not followed by any); full-width ones (。！？) do not, as CJK text
        // has no spaces between sentences. A list bullet glued to the period (`…address.•
        // Network traffic analysis…`, lists flattened by a web page's text) starts an item.
        let space_follows = text[after..end]
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || BULLETS.contains(&c));
        if terminator_len == 1 && !space_follows {
            i += terminator_len;
            continue;
        }
        if bytes[i] == b'.' && !ends_sentence(text, i, after, end) {
            i += 1;
            continue;
        }
        push(start, after, out);
        start = after;
        i = after;
    }
    push(start, end, out);
}

/// List bullets that may follow a sentence's period with no space between.
const BULLETS: [char; 4] = ['•', '●', '▪', '◦'];

/// Past the citation marks glued to the end of a sentence, which belong to it:
/// `...was seen.[3] Next`, `...in 2020.(Citation: Vendor Blog)(Citation: CERT) Next`.
fn past_citations(bytes: &[u8], mut at: usize, end: usize) -> usize {
    const LONGEST: usize = 200;
    while let Some(close) = match bytes.get(at) {
        Some(b'[') => Some(b']'),
        Some(b'(') => Some(b')'),
        _ => None,
    } {
        let inside = &bytes[at + 1..end.min(at + 1 + LONGEST)];
        match inside.iter().position(|b| *b == close || *b == b'\n') {
            Some(k) if inside[k] == close => at += k + 2,
            _ => break,
        }
    }
    at
}

/// The byte length of a sentence terminator at `i`, or 0.
/// The bytes at which a sentence may end: `.`, `!`, `?`, a newline, and the lead bytes of
/// `。` (E3) and `！`/`？` (EF).
const MAY_END: [bool; 256] = {
    let mut table = [false; 256];
    table[b'.' as usize] = true;
    table[b'!' as usize] = true;
    table[b'?' as usize] = true;
    table[b'\n' as usize] = true;
    table[0xE3] = true;
    table[0xEF] = true;
    table
};

fn terminator_at(text: &str, i: usize) -> usize {
    match text.as_bytes()[i] {
        b'.' | b'!' | b'?' => 1,
        0xE3 if text[i..].starts_with('。') => '。'.len_utf8(),
        0xEF if text[i..].starts_with('！') || text[i..].starts_with('？') => 3,
        _ => 0,
    }
}

/// Whether the period at `dot` (with its closing marks up to `after`) ends a sentence.
fn ends_sentence(text: &str, dot: usize, after: usize, end: usize) -> bool {
    // The word before the period.
    // The delimiter found may be several bytes long (a no-break space is two).
    let word_start = text[..dot]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace() || *c == '(' || *c == '"')
        .map_or(0, |(p, c)| p + c.len_utf8());
    let word = text[word_start..dot].to_ascii_lowercase();
    let word = word.trim_start_matches(['(', '[', '"', '\'']);
    if ABBREVIATIONS.contains(&word) {
        return false;
    }
    // An initial: "J. Smith".
    if word.len() == 1 && word.bytes().all(|b| b.is_ascii_alphabetic()) {
        let upper = text[word_start..dot]
            .bytes()
            .all(|b| b.is_ascii_uppercase());
        if upper {
            return false;
        }
    }
    // The next word: a lower-case start continues the sentence ("e.g. the", "approx. five").
    let next = text[after..end].trim_start();
    !next.chars().next().is_some_and(char::is_lowercase)
}

/// Whether the line starting at `next` continues the sentence of the previous line: wrapped
/// prose starts in lower case; list items, headings and new sentences do not.
fn continues_on_next_line(text: &str, next: usize, end: usize) -> bool {
    if next >= end {
        return false;
    }
    let line = &text[next..end];
    let line = line.split('\n').next().unwrap_or("");
    let trimmed = line.trim_start();
    match trimmed.chars().next() {
        Some(c) => c.is_lowercase(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        let paragraphs = paragraphs(text);
        sentences(text, &paragraphs)
            .into_iter()
            .map(|s| &text[s.start..s.end])
            .collect()
    }

    #[test]
    fn identifiers_are_never_cut() {
        let text = "The loader connects to 1.2.3.4 and evil[.]com, drops update.exe and uses T1059.001. \
                    It targets v2.3.1 of the agent, writes C:\\Windows\\x.dll and fetches https://a.b.example.com/x.y/z.php?q=1. \
                    See Fig. 3 for details, e.g. the second stage. Done.";
        assert_eq!(
            split(text),
            [
                "The loader connects to 1.2.3.4 and evil[.]com, drops update.exe and uses T1059.001.",
                "It targets v2.3.1 of the agent, writes C:\\Windows\\x.dll and fetches https://a.b.example.com/x.y/z.php?q=1.",
                "See Fig. 3 for details, e.g. the second stage.",
                "Done.",
            ]
        );
    }

    #[test]
    fn sentences_end_at_terminators_followed_by_a_new_sentence() {
        assert_eq!(
            split("One. Two! Three? Four"),
            ["One.", "Two!", "Three?", "Four"]
        );
        assert_eq!(
            split("He said \"stop.\" Then left."),
            ["He said \"stop.\"", "Then left."]
        );
        assert_eq!(
            split("Reported by J. Smith and Acme Inc. in May."),
            ["Reported by J. Smith and Acme Inc. in May."]
        );
        assert_eq!(
            split("It grew 5.5 percent. Next year"),
            ["It grew 5.5 percent.", "Next year"]
        );
        assert_eq!(
            split("攻撃者は侵入した。次に移動した。"),
            ["攻撃者は侵入した。", "次に移動した。"]
        );
        // A list flattened by a web page's text: each bullet glued to the period before it
        // starts an item.
        assert_eq!(
            split("Review the logs.•\u{a0}Block the address.● Reset passwords."),
            [
                "Review the logs.",
                "•\u{a0}Block the address.",
                "● Reset passwords."
            ]
        );
    }

    #[test]
    fn citation_marks_stay_with_the_sentence_they_close() {
        assert_eq!(
            split("It spread by USB.[3] Then it beaconed.[4][5] Done."),
            ["It spread by USB.[3]", "Then it beaconed.[4][5]", "Done."]
        );
        assert_eq!(
            split("It used WMI.(Citation: Vendor 2020)(Citation: CERT) Similarly, it ran."),
            [
                "It used WMI.(Citation: Vendor 2020)(Citation: CERT)",
                "Similarly, it ran."
            ]
        );
        // Not a citation: no space after the bracket, or a bracket left open.
        assert_eq!(
            split("See evil[.]com.[x]y now."),
            ["See evil[.]com.[x]y now."]
        );
        assert_eq!(split("It ran.(unclosed Then"), ["It ran.(unclosed Then"]);
    }

    #[test]
    fn text_without_sentence_ends_is_cut_at_spaces() {
        let text = "see https://a.example.com/x ".repeat(200);
        let pieces = split(&text);
        assert!(pieces.len() > 1, "{} pieces", pieces.len());
        for piece in &pieces {
            assert!(piece.len() <= MAX_SENTENCE + 40, "{} bytes", piece.len());
            // Whole tokens only: every piece starts and ends a word.
            assert!(
                piece.starts_with("see ") && piece.ends_with("/x"),
                "{piece}"
            );
        }
        // A single token longer than the limit is never cut.
        let blob = "A".repeat(3 * MAX_SENTENCE);
        assert_eq!(split(&blob), [blob.as_str()]);
        // Ordinary long sentences are untouched.
        let long = format!("{} end.", "word ".repeat(MAX_SENTENCE / 5 - 10));
        assert_eq!(split(&long), [long.as_str()]);
    }

    #[test]
    fn lines_and_paragraphs() {
        let text = "Heading\nFirst sentence wraps\nonto the next line. Second.\n\n- item one\n- item two\n";
        assert_eq!(
            split(text),
            [
                "Heading",
                "First sentence wraps\nonto the next line.",
                "Second.",
                "- item one",
                "- item two"
            ]
        );
        assert_eq!(paragraphs(text).len(), 2);
    }

    /// Regression: a no-break space before an abbreviation's period used to slice inside the
    /// two-byte character (found on the TRAM corpus, issue #3).
    #[test]
    fn multibyte_spaces_before_a_period() {
        assert_eq!(
            split("Seen in\u{a0}e.g. May.\u{a0}Then more."),
            ["Seen in\u{a0}e.g. May.", "Then more."]
        );
        assert_eq!(
            split("word\u{3000}Fig. 2 shows it."),
            ["word\u{3000}Fig. 2 shows it."]
        );
    }

    #[test]
    fn spans_are_trimmed_and_ordered() {
        let text = "  Alpha.   Beta.  \n\n\n  Gamma  ";
        let spans = sentences(text, &paragraphs(text));
        let pieces: Vec<&str> = spans.iter().map(|s| &text[s.start..s.end]).collect();
        assert_eq!(pieces, ["Alpha.", "Beta.", "Gamma"]);
        assert!(spans.windows(2).all(|w| w[0].end <= w[1].start));
    }

    /// Every offset's sentence, as the whole text's segmentation has it, asked in order and
    /// in reverse.
    fn assert_finder_agrees(text: &str) {
        let whole = sentences(text, &paragraphs(text));
        let offsets: Vec<usize> = (0..text.len())
            .filter(|o| text.is_char_boundary(*o))
            .collect();
        for order in [offsets.clone(), offsets.into_iter().rev().collect()] {
            let mut finder = SentenceFinder::new(text);
            for offset in order {
                let i = whole.partition_point(|s| s.end <= offset);
                let expected = whole.get(i).filter(|s| s.start <= offset).copied();
                assert_eq!(
                    finder.sentence_of(offset),
                    expected,
                    "offset {offset} of {text:?}"
                );
            }
        }
    }

    #[test]
    fn the_finder_gives_the_sentences_of_the_whole_text() {
        for text in [
            "",
            "One.",
            "  Alpha.   Beta.  \n\n\n  Gamma  ",
            "The loader ran.\nit was wrapped\nover lines. Then\n\n  next paragraph e.g. here.\n- item 1.2.3.4\n",
            "\n\n  lead.\r\nNext line.\r\n\r\nthird para starts low.\n continues low\n",
            "word. (Citation: A)(Citation: B) Next.\n「中文。」下一句！好？\nEnd",
        ] {
            assert_finder_agrees(text);
        }
        // A sentence cut at spaces for its length, indented in its paragraph.
        let long = format!(
            "Intro.\n\n    {}\nlower {}. Done.",
            "word ".repeat(300),
            "x ".repeat(700)
        );
        assert_finder_agrees(&long);
    }

    proptest::proptest! {
        #[test]
        fn the_finder_agrees_on_any_text(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "a", "B", " ", "  ", "\n", "\n\n", " \n", ".", ". ", "! ", "? ", "e.g. ", "Fig. ",
                "1.2.3.4", "(", ")", "[1]", "\"", "。", "\u{a0}", "\t", "\r\n", "word ", "Word ",
            ]), 0..120)
        ) {
            assert_finder_agrees(&pieces.concat());
        }
    }
}
