//! The Analysis for people and for other tools: Markdown (for a ticket or a wiki), one
//! self-contained HTML page with the threat graph, ATT&CK Navigator layers and a MISP event.
//!
//! The last stage of the pipeline, after the STIX bundle is built. Markdown and HTML render the
//! same list of sections, [`SECTIONS`], in the order `shared/DESIGN.md` gives for a report
//! page, from templates (`templates/md/<id>.md`, `templates/html/<id>.html`); the web UI of
//! `ctiforge serve` includes the same HTML section templates in its own pages.
//!
//! ```
//! let sections: Vec<&str> = ctiforge_report::SECTIONS.iter().map(|s| s.id).collect();
//! assert_eq!(sections[0], "summary");
//! assert!(sections.contains(&"graph"));
//! ```
#![deny(missing_docs)]

pub mod graph;
mod misp;
mod navigator;
mod view;

use std::sync::LazyLock;

use ctiforge_model::Analysis;
use minijinja::{Environment, Value, context};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

pub use misp::misp_event;
pub use navigator::navigator_layers;

/// One part of a report page.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Section {
    /// Its anchor and template name (`techniques`).
    pub id: &'static str,
    /// Its title in the table of contents.
    pub title: &'static str,
    /// Whether the Markdown report has it (the graph is for the page alone).
    pub markdown: bool,
}

/// The sections of a report, in the order of "What a report page shows" in
/// `shared/DESIGN.md`.
pub const SECTIONS: &[Section] = &[
    Section {
        id: "summary",
        title: "Summary",
        markdown: true,
    },
    Section {
        id: "risks",
        title: "Key risks",
        markdown: true,
    },
    Section {
        id: "affected",
        title: "Affected products",
        markdown: true,
    },
    Section {
        id: "exploitation",
        title: "Exploitation",
        markdown: true,
    },
    Section {
        id: "leads",
        title: "Hunting leads",
        markdown: true,
    },
    Section {
        id: "mitigations",
        title: "Mitigations",
        markdown: true,
    },
    Section {
        id: "recommendations",
        title: "Recommendations",
        markdown: true,
    },
    Section {
        id: "techniques",
        title: "Techniques",
        markdown: true,
    },
    Section {
        id: "iocs",
        title: "Indicators",
        markdown: true,
    },
    Section {
        id: "actors",
        title: "Actors and correlation",
        markdown: true,
    },
    Section {
        id: "risk",
        title: "Risk",
        markdown: true,
    },
    Section {
        id: "detection",
        title: "Detection rules",
        markdown: true,
    },
    Section {
        id: "response",
        title: "Response",
        markdown: true,
    },
    Section {
        id: "graph",
        title: "Graph",
        markdown: false,
    },
];

/// The page's stylesheet and script, also served by the web UI.
pub const CSS: &str = include_str!("../web/report.css");
/// The page's script: graph interaction, IOC tools, copy buttons, query tabs.
pub const JS: &str = include_str!("../web/report.js");

/// Every template, by name, so that another crate's environment (the web UI's) can load them.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("report.md", include_str!("../templates/report.md")),
    ("md/summary.md", include_str!("../templates/md/summary.md")),
    ("md/risks.md", include_str!("../templates/md/risks.md")),
    (
        "md/affected.md",
        include_str!("../templates/md/affected.md"),
    ),
    (
        "md/recommendations.md",
        include_str!("../templates/md/recommendations.md"),
    ),
    (
        "md/exploitation.md",
        include_str!("../templates/md/exploitation.md"),
    ),
    ("md/leads.md", include_str!("../templates/md/leads.md")),
    (
        "md/mitigations.md",
        include_str!("../templates/md/mitigations.md"),
    ),
    (
        "md/techniques.md",
        include_str!("../templates/md/techniques.md"),
    ),
    ("md/iocs.md", include_str!("../templates/md/iocs.md")),
    ("md/actors.md", include_str!("../templates/md/actors.md")),
    ("md/risk.md", include_str!("../templates/md/risk.md")),
    (
        "md/detection.md",
        include_str!("../templates/md/detection.md"),
    ),
    (
        "md/response.md",
        include_str!("../templates/md/response.md"),
    ),
    ("report.html", include_str!("../templates/report.html")),
    (
        "html/macros.html",
        include_str!("../templates/html/macros.html"),
    ),
    (
        "html/header.html",
        include_str!("../templates/html/header.html"),
    ),
    (
        "html/summary.html",
        include_str!("../templates/html/summary.html"),
    ),
    (
        "html/risks.html",
        include_str!("../templates/html/risks.html"),
    ),
    (
        "html/affected.html",
        include_str!("../templates/html/affected.html"),
    ),
    (
        "html/recommendations.html",
        include_str!("../templates/html/recommendations.html"),
    ),
    (
        "html/exploitation.html",
        include_str!("../templates/html/exploitation.html"),
    ),
    (
        "html/leads.html",
        include_str!("../templates/html/leads.html"),
    ),
    (
        "html/mitigations.html",
        include_str!("../templates/html/mitigations.html"),
    ),
    (
        "html/techniques.html",
        include_str!("../templates/html/techniques.html"),
    ),
    (
        "html/iocs.html",
        include_str!("../templates/html/iocs.html"),
    ),
    (
        "html/actors.html",
        include_str!("../templates/html/actors.html"),
    ),
    (
        "html/risk.html",
        include_str!("../templates/html/risk.html"),
    ),
    (
        "html/detection.html",
        include_str!("../templates/html/detection.html"),
    ),
    (
        "html/queries.html",
        include_str!("../templates/html/queries.html"),
    ),
    (
        "html/response.html",
        include_str!("../templates/html/response.html"),
    ),
    (
        "html/graph.html",
        include_str!("../templates/html/graph.html"),
    ),
];

/// Adds the report's templates and filters to `env`.
pub fn configure(env: &mut Environment<'static>) {
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    for (name, source) in TEMPLATES {
        // The templates are ours and tested; a syntax error fails every test that renders.
        if let Err(e) = env.add_template(name, source) {
            panic!("report template {name} does not parse: {e}");
        }
    }
    view::add_filters(env);
}

static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    configure(&mut env);
    env
});

/// What every report template sees: the Analysis as `a` and the values derived from it.
pub fn context(analysis: &Analysis) -> Value {
    view::context(analysis)
}

fn render(name: &str, context: Value) -> String {
    match ENVIRONMENT
        .get_template(name)
        .and_then(|t| t.render(context))
    {
        Ok(text) => text,
        // Rendering our own templates over our own types fails only on a bug; say so in the
        // output rather than lose the rest of the run.
        Err(e) => format!("ctiforge could not render {name}: {e:#}\n"),
    }
}

/// Renders `analysis` as Markdown. Text from the report is escaped so that no HTML in it
/// reaches a Markdown renderer.
pub fn markdown(analysis: &Analysis) -> String {
    render("report.md", context(analysis))
}

/// JSON for a `<script type="application/json">` element: `<`, `>`, `&` and the JavaScript
/// line separators are written as `\u` escapes, so no text in it can close the element or
/// open a comment.
pub fn script_json(value: &Json) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The CSP source of an inline element's exact text: `'sha256-…'`.
pub fn csp_hash(text: &str) -> String {
    use base64::Engine;
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// What the HTML sections of a report need: [`context`], the threat graph drawn from `bundle`
/// and the bundle as JSON for a `<script type="application/json" id="ctiforge-bundle">`. The
/// web UI renders the sections with it (and `site` true, for links to its entity pages).
pub fn page_context(analysis: &Analysis, bundle: &Json) -> Value {
    context! {
        bundle_json => script_json(bundle),
        graph => view::graph(bundle),
        ..context(analysis)
    }
}

/// The report page for `analysis`, with `bundle` (its STIX bundle) as the graph's data: one
/// self-contained file whose Content-Security-Policy allows only its own inline style and
/// script (by hash) and no request of any kind.
pub fn html(analysis: &Analysis, bundle: &Json) -> String {
    let ctx = context! {
        css => CSS,
        js => JS,
        csp => context! { script => csp_hash(JS), style => csp_hash(CSS) },
        ..page_context(analysis, bundle)
    };
    render("report.html", ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_its_element() {
        let value =
            serde_json::json!({"text": "</script><!--<script>alert(1)</script> a&b \u{2028}"});
        let text = script_json(&value);
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        assert!(!text.contains('\u{2028}'));
        let back: Json = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back, value);
    }

    #[test]
    fn every_section_has_its_templates() {
        for section in SECTIONS {
            let html = format!("html/{}.html", section.id);
            assert!(TEMPLATES.iter().any(|(name, _)| *name == html), "{html}");
            let md = format!("md/{}.md", section.id);
            assert_eq!(
                TEMPLATES.iter().any(|(name, _)| *name == md),
                section.markdown,
                "{md}"
            );
        }
    }
}
