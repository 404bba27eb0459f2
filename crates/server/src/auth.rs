//! Who is asking: a token (Bearer for REST, HTTP Basic with the token as password for TAXII
//! clients, or the web UI's session cookie), or nobody (with `--anonymous-read`). Tokens are
//! 256 random bits, stored as their SHA-256 (decision 0012).

use axum::http::HeaderMap;
use axum::http::header;
use base64::Engine;
use ctiforge_model::Tlp;
use ctiforge_store::{Role, Store, Token, visible_tlps};
use sha2::{Digest, Sha256};

use crate::App;
use crate::error::ApiError;

/// The name of the web UI's session cookie.
pub const SESSION_COOKIE: &str = "ctiforge_session";

/// Lower-case hex SHA-256.
pub fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new random secret with a prefix (`ctf_…` for tokens): 256 bits, URL-safe.
pub fn new_secret(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// What the caller may do.
#[derive(Debug, Clone)]
pub struct Access {
    /// The token, when one was given.
    pub token: Option<Token>,
    /// The highest TLP level readable.
    pub max_tlp: Tlp,
    /// The session's CSRF secret, when signed in through the web UI.
    pub csrf: Option<String>,
}

impl Access {
    /// The caller's role; none for anonymous reading.
    pub fn role(&self) -> Option<Role> {
        self.token.as_ref().map(|t| t.role)
    }

    /// Refuses unless the caller's role is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        match self.role() {
            Some(have) if have >= role => Ok(()),
            Some(have) => Err(ApiError::forbidden(format!(
                "this needs a {role} token; yours is a {have} token"
            ))),
            None => Err(ApiError::unauthorized(
                format!("this needs a {role} token: send `Authorization: Bearer TOKEN`"),
                "Bearer",
            )),
        }
    }

    /// The TLP levels the caller may read.
    pub fn visible(&self) -> Vec<Tlp> {
        visible_tlps(self.max_tlp)
    }

    /// Refuses unless the caller may read `tlp`.
    pub fn may_read(&self, tlp: Tlp) -> Result<(), ApiError> {
        if tlp <= self.max_tlp {
            return Ok(());
        }
        Err(ApiError::forbidden(format!(
            "this is {}; your access reads up to {}",
            tlp.marking(),
            self.max_tlp.marking()
        )))
    }
}

/// The session secret of the request's `ctiforge_session` cookie.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE).then(|| value.to_owned())
        })
}

/// The token a request carries: `Authorization: Bearer T`, `Authorization: Basic` with the
/// token as password, or the session cookie (returned separately).
fn credentials(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, value) = v.trim().split_once(' ')?;
            match scheme.to_ascii_lowercase().as_str() {
                "bearer" => Some(value.trim().to_owned()),
                "basic" => {
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(value.trim())
                        .ok()?;
                    let text = String::from_utf8(decoded).ok()?;
                    text.split_once(':')
                        .map(|(_, password)| password.to_owned())
                }
                _ => None,
            }
        });
    (bearer, session_cookie(headers))
}

/// Who is asking. A wrong, revoked or expired credential is refused (401) even when anonymous
/// reading is on, so that a client learns its token no longer works.
pub async fn access<S: Store>(
    app: &App<S>,
    headers: &HeaderMap,
    challenge: &'static str,
) -> Result<Access, ApiError> {
    let (token, session) = credentials(headers);
    if let Some(token) = token {
        let found = app.store.token_by_hash(&hash(&token)).await?;
        return match found {
            Some(token) => Ok(Access {
                max_tlp: token.max_tlp,
                token: Some(token),
                csrf: None,
            }),
            None => Err(ApiError::unauthorized(
                "the token is unknown or revoked; ask an admin for a new one (`ctiforge token create`)",
                challenge,
            )),
        };
    }
    if let Some(session) = session {
        let found = app
            .store
            .session(&hash(&session), jiff::Timestamp::now())
            .await?;
        if let Some((session, token)) = found {
            return Ok(Access {
                max_tlp: token.max_tlp,
                token: Some(token),
                csrf: Some(session.csrf),
            });
        }
    }
    if app.config.anonymous_read {
        return Ok(Access {
            token: None,
            max_tlp: Tlp::Clear,
            csrf: None,
        });
    }
    Err(ApiError::unauthorized(
        "this needs a token: send `Authorization: Bearer TOKEN` (TAXII clients: HTTP Basic with the token as password)",
        challenge,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn credentials_come_from_bearer_basic_or_the_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer ctf_abc"),
        );
        assert_eq!(credentials(&headers).0.as_deref(), Some("ctf_abc"));
        let basic = base64::engine::general_purpose::STANDARD.encode("any-user:ctf_xyz");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {basic}")).expect("header"),
        );
        assert_eq!(credentials(&headers).0.as_deref(), Some("ctf_xyz"));
        headers.remove(header::AUTHORIZATION);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; ctiforge_session=s3cret"),
        );
        assert_eq!(credentials(&headers), (None, Some("s3cret".into())));
    }

    #[test]
    fn secrets_are_random_and_hashes_stable() {
        let a = new_secret("ctf_").expect("random");
        let b = new_secret("ctf_").expect("random");
        assert_ne!(a, b);
        assert!(a.starts_with("ctf_") && a.len() == 4 + 43);
        assert_eq!(hash("x"), hash("x"));
        assert_eq!(hash("x").len(), 64);
    }
}
