//! Running `ctiforge` and other programs from the CLI tests. Each test binary uses a part.
#![allow(dead_code)]

pub mod service;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `ctiforge ARGS`, with the environment's knowledge-base and model overrides removed.
pub fn ctiforge(args: &[&str]) -> Output {
    command(args).output().expect("ctiforge runs")
}

/// `ctiforge ARGS` with `stdin` as its standard input.
pub fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ctiforge starts");
    // Feed stdin from a thread: a large input would otherwise deadlock against a full stdout
    // pipe that nobody reads yet.
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_owned();
    let writer = std::thread::spawn(move || pipe.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("ctiforge runs");
    match writer.join().expect("writer thread") {
        Ok(()) => {}
        // The program may exit before reading its input, when it rejects an argument first;
        // whether the write saw that depends on timing.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(error) => panic!("write stdin: {error}"),
    }
    output
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ctiforge"));
    command
        .args(args)
        .env_remove("CTIFORGE_KB")
        .env_remove("CTIFORGE_ATTACK_MODEL");
    command
}

/// Fails the test with what a helper program printed unless it succeeded.
pub fn assert_succeeded(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Says why a test does not run; with `CI` set (`.ci/run` sets it) a skip is a failure.
#[macro_export]
macro_rules! skip {
    ($($arg:tt)*) => {{
        let message = format!($($arg)*);
        assert!(std::env::var_os("CI").is_none(), "{message} (CI is set: nothing may skip)");
        eprintln!("{message}");
    }};
}

/// `part` of the shared data (`$CTIFORGE_DATA`, else `../shared/data` beside the work
/// folder), or `None` with a skip message when it is not there.
pub fn shared_data(part: &str) -> Option<PathBuf> {
    let data = std::env::var_os("CTIFORGE_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    let path = data.join(part);
    if path.exists() {
        Some(path)
    } else {
        skip!(
            "SKIPPED: no {} (set CTIFORGE_DATA); .ci/run fails in this case",
            path.display()
        );
        None
    }
}
