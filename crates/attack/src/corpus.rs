//! The training corpus: ATT&CK and ATLAS prose (procedure examples, descriptions, names, case
//! studies) and the TRAM report sentences, from a data folder laid out like `shared/data`.

use std::fs;
use std::path::Path;

use ctiforge_kb::{ProseKind, load_prose};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::Error;

/// Where an example comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// A sentence of an analyst-annotated TRAM report (the only origin with whole reports).
    TramReport,
    /// TRAM's bootstrap sentences (mostly ATT&CK procedure examples, actor removed).
    TramBootstrap,
    /// An annotated span from TRAM's single-label file.
    TramSpan,
    /// ATT&CK or ATLAS prose.
    Prose(ProseKind),
}

impl Origin {
    /// A stable name for reports and provenance.
    pub fn name(self) -> &'static str {
        match self {
            Origin::TramReport => "tram-report-sentence",
            Origin::TramBootstrap => "tram-bootstrap",
            Origin::TramSpan => "tram-single-label",
            Origin::Prose(ProseKind::Procedure) => "attack-procedure-example",
            Origin::Prose(ProseKind::Description) => "technique-description",
            Origin::Prose(ProseKind::Name) => "technique-name",
            Origin::Prose(ProseKind::CaseStudy) => "atlas-case-study-step",
        }
    }
}

/// One labelled (or negative) text.
#[derive(Debug, Clone)]
pub struct Example {
    /// The text.
    pub text: String,
    /// Technique ids as the source gives them; empty for a negative.
    pub labels: Vec<String>,
    /// The labels in TRAM's 50-technique convention, for TRAM rows (what evaluation scores).
    pub tram_labels: Vec<String>,
    /// Where it comes from.
    pub origin: Origin,
    /// The report it belongs to, when known (the unit of cross-validation).
    pub report: Option<String>,
    /// For ATT&CK and ATLAS prose: the matrix (`enterprise`, `mobile`, `ics`, `atlas`).
    pub domain: Option<&'static str>,
    /// For procedure examples and case-study steps: whose text it is (the unit of the
    /// per-domain evaluation's folds), and that source's names.
    pub source: Option<String>,
    /// The source's name and aliases.
    pub source_names: Vec<String>,
}

/// Everything training reads.
#[derive(Debug)]
pub struct Corpus {
    /// The examples, in file order.
    pub examples: Vec<Example>,
    /// TRAM's label space (`tram/labels.txt`), the techniques its annotations use.
    pub tram_labels: Vec<String>,
    /// `(file, sha256)` of each input, for the model's provenance.
    pub inputs: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct TramRow {
    text: String,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    labels_raw: Option<Vec<String>>,
    report: Option<String>,
    source: String,
}

const TRAM_ROWS: &str = "tram/train.jsonl";
const TRAM_LABELS: &str = "tram/labels.txt";
const PROSE_FILES: [&str; 4] = [
    "attack/enterprise-attack.json",
    "attack/mobile-attack.json",
    "attack/ics-attack.json",
    "atlas/ATLAS.yaml",
];

impl Corpus {
    /// Reads the corpus under `data`.
    pub fn load(data: &Path) -> Result<Self, Error> {
        let mut inputs = Vec::new();
        for file in PROSE_FILES.iter().chain(&[TRAM_ROWS, TRAM_LABELS]) {
            let bytes = read(data, file)?;
            let digest: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            inputs.push(((*file).to_owned(), digest));
        }

        let mut examples = Vec::new();
        for prose in load_prose(data).map_err(Error::Kb)? {
            examples.push(Example {
                text: prose.text,
                labels: vec![prose.technique],
                tram_labels: Vec::new(),
                origin: Origin::Prose(prose.kind),
                report: None,
                domain: Some(prose.domain),
                source: prose.source,
                source_names: prose.source_names,
            });
        }

        let rows = read(data, TRAM_ROWS)?;
        for (number, line) in rows.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let row: TramRow = serde_json::from_slice(line).map_err(|e| Error::Data {
                path: data.join(TRAM_ROWS),
                message: format!("line {}: {e}", number + 1),
            })?;
            let origin = match row.source.as_str() {
                "tram2_mjson" => Origin::TramReport,
                "bootstrap" => Origin::TramBootstrap,
                _ => Origin::TramSpan,
            };
            examples.push(Example {
                text: row.text,
                labels: row.labels_raw.unwrap_or_else(|| row.labels.clone()),
                tram_labels: row.labels,
                origin,
                report: row.report,
                domain: None,
                source: None,
                source_names: Vec::new(),
            });
        }

        let tram_labels = String::from_utf8_lossy(&read(data, TRAM_LABELS)?)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        Ok(Self {
            examples,
            tram_labels,
            inputs,
        })
    }
}

fn read(data: &Path, file: &str) -> Result<Vec<u8>, Error> {
    let path = data.join(file);
    fs::read(&path).map_err(|e| Error::Data {
        message: format!(
            "cannot read it ({e}); point --from at a folder laid out like shared/data"
        ),
        path,
    })
}
