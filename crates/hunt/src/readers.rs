//! Log readers. The format is detected from the content (gzip is looked through), not from
//! the file name: EVTX (`ElfFile` magic), a JSON document (an array, CloudTrail's
//! `{"Records": [...]}`, Graph API's `{"value": [...]}`, or one object), JSON lines, Zeek's
//! TSV (`#separator`), or CSV with a header row.
//!
//! Everything is streamed, so memory does not grow with the file: JSON lines and Zeek TSV
//! line by line (a line longer than [`MAX_LINE`] is skipped and counted), CSV row by row, a
//! JSON document's events one at a time as they are parsed, EVTX chunk by chunk from the file
//! (a gzip-compressed EVTX is first decompressed to an anonymous temporary file, at most
//! [`MAX_EVTX`] bytes). A record that cannot be read is reported to the sink as skipped, with
//! the reason and how many records it stands for, and reading goes on.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek};
use std::path::Path;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The formats we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Windows XML event log.
    Evtx,
    /// One JSON value per line.
    JsonLines,
    /// One JSON document holding the events.
    Json,
    /// Zeek's tab-separated logs.
    ZeekTsv,
    /// Comma-separated values with a header row.
    Csv,
}

/// What a reader hands on.
#[derive(Debug)]
pub enum Item {
    /// A record, numbered from 1 within its file (the EVTX record id for EVTX).
    Event {
        /// Its number.
        record: u64,
        /// Its fields as read.
        value: Value,
    },
    /// Records that could not be read.
    Skipped {
        /// The number of the first of them.
        record: u64,
        /// How many records were lost (more than one when a damaged EVTX chunk held several).
        count: u64,
        /// Why.
        reason: String,
    },
}

/// A file that could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening or reading failed.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// The content is none of the formats.
    #[error("not a log format ctiforge reads (EVTX, JSON, JSON lines, Zeek TSV, CSV)")]
    Unknown,
    /// The EVTX header is damaged.
    #[error("not a readable EVTX file: {0}")]
    Evtx(String),
    /// A JSON document that does not parse.
    #[error("malformed JSON: {0}")]
    Json(String),
    /// A gzip-compressed EVTX file decompresses to more than the limit.
    #[error(
        "a gzip-compressed EVTX file larger than {} MiB once decompressed; decompress it \
         (EVTX files on disk are read in place, at any size)",
        MAX_EVTX / (1024 * 1024)
    )]
    TooLarge,
}

/// Most bytes a gzip-compressed EVTX file may decompress to (it is decompressed to a
/// temporary file, since EVTX chunks are read out of order): a 3 MB gzip can hold gigabytes.
pub const MAX_EVTX: u64 = 4 * 1024 * 1024 * 1024;

/// Longest line of JSON lines or Zeek TSV read; a longer one is skipped and counted.
pub const MAX_LINE: usize = 64 * 1024 * 1024;

/// A JSON document up to this size is parsed from memory (fast); a larger one from the stream.
const JSON_IN_MEMORY: u64 = 64 * 1024 * 1024;

/// Reads `path`, handing each record to `sink`; returns the format it found.
pub fn read(path: &Path, sink: &mut dyn FnMut(Item)) -> Result<Format, ReadError> {
    let mut file = BufReader::new(File::open(path)?);
    let head = file.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let decoder = flate2::read::MultiGzDecoder::new(file);
        read_stream(BufReader::new(decoder), sink)
    } else if head.starts_with(EVTX_MAGIC) {
        read_evtx(file, sink)?;
        Ok(Format::Evtx)
    } else {
        read_stream(file, sink)
    }
}

/// Reads log content held in memory (gzip is looked through), as [`read`] does a file.
pub fn read_bytes(bytes: &[u8], sink: &mut dyn FnMut(Item)) -> Result<Format, ReadError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let decoder = flate2::read::MultiGzDecoder::new(bytes);
        read_stream(BufReader::new(decoder), sink)
    } else if bytes.starts_with(EVTX_MAGIC) {
        read_evtx(Cursor::new(bytes), sink)?;
        Ok(Format::Evtx)
    } else {
        read_stream(bytes, sink)
    }
}

const EVTX_MAGIC: &[u8] = b"ElfFile\0";

fn read_stream<R: BufRead>(mut reader: R, sink: &mut dyn FnMut(Item)) -> Result<Format, ReadError> {
    if reader.fill_buf()?.starts_with("\u{feff}".as_bytes()) {
        reader.consume(3);
    }
    let head = reader.fill_buf()?.to_vec();
    match detect(&head) {
        Some(Format::Evtx) => {
            // EVTX chunks are read by offset: decompress to a temporary file first.
            let mut spool = tempfile::tempfile()?;
            let copied = std::io::copy(&mut reader.take(MAX_EVTX + 1), &mut spool)?;
            if copied > MAX_EVTX {
                return Err(ReadError::TooLarge);
            }
            spool.rewind()?;
            read_evtx(BufReader::new(spool), sink)?;
            Ok(Format::Evtx)
        }
        Some(Format::Json) => {
            read_json_document(reader, sink, JSON_IN_MEMORY)?;
            Ok(Format::Json)
        }
        Some(Format::JsonLines) => {
            read_json_lines(reader, sink)?;
            Ok(Format::JsonLines)
        }
        Some(Format::ZeekTsv) => {
            read_zeek(reader, sink)?;
            Ok(Format::ZeekTsv)
        }
        Some(Format::Csv) => {
            read_csv(reader, sink);
            Ok(Format::Csv)
        }
        None => Err(ReadError::Unknown),
    }
}

/// The format of content starting with `head`.
pub fn detect(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"ElfFile\0") {
        return Some(Format::Evtx);
    }
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('[') {
        return Some(Format::Json);
    }
    if trimmed.starts_with('{') {
        let Some((first_line, _)) = trimmed.split_once('\n') else {
            // The first line runs past the head (a long ScriptBlock or CommandLine event): a
            // pretty-printed document would have broken its line by now, so this is JSON
            // lines, unless it opens a wrapper of records written on one line (CloudTrail's
            // `{"Records": [...]}`).
            let opening: String = trimmed
                .chars()
                .filter(|c| !c.is_whitespace())
                .take(12)
                .collect();
            let wrapper = ["{\"Records\":", "{\"records\":", "{\"value\":"]
                .iter()
                .any(|w| opening.starts_with(w));
            return Some(if wrapper {
                Format::Json
            } else {
                Format::JsonLines
            });
        };
        return Some(
            if serde_json::from_str::<Value>(first_line.trim()).is_ok() {
                Format::JsonLines
            } else {
                Format::Json
            },
        );
    }
    if trimmed.starts_with("#separator") {
        return Some(Format::ZeekTsv);
    }
    if looks_like_csv(trimmed) {
        return Some(Format::Csv);
    }
    None
}

/// A header of short names and a first row with as many commas (prose with a comma does
/// not qualify).
fn looks_like_csv(text: &str) -> bool {
    let mut lines = text.lines();
    let (Some(header), Some(row)) = (lines.next(), lines.next()) else {
        return false;
    };
    let commas = header.matches(',').count();
    commas > 0
        && !header.contains('\0')
        && header.split(',').all(|name| name.trim().len() <= 64)
        && row.matches(',').count() >= commas
}

/// Reads an EVTX file chunk by chunk. A damaged chunk or record loses the records it held:
/// how many is known from the record ids on either side of the loss (they are consecutive in
/// a log) or, at the end of the file, from the next record id its header names.
fn read_evtx<T: Read + Seek + Send>(file: T, sink: &mut dyn FnMut(Item)) -> Result<(), ReadError> {
    let mut parser =
        evtx::EvtxParser::from_read_seek(file).map_err(|e| ReadError::Evtx(e.to_string()))?;
    let next_id = parser.header().next_record_id;
    let mut last_id: Option<u64> = None;
    // Errors since the last record read: (how many, the first one's reason).
    let mut damaged: Option<(u64, String)> = None;
    for record in parser.records_json_value() {
        match record {
            Ok(r) => {
                // Record ids only tell the loss when they follow on from the last one read.
                let until = match last_id {
                    Some(last) if r.event_record_id > last => r.event_record_id,
                    _ => 0,
                };
                if let Some(lost) = lost(damaged.take(), last_id, until) {
                    sink(lost);
                }
                last_id = Some(r.event_record_id);
                sink(Item::Event {
                    record: r.event_record_id,
                    value: r.data,
                });
            }
            Err(e) => {
                let entry = damaged.get_or_insert_with(|| (0, e.to_string()));
                entry.0 += 1;
            }
        }
    }
    let until = match last_id {
        Some(last) if next_id > last => next_id,
        _ => 0,
    };
    if let Some(lost) = lost(damaged, last_id, until) {
        sink(lost);
    }
    Ok(())
}

/// The records lost to `damaged` (errors since the last record read, and the first one's
/// reason), from the one after `last_id` to the one before `until` (0: unknown).
fn lost(damaged: Option<(u64, String)>, last_id: Option<u64>, until: u64) -> Option<Item> {
    let (errors, reason) = damaged?;
    let first = last_id.map_or(1, |id| id + 1);
    Some(Item::Skipped {
        record: first,
        count: until.saturating_sub(first).max(errors),
        reason: format!("damaged EVTX records: {reason}"),
    })
}

/// Streams a JSON document's events to the sink as they are parsed: the members of a
/// top-level array, of a `Records`/`value`/`records` array in a top-level object, or the
/// object itself.
/// A document of up to `in_memory` bytes is parsed from memory.
fn read_json_document<R: BufRead>(
    mut reader: R,
    sink: &mut dyn FnMut(Item),
    in_memory: u64,
) -> Result<(), ReadError> {
    let mut head = Vec::new();
    (&mut reader).take(in_memory + 1).read_to_end(&mut head)?;
    let mut next = 0;
    let events = Events {
        sink,
        next: &mut next,
    };
    let parsed = if head.len() as u64 <= in_memory {
        let mut document = serde_json::Deserializer::from_slice(&head);
        events
            .deserialize(&mut document)
            .and_then(|()| document.end())
    } else {
        let mut document = serde_json::Deserializer::from_reader(Cursor::new(head).chain(reader));
        events
            .deserialize(&mut document)
            .and_then(|()| document.end())
    };
    parsed.map_err(|e| {
        let at = if next > 0 {
            format!(" (after {next} events were read)")
        } else {
            String::new()
        };
        ReadError::Json(format!("{e}{at}"))
    })
}

/// Hands each event of a document to the sink (see [`read_json_document`]).
struct Events<'a> {
    sink: &'a mut dyn FnMut(Item),
    /// Events and skipped values handed on so far.
    next: &'a mut u64,
}

impl Events<'_> {
    fn hand_on(&mut self, value: Value) {
        *self.next += 1;
        let record = *self.next;
        (self.sink)(if value.is_object() {
            Item::Event { record, value }
        } else {
            Item::Skipped {
                record,
                count: 1,
                reason: format!("an event must be a JSON object, not {}", kind(&value)),
            }
        });
    }

    fn reborrow(&mut self) -> Events<'_> {
        Events {
            sink: &mut *self.sink,
            next: &mut *self.next,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Events<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Events<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array or an object of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut items: A) -> Result<(), A::Error> {
        while let Some(value) = items.next_element::<Value>()? {
            self.hand_on(value);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut entries: A) -> Result<(), A::Error> {
        let mut object = Map::new();
        let mut streamed = false;
        while let Some(key) = entries.next_key::<String>()? {
            if streamed {
                // Beside the events, the wrapper's other members are not needed.
                entries.next_value::<IgnoredAny>()?;
            } else if matches!(key.as_str(), "Records" | "value" | "records") {
                let member = entries.next_value_seed(Member {
                    events: self.reborrow(),
                })?;
                match member {
                    None => streamed = true,
                    Some(value) => {
                        object.insert(key, value);
                    }
                }
            } else {
                object.insert(key, entries.next_value()?);
            }
        }
        if !streamed {
            self.hand_on(Value::Object(object));
        }
        Ok(())
    }
}

/// A wrapper object's member that may hold the events: an array is streamed to the sink
/// (`None`); anything else is returned as a value of the object.
struct Member<'a> {
    events: Events<'a>,
}

impl<'de> DeserializeSeed<'de> for Member<'_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Value>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Member<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, items: A) -> Result<Option<Value>, A::Error> {
        self.events.visit_seq(items).map(|()| None)
    }

    fn visit_map<A: MapAccess<'de>>(self, entries: A) -> Result<Option<Value>, A::Error> {
        Value::deserialize(serde::de::value::MapAccessDeserializer::new(entries)).map(Some)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Option<Value>, E> {
        Ok(Some(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Option<Value>, E> {
        Ok(Some(Value::String(v.to_owned())))
    }

    fn visit_unit<E>(self) -> Result<Option<Value>, E> {
        Ok(Some(Value::Null))
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads the next line of `reader` into `line` (without its end): `None` at the end,
/// `Some(false)` when the line was longer than `max` bytes (it is passed over, unread).
fn next_line<R: BufRead>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    line.clear();
    let mut fits = true;
    let mut any = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(any.then_some(fits));
        }
        any = true;
        let (taken, ended) = match memchr::memchr(b'\n', available) {
            Some(end) => (end + 1, true),
            None => (available.len(), false),
        };
        if fits {
            if line.len() + taken > max {
                fits = false;
                line.clear();
            } else {
                line.extend_from_slice(&available[..taken]);
            }
        }
        reader.consume(taken);
        if ended {
            while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                line.pop();
            }
            return Ok(Some(fits));
        }
    }
}

fn too_long(record: u64) -> Item {
    Item::Skipped {
        record,
        count: 1,
        reason: format!(
            "line longer than {} MiB: split the event or shorten its fields",
            MAX_LINE / (1024 * 1024)
        ),
    }
}

fn read_json_lines<R: BufRead>(mut reader: R, sink: &mut dyn FnMut(Item)) -> Result<(), ReadError> {
    let mut line = Vec::new();
    let mut record = 0;
    while let Some(fits) = next_line(&mut reader, &mut line, MAX_LINE)? {
        record += 1;
        if !fits {
            sink(too_long(record));
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(value @ Value::Object(_)) => sink(Item::Event { record, value }),
            Ok(other) => sink(Item::Skipped {
                record,
                count: 1,
                reason: format!("a JSON line must be an object, not {}", kind(&other)),
            }),
            Err(e) => sink(Item::Skipped {
                record,
                count: 1,
                reason: format!("malformed JSON line: {e}"),
            }),
        }
    }
    Ok(())
}

/// Zeek types whose values are numbers.
fn zeek_number(kind: &str) -> bool {
    matches!(
        kind,
        "count" | "int" | "port" | "double" | "time" | "interval"
    )
}

fn read_zeek<R: BufRead>(mut reader: R, sink: &mut dyn FnMut(Item)) -> Result<(), ReadError> {
    let mut separator = "\t".to_owned();
    let mut fields: Vec<String> = Vec::new();
    let mut types: Vec<String> = Vec::new();
    let mut path: Option<String> = None;
    let mut unset = "-".to_owned();
    let mut empty = "(empty)".to_owned();
    let mut record = 0u64;
    let mut bytes = Vec::new();
    while let Some(fits) = next_line(&mut reader, &mut bytes, MAX_LINE)? {
        if !fits {
            record += 1;
            sink(too_long(record));
            continue;
        }
        let line = String::from_utf8_lossy(&bytes);
        if let Some(rest) = line.strip_prefix('#') {
            let (key, value) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
            match key {
                "separator" => separator = unescape_zeek(value.trim()),
                "fields" => fields = value.split(separator.as_str()).map(str::to_owned).collect(),
                "types" => types = value.split(separator.as_str()).map(str::to_owned).collect(),
                "path" => path = Some(value.trim().to_owned()),
                "unset_field" => unset = value.trim().to_owned(),
                "empty_field" => empty = value.trim().to_owned(),
                _ => {}
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        record += 1;
        let values: Vec<&str> = line.split(separator.as_str()).collect();
        if values.len() != fields.len() {
            sink(Item::Skipped {
                record,
                count: 1,
                reason: format!(
                    "Zeek line has {} values for {} fields",
                    values.len(),
                    fields.len()
                ),
            });
            continue;
        }
        let mut object = Map::new();
        if let Some(p) = &path {
            object.insert("_path".into(), Value::String(p.clone()));
        }
        for (i, (field, raw)) in fields.iter().zip(values).enumerate() {
            if raw == unset {
                continue;
            }
            let value = if raw == empty {
                Value::String(String::new())
            } else if types.get(i).is_some_and(|t| zeek_number(t)) {
                raw.parse::<i64>()
                    .map(Value::from)
                    .or_else(|_| raw.parse::<f64>().map(Value::from))
                    .unwrap_or_else(|_| Value::String(raw.to_owned()))
            } else {
                Value::String(raw.to_owned())
            };
            object.insert(field.clone(), value);
        }
        sink(Item::Event {
            record,
            value: Value::Object(object),
        });
    }
    Ok(())
}

/// Zeek writes the separator as `\x09`.
fn unescape_zeek(text: &str) -> String {
    match text
        .strip_prefix("\\x")
        .and_then(|h| u8::from_str_radix(h, 16).ok())
    {
        Some(b) => char::from(b).to_string(),
        None => text.to_owned(),
    }
}

fn read_csv<R: Read>(reader: R, sink: &mut dyn FnMut(Item)) {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = match csv.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            sink(Item::Skipped {
                record: 0,
                count: 1,
                reason: format!("unreadable CSV header: {e}"),
            });
            return;
        }
    };
    for (i, row) in csv.records().enumerate() {
        let record = i as u64 + 1;
        match row {
            Ok(row) => {
                let object: Map<String, Value> = headers
                    .iter()
                    .zip(row.iter())
                    .map(|(h, v)| (h.to_owned(), Value::String(v.to_owned())))
                    .collect();
                sink(Item::Event {
                    record,
                    value: Value::Object(object),
                });
            }
            Err(e) => sink(Item::Skipped {
                record,
                count: 1,
                reason: format!("unreadable CSV row: {e}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_first_line_longer_than_the_head_is_still_json_lines() {
        let long = format!(
            "{{\"EventID\": 4104, \"ScriptBlockText\": \"{}\"}}",
            "A".repeat(20_000)
        );
        let head = &long.as_bytes()[..8192];
        assert_eq!(detect(head), Some(Format::JsonLines));
        let cloudtrail = format!(
            "{{\"Records\": [{{\"eventName\": \"{}\"}}]}}",
            "B".repeat(20_000)
        );
        assert_eq!(detect(&cloudtrail.as_bytes()[..8192]), Some(Format::Json));
        let pretty = b"{\n  \"Records\": []\n}";
        assert_eq!(detect(pretty), Some(Format::Json));
    }
    use super::*;

    fn collect(bytes: &[u8]) -> (Result<Format, String>, Vec<Item>) {
        let mut items = Vec::new();
        let result = read_stream(Cursor::new(bytes.to_vec()), &mut |i| items.push(i))
            .map_err(|e| e.to_string());
        (result, items)
    }

    #[test]
    fn json_lines_go_on_past_a_malformed_line() {
        let (format, items) = collect(b"{\"a\":1}\n{broken\n\n[1]\n{\"a\":2}\n");
        assert_eq!(format, Ok(Format::JsonLines));
        let kinds: Vec<String> = items
            .iter()
            .map(|i| match i {
                Item::Event { record, .. } => format!("event {record}"),
                Item::Skipped { record, reason, .. } => format!("skip {record}: {}", &reason[..9]),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "event 1",
                "skip 2: malformed",
                "skip 4: a JSON li",
                "event 5"
            ]
        );
    }

    #[test]
    fn cloudtrail_records_and_arrays_are_events() {
        let (format, items) = collect(b"{\n \"Records\": [{\"eventName\": \"StopLogging\"}, 3]\n}");
        assert_eq!(format, Ok(Format::Json));
        assert!(
            matches!(&items[0], Item::Event { value, .. } if value["eventName"] == "StopLogging")
        );
        assert!(matches!(&items[1], Item::Skipped { .. }));
        let (format, items) = collect(b"[{\"x\": 1}]");
        assert_eq!(format, Ok(Format::Json));
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn a_json_document_streams_the_same_as_it_parses_in_memory() {
        let documents: [&[u8]; 4] = [
            b"{\"Records\": [{\"a\": 1}, 2, {\"a\": 3}], \"next\": null}",
            b"{\"meta\": {\"x\": [1, 2]}, \"value\": [{\"a\": 1}]}",
            b"{\"Records\": \"none\", \"a\": 1}",
            b"[{\"a\": 1}, {\"a\": 2}]",
        ];
        for document in documents {
            let read = |in_memory| {
                let mut seen = Vec::new();
                read_json_document(
                    document,
                    &mut |item| seen.push(format!("{item:?}")),
                    in_memory,
                )
                .expect("parses");
                seen
            };
            let whole = read(1 << 20);
            assert!(!whole.is_empty());
            assert_eq!(read(4), whole, "{}", String::from_utf8_lossy(document));
        }
        let mut seen = Vec::new();
        read_json_document(
            &b"{\"Records\": \"none\", \"a\": 1}"[..],
            &mut |i| seen.push(i),
            4,
        )
        .expect("parses");
        assert!(
            matches!(&seen[..], [Item::Event { value, .. }] if value["Records"] == "none"),
            "an object without an events array is one event: {seen:?}"
        );
        let error = read_json_document(&b"[{\"a\": 1}, {\"a\": "[..], &mut |_| {}, 4)
            .expect_err("truncated");
        assert!(error.to_string().contains("after 1 events"), "{error}");
    }

    #[test]
    fn a_line_past_the_limit_is_skipped_and_the_next_one_read() {
        let text = format!("{{\"a\": \"{}\"}}\n{{\"b\": 1}}\r\nlast", "x".repeat(100));
        let mut reader = text.as_bytes();
        let mut line = Vec::new();
        assert_eq!(
            next_line(&mut reader, &mut line, 50).expect("read"),
            Some(false)
        );
        assert_eq!(
            next_line(&mut reader, &mut line, 50).expect("read"),
            Some(true)
        );
        assert_eq!(line, b"{\"b\": 1}");
        assert_eq!(
            next_line(&mut reader, &mut line, 50).expect("read"),
            Some(true)
        );
        assert_eq!(line, b"last");
        assert_eq!(next_line(&mut reader, &mut line, 50).expect("read"), None);
    }

    #[test]
    fn zeek_tsv_keeps_types_and_drops_unset_fields() {
        let log = b"#separator \\x09\n#path\tdns\n#fields\tts\tid.orig_h\tid.resp_p\tquery\n#types\ttime\taddr\tport\tstring\n1588205199.5\t10.0.0.1\t53\t-\n";
        let (format, items) = collect(log);
        assert_eq!(format, Ok(Format::ZeekTsv));
        let Item::Event { value, .. } = &items[0] else {
            panic!("an event");
        };
        assert_eq!(value["_path"], "dns");
        assert_eq!(value["id.resp_p"], 53);
        assert!(value.get("query").is_none());
    }

    #[test]
    fn gzip_is_looked_through_and_garbage_is_refused() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"a\": 1}\n").expect("compress");
        let bytes = gz.finish().expect("finish");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.log.gz");
        std::fs::write(&path, bytes).expect("write");
        let mut n = 0;
        assert_eq!(read(&path, &mut |_| n += 1).ok(), Some(Format::JsonLines));
        assert_eq!(n, 1);
        let (format, _) = collect(b"# A readme, with a comma\n\nSome prose.\n");
        assert!(format.is_err());
        let (format, items) = collect(b"time,user,action\n2026-01-01,alice,login\n");
        assert_eq!(format, Ok(Format::Csv));
        assert!(matches!(&items[0], Item::Event { value, .. } if value["user"] == "alice"));
        let (format, _) = collect(b"\x00\x01binary junk");
        assert!(format.is_err());
        let (format, _) = collect(b"ElfFile\0 but truncated");
        assert!(format.is_err_and(|e| e.contains("EVTX")));
    }
}
