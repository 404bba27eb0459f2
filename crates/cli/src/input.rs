//! Where reports come from: a file, standard input (`-`) or an http(s) URL.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use ctiforge_model::Document;
use ctiforge_text::Input;

/// A report's bytes and what is known about them.
pub struct Raw {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The file, when read from one.
    pub path: Option<String>,
    /// The URL after redirects, when fetched.
    pub url: Option<String>,
    /// The `Content-Type` the server gave.
    pub content_type: Option<String>,
}

impl Raw {
    /// The bytes with what is known about them, for ingest.
    pub fn input(&self) -> Input<'_> {
        Input {
            bytes: &self.bytes,
            path: self.path.as_deref(),
            url: self.url.as_deref(),
            content_type: self.content_type.as_deref(),
        }
    }
}

/// How URLs are fetched, from the command line.
pub fn fetch_options(allow_private: bool) -> ctiforge_fetch::Options {
    ctiforge_fetch::Options {
        allow_private,
        ..ctiforge_fetch::Options::default()
    }
}

/// Reads `input`: a URL is fetched (with `options`), `-` is standard input, anything else a
/// file.
pub fn read_raw(input: &Path, options: &ctiforge_fetch::Options) -> anyhow::Result<Raw> {
    if let Some(url) = input.to_str().filter(|i| ctiforge_fetch::is_url(i)) {
        let fetched = ctiforge_fetch::fetch(url, options).map_err(|e| match e {
            ctiforge_fetch::Error::NotPublic { .. } => {
                anyhow::anyhow!("{e}; pass --allow-private to fetch it")
            }
            other => other.into(),
        })?;
        return Ok(Raw {
            bytes: fetched.bytes,
            path: None,
            url: Some(fetched.final_url),
            content_type: fetched.content_type,
        });
    }
    let mut bytes = Vec::new();
    let path = if input.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
        None
    } else {
        bytes = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
        input.to_str().map(str::to_owned)
    };
    Ok(Raw {
        bytes,
        path,
        url: None,
        content_type: None,
    })
}

/// Reads `input` into a [`Document`].
pub fn read_document(input: &Path, allow_private: bool) -> anyhow::Result<Document> {
    let raw = read_raw(input, &fetch_options(allow_private))?;
    ctiforge_text::ingest(raw.input()).with_context(|| format!("cannot read {}", input.display()))
}
