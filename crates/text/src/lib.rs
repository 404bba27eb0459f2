//! Reading reports: bytes in, a [`Document`] out.
//!
//! The first stage of the pipeline. Plain text, Markdown, HTML, PDF and CSAF 2.0 advisories
//! (laid out as their web page, [`csaf`]) become clean text —
//! markup and page furniture removed, headings, lists, table cells and code kept as lines —
//! with paragraphs and sentences as byte spans into it. Bytes in any common encoding are
//! decoded; nothing here panics on bad input. Fetching URLs is the CLI's job; this crate takes
//! the bytes and what is known about them.
//!
//! ```
//! use ctiforge_text::{ingest, Input};
//!
//! let html = b"<html><head><title>Report</title></head><body><nav>Home</nav>\
//!              <p>The actor used evil[.]com. It dropped update.exe.</p></body></html>";
//! let document = ingest(Input { bytes: html, path: Some("report.html"), ..Input::default() }).unwrap();
//! assert_eq!(document.title.as_deref(), Some("Report"));
//! assert_eq!(document.text, "The actor used evil[.]com. It dropped update.exe.");
//! let sentences: Vec<&str> = document.sentences.iter().map(|s| document.slice(*s)).collect();
//! assert_eq!(sentences, ["The actor used evil[.]com.", "It dropped update.exe."]);
//! ```
#![deny(missing_docs)]

mod blocks;
pub mod csaf;
mod decode;
mod html;
mod markdown;
mod pdf;
mod roles;
mod segment;

use std::fmt;

pub use ctiforge_model::{Document, DocumentSource, SentenceRole, Span};
pub use roles::roles;
pub use segment::SentenceFinder;
use sha2::{Digest, Sha256};

/// What goes in: the bytes and what is known about where they came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Input<'a> {
    /// The raw bytes.
    pub bytes: &'a [u8],
    /// The file name, when read from a file (its extension helps choose the format).
    pub path: Option<&'a str>,
    /// The URL, when fetched.
    pub url: Option<&'a str>,
    /// The media type given by the source (an HTTP `Content-Type`), with any charset.
    pub content_type: Option<&'a str>,
}

/// The formats ctiforge reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text.
    Text,
    /// Markdown.
    Markdown,
    /// HTML.
    Html,
    /// PDF.
    Pdf,
    /// A CSAF 2.0 advisory (JSON).
    Csaf,
}

impl Format {
    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain",
            Format::Markdown => "text/markdown",
            Format::Html => "text/html",
            Format::Pdf => "application/pdf",
            Format::Csaf => "application/csaf+json",
        }
    }
}

/// Why a report could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The PDF could not be turned into text; the message says why and what to do.
    Pdf {
        /// What went wrong.
        message: String,
    },
    /// A CSAF advisory that could not be read; the message says why.
    Csaf {
        /// What went wrong.
        message: String,
    },
    /// The bytes are a binary format ctiforge does not read.
    Unsupported {
        /// What the bytes look like.
        what: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Pdf { message } => write!(f, "cannot read the PDF: {message}"),
            Error::Csaf { message } => write!(f, "cannot read the CSAF advisory: {message}"),
            Error::Unsupported { what } => write!(
                f,
                "cannot read {what}; ctiforge reads plain text, Markdown, HTML, PDF and CSAF advisories"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Chooses the format from the content type, the file extension, then the bytes themselves.
pub fn detect(input: &Input<'_>) -> Format {
    let bytes = input.bytes;
    if bytes.starts_with(b"%PDF-") {
        return Format::Pdf;
    }
    if csaf::looks_like(bytes) {
        return Format::Csaf;
    }
    let media = input.content_type.map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match media.as_deref() {
        Some("application/pdf") => return Format::Pdf,
        Some("text/html" | "application/xhtml+xml") => return Format::Html,
        Some("text/markdown" | "text/x-markdown") => return Format::Markdown,
        _ => {}
    }
    let name = input.path.or(input.url).unwrap_or("").to_ascii_lowercase();
    let name = name.split(['?', '#']).next().unwrap_or("");
    let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
    match extension {
        "pdf" => return Format::Pdf,
        "html" | "htm" | "xhtml" | "shtml" => return Format::Html,
        "md" | "markdown" | "mdown" | "mkd" => return Format::Markdown,
        "txt" | "text" | "log" => return Format::Text,
        _ => {}
    }
    let head = &bytes[..bytes.len().min(2048)];
    let lower: Vec<u8> = head
        .iter()
        .skip_while(|b| b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF)
        .take(512)
        .map(u8::to_ascii_lowercase)
        .collect();
    let html_start = [
        &b"<!doctype html"[..],
        b"<html",
        b"<head",
        b"<body",
        b"<?xml",
        b"<meta",
        b"<div",
        b"<p>",
    ]
    .iter()
    .any(|tag| lower.starts_with(tag));
    if html_start
        || (media.as_deref() == Some("text/xml")
            && memchr::memmem::find(&lower, b"<html").is_some())
    {
        return Format::Html;
    }
    Format::Text
}

/// Reads a report into a [`Document`].
pub fn ingest(input: Input<'_>) -> Result<Document, Error> {
    let format = detect(&input);
    let charset = input
        .content_type
        .and_then(|c| c.split(';').find_map(|p| p.trim().strip_prefix("charset=")))
        .map(|c| c.trim_matches('"'));
    let (text, title, encoding) = match format {
        Format::Pdf => (pdf::to_text(input.bytes)?, None, "PDF"),
        _ => {
            if looks_binary(input.bytes) {
                return Err(Error::Unsupported {
                    what: "binary data (it is not text, HTML or PDF)".into(),
                });
            }
            let decoded = decode::decode(input.bytes, charset, format == Format::Html);
            let (text, title) = match format {
                Format::Html => html::to_text(&decoded.text),
                Format::Markdown => markdown::to_text(&decoded.text),
                Format::Csaf => markdown::to_text(
                    &csaf::to_markdown(decoded.text.as_bytes())
                        .map_err(|message| Error::Csaf { message })?,
                ),
                _ => (normalize_plain(&decoded.text), None),
            };
            (text, title, decoded.encoding)
        }
    };
    let title = title.or_else(|| first_line_title(&text));
    Ok(document(
        text,
        title,
        DocumentSource {
            path: input.path.map(str::to_owned),
            url: input.url.map(str::to_owned),
            media_type: format.media_type().to_owned(),
            encoding: encoding.to_owned(),
            sha256: Sha256::digest(input.bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            bytes: input.bytes.len(),
        },
    ))
}

/// Paragraph and sentence spans of a text, exactly as it is (no normalization), for callers
/// whose offsets refer to that text.
pub fn segment(text: &str) -> (Vec<Span>, Vec<Span>) {
    let paragraphs = segment::paragraphs(text);
    let sentences = segment::sentences(text, &paragraphs);
    (paragraphs, sentences)
}

fn document(text: String, title: Option<String>, source: DocumentSource) -> Document {
    let paragraphs = segment::paragraphs(&text);
    let sentences = segment::sentences(&text, &paragraphs);
    Document {
        title,
        text,
        paragraphs,
        sentences,
        source,
    }
}

/// Line endings to `\n`, NUL and other control characters (except tab and newline) removed.
fn normalize_plain(text: &str) -> String {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A short first line, without Markdown heading marks.
fn first_line_title(text: &str) -> Option<String> {
    let line = text.lines().find(|l| !l.trim().is_empty())?;
    let line = line.trim().trim_start_matches('#').trim();
    (!line.is_empty() && line.len() <= 200).then(|| line.to_owned())
}

/// Many NUL bytes or other control bytes in the first 8 KB: a binary file, unless it is
/// UTF-16 (recognized by its byte-order mark or its alternate zero bytes).
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF])
        || decode::utf16_without_bom(head).is_some()
    {
        return false;
    }
    let controls = head
        .iter()
        .filter(|b| **b < 0x09 || (**b > 0x0D && **b < 0x20 && **b != 0x1B))
        .count();
    !head.is_empty() && controls * 10 > head.len()
}
