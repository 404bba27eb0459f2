#!/usr/bin/env python3
"""Generated Sigma rules tried on real logs (issue #24).

Usage:
  rule_trial.py --ctiforge BIN --data DIR [--csaf-every N] [--markdown OUT]

Analyses real reports (examples/reports, bench/real-reports, the TRAM reports in
DATA/tram/train.jsonl, every Nth CSAF advisory), collects the Sigma rules ctiforge generates
for them (indicator rules and hunting-lead rules; placeholders filled as an untailored site
would have them: private ranges for networks), and runs them with `ctiforge hunt` over every log in DATA: the EVTX attack
samples (one recording per technique, in folders named by tactic), the OTRF Windows, Linux and
CloudTrail datasets, and the Zeek logs.

For each rule that matched anything it reports the events and sample files it matched, split
into samples of its own tactic (the attack it was written for, or one like it) and all other
logs — recordings of unrelated techniques, whose events are mostly the ordinary activity
around them. A rule that matches in many unrelated samples fires on normal activity.
"""

import argparse
import collections
import json
import pathlib
import re
import subprocess
import sys
import tempfile

LOGS = ["evtx/EVTX-ATTACK-SAMPLES", "logs/windows-json", "logs/cloudtrail", "logs/zeek", "logs/linux"]


def reports(data, work, csaf_every):
    root = pathlib.Path(__file__).resolve().parent.parent
    out = sorted((root / "examples/reports").glob("*.md")) + sorted((root / "bench/real-reports").glob("*.md"))
    texts = collections.defaultdict(list)
    for line in open(data / "tram/train.jsonl", encoding="utf-8"):
        row = json.loads(line)
        if row.get("source") == "tram2_mjson" and row.get("report"):
            texts[row["report"]].append(row["text"])
    for i, (name, sentences) in enumerate(sorted(texts.items())):
        path = work / f"tram-{i:03}.txt"
        path.write_text(" ".join(sentences), encoding="utf-8")
        out.append(path)
    advisories = sorted((data / "advisories").rglob("*.json"))
    out += advisories[::csaf_every]
    return out


def generated_rules(binary, report):
    run = subprocess.run([binary, "analyze", str(report), "--format", "json"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        print(f"analyze failed on {report}: {run.stderr.strip()[:200]}", file=sys.stderr)
        return []
    return json.loads(run.stdout)["detection"]["generated"]


def fill(name):
    """A value for a placeholder as a site that has not tailored the rule would have it:
    networks are the private ranges (every internal host, every internal destination); any
    other list gets a value nothing matches."""
    if "subnet" in name or "destination" in name or "network" in name:
        return ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    return ["ctiforge-trial-unfilled"]


def tactic_of(source):
    parts = pathlib.PurePath(source).parts
    if "EVTX-ATTACK-SAMPLES" in parts:
        i = parts.index("EVTX-ATTACK-SAMPLES")
        if i + 2 < len(parts):
            return parts[i + 1].lower().replace(" ", "-").replace("_", "-")
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ctiforge", required=True)
    parser.add_argument("--data", required=True, type=pathlib.Path)
    parser.add_argument("--csaf-every", type=int, default=8)
    parser.add_argument("--markdown")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        (work / "rules").mkdir()
        rules, variables = {}, {}
        inputs = reports(args.data, work, args.csaf_every)
        for n, report in enumerate(inputs, 1):
            if n % 20 == 0:
                print(f"analysed {n}/{len(inputs)} reports, {len(rules)} rules", file=sys.stderr)
            for rule in generated_rules(args.ctiforge, report):
                if rule["id"] in rules:
                    continue
                rule["report"] = report.name
                rules[rule["id"]] = rule
                (work / "rules" / f"{rule['id']}.yml").write_text(rule["yaml"], encoding="utf-8")
                for name, _meaning in rule.get("placeholders") or []:
                    variables.setdefault(name.strip("%"), fill(name.strip("%")))
        pipeline = work / "vars.yml"
        pipeline.write_text(json.dumps({"name": "trial_examples", "priority": 0,
                                        "vars": variables, "transformations": []}))
        logs = [str(args.data / d) for d in LOGS if (args.data / d).exists()]
        hunt = subprocess.run([args.ctiforge, "hunt", "--rules", str(work / "rules"), "--pipeline",
                               str(pipeline), "--format", "jsonl", *logs],
                              capture_output=True, text=True)
        if hunt.returncode not in (0, 1):
            sys.exit(f"hunt failed: {hunt.stderr[-2000:]}")

    hits = collections.defaultdict(lambda: {"own": collections.Counter(), "other": collections.Counter()})
    values = collections.defaultdict(collections.Counter)
    for line in hunt.stdout.splitlines():
        d = json.loads(line)
        rule = rules.get(d.get("rule_id"))
        if rule is None:
            continue
        tactics = {t.split(".", 1)[1] for t in rule.get("tags", []) if t.startswith("attack.")
                   and not t[7:8].lower() == "t"}
        source = d["source"]["file"] if isinstance(d["source"], dict) else d["source"]
        side = "own" if tactic_of(source) in {t.replace("_", "-") for t in tactics} else "other"
        hits[rule["id"]][side][source] += 1
        for field in (d.get("matched") or {}).get("fields") or []:
            values[rule["id"]][f'{field["field"]}={field["value"]}'] += 1

    rows = []
    for rid, rule in sorted(rules.items(), key=lambda kv: kv[1]["title"]):
        h = hits.get(rid)
        own = h["own"] if h else collections.Counter()
        other = h["other"] if h else collections.Counter()
        rows.append({"id": rid, "title": rule["title"], "report": rule["report"], "origin": rule["origin"],
                     "files": sorted(set(own) | set(other)),
                     "matched": [v for v, _ in values[rid].most_common(3)],
                     "logsource": rule["logsource"],
                     "own_events": sum(own.values()), "own_files": len(own),
                     "other_events": sum(other.values()), "other_files": len(other)})
    summary = {"reports": len(inputs), "rules": len(rules),
               "rules_matching": sum(1 for r in rows if r["own_events"] or r["other_events"]),
               "rules_matching_other_logs": sum(1 for r in rows if r["other_files"]),
               "logs": LOGS}
    print(json.dumps({"summary": summary, "rules": rows}, indent=1))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("| report | rule | what matched (most often) | own-tactic samples: events (files) | other logs: events (files) |\n|---|---|---|---|---|\n")
            for r in sorted(rows, key=lambda r: -r["other_files"]):
                if r["own_events"] or r["other_events"]:
                    # Values as the logs have them, user SIDs masked.
                    shown = [re.sub(r"S-1-5-21-[\d-]+", "<SID>", m)[:60] for m in r["matched"]]
                    matched = "; ".join(f"`{m}`" for m in dict.fromkeys(shown)).replace("|", "\\|")
                    f.write(f"| {r['report']} | {r['title'].split(' reported')[0].split(' from')[0].split(' named')[0]} ({r['logsource']}) | {matched} | {r['own_events']} ({r['own_files']}) | {r['other_events']} ({r['other_files']}) |\n")


if __name__ == "__main__":
    main()
