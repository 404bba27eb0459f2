//! Each input format through `ingest`, including a real PDF built here byte by byte.

use ctiforge_text::{Error, Format, Input, detect, ingest};

fn sentences(document: &ctiforge_text::Document) -> Vec<&str> {
    document
        .sentences
        .iter()
        .map(|s| document.slice(*s))
        .collect()
}

#[test]
fn markdown_keeps_headings_lists_tables_code_and_link_targets() {
    let markdown = "# Campaign Y\n\nThe actor used [the portal](hxxps://login-portal[.]com/a) and **PowerShell**.\n\n\
                    - first item with 45.77.12.9\n- second item\n\n| Hash | Name |\n|---|---|\n| d41d8cd98f00b204e9800998ecf8427f | a.exe |\n\n\
                    ```\ncmd.exe /c whoami\n```\n";
    let document = ingest(Input {
        bytes: markdown.as_bytes(),
        path: Some("r.md"),
        ..Input::default()
    })
    .expect("reads");
    assert_eq!(document.title.as_deref(), Some("Campaign Y"));
    assert_eq!(document.source.media_type, "text/markdown");
    assert_eq!(
        document.text,
        "Campaign Y\n\nThe actor used the portal (hxxps://login-portal[.]com/a) and PowerShell.\n\n\
         - first item with 45.77.12.9\n- second item\n\nHash | Name\nd41d8cd98f00b204e9800998ecf8427f | a.exe\n\ncmd.exe /c whoami"
    );
    assert!(sentences(&document).contains(&"- first item with 45.77.12.9"));
}

#[test]
fn utf16_with_bom_and_plain_text_line_endings() {
    let bytes: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "Title\r\nThe C2 is evil[.]com.\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let document = ingest(Input {
        bytes: &bytes,
        ..Input::default()
    })
    .expect("reads");
    assert_eq!(document.source.encoding, "UTF-16LE");
    assert_eq!(document.text, "Title\nThe C2 is evil[.]com.\n");
    assert_eq!(document.title.as_deref(), Some("Title"));
    assert_eq!(sentences(&document), ["Title", "The C2 is evil[.]com."]);
}

#[test]
fn binary_input_is_refused_with_a_reason() {
    let bytes: Vec<u8> = (0u8..=255).cycle().take(4096).collect();
    let err = ingest(Input {
        bytes: &bytes,
        ..Input::default()
    })
    .expect_err("binary");
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("plain text, Markdown, HTML, PDF and CSAF advisories")
    );
}

#[test]
fn formats_are_detected_from_type_name_and_content() {
    let detect_of = |bytes: &[u8], path: Option<&str>, content_type: Option<&str>| {
        detect(&Input {
            bytes,
            path,
            url: None,
            content_type,
        })
    };
    assert_eq!(detect_of(b"%PDF-1.4", None, None), Format::Pdf);
    assert_eq!(
        detect_of(b"hello", None, Some("text/html; charset=utf-8")),
        Format::Html
    );
    assert_eq!(
        detect_of(b"hello", Some("a/b/report.MD"), None),
        Format::Markdown
    );
    assert_eq!(
        detect_of(b"  <!DOCTYPE html><p>x", None, None),
        Format::Html
    );
    assert_eq!(detect_of(b"plain words", Some("notes"), None), Format::Text);
}

/// A one-page PDF with a Helvetica text object, offsets computed for a valid xref table.
fn tiny_pdf(lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("BT /F1 12 Tf 72 720 Td 14 TL\n");
    for line in lines {
        content.push_str(&format!(
            "({}) Tj T*\n",
            line.replace('\\', "\\\\")
                .replace('(', "\\(")
                .replace(')', "\\)")
        ));
    }
    content.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (n, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", n + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

#[test]
fn pdf_text_is_extracted() {
    let pdf = tiny_pdf(&[
        "Threat advisory: the actor used hxxp://evil[.]com/x and",
        "dropped loader.exe on 45.77.12.9 hosts.",
    ]);
    let document = ingest(Input {
        bytes: &pdf,
        path: Some("advisory.pdf"),
        ..Input::default()
    })
    .expect("reads the PDF");
    assert_eq!(document.source.media_type, "application/pdf");
    assert!(
        document.text.contains("hxxp://evil[.]com/x"),
        "{:?}",
        document.text
    );
    assert!(document.text.contains("loader.exe"), "{:?}", document.text);
}

#[test]
fn pdfs_without_text_or_broken_give_clear_errors() {
    let blank = tiny_pdf(&[]);
    let err = ingest(Input {
        bytes: &blank,
        ..Input::default()
    })
    .expect_err("no text layer");
    assert!(err.to_string().contains("no text layer"), "{err}");
    let mut broken = tiny_pdf(&["some text here that is long enough"]);
    broken.truncate(broken.len() / 2);
    let err = ingest(Input {
        bytes: &broken,
        ..Input::default()
    })
    .expect_err("truncated");
    assert!(err.to_string().starts_with("cannot read the PDF"), "{err}");
}
