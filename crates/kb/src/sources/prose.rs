//! The prose of the sources, for training the technique classifier: ATT&CK procedure examples
//! (the descriptions of `uses` relationships), technique descriptions, and the steps of ATLAS
//! case studies. The snapshot keeps none of it; only `attack train` reads it.

use std::path::Path;

use serde::Deserialize;

use super::DataDir;
use super::atlas::yaml_to_json;
use crate::error::{Error, Result};

/// Where a training text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProseKind {
    /// An ATT&CK procedure example: how one group, software or campaign used the technique.
    Procedure,
    /// A sentence of the technique's own description.
    Description,
    /// The technique's name.
    Name,
    /// A step of an ATLAS case study.
    CaseStudy,
}

/// One text about one technique.
#[derive(Debug, Clone)]
pub struct ProseText {
    /// `T1059.001`, `AML.T0043`...
    pub technique: String,
    /// The text, with ATT&CK's citations and links removed (link text kept).
    pub text: String,
    /// What kind of text it is.
    pub kind: ProseKind,
    /// `enterprise`, `mobile`, `ics` or `atlas`: the matrix the text comes from.
    pub domain: &'static str,
    /// Whose text it is: the STIX id of the group, software or campaign of a procedure
    /// example, or the ATLAS case study of a step; `None` for technique names and
    /// descriptions. Evaluation holds texts out by this.
    pub source: Option<String>,
    /// The source's name and aliases, which evaluation removes from held-out text.
    pub source_names: Vec<String>,
}

#[derive(Deserialize)]
struct Bundle {
    objects: Vec<Object>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Object {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    name: String,
    description: Option<String>,
    relationship_type: Option<String>,
    source_ref: Option<String>,
    target_ref: Option<String>,
    revoked: bool,
    x_mitre_deprecated: bool,
    external_references: Vec<Reference>,
    aliases: Vec<String>,
    x_mitre_aliases: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Reference {
    source_name: String,
    external_id: Option<String>,
}

/// How many sentences of a technique's description are kept: the first ones define the
/// technique; the rest are mostly examples and caveats.
const DESCRIPTION_SENTENCES: usize = 3;

/// Reads the training prose of ATT&CK (all three domains) and ATLAS under `root`.
pub fn load_prose(root: &Path) -> Result<Vec<ProseText>> {
    let mut reader = DataDir { root };
    let mut texts = Vec::new();
    for (file, domain) in [
        ("attack/enterprise-attack.json", "enterprise"),
        ("attack/mobile-attack.json", "mobile"),
        ("attack/ics-attack.json", "ics"),
    ] {
        let (bytes, _) = reader.read(file, "an ATT&CK STIX bundle from mitre/cti")?;
        let bundle: Bundle = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
            path: reader.path(file),
            what: "STIX bundle",
            source,
        })?;
        bundle_prose(&bundle, domain, &mut texts);
    }
    let (bytes, _) = reader.read("atlas/ATLAS.yaml", "ATLAS.yaml from mitre-atlas/atlas-data")?;
    atlas_prose(
        &String::from_utf8_lossy(&bytes),
        &reader.path("atlas/ATLAS.yaml"),
        &mut texts,
    )?;
    Ok(texts)
}

fn bundle_prose(bundle: &Bundle, domain: &'static str, texts: &mut Vec<ProseText>) {
    // Who a procedure example is about: groups, software and campaigns by STIX id.
    let names: std::collections::HashMap<&str, Vec<String>> = bundle
        .objects
        .iter()
        .filter(|o| {
            matches!(
                o.kind.as_str(),
                "intrusion-set" | "malware" | "tool" | "campaign"
            )
        })
        .map(|o| {
            let mut names = vec![o.name.clone()];
            for alias in o.aliases.iter().chain(&o.x_mitre_aliases) {
                if !names.contains(alias) {
                    names.push(alias.clone());
                }
            }
            (o.id.as_str(), names)
        })
        .collect();
    let techniques: std::collections::HashMap<&str, &str> = bundle
        .objects
        .iter()
        .filter(|o| o.kind == "attack-pattern" && !o.revoked && !o.x_mitre_deprecated)
        .filter_map(|o| {
            let id = o
                .external_references
                .iter()
                .find(|r| r.source_name.starts_with("mitre-"))?
                .external_id
                .as_deref()?;
            Some((o.id.as_str(), id))
        })
        .collect();
    for object in &bundle.objects {
        if object.revoked || object.x_mitre_deprecated {
            continue;
        }
        if object.kind == "attack-pattern" {
            let Some(&id) = techniques.get(object.id.as_str()) else {
                continue;
            };
            texts.push(ProseText {
                technique: id.to_owned(),
                text: object.name.clone(),
                kind: ProseKind::Name,
                domain,
                source: None,
                source_names: Vec::new(),
            });
            let description = object.description.as_deref().unwrap_or_default();
            let first_paragraph = description.split("\n\n").next().unwrap_or_default();
            for sentence in split_sentences(&strip_markup(first_paragraph))
                .into_iter()
                .take(DESCRIPTION_SENTENCES)
            {
                texts.push(ProseText {
                    technique: id.to_owned(),
                    text: sentence,
                    kind: ProseKind::Description,
                    domain,
                    source: None,
                    source_names: Vec::new(),
                });
            }
        } else if object.kind == "relationship"
            && object.relationship_type.as_deref() == Some("uses")
            && object
                .source_ref
                .as_deref()
                .is_some_and(|s| !s.starts_with("attack-pattern"))
        {
            let Some(&id) = object.target_ref.as_deref().and_then(|t| techniques.get(t)) else {
                continue;
            };
            let text = strip_markup(object.description.as_deref().unwrap_or_default());
            if !text.trim().is_empty() {
                let source = object.source_ref.clone();
                let source_names = source
                    .as_deref()
                    .and_then(|s| names.get(s))
                    .cloned()
                    .unwrap_or_default();
                texts.push(ProseText {
                    technique: id.to_owned(),
                    text,
                    kind: ProseKind::Procedure,
                    domain,
                    source,
                    source_names,
                });
            }
        }
    }
}

fn atlas_prose(text: &str, path: &Path, texts: &mut Vec<ProseText>) -> Result<()> {
    let value = yaml_to_json(text, path)?;
    let text_of = |v: &serde_json::Value, key: &str| {
        v.get(key)
            .and_then(|d| d.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    for matrix in value["matrices"].as_array().into_iter().flatten() {
        for technique in matrix["techniques"].as_array().into_iter().flatten() {
            let id = text_of(technique, "id");
            texts.push(ProseText {
                technique: id.clone(),
                text: text_of(technique, "name"),
                kind: ProseKind::Name,
                domain: "atlas",
                source: None,
                source_names: Vec::new(),
            });
            let description = text_of(technique, "description");
            let first_paragraph = description.split("\n\n").next().unwrap_or_default();
            for sentence in split_sentences(&strip_markup(first_paragraph))
                .into_iter()
                .take(DESCRIPTION_SENTENCES)
            {
                texts.push(ProseText {
                    technique: id.clone(),
                    text: sentence,
                    kind: ProseKind::Description,
                    domain: "atlas",
                    source: None,
                    source_names: Vec::new(),
                });
            }
        }
    }
    for study in value["case-studies"].as_array().into_iter().flatten() {
        let study_id = text_of(study, "id");
        for step in study["procedure"].as_array().into_iter().flatten() {
            let text = strip_markup(&text_of(step, "description"));
            if !text.trim().is_empty() {
                texts.push(ProseText {
                    technique: text_of(step, "technique"),
                    text,
                    kind: ProseKind::CaseStudy,
                    domain: "atlas",
                    source: (!study_id.is_empty()).then(|| study_id.clone()),
                    source_names: Vec::new(),
                });
            }
        }
    }
    Ok(())
}

/// Removes `(Citation: ...)`, ATLAS's `{{ref.id}}` templates, HTML tags and the markup of
/// Markdown links (keeping their text), and folds whitespace.
pub fn strip_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("(Citation:") {
            rest = after.find(')').map_or("", |i| &after[i + 1..]);
        } else if let Some(after) = rest.strip_prefix("{{") {
            // `{{create_internal_link(...)}}` or `{{id.name}}`: keep nothing; the sentence
            // stays readable without the name.
            rest = after.find("}}").map_or("", |i| &after[i + 2..]);
        } else if let Some(after) = rest.strip_prefix('<') {
            rest = after.find('>').map_or("", |i| &after[i + 1..]);
        } else if let Some((label, url, after)) = markdown_link(rest) {
            // A link to an ATT&CK group, software or campaign is the actor's name, which
            // says nothing about the technique: drop it. Other links keep their text.
            let is_actor = ["/groups/", "/software/", "/campaigns/"]
                .iter()
                .any(|kind| url.contains("attack.mitre.org") && url.contains(kind));
            if !is_actor {
                out.push_str(label);
            }
            rest = after;
        } else {
            let mut chars = rest.chars();
            let c = chars.next().unwrap_or(' ');
            rest = chars.as_str();
            match c {
                '[' | ']' | '`' | '*' => {}
                c if c.is_whitespace() => {
                    if !out.ends_with(' ') && !out.is_empty() {
                        out.push(' ');
                    }
                }
                c => out.push(c),
            }
        }
    }
    out.trim().to_owned()
}

/// `[label](url)` at the start of `text`: (label, url, the rest).
fn markdown_link(text: &str) -> Option<(&str, &str, &str)> {
    let inner = text.strip_prefix('[')?;
    let close = inner.find("](")?;
    let label = &inner[..close];
    if label.contains('[') {
        return None;
    }
    let after = &inner[close + 2..];
    let end = after.find(')')?;
    Some((label, &after[..end], &after[end + 1..]))
}

/// A plain split at `. ` followed by a capital letter: enough for ATT&CK's edited prose.
fn split_sentences(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices(". ") {
        if bytes.get(i + 2).is_some_and(u8::is_ascii_uppercase) {
            sentences.push(text[start..=i].trim().to_owned());
            start = i + 2;
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        sentences.push(last.to_owned());
    }
    sentences
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_stripped_and_link_text_kept() {
        assert_eq!(
            strip_markup(
                "[Explosive](https://attack.mitre.org/software/S0569) has collected the MAC \
                 address.(Citation: CheckPoint Volatile Cedar March 2015) <code>cmd</code>"
            ),
            "has collected the MAC address. cmd"
        );
        assert_eq!(
            strip_markup("uses [PsExec](https://example.com/psexec) (Citation: x)"),
            "uses PsExec"
        );
    }

    #[test]
    fn descriptions_split_at_sentence_ends_only() {
        assert_eq!(
            split_sentences("Adversaries may use e.g. cmd.exe. They may also X. fine"),
            ["Adversaries may use e.g. cmd.exe.", "They may also X. fine"]
        );
    }
}
