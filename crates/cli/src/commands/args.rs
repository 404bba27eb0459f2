//! Argument types shared by commands: output formats, TLP levels, times, SIEM targets.

use clap::ValueEnum;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use ctiforge_analyze::Format;
use ctiforge_model::Tlp;
use ctiforge_sigma::convert::Target;

/// An output format on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Every format.
    All,
    /// analysis.json
    Json,
    /// report.md
    Md,
    /// report.html, one self-contained page with the threat graph
    Html,
    /// bundle.json (STIX 2.1)
    Stix,
    /// navigator-<domain>.json
    Navigator,
    /// misp-event.json
    Misp,
    /// sigma/<rule id>.yml and queries/<target>/
    Sigma,
}

/// The formats asked for, in the order they are written, `all` standing for every one.
pub fn formats(list: &[FormatArg]) -> Vec<Format> {
    if list.contains(&FormatArg::All) {
        return Format::ALL.to_vec();
    }
    list.iter()
        .filter_map(|f| match f {
            FormatArg::All => None,
            FormatArg::Json => Some(Format::Json),
            FormatArg::Md => Some(Format::Markdown),
            FormatArg::Html => Some(Format::Html),
            FormatArg::Stix => Some(Format::Stix),
            FormatArg::Navigator => Some(Format::Navigator),
            FormatArg::Misp => Some(Format::Misp),
            FormatArg::Sigma => Some(Format::Sigma),
        })
        .collect()
}

/// The TLP levels by their names.
pub fn tlp_parser() -> impl TypedValueParser<Value = Tlp> {
    let names: Vec<&str> = Tlp::ALL.iter().map(|t| t.as_str()).collect();
    // Only the names above get through the possible values, and each parses.
    PossibleValuesParser::new(names).map(|name| name.parse::<Tlp>().unwrap_or(Tlp::Clear))
}

pub fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    text.parse()
        .map_err(|_| "not an RFC 3339 time such as 2026-10-14T00:00:00Z".to_owned())
}

/// A query language on the command line, with the names people also use for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SiemTarget {
    /// Splunk SPL.
    #[value(alias = "spl")]
    Splunk,
    /// Elasticsearch Lucene query string.
    #[value(alias = "elasticsearch")]
    Lucene,
    /// Elasticsearch ES|QL.
    #[value(alias = "es|ql")]
    Esql,
    /// Elasticsearch EQL.
    Eql,
    /// Microsoft Kusto (Sentinel, Defender XDR).
    #[value(aliases = ["kql", "sentinel", "defender"])]
    Kusto,
    /// CrowdStrike Falcon LogScale.
    #[value(aliases = ["log_scale", "crowdstrike"])]
    Logscale,
    /// IBM QRadar AQL.
    #[value(alias = "qradar")]
    Aql,
    /// SQL, SQLite dialect.
    #[value(alias = "sqlite")]
    Sql,
}

impl SiemTarget {
    /// The converter's target.
    pub fn target(self) -> Target {
        match self {
            SiemTarget::Splunk => Target::Splunk,
            SiemTarget::Lucene => Target::Lucene,
            SiemTarget::Esql => Target::Esql,
            SiemTarget::Eql => Target::Eql,
            SiemTarget::Kusto => Target::Kusto,
            SiemTarget::Logscale => Target::Logscale,
            SiemTarget::Aql => Target::Aql,
            SiemTarget::Sql => Target::Sql,
        }
    }
}
