//! Log readers. The format is detected from the content (gzip is looked through), not from
//! the file name: EVTX (`ElfFile` magic), a JSON document (an array, CloudTrail's
//! `{"Records": [...]}`, Graph API's `{"value": [...]}`, or one object), JSON lines, Zeek's
//! TSV (`#separator`), or CSV with a header row.
//!
//! JSON lines, Zeek TSV and CSV are streamed line by line; EVTX is read chunk by chunk by the
//! `evtx` crate; a JSON document is parsed whole. A record that cannot be read is reported to
//! the sink as skipped, with the reason, and reading goes on.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;

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
    /// A record that could not be read.
    Skipped {
        /// Its number.
        record: u64,
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
    /// A format read whole (EVTX, a JSON document) is larger than the limit.
    #[error(
        "larger than {} MiB after decompression; EVTX files and JSON documents are read whole, \
         so split it, or convert it to JSON lines (read as a stream)",
        MAX_WHOLE / (1024 * 1024)
    )]
    TooLarge,
}

/// Most bytes of an EVTX file or JSON document read whole (after gzip): a 3 MB gzip can hold
/// gigabytes.
pub const MAX_WHOLE: u64 = 1024 * 1024 * 1024;

/// Reads the rest of `reader`, at most [`MAX_WHOLE`] bytes.
fn read_whole<R: Read>(reader: R, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// Reads `path`, handing each record to `sink`; returns the format it found.
pub fn read(path: &Path, sink: &mut dyn FnMut(Item)) -> Result<Format, ReadError> {
    let mut file = BufReader::new(File::open(path)?);
    let gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    if gzip {
        let decoder = flate2::read::MultiGzDecoder::new(file);
        read_stream(BufReader::new(decoder), sink)
    } else {
        read_stream(file, sink)
    }
}

/// Reads log content held in memory (gzip is looked through), as [`read`] does a file.
pub fn read_bytes(bytes: &[u8], sink: &mut dyn FnMut(Item)) -> Result<Format, ReadError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let decoder = flate2::read::MultiGzDecoder::new(bytes);
        read_stream(BufReader::new(decoder), sink)
    } else {
        read_stream(bytes, sink)
    }
}

fn read_stream<R: BufRead>(mut reader: R, sink: &mut dyn FnMut(Item)) -> Result<Format, ReadError> {
    let head = reader.fill_buf()?.to_vec();
    match detect(&head) {
        Some(Format::Evtx) => {
            let bytes = read_whole(reader, MAX_WHOLE)?;
            read_evtx(bytes, sink)?;
            Ok(Format::Evtx)
        }
        Some(Format::Json) => {
            let bytes = read_whole(reader, MAX_WHOLE)?;
            read_json_document(&bytes, sink)
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

fn read_evtx(bytes: Vec<u8>, sink: &mut dyn FnMut(Item)) -> Result<(), ReadError> {
    let mut parser = evtx::EvtxParser::from_read_seek(Cursor::new(bytes))
        .map_err(|e| ReadError::Evtx(e.to_string()))?;
    for (index, record) in parser.records_json_value().enumerate() {
        let position = index as u64 + 1;
        match record {
            Ok(r) => sink(Item::Event {
                record: r.event_record_id,
                value: r.data,
            }),
            Err(e) => sink(Item::Skipped {
                record: position,
                reason: format!("damaged EVTX record: {e}"),
            }),
        }
    }
    Ok(())
}

fn read_json_document(bytes: &[u8], sink: &mut dyn FnMut(Item)) -> Result<Format, ReadError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ReadError::Json(format!("not UTF-8: {e}")))?
        .trim_start_matches('\u{feff}');
    let document: Value = serde_json::from_str(text).map_err(|e| ReadError::Json(e.to_string()))?;
    let events = match document {
        Value::Array(items) => items,
        Value::Object(mut object) => {
            match ["Records", "value", "records"]
                .iter()
                .find(|k| object.get(**k).is_some_and(Value::is_array))
            {
                Some(key) => match object.remove(*key) {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                },
                None => vec![Value::Object(object)],
            }
        }
        other => {
            return Err(ReadError::Json(format!(
                "expected an array or an object of events, found {}",
                kind(&other)
            )));
        }
    };
    for (i, value) in events.into_iter().enumerate() {
        let record = i as u64 + 1;
        if value.is_object() {
            sink(Item::Event { record, value });
        } else {
            sink(Item::Skipped {
                record,
                reason: format!("an event must be a JSON object, not {}", kind(&value)),
            });
        }
    }
    Ok(Format::Json)
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

fn read_json_lines<R: BufRead>(reader: R, sink: &mut dyn FnMut(Item)) -> Result<(), ReadError> {
    for (i, line) in reader.split(b'\n').enumerate() {
        let record = i as u64 + 1;
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(value @ Value::Object(_)) => sink(Item::Event { record, value }),
            Ok(other) => sink(Item::Skipped {
                record,
                reason: format!("a JSON line must be an object, not {}", kind(&other)),
            }),
            Err(e) => sink(Item::Skipped {
                record,
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

fn read_zeek<R: BufRead>(reader: R, sink: &mut dyn FnMut(Item)) -> Result<(), ReadError> {
    let mut separator = "\t".to_owned();
    let mut fields: Vec<String> = Vec::new();
    let mut types: Vec<String> = Vec::new();
    let mut path: Option<String> = None;
    let mut unset = "-".to_owned();
    let mut empty = "(empty)".to_owned();
    let mut record = 0u64;
    for line in reader.lines() {
        let line = line?;
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
                reason: format!("unreadable CSV row: {e}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_document_read_whole_stops_at_its_limit() {
        let big = vec![b' '; 4096];
        assert!(matches!(
            read_whole(&big[..], 1024),
            Err(ReadError::TooLarge)
        ));
        assert_eq!(read_whole(&big[..], 4096).expect("fits").len(), 4096);
    }

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
                Item::Skipped { record, reason } => format!("skip {record}: {}", &reason[..9]),
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
