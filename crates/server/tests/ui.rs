//! The web UI over real HTTP on 127.0.0.1 (the browser test in crates/cli/tests/site_cli.rs
//! drives the same pages in chromium): sign-in with a token and its session cookie, the forms'
//! CSRF and Origin checks, TLP on every page, the feed, report, search, entity, coverage and
//! admin pages, the Atom feed, and report text escaped wherever it is shown.

mod common;

use std::time::Duration;

use common::{Answer, Server, config, example, post_json};
use ctiforge_model::Tlp;
use ctiforge_store::Role;
use serde_json::json;

/// A client that does not follow redirects, so a test sees each 303 and where it points.
fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build(),
    )
}

/// A request with a session cookie, its redirects not followed.
fn send(
    method: &str,
    url: &str,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> Answer {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if let Some(cookie) = cookie {
        all.push(("Cookie", cookie));
    }
    common::request_with(&agent(), method, url, None, &all, body)
}

fn page(server: &Server, path: &str, cookie: Option<&str>) -> Answer {
    send("GET", &server.url(path), cookie, &[], None)
}

fn form(server: &Server, path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Answer {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencoded(v)))
        .collect::<Vec<_>>()
        .join("&");
    let origin = server.base.clone();
    send(
        "POST",
        &server.url(path),
        cookie,
        &[("Origin", &origin)],
        Some(("application/x-www-form-urlencoded", body.into_bytes())),
    )
}

fn urlencoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Signs in with `token`; the session cookie as a `Cookie` header value.
fn sign_in(server: &Server, token: &str) -> String {
    let answer = form(server, "/signin", None, &[("token", token), ("next", "/")]);
    assert_eq!(answer.status, 303, "{}", answer.text());
    let cookie = answer.header("set-cookie").expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().expect("name=value").to_owned()
}

/// The CSRF secret a page's forms carry.
fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF field")
        + 19;
    html[at..at + html[at..].find('"').expect("end of value")].to_owned()
}

fn submit(server: &Server, token: &str, text: &str, tlp: &str) -> i64 {
    let answer = post_json(
        &server.url("/api/v1/reports"),
        Some(token),
        &json!({"text": text, "tlp": tlp}),
    );
    assert_eq!(answer.status, 202, "{}", answer.text());
    let job = answer.json()["job"].as_i64().expect("job");
    let done = server.wait_for_job(token, job);
    assert_eq!(done["status"], "done", "{done}");
    done["report"].as_i64().expect("report id")
}

#[test]
fn visitors_sign_in_with_a_token_and_forms_need_their_session() {
    let server = Server::start(config());
    let writer = server.token("writer", Role::Writer, Tlp::Amber);

    // Without a session every page sends the visitor to sign in, and back afterwards.
    let answer = page(&server, "/reports/1", None);
    assert_eq!(answer.status, 303);
    assert_eq!(answer.header("location"), Some("/signin?next=/reports/1"));
    let signin = page(&server, "/signin?next=/reports/1", None);
    assert_eq!(signin.status, 200);
    // (minijinja escapes `/` as `&#x2f;` in attributes)
    assert!(
        signin.text().contains("value=\"&#x2f;reports&#x2f;1\""),
        "the form keeps next"
    );

    // A wrong token, a post from another site, a next that leaves the site.
    let wrong = form(&server, "/signin", None, &[("token", "ctf_nope")]);
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.text().contains("unknown or revoked"),
        "{}",
        wrong.text()
    );
    let cross = send(
        "POST",
        &server.url("/signin"),
        None,
        &[("Origin", "https://evil.example")],
        Some((
            "application/x-www-form-urlencoded",
            format!("token={writer}").into_bytes(),
        )),
    );
    assert_eq!(cross.status, 401, "a cross-site sign-in is refused");
    let away = form(
        &server,
        "/signin",
        None,
        &[("token", &writer), ("next", "//evil.example/")],
    );
    assert_eq!(away.header("location"), Some("/"));

    let cookie = sign_in(&server, &writer);
    let feed = page(&server, "/", Some(&cookie));
    assert_eq!(feed.status, 200);
    assert!(
        feed.text().contains("writer"),
        "the header names who is signed in"
    );
    let csp = feed.header("content-security-policy").expect("a CSP");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );

    // The submit form: refused without the session's CSRF secret, accepted with it.
    let form_page = page(&server, "/submit", Some(&cookie));
    let secret = csrf(&form_page.text());
    let text = example("hospital-intrusion.md");
    let multipart = |csrf: &str| {
        let boundary = "ctiforge-test-boundary";
        let mut body = String::new();
        for (name, value) in [("csrf", csrf), ("text", text.as_str()), ("tlp", "amber")] {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        (
            format!("multipart/form-data; boundary={boundary}"),
            body.into_bytes(),
        )
    };
    let origin = server.base.clone();
    let (kind, body) = multipart("forged");
    let forged = send(
        "POST",
        &server.url("/submit"),
        Some(&cookie),
        &[("Origin", &origin)],
        Some((&kind, body)),
    );
    assert_eq!(forged.status, 403, "{}", forged.text());
    assert!(
        forged.text().contains("reload the page"),
        "{}",
        forged.text()
    );
    let (kind, body) = multipart(&secret);
    let sent = send(
        "POST",
        &server.url("/submit"),
        Some(&cookie),
        &[("Origin", &origin)],
        Some((&kind, body)),
    );
    assert_eq!(sent.status, 303, "{}", sent.text());
    let job_page = sent.header("location").expect("to the job").to_owned();
    assert!(job_page.starts_with("/jobs/"), "{job_page}");
    let job: i64 = job_page[6..].parse().expect("job id");
    let done = server.wait_for_job(&writer, job);
    let report = done["report"].as_i64().expect("report");
    // A finished job's page links to its report.
    let finished = page(&server, &job_page, Some(&cookie)).text();
    assert!(
        finished.contains(&format!("href=\"/reports/{report}\"")),
        "{finished}"
    );

    // Signing out ends the session.
    let signout = form(&server, "/signout", Some(&cookie), &[("csrf", &secret)]);
    assert_eq!(signout.status, 303);
    assert_eq!(page(&server, "/", Some(&cookie)).status, 303);
}

#[test]
fn pages_show_only_what_the_visitor_may_read_and_escape_report_text() {
    let server = Server::start(config());
    let admin = server.token("admin", Role::Admin, Tlp::Red);
    let clear_reader = server.token("public", Role::Reader, Tlp::Clear);
    let hospital = example("hospital-intrusion.md");
    let amber = submit(&server, &admin, &hospital, "amber");
    let hostile = "# Campaign <script>alert(1)</script> notes\n\nThe actor ran \
                   <img src=x onerror=alert(2)> and vssadmin delete shadows /all /quiet \
                   before contacting evil-update[.]example.";
    let clear = submit(&server, &admin, hostile, "clear");

    let admin_cookie = sign_in(&server, &admin);
    let reader_cookie = sign_in(&server, &clear_reader);

    // The feed lists what each may read.
    let feed = page(&server, "/", Some(&admin_cookie)).text();
    assert!(
        feed.contains(&format!("/reports/{amber}")) && feed.contains(&format!("/reports/{clear}"))
    );
    let limited = page(&server, "/", Some(&reader_cookie)).text();
    assert!(
        !limited.contains(&format!("/reports/{amber}")),
        "an AMBER report in a CLEAR feed"
    );
    assert!(limited.contains(&format!("/reports/{clear}")));
    let denied = page(&server, &format!("/reports/{amber}"), Some(&reader_cookie));
    assert_eq!(denied.status, 403);
    assert!(
        !denied.text().contains("LSASS"),
        "a refused page shows nothing of the report"
    );
    let atom = page(&server, "/feed.atom", Some(&reader_cookie));
    assert!(
        atom.content_type.starts_with("application/atom+xml"),
        "{}",
        atom.content_type
    );
    assert!(!atom.text().contains(&format!("/reports/{amber}")));

    // Report text is escaped in the feed, the report page and the Atom feed.
    for body in [
        limited.clone(),
        page(&server, &format!("/reports/{clear}"), Some(&reader_cookie)).text(),
        atom.text(),
    ] {
        assert!(!body.contains("<script>alert"), "unescaped script");
        assert!(!body.contains("<img src=x"), "unescaped markup");
    }

    // The report page: the sections in DESIGN.md's order, the text with sentence anchors that
    // evidence links point at.
    let report = page(&server, &format!("/reports/{amber}"), Some(&admin_cookie)).text();
    let order: Vec<usize> = [
        "id=\"summary\"",
        "id=\"exploitation\"",
        "id=\"leads\"",
        "id=\"mitigations\"",
        "id=\"techniques\"",
        "id=\"iocs\"",
        "id=\"actors\"",
        "id=\"risk\"",
        "id=\"detection\"",
        "id=\"response\"",
        "id=\"graph\"",
        "id=\"source\"",
    ]
    .iter()
    .map(|id| report.find(id).unwrap_or_else(|| panic!("no section {id}")))
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "sections out of order"
    );
    let link = report
        .find("href=\"#s-")
        .expect("an evidence link to the text")
        + 9;
    let anchor = &report[link..link + report[link..].find('"').expect("end")];
    assert!(
        report.contains(&format!("id=\"s-{anchor}\"")),
        "the link's sentence exists"
    );

    // Search: free text marks the words; a typed search finds the indicator and its sentence.
    let found = page(&server, "/search?q=LSASS", Some(&admin_cookie)).text();
    assert!(found.contains("<mark>LSASS</mark>"), "{found}");
    let hash = "3f5d8c1a9b7e2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e7b9d1f";
    let found = page(
        &server,
        &format!("/search?q=ioc%3A{hash}"),
        Some(&admin_cookie),
    )
    .text();
    assert!(
        found.contains(&format!("/reports/{amber}")),
        "the typed search finds the report"
    );
    assert!(found.contains(&format!("<mark>{hash}</mark>")), "{found}");
    let nothing = page(&server, "/search?q=LSASS", Some(&reader_cookie)).text();
    assert!(nothing.contains("Nothing found"), "search respects TLP");

    // Entity pages: facts from the knowledge base and where it was seen.
    let technique = page(&server, "/techniques/T1003.001", Some(&admin_cookie));
    assert_eq!(technique.status, 200);
    let technique = technique.text();
    assert!(
        technique.contains("LSASS Memory")
            && technique.contains("Seen in <strong>1</strong> report"),
        "{technique}"
    );
    assert_eq!(
        page(&server, "/techniques/T9999", Some(&admin_cookie)).status,
        404
    );
    let cve = page(&server, "/cves/CVE-2023-4966", Some(&admin_cookie)).text();
    assert!(
        cve.contains("listed in CISA KEV"),
        "the CVE page says it is in KEV: {cve}"
    );
    let coverage = page(&server, "/coverage", Some(&admin_cookie)).text();
    assert!(
        coverage.contains("T1003.001"),
        "coverage shows the report's techniques"
    );

    // Admin pages: admins only; a token made in the form is shown once.
    assert_eq!(
        page(&server, "/admin/tokens", Some(&reader_cookie)).status,
        403
    );
    let tokens = page(&server, "/admin/tokens", Some(&admin_cookie)).text();
    let made = form(
        &server,
        "/admin/tokens",
        Some(&admin_cookie),
        &[
            ("csrf", &csrf(&tokens)),
            ("name", "feed-bot"),
            ("role", "writer"),
            ("max_tlp", "green"),
        ],
    );
    assert_eq!(made.status, 200, "{}", made.text());
    assert!(made.text().contains("ctf_"), "the new token is shown");
}
