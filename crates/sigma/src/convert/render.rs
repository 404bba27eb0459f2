//! One renderer for every text backend: it walks the lowered expression with operator
//! precedence and asks the target's [`Dialect`] for tokens and single tests.

use super::ir::{Compare, Expr, Pattern, Shape, Test, TestKind, Unsupported};

/// What the renderer collects besides the query text (Splunk's regex pre-commands).
#[derive(Debug, Default)]
pub(crate) struct Extras {
    /// Commands that run before the search.
    pub preamble: Vec<String>,
    /// How many helper fields each name has had, so that the next one is unique.
    pub helpers: std::collections::HashMap<String, usize>,
}

impl Extras {
    /// A helper-field suffix unique within the query: "" the first time, then 2, 3...
    pub fn suffix(&mut self, name: &str) -> String {
        let n = self.helpers.entry(name.to_owned()).or_insert(0);
        *n += 1;
        if *n == 1 {
            String::new()
        } else {
            n.to_string()
        }
    }
}

/// A language's boolean words, with the spacing they need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Words {
    /// Between AND-ed terms.
    pub and: &'static str,
    /// Between OR-ed terms.
    pub or: &'static str,
    /// Before a negated term.
    pub not: &'static str,
}

/// `and`, `or`, `not`.
pub(crate) const LOWER: Words = Words {
    and: " and ",
    or: " or ",
    not: "not ",
};

/// `AND`, `OR`, `NOT`.
pub(crate) const UPPER: Words = Words {
    and: " AND ",
    or: " OR ",
    not: "NOT ",
};

/// A query language.
pub(crate) trait Dialect {
    /// Its boolean words.
    fn words(&self) -> Words;
    /// A negated term; `inner` is already grouped when compound.
    fn not(&self, inner: &str) -> String {
        format!("{}{inner}", self.words().not)
    }
    /// Whether AND binds tighter than OR, so an AND inside an OR needs no parentheses.
    fn and_binds_tighter(&self) -> bool {
        true
    }
    /// One test.
    fn test(&self, test: &Test, extras: &mut Extras) -> Result<String, Unsupported>;
    /// Several case-insensitive string tests OR-ed on one field, as a list, if the language
    /// has a form for it.
    fn in_list(&self, _field: &str, _patterns: &[&Pattern]) -> Option<String> {
        None
    }
    /// Several numbers OR-ed on one field, as a list, if the language has a form for it.
    fn number_list(&self, _field: &str, _numbers: &[&str]) -> Option<String> {
        None
    }
}

/// Renders `expr`.
pub(crate) fn render(
    dialect: &dyn Dialect,
    expr: &Expr,
    extras: &mut Extras,
) -> Result<String, Unsupported> {
    render_at(dialect, expr, extras, Level::Top)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Top,
    InOr,
    InAnd,
    InNot,
}

fn render_at(
    d: &dyn Dialect,
    expr: &Expr,
    extras: &mut Extras,
    level: Level,
) -> Result<String, Unsupported> {
    Ok(match expr {
        Expr::Test(test) => d.test(test, extras)?,
        Expr::Not(inner) => {
            let text = render_at(d, inner, extras, Level::InNot)?;
            d.not(&text)
        }
        Expr::And(parts) => {
            if parts.is_empty() {
                return Err(Unsupported("an empty AND".into()));
            }
            let texts = parts
                .iter()
                .map(|p| render_at(d, p, extras, Level::InAnd))
                .collect::<Result<Vec<_>, _>>()?;
            let joined = texts.join(d.words().and);
            let bare = level == Level::Top || (level == Level::InOr && d.and_binds_tighter());
            if bare || texts.len() == 1 {
                joined
            } else {
                format!("({joined})")
            }
        }
        Expr::Or(parts) => {
            if parts.is_empty() {
                return Err(Unsupported("an empty OR".into()));
            }
            if let Some(list) = as_list(d, parts) {
                return Ok(list);
            }
            let texts = parts
                .iter()
                .map(|p| render_at(d, p, extras, Level::InOr))
                .collect::<Result<Vec<_>, _>>()?;
            let joined = texts.join(d.words().or);
            if level == Level::Top || texts.len() == 1 {
                joined
            } else {
                format!("({joined})")
            }
        }
    })
}

/// An OR of two or more case-insensitive string tests on one field, as the dialect's list.
fn as_list(d: &dyn Dialect, parts: &[Expr]) -> Option<String> {
    if parts.len() < 2 {
        return None;
    }
    if let Some((field, numbers)) = numbers_on_one_field(parts) {
        return d.number_list(field, &numbers);
    }
    let mut field = None;
    let mut patterns = Vec::new();
    for part in parts {
        let Expr::Test(Test {
            field: Some(name),
            kind:
                TestKind::Str {
                    pattern,
                    cased: false,
                },
        }) = part
        else {
            return None;
        };
        if *field.get_or_insert(name) != name {
            return None;
        }
        patterns.push(pattern);
    }
    d.in_list(field?, &patterns)
}

fn numbers_on_one_field(parts: &[Expr]) -> Option<(&str, Vec<&str>)> {
    let mut field: Option<&str> = None;
    let mut numbers = Vec::new();
    for part in parts {
        let Expr::Test(Test {
            field: Some(name),
            kind:
                TestKind::Number {
                    op: Compare::Eq,
                    value,
                },
        }) = part
        else {
            return None;
        };
        if *field.get_or_insert(name) != name {
            return None;
        }
        numbers.push(value.as_str());
    }
    Some((field?, numbers))
}

/// Whether every pattern is plain text.
pub(crate) fn all_plain(patterns: &[&Pattern]) -> bool {
    patterns
        .iter()
        .all(|p| matches!(p.shape(), Shape::Exact(_)))
}

/// The usual symbols for numeric comparisons.
pub(crate) fn compare_symbol(op: Compare, eq: &'static str) -> &'static str {
    match op {
        Compare::Eq => eq,
        Compare::Lt => "<",
        Compare::Lte => "<=",
        Compare::Gt => ">",
        Compare::Gte => ">=",
    }
}

/// Escapes `"` and `\` for a double-quoted string.
pub(crate) fn escape_double(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A pattern as a regular expression: literal text escaped, `*` → `.*`, `?` → `.`;
/// anchored at each end that has no wildcard.
pub(crate) fn pattern_regex(pattern: &Pattern, anchor: bool) -> String {
    use super::ir::Piece;
    let pieces = &pattern.0;
    let mut start = 0;
    let mut end = pieces.len();
    let mut out = String::new();
    if anchor {
        if matches!(pieces.first(), Some(Piece::Any)) {
            start = 1;
        } else {
            out.push('^');
        }
        if end > start && matches!(pieces.last(), Some(Piece::Any)) {
            end -= 1;
        }
    }
    for piece in &pieces[start..end] {
        match piece {
            Piece::Text(t) => out.push_str(&escape_regex(t)),
            Piece::Any => out.push_str(".*"),
            Piece::One => out.push('.'),
        }
    }
    if anchor && end == pieces.len() {
        out.push('$');
    }
    out
}

/// Escapes the characters that are special in every common regex flavour (PCRE, RE2, Java)
/// and `/`, which delimits regex literals. Unlike `regex::escape` it leaves `-`, `#`, `&`
/// and `~` alone, which those flavours read literally outside classes.
pub(crate) fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if "\\.^$|?*+()[]{}/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The value of a test that has a field; keyword tests ask for it only in dialects that
/// support them.
pub(crate) fn field_of(test: &Test) -> Result<&str, Unsupported> {
    test.field.as_deref().ok_or_else(|| {
        Unsupported("keyword (field-less) search is not supported by this target".into())
    })
}
