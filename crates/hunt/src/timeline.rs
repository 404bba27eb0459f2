//! Detections in time order without holding them all: the collector keeps detections in
//! memory up to a budget, then writes them, sorted, to an anonymous temporary file (a run)
//! and starts again; reading the timeline merges the runs. Memory stays near the budget
//! however many events match, and the output is the same as sorting everything in memory.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};

use crate::{Detection, level_rank};

/// Detections held in memory before they are written out as a run: about this many bytes.
pub const DEFAULT_BUDGET: usize = 128 * 1024 * 1024;

/// The order of the timeline: time as written, then file and record, then rule title.
fn order(a: &Detection, b: &Detection) -> Ordering {
    (a.timestamp.as_deref(), &a.source, &a.rule_title).cmp(&(
        b.timestamp.as_deref(),
        &b.source,
        &b.rule_title,
    ))
}

/// Gathers detections as they come, counting them per rule.
pub(crate) struct Collector {
    held: Vec<Detection>,
    held_bytes: usize,
    budget: usize,
    runs: Vec<File>,
    total: u64,
    /// Detections per rule: (level rank, title, id) → count.
    per_rule: BTreeMap<(u8, String, String), u64>,
}

impl Collector {
    pub(crate) fn new(budget: usize) -> Collector {
        Collector {
            held: Vec::new(),
            held_bytes: 0,
            budget: if budget == 0 { DEFAULT_BUDGET } else { budget },
            runs: Vec::new(),
            total: 0,
            per_rule: BTreeMap::new(),
        }
    }

    /// Detections so far.
    pub(crate) fn len(&self) -> u64 {
        self.total
    }

    pub(crate) fn push(&mut self, detection: Detection) -> std::io::Result<()> {
        *self
            .per_rule
            .entry((
                level_rank(detection.level.as_deref()),
                detection.rule_title.clone(),
                detection.rule_id.clone().unwrap_or_default(),
            ))
            .or_default() += 1;
        self.total += 1;
        self.held_bytes += size(&detection);
        self.held.push(detection);
        if self.held_bytes > self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// Writes what is held, sorted, to a run.
    fn spill(&mut self) -> std::io::Result<()> {
        self.held.sort_by(order);
        let mut file = BufWriter::new(tempfile::tempfile()?);
        for d in self.held.drain(..) {
            serde_json::to_writer(&mut file, &d)?;
            file.write_all(b"\n")?;
        }
        let mut file = file.into_inner().map_err(|e| e.into_error())?;
        file.rewind()?;
        self.runs.push(file);
        self.held_bytes = 0;
        Ok(())
    }

    pub(crate) fn finish(mut self) -> (Timeline, BTreeMap<(u8, String, String), u64>) {
        self.held.sort_by(order);
        (
            Timeline {
                held: self.held,
                runs: self.runs,
                total: self.total,
            },
            self.per_rule,
        )
    }
}

/// An estimate of the memory a detection holds (its event dominates): measured peaks are
/// about twice the bytes of text, from allocation and map-node overheads.
fn size(detection: &Detection) -> usize {
    let mut bytes = 512 + 2 * detection.rule_title.len();
    let mut stack = vec![&detection.event, &detection.matched];
    while let Some(value) = stack.pop() {
        bytes += 48;
        match value {
            serde_json::Value::String(s) => bytes += 2 * s.len(),
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    bytes += 2 * k.len() + 64;
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
    bytes
}

/// A hunt's detections in time order (then file, record and rule title); iterate it to read
/// them.
#[derive(Debug)]
pub struct Timeline {
    held: Vec<Detection>,
    runs: Vec<File>,
    total: u64,
}

impl Timeline {
    /// How many detections.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many runs were written to temporary files (0 when everything fitted in memory).
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// All the detections in memory (for small hunts and tests).
    pub fn collect(self) -> std::io::Result<Vec<Detection>> {
        self.into_iter().collect()
    }
}

impl IntoIterator for Timeline {
    type Item = std::io::Result<Detection>;
    type IntoIter = Merge;

    /// The detections in order; an error when a run cannot be read back.
    fn into_iter(self) -> Merge {
        let mut sources: Vec<Source> = self
            .runs
            .into_iter()
            .map(|f| Source::Run(BufReader::new(f).lines()))
            .collect();
        sources.push(Source::Held(self.held.into_iter()));
        let mut merge = Merge {
            sources,
            heap: BinaryHeap::new(),
            failed: None,
        };
        for i in 0..merge.sources.len() {
            merge.refill(i);
        }
        merge
    }
}

enum Source {
    Run(std::io::Lines<BufReader<File>>),
    Held(std::vec::IntoIter<Detection>),
}

/// The next detection of one source, ordered for the merge (ties: the earlier source).
struct Head {
    detection: Detection,
    source: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        order(&self.detection, &other.detection).then(self.source.cmp(&other.source))
    }
}

/// The k-way merge of a timeline's runs.
#[allow(missing_debug_implementations)]
pub struct Merge {
    sources: Vec<Source>,
    heap: BinaryHeap<Reverse<Head>>,
    failed: Option<std::io::Error>,
}

impl Merge {
    fn refill(&mut self, source: usize) {
        let next = match &mut self.sources[source] {
            Source::Held(items) => items.next().map(Ok),
            Source::Run(lines) => lines.next().map(|line| {
                line.and_then(|l| serde_json::from_str::<Detection>(&l).map_err(Into::into))
            }),
        };
        match next {
            Some(Ok(detection)) => self.heap.push(Reverse(Head { detection, source })),
            Some(Err(e)) => self.failed = Some(e),
            None => {}
        }
    }
}

impl Iterator for Merge {
    type Item = std::io::Result<Detection>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            return Some(Err(e));
        }
        let Reverse(head) = self.heap.pop()?;
        self.refill(head.source);
        Some(Ok(head.detection))
    }
}
