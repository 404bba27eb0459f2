//! Refanging one token: `hxxp[:]//evil[.]com` → `http://evil.com`, with a map from every byte
//! of the result back to the source, so indicators keep exact source offsets.

/// A refanged token and where each of its bytes came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refanged {
    /// The refanged text.
    pub text: String,
    /// For each byte of `text`, the offset of the source byte it came from, relative to the
    /// token; one extra entry at the end holds the token's length.
    map: Vec<u32>,
}

impl Refanged {
    /// The token unchanged (no defang marker in it).
    pub fn identity(token: &str) -> Self {
        Refanged {
            text: token.to_owned(),
            map: (0..=token.len() as u32).collect(),
        }
    }

    /// A text with an explicit map (one entry per byte, plus the end), for indicators joined
    /// from several tokens.
    pub fn from_parts(text: String, map: Vec<u32>) -> Self {
        debug_assert_eq!(map.len(), text.len() + 1);
        Refanged { text, map }
    }

    /// The source range (relative to the token) of the refanged bytes `start..end`.
    pub fn source_range(&self, start: usize, end: usize) -> (usize, usize) {
        let from = self.map.get(start).copied().unwrap_or(0) as usize;
        let to = self
            .map
            .get(end)
            .copied()
            .unwrap_or_else(|| self.map.last().copied().unwrap_or(0)) as usize;
        (from, to.max(from))
    }

    /// Whether the bytes `start..end` of the result differ from the source.
    pub fn changed(&self, start: usize, end: usize) -> bool {
        let (from, to) = self.source_range(start, end);
        to - from != end.saturating_sub(start)
            || self.map[start..end].windows(2).any(|w| w[1] != w[0] + 1)
    }
}

/// What a bracketed defang marker may hold, and what it stands for; longer first, so that
/// `[://]` wins over `[:]`. Words (`dot`, `at`) are matched in any case.
const CORES: &[(&str, &str)] = &[
    ("://", "://"),
    ("dot", "."),
    ("//", "//"),
    ("at", "@"),
    (".", "."),
    (":", ":"),
    ("/", "/"),
    ("@", "@"),
];

/// Most brackets on one side of a marker (`(((.)))`).
const MAX_BRACKETS: usize = 3;

/// The defang marker at byte `i`, opening with a bracket (or `\.`): its length and what it
/// stands for. Brackets may be mixed, doubled or tripled (`[.]`, `[[.]]`, `(((.)))`, `[.)`);
/// a dot or `@` may be left half-open (`relay[.net`, `198[.]51(.100`) when label characters
/// stand on both sides. `\.` is a regex-style escape of a dot between label characters.
fn marker_at(bytes: &[u8], i: usize) -> Option<(usize, &'static str)> {
    let label = |k: Option<usize>| {
        k.and_then(|k| bytes.get(k))
            .is_some_and(u8::is_ascii_alphanumeric)
    };
    if bytes[i] == b'\\' {
        let escape =
            bytes.get(i + 1) == Some(&b'.') && label(i.checked_sub(1)) && label(Some(i + 2));
        return escape.then_some((2, "."));
    }
    let opens = bytes[i..]
        .iter()
        .take_while(|b| matches!(b, b'[' | b'(' | b'{'))
        .count();
    if opens == 0 || opens > MAX_BRACKETS {
        return None;
    }
    let at = i + opens;
    let (core, real) = CORES
        .iter()
        .find(|(core, _)| starts_with_ignore_case(&bytes[at..], core.as_bytes()))?;
    let after = at + core.len();
    let closes = bytes[after..]
        .iter()
        .take_while(|b| matches!(b, b']' | b')' | b'}'))
        .count();
    if closes > MAX_BRACKETS {
        return None;
    }
    if closes == 0 {
        // Half-open: only a dot or `@`, between label characters.
        let symbol = matches!(*core, "." | "@");
        return (symbol && label(i.checked_sub(1)) && label(Some(after)))
            .then_some((after - i, *real));
    }
    Some((after + closes - i, *real))
}

/// A dot or `@` closed without being opened (`relay.]net`), between label characters: its
/// length and what it stands for.
fn closed_only_at(bytes: &[u8], i: usize) -> Option<(usize, &'static str)> {
    let real = match bytes[i] {
        b'.' => ".",
        b'@' => "@",
        _ => return None,
    };
    let closes = bytes[i + 1..]
        .iter()
        .take_while(|b| matches!(b, b']' | b')' | b'}'))
        .count();
    let label = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_alphanumeric);
    let ok = (1..=MAX_BRACKETS).contains(&closes) && i > 0 && label(i - 1) && label(i + 1 + closes);
    ok.then_some((1 + closes, real))
}

/// Defanged URL schemes and their real spelling.
const SCHEMES: &[(&str, &str)] = &[
    ("hxxps", "https"),
    ("hxxp", "http"),
    ("hxtps", "https"),
    ("hxtp", "http"),
    ("htxps", "https"),
    ("htxp", "http"),
    ("fxps", "ftps"),
    ("fxp", "ftp"),
];

/// Real schemes, refanged only when a rewritten separator follows them (`http:\\host\path`,
/// `http__host`).
const REAL_SCHEMES: &[&str] = &["https", "http", "ftp"];

/// Separators after a scheme that stand for `://` and are rewritten with it; after `:\\`, the
/// URL's other backslashes are slashes too.
const REWRITTEN_SEPARATORS: &[&str] = &[":\\\\", "__"];

/// Whether a token may hold a defang marker or a defanged scheme: the cheap test before
/// [`refang`], asked of every candidate token. It looks at each byte with the two after it: an
/// opening bracket or backslash followed by a byte that can continue a marker (`[.`, `(d`,
/// `\.`), or an `h` or `f` with an `x` in the next two bytes (`hxxp`, `hXtp`, `fxp`),
/// anywhere in the token (`Controlhxxp://`, glued by a conversion). Table lookups and no branch
/// per byte.
pub fn may_be_defanged(token: &[u8]) -> bool {
    const OPENS: u8 = 1;
    const SCHEME: u8 = 2;
    const SECOND: u8 = 4;
    const X: u8 = 8;
    const DOT_OR_AT: u8 = 16;
    const CLOSES: u8 = 32;
    const UNDERSCORE: u8 = 64;
    const CLASS: [u8; 256] = {
        let mut table = [0u8; 256];
        let mut b = 0;
        while b < 256 {
            let byte = b as u8;
            table[b] = if opens_marker(byte) { OPENS } else { 0 }
                | if may_start_scheme(byte) { SCHEME } else { 0 }
                | if marker_may_continue(byte) { SECOND } else { 0 }
                | if byte | 0x20 == b'x' { X } else { 0 }
                | if byte == b'.' || byte == b'@' {
                    DOT_OR_AT
                } else {
                    0
                }
                | if matches!(byte, b']' | b')' | b'}') {
                    CLOSES
                } else {
                    0
                }
                | if byte == b'_' { UNDERSCORE } else { 0 };
            b += 1;
        }
        table
    };
    let starts = |b: u8, next: u8, second: u8| {
        (b & OPENS != 0) & (next & SECOND != 0)
            | (b & SCHEME != 0) & ((next | second) & X != 0)
            | (b & DOT_OR_AT != 0) & (next & CLOSES != 0)
            | (b & UNDERSCORE != 0) & (next & UNDERSCORE != 0)
    };
    // Most tokens have no bracket, no `__`, and no `x` to go with an `h` or `f`: one pass says
    // so.
    let all = token.iter().fold(0, |all, b| all | CLASS[*b as usize]);
    let scheme = all & SCHEME != 0 && all & X != 0;
    if all & (OPENS | CLOSES | UNDERSCORE) == 0 && !scheme {
        return false;
    }
    // The classes of the two bytes before the current one, and whether a marker or scheme may
    // start at the first of them.
    let (mut before, mut last) = (0u8, 0u8);
    let mut found = false;
    for b in token {
        let class = CLASS[*b as usize];
        found |= starts(before, last, class);
        (before, last) = (last, class);
    }
    // The last two bytes have fewer than two bytes after them.
    found | starts(before, last, 0) | starts(last, 0, 0)
}

/// The scheme at byte `i` when it is defanged or followed by a rewritten separator: its
/// length, its real spelling, and the separator to rewrite as `://` (if any).
fn scheme_at(bytes: &[u8], i: usize) -> Option<(usize, &'static str, Option<&'static str>)> {
    if !may_start_scheme(bytes[i]) {
        return None;
    }
    let rewritten = |rest: &[u8]| {
        REWRITTEN_SEPARATORS
            .iter()
            .find(|sep| starts_with_ignore_case(rest, sep.as_bytes()))
            .copied()
            // `__` only before a host (`http__evil.com`), never in `http__init__`.
            .filter(|sep| *sep != "__" || rest.get(2).is_some_and(u8::is_ascii_alphanumeric))
    };
    if let Some((defanged, real)) = SCHEMES
        .iter()
        .find(|(d, _)| starts_with_ignore_case(&bytes[i..], d.as_bytes()))
    {
        let rest = &bytes[i + defanged.len()..];
        if let Some(sep) = rewritten(rest) {
            return Some((defanged.len(), real, Some(sep)));
        }
        if scheme_separator_follows(rest) {
            return Some((defanged.len(), real, None));
        }
    }
    let real = REAL_SCHEMES
        .iter()
        .find(|s| starts_with_ignore_case(&bytes[i..], s.as_bytes()))?;
    // A real scheme glued to a word before it is not one (`xhttp__`).
    let glued = i > 0 && bytes[i - 1].is_ascii_alphabetic();
    let sep = rewritten(&bytes[i + real.len()..]).filter(|_| !glued)?;
    Some((real.len(), real, Some(sep)))
}

/// Refangs a token. Returns `None` when nothing in it was defanged.
pub fn refang(token: &str) -> Option<Refanged> {
    let bytes = token.as_bytes();
    // Most tokens with a bracket or backslash hold no marker; find out before allocating.
    let any_marker = (0..bytes.len()).any(|i| {
        (opens_marker(bytes[i]) && marker_at(bytes, i).is_some())
            || closed_only_at(bytes, i).is_some()
            || scheme_at(bytes, i).is_some()
    });
    if !any_marker {
        return None;
    }
    let mut text = String::with_capacity(token.len());
    let mut map: Vec<u32> = Vec::with_capacity(token.len() + 1);
    // After `scheme:\\`, backslashes separate the path.
    let mut backslash_url = false;
    let mut changed = false;
    let mut i = 0;

    // A defanged scheme is refanged wherever `://` (possibly defanged) follows it, also when a
    // conversion glued a word in front (`Controlhxxp://`); the URL classifier then starts the
    // URL at the scheme, so the glued word never becomes part of the value.
    while i < bytes.len() {
        if let Some((length, real, separator)) = scheme_at(bytes, i) {
            push_replacement(&mut text, &mut map, real, i);
            i += length;
            changed = true;
            if let Some(separator) = separator {
                push_replacement(&mut text, &mut map, "://", i);
                i += separator.len();
                backslash_url |= separator.starts_with(':');
            }
            continue;
        }
        if backslash_url && bytes[i] == b'\\' {
            push_replacement(&mut text, &mut map, "/", i);
            i += 1;
            changed = true;
            continue;
        }
        let marker = if opens_marker(bytes[i]) {
            marker_at(bytes, i)
        } else {
            closed_only_at(bytes, i)
        };
        if let Some((length, real)) = marker {
            push_replacement(&mut text, &mut map, real, i);
            i += length;
            changed = true;
            continue;
        }
        // Copy unchanged up to the next byte that may start a scheme or a marker (at least
        // this one, which did not); those bytes are ASCII, so the run ends on a character
        // boundary.
        let end = bytes[i + 1..]
            .iter()
            .position(|b| may_start_replacement(*b))
            .map_or(bytes.len(), |p| i + 1 + p);
        text.push_str(&token[i..end]);
        map.extend((i..end).map(|p| p as u32));
        i = end;
    }
    map.push(bytes.len() as u32);
    changed.then_some(Refanged { text, map })
}

/// Whether the byte after an opening bracket or backslash can continue a marker: a marker's
/// core (`.`, `:`, `/`, `@`, `dot`, `at`), another bracket (`[[.]]`), or a backslash (the
/// `:\\` separator).
const fn marker_may_continue(second: u8) -> bool {
    matches!(
        second,
        b'.' | b':' | b'/' | b'@' | b'd' | b'D' | b'a' | b'A' | b'[' | b'(' | b'{' | b'\\'
    )
}

fn push_replacement(text: &mut String, map: &mut Vec<u32>, real: &str, source: usize) {
    text.push_str(real);
    map.extend(std::iter::repeat_n(source as u32, real.len()));
}

fn scheme_separator_follows(rest: &[u8]) -> bool {
    [
        "://", "[://]", "(://)", "{://}", "[:]//", "[:/]/", ":[//]", ":\\/\\/",
    ]
    .iter()
    .any(|sep| starts_with_ignore_case(rest, sep.as_bytes()))
}

fn starts_with_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

/// Whether a marker (`[.]`, `(dot)`, `{@}`, `\.`) starts with byte `b`.
const fn opens_marker(b: u8) -> bool {
    matches!(b, b'[' | b'(' | b'{' | b'\\')
}

/// Whether a defanged scheme (`hxxp`, `hXXps`, `fxp`) may start with byte `b`.
const fn may_start_scheme(b: u8) -> bool {
    matches!(b | 0x20, b'h' | b'f')
}

/// Whether a defanged scheme or a marker may start at byte `b` (a dot or `@` may be closed
/// without being opened: `relay.]net`).
fn may_start_replacement(b: u8) -> bool {
    opens_marker(b) || may_start_scheme(b) || b == b'.' || b == b'@'
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The quick test never turns away a token that refangs.
        #[test]
        fn the_quick_test_lets_every_defanged_token_through(
            token in "([a-z]{0,3}|hxxps?|hXtp|fxp|\\[\\.\\]|\\(dot\\)|\\{\\.\\}|\\[:\\]|\\[/\\]|\\[@\\]|\\[at\\]|\\\\\\.|://|[.:/@\\[\\](){}])*"
        ) {
            if refang(&token).is_some() {
                prop_assert!(may_be_defanged(token.as_bytes()), "{}", token);
            }
        }
    }

    #[test]
    fn the_quick_test_finds_glued_schemes_and_ignores_prose() {
        for defanged in [
            "Controlhxxp://a.com",
            "xhXXps://a",
            "a[.]b",
            "a\\.b",
            "(dot)",
            "fxp",
        ] {
            assert!(may_be_defanged(defanged.as_bytes()), "{defanged}");
        }
        for plain in [
            "(Citation:",
            "[schtasks](https://a.com/x)",
            "hello",
            "often",
            "h",
            "",
        ] {
            assert!(!may_be_defanged(plain.as_bytes()), "{plain}");
        }
    }

    fn refanged(token: &str) -> String {
        refang(token).map_or_else(|| token.to_owned(), |r| r.text)
    }

    #[test]
    fn every_marker_passes_the_quick_test() {
        for (core, _) in CORES {
            for (open, close) in [
                ("[", "]"),
                ("(", ")"),
                ("{", "}"),
                ("[[", "]]"),
                ("(((", ")))"),
            ] {
                for core in [core.to_lowercase(), core.to_uppercase()] {
                    let token = format!("a{open}{core}{close}b");
                    assert!(may_be_defanged(token.as_bytes()), "{token}");
                    assert!(refang(&token).is_some(), "{token}");
                }
            }
        }
    }

    #[test]
    fn every_marker_style() {
        for (input, expected) in [
            ("evil[.]com", "evil.com"),
            ("evil(.)com", "evil.com"),
            ("evil{.}com", "evil.com"),
            ("evil[dot]com", "evil.com"),
            ("evil(DOT)com", "evil.com"),
            ("evil\\.com", "evil.com"),
            ("1.2.3[.]4", "1.2.3.4"),
            ("hxxp://evil.com", "http://evil.com"),
            ("hXXps://evil.com", "https://evil.com"),
            ("fxp://files.evil.com", "ftp://files.evil.com"),
            ("hxxp[:]//evil[.]com", "http://evil.com"),
            ("hxxps[://]evil[.]com[/]a", "https://evil.com/a"),
            ("user[@]evil[.]com", "user@evil.com"),
            ("user[at]evil[.]com", "user@evil.com"),
            ("http[:]//1.2.3.4:8080", "http://1.2.3.4:8080"),
            // Doubled, tripled, mixed and half-open brackets.
            ("evil[[.]]com", "evil.com"),
            ("evil(((.)))com", "evil.com"),
            ("evil[.)com", "evil.com"),
            ("relay[.net", "relay.net"),
            ("relay.]net", "relay.net"),
            ("198[.]51(.100.7", "198.51.100.7"),
            ("ops[@mail.net", "ops@mail.net"),
            // Separators written for Windows or by a mangling converter.
            (
                "http:\\\\evil.com\\path\\x.php",
                "http://evil.com/path/x.php",
            ),
            ("hxxp:\\\\evil.com\\a", "http://evil.com/a"),
            ("http__evil.com/path", "http://evil.com/path"),
            ("hxxps__evil.com", "https://evil.com"),
        ] {
            assert_eq!(refanged(input), expected, "{input}");
        }
    }

    #[test]
    fn schemes_are_never_doubled_or_invented() {
        assert_eq!(refanged("http://evil.com"), "http://evil.com");
        assert!(refang("http://evil.com").is_none());
        // "hxxp" without a separator is not a scheme (e.g. a word in a sentence).
        assert_eq!(refanged("hxxpd"), "hxxpd");
        // A defanged URL inside another (a redirect parameter) is refanged too, and no scheme
        // is ever written twice.
        assert_eq!(
            refanged("(hxxp://a.com/?u=hxxp://b)"),
            "(http://a.com/?u=http://b)"
        );
        // A scheme glued to a preceding word is refanged; the URL will start at the scheme.
        assert_eq!(refanged("Controlhxxp://a"), "Controlhttp://a");
    }

    #[test]
    fn offsets_map_back_to_the_source() {
        let token = "hxxp[:]//evil[.]com/x";
        let r = refang(token).expect("defanged");
        assert_eq!(r.text, "http://evil.com/x");
        let host_start = r.text.find("evil").expect("host");
        let (from, to) = r.source_range(host_start, host_start + "evil.com".len());
        assert_eq!(&token[from..to], "evil[.]com");
        let (from, to) = r.source_range(0, r.text.len());
        assert_eq!(&token[from..to], token);
        assert!(r.changed(host_start, host_start + 8));
        let path = r.text.len() - 2;
        assert!(!r.changed(path, r.text.len()));
    }

    #[test]
    fn backslash_dot_only_between_label_characters() {
        assert_eq!(refanged("C:\\.hidden"), "C:\\.hidden");
        assert_eq!(refanged("evil\\.com"), "evil.com");
    }

    #[test]
    fn prose_and_code_keep_their_brackets() {
        for plain in [
            "[.NET]",
            "(.5",
            "end.)",
            "list[0].name",
            "f(a).b",
            "__init__.py",
            "http__",
            "xhttp__evil.com",
            "\\\\server\\share",
            "C:\\Windows\\x.dll",
            "a.b]",
            "(at",
            "[dot",
            "((((.))))",
        ] {
            assert_eq!(refanged(plain), plain, "{plain}");
        }
    }
}
