#!/usr/bin/env python3
"""IOC extraction, side by side: ctiforge against iocextract, ioc-finder and iocsearcher.

Corpus: the report sentences of shared/data/tram/train.jsonl joined per report (2.8 MB,
~150 reports). Each tool processes the reports one by one, as it would in use; the median of
three runs is reported, with the unique indicators it finds per type. Indicators that a peer
finds and ctiforge does not report are written to bench/results/ioc_peer_only.txt for review.

Run:  python3 bench/ioc_peers.py          (creates bench/.venv and installs the peers from PyPI)
Needs: cargo, python3 -m venv, ../shared/data (or CTIFORGE_DATA).
"""
import collections
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CTIFORGE_DATA", ROOT.parent / "shared" / "data"))
VENV = ROOT / "bench" / ".venv"
PEERS = ["iocextract==1.16.1", "ioc-finder==9.4.1", "iocsearcher==3.1.0", "requests"]
RUNS = 3          # ctiforge runs (median); each peer runs once: they take minutes
DOC_TIMEOUT = 30  # seconds a peer may spend on one report before it is counted as timed out


def ensure_venv():
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS], check=True)
    return python


def corpus():
    reports = collections.OrderedDict()
    with open(DATA / "tram" / "train.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            reports.setdefault(row["report"], []).append(row["text"])
    return ["\n".join(sentences) for sentences in reports.values()]


PEER_SCRIPT = r'''
import json, sys, time, statistics
docs = json.load(open(sys.argv[2]))
tool = sys.argv[1]
runs = int(sys.argv[3])

def norm(kind, value):
    value = value.strip()
    if kind in ("domain", "email", "md5", "sha1", "sha256", "sha512", "mac", "eth"):
        value = value.lower()
    if kind == "cve":
        value = value.upper()
    return kind, value

if tool == "iocextract":
    import iocextract as m
    funcs = [("url", lambda t: m.extract_urls(t, refang=True)),
             ("ipv4", lambda t: m.extract_ipv4s(t, refang=True)),
             ("ipv6", m.extract_ipv6s),
             ("email", lambda t: m.extract_emails(t, refang=True)),
             ("md5", m.extract_md5_hashes), ("sha1", m.extract_sha1_hashes),
             ("sha256", m.extract_sha256_hashes), ("sha512", m.extract_sha512_hashes)]
    def run(text):
        return {norm(k, v) for k, f in funcs for v in f(text)}
elif tool == "ioc-finder":
    from ioc_finder import find_iocs
    kinds = {"ipv4s": "ipv4", "ipv6s": "ipv6", "domains": "domain", "urls": "url",
             "email_addresses": "email", "md5s": "md5", "sha1s": "sha1", "sha256s": "sha256",
             "sha512s": "sha512", "ssdeeps": "ssdeep", "cves": "cve", "asns": "asn",
             "mac_addresses": "mac", "bitcoin_addresses": "btc", "monero_addresses": "xmr",
             "ethereum_addresses": "eth", "registry_key_paths": "registry",
             "user_agents": "user_agent", "attack_techniques": "attack_technique"}
    def run(text):
        found = find_iocs(text)
        out = set()
        for key, kind in kinds.items():
            values = found.get(key, [])
            if isinstance(values, dict):
                values = [v for vs in values.values() for v in vs]
            out |= {norm(kind, v) for v in values if isinstance(v, str)}
        for path_kind in ("unix", "windows"):
            out |= {norm("filepath", v) for v in found.get("file_paths", {}).get(path_kind, []) if isinstance(found.get("file_paths"), dict)} if isinstance(found.get("file_paths"), dict) else set()
        return out
else:
    from iocsearcher.searcher import Searcher
    searcher = Searcher()
    kinds = {"url": "url", "fqdn": "domain", "ip4": "ipv4", "ip6": "ipv6", "email": "email",
             "md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512", "cve": "cve",
             "bitcoin": "btc", "ethereum": "eth", "monero": "xmr", "mac": "mac", "ip4Net": "cidr"}
    def run(text):
        return {norm(kinds[i.name], i.value) for i in searcher.search_data(text) if i.name in kinds}

import signal

class Timeout(Exception):
    pass

def on_alarm(signum, frame):
    raise Timeout()

signal.signal(signal.SIGALRM, on_alarm)
limit = int(sys.argv[4])
found = set()
timeouts = []
slowest = (0.0, -1)
start = time.perf_counter()
for number, doc in enumerate(docs):
    doc_start = time.perf_counter()
    signal.alarm(limit)
    try:
        found |= run(doc)
    except Timeout:
        timeouts.append((number, len(doc.encode())))
    finally:
        signal.alarm(0)
    slowest = max(slowest, (time.perf_counter() - doc_start, number))
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "found": sorted(found), "timeouts": timeouts,
                  "slowest": slowest}))
'''


def run_peer(python, tool, docs_file):
    out = subprocess.run([str(python), "-c", PEER_SCRIPT, tool, str(docs_file), "1",
                          str(DOC_TIMEOUT)],
                         check=True, capture_output=True, text=True, timeout=7200)
    result = json.loads(out.stdout)
    notes = ""
    if result["timeouts"]:
        sizes = ", ".join(f"{b / 1e3:.0f} KB" for _, b in result["timeouts"])
        notes = f"{len(result['timeouts'])} report(s) timed out after {DOC_TIMEOUT} s ({sizes})"
    seconds_slowest, number = result["slowest"]
    notes += f"{'; ' if notes else ''}slowest report {seconds_slowest:.1f} s (#{number})"
    return result["seconds"], {tuple(x) for x in result["found"]}, notes


def run_ctiforge(binary, docs):
    lines = "".join(json.dumps({"id": i, "text": d}) + "\n" for i, d in enumerate(docs))
    times, found, flagged = [], set(), set()
    for _ in range(RUNS):
        start = time.perf_counter()
        out = subprocess.run([str(binary), "ioc", "extract", "--jsonl", "--all", "-"],
                             input=lines, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
    for line in out.stdout.splitlines():
        for ioc in json.loads(line)["iocs"]:
            pairs = [(ioc["type"], ioc["value"])]
            # The peers list the hosts of URLs and e-mails as domains and addresses of their
            # own; ctiforge reports them in the `host` field. Count them the same way.
            host = ioc.get("host")
            if host:
                kind = "ipv6" if ":" in host else "ipv4" if host.replace(".", "").isdigit() else "domain"
                pairs.append((kind, host))
            for pair in pairs:
                (flagged if ioc.get("false_positive") else found).add(pair)
    return statistics.median(times), found, flagged - found


def main():
    docs = corpus()
    size = sum(len(d.encode()) for d in docs)
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    docs_file = results_dir / ".tram_reports.json"
    docs_file.write_text(json.dumps(docs))
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    binary = ROOT / "target" / "release" / "ctiforge"
    python = ensure_venv()

    seconds, ours, flagged = run_ctiforge(binary, docs)
    tools = {"ctiforge": (seconds, ours)}
    notes = {"ctiforge": f"median of {RUNS} runs, whole process (start, knowledge base, extraction)"}
    for tool in ["iocextract", "ioc-finder", "iocsearcher"]:
        print(f"running {tool} ...", file=sys.stderr, flush=True)
        seconds_peer, found_peer, notes[tool] = run_peer(python, tool, docs_file)
        tools[tool] = (seconds_peer, found_peer)

    kinds = sorted({k for _, found in tools.values() for k, _ in found})
    print(f"corpus: {len(docs)} reports, {size / 1e6:.2f} MB\n")
    header = "| type | " + " | ".join(tools) + " |"
    print(header)
    print("|" + "---|" * (len(tools) + 1))
    for kind in kinds:
        row = [str(sum(1 for k, _ in found if k == kind)) for _, found in tools.values()]
        print(f"| {kind} | " + " | ".join(row) + " |")
    print("| **seconds** | " + " | ".join(f"{s:.2f}" for s, _ in tools.values()) + " |")
    print("| **MB/s** | " + " | ".join(f"{size / 1e6 / s:.2f}" for s, _ in tools.values()) + " |")
    print(f"\nctiforge also flagged {len(flagged)} distinct values as false positives (with reasons).")
    for tool, note in notes.items():
        print(f"- {tool}: {note}")

    with open(results_dir / "ioc_peer_only.txt", "w") as report:
        for tool in ["iocextract", "ioc-finder", "iocsearcher"]:
            only = sorted(tools[tool][1] - ours)
            in_flagged = [p for p in only if p in flagged]
            report.write(f"## found by {tool}, not reported by ctiforge: {len(only)} "
                         f"({len(in_flagged)} of them flagged by ctiforge as false positives)\n")
            for kind, value in only:
                mark = "  [flagged]" if (kind, value) in flagged else ""
                report.write(f"{kind}\t{value}{mark}\n")
    print(f"peer-only indicators: {results_dir / 'ioc_peer_only.txt'}")


if __name__ == "__main__":
    main()
