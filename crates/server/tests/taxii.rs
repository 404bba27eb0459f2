//! TAXII 2.1 over real HTTP: discovery, API root, collections by TLP, objects with filters and
//! paging (page size 1 and 2, objects added while paging), object by id, versions, manifest,
//! adding objects with a status resource, and the protocol's errors (401 with a Basic
//! challenge, 403, 404, 406, 415).

mod common;

use base64::Engine;
use common::{Answer, Server, config, example, post_json, request};
use ctiforge_model::Tlp;
use ctiforge_store::Role;
use serde_json::{Value, json};

const TAXII: &str = "application/taxii+json;version=2.1";
const ALL: &str = "9a3c7e52-0d4b-4f6e-8a1c-2b5d7f901a01";
const GREEN: &str = "9a3c7e52-0d4b-4f6e-8a1c-2b5d7f901a03";
const RED: &str = "9a3c7e52-0d4b-4f6e-8a1c-2b5d7f901a06";

/// A TAXII GET with HTTP Basic (any user, the token as password), as TAXII clients send it.
fn taxii_get(server: &Server, path: &str, token: &str) -> Answer {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("analyst:{token}"));
    request(
        "GET",
        &server.url(path),
        None,
        &[
            ("Accept", TAXII),
            ("Authorization", &format!("Basic {basic}")),
        ],
        None,
    )
}

fn ok(answer: &Answer) -> Value {
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.content_type, TAXII);
    answer.json()
}

fn analysed(server: &Server, token: &str, text: &str, tlp: &str) -> i64 {
    let answer = post_json(
        &server.url("/api/v1/reports"),
        Some(token),
        &json!({"text": text, "tlp": tlp}),
    );
    assert_eq!(answer.status, 202, "{}", answer.text());
    let job = server.wait_for_job(token, answer.json()["job"].as_i64().expect("job"));
    assert_eq!(job["status"], "done", "{job}");
    job["report"].as_i64().expect("report")
}

/// Every object of a collection, `page` at a time, following `next`.
fn walk(
    server: &Server,
    token: &str,
    collection: &str,
    page: usize,
    query: &str,
) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("/taxii2/api/collections/{collection}/objects/?limit={page}{query}");
        if let Some(next) = &next {
            path.push_str(&format!("&next={next}"));
        }
        let answer = taxii_get(server, &path, token);
        let body = ok(&answer);
        pages += 1;
        let objects = body["objects"].as_array().cloned().unwrap_or_default();
        assert!(
            objects.len() <= page,
            "page of {} for limit {page}",
            objects.len()
        );
        if !objects.is_empty() {
            assert!(answer.header("x-taxii-date-added-first").is_some());
            assert!(answer.header("x-taxii-date-added-last").is_some());
        }
        ids.extend(
            objects
                .iter()
                .filter_map(|o| o["id"].as_str().map(str::to_owned)),
        );
        match body["next"].as_str() {
            Some(n) if body["more"] == true => next = Some(n.to_owned()),
            _ => break,
        }
    }
    (ids, pages)
}

#[test]
fn taxii_serves_collections_objects_versions_and_manifests() {
    let server = Server::start(config());
    let writer = server.token("writer", Role::Writer, Tlp::Amber);
    let reader = server.token("reader", Role::Reader, Tlp::Green);
    let admin = server.token("admin", Role::Admin, Tlp::Red);
    analysed(&server, &writer, &example("hospital-intrusion.md"), "green");

    let discovery = ok(&taxii_get(&server, "/taxii2/", &reader));
    let root = discovery["default"].as_str().expect("default root");
    assert_eq!(root, format!("{}/taxii2/api/", server.base));
    let api = ok(&taxii_get(&server, "/taxii2/api/", &reader));
    assert_eq!(api["versions"], json!([TAXII]));

    // A GREEN reader sees All, CLEAR and GREEN; an admin all six.
    let listed = ok(&taxii_get(&server, "/taxii2/api/collections/", &reader));
    let titles: Vec<&str> = listed["collections"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        ["All reports", "TLP:CLEAR reports", "TLP:GREEN reports"]
    );
    assert_eq!(
        ok(&taxii_get(&server, "/taxii2/api/collections/", &admin))["collections"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    let red = taxii_get(
        &server,
        &format!("/taxii2/api/collections/{RED}/objects/"),
        &reader,
    );
    assert_eq!(red.status, 403, "{}", red.text());
    assert_eq!(red.content_type, TAXII);
    assert_eq!(red.json()["http_status"], "403");

    // Paging by 1 and by 2 gives the same objects, each once.
    let (all, _) = walk(&server, &reader, GREEN, 1000, "");
    assert!(all.len() > 20, "{}", all.len());
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len(), "no object twice");
    let (by_two, pages) = walk(&server, &reader, GREEN, 2, "");
    assert_eq!(by_two, all);
    assert_eq!(pages, all.len().div_ceil(2));
    let (first_ten, _) = walk(&server, &reader, ALL, 1, "&match[type]=indicator");
    assert!(
        first_ten.iter().all(|id| id.starts_with("indicator--")),
        "{first_ten:?}"
    );

    // Objects added while a client pages are seen once, after what it had.
    let first = taxii_get(
        &server,
        &format!("/taxii2/api/collections/{GREEN}/objects/?limit=3"),
        &reader,
    );
    let first = ok(&first);
    let next = first["next"].as_str().expect("next").to_owned();
    let posted = json!({"objects": [{
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
        "name": "Posted while paging", "pattern": "[domain-name:value = 'evil.test']",
        "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z"
    }, {"type": "malware", "id": "not-an-id"}]});
    let answer = request(
        "POST",
        &server.url(&format!("/taxii2/api/collections/{GREEN}/objects/")),
        Some(&writer),
        &[("Accept", TAXII)],
        Some((TAXII, posted.to_string().into_bytes())),
    );
    assert_eq!(answer.status, 202, "{}", answer.text());
    let status = answer.json();
    assert_eq!(
        (
            status["success_count"].as_u64(),
            status["failure_count"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert!(
        status["failures"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("TYPE--UUID")),
        "{status}"
    );
    let status_id = status["id"].as_str().expect("status id");
    let polled = ok(&taxii_get(
        &server,
        &format!("/taxii2/api/status/{status_id}/"),
        &reader,
    ));
    assert_eq!(polled["status"], "complete");
    let mut rest = Vec::new();
    let mut cursor = Some(next);
    while let Some(next) = cursor {
        let body = ok(&taxii_get(
            &server,
            &format!("/taxii2/api/collections/{GREEN}/objects/?limit=50&next={next}"),
            &reader,
        ));
        rest.extend(
            body["objects"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| o["id"].as_str().map(str::to_owned)),
        );
        cursor = body["next"]
            .as_str()
            .filter(|_| body["more"] == true)
            .map(str::to_owned);
    }
    assert_eq!(
        rest.len(),
        all.len() - 3 + 1,
        "the posted object once, at the end"
    );
    assert_eq!(
        rest.last().map(String::as_str),
        Some("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
    );

    // A changed object is a new version; the object endpoint gives the last, versions both.
    let mut changed = posted["objects"][0].clone();
    changed["name"] = json!("Renamed");
    changed["modified"] = json!("2026-11-02T00:00:00.000Z");
    let answer = request(
        "POST",
        &server.url(&format!("/taxii2/api/collections/{GREEN}/objects/")),
        Some(&writer),
        &[("Accept", TAXII)],
        Some((
            TAXII,
            json!({"objects": [changed]}).to_string().into_bytes(),
        )),
    );
    assert_eq!(answer.status, 202);
    let object = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    let one = ok(&taxii_get(
        &server,
        &format!("/taxii2/api/collections/{GREEN}/objects/{object}/"),
        &reader,
    ));
    assert_eq!(one["objects"][0]["name"], "Renamed");
    let versions = ok(&taxii_get(
        &server,
        &format!("/taxii2/api/collections/{GREEN}/objects/{object}/versions/"),
        &reader,
    ));
    assert_eq!(
        versions["versions"],
        json!(["2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z"])
    );
    let first_version = ok(&taxii_get(
        &server,
        &format!("/taxii2/api/collections/{GREEN}/objects/{object}/?match[version]=first"),
        &reader,
    ));
    assert_eq!(first_version["objects"][0]["name"], "Posted while paging");
    let manifest = ok(&taxii_get(
        &server,
        &format!("/taxii2/api/collections/{GREEN}/manifest/?match[id]={object}&match[version]=all"),
        &reader,
    ));
    assert_eq!(manifest["objects"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        manifest["objects"][0]["media_type"],
        "application/stix+json;version=2.1"
    );
    let missing = taxii_get(
        &server,
        &format!(
            "/taxii2/api/collections/{GREEN}/objects/indicator--00000000-0000-4000-8000-000000000000/"
        ),
        &reader,
    );
    assert_eq!(missing.status, 404);

    // The protocol's errors.
    let anonymous = request(
        "GET",
        &server.url("/taxii2/"),
        None,
        &[("Accept", TAXII)],
        None,
    );
    assert_eq!(anonymous.status, 401);
    assert!(
        anonymous
            .header("www-authenticate")
            .is_some_and(|c| c.starts_with("Basic"))
    );
    let wrong_accept = request(
        "GET",
        &server.url("/taxii2/api/collections/"),
        Some(&reader),
        &[("Accept", "application/taxii+json;version=2.0")],
        None,
    );
    assert_eq!(wrong_accept.status, 406);
    let wrong_type = request(
        "POST",
        &server.url(&format!("/taxii2/api/collections/{GREEN}/objects/")),
        Some(&writer),
        &[("Accept", TAXII)],
        Some(("application/json", b"{}".to_vec())),
    );
    assert_eq!(wrong_type.status, 415);
    let readers_write = request(
        "POST",
        &server.url(&format!("/taxii2/api/collections/{GREEN}/objects/")),
        Some(&reader),
        &[("Accept", TAXII)],
        Some((TAXII, b"{\"objects\": []}".to_vec())),
    );
    assert_eq!(readers_write.status, 403);
    let to_all = request(
        "POST",
        &server.url(&format!("/taxii2/api/collections/{ALL}/objects/")),
        Some(&writer),
        &[("Accept", TAXII)],
        Some((TAXII, b"{\"objects\": []}".to_vec())),
    );
    assert_eq!(to_all.status, 403);
    let not_envelope = request(
        "POST",
        &server.url(&format!("/taxii2/api/collections/{GREEN}/objects/")),
        Some(&writer),
        &[("Accept", TAXII)],
        Some((TAXII, b"[1, 2]".to_vec())),
    );
    assert_eq!(not_envelope.status, 400);
    assert_eq!(
        taxii_get(&server, "/taxii2/api/collections/nope/", &reader).status,
        404
    );
    assert_eq!(
        taxii_get(
            &server,
            &format!("/taxii2/api/collections/{GREEN}/objects/?next=garbage"),
            &reader
        )
        .status,
        400
    );
}
