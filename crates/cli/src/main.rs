//! The `ctiforge` command: parses arguments, calls the libraries, prints, sets the exit code.
//!
//! Exit codes: 0 success; 1 the command ran and reports a negative result it defines (e.g.
//! `kb lookup` found nothing); 2 usage or input error.

mod commands;
mod history;
mod input;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Start-up is mostly allocation (the catalog's strings, the indexes); mimalloc with huge pages
/// makes `analyze` of a paragraph 1.4× faster than glibc's malloc (decision 0013).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code of a command that ran and reports a negative result.
const EXIT_FINDINGS: u8 = 1;
/// Exit code of usage and input errors.
const EXIT_ERROR: u8 = 2;

/// Turn threat reports into intelligence a defender can act on — offline, deterministic, with
/// evidence for every claim.
#[derive(Debug, Parser)]
#[command(
    name = "ctiforge",
    version,
    long_version = long_version(),
    after_help = "Examples:\n  ctiforge analyze report.pdf -o out/\n  ctiforge ioc extract report.txt\n  ctiforge attack map report.html\n  ctiforge kb info\n  ctiforge kb lookup T1190\n  ctiforge kb lookup \"Cozy Bear\"\n  ctiforge kb build --from ../shared/data --out my-kb.bin\n\nExit codes: 0 ok, 1 negative result (e.g. lookup found nothing), 2 usage or input error."
)]
struct Cli {
    /// Knowledge-base snapshot to use instead of the embedded one (built by `ctiforge kb build`).
    #[arg(long, global = true, env = "CTIFORGE_KB", value_name = "FILE")]
    kb: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect, query and rebuild the knowledge base (ATT&CK, ATLAS, D3FEND, KEV, MISP).
    #[command(subcommand)]
    Kb(commands::kb::KbCommand),
    /// Extract indicators of compromise from a report.
    #[command(subcommand)]
    Ioc(commands::ioc::IocCommand),
    /// Analyze reports: techniques, indicators, entities, risk, mitigations, hunting leads and
    /// response steps, as Analysis JSON, Markdown and a STIX 2.1 bundle.
    Analyze(commands::analyze::AnalyzeArgs),
    /// Sigma rules: check them, convert them to SIEM queries.
    #[command(subcommand)]
    Sigma(commands::sigma::SigmaCommand),
    /// Hunt: run Sigma rules over EVTX, JSON, CloudTrail, Zeek and CSV logs; print a
    /// timeline of detections and a summary.
    Hunt(commands::hunt::HuntArgs),
    /// ATT&CK and ATLAS technique mapping: map a report, train the classifier, evaluate it.
    #[command(subcommand)]
    Attack(commands::attack::AttackCommand),
    /// The intelligence service: analyses submitted reports and feeds in the background and
    /// serves them as a web UI, a REST API and TAXII 2.1. Prints `listening on http://ADDR`
    /// when ready; stops cleanly on SIGTERM.
    Serve(commands::serve::ServeArgs),
    /// Access tokens of the service.
    #[command(subcommand)]
    Token(commands::serve::TokenCommand),
    /// Copy an SQLite store into an empty PostgreSQL database (for several instances).
    Migrate(commands::serve::MigrateArgs),
}

/// `--version` output: the tool's version and the release of every knowledge-base source.
fn long_version() -> String {
    let mut text = env!("CARGO_PKG_VERSION").to_owned();
    match ctiforge_kb::KnowledgeBase::embedded_header() {
        Ok(header) => {
            text.push_str("\nembedded knowledge base:");
            for source in header.sources {
                text.push_str(&format!("\n  {:<38} {}", source.name, source.version));
            }
        }
        Err(err) => text.push_str(&format!("\nembedded knowledge base unreadable: {err}")),
    }
    text
}

fn main() -> ExitCode {
    quiet_caught_pdf_panics();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Kb(command) => commands::kb::run(command, cli.kb.as_deref()),
        Command::Ioc(command) => commands::ioc::run(command, cli.kb.as_deref()),
        Command::Attack(command) => commands::attack::run(command, cli.kb.as_deref()),
        Command::Analyze(args) => commands::analyze::run(args, cli.kb.as_deref()),
        Command::Sigma(command) => commands::sigma::run(command, cli.kb.as_deref()),
        Command::Hunt(args) => commands::hunt::run(args),
        Command::Serve(args) => commands::serve::serve(args, cli.kb.as_deref()),
        Command::Token(command) => commands::serve::token(command),
        Command::Migrate(args) => commands::serve::migrate(args),
    };
    match result {
        Ok(commands::Outcome::Success) => ExitCode::SUCCESS,
        Ok(commands::Outcome::Negative) => ExitCode::from(EXIT_FINDINGS),
        // The reader of the output went away (`ctiforge … | head`): what it wanted it has, as
        // with ripgrep; an error message would only be noise in the pipeline.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Whether `err` comes from writing to a pipe whose reader has closed it.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(BrokenPipe)
            || cause.downcast_ref::<csv::Error>().is_some_and(
                |e| matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe),
            )
    })
}

/// The PDF text extractor panics on some malformed files; `ctiforge-text` catches the panic
/// and reports a clear error, so its "panicked at …" message is noise on stderr. Other panics
/// (bugs) keep the default report.
fn quiet_caught_pdf_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_pdf_library = info.location().is_some_and(|l| {
            let file = l.file();
            [
                "pdf-extract",
                "pdf_extract",
                "lopdf",
                "type1-encoding-parser",
                "adobe-cmap-parser",
            ]
            .iter()
            .any(|crate_name| file.contains(crate_name))
        });
        if !in_pdf_library {
            report(info);
        }
    }));
}
