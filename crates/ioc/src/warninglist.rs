//! MISP warninglists, indexed for the checks the extractor makes.
//!
//! Each list says which MISP attribute types it applies to; an indicator is checked only
//! against lists for its type. A few lists name services that attackers abuse (dynamic DNS,
//! URL shorteners, "living off trusted sites"): a hit there is context, not a false positive.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use ctiforge_kb::{Warninglist, WarninglistKind};

use crate::IocType;

/// Lists whose entries are legitimate services that attackers abuse: worth noting, not
/// grounds to discard an indicator.
const CONTEXT_LISTS: &[&str] = &[
    "dynamic-dns",
    "lots-project",
    "url-shortener",
    "public-ipfs-gateways",
    "link-in-bio",
];

/// A list that matched, borrowed from the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarninglistHit<'a> {
    /// The list's folder name (`rfc1918`).
    pub slug: &'a str,
    /// The list's name.
    pub name: &'a str,
    /// Whether the hit is context (abused legitimate service) rather than a false positive.
    pub context: bool,
    /// Whether a parent domain matched rather than the value itself.
    pub via_parent: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Applies {
    ip: bool,
    domain: bool,
    url: bool,
    hash: bool,
    email: bool,
}

#[derive(Debug)]
struct List {
    slug: String,
    name: String,
    applies: Applies,
    context: bool,
}

/// The warninglists, indexed.
#[derive(Debug, Default)]
pub struct Warninglists {
    lists: Vec<List>,
    /// Exact entries of `string` lists (lower case) → lists.
    exact: HashMap<String, Vec<u16>>,
    /// Entries of `hostname` lists (lower case): the name and its sub-domains match.
    hostnames: HashMap<String, Vec<u16>>,
    /// The lists of IPv4 ranges (addresses as integers, widened to `u128`).
    v4: RangeIndex,
    /// The lists of IPv6 ranges.
    v6: RangeIndex,
    /// Per `substring` list, an automaton of its entries (lower case), asked only whether any
    /// entry occurs. A DFA without prefilter: the values asked about are short, and the
    /// prefilter's candidate search cost twice the scan (URL checks 520 -> 300 ns).
    substrings: Vec<(AhoCorasick, u16)>,
    regexes: Vec<(regex::Regex, u16)>,
}

impl Warninglists {
    /// Indexes the lists.
    pub fn new(lists: &[Warninglist]) -> Self {
        let mut index = Warninglists::default();
        let (mut v4_lists, mut v6_lists) = (Vec::new(), Vec::new());
        for (n, list) in lists.iter().enumerate() {
            let id = n as u16;
            index.lists.push(List {
                slug: list.slug.clone(),
                name: list.name.clone(),
                applies: applies(&list.matching_attributes),
                context: CONTEXT_LISTS.contains(&list.slug.as_str()),
            });
            match list.kind {
                WarninglistKind::String => {
                    for entry in list.entries() {
                        let key = normalize_entry(entry);
                        push_list(index.exact.entry(key).or_default(), id);
                    }
                }
                WarninglistKind::Hostname => {
                    for entry in list.entries() {
                        let key = normalize_entry(entry);
                        push_list(index.hostnames.entry(key).or_default(), id);
                    }
                }
                WarninglistKind::Cidr => {
                    let mut v4 = Vec::new();
                    let mut v6 = Vec::new();
                    for entry in list.entries() {
                        match parse_range(entry) {
                            Some(Range::V4(a, b)) => v4.push((a, b)),
                            Some(Range::V6(a, b)) => v6.push((a, b)),
                            None => {}
                        }
                    }
                    v4_lists.push((id, merge(v4)));
                    v6_lists.push((id, merge(v6)));
                }
                WarninglistKind::Substring => {
                    let patterns = list.entries().map(str::to_ascii_lowercase);
                    // Lists are data from outside: one the automaton rejects is skipped.
                    let automaton = AhoCorasick::builder()
                        .kind(Some(AhoCorasickKind::DFA))
                        .prefilter(false)
                        .build(patterns);
                    if let Ok(automaton) = automaton {
                        index.substrings.push((automaton, id));
                    }
                }
                WarninglistKind::Regex => {
                    for entry in list.entries() {
                        // Lists are data from outside: a pattern our engine rejects is skipped.
                        if let Ok(regex) = regex::RegexBuilder::new(entry)
                            .case_insensitive(true)
                            .size_limit(1 << 20)
                            .build()
                        {
                            index.regexes.push((regex, id));
                        }
                    }
                }
            }
        }
        index.v4 = RangeIndex::new(&v4_lists);
        index.v6 = RangeIndex::new(&v6_lists);
        index
    }

    /// The lists an indicator is on. `host` is the host of a URL or e-mail address.
    pub fn check(&self, kind: IocType, value: &str, host: Option<&str>) -> Vec<WarninglistHit<'_>> {
        // Entries are kept in lower case.
        let lower = lower_case(value);
        let value = &*lower;
        // (list, matched through a parent domain)
        let mut ids: Vec<(u16, bool)> = Vec::new();
        let direct = |found: &mut Vec<u16>, ids: &mut Vec<(u16, bool)>| {
            ids.extend(found.drain(..).map(|id| (id, false)));
        };
        let mut found: Vec<u16> = Vec::new();
        let applies = |id: u16, f: fn(&Applies) -> bool| f(&self.lists[id as usize].applies);
        let keep: fn(&Applies) -> bool = match kind {
            IocType::Ipv4 | IocType::Ipv6 | IocType::Cidr => {
                if let Some(Ok(ip)) = value.split('/').next().map(str::parse::<IpAddr>) {
                    self.check_ip(ip, &mut found);
                }
                direct(&mut found, &mut ids);
                |a| a.ip
            }
            IocType::Domain => {
                self.check_host(value, &mut ids);
                self.check_substrings(value, &mut found);
                direct(&mut found, &mut ids);
                |a| a.domain
            }
            IocType::Url => {
                self.check_exact(value, &mut found);
                self.check_substrings(value, &mut found);
                direct(&mut found, &mut ids);
                // A URL with a path on a popular site can still host a payload; only a bare
                // host is matched against the host lists.
                let bare = value
                    .split_once("://")
                    .map_or(value, |(_, rest)| rest)
                    .trim_end_matches('/');
                if let Some(host) = host
                    && !bare.contains('/')
                {
                    self.check_host(host, &mut ids);
                }
                |a| a.url
            }
            IocType::Md5
            | IocType::Sha1
            | IocType::Sha256
            | IocType::Sha512
            | IocType::Ssdeep
            | IocType::Imphash
            | IocType::Authentihash => {
                self.check_exact(value, &mut found);
                direct(&mut found, &mut ids);
                |a| a.hash
            }
            IocType::Email => {
                self.check_exact(value, &mut found);
                for (regex, id) in &self.regexes {
                    if regex.is_match(value) {
                        found.push(*id);
                    }
                }
                direct(&mut found, &mut ids);
                |a| a.email
            }
            _ => return Vec::new(),
        };
        ids.retain(|(id, _)| applies(*id, keep));
        ids.sort_unstable();
        ids.dedup_by_key(|(id, _)| *id);
        ids.into_iter()
            .map(|(id, via_parent)| {
                let list = &self.lists[id as usize];
                WarninglistHit {
                    slug: &list.slug,
                    name: &list.name,
                    context: list.context,
                    via_parent,
                }
            })
            .collect()
    }

    /// `value` in lower case against the `string` lists.
    fn check_exact(&self, value: &str, ids: &mut Vec<u16>) {
        if let Some(found) = self.exact.get(value) {
            ids.extend(found);
        }
    }

    /// The host against string lists, and the host and its parent domains against hostname
    /// lists. Parents above the registrable domain (`ddns.net` for `x.ddns.net`, a suffix on
    /// the Public Suffix List) are checked against context lists only: a customer's name under
    /// a shared suffix is not the popular service itself.
    fn check_host(&self, host: &str, ids: &mut Vec<(u16, bool)>) {
        let host = lower_case(host);
        let mut found = Vec::new();
        self.check_exact(&host, &mut found);
        ids.extend(found.into_iter().map(|id| (id, false)));
        let registrable_len = psl::domain(host.as_bytes()).map_or(0, |d| d.as_bytes().len());
        let mut suffix = &*host;
        loop {
            let above_registrable = suffix.len() < registrable_len;
            if let Some(found) = self.hostnames.get(suffix) {
                for id in found {
                    if !above_registrable || self.lists[*id as usize].context {
                        ids.push((*id, suffix.len() != host.len()));
                    }
                }
            }
            match suffix.split_once('.') {
                Some((_, rest)) if rest.contains('.') => suffix = rest,
                _ => break,
            }
        }
    }

    /// `value` in lower case against the `substring` lists.
    fn check_substrings(&self, value: &str, ids: &mut Vec<u16>) {
        for (automaton, id) in &self.substrings {
            if automaton.is_match(value) {
                ids.push(*id);
            }
        }
    }

    fn check_ip(&self, ip: IpAddr, ids: &mut Vec<u16>) {
        let found = match ip {
            IpAddr::V4(ip) => self.v4.lists(u128::from(u32::from(ip))),
            IpAddr::V6(ip) => self.v6.lists(u128::from(ip)),
        };
        ids.extend(found);
    }
}

/// `text` in lower case, copied only when it has an upper-case letter: normalized values
/// (domains, hosts, hex) already are.
fn lower_case(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// Which lists hold an address, with one binary search whatever the number of lists: the
/// address space is cut at every boundary of every list's ranges, and each piece names the
/// lists that cover it.
#[derive(Debug, Default)]
struct RangeIndex {
    /// Where each piece starts, ascending; a piece runs to the next start.
    starts: Vec<u128>,
    /// For each piece, its lists as an index into `sets`.
    piece_sets: Vec<u32>,
    /// The distinct sets of lists, each sorted; the first is empty.
    sets: Vec<Vec<u16>>,
}

impl RangeIndex {
    /// From each list's merged ranges (inclusive ends, not overlapping within a list).
    fn new(lists: &[(u16, Vec<(u128, u128)>)]) -> Self {
        // +1 where a list's range starts, -1 just past where it ends.
        let mut events: Vec<(u128, bool, u16)> = Vec::new();
        for (id, ranges) in lists {
            for &(start, end) in ranges {
                events.push((start, true, *id));
                // A range that reaches the top of the address space never ends.
                if let Some(past) = end.checked_add(1) {
                    events.push((past, false, *id));
                }
            }
        }
        events.sort_unstable();
        let mut index = RangeIndex {
            sets: vec![Vec::new()],
            ..RangeIndex::default()
        };
        let mut set_ids: HashMap<Vec<u16>, u32> = HashMap::default();
        set_ids.insert(Vec::new(), 0);
        let mut active: Vec<u16> = Vec::new();
        let mut k = 0;
        while k < events.len() {
            let at = events[k].0;
            while let Some(&(position, starts, id)) = events.get(k)
                && position == at
            {
                if starts {
                    active.push(id);
                } else {
                    active.retain(|a| *a != id);
                }
                k += 1;
            }
            let mut set = active.clone();
            set.sort_unstable();
            let next_id = index.sets.len() as u32;
            let set_id = *set_ids.entry(set.clone()).or_insert_with(|| {
                index.sets.push(set);
                next_id
            });
            // A piece with the same lists as the one before only extends it.
            if index.piece_sets.last() != Some(&set_id) {
                index.starts.push(at);
                index.piece_sets.push(set_id);
            }
        }
        index
    }

    /// The lists that hold `address`, in ascending order.
    fn lists(&self, address: u128) -> &[u16] {
        let after = self.starts.partition_point(|start| *start <= address);
        match after.checked_sub(1) {
            Some(piece) => &self.sets[self.piece_sets[piece] as usize],
            None => &[],
        }
    }
}

fn push_list(ids: &mut Vec<u16>, id: u16) {
    if !ids.contains(&id) {
        ids.push(id);
    }
}

fn normalize_entry(entry: &str) -> String {
    entry
        .trim()
        .trim_start_matches("*.")
        .trim_start_matches('.')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

fn applies(attributes: &[String]) -> Applies {
    let mut applies = Applies::default();
    for attribute in attributes {
        let a = attribute.as_str();
        applies.ip |= a.starts_with("ip-") || a == "domain|ip";
        applies.domain |= matches!(a, "domain" | "hostname" | "domain|ip" | "hostname|port");
        applies.url |= matches!(a, "url" | "uri");
        applies.hash |= matches!(
            a,
            "md5" | "sha1" | "sha224" | "sha256" | "sha512" | "ssdeep"
        ) || a.starts_with("filename|")
            || a.starts_with("x509-fingerprint");
        applies.email |= a.starts_with("email") || a == "target-email";
    }
    applies
}

enum Range {
    V4(u128, u128),
    V6(u128, u128),
}

fn parse_range(entry: &str) -> Option<Range> {
    let entry = entry.trim();
    let (address, bits) = match entry.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u32>().ok()?)),
        None => (entry, None),
    };
    match address.parse::<IpAddr>().ok()? {
        IpAddr::V4(ip) => {
            let bits = bits.unwrap_or(32).min(32);
            let base = u32::from(ip) & mask32(bits);
            Some(Range::V4(
                u128::from(base),
                u128::from(base | !mask32(bits)),
            ))
        }
        IpAddr::V6(ip) => {
            let bits = bits.unwrap_or(128).min(128);
            let base = u128::from(ip) & mask128(bits);
            Some(Range::V6(base, base | !mask128(bits)))
        }
    }
}

fn mask32(bits: u32) -> u32 {
    if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    }
}

fn mask128(bits: u32) -> u128 {
    if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits)
    }
}

fn merge(mut ranges: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    ranges.sort_unstable();
    let mut merged: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            // Adjacent ranges merge too.
            Some(last) if start <= last.1.saturating_add(1) => {
                if end > last.1 {
                    last.1 = end;
                }
            }
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(
        slug: &str,
        kind: WarninglistKind,
        attributes: &[&str],
        entries: &[&str],
    ) -> Warninglist {
        Warninglist::new(
            slug.into(),
            format!("{slug} list"),
            "1".into(),
            kind,
            attributes.iter().map(|a| (*a).to_owned()).collect(),
            &entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn each_kind_of_list_matches() {
        let index = Warninglists::new(&[
            list(
                "rfc1918",
                WarninglistKind::Cidr,
                &["ip-dst"],
                &["10.0.0.0/8", "192.168.0.0/16"],
            ),
            list(
                "google",
                WarninglistKind::Hostname,
                &["domain", "url"],
                &["google.com"],
            ),
            list("top", WarninglistKind::String, &["domain"], &["github.com"]),
            list(
                "empty-hashes",
                WarninglistKind::String,
                &["md5"],
                &["d41d8cd98f00b204e9800998ecf8427e"],
            ),
            list(
                "dynamic-dns",
                WarninglistKind::Hostname,
                &["domain"],
                &["duckdns.org"],
            ),
            list(
                "sandbox",
                WarninglistKind::Substring,
                &["domain"],
                &["malwr"],
            ),
        ]);
        let slugs = |kind, value: &str, host| -> Vec<String> {
            index
                .check(kind, value, host)
                .into_iter()
                .map(|h| h.slug.to_owned())
                .collect()
        };
        assert_eq!(slugs(IocType::Ipv4, "10.1.2.3", None), ["rfc1918"]);
        assert!(slugs(IocType::Ipv4, "11.1.2.3", None).is_empty());
        assert_eq!(slugs(IocType::Domain, "mail.google.com", None), ["google"]);
        assert!(slugs(IocType::Domain, "notgoogle.com", None).is_empty());
        assert_eq!(slugs(IocType::Domain, "github.com", None), ["top"]);
        assert!(
            slugs(IocType::Domain, "evil.github.com", None).is_empty(),
            "string lists are exact"
        );
        assert_eq!(
            slugs(IocType::Md5, "D41D8CD98F00B204E9800998ECF8427E", None),
            ["empty-hashes"]
        );
        assert_eq!(slugs(IocType::Domain, "x.malwr.ee", None), ["sandbox"]);
        let ddns = index.check(IocType::Domain, "c2.duckdns.org", None);
        assert!(ddns[0].context);
        // A URL with a path on a listed host is not discarded; the bare host is.
        assert!(
            slugs(
                IocType::Url,
                "https://docs.google.com/x/y",
                Some("docs.google.com")
            )
            .is_empty()
        );
        assert_eq!(
            slugs(IocType::Url, "https://google.com/", Some("google.com")),
            ["google"]
        );
    }

    #[test]
    fn customer_names_under_shared_suffixes_are_context_not_popular_sites() {
        let index = Warninglists::new(&[
            list(
                "tranco10k",
                WarninglistKind::Hostname,
                &["domain"],
                &["ddns.net", "google.com"],
            ),
            list(
                "dynamic-dns",
                WarninglistKind::Hostname,
                &["domain"],
                &["ddns.net"],
            ),
        ]);
        // ddns.net is on the Public Suffix List's private section: x.ddns.net is someone's name.
        let hits = index.check(IocType::Domain, "richa-sharma.ddns.net", None);
        let slugs: Vec<&str> = hits.iter().map(|h| h.slug).collect();
        assert_eq!(slugs, ["dynamic-dns"]);
        assert!(hits[0].context);
        // The service's own name is still the popular site.
        let hits = index.check(IocType::Domain, "ddns.net", None);
        assert!(hits.iter().any(|h| h.slug == "tranco10k" && !h.via_parent));
        // An ordinary sub-domain of a listed site matches through its parent.
        let hits = index.check(IocType::Domain, "mail.google.com", None);
        assert!(hits.iter().any(|h| h.slug == "tranco10k" && h.via_parent));
    }

    #[test]
    fn ranges_merge_and_contain() {
        let merged = merge(vec![(5, 9), (1, 3), (4, 4), (20, 30)]);
        assert_eq!(merged, [(1, 9), (20, 30)]);
        let index = RangeIndex::new(&[
            (0, merged),
            (1, vec![(8, 25)]),
            (2, vec![(u128::MAX - 1, u128::MAX)]),
        ]);
        for (address, lists) in [
            (0, &[][..]),
            (1, &[0][..]),
            (7, &[0]),
            (8, &[0, 1]),
            (9, &[0, 1]),
            (10, &[1]),
            (20, &[0, 1]),
            (25, &[0, 1]),
            (26, &[0]),
            (31, &[]),
            (u128::MAX - 2, &[]),
            (u128::MAX, &[2]),
        ] {
            assert_eq!(index.lists(address), lists, "{address}");
        }
    }

    proptest::proptest! {
        /// One search in the cut address space finds exactly the lists whose ranges hold the
        /// address, as asking each list would.
        #[test]
        fn the_range_index_agrees_with_each_list(
            lists in proptest::collection::vec(
                proptest::collection::vec((0u128..200, 0u128..40), 0..6),
                0..5,
            ),
            address in 0u128..260,
        ) {
            let lists: Vec<(u16, Vec<(u128, u128)>)> = lists
                .into_iter()
                .enumerate()
                .map(|(id, ranges)| {
                    let ranges = ranges.into_iter().map(|(s, len)| (s, s + len)).collect();
                    (id as u16, merge(ranges))
                })
                .collect();
            let expected: Vec<u16> = lists
                .iter()
                .filter(|(_, ranges)| ranges.iter().any(|(s, e)| (*s..=*e).contains(&address)))
                .map(|(id, _)| *id)
                .collect();
            let index = RangeIndex::new(&lists);
            proptest::prop_assert_eq!(index.lists(address), &expected[..]);
        }
    }
}
