//! Errors of the knowledge base: reading sources, decoding snapshots.

use std::path::PathBuf;

/// What went wrong while loading, building or reading a knowledge base.
///
/// Every variant names the file (or snapshot) involved and, where it helps, what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A source file is absent from the data folder.
    #[error(
        "source file {} is missing; point --from at a folder laid out like ctiforge's shared/data ({hint})",
        path.display()
    )]
    Missing {
        /// The file that was expected.
        path: PathBuf,
        /// Where that file comes from.
        hint: &'static str,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON source is not valid JSON or not in the expected shape.
    #[error(
        "{} is not a valid {what}: {source}; re-copy it from its official release",
        path.display()
    )]
    Json {
        /// The file.
        path: PathBuf,
        /// What the file should hold (`STIX 2.1 bundle`, `KEV catalog`...).
        what: &'static str,
        /// The parser's error, with line and column.
        source: serde_json::Error,
    },
    /// A YAML source is not valid YAML.
    #[error("{} is not valid YAML: {message}; re-copy it from its official release", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A source parsed but lacks something the knowledge base needs.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The bytes are not a ctiforge snapshot at all.
    #[error(
        "{origin} is not a ctiforge knowledge-base snapshot (wrong magic bytes); build one with `ctiforge kb build --from DIR`"
    )]
    NotSnapshot {
        /// The snapshot's file name, or `embedded snapshot`.
        origin: String,
    },
    /// The snapshot was written in a format this version does not read.
    #[error(
        "{origin} has snapshot format {found}, but this ctiforge reads format {expected}; rebuild it with `ctiforge kb build --from DIR`"
    )]
    SnapshotVersion {
        /// The snapshot's file name.
        origin: String,
        /// The format found.
        found: u32,
        /// The format this build reads.
        expected: u32,
    },
    /// The snapshot is truncated or damaged.
    #[error("{origin} is corrupt ({message}); rebuild it with `ctiforge kb build --from DIR`")]
    SnapshotCorrupt {
        /// The snapshot's file name.
        origin: String,
        /// What failed.
        message: String,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
