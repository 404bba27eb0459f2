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
