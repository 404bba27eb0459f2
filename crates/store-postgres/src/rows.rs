//! Rows to records, and the job steps shared by the completing calls.

use ctiforge_model::Tlp;
use ctiforge_store::{Feed, Job, JobStatus, Result, Role, StoreError, Token, time_text};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

/// A database error as a store error.
pub(crate) fn db(error: sqlx::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

fn get<'r, T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(
    row: &'r PgRow,
    column: &str,
) -> Result<T> {
    row.try_get(column).map_err(db)
}

pub(crate) fn token_from_row(row: &PgRow) -> Result<Token> {
    let role: String = get(row, "role")?;
    let max_tlp: String = get(row, "max_tlp")?;
    Ok(Token {
        id: get(row, "id")?,
        name: get(row, "name")?,
        role: role.parse().unwrap_or(Role::Reader),
        max_tlp: max_tlp.parse().unwrap_or(Tlp::Clear),
        created: get(row, "created")?,
        revoked: get(row, "revoked")?,
    })
}

pub(crate) fn job_from_row(row: &PgRow) -> Result<Job> {
    let status: String = get(row, "status")?;
    let attempts: i64 = get(row, "attempts")?;
    Ok(Job {
        id: get(row, "id")?,
        status: JobStatus::from_name(&status)
            .ok_or_else(|| StoreError::Database(format!("job status {status:?} unknown")))?,
        kind: get(row, "kind")?,
        report: get(row, "report_id")?,
        error: get(row, "error")?,
        created: get(row, "created")?,
        updated: get(row, "updated")?,
        attempts: attempts.clamp(0, i64::from(u32::MAX)) as u32,
    })
}

pub(crate) fn feed_from_row(row: &PgRow) -> Result<Feed> {
    let tlp: String = get(row, "tlp")?;
    let interval: i64 = get(row, "interval_seconds")?;
    let items: i64 = get(row, "items")?;
    Ok(Feed {
        id: get(row, "id")?,
        url: get(row, "url")?,
        name: get(row, "name")?,
        interval: interval.clamp(0, i64::from(u32::MAX)) as u32,
        tlp: tlp.parse().unwrap_or(Tlp::Clear),
        etag: get(row, "etag")?,
        last_modified: get(row, "last_modified")?,
        last_polled: get(row, "last_polled")?,
        next_poll: get(row, "next_poll")?,
        error: get(row, "error")?,
        items: items.max(0) as u64,
    })
}

/// Fails with `NotFound` unless `worker` still holds `job`.
pub(crate) async fn check_lease(
    tx: &mut Transaction<'_, Postgres>,
    job: i64,
    worker: &str,
) -> Result<()> {
    let held: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE id = $1 AND lease_owner = $2 AND status = 'running' FOR UPDATE",
    )
    .bind(job)
    .bind(worker)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?;
    held.map(|_| ()).ok_or_else(|| StoreError::NotFound {
        what: "job held by this worker",
        id: job.to_string(),
    })
}

/// Ends a job.
pub(crate) async fn finish_job(
    tx: &mut Transaction<'_, Postgres>,
    job: i64,
    status: &str,
    report: Option<i64>,
    error: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET status = $1, report_id = COALESCE($2, report_id), error = $3, \
         lease_owner = NULL, lease_until = NULL, updated = $4 WHERE id = $5",
    )
    .bind(status)
    .bind(report)
    .bind(error)
    .bind(time_text(jiff::Timestamp::now()))
    .bind(job)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// A write transaction (READ COMMITTED; rows a transaction must own are locked with
/// `FOR UPDATE`, queue rows claimed with `SKIP LOCKED`).
pub(crate) async fn write(pool: &sqlx::PgPool) -> Result<Transaction<'static, Postgres>> {
    pool.begin().await.map_err(db)
}
