//! STIX object versions for TAXII: adding them (a new version only when the content changed,
//! `date_added` strictly increasing) and selecting them for a request.

use ctiforge_model::Tlp;
use ctiforge_store::stix::{
    self as taxii, Added, NewObject, ObjectPage, Query, StoredObject, Versions,
};
use ctiforge_store::{Cursor, Result, time_text};
use serde_json::Value;
use sqlx::{PgPool, Postgres, QueryBuilder, Row, Transaction};

use crate::rows::db;

/// Adds objects, linking them to `report` when given; `posted` marks objects added through
/// TAXII (they outlive any report).
pub(crate) async fn add(
    tx: &mut Transaction<'_, Postgres>,
    objects: Vec<NewObject>,
    report: Option<i64>,
    posted: bool,
) -> Result<Vec<Added>> {
    // One writer at a time adds objects, for the length of its transaction, so `added` is
    // strictly increasing in commit order: a reader's cursor never passes an object that a
    // slower transaction has yet to commit.
    sqlx::query("SELECT pg_advisory_xact_lock(7249001)")
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    let mut last: Option<jiff::Timestamp> =
        sqlx::query_scalar::<_, String>("SELECT value FROM meta WHERE key = 'stix_last_added'")
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?
            .and_then(|t| t.parse().ok());
    let mut added = Vec::with_capacity(objects.len());
    for object in objects {
        let mut body = object.body;
        let (Some(id), Some(kind)) = (
            body["id"].as_str().map(str::to_owned),
            body["type"].as_str().map(str::to_owned),
        ) else {
            continue;
        };
        let spec_version = body["spec_version"].as_str().unwrap_or("2.1").to_owned();
        let latest = sqlx::query(
            "SELECT seq, version, body FROM stix_objects WHERE id = $1 AND tlp = $2 \
             ORDER BY version DESC, seq DESC LIMIT 1",
        )
        .bind(&id)
        .bind(object.tlp.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?;
        let latest = match &latest {
            Some(row) => {
                let seq: i64 = row.try_get("seq").map_err(db)?;
                let version: String = row.try_get("version").map_err(db)?;
                let text: String = row.try_get("body").map_err(db)?;
                let stored: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                Some((seq, version, stored))
            }
            None => None,
        };
        let version = taxii::next_version(&body, latest.as_ref().map(|(_, v, b)| (v.as_str(), b)));
        let Some(version) = version else {
            // The same content is stored already: link it to this report too.
            if let (Some(report), Some((seq, version, _))) = (report, &latest) {
                link(tx, *seq, report).await?;
                added.push(Added {
                    id,
                    version: version.clone(),
                    stored: false,
                });
            } else if let Some((_, version, _)) = &latest {
                added.push(Added {
                    id,
                    version: version.clone(),
                    stored: false,
                });
            }
            continue;
        };
        if body.get("modified").is_some() && body["modified"].as_str() != Some(version.as_str()) {
            body["modified"] = Value::String(version.clone());
        }
        // date_added strictly increases, whatever the clock does.
        let mut at = object.now;
        if let Some(previous) = last
            && at <= previous
        {
            at = previous + jiff::SignedDuration::from_micros(1);
        }
        last = Some(at);
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO stix_objects (id, type, spec_version, version, tlp, added, posted, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id, version, tlp) DO UPDATE SET body = excluded.body, \
             added = excluded.added RETURNING seq",
        )
        .bind(&id)
        .bind(&kind)
        .bind(&spec_version)
        .bind(&version)
        .bind(object.tlp.as_str())
        .bind(time_text(at))
        .bind(posted)
        .bind(body.to_string())
        .fetch_one(&mut **tx)
        .await
        .map_err(db)?;
        if let Some(report) = report {
            link(tx, seq, report).await?;
        }
        added.push(Added {
            id,
            version,
            stored: true,
        });
    }
    if let Some(last) = last {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('stix_last_added', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(time_text(last))
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    Ok(added)
}

async fn link(tx: &mut Transaction<'_, Postgres>, seq: i64, report: i64) -> Result<()> {
    sqlx::query("INSERT INTO stix_links (seq, report_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(seq)
        .bind(report)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

fn push_list<'a>(
    builder: &mut QueryBuilder<'a, Postgres>,
    values: impl IntoIterator<Item = String>,
) {
    builder.push("(");
    let mut list = builder.separated(", ");
    list.push("NULL");
    for value in values {
        list.push_bind(value);
    }
    builder.push(")");
}

fn tlp_names(tlps: &[Tlp]) -> Vec<String> {
    tlps.iter().map(|t| t.as_str().to_owned()).collect()
}

pub(crate) async fn objects(pool: &PgPool, query: &Query) -> Result<ObjectPage> {
    let limit = query.limit.clamp(1, 10_000);
    let tlps = tlp_names(&query.tlps);
    let mut builder: QueryBuilder<'_, Postgres> =
        QueryBuilder::new("SELECT o.seq, o.id, o.version, o.spec_version, o.added, ");
    builder.push(if query.bodies {
        "o.body"
    } else {
        "NULL AS body"
    });
    builder.push(" FROM stix_objects o WHERE o.tlp IN ");
    push_list(&mut builder, tlps.clone());
    // One row per (id, version), whichever TLP levels hold it.
    builder.push(
        " AND o.seq = (SELECT MIN(d.seq) FROM stix_objects d WHERE d.id = o.id \
         AND d.version = o.version AND d.tlp IN ",
    );
    push_list(&mut builder, tlps.clone());
    builder.push(")");
    if let Some(after) = &query.added_after {
        builder.push(" AND o.added > ").push_bind(after.clone());
    }
    if !query.ids.is_empty() {
        builder.push(" AND o.id IN ");
        push_list(&mut builder, query.ids.clone());
    }
    if !query.types.is_empty() {
        builder.push(" AND o.type IN ");
        push_list(&mut builder, query.types.clone());
    }
    if !query.spec_versions.is_empty() {
        builder.push(" AND o.spec_version IN ");
        push_list(&mut builder, query.spec_versions.clone());
    }
    match &query.versions {
        Versions::All => {}
        Versions::Last | Versions::First => {
            let newer = if query.versions == Versions::Last {
                ">"
            } else {
                "<"
            };
            builder.push(format!(
                " AND NOT EXISTS (SELECT 1 FROM stix_objects n WHERE n.id = o.id \
                 AND n.version {newer} o.version AND n.tlp IN "
            ));
            push_list(&mut builder, tlps.clone());
            builder.push(")");
        }
        Versions::Exactly(versions) => {
            builder.push(" AND o.version IN ");
            push_list(&mut builder, versions.clone());
        }
    }
    if let Some(cursor) = &query.after {
        builder
            .push(" AND (o.added > ")
            .push_bind(cursor.time.clone());
        builder
            .push(" OR (o.added = ")
            .push_bind(cursor.time.clone());
        builder.push(" AND o.seq > ").push_bind(cursor.id);
        builder.push("))");
    }
    builder.push(" ORDER BY o.added, o.seq LIMIT ");
    builder.push_bind(i64::from(limit) + 1);
    let rows = builder.build().fetch_all(pool).await.map_err(db)?;
    let mut objects = Vec::with_capacity(rows.len());
    for row in &rows {
        let body: Option<String> = row.try_get("body").map_err(db)?;
        objects.push(StoredObject {
            seq: row.try_get("seq").map_err(db)?,
            id: row.try_get("id").map_err(db)?,
            version: row.try_get("version").map_err(db)?,
            spec_version: row.try_get("spec_version").map_err(db)?,
            added: row.try_get("added").map_err(db)?,
            body: body.and_then(|b| serde_json::from_str(&b).ok()),
        });
    }
    let more = objects.len() > limit as usize;
    objects.truncate(limit as usize);
    let next = more.then(|| objects.last()).flatten().map(|last| {
        Cursor {
            listing: "stix",
            time: last.added.clone(),
            id: last.seq,
        }
        .encode()
    });
    Ok(ObjectPage {
        objects,
        more,
        next,
    })
}
