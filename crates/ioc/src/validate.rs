//! Validation of candidate values: is this really an address, a domain, a hash, a wallet?
//!
//! Each function takes the candidate text and returns its normalized value, or `None`.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A dotted-quad IPv4 address: four decimal octets 0–255, no leading zeros beyond one digit
/// (`010.1.1.1` is ambiguous, octal to some parsers, and not what reports mean). Only the
/// canonical form passes, so an accepted text is already its own normalized value.
pub fn ipv4(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut count = 0;
    for part in text.as_bytes().split(|b| *b == b'.') {
        if count == 4 || part.is_empty() || part.len() > 3 {
            return None;
        }
        if !part.iter().all(u8::is_ascii_digit) || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        let value = part
            .iter()
            .fold(0u16, |value, digit| value * 10 + u16::from(digit - b'0'));
        octets[count] = u8::try_from(value).ok()?;
        count += 1;
    }
    (count == 4).then(|| Ipv4Addr::from(octets))
}

/// An IPv6 address in any textual form std accepts, with at least two colons.
pub fn ipv6(text: &str) -> Option<Ipv6Addr> {
    if text.bytes().filter(|b| *b == b':').count() < 2 {
        return None;
    }
    text.parse().ok()
}

/// Why an IPv4 address is not a useful indicator, when it is special-purpose (RFC 6890).
pub fn special_ipv4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match () {
        _ if ip.is_private() => "private address range (RFC 1918)",
        _ if ip.is_loopback() => "loopback address",
        _ if ip.is_link_local() => "link-local address (RFC 3927)",
        _ if ip.is_unspecified() || a == 0 => "unspecified or \"this network\" address",
        _ if ip.is_broadcast() => "broadcast address",
        _ if ip.is_multicast() => "multicast address",
        _ if ip.is_documentation() => "documentation range (RFC 5737)",
        _ if a == 100 && (64..128).contains(&b) => {
            "shared address space for carrier NAT (RFC 6598)"
        }
        _ if a == 198 && (b == 18 || b == 19) => "benchmarking range (RFC 2544)",
        _ if a >= 240 => "reserved range (240.0.0.0/4)",
        _ if a == 192 && b == 0 && c == 0 => "IETF protocol assignments (192.0.0.0/24)",
        _ => return None,
    })
}

/// Why an IPv6 address is not a useful indicator, when it is special-purpose.
pub fn special_ipv6(ip: Ipv6Addr) -> Option<&'static str> {
    // `::ffff:127.0.0.1` is the IPv4 address it maps.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return special_ipv4(v4);
    }
    let first = ip.segments()[0];
    Some(match () {
        _ if ip.is_loopback() => "loopback address",
        _ if ip.is_unspecified() => "unspecified address",
        _ if ip.is_multicast() => "multicast address",
        _ if first & 0xffc0 == 0xfe80 => "link-local address",
        _ if first & 0xfe00 == 0xfc00 => "unique local address (RFC 4193)",
        _ if first == 0x2001 && ip.segments()[1] == 0x0db8 => "documentation range (RFC 3849)",
        _ => return None,
    })
}

/// A domain name: labels of letters, digits, `-` and `_`, a public suffix from the Public
/// Suffix List, and a registrable name under it. Returns the lower-case name without a
/// trailing dot.
pub fn domain(text: &str) -> Option<String> {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.len() > 253 || name.len() < 4 || !name.contains('.') {
        return None;
    }
    if !labels_are_valid(name.as_bytes()) {
        return None;
    }
    let tld_start = name.bytes().rposition(|b| b == b'.').map_or(0, |p| p + 1);
    if name.as_bytes()[tld_start..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Lower-cased on the stack: most names asked about are not domains (`cmd.exe`), and they
    // should cost no allocation.
    let mut buffer = [0u8; 253];
    let lower = &mut buffer[..name.len()];
    lower.copy_from_slice(name.as_bytes());
    lower.make_ascii_lowercase();
    let lower: &[u8] = lower;
    let registrable = psl::domain(lower);
    let valid = match registrable {
        Some(domain) => domain.suffix().is_known(),
        // A name that is itself a suffix from the list's private section (`duckdns.org`,
        // `github.io`, `eu.com`) is a registered domain run by a company; only ICANN suffixes
        // such as `co.uk` are not domains of their own.
        None => {
            psl::suffix(lower).is_some_and(|s| s.is_known() && s.typ() == Some(psl::Type::Private))
        }
    };
    valid.then(|| name.to_ascii_lowercase())
}

/// Whether every dot-separated label is 1–63 bytes of letters, digits, `-` and `_`, neither
/// starting nor ending with `-`. One pass over the bytes: this runs for every dotted token.
fn labels_are_valid(name: &[u8]) -> bool {
    let mut label_len = 0;
    let mut previous = b'.';
    for &b in name {
        if b == b'.' {
            if label_len == 0 || previous == b'-' {
                return false;
            }
            label_len = 0;
        } else {
            let allowed = b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
            if !allowed || (label_len == 0 && b == b'-') || label_len == 63 {
                return false;
            }
            label_len += 1;
        }
        previous = b;
    }
    label_len > 0 && previous != b'-'
}

/// The hash type of a hex string, by its length.
pub fn hash_kind(text: &str) -> Option<crate::IocType> {
    use crate::IocType;
    let kind = match text.len() {
        32 => IocType::Md5,
        40 => IocType::Sha1,
        64 => IocType::Sha256,
        128 => IocType::Sha512,
        _ => return None,
    };
    // Without a branch per byte: the whole token is read either way.
    let hex = text
        .bytes()
        .fold(true, |hex, b| hex & b.is_ascii_hexdigit());
    hex.then_some(kind)
}

/// An ssdeep hash: `blocksize:hash:hash` with base64 hash parts.
pub fn ssdeep(text: &str) -> bool {
    let mut parts = text.splitn(3, ':');
    let (Some(size), Some(first), Some(second)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let b64 = |s: &str| {
        s.len() >= 3
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
    };
    // The second part may carry a quoted file name after a comma (ssdeep's own output format).
    let second = second.split(',').next().unwrap_or(second);
    !size.is_empty()
        && size.len() <= 10
        && size.bytes().all(|b| b.is_ascii_digit())
        && b64(first)
        && b64(second)
        && first.len() + second.len() >= 20
}

/// A MAC address as `aa:bb:cc:dd:ee:ff`, `aa-bb-...` or Cisco's `aabb.ccdd.eeff`; returns
/// it lower case with colons.
pub fn mac(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    // Where the separators stand: `00:1a:2b:3c:4d:5e` / `00-1a-...`, or `001a.2b3c.4d5e`.
    let (separator, separators): (u8, &[usize]) = match bytes.len() {
        17 if matches!(bytes[2], b':' | b'-') => (bytes[2], &[2, 5, 8, 11, 14]),
        14 => (b'.', &[4, 9]),
        _ => return None,
    };
    let laid_out = bytes.iter().enumerate().all(|(k, b)| {
        if separators.contains(&k) {
            *b == separator
        } else {
            b.is_ascii_hexdigit()
        }
    });
    // All-digit forms are usually times or version strings, not MACs.
    if !laid_out || bytes.iter().all(|b| b.is_ascii_digit() || *b == separator) {
        return None;
    }
    let mut value = String::with_capacity(17);
    for b in bytes.iter().filter(|b| **b != separator) {
        if value.len() % 3 == 2 {
            value.push(':');
        }
        value.push(char::from(b.to_ascii_lowercase()));
    }
    Some(value)
}

/// A Bitcoin address: base58check with version 0x00 (P2PKH) or 0x05 (P2SH), or a bech32 /
/// bech32m segwit address on mainnet (`bc1...`).
pub fn btc(text: &str) -> bool {
    if text.len() < 26 || text.len() > 90 {
        return false;
    }
    if text.as_bytes()[..3].eq_ignore_ascii_case(b"bc1") {
        let lower = text.to_ascii_lowercase();
        // Bech32 is all lower or all upper case (BIP-173); mixed case is invalid.
        let mixed = text.bytes().any(|b| b.is_ascii_uppercase())
            && text.bytes().any(|b| b.is_ascii_lowercase());
        return !mixed
            && bech32::segwit::decode(&lower).is_ok_and(|(hrp, _, _)| hrp == bech32::hrp::BC);
    }
    if !(26..=35).contains(&text.len()) || !matches!(text.as_bytes()[0], b'1' | b'3') {
        return false;
    }
    bs58::decode(text)
        .with_check(None)
        .into_vec()
        .is_ok_and(|payload| payload.len() == 21 && matches!(payload[0], 0x00 | 0x05))
}

/// An Ethereum address: `0x` and 40 hex digits; mixed-case ones must carry a valid EIP-55
/// checksum. Returns the address lower case.
pub fn eth(text: &str) -> Option<String> {
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    if has_upper && has_lower {
        use sha3::{Digest, Keccak256};
        let lower = hex.to_ascii_lowercase();
        let digest = Keccak256::digest(lower.as_bytes());
        for (i, c) in hex.bytes().enumerate() {
            if c.is_ascii_alphabetic() {
                let nibble = (digest[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
                if (nibble >= 8) != c.is_ascii_uppercase() {
                    return None;
                }
            }
        }
    }
    Some(format!("0x{}", hex.to_ascii_lowercase()))
}

/// A Monero address: 95 characters (106 for integrated addresses) of Monero's base58
/// alphabet, starting with 4 (standard) or 8 (subaddress). The Keccak checksum is not verified.
pub fn xmr(text: &str) -> bool {
    const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    matches!(text.len(), 95 | 106)
        && matches!(text.as_bytes()[0], b'4' | b'8')
        && text.bytes().all(|b| BASE58.contains(&b))
}

/// `CVE-YYYY-NNNN...`, case-insensitive; returns it upper case.
pub fn cve(text: &str) -> Option<String> {
    // Most tokens asked about are not CVE ids; they cost no allocation.
    if !text
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("CVE-"))
    {
        return None;
    }
    let upper = text.to_ascii_uppercase();
    let rest = upper.strip_prefix("CVE-")?;
    let (year, number) = rest.split_once('-')?;
    let year_ok = year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && (year.starts_with("19") || year.starts_with("20"));
    let number_ok = (4..=7).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit());
    (year_ok && number_ok).then_some(upper)
}

/// `PREFIX` followed by 1–6 digits (`CWE-79`, `CAPEC-66`), case-insensitive; upper case.
pub fn numbered_id(text: &str, prefix: &str) -> Option<String> {
    if !text
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    {
        return None;
    }
    let upper = text.to_ascii_uppercase();
    let digits = upper.strip_prefix(prefix)?;
    ((1..=6).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())).then_some(upper)
}

/// An ATT&CK technique (`T1059`, `T1059.001`), tactic (`TA0001`) or mitigation (`M1030`) id.
/// Case-sensitive: lower-case `t1059` in prose is rarely an id.
pub fn attack_id(text: &str) -> Option<crate::IocType> {
    use crate::IocType;
    let four_digits = |s: &str| s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = text.strip_prefix("TA") {
        return four_digits(rest).then_some(IocType::AttackTactic);
    }
    if let Some(rest) = text.strip_prefix('T') {
        let (base, sub) = rest.split_once('.').unwrap_or((rest, ""));
        let sub_ok = sub.is_empty() || (sub.len() == 3 && sub.bytes().all(|b| b.is_ascii_digit()));
        return (four_digits(base) && sub_ok).then_some(IocType::AttackTechnique);
    }
    if let Some(rest) = text.strip_prefix('M') {
        return four_digits(rest).then_some(IocType::AttackMitigation);
    }
    None
}

/// An ATLAS technique id (`AML.T0043`, `AML.T0043.000`).
pub fn atlas_id(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("AML.T") else {
        return false;
    };
    let rest = rest.strip_prefix('A').unwrap_or(rest);
    let (base, sub) = rest.split_once('.').unwrap_or((rest, ""));
    base.len() == 4
        && base.bytes().all(|b| b.is_ascii_digit())
        && (sub.is_empty() || (sub.len() == 3 && sub.bytes().all(|b| b.is_ascii_digit())))
}

/// A D3FEND technique id (`D3-NI`, `D3-PHDURA`).
pub fn d3fend_id(text: &str) -> bool {
    text.strip_prefix("D3-").is_some_and(|rest| {
        (2..=10).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_uppercase())
    })
}

/// An autonomous system number: `AS13335` or `ASN13335`; returns `AS13335`.
pub fn asn(text: &str) -> Option<String> {
    // `AS` and then digits, with `N` or `:` between at most: anything else costs no allocation.
    let body = text
        .get(2..)
        .filter(|_| text[..2].eq_ignore_ascii_case("AS"))?;
    if !body.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let upper = text.to_ascii_uppercase();
    let digits = upper
        .strip_prefix("ASN")
        .or_else(|| upper.strip_prefix("AS"))?;
    let digits = digits.strip_prefix(':').unwrap_or(digits);
    let number: u64 =
        if (1..=10).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            digits.parse().ok()?
        } else {
            return None;
        };
    (1..=4_294_967_295)
        .contains(&number)
        .then(|| format!("AS{number}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for good in [
            "a.b",
            "evil-site.co_x.com",
            &format!("{}.com", "a".repeat(63)),
        ] {
            assert!(labels_are_valid(good.as_bytes()), "{good}");
        }
        let long = format!("{}.com", "a".repeat(64));
        for bad in [
            "a..b", ".a", "a.", "-a.b", "a-.b", "a.b-", "a b.c", "é.com", &long,
        ] {
            assert!(!labels_are_valid(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn mac_forms_and_look_alikes() {
        for (text, value) in [
            ("00:1A:2B:3C:4D:5E", "00:1a:2b:3c:4d:5e"),
            ("00-1a-2b-3c-4d-5f", "00:1a:2b:3c:4d:5f"),
            ("0011.22AA.bbcc", "00:11:22:aa:bb:cc"),
        ] {
            assert_eq!(mac(text).as_deref(), Some(value), "{text}");
        }
        for bad in [
            "12:30:45:00:11:22", // all digits: a time or a version
            "1234.5678.9012",    // all digits
            "00:1a-2b:3c:4d:5e", // mixed separators
            "00:1a:2b:3c:4d5:e", // a separator out of place
            "001a:2b3c:4d5e:0f", // 17 bytes, wrong layout
            "00:1a:2b:3c:4d:5g", // not hex
            "001a.2b3c.4d5e.",   // 15 bytes
            "001a-2b3c-4d5e",    // Cisco form with dashes
        ] {
            assert_eq!(mac(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        /// Whatever passes is written exactly as the address prints: callers keep the text as
        /// the value.
        #[test]
        fn an_accepted_ipv4_text_is_canonical(
            octets in proptest::array::uniform4(0u16..300),
            padded in proptest::array::uniform4(proptest::bool::weighted(0.1)),
        ) {
            let parts: Vec<String> = octets
                .iter()
                .zip(padded)
                .map(|(octet, pad)| format!("{}{octet}", if pad { "0" } else { "" }))
                .collect();
            let text = parts.join(".");
            let canonical = octets.iter().all(|o| *o <= 255) && !padded.contains(&true);
            proptest::prop_assert_eq!(ipv4(&text).map(|ip| ip.to_string()), canonical.then_some(text));
        }
    }

    #[test]
    fn ipv4_octets_and_forms() {
        assert_eq!(ipv4("8.8.8.8"), Some(Ipv4Addr::new(8, 8, 8, 8)));
        for bad in [
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1..2.3",
            "a.b.c.d",
            "",
        ] {
            assert_eq!(ipv4(bad), None, "{bad}");
        }
    }

    #[test]
    fn special_ranges_have_reasons() {
        assert!(special_ipv4(Ipv4Addr::new(10, 0, 0, 1)).is_some_and(|r| r.contains("1918")));
        assert!(special_ipv4(Ipv4Addr::new(192, 0, 2, 7)).is_some_and(|r| r.contains("5737")));
        assert!(special_ipv4(Ipv4Addr::new(100, 64, 1, 1)).is_some());
        assert_eq!(special_ipv4(Ipv4Addr::new(45, 77, 1, 2)), None);
        assert!(special_ipv6("2001:db8::1".parse().expect("v6")).is_some());
        assert_eq!(special_ipv6("2606:4700::1111".parse().expect("v6")), None);
        assert!(
            special_ipv6("::ffff:10.0.0.1".parse().expect("mapped"))
                .is_some_and(|r| r.contains("1918"))
        );
    }

    #[test]
    fn domains_need_a_known_suffix_and_a_registrable_name() {
        assert_eq!(domain("Evil.COM").as_deref(), Some("evil.com"));
        assert_eq!(
            domain("a.b.example.co.uk.").as_deref(),
            Some("a.b.example.co.uk")
        );
        for bad in [
            "co.uk",
            "update.exe",
            "evil.notatld",
            "-a.com",
            "a..com",
            "1.2.3.4",
            "e.g",
        ] {
            assert_eq!(domain(bad), None, "{bad}");
        }
    }

    #[test]
    fn coin_addresses_are_checksummed() {
        // The genesis block's P2PKH address and a widely published bech32 address.
        assert!(btc("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
        assert!(!btc("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"));
        assert!(btc("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(btc("BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ"));
        assert!(!btc("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp"));
        assert!(
            !btc("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5MDQ"),
            "mixed case"
        );
        // EIP-55 test vector; one flipped case fails.
        assert!(eth("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").is_some());
        assert!(eth("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD").is_none());
        assert!(eth("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").is_some());
    }

    #[test]
    fn identifiers() {
        assert_eq!(cve("cve-2021-44228").as_deref(), Some("CVE-2021-44228"));
        assert_eq!(cve("CVE-21-44228"), None);
        assert_eq!(
            attack_id("T1059.001"),
            Some(crate::IocType::AttackTechnique)
        );
        assert_eq!(attack_id("TA0001"), Some(crate::IocType::AttackTactic));
        assert_eq!(attack_id("T105"), None);
        assert!(atlas_id("AML.T0043.000"));
        assert!(d3fend_id("D3-NI"));
        assert!(!d3fend_id("D3-n"));
        assert_eq!(asn("asn13335").as_deref(), Some("AS13335"));
        assert_eq!(asn("AS0"), None);
        assert_eq!(
            mac("00-1A-2b-3C-4d-5E").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(mac("0011.2233.44aa").as_deref(), Some("00:11:22:33:44:aa"));
        assert_eq!(mac("12:30:45:10:20:30"), None);
        assert!(ssdeep(
            "3072:C6Ut2E0BPzXoSXCWwgXJy0p6tRZ8:C6UtdBPLoxPg50p6HZ8"
        ));
        assert!(!ssdeep("10:30:45"));
    }
}
