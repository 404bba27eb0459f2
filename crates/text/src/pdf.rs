//! PDF → text with `pdf-extract` (on `lopdf`), then repairs: repeated page headers and footers
//! and bare page numbers are removed, words hyphenated across lines are joined, and lines
//! wrapped inside a paragraph are joined.
//!
//! `pdf-extract` can panic on malformed files; the call runs under `catch_unwind` so a bad
//! file is an error, not a crash (see docs/decisions/0004-pdf-text.md).

use std::collections::HashMap;

use crate::Error;

/// The text of a PDF, page by page repaired and joined.
pub fn to_text(bytes: &[u8]) -> Result<String, Error> {
    let document = lopdf::Document::load_mem(bytes).map_err(|e| Error::Pdf {
        message: format!("it is corrupt or not a PDF ({e})"),
    })?;
    if document.is_encrypted() && document.get_pages().is_empty() {
        return Err(encrypted());
    }
    guard(&document)?;
    let extracted = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes));
    let pages = match extracted {
        Ok(Ok(pages)) => pages,
        Ok(Err(e)) if document.is_encrypted() => {
            return Err(Error::Pdf {
                message: format!(
                    "it is encrypted and could not be opened without a password ({e}); decrypt it first, e.g. `qpdf --decrypt in.pdf out.pdf`"
                ),
            });
        }
        Ok(Err(e)) => {
            return Err(Error::Pdf {
                message: format!("its text could not be extracted ({e})"),
            });
        }
        Err(_) => {
            return Err(Error::Pdf {
                message: "the PDF text extractor failed on this file (malformed fonts or content streams); convert it with `pdftotext` and pass the text".into(),
            });
        }
    };
    let text = repair(&pages);
    if text.chars().filter(|c| c.is_alphanumeric()).count() < 20 {
        return Err(Error::Pdf {
            message: format!(
                "it has {} page(s) but no text layer (scanned images?); run OCR first, e.g. `ocrmypdf in.pdf out.pdf`",
                pages.len().max(document.get_pages().len())
            ),
        });
    }
    Ok(text)
}

/// Most bytes the compressed streams of one PDF may expand to (a 2 MB file can hold gigabytes
/// of zeros).
pub const MAX_DECOMPRESSED: u64 = 256 * 1024 * 1024;
/// Deepest nesting of form XObjects (forms drawing forms) accepted.
pub const MAX_FORM_DEPTH: usize = 32;

/// What the text extractor cannot survive, refused before it runs: streams that expand past
/// [`MAX_DECOMPRESSED`] (it decompresses them whole), and form XObjects that draw themselves or
/// nest past [`MAX_FORM_DEPTH`] (it follows them by recursion and would overflow the stack).
fn guard(document: &lopdf::Document) -> Result<(), Error> {
    expansion(document, MAX_DECOMPRESSED)?;
    form_depth(document)
}

/// Refuses a document whose compressed streams inflate past `limit` bytes in all.
fn expansion(document: &lopdf::Document, limit: u64) -> Result<(), Error> {
    let mut total: u64 = 0;
    for object in document.objects.values() {
        let Ok(stream) = object.as_stream() else {
            continue;
        };
        if !is_flate(stream) {
            continue;
        }
        total += inflated_size(&stream.content, limit - total + 1);
        if total > limit {
            return Err(Error::Pdf {
                message: format!(
                    "its compressed streams expand to more than {} MiB (a decompression bomb?); \
                     extract its text with `pdftotext` and pass the text",
                    limit / (1024 * 1024)
                ),
            });
        }
    }
    Ok(())
}

fn is_flate(stream: &lopdf::Stream) -> bool {
    match stream.dict.get(b"Filter") {
        Ok(lopdf::Object::Name(name)) => name == b"FlateDecode",
        Ok(lopdf::Object::Array(filters)) => filters
            .iter()
            .any(|f| matches!(f, lopdf::Object::Name(n) if n == b"FlateDecode")),
        _ => false,
    }
}

/// The bytes a zlib stream inflates to, counted up to `cap` (a corrupt stream counts what
/// inflated before the error).
fn inflated_size(compressed: &[u8], cap: u64) -> u64 {
    use std::io::Read;
    let decoder = flate2::read::ZlibDecoder::new(compressed);
    std::io::copy(&mut decoder.take(cap), &mut std::io::sink()).unwrap_or(0)
}

/// The form XObjects each object's resources name (page, form or resource dictionary).
fn forms_named(document: &lopdf::Document, dict: &lopdf::Dictionary) -> Vec<lopdf::ObjectId> {
    let resources = match dict.get(b"Resources") {
        Ok(lopdf::Object::Reference(id)) => document.get_dictionary(*id).ok(),
        Ok(lopdf::Object::Dictionary(d)) => Some(d),
        _ => None,
    };
    let xobjects = resources.and_then(|r| match r.get(b"XObject") {
        Ok(lopdf::Object::Reference(id)) => document.get_dictionary(*id).ok(),
        Ok(lopdf::Object::Dictionary(d)) => Some(d),
        _ => None,
    });
    xobjects
        .map(|x| {
            x.iter()
                .filter_map(|(_, v)| v.as_reference().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Walks forms from every page without recursion; a form met again on its own path, or a
/// path deeper than [`MAX_FORM_DEPTH`], is an error.
fn form_depth(document: &lopdf::Document) -> Result<(), Error> {
    let stream_dict = |id: lopdf::ObjectId| {
        document
            .get_object(id)
            .ok()
            .and_then(|o| o.as_stream().ok())
            .map(|s| &s.dict)
    };
    for page in document.get_pages().into_values() {
        let Ok(page_dict) = document.get_dictionary(page) else {
            continue;
        };
        // (form, path of forms above it)
        let mut stack: Vec<(lopdf::ObjectId, Vec<lopdf::ObjectId>)> =
            forms_named(document, page_dict)
                .into_iter()
                .map(|f| (f, Vec::new()))
                .collect();
        let mut steps = 0usize;
        while let Some((form, path)) = stack.pop() {
            steps += 1;
            if path.contains(&form) || path.len() >= MAX_FORM_DEPTH || steps > 100_000 {
                return Err(Error::Pdf {
                    message: format!(
                        "its form XObject {} {} R draws itself or nests more than {MAX_FORM_DEPTH} deep; \
                         extract its text with `pdftotext` and pass the text",
                        form.0, form.1
                    ),
                });
            }
            let Some(dict) = stream_dict(form) else {
                continue;
            };
            let mut below = path.clone();
            below.push(form);
            for child in forms_named(document, dict) {
                stack.push((child, below.clone()));
            }
        }
    }
    Ok(())
}

fn encrypted() -> Error {
    Error::Pdf {
        message: "it is encrypted; decrypt it first, e.g. `qpdf --decrypt in.pdf out.pdf`".into(),
    }
}

/// Joins pages after removing lines that repeat at the top or bottom of most pages (running
/// headers and footers) and bare page numbers, then repairs hyphenation and wrapping.
pub fn repair(pages: &[String]) -> String {
    let page_lines: Vec<Vec<&str>> = pages
        .iter()
        .map(|p| p.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
        .collect();
    let mut edge_counts: HashMap<String, usize> = HashMap::new();
    for lines in &page_lines {
        let edges = lines.iter().take(2).chain(lines.iter().rev().take(2));
        for line in edges {
            *edge_counts.entry(normalize_edge(line)).or_default() += 1;
        }
    }
    let repeated = |line: &str| {
        page_lines.len() >= 3
            && edge_counts
                .get(&normalize_edge(line))
                .is_some_and(|n| *n * 2 > page_lines.len())
    };
    let mut paragraphs_text = String::new();
    for page in pages {
        let mut kept: Vec<&str> = Vec::new();
        let lines: Vec<&str> = page.lines().collect();
        let content: Vec<usize> = (0..lines.len())
            .filter(|i| !lines[*i].trim().is_empty())
            .collect();
        let edge = |i: usize| {
            let position = content.iter().position(|c| *c == i);
            position.is_some_and(|p| p < 2 || p + 2 >= content.len())
        };
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim();
            let page_number = !trimmed.is_empty()
                && trimmed.len() <= 12
                && trimmed
                    .trim_start_matches("Page")
                    .trim_start_matches("page")
                    .split(|c: char| c == '/' || c.is_whitespace() || c == '-')
                    .filter(|p| !p.is_empty() && *p != "of")
                    .all(|p| p.chars().all(|c| c.is_ascii_digit()));
            if (edge(i) && (page_number || repeated(trimmed)))
                || (page_number && trimmed.len() <= 4)
            {
                continue;
            }
            kept.push(line);
        }
        paragraphs_text.push_str(&kept.join("\n"));
        paragraphs_text.push_str("\n\n");
    }
    join_wrapped(&paragraphs_text)
}

/// Digits vary between pages ("Page 3 of 9"); compare edges without them.
fn normalize_edge(line: &str) -> String {
    line.chars()
        .filter(|c| !c.is_ascii_digit())
        .collect::<String>()
        .trim()
        .to_lowercase()
}

/// `exfil-\ntration` → `exfiltration`; a line that continues in lower case joins the previous
/// one with a space. Blank lines stay paragraph breaks.
fn join_wrapped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_end();
        let next = lines.get(i + 1).map_or("", |l| l.trim_start());
        let continues = next.chars().next().is_some_and(char::is_lowercase);
        if continues && line.ends_with('-') && line.len() > 1 {
            let before = line[..line.len() - 1].chars().last();
            if before.is_some_and(char::is_alphabetic) {
                out.push_str(&line[..line.len() - 1]);
                continue;
            }
        }
        out.push_str(line);
        if continues && !line.is_empty() {
            out.push(' ');
        } else {
            out.push('\n');
        }
    }
    let mut collapsed = String::with_capacity(out.len());
    for line in out.split('\n') {
        if line.trim().is_empty() && collapsed.ends_with("\n\n") {
            continue;
        }
        collapsed.push_str(line.trim_end());
        collapsed.push('\n');
    }
    collapsed.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-page PDF from its objects (1: catalog, 2: pages, 3: page...), with a valid xref.
    fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(object);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for offset in offsets {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn stream(dict: &str, content: &[u8]) -> Vec<u8> {
        let mut object = format!("<< {dict} /Length {} >>\nstream\n", content.len()).into_bytes();
        object.extend_from_slice(content);
        object.extend_from_slice(b"\nendstream");
        object
    }

    const CATALOG: &[u8] = b"<< /Type /Catalog /Pages 2 0 R >>";
    const PAGES: &[u8] = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>";
    const TEXT: &[u8] = b"BT /F1 12 Tf 72 712 Td (The actor ran vssadmin delete shadows.) Tj ET";

    #[test]
    fn a_form_that_draws_itself_is_refused_not_followed() {
        let page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /X1 5 0 R >> >> >>";
        let bytes = pdf(&[
            CATALOG.to_vec(),
            PAGES.to_vec(),
            page.to_vec(),
            stream("", b"/X1 Do"),
            stream(
                "/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X1 5 0 R >> >>",
                b"/X1 Do",
            ),
        ]);
        let error = to_text(&bytes).expect_err("refused").to_string();
        assert!(error.contains("draws itself"), "{error}");
    }

    #[test]
    fn streams_that_expand_past_the_limit_are_refused() {
        use std::io::Write;
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(TEXT).expect("compress");
        encoder
            .write_all(&vec![b' '; 3 * 1024 * 1024])
            .expect("compress");
        let compressed = encoder.finish().expect("compress");
        let page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>";
        let bytes = pdf(&[
            CATALOG.to_vec(),
            PAGES.to_vec(),
            page.to_vec(),
            stream("/Filter /FlateDecode", &compressed),
        ]);
        let document = lopdf::Document::load_mem(&bytes).expect("loads");
        let error = expansion(&document, 1024 * 1024)
            .expect_err("refused")
            .to_string();
        assert!(error.contains("expand to more than 1 MiB"), "{error}");
        assert!(expansion(&document, 8 * 1024 * 1024).is_ok());
    }

    #[test]
    fn headers_footers_page_numbers_and_hyphenation() {
        let pages: Vec<String> = ["alpha", "beta", "gamma"]
            .iter()
            .enumerate()
            .map(|(n, word)| {
                format!(
                    "ACME Threat Report - TLP:CLEAR\nOn the {word} host the actor moved laterally using remote ser-\nvices and wrote\nfiles to C:\\Temp.\n\nNew paragraph on {word}.\nPage {} of 3\n",
                    n + 1
                )
            })
            .collect();
        let text = repair(&pages);
        assert!(!text.contains("ACME Threat Report"), "{text}");
        assert!(!text.contains("Page 2 of 3"), "{text}");
        assert!(
            text.contains("using remote services and wrote files to C:\\Temp."),
            "{text}"
        );
        assert!(text.contains("New paragraph on beta."), "{text}");
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let err = to_text(b"%PDF-1.7 this is not really a pdf").expect_err("rejected");
        assert!(err.to_string().contains("corrupt or not a PDF"), "{err}");
    }
}
