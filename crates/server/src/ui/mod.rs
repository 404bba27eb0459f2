//! The web UI: the intelligence feed, report pages (the sections of `report.html`, with links to
//! entity pages and each piece of evidence shown in the report's text), search, entity pages
//! (techniques, actors, indicators, CVEs), ATT&CK coverage, submission with live job status, and
//! admin pages for feeds and tokens.
//!
//! Pages read without JavaScript; the scripts (`/static/site.js`, `/static/report.js`) add the
//! graph, filters, copy buttons and live job status. Sign-in takes a token and sets an
//! `HttpOnly`, `SameSite=Strict` session cookie; every form carries the session's CSRF secret
//! and its `Origin` must be this site. A strict Content-Security-Policy allows this site's own
//! scripts and styles only: no inline script, no external request.

mod pages;

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use ctiforge_store::{Role, Store};
use minijinja::{Environment, Value, context};

use crate::App;
use crate::auth::Access;
use crate::error::ApiError;

/// The Content-Security-Policy of every page.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The site's templates, with the report's section templates.
const TEMPLATES: &[(&str, &str)] = &[
    ("ui/layout.html", include_str!("templates/layout.html")),
    ("ui/feed.html", include_str!("templates/feed.html")),
    ("ui/cards.html", include_str!("templates/cards.html")),
    ("ui/report.html", include_str!("templates/report.html")),
    ("ui/search.html", include_str!("templates/search.html")),
    ("ui/entity.html", include_str!("templates/entity.html")),
    ("ui/coverage.html", include_str!("templates/coverage.html")),
    ("ui/submit.html", include_str!("templates/submit.html")),
    ("ui/job.html", include_str!("templates/job.html")),
    ("ui/signin.html", include_str!("templates/signin.html")),
    ("ui/feeds.html", include_str!("templates/feeds.html")),
    ("ui/tokens.html", include_str!("templates/tokens.html")),
    ("ui/error.html", include_str!("templates/error.html")),
    ("ui/feed.atom", include_str!("templates/feed.atom")),
];

static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    ctiforge_report::configure(&mut env);
    env.add_filter("highlight", highlight);
    // Pages without a visitor (sign-in, errors) leave `visitor.…` undefined: read as empty.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    // Atom is XML: escape it like HTML.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") || name.ends_with(".atom") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            panic!("web UI template {name} does not parse: {e}");
        }
    }
    env
});

/// A search passage as HTML: escaped, the words between `«` and `»` in `<mark>`.
fn highlight(passage: &str) -> Value {
    let mut html = String::with_capacity(passage.len() + 32);
    let mut open = false;
    for c in passage.chars() {
        match c {
            '«' if !open => {
                html.push_str("<mark>");
                open = true;
            }
            '»' if open => {
                html.push_str("</mark>");
                open = false;
            }
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#x27;"),
            c => html.push(c),
        }
    }
    if open {
        html.push_str("</mark>");
    }
    Value::from_safe_string(html)
}

/// Static files: our own stylesheet and scripts.
const STATIC: &[(&str, &str, &str)] = &[
    (
        "site.css",
        "text/css; charset=utf-8",
        include_str!("static/site.css"),
    ),
    (
        "site.js",
        "text/javascript; charset=utf-8",
        include_str!("static/site.js"),
    ),
    (
        "report.css",
        "text/css; charset=utf-8",
        ctiforge_report::CSS,
    ),
    (
        "report.js",
        "text/javascript; charset=utf-8",
        ctiforge_report::JS,
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("static/favicon.svg"),
    ),
];

pub(crate) fn routes<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/", get(pages::feed::<S>))
        .route("/feed.atom", get(pages::atom::<S>))
        .route("/reports/{id}", get(pages::report::<S>))
        .route("/search", get(pages::search::<S>))
        .route("/techniques/{id}", get(pages::technique::<S>))
        .route("/actors/{name}", get(pages::actor::<S>))
        .route("/iocs/{value}", get(pages::ioc::<S>))
        .route("/cves/{id}", get(pages::cve::<S>))
        .route("/coverage", get(pages::coverage::<S>))
        .route(
            "/submit",
            get(pages::submit_form::<S>).post(pages::submit::<S>),
        )
        .route("/jobs/{id}", get(pages::job::<S>))
        .route(
            "/signin",
            get(pages::signin_form::<S>).post(pages::signin::<S>),
        )
        .route("/signout", post(pages::signout::<S>))
        .route(
            "/admin/feeds",
            get(pages::feeds::<S>).post(pages::add_feed::<S>),
        )
        .route("/admin/feeds/{id}/{action}", post(pages::feed_action::<S>))
        .route(
            "/admin/tokens",
            get(pages::tokens::<S>).post(pages::create_token::<S>),
        )
        .route("/admin/tokens/{id}/revoke", post(pages::revoke_token::<S>))
        .route("/static/{file}", get(static_file))
        .route(
            "/favicon.ico",
            get(|| async { Redirect::permanent("/static/favicon.svg") }),
        )
}

async fn static_file(Path(file): Path<String>) -> Response {
    match STATIC.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// What every page's layout shows about the visitor.
pub(crate) fn visitor(access: &Access) -> Value {
    let role = access.role();
    context! {
        name => access.token.as_ref().map(|t| t.name.clone()),
        role => role.map(Role::as_str),
        writer => role.is_some_and(|r| r >= Role::Writer),
        admin => role == Some(Role::Admin),
        csrf => access.csrf.clone(),
        max_tlp => access.max_tlp.marking(),
    }
}

/// A rendered page with the site's security headers.
pub(crate) fn page(template: &str, ctx: Value) -> Response {
    page_with_status(StatusCode::OK, template, ctx)
}

pub(crate) fn page_with_status(status: StatusCode, template: &str, ctx: Value) -> Response {
    let rendered = ENVIRONMENT
        .get_template(template)
        .and_then(|t| t.render(ctx));
    match rendered {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            secure(response.headers_mut());
            response
        }
        Err(e) => ApiError::internal(format!("{template}: {e:#}")).into_response(),
    }
}

/// The Content-Security-Policy and no caching of pages that depend on who is signed in.
pub(crate) fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// An error as a page: sign-in for a visitor without access, else the reason.
pub(crate) fn error_page(error: ApiError, next: &str) -> Response {
    if error.status == StatusCode::UNAUTHORIZED {
        let target = format!("/signin?next={}", urlencode(next));
        return Redirect::to(&target).into_response();
    }
    page_with_status(
        error.status,
        "ui/error.html",
        context! {
            status => error.status.as_u16(),
            title => error.title,
            detail => error.detail,
        },
    )
}

/// Percent-encodes a path or query value.
pub(crate) fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_paths_are_encoded() {
        assert!(ENVIRONMENT.get_template("ui/layout.html").is_ok());
        assert!(ENVIRONMENT.get_template("html/summary.html").is_ok());
        assert_eq!(urlencode("/reports?x=a b&c"), "/reports%3Fx%3Da%20b%26c");
    }

    #[test]
    fn search_passages_are_escaped_with_their_matches_marked() {
        assert_eq!(
            highlight("…ran «<b>» on evil[.]com»").to_string(),
            "…ran <mark>&lt;b&gt;</mark> on evil[.]com»"
        );
        assert_eq!(highlight("«open").to_string(), "<mark>open</mark>");
    }
}
