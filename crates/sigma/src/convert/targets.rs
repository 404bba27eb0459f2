//! The query languages: each a [`Dialect`] of the one renderer.
//!
//! Where pySigma's backend for a language exists, the forms follow it so that queries are
//! recognisable to its users; where its form does not mean what the rule means, ours differs
//! and BENCHMARKS.md ("Sigma conversion") says why.

use super::ir::{Compare, Expr, Pattern, Piece, Shape, Test, TestKind, Unsupported};
use super::render::{
    Dialect, Extras, LOWER, UPPER, Words, all_plain, compare_symbol, escape_double, field_of,
    pattern_regex,
};

fn unsupported<T>(message: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(message.into()))
}

/// Inline regex flags, `(?ims)`, or nothing.
fn regex_flags(i: bool, m: bool, s: bool) -> String {
    let flags: String = [(i, 'i'), (m, 'm'), (s, 's')]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, c)| *c)
        .collect();
    if flags.is_empty() {
        String::new()
    } else {
        format!("(?{flags})")
    }
}

fn is_identifier(field: &str) -> bool {
    !field.is_empty()
        && field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '@' || c == '-')
        && !field.starts_with(|c: char| c.is_ascii_digit())
}

/// `field KEYWORD(a, b, c)`.
fn listed(field: &str, keyword: &str, members: &[&str]) -> String {
    format!("{field}{keyword}({})", members.join(", "))
}

/// A field name for the Elasticsearch languages: bare, or in backticks when it has
/// characters they would parse as operators.
fn backtick_field(field: &str) -> String {
    if is_identifier(field) && !field.contains('-') {
        field.to_owned()
    } else {
        format!("`{}`", field.replace('`', "``"))
    }
}

fn pattern_text(p: &Pattern, any: &str, one: &str, escape: impl Fn(&str) -> String) -> String {
    p.0.iter()
        .map(|piece| match piece {
            Piece::Text(t) => escape(t),
            Piece::Any => any.to_owned(),
            Piece::One => one.to_owned(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Splunk SPL
// ---------------------------------------------------------------------------------------

/// Splunk's search language.
#[derive(Debug)]
pub(crate) struct Splunk;

impl Splunk {
    fn field(field: &str) -> String {
        if field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            && !field.is_empty()
        {
            field.to_owned()
        } else {
            format!("\"{}\"", escape_double(field))
        }
    }

    fn value(p: &Pattern) -> String {
        // Splunk has no one-character wildcard; `?` widens to `*`. A literal `*` is escaped.
        let escape = |t: &str| escape_double(t).replace('*', "\\*");
        format!("\"{}\"", pattern_text(p, "*", "*", escape))
    }

    /// Takes the regular expressions that every match must satisfy (top-level conjuncts)
    /// out of `expr`, as `| regex field="..."` filters to run after the search.
    pub(crate) fn hoist_regexes(expr: &mut Expr) -> Vec<String> {
        if matches!(
            expr,
            Expr::Test(Test {
                field: Some(_),
                kind: TestKind::Regex { .. }
            })
        ) {
            *expr = Expr::And(vec![expr.clone()]);
        }
        let Expr::And(parts) = expr else {
            return Vec::new();
        };
        let mut hoisted = Vec::new();
        parts.retain(|part| match part {
            Expr::Test(Test {
                field: Some(field),
                kind: TestKind::Regex { pattern, i, m, s },
            }) => {
                hoisted.push(format!(
                    "| regex {field}=\"{}{}\"",
                    regex_flags(*i, *m, *s),
                    escape_double(pattern)
                ));
                false
            }
            _ => true,
        });
        if parts.is_empty() {
            parts.push(Expr::Test(Test {
                field: None,
                kind: TestKind::Str {
                    pattern: Pattern(vec![Piece::Any]),
                    cased: false,
                },
            }));
        }
        if parts.len() == 1 {
            *expr = parts.remove(0);
        }
        hoisted
    }

    fn helper_name(field: &str) -> String {
        field
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    }
}

impl Dialect for Splunk {
    fn words(&self) -> Words {
        Words { and: " ", ..UPPER }
    }
    fn and_binds_tighter(&self) -> bool {
        // In Splunk's search command OR binds tighter than the implicit AND.
        false
    }
    fn test(&self, test: &Test, extras: &mut Extras) -> Result<String, Unsupported> {
        let Some(field) = test.field.as_deref() else {
            return match &test.kind {
                TestKind::Str { pattern, .. } if pattern.0 == [Piece::Any] => Ok("*".into()),
                TestKind::Str { pattern, .. } => Ok(Self::value(pattern)),
                _ => unsupported("a keyword that is not a string"),
            };
        };
        let f = Self::field(field);
        Ok(match &test.kind {
            TestKind::Str {
                pattern,
                cased: false,
            } => format!("{f}={}", Self::value(pattern)),
            TestKind::Str {
                pattern,
                cased: true,
            } => format!("{f}=CASE({})", Self::value(pattern)),
            TestKind::Regex { pattern, i, m, s } => {
                let name = Self::helper_name(field);
                let n = extras.suffix(&name);
                extras.preamble.push(format!(
                    "| rex field={f} \"(?<{name}Match{n}>{}{})\"",
                    regex_flags(*i, *m, *s),
                    escape_double(pattern)
                ));
                extras.preamble.push(format!(
                    "| eval {name}Condition{n}=if(isnotnull({name}Match{n}), \"true\", \"false\")"
                ));
                format!("{name}Condition{n}=\"true\"")
            }
            TestKind::Cidr(net) => format!("{f}=\"{net}\""),
            TestKind::Number { op, value } => format!("{f}{}{value}", compare_symbol(*op, "=")),
            TestKind::Bool(b) => format!("{f}={b}"),
            TestKind::Null => format!("NOT {f}=*"),
            TestKind::Exists => format!("{f}=*"),
            TestKind::FieldRef(other) => {
                let name = Self::helper_name(&format!("{field}_{other}"));
                let n = extras.suffix(&name);
                extras.preamble.push(format!(
                    "| eval {name}Ref{n}=if({f}=={}, \"true\", \"false\")",
                    Self::field(other)
                ));
                format!("{name}Ref{n}=\"true\"")
            }
        })
    }
    fn in_list(&self, field: &str, patterns: &[&Pattern]) -> Option<String> {
        let values: Vec<String> = patterns.iter().map(|p| Self::value(p)).collect();
        Some(format!("{} IN ({})", Self::field(field), values.join(", ")))
    }
    fn number_list(&self, field: &str, numbers: &[&str]) -> Option<String> {
        Some(listed(&Self::field(field), " IN ", numbers))
    }
}

// ---------------------------------------------------------------------------------------
// Elasticsearch: Lucene query string
// ---------------------------------------------------------------------------------------

/// Elasticsearch's Lucene query string syntax.
#[derive(Debug)]
pub(crate) struct Lucene;

impl Lucene {
    fn escape(text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 4);
        for c in text.chars() {
            if "+-=&|!(){}[]<>^\"~*?:\\/ ".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }

    fn value(p: &Pattern) -> String {
        if p.0.is_empty() {
            return "\"\"".into();
        }
        // A phrase without wildcards is quoted (spaces then need no escape).
        if let Some(text) = p.plain()
            && text.contains(char::is_whitespace)
        {
            let inner: String = text
                .split(' ')
                .map(Self::escape)
                .collect::<Vec<_>>()
                .join(" ");
            return format!("\"{inner}\"");
        }
        pattern_text(p, "*", "?", Self::escape)
    }

    fn field(field: &str) -> String {
        field.replace(' ', "\\ ")
    }
}

impl Dialect for Lucene {
    fn words(&self) -> Words {
        UPPER
    }
    fn and_binds_tighter(&self) -> bool {
        // Lucene's query string has no reliable precedence between AND and OR.
        false
    }
    fn test(&self, test: &Test, _: &mut Extras) -> Result<String, Unsupported> {
        let Some(field) = test.field.as_deref() else {
            return match &test.kind {
                TestKind::Str {
                    pattern,
                    cased: false,
                } => {
                    let mut p = pattern.clone();
                    if !matches!(p.0.first(), Some(Piece::Any)) {
                        p.0.insert(0, Piece::Any);
                    }
                    if !matches!(p.0.last(), Some(Piece::Any)) {
                        p.0.push(Piece::Any);
                    }
                    Ok(Self::value(&p))
                }
                _ => unsupported("Lucene keywords must be case-insensitive strings"),
            };
        };
        let f = Self::field(field);
        Ok(match &test.kind {
            TestKind::Str {
                pattern,
                cased: false,
            } => format!("{f}:{}", Self::value(pattern)),
            TestKind::Str { cased: true, .. } => {
                return unsupported("case-sensitive matching (`cased`) in a Lucene query");
            }
            TestKind::Regex { pattern, i, m, s } => {
                if *m || *s {
                    return unsupported(
                        "regular expression flags m and s in a Lucene query (its expressions \
                         always match the whole value)",
                    );
                }
                let pattern = if *i {
                    fold_case(pattern)
                } else {
                    pattern.clone()
                };
                format!("{f}:/{}/", pattern.replace('/', "\\/"))
            }
            TestKind::Cidr(net) => format!("{f}:{}", Self::escape(net)),
            TestKind::Number { op, value } => {
                format!("{f}:{}{value}", compare_symbol(*op, ""))
            }
            TestKind::Bool(b) => format!("{f}:{b}"),
            TestKind::Null => format!("NOT _exists_:{f}"),
            TestKind::Exists => format!("_exists_:{f}"),
            TestKind::FieldRef(_) => {
                return unsupported("comparing two fields (`fieldref`) in a Lucene query");
            }
        })
    }
    fn in_list(&self, field: &str, patterns: &[&Pattern]) -> Option<String> {
        let values: Vec<String> = patterns.iter().map(|p| Self::value(p)).collect();
        Some(format!("{}:({})", Self::field(field), values.join(" OR ")))
    }
    fn number_list(&self, field: &str, numbers: &[&str]) -> Option<String> {
        Some(format!("{}:({})", Self::field(field), numbers.join(" OR ")))
    }
}

/// A regular expression made case-insensitive for engines without an `i` flag: each ASCII
/// letter outside a character class and not escaped becomes `[xX]`.
fn fold_case(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            c if c.is_ascii_alphabetic() && !in_class => {
                out.push('[');
                out.push(c.to_ascii_lowercase());
                out.push(c.to_ascii_uppercase());
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Elasticsearch: ES|QL
// ---------------------------------------------------------------------------------------

/// Elasticsearch's piped query language.
#[derive(Debug)]
pub(crate) struct Esql;

impl Esql {
    fn field(field: &str) -> String {
        backtick_field(field)
    }
    fn like_value(p: &Pattern) -> String {
        let escape = |t: &str| escape_double(t).replace('*', "\\\\*").replace('?', "\\\\?");
        format!("\"{}\"", pattern_text(p, "*", "?", escape))
    }
}

impl Dialect for Esql {
    fn words(&self) -> Words {
        LOWER
    }
    fn test(&self, test: &Test, _: &mut Extras) -> Result<String, Unsupported> {
        let f = Self::field(field_of(test)?);
        Ok(match &test.kind {
            TestKind::Str { pattern, .. } => match pattern.shape() {
                Shape::Exact(t) => format!("{f}==\"{}\"", escape_double(t)),
                Shape::StartsWith(t) => format!("starts_with({f}, \"{}\")", escape_double(t)),
                Shape::EndsWith(t) => format!("ends_with({f}, \"{}\")", escape_double(t)),
                Shape::Contains(_) | Shape::Wildcard => {
                    format!("{f} like {}", Self::like_value(pattern))
                }
            },
            TestKind::Regex { pattern, i, m, s } => format!(
                "{f} rlike \"{}{}\"",
                regex_flags(*i, *m, *s),
                escape_double(pattern)
            ),
            TestKind::Cidr(net) => format!("cidr_match({f}, \"{net}\")"),
            TestKind::Number { op, value } => {
                format!("{f}{}{value}", compare_symbol(*op, "=="))
            }
            TestKind::Bool(b) => format!("{f}=={b}"),
            TestKind::Null => format!("{f} is null"),
            TestKind::Exists => format!("{f} is not null"),
            TestKind::FieldRef(other) => format!("{f}=={}", Self::field(other)),
        })
    }
    fn in_list(&self, field: &str, patterns: &[&Pattern]) -> Option<String> {
        if !all_plain(patterns) {
            return None;
        }
        let values: Vec<String> = patterns
            .iter()
            .map(|p| format!("\"{}\"", escape_double(&p.plain().unwrap_or_default())))
            .collect();
        Some(format!("{} in ({})", Self::field(field), values.join(", ")))
    }
    fn number_list(&self, field: &str, numbers: &[&str]) -> Option<String> {
        Some(listed(&Self::field(field), " in ", numbers))
    }
}

// ---------------------------------------------------------------------------------------
// Elasticsearch: EQL
// ---------------------------------------------------------------------------------------

/// Elasticsearch's event query language.
#[derive(Debug)]
pub(crate) struct Eql;

impl Eql {
    fn field(field: &str) -> String {
        backtick_field(field)
    }
    fn value(p: &Pattern) -> String {
        // A literal `*` or `?` is escaped so that `:` and `like` do not read it as a wildcard.
        let escape = |t: &str| escape_double(t).replace('*', "\\*").replace('?', "\\?");
        format!("\"{}\"", pattern_text(p, "*", "?", escape))
    }
}

impl Dialect for Eql {
    fn words(&self) -> Words {
        LOWER
    }
    fn test(&self, test: &Test, _: &mut Extras) -> Result<String, Unsupported> {
        let f = Self::field(field_of(test)?);
        Ok(match &test.kind {
            TestKind::Str {
                pattern,
                cased: false,
            } => format!("{f}:{}", Self::value(pattern)),
            TestKind::Str {
                pattern,
                cased: true,
            } => match pattern.plain() {
                Some(text) => format!("{f} == \"{}\"", escape_double(&text)),
                None => format!("{f} like {}", Self::value(pattern)),
            },
            TestKind::Regex { pattern, i, m, s } => format!(
                "{f} regex~ \"{}{}\"",
                regex_flags(*i, *m, *s),
                escape_double(pattern).replace('/', "\\/")
            ),
            TestKind::Cidr(net) => format!("cidrMatch({f}, \"{net}\")"),
            TestKind::Number {
                op: Compare::Eq,
                value,
            } => format!("{f}:{value}"),
            TestKind::Number { op, value } => {
                format!("{f} {} {value}", compare_symbol(*op, "=="))
            }
            TestKind::Bool(b) => format!("{f}:{b}"),
            TestKind::Null => format!("?{f} == null"),
            TestKind::Exists => format!("?{f} != null"),
            TestKind::FieldRef(other) => format!("{f} == {}", Self::field(other)),
        })
    }
    fn in_list(&self, field: &str, patterns: &[&Pattern]) -> Option<String> {
        let values: Vec<String> = patterns.iter().map(|p| Self::value(p)).collect();
        let op = if all_plain(patterns) { "in~" } else { "like~" };
        Some(format!(
            "{} {op} ({})",
            Self::field(field),
            values.join(", ")
        ))
    }
    fn number_list(&self, field: &str, numbers: &[&str]) -> Option<String> {
        Some(listed(&Self::field(field), " in ", numbers))
    }
}

// ---------------------------------------------------------------------------------------
// Microsoft Kusto (Sentinel, Defender XDR)
// ---------------------------------------------------------------------------------------

/// Kusto Query Language.
#[derive(Debug)]
pub(crate) struct Kusto;

impl Kusto {
    fn field(field: &str) -> String {
        if is_identifier(field) && !field.contains(['-', '@']) {
            field.to_owned()
        } else {
            format!("['{}']", field.replace('\\', "\\\\").replace('\'', "\\'"))
        }
    }
    fn quote(text: &str) -> String {
        format!("\"{}\"", escape_double(text))
    }
}

impl Dialect for Kusto {
    fn words(&self) -> Words {
        LOWER
    }
    fn not(&self, inner: &str) -> String {
        if inner.starts_with('(') {
            format!("not{inner}")
        } else {
            format!("not({inner})")
        }
    }
    fn test(&self, test: &Test, _: &mut Extras) -> Result<String, Unsupported> {
        let f = match test.field.as_deref() {
            Some(field) => Self::field(field),
            None => "*".to_owned(),
        };
        let cs = |op: &str, cased: bool| {
            if cased {
                format!("{op}_cs")
            } else {
                op.to_owned()
            }
        };
        Ok(match &test.kind {
            TestKind::Str { pattern, cased } => match pattern.shape() {
                Shape::Exact(t) if test.field.is_some() => {
                    let op = if *cased { "==" } else { "=~" };
                    format!("{f} {op} {}", Self::quote(t))
                }
                Shape::Exact(t) | Shape::Contains(t) => {
                    format!("{f} {} {}", cs("contains", *cased), Self::quote(t))
                }
                Shape::StartsWith(t) => {
                    format!("{f} {} {}", cs("startswith", *cased), Self::quote(t))
                }
                Shape::EndsWith(t) => {
                    format!("{f} {} {}", cs("endswith", *cased), Self::quote(t))
                }
                Shape::Wildcard => {
                    let flags = if *cased { "" } else { "(?i)" };
                    format!(
                        "{f} matches regex {}",
                        Self::quote(&format!("{flags}{}", pattern_regex(pattern, true)))
                    )
                }
            },
            TestKind::Regex { pattern, i, m, s } => format!(
                "{f} matches regex {}",
                Self::quote(&format!("{}{pattern}", regex_flags(*i, *m, *s)))
            ),
            TestKind::Cidr(net) => {
                let function = if net.contains(':') {
                    "ipv6_is_in_range"
                } else {
                    "ipv4_is_in_range"
                };
                format!("{function}({f}, \"{net}\")")
            }
            TestKind::Number { op, value } => {
                format!("{f} {} {value}", compare_symbol(*op, "=="))
            }
            TestKind::Bool(b) => format!("{f} == {b}"),
            TestKind::Null => format!("isnull({f})"),
            TestKind::Exists => format!("isnotempty({f})"),
            TestKind::FieldRef(other) => format!("{f} == {}", Self::field(other)),
        })
    }
    fn in_list(&self, field: &str, patterns: &[&Pattern]) -> Option<String> {
        if !all_plain(patterns) {
            return None;
        }
        let values: Vec<String> = patterns
            .iter()
            .map(|p| Self::quote(&p.plain().unwrap_or_default()))
            .collect();
        Some(format!(
            "{} in~ ({})",
            Self::field(field),
            values.join(", ")
        ))
    }
    fn number_list(&self, field: &str, numbers: &[&str]) -> Option<String> {
        Some(listed(&Self::field(field), " in ", numbers))
    }
}

// ---------------------------------------------------------------------------------------
// CrowdStrike LogScale
// ---------------------------------------------------------------------------------------

/// CrowdStrike Falcon LogScale (Humio) query language.
#[derive(Debug)]
pub(crate) struct LogScale;

impl LogScale {
    fn regex_literal(body: &str, flags: &str) -> String {
        // Escape `/` unless the pattern already did.
        let mut out = String::with_capacity(body.len() + 2);
        let mut escaped = false;
        for c in body.chars() {
            if c == '/' && !escaped {
                out.push('\\');
            }
            escaped = c == '\\' && !escaped;
            out.push(c);
        }
        format!("/{out}/{flags}")
    }
    fn field(field: &str) -> String {
        if is_identifier(field) && !field.contains('-') {
            field.to_owned()
        } else {
            format!("\"{}\"", escape_double(field))
        }
    }
}

impl Dialect for LogScale {
    fn words(&self) -> Words {
        Words { and: " ", ..LOWER }
    }
    fn and_binds_tighter(&self) -> bool {
        // In LogScale `or` binds tighter than the implicit `and`.
        false
    }
    fn test(&self, test: &Test, _: &mut Extras) -> Result<String, Unsupported> {
        let prefix = match test.field.as_deref() {
            Some(field) => format!("{}=", Self::field(field)),
            None => String::new(),
        };
        Ok(match &test.kind {
            TestKind::Str { pattern, cased } => match (pattern.plain(), cased) {
                (Some(text), true) if test.field.is_some() => {
                    format!("{prefix}\"{}\"", escape_double(&text))
                }
                _ => {
                    let anchored = test.field.is_some();
                    let flags = if *cased { "" } else { "i" };
                    format!(
                        "{prefix}{}",
                        Self::regex_literal(&pattern_regex(pattern, anchored), flags)
                    )
                }
            },
            TestKind::Regex { pattern, i, m, s } => {
                let flags: String = [(i, 'i'), (m, 'm'), (s, 's')]
                    .iter()
                    .filter(|(on, _)| **on)
                    .map(|(_, c)| *c)
                    .collect();
                format!("{prefix}{}", Self::regex_literal(pattern, &flags))
            }
            TestKind::Cidr(net) => {
                format!("cidr({}, subnet=\"{net}\")", Self::field(field_of(test)?))
            }
            TestKind::Number { op, value } => {
                format!(
                    "{}{}{value}",
                    Self::field(field_of(test)?),
                    compare_symbol(*op, "=")
                )
            }
            TestKind::Bool(b) => format!("{prefix}{b}"),
            TestKind::Null => format!("{}!=*", Self::field(field_of(test)?)),
            TestKind::Exists => format!("{prefix}*"),
            TestKind::FieldRef(o) => {
                format!("test({}=={})", Self::field(field_of(test)?), Self::field(o))
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// IBM QRadar AQL
// ---------------------------------------------------------------------------------------

/// IBM QRadar's Ariel query language.
#[derive(Debug)]
pub(crate) struct Aql;

impl Aql {
    fn field(field: &str) -> String {
        // QRadar's `payload` is the raw event in bytes: text tests need it decoded.
        if field == "payload" {
            return "UTF8(payload)".to_owned();
        }
        if is_identifier(field) && !field.contains(['.', '-', '@']) {
            field.to_owned()
        } else {
            format!("\"{}\"", field.replace('"', "\"\""))
        }
    }
    fn like(p: &Pattern) -> String {
        format!("'{}'", pattern_text(p, "%", "_", |t| t.replace('\'', "''")))
    }
}

impl Dialect for Aql {
    fn words(&self) -> Words {
        UPPER
    }
    fn not(&self, inner: &str) -> String {
        if inner.starts_with('(') {
            format!("NOT {inner}")
        } else {
            format!("NOT ({inner})")
        }
    }
    fn test(&self, test: &Test, _: &mut Extras) -> Result<String, Unsupported> {
        let f = match test.field.as_deref() {
            Some(field) => Self::field(field),
            None => "UTF8(payload)".to_owned(),
        };
        Ok(match &test.kind {
            TestKind::Str { pattern, cased } => {
                let mut p = pattern.clone();
                if test.field.is_none() {
                    p.0.insert(0, Piece::Any);
                    p.0.push(Piece::Any);
                }
                let op = if *cased { "LIKE" } else { "ILIKE" };
                format!("{f} {op} {}", Self::like(&p))
            }
            TestKind::Regex { pattern, i, m, s } => {
                let op = if *i { "IMATCHES" } else { "MATCHES" };
                format!(
                    "{f} {op} '{}{}'",
                    regex_flags(false, *m, *s),
                    pattern.replace('\'', "''")
                )
            }
            TestKind::Cidr(net) => format!("INCIDR('{net}', {f})"),
            TestKind::Number { op, value } => {
                format!("{f}{}{value}", compare_symbol(*op, "="))
            }
            TestKind::Bool(b) => format!("{f}='{b}'"),
            TestKind::Null => format!("{f} IS NULL"),
            TestKind::Exists => format!("{f} IS NOT NULL"),
            TestKind::FieldRef(other) => format!("{f}={}", Self::field(other)),
        })
    }
    fn number_list(&self, field: &str, numbers: &[&str]) -> Option<String> {
        Some(listed(&Self::field(field), " IN ", numbers))
    }
}

// ---------------------------------------------------------------------------------------
// SQL (ANSI, SQLite dialect)
// ---------------------------------------------------------------------------------------

/// SQL in SQLite's dialect.
#[derive(Debug)]
pub(crate) struct Sql;

impl Sql {
    fn field(field: &str) -> String {
        if is_identifier(field) && !field.contains(['.', '-', '@']) {
            field.to_owned()
        } else {
            format!("\"{}\"", field.replace('"', "\"\""))
        }
    }
    fn like(p: &Pattern) -> String {
        let escape = |t: &str| {
            let mut out = String::with_capacity(t.len());
            for c in t.chars() {
                match c {
                    '%' | '_' | '\\' => {
                        out.push('\\');
                        out.push(c);
                    }
                    '\'' => out.push_str("''"),
                    _ => out.push(c),
                }
            }
            out
        };
        format!("'{}'", pattern_text(p, "%", "_", escape))
    }
    fn glob(p: &Pattern) -> String {
        let escape = |t: &str| {
            let mut out = String::with_capacity(t.len());
            for c in t.chars() {
                match c {
                    '*' | '?' | '[' => {
                        out.push('[');
                        out.push(c);
                        out.push(']');
                    }
                    '\'' => out.push_str("''"),
                    _ => out.push(c),
                }
            }
            out
        };
        format!("'{}'", pattern_text(p, "*", "?", escape))
    }

    /// An IPv4 network as LIKE prefixes on octet boundaries.
    fn cidr(field: &str, net: &str) -> Result<String, Unsupported> {
        let net = match net.parse::<ipnet::IpNet>() {
            Ok(ipnet::IpNet::V4(net)) => net,
            Ok(ipnet::IpNet::V6(v6)) if v6.prefix_len() == 128 => {
                return Ok(format!("{field}='{}'", v6.addr()));
            }
            _ => {
                return unsupported(format!(
                    "IPv6 network {net} in SQL: addresses are text there and IPv6 text forms \
                     vary, so only single addresses (/128) convert"
                ));
            }
        };
        let len = net.prefix_len();
        if len == 32 {
            return Ok(format!("{field}='{}'", net.addr()));
        }
        let octets = usize::from(len / 8);
        let rounded = u8::try_from(octets * 8).unwrap_or(0);
        let subnets: Vec<ipnet::Ipv4Net> = if len % 8 == 0 {
            vec![net.trunc()]
        } else {
            net.subnets(rounded + 8)
                .map(|s| s.collect())
                .unwrap_or_default()
        };
        let keep = if len % 8 == 0 { octets } else { octets + 1 };
        let parts: Vec<String> = subnets
            .iter()
            .map(|s| {
                let prefix: Vec<String> = s.addr().octets()[..keep]
                    .iter()
                    .map(u8::to_string)
                    .collect();
                if keep == 0 {
                    format!("{field} LIKE '%' ESCAPE '\\'")
                } else {
                    format!("{field} LIKE '{}.%' ESCAPE '\\'", prefix.join("."))
                }
            })
            .collect();
        Ok(if parts.len() == 1 {
            parts.join("")
        } else {
            format!("({})", parts.join(" OR "))
        })
    }
}

impl Dialect for Sql {
    fn words(&self) -> Words {
        UPPER
    }
    fn not(&self, inner: &str) -> String {
        // NULL inside NOT would drop the row; a missing field means "does not match".
        format!("NOT COALESCE({inner}, 0)")
    }
    fn test(&self, test: &Test, _: &mut Extras) -> Result<String, Unsupported> {
        let f = Self::field(field_of(test)?);
        Ok(match &test.kind {
            TestKind::Str {
                pattern,
                cased: false,
            } => format!("{f} LIKE {} ESCAPE '\\'", Self::like(pattern)),
            TestKind::Str {
                pattern,
                cased: true,
            } => format!("{f} GLOB {}", Self::glob(pattern)),
            TestKind::Regex { pattern, i, m, s } => format!(
                "{f} REGEXP '{}{}'",
                regex_flags(*i, *m, *s),
                pattern.replace('\'', "''")
            ),
            TestKind::Cidr(net) => Self::cidr(&f, net)?,
            TestKind::Number { op, value } => {
                format!("{f}{}{value}", compare_symbol(*op, "="))
            }
            TestKind::Bool(b) => format!("({f}='{b}' OR {f}={})", u8::from(*b)),
            TestKind::Null => format!("{f} IS NULL"),
            TestKind::Exists => format!("{f} IS NOT NULL"),
            TestKind::FieldRef(other) => format!("{f}={}", Self::field(other)),
        })
    }
    fn number_list(&self, field: &str, numbers: &[&str]) -> Option<String> {
        Some(listed(&Self::field(field), " IN ", numbers))
    }
}
