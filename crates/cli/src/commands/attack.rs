//! `ctiforge attack map|train|eval`: technique mapping, training and its evaluation.

use std::io::{BufRead, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Subcommand;
use ctiforge_attack::corpus::Corpus;
use ctiforge_attack::domains;
use ctiforge_attack::eval::{self, Metrics, Outcome as EvalOutcome};
use ctiforge_attack::model::Model;
use ctiforge_attack::train::Settings;
use ctiforge_attack::{MapOptions, Mapper, Mapping, Signal};
use serde::{Deserialize, Serialize};

use super::{Outcome, load_kb};

#[derive(Debug, Subcommand)]
pub enum AttackCommand {
    /// Find the ATT&CK (Enterprise, Mobile, ICS) and ATLAS techniques a report describes,
    /// with evidence sentences, scores and the signals that fired.
    Map {
        /// The report: a file (text, Markdown, HTML or PDF), an http(s) URL, or `-` for stdin.
        #[arg(value_name = "FILE|URL", default_value = "-")]
        input: PathBuf,
        /// Batch mode: read JSON lines `{"id","text"}` (a sentence or a whole document),
        /// write `{"id","techniques":[...]}` per line.
        #[arg(long)]
        jsonl: bool,
        /// Report techniques at or above this score (0–1; default: the threshold chosen by
        /// cross-validation and stored with the model).
        #[arg(long, value_name = "S")]
        min_score: Option<f32>,
        /// Fold sub-techniques into their parent techniques.
        #[arg(long)]
        rollup: bool,
        /// Print the whole mapping as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Show every signal behind each evidence sentence.
        #[arg(long)]
        explain: bool,
        /// Evidence sentences per technique.
        #[arg(long, default_value_t = 3)]
        evidence: usize,
        /// A model file written by `attack train` (default: the embedded model).
        #[arg(long, env = "CTIFORGE_ATTACK_MODEL", value_name = "FILE")]
        model: Option<PathBuf>,
        /// Allow fetching URLs that resolve to loopback, private or link-local addresses.
        #[arg(long)]
        allow_private: bool,
    },
    /// Train the sentence classifier from a data folder (ATT&CK and ATLAS prose, TRAM
    /// sentences), choose its thresholds by cross-validation, and write the model.
    Train {
        /// The data folder, laid out like shared/data.
        #[arg(long, value_name = "DIR", default_value = "../shared/data")]
        from: PathBuf,
        /// Where to write the model.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Cross-validation folds used to choose the thresholds (0 keeps the defaults).
        #[arg(long, default_value_t = 5)]
        folds: u32,
    },
    /// Cross-validate by report on the TRAM sentences and print precision, recall and F1 at
    /// sentence and document level.
    Eval {
        /// The data folder, laid out like shared/data (the TRAM sentences are its
        /// tram/train.jsonl).
        #[arg(long, value_name = "DIR", default_value = "../shared/data")]
        from: PathBuf,
        /// Folds.
        #[arg(long, default_value_t = 5)]
        folds: u32,
        /// Scores of the baseline (written by bench/attack_baseline.py) to print alongside.
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
        /// Write the split (folds, near-copies left out) as JSON lines for
        /// bench/attack_baseline.py, and stop.
        #[arg(long, value_name = "FILE")]
        export: Option<PathBuf>,
        /// Instead of cross-validating, score the model (embedded, or --model) on labelled
        /// lines `{"id","text","labels":[...]}` in the whole technique space.
        #[arg(long, value_name = "FILE")]
        labelled: Option<PathBuf>,
        /// The model for --labelled (default: the embedded model).
        #[arg(long, value_name = "FILE")]
        model: Option<PathBuf>,
        /// Training epochs (for experiments; the shipped model uses the default).
        #[arg(long)]
        epochs: Option<u32>,
        /// Positive-label gradient weight (for experiments).
        #[arg(long)]
        positive_weight: Option<f32>,
        /// Drop weights smaller than this (for experiments).
        #[arg(long)]
        prune: Option<f32>,
        /// Extra positive weight for techniques with few examples (for experiments).
        #[arg(long)]
        rare_boost: Option<f32>,
    },
    /// Cross-validate in every domain: ATT&CK procedure examples (Enterprise, Mobile, ICS)
    /// held out by group, software or campaign, and ATLAS case-study steps held out by case
    /// study, read with technique names, ids and actor names removed.
    EvalDomains {
        /// The data folder, laid out like shared/data.
        #[arg(long, value_name = "DIR", default_value = "../shared/data")]
        from: PathBuf,
        /// Folds.
        #[arg(long, default_value_t = 5)]
        folds: u32,
        /// Scores of the baseline (written by bench/attack_domain_baseline.py) to print
        /// alongside.
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// Print the outcome (with every held-out text and its predictions) as JSON.
        #[arg(long)]
        json: bool,
        /// Write the split as JSON lines for bench/attack_domain_baseline.py, and stop.
        #[arg(long, value_name = "FILE")]
        export: Option<PathBuf>,
        /// Held-out texts to print per domain with what the mapper said.
        #[arg(long, default_value_t = 0)]
        samples: usize,
        /// Extra positive weight for techniques with few examples (for experiments).
        #[arg(long)]
        rare_boost: Option<f32>,
    },
}

pub fn run(command: &AttackCommand, kb_path: Option<&Path>) -> anyhow::Result<Outcome> {
    match command {
        AttackCommand::Map {
            input,
            jsonl,
            min_score,
            rollup,
            json,
            explain,
            evidence,
            model,
            allow_private,
        } => {
            if let Some(score) = min_score
                && !(0.0..=1.0).contains(score)
            {
                bail!("--min-score must be between 0 and 1, got {score}");
            }
            let kb = load_kb(kb_path)?;
            let mapper = load_mapper(&kb, model.as_deref())?;
            let options = MapOptions {
                min_score: *min_score,
                rollup: *rollup,
                max_evidence: *evidence,
                ..MapOptions::default()
            };
            let mut out = BufWriter::new(std::io::stdout().lock());
            if *jsonl {
                batch(&mapper, input, &options, &mut out)?;
            } else {
                let document = crate::input::read_document(input, *allow_private)?;
                // As `analyze` does: a CSAF advisory describes weaknesses, not behaviour.
                let options = MapOptions {
                    advisory: document.source.media_type == "application/csaf+json",
                    ..options
                };
                let mapping = mapper.map_document(&document.text, &document.sentences, &options);
                if *json {
                    serde_json::to_writer_pretty(&mut out, &mapping)?;
                    out.write_all(b"\n")?;
                } else {
                    write_table(&mut out, &mapping, *explain)?;
                }
            }
            out.flush()?;
            Ok(Outcome::Success)
        }
        AttackCommand::Train { from, out, folds } => {
            let kb = ctiforge_kb::KnowledgeBase::from_dir(from).with_context(|| {
                format!("cannot build the knowledge base from {}", from.display())
            })?;
            let corpus = Corpus::load(from)?;
            let settings = Settings::default();
            let started = Instant::now();
            let (outcome, model) = eval::train_shipped(&corpus, &kb, &settings, *folds, &progress);
            if let Some(outcome) = outcome {
                eprintln!(
                    "cross-validation: document micro-F1 {:.3}, macro-F1 {:.3}; sentence micro-F1 {:.3}",
                    outcome.document.micro.f1,
                    outcome.document.macro_avg.f1,
                    outcome.sentence.micro.f1
                );
            }
            let c = &model.calibration;
            eprintln!(
                "chosen: sentence threshold {:.2}, document threshold {:.2}, pooling floor {:.2}, \
                 depth {}, software prior {:+.1}",
                c.sentence_threshold,
                c.document_threshold,
                c.pooling_floor,
                c.pooling_depth,
                c.software_prior
            );
            let thresholds: Vec<String> = model
                .prototypes
                .iter()
                .map(|p| {
                    format!(
                        "{} {:.3} (placed by wording {:.3})",
                        p.domain.as_str(),
                        p.threshold,
                        p.wording_threshold
                    )
                })
                .collect();
            eprintln!("prototype thresholds: {}", thresholds.join(", "));
            let balance: Vec<String> = ctiforge_attack::prototypes::DOMAINS
                .iter()
                .zip(&model.placement.balance)
                .map(|(domain, b)| format!("{} {b}", domain.as_str()))
                .collect();
            eprintln!(
                "placement balance (exponent chosen on inner folds): {}",
                balance.join(", ")
            );
            let bytes = model.encode();
            crate::output::write_atomic(out, &bytes)?;
            eprintln!(
                "wrote {} ({:.2} MB, {} techniques, {} weights) in {:.1} s",
                out.display(),
                bytes.len() as f64 / 1e6,
                model.classes.len(),
                model.weights.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(Outcome::Success)
        }
        AttackCommand::Eval {
            from,
            folds,
            baseline,
            json,
            export,
            epochs,
            positive_weight,
            labelled,
            model,
            prune,
            rare_boost,
        } => {
            if let Some(path) = labelled {
                return score_labelled(path, model.as_deref(), kb_path, *json);
            }
            if *folds < 2 {
                bail!("--folds must be at least 2, got {folds}");
            }
            let baseline = baseline
                .as_ref()
                .map(|path| -> anyhow::Result<Baselines> {
                    let bytes = std::fs::read(path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    serde_json::from_slice(&bytes).with_context(|| {
                        format!(
                            "{} is not a baseline file written by bench/attack_baseline.py",
                            path.display()
                        )
                    })
                })
                .transpose()?;
            let kb = ctiforge_kb::KnowledgeBase::from_dir(from).with_context(|| {
                format!("cannot build the knowledge base from {}", from.display())
            })?;
            let corpus = Corpus::load(from)?;
            if let Some(path) = export {
                let mut bytes = Vec::new();
                eval::export_split(&corpus, *folds, &mut bytes)?;
                crate::output::write_atomic(path, &bytes)?;
                eprintln!("wrote {} ({} folds)", path.display(), folds);
                return Ok(Outcome::Success);
            }
            let mut settings = Settings::default();
            if let Some(e) = epochs {
                settings.epochs = *e;
            }
            if let Some(w) = positive_weight {
                settings.positive_weight = *w;
            }
            if let Some(p) = prune {
                settings.prune = *p;
            }
            if let Some(b) = rare_boost {
                settings.rare_boost = *b;
            }
            let outcome = eval::cross_validate(&corpus, &kb, &settings, *folds, &progress);
            let mut out = std::io::stdout().lock();
            if *json {
                serde_json::to_writer_pretty(&mut out, &outcome)?;
                out.write_all(b"\n")?;
            } else {
                write_eval(&mut out, &outcome, baseline.as_ref())?;
            }
            Ok(Outcome::Success)
        }
        AttackCommand::EvalDomains {
            from,
            folds,
            baseline,
            json,
            export,
            samples,
            rare_boost,
        } => {
            let mut settings = Settings::default();
            if let Some(b) = rare_boost {
                settings.rare_boost = *b;
            }
            eval_domains(
                from,
                *folds,
                baseline.as_deref(),
                *json,
                export.as_deref(),
                *samples,
                &settings,
            )
        }
    }
}

/// Per-domain scores written by bench/attack_domain_baseline.py.
#[derive(Deserialize)]
struct DomainBaseline {
    name: String,
    domains: std::collections::BTreeMap<String, DomainBaselineScores>,
}

#[derive(Deserialize)]
struct DomainBaselineScores {
    text: [f64; 3],
    document: [f64; 3],
}

fn eval_domains(
    from: &Path,
    folds: u32,
    baseline: Option<&Path>,
    json: bool,
    export: Option<&Path>,
    samples: usize,
    settings: &Settings,
) -> anyhow::Result<Outcome> {
    if !(2..=32).contains(&folds) {
        bail!("--folds must be between 2 and 32, got {folds}");
    }
    let baseline = baseline
        .map(|path| -> anyhow::Result<DomainBaseline> {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is not a file written by bench/attack_domain_baseline.py",
                    path.display()
                )
            })
        })
        .transpose()?;
    let kb = ctiforge_kb::KnowledgeBase::from_dir(from)
        .with_context(|| format!("cannot build the knowledge base from {}", from.display()))?;
    let corpus = Corpus::load(from)?;
    let split = domains::split(&corpus, &kb, folds);
    if let Some(path) = export {
        let mut bytes = Vec::new();
        domains::export(&corpus, &kb, &split, &mut bytes)?;
        crate::output::write_atomic(path, &bytes)?;
        eprintln!(
            "wrote {} ({} held-out texts, {} folds)",
            path.display(),
            split.held_out.len(),
            folds
        );
        return Ok(Outcome::Success);
    }
    let calibration = Mapper::embedded(&kb)?.model().calibration;
    let outcome = domains::evaluate(&corpus, &kb, &split, settings, calibration, &progress);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &outcome)?;
        out.write_all(b"\n")?;
        return Ok(Outcome::Success);
    }
    writeln!(
        out,
        "Held out by source: {folds} folds; technique names, ids and actor names removed; \
         {} near-copies left out of training; thresholds from the TRAM folds.\n",
        outcome.near_copies_left_out
    )?;
    writeln!(
        out,
        "{:<11} {:<24} {:>7} {:>6}   {:>6} {:>6} {:>6}   {:>6} {:>6} {:>6}",
        "domain", "", "sources", "texts", "text P", "R", "F1", "doc P", "R", "F1"
    )?;
    for d in &outcome.domains {
        writeln!(
            out,
            "{:<11} {:<24} {:>7} {:>6}   {:>6.3} {:>6.3} {:>6.3}   {:>6.3} {:>6.3} {:>6.3}",
            d.domain,
            "ctiforge",
            d.sources,
            d.texts,
            d.text_level.precision,
            d.text_level.recall,
            d.text_level.f1,
            d.document_level.precision,
            d.document_level.recall,
            d.document_level.f1
        )?;
        if let Some(b) = baseline
            .as_ref()
            .and_then(|b| Some((&b.name, b.domains.get(&d.domain)?)))
        {
            writeln!(
                out,
                "{:<11} {:<24} {:>7} {:>6}   {:>6.3} {:>6.3} {:>6.3}   {:>6.3} {:>6.3} {:>6.3}",
                "",
                b.0,
                "",
                "",
                b.1.text[0],
                b.1.text[1],
                b.1.text[2],
                b.1.document[0],
                b.1.document[1],
                b.1.document[2]
            )?;
        }
    }
    writeln!(
        out,
        "\nplaced in their domain (Enterprise: in another, wrongly), share of held-out texts:"
    )?;
    for d in &outcome.domains {
        let share = |n: usize| n as f64 / d.texts.max(1) as f64;
        writeln!(
            out,
            "{:<11} by cue words {:.3}, by wording {:.3}, either {:.3}",
            d.domain,
            share(d.placed_by_cues),
            share(d.placed_by_wording),
            share(d.placed)
        )?;
    }
    writeln!(
        out,
        "\ntechniques of one domain alone predicted on other domains' held-out texts / documents:"
    )?;
    for d in &outcome.domains {
        writeln!(
            out,
            "{:<11} {} / {}",
            d.domain, d.foreign_text_fp, d.foreign_document_fp
        )?;
    }
    let balance: Vec<String> = outcome
        .placement_balance
        .iter()
        .map(|(fold, domain, b)| format!("{}:{domain} {b}", fold + 1))
        .collect();
    writeln!(
        out,
        "placement balance per fold (chosen on inner folds): {}",
        balance.join(", ")
    )?;
    for d in &outcome.domains {
        let Some(step) = d.texts.checked_div(samples) else {
            break;
        };
        let step = step.max(1);
        writeln!(out, "\n{} — held-out texts (every {step}th):", d.domain)?;
        let texts = outcome.samples.iter().filter(|s| s.domain == d.domain);
        for s in texts.step_by(step).take(samples) {
            let verdict = if s.predicted.contains(&s.gold) {
                "found"
            } else {
                "missed"
            };
            writeln!(
                out,
                "- [{verdict}] gold {} · said {} · {}",
                s.gold,
                if s.predicted.is_empty() {
                    "nothing".to_owned()
                } else {
                    s.predicted.join(", ")
                },
                s.text.chars().take(220).collect::<String>()
            )?;
        }
    }
    Ok(Outcome::Success)
}

#[derive(Deserialize)]
struct LabelledLine {
    id: serde_json::Value,
    text: String,
    labels: Vec<String>,
}

fn load_mapper<'kb>(
    kb: &'kb ctiforge_kb::KnowledgeBase,
    model: Option<&Path>,
) -> anyhow::Result<Mapper<'kb>> {
    Ok(match model {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read model {}", path.display()))?;
            Mapper::new(kb, Model::decode(&bytes, &path.display().to_string())?)
        }
        None => Mapper::embedded(kb)?,
    })
}

fn score_labelled(
    path: &Path,
    model: Option<&Path>,
    kb_path: Option<&Path>,
    json: bool,
) -> anyhow::Result<Outcome> {
    let kb = load_kb(kb_path)?;
    let mapper = load_mapper(&kb, model)?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut items = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let item: LabelledLine = serde_json::from_str(line).with_context(|| {
            format!(
                "{} line {}: expected {{\"id\", \"text\", \"labels\": [...]}}",
                path.display(),
                number + 1
            )
        })?;
        let id = match item.id {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        items.push((id, item.text, item.labels));
    }
    let (counts, results) = eval::score_labelled(&mapper, &kb, &items);
    let prf = counts.prf();
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({"counts": counts, "micro": prf, "items": results}),
        )?;
        out.write_all(b"\n")?;
    } else {
        writeln!(
            out,
            "{} texts: precision {:.3}, recall {:.3}, F1 {:.3} (tp {}, fp {}, fn {})",
            items.len(),
            prf.precision,
            prf.recall,
            prf.f1,
            counts.tp,
            counts.fp,
            counts.fn_
        )?;
        for r in results.iter().filter(|r| {
            let mut g = r.gold.clone();
            let mut p = r.predicted.clone();
            g.sort();
            p.sort();
            g != p
        }) {
            writeln!(
                out,
                "  {:<8} expected [{}] got [{}]",
                r.id,
                r.gold.join(", "),
                r.predicted.join(", ")
            )?;
        }
    }
    Ok(Outcome::Success)
}

fn progress(message: &str) {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K{message}");
        if message.starts_with("fold") && message.ends_with("scoring") {
            eprintln!();
        }
    } else {
        eprintln!("{message}");
    }
}

/// Reads a report from a file, a URL or stdin (`-`) and segments it.
#[derive(Serialize)]
struct BatchOutput {
    id: serde_json::Value,
    techniques: Vec<ctiforge_attack::TechniqueMatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tactics: Vec<ctiforge_attack::TacticMention>,
}

fn batch(
    mapper: &Mapper<'_>,
    input: &Path,
    options: &MapOptions,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let reader: Box<dyn BufRead> = if input.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(input)
            .with_context(|| format!("cannot open {}", input.display()))?;
        Box::new(std::io::BufReader::new(file))
    };
    super::for_each_batch_line(reader, input, |record| {
        let (_, sentences) = ctiforge_text::segment(&record.text);
        let mapping = mapper.map_document(&record.text, &sentences, options);
        serde_json::to_writer(
            &mut *out,
            &BatchOutput {
                id: record.id,
                techniques: mapping.techniques,
                tactics: mapping.tactics,
            },
        )?;
        out.write_all(b"\n")?;
        Ok(())
    })
}

fn write_table(out: &mut impl Write, mapping: &Mapping, explain: bool) -> std::io::Result<()> {
    if mapping.techniques.is_empty() && mapping.tactics.is_empty() {
        writeln!(out, "No techniques found.")?;
        return Ok(());
    }
    writeln!(
        out,
        "{} technique(s), best first. Score 0–1; evidence is quoted with its byte offsets.\n",
        mapping.techniques.len()
    )?;
    for technique in &mapping.techniques {
        let tactics: Vec<&str> = technique.tactics.iter().map(|t| t.name.as_str()).collect();
        writeln!(
            out,
            "{:<12} {:.2}  {}  [{}]",
            technique.id,
            technique.score,
            technique.name,
            tactics.join(", ")
        )?;
        for evidence in &technique.evidence {
            let mut quote: String = evidence
                .text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if quote.chars().count() > 160 {
                quote = quote.chars().take(157).collect::<String>() + "...";
            }
            let signals: Vec<String> = evidence.signals.iter().map(describe).collect();
            writeln!(
                out,
                "    {:.2} @{}-{}  \"{quote}\"",
                evidence.score, evidence.start, evidence.end
            )?;
            if explain {
                writeln!(out, "          signals: {}", signals.join("; "))?;
            }
        }
        if explain {
            for signal in &technique.document_signals {
                writeln!(out, "    document: {}", describe(signal))?;
            }
        }
    }
    if !mapping.tactics.is_empty() {
        writeln!(out, "\nTactics named by id:")?;
        for tactic in &mapping.tactics {
            writeln!(out, "{:<12} {}", tactic.tactic.id, tactic.tactic.name)?;
        }
    }
    Ok(())
}

fn describe(hit: &ctiforge_attack::SignalHit) -> String {
    let what = match &hit.signal {
        Signal::ExplicitId { text, revoked } => match revoked {
            Some(_) => format!("id {text} (revoked; this technique replaces it)"),
            None => format!("id {text}"),
        },
        Signal::Name { phrase } => format!("name \"{phrase}\""),
        Signal::Lexicon { phrase } => format!("lexicon \"{phrase}\""),
        Signal::Classifier => "classifier".to_owned(),
        Signal::SoftwarePrior { software, name } => format!("software {name} ({software})"),
        Signal::DomainTwin { of, domain, cues } => {
            format!("{domain} twin of {of} ({})", placed_by(cues))
        }
        Signal::Prototype {
            domain,
            similarity,
            cues,
        } => format!(
            "nearest {domain} prototype, similarity {similarity:.2} ({})",
            placed_by(cues)
        ),
    };
    format!("{what} {:.2}", hit.strength)
}

/// What placed a report in a domain: its cue words, or without them its wording.
fn placed_by(cues: &[String]) -> String {
    if cues.is_empty() {
        "placed there by its wording".to_owned()
    } else {
        format!("the report names {}", cues.join(", "))
    }
}

/// Scores written by bench/attack_baseline.py: one entry per variant.
type Baselines = std::collections::BTreeMap<String, Baseline>;

/// One baseline variant.
#[derive(Deserialize)]
struct Baseline {
    name: String,
    sentence: BaselineLevel,
    document: BaselineLevel,
}

#[derive(Deserialize)]
struct BaselineLevel {
    micro: [f64; 3],
    #[serde(rename = "macro")]
    macro_avg: [f64; 3],
}

fn write_eval(
    out: &mut impl Write,
    outcome: &EvalOutcome,
    baselines: Option<&Baselines>,
) -> std::io::Result<()> {
    writeln!(
        out,
        "Cross-validation by report: {} folds, {} reports, {} sentences; TRAM's {} labels.",
        outcome.folds,
        outcome.reports,
        outcome.sentences,
        outcome.sentence.per_label.len()
    )?;
    writeln!(
        out,
        "Thresholds chosen on the other folds (nested); {} training texts that near-copy a \
         held-out sentence left out of that fold's training.\n",
        outcome.near_copies_left_out
    )?;
    writeln!(
        out,
        "{:<34} {:>7} {:>7} {:>7}   {:>7} {:>7} {:>7}",
        "", "micro P", "R", "F1", "macro P", "R", "F1"
    )?;
    let row = |out: &mut dyn Write, name: &str, m: &Metrics| {
        writeln!(
            out,
            "{:<34} {:>7.3} {:>7.3} {:>7.3}   {:>7.3} {:>7.3} {:>7.3}",
            name,
            m.micro.precision,
            m.micro.recall,
            m.micro.f1,
            m.macro_avg.precision,
            m.macro_avg.recall,
            m.macro_avg.f1
        )
    };
    let base_row = |out: &mut dyn Write, name: &str, b: &BaselineLevel| {
        writeln!(
            out,
            "{:<34} {:>7.3} {:>7.3} {:>7.3}   {:>7.3} {:>7.3} {:>7.3}",
            name,
            b.micro[0],
            b.micro[1],
            b.micro[2],
            b.macro_avg[0],
            b.macro_avg[1],
            b.macro_avg[2]
        )
    };
    row(out, "sentence: ctiforge", &outcome.sentence)?;
    for b in baselines.into_iter().flat_map(|b| b.values()) {
        base_row(out, &format!("sentence: {}", b.name), &b.sentence)?;
    }
    row(out, "document: ctiforge", &outcome.document)?;
    row(
        out,
        "document: ctiforge classifier only",
        &outcome.document_classifier_only,
    )?;
    for b in baselines.into_iter().flat_map(|b| b.values()) {
        base_row(out, &format!("document: {}", b.name), &b.document)?;
    }
    let c = &outcome.calibration;
    writeln!(
        out,
        "\nChosen on all folds (shipped with the model): sentence threshold {:.2}, document \
         threshold {:.2}, pooling floor {:.2}, depth {}, software prior {:+.1}",
        c.sentence_threshold,
        c.document_threshold,
        c.pooling_floor,
        c.pooling_depth,
        c.software_prior
    )?;
    writeln!(out, "Training: {}", outcome.settings)?;

    let mut labels: Vec<_> = outcome
        .document
        .per_label
        .iter()
        .filter(|(_, c)| c.tp + c.fn_ > 0)
        .collect();
    labels.sort_by(|a, b| a.1.prf().f1.total_cmp(&b.1.prf().f1).then(a.0.cmp(&b.0)));
    writeln!(out, "\nWeakest techniques (document level):")?;
    for (label, counts) in labels.iter().take(10) {
        let prf = counts.prf();
        writeln!(
            out,
            "  {label:<10} F1 {:.2}  P {:.2}  R {:.2}  (tp {}, fp {}, fn {})",
            prf.f1, prf.precision, prf.recall, counts.tp, counts.fp, counts.fn_
        )?;
    }
    Ok(())
}
