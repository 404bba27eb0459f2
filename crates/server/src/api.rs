//! The REST API (`/api/v1`): submissions and jobs, reports with every output, search, "seen in
//! N reports", coverage, feeds and tokens. Described by `openapi.json` (OpenAPI 3.1).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use ctiforge_kb::KnowledgeBase;
use ctiforge_model::{Domain, ExploitationStatus, Tlp};
use ctiforge_store::{
    Job, JobInput, NewFeed, NewJob, NewToken, PageRequest, ReportFilter, Role, Store, Term,
    TermKind, terms,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::App;
use crate::auth::{self, Access};
use crate::error::ApiError;

type Shared<S> = State<Arc<App<S>>>;

const OPENAPI: &str = include_str!("openapi.json");

pub(crate) fn routes<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/healthz", get(healthz::<S>))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/reports", post(submit::<S>).get(list::<S>))
        .route(
            "/api/v1/reports/{id}",
            get(analysis::<S>).delete(remove::<S>),
        )
        .route("/api/v1/reports/{id}/reanalyze", post(reanalyze::<S>))
        .route("/api/v1/reports/{id}/queries/{target}", get(queries::<S>))
        .route("/api/v1/reports/{id}/{output}", get(output::<S>))
        .route("/api/v1/jobs/{id}", get(job::<S>))
        .route("/api/v1/seen/{kind}/{value}", get(seen::<S>))
        .route("/api/v1/coverage", get(coverage::<S>))
        .route("/api/v1/stats", get(stats::<S>))
        .route("/api/v1/feeds", get(feeds::<S>).post(add_feed::<S>))
        .route("/api/v1/feeds/{id}", delete(delete_feed::<S>))
        .route("/api/v1/feeds/{id}/poll", post(poll_feed::<S>))
        .route("/api/v1/tokens", get(tokens::<S>).post(create_token::<S>))
        .route("/api/v1/tokens/{id}", delete(revoke_token::<S>))
}

pub(crate) async fn caller<S: Store>(
    app: &App<S>,
    headers: &HeaderMap,
) -> Result<Access, ApiError> {
    auth::access(app, headers, "Bearer").await
}

async fn healthz<S: Store>(State(app): Shared<S>) -> Result<Json<Value>, ApiError> {
    app.store.healthy().await?;
    Ok(Json(json!({"status": "ok", "store": app.store.backend()})))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// A report submitted as JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Submission {
    text: Option<String>,
    url: Option<String>,
    name: Option<String>,
    tlp: Option<String>,
}

fn parse_tlp(text: Option<&str>) -> Result<Tlp, ApiError> {
    match text {
        None => Ok(Tlp::Clear),
        Some(t) => t
            .trim()
            .trim_start_matches("TLP:")
            .trim_start_matches("tlp:")
            .parse()
            .map_err(|e| ApiError::bad_request(format!("{e}"))),
    }
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `POST /api/v1/reports`: JSON `{text}` or `{url}` (with `name`, `tlp`), or a multipart upload
/// in the field `file`. Answers 202 with the job at once.
async fn submit<S: Store>(State(app): Shared<S>, request: Request) -> Result<Response, ApiError> {
    let access = caller(&app, request.headers()).await?;
    access.require(Role::Writer)?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (input, name, tlp) = if content_type.starts_with("application/json") {
        json_submission(request).await?
    } else if content_type.starts_with("multipart/form-data") {
        multipart_submission(request).await?
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            "send application/json ({\"text\": …} or {\"url\": …}) or multipart/form-data with the report in the field `file`",
        ));
    };
    let job = queue_job(&app, &access, input, name, tlp).await?;
    let location = format!("/api/v1/jobs/{}", job.id);
    let mut response = (
        StatusCode::ACCEPTED,
        Json(json!({"job": job.id, "status": job.status, "report": job.report})),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Queues a submission by `access` (a writer that may read `tlp`) and wakes a worker.
pub(crate) async fn queue_job<S: Store>(
    app: &App<S>,
    access: &Access,
    input: JobInput,
    name: Option<String>,
    tlp: Tlp,
) -> Result<Job, ApiError> {
    access.require(Role::Writer)?;
    if tlp > access.max_tlp {
        return Err(ApiError::forbidden(format!(
            "your token may submit up to {}, not {}",
            access.max_tlp.marking(),
            tlp.marking()
        )));
    }
    let sha = match &input {
        JobInput::Text { text } => Some(sha256(text.as_bytes())),
        JobInput::File { bytes, .. } => Some(sha256(bytes)),
        JobInput::Url { .. } | JobInput::Reanalyze { .. } => None,
    };
    let job = app
        .store
        .submit(NewJob {
            input,
            name,
            tlp,
            sha256: sha,
            submitted_by: access.token.as_ref().map(|t| t.id),
            feed: None,
            now: jiff::Timestamp::now(),
        })
        .await?;
    app.queued.notify_one();
    Ok(job)
}

async fn json_submission(request: Request) -> Result<(JobInput, Option<String>, Tlp), ApiError> {
    let Json(submission) = Json::<Submission>::from_request(request, &())
        .await
        .map_err(|e| {
            ApiError::bad_request(format!(
                "the body is not a submission ({e}); send {{\"text\": \"…\"}} or {{\"url\": \"https://…\"}}, with optional \"name\" and \"tlp\""
            ))
        })?;
    let tlp = parse_tlp(submission.tlp.as_deref())?;
    let input = match (submission.text, submission.url) {
        (Some(text), None) => {
            if text.trim().is_empty() {
                return Err(ApiError::bad_request(
                    "`text` is empty: there is nothing to analyze",
                ));
            }
            JobInput::Text { text }
        }
        (None, Some(url)) => {
            if !ctiforge_fetch::is_url(&url) {
                return Err(ApiError::bad_request(format!(
                    "`url` {url:?} is not an http(s) URL"
                )));
            }
            JobInput::Url { url }
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("give `text` or `url`, not both"));
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "give the report as `text`, or a `url` to fetch it from",
            ));
        }
    };
    Ok((input, submission.name, tlp))
}

async fn multipart_submission(
    request: Request,
) -> Result<(JobInput, Option<String>, Tlp), ApiError> {
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("the upload is not valid multipart: {e}")))?;
    let (mut file, mut name, mut tlp) = (None, None, None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(&e.to_string()))?
    {
        match field.name().unwrap_or_default() {
            "file" => {
                let file_name = field.file_name().map(str::to_owned);
                let content_type = field.content_type().map(str::to_owned);
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| multipart_error(&e.to_string()))?;
                file = Some(JobInput::File {
                    bytes: bytes.to_vec(),
                    file_name,
                    content_type,
                });
            }
            "name" => name = field.text().await.ok().filter(|t| !t.trim().is_empty()),
            "tlp" => tlp = field.text().await.ok(),
            _ => {}
        }
    }
    let file = file.ok_or_else(|| {
        ApiError::bad_request("the upload has no field `file`: send the report as `file`")
    })?;
    if matches!(&file, JobInput::File { bytes, .. } if bytes.is_empty()) {
        return Err(ApiError::bad_request("the uploaded file is empty"));
    }
    Ok((file, name, parse_tlp(tlp.as_deref())?))
}

fn multipart_error(message: &str) -> ApiError {
    if message.contains("limit") {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload too large",
            "the upload is larger than the server accepts (--max-body)",
        )
    } else {
        ApiError::bad_request(format!("cannot read the upload: {message}"))
    }
}

fn parse_id(text: &str, what: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            ApiError::not_found(format!("{what} ids are positive numbers, not {text:?}"))
        })
}

async fn job<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    caller(&app, &headers).await?;
    let id = parse_id(&id, "job")?;
    let job = app
        .store
        .job(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no job {id}")))?;
    Ok(Json(json!({
        "id": job.id,
        "status": job.status,
        "kind": job.kind,
        "report": job.report,
        "error": job.error,
        "created": job.created,
        "updated": job.updated,
        "attempts": job.attempts,
    })))
}

/// A report the caller may read.
async fn readable<S: Store>(
    app: &App<S>,
    access: &Access,
    id: &str,
) -> Result<ctiforge_store::StoredReport, ApiError> {
    let id = parse_id(id, "report")?;
    let report = app
        .store
        .report(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no report {id}")))?;
    access.may_read(report.summary.tlp)?;
    Ok(report)
}

async fn analysis<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let access = caller(&app, &headers).await?;
    let report = readable(&app, &access, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        report.analysis,
    )
        .into_response())
}

/// One output of a report by its short name.
async fn output<S: Store>(
    State(app): Shared<S>,
    Path((id, output)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let access = caller(&app, &headers).await?;
    let report = readable(&app, &access, &id).await?;
    let names = app.store.output_names(report.id).await?;
    let (name, content_type) = match output.as_str() {
        "bundle" => (
            "bundle.json".to_owned(),
            "application/stix+json;version=2.1",
        ),
        "markdown" => ("report.md".to_owned(), "text/markdown; charset=utf-8"),
        "html" => ("report.html".to_owned(), "text/html; charset=utf-8"),
        "misp" => ("misp-event.json".to_owned(), "application/json"),
        "navigator" => {
            let wanted = params
                .get("domain")
                .map(String::as_str)
                .unwrap_or("enterprise-attack");
            let name = format!("navigator-{wanted}.json");
            let name = if names.contains(&name) {
                name
            } else {
                let available: Vec<&str> = names
                    .iter()
                    .filter_map(|n| n.strip_prefix("navigator-")?.strip_suffix(".json"))
                    .collect();
                if params.contains_key("domain") || available.is_empty() {
                    return Err(ApiError::not_found(format!(
                        "no Navigator layer for {wanted:?}; this report has layers for: {}",
                        if available.is_empty() {
                            "none (no techniques)".to_owned()
                        } else {
                            available.join(", ")
                        }
                    )));
                }
                format!("navigator-{}.json", available[0])
            };
            (name, "application/json")
        }
        "sigma" => {
            let mut yaml = String::new();
            for name in names.iter().filter(|n| n.starts_with("sigma/")) {
                if let Some(bytes) = app.store.output(report.id, name).await? {
                    if !yaml.is_empty() {
                        yaml.push_str("---\n");
                    }
                    yaml.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
            return Ok((
                [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
                yaml,
            )
                .into_response());
        }
        "text" => {
            return Ok((
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                report.text,
            )
                .into_response());
        }
        other => {
            return Err(ApiError::not_found(format!(
                "no output {other:?}; choose bundle, markdown, html, sigma, navigator, misp, text or queries/TARGET"
            )));
        }
    };
    let bytes = app
        .store
        .output(report.id, &name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("report {} has no {name}", report.id)))?;
    // report.html carries its own Content-Security-Policy (its script and style by hash).
    Ok(([(header::CONTENT_TYPE, content_type)], Bytes::from(bytes)).into_response())
}

async fn queries<S: Store>(
    State(app): Shared<S>,
    Path((id, target)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let access = caller(&app, &headers).await?;
    let report = readable(&app, &access, &id).await?;
    let Some(target) = ctiforge_sigma::convert::Target::from_name(&target) else {
        let names: Vec<&str> = ctiforge_sigma::convert::Target::ALL
            .iter()
            .map(|t| t.name())
            .collect();
        return Err(ApiError::not_found(format!(
            "no query target {target:?}; choose one of {}",
            names.join(", ")
        )));
    };
    let analysis: Value = serde_json::from_str(&report.analysis).map_err(ApiError::internal)?;
    let mut found = Vec::new();
    for group in ["generated", "selected"] {
        for rule in analysis["detection"][group]
            .as_array()
            .into_iter()
            .flatten()
        {
            for pair in rule["queries"].as_array().into_iter().flatten() {
                if pair[0].as_str() == Some(target.name()) {
                    found.push(json!({
                        "rule": rule["id"],
                        "title": rule["title"],
                        "origin": group,
                        "query": pair[1],
                    }));
                }
            }
        }
    }
    Ok(Json(json!({"target": target.name(), "queries": found})))
}

async fn reanalyze<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let access = caller(&app, &headers).await?;
    access.require(Role::Admin)?;
    let report = readable(&app, &access, &id).await?;
    let job = app
        .store
        .submit(NewJob {
            input: JobInput::Reanalyze { report: report.id },
            name: None,
            tlp: report.summary.tlp,
            sha256: None,
            submitted_by: access.token.as_ref().map(|t| t.id),
            feed: None,
            now: jiff::Timestamp::now(),
        })
        .await?;
    app.queued.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"job": job.id, "status": job.status})),
    )
        .into_response())
}

async fn remove<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let access = caller(&app, &headers).await?;
    access.require(Role::Admin)?;
    let id = parse_id(&id, "report")?;
    if app.store.delete_report(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no report {id}")))
    }
}

/// The listing filters from query parameters.
pub(crate) fn filter_from(
    params: &HashMap<String, String>,
    access: &Access,
) -> Result<ReportFilter, ApiError> {
    let text = |key: &str| {
        params
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let date = |key: &str| -> Result<Option<String>, ApiError> {
        match text(key) {
            None => Ok(None),
            Some(d) if d.len() == 10 && d.parse::<jiff::civil::Date>().is_ok() => Ok(Some(d)),
            Some(d) => Err(ApiError::bad_request(format!(
                "`{key}` {d:?} is not a date such as 2026-11-03"
            ))),
        }
    };
    let tlp = text("tlp").map(|t| parse_tlp(Some(&t))).transpose()?;
    // The names before 0.2 (`active`, `proof_of_concept`...) are read as their aliases.
    let exploitation = text("exploitation")
        .map(|name| {
            serde_json::from_value::<ExploitationStatus>(Value::String(name.to_ascii_lowercase()))
                .map(|status| status.as_str().to_owned())
                .map_err(|_| {
                    let names: Vec<&str> =
                        ExploitationStatus::ALL.iter().map(|s| s.as_str()).collect();
                    ApiError::bad_request(format!(
                        "`exploitation` {name:?} is not one of {}",
                        names.join(", ")
                    ))
                })
        })
        .transpose()?;
    Ok(ReportFilter {
        q: text("q"),
        ioc: text("ioc"),
        technique: text("technique"),
        actor: text("actor"),
        cve: text("cve"),
        sector: text("sector"),
        tlp,
        risk_level: text("risk"),
        exploitation,
        since: date("since")?,
        until: date("until")?,
        visible: access.visible(),
    })
}

pub(crate) fn limit_from(
    params: &HashMap<String, String>,
    default: u32,
    max: u32,
) -> Result<u32, ApiError> {
    match params.get("limit") {
        None => Ok(default),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "`limit` must be a number from 1 to {max}, not {text:?}"
                ))
            }),
    }
}

async fn list<S: Store>(
    State(app): Shared<S>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let access = caller(&app, &headers).await?;
    let filter = filter_from(&params, &access)?;
    let page = PageRequest {
        limit: limit_from(&params, 20, 100)?,
        after: params.get("next").cloned(),
    };
    let page = app.store.reports(&filter, &page).await?;
    Ok(Json(json!({"reports": page.items, "next": page.next})))
}

async fn seen<S: Store>(
    State(app): Shared<S>,
    Path((kind, value)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let access = caller(&app, &headers).await?;
    let kind = TermKind::from_name(&kind).ok_or_else(|| {
        ApiError::not_found(format!(
            "no kind {kind:?}; choose ioc, technique, actor, cve, sector or software"
        ))
    })?;
    let limit = limit_from(&params, 20, 100)?;
    let term = Term {
        kind,
        value: terms::normalize(kind, &value),
        label: value.clone(),
    };
    let seen = app.store.seen(&term, &access.visible(), limit).await?;
    Ok(Json(json!({
        "term": seen.term,
        "count": seen.count,
        "first": seen.first,
        "last": seen.last,
        "reports": seen.reports,
        "summary": match &seen.first {
            Some(first) => format!("seen in {} report{} since {}", seen.count, if seen.count == 1 { "" } else { "s" }, &first[..10.min(first.len())]),
            None => "not seen in any report".to_owned(),
        },
    })))
}

async fn coverage<S: Store>(
    State(app): Shared<S>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let access = caller(&app, &headers).await?;
    let query = CoverageQuery::from(&params)?;
    let counts = query.counts(&app, &access).await?;
    if params.get("format").map(String::as_str) == Some("navigator") {
        return Ok(Json(coverage_layer(app.kb, &counts, query.domain)));
    }
    let techniques: Vec<Value> = counts
        .iter()
        .map(|(id, n)| {
            let technique = app.kb.technique(id);
            json!({
                "id": id,
                "name": technique.map(|t| t.name.as_str()),
                "domains": technique.map(|t| t.domains.iter().map(|d| d.as_str()).collect::<Vec<_>>()),
                "reports": n,
            })
        })
        .collect();
    Ok(Json(json!({"techniques": techniques})))
}

/// The filters of a coverage view: since a date, one sector, one ATT&CK domain.
pub(crate) struct CoverageQuery {
    /// Reports added on or after this date (`YYYY-MM-DD`).
    pub since: Option<String>,
    /// Only reports that name this sector.
    pub sector: Option<String>,
    /// The matrix shown or exported.
    pub domain: Domain,
}

impl CoverageQuery {
    pub(crate) fn from(params: &HashMap<String, String>) -> Result<Self, ApiError> {
        let given = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let since = given("since")
            .map(|d| {
                d.parse::<jiff::civil::Date>()
                    .map(|_| d.to_owned())
                    .map_err(|_| {
                        ApiError::bad_request(format!("since={d:?} is not a date; give YYYY-MM-DD"))
                    })
            })
            .transpose()?;
        let domain = match given("domain") {
            None => Domain::Enterprise,
            Some(name) => match name.parse::<Domain>() {
                Ok(domain) if domain != Domain::Atlas => domain,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "domain={name:?} is not an ATT&CK matrix; give enterprise, mobile or ics"
                    )));
                }
            },
        };
        Ok(CoverageQuery {
            since,
            sector: given("sector").map(str::to_owned),
            domain,
        })
    }

    /// How many of the reports `access` may read show each technique.
    pub(crate) async fn counts<S: Store>(
        &self,
        app: &App<S>,
        access: &Access,
    ) -> Result<Vec<(String, u64)>, ApiError> {
        let visible = access.visible();
        let (since, sector) = (self.since.as_deref(), self.sector.as_deref());
        Ok(app.store.technique_counts(&visible, since, sector).await?)
    }
}

/// An ATT&CK Navigator layer of `domain`: how many stored reports show each of its techniques.
pub(crate) fn coverage_layer(
    kb: &KnowledgeBase,
    counts: &[(String, u64)],
    domain: Domain,
) -> Value {
    let in_domain: Vec<&(String, u64)> = counts
        .iter()
        .filter(|(id, _)| {
            kb.technique(id)
                .is_some_and(|t| t.domains.contains(&domain))
        })
        .collect();
    let max = in_domain.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let techniques: Vec<Value> = in_domain
        .iter()
        .map(|(id, n)| {
            json!({
                "techniqueID": id,
                "score": n,
                "comment": format!("in {n} report{}", if *n == 1 { "" } else { "s" }),
            })
        })
        .collect();
    json!({
        "name": format!("ctiforge coverage ({})", domain.title()),
        "versions": {"attack": "18", "navigator": "5.1.0", "layer": "4.5"},
        "domain": domain.attack_name(),
        "description": "Techniques across the reports stored in ctiforge, scored by the number of reports that show each.",
        "techniques": techniques,
        "gradient": {"colors": ["#fde0dd", "#c51b8a"], "minValue": 0, "maxValue": max},
    })
}

async fn stats<S: Store>(
    State(app): Shared<S>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    caller(&app, &headers).await?;
    let jobs = app.store.job_counts().await?;
    Ok(Json(json!({"jobs": jobs, "store": app.store.backend()})))
}

/// A JSON body, or a 400 that says what was expected.
fn json_body<T>(
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
    expected: &str,
) -> Result<T, ApiError> {
    body.map(|Json(value)| value)
        .map_err(|e| ApiError::bad_request(format!("the body is not {expected} ({e})")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedRequest {
    url: String,
    name: Option<String>,
    interval: Option<u32>,
    tlp: Option<String>,
}

async fn feeds<S: Store>(
    State(app): Shared<S>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    caller(&app, &headers).await?.require(Role::Admin)?;
    Ok(Json(json!({"feeds": app.store.feeds().await?})))
}

async fn add_feed<S: Store>(
    State(app): Shared<S>,
    headers: HeaderMap,
    body: Result<Json<FeedRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    caller(&app, &headers).await?.require(Role::Admin)?;
    let request = json_body(
        body,
        "a feed: send {\"url\": \"https://…/feed.xml\"} with optional \"name\", \"interval\" (seconds) and \"tlp\"",
    )?;
    if !ctiforge_fetch::is_url(&request.url) {
        return Err(ApiError::bad_request(format!(
            "`url` {:?} is not an http(s) URL",
            request.url
        )));
    }
    let interval = request.interval.unwrap_or(3600);
    if !(60..=7 * 86_400).contains(&interval) {
        return Err(ApiError::bad_request(
            "`interval` is seconds between polls, from 60 to 604800",
        ));
    }
    let feed = app
        .store
        .add_feed(NewFeed {
            url: request.url,
            name: request.name,
            interval,
            tlp: parse_tlp(request.tlp.as_deref())?,
            now: jiff::Timestamp::now(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(feed))).into_response())
}

async fn delete_feed<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    caller(&app, &headers).await?.require(Role::Admin)?;
    let id = parse_id(&id, "feed")?;
    if app.store.delete_feed(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no feed {id}")))
    }
}

async fn poll_feed<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    caller(&app, &headers).await?.require(Role::Admin)?;
    let id = parse_id(&id, "feed")?;
    if app.store.poll_feed_now(id).await? {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::not_found(format!("no feed {id}")))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    name: String,
    role: String,
    max_tlp: Option<String>,
}

async fn tokens<S: Store>(
    State(app): Shared<S>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    caller(&app, &headers).await?.require(Role::Admin)?;
    Ok(Json(json!({"tokens": app.store.tokens().await?})))
}

async fn create_token<S: Store>(
    State(app): Shared<S>,
    headers: HeaderMap,
    body: Result<Json<TokenRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    caller(&app, &headers).await?.require(Role::Admin)?;
    let request = json_body(
        body,
        "a token request: send {\"name\": \"…\", \"role\": \"reader|writer|admin\"}",
    )?;
    let role: Role = request
        .role
        .parse()
        .map_err(|e| ApiError::bad_request(format!("{e}")))?;
    let max_tlp = match request.max_tlp.as_deref() {
        Some(t) => parse_tlp(Some(t))?,
        None => role.max_tlp(),
    };
    let (token, secret) = issue_token(&*app.store, &request.name, role, max_tlp).await?;
    Ok((StatusCode::CREATED, Json(json!({"token": secret, "id": token.id, "name": token.name, "role": token.role, "max_tlp": token.max_tlp}))).into_response())
}

/// Makes a token and stores its hash; returns the record and the secret (shown once).
pub async fn issue_token<S: Store>(
    store: &S,
    name: &str,
    role: Role,
    max_tlp: Tlp,
) -> Result<(ctiforge_store::Token, String), ApiError> {
    if name.trim().is_empty() || name.len() > 100 {
        return Err(ApiError::bad_request("a token name is 1 to 100 characters"));
    }
    let secret = auth::new_secret("ctf_").map_err(ApiError::internal)?;
    let token = store
        .create_token(NewToken {
            name: name.trim().to_owned(),
            role,
            max_tlp,
            hash: auth::hash(&secret),
            created: jiff::Timestamp::now(),
        })
        .await?;
    Ok((token, secret))
}

async fn revoke_token<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    caller(&app, &headers).await?.require(Role::Admin)?;
    if app.store.revoke_token(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no live token {id:?}")))
    }
}
