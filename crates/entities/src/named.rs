//! Adversaries and malware a report names that the knowledge base does not know, read from
//! how reports introduce them: "the Frostbyte ransomware", "Frostbyte actors", "the
//! Frostbyte group", and their alias lists ("Frostbyte, also known as Icefang and Rimeclaw").
//! Each is kept with `source` `report` so a reader can tell it from a knowledge-base match.

use std::sync::LazyLock;

use ctiforge_model::Span;
use ctiforge_model::analysis::{Entities, Entity};
use regex::Regex;

use crate::quote_at;

/// A capitalised name of one to three words (letters, digits, inner `-` or `.`), captured as
/// `name`.
const NAME: &str = r"(?P<name>[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*(?: [A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*){0,2})";

/// A capitalised name of one to three words, then what it is. ASCII word boundaries (the name
/// is ASCII): a Unicode `\b` makes the regex engine fall back to its slowest search on text
/// with any non-ASCII letter, 3 ms on a 50 KB report.
static INTRODUCED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?-u:\b){NAME} (?P<what>ransomware|malware|backdoor|trojan|loader|stealer|infostealer|botnet|wiper|rootkit|implant|RAT|(?:threat )?actors?|group|gang|crew|operators|affiliates|APT)(?-u:\b)",
    ))
    .expect("a valid pattern")
});

/// "a new malware named X", "a backdoor dubbed X", "a group tracked as X": the kind, then a
/// naming verb, then the name — how news and vendor write-ups introduce a new family or group.
/// Not `called`: "the loader called Windows APIs" is a program calling functions.
static CALLED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?-u:\b)(?P<what>ransomware|malware|backdoor|trojan|loader|stealer|infostealer|botnet|wiper|rootkit|implant|RAT|spyware|(?:threat )?actors?|group|gang|crew) (?:named|dubbed|codenamed|code-named|nicknamed|tracked as) {NAME}(?-u:\b)",
    ))
    .expect("a valid pattern")
});

/// "X is a worm", "X, based on Mirai (…), is a worm infecting IoT devices": a name said to be
/// a kind of malware, with at most one clause between them and three describing words before
/// the kind.
static SAID_TO_BE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?-u:\b){NAME}(?:, [^,.;\n]{{1,80}},)? is (?:a|an) (?:[a-z][a-z-]* ){{0,3}}(?:worm|botnet|backdoor|trojan|loader|dropper|downloader|stealer|infostealer|wiper|rootkit|implant|RAT|ransomware|remote access trojan|malware (?:family|strain|variant))(?-u:\b)",
    ))
    .expect("a valid pattern")
});

/// "X, also known as Y, Z and W" / "X (aka Y)": the aliases after the cue, up to the end of
/// the clause and at most [`ALIAS_LIST`] characters (cut in code: a bounded repetition of a
/// Unicode class made this the costliest pattern to compile, 2.4 ms of every start).
static ALIASES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:also known as|a\.k\.a\.?|aka|also tracked as|also called|tracked as)\s+(?P<list>[^.;:()\n]{2,})",
    )
    .expect("a valid pattern")
});

pub(crate) fn warm_up() {
    LazyLock::force(&INTRODUCED);
    LazyLock::force(&CALLED);
    LazyLock::force(&SAID_TO_BE);
    LazyLock::force(&ALIASES);
}

/// The longest list of aliases read after a cue, in characters.
const ALIAS_LIST: usize = 200;

/// Capitalised words that start a sentence or describe rather than name.
const NOT_NAMES: &[&str] = &[
    // File kinds: "the DLL is a loader".
    "DLL",
    "EXE",
    "LNK",
    "ISO",
    "PDF",
    "ZIP",
    "RAR",
    "MSI",
    "HTA",
    "VBS",
    "ELF",
    "APK",
    "IMG",
    "Payload",
    "Sample",
    "File",
    "The",
    "This",
    "These",
    "That",
    "Those",
    "A",
    "An",
    "Our",
    "Their",
    "Its",
    "Such",
    "Other",
    "Some",
    "Many",
    "Most",
    "All",
    "Any",
    "Each",
    "Both",
    "Several",
    "Known",
    "New",
    "Threat",
    "Ransomware",
    "Malware",
    "Cyber",
    "State",
    "Nation",
    "Criminal",
    "Chinese",
    "Russian",
    "Iranian",
    "North",
    "Korean",
    "Unknown",
    "Malicious",
    "Advanced",
    "Persistent",
    "APT",
    "Sponsored",
    "Financially",
    "Motivated",
    "If",
    "When",
    "Once",
    "Although",
    "Though",
    "While",
    "Whereas",
    "Because",
    "Since",
    "Unless",
    "Until",
    "Unlike",
    "Like",
    "However",
    "Moreover",
    "Additionally",
    "Also",
    "Then",
    "Now",
    "Today",
    "Recently",
    "Previously",
    "Currently",
    "Notably",
    "Typically",
    "Usually",
    "During",
    "Despite",
    "Without",
    "Through",
    "Via",
    "Against",
    "Among",
    "Between",
    "After",
    "Before",
    "In",
    "On",
    "For",
    "With",
    "By",
    "From",
    "As",
    "At",
    "Of",
    "To",
    "And",
    "Or",
    "Data",
    "Its",
    "Custom",
    "Open",
    "Source",
    "Commodity",
    "Initial",
    "Access",
    "Multiple",
    "Various",
    "Similar",
    "Same",
    "Affiliated",
    "Affiliate",
    "Suspected",
    "Likely",
    "Unidentified",
    "Government",
    "Private",
    "Public",
    "Healthcare",
    "Health",
    "FBI",
    "CISA",
    "NSA",
    "MS-ISAC",
    "HHS",
    "Microsoft",
    "Google",
    "Mandiant",
    "Cisco",
    "Talos",
    "Unit",
    "CrowdStrike",
    "Sophos",
    "Palo",
    "Alto",
    "Networks",
    "Trend",
    "Micro",
    "Kaspersky",
    "ESET",
    "Symantec",
    "Administrators",
    "Administrator",
    "Users",
    "User",
    "Windows",
    "Domain",
    "Local",
    "Security",
    "Everyone",
    "Guests",
    "Power",
    "Remote",
    "Backup",
    "Operators",
    "Admins",
    "Support",
    // Words of headings and sentence openings that the TRAM reports put before "malware" or
    // "APT" ("Top ransomware families", "Every NUPAKAGE malware", "How do You Combat SYS01
    // stealer?", "Asian APT groups").
    "Every",
    "Example",
    "Top",
    "Main",
    "Current",
    "Modern",
    "Classic",
    "First",
    "Second",
    "Another",
    "Verify",
    "Extracts",
    "You",
    "We",
    "It",
    "They",
    "How",
    "Why",
    "What",
    "Which",
    "Here",
    "There",
    "Asian",
    "Brazilian",
    "Vietnamese",
    "Ukrainian",
    "Turkish",
    "Indian",
    "Pakistani",
    "Israeli",
    "European",
    "American",
    "African",
    "Latin",
    // Microsoft's "DEV-0569" is a whole name; "a DEV group" is none.
    "DEV",
];

/// Words one of which a sentence naming an adversary has (lower case); without one, "X group"
/// is a user group or a company department.
const THREAT_WORDS: &[&str] = &[
    "attack",
    "threat",
    "ransom",
    "actor",
    "intrusion",
    "campaign",
    "compromis",
    "exploit",
    "malicious",
    "hack",
    "adversar",
    "espionage",
    "extort",
    "breach",
    "victim",
    "target",
];

/// Adds what the report names itself: unknown actors and malware, and the aliases it lists
/// for any of them (known or not).
pub fn add_named(entities: &mut Entities, text: &str, sentences: &[Span]) {
    let words = Words::new(text);
    let introduced = INTRODUCED
        .captures_iter(text)
        .chain(CALLED.captures_iter(text));
    for c in introduced {
        let (Some(name), Some(what)) = (c.name("name"), c.name("what")) else {
            continue;
        };
        let Some((start, name)) = trimmed(text, &words, name.start(), name.as_str()) else {
            continue;
        };
        let what = what.as_str().to_lowercase();
        let is_actor = [
            "actor",
            "actors",
            "threat actor",
            "threat actors",
            "group",
            "gang",
            "crew",
            "operators",
            "affiliates",
            "apt",
        ]
        .contains(&what.as_str());
        if known(entities, name) {
            continue;
        }
        let quote = quote_at(text, sentences, start);
        if is_actor
            && !quote.as_ref().is_some_and(|q| {
                let lower = q.text.to_lowercase();
                THREAT_WORDS.iter().any(|w| lower.contains(w))
            })
        {
            continue;
        }
        let list = if is_actor {
            &mut entities.threat_actors
        } else {
            &mut entities.malware
        };
        add(list, name, name, quote);
    }
    for c in SAID_TO_BE.captures_iter(text) {
        let Some(name) = c.name("name") else {
            continue;
        };
        let Some((start, name)) = trimmed(text, &words, name.start(), name.as_str()) else {
            continue;
        };
        if !known(entities, name) {
            let quote = quote_at(text, sentences, start);
            add(&mut entities.malware, name, name, quote);
        }
    }
    for c in ALIASES.captures_iter(text) {
        let (Some(whole), Some(list)) = (c.get(0), c.name("list")) else {
            continue;
        };
        // The entity the aliases belong to: the last one named before the cue in its sentence.
        let Some(quote) = quote_at(text, sentences, whole.start()) else {
            continue;
        };
        let before = &text[quote.start..whole.start()];
        let list = list.as_str();
        let list = list
            .char_indices()
            .nth(ALIAS_LIST)
            .map_or(list, |(end, _)| &list[..end]);
        let aliases: Vec<&str> = list
            .split([',', '/'])
            .flat_map(|part| part.split(" and "))
            .flat_map(|part| part.split(" or "))
            .map(|a| a.trim().trim_matches(['"', '\'', '“', '”']).trim())
            .filter(|a| is_name(a))
            .collect();
        if aliases.is_empty() {
            continue;
        }
        let owner = [&mut entities.threat_actors, &mut entities.malware]
            .into_iter()
            .flat_map(|list| list.iter_mut())
            .filter_map(|e| {
                let at = e
                    .mentions
                    .iter()
                    .chain(std::iter::once(&e.name))
                    .filter_map(|m| before.rfind(m.as_str()))
                    .max()?;
                Some((at, e))
            })
            // The nearest before the cue; on a tie the actor (listed first) owns the aliases.
            .fold(
                None,
                |best: Option<(usize, &mut Entity)>, (at, e)| match best {
                    Some((b, _)) if b >= at => best,
                    _ => Some((at, e)),
                },
            )
            .map(|(_, e)| e);
        if let Some(owner) = owner {
            for alias in aliases {
                if !owner.mentions.iter().any(|m| m == alias) && owner.name != alias {
                    owner.mentions.push(alias.to_owned());
                }
            }
            if !owner.evidence.contains(&quote) && owner.evidence.len() < Entity::MAX_EVIDENCE {
                owner.evidence.push(quote);
            }
        }
    }
}

/// Ransomware brands the knowledge base lists only as threat actors (MISP's threat-actor
/// galaxy has RansomHub, DragonForce…): when the report writes the name as a family ("the
/// DragonForce ransomware", "ransomware families, including RansomHub"), it is malware; when
/// it also writes it as a crew ("RansomHub affiliates"), it is both.
pub fn sort_ransomware(entities: &mut Entities, text: &str) {
    let lower = text.to_lowercase();
    let written_as = |name: &str, after: &[&str]| {
        let name = name.to_lowercase();
        lower.match_indices(&name).any(|(at, _)| {
            let rest = lower[at + name.len()..].trim_start_matches(['"', '\'', ')', ' ']);
            after.iter().any(|w| rest.starts_with(w))
        })
    };
    let mut moved = Vec::new();
    entities.threat_actors.retain(|actor| {
        if actor.source != "misp:threat-actor" {
            return true;
        }
        let names: Vec<&String> = std::iter::once(&actor.name)
            .chain(&actor.mentions)
            .collect();
        let family = names
            .iter()
            .any(|n| written_as(n, &["ransomware", "encryptor", "locker", "variant"]))
            || actor.evidence.iter().any(|q| {
                let l = q.text.to_lowercase();
                [
                    "ransomware families",
                    "ransomware variants",
                    "ransomware strains",
                    "ransomware such as",
                ]
                .iter()
                .any(|w| l.contains(w))
            });
        if !family {
            return true;
        }
        let crew = names.iter().any(|n| {
            written_as(
                n,
                &[
                    "actor",
                    "affiliate",
                    "operator",
                    "group",
                    "gang",
                    "crew",
                    "threat actor",
                ],
            )
        });
        moved.push(actor.clone());
        crew
    });
    for entity in moved {
        if !entities
            .malware
            .iter()
            .any(|m| squeezed(&m.name) == squeezed(&entity.name))
        {
            entities.malware.push(entity);
        }
    }
}

/// The name without leading describing words ("The Frostbyte" → "Frostbyte", "Loading REvil"
/// → "REvil") or trailing platform words ("SimplexTea Linux" → "SimplexTea"); none when
/// nothing of a name is left or the name is two cells of a table glued together
/// ([`is_glued`]). `start` is where `name` stands in `text`.
fn trimmed<'n>(
    text: &str,
    words: &Words<'_>,
    start: usize,
    name: &'n str,
) -> Option<(usize, &'n str)> {
    if name.split(' ').any(|w| is_glued(w) || words.glues_two(w)) || follows_a_name(text, start) {
        return None;
    }
    let mut offset = 0;
    let opens = starts_sentence(text, start);
    let several = name.contains(' ');
    for (i, word) in name.split(' ').enumerate() {
        // Only the first word can be a sentence's capitalised word.
        let first = i == 0;
        if NOT_NAMES.contains(&word)
            || PLATFORM_WORDS.contains(&word)
            || is_describing(word)
            || first && (opens || several) && is_gerund(word)
            || first && opens && words.in_prose(word)
        {
            offset += word.len() + 1;
        } else {
            break;
        }
    }
    let mut rest = name.get(offset..)?.trim();
    while let Some((head, last)) = rest.rsplit_once(' ')
        && PLATFORM_WORDS.contains(&last)
    {
        rest = head;
    }
    (is_name(rest) && !PLATFORM_WORDS.contains(&rest)).then_some((start + offset, rest))
}

/// Languages, platforms and file formats that reports put before or after "malware",
/// "loader" or "backdoor" ("a .NET loader", "the UEFI implant", "PoS malware"): what the
/// malware is written in or runs on, not its name.
const PLATFORM_WORDS: &[&str] = &[
    "NET",
    "Net",
    "PowerShell",
    "JavaScript",
    "VBScript",
    "VBA",
    "Python",
    "Golang",
    "Go-Lang",
    "Delphi",
    "AutoIt",
    "Java",
    "PHP",
    "UEFI",
    "BIOS",
    "MBR",
    "OEM",
    "ATM",
    "PoS",
    "POS",
    "OneNote",
    "Excel",
    "Office",
    "Outlook",
    "Linux",
    "Windows",
    "macOS",
    "Android",
    "WinHTTP",
    "HTTP",
    "DNS",
    "SMB",
    "Mailto",
    "Botnet",
    "Phishing",
    "Fileless",
    "RaaS",
];

/// Two cells of a table or a heading and its sentence run together, as text taken from web
/// pages often has them: a detection name glued to the family (`Win32/Rozena.CPMetasploit`,
/// `Agent.TZGQuasarRAT`), a technique id glued to words (`ImpactT1485Data`), a heading glued
/// to the next sentence's first word (`Command ShellThe`). A family name has no `.` in it.
fn is_glued(word: &str) -> bool {
    let bytes = word.as_bytes();
    let technique_id = bytes.windows(6).any(|w| {
        w[0].is_ascii_alphabetic() && w[1] == b'T' && w[2..].iter().all(u8::is_ascii_digit)
    });
    let glued_article = ["The", "This", "These"].iter().any(|a| {
        word.strip_suffix(a)
            .is_some_and(|head| head.ends_with(|c: char| c.is_ascii_lowercase()))
    });
    word.contains('.') || technique_id || glued_article
}

/// The words of one document, indexed once on first use (each candidate name used to scan
/// the whole text again: quadratic on a long line of sentences).
struct Words<'t> {
    text: &'t str,
    index: std::cell::OnceCell<WordIndex<'t>>,
}

struct WordIndex<'t> {
    /// Every run of letters and digits.
    standing: std::collections::HashSet<&'t str>,
    /// Lower-case words written as prose: after a space, before a space or `, . ; :`.
    prose: std::collections::HashSet<&'t str>,
}

impl<'t> Words<'t> {
    fn new(text: &'t str) -> Self {
        Words {
            text,
            index: std::cell::OnceCell::new(),
        }
    }

    fn index(&self) -> &WordIndex<'t> {
        self.index.get_or_init(|| {
            let text = self.text;
            let mut index = WordIndex {
                standing: std::collections::HashSet::new(),
                prose: std::collections::HashSet::new(),
            };
            let mut at = 0;
            for run in text.split(|c: char| !c.is_alphanumeric()) {
                let end = at + run.len();
                if !run.is_empty() {
                    index.standing.insert(run);
                    let spaced = text[..at].ends_with(' ')
                        && text[end..].starts_with([' ', ',', '.', ';', ':']);
                    if spaced && run.bytes().all(|b| b.is_ascii_lowercase()) {
                        index.prose.insert(run);
                    }
                }
                // The separator is one character.
                at = end + text[end..].chars().next().map_or(0, char::len_utf8);
            }
            index
        })
    }

    /// A word of two capitalised words run together whose parts the report also writes
    /// apart ("Admin SharesAgrius operators", a heading glued to the next sentence: "Shares"
    /// and "Agrius" both stand alone elsewhere), unlike a family's own compound (MoonBounce,
    /// ShellFang), whose parts a report rarely writes alone.
    fn glues_two(&self, word: &str) -> bool {
        let bytes = word.as_bytes();
        (1..bytes.len()).any(|i| {
            bytes[i - 1].is_ascii_lowercase()
                && bytes[i].is_ascii_uppercase()
                && [&word[..i], &word[i..]]
                    .iter()
                    .all(|part| part.len() >= 3 && self.index().standing.contains(part))
        })
    }

    /// Whether the report also writes `word` in lower case as a word of prose ("modern
    /// malware", "packed samples"): then its capital at the start of a sentence does not make
    /// it a name.
    fn in_prose(&self, word: &str) -> bool {
        if !word
            .get(1..)
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_lowercase()))
        {
            return false;
        }
        self.index()
            .prose
            .contains(word.to_ascii_lowercase().as_str())
    }
}

/// Whether a capitalised word stands just before `start`: the capitalised run is longer than
/// the three words a name is read as, so the match is its tail ("Cobalt Strike C2 IP group",
/// a rule's title, read as "Strike C2 IP").
fn follows_a_name(text: &str, start: usize) -> bool {
    let Some(before) = text[..start].strip_suffix(' ') else {
        return false;
    };
    let word = before
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    word.starts_with(|c: char| c.is_uppercase()) && !NOT_NAMES.contains(&word)
}

/// A capitalised "-ing" word ("Loading REvil ransomware", "Decompressing malware",
/// "Installing malware, such as…"): a sentence's verb, not a name, when it opens the sentence
/// or another word follows it.
fn is_gerund(word: &str) -> bool {
    word.len() >= 6 && word.ends_with("ing") && word[1..].chars().all(|c| c.is_ascii_lowercase())
}

/// Whether `start` opens a sentence, a line or a list item, where any word is capitalised.
fn starts_sentence(text: &str, start: usize) -> bool {
    let before = text[..start].trim_end_matches([' ', '\t', '-', '*', '•', '"', '“', '(']);
    before.is_empty() || before.ends_with(['.', '!', '?', ':', '\n'])
}

/// Last parts of a hyphenated word that describe rather than name ("ICS-specific malware",
/// "Go-based loader", "COVID-themed lures").
const DESCRIBING_SUFFIXES: &[&str] = &[
    "specific",
    "based",
    "focused",
    "related",
    "themed",
    "enabled",
    "targeting",
    "style",
    "like",
    "capable",
    "oriented",
    "centric",
    "aware",
    "linked",
    "affiliated",
    "sponsored",
    "backed",
    "aligned",
    "nexus",
    "written",
    "compiled",
    "powered",
    "driven",
    // "a VMProtect-ed loader", "DES-encrypted malware configuration", "Russian-speaking
    // ransomware gangs", "First-stage malware", "Open-Source Gh0st RAT", "Nation-state actors".
    "ed",
    "encrypted",
    "packed",
    "speaking",
    "stage",
    "source",
    "state",
    "service",
];

/// A hyphenated word that describes rather than names ("Go-based", "VMProtect-ed").
fn is_describing(word: &str) -> bool {
    word.rsplit_once('-').is_some_and(|(_, last)| {
        DESCRIBING_SUFFIXES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(last))
    })
}

/// A name: starts with a capital, has a letter, is not a describing word, at most 40 bytes.
fn is_name(candidate: &str) -> bool {
    !candidate.is_empty()
        && candidate.len() <= 40
        && candidate.starts_with(|c: char| c.is_uppercase())
        && candidate.split(' ').count() <= 3
        && !candidate.split(' ').all(|w| NOT_NAMES.contains(&w))
        && !candidate.split(' ').next_back().is_some_and(is_describing)
        && candidate.chars().filter(|c| c.is_alphabetic()).count() >= 3
}

/// Whether the knowledge base already gave an entity of this name or mention.
fn known(entities: &Entities, name: &str) -> bool {
    entities
        .threat_actors
        .iter()
        .chain(&entities.malware)
        .chain(&entities.tools)
        .chain(&entities.campaigns)
        .chain(&entities.products)
        .chain(&entities.countries)
        .filter(|e| e.source != "report")
        .any(|e| {
            let wanted = squeezed(name);
            // "Lazarus" in a report that also names the Lazarus Group is that group.
            let known_as = |spelt: &str| {
                let spelt = squeezed(spelt);
                spelt == wanted
                    || ["group", "team", "gang"]
                        .iter()
                        .any(|kind| spelt.strip_suffix(kind) == Some(wanted.as_str()))
            };
            known_as(&e.name) || e.mentions.iter().any(|m| known_as(m))
        })
}

/// A name in lower case without spaces and punctuation: "Black Cat" and "BlackCat" are one.
fn squeezed(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn add(
    list: &mut Vec<Entity>,
    name: &str,
    written: &str,
    quote: Option<ctiforge_model::analysis::Quote>,
) {
    let entity = match list.iter_mut().position(|e| e.name == name) {
        Some(i) => &mut list[i],
        None => {
            list.push(Entity {
                name: name.to_owned(),
                id: None,
                stix_id: None,
                source: "report".to_owned(),
                mentions: Vec::new(),
                evidence: Vec::new(),
            });
            let last = list.len() - 1;
            &mut list[last]
        }
    };
    entity.note(written, quote);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(entities: &[Entity]) -> Vec<&str> {
        entities.iter().map(|e| e.name.as_str()).collect()
    }

    fn named(text: &str) -> Entities {
        let (_, sentences) = ctiforge_text::segment(text);
        let mut entities = Entities::default();
        add_named(&mut entities, text, &sentences);
        entities
    }

    #[test]
    fn words_of_sentences_tables_and_platforms_are_not_malware_names() {
        // Shapes from the TRAM reports' text, with our own names.
        let text = "Packed malware samples are compressed. Analysts found packed samples too.\n\
                    We observed a .NET loader that extracts the Frostbyte stealer.\n\
                    Example 1—Loading Icefang ransomware\n\
                    Decompressing malware with the installed WinRAR binary\n\
                    The UEFI implant was found in firmware. PoS malware is sold, and so is \
                    Rimeclaw PoS malware.\n\
                    The second stage is a DES-encrypted malware configuration.\n\
                    ExecutionT1059Command and Scripting Interpreter: PythonThe Glimmer loader \
                    runs a script.\n\
                    5B70453AB58824A65ED0B6175C903AA022A87D6AN/AWin32/Spy.Agent.QETGlimmer \
                    backdoor version 2.0\n\
                    Every Glimmer backdoor needs a passcode. The Shardline backdoor beacons.\n\
                    Affiliates look for a Ransomware-as-a-Service group.";
        let found = named(text);
        let mut malware = names(&found.malware);
        malware.sort_unstable();
        assert_eq!(
            malware,
            vec!["Frostbyte", "Glimmer", "Icefang", "Rimeclaw", "Shardline"]
        );
        assert!(
            found.threat_actors.is_empty(),
            "{:?}",
            names(&found.threat_actors)
        );
    }

    #[test]
    fn a_heading_glued_to_a_name_or_the_tail_of_a_long_title_is_not_an_actor() {
        // Shapes of ESET's ATT&CK tables and of a Suricata rule's title (TRAM reports).
        let text = "Lateral Movement: SMB/Windows Admin SharesFrostbyte operators used SMB to \
                    reach the victim. It hit Admin Shares. The Frostbyte group attacks banks.\n\n\
                    The malicious ET Threatview.io High Confidence Cobalt Strike C2 IP group 2 \
                    was seen in the attack.\n";
        let found = named(text);
        assert_eq!(names(&found.threat_actors), vec!["Frostbyte"]);
        // A family's own compound stays a name.
        let found = named("The ShellFang loader was used in the attack.");
        assert_eq!(names(&found.malware), vec!["ShellFang"]);
    }

    /// An entity the knowledge base gave, with one mention.
    fn from_attack(name: &str, id: &str, mention: &str) -> Entity {
        Entity {
            name: name.to_owned(),
            id: Some(id.to_owned()),
            stix_id: None,
            source: "attack".to_owned(),
            mentions: vec![mention.to_owned()],
            evidence: Vec::new(),
        }
    }

    #[test]
    fn a_report_introduces_names_and_their_aliases() {
        let text = "The Frostbyte ransomware encrypted the servers. Frostbyte actors, also known as Icefang and Rimeclaw, sold access. The ransomware spread.";
        let mut known = Entities::default();
        known
            .malware
            .push(from_attack("BlackCat", "S1068", "ALPHV"));
        let (_, sentences) = ctiforge_text::segment("Both used the Black Cat ransomware.");
        add_named(
            &mut known,
            "Both used the Black Cat ransomware.",
            &sentences,
        );
        assert_eq!(
            known.malware.len(),
            1,
            "Black Cat is BlackCat: {:?}",
            known.malware
        );
        // The knowledge base's Lazarus Group, written "the Lazarus group" (a TRAM report).
        known
            .threat_actors
            .push(from_attack("Lazarus Group", "G0032", "Lazarus group"));
        let attributed = "We attribute the supply-chain attack to the Lazarus group with a high \
                          level of confidence.";
        let (_, sentences) = ctiforge_text::segment(attributed);
        add_named(&mut known, attributed, &sentences);
        assert_eq!(names(&known.threat_actors), ["Lazarus Group"]);
        let found = named(text);
        let (malware, actors) = (names(&found.malware), names(&found.threat_actors));
        assert_eq!(malware, ["Frostbyte"]);
        assert_eq!(actors, ["Frostbyte"]);
        assert_eq!(found.threat_actors[0].source, "report");
        assert_eq!(
            found.threat_actors[0].mentions,
            ["Frostbyte", "Icefang", "Rimeclaw"]
        );
    }

    #[test]
    fn a_ransomware_brand_is_malware_and_a_crew_only_where_written_so() {
        let actor = |name: &str| Entity {
            name: name.to_owned(),
            id: None,
            stix_id: None,
            source: "misp:threat-actor".to_owned(),
            mentions: vec![name.to_owned()],
            evidence: Vec::new(),
        };
        let mut entities = Entities {
            threat_actors: vec![
                actor("DragonForce"),
                actor("RansomHub"),
                actor("Volt Typhoon"),
            ],
            ..Entities::default()
        };
        sort_ransomware(
            &mut entities,
            "They now use the DragonForce ransomware. RansomHub affiliates sold access and deployed RansomHub ransomware. Volt Typhoon hid.",
        );
        let actors: Vec<&str> = entities
            .threat_actors
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        let malware: Vec<&str> = entities.malware.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(actors, ["RansomHub", "Volt Typhoon"]);
        assert_eq!(malware, ["DragonForce", "RansomHub"]);
    }

    #[test]
    fn describing_words_are_not_names() {
        let text =
            "Ransomware actors and Russian threat actors used The malware. Threat actors moved.";
        let found = named(text);
        assert!(found.threat_actors.is_empty(), "{:?}", found.threat_actors);
        assert!(found.malware.is_empty(), "{:?}", found.malware);
    }

    #[test]
    fn a_sentence_opening_word_is_not_a_name() {
        // A real report's opening: "Although ransomware is still a hot topic...".
        let found = named("Although ransomware is still a hot topic, we publish on other threats.");
        assert!(found.malware.is_empty(), "{:?}", found.malware);
        // The name after such a word is kept.
        let found = named("While Frostbyte ransomware spread, the operators waited.");
        let names: Vec<&str> = found.malware.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Frostbyte"]);
    }

    #[test]
    fn a_name_said_to_be_a_kind_of_malware_is_malware() {
        // A real report (Avast, 2023): RapperBot was named only this way.
        let found = named(
            "RapperBot, based on Mirai (but with a different C2 command protocol), is a worm \
             infecting IoT devices. Hidden Bee is a modular cryptocurrency miner loader.",
        );
        let names: Vec<&str> = found.malware.iter().map(|e| e.name.as_str()).collect();
        assert!(names.contains(&"RapperBot"), "{names:?}");
        assert!(names.contains(&"Hidden Bee"), "{names:?}");
        // A file kind or a pronoun is not a name; nor is a kind that is not malware.
        for text in [
            "The DLL is a loader for the second stage.",
            "It is a worm.",
            "Windows is an operating system.",
            "Payload is a backdoor.",
        ] {
            let found = named(text);
            assert!(found.malware.is_empty(), "{text}: {:?}", found.malware);
        }
    }

    #[test]
    fn a_kind_named_by_a_verb_is_introduced() {
        // Real write-ups (IOCONTROL, Zerobot): "a new custom malware named IOCONTROL", "has been
        // codenamed IOCONTROL"; ours in the same form for the others.
        let found = named(
            "Iranian-affiliated threat actors have unveiled a new custom malware named \
             IOCONTROL, which targets IoT and OT systems. Researchers found a backdoor dubbed \
             Frostlink. The intrusions are the work of a threat actor tracked as Storm Quill.",
        );
        let (malware, actors) = (names(&found.malware), names(&found.threat_actors));
        assert_eq!(malware, ["IOCONTROL", "Frostlink"]);
        assert_eq!(actors, ["Storm Quill"]);
        // A lower-case word after the verb is no name; a group without a threat word in its
        // sentence is no adversary.
        for text in [
            "The malware named after a Greek god spread.",
            "A working group called Blue Ridge met in May.",
            "The loader called Windows APIs to allocate memory.",
        ] {
            let found = named(text);
            assert!(found.malware.is_empty(), "{text}: {:?}", found.malware);
            assert!(
                found.threat_actors.is_empty(),
                "{text}: {:?}",
                found.threat_actors
            );
        }
    }

    #[test]
    fn a_hyphenated_describing_word_is_not_a_name() {
        // Real reports: "the ninth ICS-specific malware", "a Go-based loader".
        for text in [
            "FrostyGoop is the ninth ICS-specific malware discovered to date.",
            "The actor deployed a Go-based loader and a Rust-written backdoor.",
            "They sent COVID-themed lures with the malware attached.",
        ] {
            let found = named(text);
            let names: Vec<&str> = found.malware.iter().map(|e| e.name.as_str()).collect();
            assert!(names.iter().all(|n| !n.contains('-')), "{text}: {names:?}");
        }
        // A real name with a hyphen stays.
        let found = named("The Black-Hunt ransomware encrypted the servers.");
        let names: Vec<&str> = found.malware.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Black-Hunt"]);
    }
}
