//! The intelligence store of `ctiforge serve`: reports and their analyses and outputs, the
//! search index, STIX objects for TAXII, the job queue, feeds and tokens — behind one trait,
//! [`Store`], with an SQLite backend (`ctiforge-store-sqlite`, the default) and a PostgreSQL
//! one (`ctiforge-store-postgres`, for several instances sharing the work).
//!
//! This crate holds what both backends share: the trait, the records it speaks in, the errors,
//! and the rules that do not depend on SQL — which index terms an Analysis gives
//! ([`terms`]), how STIX objects become versions ([`stix`]), what each role may read
//! ([`Role::max_tlp`]), and the opaque paging cursors ([`Cursor`]).
//!
//! ```
//! use ctiforge_store::{Role, visible_tlps};
//! use ctiforge_model::Tlp;
//!
//! assert!(Role::Admin > Role::Writer && Role::Writer > Role::Reader);
//! assert_eq!(visible_tlps(Tlp::Amber), [Tlp::Clear, Tlp::Green, Tlp::Amber]);
//! ```
#![deny(missing_docs)]

mod cursor;
mod records;
pub mod stix;
pub mod terms;

use std::future::Future;

pub use cursor::Cursor;
pub use records::*;

use ctiforge_model::analysis::HistoryEntry;

/// Why the store could not do something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL is not one this backend reads.
    #[error("{url} is not a database URL this store reads; use {expected}")]
    Url {
        /// The URL given.
        url: String,
        /// What to give instead.
        expected: &'static str,
    },
    /// The database cannot be reached or opened.
    #[error("cannot open the database {url}: {message}")]
    Connect {
        /// The URL, without its password.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The schema could not be created or migrated.
    #[error("cannot migrate the database schema: {0}")]
    Migrate(String),
    /// A name that must be unique is taken.
    #[error("{what} {name:?} already exists")]
    Conflict {
        /// What kind of thing (`token`, `feed`).
        what: &'static str,
        /// The name.
        name: String,
    },
    /// Something the caller named does not exist.
    #[error("no {what} {id}")]
    NotFound {
        /// What kind of thing.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// A paging cursor the store did not write, or for another listing.
    #[error("the paging cursor {0:?} is not valid here; start from the first page")]
    Cursor(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(String),
}

/// The result type of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store. Every method is one transaction: it happens whole or not at all.
///
/// Jobs are leased: [`Store::claim_job`] gives a job to one worker until its lease expires, so
/// a job whose worker died is claimed again, and a worker that finishes late cannot overwrite
/// another's result.
pub trait Store: Send + Sync + 'static {
    /// Reports, jobs, indexes and STIX objects of `id`'s kind of store, e.g. `sqlite` or
    /// `postgres`.
    fn backend(&self) -> &'static str;

    /// Whether the database answers.
    fn healthy(&self) -> impl Future<Output = Result<()>> + Send;

    // --- tokens ---

    /// Stores a new token (its SHA-256, never the token itself).
    fn create_token(&self, new: NewToken) -> impl Future<Output = Result<Token>> + Send;
    /// The live (not revoked) token with this hash.
    fn token_by_hash(&self, hash: &str) -> impl Future<Output = Result<Option<Token>>> + Send;
    /// Every token, revoked ones included, by id.
    fn tokens(&self) -> impl Future<Output = Result<Vec<Token>>> + Send;
    /// Revokes the token with this name or id; false when there is none.
    fn revoke_token(&self, name_or_id: &str) -> impl Future<Output = Result<bool>> + Send;

    // --- sessions (the web UI's sign-in) ---

    /// Stores a session for a token.
    fn create_session(&self, new: NewSession) -> impl Future<Output = Result<()>> + Send;
    /// The session with this hash, when it has not expired, with its live token.
    fn session(
        &self,
        hash: &str,
        now: jiff::Timestamp,
    ) -> impl Future<Output = Result<Option<(Session, Token)>>> + Send;
    /// Ends a session.
    fn delete_session(&self, hash: &str) -> impl Future<Output = Result<()>> + Send;

    // --- jobs ---

    /// Queues a job. When `new.sha256` names a report already stored, the job is done at once
    /// and points at it.
    fn submit(&self, new: NewJob) -> impl Future<Output = Result<Job>> + Send;
    /// A job by id.
    fn job(&self, id: i64) -> impl Future<Output = Result<Option<Job>>> + Send;
    /// Gives the oldest queued job (or one whose lease expired) to `worker` until
    /// `lease_until`. A job claimed `max_attempts` times already fails instead.
    fn claim_job(
        &self,
        worker: &str,
        now: jiff::Timestamp,
        lease_until: jiff::Timestamp,
        max_attempts: u32,
    ) -> impl Future<Output = Result<Option<ClaimedJob>>> + Send;
    /// Extends the lease of a job `worker` holds; false when it holds it no longer.
    fn renew_lease(
        &self,
        job: i64,
        worker: &str,
        lease_until: jiff::Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Stores the analysis of a job `worker` holds and marks the job done, in one
    /// transaction. A report with the same SHA-256 already stored is reused (its id returned)
    /// unless the job re-analyzes it. Fails with `NotFound` when the lease was lost.
    fn complete_job(
        &self,
        job: i64,
        worker: &str,
        report: NewReport,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// Marks a job `worker` holds done, pointing at an existing report (the same bytes were
    /// analysed before).
    fn complete_job_with_existing(
        &self,
        job: i64,
        worker: &str,
        report: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Marks a job failed with a message a person can act on.
    fn fail_job(
        &self,
        job: i64,
        worker: &str,
        error: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Puts the jobs `worker` holds back in the queue (a graceful stop).
    fn release_jobs(&self, worker: &str) -> impl Future<Output = Result<u64>> + Send;
    /// Counts of jobs by status.
    fn job_counts(&self) -> impl Future<Output = Result<JobCounts>> + Send;

    // --- reports ---

    /// A report with its analysis, when the caller may read its TLP.
    fn report(&self, id: i64) -> impl Future<Output = Result<Option<StoredReport>>> + Send;
    /// The id of the report with these bytes.
    fn report_by_sha256(&self, sha256: &str) -> impl Future<Output = Result<Option<i64>>> + Send;
    /// One rendered output of a report (`report.md`, `bundle.json`...).
    fn output(
        &self,
        report: i64,
        name: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send;
    /// The names of a report's outputs.
    fn output_names(&self, report: i64) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// Reports matching `filter`, newest first.
    fn reports(
        &self,
        filter: &ReportFilter,
        page: &PageRequest,
    ) -> impl Future<Output = Result<Page<ReportSummary>>> + Send;
    /// Deletes a report, its outputs, index rows and STIX objects.
    fn delete_report(&self, id: i64) -> impl Future<Output = Result<bool>> + Send;
    /// How often a term (an indicator, technique, actor, CVE, sector) appears across the
    /// reports `tlps` allows, and in which (newest first, at most `limit`).
    fn seen(
        &self,
        term: &Term,
        tlps: &[ctiforge_model::Tlp],
        limit: u32,
    ) -> impl Future<Output = Result<Seen>> + Send;
    /// Earlier reports that share a technique or an indicator with `entry`.
    fn history_candidates(
        &self,
        entry: &HistoryEntry,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<HistoryEntry>>> + Send;
    /// How many reports of each technique (for the coverage view), over the reports `tlps`
    /// allows, added `since` a date and naming `sector` when given.
    fn technique_counts(
        &self,
        tlps: &[ctiforge_model::Tlp],
        since: Option<&str>,
        sector: Option<&str>,
    ) -> impl Future<Output = Result<Vec<(String, u64)>>> + Send;

    // --- STIX objects (TAXII) ---

    /// Adds objects with their TLP (a report's bundle, or objects posted to a collection),
    /// each as a new version only when its content changed. Returns what happened to each.
    fn add_stix_objects(
        &self,
        objects: Vec<stix::NewObject>,
    ) -> impl Future<Output = Result<Vec<stix::Added>>> + Send;
    /// Objects for a TAXII request, in the order they were added.
    fn stix_objects(
        &self,
        query: &stix::Query,
    ) -> impl Future<Output = Result<stix::ObjectPage>> + Send;
    /// Stores a TAXII status resource.
    fn put_taxii_status(&self, status: &stix::Status) -> impl Future<Output = Result<()>> + Send;
    /// A TAXII status resource.
    fn taxii_status(&self, id: &str) -> impl Future<Output = Result<Option<stix::Status>>> + Send;

    // --- feeds ---

    /// Subscribes to a feed.
    fn add_feed(&self, new: NewFeed) -> impl Future<Output = Result<Feed>> + Send;
    /// Every feed.
    fn feeds(&self) -> impl Future<Output = Result<Vec<Feed>>> + Send;
    /// Unsubscribes; false when there was no such feed.
    fn delete_feed(&self, id: i64) -> impl Future<Output = Result<bool>> + Send;
    /// Gives one feed that is due to `poller` until `lease_until`, so that one instance polls
    /// it at a time.
    fn claim_feed(
        &self,
        poller: &str,
        now: jiff::Timestamp,
        lease_until: jiff::Timestamp,
    ) -> impl Future<Output = Result<Option<Feed>>> + Send;
    /// Makes a feed due now.
    fn poll_feed_now(&self, id: i64) -> impl Future<Output = Result<bool>> + Send;
    /// Records a poll: the validators for the next conditional request, when it is due next,
    /// and the error if it failed; releases the lease.
    fn record_feed_poll(&self, poll: &FeedPoll) -> impl Future<Output = Result<()>> + Send;
    /// Remembers a feed item; false when it was seen before (so it is not queued twice).
    fn remember_feed_item(
        &self,
        feed: i64,
        key: &str,
        now: jiff::Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// A time as the store writes it: RFC 3339, UTC, microseconds — fixed width, so that times
/// sort as text. TAXII's `date_added` uses it too (additions in one millisecond keep their
/// order).
pub fn time_text(time: jiff::Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The TLP levels visible to someone allowed up to `max`, in order.
pub fn visible_tlps(max: ctiforge_model::Tlp) -> Vec<ctiforge_model::Tlp> {
    ctiforge_model::Tlp::ALL
        .iter()
        .copied()
        .filter(|t| *t <= max)
        .collect()
}
