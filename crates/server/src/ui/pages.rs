//! The web UI's pages.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use ctiforge_kb::Entry;
use ctiforge_model::{Analysis, Domain, Tlp};
use ctiforge_store::{
    JobInput, JobStatus, NewFeed, NewSession, PageRequest, ReportFilter, ReportSummary, Role,
    Store, Term, TermKind, terms,
};
use minijinja::{Value, context};
use serde::Serialize;
use serde_json::Value as Json;

use super::{error_page, page, page_with_status, urlencode, visitor};
use crate::App;
use crate::api::{CoverageQuery, filter_from, issue_token, limit_from, queue_job};
use crate::auth::{self, Access, SESSION_COOKIE};
use crate::error::ApiError;

type Shared<S> = State<Arc<App<S>>>;

/// A page, or the page that says why it cannot be shown (an error page, or a redirect to sign
/// in); handlers use `?` on each step.
type Page = Result<Response, Response>;

/// Turns a failed step into the error page of `here`.
// The error is the response itself, handed straight to axum: boxing it would gain nothing.
#[allow(clippy::result_large_err)]
trait OrPage<T> {
    fn or_page(self, here: &str) -> Result<T, Response>;
}

impl<T, E: Into<ApiError>> OrPage<T> for Result<T, E> {
    fn or_page(self, here: &str) -> Result<T, Response> {
        self.map_err(|e| error_page(e.into(), here))
    }
}

/// How long a sign-in lasts.
const SESSION_HOURS: i64 = 12;

/// The visitor, or the response that sends them to sign in.
async fn visit<S: Store>(
    app: &App<S>,
    headers: &HeaderMap,
    here: &str,
) -> Result<Access, Response> {
    auth::access(app, headers, "Bearer")
        .await
        .map_err(|e| error_page(e, here))
}

/// Refuses a form without this session's CSRF secret, or sent from another site.
fn check_form(access: &Access, headers: &HeaderMap, form: Option<&str>) -> Result<(), ApiError> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let same = origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host);
        if !same {
            return Err(ApiError::forbidden(format!(
                "the form was sent from {origin}, not from this site"
            )));
        }
    }
    match (&access.csrf, form) {
        (Some(expected), Some(given)) if expected == given => Ok(()),
        _ => Err(ApiError::forbidden(
            "the form has expired or did not come from this site; reload the page and send it again",
        )),
    }
}

/// The intelligence feed: newest reports first, with filters and paging.
pub(crate) async fn feed<S: Store>(
    State(app): Shared<S>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Page {
    let access = visit(&app, &headers, "/").await?;
    let filter = filter_from(&params, &access).or_page("/")?;
    let request = PageRequest {
        limit: 25,
        after: params.get("next").cloned().filter(|n| !n.is_empty()),
    };
    let listing = app.store.reports(&filter, &request).await.or_page("/")?;
    let mut query: Vec<(String, String)> = params
        .iter()
        .filter(|(k, v)| *k != "next" && !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    query.sort();
    let more = listing.next.map(|next| {
        let mut pairs = query.clone();
        pairs.push(("next".into(), next));
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    });
    Ok(page(
        "ui/feed.html",
        context! {
            visitor => visitor(&access),
            reports => listing.items,
            more => more,
            filters => params,
            tlps => access.visible().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            filtered => !query.is_empty(),
        },
    ))
}

/// The feed as Atom, for feed readers.
pub(crate) async fn atom<S: Store>(State(app): Shared<S>, headers: HeaderMap) -> Page {
    // Feed readers get the API's answers (a 401 problem), not a redirect to sign in.
    let access = auth::access(&app, &headers, "Bearer")
        .await
        .map_err(IntoResponse::into_response)?;
    let filter = ReportFilter {
        visible: access.visible(),
        ..ReportFilter::default()
    };
    let request = PageRequest {
        limit: 50,
        after: None,
    };
    let listing = app
        .store
        .reports(&filter, &request)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let mut response = page(
        "ui/feed.atom",
        context! {
            base => format!("http://{host}"),
            reports => listing.items,
            updated => jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        },
    );
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    Ok(response)
}

#[derive(Serialize)]
struct Sentence<'a> {
    start: usize,
    end: usize,
    text: &'a str,
}

/// The report's text as paragraphs of sentences, each with its byte offsets (what evidence
/// points at).
fn source_text(text: &str) -> Vec<Vec<Sentence<'_>>> {
    let (paragraphs, sentences) = ctiforge_text::segment(text);
    let mut out = Vec::new();
    let mut next = 0;
    for paragraph in paragraphs.iter().take(5000) {
        let mut list = Vec::new();
        while next < sentences.len() && sentences[next].start < paragraph.end {
            let span = sentences[next];
            if let Some(text) = span.slice(text) {
                list.push(Sentence {
                    start: span.start,
                    end: span.end,
                    text,
                });
            }
            next += 1;
        }
        if !list.is_empty() {
            out.push(list);
        }
    }
    out
}

/// A report page: the sections of `report.html`, linked to entity pages, with downloads and the
/// report's text.
pub(crate) async fn report<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Page {
    let here = format!("/reports/{id}");
    let access = visit(&app, &headers, &here).await?;
    let Some(id) = id.parse::<i64>().ok().filter(|i| *i > 0) else {
        return Err(error_page(
            ApiError::not_found(format!("no report {id:?}")),
            &here,
        ));
    };
    let stored = app
        .store
        .report(id)
        .await
        .or_page(&here)?
        .ok_or_else(|| error_page(ApiError::not_found(format!("no report {id}")), &here))?;
    access.may_read(stored.summary.tlp).or_page(&here)?;
    let analysis: Analysis = serde_json::from_str(&stored.analysis)
        .map_err(ApiError::internal)
        .or_page(&here)?;
    let bundle: Json = match app.store.output(id, "bundle.json").await {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or(Json::Null),
        _ => Json::Null,
    };
    let names = app.store.output_names(id).await.unwrap_or_default();
    let layers: Vec<String> = names
        .iter()
        .filter_map(|n| n.strip_prefix("navigator-")?.strip_suffix(".json"))
        .map(str::to_owned)
        .collect();
    let targets: Vec<&str> = ctiforge_sigma::convert::Target::ALL
        .iter()
        .map(|t| t.name())
        .collect();
    let ctx = context! {
        visitor => visitor(&access),
        site => true,
        report_id => id,
        stored => stored.summary,
        analyzed => stored.analyzed,
        layers => layers,
        targets => targets,
        paragraphs => source_text(&stored.text),
        // Text pasted into the form or posted to the API has no file name or address.
        source => analysis.report.path.as_deref().unwrap_or("text submitted to this server"),
        ..ctiforge_report::page_context(&analysis, &bundle)
    };
    Ok(page("ui/report.html", ctx))
}

/// A typed search (`ioc:…`, `technique:…`, `actor:…`, `cve:…`, `sector:…`) or free text.
fn parse_search(q: &str) -> (Option<TermKind>, String) {
    if let Some((prefix, rest)) = q.split_once(':') {
        let kind = match prefix.trim().to_ascii_lowercase().as_str() {
            "ioc" | "indicator" => Some(TermKind::Ioc),
            "technique" | "ttp" => Some(TermKind::Technique),
            "actor" | "group" => Some(TermKind::Actor),
            "cve" => Some(TermKind::Cve),
            "sector" => Some(TermKind::Sector),
            _ => None,
        };
        if let Some(kind) = kind {
            return (Some(kind), rest.trim().to_owned());
        }
    }
    (None, q.trim().to_owned())
}

/// The sentence of `analysis` that mentions `value` as `kind`.
fn matching_sentence(analysis: &Analysis, kind: TermKind, value: &str) -> Option<String> {
    let value = terms::normalize(kind, value);
    let text = match kind {
        TermKind::Ioc => analysis
            .iocs
            .iter()
            .chain(&analysis.observables)
            .find(|i| terms::normalize(kind, &i.value) == value)
            .map(|i| i.evidence.text.clone()),
        TermKind::Technique => analysis
            .techniques
            .iter()
            .find(|t| t.id == value || t.id.starts_with(&format!("{value}.")))
            .and_then(|t| t.evidence.first())
            .map(|e| e.text.clone()),
        TermKind::Actor => analysis
            .entities
            .threat_actors
            .iter()
            .find(|a| {
                terms::normalize(kind, &a.name) == value
                    || a.id
                        .as_deref()
                        .is_some_and(|id| terms::normalize(kind, id) == value)
                    || a.mentions
                        .iter()
                        .any(|m| terms::normalize(kind, m) == value)
            })
            .and_then(|a| a.evidence.first())
            .map(|q| q.text.clone()),
        TermKind::Cve => analysis
            .entities
            .vulnerabilities
            .iter()
            .find(|v| v.id == value)
            .and_then(|v| v.evidence.first())
            .map(|q| q.text.clone()),
        TermKind::Sector | TermKind::Software => None,
    };
    text.map(|t| mark(t.trim(), &value))
}

/// `sentence` with the first case-insensitive occurrence of `value` between `«` and `»`.
fn mark(sentence: &str, value: &str) -> String {
    let found = (!value.is_empty())
        .then(|| {
            sentence.char_indices().map(|(i, _)| i).find(|&i| {
                sentence
                    .get(i..i + value.len())
                    .is_some_and(|s| s.eq_ignore_ascii_case(value))
            })
        })
        .flatten();
    match found {
        Some(i) => format!(
            "{}«{}»{}",
            &sentence[..i],
            &sentence[i..i + value.len()],
            &sentence[i + value.len()..]
        ),
        None => sentence.to_owned(),
    }
}

#[derive(Serialize)]
struct Hit {
    report: ReportSummary,
    sentence: Option<String>,
}

/// Search: free text over titles and texts, or typed terms; each result with its matching
/// sentence.
pub(crate) async fn search<S: Store>(
    State(app): Shared<S>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Page {
    let q = params.get("q").cloned().unwrap_or_default();
    let here = format!("/search?q={}", urlencode(&q));
    let access = visit(&app, &headers, &here).await?;
    let (kind, value) = parse_search(&q);
    let mut hits = Vec::new();
    let mut seen = None;
    if !value.is_empty() {
        let mut filter = ReportFilter {
            visible: access.visible(),
            ..ReportFilter::default()
        };
        match kind {
            Some(TermKind::Ioc) => filter.ioc = Some(value.clone()),
            Some(TermKind::Technique) => filter.technique = Some(value.clone()),
            Some(TermKind::Actor | TermKind::Software) => filter.actor = Some(value.clone()),
            Some(TermKind::Cve) => filter.cve = Some(value.clone()),
            Some(TermKind::Sector) => filter.sector = Some(value.clone()),
            None => filter.q = Some(value.clone()),
        }
        let limit = limit_from(&params, 25, 100).unwrap_or(25);
        let request = PageRequest { limit, after: None };
        let found = app.store.reports(&filter, &request).await.or_page(&here)?;
        for summary in found.items {
            let sentence = match (kind, &summary.snippet) {
                (None, snippet) => snippet.clone(),
                (Some(kind), _) => match app.store.report(summary.id).await {
                    Ok(Some(stored)) => serde_json::from_str::<Analysis>(&stored.analysis)
                        .ok()
                        .and_then(|a| matching_sentence(&a, kind, &value)),
                    _ => None,
                },
            };
            hits.push(Hit {
                report: summary,
                sentence,
            });
        }
        if let Some(kind) = kind {
            seen = app
                .store
                .seen(
                    &Term {
                        kind,
                        value: value.clone(),
                        label: value.clone(),
                    },
                    &access.visible(),
                    1,
                )
                .await
                .ok()
                .map(|s| context! { count => s.count, first => s.first });
        }
    }
    Ok(page(
        "ui/search.html",
        context! {
            visitor => visitor(&access),
            q => q,
            kind => kind.map(TermKind::as_str),
            value => value,
            hits => hits,
            seen => seen,
            entity => kind.and_then(entity_path).map(|p| format!("/{p}/{}", urlencode(&value))),
        },
    ))
}

/// The entity page of a term kind.
fn entity_path(kind: TermKind) -> Option<&'static str> {
    match kind {
        TermKind::Ioc => Some("iocs"),
        TermKind::Technique => Some("techniques"),
        TermKind::Actor => Some("actors"),
        TermKind::Cve => Some("cves"),
        TermKind::Sector | TermKind::Software => None,
    }
}

/// An entity page: every report that mentions it, "seen in N reports since DATE", and what the
/// knowledge base says of it.
async fn entity<S: Store>(
    app: &App<S>,
    headers: &HeaderMap,
    kind: TermKind,
    value: &str,
    facts: Option<Value>,
) -> Page {
    let here = format!("/{}/{}", entity_path(kind).unwrap_or(""), urlencode(value));
    let access = visit(app, headers, &here).await?;
    let term = Term {
        kind,
        value: value.to_owned(),
        label: value.to_owned(),
    };
    let seen = app
        .store
        .seen(&term, &access.visible(), 100)
        .await
        .or_page(&here)?;
    if facts.is_none() && seen.count == 0 {
        let what =
            format!("{value} is neither in the knowledge base nor in any report you may read");
        return Err(error_page(ApiError::not_found(what), &here));
    }
    Ok(page(
        "ui/entity.html",
        context! {
            visitor => visitor(&access),
            kind => kind.as_str(),
            value => value,
            label => seen.term.label.clone(),
            seen => seen,
            facts => facts,
        },
    ))
}

/// The knowledge base's description of the first entry a query finds.
fn kb_facts<S: Store>(app: &App<S>, query: &str, wanted: &[&str]) -> Option<Value> {
    let entry: Entry = app
        .kb
        .find(query)
        .into_iter()
        .find(|e| wanted.contains(&app.kb.describe(*e).kind.as_str()))?;
    let description = app.kb.describe(entry);
    Some(Value::from_serialize(&description))
}

pub(crate) async fn technique<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Page {
    let id = id.trim().to_ascii_uppercase();
    let facts = kb_facts(&app, &id, &["technique", "sub-technique"]);
    entity(&app, &headers, TermKind::Technique, &id, facts).await
}

pub(crate) async fn actor<S: Store>(
    State(app): Shared<S>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Page {
    let facts = kb_facts(&app, &name, &["group", "galaxy-cluster"]);
    entity(&app, &headers, TermKind::Actor, &name, facts).await
}

pub(crate) async fn ioc<S: Store>(
    State(app): Shared<S>,
    Path(value): Path<String>,
    headers: HeaderMap,
) -> Page {
    entity(&app, &headers, TermKind::Ioc, &value, None).await
}

pub(crate) async fn cve<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Page {
    let id = id.trim().to_ascii_uppercase();
    let facts = kb_facts(&app, &id, &["kev"]);
    entity(&app, &headers, TermKind::Cve, &id, facts).await
}

#[derive(Serialize)]
struct CoverageCell {
    id: String,
    name: String,
    reports: u64,
    heat: u8,
}

#[derive(Serialize)]
struct CoverageTactic {
    name: String,
    cells: Vec<CoverageCell>,
}

/// ATT&CK coverage across the stored reports, by Enterprise tactic.
pub(crate) async fn coverage<S: Store>(
    State(app): Shared<S>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Page {
    let access = visit(&app, &headers, "/coverage").await?;
    let query = CoverageQuery::from(&params).or_page("/coverage")?;
    let counts = query.counts(&app, &access).await.or_page("/coverage")?;
    let domain = query.domain;
    let counts: Vec<(String, u64)> = counts
        .into_iter()
        .filter(|(id, _)| {
            app.kb
                .technique(id)
                .is_some_and(|t| t.domains.contains(&domain))
        })
        .collect();
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let tactics: Vec<CoverageTactic> = app
        .kb
        .tactics(domain)
        .map(|tactic| CoverageTactic {
            name: tactic.name.clone(),
            cells: counts
                .iter()
                .filter_map(|(id, n)| {
                    let technique = app.kb.technique(id)?;
                    technique
                        .tactics
                        .contains(&tactic.id)
                        .then(|| CoverageCell {
                            id: id.clone(),
                            name: technique.name.clone(),
                            reports: *n,
                            heat: ((*n as f64 / max as f64) * 10.0).round() as u8,
                        })
                })
                .collect(),
        })
        .filter(|t| !t.cells.is_empty())
        .collect();
    let export: Vec<(&str, String)> = [
        ("format", Some("navigator".to_owned())),
        ("domain", Some(domain.as_str().to_owned())),
        ("since", query.since.clone()),
        ("sector", query.sector.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k, v?)))
    .collect();
    Ok(page(
        "ui/coverage.html",
        context! {
            visitor => visitor(&access),
            tactics => tactics,
            since => query.since,
            sector => query.sector,
            domain => domain.as_str(),
            domain_title => domain.title(),
            domains => [Domain::Enterprise, Domain::Mobile, Domain::Ics]
                .iter()
                .map(|d| (d.as_str(), d.title()))
                .collect::<Vec<_>>(),
            total => counts.len(),
            export => export
                .iter()
                .map(|(k, v)| format!("{k}={}", urlencode(v)))
                .collect::<Vec<_>>()
                .join("&"),
        },
    ))
}

pub(crate) async fn submit_form<S: Store>(State(app): Shared<S>, headers: HeaderMap) -> Page {
    let access = visit(&app, &headers, "/submit").await?;
    if let Err(e) = access.require(Role::Writer) {
        return Err(error_page(e, "/submit"));
    }
    Ok(page(
        "ui/submit.html",
        context! {
            visitor => visitor(&access),
            tlps => access.visible().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        },
    ))
}

/// A submission from the form: pasted text, an uploaded file or a URL.
pub(crate) async fn submit<S: Store>(State(app): Shared<S>, request: Request) -> Page {
    let headers = request.headers().clone();
    let access = visit(&app, &headers, "/submit").await?;
    let job = queue_submission(&app, &access, &headers, request)
        .await
        .or_page("/submit")?;
    Ok(Redirect::to(&format!("/jobs/{job}")).into_response())
}

async fn queue_submission<S: Store>(
    app: &App<S>,
    access: &Access,
    headers: &HeaderMap,
    request: Request,
) -> Result<i64, ApiError> {
    access.require(Role::Writer)?;
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("the form could not be read: {e}")))?;
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("the form could not be read: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(str::to_owned);
            let bytes = field
                .bytes()
                .await
                .map_err(|e| ApiError::bad_request(format!("the upload could not be read: {e}")))?;
            if !bytes.is_empty() {
                file = Some(JobInput::File {
                    bytes: bytes.to_vec(),
                    file_name,
                    content_type,
                });
            }
        } else if let Ok(text) = field.text().await {
            fields.insert(name, text);
        }
    }
    check_form(access, headers, fields.get("csrf").map(String::as_str))?;
    let tlp: Tlp = fields
        .get("tlp")
        .map(|t| t.parse())
        .transpose()
        .map_err(|e| ApiError::bad_request(format!("{e}")))?
        .unwrap_or(Tlp::Clear);
    let text = fields
        .get("text")
        .map(|t| t.trim())
        .filter(|t| !t.is_empty());
    let url = fields
        .get("url")
        .map(|u| u.trim())
        .filter(|u| !u.is_empty());
    let input = match (file, text, url) {
        (Some(file), None, None) => file,
        (None, Some(text), None) => JobInput::Text {
            text: text.to_owned(),
        },
        (None, None, Some(url)) if ctiforge_fetch::is_url(url) => JobInput::Url {
            url: url.to_owned(),
        },
        (None, None, Some(url)) => {
            return Err(ApiError::bad_request(format!(
                "{url:?} is not an http(s) URL"
            )));
        }
        (None, None, None) => {
            return Err(ApiError::bad_request(
                "paste the report's text, choose a file, or give its URL",
            ));
        }
        _ => {
            return Err(ApiError::bad_request(
                "give one of text, file or URL, not several",
            ));
        }
    };
    let name = fields.get("name").cloned().filter(|n| !n.trim().is_empty());
    Ok(queue_job(app, access, input, name, tlp).await?.id)
}

/// A job's status; reloads itself until the job is done, then links to the report.
pub(crate) async fn job<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Page {
    let here = format!("/jobs/{id}");
    let access = visit(&app, &headers, &here).await?;
    let found = match id.parse::<i64>() {
        Ok(id) => app.store.job(id).await.or_page(&here)?,
        Err(_) => None,
    };
    let Some(job) = found else {
        return Err(error_page(
            ApiError::not_found(format!("no job {id}")),
            &here,
        ));
    };
    let finished = matches!(job.status, JobStatus::Done | JobStatus::Failed);
    Ok(page(
        "ui/job.html",
        context! {
            visitor => visitor(&access),
            job => job,
            finished => finished,
        },
    ))
}

/// A local path to go to after signing in (never another site).
fn local_target(next: Option<&String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .cloned()
        .unwrap_or_else(|| "/".to_owned())
}

pub(crate) async fn signin_form<S: Store>(
    State(app): Shared<S>,
    Query(params): Query<HashMap<String, String>>,
) -> Page {
    Ok(page(
        "ui/signin.html",
        context! {
            next => local_target(params.get("next")),
            anonymous => app.config.anonymous_read,
        },
    ))
}

/// Signs in with a token: a session cookie (HttpOnly, SameSite=Strict) for 12 hours.
pub(crate) async fn signin<S: Store>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let next = local_target(form.get("next"));
    let token = form.get("token").map(|t| t.trim()).unwrap_or_default();
    let refuse = |message: &str| {
        page_with_status(
            StatusCode::UNAUTHORIZED,
            "ui/signin.html",
            context! { next => next.clone(), error => message, anonymous => app.config.anonymous_read },
        )
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
        && origin.split_once("://").map(|(_, h)| h) != Some(host)
    {
        return Err(refuse("this form must be sent from this site"));
    }
    let found = app
        .store
        .token_by_hash(&auth::hash(token))
        .await
        .or_page("/signin")?;
    let Some(found) = found else {
        return Err(refuse(
            "that token is unknown or revoked; ask an admin for one",
        ));
    };
    let (Ok(secret), Ok(csrf)) = (auth::new_secret("ses_"), auth::new_secret("")) else {
        return Err(error_page(ApiError::internal("no randomness"), "/signin"));
    };
    let session = NewSession {
        hash: auth::hash(&secret),
        token: found.id,
        csrf,
        expires: jiff::Timestamp::now() + jiff::SignedDuration::from_hours(SESSION_HOURS),
    };
    if let Err(e) = app.store.create_session(session).await {
        return Err(error_page(e.into(), "/signin"));
    }
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        == Some("https");
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_HOURS * 3600,
        if secure { "; Secure" } else { "" }
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub(crate) async fn signout<S: Store>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let access = visit(&app, &headers, "/").await?;
    check_form(&access, &headers, form.get("csrf").map(String::as_str)).or_page("/")?;
    let session = auth::session_cookie(&headers);
    if let Some(session) = session {
        let _ = app.store.delete_session(&auth::hash(&session)).await;
    }
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("ctiforge_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

/// The admin of `here`, or the response that says why not.
async fn admin<S: Store>(
    app: &App<S>,
    headers: &HeaderMap,
    here: &str,
) -> Result<Access, Response> {
    let access = visit(app, headers, here).await?;
    access
        .require(Role::Admin)
        .map_err(|e| error_page(e, here))?;
    Ok(access)
}

pub(crate) async fn feeds<S: Store>(State(app): Shared<S>, headers: HeaderMap) -> Page {
    let access = admin(&app, &headers, "/admin/feeds").await?;
    let list = app.store.feeds().await.unwrap_or_default();
    Ok(page(
        "ui/feeds.html",
        context! { visitor => visitor(&access), feeds => list, tlps => Tlp::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>() },
    ))
}

pub(crate) async fn add_feed<S: Store>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let access = admin(&app, &headers, "/admin/feeds").await?;
    let result = async {
        check_form(&access, &headers, form.get("csrf").map(String::as_str))?;
        let url = form
            .get("url")
            .map(|u| u.trim().to_owned())
            .unwrap_or_default();
        if !ctiforge_fetch::is_url(&url) {
            return Err(ApiError::bad_request(format!(
                "{url:?} is not an http(s) URL"
            )));
        }
        let interval = form
            .get("interval")
            .and_then(|i| i.parse::<u32>().ok())
            .unwrap_or(3600)
            .clamp(60, 7 * 86_400);
        let tlp = form
            .get("tlp")
            .and_then(|t| t.parse::<Tlp>().ok())
            .unwrap_or(Tlp::Clear);
        app.store
            .add_feed(NewFeed {
                url,
                name: form.get("name").cloned().filter(|n| !n.trim().is_empty()),
                interval,
                tlp,
                now: jiff::Timestamp::now(),
            })
            .await?;
        Ok(())
    }
    .await;
    result.or_page("/admin/feeds")?;
    Ok(Redirect::to("/admin/feeds").into_response())
}

pub(crate) async fn feed_action<S: Store>(
    State(app): Shared<S>,
    Path((id, action)): Path<(i64, String)>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let access = admin(&app, &headers, "/admin/feeds").await?;
    check_form(&access, &headers, form.get("csrf").map(String::as_str)).or_page("/admin/feeds")?;
    let done = match action.as_str() {
        "delete" => app.store.delete_feed(id).await,
        "poll" => app.store.poll_feed_now(id).await,
        other => {
            return Err(error_page(
                ApiError::not_found(format!("no action {other:?}")),
                "/admin/feeds",
            ));
        }
    };
    if !done.or_page("/admin/feeds")? {
        return Err(error_page(
            ApiError::not_found(format!("no feed {id}")),
            "/admin/feeds",
        ));
    }
    Ok(Redirect::to("/admin/feeds").into_response())
}

pub(crate) async fn tokens<S: Store>(State(app): Shared<S>, headers: HeaderMap) -> Page {
    let access = admin(&app, &headers, "/admin/tokens").await?;
    tokens_page(&app, &access, None).await
}

async fn tokens_page<S: Store>(app: &App<S>, access: &Access, created: Option<Value>) -> Page {
    let list = app.store.tokens().await.unwrap_or_default();
    Ok(page(
        "ui/tokens.html",
        context! {
            visitor => visitor(access),
            tokens => list,
            created => created,
            tlps => Tlp::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        },
    ))
}

pub(crate) async fn create_token<S: Store>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let access = admin(&app, &headers, "/admin/tokens").await?;
    let result = async {
        check_form(&access, &headers, form.get("csrf").map(String::as_str))?;
        let role: Role = form
            .get("role")
            .map(String::as_str)
            .unwrap_or("reader")
            .parse()
            .map_err(|e| ApiError::bad_request(format!("{e}")))?;
        let max_tlp = form
            .get("max_tlp")
            .filter(|t| !t.is_empty())
            .map(|t| t.parse::<Tlp>())
            .transpose()
            .map_err(|e| ApiError::bad_request(format!("{e}")))?
            .unwrap_or(role.max_tlp());
        let name = form.get("name").cloned().unwrap_or_default();
        issue_token(&*app.store, &name, role, max_tlp).await
    }
    .await;
    let (token, secret) = result.or_page("/admin/tokens")?;
    let created = context! { name => token.name, secret => secret };
    tokens_page(&app, &access, Some(created)).await
}

pub(crate) async fn revoke_token<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let access = admin(&app, &headers, "/admin/tokens").await?;
    check_form(&access, &headers, form.get("csrf").map(String::as_str)).or_page("/admin/tokens")?;
    app.store.revoke_token(&id).await.or_page("/admin/tokens")?;
    Ok(Redirect::to("/admin/tokens").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_are_typed_by_their_prefix() {
        assert_eq!(
            parse_search("ioc: evil.example"),
            (Some(TermKind::Ioc), "evil.example".into())
        );
        assert_eq!(
            parse_search("technique:T1059"),
            (Some(TermKind::Technique), "T1059".into())
        );
        assert_eq!(
            parse_search("http://x.org/a"),
            (None, "http://x.org/a".into())
        );
        assert_eq!(
            parse_search(" lateral movement "),
            (None, "lateral movement".into())
        );
    }

    #[test]
    fn sign_in_goes_back_to_local_pages_only() {
        assert_eq!(local_target(Some(&"/reports/3".to_owned())), "/reports/3");
        assert_eq!(local_target(Some(&"//evil.example/x".to_owned())), "/");
        assert_eq!(local_target(Some(&"https://evil.example".to_owned())), "/");
        assert_eq!(local_target(None), "/");
    }

    #[test]
    fn a_typed_search_marks_its_value_in_the_sentence() {
        assert_eq!(
            mark("Beacon to EVIL.example/a", "evil.example"),
            "Beacon to «EVIL.example»/a"
        );
        assert_eq!(
            mark("café then evil.example", "evil.example"),
            "café then «evil.example»"
        );
        assert_eq!(mark("nothing here", "evil.example"), "nothing here");
        assert_eq!(mark("x", ""), "x");
    }

    #[test]
    fn the_source_text_keeps_evidence_offsets() {
        let text = "First sentence here. Second one.\n\nNew paragraph.";
        let paragraphs = source_text(text);
        assert_eq!(paragraphs.len(), 2);
        for sentence in paragraphs.iter().flatten() {
            assert_eq!(&text[sentence.start..sentence.end], sentence.text);
        }
    }
}
