//! The snapshot file: a compact, versioned, deterministic encoding of a knowledge base, in
//! sections that are decoded when first needed.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! 8 bytes   magic "CTIFKB\r\n" (the CR LF catches text-mode transfers)
//! u32       format version (FORMAT_VERSION)
//! u32       header length H
//! H bytes   postcard(Header)            sources and versions, readable without the body
//! u32       section count N (SECTIONS)
//! N × 16    each section's length (u64) and the XXH3-64 of its stored bytes (u64)
//! sections  in this order:
//!           catalog   postcard(Catalog)
//!           lists     lz4-frame(postcard(Vec<Warninglist>))
//!           listindex the warninglist index (crate::warnindex), read where it lies
//!           ids       postcard(Vec<String>): every technique, tactic, mitigation and D3FEND id
//! ```
//!
//! Only the warninglists are compressed: nearly every command reads the catalog, and inflating
//! it cost 4 ms of a start-up budget of 15–40 ms; the lists themselves are read only by
//! `kb info` (commands use the index).
//!
//! A snapshot file is checked whole when it is read (every checksum); the embedded one is
//! checked by the test that rebuilds it, and its sections are decoded when first used.
//!
//! postcard gives a stable, compact encoding of plain serde types; LZ4 decompresses five times
//! faster than zstd here, which keeps loading quick. Both are deterministic. Sections let a
//! command pay only for what it reads: `ioc extract` inflates the list index and the ids, not
//! the catalog. See `docs/decisions/0001-knowledge-base-snapshot.md` and
//! `docs/decisions/0013-start-up.md`.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Source, Warninglist};
use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"CTIFKB\r\n";

/// The snapshot format this build reads and writes. Bump it whenever [`Catalog`] or the
/// section layout changes shape.
pub const FORMAT_VERSION: u32 = 2;

/// The sections, in file order.
const SECTIONS: usize = 4;

/// What a snapshot says about itself, readable without decompressing the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The sources and their versions.
    pub sources: Vec<Source>,
}

/// Everything a snapshot holds, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Contents {
    /// The facts.
    pub catalog: Catalog,
    /// The MISP warninglists.
    pub warninglists: Vec<Warninglist>,
    /// The warninglist index, encoded ([`crate::WarninglistIndex::open`]).
    pub warninglist_index: Vec<u8>,
    /// Every technique, tactic, mitigation and D3FEND id, sorted.
    pub known_ids: Vec<String>,
}

/// A snapshot split into its sections, still compressed.
#[derive(Debug, Clone, Copy)]
pub struct Sections<'a> {
    /// The [`Catalog`].
    pub catalog: &'a [u8],
    /// The warninglists.
    pub warninglists: &'a [u8],
    /// The warninglist index (stored uncompressed).
    pub warninglist_index: &'a [u8],
    /// The known ids.
    pub known_ids: &'a [u8],
}

/// Every technique, tactic, mitigation and D3FEND id of a catalog, sorted.
pub fn known_ids(catalog: &Catalog) -> Vec<String> {
    let mut ids: Vec<String> = catalog
        .techniques
        .iter()
        .map(|t| t.id.clone())
        .chain(catalog.tactics.iter().map(|t| t.id.clone()))
        .chain(catalog.mitigations.iter().map(|m| m.id.clone()))
        .chain(catalog.d3fend_techniques.iter().map(|d| d.id.clone()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Encodes a catalog and its warninglists as snapshot bytes.
pub fn encode(catalog: &Catalog, warninglists: &[Warninglist]) -> Vec<u8> {
    let header = postcard::to_stdvec(&Header {
        sources: catalog.sources.clone(),
    })
    .expect("postcard encodes plain structs into a Vec without failing");
    fn plain<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
        postcard::to_stdvec(value)
            .expect("postcard encodes plain structs into a Vec without failing")
    }
    let sections: [Vec<u8>; SECTIONS] = [
        plain(catalog),
        compress(&plain(warninglists)),
        crate::warnindex::encode(warninglists),
        plain(&known_ids(catalog)),
    ];

    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&(SECTIONS as u32).to_le_bytes());
    for section in &sections {
        out.extend_from_slice(&(section.len() as u64).to_le_bytes());
        out.extend_from_slice(&checksum(section).to_le_bytes());
    }
    for section in &sections {
        out.extend_from_slice(section);
    }
    out
}

fn checksum(bytes: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(bytes)
}

fn compress(body: &[u8]) -> Vec<u8> {
    let info = lz4_flex::frame::FrameInfo::new()
        .content_checksum(true)
        .content_size(Some(body.len() as u64));
    let mut encoder = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
    encoder
        .write_all(body)
        .expect("writing into a Vec does not fail");
    encoder
        .finish()
        .expect("finishing into a Vec does not fail")
}

/// Inflates one section; the frame's checksum catches damage.
pub fn inflate(section: &[u8], origin: &str, what: &str) -> Result<Vec<u8>> {
    // The decompressed body is about twice the compressed one; reserving it up front avoids
    // repeated growth of a multi-megabyte buffer.
    let mut raw = Vec::with_capacity(section.len().saturating_mul(2));
    lz4_flex::frame::FrameDecoder::new(section)
        .read_to_end(&mut raw)
        .map_err(|e| corrupt(origin, format!("{what}: {e}")))?;
    Ok(raw)
}

/// Decodes one postcard section stored as is.
pub fn decode_section<T: serde::de::DeserializeOwned>(
    section: &[u8],
    origin: &str,
    what: &str,
) -> Result<T> {
    postcard::from_bytes(section).map_err(|e| corrupt(origin, format!("{what}: {e}")))
}

/// Inflates and decodes one compressed postcard section.
pub fn decode_compressed_section<T: serde::de::DeserializeOwned>(
    section: &[u8],
    origin: &str,
    what: &str,
) -> Result<T> {
    decode_section(&inflate(section, origin, what)?, origin, what)
}

/// Reads only the header of a snapshot.
pub fn decode_header(bytes: &[u8], origin: &str) -> Result<Header> {
    let (header, _) = split(bytes, origin)?;
    postcard::from_bytes(header).map_err(|e| corrupt(origin, format!("header: {e}")))
}

/// Splits a snapshot into its sections, checking magic, format and lengths (not the
/// checksums: [`decode`] does).
pub fn sections<'a>(bytes: &'a [u8], origin: &str) -> Result<Sections<'a>> {
    let (_, sections) = split(bytes, origin)?;
    let [catalog, warninglists, warninglist_index, known_ids] = sections.map(|(s, _)| s);
    Ok(Sections {
        catalog,
        warninglists,
        warninglist_index,
        known_ids,
    })
}

/// Decodes a whole snapshot, every section's checksum checked.
pub fn decode(bytes: &[u8], origin: &str) -> Result<Contents> {
    let (_, stored) = split(bytes, origin)?;
    for ((section, expected), name) in stored.iter().zip(["catalog", "lists", "listindex", "ids"]) {
        // Under `cargo fuzz` the checksums are not enforced, so mutations reach the decoders.
        if checksum(section) != *expected && !cfg!(fuzzing) {
            return Err(corrupt(origin, format!("{name}: checksum mismatch")));
        }
    }
    let sections = sections(bytes, origin)?;
    let warninglist_index = sections.warninglist_index.to_vec();
    let shared = crate::warnindex::Bytes::Shared(warninglist_index.clone().into());
    if crate::WarninglistIndex::open(shared).is_none() {
        return Err(corrupt(origin, "warninglist index: directory".into()));
    }
    Ok(Contents {
        catalog: decode_section(sections.catalog, origin, "catalog")?,
        warninglists: decode_compressed_section(sections.warninglists, origin, "warninglists")?,
        warninglist_index,
        known_ids: decode_section(sections.known_ids, origin, "ids")?,
    })
}

/// Splits a snapshot into its header and stored sections with their checksums, checking
/// magic, format and lengths.
type Stored<'a> = [(&'a [u8], u64); SECTIONS];

fn split<'a>(bytes: &'a [u8], origin: &str) -> Result<(&'a [u8], Stored<'a>)> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Error::NotSnapshot {
            origin: origin.to_owned(),
        });
    }
    let mut cursor = &bytes[MAGIC.len()..];
    let format = u32::from_le_bytes(take_array(&mut cursor, origin)?);
    if format != FORMAT_VERSION {
        return Err(Error::SnapshotVersion {
            origin: origin.to_owned(),
            found: format,
            expected: FORMAT_VERSION,
        });
    }
    let header_len = u32::from_le_bytes(take_array(&mut cursor, origin)?) as usize;
    let header = take(&mut cursor, header_len, origin)?;
    let count = u32::from_le_bytes(take_array(&mut cursor, origin)?) as usize;
    if count != SECTIONS {
        return Err(corrupt(
            origin,
            format!("{count} sections, expected {SECTIONS}"),
        ));
    }
    let mut table = [(0usize, 0u64); SECTIONS];
    for (length, checksum) in &mut table {
        let raw = u64::from_le_bytes(take_array(&mut cursor, origin)?);
        *length = usize::try_from(raw).map_err(|_| corrupt(origin, "section length".into()))?;
        *checksum = u64::from_le_bytes(take_array(&mut cursor, origin)?);
    }
    let mut sections: Stored<'a> = [(&[], 0); SECTIONS];
    for (section, (length, checksum)) in sections.iter_mut().zip(table) {
        *section = (take(&mut cursor, length, origin)?, checksum);
    }
    if !cursor.is_empty() {
        return Err(corrupt(origin, format!("{} trailing bytes", cursor.len())));
    }
    Ok((header, sections))
}

fn take<'a>(cursor: &mut &'a [u8], len: usize, origin: &str) -> Result<&'a [u8]> {
    if cursor.len() < len {
        return Err(corrupt(origin, "truncated".into()));
    }
    let (head, rest) = cursor.split_at(len);
    *cursor = rest;
    Ok(head)
}

fn take_array<const N: usize>(cursor: &mut &[u8], origin: &str) -> Result<[u8; N]> {
    let slice = take(cursor, N, origin)?;
    let mut array = [0u8; N];
    array.copy_from_slice(slice);
    Ok(array)
}

fn corrupt(origin: &str, message: String) -> Error {
    Error::SnapshotCorrupt {
        origin: origin.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{KevEntry, RansomwareUse, SourceFile};

    fn sample() -> Catalog {
        Catalog {
            sources: vec![Source {
                key: "kev".into(),
                name: "CISA KEV".into(),
                version: "2025.08.25".into(),
                origin: None,
                components: Vec::new(),
                files: vec![SourceFile {
                    path: "kev/x.json".into(),
                    sha256: "00".into(),
                }],
            }],
            kev: vec![KevEntry {
                cve: "CVE-2021-44228".into(),
                vendor: "Apache".into(),
                product: "Log4j2".into(),
                name: "Apache Log4j2 Remote Code Execution Vulnerability".into(),
                date_added: "2021-12-10".into(),
                due_date: "2021-12-24".into(),
                ransomware: RansomwareUse::Known,
                cwes: vec!["CWE-20".into()],
            }],
            ..Catalog::default()
        }
    }

    fn lists() -> Vec<Warninglist> {
        vec![Warninglist::new(
            "rfc1918".into(),
            "private ranges".into(),
            "1".into(),
            crate::catalog::WarninglistKind::Cidr,
            vec!["ip-dst".into()],
            &["10.0.0.0/8".into()],
        )]
    }

    #[test]
    fn round_trips_and_is_deterministic() {
        let catalog = sample();
        let bytes = encode(&catalog, &lists());
        assert_eq!(bytes, encode(&catalog, &lists()));
        let contents = decode(&bytes, "test").expect("decodes");
        assert_eq!(contents.catalog, catalog);
        assert_eq!(contents.warninglists, lists());
        assert_eq!(
            contents.warninglist_index,
            crate::warnindex::encode(&lists())
        );
        let sections = sections(&bytes, "test").expect("splits");
        assert_eq!(sections.warninglist_index, contents.warninglist_index);
        assert_eq!(
            decode_header(&bytes, "test").expect("header").sources,
            catalog.sources
        );
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error_not_a_panic() {
        let bytes = encode(&sample(), &lists());
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len], "cut").is_err(), "truncated at {len}");
        }
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x40;
            // None panics; past the header (sources and versions, for people) every flip is
            // caught by the section table's checks or a checksum.
            let header_end = 16 + u32::from_le_bytes(bytes[12..16].try_into().expect("4")) as usize;
            let result = decode(&damaged, "flipped");
            if i < 12 || i >= header_end {
                assert!(result.is_err(), "flip at {i} went unnoticed");
            }
            // The index read in place without the checks answers, rightly or not, but never
            // panics.
            if let Ok(sections) = sections(&damaged, "flipped")
                && let Some(index) = crate::WarninglistIndex::open(crate::warnindex::Bytes::Shared(
                    sections.warninglist_index.into(),
                ))
            {
                let _ = index
                    .address("10.1.2.3".parse().expect("an address"))
                    .count();
            }
        }
    }

    #[test]
    fn wrong_magic_and_format_are_explained() {
        let err = decode(b"{\"not\": \"a snapshot\"}", "kb.json").expect_err("rejected");
        assert!(
            err.to_string()
                .contains("not a ctiforge knowledge-base snapshot")
        );

        let mut bytes = encode(&sample(), &lists());
        bytes[8..12].copy_from_slice(&99u32.to_le_bytes());
        let err = decode(&bytes, "old.bin").expect_err("rejected");
        assert!(err.to_string().contains("format 99"), "{err}");
        assert!(err.to_string().contains("kb build"), "{err}");
    }
}
