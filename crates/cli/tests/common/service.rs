//! `ctiforge serve` as a process, and calls to its REST API, for the CLI tests.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::ctiforge;

/// A `ctiforge serve` process and its address.
pub struct Service {
    pub child: Child,
    pub base: String,
    log: std::path::PathBuf,
}

impl Service {
    pub fn start(db: &str, extra: &[&str], log: &Path) -> Service {
        let stderr = std::fs::File::create(log).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ctiforge"))
            .args([
                "serve",
                "--db",
                db,
                "--listen",
                "127.0.0.1:0",
                "--workers",
                "2",
            ])
            .args(extra)
            .env_remove("CTIFORGE_KB")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("ctiforge serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("no `listening on` line: {line:?}"))
            .to_owned();
        Service {
            child,
            base,
            log: log.to_owned(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build(),
    )
}

pub fn call(method: &str, url: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let builder = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Authorization", format!("Bearer {token}"));
    let response = match body {
        Some(body) => agent().run(
            builder
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .expect("request"),
        ),
        None => agent().run(builder.body(()).expect("request")),
    };
    let mut response = response.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn token(db: &str, name: &str, role: &str) -> String {
    let output = ctiforge(&[
        "token", "create", "--db", db, "--name", name, "--role", role,
    ]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().expect("a line").trim().to_owned();
    assert!(last.starts_with("ctf_"), "{stdout}");
    last
}

/// Distinct small reports (distinct texts, so none is recognised as another).
pub fn report(n: usize) -> String {
    format!(
        "Incident {n}. The operators exploited CVE-2023-4966 on the gateway, ran \
         vssadmin delete shadows /all /quiet on host{n}, dumped LSASS with procdump and \
         contacted update{n}-check[.]com over HTTPS before encrypting the file servers."
    )
}

pub fn job(service: &Service, token: &str, id: i64) -> Value {
    call(
        "GET",
        &service.url(&format!("/api/v1/jobs/{id}")),
        token,
        None,
    )
    .1
}
