//! MISP warninglists, indexed for the checks the extractor makes.
//!
//! Each list says which MISP attribute types it applies to; an indicator is checked only
//! against lists for its type. A few lists name services that attackers abuse (dynamic DNS,
//! URL shorteners, "living off trusted sites"): a hit there is context, not a false positive.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use ctiforge_kb::{Warninglist, WarninglistIndex};

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
    applies: Applies,
    context: bool,
}

/// The warninglists, indexed: the knowledge base's prebuilt index, with each list's policy
/// (which indicator types it applies to, whether a hit is context) and, built on first use,
/// automata for the few `substring` and `regex` lists.
#[derive(Debug)]
pub struct Warninglists {
    index: WarninglistIndex,
    lists: Vec<List>,
    matchers: OnceLock<Matchers>,
}

#[derive(Debug, Default)]
struct Matchers {
    /// Per `substring` list, an automaton of its entries (lower case), asked only whether any
    /// entry occurs. A DFA without prefilter: the values asked about are short, and the
    /// prefilter's candidate search cost twice the scan (URL checks 520 -> 300 ns).
    substrings: Vec<(AhoCorasick, u16)>,
    regexes: Vec<(regex::Regex, u16)>,
}

impl Warninglists {
    /// Indexes lists (the knowledge base stores them indexed; this is for lists built in code).
    pub fn new(lists: &[Warninglist]) -> Self {
        Self::from_index(WarninglistIndex::build(lists))
    }

    /// The lists of a prebuilt index.
    pub fn from_index(index: WarninglistIndex) -> Self {
        let lists = index
            .lists()
            .iter()
            .map(|list| List {
                applies: applies(&list.matching_attributes),
                context: CONTEXT_LISTS.contains(&list.slug.as_str()),
            })
            .collect();
        Warninglists {
            index,
            lists,
            matchers: OnceLock::new(),
        }
    }

    /// Builds the substring and regex matchers now rather than on first use.
    pub fn warm_up(&self) {
        self.matchers();
    }

    fn matchers(&self) -> &Matchers {
        self.matchers.get_or_init(|| {
            let mut matchers = Matchers::default();
            for (id, entries) in self.index.substrings() {
                // Lists are data from outside: one the automaton rejects is skipped.
                let automaton = AhoCorasick::builder()
                    .kind(Some(AhoCorasickKind::DFA))
                    .prefilter(false)
                    .build(entries);
                if let Ok(automaton) = automaton {
                    matchers.substrings.push((automaton, *id));
                }
            }
            for (id, pattern) in self.index.regexes() {
                // Lists are data from outside: a pattern our engine rejects is skipped.
                if let Ok(regex) = regex::RegexBuilder::new(pattern)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                {
                    matchers.regexes.push((regex, *id));
                }
            }
            matchers
        })
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
                for (regex, id) in &self.matchers().regexes {
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
                let info = &self.index.lists()[id as usize];
                WarninglistHit {
                    slug: &info.slug,
                    name: &info.name,
                    context: self.lists[id as usize].context,
                    via_parent,
                }
            })
            .collect()
    }

    /// `value` in lower case against the `string` lists.
    fn check_exact(&self, value: &str, ids: &mut Vec<u16>) {
        ids.extend(self.index.exact(value));
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
            for id in self.index.hostname(suffix) {
                if !above_registrable || self.lists[id as usize].context {
                    ids.push((id, suffix.len() != host.len()));
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
        for (automaton, id) in &self.matchers().substrings {
            if automaton.is_match(value) {
                ids.push(*id);
            }
        }
    }

    fn check_ip(&self, ip: IpAddr, ids: &mut Vec<u16>) {
        ids.extend(self.index.address(ip));
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ctiforge_kb::WarninglistKind;

    /// A list for tests, named after its slug.
    pub(crate) fn list(
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
}
