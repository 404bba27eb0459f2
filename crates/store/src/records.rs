//! The records the store speaks in.

use std::fmt;
use std::str::FromStr;

use ctiforge_model::{Tlp, UnknownName};
use serde::{Deserialize, Serialize};

/// What a token may do: readers read, writers also submit, admins also manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read reports and TAXII collections.
    Reader,
    /// Also submit reports and add TAXII objects.
    Writer,
    /// Also delete and re-analyze reports, manage feeds and tokens.
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 3] = [Role::Reader, Role::Writer, Role::Admin];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }

    /// The highest TLP level the role reads unless a token says otherwise: readers and
    /// writers up to TLP:AMBER, admins everything.
    pub fn max_tlp(self) -> Tlp {
        match self {
            Role::Reader | Role::Writer => Tlp::Amber,
            Role::Admin => Tlp::Red,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownName {
                what: "role",
                given: s.to_owned(),
                expected: Role::ALL.iter().map(|r| r.as_str()).collect(),
            })
    }
}

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Its name (unique), for people.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The highest TLP level it reads.
    pub max_tlp: Tlp,
    /// Lower-case hex SHA-256 of the token.
    pub hash: String,
    /// When.
    pub created: jiff::Timestamp,
}

/// A stored token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The highest TLP level it reads.
    pub max_tlp: Tlp,
    /// When it was made.
    pub created: String,
    /// When it was revoked.
    pub revoked: Option<String>,
}

/// A web UI session to store.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the session cookie's value.
    pub hash: String,
    /// The token it signed in with.
    pub token: i64,
    /// The session's CSRF secret (forms carry it).
    pub csrf: String,
    /// When it ends.
    pub expires: jiff::Timestamp,
}

/// A web UI session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The token it signed in with.
    pub token: i64,
    /// The CSRF secret.
    pub csrf: String,
    /// When it ends (RFC 3339).
    pub expires: String,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker holds it.
    Running,
    /// Analysed: the report is stored.
    Done,
    /// It could not be analysed; `error` says why.
    Failed,
}

impl JobStatus {
    /// The status's name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    /// The status of a name the store wrote.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// What a job analyses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobInput {
    /// Text given in the request.
    Text {
        /// The text.
        text: String,
    },
    /// A document to fetch (through the SSRF guard).
    Url {
        /// The URL.
        url: String,
    },
    /// An uploaded file of any format `analyze` reads.
    File {
        /// Its bytes.
        #[serde(with = "bytes_base64")]
        bytes: Vec<u8>,
        /// Its file name.
        file_name: Option<String>,
        /// Its media type, as uploaded.
        content_type: Option<String>,
    },
    /// A stored report, analysed again (with a newer knowledge base or model).
    Reanalyze {
        /// The report.
        report: i64,
    },
}

impl JobInput {
    /// The job's kind, for listings (`text`, `url`, `file`, `reanalyze`).
    pub fn kind(&self) -> &'static str {
        match self {
            JobInput::Text { .. } => "text",
            JobInput::Url { .. } => "url",
            JobInput::File { .. } => "file",
            JobInput::Reanalyze { .. } => "reanalyze",
        }
    }
}

mod bytes_base64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What to analyse.
    pub input: JobInput,
    /// A name for the report (else its title).
    pub name: Option<String>,
    /// Its TLP marking.
    pub tlp: Tlp,
    /// SHA-256 of the input bytes, when known before analysis (text and files): the same
    /// bytes again are answered with the report already stored.
    pub sha256: Option<String>,
    /// The token that submitted it.
    pub submitted_by: Option<i64>,
    /// The feed it came from.
    pub feed: Option<i64>,
    /// When.
    pub now: jiff::Timestamp,
}

/// A job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// Where it is.
    pub status: JobStatus,
    /// `text`, `url`, `file` or `reanalyze`.
    pub kind: String,
    /// The report, once done.
    pub report: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was queued.
    pub created: String,
    /// When it last changed.
    pub updated: String,
    /// How many times a worker took it.
    pub attempts: u32,
}

/// A job a worker holds, with its input.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    /// The job.
    pub job: Job,
    /// What to analyse.
    pub input: JobInput,
    /// The report name asked for.
    pub name: Option<String>,
    /// Its TLP.
    pub tlp: Tlp,
}

/// Jobs by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    /// Queued.
    pub queued: u64,
    /// Running.
    pub running: u64,
    /// Done.
    pub done: u64,
    /// Failed.
    pub failed: u64,
}

/// A rendered output to store with a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutput {
    /// Its name (`report.md`).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// An analysed report to store.
#[derive(Debug, Clone)]
pub struct NewReport {
    /// SHA-256 of the input bytes.
    pub sha256: String,
    /// The name asked for, else the title.
    pub name: Option<String>,
    /// The title.
    pub title: Option<String>,
    /// The URL it came from.
    pub url: Option<String>,
    /// Its media type.
    pub media_type: String,
    /// Its TLP.
    pub tlp: Tlp,
    /// Publication date stated in it (`YYYY-MM-DD`).
    pub published: Option<String>,
    /// The report's text (what evidence offsets point into).
    pub text: String,
    /// The input bytes, kept for re-analysis.
    pub raw: Vec<u8>,
    /// The Analysis as JSON.
    pub analysis: String,
    /// Its risk score.
    pub risk_score: u32,
    /// Its risk level.
    pub risk_level: String,
    /// Its exploitation status.
    pub exploitation: String,
    /// Index terms ([`crate::terms::of`]).
    pub terms: Vec<Term>,
    /// Rendered outputs.
    pub outputs: Vec<StoredOutput>,
    /// Its STIX objects.
    pub stix: Vec<serde_json::Value>,
    /// When it was analysed.
    pub analyzed: jiff::Timestamp,
    /// The report it re-analyses, whose row it replaces.
    pub replaces: Option<i64>,
    /// Technique and indicator lists for history correlation.
    pub history: ctiforge_model::analysis::HistoryEntry,
}

/// A stored report.
#[derive(Debug, Clone)]
pub struct StoredReport {
    /// Its id.
    pub id: i64,
    /// Its listing row.
    pub summary: ReportSummary,
    /// The Analysis as JSON.
    pub analysis: String,
    /// The report's text.
    pub text: String,
    /// The input bytes.
    pub raw: Vec<u8>,
    /// The input's media type.
    pub media_type: String,
    /// When it was analysed (RFC 3339).
    pub analyzed: String,
}

/// One row of a report listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportSummary {
    /// Its id.
    pub id: i64,
    /// Its title or name.
    pub title: String,
    /// The URL it came from.
    pub url: Option<String>,
    /// Publication date stated in it.
    pub published: Option<String>,
    /// When it was added (RFC 3339).
    pub added: String,
    /// Its TLP.
    pub tlp: Tlp,
    /// Risk score 0–100.
    pub risk: u32,
    /// Risk level.
    pub risk_level: String,
    /// Exploitation status.
    pub exploitation: String,
    /// Its SHA-256.
    pub sha256: String,
    /// Its best techniques.
    pub techniques: Vec<String>,
    /// Its sectors.
    pub sectors: Vec<String>,
    /// The passage that matched a free-text search, the matching words in `«…»` (square
    /// brackets would be ambiguous: defanged indicators such as `evil[.]com` use them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// Free text (full-text search over title and text).
    pub q: Option<String>,
    /// An indicator value.
    pub ioc: Option<String>,
    /// A technique id (its sub-techniques match too).
    pub technique: Option<String>,
    /// An actor's name, alias as written or ATT&CK id.
    pub actor: Option<String>,
    /// A CVE id.
    pub cve: Option<String>,
    /// A sector.
    pub sector: Option<String>,
    /// Exactly this TLP.
    pub tlp: Option<Tlp>,
    /// Exactly this risk level.
    pub risk_level: Option<String>,
    /// Exactly this exploitation status.
    pub exploitation: Option<String>,
    /// Added on or after (`YYYY-MM-DD`).
    pub since: Option<String>,
    /// Added before (`YYYY-MM-DD`).
    pub until: Option<String>,
    /// The TLP levels the caller may read.
    pub visible: Vec<Tlp>,
}

/// A page request.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Items at most.
    pub limit: u32,
    /// The cursor of the previous page's `next`.
    pub after: Option<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
}

/// The kinds of index term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TermKind {
    /// An indicator value (`type:value` is not used: values are unique enough).
    Ioc,
    /// A technique id.
    Technique,
    /// An actor (canonical name, ids and aliases as separate terms).
    Actor,
    /// A CVE id.
    Cve,
    /// A sector.
    Sector,
    /// Malware or a tool.
    Software,
}

impl TermKind {
    /// Every kind.
    pub const ALL: [TermKind; 6] = [
        TermKind::Ioc,
        TermKind::Technique,
        TermKind::Actor,
        TermKind::Cve,
        TermKind::Sector,
        TermKind::Software,
    ];

    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            TermKind::Ioc => "ioc",
            TermKind::Technique => "technique",
            TermKind::Actor => "actor",
            TermKind::Cve => "cve",
            TermKind::Sector => "sector",
            TermKind::Software => "software",
        }
    }

    /// The kind of a name.
    pub fn from_name(name: &str) -> Option<Self> {
        TermKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One index term of a report.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Term {
    /// What kind.
    pub kind: TermKind,
    /// The normalised value searched for (lower-case for names and indicators, upper-case
    /// ids).
    pub value: String,
    /// How people see it (`APT29`, `T1059.001 PowerShell`).
    pub label: String,
}

/// Where a term was seen.
#[derive(Debug, Clone, Serialize)]
pub struct Seen {
    /// The term.
    pub term: Term,
    /// Reports that mention it.
    pub count: u64,
    /// When the first of them was added.
    pub first: Option<String>,
    /// When the last was added.
    pub last: Option<String>,
    /// The newest of them.
    pub reports: Vec<ReportSummary>,
}

/// A feed to subscribe to.
#[derive(Debug, Clone)]
pub struct NewFeed {
    /// The RSS or Atom URL.
    pub url: String,
    /// A name for people.
    pub name: Option<String>,
    /// Seconds between polls.
    pub interval: u32,
    /// The TLP of the reports it brings.
    pub tlp: Tlp,
    /// When.
    pub now: jiff::Timestamp,
}

/// A feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feed {
    /// Its id.
    pub id: i64,
    /// Its URL.
    pub url: String,
    /// Its name.
    pub name: Option<String>,
    /// Seconds between polls.
    pub interval: u32,
    /// The TLP of its reports.
    pub tlp: Tlp,
    /// The `ETag` of the last answer.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last answer.
    pub last_modified: Option<String>,
    /// When it was last polled.
    pub last_polled: Option<String>,
    /// When it is due next.
    pub next_poll: String,
    /// Why the last poll failed.
    pub error: Option<String>,
    /// Items queued from it so far.
    pub items: u64,
}

/// The outcome of one poll of a feed.
#[derive(Debug, Clone)]
pub struct FeedPoll {
    /// The feed.
    pub feed: i64,
    /// The poller that held it.
    pub poller: String,
    /// The `ETag` to send next time.
    pub etag: Option<String>,
    /// The `Last-Modified` to send next time.
    pub last_modified: Option<String>,
    /// When it was polled.
    pub polled: jiff::Timestamp,
    /// When it is due next.
    pub next_poll: jiff::Timestamp,
    /// Why it failed.
    pub error: Option<String>,
}
