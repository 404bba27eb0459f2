//! The render stage: an Analysis as the files a defender uses, each a name and its bytes, so a
//! caller can write them to a folder or keep them in a store.

use std::fmt;
use std::str::FromStr;

use ctiforge_kb::KnowledgeBase;
use ctiforge_model::Analysis;
use ctiforge_model::UnknownName;
use ctiforge_sigma::convert::Target;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// `analysis.json`: the Analysis document.
    Json,
    /// `report.md`: the report in Markdown.
    Markdown,
    /// `report.html`: one self-contained page with the threat graph.
    Html,
    /// `bundle.json`: a STIX 2.1 bundle.
    Stix,
    /// `navigator-<domain>.json`: ATT&CK Navigator layers, one per domain.
    Navigator,
    /// `misp-event.json`: a MISP event.
    Misp,
    /// `sigma/<rule id>.yml` for each generated rule, and `queries/<target>/<rule id>.<ext>`
    /// for every rule and target.
    Sigma,
}

impl Format {
    /// Every format, in the order they are written.
    pub const ALL: [Format; 7] = [
        Format::Json,
        Format::Markdown,
        Format::Html,
        Format::Stix,
        Format::Navigator,
        Format::Misp,
        Format::Sigma,
    ];

    /// The name on the command line and in the API (`json`, `md`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Stix => "stix",
            Format::Navigator => "navigator",
            Format::Misp => "misp",
            Format::Sigma => "sigma",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownName {
                what: "output format",
                given: s.to_owned(),
                expected: Format::ALL.iter().map(|f| f.as_str()).collect(),
            })
    }
}

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Its path relative to the output folder (`report.md`, `sigma/<id>.yml`).
    pub name: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

/// The STIX time of an analysis: the report's publication date, else `now`
/// (`2026-10-14T00:00:00.000Z`).
pub fn timestamp(analysis: &Analysis, now: jiff::Timestamp) -> String {
    if let Some(published) = &analysis.report.published {
        return format!("{}T00:00:00.000Z", published.date);
    }
    now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A name made safe as one file or folder name: ASCII letters, digits, `-` and `_` kept,
/// anything else `-`.
pub fn safe_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Renders `analysis` in each of `formats`, in that order. `now` is the time written when the
/// report states no publication date.
pub fn render(
    analysis: &Analysis,
    kb: &KnowledgeBase,
    formats: &[Format],
    now: jiff::Timestamp,
) -> Vec<Output> {
    let time = timestamp(analysis, now);
    let mut outputs = Vec::new();
    let mut push = |name: String, bytes: Vec<u8>| outputs.push(Output { name, bytes });
    for format in formats {
        match format {
            Format::Json => push(
                "analysis.json".into(),
                pretty(&serde_json::to_value(analysis).unwrap_or_default()),
            ),
            Format::Markdown => push(
                "report.md".into(),
                ctiforge_report::markdown(analysis).into_bytes(),
            ),
            Format::Html => {
                let bundle = ctiforge_stix::bundle(analysis, kb, &time);
                push(
                    "report.html".into(),
                    ctiforge_report::html(analysis, &bundle).into_bytes(),
                );
            }
            Format::Stix => push(
                "bundle.json".into(),
                pretty(&ctiforge_stix::bundle(analysis, kb, &time)),
            ),
            Format::Navigator => {
                for (domain, layer) in ctiforge_report::navigator_layers(analysis, kb) {
                    push(format!("navigator-{domain}.json"), pretty(&layer));
                }
            }
            Format::Misp => push(
                "misp-event.json".into(),
                pretty(&ctiforge_report::misp_event(analysis, &time[..10])),
            ),
            Format::Sigma => {
                for (name, bytes) in sigma_files(analysis) {
                    push(name, bytes);
                }
            }
        }
    }
    outputs
}

/// The generated rules as YAML, and every rule's queries, one file per target.
fn sigma_files(analysis: &Analysis) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let detection = &analysis.detection;
    for rule in &detection.generated {
        files.push((
            format!("sigma/{}.yml", rule.id),
            rule.yaml.clone().into_bytes(),
        ));
    }
    let queries = detection
        .generated
        .iter()
        .map(|r| (&r.id, &r.queries))
        .chain(detection.selected.iter().map(|r| (&r.id, &r.queries)));
    for (id, queries) in queries {
        for (target, query) in queries {
            files.push((query_file(target, id), format!("{query}\n").into_bytes()));
        }
    }
    files
}

/// `queries/<target>/<rule id>.<extension>`.
fn query_file(target: &str, id: &str) -> String {
    let extension = Target::from_name(target).map_or("txt", |t| t.extension());
    format!("queries/{target}/{}.{extension}", safe_file_name(id))
}

/// Pretty JSON with a final newline.
fn pretty<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // Serializing these types (string keys, finite numbers) cannot fail.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
        }
        let err = "pdf".parse::<Format>().expect_err("not a format");
        assert!(err.to_string().contains("json, md, html"), "{err}");
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(safe_file_name("report 1/../x.md"), "report-1----x-md");
        assert_eq!(
            query_file("splunk", "5f1e-a_b"),
            "queries/splunk/5f1e-a_b.spl"
        );
    }
}
