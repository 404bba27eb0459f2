//! The single pass over the text: tokens, spaced defangs, paths with spaces, user agents.

use memchr::memmem;

use crate::classify::{Candidate, classify};
use crate::refang::{Refanged, may_be_defanged, refang};
use crate::{Indicator, IocType};

/// Byte classes: which bytes end a token. Non-ASCII bytes end tokens too (indicators are
/// ASCII; this also keeps smart quotes and dashes out of values).
const fn delimiters() -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_whitespace()
            || b >= 0x80
            || b < 0x20
            || matches!(
                b,
                b'"' | b'<' | b'>' | b'|' | b'`' | b'\'' | b',' | b';' | b'^'
            );
        i += 1;
    }
    table
}

static DELIMITER: [bool; 256] = delimiters();

/// Leading and trailing punctuation that is not part of an indicator.
fn trim(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    loop {
        let before = (start, end);
        while start < end
            && matches!(
                bytes[start],
                b'(' | b'[' | b'{' | b'*' | b'!' | b'?' | b'.' | b':'
            )
        {
            // Keep `[` of a bracketed IPv6 host and `(`/`[` that open a defang marker.
            if bytes[start] == b'['
                && bytes
                    .get(start + 1)
                    .is_some_and(|b| *b == b'.' || *b == b':')
            {
                break;
            }
            start += 1;
        }
        while start < end {
            let last = bytes[end - 1];
            let strip = match last {
                b'.' | b'!' | b'?' | b'*' | b':' => {
                    // A defang marker like `evil[.]` keeps its bracket content.
                    true
                }
                b')' => count(&bytes[start..end], b'(') < count(&bytes[start..end], b')'),
                b']' => count(&bytes[start..end], b'[') < count(&bytes[start..end], b']'),
                b'}' => count(&bytes[start..end], b'{') < count(&bytes[start..end], b'}'),
                _ => false,
            };
            if !strip {
                break;
            }
            end -= 1;
        }
        if (start, end) == before {
            return (start, end);
        }
    }
}

fn count(bytes: &[u8], needle: u8) -> usize {
    bytes.iter().filter(|b| **b == needle).count()
}

/// Token spans: maximal runs of non-delimiter characters. ASCII is classified by table; a
/// non-ASCII character delimits only when it is a space or punctuation (smart quotes, dashes,
/// NBSP), so a word with an accented letter stays one word and is not cut into a domain.
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::with_capacity(bytes.len() / 6);
    let mut i = 0;
    let n = bytes.len();
    let delimits = |i: usize| -> (bool, usize) {
        let b = bytes[i];
        if b < 0x80 {
            return (DELIMITER[b as usize], 1);
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        let punctuation = c.is_whitespace()
            || matches!(c, '\u{2000}'..='\u{206F}' | '\u{3000}'..='\u{303F}' | '\u{FF01}'..='\u{FF0F}'
                | '\u{00A0}'..='\u{00BF}' | '\u{FE30}'..='\u{FE4F}' | '\u{FEFF}');
        (punctuation, c.len_utf8())
    };
    while i < n {
        loop {
            if i >= n {
                break;
            }
            let (delimiter, width) = delimits(i);
            if !delimiter {
                break;
            }
            i += width;
        }
        let start = i;
        while i < n {
            let (delimiter, width) = delimits(i);
            if delimiter {
                break;
            }
            i += width;
        }
        if i > start {
            spans.push((start, i));
        }
    }
    spans
}

/// Whether a token could hold an indicator at all: most words are rejected here.
fn is_candidate(token: &[u8]) -> bool {
    token.len() >= 3
        && token.is_ascii()
        && token.iter().any(|b| {
            b.is_ascii_digit()
                || matches!(
                    b,
                    b'.' | b':' | b'@' | b'\\' | b'/' | b'[' | b'(' | b'{' | b'-'
                )
        })
}

/// Scans `text` for indicators; flags are added by the caller.
pub fn scan(text: &str) -> Vec<Indicator> {
    let bytes = text.as_bytes();
    let spans = tokens(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < spans.len() {
        let (start, end) = spans[i];
        if let Some(next) = spaced_defang(text, &spans, i, &mut out) {
            i = next;
            continue;
        }
        if !is_candidate(&bytes[start..end]) {
            i += 1;
            continue;
        }
        let (mut start, mut end) = trim(bytes, start, end);
        let mut next = i + 1;
        if starts_windows_path(&bytes[start..end]) {
            (end, next) = extend_path(bytes, &spans, start, end, i);
            if start > 0
                && bytes[start - 1] == b'"'
                && let Some(close) = bytes[start..]
                    .iter()
                    .take(400)
                    .position(|b| *b == b'"' || *b == b'\n')
                && bytes[start + close] == b'"'
                && start + close > end
            {
                end = start + close;
                next = spans.partition_point(|(s, _)| *s < end);
            }
            let (s, e) = trim(bytes, start, end);
            (start, end) = (s, e);
        }
        process(text, start, end, &mut out);
        i = next;
    }
    user_agents(text, &mut out);
    out.sort_by_key(|a| (a.start, a.end, a.kind));
    out.dedup_by(|a, b| a.start == b.start && a.end == b.end && a.kind == b.kind);
    out
}

/// Classifies one trimmed token and records what it holds with source offsets.
fn process(text: &str, start: usize, end: usize, out: &mut Vec<Indicator>) {
    if end <= start || end - start < 3 {
        return;
    }
    let raw = &text[start..end];
    let refanged = if may_be_defanged(raw.as_bytes()) {
        refang(raw)
    } else {
        None
    };
    let view = refanged.as_ref().map_or(raw, |r| r.text.as_str());
    let mut candidates = Vec::new();
    classify(view, refanged.is_some(), &mut candidates);
    for candidate in candidates {
        out.push(to_indicator(text, start, refanged.as_ref(), candidate));
    }
}

fn to_indicator(text: &str, base: usize, map: Option<&Refanged>, c: Candidate) -> Indicator {
    let (from, to, defanged) = match map {
        Some(map) => {
            let (from, to) = map.source_range(c.start, c.end);
            (base + from, base + to, map.changed(c.start, c.end))
        }
        None => (base + c.start, base + c.end, false),
    };
    Indicator {
        kind: c.kind,
        value: c.value,
        raw: text[from..to].to_owned(),
        start: from,
        end: to,
        defanged,
        host: c.host,
        port: c.port,
        false_positive: c.false_positive,
        context: Vec::new(),
    }
}

/// `example dot com`, `user at example dot com`, `evil [.] com`: indicators written across
/// several tokens. Returns the index of the token after the indicator when one is found.
fn spaced_defang(
    text: &str,
    spans: &[(usize, usize)],
    i: usize,
    out: &mut Vec<Indicator>,
) -> Option<usize> {
    let bytes = text.as_bytes();
    let connector = |j: usize| -> Option<(&'static str, bool)> {
        let (s, e) = *spans.get(j)?;
        if e - s > 5 {
            return None;
        }
        let word = text[s..e].to_ascii_lowercase();
        match word.as_str() {
            "dot" => Some((".", true)),
            "[dot]" | "(dot)" | "{dot}" | "[.]" | "(.)" | "{.}" => Some((".", false)),
            "at" => Some(("@", true)),
            "[at]" | "(at)" | "{at}" | "[@]" | "(@)" => Some(("@", false)),
            _ => None,
        }
    };
    connector(i + 1)?;
    let label = |j: usize| -> Option<(usize, usize)> {
        let (s, e) = *spans.get(j)?;
        let (s, e) = trim(bytes, s, e);
        let ok = e > s
            && bytes[s..e].iter().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+' | b'%')
            });
        ok.then_some((s, e))
    };
    let first = label(i)?;
    // Build the joined text and its map back to the source.
    let mut joined = String::from(&text[first.0..first.1]);
    let mut map: Vec<u32> = (first.0..first.1).map(|p| (p - first.0) as u32).collect();
    let mut j = i + 1;
    let mut seen_at = false;
    let mut plain_at = false;
    let mut plain_words = false;
    let lower_label =
        |(s, e): (usize, usize)| !bytes[s..e].contains(&b'.') && !bytes[s].is_ascii_uppercase();
    let mut single_labels = lower_label(first);
    let mut dots = 0;
    let mut last_end = first.1;
    while let Some((symbol, plain)) = connector(j) {
        if symbol == "@" {
            if seen_at || dots > 0 {
                break;
            }
            seen_at = true;
            plain_at = plain;
        } else {
            dots += 1;
        }
        let Some(part) = label(j + 1) else { break };
        plain_words |= plain;
        single_labels &= lower_label(part);
        let connector_start = spans[j].0;
        joined.push_str(symbol);
        map.push((connector_start - first.0) as u32);
        joined.push_str(&text[part.0..part.1]);
        map.extend((part.0..part.1).map(|p| (p - first.0) as u32));
        last_end = part.1;
        j += 2;
    }
    // Plain English connectors ("dot", "at") join only single labels written in lower case
    // or digits (`evil dot com`), never a capitalized word or an already dotted name.
    if plain_words && !single_labels {
        return None;
    }
    if j == i + 1 || (plain_at && dots == 0) {
        // Nothing joined, or `look at evil.com`: a plain "at" needs a spaced dot after it too.
        return None;
    }
    let (_, last_token_end) = spans[j - 1];
    let _ = last_token_end;
    map.push((last_end - first.0) as u32);
    let refanged = Refanged::from_parts(joined, map);
    let mut candidates = Vec::new();
    classify(&refanged.text, true, &mut candidates);
    let accepted: Vec<Candidate> = candidates
        .into_iter()
        .filter(|c| {
            matches!(c.kind, IocType::Domain | IocType::Email | IocType::Url)
                && c.false_positive.is_none()
                && c.start == 0
        })
        .collect();
    if accepted.is_empty() {
        return None;
    }
    for candidate in accepted {
        let mut indicator = to_indicator(text, first.0, Some(&refanged), candidate);
        indicator.defanged = true;
        out.push(indicator);
    }
    Some(j)
}

fn starts_windows_path(token: &[u8]) -> bool {
    let drive =
        token.len() > 3 && token[0].is_ascii_alphabetic() && token[1] == b':' && token[2] == b'\\';
    let unc = token.starts_with(b"\\\\");
    let hive = token.len() > 4 && token[..2].eq_ignore_ascii_case(b"HK") && token.contains(&b'\\');
    let variable = token.first() == Some(&b'%') && token.contains(&b'\\');
    drive || unc || hive || variable
}

/// `C:\Program Files\Evil\x.exe`: continue a Windows path or registry key over single spaces
/// while the next word carries on with a backslash.
fn extend_path(
    bytes: &[u8],
    spans: &[(usize, usize)],
    start: usize,
    mut end: usize,
    mut i: usize,
) -> (usize, usize) {
    let _ = start;
    while let Some(&(next_start, next_end)) = spans.get(i + 1) {
        let single_space = next_start == spans[i].1 + 1 && bytes[spans[i].1] == b' ';
        let next = &bytes[next_start..next_end];
        let continues = next.contains(&b'\\') && !starts_windows_path(next) && next[0] != b'\\';
        if !(single_space && continues) {
            break;
        }
        end = next_end;
        i += 1;
    }
    (end, i + 1)
}

/// User agents: `Mozilla/5.0 (...) ...` anywhere, and the value of `User-Agent:` labels.
fn user_agents(text: &str, out: &mut Vec<Indicator>) {
    let bytes = text.as_bytes();
    let mut push = |start: usize| {
        let end = bytes[start..]
            .iter()
            .take(512)
            .position(|b| matches!(b, b'\n' | b'\r' | b'"' | b'\'' | b'<' | b'`'))
            .map_or((start + 512).min(bytes.len()), |p| start + p);
        let mut end = end;
        while end > start && matches!(bytes[end - 1], b' ' | b'.' | b',' | b';' | b'\t') {
            end -= 1;
        }
        // Stay on a character boundary (the window may cut a multi-byte character).
        while end > start && !text.is_char_boundary(end) {
            end -= 1;
        }
        let raw = &text[start..end];
        if raw.len() >= 10 && raw.contains('/') {
            out.push(Indicator {
                kind: IocType::UserAgent,
                value: raw.to_owned(),
                raw: raw.to_owned(),
                start,
                end,
                defanged: false,
                host: None,
                port: None,
                false_positive: None,
                context: Vec::new(),
            });
        }
    };
    let mut seen = Vec::new();
    for label in ["User-Agent:", "user-agent:", "User-agent:", "USER-AGENT:"] {
        for position in memmem::find_iter(bytes, label.as_bytes()) {
            let mut start = position + label.len();
            while start < bytes.len() && matches!(bytes[start], b' ' | b'\t') {
                start += 1;
            }
            if start < bytes.len() {
                seen.push(start);
                push(start);
            }
        }
    }
    for position in memmem::find_iter(bytes, b"Mozilla/") {
        if !seen.contains(&position) && bytes[position..].iter().take(40).any(|b| *b == b'(') {
            push(position);
        }
    }
}

/// Reference lists: from a line reading "References", "Sources", "Further reading"... to the
/// first line after it that is not a reference entry (a numbered or bulleted item, a line with
/// a URL, or a blank line).
pub fn reference_sections(text: &str) -> Vec<(usize, usize)> {
    let mut sections = Vec::new();
    let mut offset = 0;
    let mut open: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        let heading = trimmed
            .trim_start_matches(['#', '*', '=', ' '])
            .trim_end_matches([':', '*', '=', ' '])
            .to_ascii_lowercase();
        let is_reference_heading = matches!(
            heading.as_str(),
            "references"
                | "reference"
                | "sources"
                | "further reading"
                | "bibliography"
                | "external links"
                | "endnotes"
                | "citations"
                | "notes and references"
                | "reference links"
                | "resources"
        );
        if let Some(start) = open
            && !is_reference_heading
            && !is_reference_entry(trimmed)
        {
            sections.push((start, offset));
            open = None;
        }
        if is_reference_heading && open.is_none() {
            open = Some(offset + line.len());
        }
        offset += line.len();
    }
    if let Some(start) = open {
        sections.push((start, text.len()));
    }
    sections
}

fn is_reference_entry(line: &str) -> bool {
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

/// Whether the word before `start` says the number is a version (`version 1.2.3.4`).
pub fn follows_version_word(text: &str, start: usize) -> bool {
    let window_start = start.saturating_sub(24);
    let Some(before) = text.get(window_start..start) else {
        return false;
    };
    let before = before.trim_end().to_ascii_lowercase();
    let word = before
        .rsplit(|c: char| !c.is_ascii_alphabetic() && c != '.')
        .next()
        .unwrap_or("");
    matches!(
        word,
        "version" | "ver" | "ver." | "v" | "v." | "build" | "release" | "firmware" | "versions"
    )
}
