//! TAXII 2.1 (OASIS, 2021): discovery, one API root, collections (all reports, and one per TLP
//! level the caller may read), objects with `added_after`, `match[id|type|version|spec_version]`
//! and `limit`/`next` paging that stays correct while objects are added, an object and its
//! versions, the manifest, adding objects with a status resource. Every answer is
//! `application/taxii+json;version=2.1`; errors are TAXII error resources.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ctiforge_model::Tlp;
use ctiforge_store::stix::{self as taxii, NewObject, Status, StatusDetail, Versions};
use ctiforge_store::{Cursor, Role, Store, time_text};
use serde_json::{Value, json};

use crate::App;
use crate::auth::{self, Access};
use crate::error::{ApiError, TAXII, TaxiiError};

type Shared<S> = State<Arc<App<S>>>;
type Answer = Result<Response, TaxiiError>;

/// The Basic challenge TAXII clients answer with the token as password.
const CHALLENGE: &str = "Basic realm=\"ctiforge TAXII\", charset=\"UTF-8\"";
/// Objects per page unless the client asks for fewer.
const DEFAULT_LIMIT: u32 = 100;
/// Objects per page at most.
const MAX_LIMIT: u32 = 1000;

/// A collection: all reports the caller may read, or the reports of one TLP level.
struct Collection {
    id: &'static str,
    title: &'static str,
    tlp: Option<Tlp>,
}

const COLLECTIONS: &[Collection] = &[
    Collection {
        id: "9a3c7e52-0d4b-4f6e-8a1c-2b5d7f901a01",
        title: "All reports",
        tlp: None,
    },
    Collection {
        id: "9a3c7e52-0d4b-4f6e-8a1c-2b5d7f901a02",
        title: "TLP:CLEAR reports",
        tlp: Some(Tlp::Clear),
    },
    Collection {
        id: "9a3c7e52-0d4b-4f6e-8a1c-2b5d7f901a03",
        title: "TLP:GREEN reports",
        tlp: Some(Tlp::Green),
    },
    Collection {
        id: "9a3c7e52-0d4b-4f6e-8a1c-2b5d7f901a04",
        title: "TLP:AMBER reports",
        tlp: Some(Tlp::Amber),
    },
    Collection {
        id: "9a3c7e52-0d4b-4f6e-8a1c-2b5d7f901a05",
        title: "TLP:AMBER+STRICT reports",
        tlp: Some(Tlp::AmberStrict),
    },
    Collection {
        id: "9a3c7e52-0d4b-4f6e-8a1c-2b5d7f901a06",
        title: "TLP:RED reports",
        tlp: Some(Tlp::Red),
    },
];

pub(crate) fn routes<S: Store>() -> Router<Arc<App<S>>> {
    let mut router = Router::new();
    // TAXII URLs end in `/`; the same resources answer without it too.
    for (path, method) in [
        ("/taxii2", get(discovery::<S>)),
        ("/taxii2/api", get(api_root::<S>)),
        ("/taxii2/api/status/{id}", get(status::<S>)),
        ("/taxii2/api/collections", get(collections::<S>)),
        ("/taxii2/api/collections/{collection}", get(collection::<S>)),
        (
            "/taxii2/api/collections/{collection}/objects",
            get(objects::<S>).post(add_objects::<S>),
        ),
        (
            "/taxii2/api/collections/{collection}/objects/{object}",
            get(object::<S>),
        ),
        (
            "/taxii2/api/collections/{collection}/objects/{object}/versions",
            get(versions::<S>),
        ),
        (
            "/taxii2/api/collections/{collection}/manifest",
            get(manifest::<S>),
        ),
    ] {
        router = router
            .route(&format!("{path}/"), method.clone())
            .route(path, method);
    }
    router
}

fn taxii_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII));
    response
}

/// Refuses a request whose `Accept` allows no TAXII 2.1 answer (406).
fn check_accept(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let acceptable = accept.split(',').any(|range| {
        let range = range.trim().to_ascii_lowercase().replace(' ', "");
        let media = range.split(';').next().unwrap_or("");
        match media {
            "*/*" | "application/*" => true,
            "application/taxii+json" => {
                !range.contains("version=") || range.contains("version=2.1")
            }
            _ => false,
        }
    });
    if acceptable {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!("this server answers {TAXII} only; the request accepts {accept:?}"),
        )
        .into())
    }
}

async fn caller<S: Store>(app: &App<S>, headers: &HeaderMap) -> Result<Access, TaxiiError> {
    check_accept(headers)?;
    Ok(auth::access(app, headers, CHALLENGE).await?)
}

/// The request's own base URL, for discovery.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|s| *s == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

async fn discovery<S: Store>(State(app): Shared<S>, headers: HeaderMap) -> Answer {
    caller(&app, &headers).await?;
    let root = format!("{}/taxii2/api/", base_url(&headers));
    Ok(taxii_json(
        StatusCode::OK,
        &json!({
            "title": "ctiforge",
            "description": "Threat reports analysed by ctiforge: techniques, indicators, actors, vulnerabilities, mitigations and detection rules as STIX 2.1.",
            "contact": "the administrators of this ctiforge server",
            "default": root,
            "api_roots": [root],
        }),
    ))
}

async fn api_root<S: Store>(State(app): Shared<S>, headers: HeaderMap) -> Answer {
    caller(&app, &headers).await?;
    Ok(taxii_json(
        StatusCode::OK,
        &json!({
            "title": "ctiforge reports",
            "description": "One collection of every report the caller may read, and one per TLP level.",
            "versions": [TAXII],
            "max_content_length": app.config.max_body,
        }),
    ))
}

fn describe(collection: &Collection, access: &Access) -> Value {
    let can_write = collection.tlp.is_some_and(|tlp| tlp <= access.max_tlp)
        && access.role().is_some_and(|r| r >= Role::Writer);
    json!({
        "id": collection.id,
        "title": collection.title,
        "description": match collection.tlp {
            None => "Every STIX object of the reports you may read.".to_owned(),
            Some(tlp) => format!("STIX objects of the {} reports.", tlp.marking()),
        },
        "can_read": true,
        "can_write": can_write,
        "media_types": ["application/stix+json;version=2.1"],
    })
}

fn visible_collections(access: &Access) -> impl Iterator<Item = &'static Collection> + '_ {
    COLLECTIONS
        .iter()
        .filter(move |c| c.tlp.is_none_or(|tlp| tlp <= access.max_tlp))
}

async fn collections<S: Store>(State(app): Shared<S>, headers: HeaderMap) -> Answer {
    let access = caller(&app, &headers).await?;
    let list: Vec<Value> = visible_collections(&access)
        .map(|c| describe(c, &access))
        .collect();
    Ok(taxii_json(StatusCode::OK, &json!({"collections": list})))
}

/// A collection the caller may read, and the TLP levels it shows.
fn find(access: &Access, id: &str) -> Result<(&'static Collection, Vec<Tlp>), TaxiiError> {
    let collection = COLLECTIONS.iter().find(|c| c.id == id).ok_or_else(|| {
        ApiError::not_found(format!(
            "no collection {id:?}; GET /taxii2/api/collections/ lists them"
        ))
    })?;
    let tlps = match collection.tlp {
        None => access.visible(),
        Some(tlp) if tlp <= access.max_tlp => vec![tlp],
        Some(tlp) => {
            return Err(ApiError::forbidden(format!(
                "{} is for tokens that may read {}",
                collection.title,
                tlp.marking()
            ))
            .into());
        }
    };
    Ok((collection, tlps))
}

async fn collection<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let access = caller(&app, &headers).await?;
    let (collection, _) = find(&access, &id)?;
    Ok(taxii_json(StatusCode::OK, &describe(collection, &access)))
}

fn list_param(params: &[(String, String)], key: &str) -> Vec<String> {
    params
        .iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The store query of a request's filters and paging.
fn query_of(
    params: &[(String, String)],
    tlps: Vec<Tlp>,
    bodies: bool,
) -> Result<taxii::Query, TaxiiError> {
    let single = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let limit = match single("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .map(|n| n.min(MAX_LIMIT))
            .ok_or_else(|| {
                ApiError::bad_request(format!("`limit` {text:?} is not a positive number"))
            })?,
    };
    let added_after = single("added_after")
        .map(|text| {
            text.parse::<jiff::Timestamp>().map(time_text).map_err(|_| {
                ApiError::bad_request(format!(
                    "`added_after` {text:?} is not a timestamp such as 2026-11-03T00:00:00Z"
                ))
            })
        })
        .transpose()?;
    let after = single("next")
        .map(|text| Cursor::decode("stix", text).map_err(|e| ApiError::bad_request(e.to_string())))
        .transpose()?;
    let versions = {
        let wanted = list_param(params, "match[version]");
        if wanted.is_empty() {
            Versions::Last
        } else {
            Versions::parse(&wanted.join(","))
        }
    };
    Ok(taxii::Query {
        tlps,
        added_after,
        ids: list_param(params, "match[id]"),
        types: list_param(params, "match[type]"),
        versions,
        spec_versions: list_param(params, "match[spec_version]"),
        limit,
        after,
        bodies,
    })
}

/// Adds the date-added headers of a page.
fn with_dates(mut response: Response, page: &taxii::ObjectPage) -> Response {
    if let (Some(first), Some(last)) = (page.objects.first(), page.objects.last()) {
        for (name, value) in [
            ("x-taxii-date-added-first", &first.added),
            ("x-taxii-date-added-last", &last.added),
        ] {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
}

fn envelope(page: &taxii::ObjectPage) -> Value {
    let mut body = json!({"more": page.more});
    if let Some(next) = &page.next {
        body["next"] = json!(next);
    }
    let objects: Vec<&Value> = page
        .objects
        .iter()
        .filter_map(|o| o.body.as_ref())
        .collect();
    if !objects.is_empty() {
        body["objects"] = json!(objects);
    }
    body
}

async fn objects<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Answer {
    let access = caller(&app, &headers).await?;
    let (_, tlps) = find(&access, &id)?;
    objects_page(&app, &params, tlps, None).await
}

/// The envelope of the objects a request selects; with `object`, a 404 when there are none.
async fn objects_page<S: Store>(
    app: &App<S>,
    params: &[(String, String)],
    tlps: Vec<Tlp>,
    object: Option<&str>,
) -> Answer {
    let page = app
        .store
        .stix_objects(&query_of(params, tlps, true)?)
        .await?;
    if let Some(object) = object
        && page.objects.is_empty()
    {
        return Err(ApiError::not_found(format!("no object {object} in this collection")).into());
    }
    Ok(with_dates(
        taxii_json(StatusCode::OK, &envelope(&page)),
        &page,
    ))
}

async fn object<S: Store>(
    State(app): Shared<S>,
    Path((collection, object)): Path<(String, String)>,
    Query(mut params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Answer {
    let access = caller(&app, &headers).await?;
    let (_, tlps) = find(&access, &collection)?;
    params.retain(|(k, _)| k != "match[id]");
    params.push(("match[id]".into(), object.clone()));
    objects_page(&app, &params, tlps, Some(&object)).await
}

async fn versions<S: Store>(
    State(app): Shared<S>,
    Path((collection, object)): Path<(String, String)>,
    Query(mut params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Answer {
    let access = caller(&app, &headers).await?;
    let (_, tlps) = find(&access, &collection)?;
    params.retain(|(k, _)| k != "match[id]" && k != "match[version]");
    params.push(("match[id]".into(), object.clone()));
    params.push(("match[version]".into(), "all".into()));
    let page = app
        .store
        .stix_objects(&query_of(&params, tlps, false)?)
        .await?;
    if page.objects.is_empty() {
        return Err(ApiError::not_found(format!("no object {object} in this collection")).into());
    }
    let mut body = json!({
        "more": page.more,
        "versions": page.objects.iter().map(|o| o.version.clone()).collect::<Vec<_>>(),
    });
    if let Some(next) = &page.next {
        body["next"] = json!(next);
    }
    Ok(with_dates(taxii_json(StatusCode::OK, &body), &page))
}

async fn manifest<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Answer {
    let access = caller(&app, &headers).await?;
    let (_, tlps) = find(&access, &id)?;
    let page = app
        .store
        .stix_objects(&query_of(&params, tlps, false)?)
        .await?;
    let records: Vec<Value> = page
        .objects
        .iter()
        .map(|o| {
            json!({
                "id": o.id,
                "date_added": o.added,
                "version": o.version,
                "media_type": "application/stix+json;version=2.1",
            })
        })
        .collect();
    let mut body = json!({"more": page.more});
    if let Some(next) = &page.next {
        body["next"] = json!(next);
    }
    if !records.is_empty() {
        body["objects"] = json!(records);
    }
    Ok(with_dates(taxii_json(StatusCode::OK, &body), &page))
}

/// `POST …/objects/`: an envelope of STIX objects into a TLP collection (writers). Answers 202
/// with a status resource saying which objects were stored and why any were refused.
async fn add_objects<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let access = caller(&app, &headers).await?;
    access.require(Role::Writer)?;
    let (collection, _) = find(&access, &id)?;
    let Some(tlp) = collection.tlp else {
        return Err(ApiError::forbidden(
            "\"All reports\" cannot be written; add objects to the collection of their TLP level",
        )
        .into());
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
        .replace(' ', "");
    if !content_type.starts_with("application/taxii+json") || content_type.contains("version=2.0") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("send an envelope as {TAXII}"),
        )
        .into());
    }
    let envelope: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let Some(objects) = envelope["objects"].as_array() else {
        return Err(ApiError::bad_request(
            "the body is not a TAXII envelope: expected {\"objects\": [STIX objects]}",
        )
        .into());
    };
    let now = jiff::Timestamp::now();
    let mut failures = Vec::new();
    let mut accepted = Vec::new();
    for object in objects {
        match taxii::check_object(object) {
            Ok(()) => accepted.push(NewObject {
                body: object.clone(),
                tlp,
                report: None,
                now,
            }),
            Err(message) => failures.push(StatusDetail {
                id: object["id"].as_str().unwrap_or("(no id)").to_owned(),
                version: None,
                message: Some(message),
            }),
        }
    }
    let added = app.store.add_stix_objects(accepted).await?;
    let successes: Vec<StatusDetail> = added
        .into_iter()
        .map(|a| StatusDetail {
            id: a.id,
            message: (!a.stored).then(|| "already stored with the same content".to_owned()),
            version: Some(a.version),
        })
        .collect();
    let status = Status {
        id: status_id().map_err(ApiError::internal)?,
        status: "complete".into(),
        request_timestamp: time_text(now),
        total_count: objects.len() as u64,
        success_count: successes.len() as u64,
        successes,
        failure_count: failures.len() as u64,
        failures,
        pending_count: 0,
        pendings: Vec::new(),
    };
    app.store.put_taxii_status(&status).await?;
    Ok(taxii_json(StatusCode::ACCEPTED, &json!(status)))
}

/// A random (version 4) UUID for a status resource.
fn status_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string())
}

async fn status<S: Store>(
    State(app): Shared<S>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    caller(&app, &headers).await?;
    let status = app
        .store
        .taxii_status(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no status resource {id}")))?;
    Ok(taxii_json(StatusCode::OK, &json!(status)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_are_read_as_taxii_says() {
        let check = |accept: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT,
                HeaderValue::from_str(accept).expect("header"),
            );
            check_accept(&headers).is_ok()
        };
        assert!(check("application/taxii+json;version=2.1"));
        assert!(check("application/taxii+json; version=2.1"));
        assert!(check("application/taxii+json"));
        assert!(check("text/html, */*;q=0.1"));
        assert!(!check("application/taxii+json;version=2.0"));
        assert!(!check("text/html"));
        assert!(check_accept(&HeaderMap::new()).is_ok());
    }

    #[test]
    fn query_parameters_become_a_store_query() {
        let params = vec![
            ("match[type]".to_owned(), "indicator,malware".to_owned()),
            ("match[version]".to_owned(), "all".to_owned()),
            ("limit".to_owned(), "5000".to_owned()),
            ("added_after".to_owned(), "2026-11-03T10:00:00Z".to_owned()),
        ];
        let query = query_of(&params, vec![Tlp::Clear], true).expect("valid");
        assert_eq!(query.types, ["indicator", "malware"]);
        assert_eq!(query.versions, Versions::All);
        assert_eq!(query.limit, MAX_LIMIT);
        assert_eq!(
            query.added_after.as_deref(),
            Some("2026-11-03T10:00:00.000000Z")
        );
        let bad = vec![("added_after".to_owned(), "yesterday".to_owned())];
        assert!(query_of(&bad, vec![], true).is_err());
        let bad = vec![("next".to_owned(), "garbage".to_owned())];
        assert!(query_of(&bad, vec![], true).is_err());
    }
}
