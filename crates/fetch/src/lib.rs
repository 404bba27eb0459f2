//! Fetching a report from an `http(s)` URL, safely.
//!
//! A report URL comes from someone else's text (a submission, a feed entry). Fetching it must
//! not become a way to reach the analyst's own network (server-side request forgery):
//!
//! - every address the target host resolves to is checked — loopback, private, link-local
//!   (cloud metadata at 169.254.169.254), CGNAT, multicast and reserved addresses are refused
//!   unless [`Options::allow_private`] — and the check runs inside the HTTP client's resolver,
//!   so the addresses checked are the addresses connected to (no window for DNS rebinding);
//! - redirects are followed here, one hop at a time, so each new target is checked the same way;
//! - proxies from the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`) are ignored: through
//!   a proxy the client would resolve only the proxy's name, and an internal URL would pass. A
//!   proxy is used only when given in [`Options::proxy`], and then the target's own addresses
//!   are resolved and checked before each request (the proxy resolves again; a name whose
//!   records change between the two look-ups is the remaining risk, stated in the docs);
//! - the body is read up to [`Options::max_bytes`] and the whole exchange within
//!   [`Options::timeout`].
//!
//! ```no_run
//! let fetched = ctiforge_fetch::fetch("https://example.com/report", &Default::default()).unwrap();
//! println!("{} bytes from {}", fetched.bytes.len(), fetched.final_url);
//! ```
#![deny(missing_docs)]

use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// How a fetch is bounded.
#[derive(Debug, Clone)]
pub struct Options {
    /// Allow loopback, private and link-local targets (a lab, a local mirror).
    pub allow_private: bool,
    /// A proxy to send requests through (`http://proxy:3128`); the environment's proxies are
    /// never used.
    pub proxy: Option<String>,
    /// The largest body read.
    pub max_bytes: u64,
    /// The longest the whole exchange may take, redirects included.
    pub timeout: Duration,
    /// Redirects followed at most.
    pub max_redirects: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            allow_private: false,
            proxy: None,
            max_bytes: 50 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            max_redirects: 5,
        }
    }
}

/// Why a URL could not be fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Only `http` and `https` URLs are fetched.
    #[error("{url} is not an http(s) URL")]
    Scheme {
        /// The URL.
        url: String,
    },
    /// The target is not a public address.
    #[error(
        "{url}: {host} resolves to {address} ({reason}), which is not a public address; refusing to fetch it"
    )]
    NotPublic {
        /// The URL.
        url: String,
        /// Its host.
        host: String,
        /// The address refused.
        address: IpAddr,
        /// Why.
        reason: &'static str,
    },
    /// The server answered with an error status.
    #[error("cannot fetch {url}: the server answered HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// Too many redirects, or a redirect without a usable location.
    #[error("cannot fetch {url}: {message}")]
    Redirect {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The body is larger than the limit.
    #[error("{url} is larger than {limit} bytes; download it and pass the file instead")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// No complete answer in time.
    #[error("cannot fetch {url}: no complete answer within {seconds} s")]
    Timeout {
        /// The URL.
        url: String,
        /// The limit.
        seconds: u64,
    },
    /// Any other transport failure (DNS, TLS, connection).
    #[error("cannot fetch {url}: {message}")]
    Transport {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
}

/// What a fetch returns.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The body.
    pub bytes: Vec<u8>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The URL after redirects.
    pub final_url: String,
    /// The `ETag` header, for a conditional request next time.
    pub etag: Option<String>,
    /// The `Last-Modified` header, likewise.
    pub last_modified: Option<String>,
}

/// Whether an argument is a URL ctiforge fetches.
pub fn is_url(argument: &str) -> bool {
    let lower = argument.get(..8).unwrap_or(argument).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Fetches `url` within the bounds of `options`.
pub fn fetch(url: &str, options: &Options) -> Result<Fetched, Error> {
    fetch_with_headers(url, options, &[]).map(|answer| match answer {
        Answer::Body(fetched) => fetched,
        Answer::NotModified => Fetched {
            bytes: Vec::new(),
            content_type: None,
            final_url: url.to_owned(),
            etag: None,
            last_modified: None,
        },
    })
}

/// The outcome of a conditional fetch.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A body.
    Body(Fetched),
    /// `304 Not Modified`: the copy the request named is current.
    NotModified,
}

/// Fetches `url` with extra request headers (`If-None-Match`, `If-Modified-Since` for feed
/// polling), following redirects itself so that each hop's target is checked.
pub fn fetch_with_headers(
    url: &str,
    options: &Options,
    headers: &[(&str, &str)],
) -> Result<Answer, Error> {
    let started = std::time::Instant::now();
    let mut current = url.to_owned();
    for _ in 0..=options.max_redirects {
        let uri: Uri = current.parse().map_err(|_| Error::Scheme {
            url: current.clone(),
        })?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(Error::Scheme { url: current });
        }
        if options.proxy.is_some() && !options.allow_private {
            check_target(&current, &uri)?;
        }
        let remaining = options.timeout.saturating_sub(started.elapsed());
        if remaining.is_zero() {
            return Err(Error::Timeout {
                url: url.to_owned(),
                seconds: options.timeout.as_secs(),
            });
        }
        let agent = agent(options, remaining)?;
        let mut request = agent.get(&current);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request.call().map_err(|e| explain(&current, options, e))?;
        let status = response.status().as_u16();
        if (300..400).contains(&status) && status != 304 {
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| Error::Redirect {
                    url: current.clone(),
                    message: format!("HTTP {status} without a Location header"),
                })?;
            current = resolve_location(&uri, location).ok_or_else(|| Error::Redirect {
                url: current.clone(),
                message: format!("HTTP {status} to an unusable location {location:?}"),
            })?;
            continue;
        }
        if status == 304 {
            return Ok(Answer::NotModified);
        }
        if status >= 400 {
            return Err(Error::Status {
                url: current,
                status,
            });
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type");
        let etag = header("etag");
        let last_modified = header("last-modified");
        let mut bytes = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(options.max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::TimedOut => Error::Timeout {
                    url: current.clone(),
                    seconds: options.timeout.as_secs(),
                },
                _ => Error::Transport {
                    url: current.clone(),
                    message: format!("cannot read the response: {e}"),
                },
            })?;
        if bytes.len() as u64 > options.max_bytes {
            return Err(Error::TooLarge {
                url: current,
                limit: options.max_bytes,
            });
        }
        return Ok(Answer::Body(Fetched {
            bytes,
            content_type,
            final_url: current,
            etag,
            last_modified,
        }));
    }
    Err(Error::Redirect {
        url: url.to_owned(),
        message: format!("more than {} redirects", options.max_redirects),
    })
}

fn agent(options: &Options, timeout: Duration) -> Result<ureq::Agent, Error> {
    let proxy = match &options.proxy {
        Some(proxy) => Some(ureq::Proxy::new(proxy).map_err(|e| Error::Transport {
            url: proxy.clone(),
            message: format!("not a usable proxy: {e}"),
        })?),
        None => None,
    };
    let config = Config::builder()
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .http_status_as_error(false)
        .proxy(proxy)
        .user_agent(format!("ctiforge/{}", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(ureq::Agent::with_parts(
        config,
        DefaultConnector::new(),
        GuardedResolver {
            allow_private: options.allow_private || options.proxy.is_some(),
        },
    ))
}

/// A redirect's `Location`, absolute or relative to the URL that answered.
fn resolve_location(base: &Uri, location: &str) -> Option<String> {
    if is_url(location) {
        return Some(location.to_owned());
    }
    let scheme = base.scheme_str()?;
    let authority = base.authority()?.as_str();
    if let Some(rest) = location.strip_prefix("//") {
        return Some(format!("{scheme}://{rest}"));
    }
    if location.starts_with('/') {
        return Some(format!("{scheme}://{authority}{location}"));
    }
    let path = base.path();
    let directory = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let directory = if directory.is_empty() { "/" } else { directory };
    Some(format!("{scheme}://{authority}{directory}{location}"))
}

/// Resolves the target's host (through a proxy, the client resolves only the proxy) and
/// refuses it when any address is not public.
fn check_target(url: &str, uri: &Uri) -> Result<(), Error> {
    let host = uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    let addresses: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::Transport {
            url: url.to_owned(),
            message: format!("cannot resolve {host}: {e}"),
        })?
        .collect();
    match addresses
        .iter()
        .find_map(|a| reason(a.ip()).map(|r| (a, r)))
    {
        Some((address, reason)) => Err(Error::NotPublic {
            url: url.to_owned(),
            host: host.to_owned(),
            address: address.ip(),
            reason,
        }),
        None => Ok(()),
    }
}

fn explain(url: &str, options: &Options, error: ureq::Error) -> Error {
    if let ureq::Error::Other(inner) = &error
        && let Some(refused) = inner.downcast_ref::<Refused>()
    {
        return Error::NotPublic {
            url: url.to_owned(),
            host: refused.host.clone(),
            address: refused.address,
            reason: refused.reason,
        };
    }
    match error {
        ureq::Error::Timeout(_) => Error::Timeout {
            url: url.to_owned(),
            seconds: options.timeout.as_secs(),
        },
        other => Error::Transport {
            url: url.to_owned(),
            message: other.to_string(),
        },
    }
}

/// The resolver's refusal, carried through the HTTP client's error.
#[derive(Debug)]
struct Refused {
    host: String,
    address: IpAddr,
    reason: &'static str,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves to {} ({})",
            self.host, self.address, self.reason
        )
    }
}

impl std::error::Error for Refused {}

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
            && let Some((address, reason)) = addresses
                .iter()
                .find_map(|a| reason(a.ip()).map(|r| (a, r)))
        {
            return Err(ureq::Error::Other(Box::new(Refused {
                host: uri.host().unwrap_or("?").to_owned(),
                address: address.ip(),
                reason,
            })));
        }
        Ok(addresses)
    }
}

/// Why an address may not be fetched from (the special-purpose ranges of RFC 6890, as the
/// IOC extractor classifies them), or `None` for a public address.
pub fn reason(ip: IpAddr) -> Option<&'static str> {
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

    #[test]
    fn relative_locations_resolve_against_the_answering_url() {
        let base: Uri = "https://example.com/a/b/report".parse().expect("uri");
        let cases = [
            ("https://other.org/x", "https://other.org/x"),
            ("//cdn.example.net/y", "https://cdn.example.net/y"),
            ("/root", "https://example.com/root"),
            ("sibling", "https://example.com/a/b/sibling"),
        ];
        for (location, expected) in cases {
            assert_eq!(resolve_location(&base, location).as_deref(), Some(expected));
        }
    }

    #[test]
    fn a_private_target_is_refused_through_a_proxy_too() {
        // The proxy is never reached: the target is checked first.
        let options = Options {
            proxy: Some("http://192.0.2.1:3128".into()),
            timeout: Duration::from_secs(2),
            ..Options::default()
        };
        for url in [
            "http://127.0.0.1/admin",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:8080/",
        ] {
            let err = fetch(url, &options).expect_err("refused");
            assert!(matches!(err, Error::NotPublic { .. }), "{url}: {err}");
        }
    }
}
