//! Classifying one token (already trimmed and refanged) into indicator candidates.
//!
//! Every check is structural and linear in the token's length: no backtracking regexes, so
//! extraction time grows linearly with the input whatever it holds.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::IocType;
use crate::validate;

/// A candidate found in a token: positions are byte offsets into the token's (refanged) text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub kind: IocType,
    pub value: String,
    pub start: usize,
    pub end: usize,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub false_positive: Option<String>,
}

impl Candidate {
    fn new(kind: IocType, value: String, start: usize, end: usize) -> Self {
        Candidate {
            kind,
            value,
            start,
            end,
            host: None,
            port: None,
            false_positive: None,
        }
    }
}

/// URL schemes ctiforge reports.
const SCHEMES: &[&str] = &[
    "http", "https", "ftp", "ftps", "sftp", "tcp", "udp", "ws", "wss", "smb", "ldap", "ldaps",
    "rdp", "ssh", "telnet", "tftp", "file", "ssl", "tls", "irc", "ircs", "git", "s3", "gopher",
];

/// File extensions that mark a file name (lower case).
const FILE_EXTENSIONS: &[&str] = &[
    "exe",
    "dll",
    "sys",
    "drv",
    "ocx",
    "cpl",
    "scr",
    "com",
    "pif",
    "msi",
    "msp",
    "msix",
    "appx",
    "bat",
    "cmd",
    "ps1",
    "psm1",
    "psd1",
    "vbs",
    "vbe",
    "js",
    "jse",
    "wsf",
    "wsh",
    "hta",
    "lnk",
    "url",
    "jar",
    "class",
    "apk",
    "ipa",
    "dex",
    "elf",
    "so",
    "dylib",
    "bin",
    "out",
    "sh",
    "bash",
    "zsh",
    "py",
    "pyc",
    "pl",
    "pm",
    "rb",
    "php",
    "asp",
    "aspx",
    "ashx",
    "asmx",
    "jsp",
    "jspx",
    "cgi",
    "war",
    "go",
    "rs",
    "c",
    "cc",
    "cpp",
    "cs",
    "vb",
    "lua",
    "doc",
    "docx",
    "docm",
    "dot",
    "dotm",
    "xls",
    "xlsx",
    "xlsm",
    "xlsb",
    "xlam",
    "xll",
    "ppt",
    "pptx",
    "pptm",
    "ppam",
    "one",
    "rtf",
    "pdf",
    "odt",
    "ods",
    "iso",
    "img",
    "vhd",
    "vhdx",
    "zip",
    "rar",
    "7z",
    "gz",
    "tgz",
    "tar",
    "bz2",
    "xz",
    "cab",
    "arj",
    "ace",
    "lzh",
    "z",
    "chm",
    "inf",
    "reg",
    "ini",
    "cfg",
    "conf",
    "config",
    "xml",
    "json",
    "yaml",
    "yml",
    "txt",
    "log",
    "dat",
    "tmp",
    "db",
    "sqlite",
    "csv",
    "html",
    "htm",
    "mht",
    "svg",
    "eml",
    "msg",
    "pst",
    "ost",
    "dmp",
    "evtx",
    "pcap",
    "pcapng",
    "dmg",
    "pkg",
    "app",
    "deb",
    "rpm",
    "plist",
    "kext",
    "ko",
    "efi",
    "sct",
    "gadget",
    "library-ms",
    "searchconnector-ms",
    "settingcontent-ms",
    "diagcab",
    "ps",
    "mov",
    "md",
    "ai",
];

/// File extensions that are also top-level domains: `payload.zip` is a file name, not a domain,
/// unless the report defangs it or it sits in a URL.
const FILE_EXTENSION_TLDS: &[&str] = &[
    "zip", "mov", "py", "sh", "pl", "pm", "rs", "md", "ps", "so", "cc", "ai", "one", "bin", "dat",
    "exe", "app", "run", "mo", "ml", "cs", "sc",
];

/// Stems of JavaScript libraries written like file names (`Node.js`).
const PRODUCT_STEMS: &[&str] = &[
    "node", "vue", "react", "next", "nuxt", "express", "three", "chart", "d3", "angular", "ember",
    "backbone", "moment", "socket", "deno", "bun", "svelte",
];

/// Prefixes of antivirus detection names (`W64/Agent.CA!tr`, `Trojan.Win32.Agent`).
const AV_PREFIXES: &[&str] = &[
    "trojan",
    "backdoor",
    "worm",
    "win32",
    "win64",
    "w32",
    "w64",
    "heur",
    "ransom",
    "pua",
    "pup",
    "hacktool",
    "riskware",
    "adware",
    "exploit",
    "virus",
    "spyware",
    "trojandownloader",
    "trojandropper",
    "trojanspy",
    "msil",
    "linux",
    "android",
    "osx",
    "macos",
    "mal",
    "troj",
    "generic",
    "gen",
    "o97m",
    "x97m",
    "w97m",
    "pws",
    "infostealer",
    "js",
    "vbs",
    "html",
    "script",
    "behaveslike",
    "artemis",
    "trojware",
    "suspicious",
    "packed",
    "application",
    "program",
];

/// The length of the longest entry of [`AV_PREFIXES`].
const AV_PREFIX_MAX: usize = 16;

/// Trend Micro style detection-name prefixes (`BKDR_URSNIF.SM`, `HKTL_NBTSCAN.GA`).
const AV_UNDERSCORE_PREFIXES: &[&str] = &[
    "BKDR",
    "TROJ",
    "TSPY",
    "WORM",
    "RANSOM",
    "HKTL",
    "PUA",
    "TROJ64",
    "BKDR64",
    "TSPY64",
    "COINMINER",
    "HS",
    "PE",
    "JS",
    "VBS",
    "W2KM",
    "X2KM",
    "O97M",
    "X97M",
    "W97M",
    "ELF",
    "IOS",
    "AndroidOS",
    "OSX",
    "BAT",
    "LNK",
    "PS",
    "HTML",
    "PAK",
    "CRCK",
    "ADW",
    "SPYW",
    "TROJANDOWNLOADER",
];

/// Top-level domains that are also common field, property, permission or unit names: with an
/// all-letter name in front (`process.name`, `Mail.Read`, `multi-user.target`) they are code
/// or configuration, not a domain, unless the report defangs them.
const PROPERTY_TLDS: &[&str] = &[
    "name", "id", "target", "shell", "read", "open", "post", "now", "run", "service", "host",
    "data", "type", "final", "new", "call", "save", "close", "delete", "exec", "play", "link",
    "email", "mobile", "map", "search", "select", "show", "watch",
];

/// Unix folders a path must start in to be reported (keeps `/s/` and `and/or` out).
const UNIX_ROOTS: &[&str] = &[
    "tmp",
    "etc",
    "var",
    "usr",
    "bin",
    "sbin",
    "home",
    "opt",
    "dev",
    "root",
    "lib",
    "lib64",
    "proc",
    "sys",
    "boot",
    "mnt",
    "srv",
    "run",
    "media",
    "Library",
    "Users",
    "Applications",
    "System",
    "private",
    "Volumes",
    "data",
    "sdcard",
    "storage",
    "system",
];

/// The first byte of `s` that `wanted` accepts. Tokens are short: a plain loop costs less than
/// a call into a vectorized search, which first dispatches on the processor's features.
fn position(s: &str, wanted: impl Fn(u8) -> bool) -> Option<usize> {
    s.bytes().position(wanted)
}

/// Whether `word` is one of `list` (lower-case entries), in any case. No allocation: this
/// runs for most tokens.
fn is_one_of(list: &[&str], word: &str) -> bool {
    list.iter().any(|entry| entry.eq_ignore_ascii_case(word))
}

/// For a word in [`FILE_EXTENSIONS`] (any case): whether it is also a top-level domain, so that
/// a name ending in it may be a domain (`.zip`, `.py`); `None` for any other word. A hash
/// lookup, since the list is long and most dotted tokens ask.
fn file_extension(extension: &str) -> Option<bool> {
    static EXTENSIONS: LazyLock<HashMap<&'static str, bool>> = LazyLock::new(|| {
        FILE_EXTENSIONS
            .iter()
            .map(|extension| (*extension, is_top_level_domain(extension)))
            .collect()
    });
    // Every extension is letters, digits and dashes: most junk (`(Citation`) fails here,
    // before hashing.
    if !extension
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return None;
    }
    let mut buffer = [0u8; 24];
    let lower = buffer.get_mut(..extension.len())?;
    lower.copy_from_slice(extension.as_bytes());
    lower.make_ascii_lowercase();
    let lower = std::str::from_utf8(lower).ok()?;
    EXTENSIONS.get(lower).copied()
}

/// Whether names ending in `label` can be domains, as the Public Suffix List says: a second
/// and a third level are tried, for suffixes listed with a wildcard (`*.ck`).
fn is_top_level_domain(label: &str) -> bool {
    validate::domain(&format!("example.{label}")).is_some()
        || validate::domain(&format!("a.example.{label}")).is_some()
}

/// Classifies a token. `defanged` says whether the source spelled it defanged, which decides
/// between a domain and a file name for `payload.zip`.
pub fn classify(s: &str, defanged: bool, out: &mut Vec<Candidate>) {
    let before = out.len();
    let marks = marks(s);
    classify_whole(s, marks, defanged, out);
    if out.len() > before {
        return;
    }
    // `RSCVE-2019-10655Grandstream`: CVE ids are distinctive enough to find inside a word
    // that a conversion glued to its neighbours.
    if s.len() > 13 && marks & DASH != 0 && memchr::memmem::find(s.as_bytes(), b"CVE-").is_some() {
        embedded_cves(s, out);
        if out.len() > before {
            return;
        }
    }
    // `callbackto45.77.12.9now`: an address glued to words by a conversion.
    if s.len() > 8 && marks & DOT != 0 {
        embedded_ipv4s(s, out);
        if out.len() > before {
            return;
        }
    }
    // `ip=1.2.3.4`, `SHA256:e3b0...`, `Domain:evil.com`: the value follows a label.
    if marks & (COLON | EQUALS) == 0 {
        return;
    }
    if let Some(split) = position(s, |b| b == b'=' || b == b':') {
        let label = &s[..split];
        let rest = &s[split + 1..];
        // `loader:(973d...)`: the value may sit in brackets or quotes after its label.
        let skipped = rest.len() - rest.trim_start_matches(['(', '[', '{', '"', '\'']).len();
        let rest = rest[skipped..].trim_end_matches([')', ']', '}', '"', '\'', '.', ',']);
        if !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && rest.len() >= 3
        {
            let offset = split + 1 + skipped;
            let start = out.len();
            classify_whole(rest, self::marks(rest), defanged, out);
            for candidate in &mut out[start..] {
                candidate.start += offset;
                candidate.end += offset;
            }
        }
    }
}

const DOT: u16 = 1;
const COLON: u16 = 2;
const AT: u16 = 4;
const SLASH: u16 = 8;
const BACKSLASH: u16 = 16;
const DASH: u16 = 32;
const UNDERSCORE: u16 = 64;
const BANG: u16 = 128;
const DIGIT: u16 = 256;
const EQUALS: u16 = 512;

/// The mark bit of each byte that has one.
static MARKS: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut digit = b'0';
    while digit <= b'9' {
        table[digit as usize] = DIGIT;
        digit += 1;
    }
    table[b'.' as usize] = DOT;
    table[b':' as usize] = COLON;
    table[b'@' as usize] = AT;
    table[b'/' as usize] = SLASH;
    table[b'\\' as usize] = BACKSLASH;
    table[b'-' as usize] = DASH;
    table[b'_' as usize] = UNDERSCORE;
    table[b'!' as usize] = BANG;
    table[b'=' as usize] = EQUALS;
    table
};

/// The [`MARKS`] of a token, in one branch-free pass: which checks apply.
fn marks(s: &str) -> u16 {
    s.bytes().fold(0u16, |marks, c| marks | MARKS[c as usize])
}

fn classify_whole(s: &str, marks: u16, defanged: bool, out: &mut Vec<Candidate>) {
    let b = s.as_bytes();
    if b.len() < 3 {
        return;
    }
    let digit = marks & DIGIT != 0;
    let [dot, colon, at, slash, backslash, dash] =
        [DOT, COLON, AT, SLASH, BACKSLASH, DASH].map(|mark| marks & mark != 0);
    let has_mark = dot || colon || at || slash || backslash || dash;
    if (!digit && !has_mark) || b.iter().all(u8::is_ascii_digit) {
        // Plain words and plain numbers hold no indicator.
        return;
    }
    if colon && slash && scheme_separators(s).next().is_some() {
        urls(s, out);
        return;
    }
    // E-mail first: `js.ab@a0.com` starts like an antivirus name (`JS.Downloader`), but no
    // antivirus name holds an `@`.
    if at && email(s, out) {
        return;
    }
    if is_av_name(s, marks) {
        av_name(s, out);
        return;
    }
    if (backslash && (registry(s, out) || windows_path(s, out))) || (slash && unix_path(s, out)) {
        return;
    }
    if identifier(s, out) {
        return;
    }
    if let Some(value) = validate::eth(s) {
        out.push(Candidate::new(IocType::Eth, value, 0, s.len()));
        return;
    }
    if colon {
        colon_forms(s, defanged, out);
        return;
    }
    if let Some(kind) = validate::hash_kind(s) {
        out.push(Candidate::new(kind, s.to_ascii_lowercase(), 0, s.len()));
        return;
    }
    if let Some(value) = validate::mac(s) {
        out.push(Candidate::new(IocType::Mac, value, 0, s.len()));
        return;
    }
    if dot {
        dotted(s, defanged, out);
        return;
    }
    if !(26..=106).contains(&b.len()) {
        return;
    }
    if validate::btc(s) {
        out.push(Candidate::new(IocType::Btc, s.to_owned(), 0, s.len()));
    } else if validate::xmr(s) {
        out.push(Candidate::new(IocType::Xmr, s.to_owned(), 0, s.len()));
    }
}

/// Where `://` stands in a token, left to right (two can never overlap). The colons are found
/// with `memchr`, cheaper than a substring searcher built for each token.
fn scheme_separators(s: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = s.as_bytes();
    memchr::memchr_iter(b':', bytes).filter(|&i| bytes[i + 1..].starts_with(b"//"))
}

/// Every URL in a token: `[text](https://a.com/x)` and `[hxxps://a[.]com](hxxps://a[.]com)`
/// hold one or two. A URL runs from its scheme to the end of its path; the path stops where the
/// next URL's scheme starts, and unbalanced closing brackets are not part of it.
fn urls(s: &str, out: &mut Vec<Candidate>) {
    let mut separators = scheme_separators(s).peekable();
    let mut previous_end = 0;
    while let Some(separator) = separators.next() {
        if separator < previous_end {
            continue;
        }
        let scheme_start = s[previous_end..separator]
            .bytes()
            .rposition(|b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.'))
            .map_or(previous_end, |p| previous_end + p + 1);
        // Conversions glue words to URLs (`C&Ctcp://`, `Controlhttp://`): the scheme is the
        // longest known scheme that ends the letters before `://`; the glued word stays out.
        let letters = &s.as_bytes()[scheme_start..separator];
        let Some(scheme) = SCHEMES
            .iter()
            .filter(|known| {
                letters.len() >= known.len()
                    && letters[letters.len() - known.len()..].eq_ignore_ascii_case(known.as_bytes())
            })
            .max_by_key(|known| known.len())
        else {
            continue;
        };
        let scheme_start = separator - scheme.len();
        // The next URL's scheme bounds this one.
        let limit = separators
            .peek()
            .map_or(s.len(), |next| {
                s[..*next]
                    .bytes()
                    .rposition(|b| {
                        !(b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
                    })
                    .map_or(*next, |p| p + 1)
            })
            .max(separator + 3);
        let rest = &s[separator + 3..limit];
        let authority_end = if rest.starts_with('[') {
            rest.find(']').map_or(rest.len(), |close| {
                close
                    + 1
                    + rest[close + 1..]
                        .find(|c: char| !(c == ':' || c.is_ascii_digit()))
                        .unwrap_or(rest.len() - close - 1)
            })
        } else {
            rest.find(|c: char| {
                !(c.is_ascii_alphanumeric()
                    || matches!(
                        c,
                        '.' | '-' | '_' | ':' | '@' | '%' | '~' | '!' | '$' | '&' | '+' | '='
                    ))
            })
            .unwrap_or(rest.len())
        };
        let authority = &rest[..authority_end];
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let Some((host, port)) = host_and_port(host_port) else {
            continue;
        };
        let mut path = &rest[authority_end..];
        if !path.starts_with(['/', '?', '#']) {
            path = "";
        }
        path = balanced(path);
        let end = separator + 3 + authority_end + path.len();
        let mut value = String::with_capacity(scheme.len() + 3 + authority.len() + path.len());
        value.push_str(scheme);
        value.push_str("://");
        let host_start = value.len();
        value.push_str(authority);
        value[host_start..].make_ascii_lowercase();
        value.push_str(path);
        let mut candidate = Candidate::new(IocType::Url, value, scheme_start, end);
        candidate.host = Some(host);
        candidate.port = port;
        out.push(candidate);
        previous_end = end;
    }
}

/// A path without trailing closing brackets that it does not open (`/x)` of a Markdown link).
/// Linear: each bracket kind is counted once.
fn balanced(path: &str) -> &str {
    let bytes = path.as_bytes();
    let excess = |open: u8, close: u8| {
        let opens = bytes.iter().filter(|b| **b == open).count();
        let closes = bytes.iter().filter(|b| **b == close).count();
        closes.saturating_sub(opens)
    };
    let mut extra = [excess(b'(', b')'), excess(b'[', b']'), excess(b'{', b'}')];
    let mut end = bytes.len();
    while end > 0 {
        let k = match bytes[end - 1] {
            b')' => 0,
            b']' => 1,
            b'}' => 2,
            _ => break,
        };
        if extra[k] == 0 {
            break;
        }
        extra[k] -= 1;
        end -= 1;
    }
    &path[..end]
}

/// A host (domain, IPv4 or bracketed IPv6) with an optional port; the host comes back
/// normalized.
fn host_and_port(text: &str) -> Option<(String, Option<u16>)> {
    if let Some(inner) = text.strip_prefix('[') {
        let (address, rest) = inner.split_once(']')?;
        let ip = validate::ipv6(address)?;
        let port = rest.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((ip.to_string(), port));
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            (h, Some(p.parse::<u16>().ok()?))
        }
        _ => (text, None),
    };
    if validate::ipv4(host).is_some() {
        return Some((host.to_owned(), port));
    }
    validate::domain(host).map(|d| (d, port))
}

fn email(s: &str, out: &mut Vec<Candidate>) -> bool {
    let s_trimmed = s.strip_prefix("mailto:").unwrap_or(s);
    let offset = s.len() - s_trimmed.len();
    let Some((local, domain)) = s_trimmed.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-'));
    let Some(domain) = validate::domain(domain) else {
        return false;
    };
    if !local_ok {
        return false;
    }
    let mut candidate = Candidate::new(
        IocType::Email,
        format!("{}@{domain}", local.to_ascii_lowercase()),
        offset,
        s.len(),
    );
    candidate.host = Some(domain);
    out.push(candidate);
    true
}

fn embedded_cves(s: &str, out: &mut Vec<Candidate>) {
    let bytes = s.as_bytes();
    for start in memchr::memmem::find_iter(bytes, b"CVE-") {
        let year_end = start + 8;
        if year_end >= bytes.len()
            || !bytes[start + 4..year_end].iter().all(u8::is_ascii_digit)
            || bytes[year_end] != b'-'
        {
            continue;
        }
        let digits = bytes[year_end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let end = year_end + 1 + digits.min(7);
        if let Some(value) = validate::cve(&s[start..end]) {
            out.push(Candidate::new(IocType::Cve, value, start, end));
        }
    }
}

/// IPv4 addresses glued to letters on both sides or one (`callbackto45.77.12.9now`), never
/// after a version word (`v1.2.3.4`, `ver1.2.3.4`) or inside a longer dotted run.
fn embedded_ipv4s(s: &str, out: &mut Vec<Candidate>) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let mut end = i;
        while end > start && bytes[end - 1] == b'.' {
            end -= 1;
        }
        let glued = (start > 0 && bytes[start - 1].is_ascii_alphabetic())
            || bytes.get(i).is_some_and(u8::is_ascii_alphabetic);
        // `v1.2.3.4`, `ver1.2.3.4` are versions.
        let before = &bytes[start.saturating_sub(3)..start];
        let version = before.last().is_some_and(|b| b.eq_ignore_ascii_case(&b'v'))
            || before.eq_ignore_ascii_case(b"ver");
        let dots = bytes[start..end].iter().filter(|b| **b == b'.').count();
        if !glued || version || dots != 3 {
            continue;
        }
        if validate::ipv4(&s[start..end]).is_some() {
            out.push(Candidate::new(
                IocType::Ipv4,
                s[start..end].to_owned(),
                start,
                end,
            ));
        }
    }
}

fn registry(s: &str, out: &mut Vec<Candidate>) -> bool {
    if !s.as_bytes()[..2].eq_ignore_ascii_case(b"HK") {
        return false;
    }
    let hive = [
        "HKEY_LOCAL_MACHINE\\",
        "HKEY_CURRENT_USER\\",
        "HKEY_CLASSES_ROOT\\",
        "HKEY_USERS\\",
        "HKEY_CURRENT_CONFIG\\",
        "HKLM\\",
        "HKCU\\",
        "HKCR\\",
        "HKU\\",
        "HKCC\\",
        "HKLM:\\",
        "HKCU:\\",
    ]
    .iter()
    .find(|h| s.len() >= h.len() && s.as_bytes()[..h.len()].eq_ignore_ascii_case(h.as_bytes()));
    let Some(hive) = hive else {
        return false;
    };
    if s.len() <= hive.len() + 1 {
        return false;
    }
    let value = s.trim_end_matches('\\');
    out.push(Candidate::new(
        IocType::Registry,
        value.to_owned(),
        0,
        value.len(),
    ));
    true
}

fn windows_path(s: &str, out: &mut Vec<Candidate>) -> bool {
    let b = s.as_bytes();
    let drive = b.len() > 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\';
    let unc = b.len() > 4 && b.starts_with(b"\\\\") && b[2].is_ascii_alphanumeric();
    let variable = b.first() == Some(&b'%')
        && s[1..].find('%').is_some_and(|end| {
            b.get(end + 2) == Some(&b'\\')
                && s[1..end + 1]
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_')
        });
    if !(drive || unc || variable) {
        return false;
    }
    let value = s.trim_end_matches(['\\', '.']);
    if value.len() < 4 || value.bytes().any(|c| matches!(c, b'*' | b'?')) && !value.contains("\\*")
    {
        return false;
    }
    out.push(Candidate::new(
        IocType::Filepath,
        value.to_owned(),
        0,
        value.len(),
    ));
    true
}

fn unix_path(s: &str, out: &mut Vec<Candidate>) -> bool {
    let body = if let Some(rest) = s.strip_prefix("~/") {
        rest
    } else if let Some(rest) = s.strip_prefix('/') {
        let root = rest.split('/').next().unwrap_or("");
        if !UNIX_ROOTS.contains(&root) || !rest.contains('/') && rest.len() < 4 {
            return false;
        }
        rest
    } else {
        return false;
    };
    // Single spaces inside: the scan joins a path's words (`/home/u/My Documents/x.sh`).
    let valid = !body.is_empty()
        && !body.ends_with(' ')
        && !body.contains("  ")
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'/' | b'.' | b'_' | b'-' | b'~' | b'+' | b'@' | b'%' | b'*' | b' '
                )
        });
    if !valid {
        return false;
    }
    let value = s.trim_end_matches(['/', '.']);
    out.push(Candidate::new(
        IocType::Filepath,
        value.to_owned(),
        0,
        value.len(),
    ));
    true
}

fn identifier(s: &str, out: &mut Vec<Candidate>) -> bool {
    let first = s.as_bytes()[0].to_ascii_uppercase();
    let found = match first {
        b'C' => validate::cve(s)
            .map(|v| (IocType::Cve, v))
            .or_else(|| validate::numbered_id(s, "CWE-").map(|v| (IocType::Cwe, v)))
            .or_else(|| validate::numbered_id(s, "CAPEC-").map(|v| (IocType::Capec, v))),
        b'A' if validate::atlas_id(s) => Some((IocType::AtlasTechnique, s.to_owned())),
        b'A' => validate::asn(s).map(|v| (IocType::Asn, v)),
        b'D' if validate::d3fend_id(s) => Some((IocType::D3fendTechnique, s.to_owned())),
        // `t1059.001` and `ta0001`: a sub-technique or tactic id in lower case is distinctive;
        // a bare `t1059` is as often a part number, and `m1030` a model.
        b'T' if s.as_bytes()[0] == b't' && (s.contains('.') || s.starts_with("ta")) => {
            let upper = s.to_ascii_uppercase();
            validate::attack_id(&upper)
                .filter(|k| matches!(k, IocType::AttackTechnique | IocType::AttackTactic))
                .map(|k| (k, upper))
        }
        b'T' | b'M' => validate::attack_id(s).map(|k| (k, s.to_owned())),
        _ => None,
    };
    match found {
        Some((kind, value)) => {
            out.push(Candidate::new(kind, value, 0, s.len()));
            true
        }
        None => false,
    }
}

/// Tokens with a colon: ssdeep, MAC, IPv6 (with prefix or port), address or domain with a
/// port.
fn colon_forms(s: &str, defanged: bool, out: &mut Vec<Candidate>) {
    if s.as_bytes()[0].is_ascii_digit() && validate::ssdeep(s) {
        out.push(Candidate::new(IocType::Ssdeep, s.to_owned(), 0, s.len()));
        return;
    }
    if let Some(value) = validate::mac(s) {
        out.push(Candidate::new(IocType::Mac, value, 0, s.len()));
        return;
    }
    // `[2001:db8::1]:443` arrives as `2001:db8::1]:443` after the bracket is trimmed.
    let (address, port) = match s.split_once("]:") {
        Some((a, p)) => (a, p.parse::<u16>().ok()),
        None => (s.trim_end_matches(']'), None),
    };
    let (address, prefix) = match address.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (address, None),
    };
    if address.len() >= 6
        && address.bytes().any(|b| b.is_ascii_digit())
        && let Some(ip) = validate::ipv6(address)
    {
        match prefix {
            Some(p) => {
                if let Ok(bits @ 0..=128) = p.parse::<u8>() {
                    let value = format!("{ip}/{bits}");
                    out.push(Candidate::new(IocType::Cidr, value, 0, s.len()));
                }
            }
            None => {
                let end = address.len();
                let mut candidate = Candidate::new(IocType::Ipv6, ip.to_string(), 0, end);
                candidate.port = port;
                out.push(candidate);
            }
        }
        return;
    }
    // `1.2.3.4:8080` and `evil.com:443`.
    if let Some((host, port)) = s.rsplit_once(':')
        && let (Ok(port), false) = (port.parse::<u16>(), host.is_empty())
    {
        let start = out.len();
        dotted(host, defanged, out);
        for candidate in &mut out[start..] {
            candidate.port = Some(port);
        }
    }
}

/// Dotted tokens: IPv4 and CIDR, Cisco MACs, URLs without a scheme, domains and file names.
fn dotted(s: &str, defanged: bool, out: &mut Vec<Candidate>) {
    if let Some(value) = validate::mac(s) {
        out.push(Candidate::new(IocType::Mac, value, 0, s.len()));
        return;
    }
    let first_part = &s[..position(s, |b| b == b'/' || b == b'.').unwrap_or(s.len())];
    if first_part.bytes().all(|b| b.is_ascii_digit()) && !first_part.is_empty() {
        numeric_dotted(s, out);
        return;
    }
    // `evil.com/gate.php`: a URL without a scheme (none is added).
    if let Some(slash) = position(s, |b| b == b'/') {
        let host = &s[..slash];
        if let Some((host, port)) = host_and_port(host) {
            let value = format!("{}{}", s[..slash].to_ascii_lowercase(), &s[slash..]);
            let mut candidate = Candidate::new(IocType::Url, value, 0, s.len());
            candidate.host = Some(host);
            candidate.port = port;
            out.push(candidate);
        }
        return;
    }
    let Some(last_dot) = s.bytes().rposition(|b| b == b'.') else {
        return;
    };
    let (stem, extension) = (&s[..last_dot], &s[last_dot + 1..]);
    let file_extension = file_extension(extension);
    // A file extension that is no top-level domain (`.dll`) ends no domain: the Public Suffix
    // List need not be asked.
    let domain = if file_extension == Some(false) {
        None
    } else {
        validate::domain(s)
    };
    // `...e802f5.Verification`: a hash glued to the next sentence.
    let first_label = &s[..position(s, |b| b == b'.').unwrap_or(s.len())];
    if let Some(kind) = validate::hash_kind(first_label)
        && domain.is_none()
        && file_extension.is_none()
    {
        out.push(Candidate::new(
            kind,
            first_label.to_ascii_lowercase(),
            0,
            first_label.len(),
        ));
        return;
    }
    if let Some(domain) = domain {
        if !defanged && let Some(reason) = prose_or_code(stem, extension) {
            let mut flagged = Candidate::new(IocType::Domain, domain, 0, s.len());
            flagged.false_positive = Some(reason);
            out.push(flagged);
            return;
        }
        if is_one_of(FILE_EXTENSION_TLDS, extension) && !defanged {
            let extension_lower = extension.to_ascii_lowercase();
            filename(s, out);
            let mut flagged = Candidate::new(IocType::Domain, domain, 0, s.len());
            flagged.false_positive = Some(format!(
                "file name whose extension '.{extension_lower}' is also a top-level domain; defang it (evil[.]{extension_lower}) to report a domain"
            ));
            out.push(flagged);
        } else {
            out.push(Candidate::new(IocType::Domain, domain, 0, s.len()));
        }
        return;
    }
    if !stem.is_empty() && file_extension.is_some() {
        filename(s, out);
    }
}

/// Why a name that parses as a domain is prose or code rather than a domain, if it is:
/// `attacks.Cisco` (a sentence missing the space after its period), `Mail.Read` or
/// `WScript.Shell` (capitalized top-level domain: API, permission and COM names), `process.name`
/// or `multi-user.target` (a property, field or unit name whose suffix happens to be a TLD).
fn prose_or_code(stem: &str, tld: &str) -> Option<String> {
    let last_label = stem.rsplit('.').next().unwrap_or(stem);
    let mut tld_chars = tld.bytes();
    let capitalized = tld.len() > 1
        && tld_chars.next().is_some_and(|b| b.is_ascii_uppercase())
        && tld_chars.all(|b| b.is_ascii_lowercase());
    if capitalized && last_label.len() > 1 {
        let reason = if last_label.bytes().all(|b| b.is_ascii_lowercase()) {
            "two sentences joined without a space after the period (capitalized top-level domain)"
        } else {
            "capitalized top-level domain: an API, permission or object name, not a domain"
        };
        return Some(reason.to_owned());
    }
    let wordy = stem
        .bytes()
        .all(|b| b.is_ascii_lowercase() || matches!(b, b'.' | b'-' | b'_'));
    if wordy && is_one_of(PROPERTY_TLDS, tld) && stem.split('.').count() <= 3 {
        let tld_lower = tld.to_ascii_lowercase();
        return Some(format!(
            "looks like a field, property or unit name ('.{tld_lower}'); defang it to report a domain"
        ));
    }
    None
}

fn filename(s: &str, out: &mut Vec<Candidate>) {
    let Some((stem, extension)) = s.rsplit_once('.') else {
        return;
    };
    let stem_ok = !stem.is_empty()
        && stem.len() <= 200
        && (stem.as_bytes()[0].is_ascii_alphanumeric()
            || matches!(stem.as_bytes()[0], b'_' | b'~' | b'$'))
        && stem.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'-' | b'.' | b'$' | b'~' | b'+' | b'#' | b'@')
        });
    if !stem_ok {
        return;
    }
    if extension.eq_ignore_ascii_case("js") && is_one_of(PRODUCT_STEMS, stem) {
        return;
    }
    // `e.g` or `v1.2.exe`-like version strings are not file names.
    if stem.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return;
    }
    out.push(Candidate::new(IocType::Filename, s.to_owned(), 0, s.len()));
    // Samples are often named by their hash: `8ccb...b2.bin` is also a SHA-256.
    if let Some(kind) = validate::hash_kind(stem) {
        out.push(Candidate::new(
            kind,
            stem.to_ascii_lowercase(),
            0,
            stem.len(),
        ));
    }
}

fn numeric_dotted(s: &str, out: &mut Vec<Candidate>) {
    let (address, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let Some(ip) = validate::ipv4(address) else {
        return;
    };
    match prefix {
        // The accepted text is canonical: it is the value.
        None => out.push(Candidate::new(
            IocType::Ipv4,
            address.to_owned(),
            0,
            s.len(),
        )),
        Some(p) => {
            if let Ok(bits @ 0..=32) = p.parse::<u8>() {
                out.push(Candidate::new(
                    IocType::Cidr,
                    format!("{ip}/{bits}"),
                    0,
                    s.len(),
                ));
            } else {
                // `1.2.3.4/path`: an address with a URL path.
                let mut candidate = Candidate::new(IocType::Url, s.to_owned(), 0, s.len());
                candidate.host = Some(address.to_owned());
                out.push(candidate);
            }
        }
    }
}

/// Platform labels that follow a family prefix in detection names (`Backdoor.Win32.X`).
const AV_PLATFORMS: &[&str] = &[
    "win",
    "win32",
    "win64",
    "w32",
    "w64",
    "msil",
    "linux",
    "unix",
    "android",
    "osx",
    "macos",
    "js",
    "vbs",
    "html",
    "script",
    "java",
    "php",
    "python",
    "perl",
    "multi",
    "o97m",
    "x97m",
    "w97m",
    "pdf",
    "doc",
    "xml",
    "powershell",
    "ps",
    "bat",
    "shell",
    "elf",
    "generic",
];

/// Whether `word` is one of [`AV_PREFIXES`], in any case. A hash lookup: every dotted token
/// asks, and comparing it with each entry in turn was a twentieth of extraction.
fn is_av_prefix(word: &str) -> bool {
    static PREFIXES: LazyLock<hashbrown::HashSet<&'static str>> =
        LazyLock::new(|| AV_PREFIXES.iter().copied().collect());
    let mut lower = [0u8; AV_PREFIX_MAX];
    let Some(lower) = lower.get_mut(..word.len()) else {
        return false;
    };
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    std::str::from_utf8(lower).is_ok_and(|lower| PREFIXES.contains(lower))
}

/// Whether the token is an antivirus detection name. `marks` are the token's [`MARKS`]; they
/// rule most tokens out before any search.
fn is_av_name(s: &str, marks: u16) -> bool {
    if marks & (UNDERSCORE | DOT) == UNDERSCORE | DOT
        && let Some((prefix, rest)) = s.split_once('_')
        && AV_UNDERSCORE_PREFIXES
            .iter()
            .any(|p| p.eq_ignore_ascii_case(prefix))
        && rest.contains('.')
        && s.bytes()
            .filter(u8::is_ascii_alphabetic)
            .all(|b| b.is_ascii_uppercase())
    {
        return true;
    }
    let prefix_end = position(s, |b| matches!(b, b'/' | b':' | b'.')).unwrap_or(s.len());
    let named =
        prefix_end < s.len() && prefix_end <= AV_PREFIX_MAX && is_av_prefix(&s[..prefix_end]);
    if named && s.as_bytes()[prefix_end] == b'.' {
        let platform = s[prefix_end + 1..]
            .split(['.', '/', ':', '!'])
            .next()
            .unwrap_or("");
        if is_one_of(AV_PLATFORMS, platform) {
            return true;
        }
    }
    let banged = marks & BANG != 0
        && position(s, |b| b == b'!')
            .is_some_and(|p| p > 0 && s.as_bytes()[p - 1].is_ascii_alphanumeric());
    (named && (marks & (SLASH | COLON) != 0 || s.bytes().filter(|b| *b == b'.').count() >= 2))
        || banged
}

/// Parts of antivirus names that look like domains (`Agent.CA` in `W64/Agent.CA!tr`) are
/// reported only as false positives.
fn av_name(s: &str, out: &mut Vec<Candidate>) {
    let tail_start = s.rfind(['/', ':']).map_or(0, |p| p + 1);
    let tail_end = s[tail_start..]
        .find('!')
        .map_or(s.len(), |p| tail_start + p);
    if let Some(domain) = validate::domain(&s[tail_start..tail_end]) {
        let mut candidate = Candidate::new(IocType::Domain, domain, tail_start, tail_end);
        candidate.false_positive = Some(format!("part of the antivirus detection name '{s}'"));
        out.push(candidate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Skipping the Public Suffix List for extensions that are no top-level domain changes
    /// nothing: the list says no name ending in one is a domain.
    #[test]
    fn names_ending_in_a_plain_file_extension_are_never_domains() {
        for extension in FILE_EXTENSIONS {
            if file_extension(extension) == Some(false) {
                for name in ["example", "a.example", "www.a.example", "co.uk"] {
                    let name = format!("{name}.{extension}");
                    assert_eq!(validate::domain(&name), None, "{name}");
                }
            }
        }
        assert_eq!(file_extension("zip"), Some(true));
        assert_eq!(file_extension("DLL"), Some(false));
    }

    #[test]
    fn every_listed_extension_is_found_in_any_case() {
        for extension in FILE_EXTENSIONS {
            assert!(file_extension(extension).is_some(), "{extension}");
            assert!(
                file_extension(&extension.to_ascii_uppercase()).is_some(),
                "{extension}"
            );
        }
        for junk in ["(Citation", "exe)", "", "ex e", "é"] {
            assert!(file_extension(junk).is_none(), "{junk}");
        }
    }

    fn kinds(s: &str) -> Vec<(IocType, String)> {
        let mut out = Vec::new();
        classify(s, false, &mut out);
        out.into_iter().map(|c| (c.kind, c.value)).collect()
    }

    #[test]
    fn av_prefixes_are_found_in_any_case_up_to_the_longest() {
        let longest = AV_PREFIXES.iter().map(|p| p.len()).max();
        assert_eq!(longest, Some(AV_PREFIX_MAX));
        // Looked up in lower case.
        for prefix in AV_PREFIXES {
            assert_eq!(*prefix, prefix.to_ascii_lowercase());
        }
        for (word, expected) in [("Trojan", true), ("TROJANSPY", true), ("trojans", false)] {
            assert_eq!(is_av_prefix(word), expected, "{word}");
        }
        assert!(!is_av_prefix("behaveslikebehaveslike"));
    }

    #[test]
    fn one_of_each() {
        let cases: &[(&str, IocType, &str)] = &[
            ("8.8.8.8", IocType::Ipv4, "8.8.8.8"),
            ("10.0.0.0/8", IocType::Cidr, "10.0.0.0/8"),
            ("2001:DB8::1", IocType::Ipv6, "2001:db8::1"),
            ("Evil.Example.com", IocType::Domain, "evil.example.com"),
            (
                "https://Evil.com/a/B?x=1",
                IocType::Url,
                "https://evil.com/a/B?x=1",
            ),
            ("evil.com/gate.php", IocType::Url, "evil.com/gate.php"),
            ("Admin@Evil.com", IocType::Email, "admin@evil.com"),
            ("js.ab@a0.com", IocType::Email, "js.ab@a0.com"),
            (
                "D41D8CD98F00B204E9800998ECF8427E",
                IocType::Md5,
                "d41d8cd98f00b204e9800998ecf8427e",
            ),
            ("CVE-2021-44228", IocType::Cve, "CVE-2021-44228"),
            ("AS13335", IocType::Asn, "AS13335"),
            ("T1059.001", IocType::AttackTechnique, "T1059.001"),
            ("AML.T0043", IocType::AtlasTechnique, "AML.T0043"),
            ("D3-NI", IocType::D3fendTechnique, "D3-NI"),
            ("CWE-79", IocType::Cwe, "CWE-79"),
            ("update.exe", IocType::Filename, "update.exe"),
            (
                "C:\\Windows\\Temp\\x.dll",
                IocType::Filepath,
                "C:\\Windows\\Temp\\x.dll",
            ),
            ("/tmp/.x/payload", IocType::Filepath, "/tmp/.x/payload"),
            (
                "HKLM\\Software\\Run",
                IocType::Registry,
                "HKLM\\Software\\Run",
            ),
            ("00:1a:2b:3c:4d:5e", IocType::Mac, "00:1a:2b:3c:4d:5e"),
        ];
        for (input, kind, value) in cases {
            assert_eq!(kinds(input), vec![(*kind, (*value).to_owned())], "{input}");
        }
    }

    #[test]
    fn label_prefixes_are_skipped() {
        assert_eq!(
            kinds("ip=45.77.1.2"),
            vec![(IocType::Ipv4, "45.77.1.2".to_owned())]
        );
        let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            kinds(&format!("SHA256:{sha}")),
            vec![(IocType::Sha256, sha.to_owned())]
        );
    }

    #[test]
    fn file_names_with_tld_extensions() {
        let found = {
            let mut out = Vec::new();
            classify("payload.zip", false, &mut out);
            out
        };
        assert_eq!(found[0].kind, IocType::Filename);
        assert_eq!(found[1].kind, IocType::Domain);
        assert!(found[1].false_positive.is_some());
        let mut defanged = Vec::new();
        classify("payload.zip", true, &mut defanged);
        assert_eq!(defanged.len(), 1);
        assert_eq!(defanged[0].kind, IocType::Domain);
        assert!(defanged[0].false_positive.is_none());
    }

    #[test]
    fn things_that_are_not_indicators() {
        for text in [
            "e.g",
            "i.e",
            "U.S",
            "3.14",
            "1.2.3",
            "v2.3.1",
            "Node.js",
            "and/or",
            "10:30:45",
            "std::vector",
        ] {
            assert_eq!(kinds(text), vec![], "{text}");
        }
    }

    #[test]
    fn prose_missing_a_space_is_not_a_domain() {
        let mut out = Vec::new();
        classify("attacks.Cisco", false, &mut out);
        assert!(
            out[0]
                .false_positive
                .as_deref()
                .is_some_and(|r| r.contains("joined"))
        );
        for text in [
            "Backdoor.Win",
            "Mail.Read",
            "WScript.Shell",
            "process.name",
            "multi-user.target",
            "BKDR_URSNIF.SM",
            "BehavesLike.Win32.Generic.cz",
        ] {
            let mut out = Vec::new();
            classify(text, false, &mut out);
            assert!(
                out.iter().all(|c| c.false_positive.is_some()),
                "{text}: {out:?}"
            );
        }
        // Defanged, the same names are reported: the author meant a domain.
        let mut out = Vec::new();
        classify("process.name", true, &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].false_positive.is_none());
    }

    #[test]
    fn antivirus_names_are_flagged() {
        let mut out = Vec::new();
        classify("W64/Agent.CA!tr", false, &mut out);
        assert_eq!(out.len(), 1);
        assert!(
            out[0]
                .false_positive
                .as_deref()
                .is_some_and(|r| r.contains("antivirus"))
        );
    }
}
