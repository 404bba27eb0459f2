//! Errors as HTTP answers: `application/problem+json` (RFC 9457) for the REST API and the web
//! UI's calls, TAXII's error resource for TAXII. A client's mistake is a 4xx that says what to
//! do; anything else is logged and answered with a plain 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ctiforge_store::StoreError;
use serde_json::json;

/// An error of the REST API.
#[derive(Debug)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// A short title.
    pub title: &'static str,
    /// What went wrong and what to do.
    pub detail: String,
    /// A `WWW-Authenticate` challenge, for 401.
    pub challenge: Option<&'static str>,
}

impl ApiError {
    /// A 4xx with a title and a detail.
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title,
            detail: detail.into(),
            challenge: None,
        }
    }

    /// 400.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", detail)
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }

    /// 401 with a challenge.
    pub fn unauthorized(detail: impl Into<String>, challenge: &'static str) -> Self {
        Self {
            challenge: Some(challenge),
            ..Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail)
        }
    }

    /// 500: the cause is logged, the client told only that it is the server's fault.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "the server failed to answer; the error is in its log",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Cursor(_) => ApiError::bad_request(error.to_string()),
            StoreError::NotFound { .. } => ApiError::not_found(error.to_string()),
            StoreError::Conflict { .. } => {
                ApiError::new(StatusCode::CONFLICT, "Conflict", error.to_string())
            }
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        let mut response = (self.status, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// The TAXII 2.1 media type.
pub const TAXII: &str = "application/taxii+json;version=2.1";

/// An error of the TAXII API: TAXII's error message resource (TAXII 2.1 §3.6.1).
#[derive(Debug)]
pub struct TaxiiError(pub ApiError);

impl From<ApiError> for TaxiiError {
    fn from(error: ApiError) -> Self {
        TaxiiError(error)
    }
}

impl From<StoreError> for TaxiiError {
    fn from(error: StoreError) -> Self {
        TaxiiError(error.into())
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let error = self.0;
        let body = json!({
            "title": error.title,
            "description": error.detail,
            "http_status": error.status.as_u16().to_string(),
        });
        let mut response = (error.status, body.to_string()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII));
        if let Some(challenge) = error.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}
