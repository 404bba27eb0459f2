#!/usr/bin/env python3
"""Rule-by-rule comparison of `ctiforge sigma convert` with pySigma's backends.

Usage:
  sigma_parity.py --ctiforge BIN --rules DIR [DIR...] --target T [--pipeline P] [--json OUT]

Run it with the Python that has pySigma and the backend installed (bench/sigma-parity.sh
makes the virtual environments). For each rule both converters see, the queries are
compared three ways:

  exact    equal after collapsing whitespace;
  tokens   equal as multisets of tokens once parentheses are dropped and and/or/not are
           lower-cased (this forgives grouping, ordering and spacing, and nothing else);
  documented  equal once pySigma's form is rewritten into ours where ours differs by
           design (DOCUMENTED below; BENCHMARKS.md gives the reasons);
  differ   anything else.

Rules that only one side converts are counted apart. A sample of differences is printed
for inspection.
"""

import argparse
import collections
import json
import re
import subprocess
import sys
import time

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|[^\s()"\']+')
KEYWORDS = {"and", "or", "not"}


def backend_for(target):
    if target == "splunk":
        from sigma.backends.splunk import SplunkBackend
        return SplunkBackend
    if target == "lucene":
        from sigma.backends.elasticsearch import LuceneBackend
        return LuceneBackend
    if target == "esql":
        from sigma.backends.elasticsearch import ESQLBackend
        return ESQLBackend
    if target == "eql":
        from sigma.backends.elasticsearch import EqlBackend
        return EqlBackend
    if target == "kusto":
        from sigma.backends.kusto import KustoBackend
        return KustoBackend
    if target == "logscale":
        from sigma.backends.crowdstrike import LogScaleBackend
        return LogScaleBackend
    if target == "sql":
        from sigma.backends.sqlite import sqliteBackend
        return sqliteBackend
    if target == "aql":
        from sigma.backends.QRadarAQL import QRadarAQLBackend
        return QRadarAQLBackend
    raise SystemExit(f"no pySigma backend for {target}")


def normalize(query):
    return " ".join(query.split())


# A list written as one test, per target: the opening (field captured), how each member is
# written again as its own test, and the separator between members.
LISTS = {
    "splunk": (r'("[^"]+"|[\w.@-]+) IN \(', "{f}={v}", " OR "),
    "lucene": (r'([\w.@-]+):\(', "{f}:{v}", " OR "),
    "esql": (r'([\w.@`-]+) in \(', "{f}=={v}", " or "),
    "eql": (r'([\w.@`-]+) (?:like~|in~|:) \(', "{f}:{v}", " or "),
    "kusto": (r'([\w.@\[\]\'-]+) in~ \(', "{f} =~ {v}", " or "),
    "sql": (r'([\w."-]+) IN \(', "{f}={v}", " OR "),
    "aql": (r'([\w."-]+) IN \(', "{f}={v}", " OR "),
    "logscale": (r'^$', "", ""),
}
MEMBER = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|(?:\\.|[^,\s()])+')


def expand_lists(query, target):
    """Writes `field IN (a, b)` as `field=a OR field=b` in the target's syntax."""
    opener, member, separator = LISTS[target]
    pattern = re.compile(opener)
    out, position = [], 0
    while True:
        found = pattern.search(query, position)
        if not found:
            out.append(query[position:])
            return "".join(out)
        start = found.end()
        depth, i, quote = 1, start, None
        while i < len(query) and depth:
            c = query[i]
            if quote:
                if c == "\\":
                    i += 1
                elif c == quote:
                    quote = None
            elif c in "\"'":
                quote = c
            elif c == "\\":
                i += 1
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            i += 1
        inner = query[start : i - 1]
        members = [m for m in MEMBER.findall(inner) if m.upper() != "OR"]
        out.append(query[position : found.start()])
        out.append("(" + separator.join(member.format(f=found.group(1), v=m) for m in members) + ")")
        position = i


def unquote_fields(query, target):
    """Field-name quoting differs where pySigma leaves a name bare that the language needs
    quoted (EQL backticks, Kusto ['name']); it is compared without it."""
    if target == "eql":
        return re.sub(r"`([^`]*)`", r"\1", query)
    if target == "kusto":
        query = re.sub(r"\['([^']*)'\]", r"\1", query)
        return re.sub(r"''?([\w.@-]+)''?", r"\1", query)
    if target == "sql":
        query = re.sub(r"`([^`]*)`", r"\1", query)
    if target in ("aql", "sql"):
        return re.sub(r'"([\w .@-]+)"(?=\s*(?:=|LIKE|ILIKE|IN|IS|MATCHES|IMATCHES|GLOB|REGEXP|<|>|!))', r"\1", query)
    return query


def sql_equals_as_like(match):
    value = match.group(2).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{match.group(1)} LIKE '{value}' ESCAPE '\\'"


# Differences that are ours by design (BENCHMARKS.md explains each); `--documented` rewrites
# pySigma's form into ours before comparing, and the result is reported separately.
DOCUMENTED = {
    # Sigma matches case-insensitively; SQLite's `=` does not, its LIKE does (ASCII).
    "sql": [(re.compile(r"([\w.`\"-]+)='((?:[^']|'')*)'"), sql_equals_as_like)],
}


def documented(query, target):
    for pattern, replacement in DOCUMENTED.get(target, []):
        query = pattern.sub(replacement, query)
    return query


def tokens(query, target):
    out = []
    for tok in TOKEN.findall(expand_lists(unquote_fields(query, target), target)):
        low = tok.lower()
        out.append(low if low in KEYWORDS else tok)
    return sorted(out)


def pysigma_queries(paths, target, pipeline):
    from sigma.collection import SigmaCollection
    from sigma.rule import SigmaRule

    backend_class = backend_for(target)
    if pipeline:
        from sigma.plugins import InstalledSigmaPlugins
        plugins = InstalledSigmaPlugins.autodiscover()
        resolver = plugins.get_pipeline_resolver()
        backend = backend_class(processing_pipeline=resolver.resolve([pipeline]))
    else:
        backend = backend_class()
    started = time.perf_counter()
    collection = SigmaCollection.load_ruleset(paths, collect_errors=True)
    out = {}
    for rule in collection.rules:
        if not isinstance(rule, SigmaRule) or rule.id is None:
            continue
        try:
            queries = backend.convert_rule(rule)
            out[str(rule.id)] = ("ok", "\n".join(str(q) for q in queries))
        except Exception as error:  # pySigma raises many exception types per rule
            out[str(rule.id)] = ("error", f"{type(error).__name__}: {error}")
    return out, time.perf_counter() - started


def ctiforge_queries(binary, paths, target, pipeline):
    command = [binary, "sigma", "convert", "--target", target, "--format", "jsonl"]
    if pipeline:
        command += ["--pipeline", pipeline]
    started = time.perf_counter()
    done = subprocess.run(command + paths, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    out = {}
    for line in done.stdout.splitlines():
        record = json.loads(line)
        if record["kind"] != "rule" or record["id"] is None:
            continue
        if record["query"] is not None:
            out[record["id"]] = ("ok", record["query"])
        else:
            out[record["id"]] = ("error", record["error"])
    return out, elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ctiforge", required=True)
    parser.add_argument("--rules", nargs="+", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--pipeline")
    parser.add_argument("--json")
    parser.add_argument("--samples", type=int, default=12)
    args = parser.parse_args()

    theirs, their_time = pysigma_queries(args.rules, args.target, args.pipeline)
    ours, our_time = ctiforge_queries(args.ctiforge, args.rules, args.target, args.pipeline)

    counts = collections.Counter()
    samples = collections.defaultdict(list)
    for rule_id in sorted(set(theirs) | set(ours)):
        t = theirs.get(rule_id, ("missing", ""))
        o = ours.get(rule_id, ("missing", ""))
        if t[0] == "ok" and o[0] == "ok":
            if normalize(t[1]) == normalize(o[1]):
                kind = "exact"
            elif tokens(t[1], args.target) == tokens(o[1], args.target):
                kind = "tokens"
            elif tokens(documented(t[1], args.target), args.target) == tokens(o[1], args.target):
                kind = "documented"
            else:
                kind = "differ"
        elif t[0] == "ok":
            kind = "only_pysigma"
        elif o[0] == "ok":
            kind = "only_ctiforge"
        else:
            kind = "neither"
        counts[kind] += 1
        if kind in ("differ", "only_pysigma", "only_ctiforge"):
            samples[kind].append({"id": rule_id, "pysigma": t[1], "ctiforge": o[1]})

    both = counts["exact"] + counts["tokens"] + counts["documented"] + counts["differ"]
    result = {
        "target": args.target,
        "pipeline": args.pipeline,
        "rules": len(set(theirs) | set(ours)),
        "both_converted": both,
        "exact": counts["exact"],
        "tokens": counts["tokens"],
        "documented": counts["documented"],
        "differ": counts["differ"],
        "only_pysigma": counts["only_pysigma"],
        "only_ctiforge": counts["only_ctiforge"],
        "neither": counts["neither"],
        "agreement": round((counts["exact"] + counts["tokens"]) / both, 4) if both else None,
        "agreement_with_documented": round(
            (counts["exact"] + counts["tokens"] + counts["documented"]) / both, 4
        ) if both else None,
        "pysigma_seconds": round(their_time, 3),
        "ctiforge_seconds": round(our_time, 3),
    }
    print(json.dumps(result, indent=2))
    for kind, items in samples.items():
        print(f"\n## {kind}: {len(items)}", file=sys.stderr)
        for item in items[: args.samples]:
            print(f"- {item['id']}\n  pysigma : {item['pysigma'][:400]}\n  ctiforge: {item['ctiforge'][:400]}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": result, "differences": samples}, f, indent=1)


if __name__ == "__main__":
    main()
