//! The story every store backend must tell the same way: tokens and sessions, the job queue
//! with leases, reports with search and paging, STIX versions and TAXII paging while objects
//! are added, feeds. Each backend's tests call [`story`] on a fresh, empty store
//! (`crates/store-sqlite/tests/story.rs`; `crates/store-postgres/tests/story.rs` with
//! `CTIFORGE_TEST_PG_SERVER`, in a database of its own).
#![deny(missing_docs)]

use ctiforge_model::Tlp;
use ctiforge_model::analysis::HistoryEntry;
use ctiforge_store::stix::{NewObject, Query, Versions};
use ctiforge_store::{
    Cursor, JobInput, JobStatus, NewFeed, NewJob, NewReport, NewSession, NewToken, PageRequest,
    ReportFilter, Role, Store, StoreError, StoredOutput, Term, TermKind, visible_tlps,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + seconds).expect("a valid time")
}

fn job(text: &str, sha: &str, tlp: Tlp, now: Timestamp) -> NewJob {
    NewJob {
        input: JobInput::Text { text: text.into() },
        name: None,
        tlp,
        sha256: Some(sha.into()),
        submitted_by: None,
        feed: None,
        now,
    }
}

fn term(kind: TermKind, value: &str) -> Term {
    Term {
        kind,
        value: ctiforge_store::terms::normalize(kind, value),
        label: value.into(),
    }
}

fn stix_object(id: &str, name: &str, modified: &str) -> serde_json::Value {
    json!({
        "type": "attack-pattern", "spec_version": "2.1", "id": id, "name": name,
        "created": "2026-01-01T00:00:00.000Z", "modified": modified,
    })
}

/// A report as a worker would store it.
fn report(sha: &str, title: &str, text: &str, tlp: Tlp, now: Timestamp, n: u32) -> NewReport {
    let technique = if n.is_multiple_of(2) {
        "T1059.001"
    } else {
        "T1486"
    };
    NewReport {
        sha256: sha.into(),
        name: None,
        title: Some(title.into()),
        url: None,
        media_type: "text/plain".into(),
        tlp,
        published: Some("2026-11-01".into()),
        text: text.into(),
        raw: text.as_bytes().to_vec(),
        analysis: json!({"schema": "ctiforge.analysis/1", "n": n}).to_string(),
        risk_score: 40 + n,
        risk_level: "medium".into(),
        exploitation: "in_the_wild".into(),
        terms: vec![
            term(TermKind::Technique, technique),
            term(TermKind::Ioc, &format!("evil{n}.example")),
            term(TermKind::Ioc, "shared.example"),
            term(TermKind::Actor, "apt29"),
            term(TermKind::Actor, "G0016"),
            term(TermKind::Cve, "cve-2024-3400"),
            term(TermKind::Sector, "Health"),
        ],
        outputs: vec![StoredOutput {
            name: "report.md".into(),
            bytes: format!("# {title}\n").into_bytes(),
        }],
        stix: vec![
            stix_object(
                "attack-pattern--00000000-0000-4000-8000-000000000001",
                "Shared technique",
                "2026-01-01T00:00:00.000Z",
            ),
            stix_object(
                &format!("attack-pattern--00000000-0000-4000-8000-00000000010{n}"),
                &format!("Technique of report {n}"),
                "2026-01-01T00:00:00.000Z",
            ),
        ],
        analyzed: now,
        replaces: None,
        history: HistoryEntry {
            sha256: sha.into(),
            title: Some(title.into()),
            published: Some("2026-11-01".into()),
            techniques: vec![technique.into()],
            indicators: vec![
                format!("domain:evil{n}.example"),
                "domain:shared.example".into(),
            ],
        },
    }
}

/// Runs the whole story on an empty store; panics at the first step that goes wrong.
pub async fn story<S: Store>(store: &S) {
    store.healthy().await.expect("the store answers");
    tokens_and_sessions(store).await;
    let ids = jobs_and_reports(store).await;
    search_and_paging(store, &ids).await;
    stix_versions_and_paging(store).await;
    feeds(store).await;
    deleting(store, &ids).await;
}

async fn tokens_and_sessions<S: Store>(store: &S) {
    let new = |name: &str, hash: &str| NewToken {
        name: name.into(),
        role: Role::Writer,
        max_tlp: Tlp::Amber,
        hash: hash.into(),
        created: at(0),
    };
    let token = store
        .create_token(new("ci", "hash-1"))
        .await
        .expect("token");
    assert_eq!((token.role, token.max_tlp), (Role::Writer, Tlp::Amber));
    let again = store.create_token(new("ci", "hash-2")).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    let found = store.token_by_hash("hash-1").await.expect("lookup");
    assert_eq!(found.as_ref().map(|t| t.id), Some(token.id));
    assert!(store.token_by_hash("nope").await.expect("lookup").is_none());

    store
        .create_session(NewSession {
            hash: "session-1".into(),
            token: token.id,
            csrf: "csrf".into(),
            expires: at(3600),
        })
        .await
        .expect("session");
    let (session, owner) = store
        .session("session-1", at(60))
        .await
        .expect("lookup")
        .expect("live session");
    assert_eq!((session.csrf.as_str(), owner.id), ("csrf", token.id));
    assert!(
        store
            .session("session-1", at(7200))
            .await
            .expect("lookup")
            .is_none(),
        "expired"
    );

    assert!(store.revoke_token("ci").await.expect("revoke"));
    assert!(!store.revoke_token("ci").await.expect("revoke twice"));
    assert!(
        store
            .token_by_hash("hash-1")
            .await
            .expect("lookup")
            .is_none()
    );
    assert!(
        store
            .session("session-1", at(60))
            .await
            .expect("lookup")
            .is_none(),
        "revoked"
    );
    let listed = store.tokens().await.expect("tokens");
    assert!(listed[0].revoked.is_some());
}

/// Queues, claims, completes; returns the ids of the three reports stored.
async fn jobs_and_reports<S: Store>(store: &S) -> Vec<i64> {
    assert!(
        store
            .claim_job("w1", at(0), at(60), 3)
            .await
            .expect("claim")
            .is_none()
    );
    let mut ids = Vec::new();
    for n in 0..3u32 {
        let now = at(100 + i64::from(n) * 100);
        let sha = format!("sha-{n}");
        let tlp = if n == 2 { Tlp::Red } else { Tlp::Green };
        let queued = store
            .submit(job(&format!("text {n}"), &sha, tlp, now))
            .await
            .expect("submit");
        assert_eq!(queued.status, JobStatus::Queued);
        let claimed = store
            .claim_job("w1", now, now + SignedDuration::from_secs(60), 3)
            .await
            .expect("claim")
            .expect("a job");
        assert_eq!(claimed.job.id, queued.id);
        assert_eq!(claimed.tlp, tlp);
        assert_eq!(
            claimed.input,
            JobInput::Text {
                text: format!("text {n}")
            }
        );
        assert!(
            store
                .renew_lease(queued.id, "w1", now + SignedDuration::from_secs(120))
                .await
                .expect("renew")
        );
        assert!(
            !store
                .renew_lease(queued.id, "w2", now)
                .await
                .expect("renew"),
            "not w2's"
        );
        let text = format!(
            "Report {n}: the actor exploited CVE-2024-3400 and used PowerShell against hospitals."
        );
        let id = store
            .complete_job(
                queued.id,
                "w1",
                report(&sha, &format!("Report {n}"), &text, tlp, now, n),
            )
            .await
            .expect("complete");
        let done = store.job(queued.id).await.expect("job").expect("exists");
        assert_eq!((done.status, done.report), (JobStatus::Done, Some(id)));
        ids.push(id);
    }
    // The same bytes again: done at once, pointing at the stored report.
    let again = store
        .submit(job("text 0", "sha-0", Tlp::Green, at(500)))
        .await
        .expect("submit");
    assert_eq!(
        (again.status, again.report),
        (JobStatus::Done, Some(ids[0]))
    );

    // A worker that dies: its lease expires and another takes the job over; the dead worker's
    // late completion is refused; after too many attempts the job fails with a reason.
    let lost = store
        .submit(job("text 9", "sha-9", Tlp::Green, at(600)))
        .await
        .expect("submit");
    let first = store
        .claim_job("w1", at(600), at(610), 2)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(first.job.attempts, 1);
    assert!(
        store
            .claim_job("w2", at(605), at(700), 2)
            .await
            .expect("claim")
            .is_none(),
        "leased"
    );
    let second = store
        .claim_job("w2", at(611), at(620), 2)
        .await
        .expect("claim")
        .expect("expired lease");
    assert_eq!((second.job.id, second.job.attempts), (lost.id, 2));
    let late = store
        .complete_job(
            lost.id,
            "w1",
            report("sha-9", "late", "late", Tlp::Green, at(612), 9),
        )
        .await;
    assert!(matches!(late, Err(StoreError::NotFound { .. })), "{late:?}");
    assert!(
        store
            .claim_job("w3", at(621), at(700), 2)
            .await
            .expect("claim")
            .is_none()
    );
    let failed = store.job(lost.id).await.expect("job").expect("exists");
    assert_eq!(failed.status, JobStatus::Failed);
    assert!(
        failed
            .error
            .as_deref()
            .is_some_and(|e| e.contains("2 attempts")),
        "{failed:?}"
    );

    // A graceful stop puts held jobs back.
    let held = store
        .submit(job("text 8", "sha-8", Tlp::Green, at(700)))
        .await
        .expect("submit");
    store
        .claim_job("w4", at(700), at(760), 3)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(store.release_jobs("w4").await.expect("release"), 1);
    assert_eq!(
        store.job(held.id).await.expect("job").expect("job").status,
        JobStatus::Queued
    );
    let claimed = store
        .claim_job("w5", at(701), at(760), 3)
        .await
        .expect("claim")
        .expect("job");
    store
        .fail_job(claimed.job.id, "w5", "cannot read the PDF")
        .await
        .expect("fail");
    let counts = store.job_counts().await.expect("counts");
    assert_eq!((counts.queued, counts.running, counts.failed), (0, 0, 2));
    ids
}

async fn search_and_paging<S: Store>(store: &S, ids: &[i64]) {
    let everyone = visible_tlps(Tlp::Red);
    let readers = visible_tlps(Tlp::Amber);
    let filter = |f: ReportFilter| ReportFilter {
        visible: everyone.clone(),
        ..f
    };
    let page = |limit, after: Option<String>| PageRequest { limit, after };

    // Newest first, two at a time, across all three.
    let first = store
        .reports(&filter(ReportFilter::default()), &page(2, None))
        .await
        .expect("list");
    assert_eq!(
        first.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[2], ids[1]]
    );
    let second = store
        .reports(
            &filter(ReportFilter::default()),
            &page(2, first.next.clone()),
        )
        .await
        .expect("page 2");
    assert_eq!(
        second.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[0]]
    );
    assert!(second.next.is_none());
    let bad = store
        .reports(
            &filter(ReportFilter::default()),
            &page(2, Some("garbage".into())),
        )
        .await;
    assert!(matches!(bad, Err(StoreError::Cursor(_))), "{bad:?}");

    // TLP:RED stays out of a reader's listing.
    let visible = store
        .reports(
            &ReportFilter {
                visible: readers.clone(),
                ..ReportFilter::default()
            },
            &page(10, None),
        )
        .await
        .expect("list");
    assert_eq!(visible.items.len(), 2);

    let count = |f: ReportFilter| async {
        store
            .reports(&filter(f), &page(50, None))
            .await
            .expect("list")
            .items
            .len()
    };
    assert_eq!(
        count(ReportFilter {
            technique: Some("t1059".into()),
            ..Default::default()
        })
        .await,
        2,
        "sub-techniques match"
    );
    assert_eq!(
        count(ReportFilter {
            technique: Some("T1486".into()),
            ..Default::default()
        })
        .await,
        1
    );
    assert_eq!(
        count(ReportFilter {
            ioc: Some("EVIL1.example".into()),
            ..Default::default()
        })
        .await,
        1
    );
    assert_eq!(
        count(ReportFilter {
            ioc: Some("shared.example".into()),
            ..Default::default()
        })
        .await,
        3
    );
    assert_eq!(
        count(ReportFilter {
            actor: Some("APT29".into()),
            ..Default::default()
        })
        .await,
        3
    );
    assert_eq!(
        count(ReportFilter {
            cve: Some("cve-2024-3400".into()),
            ..Default::default()
        })
        .await,
        3
    );
    assert_eq!(
        count(ReportFilter {
            tlp: Some(Tlp::Red),
            ..Default::default()
        })
        .await,
        1
    );
    assert_eq!(
        count(ReportFilter {
            sector: Some("health".into()),
            ..Default::default()
        })
        .await,
        3
    );

    let found = store
        .reports(
            &filter(ReportFilter {
                q: Some("PowerShell hospitals".into()),
                ..Default::default()
            }),
            &page(10, None),
        )
        .await
        .expect("search");
    assert_eq!(found.items.len(), 3);
    let snippet = found.items[0].snippet.as_deref().unwrap_or_default();
    assert!(snippet.contains("«PowerShell»"), "{snippet}");
    let none = store
        .reports(
            &filter(ReportFilter {
                q: Some("\"unbalanced OR ( quote".into()),
                ..Default::default()
            }),
            &page(10, None),
        )
        .await
        .expect("odd queries are words, not syntax");
    assert!(none.items.is_empty());

    let seen = store
        .seen(&term(TermKind::Ioc, "shared.example"), &readers, 10)
        .await
        .expect("seen");
    assert_eq!(
        (seen.count, seen.reports.len()),
        (2, 2),
        "TLP:RED not counted for readers"
    );
    assert!(seen.first.is_some() && seen.first <= seen.last);

    let report = store.report(ids[0]).await.expect("report").expect("exists");
    assert_eq!(report.summary.title, "Report 0");
    assert!(report.text.contains("PowerShell"));
    assert_eq!(
        store.output_names(ids[0]).await.expect("names"),
        ["report.md"]
    );
    let markdown = store
        .output(ids[0], "report.md")
        .await
        .expect("output")
        .expect("exists");
    assert_eq!(markdown, b"# Report 0\n");
    assert_eq!(
        store.report_by_sha256("sha-1").await.expect("by sha"),
        Some(ids[1])
    );

    let mine = HistoryEntry {
        sha256: "sha-new".into(),
        title: None,
        published: None,
        techniques: vec!["T1486".into()],
        indicators: vec!["domain:evil0.example".into()],
    };
    let candidates = store.history_candidates(&mine, 100).await.expect("history");
    let mut shas: Vec<&str> = candidates.iter().map(|h| h.sha256.as_str()).collect();
    shas.sort_unstable();
    assert_eq!(shas, ["sha-0", "sha-1"]);

    let counts = store
        .technique_counts(&readers, None, None)
        .await
        .expect("counts");
    assert!(counts.contains(&("T1059.001".to_owned(), 1)), "{counts:?}");
    let health = store
        .technique_counts(&readers, None, Some("health"))
        .await
        .expect("counts");
    assert_eq!(
        health, counts,
        "every stored report names the health sector"
    );
    let finance = store
        .technique_counts(&readers, None, Some("Finance"))
        .await
        .expect("counts");
    assert!(finance.is_empty(), "{finance:?}");
    let later = store
        .technique_counts(&readers, Some("2999-01-01"), None)
        .await
        .expect("counts");
    assert!(later.is_empty(), "{later:?}");
}

async fn stix_versions_and_paging<S: Store>(store: &S) {
    let tlps = visible_tlps(Tlp::Red);
    let all_of = |limit: u32| Query {
        tlps: tlps.clone(),
        limit,
        bodies: true,
        ..Query::default()
    };
    // The reports added 1 shared + 3 own objects (the shared one stored once per TLP level:
    // green and red).
    let everything = store.stix_objects(&all_of(100)).await.expect("objects");
    let ids: Vec<&str> = everything.objects.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    let reader = store
        .stix_objects(&Query {
            tlps: visible_tlps(Tlp::Amber),
            ..all_of(100)
        })
        .await
        .expect("objects");
    assert_eq!(reader.objects.len(), 3, "report 2's own object is TLP:RED");

    // Paging one at a time while another object is added: none skipped, none repeated.
    let mut seen = Vec::new();
    let mut after: Option<Cursor> = None;
    for step in 0..10 {
        let page = store
            .stix_objects(&Query {
                after: after.clone(),
                ..all_of(1)
            })
            .await
            .expect("page");
        if step == 1 {
            store
                .add_stix_objects(vec![NewObject {
                    body: stix_object(
                        "attack-pattern--00000000-0000-4000-8000-000000000999",
                        "Added while paging",
                        "2026-01-01T00:00:00.000Z",
                    ),
                    tlp: Tlp::Green,
                    report: None,
                    now: at(1000),
                }])
                .await
                .expect("add");
        }
        seen.extend(page.objects.iter().map(|o| o.id.clone()));
        match page.next {
            Some(next) => after = Some(Cursor::decode("stix", &next).expect("cursor")),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(unique.len(), 5, "no object twice: {seen:?}");

    // A changed object becomes a second version with a later `modified`; the same content
    // again adds nothing.
    let id = "attack-pattern--00000000-0000-4000-8000-000000000999";
    let changed = store
        .add_stix_objects(vec![NewObject {
            body: stix_object(id, "Renamed", "2026-01-01T00:00:00.000Z"),
            tlp: Tlp::Green,
            report: None,
            now: at(1100),
        }])
        .await
        .expect("add");
    assert!(changed[0].stored);
    assert_eq!(changed[0].version, "2026-01-01T00:00:00.001Z");
    let same = store
        .add_stix_objects(vec![NewObject {
            body: stix_object(id, "Renamed", "2026-01-01T00:00:00.001Z"),
            tlp: Tlp::Green,
            report: None,
            now: at(1200),
        }])
        .await
        .expect("add");
    assert!(!same[0].stored);
    let versions = |versions: Versions| {
        let query = Query {
            ids: vec![id.into()],
            versions,
            ..all_of(10)
        };
        async move { store.stix_objects(&query).await.expect("objects").objects }
    };
    assert_eq!(versions(Versions::All).await.len(), 2);
    let last = versions(Versions::Last).await;
    assert_eq!(last[0].version, "2026-01-01T00:00:00.001Z");
    assert_eq!(last[0].body.as_ref().expect("body")["name"], "Renamed");
    assert_eq!(
        versions(Versions::First).await[0].version,
        "2026-01-01T00:00:00.000Z"
    );
    let exact = versions(Versions::Exactly(vec!["2026-01-01T00:00:00.000Z".into()])).await;
    assert_eq!(exact.len(), 1);

    // added_after and type filters.
    let late = store
        .stix_objects(&Query {
            added_after: Some(ctiforge_store::time_text(at(1050))),
            ..all_of(10)
        })
        .await
        .expect("objects");
    assert_eq!(late.objects.len(), 1);
    let none = store
        .stix_objects(&Query {
            types: vec!["malware".into()],
            ..all_of(10)
        })
        .await
        .expect("objects");
    assert!(none.objects.is_empty());
    // date_added strictly increases.
    let all = store
        .stix_objects(&Query {
            versions: Versions::All,
            ..all_of(100)
        })
        .await
        .expect("objects");
    for pair in all.objects.windows(2) {
        assert!(
            pair[0].added < pair[1].added,
            "{} !< {}",
            pair[0].added,
            pair[1].added
        );
    }

    let status = ctiforge_store::stix::Status {
        id: "status-1".into(),
        status: "complete".into(),
        request_timestamp: ctiforge_store::time_text(at(1300)),
        total_count: 1,
        success_count: 1,
        successes: vec![ctiforge_store::stix::StatusDetail {
            id: id.into(),
            version: None,
            message: None,
        }],
        failure_count: 0,
        failures: Vec::new(),
        pending_count: 0,
        pendings: Vec::new(),
    };
    store.put_taxii_status(&status).await.expect("status");
    assert_eq!(
        store.taxii_status("status-1").await.expect("status"),
        Some(status)
    );
    assert!(store.taxii_status("none").await.expect("status").is_none());
}

async fn feeds<S: Store>(store: &S) {
    let new = |url: &str| NewFeed {
        url: url.into(),
        name: Some("Advisories".into()),
        interval: 600,
        tlp: Tlp::Clear,
        now: at(2000),
    };
    let feed = store
        .add_feed(new("https://example.org/feed.xml"))
        .await
        .expect("feed");
    assert!(matches!(
        store.add_feed(new("https://example.org/feed.xml")).await,
        Err(StoreError::Conflict { .. })
    ));
    let claimed = store
        .claim_feed("p1", at(2001), at(2100))
        .await
        .expect("claim")
        .expect("due");
    assert_eq!(claimed.id, feed.id);
    assert!(
        store
            .claim_feed("p2", at(2002), at(2100))
            .await
            .expect("claim")
            .is_none(),
        "one poller at a time"
    );
    assert!(
        store
            .remember_feed_item(feed.id, "item-1", at(2003))
            .await
            .expect("item")
    );
    assert!(
        !store
            .remember_feed_item(feed.id, "item-1", at(2004))
            .await
            .expect("item"),
        "seen before"
    );
    store
        .record_feed_poll(&ctiforge_store::FeedPoll {
            feed: feed.id,
            poller: "p1".into(),
            etag: Some("\"v1\"".into()),
            last_modified: None,
            polled: at(2005),
            next_poll: at(2605),
            error: None,
        })
        .await
        .expect("record");
    assert!(
        store
            .claim_feed("p2", at(2010), at(2100))
            .await
            .expect("claim")
            .is_none(),
        "not due"
    );
    let listed = store.feeds().await.expect("feeds");
    assert_eq!(listed[0].etag.as_deref(), Some("\"v1\""));
    assert_eq!(listed[0].items, 1);
    assert!(store.poll_feed_now(feed.id).await.expect("now"));
    assert!(
        store
            .claim_feed(
                "p2",
                jiff::Timestamp::now(),
                jiff::Timestamp::now() + SignedDuration::from_secs(60)
            )
            .await
            .expect("claim")
            .is_some()
    );
    assert!(store.delete_feed(feed.id).await.expect("delete"));
    assert!(store.feeds().await.expect("feeds").is_empty());
}

async fn deleting<S: Store>(store: &S, ids: &[i64]) {
    assert!(store.delete_report(ids[1]).await.expect("delete"));
    assert!(!store.delete_report(ids[1]).await.expect("delete twice"));
    assert!(store.report(ids[1]).await.expect("report").is_none());
    assert!(
        store
            .output(ids[1], "report.md")
            .await
            .expect("output")
            .is_none()
    );
    let everyone = visible_tlps(Tlp::Red);
    let left = store
        .reports(
            &ReportFilter {
                visible: everyone.clone(),
                ..ReportFilter::default()
            },
            &PageRequest {
                limit: 10,
                after: None,
            },
        )
        .await
        .expect("list");
    assert_eq!(left.items.len(), 2);
    // Report 1's own object went with it; the shared one stays for the others.
    let objects = store
        .stix_objects(&Query {
            tlps: everyone,
            limit: 100,
            ..Query::default()
        })
        .await
        .expect("objects");
    let ids: Vec<&str> = objects.objects.iter().map(|o| o.id.as_str()).collect();
    assert!(
        !ids.contains(&"attack-pattern--00000000-0000-4000-8000-000000000101"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"attack-pattern--00000000-0000-4000-8000-000000000001"),
        "{ids:?}"
    );
}
