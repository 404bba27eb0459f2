//! Reports: storing an analysis with its outputs, terms and STIX objects; listing, search and
//! the "seen in N reports" counts.

use ctiforge_model::Tlp;
use ctiforge_model::analysis::HistoryEntry;
use ctiforge_store::{
    Cursor, NewReport, Page, PageRequest, ReportFilter, ReportSummary, Result, Seen, StoredReport,
    Term, TermKind, stix as taxii, terms, time_text,
};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row, Transaction};

use crate::rows::db;
use crate::stix;

const SUMMARY_COLUMNS: &str = "r.id, r.title, r.url, r.published, r.added, r.tlp, r.risk, \
     r.risk_level, r.exploitation, r.sha256, r.techniques, r.sectors";

fn summary_from_row(row: &PgRow) -> Result<ReportSummary> {
    let tlp: String = row.try_get("tlp").map_err(db)?;
    let risk: i64 = row.try_get("risk").map_err(db)?;
    let techniques: String = row.try_get("techniques").map_err(db)?;
    let sectors: String = row.try_get("sectors").map_err(db)?;
    Ok(ReportSummary {
        id: row.try_get("id").map_err(db)?,
        title: row.try_get("title").map_err(db)?,
        url: row.try_get("url").map_err(db)?,
        published: row.try_get("published").map_err(db)?,
        added: row.try_get("added").map_err(db)?,
        tlp: tlp.parse().unwrap_or(Tlp::Red),
        risk: risk.clamp(0, 100) as u32,
        risk_level: row.try_get("risk_level").map_err(db)?,
        exploitation: row.try_get("exploitation").map_err(db)?,
        sha256: row.try_get("sha256").map_err(db)?,
        techniques: serde_json::from_str(&techniques).unwrap_or_default(),
        sectors: serde_json::from_str(&sectors).unwrap_or_default(),
        snippet: row.try_get("snippet").ok().flatten(),
    })
}

/// Stores an analysed report (or replaces the one it re-analyses) and returns its id; a report
/// with the same bytes already stored is returned as it is.
pub(crate) async fn store_report(
    tx: &mut Transaction<'_, Postgres>,
    report: NewReport,
) -> Result<i64> {
    let title = report
        .name
        .clone()
        .or_else(|| report.title.clone())
        .unwrap_or_else(|| "Untitled report".to_owned());
    let techniques: Vec<&String> = report.history.techniques.iter().take(5).collect();
    let techniques = serde_json::to_string(&techniques).unwrap_or_else(|_| "[]".into());
    let sectors: Vec<&str> = report
        .terms
        .iter()
        .filter(|t| t.kind == TermKind::Sector)
        .map(|t| t.label.as_str())
        .collect();
    let sectors = serde_json::to_string(&sectors).unwrap_or_else(|_| "[]".into());
    let history = serde_json::to_string(&report.history).unwrap_or_else(|_| "{}".into());
    let analyzed = time_text(report.analyzed);
    let id = match report.replaces {
        Some(id) => {
            sqlx::query(
                "UPDATE reports SET title = $1, tlp = $2, published = $3, analyzed = $4, risk = $5, \
                 risk_level = $6, exploitation = $7, techniques = $8, sectors = $9, history = $10, \
                 analysis = $11, body = $12 WHERE id = $13",
            )
            .bind(&title)
            .bind(report.tlp.as_str())
            .bind(&report.published)
            .bind(&analyzed)
            .bind(i64::from(report.risk_score))
            .bind(&report.risk_level)
            .bind(&report.exploitation)
            .bind(&techniques)
            .bind(&sectors)
            .bind(&history)
            .bind(&report.analysis)
            .bind(&report.text)
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
            for table in ["outputs", "terms", "stix_links"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE report_id = $1"))
                    .bind(id)
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
            }
            id
        }
        None => {
            let existing: Option<i64> =
                sqlx::query_scalar("SELECT id FROM reports WHERE sha256 = $1")
                    .bind(&report.sha256)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(db)?;
            if let Some(id) = existing {
                return Ok(id);
            }
            // Another instance may store the same bytes at the same moment: the first wins and
            // this one returns its id.
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO reports (sha256, title, url, media_type, tlp, published, added, \
                 analyzed, risk, risk_level, exploitation, techniques, sectors, history, \
                 analysis, body, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                 ON CONFLICT (sha256) DO NOTHING RETURNING id",
            )
            .bind(&report.sha256)
            .bind(&title)
            .bind(&report.url)
            .bind(&report.media_type)
            .bind(report.tlp.as_str())
            .bind(&report.published)
            .bind(&analyzed)
            .bind(&analyzed)
            .bind(i64::from(report.risk_score))
            .bind(&report.risk_level)
            .bind(&report.exploitation)
            .bind(&techniques)
            .bind(&sectors)
            .bind(&history)
            .bind(&report.analysis)
            .bind(&report.text)
            .bind(&report.raw)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
            match inserted {
                Some(id) => id,
                None => {
                    return sqlx::query_scalar("SELECT id FROM reports WHERE sha256 = $1")
                        .bind(&report.sha256)
                        .fetch_one(&mut **tx)
                        .await
                        .map_err(db);
                }
            }
        }
    };
    for output in &report.outputs {
        sqlx::query("INSERT INTO outputs (report_id, name, bytes) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(&output.name)
            .bind(&output.bytes)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
    }
    for term in &report.terms {
        sqlx::query(
            "INSERT INTO terms (report_id, kind, value, label) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(term.kind.as_str())
        .bind(&term.value)
        .bind(&term.label)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    let objects = report
        .stix
        .into_iter()
        .map(|body| taxii::NewObject {
            body,
            tlp: report.tlp,
            report: Some(id),
            now: report.analyzed,
        })
        .collect();
    stix::add(tx, objects, Some(id), false).await?;
    Ok(id)
}

pub(crate) async fn report(pool: &PgPool, id: i64) -> Result<Option<StoredReport>> {
    let row = sqlx::query(&format!(
        "SELECT {SUMMARY_COLUMNS}, r.analysis, r.body, r.raw, r.media_type, r.analyzed \
         FROM reports r WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(StoredReport {
        id,
        summary: summary_from_row(&row)?,
        analysis: row.try_get("analysis").map_err(db)?,
        text: row.try_get("body").map_err(db)?,
        raw: row.try_get("raw").map_err(db)?,
        media_type: row.try_get("media_type").map_err(db)?,
        analyzed: row.try_get("analyzed").map_err(db)?,
    }))
}

/// A free-text query's words (at most 16), all required; PostgreSQL's `plainto_tsquery` reads
/// them as words, never as query syntax.
fn fts_query(q: &str) -> Option<String> {
    let words: Vec<&str> = q.split_whitespace().take(16).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

fn push_term(builder: &mut QueryBuilder<'_, Postgres>, kind: TermKind, value: &str) {
    let value = terms::normalize(kind, value);
    builder.push(" AND EXISTS (SELECT 1 FROM terms t WHERE t.report_id = r.id AND t.kind = ");
    builder.push_bind(kind.as_str());
    builder.push(" AND (t.value = ");
    builder.push_bind(value.clone());
    if kind == TermKind::Technique {
        // A technique matches its sub-techniques.
        builder.push(" OR t.value LIKE ");
        builder.push_bind(format!("{value}.%"));
    }
    builder.push("))");
}

fn push_tlps(builder: &mut QueryBuilder<'_, Postgres>, column: &str, tlps: &[Tlp]) {
    builder.push(format!(" {column} IN ("));
    let mut list = builder.separated(", ");
    for tlp in tlps {
        list.push_bind(tlp.as_str());
    }
    if tlps.is_empty() {
        list.push("NULL");
    }
    builder.push(")");
}

pub(crate) async fn list(
    pool: &PgPool,
    filter: &ReportFilter,
    page: &PageRequest,
) -> Result<Page<ReportSummary>> {
    let limit = page.limit.clamp(1, 500);
    let after = page
        .after
        .as_deref()
        .map(|text| Cursor::decode("reports", text))
        .transpose()?;
    let fts = filter.q.as_deref().and_then(fts_query);
    let mut builder: QueryBuilder<'_, Postgres> =
        QueryBuilder::new(format!("SELECT {SUMMARY_COLUMNS}"));
    if let Some(words) = &fts {
        builder.push(
            ", ts_headline('english', r.body, query, \
             'StartSel=«, StopSel=», MaxWords=24, MinWords=8, MaxFragments=1') AS snippet \
             FROM reports r, plainto_tsquery('english', ",
        );
        builder.push_bind(words.clone());
        builder.push(") query WHERE r.search @@ query AND");
    } else {
        builder.push(", NULL AS snippet FROM reports r WHERE");
    }
    push_tlps(&mut builder, "r.tlp", &filter.visible);
    let terms = [
        (TermKind::Ioc, &filter.ioc),
        (TermKind::Technique, &filter.technique),
        (TermKind::Actor, &filter.actor),
        (TermKind::Cve, &filter.cve),
        (TermKind::Sector, &filter.sector),
    ];
    for (kind, value) in terms {
        if let Some(value) = value {
            push_term(&mut builder, kind, value);
        }
    }
    if let Some(tlp) = filter.tlp {
        builder.push(" AND r.tlp = ").push_bind(tlp.as_str());
    }
    if let Some(level) = &filter.risk_level {
        builder
            .push(" AND r.risk_level = ")
            .push_bind(level.clone());
    }
    if let Some(status) = &filter.exploitation {
        builder
            .push(" AND r.exploitation = ")
            .push_bind(status.clone());
    }
    if let Some(since) = &filter.since {
        builder.push(" AND r.added >= ").push_bind(since.clone());
    }
    if let Some(until) = &filter.until {
        builder.push(" AND r.added < ").push_bind(until.clone());
    }
    if let Some(cursor) = &after {
        builder
            .push(" AND (r.added < ")
            .push_bind(cursor.time.clone());
        builder
            .push(" OR (r.added = ")
            .push_bind(cursor.time.clone());
        builder.push(" AND r.id < ").push_bind(cursor.id);
        builder.push("))");
    }
    builder.push(" ORDER BY r.added DESC, r.id DESC LIMIT ");
    builder.push_bind(i64::from(limit) + 1);
    let rows = builder.build().fetch_all(pool).await.map_err(db)?;
    let mut items = rows
        .iter()
        .map(summary_from_row)
        .collect::<Result<Vec<_>>>()?;
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|last| {
            Cursor {
                listing: "reports",
                time: last.added.clone(),
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(Page { items, next })
}

pub(crate) async fn seen(pool: &PgPool, term: &Term, tlps: &[Tlp], limit: u32) -> Result<Seen> {
    let value = terms::normalize(term.kind, &term.value);
    let mut builder: QueryBuilder<'_, Postgres> = QueryBuilder::new(
        "SELECT COUNT(DISTINCT r.id) AS n, MIN(r.added) AS first, MAX(r.added) AS last, \
         MAX(t.label) AS label FROM reports r JOIN terms t ON t.report_id = r.id WHERE t.kind = ",
    );
    builder.push_bind(term.kind.as_str());
    builder.push(" AND (t.value = ").push_bind(value.clone());
    if term.kind == TermKind::Technique {
        builder
            .push(" OR t.value LIKE ")
            .push_bind(format!("{value}.%"));
    }
    builder.push(") AND");
    push_tlps(&mut builder, "r.tlp", tlps);
    let row = builder.build().fetch_one(pool).await.map_err(db)?;
    let count: i64 = row.try_get("n").map_err(db)?;
    let label: Option<String> = row.try_get("label").map_err(db)?;
    let mut filter = ReportFilter {
        visible: tlps.to_vec(),
        ..ReportFilter::default()
    };
    match term.kind {
        TermKind::Ioc => filter.ioc = Some(value.clone()),
        TermKind::Technique => filter.technique = Some(value.clone()),
        TermKind::Actor | TermKind::Software => filter.actor = Some(value.clone()),
        TermKind::Cve => filter.cve = Some(value.clone()),
        TermKind::Sector => filter.sector = Some(value.clone()),
    }
    let reports = if term.kind == TermKind::Software {
        software_reports(pool, &value, tlps, limit).await?
    } else {
        let page = PageRequest { limit, after: None };
        list(pool, &filter, &page).await?.items
    };
    Ok(Seen {
        term: Term {
            kind: term.kind,
            value,
            label: label.unwrap_or_else(|| term.value.clone()),
        },
        count: count.max(0) as u64,
        first: row.try_get("first").map_err(db)?,
        last: row.try_get("last").map_err(db)?,
        reports,
    })
}

async fn software_reports(
    pool: &PgPool,
    value: &str,
    tlps: &[Tlp],
    limit: u32,
) -> Result<Vec<ReportSummary>> {
    let mut builder: QueryBuilder<'_, Postgres> = QueryBuilder::new(format!(
        "SELECT {SUMMARY_COLUMNS}, NULL AS snippet FROM reports r WHERE"
    ));
    push_tlps(&mut builder, "r.tlp", tlps);
    push_term(&mut builder, TermKind::Software, value);
    builder.push(" ORDER BY r.added DESC, r.id DESC LIMIT ");
    builder.push_bind(i64::from(limit.clamp(1, 500)));
    let rows = builder.build().fetch_all(pool).await.map_err(db)?;
    rows.iter().map(summary_from_row).collect()
}

pub(crate) async fn history_candidates(
    pool: &PgPool,
    entry: &HistoryEntry,
    limit: u32,
) -> Result<Vec<HistoryEntry>> {
    let indicators: Vec<String> = entry
        .indicators
        .iter()
        .filter_map(|i| {
            i.split_once(':')
                .map(|(_, v)| terms::normalize(TermKind::Ioc, v))
        })
        .collect();
    if entry.techniques.is_empty() && indicators.is_empty() {
        return Ok(Vec::new());
    }
    let mut builder: QueryBuilder<'_, Postgres> =
        QueryBuilder::new("SELECT r.history FROM reports r WHERE r.sha256 != ");
    builder.push_bind(entry.sha256.clone());
    builder.push(" AND r.id IN (SELECT t.report_id FROM terms t WHERE (t.kind = 'technique' AND t.value IN (");
    let mut list = builder.separated(", ");
    list.push("NULL");
    for technique in &entry.techniques {
        list.push_bind(technique.clone());
    }
    builder.push(")) OR (t.kind = 'ioc' AND t.value IN (");
    let mut list = builder.separated(", ");
    list.push("NULL");
    for value in indicators {
        list.push_bind(value);
    }
    builder.push("))) ORDER BY r.added DESC LIMIT ");
    builder.push_bind(i64::from(limit.clamp(1, 5000)));
    let rows = builder.build().fetch_all(pool).await.map_err(db)?;
    Ok(rows
        .iter()
        .filter_map(|row| row.try_get::<String, _>("history").ok())
        .filter_map(|text| serde_json::from_str(&text).ok())
        .collect())
}

pub(crate) async fn technique_counts(
    pool: &PgPool,
    tlps: &[Tlp],
    since: Option<&str>,
    sector: Option<&str>,
) -> Result<Vec<(String, u64)>> {
    let mut builder: QueryBuilder<'_, Postgres> = QueryBuilder::new(
        "SELECT t.value AS id, COUNT(*) AS n FROM terms t JOIN reports r ON r.id = t.report_id \
         WHERE t.kind = 'technique' AND",
    );
    push_tlps(&mut builder, "r.tlp", tlps);
    if let Some(since) = since {
        builder.push(" AND r.added >= ").push_bind(since.to_owned());
    }
    if let Some(sector) = sector {
        push_term(&mut builder, TermKind::Sector, sector);
    }
    builder.push(" GROUP BY t.value ORDER BY n DESC, t.value");
    let rows = builder.build().fetch_all(pool).await.map_err(db)?;
    rows.iter()
        .map(|row| {
            let n: i64 = row.try_get("n").map_err(db)?;
            Ok((row.try_get("id").map_err(db)?, n.max(0) as u64))
        })
        .collect()
}
