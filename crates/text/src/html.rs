//! HTML → text: the article, not the page. Scripts, styles, navigation, headers, footers,
//! forms and cookie banners are dropped; headings, paragraphs, lists, table cells (kept
//! separate), code and `<pre>` blocks are kept.

use scraper::{ElementRef, Html, Node, Selector};

use crate::blocks::Blocks;

/// Elements never part of an article's text.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed", "nav",
    "aside", "form", "button", "select", "input", "textarea", "dialog", "head", "menu",
];

/// Elements dropped unless they are the article itself.
const PAGE_CHROME: &[&str] = &["header", "footer"];

/// Class or id fragments of page furniture: cookie banners, navigation, sharing, comments.
const BOILERPLATE: &[&str] = &[
    "cookie",
    "consent",
    "gdpr",
    "newsletter",
    "subscribe",
    "share",
    "social",
    "sidebar",
    "comment",
    "related",
    "breadcrumb",
    "navbar",
    "nav-",
    "menu",
    "footer",
    "site-header",
    "advert",
    "popup",
    "modal",
    "banner-cookie",
    "skip-link",
];

/// Block elements: each starts and ends a paragraph.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "figure",
    "figcaption",
    "dl",
    "dt",
    "dd",
    "ul",
    "ol",
    "table",
    "address",
    "details",
    "summary",
    "hr",
    "body",
];

/// Deepest element nesting parsed into a tree. Real pages stay under a hundred; a page nested
/// deeper (tens of thousands of unclosed `<div>`) would make the tree builder quadratic and
/// the walk overflow the stack, so its text is read without the tree.
pub const MAX_DEPTH: usize = 1024;

/// Elements that have no end tag or whose end tag is optional: they do not nest.
const NOT_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "tbody", "thead", "tfoot",
    "colgroup", "!doctype",
];

/// The article text of an HTML document, and its title.
pub fn to_text(html: &str) -> (String, Option<String>) {
    if nesting_exceeds(html, MAX_DEPTH) {
        return (flat_text(html), None);
    }
    let document = Html::parse_document(html);
    let title = select_text(&document, "title")
        .or_else(|| meta_title(&document))
        .or_else(|| select_text(&document, "h1"));
    let root = ["article", "main", "[role=main]", "body"]
        .iter()
        .find_map(|selector| {
            let selector = Selector::parse(selector).ok()?;
            // The largest match: pages sometimes hold several <article> teasers.
            document
                .select(&selector)
                .max_by_key(|e| e.text().map(str::len).sum::<usize>())
        })
        .unwrap_or_else(|| document.root_element());
    let mut blocks = Blocks::default();
    walk(root, &mut blocks, true, false);
    (blocks.finish(), title.filter(|t| !t.is_empty()))
}

/// The name of the tag that starts at `html[at]` (after `<` or `</`), lower case.
fn tag_name(html: &[u8], at: usize) -> String {
    html[at..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'!')
        .take(16)
        .map(|b| b.to_ascii_lowercase() as char)
        .collect()
}

/// Whether elements nest deeper than `limit`, counting open tags against end tags (a
/// conservative estimate: tags whose end is optional are not counted).
fn nesting_exceeds(html: &str, limit: usize) -> bool {
    let bytes = html.as_bytes();
    let mut depth = 0usize;
    for at in memchr::memchr_iter(b'<', bytes) {
        match bytes.get(at + 1) {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let name = tag_name(bytes, at + 1);
                let end = memchr::memchr(b'>', &bytes[at..]).map(|e| at + e);
                let self_closing = end.is_some_and(|e| e > 0 && bytes[e - 1] == b'/');
                if !self_closing && !NOT_NESTING.contains(&name.as_str()) {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

/// The text of HTML read without a tree: tags removed (block tags break paragraphs), the
/// contents of scripts and styles dropped, character references decoded. Linear in the input.
fn flat_text(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut blocks = Blocks::default();
    let mut at = 0;
    let mut run = String::new();
    while at < bytes.len() {
        let Some(open) = memchr::memchr(b'<', &bytes[at..]).map(|o| at + o) else {
            run.push_str(&html[at..]);
            break;
        };
        run.push_str(&html[at..open]);
        let close = memchr::memchr(b'>', &bytes[open..]).map_or(bytes.len(), |c| open + c + 1);
        let closing = bytes.get(open + 1) == Some(&b'/');
        let name = tag_name(bytes, open + 1 + usize::from(closing));
        at = close;
        if !closing && matches!(name.as_str(), "script" | "style") {
            // Skip to its end tag, compared without regard to case.
            at = memchr::memmem::find_iter(&bytes[close..], b"</")
                .map(|e| close + e)
                .find(|&e| tag_name(bytes, e + 2) == name)
                .unwrap_or(bytes.len());
            continue;
        }
        if BLOCKS.contains(&name.as_str()) || name == "br" || name == "div" {
            blocks.push(&html_escape::decode_html_entities(&run));
            run.clear();
            blocks.break_paragraph();
        }
    }
    blocks.push(&html_escape::decode_html_entities(&run));
    blocks.finish()
}

fn select_text(document: &Html, selector: &str) -> Option<String> {
    let selector = Selector::parse(selector).ok()?;
    let element = document.select(&selector).next()?;
    let mut blocks = Blocks::default();
    blocks.push(&element.text().collect::<String>());
    Some(blocks.finish())
}

fn meta_title(document: &Html) -> Option<String> {
    let selector = Selector::parse("meta[property='og:title']").ok()?;
    document
        .select(&selector)
        .next()?
        .value()
        .attr("content")
        .map(|s| s.trim().to_owned())
}

fn is_boilerplate(element: &ElementRef<'_>) -> bool {
    let value = element.value();
    let mut labels = String::new();
    for attribute in ["class", "id", "role", "aria-label"] {
        if let Some(v) = value.attr(attribute) {
            labels.push_str(&v.to_ascii_lowercase());
            labels.push(' ');
        }
    }
    labels.contains("navigation") || BOILERPLATE.iter().any(|b| labels.contains(b))
}

fn walk(element: ElementRef<'_>, blocks: &mut Blocks, is_root: bool, in_pre: bool) {
    let name = element.value().name().to_ascii_lowercase();
    if !is_root
        && (SKIPPED.contains(&name.as_str())
            || PAGE_CHROME.contains(&name.as_str())
            || is_boilerplate(&element))
    {
        return;
    }
    let block = BLOCKS.contains(&name.as_str());
    if block {
        blocks.break_paragraph();
    }
    match name.as_str() {
        "li" => {
            blocks.break_line();
            blocks.push("- ");
        }
        "tr" | "dt" | "dd" => blocks.break_line(),
        "td" | "th" => blocks.cell(),
        "br" => blocks.break_line(),
        "pre" => blocks.break_paragraph(),
        _ => {}
    }
    let in_pre = in_pre || name == "pre";
    let link_start = blocks.len();
    for child in element.children() {
        match child.value() {
            Node::Text(text) => {
                if in_pre {
                    blocks.push_preformatted(text);
                } else {
                    blocks.push(text);
                }
            }
            Node::Element(_) => {
                if let Some(child) = ElementRef::wrap(child) {
                    walk(child, blocks, false, in_pre);
                }
            }
            _ => {}
        }
    }
    if name == "a" {
        // A link whose text names a host or URL keeps its target too: the two can differ
        // (defanged text over a live link, or the reverse).
        if let Some(href) = element.value().attr("href") {
            let shown = blocks.since(link_start).trim().to_owned();
            let looks_like_indicator = !shown.contains(' ') && shown.contains('.');
            if looks_like_indicator && href != shown && !href.starts_with(['#', '/']) {
                blocks.push(" (");
                blocks.push(href);
                blocks.push(")");
            }
        }
    }
    match name.as_str() {
        "li" | "tr" | "dt" | "dd" => blocks.break_line(),
        "pre" => blocks.break_paragraph(),
        _ if block => blocks.break_paragraph(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_article_without_the_page() {
        let html = r#"<!doctype html><html><head><title>APT report</title>
            <style>p { color: red }</style><script>var tracking = "evil.example";</script></head>
            <body><header><nav><a href="/">Home</a> <a href="/blog">Blog</a></nav></header>
            <div class="cookie-consent">We use cookies. Accept?</div>
            <article><h1>The campaign</h1><p>The actor used   <b>evil[.]com</b>
            for C2.</p><ul><li>First IOC: 45.77.12.9</li><li>Second</li></ul>
            <table><tr><th>Hash</th><th>Name</th></tr><tr><td>d41d8cd98f00b204e9800998ecf8427f</td><td>x.exe</td></tr></table>
            <pre>cmd.exe /c whoami
net user</pre></article>
            <footer>Copyright 2026 Vendor</footer></body></html>"#;
        let (text, title) = to_text(html);
        assert_eq!(title.as_deref(), Some("APT report"));
        assert_eq!(
            text,
            "The campaign\n\nThe actor used evil[.]com for C2.\n\n- First IOC: 45.77.12.9\n- Second\n\nHash | Name\nd41d8cd98f00b204e9800998ecf8427f | x.exe\n\ncmd.exe /c whoami\nnet user"
        );
    }

    #[test]
    fn pages_nested_past_the_limit_are_read_flat_in_linear_time() {
        let deep = format!(
            "<html><body>{}<p>The actor ran vssadmin &amp; deleted shadows.</p>{}</body></html>",
            "<div>".repeat(50_000),
            "</div>".repeat(50_000)
        );
        let unclosed = format!(
            "<body>{}<script>var x = '<b>';</script>Exfiltrated data.",
            "<span>".repeat(20_000)
        );
        assert!(nesting_exceeds(&deep, MAX_DEPTH));
        let (text, _) = to_text(&deep);
        assert!(
            text.contains("The actor ran vssadmin & deleted shadows."),
            "{text}"
        );
        let (text, _) = to_text(&unclosed);
        assert_eq!(text.trim(), "Exfiltrated data.");
        // Ordinary pages, with unclosed paragraphs and list items, still get the tree.
        let page = format!(
            "<body>{}</body>",
            "<p>One.<li>Two.<br><img src=x>".repeat(3_000)
        );
        assert!(!nesting_exceeds(&page, MAX_DEPTH));
    }

    #[test]
    fn link_targets_that_differ_from_their_text_are_kept() {
        let (text, _) = to_text(
            r#"<p>Payload at <a href="http://evil.com/a">evil[.]com/a</a> (see <a href="https://vendor.example/blog">our blog</a>)</p>"#,
        );
        assert_eq!(
            text,
            "Payload at evil[.]com/a (http://evil.com/a) (see our blog)"
        );
    }
}
