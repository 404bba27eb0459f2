//! Several `ctiforge serve` instances on one PostgreSQL database: a batch of 20 submissions,
//! one instance killed with -9 in the middle, the other finishes every job, none twice;
//! taxii2-client walks TAXII on PostgreSQL; `ctiforge migrate` copies an SQLite store into
//! PostgreSQL. They need `CTIFORGE_TEST_PG_SERVER` (a server URL, `postgres://USER@HOST:PORT`,
//! as `.ci/postgres.sh start` prints it) and `psql`; each test makes a fresh database of its own
//! there. Under `CI` they fail rather than skip.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::ctiforge;
use common::service::{Service, call, job, report, token};
use serde_json::{Value, json};

fn server() -> Option<String> {
    match std::env::var("CTIFORGE_TEST_PG_SERVER") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the PostgreSQL tests: set CTIFORGE_TEST_PG_SERVER (.ci/run does)"
            );
            skip!("SKIPPED: set CTIFORGE_TEST_PG_SERVER to a PostgreSQL server URL");
            None
        }
    }
}

/// A fresh, empty database on `server` for one test (any leftover of an earlier run dropped).
fn fresh_database(server: &str, name: &str) -> String {
    let name = format!("{name}_{}", std::process::id());
    let output = Command::new("psql")
        .arg(format!("{server}/postgres"))
        .args(["-qAt", "-v", "ON_ERROR_STOP=1"])
        .args(["-c", "SET client_min_messages = warning"])
        .args(["-c", &format!("DROP DATABASE IF EXISTS {name}")])
        .args(["-c", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("psql runs (apt-get install postgresql-client)");
    common::assert_succeeded(&output, "psql creates the test database");
    format!("{server}/{name}")
}

fn wait_all_done(service: &Service, token: &str, jobs: &[i64], seconds: u64) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let states: Vec<Value> = jobs.iter().map(|id| job(service, token, *id)).collect();
        if states
            .iter()
            .all(|j| j["status"] == "done" || j["status"] == "failed")
        {
            return states;
        }
        assert!(
            started.elapsed() < Duration::from_secs(seconds),
            "jobs never finished: {states:?}\n{}",
            service.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn two_instances_share_the_work_and_survive_one_killed() {
    let Some(server) = server() else { return };
    let db = fresh_database(&server, "ctiforge_multi");
    let dir = tempfile::tempdir().expect("tempdir");
    let admin = token(&db, "admin", "admin");
    let a = Service::start(&db, &["--lease", "4"], &dir.path().join("a.log"));
    let b = Service::start(&db, &["--lease", "4"], &dir.path().join("b.log"));
    let mut jobs = Vec::new();
    for n in 0..20 {
        let target = if n % 2 == 0 { &a } else { &b };
        let (status, body) = call(
            "POST",
            &target.url("/api/v1/reports"),
            &admin,
            Some(&json!({"text": report(200 + n)})),
        );
        assert_eq!(status, 202, "{body}");
        jobs.push(body["job"].as_i64().expect("job"));
    }
    let started = Instant::now();
    loop {
        let done = jobs
            .iter()
            .filter(|id| job(&b, &admin, **id)["status"] == "done")
            .count();
        if done >= 3 {
            assert!(done < jobs.len(), "the batch finished before the kill");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{}", a.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut a = a;
    a.child.kill().expect("kill -9");
    a.child.wait().expect("reaped");
    let a_log = a.log();
    drop(a);

    let states = wait_all_done(&b, &admin, &jobs, 240);
    for state in &states {
        assert_eq!(state["status"], "done", "{state}");
        assert!(
            state["attempts"].as_u64().is_some_and(|n| n <= 2),
            "{state}"
        );
    }
    let mut reports: Vec<i64> = states.iter().filter_map(|j| j["report"].as_i64()).collect();
    reports.sort_unstable();
    reports.dedup();
    assert_eq!(reports.len(), jobs.len(), "one report per job");
    let (_, list) = call("GET", &b.url("/api/v1/reports?limit=100"), &admin, None);
    assert_eq!(list["reports"].as_array().map(Vec::len), Some(jobs.len()));
    // Both instances worked (each instance logs the jobs it analysed).
    assert!(
        a_log.contains("analysing"),
        "instance A took no job:\n{a_log}"
    );
    assert!(b.log().contains("analysing"), "instance B took no job");
    let (_, health) = call("GET", &b.url("/healthz"), &admin, None);
    assert_eq!(health["store"], "postgres");
}

#[test]
fn taxii2_client_walks_taxii_on_postgres() {
    let Some(server) = server() else { return };
    let Some(python) = std::env::var_os("CTIFORGE_INTEROP_PYTHON") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run taxii2-client"
        );
        skip!("SKIPPED taxii2-client: set CTIFORGE_INTEROP_PYTHON (.ci/run does)");
        return;
    };
    let db = fresh_database(&server, "ctiforge_taxii");
    let dir = tempfile::tempdir().expect("tempdir");
    let admin = token(&db, "admin", "admin");
    let writer = token(&db, "writer", "writer");
    let service = Service::start(&db, &[], &dir.path().join("serve.log"));
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/reports/hospital-intrusion.md");
    let text = std::fs::read_to_string(example).expect("example");
    let (_, body) = call(
        "POST",
        &service.url("/api/v1/reports"),
        &admin,
        Some(&json!({"text": text, "tlp": "green"})),
    );
    wait_all_done(&service, &admin, &[body["job"].as_i64().expect("job")], 120);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/taxii_client.py");
    let output = Command::new(python)
        .arg(script)
        .arg(service.url("/taxii2/"))
        .arg(&writer)
        .output()
        .expect("python runs");
    common::assert_succeeded(&output, "taxii2-client on PostgreSQL");
}

#[test]
fn migrate_copies_an_sqlite_store_into_postgres() {
    let Some(server) = server() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!("sqlite://{}", dir.path().join("store.db").display());
    let admin = token(&sqlite, "admin", "admin");
    let service = Service::start(&sqlite, &[], &dir.path().join("sqlite.log"));
    let mut jobs = Vec::new();
    for n in 0..3 {
        let (_, body) = call(
            "POST",
            &service.url("/api/v1/reports"),
            &admin,
            Some(&json!({"text": report(300 + n), "tlp": "green"})),
        );
        jobs.push(body["job"].as_i64().expect("job"));
    }
    wait_all_done(&service, &admin, &jobs, 120);
    let (_, before) = call("GET", &service.url("/api/v1/reports?q=LSASS"), &admin, None);
    drop(service);

    let postgres = fresh_database(&server, "ctiforge_migrate");
    let output = ctiforge(&["migrate", "--from", &sqlite, "--db", &postgres]);
    common::assert_succeeded(&output, "ctiforge migrate");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("reports: 3"), "{stderr}");
    // A second migration into the same database is refused: it holds a store already.
    let again = ctiforge(&["migrate", "--from", &sqlite, "--db", &postgres]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    // The same token, reports, search and TAXII objects, now on PostgreSQL.
    let migrated = Service::start(&postgres, &[], &dir.path().join("postgres.log"));
    let (status, after) = call(
        "GET",
        &migrated.url("/api/v1/reports?q=LSASS"),
        &admin,
        None,
    );
    assert_eq!(status, 200, "{after}");
    let ids = |v: &Value| -> Vec<i64> {
        v["reports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_i64())
            .collect()
    };
    assert_eq!(ids(&after), ids(&before));
    assert_eq!(ids(&after).len(), 3);
    let (_, analysis) = call(
        "GET",
        &migrated.url(&format!("/api/v1/reports/{}", ids(&after)[0])),
        &admin,
        None,
    );
    assert_eq!(analysis["schema"], "ctiforge.analysis/1");
    // New rows get new ids after the copied ones.
    let (_, body) = call(
        "POST",
        &migrated.url("/api/v1/reports"),
        &admin,
        Some(&json!({"text": report(399)})),
    );
    let done = wait_all_done(
        &migrated,
        &admin,
        &[body["job"].as_i64().expect("job")],
        120,
    );
    assert!(
        done[0]["report"].as_i64().is_some_and(|id| id > 3),
        "{done:?}"
    );
}
