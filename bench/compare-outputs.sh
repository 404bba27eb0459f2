#!/usr/bin/env bash
# Compares every output of `ctiforge analyze` between two builds, on the example reports and on
# the TRAM corpus (each of the 106 training reports rebuilt as one text file from
# tram/train.jsonl), so that a refactoring can show it changed nothing it did not mean to.
#
#   bench/compare-outputs.sh BASE_BINARY [HEAD_BINARY]
#
# HEAD_BINARY defaults to target/release/ctiforge (build it first). BASE_BINARY is an earlier
# build, e.g. one built from a worktree of the commit before the change. The outputs go to
# target/compare-outputs/{base,head}; the script prints a summary, lists every file that
# differs, and exits 1 when any does. Pass ONLY=json,md (a --format list) to compare fewer
# formats. The marker file .ctiforge-output (new on 2026-12-05) is not compared. Needs the shared data (CTIFORGE_DATA or ../shared/data) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${1:?usage: bench/compare-outputs.sh BASE_BINARY [HEAD_BINARY]}"
HEAD="${2:-target/release/ctiforge}"
FORMATS="${ONLY:-all}"
DATA="${CTIFORGE_DATA:-$(pwd)/../shared/data}"
WORK="$(pwd)/target/compare-outputs"
rm -rf "$WORK"
mkdir -p "$WORK/inputs" "$WORK/base" "$WORK/head"

cp examples/reports/*.md "$WORK/inputs/"
python3 - "$DATA/tram/train.jsonl" "$WORK/inputs" <<'PY'
import json, re, sys
reports = {}
for line in open(sys.argv[1], encoding="utf-8"):
    row = json.loads(line)
    if row.get("source") != "tram2_mjson":
        continue
    index = int(row["id"].rsplit(":", 1)[1])
    reports.setdefault(row["report"], []).append((index, row["text"]))
for n, (name, rows) in enumerate(sorted(reports.items())):
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    with open(f"{sys.argv[2]}/tram-{n:03}-{slug}.txt", "w", encoding="utf-8") as out:
        out.write("\n".join(text for _, text in sorted(rows)) + "\n")
PY
count=$(ls "$WORK/inputs" | wc -l)
echo "comparing $count reports (formats: $FORMATS)" >&2

run() {
    local binary="$1" out="$2"
    "$binary" analyze "$WORK"/inputs/* -o "$out" --format "$FORMATS" \
        --now 2026-01-01T00:00:00Z --siem splunk,kusto,lucene,esql,eql,logscale,qradar,sql \
        2> "$out.log" || { echo "$binary failed; see $out.log" >&2; exit 2; }
}
run "$BASE" "$WORK/base"
run "$HEAD" "$WORK/head"

if diff -rq -x .ctiforge-output "$WORK/base" "$WORK/head" > "$WORK/diff.txt"; then
    echo "identical: $(find "$WORK/head" -type f | wc -l) files from $count reports"
else
    echo "DIFFERENT: $(wc -l < "$WORK/diff.txt") files (listed in $WORK/diff.txt)"
    head -20 "$WORK/diff.txt"
    exit 1
fi
