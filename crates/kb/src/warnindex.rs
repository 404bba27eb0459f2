//! The MISP warninglists indexed once, at `kb build` time, in a flat byte layout that is read
//! in place: opening it costs microseconds, where building hash maps and interval tables from
//! the 197,000 entries cost 65 ms at every start (see `docs/decisions/0013-start-up.md`).
//!
//! Layout: `u32` directory length, the directory (postcard: lists, substring and regex
//! entries, and where each table lies), then the data region. All integers little-endian;
//! offsets are relative to the data region. Readers use checked slicing throughout, so damaged
//! bytes give wrong answers or none, never a panic (the snapshot's checksum catches damage
//! before that).
//!
//! - A *string table* (exact entries, host names): `slots` (`u32`, a power of two; 0 is empty,
//!   otherwise entry number + 1), `entries` (two `u32` per key, where its bytes and its list
//!   ids start; one more pair marks the ends), the keys' bytes, and the list ids (`u16`). Keys
//!   are found by FNV-1a hashing and linear probing.
//! - A *range table* (IPv4, IPv6): the address space cut at every boundary of every list's
//!   ranges; `starts` (ascending, `u32` for IPv4 and `u128` for IPv6), each piece's set of
//!   lists (`u32`), and the sets (`u32` offsets into `u16` ids). One binary search answers
//!   which lists hold an address.
//!
//! The snapshot stores this section uncompressed, so the embedded index is used where it lies
//! in the binary: nothing is inflated or copied, and a lookup touches a few pages.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::catalog::{Warninglist, WarninglistKind};

/// One list as the index describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListInfo {
    /// The folder name (`rfc1918`).
    pub slug: String,
    /// The list's name.
    pub name: String,
    /// The MISP attribute types it applies to.
    pub matching_attributes: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Span {
    offset: u32,
    len: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct TableDir {
    slots: Span,
    entries: Span,
    keys: Span,
    ids: Span,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct RangeDir {
    /// Bytes per start: 4 (IPv4) or 16 (IPv6).
    width: u8,
    starts: Span,
    piece_sets: Span,
    set_offsets: Span,
    set_ids: Span,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Directory {
    lists: Vec<ListInfo>,
    /// Per `substring` list: its id and entries (lower case).
    substrings: Vec<(u16, Vec<String>)>,
    /// Per entry of a `regex` list: its id and pattern.
    regexes: Vec<(u16, String)>,
    exact: TableDir,
    hostnames: TableDir,
    v4: RangeDir,
    v6: RangeDir,
}

/// The warninglists, indexed and read in place. Cloning shares the bytes.
#[derive(Debug, Clone)]
pub struct WarninglistIndex {
    directory: Arc<Directory>,
    data: Bytes,
    data_start: usize,
}

/// Index bytes: where they lie in the binary, or shared.
#[derive(Debug, Clone)]
pub enum Bytes {
    /// Bytes of the embedded snapshot.
    Static(&'static [u8]),
    /// Bytes read or built at run time.
    Shared(Arc<[u8]>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Static(bytes) => bytes,
            Bytes::Shared(bytes) => bytes,
        }
    }
}

/// The ids of the lists that matched, as stored in the index.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListIds<'a>(&'a [u8]);

impl Iterator for ListIds<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        let (first, rest) = self.0.split_first_chunk::<2>()?;
        self.0 = rest;
        Some(u16::from_le_bytes(*first))
    }
}

impl WarninglistIndex {
    /// Indexes lists (what `kb build` stores; also used for catalogs loaded from a folder).
    pub fn build(lists: &[Warninglist]) -> Self {
        Self::open(Bytes::Shared(encode(lists).into())).expect("a freshly encoded index opens")
    }

    /// Opens encoded index bytes; `None` when the directory does not decode.
    pub fn open(bytes: Bytes) -> Option<Self> {
        let (len, rest) = bytes.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        let directory: Directory = postcard::from_bytes(rest.get(..len)?).ok()?;
        Some(WarninglistIndex {
            directory: Arc::new(directory),
            data_start: 4 + len,
            data: bytes,
        })
    }

    /// The encoded bytes, as stored in the snapshot.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The lists, in id order.
    pub fn lists(&self) -> &[ListInfo] {
        &self.directory.lists
    }

    /// The entries of each `substring` list (lower case), with the list's id.
    pub fn substrings(&self) -> &[(u16, Vec<String>)] {
        &self.directory.substrings
    }

    /// The patterns of the `regex` lists, with the list's id.
    pub fn regexes(&self) -> &[(u16, String)] {
        &self.directory.regexes
    }

    /// The `string` lists holding exactly `key` (lower case).
    pub fn exact(&self, key: &str) -> ListIds<'_> {
        self.find(&self.directory.exact, key)
    }

    /// The `hostname` lists holding exactly `host` (lower case); parents are the caller's.
    pub fn hostname(&self, host: &str) -> ListIds<'_> {
        self.find(&self.directory.hostnames, host)
    }

    /// The `cidr` lists holding an address.
    pub fn address(&self, ip: IpAddr) -> ListIds<'_> {
        match ip {
            IpAddr::V4(ip) => self.ranges(&self.directory.v4, u128::from(u32::from(ip))),
            IpAddr::V6(ip) => self.ranges(&self.directory.v6, u128::from(ip)),
        }
    }

    fn region(&self, span: Span) -> &[u8] {
        let start = self.data_start + span.offset as usize;
        self.data
            .get(start..start + span.len as usize)
            .unwrap_or_default()
    }

    fn find(&self, table: &TableDir, key: &str) -> ListIds<'_> {
        let slots = self.region(table.slots);
        let entries = self.region(table.entries);
        let keys = self.region(table.keys);
        let ids = self.region(table.ids);
        let capacity = slots.len() / 4;
        if capacity == 0 {
            return ListIds::default();
        }
        let mask = capacity - 1;
        let mut slot = hash(key.as_bytes()) as usize & mask;
        // At most every slot once: a damaged table without an empty slot still ends.
        for _ in 0..capacity {
            let entry = read_u32(slots, slot) as usize;
            if entry == 0 {
                break;
            }
            // This entry's pair and the next one's: where its key and ids start and end.
            let field = |n| read_u32(entries, (entry - 1) * 2 + n) as usize;
            if keys.get(field(0)..field(2)) == Some(key.as_bytes()) {
                return ListIds(ids.get(field(1) * 2..field(3) * 2).unwrap_or_default());
            }
            slot = (slot + 1) & mask;
        }
        ListIds::default()
    }

    fn ranges(&self, table: &RangeDir, address: u128) -> ListIds<'_> {
        let starts = self.region(table.starts);
        let width = usize::from(table.width.clamp(1, 16));
        let count = starts.len() / width;
        let start_at = |n: usize| {
            starts
                .get(n * width..n * width + width)
                .map_or(u128::MAX, |b| {
                    let mut wide = [0u8; 16];
                    wide[..width].copy_from_slice(b);
                    u128::from_le_bytes(wide)
                })
        };
        // The number of pieces starting at or before the address.
        let (mut low, mut high) = (0, count);
        while low < high {
            let middle = low + (high - low) / 2;
            if start_at(middle) <= address {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        let Some(piece) = low.checked_sub(1) else {
            return ListIds::default();
        };
        let set = read_u32(self.region(table.piece_sets), piece) as usize;
        let offsets = self.region(table.set_offsets);
        let (from, to) = (
            read_u32(offsets, set) as usize,
            read_u32(offsets, set + 1) as usize,
        );
        ListIds(
            self.region(table.set_ids)
                .get(from * 2..to * 2)
                .unwrap_or_default(),
        )
    }
}

fn read_u32(bytes: &[u8], n: usize) -> u32 {
    bytes
        .get(n * 4..n * 4 + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

/// FNV-1a, 64 bits: stable across builds and platforms, which the stored table needs.
fn hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Encodes the index of `lists`.
pub fn encode(lists: &[Warninglist]) -> Vec<u8> {
    let mut directory = Directory::default();
    let mut exact: Vec<(String, u16)> = Vec::new();
    let mut hostnames: Vec<(String, u16)> = Vec::new();
    let (mut v4_lists, mut v6_lists) = (Vec::new(), Vec::new());
    for (n, list) in lists.iter().enumerate() {
        let id = u16::try_from(n).expect("fewer than 65,536 warninglists");
        directory.lists.push(ListInfo {
            slug: list.slug.clone(),
            name: list.name.clone(),
            matching_attributes: list.matching_attributes.clone(),
        });
        match list.kind {
            WarninglistKind::String => {
                exact.extend(list.entries().map(|e| (normalize_entry(e), id)));
            }
            WarninglistKind::Hostname => {
                hostnames.extend(list.entries().map(|e| (normalize_entry(e), id)));
            }
            WarninglistKind::Cidr => {
                let (mut v4, mut v6) = (Vec::new(), Vec::new());
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
                let entries = list.entries().map(str::to_ascii_lowercase).collect();
                directory.substrings.push((id, entries));
            }
            WarninglistKind::Regex => {
                directory
                    .regexes
                    .extend(list.entries().map(|e| (id, e.to_owned())));
            }
        }
    }
    let mut data = Vec::new();
    directory.exact = write_table(&mut data, exact);
    directory.hostnames = write_table(&mut data, hostnames);
    directory.v4 = write_ranges(&mut data, &cut(&v4_lists), 4);
    directory.v6 = write_ranges(&mut data, &cut(&v6_lists), 16);

    let head = postcard::to_stdvec(&directory).expect("postcard encodes plain structs");
    let mut out = Vec::with_capacity(4 + head.len() + data.len());
    out.extend_from_slice(&(head.len() as u32).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&data);
    out
}

/// Appends `bytes` to the data region, 16-byte aligned, and says where they lie.
fn append(data: &mut Vec<u8>, bytes: &[u8]) -> Span {
    while !data.len().is_multiple_of(16) {
        data.push(0);
    }
    let offset = u32::try_from(data.len()).expect("the index stays under 4 GiB");
    data.extend_from_slice(bytes);
    Span {
        offset,
        len: bytes.len() as u32,
    }
}

fn write_table(data: &mut Vec<u8>, mut pairs: Vec<(String, u16)>) -> TableDir {
    pairs.sort_unstable();
    pairs.dedup();
    // Keys in order, each with its lists.
    let mut keys: Vec<u8> = Vec::new();
    let mut ids: Vec<u8> = Vec::new();
    let mut entries: Vec<[u32; 2]> = Vec::new();
    let mut hashes: Vec<u64> = Vec::new();
    let mut k = 0;
    while k < pairs.len() {
        let key = &pairs[k].0;
        entries.push([keys.len() as u32, (ids.len() / 2) as u32]);
        while k < pairs.len() && pairs[k].0 == *key {
            ids.extend_from_slice(&pairs[k].1.to_le_bytes());
            k += 1;
        }
        hashes.push(hash(key.as_bytes()));
        keys.extend_from_slice(key.as_bytes());
    }
    // Where the last key and its ids end.
    let ends = [keys.len() as u32, (ids.len() / 2) as u32];
    // At most half full, so probes stay short.
    let capacity = (entries.len() * 2).next_power_of_two().max(1);
    let mut slots = vec![0u32; capacity];
    for (n, hash) in hashes.iter().enumerate() {
        let mut slot = *hash as usize & (capacity - 1);
        while slots[slot] != 0 {
            slot = (slot + 1) & (capacity - 1);
        }
        slots[slot] = n as u32 + 1;
    }
    TableDir {
        slots: append(data, &u32_bytes(slots.iter().copied())),
        entries: append(
            data,
            &u32_bytes(entries.iter().chain([&ends]).flatten().copied()),
        ),
        keys: append(data, &keys),
        ids: append(data, &ids),
    }
}

fn u32_bytes(values: impl Iterator<Item = u32>) -> Vec<u8> {
    values.flat_map(u32::to_le_bytes).collect()
}

/// The address space cut at every boundary of every list's ranges: each piece's start and the
/// lists that cover it (sorted), pieces with the same lists as the one before merged.
fn cut(lists: &[(u16, Vec<(u128, u128)>)]) -> Vec<(u128, Vec<u16>)> {
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
    let mut pieces: Vec<(u128, Vec<u16>)> = Vec::new();
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
        let same =
            pieces.last().map(|(_, s)| s) == Some(&set) || (pieces.is_empty() && set.is_empty());
        if !same {
            pieces.push((at, set));
        }
    }
    pieces
}

fn write_ranges(data: &mut Vec<u8>, pieces: &[(u128, Vec<u16>)], width: u8) -> RangeDir {
    let mut set_numbers: HashMap<&[u16], u32> = HashMap::new();
    let mut sets: Vec<&[u16]> = Vec::new();
    let mut piece_sets = Vec::with_capacity(pieces.len());
    for (_, set) in pieces {
        let number = *set_numbers.entry(set).or_insert_with(|| {
            sets.push(set);
            sets.len() as u32 - 1
        });
        piece_sets.push(number);
    }
    let mut offsets = vec![0u32];
    let mut ids: Vec<u8> = Vec::new();
    for set in &sets {
        ids.extend(set.iter().flat_map(|id| id.to_le_bytes()));
        offsets.push((ids.len() / 2) as u32);
    }
    let starts: Vec<u8> = pieces
        .iter()
        .flat_map(|(s, _)| s.to_le_bytes()[..usize::from(width)].to_vec())
        .collect();
    RangeDir {
        width,
        starts: append(data, &starts),
        piece_sets: append(data, &u32_bytes(piece_sets.into_iter())),
        set_offsets: append(data, &u32_bytes(offsets.into_iter())),
        set_ids: append(data, &ids),
    }
}

/// An entry as it is looked up: trimmed, lower case, without a leading `*.` or `.` and a
/// trailing `.`.
fn normalize_entry(entry: &str) -> String {
    entry
        .trim()
        .trim_start_matches("*.")
        .trim_start_matches('.')
        .trim_end_matches('.')
        .to_ascii_lowercase()
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

/// Sorts ranges (inclusive ends) and merges overlapping and adjacent ones.
fn merge(mut ranges: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    ranges.sort_unstable();
    let mut merged: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
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

    fn list(slug: &str, kind: WarninglistKind, entries: &[&str]) -> Warninglist {
        Warninglist::new(
            slug.into(),
            format!("{slug} list"),
            "1".into(),
            kind,
            vec!["domain".into()],
            &entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>(),
        )
    }

    fn ids(found: ListIds<'_>) -> Vec<u16> {
        found.collect()
    }

    #[test]
    fn tables_find_every_key_and_nothing_else() {
        let entries: Vec<String> = (0..5_000).map(|n| format!("host-{n}.example")).collect();
        let refs: Vec<&str> = entries.iter().map(String::as_str).collect();
        let index = WarninglistIndex::build(&[
            list("a", WarninglistKind::Hostname, &refs),
            list(
                "b",
                WarninglistKind::Hostname,
                &["HOST-7.example.", "*.other.org"],
            ),
            list(
                "c",
                WarninglistKind::String,
                &["d41d8cd98f00b204e9800998ecf8427e"],
            ),
        ]);
        for entry in &entries {
            let expected: &[u16] = if entry == "host-7.example" {
                &[0, 1]
            } else {
                &[0]
            };
            assert_eq!(ids(index.hostname(entry)), expected, "{entry}");
        }
        assert_eq!(ids(index.hostname("other.org")), [1]);
        assert!(ids(index.hostname("host-5000.example")).is_empty());
        assert!(ids(index.hostname("")).is_empty());
        assert_eq!(ids(index.exact("d41d8cd98f00b204e9800998ecf8427e")), [2]);
        assert!(ids(index.exact("host-1.example")).is_empty());
        assert_eq!(index.lists()[1].slug, "b");
    }

    #[test]
    fn ranges_merge_and_contain() {
        assert_eq!(
            merge(vec![(5, 9), (1, 3), (4, 4), (20, 30)]),
            [(1, 9), (20, 30)]
        );
        let index = WarninglistIndex::build(&[
            list("a", WarninglistKind::Cidr, &["10.0.0.0/8", "10.1.0.0/16"]),
            list(
                "b",
                WarninglistKind::Cidr,
                &["10.255.255.255", "11.0.0.0/8"],
            ),
            list("c", WarninglistKind::Cidr, &["::/0", "2001:db8::/32"]),
        ]);
        let at = |ip: &str| ids(index.address(ip.parse().expect("an address")));
        assert_eq!(at("9.255.255.255"), Vec::<u16>::new());
        assert_eq!(at("10.0.0.0"), [0]);
        assert_eq!(at("10.255.255.255"), [0, 1]);
        assert_eq!(at("11.3.2.1"), [1]);
        assert_eq!(at("12.0.0.0"), Vec::<u16>::new());
        assert_eq!(at("ffff::1"), [2]);
    }

    #[test]
    fn damaged_bytes_answer_nothing_rather_than_panic() {
        let good = encode(&[list("a", WarninglistKind::Hostname, &["x.org", "y.org"])]);
        for cut_at in 0..good.len() {
            if let Some(index) = WarninglistIndex::open(Bytes::Shared(good[..cut_at].into())) {
                let _ = ids(index.hostname("x.org"));
                let _ = ids(index.address("1.2.3.4".parse().expect("an address")));
            }
        }
        let mut flipped = good.clone();
        for byte in flipped.iter_mut().skip(40) {
            *byte = 0xff;
        }
        if let Some(index) = WarninglistIndex::open(Bytes::Shared(flipped.into())) {
            let _ = ids(index.hostname("x.org"));
        }
    }

    proptest::proptest! {
        /// One search in the cut address space finds exactly the lists whose ranges hold the
        /// address, as asking each list would.
        #[test]
        fn the_range_table_agrees_with_each_list(
            lists in proptest::collection::vec(
                proptest::collection::vec((0u32..200, 0u32..40), 0..6),
                0..5,
            ),
            address in 0u32..260,
        ) {
            let entries: Vec<Vec<String>> = lists
                .iter()
                .map(|ranges| {
                    // Single addresses spelled out, so any range shape is expressible.
                    ranges
                        .iter()
                        .flat_map(|(s, len)| *s..=*s + *len)
                        .map(|a| std::net::Ipv4Addr::from(a).to_string())
                        .collect()
                })
                .collect();
            let warninglists: Vec<Warninglist> = entries
                .iter()
                .enumerate()
                .map(|(n, e)| {
                    let refs: Vec<&str> = e.iter().map(String::as_str).collect();
                    list(&format!("l{n}"), WarninglistKind::Cidr, &refs)
                })
                .collect();
            let expected: Vec<u16> = lists
                .iter()
                .enumerate()
                .filter(|(_, ranges)| ranges.iter().any(|(s, len)| (*s..=*s + *len).contains(&address)))
                .map(|(n, _)| n as u16)
                .collect();
            let index = WarninglistIndex::build(&warninglists);
            let found = ids(index.address(std::net::Ipv4Addr::from(address).into()));
            proptest::prop_assert_eq!(found, expected);
        }
    }
}
