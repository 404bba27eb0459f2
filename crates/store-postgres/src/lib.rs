//! The PostgreSQL backend of the ctiforge store, for several `ctiforge serve` instances
//! sharing one database: jobs and feeds are claimed with `FOR UPDATE SKIP LOCKED` and leases,
//! so no job runs twice and none is lost when an instance dies; full-text search uses
//! PostgreSQL's own (`tsvector`, `websearch`-free plain queries, `ts_headline` snippets); STIX
//! objects are added under an advisory lock so TAXII's `date_added` follows commit order and
//! paging stays exact while other instances add objects. Migrations are embedded
//! (`migrations/`).
//!
//! ```no_run
//! # async fn demo() -> ctiforge_store::Result<()> {
//! use ctiforge_store::Store;
//! let store = ctiforge_store_postgres::PostgresStore::open("postgres://ctiforge@db:5432/ctiforge").await?;
//! store.healthy().await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod import;
mod reports;
mod rows;
mod stix;

pub use import::import_sqlite;

use std::str::FromStr;
use std::time::Duration;

use ctiforge_model::Tlp;
use ctiforge_model::analysis::HistoryEntry;
use ctiforge_store::{
    ClaimedJob, Feed, FeedPoll, Job, JobCounts, JobInput, NewFeed, NewJob, NewReport, NewSession,
    NewToken, Page, PageRequest, ReportFilter, ReportSummary, Result, Seen, Session, Store,
    StoreError, StoredReport, Term, Token, stix as taxii, time_text,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool, Row};

use crate::rows::{db, feed_from_row, job_from_row, token_from_row};

/// The store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST:PORT/DB`, the database must exist)
    /// and brings its schema up to date. Several instances may migrate at once: sqlx holds an
    /// advisory lock while it does.
    pub async fn open(url: &str) -> Result<Self> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::Url {
                url: redact(url),
                expected: "postgres://USER@HOST:PORT/DB",
            });
        }
        let connect_error = |e: sqlx::Error| StoreError::Connect {
            url: redact(url),
            message: e.to_string(),
        };
        let options = PgConnectOptions::from_str(url).map_err(connect_error)?;
        // One connection first, so that a wrong address or password is reported at once
        // rather than retried until the pool's timeout.
        let probe = sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(connect_error)?;
        probe.close().await.map_err(connect_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(options);
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))?;
        Ok(Self { pool })
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn healthy(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn create_token(&self, new: NewToken) -> Result<Token> {
        let result = sqlx::query(
            "INSERT INTO tokens (name, role, max_tlp, hash, created) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, name, role, max_tlp, created, revoked",
        )
        .bind(&new.name)
        .bind(new.role.as_str())
        .bind(new.max_tlp.as_str())
        .bind(&new.hash)
        .bind(time_text(new.created))
        .fetch_one(&self.pool)
        .await;
        match result {
            Ok(row) => token_from_row(&row),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict {
                what: "token",
                name: new.name,
            }),
            Err(e) => Err(db(e)),
        }
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<Token>> {
        let row = sqlx::query(
            "SELECT id, name, role, max_tlp, created, revoked FROM tokens \
             WHERE hash = $1 AND revoked IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn tokens(&self) -> Result<Vec<Token>> {
        let rows =
            sqlx::query("SELECT id, name, role, max_tlp, created, revoked FROM tokens ORDER BY id")
                .fetch_all(&self.pool)
                .await
                .map_err(db)?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_token(&self, name_or_id: &str) -> Result<bool> {
        let now = time_text(jiff::Timestamp::now());
        let id: i64 = name_or_id.parse().unwrap_or(-1);
        let done = sqlx::query(
            "UPDATE tokens SET revoked = $1 WHERE (name = $2 OR id = $3) AND revoked IS NULL",
        )
        .bind(&now)
        .bind(name_or_id)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() > 0 {
            sqlx::query(
                "DELETE FROM sessions WHERE token_id IN \
                 (SELECT id FROM tokens WHERE revoked IS NOT NULL)",
            )
            .execute(&self.pool)
            .await
            .map_err(db)?;
        }
        Ok(done.rows_affected() > 0)
    }

    async fn create_session(&self, new: NewSession) -> Result<()> {
        sqlx::query("INSERT INTO sessions (hash, token_id, csrf, expires) VALUES ($1, $2, $3, $4)")
            .bind(&new.hash)
            .bind(new.token)
            .bind(&new.csrf)
            .bind(time_text(new.expires))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn session(&self, hash: &str, now: jiff::Timestamp) -> Result<Option<(Session, Token)>> {
        let row = sqlx::query(
            "SELECT s.csrf, s.expires, t.id, t.name, t.role, t.max_tlp, t.created, t.revoked \
             FROM sessions s JOIN tokens t ON t.id = s.token_id \
             WHERE s.hash = $1 AND s.expires > $2 AND t.revoked IS NULL",
        )
        .bind(hash)
        .bind(time_text(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let token = token_from_row(&row)?;
        let session = Session {
            token: token.id,
            csrf: row.try_get("csrf").map_err(db)?,
            expires: row.try_get("expires").map_err(db)?,
        };
        Ok(Some((session, token)))
    }

    async fn delete_session(&self, hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE hash = $1")
            .bind(hash)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn submit(&self, new: NewJob) -> Result<Job> {
        let now = time_text(new.now);
        let input = serde_json::to_string(&new.input)
            .map_err(|e| StoreError::Database(format!("cannot encode the job: {e}")))?;
        let mut tx = rows::write(&self.pool).await?;
        let existing: Option<i64> = match &new.sha256 {
            Some(sha) => sqlx::query_scalar("SELECT id FROM reports WHERE sha256 = $1")
                .bind(sha)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?,
            None => None,
        };
        let status = if existing.is_some() { "done" } else { "queued" };
        let row = sqlx::query(
            "INSERT INTO jobs (status, kind, input, name, tlp, sha256, report_id, submitted_by, \
             feed_id, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             RETURNING id, status, kind, report_id, error, created, updated, attempts",
        )
        .bind(status)
        .bind(new.input.kind())
        .bind(&input)
        .bind(&new.name)
        .bind(new.tlp.as_str())
        .bind(&new.sha256)
        .bind(existing)
        .bind(new.submitted_by)
        .bind(new.feed)
        .bind(&now)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        job_from_row(&row)
    }

    async fn job(&self, id: i64) -> Result<Option<Job>> {
        let row = sqlx::query(
            "SELECT id, status, kind, report_id, error, created, updated, attempts \
             FROM jobs WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn claim_job(
        &self,
        worker: &str,
        now: jiff::Timestamp,
        lease_until: jiff::Timestamp,
        max_attempts: u32,
    ) -> Result<Option<ClaimedJob>> {
        let now = time_text(now);
        let mut tx = rows::write(&self.pool).await?;
        // Jobs whose worker died too often fail, with a reason, instead of looping.
        sqlx::query(
            "UPDATE jobs SET status = 'failed', lease_owner = NULL, lease_until = NULL, \
             updated = $1, error = 'the analysis did not finish after ' || attempts::text || \
             ' attempts (its worker stopped each time); submit it again, or split the report' \
             WHERE status = 'running' AND lease_until < $1 AND attempts >= $2",
        )
        .bind(&now)
        .bind(i64::from(max_attempts))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let row = sqlx::query(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, \
             attempts = attempts + 1, updated = $3 \
             WHERE id = (SELECT id FROM jobs WHERE status = 'queued' \
                         OR (status = 'running' AND lease_until < $3) ORDER BY id LIMIT 1 \
                         FOR UPDATE SKIP LOCKED) \
             RETURNING id, status, kind, report_id, error, created, updated, attempts, \
                       input, name, tlp",
        )
        .bind(worker)
        .bind(time_text(lease_until))
        .bind(&now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let input: String = row.try_get("input").map_err(db)?;
        let input: JobInput = serde_json::from_str(&input)
            .map_err(|e| StoreError::Database(format!("job input unreadable: {e}")))?;
        let tlp: String = row.try_get("tlp").map_err(db)?;
        Ok(Some(ClaimedJob {
            job: job_from_row(&row)?,
            input,
            name: row.try_get("name").map_err(db)?,
            tlp: tlp.parse().unwrap_or(Tlp::Red),
        }))
    }

    async fn renew_lease(
        &self,
        job: i64,
        worker: &str,
        lease_until: jiff::Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
        )
        .bind(time_text(lease_until))
        .bind(job)
        .bind(worker)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn complete_job(&self, job: i64, worker: &str, report: NewReport) -> Result<i64> {
        let mut tx = rows::write(&self.pool).await?;
        rows::check_lease(&mut tx, job, worker).await?;
        let id = reports::store_report(&mut tx, report).await?;
        rows::finish_job(&mut tx, job, "done", Some(id), None).await?;
        tx.commit().await.map_err(db)?;
        Ok(id)
    }

    async fn complete_job_with_existing(&self, job: i64, worker: &str, report: i64) -> Result<()> {
        let mut tx = rows::write(&self.pool).await?;
        rows::check_lease(&mut tx, job, worker).await?;
        rows::finish_job(&mut tx, job, "done", Some(report), None).await?;
        tx.commit().await.map_err(db)
    }

    async fn fail_job(&self, job: i64, worker: &str, error: &str) -> Result<()> {
        let mut tx = rows::write(&self.pool).await?;
        rows::check_lease(&mut tx, job, worker).await?;
        rows::finish_job(&mut tx, job, "failed", None, Some(error)).await?;
        tx.commit().await.map_err(db)
    }

    async fn release_jobs(&self, worker: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, \
             attempts = GREATEST(attempts - 1, 0), updated = $1 \
             WHERE lease_owner = $2 AND status = 'running'",
        )
        .bind(time_text(jiff::Timestamp::now()))
        .bind(worker)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn job_counts(&self) -> Result<JobCounts> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        let mut counts = JobCounts::default();
        for row in rows {
            let status: String = row.try_get("status").map_err(db)?;
            let n: i64 = row.try_get("n").map_err(db)?;
            let n = n.max(0) as u64;
            match status.as_str() {
                "queued" => counts.queued = n,
                "running" => counts.running = n,
                "done" => counts.done = n,
                _ => counts.failed += n,
            }
        }
        Ok(counts)
    }

    async fn report(&self, id: i64) -> Result<Option<StoredReport>> {
        reports::report(&self.pool, id).await
    }

    async fn report_by_sha256(&self, sha256: &str) -> Result<Option<i64>> {
        sqlx::query_scalar("SELECT id FROM reports WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    async fn output(&self, report: i64, name: &str) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT bytes FROM outputs WHERE report_id = $1 AND name = $2")
            .bind(report)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    async fn output_names(&self, report: i64) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT name FROM outputs WHERE report_id = $1 ORDER BY name")
            .bind(report)
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }

    async fn reports(
        &self,
        filter: &ReportFilter,
        page: &PageRequest,
    ) -> Result<Page<ReportSummary>> {
        reports::list(&self.pool, filter, page).await
    }

    async fn delete_report(&self, id: i64) -> Result<bool> {
        let mut tx = rows::write(&self.pool).await?;
        // Object versions only this report carried go with it; shared and posted ones stay.
        sqlx::query(
            "DELETE FROM stix_objects WHERE NOT posted AND seq IN \
             (SELECT seq FROM stix_links WHERE report_id = $1) AND seq NOT IN \
             (SELECT seq FROM stix_links WHERE report_id != $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let done = sqlx::query("DELETE FROM reports WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn seen(&self, term: &Term, tlps: &[Tlp], limit: u32) -> Result<Seen> {
        reports::seen(&self.pool, term, tlps, limit).await
    }

    async fn history_candidates(
        &self,
        entry: &HistoryEntry,
        limit: u32,
    ) -> Result<Vec<HistoryEntry>> {
        reports::history_candidates(&self.pool, entry, limit).await
    }

    async fn technique_counts(
        &self,
        tlps: &[Tlp],
        since: Option<&str>,
        sector: Option<&str>,
    ) -> Result<Vec<(String, u64)>> {
        reports::technique_counts(&self.pool, tlps, since, sector).await
    }

    async fn add_stix_objects(&self, objects: Vec<taxii::NewObject>) -> Result<Vec<taxii::Added>> {
        let mut tx = rows::write(&self.pool).await?;
        let added = stix::add(&mut tx, objects, None, true).await?;
        tx.commit().await.map_err(db)?;
        Ok(added)
    }

    async fn stix_objects(&self, query: &taxii::Query) -> Result<taxii::ObjectPage> {
        stix::objects(&self.pool, query).await
    }

    async fn put_taxii_status(&self, status: &taxii::Status) -> Result<()> {
        let body = serde_json::to_string(status)
            .map_err(|e| StoreError::Database(format!("cannot encode the status: {e}")))?;
        sqlx::query("INSERT INTO taxii_status (id, body, created) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET body = excluded.body, created = excluded.created")
            .bind(&status.id)
            .bind(body)
            .bind(&status.request_timestamp)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn taxii_status(&self, id: &str) -> Result<Option<taxii::Status>> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM taxii_status WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        body.map(|b| {
            serde_json::from_str(&b)
                .map_err(|e| StoreError::Database(format!("status unreadable: {e}")))
        })
        .transpose()
    }

    async fn add_feed(&self, new: NewFeed) -> Result<Feed> {
        let now = time_text(new.now);
        let result = sqlx::query(
            "INSERT INTO feeds (url, name, interval_seconds, tlp, next_poll, created) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&new.url)
        .bind(&new.name)
        .bind(i64::from(new.interval))
        .bind(new.tlp.as_str())
        .bind(&now)
        .bind(&now)
        .fetch_one(&self.pool)
        .await;
        let id: i64 = match result {
            Ok(row) => row.try_get("id").map_err(db)?,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Conflict {
                    what: "feed",
                    name: new.url,
                });
            }
            Err(e) => return Err(db(e)),
        };
        self.feeds()
            .await?
            .into_iter()
            .find(|f| f.id == id)
            .ok_or_else(|| StoreError::NotFound {
                what: "feed",
                id: id.to_string(),
            })
    }

    async fn feeds(&self) -> Result<Vec<Feed>> {
        let rows = sqlx::query(
            "SELECT f.*, (SELECT COUNT(*) FROM feed_items i WHERE i.feed_id = f.id) AS items \
             FROM feeds f ORDER BY f.id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(feed_from_row).collect()
    }

    async fn delete_feed(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM feeds WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn claim_feed(
        &self,
        poller: &str,
        now: jiff::Timestamp,
        lease_until: jiff::Timestamp,
    ) -> Result<Option<Feed>> {
        let now = time_text(now);
        let row = sqlx::query(
            "UPDATE feeds SET lease_owner = $1, lease_until = $2 \
             WHERE id = (SELECT id FROM feeds WHERE next_poll <= $3 \
                         AND (lease_until IS NULL OR lease_until < $3) \
                         ORDER BY next_poll, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING id",
        )
        .bind(poller)
        .bind(time_text(lease_until))
        .bind(&now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id").map_err(db)?;
        Ok(self.feeds().await?.into_iter().find(|f| f.id == id))
    }

    async fn poll_feed_now(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE feeds SET next_poll = $1 WHERE id = $2")
            .bind(time_text(jiff::Timestamp::now()))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn record_feed_poll(&self, poll: &FeedPoll) -> Result<()> {
        sqlx::query(
            "UPDATE feeds SET etag = $1, last_modified = $2, last_polled = $3, next_poll = $4, \
             error = $5, lease_owner = NULL, lease_until = NULL \
             WHERE id = $6 AND lease_owner = $7",
        )
        .bind(&poll.etag)
        .bind(&poll.last_modified)
        .bind(time_text(poll.polled))
        .bind(time_text(poll.next_poll))
        .bind(&poll.error)
        .bind(poll.feed)
        .bind(&poll.poller)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn remember_feed_item(&self, feed: i64, key: &str, now: jiff::Timestamp) -> Result<bool> {
        let done =
            sqlx::query("INSERT INTO feed_items (feed_id, key, seen) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(feed)
                .bind(key)
                .bind(time_text(now))
                .execute(&self.pool)
                .await
                .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }
}
