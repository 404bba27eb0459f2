//! `ctiforge serve` and `ctiforge token` as processes: a token made on a fresh database before
//! the first start; `listening on http://ADDR` once ready; a `kill -9` while jobs are queued and
//! running loses nothing (a restart finishes every acknowledged job, none twice); SIGTERM stops
//! cleanly and puts unfinished jobs back; taxii2-client (PyPI) walks the TAXII server.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::ctiforge;
use common::service::{Service, call, job, report, token};
use serde_json::{Value, json};

#[test]
fn a_killed_server_loses_no_acknowledged_job_and_runs_none_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("store.db").display());
    // Tokens work on a fresh database, before any start.
    let admin = token(&db, "admin", "admin");
    let listed = ctiforge(&["token", "list", "--db", &db]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("admin"),
        "{listed:?}"
    );

    let first = Service::start(&db, &["--lease", "4"], &dir.path().join("first.log"));
    let mut jobs = Vec::new();
    for n in 0..12 {
        let (status, body) = call(
            "POST",
            &first.url("/api/v1/reports"),
            &admin,
            Some(&json!({"text": report(n)})),
        );
        assert_eq!(status, 202, "{body}");
        jobs.push(body["job"].as_i64().expect("job"));
    }
    // Kill it while some jobs are done, one is running and others wait.
    let started = Instant::now();
    loop {
        let done = jobs
            .iter()
            .filter(|id| job(&first, &admin, **id)["status"] == "done")
            .count();
        if done >= 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no job finished: {}",
            first.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut first = first;
    first.child.kill().expect("kill -9");
    first.child.wait().expect("reaped");
    drop(first);
    // What the killed server left: the restart must finish it.
    let unfinished = {
        let store = tokio_free_job_states(&db, &jobs);
        store.iter().filter(|s| s.as_str() != "done").count()
    };
    assert!(
        unfinished > 0,
        "every job finished before the kill; the test proves nothing"
    );

    let second = Service::start(&db, &["--lease", "4"], &dir.path().join("second.log"));
    let started = Instant::now();
    let finished: Vec<Value> = loop {
        let states: Vec<Value> = jobs.iter().map(|id| job(&second, &admin, *id)).collect();
        if states
            .iter()
            .all(|j| j["status"] == "done" || j["status"] == "failed")
        {
            break states;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "jobs never finished after the restart: {states:?}\n{}",
            second.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    for state in &finished {
        assert_eq!(state["status"], "done", "{state}");
        assert!(
            state["attempts"].as_u64().is_some_and(|a| a <= 2),
            "{state}"
        );
    }
    // One report per job, none twice.
    let mut reports: Vec<i64> = finished
        .iter()
        .filter_map(|j| j["report"].as_i64())
        .collect();
    reports.sort_unstable();
    reports.dedup();
    assert_eq!(reports.len(), jobs.len());
    let (_, list) = call(
        "GET",
        &second.url("/api/v1/reports?limit=100"),
        &admin,
        None,
    );
    assert_eq!(list["reports"].as_array().map(Vec::len), Some(jobs.len()));
    let (status, health) = call("GET", &second.url("/healthz"), &admin, None);
    assert_eq!((status, health["store"].as_str()), (200, Some("sqlite")));
}

/// Job states read from the database file itself (the server is down).
fn tokio_free_job_states(db: &str, jobs: &[i64]) -> Vec<String> {
    let path = db.trim_start_matches("sqlite://");
    let output = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3; c = sqlite3.connect('{path}'); \
             print('\\n'.join(r[0] for r in c.execute('SELECT status FROM jobs WHERE id IN ({}) ORDER BY id')))",
            jobs.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ))
        .output()
        .expect("python3 reads the database");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn sigterm_stops_cleanly_and_puts_unfinished_jobs_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("store.db").display());
    let admin = token(&db, "admin", "admin");
    let service = Service::start(&db, &[], &dir.path().join("serve.log"));
    let mut jobs = Vec::new();
    for n in 0..6 {
        let (_, body) = call(
            "POST",
            &service.url("/api/v1/reports"),
            &admin,
            Some(&json!({"text": report(100 + n)})),
        );
        jobs.push(body["job"].as_i64().expect("job"));
    }
    let pid = service.child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut service = service;
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = service.child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}: {}", service.log());
    drop(service);
    // Everything acknowledged finishes after a restart.
    let again = Service::start(&db, &[], &dir.path().join("again.log"));
    let started = Instant::now();
    loop {
        let done = jobs
            .iter()
            .filter(|id| job(&again, &admin, **id)["status"] == "done")
            .count();
        if done == jobs.len() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{}",
            again.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn bad_serve_and_token_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("store.db").display());
    for (args, expected) in [
        (
            vec!["serve", "--db", "mysql://x/y"],
            "use sqlite://PATH or postgres://",
        ),
        (
            vec![
                "token", "create", "--db", &db, "--name", "x", "--role", "boss",
            ],
            "possible values: reader, writer, admin",
        ),
        (
            vec!["token", "revoke", "--db", &db, "nobody"],
            "no live token",
        ),
        (
            vec!["serve", "--db", "sqlite:///no/such/folder/x.db"],
            "cannot open the database",
        ),
    ] {
        let output = ctiforge(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    token(&db, "once", "reader");
    let output = ctiforge(&[
        "token", "create", "--db", &db, "--name", "once", "--role", "reader",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
}

#[test]
fn taxii2_client_walks_the_taxii_server() {
    // taxii2-client from PyPI, installed by .ci/run into its venv (CTIFORGE_INTEROP_PYTHON).
    let Some(python) = std::env::var_os("CTIFORGE_INTEROP_PYTHON") else {
        skip!("SKIPPED taxii2-client: set CTIFORGE_INTEROP_PYTHON (.ci/run does)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("store.db").display());
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
    let id = body["job"].as_i64().expect("job");
    let started = Instant::now();
    while job(&service, &admin, id)["status"] != "done" {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{}",
            service.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/taxii_client.py");
    let output = Command::new(python)
        .arg(script)
        .arg(service.url("/taxii2/"))
        .arg(&writer)
        .output()
        .expect("python runs");
    common::assert_succeeded(&output, "taxii2-client");
    println!("{}", String::from_utf8_lossy(&output.stdout));
}
