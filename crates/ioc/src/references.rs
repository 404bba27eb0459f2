//! Reference lists at the end of reports. A domain or URL that appears only there is a
//! citation, not an indicator.
//!
//! A section runs from a line reading "References", "Sources", "Further reading"... to the first
//! line after it that is neither such a heading nor a reference entry (a numbered or bulleted
//! item, a line with a URL, or a blank line). Put as a rule on lines: a section is open after a
//! line when that line is a heading, or when it is an entry and the section was open before it.
//!
//! Sections are not computed for the whole text: only domains and URLs are ever asked about,
//! and each question walks back from its line until the rule settles, which takes one or two
//! lines in prose. Questions come in text order, so the answer for the previous question's line
//! is remembered and a long list is walked once, whatever the number of URLs in it.

/// Answers whether byte ranges of one text lie inside a reference section.
pub struct ReferenceSections<'t> {
    text: &'t str,
    /// The start of a line and whether a section is open just before it, from the last walk.
    known: Option<(usize, bool)>,
    /// The last line looked at, as its span and kind: lines with many URLs are read once.
    line: Option<(usize, usize, Line)>,
}

/// What a line is to the section rule.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Line {
    Heading,
    Entry,
    Other,
}

impl<'t> ReferenceSections<'t> {
    /// Questions about `text`.
    pub fn new(text: &'t str) -> Self {
        ReferenceSections {
            text,
            known: None,
            line: None,
        }
    }

    /// Whether `start..end` lies inside a reference section. Cheapest when asked in text order.
    pub fn contains(&mut self, start: usize, end: usize) -> bool {
        let (first, mut line_end, mut kind) = self.line_at(start);
        // Every line the range touches must keep the section open (the text's end stops the
        // walk for a range that runs past it).
        while kind != Line::Other && line_end < end && line_end < self.text.len() {
            (_, line_end, kind) = self.line_at(line_end);
        }
        kind != Line::Other && self.open_before(first)
    }

    /// Whether a section is open just before the line that starts at `line`.
    fn open_before(&mut self, line: usize) -> bool {
        let mut at = line;
        let open = loop {
            if at == 0 {
                break false;
            }
            if let Some((known, open)) = self.known
                && known == at
            {
                break open;
            }
            // Not remembered: the line of the next question is more likely to be asked again.
            let (previous, _, kind) = line_around(self.text, at - 1);
            match kind {
                Line::Heading => break true,
                Line::Entry => at = previous,
                Line::Other => break false,
            }
        };
        self.known = Some((line, open));
        open
    }

    /// The span and kind of the line that holds byte `at`, remembered for the next question.
    fn line_at(&mut self, at: usize) -> (usize, usize, Line) {
        if let Some(line @ (start, end, _)) = self.line
            && (start..end).contains(&at)
        {
            return line;
        }
        let line = line_around(self.text, at);
        self.line = Some(line);
        line
    }
}

/// Whether `line` (one line of text, with or without its line break) ends every reference
/// section open before it: it is neither a heading nor an entry. Text cut right after such a
/// line has the same sections, in each part, as the whole text.
pub fn closes_sections(line: &str) -> bool {
    line_around(line, 0).2 == Line::Other
}

/// The span and kind of the line of `text` that holds byte `at`.
fn line_around(text: &str, at: usize) -> (usize, usize, Line) {
    let bytes = text.as_bytes();
    let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |p| p + 1);
    let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |p| at + p + 1);
    let line = &text[start..end];
    let kind = if may_be_heading(line.as_bytes()) && is_heading(line.trim()) {
        Line::Heading
    } else if is_entry(line.trim()) {
        Line::Entry
    } else {
        Line::Other
    };
    (start, end, kind)
}

/// False for a line that cannot be a reference heading, decided from its length and its two
/// ends: a long line that starts with a letter or digit and ends with none of the decorations
/// stays longer than any heading once trimmed. Most lines of prose are such lines.
fn may_be_heading(line: &[u8]) -> bool {
    let content = line.strip_suffix(b"\n").unwrap_or(line);
    let content = content.strip_suffix(b"\r").unwrap_or(content);
    let (Some(first), Some(last)) = (content.first(), content.last()) else {
        return true;
    };
    let plain_start = first.is_ascii_alphanumeric();
    let plain_end = last.is_ascii_graphic() && !matches!(last, b':' | b'*' | b'=');
    content.len() <= 64 || !plain_start || !plain_end
}

/// Whether a trimmed line is the heading of a reference list, decorated or not (`## Sources`,
/// `**References:**`).
fn is_heading(line: &str) -> bool {
    const HEADINGS: &[&str] = &[
        "references",
        "reference",
        "sources",
        "further reading",
        "bibliography",
        "external links",
        "endnotes",
        "citations",
        "notes and references",
        "reference links",
        "resources",
    ];
    let heading = line
        .trim_start_matches(['#', '*', '=', ' '])
        .trim_end_matches([':', '*', '=', ' ']);
    heading.len() <= 24 && HEADINGS.iter().any(|h| h.eq_ignore_ascii_case(heading))
}

/// Whether a trimmed line is an entry of a reference list, or blank.
fn is_entry(line: &str) -> bool {
    let bytes = line.as_bytes();
    let numbered = bytes.first().is_some_and(u8::is_ascii_digit)
        && line
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .starts_with(['.', ')', ']']);
    line.is_empty()
        || numbered
        || line.starts_with(['[', '-', '*', '•', '^'])
        || line.contains("://")
        || line.contains("www.")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The sections of the whole text, line by line from the top: the rule as first written.
    fn sections(text: &str) -> Vec<(usize, usize)> {
        let mut sections = Vec::new();
        let mut open: Option<usize> = None;
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let end = offset + line.len();
            let heading = is_heading(line.trim());
            if let Some(start) = open
                && !heading
                && !is_entry(line.trim())
            {
                sections.push((start, offset));
                open = None;
            }
            if heading && open.is_none() {
                open = Some(end);
            }
            offset = end;
        }
        if let Some(start) = open {
            sections.push((start, text.len()));
        }
        sections
    }

    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("References".to_owned()),
            Just("## Sources:".to_owned()),
            Just("**Further reading**".to_owned()),
            Just(String::new()),
            Just("[1] https://vendor.example/report".to_owned()),
            Just("2. www.example.org".to_owned()),
            Just("- a bulleted note".to_owned()),
            Just("The actor used evil.com for its C2 traffic.".to_owned()),
            Just("x".repeat(70) + " references"),
            Just("Sources\r".to_owned()),
            "[a-z .:/\\[\\]-]{0,12}",
        ]
    }

    proptest! {
        /// Walking back from each range answers as the sections computed from the top do, for
        /// ranges asked in order, out of order, and across lines.
        #[test]
        fn walking_back_agrees_with_the_sections_from_the_top(
            lines in proptest::collection::vec(line(), 0..24),
            trailing_newline in any::<bool>(),
            ranges in proptest::collection::vec((0usize..2000, 1usize..80), 1..12),
            sorted in any::<bool>(),
        ) {
            let mut text = lines.join("\n");
            if trailing_newline {
                text.push('\n');
            }
            prop_assume!(!text.is_empty());
            let expected = sections(&text);
            let mut ranges: Vec<(usize, usize)> = ranges
                .into_iter()
                .map(|(start, len)| {
                    let start = start % text.len();
                    (start, (start + len).min(text.len()).max(start + 1))
                })
                .collect();
            if sorted {
                ranges.sort_unstable();
            }
            let mut walk = ReferenceSections::new(&text);
            for (start, end) in ranges {
                let inside = expected.iter().any(|(s, e)| start >= *s && end <= *e);
                prop_assert_eq!(walk.contains(start, end), inside, "{:?} {}..{}", text, start, end);
            }
        }
    }

    proptest! {
        /// Text cut after a line that closes sections has, in each part, the sections the
        /// whole text has there.
        #[test]
        fn a_cut_after_a_closing_line_keeps_the_sections(
            lines in proptest::collection::vec(line(), 1..24),
            at in 0usize..24,
        ) {
            let text = lines.join("\n") + "\n";
            let at = at % lines.len();
            prop_assume!(closes_sections(&lines[at]));
            let cut: usize = lines[..=at].iter().map(|l| l.len() + 1).sum();
            let (head, tail) = text.split_at(cut);
            let moved = |(s, e): (usize, usize)| (s + cut, e + cut);
            let parts: Vec<(usize, usize)> = sections(head)
                .into_iter()
                .chain(sections(tail).into_iter().map(moved))
                .collect();
            prop_assert_eq!(parts, sections(&text), "{:?} cut at {}", text, cut);
        }
    }

    #[test]
    fn a_list_after_its_heading_is_a_section_until_the_prose_resumes() {
        let text = "Intro with evil.com.\n\nReferences\n\n[1] https://a.com/x\n- https://b.com/y\nThe end.\n";
        let mut walk = ReferenceSections::new(text);
        for (needle, inside) in [
            ("evil.com", false),
            ("References", false),
            ("https://a.com/x", true),
            ("https://b.com/y", true),
            ("The end", false),
        ] {
            let start = text.find(needle).unwrap_or(text.len());
            assert_eq!(
                walk.contains(start, start + needle.len()),
                inside,
                "{needle}"
            );
        }
    }
}
