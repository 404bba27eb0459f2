//! Bytes → text: byte-order marks, UTF-8, a declared charset (HTML `<meta>`), then a
//! statistical guess for legacy single-byte pages. Never fails and never panics: bytes that do
//! not decode become U+FFFD.

use encoding_rs::{Encoding, UTF_8};

/// Decoded text and the name of the encoding it was read as.
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
}

/// Decodes `bytes`. `declared` is a charset from outside (an HTTP `Content-Type`).
pub fn decode(bytes: &[u8], declared: Option<&str>, html: bool) -> Decoded {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        return decode_with(encoding, &bytes[bom_length..]);
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        return decode_with(encoding, bytes);
    }
    if let Some(encoding) = declared.and_then(|label| Encoding::for_label(label.trim().as_bytes()))
    {
        return decode_with(encoding, bytes);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded {
            text: text.to_owned(),
            encoding: UTF_8.name(),
        };
    }
    if html && let Some(encoding) = meta_charset(bytes) {
        return decode_with(encoding, bytes);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    decode_with(detector.guess(None, chardetng::Utf8Detection::Allow), bytes)
}

/// UTF-16 written without a byte-order mark (Windows tools export it so), known by its
/// pattern: in text that is mostly ASCII, every other byte is zero. Little-endian has the
/// zeros at odd offsets, big-endian at even ones.
pub(crate) fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 8 {
        return None;
    }
    let pairs = sample.len() / 2;
    let zeros_at = |first: usize| {
        sample
            .iter()
            .skip(first)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    if odd * 10 >= pairs * 8 && even * 10 <= pairs {
        Some(encoding_rs::UTF_16LE)
    } else if even * 10 >= pairs * 8 && odd * 10 <= pairs {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

fn decode_with(encoding: &'static Encoding, bytes: &[u8]) -> Decoded {
    let (text, used, _had_errors) = encoding.decode(bytes);
    Decoded {
        text: text.into_owned(),
        encoding: used.name(),
    }
}

/// `<meta charset="...">` or `<meta http-equiv="Content-Type" content="...; charset=...">` in
/// the first 1024 bytes, as the HTML standard's prescan does.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(1024)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let position = memchr::memmem::find(&lower, b"charset=")?;
    let value = &head[position + 8..];
    let value = value
        .strip_prefix(b"\"")
        .or_else(|| value.strip_prefix(b"'"))
        .unwrap_or(value);
    let end = value
        .iter()
        .position(|b| matches!(b, b'"' | b'\'' | b';' | b'>' | b' ' | b'/'))
        .unwrap_or(value.len());
    Encoding::for_label(&value[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boms_utf8_and_legacy_pages() {
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("café 1.2.3.4".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let decoded = decode(&utf16, None, false);
        assert_eq!(decoded.text, "café 1.2.3.4");
        assert_eq!(decoded.encoding, "UTF-16LE");

        let decoded = decode("naïve".as_bytes(), None, false);
        assert_eq!(
            (decoded.text.as_str(), decoded.encoding),
            ("naïve", "UTF-8")
        );

        let latin = b"<meta charset=\"windows-1252\"><p>caf\xe9 \x93quoted\x94</p>";
        let decoded = decode(latin, None, true);
        assert_eq!(decoded.encoding, "windows-1252");
        assert!(decoded.text.contains("café “quoted”"));
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let decoded = decode(&[0x66, 0x6f, 0xff, 0xfe, 0xfd, 0x80], Some("utf-8"), false);
        assert!(decoded.text.starts_with("fo"));
        assert!(decoded.text.contains('\u{FFFD}'));
    }
}
