//! `ctiforge ioc extract`: indicators from a file or stdin.

use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use ctiforge_ioc::{Extractor, Indicator, IocType, Memo};
use ctiforge_model::Span;
use ctiforge_text::{Format as InputFormat, Input, SentenceFinder};
use serde::Serialize;

use super::{Outcome, load_kb};

#[derive(Debug, Subcommand)]
pub enum IocCommand {
    /// Extract indicators (IPs, domains, URLs, hashes, e-mails, wallets, paths, registry keys,
    /// user agents, CVE and ATT&CK/ATLAS/D3FEND ids), refanged and validated.
    ///
    /// False positives (private ranges, version numbers, file names that look like domains,
    /// antivirus names, MISP warninglist entries, citations) are left out unless --all is given,
    /// which lists them with the reason.
    Extract {
        /// The report to read: a file (text, Markdown, HTML or PDF, detected from the name and
        /// the content), an http(s) URL, or `-` (the default) for stdin.
        #[arg(value_name = "FILE|URL", default_value = "-")]
        input: PathBuf,
        /// Allow fetching URLs that resolve to loopback, private or link-local addresses.
        #[arg(long)]
        allow_private: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Batch mode: read JSON lines `{"id","text"}`, write `{"id","iocs":[...]}` per line.
        #[arg(long)]
        jsonl: bool,
        /// Include flagged false positives, with the reason.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One row per distinct indicator, for people.
    Table,
    /// A JSON array of every occurrence.
    Json,
    /// One JSON object per occurrence per line.
    Jsonl,
    /// CSV with a header row, one occurrence per row.
    Csv,
}

/// Inputs larger than this are read and scanned in chunks that end at a line break, so memory
/// stays bounded.
const CHUNK: usize = 1 << 20;

pub fn run(command: &IocCommand, kb_path: Option<&Path>) -> anyhow::Result<Outcome> {
    let IocCommand::Extract {
        input,
        format: format_out,
        jsonl,
        all,
        allow_private,
    } = command;
    let kb = load_kb(kb_path)?;
    let extractor = Extractor::with_knowledge_base(&kb);
    let mut out = BufWriter::new(std::io::stdout().lock());
    if input.to_str().is_some_and(ctiforge_fetch::is_url) {
        let document = crate::input::read_document(input, *allow_private)?;
        let text = Box::new(std::io::Cursor::new(document.text.into_bytes()));
        single(&extractor, text, &mut out, *format_out, *all, input)?;
        out.flush()?;
        return Ok(Outcome::Success);
    }
    let mut reader = open(input)?;
    if *jsonl {
        batch(&extractor, reader, &mut out, *all, input)?;
    } else {
        // Plain text streams in bounded chunks; other formats are read whole and converted.
        let head = reader
            .fill_buf()
            .with_context(|| format!("cannot read {}", input.display()))?;
        let path = input.to_str().filter(|p| *p != "-");
        let format = ctiforge_text::detect(&Input {
            bytes: head,
            path,
            ..Input::default()
        });
        // Text with NUL bytes is UTF-16 or binary: read whole, where ingest decodes the one
        // and refuses the other, as `analyze` does.
        let plain = format == InputFormat::Text && !head[..head.len().min(4096)].contains(&0);
        if plain {
            single(&extractor, reader, &mut out, *format_out, *all, input)?;
        } else {
            let mut bytes = Vec::new();
            reader
                .read_to_end(&mut bytes)
                .with_context(|| format!("cannot read {}", input.display()))?;
            let document = ctiforge_text::ingest(Input {
                bytes: &bytes,
                path,
                ..Input::default()
            })
            .with_context(|| format!("cannot read {}", input.display()))?;
            let text = Box::new(std::io::Cursor::new(document.text.into_bytes()));
            single(&extractor, text, &mut out, *format_out, *all, input)?;
        }
    }
    out.flush()?;
    Ok(Outcome::Success)
}

/// Where to cut a chunk so that no indicator is split and the parts read as the whole would:
/// after the last line of prose that ends a sentence (so that no sentence and no reference
/// section runs across the cut), else after any line of prose, else after the last line
/// break, else after the last white space, else after the last character that no indicator
/// contains. Lines are looked at only in the chunk's second half.
fn cut_point(chunk: &[u8]) -> Option<usize> {
    let floor = chunk.len() / 2;
    let mut prose = None;
    // The end of the last whole line seen; the bytes after the chunk's last break are part of
    // a line the next chunk completes.
    let mut end: Option<usize> = None;
    for at in memchr::memrchr_iter(b'\n', &chunk[floor..]).map(|p| floor + p) {
        // The whole line after the break at `at`.
        if let Some(end) = end {
            let line = &chunk[at + 1..end];
            if let Ok(line) = std::str::from_utf8(line)
                && ctiforge_ioc::closes_reference_sections(line)
            {
                let text = line.trim_end();
                if text.ends_with(['.', '!', '?']) {
                    return Some(end);
                }
                prose.get_or_insert(end);
            }
        }
        end = Some(at + 1);
    }
    prose
        .or_else(|| memchr::memrchr(b'\n', chunk).map(|at| at + 1))
        .or_else(|| {
            chunk
                .iter()
                .rposition(u8::is_ascii_whitespace)
                .map(|at| at + 1)
        })
        .or_else(|| {
            chunk
                .iter()
                .rposition(|b| {
                    b.is_ascii()
                        && !b.is_ascii_alphanumeric()
                        && !b"./:-_%@[]()\\?=&#~+".contains(b)
                })
                .map(|at| at + 1)
        })
}

/// Plain text in chunks of at most [`CHUNK`] bytes, each ending where no indicator can be split
/// ([`cut_point`]), read into one buffer that is reused: no allocation or page clearing per
/// chunk, and the bytes after a cut are moved to the front instead of copied out.
struct Chunks<'r> {
    reader: &'r mut dyn Read,
    buffer: Vec<u8>,
    /// Bytes in `buffer` read but not yet returned.
    filled: usize,
    /// Bytes at the front of `buffer` returned by the last call, to drop before the next read.
    returned: usize,
    at_end: bool,
}

impl<'r> Chunks<'r> {
    fn new(reader: &'r mut dyn Read) -> Self {
        Chunks {
            reader,
            // Zeroed by the allocator (fresh pages), so a short input touches only what it fills.
            buffer: vec![0; CHUNK],
            filled: 0,
            returned: 0,
            at_end: false,
        }
    }

    fn next_chunk(&mut self) -> std::io::Result<Option<&[u8]>> {
        self.buffer.copy_within(self.returned..self.filled, 0);
        self.filled -= self.returned;
        self.returned = 0;
        while !self.at_end && self.filled < CHUNK {
            match self.reader.read(&mut self.buffer[self.filled..]) {
                Ok(0) => self.at_end = true,
                Ok(read) => self.filled += read,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.filled == 0 {
            return Ok(None);
        }
        let filled = &self.buffer[..self.filled];
        self.returned = if self.at_end {
            self.filled
        } else {
            cut_point(filled).unwrap_or(self.filled)
        };
        Ok(Some(&self.buffer[..self.returned]))
    }
}

fn open(input: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    if input.as_os_str() == "-" {
        return Ok(Box::new(std::io::BufReader::new(std::io::stdin())));
    }
    let file =
        std::fs::File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    // Enough for format detection (it reads at most 16 KB). Smaller than a chunk, so that once
    // the head is consumed, reads of a chunk go from the file straight into the chunk buffer
    // (`BufReader` passes a read larger than its capacity through) instead of via a copy.
    Ok(Box::new(std::io::BufReader::with_capacity(64 << 10, file)))
}

#[derive(Serialize)]
struct BatchOutput<'a> {
    id: serde_json::Value,
    iocs: Vec<Found<'a>>,
}

/// An indicator with the sentence it stands in: its text, and its byte offsets in the input.
/// Serialized as the indicator's fields followed by the sentence's, written out by hand
/// rather than with `#[serde(flatten)]` (which goes through a map and buffers) and with the
/// chunk's offset added on the way out, so that a record costs no copy of the indicator.
struct Found<'a> {
    indicator: &'a Indicator,
    /// Where the text the indicator's offsets count from starts in the input.
    base: usize,
    /// Left out, in `--format jsonl`, when the record before had the same sentence: the
    /// offsets tell which one it is.
    sentence: Option<&'a str>,
    sentence_start: Option<usize>,
    sentence_end: Option<usize>,
}

impl Serialize for Found<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let i = self.indicator;
        let mut record = serializer.serialize_struct("Found", 14)?;
        record.serialize_field("type", &i.kind)?;
        record.serialize_field("value", &i.value)?;
        record.serialize_field("raw", &i.raw)?;
        record.serialize_field("start", &(i.start + self.base))?;
        record.serialize_field("end", &(i.end + self.base))?;
        record.serialize_field("defanged", &i.defanged)?;
        // The indicator's own rules for what is left out (`ctiforge_ioc::Indicator`).
        if let Some(host) = &i.host {
            record.serialize_field("host", host)?;
        }
        if let Some(port) = &i.port {
            record.serialize_field("port", port)?;
        }
        if let Some(reason) = &i.false_positive {
            record.serialize_field("false_positive", reason)?;
        }
        if !i.context.is_empty() {
            record.serialize_field("context", &i.context)?;
        }
        if let Some(kind) = &i.derived_from {
            record.serialize_field("derived_from", kind)?;
        }
        if let Some(sentence) = self.sentence {
            record.serialize_field("sentence", sentence)?;
        }
        if let Some(start) = self.sentence_start {
            record.serialize_field("sentence_start", &start)?;
        }
        if let Some(end) = self.sentence_end {
            record.serialize_field("sentence_end", &end)?;
        }
        record.end()
    }
}

impl<'a> Found<'a> {
    /// `indicator` of `text` with the sentence of `sentences` it starts in; offsets moved by
    /// `base` (where `text` starts in the input).
    fn new(
        indicator: &'a Indicator,
        text: &'a str,
        sentences: &mut SentenceFinder<'_>,
        base: usize,
    ) -> Self {
        // An indicator across a cut of a long sentence (a path with spaces) gets both parts.
        let span = sentences.sentence_of(indicator.start).map(|first| {
            let last = sentences
                .sentence_of(indicator.end.saturating_sub(1))
                .unwrap_or(first);
            Span {
                start: first.start,
                end: first.end.max(last.end),
            }
        });
        Found {
            indicator,
            base,
            sentence: span.and_then(|s| text.get(s.start..s.end)),
            sentence_start: span.map(|s| s.start + base),
            sentence_end: span.map(|s| s.end + base),
        }
    }
}

/// The sentence of `text` around each indicator.
fn with_sentences<'a>(text: &'a str, found: &'a [Indicator], all: bool) -> Vec<Found<'a>> {
    let mut sentences = SentenceFinder::new(text);
    found
        .iter()
        .filter(|i| all || !i.is_false_positive())
        .map(|indicator| Found::new(indicator, text, &mut sentences, 0))
        .collect()
}

fn batch(
    extractor: &Extractor,
    reader: Box<dyn BufRead>,
    out: &mut impl Write,
    all: bool,
    input: &Path,
) -> anyhow::Result<()> {
    let mut memo = Memo::default();
    super::for_each_batch_line(reader, input, |record| {
        let found = extractor.extract_with(&record.text, &mut memo);
        let iocs = with_sentences(&record.text, &found, all);
        serde_json::to_writer(
            &mut *out,
            &BatchOutput {
                id: record.id,
                iocs,
            },
        )?;
        out.write_all(b"\n")?;
        Ok(())
    })
}

fn single(
    extractor: &Extractor,
    mut reader: Box<dyn BufRead>,
    out: &mut impl Write,
    format: Format,
    all: bool,
    input: &Path,
) -> anyhow::Result<()> {
    // Per type, value → row: looked up by the borrowed value, so only a new value allocates;
    // hashed with `foldhash` (seeded per process), several times faster than SipHash here.
    let mut table: hashbrown::HashMap<IocType, hashbrown::HashMap<String, Row>> =
        hashbrown::HashMap::new();
    let mut first = true;
    if format == Format::Json {
        out.write_all(b"[")?;
    }
    if format == Format::Csv {
        let mut header = csv::Writer::from_writer(&mut *out);
        header.write_record([
            "type",
            "value",
            "raw",
            "start",
            "end",
            "defanged",
            "host",
            "port",
            "false_positive",
            "context",
        ])?;
        header.flush()?;
    }
    let mut chunks = Chunks::new(&mut reader);
    // Warninglist answers, kept from one chunk to the next.
    let mut memo = Memo::default();
    let mut base = 0usize;
    // The record being written, with the input's offsets; one allocation reused.
    let mut moved: Option<Indicator> = None;
    // The sentence of the last JSON line, which the next one does not repeat.
    let mut last_sentence = None;
    while let Some(chunk) = chunks
        .next_chunk()
        .with_context(|| format!("cannot read {}", input.display()))?
    {
        // Valid UTF-8 (nearly always) is checked by the fast validator, not the lossy one.
        let text = match std::str::from_utf8(chunk) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(chunk),
        };
        let found = extractor.extract_with(&text, &mut memo);
        // Only the sentences around indicators are segmented, and only when they are written.
        let mut sentences = SentenceFinder::new(&text);
        for indicator in &found {
            if indicator.is_false_positive() && !all {
                continue;
            }
            if format == Format::Table {
                let rows = table.entry(indicator.kind).or_default();
                let row = match rows.get_mut(indicator.value.as_str()) {
                    Some(row) => row,
                    None => rows
                        .entry(indicator.value.clone())
                        .or_insert_with(|| Row::from(indicator)),
                };
                row.count += 1;
                row.defanged |= indicator.defanged;
                first = false;
                continue;
            }
            // The offsets of the input, not of this chunk (added as the record is written).
            let mut record = Found::new(indicator, &text, &mut sentences, base);
            if format == Format::Jsonl {
                let span = record.sentence_start.zip(record.sentence_end);
                if span.is_some() && span == last_sentence {
                    record.sentence = None;
                }
                last_sentence = span;
            }
            match format {
                // Counted above.
                Format::Table => {}
                Format::Json => {
                    if !first {
                        out.write_all(b",")?;
                    }
                    out.write_all(b"\n  ")?;
                    serde_json::to_writer(&mut *out, &record)?;
                }
                Format::Jsonl => {
                    serde_json::to_writer(&mut *out, &record)?;
                    out.write_all(b"\n")?;
                }
                Format::Csv => {
                    let moved = moved.get_or_insert_with(|| indicator.clone());
                    moved.clone_from(indicator);
                    moved.start += base;
                    moved.end += base;
                    write_csv(&mut *out, moved)?
                }
            }
            first = false;
        }
        base += chunk.len();
    }
    match format {
        Format::Json => out.write_all(if first { b"]\n" } else { b"\n]\n" })?,
        Format::Table => {
            let sorted: BTreeMap<(String, &str), &Row> = table
                .iter()
                .flat_map(|(kind, rows)| {
                    rows.iter()
                        .map(move |(value, row)| ((kind.to_string(), value.as_str()), row))
                })
                .collect();
            write_table(out, &sorted, all)?;
        }
        _ => {}
    }
    Ok(())
}

struct Row {
    count: usize,
    defanged: bool,
    note: String,
}

impl Row {
    fn from(indicator: &Indicator) -> Self {
        let note = match &indicator.false_positive {
            Some(reason) => format!("false positive: {reason}"),
            None => indicator.context.join("; "),
        };
        Row {
            count: 0,
            defanged: false,
            note,
        }
    }
}

fn write_table(
    out: &mut impl Write,
    table: &BTreeMap<(String, &str), &Row>,
    all: bool,
) -> std::io::Result<()> {
    if table.is_empty() {
        let hint = if all {
            ""
        } else {
            " (--all also lists flagged false positives)"
        };
        return writeln!(out, "No indicators found{hint}.");
    }
    let type_width = table.keys().map(|(t, _)| t.len()).max().unwrap_or(4).max(4);
    let value_width = table
        .keys()
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(5)
        .clamp(5, 72);
    writeln!(
        out,
        "{:<type_width$}  {:<value_width$}  {:>5}  NOTE",
        "TYPE", "VALUE", "SEEN"
    )?;
    for ((kind, value), row) in table {
        let mut note = row.note.clone();
        if row.defanged {
            note = if note.is_empty() {
                "defanged".into()
            } else {
                format!("defanged; {note}")
            };
        }
        let line = format!(
            "{kind:<type_width$}  {value:<value_width$}  {:>5}  {note}",
            row.count
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    let flagged = table
        .values()
        .filter(|r| r.note.starts_with("false positive"))
        .count();
    writeln!(
        out,
        "\n{} distinct indicators{}",
        table.len() - flagged,
        if all {
            format!(", {flagged} flagged as false positives")
        } else {
            String::new()
        }
    )
}

/// One indicator as a CSV record (quoted as RFC 4180 needs), written at once so that a long
/// input streams.
fn write_csv(out: &mut impl Write, i: &Indicator) -> csv::Result<()> {
    let port = i.port.map(|p| p.to_string()).unwrap_or_default();
    let mut writer = csv::WriterBuilder::new()
        .buffer_capacity(512)
        .from_writer(out);
    writer.write_record([
        i.kind.as_str(),
        &i.value,
        &i.raw,
        &i.start.to_string(),
        &i.end.to_string(),
        if i.defanged { "true" } else { "false" },
        i.host.as_deref().unwrap_or(""),
        &port,
        i.false_positive.as_deref().unwrap_or(""),
        &i.context.join("; "),
    ])?;
    writer.flush()?;
    Ok(())
}
