#!/usr/bin/env python3
"""Whole-command wall time of ctiforge binaries, side by side, medians of alternating runs.

    python3 bench/startup.py [--rounds N] BINARY [BINARY ...]

Commands (the inputs are written to a temporary folder):
  ioc-line      `ioc extract` of one line
  analyze-para  `analyze` of one paragraph, Analysis JSON to stdout
  analyze-50k   `analyze` of a 50 KB real report (the longest TRAM report's sentences joined
                and cut at 50,000 bytes, as in `crates/analyze/benches/analyze.rs`), JSON to
                stdout
  analyze-50k-all  the same with every output format written to a folder
  ioc-60mb-table, ioc-60mb-jsonl (with --throughput)  `ioc extract --format table|jsonl` of
                60 MB of report text (the TRAM report sentences, one per line, repeated),
                with MB/s beside the median

Runs each binary in turn, ROUNDS times per command, so the machine's drift falls on all of
them alike, and prints the median and the ratio to the first binary. Needs the shared data
(CTIFORGE_DATA or ../shared/data) for the 50 KB report.
"""

import argparse
import json
import shutil
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LINE = "Emotet called back to 203.0.113.9 via hxxp://evil[.]com/a\n"
PARAGRAPH = (
    "In March 2024, APT29 sent spearphishing emails with malicious attachments to "
    "diplomats. When opened, the document ran a PowerShell script that downloaded Cobalt "
    "Strike from hxxps://update-check[.]top/a.ps1 and created a scheduled task for "
    "persistence. The actors exploited CVE-2023-23397 in Microsoft Outlook and exfiltrated "
    "data over HTTPS to 45.153.160.2.\n"
)


def report_50k(data: Path) -> str:
    reports: dict[str, str] = {}
    with open(data / "tram" / "train.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("source") != "tram2_mjson":
                continue
            reports.setdefault(row["report"], "")
            reports[row["report"]] += row["text"] + "\n"
    longest = max(sorted(reports.values()), key=lambda t: len(t.encode()))
    raw = longest.encode()[:50_000]
    return raw.decode("utf-8", errors="ignore")


def tram_60mb(data: Path) -> str:
    sentences = []
    with open(data / "tram" / "train.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("source") == "tram2_mjson":
                sentences.append(row["text"])
    once = "\n".join(sentences) + "\n"
    repeated = once * (60_000_000 // len(once.encode()) + 1)
    return repeated.encode()[:60_000_000].decode("utf-8", errors="ignore")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--throughput", action="store_true",
                        help="also time ioc extract of 60 MB (7 rounds)")
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args()
    data = Path(os.environ.get("CTIFORGE_DATA", Path(__file__).resolve().parent / "../../shared/data"))
    work = Path(tempfile.mkdtemp(prefix="ctiforge-startup-"))
    (work / "line.txt").write_text(LINE)
    (work / "para.txt").write_text(PARAGRAPH)
    (work / "report50k.txt").write_text(report_50k(data))
    commands = {
        "ioc-line": ["ioc", "extract", str(work / "line.txt")],
        "analyze-para": ["analyze", str(work / "para.txt")],
        "analyze-50k": ["analyze", str(work / "report50k.txt")],
        "analyze-50k-all": ["analyze", str(work / "report50k.txt"), "-o", str(work / "out")],
    }
    if args.throughput:
        (work / "60mb.txt").write_text(tram_60mb(data))
        commands["ioc-60mb-table"] = ["ioc", "extract", "--format", "table", str(work / "60mb.txt")]
        commands["ioc-60mb-jsonl"] = ["ioc", "extract", "--format", "jsonl", str(work / "60mb.txt")]
    names = [Path(b).name if len(set(Path(x).name for x in args.binaries)) == len(args.binaries) else b
             for b in args.binaries]
    print(f"{'command':<18}" + "".join(f"{n:>22}" for n in names) + "   ratio")
    for label, command in commands.items():
        times: dict[str, list[float]] = {b: [] for b in args.binaries}
        rounds = min(args.rounds, 7) if label.startswith("ioc-60mb") else args.rounds
        for _ in range(rounds):
            for binary in args.binaries:
                started = time.perf_counter()
                done = subprocess.run([binary, *command], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, check=False)
                elapsed = time.perf_counter() - started
                if done.returncode != 0:
                    print(f"{binary} {' '.join(command)} exited {done.returncode}", file=sys.stderr)
                    return 1
                times[binary].append(elapsed * 1000)
        medians = [statistics.median(times[b]) for b in args.binaries]
        ratios = " / ".join(f"{medians[0] / m:.1f}×" for m in medians[1:])
        rates = ""
        if label.startswith("ioc-60mb"):
            size = (work / "60mb.txt").stat().st_size / 1e6
            rates = "   MB/s: " + " / ".join(f"{size / (m / 1000):.0f}" for m in medians)
        print(f"{label:<18}" + "".join(f"{m:>19.1f} ms" for m in medians) + f"   {ratios}{rates}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        for leftover in Path(tempfile.gettempdir()).glob("ctiforge-startup-*"):
            shutil.rmtree(leftover, ignore_errors=True)
