//! Any bytes, any claimed format: ingest never panics, and every span is valid.

use ctiforge_text::{Input, ingest};
use proptest::prelude::*;

fn check(bytes: &[u8], path: Option<&str>) -> Result<(), TestCaseError> {
    let Ok(document) = ingest(Input {
        bytes,
        path,
        ..Input::default()
    }) else {
        return Ok(());
    };
    let mut previous_end = 0;
    for span in &document.sentences {
        prop_assert!(span.start < span.end && span.end <= document.text.len());
        prop_assert!(span.start >= previous_end, "ordered and disjoint");
        prop_assert!(
            document.text.get(span.start..span.end).is_some(),
            "char boundaries"
        );
        previous_end = span.end;
    }
    for paragraph in &document.paragraphs {
        prop_assert!(document.text.get(paragraph.start..paragraph.end).is_some());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600),
                       path in prop::sample::select(vec!["a.txt", "a.md", "a.html", "a.pdf", "a"])) {
        check(&bytes, Some(path))?;
    }

    #[test]
    fn markup_like_text(text in "([<>/a-zA-Z# *|`\\[\\]().!?\\n\\t\u{a0}\u{2009}\u{3000}\u{200b}é-]|<p>|</p>|<li>|<table>|<td>|<pre>|```|\\. |e\\.g\\. |Fig\\. |。|！|\u{feff}){0,80}",
                        path in prop::sample::select(vec!["a.txt", "a.md", "a.html"])) {
        check(text.as_bytes(), Some(path))?;
    }

    #[test]
    fn pdf_headers_with_garbage(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut bytes = b"%PDF-1.4\n".to_vec();
        bytes.extend(tail);
        check(&bytes, None)?;
    }
}
