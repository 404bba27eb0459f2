//! Named entities from the knowledge base's names and aliases: ATT&CK groups, software and
//! campaigns, MISP threat-actor clusters (linked to ATT&CK groups by UUID), MISP countries,
//! KEV vendors and products, and a sector vocabulary of our own. Matching is case-sensitive
//! on the published spelling, at word boundaries. A one-word group name spelt like an ordinary
//! capitalised word (`Silence`, `Platinum`), or such a software name at the start of a
//! sentence (`Ping`), needs context: a word for its kind in the same sentence (`group`,
//! `malware`...) or a second mention.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use ctiforge_kb::{KnowledgeBase, SoftwareKind};
use ctiforge_model::Span;

use ctiforge_model::analysis::{Entities, Entity};

use crate::dictionary::Dictionary;
use crate::quote_at;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Actor,
    Malware,
    Tool,
    Campaign,
    Country,
    Product,
}

#[derive(Debug, Clone)]
struct Name {
    kind: Kind,
    canonical: String,
    id: Option<String>,
    stix_id: Option<String>,
    source: &'static str,
}

/// Sector words (lower case) → sector, named as in MISP's sector galaxy where it has one.
const SECTORS: &[(&str, &str)] = &[
    ("healthcare", "Health"),
    ("health care", "Health"),
    ("health sector", "Health"),
    ("hospital", "Health"),
    ("hospitals", "Health"),
    ("clinic", "Health"),
    ("clinics", "Health"),
    ("patient", "Health"),
    ("patients", "Health"),
    ("medical device", "Health"),
    ("medical devices", "Health"),
    ("iomt", "Health"),
    ("pharmaceutical", "Pharmacy"),
    ("pharmacies", "Pharmacy"),
    ("bank", "Finance"),
    ("banks", "Finance"),
    ("banking", "Finance"),
    ("financial institutions", "Finance"),
    ("financial sector", "Finance"),
    ("energy sector", "Energy"),
    ("power grid", "Electric"),
    ("electric utility", "Electric"),
    ("electricity", "Electric"),
    ("substation", "Electric"),
    ("oil and gas", "Oil"),
    ("refinery", "Oil"),
    ("water utility", "Water"),
    ("water utilities", "Water"),
    ("wastewater", "Water"),
    ("government", "Government, Administration"),
    ("ministry", "Government, Administration"),
    ("ministries", "Government, Administration"),
    ("federal agencies", "Government, Administration"),
    ("federal agency", "Government, Administration"),
    ("federal network", "Government, Administration"),
    ("federal networks", "Government, Administration"),
    (
        "federal civilian executive branch",
        "Government, Administration",
    ),
    ("fceb", "Government, Administration"),
    ("university", "Academia - University"),
    ("universities", "Academia - University"),
    ("schools", "Education"),
    ("manufacturing", "Manufacturing"),
    ("telecommunications", "Telecoms"),
    ("telecom", "Telecoms"),
    ("logistics", "Transport"),
    ("airline", "Civil Aviation"),
    ("airlines", "Civil Aviation"),
    ("railway", "Railway"),
    ("defense contractor", "Defense"),
    ("defense contractors", "Defense"),
    ("military", "Military"),
    ("retail", "Retail"),
    ("retailers", "Retail"),
    // The victims of help-desk intrusions and their like (MGM, Caesars, UK retailers,
    // US insurers; write-ups read 2026-12-08), and other MISP sectors that reports name in
    // so many words. Not "insurance" or "shipping" alone ("insurance claims", "shipping a
    // payload"), nor "insurance companies" (ransom notes name the victim's), "journalists"
    // or "media outlets" (a leak site's page for the press, the outlets that reported it:
    // read on the TRAM reports).
    ("insurance sector", "Insurance"),
    ("insurance industry", "Insurance"),
    ("insurance providers", "Insurance"),
    ("insurers", "Insurance"),
    ("casino", "Casino"),
    ("casinos", "Casino"),
    ("hotels", "Hotels"),
    ("hospitality", "Hospitality"),
    ("law firm", "Lawyers"),
    ("law firms", "Lawyers"),
    ("managed service provider", "Managed Services Provider"),
    ("managed service providers", "Managed Services Provider"),
    ("managed services provider", "Managed Services Provider"),
    ("managed services providers", "Managed Services Provider"),
    ("aerospace", "Aerospace"),
    ("automotive", "Automotive"),
    ("semiconductor", "Semi-conductors"),
    ("semiconductors", "Semi-conductors"),
    ("think tanks", "Think Tanks"),
    ("think tank", "Think Tanks"),
    ("non-governmental organizations", "NGO"),
    ("ngos", "NGO"),
    ("school districts", "Education"),
    ("k-12", "Education"),
    ("defense industrial base", "Defense"),
    ("chemical plants", "Chemical"),
    ("airports", "Civil Aviation"),
];

/// The names of CISA's critical-infrastructure sectors (lower case) → sector, read where a
/// report lists its sectors on a labelled line ("Critical infrastructure sectors: Energy,
/// Dams"); alone, words such as "energy" or "dams" say too little to name a sector.
pub const CISA_SECTORS: &[(&str, &str)] = &[
    ("healthcare and public health", "Health"),
    ("critical manufacturing", "Manufacturing"),
    ("energy", "Energy"),
    ("water and wastewater", "Water"),
    ("water and wastewater systems", "Water"),
    ("transportation systems", "Transport"),
    ("transportation", "Transport"),
    ("chemical", "Chemical"),
    ("commercial facilities", "Commercial Facilities"),
    ("communications", "Telecoms"),
    ("dams", "Dams"),
    ("defense industrial base", "Defense"),
    ("emergency services", "Emergency Services"),
    ("financial services", "Finance"),
    ("food and agriculture", "Food"),
    ("government facilities", "Government, Administration"),
    (
        "government services and facilities",
        "Government, Administration",
    ),
    ("information technology", "IT"),
    ("nuclear reactors, materials, and waste", "Nuclear"),
    ("nuclear", "Nuclear"),
];

/// The sectors of a labelled sector line (`… sectors: Energy, Chemical`), with where each
/// name starts.
fn listed_sectors(text: &str) -> Vec<(usize, usize, &'static str)> {
    let mut found = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let lower = line.to_lowercase();
        if lower.len() == line.len()
            && let Some(colon) = lower.find("sectors:").or_else(|| lower.find("sector:"))
            && colon < 60
        {
            let list_start = colon + lower[colon..].find(':').unwrap_or(0) + 1;
            let list = &lower[list_start..];
            for (name, sector) in CISA_SECTORS {
                if let Some(at) = list.find(name) {
                    let before = list[..at].chars().next_back();
                    let after = list[at + name.len()..].chars().next();
                    if before.is_none_or(|c| !c.is_alphanumeric())
                        && after.is_none_or(|c| !c.is_alphanumeric())
                        && !found.iter().any(|(_, _, s)| s == sector)
                    {
                        let start = line_start + list_start + at;
                        found.push((start, start + name.len(), *sector));
                    }
                }
            }
        }
        line_start += line.len();
    }
    found
}

/// Sector names as a list of a report's targets writes them ("attacks on various sectors,
/// including retail, insurance, and aviation"), read only after such an opening
/// ([`LIST_OPENINGS`]): alone, "insurance" or "technology" is a claim or a product.
const LISTED_NAMES: &[(&str, &str)] = &[
    ("insurance", "Insurance"),
    ("aviation", "Civil Aviation"),
    ("airlines", "Civil Aviation"),
    ("finance", "Finance"),
    ("financial", "Finance"),
    ("banking", "Finance"),
    ("education", "Education"),
    ("higher education", "Higher education"),
    ("legal", "Legal"),
    ("hospitality", "Hospitality"),
    ("retail", "Retail"),
    ("healthcare", "Health"),
    ("health care", "Health"),
    ("manufacturing", "Manufacturing"),
    ("technology", "Technology"),
    ("telecommunications", "Telecoms"),
    ("telecom", "Telecoms"),
    ("shipping", "Shipping"),
    ("maritime", "Maritime"),
    ("logistics", "Logistic"),
    ("construction", "Construction"),
    ("agriculture", "Agriculture"),
    ("mining", "Mining"),
    ("media", "News - Media"),
    ("entertainment", "Entertainment"),
    ("gaming", "Game"),
    ("pharmaceutical", "Pharmacy"),
    ("pharmaceuticals", "Pharmacy"),
    ("utilities", "Energy"),
    ("oil and gas", "Oil"),
    ("defense", "Defense"),
    ("government", "Government, Administration"),
];

/// What opens a list of sectors in a sentence; the list runs to the end of the sentence.
const LIST_OPENINGS: &[&str] = &[
    "sectors, including",
    "sectors including",
    "sectors such as",
    "sectors like",
    "sectors, such as",
    "industries, including",
    "industries including",
    "industries such as",
    "industries, such as",
    "industries like",
    "verticals, including",
    "verticals including",
    "verticals such as",
    "verticals like",
];

/// Words an item of a sector list may have beside its sector names ("and especially
/// Healthcare and Public Health", "but not limited to").
const LIST_FILLERS: &[&str] = &[
    "and",
    "or",
    "the",
    "especially",
    "including",
    "but",
    "not",
    "limited",
    "to",
    "other",
    "others",
    "various",
    "sector",
    "sectors",
    "industry",
    "industries",
    "organizations",
    "companies",
    "firms",
    "providers",
    "also",
    "in",
    "of",
];

/// What closes a list of sectors written before it ("in the communications, manufacturing,
/// and education sectors"); the list runs back to the start of the sentence.
const LIST_CLOSINGS: &[&str] = &[" sectors", " industries"];

/// The most bytes of a sentence read as one list.
const LIST_SPAN: usize = 300;

/// The most lists read in one text: a report has a few; a text made of "sectors" repeated
/// must not cost a list each.
const MAX_LISTS: usize = 200;

/// The sectors of a list in a sentence, with where each name starts: after an opening of
/// [`LIST_OPENINGS`] up to the sentence's end, or before a closing of [`LIST_CLOSINGS`] back
/// to its start. The list is read item by item (between commas) from its opening or its
/// closing, and ends at the first item with more than two words beside its sector names and
/// [`LIST_FILLERS`]: "sectors, such as International Atomic Energy Agency (IAEA) and nuclear
/// doctrines" lists themes, not sectors.
fn sectors_in_lists(text: &str) -> Vec<(usize, usize, &'static str)> {
    let mut names: Vec<(&str, &'static str)> =
        LISTED_NAMES.iter().chain(CISA_SECTORS).copied().collect();
    // Longest first, so that "information technology" is one name, not "technology" too.
    names.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(b.0)));
    let mut found: Vec<(usize, usize, &'static str)> = Vec::new();
    let mut line_start = 0;
    let mut lists = 0;
    for line in text.split_inclusive('\n') {
        if lists >= MAX_LISTS {
            break;
        }
        let lower = line.to_lowercase();
        // Offsets of the lower-cased line are the line's own only when lower-casing kept
        // every length (as for the labelled lines above).
        if lower.len() == line.len() {
            for opening in LIST_OPENINGS {
                for (at, _) in lower.match_indices(opening).take(MAX_LISTS - lists) {
                    lists += 1;
                    let list_start = at + opening.len();
                    let rest = &lower[list_start..];
                    let list_end = [". ", ".\n", ";"]
                        .iter()
                        .filter_map(|e| rest.find(e))
                        .min()
                        .unwrap_or(rest.len())
                        .min(rest.floor_char_boundary(LIST_SPAN));
                    let items = list_items(&rest[..list_end], list_start);
                    read_list(&names, items, false, line_start, &mut found);
                }
            }
            for closing in LIST_CLOSINGS {
                for (at, _) in lower.match_indices(closing).take(MAX_LISTS - lists) {
                    lists += 1;
                    let before = &lower[..at];
                    let from = before.ceil_char_boundary(at.saturating_sub(LIST_SPAN));
                    let sentence_start = [". ", ";", ":"]
                        .iter()
                        .filter_map(|e| before[from..].rfind(e).map(|p| from + p + e.len()))
                        .max()
                        .unwrap_or(from);
                    let mut items = list_items(&before[sentence_start..], sentence_start);
                    items.reverse();
                    read_list(&names, items, true, line_start, &mut found);
                }
            }
        }
        line_start += line.len();
    }
    found.sort();
    found.dedup_by_key(|f| f.0);
    found
}

/// The comma-separated items of `list`, with their offsets (`list` starts at `offset`).
fn list_items(list: &str, offset: usize) -> Vec<(usize, &str)> {
    let mut at = offset;
    list.split(',')
        .map(|item| {
            let start = at;
            at += item.len() + 1;
            (start, item)
        })
        .collect()
}

/// Reads `items` in order, adding the sectors each names to `found` (offsets from
/// `line_start`), up to the first item that is more than sector names and fillers. Read
/// `backward` (from a closing word), the words before an item's first name are the sentence's
/// own ("the campaign targeted organizations in the communications"): they end the list after
/// that item instead of before it.
fn read_list(
    names: &[(&str, &'static str)],
    items: Vec<(usize, &str)>,
    backward: bool,
    line_start: usize,
    found: &mut Vec<(usize, usize, &'static str)>,
) {
    for (item_at, item) in items {
        let mut taken: Vec<(usize, usize, &'static str)> = Vec::new();
        for (name, sector) in names {
            for (pos, _) in item.match_indices(name) {
                let end = pos + name.len();
                let before = item[..pos].chars().next_back();
                let after = item[end..].chars().next();
                if before.is_none_or(|c| !c.is_alphanumeric())
                    && after.is_none_or(|c| !c.is_alphanumeric())
                    && !taken.iter().any(|(s, e, _)| pos < *e && *s < end)
                {
                    taken.push((pos, end, sector));
                }
            }
        }
        taken.sort();
        let words = |gap: &str| {
            gap.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty() && !LIST_FILLERS.contains(w))
                .count()
        };
        let mut gaps = Vec::new();
        let mut last = 0;
        for (s, e, _) in &taken {
            gaps.push(&item[last..*s]);
            last = *e;
        }
        gaps.push(&item[last..]);
        let preamble = if backward && !taken.is_empty() {
            words(gaps.remove(0))
        } else {
            0
        };
        if gaps.into_iter().map(words).sum::<usize>() > 2 {
            break;
        }
        for (s, e, sector) in taken {
            found.push((line_start + item_at + s, line_start + item_at + e, sector));
        }
        if preamble > 2 {
            break;
        }
    }
}

/// Words of a sentence that says a sector is attacked or affected, not just named (lower case).
const TARGETING: &[&str] = &[
    "target",
    "victim",
    "attack",
    "compromis",
    "breach",
    "affect",
    "impact",
    "hit ",
    "against",
    "infect",
    "extort",
    "intrusion",
    "exploit",
    "sectors:",
    "sector:",
    "deployed",
    "ransom",
    "disrupt",
    "struck",
    "were hit",
    "focus",
];

/// Words that, joined to a sector word, make it the actor's sponsor, not a victim
/// ("Iranian government-sponsored actors", "military-linked hackers").
const SPONSORSHIP: &[&str] = &[
    "sponsored",
    "backed",
    "linked",
    "affiliated",
    "aligned",
    "directed",
    "funded",
    "nexus",
];

/// Whether the text right after a sector word makes that word a sponsor: a hyphen or one space,
/// then a word of [`SPONSORSHIP`].
fn names_a_sponsor(after: &str) -> bool {
    let Some(rest) = after.strip_prefix(['-', ' ']) else {
        return false;
    };
    let word_end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    SPONSORSHIP
        .iter()
        .any(|w| rest[..word_end].eq_ignore_ascii_case(w))
}

/// Whether one of the sentences naming a sector says it is targeted or affected.
fn is_targeted(sector: &Entity) -> bool {
    sector.evidence.iter().any(|q| {
        let lower = q.text.to_lowercase();
        // A sentence on what actors spare targets none of its sectors ("ransomware affiliates
        // avoid targeting healthcare facilities, K-12 educational institutions", a TRAM
        // report on a crew's rules).
        !SPARED.iter().any(|w| lower.contains(w)) && TARGETING.iter().any(|w| lower.contains(w))
    })
}

/// Phrases that say the sectors of a sentence are spared.
const SPARED: &[&str] = &[
    "avoid targeting",
    "avoids targeting",
    "avoided targeting",
    "refrain from targeting",
    "refrains from targeting",
    "not to target",
    "do not target",
    "does not target",
    "did not target",
    "never target",
    "prohibit attacks on",
    "prohibits attacks on",
    "forbid attacks on",
    "forbids attacks on",
];

/// The entity dictionaries, built once per knowledge base.
pub struct EntityIndex {
    /// Each spelling of a name → the name in `info`.
    names: Dictionary<usize>,
    info: Vec<Name>,
    /// KEV products named by an ordinary word ([`GENERIC_PRODUCTS`]) → their vendors, one of
    /// which must be written just before the product.
    vendors_of: BTreeMap<String, Vec<String>>,
    sectors: AhoCorasick,
}

impl std::fmt::Debug for EntityIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntityIndex")
            .field("names", &self.info.len())
            .field("spellings", &self.names.len())
            .finish()
    }
}

/// An actor's name ending in its kind word ("Lazarus Group", "Sandworm Team") with that word in
/// lower case; `None` for other names.
fn kind_in_lower_case(name: &str) -> Option<String> {
    let (head, kind) = name.rsplit_once(' ')?;
    ["Group", "Team", "Gang"]
        .contains(&kind)
        .then(|| format!("{head} {}", kind.to_lowercase()))
}

impl EntityIndex {
    /// Indexes the names and aliases of `kb`.
    pub fn new(kb: &KnowledgeBase) -> Self {
        // Each name once, and each spelling of it pointing at it.
        let mut info: Vec<Name> = Vec::new();
        let mut spellings: Vec<(String, usize)> = Vec::new();
        let mut add = |spelt: &mut dyn Iterator<Item = &str>, name: Name| {
            let actor = name.kind == Kind::Actor;
            info.push(name);
            for spelling in spelt.filter(|s| s.chars().count() >= 4) {
                spellings.push((spelling.to_owned(), info.len() - 1));
                // Reports write an actor's kind word in lower case: "the Lazarus group",
                // "Sandworm team".
                if let Some(lowered) = actor.then(|| kind_in_lower_case(spelling)).flatten() {
                    spellings.push((lowered, info.len() - 1));
                }
            }
        };
        let catalog = kb.catalog();
        let mut group_names: std::collections::HashMap<String, &ctiforge_kb::Group> =
            std::collections::HashMap::new();
        for group in catalog
            .groups
            .iter()
            .filter(|g| !g.revoked && !g.deprecated)
        {
            for name in std::iter::once(&group.name).chain(&group.aliases) {
                group_names.entry(name.to_lowercase()).or_insert(group);
            }
        }
        for group in catalog
            .groups
            .iter()
            .filter(|g| !g.revoked && !g.deprecated)
        {
            let name = Name {
                kind: Kind::Actor,
                canonical: group.name.clone(),
                id: Some(group.id.clone()),
                stix_id: Some(group.stix_id.clone()),
                source: "attack",
            };
            add(
                &mut std::iter::once(&group.name)
                    .chain(&group.aliases)
                    .map(String::as_str),
                name,
            );
        }
        for cluster in catalog.galaxy_clusters.iter() {
            match cluster.galaxy.as_str() {
                "threat-actor" => {
                    // Linked to an ATT&CK group (by UUID, else by a shared name): report it
                    // under the group.
                    let group = cluster
                        .attack_ids
                        .iter()
                        .find_map(|id| kb.group(id))
                        .or_else(|| {
                            std::iter::once(&cluster.value)
                                .chain(&cluster.synonyms)
                                .find_map(|n| group_names.get(&n.to_lowercase()).copied())
                        });
                    let name = Name {
                        kind: Kind::Actor,
                        canonical: group.map_or_else(|| cluster.value.clone(), |g| g.name.clone()),
                        id: group.map(|g| g.id.clone()),
                        stix_id: group.map(|g| g.stix_id.clone()),
                        source: if group.is_some() {
                            "attack"
                        } else {
                            "misp:threat-actor"
                        },
                    };
                    add(
                        &mut std::iter::once(&cluster.value)
                            .chain(&cluster.synonyms)
                            .map(String::as_str),
                        name,
                    );
                }
                "country" => {
                    // The cluster value is lower case (`united arab emirates`); reports spell
                    // country names in title case.
                    let spelt = title_case(&cluster.value);
                    let everyday = COUNTRY_SPELLINGS
                        .iter()
                        .filter(|(value, _)| *value == cluster.value)
                        .flat_map(|(_, spellings)| spellings.iter().copied());
                    add(
                        &mut std::iter::once(spelt.as_str()).chain(everyday),
                        Name {
                            kind: Kind::Country,
                            canonical: spelt.clone(),
                            id: None,
                            stix_id: None,
                            source: "misp:country",
                        },
                    );
                }
                _ => {}
            }
        }
        for software in catalog
            .software
            .iter()
            .filter(|s| !s.revoked && !s.deprecated)
        {
            let name = Name {
                kind: match software.kind {
                    SoftwareKind::Malware => Kind::Malware,
                    SoftwareKind::Tool => Kind::Tool,
                },
                canonical: software.name.clone(),
                id: Some(software.id.clone()),
                stix_id: Some(software.stix_id.clone()),
                source: "attack",
            };
            add(
                &mut std::iter::once(&software.name)
                    .chain(&software.aliases)
                    .map(String::as_str),
                name,
            );
        }
        for campaign in catalog
            .campaigns
            .iter()
            .filter(|c| !c.revoked && !c.deprecated)
        {
            let name = Name {
                kind: Kind::Campaign,
                canonical: campaign.name.clone(),
                id: Some(campaign.id.clone()),
                stix_id: Some(campaign.stix_id.clone()),
                source: "attack",
            };
            add(
                &mut std::iter::once(&campaign.name)
                    .chain(&campaign.aliases)
                    .map(String::as_str),
                name,
            );
        }
        let mut products: BTreeMap<&str, ()> = BTreeMap::new();
        let mut vendors_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in &catalog.kev {
            // KEV writes a few names with a trailing space (`Windows `).
            let (vendor, product) = (entry.vendor.trim(), entry.product.trim());
            products.insert(vendor, ());
            products.insert(product, ());
            if GENERIC_PRODUCTS.contains(&product) {
                let vendors = vendors_of.entry(product.to_owned()).or_default();
                if !vendors.iter().any(|v| v == vendor) {
                    vendors.push(vendor.to_owned());
                }
            }
        }
        for product in products.keys() {
            add(
                &mut std::iter::once(*product),
                Name {
                    kind: Kind::Product,
                    canonical: (*product).to_owned(),
                    id: None,
                    stix_id: None,
                    source: "kev",
                },
            );
        }
        let names = Dictionary::new(spellings);
        let sectors = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(SECTORS.iter().map(|(word, _)| word))
            .expect("a small constant table");
        Self {
            names,
            info,
            vendors_of,
            sectors,
        }
    }

    /// The entities of `text`, whose sentences are `sentences`.
    pub fn find(&self, text: &str, sentences: &[Span]) -> Entities {
        type Key = (Kind, String);
        let mut found: BTreeMap<Key, Entity> = BTreeMap::new();
        let mut pending: BTreeMap<Key, usize> = BTreeMap::new();
        let bytes = text.as_bytes();
        let boundary = |start: usize, end: usize| {
            (start == 0 || !bytes[start - 1].is_ascii_alphanumeric())
                && (end == bytes.len() || !bytes[end].is_ascii_alphanumeric())
        };
        for (start, end, &name) in self.names.find(text) {
            let name = &self.info[name];
            let Some(written) = text.get(start..end) else {
                continue;
            };
            if let Some(vendors) = self.vendors_of.get(&name.canonical)
                && name.kind == Kind::Product
                && !vendors
                    .iter()
                    .any(|v| text[..start].trim_end_matches(' ').ends_with(v.as_str()))
            {
                continue;
            }
            if is_a_word_not_the_command(written, &text[..start], &text[end..]) {
                continue;
            }
            let named_thing = !matches!(name.kind, Kind::Country | Kind::Product);
            if named_thing && looks_like_a_plain_word(written) && starts_a_longer_name(&text[end..])
            {
                continue;
            }
            let quote = quote_at(text, sentences, start);
            // A one-word name spelt like an ordinary word (`Silence`, `Platinum`, `Ping`)
            // needs context: a word for its kind in the same sentence, or a second mention.
            // Group names are often ordinary words; software names rarely are, except where
            // any word is capitalised: at the start of a sentence.
            let plain = looks_like_a_plain_word(written)
                && match name.kind {
                    Kind::Actor | Kind::Campaign => true,
                    _ => quote.as_ref().is_some_and(|q| q.start == start),
                };
            let cued = quote.as_ref().is_some_and(|q| has_cue(name.kind, &q.text));
            if plain && !cued {
                let key = (name.kind, name.canonical.clone());
                let seen = pending.entry(key).or_insert(0);
                *seen += 1;
                if *seen < 2 {
                    continue;
                }
            }
            let entity = found
                .entry((name.kind, name.canonical.clone()))
                .or_insert_with(|| Entity {
                    name: name.canonical.clone(),
                    id: name.id.clone(),
                    stix_id: name.stix_id.clone(),
                    source: name.source.to_owned(),
                    mentions: Vec::new(),
                    evidence: Vec::new(),
                });
            entity.note(written, quote);
        }
        let mut sectors: BTreeMap<&str, Entity> = BTreeMap::new();
        let dictionary = self
            .sectors
            .find_iter(text)
            .filter(|m| boundary(m.start(), m.end()) && !names_a_sponsor(&text[m.end()..]))
            .map(|m| (m.start(), m.end(), SECTORS[m.pattern().as_usize()].1));
        let listed = listed_sectors(text)
            .into_iter()
            .chain(sectors_in_lists(text));
        for (start, end, sector) in dictionary.chain(listed) {
            let entity = sectors.entry(sector).or_insert_with(|| Entity {
                name: sector.to_owned(),
                id: None,
                stix_id: None,
                source: "ctiforge".to_owned(),
                mentions: Vec::new(),
                evidence: Vec::new(),
            });
            entity.note(&text[start..end], quote_at(text, sentences, start));
        }
        let sectors: Vec<Entity> = sectors.into_values().collect();
        let mut entities = Entities {
            targeted_sectors: sectors.iter().filter(|s| is_targeted(s)).cloned().collect(),
            sectors,
            ..Entities::default()
        };
        for ((kind, _), entity) in found {
            match kind {
                Kind::Actor => entities.threat_actors.push(entity),
                Kind::Malware => entities.malware.push(entity),
                Kind::Tool => entities.tools.push(entity),
                Kind::Campaign => entities.campaigns.push(entity),
                Kind::Country => entities.countries.push(entity),
                Kind::Product => entities.products.push(entity),
            }
        }
        entities
    }
}

/// Words that say a sentence is about an actor, a piece of software or a campaign.
fn has_cue(kind: Kind, sentence: &str) -> bool {
    let lower = sentence.to_lowercase();
    let cues: &[&str] = match kind {
        Kind::Actor | Kind::Campaign => &[
            "group",
            "actor",
            "apt",
            "threat",
            "campaign",
            "operation",
            "operators",
            "attributed",
            "hackers",
            "gang",
            "affiliate",
            "intrusion set",
            "cluster",
        ],
        Kind::Malware | Kind::Tool => &[
            "malware",
            "tool",
            "backdoor",
            "trojan",
            "ransomware",
            "loader",
            "implant",
            "payload",
            "rat",
            "stealer",
            "utility",
            "dropper",
            "botnet",
            "framework",
            "beacon",
        ],
        Kind::Country | Kind::Product => return true,
    };
    lower
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| cues.contains(&word))
        || cues
            .iter()
            .any(|cue| cue.contains(' ') && lower.contains(cue))
}

/// KEV products named by an ordinary word: a product only after its vendor ("Adobe Reader",
/// "VMware Tools", "Linux Kernel", "Microsoft Project"), not in "Remote Desktop", "Disable or
/// Modify Tools", "the ATT&CK Framework" or "The LaZagne Project".
const GENERIC_PRODUCTS: &[&str] = &[
    "Auditor",
    "Compact",
    "Controllers",
    "Core",
    "Desktop",
    "Director",
    "Firewall",
    "Framework",
    "Frontend",
    "Helpdesk",
    "Ignition",
    "Kernel",
    "Pixel",
    "Project",
    "Publisher",
    "Reader",
    "Routers",
    "Sense",
    "Tools",
    "Viewer",
    "Webmail",
];

/// Capitalised words that may follow a name in a heading or title without making a longer
/// name of it ("Royal Ransomware", "Conti Team One", "the Conti Leaks").
const KIND_WORDS: &[&str] = &[
    "Ransomware",
    "Malware",
    "RAT",
    "Backdoor",
    "Loader",
    "Stealer",
    "Infostealer",
    "Trojan",
    "Botnet",
    "Wiper",
    "Implant",
    "Beacon",
    "Team",
    "Group",
    "Gang",
    "Actors",
    "Affiliates",
    "Operators",
    "Leaks",
    "APT",
];

/// Whether the text after a one-word name goes on with another capitalised word, so that
/// the name is the first word of a longer one: "the Royal Road malicious document builder",
/// "VMware's Carbon Black", "thank Kevin Henry" (ATT&CK's Royal, Carbon and Kevin).
fn starts_a_longer_name(after: &str) -> bool {
    let Some(rest) = after.strip_prefix(' ') else {
        return false;
    };
    let next: &str = rest
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    next.starts_with(|c: char| c.is_uppercase())
        && next.chars().any(|c| c.is_lowercase())
        && !KIND_WORDS.contains(&next)
}

/// `Ping`, `Expand`: one capitalised word that any sentence could start with.
/// ATT&CK software named by a lower-case English word: in prose the word ("the actors route
/// traffic through routers", "along the BRI route", a file `route-null.exe`), so only a
/// command line or the program's file names it.
const WORD_COMMANDS: &[(&str, &[&str])] = &[("route", &["print", "add", "delete", "change"])];

/// Whether `written` is one of [`WORD_COMMANDS`] used as a word: not followed by `.exe`, an
/// option or one of its subcommands, nor written as code (in backticks).
fn is_a_word_not_the_command(written: &str, before: &str, after: &str) -> bool {
    let Some((_, subcommands)) = WORD_COMMANDS.iter().find(|(w, _)| *w == written) else {
        return false;
    };
    if after.starts_with(".exe") || before.ends_with('`') {
        return false;
    }
    let Some(rest) = after.strip_prefix(' ') else {
        return true;
    };
    let option = rest.starts_with(['-', '/']) && rest.len() > 1 && !rest[1..].starts_with(' ');
    let next = rest
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    !option && !subcommands.iter().any(|s| next.eq_ignore_ascii_case(s))
}

fn looks_like_a_plain_word(written: &str) -> bool {
    let mut chars = written.chars();
    chars.next().is_some_and(char::is_uppercase) && chars.all(|c| c.is_ascii_lowercase())
}

/// How reports name countries whose MISP cluster value is another spelling: (cluster value,
/// everyday spellings). Spellings shorter than four characters (`USA`, `UK`) are not matched
/// at all (see `add`), so they are not listed.
const COUNTRY_SPELLINGS: &[(&str, &[&str])] = &[
    ("united states of america", &["United States", "U.S."]),
    ("czechia", &["Czech Republic"]),
    ("turkey", &["Türkiye"]),
    ("myanmar", &["Burma"]),
    ("palestinian territory", &["Palestine"]),
];

fn title_case(value: &str) -> String {
    value
        .split(' ')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) if !matches!(word, "and" | "of" | "the") => {
                    first.to_uppercase().chain(chars).collect()
                }
                _ => word.to_owned(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_labelled_sector_line_names_each_listed_sector_once() {
        let text = "Background\n- CRITICAL INFRASTRUCTURE SECTORS: Chemical, Energy, Dams, Energy\nThe energy of the team was high.\n";
        let found: Vec<(&str, &str)> = listed_sectors(text)
            .into_iter()
            .map(|(start, end, sector)| (&text[start..end], sector))
            .collect();
        assert_eq!(
            found,
            [
                ("Energy", "Energy"),
                ("Chemical", "Chemical"),
                ("Dams", "Dams")
            ]
        );
        // Unlabelled prose names no sector by these words alone.
        assert!(listed_sectors("Energy and chemical engineering.").is_empty());
    }

    /// The entities of `text`, read as one sentence.
    fn entities_in(text: &str) -> Entities {
        let kb = ctiforge_kb::KnowledgeBase::embedded().expect("the embedded snapshot loads");
        let sentences = [Span {
            start: 0,
            end: text.len(),
        }];
        EntityIndex::new(&kb).find(text, &sentences)
    }

    fn sectors_in(text: &str) -> Vec<String> {
        entities_in(text)
            .sectors
            .into_iter()
            .map(|s| s.name)
            .collect()
    }

    #[test]
    fn a_sponsor_is_not_a_sector() {
        // The 2023 write-ups of the Unitronics PLC defacements: the government sponsors the
        // actors; the victims are water utilities.
        let text = "The advisory attributed the attacks to Iranian government-sponsored actors \
            who defaced controllers at a water utility.";
        assert_eq!(sectors_in(text), ["Water"]);
        assert!(sectors_in("Military-linked hackers and state backed groups.").is_empty());
        // The victim of AA22-320A, which names its attackers "government-sponsored" and its
        // victim only by the federal branch.
        assert_eq!(
            sectors_in(
                "Iranian government-sponsored APT actors compromised the FCEB network of a \
                 Federal Civilian Executive Branch organization."
            ),
            ["Government, Administration"]
        );
        // A sector word with a hyphen or space before another word is still the sector.
        assert_eq!(
            sectors_in("The actors breached government networks and a government-run hospital."),
            ["Government, Administration", "Health"]
        );
    }

    #[test]
    fn the_sectors_of_help_desk_intrusions_are_named() {
        // An MGM write-up (2023–2025 intrusions by the same group).
        let text = "The group breached casinos in Las Vegas, then UK retailers, then shifted \
                    its targeting to the insurance sector.";
        assert_eq!(sectors_in(text), ["Casino", "Insurance", "Retail"]);
        // Insurance as a word of something else: a claim, a ransom note's threat.
        assert!(
            sectors_in("The outage stopped insurance claims. Your insurance company will not pay.")
                .is_empty()
        );
    }

    #[test]
    fn a_list_of_sectors_names_each_and_what_actors_spare_is_not_targeted() {
        // A Scattered Spider write-up (read 2026-12-08).
        let text = "The collective has intensified its attacks on various sectors, including \
                    retail, insurance, and aviation, across multiple countries. Insurance \
                    claims rose.";
        let found = entities_in(text);
        let names = |list: &[Entity]| list.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&found.sectors),
            ["Civil Aviation", "Insurance", "Retail"]
        );
        assert_eq!(names(&found.targeted_sectors), names(&found.sectors));
        // Outside such a list the bare words name nothing.
        assert!(sectors_in("The technology helps insurance and aviation customers.").is_empty());
        // A list cut short by the sentence's end, and one without an end on a long line.
        assert_eq!(
            sectors_in("It hit industries such as shipping. Construction firms were spared."),
            ["Shipping"]
        );
        // A list before its closing word (a Volt Typhoon write-up, read 2026-12-08).
        assert_eq!(
            sectors_in(
                "The campaign targeted organizations in the communications, manufacturing, \
                 maritime, government, information technology, and education sectors."
            ),
            [
                "Education",
                "Government, Administration",
                "IT",
                "Manufacturing",
                "Maritime",
                "Telecoms"
            ]
        );
        assert!(
            sectors_in("Some said the attack on the victim's network hit other sectors.")
                .is_empty()
        );
        let long = format!("Industries like mining{}é", " and mining".repeat(60));
        assert_eq!(sectors_in(&long), ["Mining"]);
        // A name inside a longer one is one sector; themes after "such as" are no list.
        assert_eq!(
            sectors_in(
                "They target critical infrastructure sectors, including Information \
                 Technology, and especially Healthcare and Public Health (HPH)."
            ),
            ["Health", "IT"]
        );
        assert!(
            sectors_in(
                "The lure suits governmental and energy sectors, such as International Atomic \
                 Energy Agency (IAEA) and nuclear doctrines."
            )
            .iter()
            .all(|s| s != "Nuclear")
        );
        // A ransomware crew's rules (a TRAM report): sectors it avoids are named, not targeted.
        let spared = entities_in(
            "Generally, ransomware affiliates avoid targeting hospitals and K-12 educational \
             institutions.",
        );
        assert_eq!(names(&spared.sectors), ["Education", "Health"]);
        assert!(spared.targeted_sectors.is_empty());
    }

    #[test]
    fn route_the_word_is_not_route_the_command() {
        for prose in [
            "Second, the actors route command and control traffic through SOHO routers.",
            "China has conducted numerous intrusion campaigns along the BRI route.",
            "The files were sysconfig.bin and route-null.exe.",
        ] {
            assert!(entities_in(prose).tools.is_empty(), "{prose}");
        }
        for command in [
            "The actor ran route print to list the routes.",
            "They executed route.exe and ipconfig.",
            "It then runs route -n on the host.",
        ] {
            let tools = entities_in(command).tools;
            assert!(
                tools.iter().any(|t| t.name == "route"),
                "{command}: {tools:?}"
            );
        }
    }

    fn names_in(text: &str) -> Vec<(String, String)> {
        let found = entities_in(text);
        let labelled = [
            ("actor", &found.threat_actors),
            ("tool", &found.tools),
            ("malware", &found.malware),
            ("product", &found.products),
            ("country", &found.countries),
        ];
        labelled
            .into_iter()
            .flat_map(|(kind, list)| list.iter().map(move |e| (kind.to_owned(), e.name.clone())))
            .collect()
    }

    #[test]
    fn a_name_that_is_the_first_word_of_a_longer_one_is_not_that_name() {
        // ATT&CK's Royal, Carbon and Equation, inside other names (TRAM reports).
        let text = "The group uses the Royal Road document builder. VMware's Carbon Black team \
                    saw it. The payload carries an Equation Editor exploit.";
        let found = names_in(text);
        for name in ["Royal", "Carbon", "Equation"] {
            assert!(!found.iter().any(|(_, n)| n == name), "{name} in {found:?}");
        }
        // A product named by an ordinary word only after its vendor.
        let found = names_in("They used Remote Desktop and Disable or Modify Tools.");
        assert!(
            !found.iter().any(|(kind, _)| kind == "product"),
            "{found:?}"
        );
        let found = names_in("The flaw is in VMware Tools.");
        assert!(
            found.contains(&("product".to_owned(), "Tools".to_owned())),
            "{found:?}"
        );
        // A heading's kind word keeps the name; so does a vendor before its product.
        let found = names_in("Royal Ransomware Targets Schools. Microsoft Exchange was hit.");
        assert!(
            found.contains(&("malware".to_owned(), "Royal".to_owned())),
            "{found:?}"
        );
        assert!(found.iter().any(|(kind, _)| kind == "product"), "{found:?}");
    }

    #[test]
    fn an_actor_whose_kind_word_is_written_in_lower_case_is_the_known_actor() {
        // ATT&CK's Lazarus Group and Sandworm Team, as write-ups spell them.
        let found = names_in("The Lazarus group and the Sandworm team both used wipers.");
        for name in ["Lazarus Group", "Sandworm Team"] {
            assert!(
                found.contains(&("actor".to_owned(), name.to_owned())),
                "{name} in {found:?}"
            );
        }
        // Only the kind word; the rest of the name keeps its case.
        assert!(names_in("the lazarus group").is_empty());
    }

    #[test]
    fn kev_names_written_with_a_trailing_space_are_found_as_written_in_prose() {
        // KEV writes `Windows ` for one product; as a pattern it hid every `Windows` that a
        // word followed.
        assert_eq!(
            names_in("The group dropped a Windows executable with Cobalt Strike."),
            [
                ("malware".to_owned(), "Cobalt Strike".to_owned()),
                ("product".to_owned(), "Windows".to_owned())
            ]
        );
    }

    #[test]
    fn countries_are_found_as_reports_name_them() {
        // IOCONTROL's write-up: "in the United States and Israel" gave only Israel (MISP's
        // value is `united states of america`).
        let found =
            names_in("It targets OT systems in the United States and Israel, the U.S. and Burma.");
        assert_eq!(
            found,
            [
                ("country".to_owned(), "Israel".to_owned()),
                ("country".to_owned(), "Myanmar".to_owned()),
                ("country".to_owned(), "United States of America".to_owned()),
            ]
        );
    }

    #[test]
    fn a_name_glued_to_the_next_cell_of_a_table_gives_nothing_shorter() {
        // `Cobalt` alone is an alias of the Cobalt Group.
        let glued = names_in("It ran: Cobalt StrikeT1059 - Command And Scripting");
        assert!(glued.is_empty(), "{glued:?}");
    }
}
