//! A server on 127.0.0.1:0 over a temporary SQLite file, and a small HTTP client.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ctiforge_analyze::{Analyzer, Options};
use ctiforge_kb::KnowledgeBase;
use ctiforge_model::Tlp;
use ctiforge_server::{App, Config};
use ctiforge_store::Role;
use ctiforge_store_sqlite::SqliteStore;
use serde_json::Value;

fn kb() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| KnowledgeBase::embedded().expect("embedded knowledge base"))
}

/// A running server.
pub struct Server {
    pub base: String,
    pub app: Arc<App<SqliteStore>>,
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
}

impl Server {
    /// Starts a server with `config` (its workers and paths as given).
    pub fn start(config: Config) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (app, address) = runtime.block_on(async {
            let store = SqliteStore::open(&url).await.expect("store");
            let analyzer = Analyzer::new(
                kb(),
                Options {
                    targets: vec![ctiforge_sigma::convert::Target::Splunk],
                    ..Options::default()
                },
            )
            .expect("analyzer");
            let app = App::new(store, kb(), analyzer, config);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let address: SocketAddr = listener.local_addr().expect("address");
            let serving = app.clone();
            tokio::spawn(async move {
                ctiforge_server::serve(serving, listener)
                    .await
                    .expect("serves");
            });
            (app, address)
        });
        Server {
            base: format!("http://{address}"),
            app,
            _dir: dir,
            runtime,
        }
    }

    /// Makes a token directly in the store.
    pub fn token(&self, name: &str, role: Role, max_tlp: Tlp) -> String {
        self.runtime
            .block_on(ctiforge_server::issue_token(
                &*self.app.store,
                name,
                role,
                max_tlp,
            ))
            .expect("token")
            .1
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits for a job to finish; returns it.
    pub fn wait_for_job(&self, token: &str, job: i64) -> Value {
        let started = Instant::now();
        loop {
            let (status, body) = get(&self.url(&format!("/api/v1/jobs/{job}")), Some(token));
            assert_eq!(status, 200, "{body}");
            let state = body["status"].as_str().unwrap_or_default().to_owned();
            if state == "done" || state == "failed" {
                return body;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "job {job} never finished: {body}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build(),
    )
}

/// A response: status, headers and body.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn finish(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.expect("the server answers");
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let content_type = headers
        .iter()
        .find(|(n, _)| n == "content-type")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let body = response
        .body_mut()
        .with_config()
        .limit(200 * 1024 * 1024)
        .read_to_vec()
        .expect("body");
    Answer {
        status,
        content_type,
        headers,
        body,
    }
}

/// A request with optional bearer token and extra headers.
pub fn request(
    method: &str,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> Answer {
    request_with(&agent(), method, url, token, headers, body)
}

/// [`request`] through `agent` (one that does not follow redirects, say).
pub fn request_with(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> Answer {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    if let Some(token) = token {
        builder = builder.header("Authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = match body {
        Some((content_type, bytes)) => {
            let request = builder
                .header("Content-Type", content_type)
                .body(bytes)
                .expect("request");
            agent.run(request)
        }
        None => agent.run(builder.body(()).expect("request")),
    };
    finish(response)
}

pub fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let answer = request("GET", url, token, &[], None);
    let body = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    (answer.status, body)
}

pub fn post_json(url: &str, token: Option<&str>, body: &Value) -> Answer {
    request(
        "POST",
        url,
        token,
        &[],
        Some(("application/json", body.to_string().into_bytes())),
    )
}

pub fn example(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/reports")
        .join(name);
    std::fs::read_to_string(path).expect("example report")
}

pub fn config() -> Config {
    Config {
        workers: 2,
        poll_interval: Duration::from_millis(100),
        ..Config::default()
    }
}
