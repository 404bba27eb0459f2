//! A Sigma rule's detection lowered to one boolean expression over field tests, with every
//! modifier already applied: the form each backend renders.
//!
//! Lowering follows the specification (and pySigma, where the specification is silent):
//! modifiers apply in the order written; `contains`/`startswith`/`endswith` add wildcards;
//! `wide`/`utf16*` then `base64`/`base64offset` encode; `windash` expands dashes; `all` links
//! the values with AND; `1 of`/`all of` over selection-name patterns, with `them` skipping
//! names that start with `_`.

use base64::Engine as _;
use rsigma_parser::{
    ConditionExpr, Detection, DetectionItem, Detections, Modifier, Quantifier, SelectorPattern,
    SigmaString, SigmaValue, SpecialChar, StringPart,
};

/// Why a rule cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unsupported(pub String);

fn unsupported(message: impl Into<String>) -> Unsupported {
    Unsupported(message.into())
}

/// A boolean expression over field tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All must hold.
    And(Vec<Expr>),
    /// One must hold.
    Or(Vec<Expr>),
    /// Must not hold.
    Not(Box<Expr>),
    /// One field (or, with no field, the whole event) tested once.
    Test(Test),
}

/// One test on one field.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    /// The field; `None` for a keyword searched over the whole event.
    pub field: Option<String>,
    /// What the value must be.
    pub kind: TestKind,
}

/// What a field's value must be.
#[derive(Debug, Clone, PartialEq)]
pub enum TestKind {
    /// A string with wildcards; case-insensitive unless `cased`.
    Str {
        /// The pattern.
        pattern: Pattern,
        /// The `cased` modifier.
        cased: bool,
    },
    /// A regular expression with its `i`, `m`, `s` flags.
    Regex {
        /// The expression as written.
        pattern: String,
        /// Case-insensitive.
        i: bool,
        /// Multi-line.
        m: bool,
        /// Dot matches newline.
        s: bool,
    },
    /// Inside a network (`cidr`).
    Cidr(String),
    /// A number compared (`=` for a plain number, or a `lt`/`lte`/`gt`/`gte` modifier).
    Number {
        /// The comparison.
        op: Compare,
        /// The number as written.
        value: String,
    },
    /// A boolean.
    Bool(bool),
    /// The field is null or absent (`field: null`).
    Null,
    /// The field exists (`exists: true`; `false` is a `Not` around it).
    Exists,
    /// Equal to another field of the same event (`fieldref`).
    FieldRef(String),
}

/// A numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// `=`.
    Eq,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
}

/// A string with wildcards.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pattern(pub Vec<Piece>);

/// A piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// `*`: any run of characters.
    Any,
    /// `?`: one character.
    One,
}

/// The shape of a pattern, for backends with special operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape<'a> {
    /// No wildcard.
    Exact(&'a str),
    /// `text*`.
    StartsWith(&'a str),
    /// `*text`.
    EndsWith(&'a str),
    /// `*text*`.
    Contains(&'a str),
    /// Anything else (wildcards inside, `?`, or only wildcards).
    Wildcard,
}

impl Pattern {
    fn from_sigma(s: &SigmaString) -> Pattern {
        let mut pieces = Vec::new();
        for part in &s.parts {
            match part {
                StringPart::Plain(t) => push_text(&mut pieces, t),
                StringPart::Special(SpecialChar::WildcardMulti) => pieces.push(Piece::Any),
                StringPart::Special(SpecialChar::WildcardSingle) => pieces.push(Piece::One),
            }
        }
        Pattern(pieces)
    }

    /// The pattern as plain text, when it has no wildcard.
    pub fn plain(&self) -> Option<String> {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                _ => return None,
            }
        }
        Some(out)
    }

    /// Its shape.
    pub fn shape(&self) -> Shape<'_> {
        match self.0.as_slice() {
            [] => Shape::Exact(""),
            [Piece::Text(t)] => Shape::Exact(t),
            [Piece::Text(t), Piece::Any] => Shape::StartsWith(t),
            [Piece::Any, Piece::Text(t)] => Shape::EndsWith(t),
            [Piece::Any, Piece::Text(t), Piece::Any] => Shape::Contains(t),
            _ => Shape::Wildcard,
        }
    }

    fn starts_with_any(&self) -> bool {
        matches!(self.0.first(), Some(Piece::Any))
    }

    fn ends_with_any(&self) -> bool {
        matches!(self.0.last(), Some(Piece::Any))
    }
}

fn push_text(pieces: &mut Vec<Piece>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Piece::Text(last)) = pieces.last_mut() {
        last.push_str(text);
    } else {
        pieces.push(Piece::Text(text.to_owned()));
    }
}

/// Lowers a rule's detection section: the conditions (a rule with several is their OR).
pub fn lower(detections: &Detections) -> Result<Expr, Unsupported> {
    if detections.timeframe.is_some() {
        return Err(unsupported(
            "the deprecated `timeframe` aggregation; rewrite it as a correlation rule",
        ));
    }
    let mut parts = Vec::new();
    for condition in &detections.conditions {
        parts.push(lower_condition(condition, detections)?);
    }
    Ok(simplify(match parts.len() {
        1 => parts.remove(0),
        _ => Expr::Or(parts),
    }))
}

fn lower_condition(condition: &ConditionExpr, d: &Detections) -> Result<Expr, Unsupported> {
    Ok(match condition {
        ConditionExpr::And(args) => Expr::And(
            args.iter()
                .map(|a| lower_condition(a, d))
                .collect::<Result<_, _>>()?,
        ),
        ConditionExpr::Or(args) => Expr::Or(
            args.iter()
                .map(|a| lower_condition(a, d))
                .collect::<Result<_, _>>()?,
        ),
        ConditionExpr::Not(arg) => Expr::Not(Box::new(lower_condition(arg, d)?)),
        ConditionExpr::Identifier(name) => {
            let detection = d.named.get(name).ok_or_else(|| {
                unsupported(format!(
                    "the condition names `{name}`, which is not defined"
                ))
            })?;
            lower_detection(detection)?
        }
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let mut names: Vec<&String> = d
                .named
                .keys()
                .filter(|name| match pattern {
                    SelectorPattern::Them => !name.starts_with('_'),
                    SelectorPattern::Pattern(p) => name_matches(p, name),
                })
                .collect();
            names.sort();
            if names.is_empty() {
                return Err(unsupported(format!(
                    "`{quantifier} of {pattern}` matches no selection"
                )));
            }
            let parts = names
                .iter()
                .map(|name| lower_detection(&d.named[*name]))
                .collect::<Result<Vec<_>, _>>()?;
            match quantifier {
                Quantifier::Any | Quantifier::Count(1) => Expr::Or(parts),
                Quantifier::All => Expr::And(parts),
                Quantifier::Count(n) => {
                    return Err(unsupported(format!(
                        "`{n} of {pattern}`: counting selections has no query form"
                    )));
                }
            }
        }
    })
}

/// Selection-name patterns (`selection_*`): `*` is the only wildcard.
pub(crate) fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.len() >= head.len()
                && name.starts_with(head)
                && name_matches_rest(tail, &name[head.len()..])
        }
    }
}

fn name_matches_rest(pattern: &str, rest: &str) -> bool {
    if pattern.is_empty() {
        return true;
    }
    (0..=rest.len())
        .filter(|i| rest.is_char_boundary(*i))
        .any(|i| name_matches(pattern, &rest[i..]))
}

fn lower_detection(detection: &Detection) -> Result<Expr, Unsupported> {
    Ok(match detection {
        Detection::AllOf(items) => {
            Expr::And(items.iter().map(lower_item).collect::<Result<_, _>>()?)
        }
        Detection::AnyOf(detections) | Detection::And(detections) => {
            let parts = detections
                .iter()
                .map(lower_detection)
                .collect::<Result<_, _>>()?;
            if matches!(detection, Detection::And(_)) {
                Expr::And(parts)
            } else {
                Expr::Or(parts)
            }
        }
        Detection::Keywords(values) => {
            let mut parts = Vec::new();
            for value in values {
                // A keyword is text to find, even when YAML reads it as a number.
                let value = match value {
                    SigmaValue::Integer(_) | SigmaValue::Float(_) | SigmaValue::Bool(_) => {
                        SigmaValue::String(SigmaString::from_raw(&value.to_string()))
                    }
                    other => other.clone(),
                };
                for kind in string_tests(&value, &[])? {
                    parts.push(Expr::Test(Test { field: None, kind }));
                }
            }
            Expr::Or(parts)
        }
        Detection::ArrayMatch { field, .. } => {
            return Err(unsupported(format!(
                "array matching on `{field}[...]` has no query form in this backend"
            )));
        }
        Detection::Conditional { .. } => {
            return Err(unsupported("array element conditions have no query form"));
        }
    })
}

fn lower_item(item: &DetectionItem) -> Result<Expr, Unsupported> {
    let mods = &item.field.modifiers;
    let field = item.field.name.clone();
    let has = |m: Modifier| mods.contains(&m);
    let test = |kind: TestKind| {
        Expr::Test(Test {
            field: field.clone(),
            kind,
        })
    };
    if item.values.is_empty() {
        return Err(unsupported(format!(
            "field `{}` has an empty list of values",
            field.as_deref().unwrap_or("(keywords)")
        )));
    }
    if has(Modifier::Expand) {
        for value in &item.values {
            if let SigmaValue::String(s) = value
                && let Some(name) = placeholder(&s.original)
            {
                return Err(unsupported(format!(
                    "placeholder %{name}% is not filled; give a pipeline that defines it \
                     (vars, value_placeholders or wildcard_placeholders)"
                )));
            }
        }
    }
    let mut alternatives = Vec::new();
    if has(Modifier::Exists) {
        for value in &item.values {
            match value {
                SigmaValue::Bool(true) => alternatives.push(test(TestKind::Exists)),
                SigmaValue::Bool(false) => {
                    alternatives.push(Expr::Not(Box::new(test(TestKind::Exists))))
                }
                other => {
                    return Err(unsupported(format!(
                        "`exists` takes true or false, not `{other}`"
                    )));
                }
            }
        }
    } else if has(Modifier::FieldRef) {
        for value in &item.values {
            alternatives.push(test(TestKind::FieldRef(value.to_string())));
        }
    } else if has(Modifier::Re) {
        for value in &item.values {
            alternatives.push(test(TestKind::Regex {
                pattern: value.to_string(),
                i: has(Modifier::IgnoreCase),
                m: has(Modifier::Multiline),
                s: has(Modifier::DotAll),
            }));
        }
    } else if has(Modifier::Cidr) {
        for value in &item.values {
            let text = value.to_string();
            if text.parse::<ipnet::IpNet>().is_err() {
                return Err(unsupported(format!("`{text}` is not a network for `cidr`")));
            }
            alternatives.push(test(TestKind::Cidr(text)));
        }
    } else if let Some(op) = compare_modifier(mods) {
        for value in &item.values {
            match value {
                SigmaValue::Integer(_) | SigmaValue::Float(_) => {
                    alternatives.push(test(TestKind::Number {
                        op,
                        value: value.to_string(),
                    }))
                }
                other => {
                    return Err(unsupported(format!(
                        "comparison modifiers need a number, not `{other}`"
                    )));
                }
            }
        }
    } else {
        for value in &item.values {
            for kind in string_tests(value, mods)? {
                alternatives.push(test(kind));
            }
        }
    }
    let linked = if has(Modifier::All) {
        Expr::And(alternatives)
    } else {
        Expr::Or(alternatives)
    };
    Ok(if has(Modifier::Neq) {
        Expr::Not(Box::new(linked))
    } else {
        linked
    })
}

fn compare_modifier(mods: &[Modifier]) -> Option<Compare> {
    mods.iter().find_map(|m| match m {
        Modifier::Lt => Some(Compare::Lt),
        Modifier::Lte => Some(Compare::Lte),
        Modifier::Gt => Some(Compare::Gt),
        Modifier::Gte => Some(Compare::Gte),
        _ => None,
    })
}

/// `%name%` in a value, for `expand`.
fn placeholder(value: &str) -> Option<&str> {
    let start = value.find('%')?;
    let rest = &value[start + 1..];
    let end = rest.find('%')?;
    let name = &rest[..end];
    (!name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-'))
    .then_some(name)
}

/// A value under a string modifier chain, on its way to patterns.
#[derive(Debug, Clone)]
enum Stage {
    Text(Pattern),
    Bytes(Vec<u8>),
}

fn string_tests(value: &SigmaValue, mods: &[Modifier]) -> Result<Vec<TestKind>, Unsupported> {
    let cased = mods.contains(&Modifier::Cased);
    let start = match value {
        SigmaValue::String(s) => Stage::Text(Pattern::from_sigma(s)),
        SigmaValue::Integer(_) | SigmaValue::Float(_) => {
            if mods.iter().any(|m| is_string_modifier(*m)) {
                Stage::Text(Pattern(vec![Piece::Text(value.to_string())]))
            } else {
                return Ok(vec![TestKind::Number {
                    op: Compare::Eq,
                    value: value.to_string(),
                }]);
            }
        }
        SigmaValue::Bool(b) => return Ok(vec![TestKind::Bool(*b)]),
        SigmaValue::Null => return Ok(vec![TestKind::Null]),
    };
    let mut stages = vec![start];
    for m in mods {
        stages = match m {
            Modifier::Wide | Modifier::Utf16 | Modifier::Utf16be => stages
                .into_iter()
                .map(|s| encode_utf16(s, *m))
                .collect::<Result<_, _>>()?,
            Modifier::Base64 => stages
                .into_iter()
                .map(|s| Ok(Stage::Text(text(base64_plain(&bytes_of(s)?)))))
                .collect::<Result<_, Unsupported>>()?,
            Modifier::Base64Offset => {
                let mut out = Vec::new();
                for s in stages {
                    let bytes = bytes_of(s)?;
                    for variant in base64_offsets(&bytes) {
                        out.push(Stage::Text(text(variant)));
                    }
                }
                out
            }
            Modifier::WindAsh => {
                let mut out = Vec::new();
                for s in stages {
                    match s {
                        Stage::Text(p) => out.extend(windash(&p)?.into_iter().map(Stage::Text)),
                        Stage::Bytes(_) => {
                            return Err(unsupported("`windash` after an encoding modifier"));
                        }
                    }
                }
                out
            }
            Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith => stages
                .into_iter()
                .map(|s| match s {
                    Stage::Text(mut p) => {
                        if matches!(m, Modifier::Contains | Modifier::EndsWith)
                            && !p.starts_with_any()
                        {
                            p.0.insert(0, Piece::Any);
                        }
                        if matches!(m, Modifier::Contains | Modifier::StartsWith)
                            && !p.ends_with_any()
                        {
                            p.0.push(Piece::Any);
                        }
                        Ok(Stage::Text(p))
                    }
                    Stage::Bytes(_) => Err(unsupported(format!(
                        "`{}` on an encoded value needs `base64` or `base64offset` first",
                        modifier_name(*m)
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Modifier::All | Modifier::Cased | Modifier::Expand => stages,
            other => {
                return Err(unsupported(format!(
                    "modifier `{}` does not apply to a string value",
                    modifier_name(*other)
                )));
            }
        };
    }
    stages
        .into_iter()
        .map(|s| match s {
            Stage::Text(pattern) => Ok(TestKind::Str { pattern, cased }),
            Stage::Bytes(_) => Err(unsupported(
                "a UTF-16 value must be base64-encoded to be searched as text",
            )),
        })
        .collect()
}

fn is_string_modifier(m: Modifier) -> bool {
    matches!(
        m,
        Modifier::Contains
            | Modifier::StartsWith
            | Modifier::EndsWith
            | Modifier::Base64
            | Modifier::Base64Offset
            | Modifier::Wide
            | Modifier::Utf16
            | Modifier::Utf16be
            | Modifier::WindAsh
    )
}

fn modifier_name(m: Modifier) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{m:?}").to_lowercase())
}

fn text(s: String) -> Pattern {
    Pattern(vec![Piece::Text(s)])
}

fn bytes_of(stage: Stage) -> Result<Vec<u8>, Unsupported> {
    match stage {
        Stage::Bytes(b) => Ok(b),
        Stage::Text(p) => p
            .plain()
            .map(String::into_bytes)
            .ok_or_else(|| unsupported("base64 of a value with wildcards cannot be searched")),
    }
}

fn encode_utf16(stage: Stage, m: Modifier) -> Result<Stage, Unsupported> {
    let Stage::Text(p) = stage else {
        return Err(unsupported("a value encoded twice"));
    };
    let plain = p
        .plain()
        .ok_or_else(|| unsupported("UTF-16 of a value with wildcards cannot be searched"))?;
    let mut out = Vec::new();
    if m == Modifier::Utf16 {
        out.extend([0xFF, 0xFE]);
    }
    for unit in plain.encode_utf16() {
        let [lo, hi] = unit.to_le_bytes();
        if m == Modifier::Utf16be {
            out.extend([hi, lo]);
        } else {
            out.extend([lo, hi]);
        }
    }
    Ok(Stage::Bytes(out))
}

fn base64_plain(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The three base64 forms of `bytes` at each alignment inside a longer text, trimmed to the
/// characters that do not depend on the neighbouring bytes.
pub(crate) fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut shifted = vec![b' '; i];
            shifted.extend_from_slice(bytes);
            let encoded = base64_plain(&shifted);
            let trim = END_TRIM[(bytes.len() + i) % 3];
            let end = encoded.len().saturating_sub(trim);
            encoded.get(START[i]..end).unwrap_or_default().to_owned()
        })
        .collect()
}

/// The dashes Windows command lines accept for an option.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
/// Above this many variants a value is refused rather than expanded.
const MAX_WINDASH_VARIANTS: usize = 625;

/// Every spelling of the options in `p`: a `-` or `/` that follows a non-word character (or
/// starts the text) and precedes a word character is each of the five dashes.
fn windash(p: &Pattern) -> Result<Vec<Pattern>, Unsupported> {
    let mut variants = vec![Vec::new()];
    let pieces = &p.0;
    for (index, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Text(t) => {
                let chars: Vec<char> = t.chars().collect();
                let mut run = String::new();
                for (j, &c) in chars.iter().enumerate() {
                    let before_is_word = if j > 0 {
                        is_word(chars[j - 1])
                    } else {
                        // At a wildcard or the start: the regex sees no word character.
                        index > 0 && matches!(pieces[index - 1], Piece::Text(_))
                    };
                    let after_is_word = chars.get(j + 1).is_some_and(|n| is_word(*n));
                    if (c == '-' || c == '/') && !before_is_word && after_is_word {
                        let mut next = Vec::new();
                        for v in &variants {
                            for dash in DASHES {
                                let mut v: Vec<Piece> = v.clone();
                                push_text(&mut v, &run);
                                push_text(&mut v, &dash.to_string());
                                next.push(v);
                            }
                        }
                        if next.len() > MAX_WINDASH_VARIANTS {
                            return Err(unsupported(format!(
                                "`windash` on `{}` gives more than {MAX_WINDASH_VARIANTS} variants",
                                display(p)
                            )));
                        }
                        variants = next;
                        run.clear();
                    } else {
                        run.push(c);
                    }
                }
                for v in &mut variants {
                    push_text(v, &run);
                }
            }
            other => {
                for v in &mut variants {
                    v.push(other.clone());
                }
            }
        }
    }
    Ok(variants.into_iter().map(Pattern).collect())
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn display(p: &Pattern) -> String {
    p.0.iter()
        .map(|piece| match piece {
            Piece::Text(t) => t.as_str(),
            Piece::Any => "*",
            Piece::One => "?",
        })
        .collect()
}

/// Literals of which an event must contain at least one (compared case-insensitively) in the
/// named field for `expr` to hold: `(field, lower-cased literal)` pairs. `None` when no such
/// set is known (a negation, a regex, a number, a keyword...). Hunting uses it to skip rules
/// whose literals an event lacks.
pub fn necessary_literals(expr: &Expr) -> Option<Vec<(String, String)>> {
    match expr {
        Expr::Test(Test {
            field: Some(field),
            kind: TestKind::Str { pattern, .. },
        }) => {
            let longest = pattern
                .0
                .iter()
                .filter_map(|p| match p {
                    Piece::Text(t) => Some(t),
                    _ => None,
                })
                .max_by_key(|t| t.len())?;
            Some(vec![(field.clone(), longest.to_lowercase())])
        }
        Expr::Test(_) | Expr::Not(_) => None,
        Expr::Or(parts) => {
            let mut all = Vec::new();
            for part in parts {
                all.extend(necessary_literals(part)?);
            }
            Some(all)
        }
        Expr::And(parts) => parts
            .iter()
            .filter_map(necessary_literals)
            .max_by_key(|set| {
                let shortest = set.iter().map(|(_, l)| l.len()).min().unwrap_or(0);
                (shortest, usize::MAX - set.len())
            }),
    }
}

/// Events built from an expression: one that satisfies it, and for each way it can fail (each
/// AND term in turn) one that does not. `None` when a test cannot be satisfied by
/// construction (a regular expression, a field compared with itself...).
pub fn examples(expr: &Expr) -> Option<(Map, Vec<Map>)> {
    let mut positive = Map::new();
    if !satisfy(expr, &mut positive) {
        return None;
    }
    let terms: Vec<&Expr> = match expr {
        Expr::And(parts) => parts.iter().collect(),
        other => vec![other],
    };
    let mut negatives = Vec::new();
    for term in terms {
        let mut negative = positive.clone();
        falsify(term, &mut negative);
        negatives.push(negative);
    }
    Some((positive, negatives))
}

/// A JSON object.
pub type Map = serde_json::Map<String, serde_json::Value>;

/// The value no generated pattern matches.
const OTHER: &str = "ctiforge-unrelated-value";

fn satisfy(expr: &Expr, event: &mut Map) -> bool {
    use serde_json::Value;
    match expr {
        Expr::And(parts) => parts.iter().all(|p| satisfy(p, event)),
        Expr::Or(parts) => parts.first().is_some_and(|p| satisfy(p, event)),
        Expr::Not(inner) => {
            falsify(inner, event);
            true
        }
        Expr::Test(test) => {
            let field = test.field.clone().unwrap_or_else(|| "message".to_owned());
            let value = match &test.kind {
                TestKind::Str { pattern, .. } => {
                    let text: String = pattern
                        .0
                        .iter()
                        .map(|p| match p {
                            Piece::Text(t) => t.as_str(),
                            Piece::Any => "",
                            Piece::One => "x",
                        })
                        .collect();
                    // Two tests on one field (`contains|all`): both texts.
                    match event.get(&field).and_then(Value::as_str) {
                        Some(existing) => Value::String(format!("{existing} {text}")),
                        None => Value::String(text),
                    }
                }
                TestKind::Number { op, value } => {
                    let Ok(n) = value.parse::<i64>() else {
                        return false;
                    };
                    Value::from(match op {
                        Compare::Eq | Compare::Lte | Compare::Gte => n,
                        Compare::Lt => n - 1,
                        Compare::Gt => n + 1,
                    })
                }
                TestKind::Bool(b) => Value::Bool(*b),
                TestKind::Null => {
                    event.remove(&field);
                    return true;
                }
                TestKind::Exists => Value::String("present".into()),
                TestKind::Cidr(net) => {
                    let Ok(net) = net.parse::<ipnet::IpNet>() else {
                        return false;
                    };
                    Value::String(net.hosts().next().unwrap_or(net.addr()).to_string())
                }
                TestKind::Regex { .. } | TestKind::FieldRef(_) => return false,
            };
            event.insert(field, value);
            true
        }
    }
}

fn fields_of(expr: &Expr) -> Vec<String> {
    match expr {
        Expr::And(parts) | Expr::Or(parts) => parts.iter().flat_map(fields_of).collect(),
        Expr::Not(inner) => fields_of(inner),
        Expr::Test(test) => vec![test.field.clone().unwrap_or_else(|| "message".to_owned())],
    }
}

fn falsify(expr: &Expr, event: &mut Map) {
    use serde_json::Value;
    match expr {
        Expr::And(parts) => {
            if let Some(first) = parts.first() {
                falsify(first, event);
            }
        }
        Expr::Or(parts) => parts.iter().for_each(|p| falsify(p, event)),
        Expr::Not(inner) => {
            // Start its fields afresh: satisfying appends to a field already set.
            for field in fields_of(inner) {
                event.remove(&field);
            }
            satisfy(inner, event);
        }
        Expr::Test(test) => {
            let field = test.field.clone().unwrap_or_else(|| "message".to_owned());
            match &test.kind {
                TestKind::Null => {
                    event.insert(field, Value::String(OTHER.into()));
                }
                TestKind::Exists => {
                    event.remove(&field);
                }
                TestKind::Number { value, .. } => {
                    let n: i64 = value.parse().unwrap_or(0);
                    event.insert(field, Value::from(n.wrapping_add(100_003)));
                }
                TestKind::Bool(b) => {
                    event.insert(field, Value::Bool(!b));
                }
                TestKind::Cidr(net) => {
                    let other = if net.contains(':') {
                        "2001:db8::dead"
                    } else {
                        "192.0.2.200"
                    };
                    event.insert(field, Value::String(other.into()));
                }
                _ => {
                    event.insert(field, Value::String(OTHER.into()));
                }
            }
        }
    }
}

/// Flattens nested AND/OR, drops one-child groups and double negation.
pub fn simplify(expr: Expr) -> Expr {
    match expr {
        Expr::And(parts) | Expr::Or(parts) if parts.len() == 1 => {
            simplify(parts.into_iter().next().unwrap_or(Expr::And(Vec::new())))
        }
        Expr::And(parts) => Expr::And(flatten(parts, true)),
        Expr::Or(parts) => Expr::Or(flatten(parts, false)),
        Expr::Not(inner) => match simplify(*inner) {
            Expr::Not(x) => *x,
            other => Expr::Not(Box::new(other)),
        },
        test => test,
    }
}

fn flatten(parts: Vec<Expr>, and: bool) -> Vec<Expr> {
    let mut out = Vec::new();
    for part in parts {
        match simplify(part) {
            Expr::And(inner) if and => out.extend(inner),
            Expr::Or(inner) if !and => out.extend(inner),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64offset_gives_the_three_alignments_sigma_specifies() {
        // The specification's example: `/bin/bash` under base64offset.
        assert_eq!(
            base64_offsets(b"/bin/bash"),
            ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]
        );
    }

    #[test]
    fn windash_expands_only_option_dashes() {
        let p = Pattern(vec![
            Piece::Any,
            Piece::Text(" -enc x-y".into()),
            Piece::Any,
        ]);
        let variants = windash(&p).expect("expands");
        assert_eq!(variants.len(), 5);
        assert!(variants.iter().all(|v| display(v).contains("x-y")));
        assert!(variants.iter().any(|v| display(v) == "* /enc x-y*"));
        assert!(variants.iter().any(|v| display(v) == "* \u{2015}enc x-y*"));
    }

    #[test]
    fn selection_patterns_match_names() {
        assert!(name_matches("selection_*", "selection_img"));
        assert!(name_matches("*_img", "selection_img"));
        assert!(!name_matches("filter_*", "selection_img"));
        assert!(name_matches("sel*img", "selection_img"));
    }
}
