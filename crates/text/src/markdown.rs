//! Markdown → text: headings, paragraphs, list items, table rows and code as lines; markup
//! dropped. A link keeps its target beside its text when they differ, because report authors
//! put indicators in link targets.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::blocks::Blocks;

/// The text of a Markdown document, and its first heading as the title.
pub fn to_text(markdown: &str) -> (String, Option<String>) {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut blocks = Blocks::default();
    let mut title: Option<String> = None;
    let mut heading: Option<String> = None;
    let mut link_targets: Vec<(String, usize)> = Vec::new();
    let mut in_code = false;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                blocks.break_paragraph();
                heading = Some(String::new());
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(text) = heading.take()
                    && title.is_none()
                    && !text.trim().is_empty()
                {
                    title = Some(text.trim().to_owned());
                }
                blocks.break_paragraph();
            }
            Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => {
                blocks.break_paragraph()
            }
            Event::Start(Tag::Item) => {
                blocks.break_line();
                blocks.push("- ");
            }
            Event::End(TagEnd::Item) => blocks.break_line(),
            Event::End(TagEnd::List(_))
            | Event::End(TagEnd::Table)
            | Event::End(TagEnd::BlockQuote(_)) => blocks.break_paragraph(),
            Event::Start(Tag::TableRow) | Event::Start(Tag::TableHead) => blocks.break_line(),
            Event::End(TagEnd::TableRow) | Event::End(TagEnd::TableHead) => blocks.break_line(),
            Event::Start(Tag::TableCell) => blocks.cell(),
            Event::Start(Tag::CodeBlock(_)) => {
                blocks.break_paragraph();
                in_code = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                blocks.break_paragraph();
            }
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => {
                link_targets.push((dest_url.to_string(), blocks.len()));
            }
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
                if let Some((target, start)) = link_targets.pop() {
                    let shown = blocks.since(start).trim().to_owned();
                    if !target.is_empty() && shown != target && !target.starts_with('#') {
                        blocks.push(" (");
                        blocks.push(&target);
                        blocks.push(")");
                    }
                }
            }
            Event::Text(text) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&text);
                }
                if in_code {
                    blocks.push_preformatted(&text);
                } else {
                    blocks.push(&text);
                }
            }
            Event::Code(text) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&text);
                }
                blocks.push(&text);
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                let (text, _) = crate::html::to_text(&html);
                blocks.push(&text);
            }
            Event::SoftBreak => blocks.push(" "),
            Event::HardBreak => blocks.break_line(),
            Event::Rule => blocks.break_paragraph(),
            Event::TaskListMarker(done) => blocks.push(if done { "[x] " } else { "[ ] " }),
            Event::FootnoteReference(name) => blocks.push(&format!("[{name}]")),
            _ => {}
        }
    }
    (blocks.finish(), title)
}
