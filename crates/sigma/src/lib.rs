//! Sigma rules: check, process, convert and evaluate, on rsigma's parser and compiler (see
//! docs/decisions/0008-sigma-library.md), in pySigma's layers.
//!
//! - **Parse** ([`rules`]): rule files into rsigma's `SigmaCollection` (rules, correlations,
//!   filters), each file on its own so one bad file does not stop the others.
//! - **Check** ([`check_files`], [`check_text`]): every problem of every rule at once, each with
//!   its file, line, column and rule id — YAML and condition syntax, unknown modifiers,
//!   undefined selections, rsigma's specification lints, ATT&CK tags against the knowledge
//!   base, duplicate ids, dates.
//! - **Process and convert** ([`convert`]): processing pipelines (field mappings, logsource
//!   conditions, placeholders; built-in ones for common SIEM data models), then a backend per
//!   query language (Splunk, Lucene, ES|QL, EQL, Kusto, LogScale, QRadar AQL, SQL), correlation
//!   rules included.
//! - **Evaluate**: rules compile once with rsigma-eval; `ctiforge-hunt` runs them over logs.
//!
//! [`taxonomy`] maps Sigma logsources to the fields each data source has.
//!
//! ```
//! let kb = ctiforge_kb::KnowledgeBase::embedded().unwrap();
//! let yaml = "title: Whoami\nid: 5f1e0b9a-9c5d-4b0e-8f3a-2a1d7c6e4b21\nstatus: test\n\
//!             logsource: {category: process_creation, product: windows}\n\
//!             detection:\n  selection: {Image|endswith: 'whoami.exe'}\n  condition: selection\n\
//!             level: low\n";
//! let findings = ctiforge_sigma::check_text(yaml, std::path::Path::new("whoami.yml"), &kb);
//! assert!(findings.iter().all(|f| f.severity != ctiforge_sigma::Severity::Error), "{findings:?}");
//! ```

#![deny(missing_docs)]

mod check;
pub mod convert;
pub mod rules;
pub mod taxonomy;

pub use check::{Finding, Severity, check_files, check_text};
