//! Fetching a report from an `http(s)` URL, safely.
//!
//! A report URL comes from someone else's text. Fetching it must not become a way to reach the
//! analyst's own network (server-side request forgery): every address a host name resolves to
//! is checked — for the first request and after every redirect — and loopback, private,
//! link-local (cloud metadata at 169.254.169.254), CGNAT, multicast and reserved addresses are
//! refused unless `--allow-private` is given. The check runs inside the HTTP client's resolver,
//! so the addresses checked are the addresses connected to (no window for DNS rebinding).

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, bail};
use ureq::ResponseExt;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// Largest report body read.
const MAX_BYTES: u64 = 50 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);
const MAX_REDIRECTS: u32 = 5;

/// What a fetch returns.
pub struct Fetched {
    /// The body.
    pub bytes: Vec<u8>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The URL after redirects.
    pub final_url: String,
}

/// Whether an argument is a URL ctiforge fetches.
pub fn is_url(argument: &str) -> bool {
    let lower = argument.get(..8).unwrap_or(argument).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Fetches `url`, refusing non-public addresses unless `allow_private`.
pub fn fetch(url: &str, allow_private: bool) -> anyhow::Result<Fetched> {
    let config = Config::builder()
        .timeout_global(Some(TIMEOUT))
        .max_redirects(MAX_REDIRECTS)
        .user_agent(format!("ctiforge/{}", env!("CARGO_PKG_VERSION")))
        .http_status_as_error(true)
        .build();
    let agent = ureq::Agent::with_parts(
        config,
        DefaultConnector::new(),
        GuardedResolver { allow_private },
    );
    let mut response = agent.get(url).call().map_err(|e| explain(url, e))?;
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let final_url = response.get_uri().to_string();
    let mut bytes = Vec::new();
    response
        .body_mut()
        .as_reader()
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read the response from {url}"))?;
    if bytes.len() as u64 > MAX_BYTES {
        bail!(
            "{url} is larger than {} MB; download it and pass the file instead",
            MAX_BYTES / 1024 / 1024
        );
    }
    Ok(Fetched {
        bytes,
        content_type,
        final_url,
    })
}

fn explain(url: &str, error: ureq::Error) -> anyhow::Error {
    match error {
        ureq::Error::Other(inner) => anyhow::anyhow!("cannot fetch {url}: {inner}"),
        ureq::Error::StatusCode(code) => {
            anyhow::anyhow!("cannot fetch {url}: the server answered HTTP {code}")
        }
        ureq::Error::TooManyRedirects => {
            anyhow::anyhow!("cannot fetch {url}: more than {MAX_REDIRECTS} redirects")
        }
        ureq::Error::Timeout(_) => {
            anyhow::anyhow!(
                "cannot fetch {url}: no complete answer within {} s",
                TIMEOUT.as_secs()
            )
        }
        other => anyhow::anyhow!("cannot fetch {url}: {other}"),
    }
}

/// Resolves like the default resolver, then refuses non-public addresses.
#[derive(Debug)]
struct GuardedResolver {
    allow_private: bool,
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addresses = DefaultResolver::default().resolve(uri, config, timeout)?;
        if !self.allow_private
            && let Some(address) = addresses.iter().find(|a| !is_public(a))
        {
            let host = uri.host().unwrap_or("?");
            return Err(ureq::Error::Other(
                    format!(
                        "{host} resolves to {} ({}); refusing to fetch it (pass --allow-private to allow)",
                        address.ip(),
                        reason(address.ip()).unwrap_or("not public")
                    )
                    .into(),
                ));
        }
        Ok(addresses)
    }
}

fn is_public(address: &SocketAddr) -> bool {
    reason(address.ip()).is_none()
}

/// Why an address may not be fetched from (the special-purpose ranges of RFC 6890, as the
/// IOC extractor classifies them), or `None` for a public address.
fn reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => ctiforge_ioc::validate::special_ipv4(v4),
        IpAddr::V6(v6) => ctiforge_ioc::validate::special_ipv6(v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_may_be_fetched() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.10",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(
                reason(ip.parse().expect("ip")).is_some(),
                "{ip} must be refused"
            );
        }
        for ip in ["93.184.216.34", "2606:4700::1111"] {
            assert_eq!(reason(ip.parse().expect("ip")), None, "{ip} is public");
        }
        assert!(
            reason("169.254.169.254".parse().expect("ip"))
                .is_some_and(|r| r.contains("link-local"))
        );
    }

    #[test]
    fn urls_are_recognized() {
        assert!(is_url("https://example.com/report"));
        assert!(is_url("HTTP://example.com"));
        assert!(!is_url("report.html"));
        assert!(!is_url("ftp://example.com/x"));
    }
}
