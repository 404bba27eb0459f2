//! Feed polling: one instance at a time holds a due feed (a lease in the store), fetches it
//! with `If-None-Match`/`If-Modified-Since` through the guarded fetcher, parses RSS or Atom,
//! and queues each item it has not seen as a URL job.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use ctiforge_store::{Feed, FeedPoll, JobInput, NewJob, Store};
use jiff::{SignedDuration, Timestamp};

use crate::App;

/// Items queued from one poll at most: a new subscription brings the newest, not a backlog.
const ITEMS_PER_POLL: usize = 20;

/// Polls feeds until the service stops.
pub(crate) async fn run<S: Store>(app: Arc<App<S>>) {
    let me = format!("{}/feeds", app.config.instance);
    while !app.stopping.load(Ordering::SeqCst) {
        let now = Timestamp::now();
        match app
            .store
            .claim_feed(&me, now, now + SignedDuration::from_secs(300))
            .await
        {
            Ok(Some(feed)) => poll(&app, &me, feed).await,
            Ok(None) => tokio::time::sleep(app.config.poll_interval * 2).await,
            Err(e) => {
                tracing::error!(error = %e, "cannot claim a feed");
                tokio::time::sleep(app.config.poll_interval * 8).await;
            }
        }
    }
}

/// What one feed entry becomes.
struct Item {
    key: String,
    link: String,
    title: Option<String>,
}

/// The entries of an RSS or Atom document, newest first.
fn items(bytes: &[u8]) -> Result<Vec<Item>, String> {
    let feed =
        feed_rs::parser::parse(bytes).map_err(|e| format!("the feed is not RSS or Atom: {e}"))?;
    let mut entries = feed.entries;
    entries.sort_by(|a, b| {
        let when = |e: &feed_rs::model::Entry| e.published.or(e.updated);
        when(b).cmp(&when(a))
    });
    Ok(entries
        .into_iter()
        .filter_map(|entry| {
            let link = entry
                .links
                .iter()
                .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .or(entry.links.first())
                .map(|l| l.href.clone())?;
            let key = if entry.id.is_empty() {
                link.clone()
            } else {
                entry.id.clone()
            };
            Some(Item {
                key,
                link,
                title: entry.title.map(|t| t.content),
            })
        })
        .collect())
}

async fn poll<S: Store>(app: &Arc<App<S>>, me: &str, feed: Feed) {
    let options = app.config.fetch.clone();
    let url = feed.url.clone();
    let (etag, modified) = (feed.etag.clone(), feed.last_modified.clone());
    let fetched = tokio::task::spawn_blocking(move || {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(etag) = &etag {
            headers.push(("If-None-Match", etag));
        }
        if let Some(modified) = &modified {
            headers.push(("If-Modified-Since", modified));
        }
        ctiforge_fetch::fetch_with_headers(&url, &options, &headers)
    })
    .await;
    let now = Timestamp::now();
    let mut record = FeedPoll {
        feed: feed.id,
        poller: me.to_owned(),
        etag: feed.etag.clone(),
        last_modified: feed.last_modified.clone(),
        polled: now,
        next_poll: now + SignedDuration::from_secs(i64::from(feed.interval.max(60))),
        error: None,
    };
    match fetched {
        Err(e) => record.error = Some(format!("the poll stopped: {e}")),
        Ok(Err(e)) => record.error = Some(e.to_string()),
        Ok(Ok(ctiforge_fetch::Answer::NotModified)) => {
            tracing::debug!(feed = feed.id, "not modified");
        }
        Ok(Ok(ctiforge_fetch::Answer::Body(body))) => {
            record.etag = body.etag.clone();
            record.last_modified = body.last_modified.clone();
            match items(&body.bytes) {
                Err(message) => record.error = Some(message),
                Ok(items) => {
                    let queued = queue_items(app, &feed, items, now).await;
                    tracing::info!(feed = feed.id, queued, "feed polled");
                }
            }
        }
    }
    if let Err(e) = app.store.record_feed_poll(&record).await {
        tracing::error!(feed = feed.id, error = %e, "cannot record the poll");
    }
}

/// Queues the items not seen before (the newest [`ITEMS_PER_POLL`]); the rest are remembered
/// so they are never queued later.
async fn queue_items<S: Store>(
    app: &App<S>,
    feed: &Feed,
    items: Vec<Item>,
    now: Timestamp,
) -> usize {
    let mut queued = 0;
    for item in items {
        match app.store.remember_feed_item(feed.id, &item.key, now).await {
            Ok(true) if queued < ITEMS_PER_POLL => {}
            Ok(_) => continue,
            Err(e) => {
                tracing::error!(feed = feed.id, error = %e, "cannot remember an item");
                continue;
            }
        }
        let job = NewJob {
            input: JobInput::Url { url: item.link },
            name: item.title,
            tlp: feed.tlp,
            sha256: None,
            submitted_by: None,
            feed: Some(feed.id),
            now,
        };
        match app.store.submit(job).await {
            Ok(_) => queued += 1,
            Err(e) => tracing::error!(feed = feed.id, error = %e, "cannot queue an item"),
        }
    }
    if queued > 0 {
        app.queued.notify_waiters();
    }
    queued
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_and_atom_items_come_newest_first() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
            <item><title>Old</title><link>https://example.org/old</link><guid>1</guid>
            <pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>
            <item><title>New</title><link>https://example.org/new</link><guid>2</guid>
            <pubDate>Tue, 03 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"#;
        let found = items(rss).expect("parses");
        assert_eq!(found[0].link, "https://example.org/new");
        assert_eq!(found[0].title.as_deref(), Some("New"));
        let atom = br#"<?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom"><title>a</title><id>urn:x</id>
            <updated>2026-11-03T10:00:00Z</updated>
            <entry><title>Advisory</title><id>urn:a1</id><updated>2026-11-03T10:00:00Z</updated>
            <link href="https://example.org/a1"/></entry></feed>"#;
        let found = items(atom).expect("parses");
        assert_eq!(
            (found[0].key.as_str(), found[0].link.as_str()),
            ("urn:a1", "https://example.org/a1")
        );
        assert!(items(b"not a feed").is_err());
    }
}
