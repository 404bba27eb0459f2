#!/usr/bin/env python3
"""IOC extraction scored on a peer's public test cases: ioc-finder's `find_iocs` cases.

    python3 bench/ioc_suite.py [--ctiforge BIN] [--misses FILE]

Fetches the ioc-finder 9.4.1 source distribution from PyPI (pip download, cached in
bench/.ioc-suite/), loads the cases of its tests/find_iocs_cases (text, expected indicators
per type, options), runs `ctiforge ioc extract --jsonl --all` on every text at once, and scores
precision, recall and F1 per type on the types both tools have, micro-averaged overall. The
cases are ioc-finder's, written for ioc-finder, so they measure how far we read indicators as
another project's authors expect, not a ground truth: a value they do not list counts against
us even when it is a real indicator.

Rules of the comparison:
- `--all`, so that documentation values (example.com, 192.0.2.1) count, as in the cases.
- Domains ctiforge derives from URL and e-mail hosts count as domains (ioc-finder lists the
  host of each URL too), except in cases that turn that off (`parse_domain_from_url`).
- Cases of ioc-finder's own type filter (`included_ioc_types`) are left out.
- Values compared as written, domains, e-mails and hashes lower-cased, a URL's scheme and host
  lower-cased; ASNs, IPv6 and MAC addresses in one spelling (`ASN1234` = `AS1234`); ioc-finder's
  XMPP addresses (e-mail-shaped, on Jabber servers) are e-mail addresses to us.
"""
import argparse
import collections
import ipaddress
import json
import os
import subprocess
import sys
import tarfile
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".ioc-suite"
PACKAGE = "ioc-finder==9.4.1"
SDIST = "ioc_finder-9.4.1"

# ioc-finder's key -> ours.
TYPES = {
    "urls": "url", "domains": "domain", "ipv4s": "ipv4", "ipv6s": "ipv6",
    "ipv4_cidrs": "cidr", "ipv6_cidrs": "cidr", "email_addresses": "email",
    "md5s": "md5", "sha1s": "sha1", "sha256s": "sha256", "sha512s": "sha512",
    "ssdeeps": "ssdeep", "imphashes": "imphash", "authentihashes": "authentihash",
    "cves": "cve", "asns": "asn", "mac_addresses": "mac", "bitcoin_addresses": "btc",
    "monero_addresses": "xmr", "ethereum_addresses": "eth", "registry_key_paths": "registry",
    "file_paths": "filepath", "user_agents": "user_agent", "xmpp_addresses": "email",
    "attack_techniques": "attack_technique", "attack_tactics": "attack_tactic",
    "attack_mitigations": "attack_mitigation",
}
OURS = set(TYPES.values())
LOWER = {"domain", "email", "md5", "sha1", "sha256", "sha512", "imphash", "authentihash",
         "mac", "cve"}


def cases():
    """ioc-finder's cases as (id, text, expected {our type: set}, options)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"{SDIST}.tar.gz"
    if not archive.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--no-binary", ":all:", PACKAGE, "-d", str(CACHE)], check=True)
    folder = CACHE / SDIST
    if not folder.exists():
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers()
                       if m.name.startswith(f"{SDIST}/tests/find_iocs_cases/")]
            tar.extractall(CACHE, members=members, filter="data")
    # The cases are pytest params; a stand-in keeps pytest out of the way.
    stub = types.ModuleType("pytest")
    stub.param = lambda *values, id=None, **_: (id, *values)
    sys.modules["pytest"] = stub
    # The type-filter cases import ioc-finder's type list; they are left out anyway.
    finder = types.ModuleType("ioc_finder.ioc_finder")
    finder.SUPPORTED_IOC_TYPES = []
    sys.modules["ioc_finder"] = types.ModuleType("ioc_finder")
    sys.modules["ioc_finder.ioc_finder"] = finder
    sys.path.insert(0, str(folder / "tests"))
    import find_iocs_cases  # noqa: E402

    out = []
    for n, case in enumerate(find_iocs_cases.ALL_TESTS):
        case_id, text, expected, options = case
        if "included_ioc_types" in options:
            continue
        want = collections.defaultdict(set)
        for key, values in expected.items():
            ours = TYPES.get(key)
            if ours is None:
                continue
            if isinstance(values, dict):  # ATT&CK: {"enterprise": [...], "pre_attack": [...]}
                values = [v for sub in values.values() for v in sub]
            for value in values:
                want[ours].add(normalise(ours, value))
        out.append((case_id or f"case {n}", text, want, options))
    return out


def normalise(kind, value):
    """One spelling per value where the two tools write the same thing differently."""
    value = value.strip()
    if kind == "asn":  # ASN1234, AS1234, as 1234
        return "AS" + "".join(c for c in value if c.isdigit())
    if kind == "ipv6":
        try:
            return str(ipaddress.IPv6Address(value))
        except ValueError:
            return value.lower()
    if kind == "mac":  # aa-f2-..., AA:F2:..., acf2.c9a6.b34f
        return "".join(c for c in value.lower() if c in "0123456789abcdef")
    if kind in LOWER:
        return value.lower()
    if kind == "url" and "://" in value:
        scheme, rest = value.split("://", 1)
        host, sep, path = rest.partition("/")
        return f"{scheme.lower()}://{host.lower()}{sep}{path}"
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ctiforge", default=str(ROOT / "target" / "release" / "ctiforge"))
    parser.add_argument("--misses", help="write every miss and extra, per case, to this file")
    args = parser.parse_args()
    suite = cases()
    batch = "".join(json.dumps({"id": i, "text": text}) + "\n"
                    for i, (_, text, _, _) in enumerate(suite))
    done = subprocess.run([args.ctiforge, "ioc", "extract", "--jsonl", "--all"],
                          input=batch.encode(), capture_output=True, check=True)
    found = {}
    for line in done.stdout.decode().splitlines():
        record = json.loads(line)
        found[record["id"]] = record["iocs"]
    counts = collections.defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    notes = []
    for i, (case_id, text, want, options) in enumerate(suite):
        got = collections.defaultdict(set)
        for ioc in found.get(i, []):
            kind = ioc["type"]
            if kind not in OURS:
                continue
            derived = ioc.get("derived_from")
            if derived and not options.get("parse_domain_from_url", True):
                continue
            got[kind].add(normalise(kind, ioc["value"]))
        for kind in OURS:
            tp = got[kind] & want[kind]
            fp = got[kind] - want[kind]
            fn = want[kind] - got[kind]
            counts[kind][0] += len(tp)
            counts[kind][1] += len(fp)
            counts[kind][2] += len(fn)
            if fp or fn:
                notes.append(f"{case_id} [{kind}] text={text[:160]!r}\n"
                             f"  missed: {sorted(fn)}\n  extra:  {sorted(fp)}")
    rows = []
    total = [0, 0, 0]
    for kind in sorted(counts):
        tp, fp, fn = counts[kind]
        if tp + fp + fn == 0:
            continue
        total = [a + b for a, b in zip(total, (tp, fp, fn))]
        rows.append((kind, tp, fp, fn))
    print(f"{len(suite)} cases of {PACKAGE}'s find_iocs tests")
    print(f"{'type':<18}{'tp':>5}{'fp':>5}{'fn':>5}{'P':>7}{'R':>7}{'F1':>7}")
    for kind, tp, fp, fn in rows + [("micro", *total)]:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        print(f"{kind:<18}{tp:>5}{fp:>5}{fn:>5}{p:>7.3f}{r:>7.3f}{f:>7.3f}")
    if args.misses:
        Path(args.misses).write_text("\n".join(notes) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
