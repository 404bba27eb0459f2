//! Table-driven extraction cases: every type, every defang style, the false-positive classes,
//! and tricky boundaries. Each case states the exact set of indicators reported (flagged false
//! positives and the domains derived from URL and e-mail hosts excluded; a test of their own
//! covers those) and every indicator's `raw` must be the source text at its offsets.

use ctiforge_ioc::{Extractor, Indicator, IocType};

fn reported(text: &str) -> Vec<(String, String)> {
    let found = Extractor::new().extract(text);
    check_offsets(text, &found);
    let mut pairs: Vec<(String, String)> = found
        .into_iter()
        .filter(|i| !i.is_false_positive() && i.derived_from.is_none())
        .map(|i| (i.kind.to_string(), i.value))
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs
}

fn check_offsets(text: &str, found: &[Indicator]) {
    for indicator in found {
        assert_eq!(
            text.get(indicator.start..indicator.end),
            Some(indicator.raw.as_str()),
            "offsets of {indicator:?} in {text:?}"
        );
    }
}

fn expect(cases: &[(&str, &[(&str, &str)])]) {
    let mut failures = Vec::new();
    for (text, expected) in cases {
        let mut want: Vec<(String, String)> = expected
            .iter()
            .map(|(t, v)| ((*t).to_owned(), (*v).to_owned()))
            .collect();
        want.sort();
        let got = reported(text);
        if got != want {
            failures.push(format!("{text:?}\n   want {want:?}\n    got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn network_indicators() {
    expect(&[
        ("C2 at 45.77.12.9 on port 443", &[("ipv4", "45.77.12.9")]),
        ("Beacon to 45.77.12.9:8443.", &[("ipv4", "45.77.12.9")]),
        (
            "Range 185.220.101.0/24 was used",
            &[("cidr", "185.220.101.0/24")],
        ),
        (
            "IPv6 2a01:4f8:c17:1e7a::1 seen",
            &[("ipv6", "2a01:4f8:c17:1e7a::1")],
        ),
        (
            "full form 2001:0470:0000:0000:0000:0000:0000:0001 here",
            &[("ipv6", "2001:470::1")],
        ),
        (
            "bracketed [2a01:4f8:c17:1e7a::1]:443 here",
            &[("ipv6", "2a01:4f8:c17:1e7a::1")],
        ),
        ("v6 net 2a01:4f8::/32 here", &[("cidr", "2a01:4f8::/32")]),
        (
            "The domain update-check.com hosted it",
            &[("domain", "update-check.com")],
        ),
        (
            "Sub-domains like a.b.c.evil-cdn.net work",
            &[("domain", "a.b.c.evil-cdn.net")],
        ),
        (
            "Mixed case Evil-CDN.NET normalizes",
            &[("domain", "evil-cdn.net")],
        ),
        ("Country code evil.co.uk too", &[("domain", "evil.co.uk")]),
        ("New gTLD payload.xyz also", &[("domain", "payload.xyz")]),
        (
            "Onion site abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvw.onion used",
            &[(
                "domain",
                "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvw.onion",
            )],
        ),
        (
            "Trailing dot evil.com. ends the sentence",
            &[("domain", "evil.com")],
        ),
        (
            "URL https://evil.com/a/b.php?id=1&x=2 here",
            &[("url", "https://evil.com/a/b.php?id=1&x=2")],
        ),
        (
            "URL http://45.77.12.9:8080/x here",
            &[("url", "http://45.77.12.9:8080/x")],
        ),
        (
            "ftp://files.evil.com/drop.bin",
            &[("url", "ftp://files.evil.com/drop.bin")],
        ),
        (
            "scheme-less evil.com/gate.php path",
            &[("url", "evil.com/gate.php")],
        ),
        (
            "address path 45.77.12.9/index.html",
            &[("url", "45.77.12.9/index.html")],
        ),
        (
            "userinfo http://user:pw@evil.com/x",
            &[("url", "http://user:pw@evil.com/x")],
        ),
        (
            "uppercase HTTPS://EVIL.COM/Path",
            &[("url", "https://evil.com/Path")],
        ),
        (
            "ws endpoint wss://c2.evil.com/socket",
            &[("url", "wss://c2.evil.com/socket")],
        ),
        (
            "Mail from admin@evil.com was sent",
            &[("email", "admin@evil.com")],
        ),
        (
            "mailto:Ops.Team+x@evil-corp.org link",
            &[("email", "ops.team+x@evil-corp.org")],
        ),
        (
            "AS13335 and ASN 0 and asn20473",
            &[("asn", "AS13335"), ("asn", "AS20473")],
        ),
        (
            "MAC 00:1A:2B:3C:4D:5E and 00-1a-2b-3c-4d-5f",
            &[("mac", "00:1a:2b:3c:4d:5e"), ("mac", "00:1a:2b:3c:4d:5f")],
        ),
        (
            "Cisco MAC 0011.22aa.bbcc here",
            &[("mac", "00:11:22:aa:bb:cc")],
        ),
    ]);
}

#[test]
fn defang_styles() {
    expect(&[
        ("evil[.]com", &[("domain", "evil.com")]),
        ("evil(.)com", &[("domain", "evil.com")]),
        ("evil{.}com", &[("domain", "evil.com")]),
        ("evil[dot]com", &[("domain", "evil.com")]),
        ("evil(dot)com", &[("domain", "evil.com")]),
        ("evil[DOT]com", &[("domain", "evil.com")]),
        ("evil\\.com", &[("domain", "evil.com")]),
        ("sub[.]evil[.]co[.]uk", &[("domain", "sub.evil.co.uk")]),
        ("45[.]77[.]12[.]9", &[("ipv4", "45.77.12.9")]),
        ("45.77.12[.]9", &[("ipv4", "45.77.12.9")]),
        ("hxxp://evil.com/x", &[("url", "http://evil.com/x")]),
        ("hXXp://evil.com/x", &[("url", "http://evil.com/x")]),
        ("hxxps://evil.com/x", &[("url", "https://evil.com/x")]),
        ("HXXPS://evil.com/x", &[("url", "https://evil.com/x")]),
        ("fxp://evil.com/x", &[("url", "ftp://evil.com/x")]),
        // A conversion glued a word to the defanged scheme: the URL starts at the scheme.
        ("Controlhxxp://evil.com/a", &[("url", "http://evil.com/a")]),
        ("C2:hXXps://evil.com/a", &[("url", "https://evil.com/a")]),
        ("hxxp[:]//evil[.]com/x", &[("url", "http://evil.com/x")]),
        ("hxxps[://]evil[.]com", &[("url", "https://evil.com")]),
        ("http[:]//evil[.]com", &[("url", "http://evil.com")]),
        (
            "https[:]//evil[.]com[/]a[/]b",
            &[("url", "https://evil.com/a/b")],
        ),
        (
            "hxxp://45[.]77[.]12[.]9:8080/x",
            &[("url", "http://45.77.12.9:8080/x")],
        ),
        ("user[@]evil[.]com", &[("email", "user@evil.com")]),
        ("user[at]evil[.]com", &[("email", "user@evil.com")]),
        ("user(at)evil(.)com", &[("email", "user@evil.com")]),
        (
            "contact: user at evil dot com today",
            &[("email", "user@evil.com")],
        ),
        ("visit evil dot com today", &[("domain", "evil.com")]),
        ("visit evil [dot] com today", &[("domain", "evil.com")]),
        ("visit evil [.] com today", &[("domain", "evil.com")]),
        (
            "visit mail dot evil dot co dot uk",
            &[("domain", "mail.evil.co.uk")],
        ),
        ("user [at] evil [.] com", &[("email", "user@evil.com")]),
        ("user [at] evil.com", &[("email", "user@evil.com")]),
    ]);
}

#[test]
fn spaced_words_are_not_invented_indicators() {
    expect(&[
        ("look at evil.com now", &[("domain", "evil.com")]),
        ("we met at noon", &[]),
        ("the dot matrix printer", &[]),
        ("arrive at 10 dot 30", &[]),
    ]);
}

#[test]
fn defanged_flag_and_raw_text() {
    let text = "Payload at hxxps://cdn-update[.]net/a.bin and plain 45.77.12.9";
    let found = Extractor::new().extract(text);
    let url = found.iter().find(|i| i.kind == IocType::Url).expect("url");
    assert!(url.defanged);
    assert_eq!(url.raw, "hxxps://cdn-update[.]net/a.bin");
    assert_eq!(url.host.as_deref(), Some("cdn-update.net"));
    let ip = found.iter().find(|i| i.kind == IocType::Ipv4).expect("ip");
    assert!(!ip.defanged);
    let text = "mail user at evil dot com";
    let found = Extractor::new().extract(text);
    assert_eq!(found[0].raw, "user at evil dot com");
    assert!(found[0].defanged);
}

#[test]
fn hashes() {
    let md5 = "d41d8cd98f00b204e9800998ecf8427f";
    let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80700";
    let sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let sha512 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
    let upper = sha256.to_ascii_uppercase();
    expect(&[
        (&format!("MD5 {md5}"), &[("md5", md5)]),
        (&format!("SHA1: {sha1}."), &[("sha1", sha1)]),
        (&format!("sha256={sha256}"), &[("sha256", sha256)]),
        (&format!("SHA512 {sha512}"), &[("sha512", sha512)]),
        (&format!("upper {upper}"), &[("sha256", sha256)]),
        (&format!("({sha256})"), &[("sha256", sha256)]),
        (&format!("| {md5} | dropper |"), &[("md5", md5)]),
        (&format!("\"{sha1}\","), &[("sha1", sha1)]),
        (&format!("not a hash: {}", &sha256[..63]), &[]),
        (&format!("too long: {sha256}a"), &[]),
        (&format!("glued: x{md5}"), &[]),
        (
            "ssdeep 3072:C6Ut2E0BPzXoSXCWwgXJy0p6tRZ8:C6UtdBPLoxPg50p6HZ8 here",
            &[(
                "ssdeep",
                "3072:C6Ut2E0BPzXoSXCWwgXJy0p6tRZ8:C6UtdBPLoxPg50p6HZ8",
            )],
        ),
    ]);
}

#[test]
fn vulnerabilities_and_framework_ids() {
    expect(&[
        (
            "Exploits CVE-2021-44228 and cve-2023-23397.",
            &[("cve", "CVE-2021-44228"), ("cve", "CVE-2023-23397")],
        ),
        ("CVE-2024-1234567 long id", &[("cve", "CVE-2024-1234567")]),
        ("CVE-21-1234 is malformed", &[]),
        (
            "Technique T1059.001 and T1190 (T1566)",
            &[
                ("attack_technique", "T1059.001"),
                ("attack_technique", "T1190"),
                ("attack_technique", "T1566"),
            ],
        ),
        ("[T1078] in brackets", &[("attack_technique", "T1078")]),
        (
            "Tactic TA0001 and mitigation M1030",
            &[("attack_tactic", "TA0001"), ("attack_mitigation", "M1030")],
        ),
        (
            "ATLAS AML.T0043 and AML.T0051.000",
            &[
                ("atlas_technique", "AML.T0043"),
                ("atlas_technique", "AML.T0051.000"),
            ],
        ),
        (
            "D3FEND D3-NI and D3-PHDURA",
            &[
                ("d3fend_technique", "D3-NI"),
                ("d3fend_technique", "D3-PHDURA"),
            ],
        ),
        (
            "CWE-79 and CAPEC-66",
            &[("cwe", "CWE-79"), ("capec", "CAPEC-66")],
        ),
        ("lower t1059 is prose", &[]),
    ]);
}

#[test]
fn wallets() {
    expect(&[
        (
            "BTC 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            &[("btc", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")],
        ),
        (
            "BTC bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            &[("btc", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")],
        ),
        ("bad checksum 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", &[]),
        (
            "ETH 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            &[("eth", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")],
        ),
        ("bad EIP-55 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", &[]),
        (
            "XMR 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
            &[(
                "xmr",
                "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
            )],
        ),
    ]);
}

#[test]
fn host_artefacts() {
    expect(&[
        (
            "Dropped update.exe and svchost32.dll",
            &[("filename", "update.exe"), ("filename", "svchost32.dll")],
        ),
        (
            "Macro in Invoice_2024.docm opened",
            &[("filename", "Invoice_2024.docm")],
        ),
        (
            "script run.ps1 and loader.vbs",
            &[("filename", "run.ps1"), ("filename", "loader.vbs")],
        ),
        ("archive payload.7z", &[("filename", "payload.7z")]),
        (
            "Path C:\\Windows\\Temp\\x.dll was written",
            &[("filepath", "C:\\Windows\\Temp\\x.dll")],
        ),
        (
            "Path C:\\Program Files\\Common Files\\x.exe here",
            &[("filepath", "C:\\Program Files\\Common Files\\x.exe")],
        ),
        (
            "quoted \"C:\\Users\\Public\\My Files\\a.bat\" here",
            &[("filepath", "C:\\Users\\Public\\My Files\\a.bat")],
        ),
        (
            "env %APPDATA%\\Roaming\\evil.exe here",
            &[("filepath", "%APPDATA%\\Roaming\\evil.exe")],
        ),
        (
            "UNC \\\\fileserver\\share\\drop.exe here",
            &[("filepath", "\\\\fileserver\\share\\drop.exe")],
        ),
        (
            "Linux /tmp/.X11-unix/kworker and /etc/cron.d/job",
            &[
                ("filepath", "/tmp/.X11-unix/kworker"),
                ("filepath", "/etc/cron.d/job"),
            ],
        ),
        (
            "home ~/.ssh/authorized_keys changed",
            &[("filepath", "~/.ssh/authorized_keys")],
        ),
        ("prose and/or /s/ are not paths", &[]),
        (
            "Run key HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run added",
            &[(
                "registry",
                "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
            )],
        ),
        (
            "HKEY_CURRENT_USER\\Software\\Classes\\ms-settings\\shell\\open\\command",
            &[(
                "registry",
                "HKEY_CURRENT_USER\\Software\\Classes\\ms-settings\\shell\\open\\command",
            )],
        ),
        (
            "key HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon set",
            &[(
                "registry",
                "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon",
            )],
        ),
        (
            "PowerShell HKCU:\\Software\\Evil key",
            &[("registry", "HKCU:\\Software\\Evil")],
        ),
    ]);
}

#[test]
fn user_agents() {
    let text = "The implant sends User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\nNext line.";
    let found = Extractor::new().extract(text);
    let agents: Vec<&Indicator> = found
        .iter()
        .filter(|i| i.kind == IocType::UserAgent)
        .collect();
    assert_eq!(agents.len(), 1, "{found:?}");
    assert!(agents[0].value.starts_with("Mozilla/5.0 (Windows NT 10.0"));
    assert!(agents[0].value.ends_with("Safari/537.36"));
    assert!(
        found.iter().all(|i| i.kind != IocType::Ipv4),
        "no version numbers as IPs"
    );
    let found = Extractor::new().extract("user-agent: curl/7.68.0\n");
    assert_eq!(found[0].kind, IocType::UserAgent);
    assert_eq!(found[0].value, "curl/7.68.0");
}

#[test]
fn boundaries() {
    expect(&[
        ("(evil.com)", &[("domain", "evil.com")]),
        ("[evil.com]", &[("domain", "evil.com")]),
        ("\"evil.com\"", &[("domain", "evil.com")]),
        ("'evil.com'", &[("domain", "evil.com")]),
        ("“evil.com”", &[("domain", "evil.com")]),
        (
            "evil.com, bad.net; worse.org",
            &[
                ("domain", "evil.com"),
                ("domain", "bad.net"),
                ("domain", "worse.org"),
            ],
        ),
        ("<https://evil.com/x>", &[("url", "https://evil.com/x")]),
        (
            "[link](https://evil.com/x)",
            &[("url", "https://evil.com/x")],
        ),
        (
            "[hxxps://evil[.]com](hxxps://evil[.]com)",
            &[("url", "https://evil.com")],
        ),
        (
            "(see https://en.wikipedia.org/wiki/Foo_(bar))",
            &[("url", "https://en.wikipedia.org/wiki/Foo_(bar)")],
        ),
        (
            "| 45.77.12.9 | evil.com | C2 |",
            &[("ipv4", "45.77.12.9"), ("domain", "evil.com")],
        ),
        (
            "45.77.12.9,45.77.12.10",
            &[("ipv4", "45.77.12.9"), ("ipv4", "45.77.12.10")],
        ),
        ("`evil.com` in code", &[("domain", "evil.com")]),
        ("*evil.com*", &[("domain", "evil.com")]),
        ("evil.com:443", &[("domain", "evil.com")]),
        ("IP:45.77.12.9", &[("ipv4", "45.77.12.9")]),
        ("dst=45.77.12.9 src=10.0.0.1", &[("ipv4", "45.77.12.9")]),
        ("Ends with evil.com!", &[("domain", "evil.com")]),
        ("Is it evil.com?", &[("domain", "evil.com")]),
        (
            "évil.com is not ASCII but evil.com is",
            &[("domain", "evil.com")],
        ),
    ]);
}

#[test]
fn not_indicators() {
    expect(&[
        ("e.g. and i.e. and etc.", &[]),
        ("U.S. and U.K. officials", &[]),
        ("Version 2.3.1 and v1.2.3.4", &[]),
        ("pi is 3.14159", &[]),
        ("at 10:30:45 UTC", &[]),
        ("built with Node.js and Vue.js", &[]),
        ("C++ std::vector and foo::bar", &[]),
        ("the ratio 1:2:3", &[]),
        ("call 555-1234", &[]),
        ("1.2.3.4.5 is an OID-like number", &[]),
        ("256.1.1.1 is not an address", &[]),
        ("Chrome version 120.0.6099.109 released", &[]),
        ("Section 4.2.1 describes", &[]),
        ("words-with-hyphens are-not indicators", &[]),
        ("", &[]),
    ]);
}

fn flagged(text: &str, kind: IocType, value: &str, reason: &str) {
    let found = Extractor::new().extract(text);
    let hit = found
        .iter()
        .find(|i| i.kind == kind && i.value == value)
        .unwrap_or_else(|| panic!("{kind} {value} not found in {text:?}: {found:?}"));
    let why = hit
        .false_positive
        .as_deref()
        .unwrap_or_else(|| panic!("{value} is not flagged in {text:?}"));
    assert!(why.contains(reason), "{value}: {why:?} lacks {reason:?}");
}

#[test]
fn false_positive_classes() {
    flagged(
        "internal host 10.1.2.3",
        IocType::Ipv4,
        "10.1.2.3",
        "RFC 1918",
    );
    flagged(
        "from 192.168.1.10",
        IocType::Ipv4,
        "192.168.1.10",
        "RFC 1918",
    );
    flagged("loopback 127.0.0.1", IocType::Ipv4, "127.0.0.1", "loopback");
    flagged(
        "doc 198.51.100.7",
        IocType::Ipv4,
        "198.51.100.7",
        "documentation",
    );
    flagged("CGNAT 100.64.3.4", IocType::Ipv4, "100.64.3.4", "6598");
    flagged(
        "link-local 169.254.1.1",
        IocType::Ipv4,
        "169.254.1.1",
        "link-local",
    );
    flagged(
        "multicast 224.0.0.251",
        IocType::Ipv4,
        "224.0.0.251",
        "multicast",
    );
    flagged(
        "firmware version 45.2.3.4 fixed",
        IocType::Ipv4,
        "45.2.3.4",
        "version",
    );
    flagged(
        "upgrade to build 7.1.0.12 now",
        IocType::Ipv4,
        "7.1.0.12",
        "version",
    );
    flagged(
        "version 5.4.3.2 fixed it",
        IocType::Ipv4,
        "5.4.3.2",
        "version",
    );
    flagged("v6 doc 2001:db8::1", IocType::Ipv6, "2001:db8::1", "3849");
    flagged("net 10.0.0.0/8", IocType::Cidr, "10.0.0.0/8", "RFC 1918");
    flagged(
        "See example.com",
        IocType::Domain,
        "example.com",
        "documentation",
    );
    flagged(
        "Archive payload.zip attached",
        IocType::Domain,
        "payload.zip",
        "also a top-level domain",
    );
    flagged(
        "Script setup.py ran",
        IocType::Domain,
        "setup.py",
        "also a top-level domain",
    );
    flagged(
        "detected as W64/Agent.CA!tr",
        IocType::Domain,
        "agent.ca",
        "antivirus",
    );
    flagged(
        "as Backdoor.Win32.Agent.ca",
        IocType::Domain,
        "backdoor.win32.agent.ca",
        "antivirus",
    );
    flagged(
        "the attacks.Cisco product",
        IocType::Domain,
        "attacks.cisco",
        "joined",
    );
    flagged(
        "scope Mail.Read granted",
        IocType::Domain,
        "mail.read",
        "capitalized",
    );
    flagged(
        "object WScript.Shell created",
        IocType::Domain,
        "wscript.shell",
        "capitalized",
    );
    flagged(
        "field process.name equals",
        IocType::Domain,
        "process.name",
        "property",
    );
    flagged(
        "unit multi-user.target reached",
        IocType::Domain,
        "multi-user.target",
        "property",
    );
}

#[test]
fn defanged_file_like_names_are_domains() {
    expect(&[
        ("C2 payload[.]zip", &[("domain", "payload.zip")]),
        ("C2 hxxp://setup[.]py/x", &[("url", "http://setup.py/x")]),
        (
            "Archive payload.zip attached",
            &[("filename", "payload.zip")],
        ),
        ("https://payload.zip/x", &[("url", "https://payload.zip/x")]),
    ]);
}

#[test]
fn references_sections_hold_citations() {
    let text = "The actor used c2-evil.com for C2.\n\nReferences\n[1] https://vendor-blog.com/report\n[2] https://c2-evil.com/analysis\n";
    let found = Extractor::new().extract(text);
    let citation = found
        .iter()
        .find(|i| i.value == "https://vendor-blog.com/report")
        .expect("cited URL");
    assert!(
        citation
            .false_positive
            .as_deref()
            .is_some_and(|r| r.contains("references"))
    );
    // c2-evil.com also appears in the body: its URL in the references is not dismissed.
    let body = found
        .iter()
        .find(|i| i.value == "https://c2-evil.com/analysis")
        .expect("url");
    assert!(body.false_positive.is_none());
    // After the list, the text is no longer references.
    let text =
        "References\n[1] https://vendor-blog.com/report\nIndicators\nbad-domain.com was used\n";
    let found = Extractor::new().extract(text);
    let later = found
        .iter()
        .find(|i| i.value == "bad-domain.com")
        .expect("domain");
    assert!(later.false_positive.is_none(), "{later:?}");
}

#[test]
fn warninglists_from_the_knowledge_base() {
    let kb = ctiforge_kb::KnowledgeBase::embedded().expect("embedded knowledge base");
    let extractor = Extractor::with_knowledge_base(&kb);
    let found = extractor.extract(
        "Resolved via 8.8.8.8, fetched from www.google.com, empty file d41d8cd98f00b204e9800998ecf8427e, C2 richa-sharma.ddns.net, id T9999",
    );
    let get = |value: &str| {
        found
            .iter()
            .find(|i| i.value == value)
            .unwrap_or_else(|| panic!("{value}: {found:?}"))
    };
    assert!(
        get("8.8.8.8")
            .false_positive
            .as_deref()
            .is_some_and(|r| r.contains("warninglist"))
    );
    assert!(get("www.google.com").false_positive.is_some());
    assert!(
        get("d41d8cd98f00b204e9800998ecf8427e")
            .false_positive
            .is_some()
    );
    let ddns = get("richa-sharma.ddns.net");
    assert!(ddns.false_positive.is_none(), "{ddns:?}");
    assert!(
        ddns.context.iter().any(|c| c.contains("dynamic DNS")),
        "{ddns:?}"
    );
    assert_eq!(
        get("T9999").false_positive.as_deref(),
        Some("no such id in the knowledge base")
    );
    // Defanged by the author: kept, with the listing noted.
    let found = extractor.extract("C2 www[.]google[.]com");
    assert!(found[0].false_positive.is_none());
    assert!(!found[0].context.is_empty());
}

/// The forms real reports write that issue #22 lists, each with prose, versions, file names or
/// code beside it that must stay out.
#[test]
fn forms_real_reports_write() {
    expect(&[
        // E-mail with spaces or brackets around `@` and `.`.
        (
            "Mail ops @ mail-relay[.]net about it.",
            &[("email", "ops@mail-relay.net")],
        ),
        (
            "Mail ops [at] mail-relay [dot] net now.",
            &[("email", "ops@mail-relay.net")],
        ),
        ("We meet @ noon at the office.", &[]),
        ("Look at mail-relay for details.", &[]),
        // Glued to letters or punctuation.
        (
            "It called back callbackto45.77.12.9now and left.",
            &[("ipv4", "45.77.12.9")],
        ),
        ("Look: ..!91.203.5.14?! done.", &[("ipv4", "91.203.5.14")]),
        ("Update to v1.2.3.4 or ver2.0.1.7 now.", &[]),
        // Brackets half-open, doubled, mixed.
        (
            "Half open relay-cdn[.net here.",
            &[("domain", "relay-cdn.net")],
        ),
        (
            "Half open relay-cdn.]net here.",
            &[("domain", "relay-cdn.net")],
        ),
        ("Mixed 91[.]203(.5.17 here.", &[("ipv4", "91.203.5.17")]),
        (
            "Doubled evil-cdn[[.]]top here.",
            &[("domain", "evil-cdn.top")],
        ),
        (
            "Triple evil-cdn(((.)))top here.",
            &[("domain", "evil-cdn.top")],
        ),
        ("Built on [.NET] and list[0].name (.5 mm).", &[]),
        // Backslash-escaped dots and scheme variants.
        (
            "Escaped evil-cdn\\.top here.",
            &[("domain", "evil-cdn.top")],
        ),
        (
            "Scheme http:\\\\evil-cdn.top\\path here.",
            &[("url", "http://evil-cdn.top/path")],
        ),
        (
            "Scheme http__evil-cdn.top/path here.",
            &[("url", "http://evil-cdn.top/path")],
        ),
        (
            "Python's __init__.py and http__init stay.",
            &[("filename", "__init__.py")],
        ),
        (
            "Share \\\\fileserver\\drop is a path.",
            &[("filepath", "\\\\fileserver\\drop")],
        ),
        (
            "Scheme hxxp[:]//evil-cdn.top/a here.",
            &[("url", "http://evil-cdn.top/a")],
        ),
        (
            "Scheme hxxp[://]evil-cdn.top/b here.",
            &[("url", "http://evil-cdn.top/b")],
        ),
        (
            "Scheme fxp://files-cdn.top/c here.",
            &[("url", "ftp://files-cdn.top/c")],
        ),
        // Credentials and ports.
        (
            "Creds http://user:pass@evil-cdn.top:8080/x here.",
            &[("url", "http://user:pass@evil-cdn.top:8080/x")],
        ),
        // A URL percent-encoded inside another's query.
        (
            "Nested https://redirect-cdn.net/?u=http%3A%2F%2Fevil-cdn.top%2Fpayload&x=1 here.",
            &[
                (
                    "url",
                    "https://redirect-cdn.net/?u=http%3A%2F%2Fevil-cdn.top%2Fpayload&x=1",
                ),
                ("url", "http://evil-cdn.top/payload"),
            ],
        ),
        (
            "Search https://search-cdn.net/?q=http%3A%2F and more.",
            &[("url", "https://search-cdn.net/?q=http%3A%2F")],
        ),
        // Identifiers with a space or in lower case.
        ("Ids cve 2021 44228 here.", &[("cve", "CVE-2021-44228")]),
        ("Ids CVE 2021-44228 here.", &[("cve", "CVE-2021-44228")]),
        ("Ids AS 13335 here.", &[("asn", "AS13335")]),
        ("Ids t1059.001 here.", &[("attack_technique", "T1059.001")]),
        ("In 2021 44228 people came; as 13335 did.", &[]),
        ("Part CVE 20211-4228 is no id.", &[]),
        // Registry keys with placeholders and spaces.
        (
            "Key <HKCU>\\Software\\EvilCorp here.",
            &[("registry", "HKCU\\Software\\EvilCorp")],
        ),
        (
            "Key HKEY_USERS\\<SID>\\Software\\EvilCorp here.",
            &[("registry", "HKEY_USERS\\<SID>\\Software\\EvilCorp")],
        ),
        (
            "Key \"HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater Service\" here.",
            &[(
                "registry",
                "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater Service",
            )],
        ),
        ("A <b>\\bold</b> tag is markup.", &[]),
        // Labelled hashes.
        (
            "imphash: f34d5f2d4577ed6d9ceec516c1f5a744",
            &[("imphash", "f34d5f2d4577ed6d9ceec516c1f5a744")],
        ),
        (
            "Hashes: MD5=0cc175b9c0f1b6a831c399e269772661,IMPHASH=F34D5F2D4577ED6D9CEEC516C1F5A744",
            &[
                ("md5", "0cc175b9c0f1b6a831c399e269772661"),
                ("imphash", "f34d5f2d4577ed6d9ceec516c1f5a744"),
            ],
        ),
        (
            "authentihash: 9a2b5d3c4e1f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b",
            &[(
                "authentihash",
                "9a2b5d3c4e1f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b",
            )],
        ),
        // Inline-code markup around an indicator.
        (
            "Appendix `+update-check[.]top+` and `+cdn-sync[.]xyz+`.",
            &[("domain", "update-check.top"), ("domain", "cdn-sync.xyz")],
        ),
        ("Sum a+b+c in C++ code.", &[]),
    ]);
}

/// Unix paths with spaces: quoted, or unquoted while the next word carries on with a slash;
/// beside them, slashes that are prose and paths that end where a file is named.
#[test]
fn unix_paths_with_spaces() {
    expect(&[
        (
            "The payload was saved to /home/user/My Documents/update.sh and ran.",
            &[("filepath", "/home/user/My Documents/update.sh")],
        ),
        (
            "See /Library/Application Support/com.apple.sync/agent on macOS.",
            &[(
                "filepath",
                "/Library/Application Support/com.apple.sync/agent",
            )],
        ),
        (
            "It wrote \"/tmp/cache dir/x.bin\" first.",
            &[("filepath", "/tmp/cache dir/x.bin")],
        ),
        // A command line in quotes is not one path.
        (
            "Run \"/usr/bin/curl -s evil.com\" now.",
            &[("filepath", "/usr/bin/curl"), ("domain", "evil.com")],
        ),
        // Prose slashes, a new path, and a named file end the path.
        (
            "Copy /usr/bin and/or /sbin/init files.",
            &[("filepath", "/usr/bin"), ("filepath", "/sbin/init")],
        ),
        (
            "The /opt/app client/server model.",
            &[("filepath", "/opt/app")],
        ),
        (
            "Dropped /tmp/a.sh to/from there.",
            &[("filepath", "/tmp/a.sh")],
        ),
        (
            "Edit /etc/hosts then check TCP/IP.",
            &[("filepath", "/etc/hosts")],
        ),
    ]);
}

/// Forms read wrongly on ioc-finder's public cases (bench/ioc_suite.py), each beside text that
/// must stay as it is.
#[test]
fn forms_from_the_peer_suite() {
    expect(&[
        // Registry keys and paths through several capitalised words.
        (
            "Set HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\notepad.exe now.",
            &[(
                "registry",
                "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\notepad.exe",
            )],
        ),
        (
            "Dropped C:\\Program Files\\Common Files\\System\\evil.dll today.",
            &[(
                "filepath",
                "C:\\Program Files\\Common Files\\System\\evil.dll",
            )],
        ),
        // A file name ends the path; lower-case words are prose.
        (
            "It copied C:\\Users\\Public\\a.exe To The Temp\\b.exe folder.",
            &[("filepath", "C:\\Users\\Public\\a.exe")],
        ),
        (
            "reg add HKLM\\Software\\Policies\\Microsoft\\Windows Defender /fC:\\Windows\\system32\\reg.exe",
            // A trailing capitalised word with no segment after it is not known to be part of
            // the key, and `/fC:` glues a switch to the path: the key up to `Windows`.
            &[("registry", "HKLM\\Software\\Policies\\Microsoft\\Windows")],
        ),
        (
            "Wrote HKCU\\Software\\Evil then deleted the key Run\\x later.",
            &[("registry", "HKCU\\Software\\Evil")],
        ),
        // A space before a backslash, as PDFs copy it; not after a file name, not a UNC
        // path, not a switch.
        (
            "Dropped to C:\\Users\\<username>\\AppData \\Local\\Microsoft\\Windows\\shedaudio.exe today.",
            &[(
                "filepath",
                "C:\\Users\\<username>\\AppData \\Local\\Microsoft\\Windows\\shedaudio.exe",
            )],
        ),
        (
            "Copied C:\\Temp\\a.exe \\Windows\\b.exe later.",
            &[("filepath", "C:\\Temp\\a.exe")],
        ),
        (
            "Shared C:\\Data \\\\fileserver\\share\\x.doc later.",
            &[
                ("filepath", "C:\\Data"),
                ("filepath", "\\\\fileserver\\share\\x.doc"),
            ],
        ),
        // A placeholder of two words in a key.
        (
            "Added to HKEY_USERS\\<USER SID>\\Software\\Microsoft\\Windows\\CurrentVersion\\Run today.",
            &[(
                "registry",
                "HKEY_USERS\\<USER SID>\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
            )],
        ),
        // Hash labels on the line before, after a dash, spelled out.
        (
            "Dropper import hash - 18ddf28a71089acdbab5038f58044c0a",
            &[("imphash", "18ddf28a71089acdbab5038f58044c0a")],
        ),
        (
            "imphash\n18ddf28a71089acdbab5038f58044c0a",
            &[("imphash", "18ddf28a71089acdbab5038f58044c0a")],
        ),
        (
            "The import of 18ddf28a71089acdbab5038f58044c0a failed.",
            &[("md5", "18ddf28a71089acdbab5038f58044c0a")],
        ),
        // Ids in lower case or spaced; the English `as` is not an ASN label.
        ("Routed via asn 13335 today.", &[("asn", "AS13335")]),
        ("Such as 1234 users were hit.", &[]),
        ("Tactic ta0001 first.", &[("attack_tactic", "TA0001")]),
        ("Part t1059 ships.", &[]),
        // Two user agents one after the other; `mozilla/` in lower case.
        (
            "UA Mozilla/5.0 (Windows NT 6.1; WOW64) Gecko Firefox/11.0 Mozilla/5.0 (X11; Linux x86_64) curl/8.0\n",
            &[
                (
                    "user_agent",
                    "Mozilla/5.0 (Windows NT 6.1; WOW64) Gecko Firefox/11.0",
                ),
                ("user_agent", "Mozilla/5.0 (X11; Linux x86_64) curl/8.0"),
            ],
        ),
        (
            "ua mozilla/5.0 (windows nt 6.1; wow64) gecko firefox/11.0\n",
            &[(
                "user_agent",
                "mozilla/5.0 (windows nt 6.1; wow64) gecko firefox/11.0",
            )],
        ),
    ]);
}

#[test]
fn hosts_of_urls_and_addresses_are_derived_domains() {
    let text = "Beacon to hxxps://cdn-sync[.]xyz/a, mail ops@mail-relay.net, see \
                update-check.top and http://update-check.top/x, and http://45.77.12.9/p.";
    let found = Extractor::new().extract(text);
    check_offsets(text, &found);
    let derived: Vec<(&str, IocType)> = found
        .iter()
        .filter_map(|i| Some((i.value.as_str(), i.derived_from?)))
        .collect();
    // The address's host is no domain; update-check.top stands on its own once, and is derived
    // from the URL that holds it too (the analysis merges them: written on its own, it is not
    // only derived).
    assert_eq!(
        derived,
        [
            ("cdn-sync.xyz", IocType::Url),
            ("mail-relay.net", IocType::Email),
            ("update-check.top", IocType::Url),
        ]
    );
    let defanged = found
        .iter()
        .find(|i| i.value == "cdn-sync.xyz" && i.kind == IocType::Domain)
        .expect("derived");
    assert!(defanged.defanged && defanged.raw == "hxxps://cdn-sync[.]xyz/a");
}
