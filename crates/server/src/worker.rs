//! Background workers: each claims a job, keeps its lease alive while it works, analyses the
//! input with the same pipeline as `ctiforge analyze`, and stores the report with its outputs,
//! index terms and STIX objects in one transaction. A worker that dies leaves its job to be
//! claimed again when the lease expires; a job that keeps killing workers fails after three
//! attempts.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use ctiforge_analyze::{Format, History, render};
use ctiforge_model::Tlp;
use ctiforge_model::analysis::HistoryEntry;
use ctiforge_store::{ClaimedJob, JobInput, NewReport, Store, StoredOutput, terms};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use crate::App;

/// Times a job is claimed before it fails.
const MAX_ATTEMPTS: u32 = 3;

/// The lease holder name of worker `n` of an instance.
pub(crate) fn name(instance: &str, n: usize) -> String {
    format!("{instance}/worker-{n}")
}

/// Works until the service stops.
pub(crate) async fn run<S: Store>(app: Arc<App<S>>, n: usize) {
    let me = name(&app.config.instance, n);
    while !app.stopping.load(Ordering::SeqCst) {
        let now = Timestamp::now();
        let lease = now + SignedDuration::from_secs(app.config.lease_seconds as i64);
        match app.store.claim_job(&me, now, lease, MAX_ATTEMPTS).await {
            Ok(Some(job)) => process(&app, &me, job).await,
            Ok(None) => {
                tokio::select! {
                    () = app.queued.notified() => {}
                    () = tokio::time::sleep(app.config.poll_interval) => {}
                }
            }
            Err(e) => {
                tracing::error!(worker = %me, error = %e, "cannot claim a job");
                tokio::time::sleep(app.config.poll_interval * 4).await;
            }
        }
    }
}

/// Analyses one job and records the outcome.
async fn process<S: Store>(app: &Arc<App<S>>, me: &str, claimed: ClaimedJob) {
    let id = claimed.job.id;
    tracing::info!(worker = %me, job = id, kind = %claimed.job.kind, attempt = claimed.job.attempts, "analysing");
    let renewal = {
        let app = app.clone();
        let me = me.to_owned();
        tokio::spawn(async move {
            let every = std::time::Duration::from_secs((app.config.lease_seconds / 3).max(1));
            loop {
                tokio::time::sleep(every).await;
                let until =
                    Timestamp::now() + SignedDuration::from_secs(app.config.lease_seconds as i64);
                if !matches!(app.store.renew_lease(id, &me, until).await, Ok(true)) {
                    break;
                }
            }
        })
    };
    let started = std::time::Instant::now();
    let outcome = analyse(app, me, &claimed).await;
    renewal.abort();
    match outcome {
        Ok(report) => {
            tracing::info!(worker = %me, job = id, report, seconds = started.elapsed().as_secs_f64(), "done")
        }
        Err(message) => {
            tracing::warn!(worker = %me, job = id, error = %message, "failed");
            if let Err(e) = app.store.fail_job(id, me, &message).await {
                tracing::error!(worker = %me, job = id, error = %e, "cannot record the failure");
            }
        }
    }
}

/// The input's bytes and what is known about them.
struct Input {
    bytes: Vec<u8>,
    file_name: Option<String>,
    url: Option<String>,
    content_type: Option<String>,
    replaces: Option<i64>,
    tlp: Tlp,
}

async fn read_input<S: Store>(app: &App<S>, claimed: &ClaimedJob) -> Result<Input, String> {
    let mut input = Input {
        bytes: Vec::new(),
        file_name: None,
        url: None,
        content_type: None,
        replaces: None,
        tlp: claimed.tlp,
    };
    match &claimed.input {
        JobInput::Text { text } => input.bytes = text.as_bytes().to_vec(),
        JobInput::File {
            bytes,
            file_name,
            content_type,
        } => {
            input.bytes = bytes.clone();
            input.file_name = file_name.clone();
            input.content_type = content_type.clone();
        }
        JobInput::Url { url } => {
            let options = app.config.fetch.clone();
            let url = url.clone();
            let fetched =
                tokio::task::spawn_blocking(move || ctiforge_fetch::fetch(&url, &options))
                    .await
                    .map_err(|e| format!("the fetch stopped: {e}"))?
                    .map_err(|e| e.to_string())?;
            input.bytes = fetched.bytes;
            input.url = Some(fetched.final_url);
            input.content_type = fetched.content_type;
        }
        JobInput::Reanalyze { report } => {
            let stored = app
                .store
                .report(*report)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("report {report} no longer exists"))?;
            input.bytes = stored.raw;
            input.content_type = Some(stored.media_type);
            input.url = stored.summary.url;
            input.replaces = Some(*report);
            input.tlp = stored.summary.tlp;
        }
    }
    Ok(input)
}

/// Earlier reports from the store, for correlation; called on the analysis thread.
struct StoreHistory<S: Store> {
    store: Arc<S>,
    runtime: tokio::runtime::Handle,
}

impl<S: Store> History for StoreHistory<S> {
    fn candidates(&self, entry: &HistoryEntry) -> Vec<HistoryEntry> {
        match self
            .runtime
            .block_on(self.store.history_candidates(entry, 1000))
        {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "no history for correlation");
                Vec::new()
            }
        }
    }
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads, analyses and stores one job; returns the report id or why it failed.
async fn analyse<S: Store>(
    app: &Arc<App<S>>,
    me: &str,
    claimed: &ClaimedJob,
) -> Result<i64, String> {
    let input = read_input(app, claimed).await?;
    let sha = sha256(&input.bytes);
    if input.replaces.is_none()
        && let Some(existing) = app
            .store
            .report_by_sha256(&sha)
            .await
            .map_err(|e| e.to_string())?
    {
        app.store
            .complete_job_with_existing(claimed.job.id, me, existing)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(existing);
    }
    let analyzed = Timestamp::now();
    let name = claimed.name.clone();
    let work = {
        let app = app.clone();
        let history = StoreHistory {
            store: app.store.clone(),
            runtime: tokio::runtime::Handle::current(),
        };
        tokio::task::spawn_blocking(move || {
            build_report(&app, input, sha, name, analyzed, &history)
        })
    };
    let report = match tokio::time::timeout(app.config.analysis_timeout, work).await {
        Err(_) => {
            return Err(format!(
                "the analysis took longer than {} s; split the report or raise --analysis-timeout",
                app.config.analysis_timeout.as_secs()
            ));
        }
        Ok(Err(e)) => return Err(format!("the analysis stopped: {e}")),
        Ok(Ok(report)) => report?,
    };
    app.store
        .complete_job(claimed.job.id, me, report)
        .await
        .map_err(|e| e.to_string())
}

/// The whole pipeline on one input (on a blocking thread).
fn build_report<S: Store>(
    app: &App<S>,
    input: Input,
    sha: String,
    name: Option<String>,
    analyzed: Timestamp,
    history: &dyn History,
) -> Result<NewReport, String> {
    let document = app
        .analyzer
        .read(ctiforge_text::Input {
            bytes: &input.bytes,
            path: input.file_name.as_deref(),
            url: input.url.as_deref(),
            content_type: input.content_type.as_deref(),
        })
        .map_err(|e| e.to_string())?;
    let mut analysis = app.analyzer.analyze(&document, input.tlp, history);
    // The stored report keeps its own hash: the input bytes, whatever form they came in.
    analysis.report.sha256 = sha.clone();
    let outputs = render(&analysis, app.kb, &Format::ALL, analyzed);
    let stix = outputs
        .iter()
        .find(|o| o.name == "bundle.json")
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.bytes).ok())
        .and_then(|bundle| bundle["objects"].as_array().cloned())
        .unwrap_or_default();
    let json = serde_json::to_string(&analysis).map_err(|e| e.to_string())?;
    Ok(NewReport {
        sha256: sha,
        name,
        title: analysis.report.title.clone(),
        url: document.source.url.clone(),
        media_type: document.source.media_type.clone(),
        tlp: input.tlp,
        published: analysis.report.published.as_ref().map(|p| p.date.clone()),
        text: document.text,
        raw: input.bytes,
        risk_score: analysis.risk.score,
        risk_level: analysis.risk.level.to_string(),
        exploitation: analysis.exploitation.status.to_string(),
        terms: terms::of(&analysis),
        history: HistoryEntry::of(&analysis),
        outputs: outputs
            .into_iter()
            .map(|o| StoredOutput {
                name: o.name,
                bytes: o.bytes,
            })
            .collect(),
        stix,
        analysis: json,
        analyzed,
        replaces: input.replaces,
    })
}
