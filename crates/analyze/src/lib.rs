//! The main job as a library: a report goes in, an [`Analysis`] and its rendered outputs come
//! out. The CLI (`ctiforge analyze`) and the server (`ctiforge serve`) both call this crate;
//! neither re-implements a stage.
//!
//! The stages, each a function from one typed value to the next:
//!
//! 1. **ingest** ([`Analyzer::read`]): bytes and what is known of them → [`Document`]
//!    (`ctiforge-text`);
//! 2. **extract**: indicators (`ctiforge-ioc`), sorted here into actionable indicators,
//!    observables and false positives; named entities and CVEs (`ctiforge-entities`);
//! 3. **map**: ATT&CK and ATLAS techniques with evidence (`ctiforge-attack`) and the kill chain;
//! 4. **enrich**: correlation (with the knowledge base and, through [`History`], earlier
//!    reports), exploitation, risk, mitigations, hunting leads, response, summary
//!    (`ctiforge-enrich`);
//! 5. **detect**: Sigma rules drawn from the report and proven on test events, rules selected
//!    from a collection, their queries (`ctiforge-detect`);
//! 6. **render** ([`render()`]): the Analysis as JSON, Markdown, HTML, STIX 2.1, Navigator
//!    layers, a MISP event and Sigma files, as named byte buffers a caller writes to disk or
//!    keeps in a store.
//!
//! ```
//! use ctiforge_analyze::{Analyzer, Format, Options, render};
//! use ctiforge_kb::KnowledgeBase;
//! use ctiforge_model::Tlp;
//!
//! let kb = KnowledgeBase::embedded().unwrap();
//! let analyzer = Analyzer::new(&kb, Options::default()).unwrap();
//! let input = ctiforge_text::Input {
//!     bytes: b"The actor ran vssadmin delete shadows /all /quiet, then encrypted the files.",
//!     ..Default::default()
//! };
//! let document = analyzer.read(input).unwrap();
//! let analysis = analyzer.analyze(&document, Tlp::Green, &[]);
//! assert!(analysis.techniques.iter().any(|t| t.id == "T1490"));
//! let outputs = render(&analysis, &kb, &[Format::Markdown], jiff::Timestamp::UNIX_EPOCH);
//! assert_eq!(outputs[0].name, "report.md");
//! ```
#![deny(missing_docs)]

mod extract;
mod render;

use ctiforge_attack::{MapOptions, Mapper};
use ctiforge_entities::EntityIndex;
use ctiforge_ioc::Extractor;
use ctiforge_kb::KnowledgeBase;
use ctiforge_model::analysis::{
    AffectedProduct, Analysis, Entities, Exploitation, Generator, HistoryEntry, KillChainStep,
    Recommendation, Remediation, ReportInfo, SCHEMA, Technique,
};
use ctiforge_model::{Document, Domain, SentenceRole, Span, Tlp};
use ctiforge_sigma::convert::Target;
use ctiforge_sigma::rules::RuleSet;

pub use render::{Format, Output, render, safe_file_name, timestamp};

/// Why a report could not be analyzed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes could not be read as a report.
    #[error(transparent)]
    Read(#[from] ctiforge_text::Error),
    /// The report holds no text.
    #[error("the report has no text to analyze")]
    Empty,
    /// The technique model could not be loaded.
    #[error(transparent)]
    Model(#[from] ctiforge_attack::Error),
    /// The report is larger than the analyzer accepts.
    #[error(
        "the report is {} MiB, over the limit of {} MiB; split it, or raise the limit \
         (`analyze --max-input-mib`; the service takes up to its `--max-body`)",
        size.div_ceil(1024 * 1024),
        limit / (1024 * 1024)
    )]
    TooLarge {
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
}

/// The largest report read by default: 64 MiB (a 50 MB text analyses in about 10 s within
/// about 1 GB; see issue #18's figures in BENCHMARKS.md).
pub const DEFAULT_MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// What every analysis of one analyzer shares.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// The program version written in each analysis.
    pub version: String,
    /// A Sigma rule collection to select existing rules from, for the report's techniques.
    pub sigma_rules: Option<&'a RuleSet>,
    /// Query targets every rule is converted for.
    pub targets: Vec<Target>,
    /// Selected rules per technique at most.
    pub rules_per_technique: usize,
    /// The time written into rules and STIX objects when a report states no publication
    /// date; the current time when `None`. Fix it for byte-identical reruns.
    pub now: Option<jiff::Timestamp>,
    /// Largest input accepted, in bytes ([`DEFAULT_MAX_INPUT_BYTES`]).
    pub max_input_bytes: usize,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            sigma_rules: None,
            targets: Vec::new(),
            rules_per_technique: 5,
            now: None,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }
}

/// Earlier reports an analysis is compared with: a JSON-lines file for the CLI, the store for
/// the server. A slice of entries is a history.
pub trait History {
    /// Earlier reports that may share indicators or techniques with `entry` (a superset is
    /// fine: the comparison itself decides).
    fn candidates(&self, entry: &HistoryEntry) -> Vec<HistoryEntry>;
}

impl History for [HistoryEntry] {
    fn candidates(&self, _entry: &HistoryEntry) -> Vec<HistoryEntry> {
        self.to_vec()
    }
}

impl<const N: usize> History for [HistoryEntry; N] {
    fn candidates(&self, _entry: &HistoryEntry) -> Vec<HistoryEntry> {
        self.to_vec()
    }
}

impl History for Vec<HistoryEntry> {
    fn candidates(&self, _entry: &HistoryEntry) -> Vec<HistoryEntry> {
        self.clone()
    }
}

/// Runs the pipeline. Create once (it indexes the knowledge base and loads the model) and use
/// for many reports, from many threads.
pub struct Analyzer<'a> {
    kb: &'a KnowledgeBase,
    mapper: Mapper<'a>,
    extractor: Extractor,
    entities: EntityIndex,
    correlator: ctiforge_enrich::Correlator,
    options: Options<'a>,
}

impl std::fmt::Debug for Analyzer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("mapper", &self.mapper)
            .field("options", &self.options)
            .finish()
    }
}

/// Runs `first` on another thread and `second` on this one, and returns both results. Where
/// no thread can be had (a process at its limit), runs `first` here after `second`: slower,
/// never a failure. A panic of `first` goes on in the caller.
fn both<A: Send, B>(first: impl FnOnce() -> A + Send, second: impl FnOnce() -> B) -> (A, B) {
    // Whoever takes the work out of the slot runs it: the thread, or this one if none started.
    let slot = std::sync::Mutex::new(Some(first));
    let take = || {
        slot.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    };
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .spawn_scoped(scope, || take().map(|work| work()))
            .ok();
        let b = second();
        let from_thread = spawned.and_then(|handle| {
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        // A thread that started took the work and returned its result; one that did not
        // start left the work in the slot.
        let a = match from_thread.or_else(|| take().map(|work| work())) {
            Some(a) => a,
            None => unreachable!("the work is either run by the thread or still in the slot"),
        };
        (a, b)
    })
}

/// What an analyzer builds from the knowledge base besides the technique mapper.
struct Parts {
    extractor: Extractor,
    entities: EntityIndex,
    correlator: ctiforge_enrich::Correlator,
}

impl Parts {
    fn new(kb: &KnowledgeBase) -> Self {
        Parts {
            extractor: Extractor::with_knowledge_base(kb),
            entities: EntityIndex::new(kb),
            correlator: ctiforge_enrich::Correlator::new(kb),
        }
    }
}

/// What [`Analyzer::analyze`] reads from a report beside its techniques.
struct Read {
    indicators: Vec<ctiforge_ioc::Indicator>,
    sorted: extract::Sorted,
    entities: Entities,
    exploitation: Exploitation,
    recommendations: Vec<Recommendation>,
    affected: Vec<AffectedProduct>,
    remediation: Remediation,
}

impl<'a> Analyzer<'a> {
    /// An analyzer with the embedded technique model.
    ///
    /// The technique mapper is built on a second thread while the entity index and the
    /// correlator are built on this one, and a third compiles the patterns the analysis would
    /// otherwise compile on first use, prepares the extractor and builds the knowledge base's
    /// relation index: start-up is most of a short report's analysis
    /// (docs/decisions/0013-start-up.md).
    pub fn new(kb: &'a KnowledgeBase, options: Options<'a>) -> Result<Self, Error> {
        let (mapper, parts) = both(
            || Mapper::embedded(kb),
            || {
                let (extractor, (entities, correlator)) = both(
                    || {
                        ctiforge_entities::warm_up();
                        ctiforge_enrich::warm_up();
                        let extractor = Extractor::with_knowledge_base(kb);
                        extractor.warm_up();
                        // By now the catalog is (nearly) decoded; the id index is built on
                        // this thread's neighbours' first lookup, the relation index here.
                        kb.index_relations();
                        extractor
                    },
                    || (EntityIndex::new(kb), ctiforge_enrich::Correlator::new(kb)),
                );
                Parts {
                    extractor,
                    entities,
                    correlator,
                }
            },
        );
        Ok(Self::from_parts(kb, mapper?, parts, options))
    }

    /// An analyzer with the given technique mapper (another model).
    pub fn with_mapper(kb: &'a KnowledgeBase, mapper: Mapper<'a>, options: Options<'a>) -> Self {
        Self::from_parts(kb, mapper, Parts::new(kb), options)
    }

    fn from_parts(
        kb: &'a KnowledgeBase,
        mapper: Mapper<'a>,
        parts: Parts,
        options: Options<'a>,
    ) -> Self {
        Self {
            kb,
            mapper,
            extractor: parts.extractor,
            entities: parts.entities,
            correlator: parts.correlator,
            options,
        }
    }

    /// The knowledge base in use.
    pub fn kb(&self) -> &'a KnowledgeBase {
        self.kb
    }

    /// Ingest: reads a report (text, Markdown, HTML or PDF) into a [`Document`]; a report with
    /// no text is an error.
    pub fn read(&self, input: ctiforge_text::Input<'_>) -> Result<Document, Error> {
        if input.bytes.len() > self.options.max_input_bytes {
            return Err(Error::TooLarge {
                size: input.bytes.len(),
                limit: self.options.max_input_bytes,
            });
        }
        let document = ctiforge_text::ingest(input)?;
        if document.text.trim().is_empty() {
            return Err(Error::Empty);
        }
        Ok(document)
    }

    /// Analyzes one document: extract, map, enrich and detect. `history` holds the earlier
    /// reports it is compared with (`&[]` for none).
    pub fn analyze(&self, document: &Document, tlp: Tlp, history: &dyn History) -> Analysis {
        let text = document.text.as_str();
        let sentences = &document.sentences;
        let roles = ctiforge_text::roles(document);

        // Map: techniques from what the report says happened, not from its advice or links.
        let narrative: Vec<Span> = sentences
            .iter()
            .zip(&roles)
            .filter(|(_, role)| **role == SentenceRole::Narrative)
            .map(|(s, _)| *s)
            .collect();
        // A CSAF advisory describes weaknesses, not what an adversary did.
        let advisory = document.source.media_type == "application/csaf+json";
        // Mapping is the longest step; what does not depend on its techniques (indicators,
        // entities, exploitation, the report's own advice) is read meanwhile on this thread.
        let (techniques, read) = both(
            || self.techniques(text, &narrative, advisory),
            || self.read_findings(document, &roles),
        );
        let Read {
            indicators,
            sorted,
            entities,
            exploitation,
            recommendations,
            affected,
            remediation,
        } = read;
        let kill_chain = self.kill_chain(&techniques);

        // Enrich.
        let mut correlation = self.correlator.correlate(self.kb, &techniques, &entities);
        let risk = ctiforge_enrich::risk(
            &exploitation,
            &entities.vulnerabilities,
            &techniques,
            &entities,
            correlation.stated_attributions.len(),
            sorted.iocs.len(),
            advisory,
        );
        let mitigations =
            ctiforge_enrich::mitigations(self.kb, &techniques, text, sentences, &indicators);
        let hunting_leads =
            ctiforge_enrich::hunting_leads(self.kb, &techniques, &sorted.iocs, text, sentences);
        let findings = ctiforge_enrich::Findings {
            techniques: &techniques,
            iocs: &sorted.iocs,
            vulnerabilities: &entities.vulnerabilities,
            exploitation: &exploitation,
            entities: &entities,
            leads: &hunting_leads,
            mitigations: &mitigations,
        };
        let response = ctiforge_enrich::response(&findings);
        let summary = ctiforge_enrich::summarize(
            text,
            sentences,
            &roles,
            recommendations.first().map(|r| &r.evidence),
            &findings,
            &risk,
            &kill_chain,
        );

        let mut analysis = Analysis {
            schema: SCHEMA.to_owned(),
            generator: self.generator(),
            report: report_info(document, tlp),
            summary,
            techniques,
            kill_chain,
            iocs: sorted.iocs,
            observables: sorted.observables,
            false_positives: sorted.false_positives,
            entities,
            correlation: Default::default(),
            affected,
            remediation,
            exploitation,
            risk,
            recommendations,
            mitigations,
            hunting_leads,
            response,
            detection: Default::default(),
        };
        let mine = HistoryEntry::of(&analysis);
        correlation.earlier_reports =
            ctiforge_enrich::earlier_reports(&mine, &history.candidates(&mine));
        analysis.correlation = correlation;

        // Detect.
        let now = self.options.now.unwrap_or_else(jiff::Timestamp::now);
        let detect = ctiforge_detect::Options {
            collection: self.options.sigma_rules,
            targets: self.options.targets.clone(),
            per_technique: self.options.rules_per_technique,
            date: timestamp(&analysis, now)[..10].to_owned(),
        };
        analysis.detection = ctiforge_detect::detection_content(&analysis, &detect);
        analysis
    }

    /// Extract, and what the report says beside its techniques: indicators, entities and
    /// vulnerabilities, exploitation, advice, affected products and remediation.
    fn read_findings(&self, document: &Document, roles: &[SentenceRole]) -> Read {
        let text = document.text.as_str();
        let sentences = &document.sentences;
        let mut indicators = self.extractor.extract(text);
        extract::flag_in_context(&mut indicators, text);
        extract::flag_references(&mut indicators, document, roles);
        let sorted = extract::sort_indicators(text, sentences, &indicators);
        let mut entities = self.entities.find(text, sentences);
        ctiforge_entities::sort_ransomware(&mut entities, text);
        ctiforge_entities::add_named(&mut entities, text, sentences);
        entities.vulnerabilities =
            ctiforge_entities::vulnerabilities(self.kb, text, sentences, &indicators);
        let exploitation =
            ctiforge_enrich::exploitation(text, sentences, &entities.vulnerabilities);
        Read {
            recommendations: ctiforge_enrich::recommendations(self.kb, text, sentences, roles),
            affected: ctiforge_enrich::affected(text, sentences, roles),
            remediation: ctiforge_enrich::remediation(text, sentences, roles),
            indicators,
            sorted,
            entities,
            exploitation,
        }
    }

    /// The time this analyzer writes when a report states no date: the fixed time of its
    /// options, else now.
    pub fn now(&self) -> jiff::Timestamp {
        self.options.now.unwrap_or_else(jiff::Timestamp::now)
    }

    fn generator(&self) -> Generator {
        Generator {
            name: "ctiforge".to_owned(),
            version: self.options.version.clone(),
            sources: self
                .kb
                .catalog()
                .sources
                .iter()
                .map(|s| (s.name.clone(), s.version.clone()))
                .collect(),
        }
    }

    /// The techniques of `sentences` of `text`, best first.
    fn techniques(&self, text: &str, sentences: &[Span], advisory: bool) -> Vec<Technique> {
        let options = MapOptions {
            advisory,
            ..MapOptions::default()
        };
        let mapping = self.mapper.map_document(text, sentences, &options);
        mapping
            .techniques
            .into_iter()
            .map(|t| Technique {
                id: t.id,
                name: t.name,
                domains: t.domains,
                tactics: t.tactics.into_iter().map(|t| (t.id, t.name)).collect(),
                score: t.score,
                evidence: t.evidence,
            })
            .collect()
    }

    /// The tactics, in matrix order per domain, with the report's techniques under each.
    fn kill_chain(&self, techniques: &[Technique]) -> Vec<KillChainStep> {
        let mut steps = Vec::new();
        for domain in Domain::ALL {
            for tactic in self.kb.tactics(domain) {
                let under: Vec<String> = techniques
                    .iter()
                    .filter(|t| t.tactics.iter().any(|(id, _)| *id == tactic.id))
                    .map(|t| t.id.clone())
                    .collect();
                if !under.is_empty() {
                    steps.push(KillChainStep {
                        tactic: tactic.id.clone(),
                        name: tactic.name.clone(),
                        domain,
                        techniques: under,
                    });
                }
            }
        }
        steps
    }
}

fn report_info(document: &Document, tlp: Tlp) -> ReportInfo {
    let text = document.text.as_str();
    let source = &document.source;
    ReportInfo {
        title: document.title.clone(),
        path: source.path.clone(),
        url: source.url.clone(),
        media_type: source.media_type.clone(),
        sha256: source.sha256.clone(),
        bytes: source.bytes,
        characters: text.chars().count(),
        sentences: document.sentences.len(),
        published: ctiforge_entities::published(text, &document.sentences),
        language: whatlang::detect(text)
            .filter(|info| info.is_reliable())
            .map(|info| info.lang().code().to_owned()),
        tlp,
    }
}

#[cfg(test)]
mod tests {
    use super::both;

    #[test]
    fn both_gives_each_result_in_its_place() {
        let text = String::from("borrowed by both");
        let (a, b) = both(|| text.len(), || text.to_uppercase());
        assert_eq!(a, 16);
        assert_eq!(b, "BORROWED BY BOTH");
    }

    #[test]
    #[should_panic(expected = "the mapping failed")]
    fn a_panic_on_the_other_thread_reaches_the_caller() {
        let _ = both(|| -> u8 { panic!("the mapping failed") }, || 1);
    }
}
