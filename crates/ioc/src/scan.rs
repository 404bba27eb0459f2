//! The single pass over the text: interesting tokens, spaced defangs, paths with spaces, user
//! agents, reference sections.

use crate::classify::{Candidate, classify};
use crate::refang::{Refanged, may_be_defanged, refang};
use crate::validate;
use crate::{Indicator, IocType};

/// Whether the character at byte `i` ends a token, and its width. ASCII goes through the
/// table; a non-ASCII character delimits only when it is a space or punctuation (smart quotes,
/// dashes, NBSP), so a word with an accented letter stays one word and is not cut into a domain.
fn delimiter_at(text: &str, i: usize) -> (bool, usize) {
    let b = text.as_bytes()[i];
    if b < 0x80 {
        return (DELIMITER[b as usize], 1);
    }
    let c = text[i..].chars().next().unwrap_or(' ');
    (non_ascii_delimits(c), c.len_utf8())
}

/// Non-ASCII characters that end a token: spaces and punctuation, and letters of scripts
/// written without spaces or never used in indicators (CJK, Kana, Hangul, Cyrillic, Arabic...),
/// so `1BE6...FE电报.msi` yields its hash. Latin letters with accents (`é`) keep a word whole.
fn non_ascii_delimits(c: char) -> bool {
    let latin_letter =
        matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}') && c != '×' && c != '÷';
    !latin_letter
}

/// The start of the character that ends just before byte `i`.
fn previous_char(text: &str, i: usize) -> usize {
    let mut j = i - 1;
    while !text.is_char_boundary(j) {
        j -= 1;
    }
    j
}

/// The start of the token that contains byte `i`, not going below `floor`.
fn token_start(text: &str, mut i: usize, floor: usize) -> usize {
    let bytes = text.as_bytes();
    while i > floor {
        // ASCII needs no character-boundary search.
        let b = bytes[i - 1];
        if b < 0x80 {
            if DELIMITER[b as usize] {
                return i;
            }
            i -= 1;
            continue;
        }
        let j = previous_char(text, i);
        if j < floor || delimiter_at(text, j).0 {
            return i;
        }
        i = j;
    }
    i
}

/// The end of the token that contains byte `i`.
fn token_end(text: &str, mut i: usize) -> usize {
    const BLOCK: usize = 16;
    let bytes = text.as_bytes();
    // ASCII blocks first, without a branch per byte: most tokens end within one.
    while let Some(block) = bytes.get(i..i + BLOCK) {
        let mut flags = [0u8; BLOCK];
        for (flag, b) in flags.iter_mut().zip(block) {
            *flag = ends_ascii_run(*b);
        }
        let words = flags
            .as_chunks::<8>()
            .0
            .iter()
            .map(|word| u64::from_le_bytes(*word));
        let Some((k, word)) = words.enumerate().find(|(_, word)| *word != 0) else {
            i += BLOCK;
            continue;
        };
        i += k * 8 + (word.trailing_zeros() / 8) as usize;
        if bytes[i] < 0x80 {
            return i;
        }
        // A non-ASCII character: a delimiter or a letter of the word.
        let (delimiter, width) = delimiter_at(text, i);
        if delimiter {
            return i;
        }
        i += width;
    }
    while i < text.len() {
        let (delimiter, width) = delimiter_at(text, i);
        if delimiter {
            break;
        }
        i += width;
    }
    i
}

/// Whether byte `b` ends a run of ASCII word bytes: an ASCII delimiter (see `DELIMITER`) or
/// the first byte of a non-ASCII character. Comparisons only, so that blocks vectorize.
fn ends_ascii_run(b: u8) -> u8 {
    let is = |x: u8| u8::from(b == x);
    u8::from(b <= b' ')
        | u8::from(b >= 0x80)
        | is(b'"')
        | is(b'<')
        | is(b'>')
        | is(b'|')
        | is(b'`')
        | is(b'\'')
        | is(b',')
        | is(b';')
        | is(b'^')
}

/// The next token at or after byte `i`.
fn next_token(text: &str, mut i: usize) -> Option<(usize, usize)> {
    while i < text.len() {
        let (delimiter, width) = delimiter_at(text, i);
        if !delimiter {
            return Some((i, token_end(text, i)));
        }
        i += width;
    }
    None
}

/// The token that ends before byte `i`, skipping delimiters.
fn previous_token(text: &str, i: usize) -> Option<(usize, usize)> {
    let mut end = i;
    while end > 0 {
        let j = previous_char(text, end);
        if !delimiter_at(text, j).0 {
            break;
        }
        end = j;
    }
    (end > 0).then(|| (token_start(text, end, 0), end))
}

/// Whether byte `b` makes a token worth a look: a digit or one of the marks indicators carry
/// (`.` `:` `@` `\` `/` `[` `(` `{`), as 0 or 1. Comparisons only (`.` `/` digits `:` are one
/// range), so that the compiler can run it on a whole block of bytes at once.
const fn is_interesting(b: u8) -> u8 {
    (b.wrapping_sub(b'.') <= b':' - b'.') as u8
        | (b == b'@') as u8
        | (b == b'\\') as u8
        | (b == b'[') as u8
        | (b == b'(') as u8
        | (b == b'{') as u8
}

/// [`is_interesting`] as a table, for byte-at-a-time loops.
static INTERESTING: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = is_interesting(i as u8) != 0;
        i += 1;
    }
    table
};

/// Whether the scan stops at byte `b`, given the byte before it and the three after it (a
/// missing byte is passed as a space after the text's end for `next`, as 0 elsewhere):
/// - at an interesting byte, except a period or colon that ends a word (`word.`, `Note:`,
///   followed by a space, a control character or the end), by far the most common in prose;
///   such a word holds nothing, since the scan would have stopped at an interesting byte in it
///   first;
/// - at the `d` of the plain-word connector ` dot ` (also ` DOT `, ` Dot `) of spaced domains
///   (`evil dot com`).
///
/// Comparisons without branches, so that the compiler tests a whole block at once.
fn is_stop(before: u8, b: u8, next: u8, second: u8, third: u8) -> u8 {
    let is = |x: u8, y: u8| u8::from(x == y);
    // Space, control characters and the text's end all end a token.
    let ends_word = (is(b, b'.') | is(b, b':')) & u8::from(next <= b' ');
    // `dot`, `DOT` or `Dot`: the letters in any case, the last two in the same case, and not
    // a lower-case letter before an upper-case one.
    const CASE: u8 = 0x20;
    let letters = is(b | CASE, b'd') & is(next | CASE, b'o') & is(second | CASE, b't');
    let cased = is((next ^ second) & CASE, 0) & is(b & !next & CASE, 0);
    let connector = is(before, b' ') & letters & cased & is(third, b' ');
    (is_interesting(b) & (ends_word ^ 1)) | connector
}

/// [`is_stop`] at byte `k`, near the ends of the text.
fn is_stop_at(bytes: &[u8], k: usize) -> bool {
    let byte = |k: Option<usize>| k.and_then(|k| bytes.get(k)).copied().unwrap_or(0);
    let next = bytes.get(k + 1).copied().unwrap_or(b' ');
    let (before, second, third) = (byte(k.checked_sub(1)), byte(Some(k + 2)), byte(Some(k + 3)));
    is_stop(before, bytes[k], next, second, third) != 0
}

/// The first byte at or after `from` where the scan stops (see [`is_stop`]). Blocks of 32
/// bytes are tested without a branch per byte (the loop vectorizes); prose has long runs
/// without a stop.
fn find_stop(bytes: &[u8], from: usize) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut i = from;
    if i == 0 {
        if !bytes.is_empty() && is_stop_at(bytes, 0) {
            return Some(0);
        }
        i = 1;
    }
    // Each block reads one byte before it and three past it.
    while let Some(window) = bytes.get(i - 1..i + BLOCK + 3) {
        let mut flags = [0u8; BLOCK];
        for (k, flag) in flags.iter_mut().enumerate() {
            *flag = is_stop(
                window[k],
                window[k + 1],
                window[k + 2],
                window[k + 3],
                window[k + 4],
            );
        }
        // The first flagged byte: eight flags at a time, read as one little-endian word.
        for (k, word) in flags.as_chunks::<8>().0.iter().enumerate() {
            let word = u64::from_le_bytes(*word);
            if word != 0 {
                return Some(i + k * 8 + (word.trailing_zeros() / 8) as usize);
            }
        }
        i += BLOCK;
    }
    (i..bytes.len()).find(|&k| is_stop_at(bytes, k))
}

/// Whether a token could hold an indicator at all.
fn is_candidate(token: &[u8]) -> bool {
    token.len() >= 3 && token.is_ascii() && token.iter().any(|b| INTERESTING[*b as usize])
}

/// Scans `text` for indicators; flags are added by the caller.
///
/// The scan jumps from one interesting byte to the next and expands only that token, so plain
/// words cost a table lookup per byte. Indicators written across words (`evil dot com`) are
/// reached through their connectors.
pub fn scan(text: &str) -> Vec<Indicator> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let anchors = anchors(bytes);
    let mut candidates = Vec::new();
    // User agents go into the list where they stand in the text, so that it rarely needs a
    // sort at the end (moving every indicator).
    // Last first, so that the next one to place is popped from the end.
    let mut agents = user_agents(text, &anchors);
    agents.sort_by_key(|a| std::cmp::Reverse(order(a)));
    // Everything before `done` has been handled.
    let mut done = 0;
    let mut i = 0;
    while let Some(at) = find_stop(bytes, i) {
        let start = token_start(text, at, done);
        let end = token_end(text, at);
        while let Some(agent) = agents.pop_if(|a| a.start < start) {
            out.push(agent);
        }
        if let Some(id_end) = spaced_id(text, start, end, &mut out) {
            done = id_end;
            i = id_end.max(at + 1);
            continue;
        }
        if let Some(chain_end) = spaced_defang(text, start, end, &mut out) {
            done = chain_end;
            // Always forward, whatever the chain: time stays linear.
            i = chain_end.max(at + 1);
            continue;
        }
        let next = handle_token(text, start, end, &mut out, &mut candidates);
        done = next;
        i = next.max(at + 1);
    }
    out.extend(agents.into_iter().rev());
    // The scan finds indicators nearly in order; sorting moves them only when it did not.
    if !out.is_sorted_by_key(order) {
        out.sort_by_key(order);
    }
    out.dedup_by_key(|a| order(a));
    out
}

/// The order of the indicator list: by position, then kind. One indicator per key is kept.
fn order(a: &Indicator) -> (usize, usize, IocType) {
    (a.start, a.end, a.kind)
}

/// Where user agents start, found before the scan.
struct Anchors {
    user_agent_labels: Vec<usize>,
    mozilla: Vec<usize>,
}

/// `User-Agent:` labels and `Mozilla/` strings, in one pass over colons and slashes (both rare
/// in prose).
fn anchors(bytes: &[u8]) -> Anchors {
    let (mut user_agent_labels, mut mozilla) = (Vec::new(), Vec::new());
    for p in memchr::memchr2_iter(b':', b'/', bytes) {
        if bytes[p] == b':' {
            if p >= 10 && bytes[p - 10..p].eq_ignore_ascii_case(b"user-agent") {
                user_agent_labels.push(p + 1);
            }
        } else if p >= 7 && bytes[p - 7..p].eq_ignore_ascii_case(b"Mozilla") {
            mozilla.push(p - 7);
        }
    }
    Anchors {
        user_agent_labels,
        mozilla,
    }
}

/// Trims, extends (Windows paths with spaces) and classifies one token; returns where the scan
/// continues.
fn handle_token(
    text: &str,
    start: usize,
    end: usize,
    out: &mut Vec<Indicator>,
    candidates: &mut Vec<Candidate>,
) -> usize {
    let bytes = text.as_bytes();
    if !worth_classifying(&bytes[start..end]) {
        return end;
    }
    let raw = (start, end);
    let (mut start, mut end) = trim(bytes, start, end);
    let mut next = end.max(start);
    // An untrimmed token passed the test above already.
    if (start, end) != raw && (end < start + 3 || !is_candidate(&bytes[start..end])) {
        return next;
    }
    if bytes[start] == b'\\'
        && let Some((open, hive)) = bracketed_hive(text, start)
    {
        let key = format!("{hive}{}", &text[start..end]);
        let mut found = Vec::new();
        classify(&key, false, &mut found);
        for c in found
            .into_iter()
            .filter(|c| c.kind == IocType::Registry && c.start == 0)
        {
            let key_end = start + (c.end - hive.len());
            let mut key = Indicator::plain(IocType::Registry, c.value, text, open, key_end);
            key.context.push("hive written as a placeholder".to_owned());
            out.push(key);
        }
        return next;
    }
    if bytes[end - 1] == b'\\' && bytes[start..end].starts_with(b"HK") {
        end = extend_placeholders(text, end);
        next = end;
    }
    if starts_windows_path(&bytes[start..end]) {
        end = extend_placeholders(text, end);
        end = extend_path(text, end);
        if start > 0 && bytes[start - 1] == b'"' {
            let closing = bytes[start..]
                .iter()
                .take(400)
                .position(|b| *b == b'"' || *b == b'\n')
                .map(|p| start + p);
            if let Some(close) = closing.filter(|c| bytes[*c] == b'"' && *c > end) {
                end = close;
            }
        }
        next = end;
        (start, end) = trim(bytes, start, end);
    } else if starts_unix_path(&bytes[start..end]) {
        end = extend_unix_path(text, start, end);
        next = end;
        (start, end) = trim(bytes, start, end);
    }
    process(text, start, end, out, candidates);
    next.max(end)
}

/// Bits of [`PROFILE`].
const NON_ASCII: u8 = 1;
const HAS_INTERESTING: u8 = 2;
const MARKED: u8 = 4;

/// Per byte: whether it is non-ASCII, interesting (`INTERESTING`), or one of the marks
/// `. : @ / \ [ ( { =` that nearly every indicator type needs.
static PROFILE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        if b >= 0x80 {
            table[b] = NON_ASCII;
        } else if INTERESTING[b] {
            table[b] = HAS_INTERESTING;
        }
        b += 1;
    }
    let marks = *b".:@/\\[({=";
    let mut k = 0;
    while k < marks.len() {
        table[marks[k] as usize] |= MARKED;
        k += 1;
    }
    table
};

/// Whether a raw token deserves trimming, refanging and classifying, from one pass over it:
/// it is a candidate ([`is_candidate`]), and not ruled out by the quick test. A token of at
/// most 13 bytes without any of `. : @ / \ [ ( { =` can only be an identifier (`T1059`,
/// `CVE-2021-44228`, `AS13335`, `D3-NI`), and those start with one of a few letters; every other
/// indicator type needs one of those marks or more bytes (hashes, coin addresses, dashed MACs, a
/// CVE glued inside a word). That rules out most candidate tokens of prose (`2020)`, `RC4`,
/// `x64`, `64-bit`).
fn worth_classifying(token: &[u8]) -> bool {
    let profile = token.iter().fold(0u8, |p, b| p | PROFILE[*b as usize]);
    if token.len() < 3 || profile & NON_ASCII != 0 || profile & HAS_INTERESTING == 0 {
        return false;
    }
    if token.len() > 13 || profile & MARKED != 0 {
        return true;
    }
    // The trim strips these from the front before an identifier is looked for.
    let first = token.iter().find(|b| !matches!(b, b'*' | b'!' | b'?'));
    matches!(
        first,
        Some(b'C' | b'c' | b'A' | b'a' | b'D' | b'T' | b't' | b'M')
    )
}

/// Which connector a token is: `.` or `@`, and whether it is a plain English word.
fn connector(text: &str, (s, e): (usize, usize)) -> Option<(&'static str, bool)> {
    let word = &text.as_bytes()[s..e];
    if word.len() > 5 || word.is_empty() || (word.len() == 1 && word != b"@") {
        return None;
    }
    let is = |w: &str| word.eq_ignore_ascii_case(w.as_bytes());
    if is("dot") {
        Some((".", true))
    } else if ["[dot]", "(dot)", "{dot}", "[.]", "(.)", "{.}"]
        .iter()
        .any(|w| is(w))
    {
        Some((".", false))
    } else if is("at") {
        Some(("@", true))
    } else if ["@", "[at]", "(at)", "{at}", "[@]", "(@)"]
        .iter()
        .any(|w| is(w))
    {
        Some(("@", false))
    } else {
        None
    }
}

/// A token usable as a label of a spaced indicator, trimmed: its span and its text, refanged
/// when it carries markers itself (`ops @ mail-relay[.]net`) with the source offset of each
/// byte.
fn spaced_label(text: &str, token: (usize, usize)) -> Option<(usize, usize, String, Vec<u32>)> {
    let bytes = text.as_bytes();
    let (s, e) = trim(bytes, token.0, token.1);
    if e <= s {
        return None;
    }
    let label_bytes = |t: &[u8]| {
        t.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+' | b'%'))
    };
    if label_bytes(&bytes[s..e]) {
        return Some((s, e, text[s..e].to_owned(), (s as u32..e as u32).collect()));
    }
    let refanged = refang(&text[s..e]).filter(|r| label_bytes(r.text.as_bytes()))?;
    let map = (0..refanged.text.len())
        .map(|j| (s + refanged.source_range(j, j + 1).0) as u32)
        .collect();
    Some((s, e, refanged.text, map))
}

/// `example dot com`, `user at example dot com`, `evil [.] com`: indicators written across
/// several tokens. The scan reaches one at a connector token (`start..end`); the indicator
/// begins one label before it, or two when an "at" precedes. Returns where the scan continues
/// when one is found.
fn spaced_defang(text: &str, start: usize, end: usize, out: &mut Vec<Indicator>) -> Option<usize> {
    connector(text, (start, end))?;
    let mut first = spaced_label(text, previous_token(text, start)?)?;
    if let Some(at) = previous_token(text, first.0)
        && connector(text, at).is_some_and(|(symbol, _)| symbol == "@")
        && let Some(user) = previous_token(text, at.0).and_then(|t| spaced_label(text, t))
    {
        // The user, the `@`, and the label after it are joined below again.
        first = user;
    }
    let bytes = text.as_bytes();
    let lower_label =
        |(s, label): (usize, &str)| !label.contains('.') && !bytes[s].is_ascii_uppercase();
    let origin = first.0;
    let mut joined = first.2.clone();
    let mut map: Vec<u32> = first.3.iter().map(|p| p - origin as u32).collect();
    let mut single_labels = lower_label((first.0, &first.2));
    let (mut seen_at, mut plain_at, mut plain_words) = (false, false, false);
    let mut dots = 0;
    let mut parts = 0;
    let mut last_end = first.1;
    // A domain written out in words has a handful of labels; the cap keeps long runs such as
    // "a dot a dot a ..." linear.
    const MAX_SPACED_PARTS: usize = 10;
    while let Some(link) = next_token(text, last_end) {
        let Some((symbol, plain)) = connector(text, link) else {
            break;
        };
        if parts >= MAX_SPACED_PARTS {
            return None;
        }
        if symbol == "@" {
            if seen_at || dots > 0 {
                break;
            }
            seen_at = true;
            plain_at = plain;
        } else {
            dots += 1;
        }
        let Some(part) = next_token(text, link.1).and_then(|t| spaced_label(text, t)) else {
            break;
        };
        plain_words |= plain;
        single_labels &= lower_label((part.0, &part.2));
        // A label that carried its own dots counts as a spaced dot (`ops @ relay[.]net`).
        dots += part.2.matches('.').count();
        joined.push_str(symbol);
        map.extend(std::iter::repeat_n((link.0 - origin) as u32, symbol.len()));
        joined.push_str(&part.2);
        map.extend(part.3.iter().map(|p| p - origin as u32));
        last_end = part.1;
        parts += 1;
    }
    // Plain English connectors join only single labels in lower case or digits (`evil dot
    // com`), never a capitalized word or an already dotted name; a plain "at" needs a spaced
    // dot after it too (`look at evil.com` is prose).
    // The chain must reach past the connector the scan stopped at: one that began earlier and
    // ended before it (`E [@] y.Hu [@]`, stopped at the second `[@]`) was found already.
    if parts == 0 || last_end <= start || (plain_words && !single_labels) || (plain_at && dots == 0)
    {
        return None;
    }
    map.push((last_end - origin) as u32);
    let refanged = Refanged::from_parts(joined, map);
    let mut candidates = Vec::new();
    classify(&refanged.text, true, &mut candidates);
    candidates.retain(|c| {
        matches!(c.kind, IocType::Domain | IocType::Email | IocType::Url)
            && c.false_positive.is_none()
            && c.start == 0
    });
    if candidates.is_empty() {
        return None;
    }
    for candidate in candidates {
        let mut indicator = to_indicator(text, origin, Some(&refanged), candidate);
        indicator.defanged = true;
        out.push(indicator);
    }
    Some(last_end)
}

/// Identifiers written with spaces (`CVE 2021 44228`, `cve 2021-44228`, `AS 13335`): the scan
/// reaches them at their digits (`start..end`). Returns where the scan continues when one is
/// found.
fn spaced_id(text: &str, start: usize, end: usize, out: &mut Vec<Indicator>) -> Option<usize> {
    let bytes = text.as_bytes();
    let digits = |(s, e): (usize, usize)| bytes[s..e].iter().all(u8::is_ascii_digit);
    if !bytes[start].is_ascii_digit() {
        return None;
    }
    let label = previous_token(text, start)?;
    // Exactly one space between the words.
    if label.1 + 1 != start || bytes[label.1] != b' ' {
        return None;
    }
    let word = &text[label.0..label.1];
    let (kind, value, end) = if word.eq_ignore_ascii_case("CVE") {
        // `CVE 2021 44228` or `CVE 2021-44228`.
        let (year_end, number) = if end - start == 4 && digits((start, end)) {
            let number = next_token(text, end).filter(|n| n.0 == end + 1 && bytes[end] == b' ')?;
            (end, number)
        } else if bytes.get(start + 4) == Some(&b'-') {
            (start + 4, (start + 5, end))
        } else {
            return None;
        };
        let written = format!(
            "CVE-{}-{}",
            &text[start..year_end],
            &text[number.0..number.1]
        );
        (IocType::Cve, validate::cve(&written)?, number.1)
    } else if (word == "AS" || word.eq_ignore_ascii_case("ASN")) && digits((start, end)) {
        // `AS 1234`, `ASN 1234`, `asn 1234`; never a lower-case `as 1234` (the English word).
        (
            IocType::Asn,
            validate::asn(&format!("AS{}", &text[start..end]))?,
            end,
        )
    } else {
        return None;
    };
    out.push(Indicator::plain(kind, value, text, label.0, end));
    Some(end)
}

/// Registry hives written in angle brackets as placeholders (`<HKCU>\Software\Evil`): the
/// start of the `<` and the hive, when the token at `start` (a backslash) follows one.
fn bracketed_hive(text: &str, start: usize) -> Option<(usize, &str)> {
    let before = text.get(start.saturating_sub(24)..start)?;
    let open = before.rfind('<')?;
    let hive = before[open + 1..].strip_suffix('>')?;
    let known = [
        "HKLM",
        "HKCU",
        "HKCR",
        "HKU",
        "HKCC",
        "HKEY_LOCAL_MACHINE",
        "HKEY_CURRENT_USER",
        "HKEY_CLASSES_ROOT",
        "HKEY_USERS",
        "HKEY_CURRENT_CONFIG",
    ];
    known
        .iter()
        .any(|k| k.eq_ignore_ascii_case(hive))
        .then_some((start - before.len() + open, hive))
}

/// A registry key or path that continues over placeholders in angle brackets
/// (`HKEY_USERS\<SID>\Software`, `C:\Users\<user>\AppData`): the end of the key.
fn extend_placeholders(text: &str, mut end: usize) -> usize {
    let bytes = text.as_bytes();
    while bytes.get(end) == Some(&b'<') && end > 0 && bytes[end - 1] == b'\\' {
        let Some(close) = bytes[end + 1..].iter().take(40).position(|b| *b == b'>') else {
            break;
        };
        let name = &bytes[end + 1..end + 1 + close];
        let after = end + 2 + close;
        // Words and single spaces (`<USER SID>`), short: a placeholder, not a sentence.
        let placeholder = !name.is_empty()
            && name.len() <= 24
            && name[0] != b' '
            && name[name.len() - 1] != b' '
            && !name.windows(2).any(|w| w == b"  ")
            && name
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b' '));
        if !placeholder || bytes.get(after) != Some(&b'\\') {
            break;
        }
        end = token_end(text, after);
    }
    end
}

/// `C:\Program Files\Evil\x.exe`: continue a Windows path or registry key over single spaces
/// while a following word carries on with a backslash: the next word (also one that starts
/// with it, `AppData \Local\x.exe`), or one after up to three capitalised words
/// (`...\Image File Execution Options\notepad.exe`), as long as the segment before the space is
/// not a file name (`a.exe to the Temp\b.exe` stays two).
fn extend_path(text: &str, mut end: usize) -> usize {
    const MAX_WORDS: usize = 3;
    let bytes = text.as_bytes();
    'extend: while end + 1 < bytes.len() && bytes[end] == b' ' {
        let segment_start = bytes[..end]
            .iter()
            .rposition(|b| *b == b'\\')
            .map_or(0, |p| p + 1);
        let names_a_file = bytes[segment_start..end].contains(&b'.');
        let mut at = end;
        for words in 0..=MAX_WORDS {
            let Some((next_start, next_end)) = next_token(text, at + 1) else {
                break 'extend;
            };
            let next = &bytes[next_start..next_end];
            if next_start != at + 1 {
                break 'extend;
            }
            if next.contains(&b'\\') {
                // A space left before a backslash by a copy from a PDF (`AppData \Local\x`)
                // joins a folder to the rest; not after a file name, and not a UNC `\\host`.
                let rejoined = words == 0
                    && !names_a_file
                    && next.len() > 1
                    && next[0] == b'\\'
                    && next[1].is_ascii_alphanumeric();
                let continues = !starts_windows_path(next) && (next[0] != b'\\' || rejoined);
                // Past a capitalised word, only a segment (`Servers`, not `/f`) continues.
                let segment =
                    next[0].is_ascii_alphanumeric() || matches!(next[0], b'(' | b'%' | b'_');
                if !continues || (words > 0 && (names_a_file || !segment)) {
                    break 'extend;
                }
                end = next_end;
                continue 'extend;
            }
            let capitalised = next.len() <= 32
                && (next[0].is_ascii_uppercase() || next[0].is_ascii_digit())
                && next
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'(' | b')'));
            if !capitalised || bytes.get(next_end) != Some(&b' ') {
                break 'extend;
            }
            at = next_end;
        }
        break;
    }
    end
}

/// Words written with a slash that are prose, not a path going on (`/usr/bin and/or /sbin`).
const SLASHED_WORDS: [&str; 14] = [
    "and/or",
    "or/and",
    "read/write",
    "client/server",
    "input/output",
    "i/o",
    "tcp/ip",
    "on/off",
    "yes/no",
    "true/false",
    "either/or",
    "he/she",
    "his/her",
    "w/o",
];

/// `/var/app data/x.conf`, `"/tmp/cache dir/x.bin"`: continue a Unix path over single spaces.
/// In double quotes it runs to the closing quote on the same line; unquoted, while the next
/// word carries on with a slash (`Documents/update.sh`, not `/sbin`, which starts a path of
/// its own, nor `and/or`) and the segment before the space is not a file name.
fn extend_unix_path(text: &str, start: usize, mut end: usize) -> usize {
    const MAX_LEN: usize = 400;
    let bytes = text.as_bytes();
    if start > 0 && bytes[start - 1] == b'"' {
        let closing = bytes[start..]
            .iter()
            .take(MAX_LEN)
            .position(|b| matches!(b, b'"' | b'\n'))
            .map(|p| start + p);
        // Only a path in the quotes, not a command line (`"/usr/bin/curl -s http://x"`).
        let path_only = |close: usize| {
            !text[end..close].contains(" -")
                && bytes[end..close].iter().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(b, b' ' | b'/' | b'.' | b'_' | b'-' | b'~' | b'+' | b'@')
                })
        };
        return closing
            .filter(|c| bytes[*c] == b'"' && *c > end && path_only(*c))
            .unwrap_or(end);
    }
    while end + 1 < bytes.len() && bytes[end] == b' ' && end - start < MAX_LEN {
        let segment_start = bytes[..end]
            .iter()
            .rposition(|b| *b == b'/')
            .map_or(0, |p| p + 1);
        if bytes[segment_start..end].contains(&b'.') {
            break;
        }
        let Some((next_start, next_end)) = next_token(text, end + 1) else {
            break;
        };
        let next = &bytes[next_start..next_end];
        let slash = next.iter().position(|b| *b == b'/');
        let carries_on = next_start == end + 1
            && next[0].is_ascii_alphanumeric()
            && slash.is_some_and(|at| at + 1 < next.len())
            && !SLASHED_WORDS.iter().any(|w| {
                next.len() >= w.len() && next[..w.len()].eq_ignore_ascii_case(w.as_bytes())
            });
        if !carries_on {
            break;
        }
        end = next_end;
    }
    end
}

/// A Unix path of at least two segments (`/etc/passwd`, `~/.ssh/id_rsa`).
fn starts_unix_path(token: &[u8]) -> bool {
    let rooted = token.first() == Some(&b'/') && token.get(1).is_some_and(|b| *b != b'/');
    let home = token.starts_with(b"~/");
    (rooted || home) && token[1..].contains(&b'/')
}

/// Which ASCII bytes end a token. Non-ASCII characters are decided by `non_ascii_delimits`;
/// `delimiter_at` never looks them up here.
const fn delimiters() -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_whitespace()
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

/// Leading and trailing punctuation that is not part of an indicator (`+` included: inline
/// code markup such as `` `+update-check[.]top+` `` must not hide one). Closing brackets are
/// stripped only when the token does not open them (`(evil.com)` vs `Foo_(bar)`). Linear: the
/// bracket counts are taken once and updated as characters are stripped.
fn trim(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    // Bracket counts matter only when the token ends with a closing bracket.
    if !matches!(bytes.get(end.wrapping_sub(1)), Some(b')' | b']' | b'}'))
        && !matches!(bytes.get(start), Some(b'(' | b'[' | b'{'))
    {
        while start < end && matches!(bytes[start], b'*' | b'!' | b'?' | b'.' | b':' | b'+') {
            start += 1;
        }
        while start < end && matches!(bytes[end - 1], b'.' | b'!' | b'?' | b'*' | b':' | b'+') {
            end -= 1;
        }
        if !matches!(bytes.get(end.wrapping_sub(1)), Some(b')' | b']' | b'}')) {
            return (start, end);
        }
    }
    let mut counts = [0usize; 6]; // ( ) [ ] { }
    let slot = |b: u8| match b {
        b'(' => Some(0),
        b')' => Some(1),
        b'[' => Some(2),
        b']' => Some(3),
        b'{' => Some(4),
        b'}' => Some(5),
        _ => None,
    };
    for b in &bytes[start..end] {
        if let Some(k) = slot(*b) {
            counts[k] += 1;
        }
    }
    loop {
        let before = (start, end);
        while start < end
            && matches!(
                bytes[start],
                b'(' | b'[' | b'{' | b'*' | b'!' | b'?' | b'.' | b':' | b'+'
            )
        {
            // Keep a `[` that opens a defang marker such as `[.]` or `[:]`.
            if bytes[start] == b'['
                && bytes
                    .get(start + 1)
                    .is_some_and(|b| *b == b'.' || *b == b':')
            {
                break;
            }
            if let Some(k) = slot(bytes[start]) {
                counts[k] -= 1;
            }
            start += 1;
        }
        while start < end {
            let last = bytes[end - 1];
            let strip = match last {
                b'.' | b'!' | b'?' | b'*' | b':' | b'+' => true,
                b')' => counts[0] < counts[1],
                b']' => counts[2] < counts[3],
                b'}' => counts[4] < counts[5],
                _ => false,
            };
            if !strip {
                break;
            }
            if let Some(k) = slot(last) {
                counts[k] -= 1;
            }
            end -= 1;
        }
        if (start, end) == before {
            return (start, end);
        }
    }
}

/// Classifies one trimmed token and records what it holds with source offsets.
fn process(
    text: &str,
    start: usize,
    end: usize,
    out: &mut Vec<Indicator>,
    candidates: &mut Vec<Candidate>,
) {
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
    candidates.clear();
    classify(view, refanged.is_some(), candidates);
    let first = out.len();
    let url = candidates.iter().any(|c| c.kind == IocType::Url);
    for candidate in candidates.drain(..) {
        let mut indicator = to_indicator(text, start, refanged.as_ref(), candidate);
        indicator.kind = labelled_hash(text, &indicator).unwrap_or(indicator.kind);
        out.push(indicator);
    }
    if url {
        encoded_urls(text, start, view, refanged.as_ref(), out, candidates);
    }
    // A token's indicators in text order, so that the whole list usually needs no sort.
    if out.len() > first + 1 {
        out[first..].sort_by_key(order);
    }
}

/// The hash type a label right before a digest names (`imphash: f34d…`, `IMPHASH=f34d…`,
/// `import hash - f34d…`, `Authentihash 9a2b…`, the label on the line before), when it fits
/// the digest's length.
fn labelled_hash(text: &str, indicator: &Indicator) -> Option<IocType> {
    let wanted = match indicator.kind {
        IocType::Md5 => IocType::Imphash,
        IocType::Sha256 => IocType::Authentihash,
        _ => return None,
    };
    let mut from = indicator.start.saturating_sub(24);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let before = text[from..indicator.start]
        .trim_end_matches([' ', '\t', '\n', '\r', ':', '=', '-', '"', '\'', '(', '['])
        .to_ascii_lowercase();
    let labels: &[&str] = match wanted {
        IocType::Imphash => &["imphash", "import hash", "imp hash"],
        _ => &["authentihash"],
    };
    labels
        .iter()
        .any(|label| before.ends_with(label))
        .then_some(wanted)
}

/// URLs percent-encoded in another URL's query (`?u=http%3A%2F%2Fevil.com%2Fx`, a redirect or
/// a tracker), decoded; their offsets cover the encoded text.
fn encoded_urls(
    text: &str,
    base: usize,
    view: &str,
    refanged: Option<&Refanged>,
    out: &mut Vec<Indicator>,
    candidates: &mut Vec<Candidate>,
) {
    if !view.contains('%') {
        return;
    }
    let lower = view.to_ascii_lowercase();
    for at in memchr::memmem::find_iter(lower.as_bytes(), b"%3a%2f%2f") {
        let scheme_start = lower[..at]
            .rfind(|c: char| !c.is_ascii_alphabetic())
            .map_or(0, |p| p + 1);
        if !matches!(
            &lower[scheme_start..at],
            "http" | "https" | "hxxp" | "hxxps" | "ftp"
        ) {
            continue;
        }
        let encoded_end = lower[at..]
            .find(['&', '#', ' '])
            .map_or(view.len(), |p| at + p);
        // Decode, remembering where each decoded byte came from in the view.
        let encoded = &view.as_bytes()[scheme_start..encoded_end];
        let (mut decoded, mut from) = (Vec::new(), Vec::new());
        let mut k = 0;
        while k < encoded.len() {
            let hex = encoded
                .get(k + 1..k + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (encoded[k], hex) {
                (b'%', Some(byte)) if byte.is_ascii() && byte >= b' ' => {
                    decoded.push(byte);
                    from.push(scheme_start + k);
                    k += 3;
                }
                (byte, _) => {
                    decoded.push(byte);
                    from.push(scheme_start + k);
                    k += 1;
                }
            }
        }
        let Ok(decoded) = String::from_utf8(decoded) else {
            continue;
        };
        let source = |v: usize| refanged.map_or(v, |r| r.source_range(v, v + 1).0) as u32;
        let mut map: Vec<u32> = from.iter().map(|&v| source(v)).collect();
        map.push(source(encoded_end.min(view.len().saturating_sub(1))) + 1);
        let inner = Refanged::from_parts(decoded, map);
        candidates.clear();
        classify(&inner.text, false, candidates);
        for candidate in candidates
            .drain(..)
            .filter(|c| c.kind == IocType::Url && c.start == 0)
        {
            let mut indicator = to_indicator(text, base, Some(&inner), candidate);
            indicator.defanged = false;
            indicator
                .context
                .push("percent-encoded inside another URL".to_owned());
            out.push(indicator);
        }
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
        derived_from: None,
    }
}

fn starts_windows_path(token: &[u8]) -> bool {
    let drive =
        token.len() > 3 && token[0].is_ascii_alphabetic() && token[1] == b':' && token[2] == b'\\';
    let unc = token.starts_with(b"\\\\");
    let hive = token.len() > 4 && token[..2].eq_ignore_ascii_case(b"HK") && token.contains(&b'\\');
    let variable = token.first() == Some(&b'%') && token.contains(&b'\\');
    drive || unc || hive || variable
}

/// User agents: `Mozilla/5.0 (...) ...` anywhere, and the value of `User-Agent:` labels.
fn user_agents(text: &str, anchors: &Anchors) -> Vec<Indicator> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut push = |start: usize| {
        let end = bytes[start..]
            .iter()
            .take(512)
            .position(|b| matches!(b, b'\n' | b'\r' | b'"' | b'\'' | b'<' | b'`'))
            .map_or((start + 512).min(bytes.len()), |p| start + p);
        // Two agents written one after the other end where the second starts.
        let mut end = anchors
            .mozilla
            .iter()
            .find(|&&next| next > start && next < end)
            .map_or(end, |&next| next);
        while end > start && matches!(bytes[end - 1], b' ' | b'.' | b',' | b';' | b'\t') {
            end -= 1;
        }
        // Stay on a character boundary (the window may cut a multi-byte character).
        while end > start && !text.is_char_boundary(end) {
            end -= 1;
        }
        let raw = &text[start..end];
        if raw.len() >= 10 && raw.contains('/') {
            out.push(Indicator::plain(
                IocType::UserAgent,
                raw.to_owned(),
                text,
                start,
                end,
            ));
        }
    };
    let mut seen = Vec::new();
    for &label_end in &anchors.user_agent_labels {
        let mut start = label_end;
        while start < bytes.len() && matches!(bytes[start], b' ' | b'\t') {
            start += 1;
        }
        if start < bytes.len() {
            seen.push(start);
            push(start);
        }
    }
    for &position in &anchors.mozilla {
        if !seen.contains(&position) && bytes[position..].iter().take(40).any(|b| *b == b'(') {
            push(position);
        }
    }
    out
}

/// Whether the word before `start` says the number is a version (`version 1.2.3.4`).
pub fn follows_version_word(text: &str, start: usize) -> bool {
    let window_start = text.ceil_char_boundary(start.saturating_sub(24));
    let Some(before) = text.get(window_start..start) else {
        return false;
    };
    let word = before
        .trim_end()
        .rsplit(|c: char| !c.is_ascii_alphabetic() && c != '.')
        .next()
        .unwrap_or("");
    [
        "version", "ver", "ver.", "v", "v.", "build", "release", "firmware", "versions",
    ]
    .iter()
    .any(|w| w.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_version_word_is_seen_whatever_characters_come_before_it() {
        // The 24-byte window may start inside a two-byte character.
        for n in 0..16 {
            for prefix in ["é".repeat(n), format!("x{}", "é".repeat(n))] {
                let text = format!("{prefix} Version 1.2.3.4");
                let start = text.len() - "1.2.3.4".len();
                assert!(follows_version_word(&text, start), "{text}");
                let text = format!("{prefix} host 1.2.3.4");
                assert!(!follows_version_word(&text, text.len() - 7), "{text}");
            }
        }
    }

    /// The stop rule byte by byte, without blocks.
    fn first_stop(bytes: &[u8], from: usize) -> Option<usize> {
        (from..bytes.len()).find(|&k| {
            let word_end =
                matches!(bytes[k], b'.' | b':') && bytes.get(k + 1).is_none_or(|b| *b <= b' ');
            let connector = k > 0
                && [&b" dot "[..], b" DOT ", b" Dot "]
                    .iter()
                    .any(|c| bytes.get(k - 1..k + 4) == Some(*c));
            INTERESTING[bytes[k] as usize] && !word_end || connector
        })
    }

    proptest! {
        /// The block search stops where the byte-by-byte rule does, from any start, at block
        /// edges and at the end of the text included.
        #[test]
        fn block_search_agrees_with_the_byte_rule(
            text in "([a-z .:\n\t\x0b\x00@(\\[0-9/\\\\]| dot | DOT | Dot | dOt | DoT | dOT | DOt |dot ){0,60}",
            from in 0usize..300,
        ) {
            let bytes = text.as_bytes();
            let from = from.min(bytes.len());
            prop_assert_eq!(find_stop(bytes, from), first_stop(bytes, from));
        }

        /// A token that the quick test rules out holds nothing that classification would find.
        #[test]
        fn ruled_out_tokens_hold_nothing(token in "[A-Za-z0-9_!?*#%&+~$)\\]}-]{3,13}") {
            if !worth_classifying(token.as_bytes()) {
                let mut found = Vec::new();
                let (start, end) = trim(token.as_bytes(), 0, token.len());
                crate::classify::classify(&token[start..end], false, &mut found);
                prop_assert!(found.is_empty(), "{token}: {found:?}");
            }
        }
    }

    #[test]
    fn the_block_delimiter_test_agrees_with_the_table() {
        for b in 0..=255u8 {
            let expected = if b < 0x80 {
                DELIMITER[b as usize]
            } else {
                true
            };
            assert_eq!(ends_ascii_run(b) != 0, expected, "byte {b:#x}");
        }
    }

    proptest! {
        /// Tokens end where the byte-by-byte walk ends them, across blocks and non-ASCII text.
        #[test]
        fn token_end_agrees_with_the_byte_walk(text in "[a-z.;,\" é电\u{a0}]{0,60}", from in 0usize..60) {
            let mut from = from.min(text.len());
            while !text.is_char_boundary(from) {
                from -= 1;
            }
            let mut expected = from;
            while expected < text.len() {
                let (delimiter, width) = delimiter_at(&text, expected);
                if delimiter {
                    break;
                }
                expected += width;
            }
            prop_assert_eq!(token_end(&text, from), expected);
        }
    }

    /// Found by the `extract_iocs` fuzz target: the second `[@]` rebuilt the chain that the
    /// first one had already reported, ending before it, and the scan never moved on.
    #[test]
    fn a_spaced_chain_is_reported_once_and_the_scan_moves_on() {
        for (text, email) in [
            ("E\u{FFFD}[@]\u{FFFD}y.Hu\u{FFFD}[@]", "e@y.hu"),
            ("mail admin [@] evil.com [@] noon", "admin@evil.com"),
        ] {
            let found = scan(text);
            let emails: Vec<&str> = found
                .iter()
                .filter(|i| i.kind == IocType::Email)
                .map(|i| i.value.as_str())
                .collect();
            assert_eq!(emails, [email], "{text}");
        }
    }

    #[test]
    fn identifiers_are_not_ruled_out() {
        for token in [
            "T1059",
            "TA0001",
            "M1030",
            "CVE-2021-4422",
            "cwe-79",
            "AS13335",
            "D3-NI",
            "8.8.8.8",
            "a.b/c",
        ] {
            assert!(worth_classifying(token.as_bytes()), "{token}");
        }
        for token in [
            "2020)", "RC4", "x64", "64-bit", "base64", "abc", "ab", "é1.com",
        ] {
            assert!(!worth_classifying(token.as_bytes()), "{token}");
        }
    }
}
