//! Sigma rules: checking, on rsigma's parser and compiler (see
//! docs/decisions/0008-sigma-library.md).
//!
//! `check` reports every problem of every rule in a collection at once, each with its file,
//! line, column and rule id: YAML and condition syntax errors, unknown modifiers, undefined
//! selections (found by compiling the rule), rsigma's specification lints, and our own
//! checks — ATT&CK tags against the knowledge base (unknown and revoked techniques, unknown
//! tactics, groups and software), duplicate ids across the collection, dates.

mod check;
pub mod convert;
pub mod rules;
pub mod taxonomy;

pub use check::{Finding, Severity, check_files, check_text};
