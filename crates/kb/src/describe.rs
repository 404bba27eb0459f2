//! A description of one entry and its relations, as `kb lookup` shows it.
//!
//! One serializable model serves both the human output and `--json`, so they never disagree.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::{LogSource, RelationKind, SoftwareKind};
use crate::{Entry, KnowledgeBase};

/// An entry with its attributes and related entries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Description {
    /// `technique`, `group`, `d3fend-technique`, `kev`, `galaxy-cluster`...
    pub kind: String,
    /// The entry's id (a galaxy cluster's UUID).
    pub id: String,
    /// The entry's name.
    pub name: String,
    /// Attributes (domain, tactics, aliases, dates...).
    pub fields: Vec<Field>,
    /// Related entries, grouped.
    pub sections: Vec<Section>,
}

/// One attribute of a [`Description`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    /// What it is (`Tactics`).
    pub label: String,
    /// Its value, as text.
    pub value: String,
}

/// A group of related entries (`Mitigations`, `D3FEND countermeasures`...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// The related entries.
    pub items: Vec<Related>,
}

/// A related entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Related {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// How it relates, when that needs saying (the artifact path of a D3FEND link...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

struct Builder<'a> {
    kb: &'a KnowledgeBase,
    description: Description,
}

impl<'a> Builder<'a> {
    fn field(&mut self, label: &str, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.description.fields.push(Field {
                label: label.to_owned(),
                value,
            });
        }
    }

    fn list_field(&mut self, label: &str, values: &[String]) {
        self.field(label, values.join(", "));
    }

    /// A field listing ids with their names: `Initial Access (TA0001)`.
    fn named_ids_field(&mut self, label: &str, ids: &[String]) {
        let text: Vec<String> = ids
            .iter()
            .map(|id| format!("{} ({id})", self.kb.name_of(id)))
            .collect();
        self.field(label, text.join(", "));
    }

    fn section(&mut self, title: &str, mut items: Vec<Related>) {
        items.sort_by_cached_key(|a| natural_key(&a.id));
        items.dedup_by(|a, b| a.id == b.id && a.note == b.note);
        if !items.is_empty() {
            self.description.sections.push(Section {
                title: title.to_owned(),
                items,
            });
        }
    }

    fn related(&self, id: &str, note: Option<String>) -> Related {
        Related {
            id: id.to_owned(),
            name: self.kb.name_of(id).to_owned(),
            note,
        }
    }

    /// Related entries by relation kind and direction, keeping only ids whose entry `keep`s.
    fn relation_items(
        &self,
        id: &str,
        kind: RelationKind,
        outgoing: bool,
        keep: impl Fn(Entry) -> bool,
    ) -> Vec<Related> {
        let rows: Vec<&str> = if outgoing {
            self.kb
                .relations_from(id)
                .filter(|r| r.kind == kind)
                .map(|r| r.target.as_str())
                .collect()
        } else {
            self.kb
                .relations_to(id)
                .filter(|r| r.kind == kind)
                .map(|r| r.source.as_str())
                .collect()
        };
        rows.into_iter()
            .filter(|other| self.kb.get(other).iter().any(|e| keep(*e)))
            .map(|other| self.related(other, None))
            .collect()
    }

    fn status(&mut self, deprecated: bool, revoked: bool, revoked_by: Option<&str>) {
        let status = match (revoked, revoked_by, deprecated) {
            (true, Some(by), _) => format!("revoked, replaced by {by} {}", self.kb.name_of(by)),
            (true, None, _) => "revoked".to_owned(),
            (false, _, true) => "deprecated".to_owned(),
            _ => "active".to_owned(),
        };
        self.field("Status", status);
    }
}

fn is_technique(e: Entry) -> bool {
    matches!(e, Entry::Technique(_))
}
fn is_group(e: Entry) -> bool {
    matches!(e, Entry::Group(_))
}
fn is_software(e: Entry) -> bool {
    matches!(e, Entry::Software(_))
}
fn is_campaign(e: Entry) -> bool {
    matches!(e, Entry::Campaign(_))
}

/// Orders `T1059.002` after `T1059.001` and `DET0010` after `DET0009`, whatever the widths.
fn natural_key(id: &str) -> Vec<(String, u64)> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut number: Option<u64> = None;
    for c in id.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .saturating_mul(10)
                    .saturating_add(u64::from(d)),
            );
        } else {
            if let Some(n) = number.take() {
                parts.push((std::mem::take(&mut text), n));
            }
            text.push(c);
        }
    }
    parts.push((text, number.unwrap_or(0)));
    parts
}

/// One item per id, keeping the first note (sections list each related entry once).
fn first_per_id(mut items: Vec<Related>) -> Vec<Related> {
    let mut seen = std::collections::HashSet::new();
    items.retain(|item| seen.insert(item.id.clone()));
    items
}

/// Domain titles, comma-separated (`ATT&CK Enterprise, ATT&CK ICS`).
fn domain_titles(domains: &[ctiforge_model::Domain]) -> String {
    domains
        .iter()
        .map(|d| d.title())
        .collect::<Vec<_>>()
        .join(", ")
}

fn log_source_text(source: &LogSource) -> String {
    if source.channel.is_empty() {
        source.name.clone()
    } else {
        format!("{} ({})", source.name, source.channel)
    }
}

impl KnowledgeBase {
    /// Describes an entry with its relations: a technique's tactics, mitigations, D3FEND
    /// countermeasures and detection strategies; a group's techniques and software; and so on.
    pub fn describe(&self, entry: Entry) -> Description {
        let mut b = Builder {
            kb: self,
            description: Description {
                kind: String::new(),
                id: self.entry_id(entry).to_owned(),
                name: self.entry_name(entry).to_owned(),
                fields: Vec::new(),
                sections: Vec::new(),
            },
        };
        match entry {
            Entry::Tactic(i) => self.describe_tactic(&mut b, i),
            Entry::Technique(i) => self.describe_technique(&mut b, i),
            Entry::Group(i) => self.describe_group(&mut b, i),
            Entry::Software(i) => self.describe_software(&mut b, i),
            Entry::Campaign(i) => self.describe_campaign(&mut b, i),
            Entry::Mitigation(i) => self.describe_mitigation(&mut b, i),
            Entry::DetectionStrategy(i) => self.describe_detection_strategy(&mut b, i),
            Entry::Analytic(i) => self.describe_analytic(&mut b, i),
            Entry::DataComponent(i) => self.describe_data_component(&mut b, i),
            Entry::CaseStudy(i) => self.describe_case_study(&mut b, i),
            Entry::D3fend(i) => self.describe_d3fend_technique(&mut b, i),
            Entry::Kev(i) => self.describe_kev(&mut b, i),
            Entry::Galaxy(i) => self.describe_galaxy_cluster(&mut b, i),
        }
        b.description
    }

    fn describe_tactic(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let tactic = &c.tactics[i];
        b.description.kind = "tactic".into();
        b.field("Domain", tactic.domain.title());
        b.field("Short name", tactic.shortname.clone());
        if let Some(reference) = &tactic.attack_reference {
            b.named_ids_field("ATT&CK tactic", std::slice::from_ref(reference));
        }
        let items = c
            .techniques
            .iter()
            .filter(|t| t.is_active() && t.tactics.contains(&tactic.id))
            .map(|t| b.related(&t.id, None))
            .collect();
        b.section("Techniques", items);
    }

    fn describe_technique(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let id = b.description.id.clone();
        let t = &c.techniques[i];
        b.description.kind = if t.is_subtechnique() {
            "sub-technique".into()
        } else {
            "technique".into()
        };
        b.field("Domain", domain_titles(&t.domains));
        b.named_ids_field("Tactics", &t.tactics);
        b.list_field("Platforms", &t.platforms);
        if let Some(parent) = &t.parent {
            b.named_ids_field("Parent", std::slice::from_ref(parent));
        }
        b.status(t.deprecated, t.revoked, t.revoked_by.as_deref());
        if let Some(maturity) = &t.maturity {
            b.field("Maturity", maturity.clone());
        }
        b.named_ids_field("ATT&CK references", &t.attack_references);
        let subs = b.relation_items(&id, RelationKind::SubtechniqueOf, false, is_technique);
        b.section("Sub-techniques", subs);
        let mitigations = b.relation_items(&id, RelationKind::Mitigates, false, |e| {
            matches!(e, Entry::Mitigation(_))
        });
        b.section("Mitigations", mitigations);
        let direct: Vec<Related> = self
            .countermeasures(&id)
            .map(|m| {
                let tactic = self.d3fend(&m.d3fend).map_or("", |d| d.tactic.as_str());
                b.related(
                    &m.d3fend,
                    Some(format!(
                        "{tactic}: technique {} {}, countermeasure {} {}",
                        m.offensive_relation,
                        m.offensive_artifact,
                        m.defensive_relation,
                        m.defensive_artifact
                    )),
                )
            })
            .collect();
        b.section("D3FEND countermeasures (via digital artifacts)", direct);
        let via_mitigations: Vec<Related> = self
            .relations_to(&id)
            .filter(|r| r.kind == RelationKind::Mitigates)
            .flat_map(|r| self.mitigation_countermeasures(&r.source))
            .map(|m| {
                let tactic = self.d3fend(&m.d3fend).map_or("", |d| d.tactic.as_str());
                b.related(
                    &m.d3fend,
                    Some(format!(
                        "{tactic}: via mitigation {} {}",
                        m.mitigation,
                        self.name_of(&m.mitigation)
                    )),
                )
            })
            .collect();
        b.section(
            "D3FEND countermeasures (via ATT&CK mitigations)",
            via_mitigations,
        );
        let strategies: Vec<&str> = self
            .relations_to(&id)
            .filter(|r| r.kind == RelationKind::Detects)
            .map(|r| r.source.as_str())
            .collect();
        let mut log_sources: BTreeMap<String, ()> = BTreeMap::new();
        let items = strategies
            .iter()
            .map(|det| {
                let analytics = self
                    .detection_strategy(det)
                    .map(|d| d.analytics.as_slice())
                    .unwrap_or_default();
                for analytic in analytics {
                    if let Some(a) = self.analytic(analytic) {
                        for source in &a.log_sources {
                            log_sources.insert(log_source_text(source), ());
                        }
                    }
                }
                b.related(det, Some(format!("analytics: {}", analytics.join(", "))))
            })
            .collect();
        b.section("Detection strategies", items);
        let sources = log_sources
            .into_keys()
            .map(|text| Related {
                id: text,
                name: String::new(),
                note: None,
            })
            .collect();
        b.section("Log sources (from detection analytics)", sources);
        let items = b.relation_items(&id, RelationKind::Uses, false, is_group);
        b.section("Used by groups", items);
        let items = b.relation_items(&id, RelationKind::Uses, false, is_software);
        b.section("Used by software", items);
        let items = b.relation_items(&id, RelationKind::Uses, false, is_campaign);
        b.section("Used in campaigns", items);
        let atlas: Vec<Related> = c
            .techniques
            .iter()
            .filter(|a| a.attack_references.contains(&id))
            .map(|a| b.related(&a.id, None))
            .collect();
        b.section("ATLAS techniques referring to it", atlas);
        let cases: Vec<Related> = c
            .case_studies
            .iter()
            .filter(|s| s.procedure.iter().any(|(_, tech)| *tech == id))
            .map(|s| b.related(&s.id, None))
            .collect();
        b.section("ATLAS case studies", cases);
    }

    fn describe_group(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let id = b.description.id.clone();
        let g = &c.groups[i];
        b.description.kind = "group".into();
        b.list_field("Aliases", &g.aliases);
        b.field("Domain", domain_titles(&g.domains));
        b.status(g.deprecated, g.revoked, g.revoked_by.as_deref());
        self.actor_sections(b, &id);
        let campaigns = b.relation_items(&id, RelationKind::AttributedTo, false, is_campaign);
        b.section("Campaigns attributed", campaigns);
        self.galaxy_links(b, &id);
    }

    fn describe_software(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let id = b.description.id.clone();
        let s = &c.software[i];
        b.description.kind = match s.kind {
            SoftwareKind::Malware => "malware".into(),
            SoftwareKind::Tool => "tool".into(),
        };
        b.list_field("Aliases", &s.aliases);
        b.field("Domain", domain_titles(&s.domains));
        b.list_field("Platforms", &s.platforms);
        b.status(s.deprecated, s.revoked, s.revoked_by.as_deref());
        let techniques = b.relation_items(&id, RelationKind::Uses, true, is_technique);
        b.section("Techniques", techniques);
        let groups = b.relation_items(&id, RelationKind::Uses, false, is_group);
        b.section("Used by groups", groups);
        let campaigns = b.relation_items(&id, RelationKind::Uses, false, is_campaign);
        b.section("Used in campaigns", campaigns);
        self.galaxy_links(b, &id);
    }

    fn describe_campaign(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let id = b.description.id.clone();
        let x = &c.campaigns[i];
        b.description.kind = "campaign".into();
        b.list_field("Aliases", &x.aliases);
        b.field("First seen", x.first_seen.clone().unwrap_or_default());
        b.field("Last seen", x.last_seen.clone().unwrap_or_default());
        b.status(x.deprecated, x.revoked, None);
        let groups = b.relation_items(&id, RelationKind::AttributedTo, true, is_group);
        b.section("Attributed to", groups);
        self.actor_sections(b, &id);
    }

    fn describe_mitigation(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let id = b.description.id.clone();
        let m = &c.mitigations[i];
        b.description.kind = "mitigation".into();
        b.field("Domain", domain_titles(&m.domains));
        b.status(m.deprecated, m.revoked, None);
        let countermeasures = self
            .mitigation_countermeasures(&id)
            .map(|x| b.related(&x.d3fend, None))
            .collect();
        b.section("D3FEND countermeasures", countermeasures);
        let techniques = b.relation_items(&id, RelationKind::Mitigates, true, is_technique);
        b.section("Mitigates", techniques);
    }

    fn describe_detection_strategy(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let id = b.description.id.clone();
        let d = &c.detection_strategies[i];
        b.description.kind = "detection-strategy".into();
        b.field("Domain", domain_titles(&d.domains));
        let techniques = b.relation_items(&id, RelationKind::Detects, true, is_technique);
        b.section("Detects", techniques);
        let analytics = d
            .analytics
            .iter()
            .map(|a| {
                let analytic = self.analytic(a);
                let note = analytic.map(|x| {
                    format!(
                        "{}: {}",
                        x.platforms.join(", "),
                        x.log_sources
                            .iter()
                            .map(log_source_text)
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                });
                Related {
                    id: a.clone(),
                    name: String::new(),
                    note,
                }
            })
            .collect();
        b.section("Analytics", analytics);
    }

    fn describe_analytic(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let a = &c.analytics[i];
        b.description.kind = "analytic".into();
        b.list_field("Platforms", &a.platforms);
        let items = a
            .log_sources
            .iter()
            .map(|l| Related {
                id: log_source_text(l),
                name: String::new(),
                note: l
                    .data_component
                    .as_ref()
                    .map(|dc| format!("{dc} {}", self.name_of(dc))),
            })
            .collect();
        b.section("Log sources", items);
        let strategies = c
            .detection_strategies
            .iter()
            .filter(|d| d.analytics.contains(&a.id))
            .map(|d| b.related(&d.id, None))
            .collect();
        b.section("Detection strategies", strategies);
    }

    fn describe_data_component(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let d = &c.data_components[i];
        b.description.kind = "data-component".into();
        let items = d
            .log_sources
            .iter()
            .map(|l| Related {
                id: log_source_text(l),
                name: String::new(),
                note: None,
            })
            .collect();
        b.section("Log sources", items);
    }

    fn describe_case_study(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let s = &c.case_studies[i];
        b.description.kind = "case-study".into();
        b.field("Incident date", s.incident_date.clone().unwrap_or_default());
        // Procedure steps keep their order; they are not sorted like other sections.
        let steps: Vec<Related> = s
            .procedure
            .iter()
            .enumerate()
            .map(|(n, (tactic, technique))| {
                let mut item = b.related(technique, None);
                item.note = Some(format!("step {}, {}", n + 1, self.name_of(tactic)));
                item
            })
            .collect();
        if !steps.is_empty() {
            b.description.sections.push(Section {
                title: "Procedure".into(),
                items: steps,
            });
        }
    }

    fn describe_d3fend_technique(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let id = b.description.id.clone();
        let d = &c.d3fend_techniques[i];
        b.description.kind = "d3fend-technique".into();
        b.field("Tactic", d.tactic.clone());
        if let Some(parent) = &d.parent {
            b.named_ids_field("Parent", std::slice::from_ref(parent));
        }
        let artifacts: Vec<String> = d
            .artifacts
            .iter()
            .map(|(relation, artifact)| format!("{relation} {artifact}"))
            .collect();
        b.field("Artifacts", artifacts.join("; "));
        let children = c
            .d3fend_techniques
            .iter()
            .filter(|x| x.parent.as_deref() == Some(d.id.as_str()))
            .map(|x| b.related(&x.id, None))
            .collect();
        b.section("Narrower techniques", children);
        let mitigations = self
            .countermeasure_mitigations(&id)
            .map(|m| b.related(&m.mitigation, None))
            .collect();
        b.section("Related ATT&CK mitigations", mitigations);
        let countered = self
            .countered_techniques(&id)
            .map(|m| {
                b.related(
                    &m.attack,
                    Some(format!(
                        "technique {} {}, countermeasure {} {}",
                        m.offensive_relation,
                        m.offensive_artifact,
                        m.defensive_relation,
                        m.defensive_artifact
                    )),
                )
            })
            .collect();
        b.section("Counters ATT&CK techniques", countered);
        // Base techniques such as D3-NI have no artifact links of their own; what they
        // counter is what their narrower techniques counter.
        let narrower = self.d3fend_descendants(&id);
        let through_narrower = narrower
            .iter()
            .flat_map(|child| self.countered_techniques(child))
            .filter(|m| self.technique(&m.attack).is_some_and(|t| t.is_active()))
            .map(|m| b.related(&m.attack, Some(format!("via {}", m.d3fend))))
            .collect::<Vec<_>>();
        b.section(
            "Counters ATT&CK techniques (through narrower techniques)",
            first_per_id(through_narrower),
        );
        let via_mitigations = self
            .countermeasure_mitigations(&id)
            .flat_map(|m| {
                self.relations_from(&m.mitigation)
                    .filter(|r| r.kind == RelationKind::Mitigates)
                    .map(|r| (r.target.clone(), m.mitigation.clone()))
            })
            .map(|(attack, mitigation)| {
                b.related(&attack, Some(format!("via mitigation {mitigation}")))
            })
            .collect::<Vec<_>>();
        b.section(
            "Counters ATT&CK techniques (via ATT&CK mitigations)",
            first_per_id(via_mitigations),
        );
    }

    fn describe_kev(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let k = &c.kev[i];
        b.description.kind = "kev".into();
        b.field("Vendor", k.vendor.clone());
        b.field("Product", k.product.clone());
        b.field("Known exploited", "yes, listed in CISA KEV");
        b.field("Date added", k.date_added.clone());
        b.field("Due date", k.due_date.clone());
        b.field(
            "Ransomware use",
            match k.ransomware {
                crate::RansomwareUse::Known => "known",
                crate::RansomwareUse::Unknown => "unknown",
            },
        );
        b.list_field("CWEs", &k.cwes);
    }

    fn describe_galaxy_cluster(&self, b: &mut Builder<'_>, i: usize) {
        let c = self.catalog();
        let g = &c.galaxy_clusters[i];
        b.description.kind = "galaxy-cluster".into();
        b.field("Galaxy", g.galaxy.clone());
        b.list_field("Synonyms", &g.synonyms);
        b.field("Country", g.country.clone().unwrap_or_default());
        let linked = g.attack_ids.iter().map(|a| b.related(a, None)).collect();
        b.section("ATT&CK entries", linked);
    }

    /// All narrower D3FEND techniques of `id`, transitively.
    fn d3fend_descendants(&self, id: &str) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        let mut frontier = vec![id.to_owned()];
        while let Some(current) = frontier.pop() {
            for child in self
                .catalog()
                .d3fend_techniques
                .iter()
                .filter(|d| d.parent.as_deref() == Some(current.as_str()))
            {
                if !found.contains(&child.id) {
                    found.push(child.id.clone());
                    frontier.push(child.id.clone());
                }
            }
        }
        found
    }

    fn actor_sections(&self, b: &mut Builder<'_>, id: &str) {
        let techniques = b.relation_items(id, RelationKind::Uses, true, is_technique);
        b.section("Techniques", techniques);
        let software = b.relation_items(id, RelationKind::Uses, true, is_software);
        b.section("Software", software);
    }

    fn galaxy_links(&self, b: &mut Builder<'_>, id: &str) {
        let clusters = self
            .catalog()
            .galaxy_clusters
            .iter()
            .filter(|g| g.attack_ids.iter().any(|a| a == id))
            .map(|g| Related {
                id: g.uuid.clone(),
                name: g.value.clone(),
                note: Some(format!("MISP {}", g.galaxy)),
            })
            .collect();
        b.section("MISP galaxy clusters", clusters);
    }
}

#[cfg(test)]
mod tests {
    use super::natural_key;

    #[test]
    fn natural_order_of_ids() {
        let mut ids = vec!["T1059.010", "T1059.002", "T1003", "DET0100", "DET0009"];
        ids.sort_by_key(|id| natural_key(id));
        assert_eq!(
            ids,
            ["DET0009", "DET0100", "T1003", "T1059.002", "T1059.010"]
        );
    }
}
