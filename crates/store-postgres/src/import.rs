//! `ctiforge migrate`: copies an SQLite store into an empty PostgreSQL one, table by table, ids
//! kept (links between rows stay right), in one transaction, then moves each id sequence past
//! the copied ids. The two schemas have the same tables and columns by design.

use ctiforge_store::{Result, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqliteRow};
use sqlx::{Postgres, QueryBuilder, Row};

use crate::PostgresStore;
use crate::rows::db;

/// A column's type, as both schemas store it.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Integer,
    Bytes,
    Boolean,
}

use Kind::{Boolean, Bytes, Integer, Text};

/// A table: its name, its columns with their types, and the column its sequence numbers.
type Table = (
    &'static str,
    &'static [(&'static str, Kind)],
    Option<&'static str>,
);

/// Tables in an order where every row's references are copied before it.
const TABLES: &[Table] = &[
    (
        "tokens",
        &[
            ("id", Integer),
            ("name", Text),
            ("role", Text),
            ("max_tlp", Text),
            ("hash", Text),
            ("created", Text),
            ("revoked", Text),
        ],
        Some("id"),
    ),
    (
        "sessions",
        &[
            ("hash", Text),
            ("token_id", Integer),
            ("csrf", Text),
            ("expires", Text),
        ],
        None,
    ),
    (
        "reports",
        &[
            ("id", Integer),
            ("sha256", Text),
            ("title", Text),
            ("url", Text),
            ("media_type", Text),
            ("tlp", Text),
            ("published", Text),
            ("added", Text),
            ("analyzed", Text),
            ("risk", Integer),
            ("risk_level", Text),
            ("exploitation", Text),
            ("techniques", Text),
            ("sectors", Text),
            ("history", Text),
            ("analysis", Text),
            ("body", Text),
            ("raw", Bytes),
        ],
        Some("id"),
    ),
    (
        "outputs",
        &[("report_id", Integer), ("name", Text), ("bytes", Bytes)],
        None,
    ),
    (
        "terms",
        &[
            ("report_id", Integer),
            ("kind", Text),
            ("value", Text),
            ("label", Text),
        ],
        None,
    ),
    (
        "jobs",
        &[
            ("id", Integer),
            ("status", Text),
            ("kind", Text),
            ("input", Text),
            ("name", Text),
            ("tlp", Text),
            ("sha256", Text),
            ("report_id", Integer),
            ("error", Text),
            ("submitted_by", Integer),
            ("feed_id", Integer),
            ("created", Text),
            ("updated", Text),
            ("attempts", Integer),
            ("lease_owner", Text),
            ("lease_until", Text),
        ],
        Some("id"),
    ),
    (
        "stix_objects",
        &[
            ("seq", Integer),
            ("id", Text),
            ("type", Text),
            ("spec_version", Text),
            ("version", Text),
            ("tlp", Text),
            ("added", Text),
            ("posted", Boolean),
            ("body", Text),
        ],
        Some("seq"),
    ),
    (
        "stix_links",
        &[("seq", Integer), ("report_id", Integer)],
        None,
    ),
    (
        "taxii_status",
        &[("id", Text), ("body", Text), ("created", Text)],
        None,
    ),
    (
        "feeds",
        &[
            ("id", Integer),
            ("url", Text),
            ("name", Text),
            ("interval_seconds", Integer),
            ("tlp", Text),
            ("etag", Text),
            ("last_modified", Text),
            ("last_polled", Text),
            ("next_poll", Text),
            ("error", Text),
            ("lease_owner", Text),
            ("lease_until", Text),
            ("created", Text),
        ],
        Some("id"),
    ),
    (
        "feed_items",
        &[("feed_id", Integer), ("key", Text), ("seen", Text)],
        None,
    ),
    ("meta", &[("key", Text), ("value", Text)], None),
];

/// Rows copied per statement.
const BATCH: i64 = 200;

/// Copies the SQLite store at `from` (`sqlite://PATH`) into `to`, which must hold no reports,
/// tokens or jobs yet. Calls `progress(table, rows)` after each table.
pub async fn import_sqlite(
    from: &str,
    to: &PostgresStore,
    progress: &(dyn Fn(&str, u64) + Sync),
) -> Result<Vec<(String, u64)>> {
    let options: SqliteConnectOptions =
        from.parse().map_err(|e: sqlx::Error| StoreError::Connect {
            url: from.to_owned(),
            message: e.to_string(),
        })?;
    let source = SqlitePool::connect_with(options.read_only(true).create_if_missing(false))
        .await
        .map_err(|e| StoreError::Connect {
            url: from.to_owned(),
            message: e.to_string(),
        })?;
    let mut tx = to.pool.begin().await.map_err(db)?;
    for table in ["reports", "tokens", "jobs"] {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if rows > 0 {
            return Err(StoreError::Migrate(format!(
                "the target database is not empty (it holds {rows} {table}); copy into a new, empty database"
            )));
        }
    }
    let mut counts = Vec::new();
    for (table, columns, sequence) in TABLES {
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let mut copied = 0u64;
        let mut after = i64::MIN;
        loop {
            let rows: Vec<SqliteRow> = sqlx::query(&format!(
                "SELECT rowid AS _rowid, {} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                names.join(", ")
            ))
            .bind(after)
            .bind(BATCH)
            .fetch_all(&source)
            .await
            .map_err(db)?;
            let Some(last) = rows.last() else {
                break;
            };
            after = last.try_get("_rowid").map_err(db)?;
            let mut insert: QueryBuilder<'_, Postgres> =
                QueryBuilder::new(format!("INSERT INTO {table} ({}) ", names.join(", ")));
            let mut failed = None;
            insert.push_values(&rows, |mut values, row| {
                for (name, kind) in *columns {
                    let bound = match kind {
                        Text => row.try_get::<Option<String>, _>(*name).map(|v| {
                            values.push_bind(v);
                        }),
                        Integer => row.try_get::<Option<i64>, _>(*name).map(|v| {
                            values.push_bind(v);
                        }),
                        Bytes => row.try_get::<Option<Vec<u8>>, _>(*name).map(|v| {
                            values.push_bind(v);
                        }),
                        Boolean => row.try_get::<Option<bool>, _>(*name).map(|v| {
                            values.push_bind(v);
                        }),
                    };
                    if let Err(e) = bound {
                        failed = Some(e);
                    }
                }
            });
            if let Some(e) = failed {
                return Err(db(e));
            }
            insert.build().execute(&mut *tx).await.map_err(db)?;
            copied += rows.len() as u64;
        }
        if let Some(column) = sequence {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                 COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            ))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        progress(table, copied);
        counts.push(((*table).to_owned(), copied));
    }
    tx.commit().await.map_err(db)?;
    Ok(counts)
}
