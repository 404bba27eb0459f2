//! `ctiforge hunt`: Sigma rules over logs.
//!
//! Each rule is prepared (filters, pipelines) and compiled once by rsigma's evaluator
//! (docs/decisions/0008). Rules are grouped by logsource and, when they require one, by event
//! id, so an event meets only the rules of its logsources and id; within a group an
//! Aho-Corasick automaton per field over the literals each rule needs (at least one of them
//! must occur for the rule to match) picks the rules worth evaluating. Files are read in
//! parallel on all cores. With correlation rules the events are fed, file after file,
//! to rsigma's correlation engine, which keeps the windows.
//!
//! Readers ([`readers`]) and field resolution ([`event`]) are ours.

#![deny(missing_docs)]

pub mod event;
pub mod readers;
pub mod timeline;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock, mpsc};

use rayon::prelude::*;
use rsigma_eval::event::JsonEvent;
use rsigma_eval::pipeline::Pipeline;
use rsigma_eval::{CompiledRule, CorrelationConfig, CorrelationEngine, EvaluationResult};
use rsigma_parser::{Level, LogSource, SigmaCollection};
use serde::{Deserialize, Serialize};

pub use event::Source;
pub use timeline::Timeline;

/// How much a level weighs, for `--min-level` and sorting.
pub fn level_rank(level: Option<&str>) -> u8 {
    match level {
        Some("informational") => 1,
        Some("low") => 2,
        Some("medium") => 3,
        Some("high") => 4,
        Some("critical") => 5,
        _ => 0,
    }
}

/// What the hunt is asked to do besides the rules.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The logsource of JSON events whose own cannot be recognised.
    pub declared: Option<Source>,
    /// Detections below this level are dropped (`informational`...`critical`).
    pub min_level: Option<String>,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Evaluate every rule of an event's logsource, without the literal prefilter (for
    /// checking that the prefilter never drops a detection).
    pub no_prefilter: bool,
    /// About how many bytes of detections are held in memory before they are written, in
    /// order, to a temporary file; 0 = [`timeline::DEFAULT_BUDGET`].
    pub memory_budget: usize,
    /// Longest a rule may take on one event before it is set aside for the rest of the hunt
    /// (and reported); `None` = [`DEFAULT_RULE_BUDGET`].
    pub rule_budget: Option<std::time::Duration>,
}

/// How long one rule may take on one event (see [`Options::rule_budget`]). Rules take
/// microseconds; only a pathological `|re` over a large field comes near this.
pub const DEFAULT_RULE_BUDGET: std::time::Duration = std::time::Duration::from_secs(1);

/// Most memory a `|re` pattern may compile to. Every SigmaHQ regex fits (the largest,
/// `-k\s\w{1,64}…` with Unicode classes, needs between 2 and 4 MiB); patterns such as
/// `(?s)(.{1,1000}X){1,5}`, whose search takes seconds per megabyte, do not.
pub const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// Where a detection's event came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    /// The log file.
    pub file: PathBuf,
    /// The record number in it (EVTX: the event record id; others: from 1).
    pub record: u64,
}

/// What fired.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A detection rule on one event.
    Detection,
    /// A correlation rule on a group of events.
    Correlation,
}

impl Kind {
    /// `detection` or `correlation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Detection => "detection",
            Kind::Correlation => "correlation",
        }
    }
}

/// One rule firing on one event (or a correlation firing on a group).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Detection {
    /// The rule's id.
    pub rule_id: Option<String>,
    /// Its title.
    pub rule_title: String,
    /// Its level.
    pub level: Option<String>,
    /// A detection or a correlation.
    pub kind: Kind,
    /// The event's time as written in the log.
    pub timestamp: Option<String>,
    /// The event's place.
    pub source: Origin,
    /// The rule's tags.
    pub tags: Vec<String>,
    /// The selections that matched and the field values that made them.
    pub matched: serde_json::Value,
    /// The event, with the field names the rules saw.
    pub event: serde_json::Value,
}

/// What a hunt read, skipped and found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Files that could not be read, with the reason.
    pub failed_files: Vec<(PathBuf, String)>,
    /// Events read.
    pub events: u64,
    /// Events skipped, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Events whose logsource was not recognised (no rule could apply).
    pub unrouted: u64,
    /// Detections per rule: (level rank, title, id) → count.
    pub per_rule: BTreeMap<(u8, String, String), u64>,
    /// Rules set aside for the rest of the hunt because one event took longer than the
    /// per-event budget: (rule, seconds it took, where the event was).
    pub slow_rules: Vec<(String, f64, Origin)>,
}

/// Detections a worker hands on at a time.
const BATCH: usize = 256;

/// What a worker hands to the collector.
enum Message {
    /// Detections found (more may follow for the same file).
    Found(Vec<Detection>),
    /// A file is done, with what was read and skipped in it.
    FileDone(Summary),
}

/// Rules of one logsource (and one required event id, when they have one).
struct Bucket {
    logsource: LogSource,
    event_id: Option<i64>,
    /// Indexes into `Hunter::rules`.
    rules: Vec<usize>,
    prefilter: Prefilter,
}

/// Which rules of a bucket an event can match, from the literals each rule needs.
#[derive(Default)]
struct Prefilter {
    /// Positions (in the bucket) of rules without a literal set: always evaluated.
    always: Vec<usize>,
    /// Per field: an automaton over its literals, and the rules each literal admits.
    fields: Vec<(String, aho_corasick::AhoCorasick, Vec<Vec<usize>>)>,
}

impl Prefilter {
    fn build(literals: &[Option<Vec<(String, String)>>]) -> Prefilter {
        let mut always = Vec::new();
        let mut by_field: BTreeMap<String, BTreeMap<String, Vec<usize>>> = BTreeMap::new();
        for (position, set) in literals.iter().enumerate() {
            // Non-ASCII literals would need Unicode case folding: evaluate those rules always.
            match set {
                Some(set) if set.iter().all(|(_, l)| !l.is_empty() && l.is_ascii()) => {
                    for (field, literal) in set {
                        by_field
                            .entry(field.clone())
                            .or_default()
                            .entry(literal.clone())
                            .or_default()
                            .push(position);
                    }
                }
                _ => always.push(position),
            }
        }
        let mut fields = Vec::new();
        for (field, literals) in by_field {
            let (patterns, rules): (Vec<String>, Vec<Vec<usize>>) = literals.into_iter().unzip();
            match aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&patterns)
            {
                Ok(automaton) => fields.push((field, automaton, rules)),
                Err(_) => always.extend(rules.into_iter().flatten()),
            }
        }
        always.sort_unstable();
        always.dedup();
        Prefilter { always, fields }
    }

    /// The positions of the rules `event` may match, in order.
    fn candidates(&self, event: &serde_json::Value, count: usize) -> Vec<usize> {
        let mut marked = vec![false; count];
        for &p in &self.always {
            marked[p] = true;
        }
        for (field, automaton, rules) in &self.fields {
            let Some(value) = field_value(event, field) else {
                continue;
            };
            let mut scan = |text: &str| {
                for m in automaton.find_overlapping_iter(text) {
                    for &p in &rules[m.pattern().as_usize()] {
                        marked[p] = true;
                    }
                }
            };
            match value {
                serde_json::Value::String(s) => scan(s),
                serde_json::Value::Array(items) => {
                    for item in items {
                        match item {
                            serde_json::Value::String(s) => scan(s),
                            other => scan(&other.to_string()),
                        }
                    }
                }
                serde_json::Value::Null | serde_json::Value::Object(_) => {}
                other => scan(&other.to_string()),
            }
        }
        marked
            .iter()
            .enumerate()
            .filter(|(_, m)| **m)
            .map(|(p, _)| p)
            .collect()
    }
}

/// A field by name: the key itself, else a dotted path.
fn field_value<'a>(event: &'a serde_json::Value, field: &str) -> Option<&'a serde_json::Value> {
    if let Some(v) = event.get(field) {
        return Some(v);
    }
    if !field.contains('.') {
        return None;
    }
    let mut v = event;
    for part in field.split('.') {
        v = v.get(part)?;
    }
    Some(v)
}

/// What routing depends on: the event's logsources and event id.
type RouteKey = (Vec<Source>, Option<i64>);

/// Rules compiled for hunting.
pub struct Hunter {
    compiled: Vec<CompiledRule>,
    buckets: Vec<Bucket>,
    routes: RwLock<HashMap<RouteKey, Vec<usize>>>,
    correlation: Option<Mutex<CorrelationEngine>>,
    options: Options,
    rules: usize,
    /// Rules set aside after going over the per-event budget (by index into `compiled`).
    set_aside: Vec<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for Hunter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hunter")
            .field("engines", &self.buckets.len())
            .field("rules", &self.rules)
            .field("correlations", &self.correlation.is_some())
            .finish()
    }
}

impl Hunter {
    /// Compiles `collection` (after `pipelines`). Rules that do not compile are returned with
    /// the reason; the others hunt.
    pub fn new(
        collection: &SigmaCollection,
        pipelines: &[Pipeline],
        options: Options,
    ) -> (Hunter, Vec<(String, String)>) {
        // One engine per logsource and, for rules that require an event id, per id.
        type GroupKey = (String, String, String, Option<i64>);
        let mut groups: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
        for (i, rule) in collection.rules.iter().enumerate() {
            let key = |v: &Option<String>| v.as_deref().unwrap_or("").to_ascii_lowercase();
            let ids = required_event_ids(rule).unwrap_or_default();
            let ids: Vec<Option<i64>> = if ids.is_empty() {
                vec![None]
            } else {
                ids.into_iter().map(Some).collect()
            };
            for id in ids {
                groups
                    .entry((
                        key(&rule.logsource.product),
                        key(&rule.logsource.category),
                        key(&rule.logsource.service),
                        id,
                    ))
                    .or_default()
                    .push(i);
            }
        }
        let mut errors = Vec::new();
        // Each rule prepared (filters, pipelines), compiled once (on all cores), with its
        // literals.
        let outcomes: Vec<Result<_, String>> = collection
            .rules
            .par_iter()
            .map(|rule| {
                let prepared =
                    ctiforge_sigma::convert::prepare_rule(rule, &collection.filters, pipelines)
                        .map_err(|e| e.to_string())?;
                check_regexes(&prepared)?;
                let compiled = rsigma_eval::compile_rule(&prepared).map_err(|e| e.to_string())?;
                Ok((compiled, ctiforge_sigma::convert::rule_literals(&prepared)))
            })
            .collect();
        let mut compiled = Vec::new();
        let mut slot: Vec<Option<usize>> = Vec::with_capacity(collection.rules.len());
        let mut literals = Vec::new();
        for (rule, outcome) in collection.rules.iter().zip(outcomes) {
            match outcome {
                Ok((c, l)) => {
                    slot.push(Some(compiled.len()));
                    compiled.push(c);
                    literals.push(l);
                }
                Err(e) => {
                    errors.push((rule_name(rule.id.as_deref(), &rule.title), e));
                    slot.push(None);
                }
            }
        }
        let mut buckets = Vec::new();
        for ((_, _, _, event_id), members) in groups {
            let rules: Vec<usize> = members.iter().filter_map(|&i| slot[i]).collect();
            if rules.is_empty() {
                continue;
            }
            let sets: Vec<Option<Vec<(String, String)>>> =
                rules.iter().map(|&r| literals[r].clone()).collect();
            buckets.push(Bucket {
                logsource: collection.rules[members[0]].logsource.clone(),
                event_id,
                rules,
                prefilter: Prefilter::build(&sets),
            });
        }
        let rules = compiled.len();
        let correlation = (!collection.correlations.is_empty()).then(|| {
            let mut engine = CorrelationEngine::new(CorrelationConfig::default());
            for p in pipelines {
                engine.add_pipeline(p.clone());
            }
            if let Err(e) = engine.add_collection(collection) {
                errors.push(("correlation rules".into(), e.to_string()));
            }
            Mutex::new(engine)
        });
        (
            Hunter {
                compiled,
                buckets,
                routes: RwLock::new(HashMap::new()),
                correlation,
                options,
                rules,
                set_aside: (0..rules)
                    .map(|_| std::sync::atomic::AtomicBool::new(false))
                    .collect(),
            },
            errors,
        )
    }

    /// How many rules compiled.
    pub fn rule_count(&self) -> usize {
        self.rules
    }

    /// The engines whose rules can match an event of these logsources and event id.
    fn route(&self, key: &RouteKey) -> Vec<usize> {
        if let Some(found) = self.routes.read().ok().and_then(|r| r.get(key).cloned()) {
            return found;
        }
        let (sources, event_id) = key;
        let found: Vec<usize> = self
            .buckets
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                (b.event_id.is_none() || b.event_id == *event_id)
                    && sources.iter().any(|s| logsource_fits(&b.logsource, s))
            })
            .map(|(i, _)| i)
            .collect();
        if let Ok(mut routes) = self.routes.write() {
            routes.insert(key.clone(), found.clone());
        }
        found
    }

    /// Evaluates one prepared event; `last` keeps the previous event's route, which most
    /// events of a file share. A rule that goes over the per-event budget is set aside and
    /// pushed to `slow` with the time it took.
    fn evaluate(
        &self,
        prepared: &event::Prepared,
        last: &mut Option<(RouteKey, Vec<usize>)>,
        slow: &mut Vec<(usize, std::time::Duration)>,
    ) -> Vec<EvaluationResult> {
        let budget = self.options.rule_budget.unwrap_or(DEFAULT_RULE_BUDGET);
        let event_id = prepared.event_id;
        let same = last
            .as_ref()
            .is_some_and(|((s, id), _)| *id == event_id && *s == prepared.sources);
        if !same {
            let key = (prepared.sources.clone(), event_id);
            let route = self.route(&key);
            *last = Some((key, route));
        }
        let json = JsonEvent::borrow(&prepared.value);
        let mut out = Vec::new();
        if let Some((_, route)) = last {
            for index in route.iter() {
                let bucket = &self.buckets[*index];
                let positions = if self.options.no_prefilter {
                    (0..bucket.rules.len()).collect()
                } else {
                    bucket
                        .prefilter
                        .candidates(&prepared.value, bucket.rules.len())
                };
                for position in positions {
                    let index = bucket.rules[position];
                    if self.set_aside[index].load(Ordering::Relaxed) {
                        continue;
                    }
                    let started = std::time::Instant::now();
                    let result = rsigma_eval::evaluate_rule(&self.compiled[index], &json);
                    let took = started.elapsed();
                    if took > budget {
                        self.set_aside[index].store(true, Ordering::Relaxed);
                        slow.push((index, took));
                    }
                    out.extend(result);
                }
            }
        }
        out
    }

    fn keep(&self, result: &EvaluationResult) -> bool {
        match &self.options.min_level {
            None => true,
            Some(min) => {
                level_rank(result.header.level.as_ref().map(Level::as_str))
                    >= level_rank(Some(min.as_str()))
            }
        }
    }

    /// The ids (or titles) of the rules that match one event given as JSON (its logsource
    /// recognised as for a log, else the declared one).
    pub fn matching_rules(&self, event: serde_json::Value) -> Vec<String> {
        let prepared = event::prepare(event, self.options.declared.as_ref());
        let mut last = None;
        self.evaluate(&prepared, &mut last, &mut Vec::new())
            .into_iter()
            .map(|r| r.header.rule_id.unwrap_or(r.header.rule_title))
            .collect()
    }

    /// Hunts through `files` (see [`Hunter::timeline`]) and returns every detection in
    /// memory: for small hunts and tests.
    pub fn hunt(
        &self,
        files: &[PathBuf],
        progress: &(dyn Fn(usize, usize, u64) + Sync),
    ) -> std::io::Result<(Vec<Detection>, Summary)> {
        let (timeline, summary) = self.timeline(files, progress)?;
        Ok((timeline.collect()?, summary))
    }

    /// Hunts through `files`, calling `progress(files done, files, detections so far)` after
    /// each file. The detections come back in time order (then file and record); beyond the
    /// memory budget they wait, sorted, in temporary files. An error only when a temporary
    /// file cannot be written.
    pub fn timeline(
        &self,
        files: &[PathBuf],
        progress: &(dyn Fn(usize, usize, u64) + Sync),
    ) -> std::io::Result<(Timeline, Summary)> {
        if self.correlation.is_some() {
            return self.hunt_in_order(files, progress);
        }
        let threads = match self.options.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
        .min(files.len().max(1));
        let next = AtomicUsize::new(0);
        // Bounded, so that workers wait while the collector writes a run.
        let (send, receive) = mpsc::sync_channel::<Message>(threads * 4);
        let mut collector = timeline::Collector::new(self.options.memory_budget);
        let mut summary = Summary::default();
        let mut failure = None;
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let send = send.clone();
                let next = &next;
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(i) else {
                            break;
                        };
                        let mut found = Vec::new();
                        let mut part = Summary::default();
                        let mut open = true;
                        self.hunt_file(file, &mut part, &mut |prepared, origin, results| {
                            // The collector stopped (a temporary file failed): keep nothing.
                            if !open {
                                return;
                            }
                            found.extend(
                                results
                                    .into_iter()
                                    .map(|r| detection(r, prepared, origin.clone())),
                            );
                            if found.len() >= BATCH {
                                open = send
                                    .send(Message::Found(std::mem::take(&mut found)))
                                    .is_ok();
                            }
                        });
                        if !open
                            || send.send(Message::Found(found)).is_err()
                            || send.send(Message::FileDone(part)).is_err()
                        {
                            break;
                        }
                    }
                });
            }
            drop(send);
            let mut done = 0;
            for message in receive {
                match message {
                    Message::Found(found) => {
                        for d in found {
                            if let Err(e) = collector.push(d) {
                                failure = Some(e);
                                // Dropping the receiver stops the workers.
                                return;
                            }
                        }
                    }
                    Message::FileDone(part) => {
                        done += 1;
                        merge(&mut summary, part);
                        progress(done, files.len(), collector.len());
                    }
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(finish(collector, summary))
    }

    /// With correlation rules: one file after the other, every event through the
    /// correlation engine with its time.
    fn hunt_in_order(
        &self,
        files: &[PathBuf],
        progress: &(dyn Fn(usize, usize, u64) + Sync),
    ) -> std::io::Result<(Timeline, Summary)> {
        let mut collector = timeline::Collector::new(self.options.memory_budget);
        let mut summary = Summary::default();
        let mut failure = None;
        for (done, file) in files.iter().enumerate() {
            let mut part = Summary::default();
            self.hunt_file(file, &mut part, &mut |prepared, origin, results| {
                let json = JsonEvent::borrow(&prepared.value);
                let seconds = prepared
                    .timestamp
                    .as_deref()
                    .and_then(event::epoch_seconds)
                    .unwrap_or(0);
                let results = match self.correlation.as_ref().and_then(|c| c.lock().ok()) {
                    Some(mut engine) => engine.process_with_detections(&json, results, seconds),
                    None => results,
                };
                for r in results.into_iter().filter(|r| self.keep(r)) {
                    if failure.is_none()
                        && let Err(e) = collector.push(detection(r, prepared, origin.clone()))
                    {
                        failure = Some(e);
                    }
                }
            });
            if let Some(e) = failure {
                return Err(e);
            }
            merge(&mut summary, part);
            progress(done + 1, files.len(), collector.len());
        }
        Ok(finish(collector, summary))
    }

    fn hunt_file(
        &self,
        file: &Path,
        summary: &mut Summary,
        on_results: &mut dyn FnMut(&event::Prepared, &Origin, Vec<EvaluationResult>),
    ) {
        summary.files += 1;
        let declared = self.options.declared.as_ref();
        let mut last_route = None;
        let result = readers::read(file, &mut |item| match item {
            readers::Item::Event { record, value } => {
                summary.events += 1;
                let prepared = event::prepare(value, declared);
                if prepared.sources.is_empty() {
                    summary.unrouted += 1;
                    return;
                }
                let mut slow = Vec::new();
                let results: Vec<EvaluationResult> = self
                    .evaluate(&prepared, &mut last_route, &mut slow)
                    .into_iter()
                    .filter(|r| self.correlation.is_some() || self.keep(r))
                    .collect();
                for (index, took) in slow {
                    let rule = &self.compiled[index];
                    summary.slow_rules.push((
                        rule_name(rule.id.as_deref(), &rule.title),
                        took.as_secs_f64(),
                        Origin {
                            file: file.to_owned(),
                            record,
                        },
                    ));
                }
                if !results.is_empty() || self.correlation.is_some() {
                    let origin = Origin {
                        file: file.to_owned(),
                        record,
                    };
                    on_results(&prepared, &origin, results);
                }
            }
            readers::Item::Skipped { reason, count, .. } => {
                let class = reason.split(':').next().unwrap_or(&reason).to_owned();
                *summary.skipped.entry(class).or_default() += count;
            }
        });
        if let Err(e) = result {
            summary.failed_files.push((file.to_owned(), e.to_string()));
        }
    }
}

/// The event ids a rule requires, when every way it can match goes through a selection
/// that names `EventID` with plain numbers: a top-level AND term of its condition (or the
/// whole condition) that is a selection whose items include `EventID: n` or a list of them.
fn required_event_ids(rule: &rsigma_parser::SigmaRule) -> Option<Vec<i64>> {
    use rsigma_parser::{ConditionExpr, Detection, SigmaValue};
    if rule.detection.conditions.len() != 1 {
        return None;
    }
    let ids_of = |name: &str| -> Option<Vec<i64>> {
        let Detection::AllOf(items) = rule.detection.named.get(name)? else {
            return None;
        };
        items.iter().find_map(|item| {
            if item.field.name.as_deref() != Some("EventID") || !item.field.modifiers.is_empty() {
                return None;
            }
            item.values
                .iter()
                .map(|v| match v {
                    SigmaValue::Integer(n) => Some(*n),
                    _ => None,
                })
                .collect::<Option<Vec<i64>>>()
        })
    };
    match &rule.detection.conditions[0] {
        ConditionExpr::Identifier(name) => ids_of(name),
        ConditionExpr::And(terms) => terms.iter().find_map(|t| match t {
            ConditionExpr::Identifier(name) => ids_of(name),
            _ => None,
        }),
        _ => None,
    }
}

/// Refuses a rule whose `|re` patterns compile to more than [`REGEX_SIZE_LIMIT`] (with the
/// flags the evaluator adds).
fn check_regexes(rule: &rsigma_parser::SigmaRule) -> Result<(), String> {
    use rsigma_parser::{Detection, Modifier, SigmaValue};
    let mut stack: Vec<&Detection> = rule.detection.named.values().collect();
    while let Some(detection) = stack.pop() {
        match detection {
            Detection::AllOf(items) => {
                for item in items {
                    let has = |m: Modifier| item.field.modifiers.contains(&m);
                    if !has(Modifier::Re) {
                        continue;
                    }
                    let flags: String = [
                        (Modifier::IgnoreCase, 'i'),
                        (Modifier::Multiline, 'm'),
                        (Modifier::DotAll, 's'),
                    ]
                    .iter()
                    .filter(|(m, _)| has(*m))
                    .map(|(_, f)| *f)
                    .collect();
                    for value in &item.values {
                        let SigmaValue::String(s) = value else {
                            continue;
                        };
                        let pattern = if flags.is_empty() {
                            s.original.clone()
                        } else {
                            format!("(?{flags}){}", s.original)
                        };
                        if let Err(regex::Error::CompiledTooBig(_)) =
                            regex::RegexBuilder::new(&pattern)
                                .size_limit(REGEX_SIZE_LIMIT)
                                .build()
                        {
                            let shown: String = s.original.chars().take(60).collect();
                            return Err(format!(
                                "the regular expression `{shown}` compiles to more than {} MiB \
                                 (searching with it could take seconds per event); narrow its \
                                 repetitions",
                                REGEX_SIZE_LIMIT >> 20
                            ));
                        }
                    }
                }
            }
            Detection::AnyOf(parts) | Detection::And(parts) => stack.extend(parts),
            Detection::ArrayMatch { body, .. } => stack.push(body),
            Detection::Conditional { named, .. } => stack.extend(named.values()),
            Detection::Keywords(_) => {}
        }
    }
    Ok(())
}

fn rule_name(id: Option<&str>, title: &str) -> String {
    match id {
        Some(id) => format!("{id} ({title})"),
        None => title.to_owned(),
    }
}

/// Whether a rule's logsource admits an event of `source`: every field the rule names must
/// be the event's.
fn logsource_fits(rule: &LogSource, source: &Source) -> bool {
    let fits = |r: &Option<String>, e: &Option<String>| match r {
        None => true,
        Some(r) => e.as_ref().is_some_and(|e| e.eq_ignore_ascii_case(r)),
    };
    fits(&rule.product, &source.product)
        && fits(&rule.category, &source.category)
        && fits(&rule.service, &source.service)
}

/// A JSON array with its members in the order of their serialized text.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Array(mut items) => {
            items.sort_by_cached_key(|v| v.to_string());
            serde_json::Value::Array(items)
        }
        other => other,
    }
}

fn detection(result: EvaluationResult, prepared: &event::Prepared, origin: Origin) -> Detection {
    let kind = if result.is_correlation() {
        Kind::Correlation
    } else {
        Kind::Detection
    };
    let matched = match &result.body {
        // The evaluator reports matches in hash order; sorted, two runs print the same.
        rsigma_eval::ResultBody::Detection(d) => serde_json::json!({
            "selections": sorted(serde_json::json!(d.matched_selections)),
            "fields": sorted(serde_json::json!(d.matched_fields)),
        }),
        rsigma_eval::ResultBody::Correlation(c) => serde_json::json!({
            "correlation_type": c.correlation_type,
            "group": c.group_key,
            "value": c.aggregated_value,
            "timespan_seconds": c.timespan_secs,
        }),
    };
    Detection {
        rule_id: result.header.rule_id.clone(),
        rule_title: result.header.rule_title.clone(),
        level: result.header.level.as_ref().map(|l| l.as_str().to_owned()),
        kind,
        timestamp: prepared.timestamp.clone(),
        source: origin,
        tags: result.header.tags.clone(),
        matched,
        event: prepared.value.clone(),
    }
}

fn merge(into: &mut Summary, part: Summary) {
    into.files += part.files;
    into.slow_rules.extend(part.slow_rules);
    into.failed_files.extend(part.failed_files);
    into.events += part.events;
    into.unrouted += part.unrouted;
    for (k, v) in part.skipped {
        *into.skipped.entry(k).or_default() += v;
    }
}

fn finish(collector: timeline::Collector, mut summary: Summary) -> (Timeline, Summary) {
    let (timeline, per_rule) = collector.finish();
    summary.per_rule = per_rule;
    summary.failed_files.sort();
    summary.slow_rules.sort_by(|a, b| a.0.cmp(&b.0));
    (timeline, summary)
}

/// The log files at or under `paths` (folders walked recursively, hidden files and folders
/// skipped, sorted within each folder).
pub fn log_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        std::fs::metadata(path).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
        })?;
        let walk = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walk {
            let entry = entry.map_err(|e| {
                let at = e.path().unwrap_or(path).display().to_string();
                std::io::Error::other(format!("cannot list {at}: {e}"))
            })?;
            if entry.file_type().is_file() {
                out.push(entry.into_path());
            }
        }
    }
    Ok(out)
}
