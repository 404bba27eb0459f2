//! The REST API over real HTTP on 127.0.0.1, against a real SQLite file: submissions (text,
//! upload, URL), jobs, reports and every output, search and paging, "seen in N reports", TLP
//! access, and each kind of bad request answered with the right 4xx and a problem document.

mod common;

use common::{Server, config, example, get, post_json, request};
use ctiforge_model::Tlp;
use ctiforge_store::Role;
use serde_json::{Value, json};

fn submit_text(server: &Server, token: &str, text: &str, tlp: &str) -> i64 {
    let answer = post_json(
        &server.url("/api/v1/reports"),
        Some(token),
        &json!({"text": text, "tlp": tlp}),
    );
    assert_eq!(answer.status, 202, "{}", answer.text());
    assert!(
        answer
            .header("location")
            .is_some_and(|l| l.starts_with("/api/v1/jobs/"))
    );
    answer.json()["job"].as_i64().expect("job id")
}

fn problem(answer: &common::Answer, status: u16, words: &str) {
    assert_eq!(answer.status, status, "{}", answer.text());
    assert_eq!(
        answer.content_type,
        "application/problem+json",
        "{}",
        answer.text()
    );
    let body = answer.json();
    assert_eq!(body["status"], status);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(words), "{detail:?} should say {words:?}");
}

#[test]
fn reports_go_in_as_jobs_and_come_out_with_every_output() {
    let server = Server::start(config());
    let writer = server.token("writer", Role::Writer, Tlp::Amber);
    let reader = server.token("reader", Role::Reader, Tlp::Green);

    // Unauthenticated: health and the API description only.
    assert_eq!(get(&server.url("/healthz"), None).0, 200);
    let (status, openapi) = get(&server.url("/api/v1/openapi.json"), None);
    assert_eq!((status, openapi["openapi"].as_str()), (200, Some("3.1.0")));
    problem(
        &request("GET", &server.url("/api/v1/reports"), None, &[], None),
        401,
        "Bearer",
    );

    // A report as text, and the same text again: recognised.
    let text = example("hospital-intrusion.md");
    let job = submit_text(&server, &writer, &text, "green");
    let done = server.wait_for_job(&writer, job);
    assert_eq!(done["status"], "done", "{done}");
    let id = done["report"].as_i64().expect("report");
    let again = post_json(
        &server.url("/api/v1/reports"),
        Some(&writer),
        &json!({"text": text, "tlp": "green"}),
    );
    assert_eq!(again.status, 202);
    assert_eq!(
        (
            again.json()["status"].as_str(),
            again.json()["report"].as_i64()
        ),
        (Some("done"), Some(id))
    );

    // The Analysis and every output.
    let (status, analysis) = get(&server.url(&format!("/api/v1/reports/{id}")), Some(&reader));
    assert_eq!(status, 200);
    assert_eq!(analysis["schema"], "ctiforge.analysis/1");
    assert_eq!(analysis["report"]["tlp"], "green");
    assert!(
        analysis["techniques"]
            .as_array()
            .is_some_and(|t| t.len() > 5)
    );
    for (output, content_type, must_contain) in [
        (
            "bundle",
            "application/stix+json;version=2.1",
            "\"type\": \"bundle\"",
        ),
        ("markdown", "text/markdown; charset=utf-8", "## Summary"),
        ("html", "text/html; charset=utf-8", "<svg id=\"graph-svg\""),
        ("sigma", "application/yaml; charset=utf-8", "detection:"),
        ("navigator", "application/json", "\"techniques\""),
        ("misp", "application/json", "\"Event\""),
        ("text", "text/plain; charset=utf-8", "LSASS"),
    ] {
        let answer = request(
            "GET",
            &server.url(&format!("/api/v1/reports/{id}/{output}")),
            Some(&reader),
            &[],
            None,
        );
        assert_eq!(answer.status, 200, "{output}: {}", answer.text());
        assert_eq!(answer.content_type, content_type, "{output}");
        assert!(
            answer.text().contains(must_contain),
            "{output} lacks {must_contain:?}"
        );
    }
    let (status, queries) = get(
        &server.url(&format!("/api/v1/reports/{id}/queries/splunk")),
        Some(&reader),
    );
    assert_eq!(status, 200);
    assert!(
        queries["queries"].as_array().is_some_and(|q| !q.is_empty()),
        "{queries}"
    );
    problem(
        &request(
            "GET",
            &server.url(&format!("/api/v1/reports/{id}/queries/arcsight")),
            Some(&reader),
            &[],
            None,
        ),
        404,
        "choose one of splunk",
    );

    // An upload of a Markdown file, and a second text, for search and paging.
    let boundary = "ctiforge-test-boundary";
    let advisory = example("iomt-cloud-ai-advisory.md");
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"tlp\"\r\n\r\nclear\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"advisory.md\"\r\nContent-Type: text/markdown\r\n\r\n{advisory}\r\n--{boundary}--\r\n"
    );
    let answer = request(
        "POST",
        &server.url("/api/v1/reports"),
        Some(&writer),
        &[],
        Some((
            &format!("multipart/form-data; boundary={boundary}"),
            body.into_bytes(),
        )),
    );
    assert_eq!(answer.status, 202, "{}", answer.text());
    let upload = server.wait_for_job(&writer, answer.json()["job"].as_i64().expect("job"));
    assert_eq!(upload["status"], "done", "{upload}");
    let uploaded = upload["report"].as_i64().expect("report");
    let (_, uploaded_analysis) = get(
        &server.url(&format!("/api/v1/reports/{uploaded}")),
        Some(&reader),
    );
    assert_eq!(uploaded_analysis["report"]["media_type"], "text/markdown");
    assert!(
        uploaded_analysis["report"]["title"]
            .as_str()
            .is_some_and(|t| t.contains("infusion pump"))
    );

    // A URL on a private address: the job fails and says why.
    let answer = post_json(
        &server.url("/api/v1/reports"),
        Some(&writer),
        &json!({"url": "http://127.0.0.1:9/report"}),
    );
    assert_eq!(answer.status, 202);
    let refused = server.wait_for_job(&writer, answer.json()["job"].as_i64().expect("job"));
    assert_eq!(refused["status"], "failed");
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("loopback")),
        "{refused}"
    );

    // Listing, newest first, with filters and paging.
    let (_, all) = get(&server.url("/api/v1/reports"), Some(&reader));
    let ids: Vec<i64> = all["reports"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["id"].as_i64())
        .collect();
    assert_eq!(ids, [uploaded, id]);
    let (_, first) = get(&server.url("/api/v1/reports?limit=1"), Some(&reader));
    let next = first["next"].as_str().expect("a next cursor").to_owned();
    let (_, second) = get(
        &server.url(&format!("/api/v1/reports?limit=1&next={next}")),
        Some(&reader),
    );
    assert_eq!(second["reports"][0]["id"], id);
    assert!(second["next"].is_null());
    for (query, expected) in [
        ("technique=T1003", vec![id]),
        ("technique=t1562", vec![uploaded]),
        ("cve=cve-2023-4966", vec![id]),
        ("q=infusion%20pumps", vec![uploaded]),
        ("actor=nobody-at-all", vec![]),
        ("tlp=green", vec![id]),
    ] {
        let (status, found) = get(
            &server.url(&format!("/api/v1/reports?{query}")),
            Some(&reader),
        );
        assert_eq!(status, 200, "{query}: {found}");
        let got: Vec<i64> = found["reports"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|r| r["id"].as_i64())
            .collect();
        assert_eq!(got, expected, "{query}");
    }
    let (_, found) = get(&server.url("/api/v1/reports?q=LSASS"), Some(&reader));
    assert!(
        found["reports"][0]["snippet"]
            .as_str()
            .is_some_and(|s| s.contains("«LSASS»")),
        "{found}"
    );

    // Seen in N reports.
    let (status, seen) = get(&server.url("/api/v1/seen/technique/T1486"), Some(&reader));
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["count"], 1);
    assert!(
        seen["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("seen in 1 report since 20")),
        "{seen}"
    );
    let (status, coverage) = get(
        &server.url("/api/v1/coverage?format=navigator"),
        Some(&reader),
    );
    assert_eq!(status, 200);
    assert_eq!(coverage["domain"], "enterprise-attack");

    // TLP: an AMBER report is the writer's to read, not the GREEN reader's.
    let job = submit_text(
        &server,
        &writer,
        "The actor used Mimikatz against a bank (amber details).",
        "amber",
    );
    let amber = server.wait_for_job(&writer, job)["report"]
        .as_i64()
        .expect("report");
    problem(
        &request(
            "GET",
            &server.url(&format!("/api/v1/reports/{amber}")),
            Some(&reader),
            &[],
            None,
        ),
        403,
        "TLP:AMBER",
    );
    assert_eq!(
        get(
            &server.url(&format!("/api/v1/reports/{amber}")),
            Some(&writer)
        )
        .0,
        200
    );
    let (_, listed) = get(&server.url("/api/v1/reports"), Some(&reader));
    assert!(
        !listed["reports"]
            .as_array()
            .expect("list")
            .iter()
            .any(|r| r["id"] == amber)
    );
    problem(
        &post_json(
            &server.url("/api/v1/reports"),
            Some(&writer),
            &json!({"text": "x", "tlp": "red"}),
        ),
        403,
        "may submit up to TLP:AMBER",
    );
}

/// Sends only the head of a POST that announces `length` bytes, and reads the answer.
fn oversize(server: &Server, token: &str, length: usize) -> String {
    use std::io::{Read, Write};
    let address = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    let head = format!(
        "POST /api/v1/reports HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    let mut answer = vec![0u8; 4096];
    let n = stream.read(&mut answer).expect("read");
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[test]
fn bad_requests_get_the_right_4xx_with_a_reason() {
    let server = Server::start(config());
    let writer = server.token("writer", Role::Writer, Tlp::Amber);
    let reader = server.token("reader", Role::Reader, Tlp::Amber);
    let admin = server.token("admin", Role::Admin, Tlp::Red);
    let reports = server.url("/api/v1/reports");

    problem(
        &request(
            "POST",
            &reports,
            Some(&writer),
            &[],
            Some(("application/json", b"{not json".to_vec())),
        ),
        400,
        "not a submission",
    );
    problem(
        &post_json(
            &reports,
            Some(&writer),
            &json!({"text": "a", "url": "https://x.org"}),
        ),
        400,
        "not both",
    );
    problem(
        &post_json(&reports, Some(&writer), &json!({})),
        400,
        "give the report",
    );
    problem(
        &post_json(&reports, Some(&writer), &json!({"text": "   "})),
        400,
        "empty",
    );
    problem(
        &post_json(&reports, Some(&writer), &json!({"url": "ftp://x.org/a"})),
        400,
        "not an http(s) URL",
    );
    problem(
        &post_json(
            &reports,
            Some(&writer),
            &json!({"text": "a", "tlp": "purple"}),
        ),
        400,
        "clear, green",
    );
    problem(
        &post_json(
            &reports,
            Some(&writer),
            &json!({"text": "a", "colour": "red"}),
        ),
        400,
        "unknown field",
    );
    problem(
        &request(
            "POST",
            &reports,
            Some(&writer),
            &[],
            Some(("text/plain", b"hello".to_vec())),
        ),
        415,
        "application/json",
    );
    problem(
        &request(
            "POST",
            &reports,
            Some(&writer),
            &[],
            Some((
                "multipart/form-data; boundary=x",
                b"--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nn\r\n--x--\r\n"
                    .to_vec(),
            )),
        ),
        400,
        "no field `file`",
    );
    problem(
        &post_json(&reports, Some(&reader), &json!({"text": "a"})),
        403,
        "writer token",
    );
    problem(
        &post_json(
            &reports,
            Some("ctf_not-a-real-token"),
            &json!({"text": "a"}),
        ),
        401,
        "unknown or revoked",
    );

    // A body over the limit is refused from its Content-Length, before it is read.
    let answer = oversize(&server, &writer, 60 * 1024 * 1024);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Unknown ids, bad paging.
    problem(
        &request(
            "GET",
            &server.url("/api/v1/reports/999"),
            Some(&reader),
            &[],
            None,
        ),
        404,
        "no report 999",
    );
    problem(
        &request(
            "GET",
            &server.url("/api/v1/reports/abc"),
            Some(&reader),
            &[],
            None,
        ),
        404,
        "positive numbers",
    );
    problem(
        &request(
            "GET",
            &server.url("/api/v1/jobs/77"),
            Some(&reader),
            &[],
            None,
        ),
        404,
        "no job 77",
    );
    problem(
        &request(
            "GET",
            &server.url("/api/v1/reports?next=garbage"),
            Some(&reader),
            &[],
            None,
        ),
        400,
        "cursor",
    );
    problem(
        &request(
            "GET",
            &server.url("/api/v1/reports?limit=0"),
            Some(&reader),
            &[],
            None,
        ),
        400,
        "`limit`",
    );
    problem(
        &request(
            "GET",
            &server.url("/api/v1/reports?since=yesterday"),
            Some(&reader),
            &[],
            None,
        ),
        400,
        "not a date",
    );
    problem(
        &request(
            "GET",
            &server.url("/api/v1/seen/colour/red"),
            Some(&reader),
            &[],
            None,
        ),
        404,
        "choose ioc",
    );

    // Roles: a reader cannot delete or manage; a revoked token stops working.
    let job = submit_text(
        &server,
        &writer,
        "The actor ran vssadmin delete shadows /all /quiet.",
        "clear",
    );
    let report = server.wait_for_job(&writer, job)["report"]
        .as_i64()
        .expect("report");
    problem(
        &request(
            "DELETE",
            &server.url(&format!("/api/v1/reports/{report}")),
            Some(&reader),
            &[],
            None,
        ),
        403,
        "admin token",
    );
    problem(
        &request(
            "GET",
            &server.url("/api/v1/tokens"),
            Some(&writer),
            &[],
            None,
        ),
        403,
        "admin token",
    );
    problem(
        &request(
            "GET",
            &server.url(&format!("/api/v1/reports/{report}/pdf")),
            Some(&reader),
            &[],
            None,
        ),
        404,
        "choose bundle",
    );
    let created = post_json(
        &server.url("/api/v1/tokens"),
        Some(&admin),
        &json!({"name": "temp", "role": "reader"}),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let temp = created.json()["token"].as_str().expect("secret").to_owned();
    assert_eq!(get(&server.url("/api/v1/reports"), Some(&temp)).0, 200);
    assert_eq!(
        request(
            "DELETE",
            &server.url("/api/v1/tokens/temp"),
            Some(&admin),
            &[],
            None
        )
        .status,
        204
    );
    problem(
        &request(
            "GET",
            &server.url("/api/v1/reports"),
            Some(&temp),
            &[],
            None,
        ),
        401,
        "revoked",
    );
    problem(
        &post_json(
            &server.url("/api/v1/tokens"),
            Some(&admin),
            &json!({"name": "temp", "role": "reader"}),
        ),
        409,
        "already exists",
    );

    // An admin deletes and re-analyses.
    let answer = request(
        "POST",
        &server.url(&format!("/api/v1/reports/{report}/reanalyze")),
        Some(&admin),
        &[],
        None,
    );
    assert_eq!(answer.status, 202, "{}", answer.text());
    let rerun = server.wait_for_job(&admin, answer.json()["job"].as_i64().expect("job"));
    assert_eq!(
        (rerun["status"].as_str(), rerun["report"].as_i64()),
        (Some("done"), Some(report)),
        "{rerun}"
    );
    assert_eq!(
        request(
            "DELETE",
            &server.url(&format!("/api/v1/reports/{report}")),
            Some(&admin),
            &[],
            None
        )
        .status,
        204
    );
    assert_eq!(
        get(
            &server.url(&format!("/api/v1/reports/{report}")),
            Some(&admin)
        )
        .0,
        404
    );
}

#[test]
fn anonymous_reading_opens_tlp_clear_only() {
    let mut settings = config();
    settings.anonymous_read = true;
    let server = Server::start(settings);
    let writer = server.token("writer", Role::Writer, Tlp::Amber);
    let clear = submit_text(
        &server,
        &writer,
        "The actor ran whoami and net group \"domain admins\" /domain.",
        "clear",
    );
    let green = submit_text(
        &server,
        &writer,
        "The actor ran nltest /dclist and AdFind.",
        "green",
    );
    let clear = server.wait_for_job(&writer, clear)["report"]
        .as_i64()
        .expect("report");
    let green = server.wait_for_job(&writer, green)["report"]
        .as_i64()
        .expect("report");
    let (status, list) = get(&server.url("/api/v1/reports"), None);
    assert_eq!(status, 200);
    let ids: Vec<Value> = list["reports"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids, [json!(clear)]);
    assert_eq!(
        get(&server.url(&format!("/api/v1/reports/{green}")), None).0,
        403
    );
    problem(
        &post_json(&server.url("/api/v1/reports"), None, &json!({"text": "x"})),
        401,
        "writer token",
    );
    // A wrong token is still refused, so its owner learns it.
    assert_eq!(
        get(&server.url("/api/v1/reports"), Some("ctf_wrong")).0,
        401
    );
}
