//! The snapshot file: a compact, versioned, deterministic encoding of a [`Catalog`].
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! 8 bytes   magic "CTIFKB\r\n" (the CR LF catches text-mode transfers)
//! u32       format version (FORMAT_VERSION)
//! u32       header length H
//! H bytes   postcard(Header)            sources and versions, readable without the body
//! u64       body length B
//! B bytes   lz4-frame(postcard(Catalog)) with the frame's content checksum
//! ```
//!
//! postcard gives a stable, compact encoding of plain serde types; LZ4 decompresses five times
//! faster than zstd here, which keeps loading quick. Both are deterministic. See
//! `docs/decisions/0001-knowledge-base-snapshot.md`.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Source};
use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"CTIFKB\r\n";

/// The snapshot format this build reads and writes. Bump it whenever [`Catalog`] changes shape.
pub const FORMAT_VERSION: u32 = 1;

/// What a snapshot says about itself, readable without decompressing the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The sources and their versions.
    pub sources: Vec<Source>,
}

/// Encodes a catalog as snapshot bytes.
pub fn encode(catalog: &Catalog) -> Vec<u8> {
    let header = postcard::to_stdvec(&Header {
        sources: catalog.sources.clone(),
    })
    .expect("postcard encodes plain structs into a Vec without failing");
    let body = postcard::to_stdvec(catalog)
        .expect("postcard encodes plain structs into a Vec without failing");
    let compressed = compress(&body);

    let mut out = Vec::with_capacity(compressed.len() + header.len() + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&(compressed.len() as u64).to_le_bytes());
    out.extend_from_slice(&compressed);
    out
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

fn decompress(body: &[u8]) -> std::io::Result<Vec<u8>> {
    // The decompressed body is about 1.7 times the compressed one; reserving it up front
    // avoids repeated growth of a 6 MB buffer.
    let mut raw = Vec::with_capacity(body.len().saturating_mul(2));
    lz4_flex::frame::FrameDecoder::new(body).read_to_end(&mut raw)?;
    Ok(raw)
}

/// Reads only the header of a snapshot.
pub fn decode_header(bytes: &[u8], origin: &str) -> Result<Header> {
    let (header, _) = split(bytes, origin)?;
    postcard::from_bytes(header).map_err(|e| corrupt(origin, format!("header: {e}")))
}

/// Decodes a whole snapshot.
pub fn decode(bytes: &[u8], origin: &str) -> Result<Catalog> {
    let (_, body) = split(bytes, origin)?;
    let raw = decompress(body).map_err(|e| corrupt(origin, format!("body: {e}")))?;
    postcard::from_bytes(&raw).map_err(|e| corrupt(origin, format!("catalog: {e}")))
}

/// Splits a snapshot into its header and compressed body, checking magic, format and lengths.
fn split<'a>(bytes: &'a [u8], origin: &str) -> Result<(&'a [u8], &'a [u8])> {
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
    let body_len = u64::from_le_bytes(take_array(&mut cursor, origin)?);
    let body_len = usize::try_from(body_len).map_err(|_| corrupt(origin, "body length".into()))?;
    let body = take(&mut cursor, body_len, origin)?;
    if !cursor.is_empty() {
        return Err(corrupt(origin, format!("{} trailing bytes", cursor.len())));
    }
    Ok((header, body))
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

    #[test]
    fn round_trips_and_is_deterministic() {
        let catalog = sample();
        let bytes = encode(&catalog);
        assert_eq!(bytes, encode(&catalog));
        assert_eq!(decode(&bytes, "test").expect("decodes"), catalog);
        assert_eq!(
            decode_header(&bytes, "test").expect("header").sources,
            catalog.sources
        );
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error_not_a_panic() {
        let bytes = encode(&sample());
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len], "cut").is_err(), "truncated at {len}");
        }
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x40;
            // A flip may land in a string and still decode; it must never panic, and a flip in
            // the compressed body's checksum must be caught.
            let result = decode(&damaged, "flipped");
            if i >= bytes.len() - 4 {
                assert!(result.is_err(), "checksum flip at {i} went unnoticed");
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

        let mut bytes = encode(&sample());
        bytes[8..12].copy_from_slice(&99u32.to_le_bytes());
        let err = decode(&bytes, "old.bin").expect_err("rejected");
        assert!(err.to_string().contains("format 99"), "{err}");
        assert!(err.to_string().contains("kb build"), "{err}");
    }
}
