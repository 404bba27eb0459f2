#!/usr/bin/env bash
# `ctiforge hunt` speed: all SigmaHQ Windows rules over every file in ../shared/data/evtx.
#
#   bench/hunt.sh [DATA]        (DATA defaults to ../shared/data)
#
# Three runs each with and without the literal prefilter; prints the median wall time of the
# command (loading and compiling the rules included), the median time of the hunt itself (as
# the summary reports it), peak resident memory, events per second and detections. Results: bench/results/hunt.json.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-${CTIFORGE_DATA:-../shared/data}}"
cargo build --release --locked -q
BIN=target/release/ctiforge
RULES="$DATA/sigma/rules/windows"
LOGS="$DATA/evtx"
mkdir -p bench/results

run() {
    local out
    out=$(mktemp)
    /usr/bin/time -f "%e %M" -o "$out.time" "$BIN" hunt --rules "$RULES" --no-progress "$@" "$LOGS" > "$out" 2>/dev/null || true
    local seconds kb events detections hunting
    read -r seconds kb < "$out.time"
    hunting=$(grep -oE 'events read in [0-9.]+ s' "$out" | grep -oE '[0-9.]+ s' | grep -oE '[0-9.]+')
    events=$(grep -oE '[0-9]+ events read' "$out" | grep -oE '^[0-9]+')
    detections=$(grep -oE '[0-9]+ detections by' "$out" | grep -oE '^[0-9]+')
    echo "$seconds $kb $events $detections $hunting"
    rm -f "$out" "$out.time"
}

python3 - "$(for _ in 1 2 3; do run; done)" "$(for _ in 1 2 3; do run --no-prefilter; done)" \
    "$(nproc)" "$(grep -c '' <(find "$RULES" -name '*.yml'))" <<'PY'
import json, statistics, sys
def summary(block):
    rows = [list(map(float, line.split())) for line in block.strip().splitlines()]
    seconds = statistics.median(r[0] for r in rows)
    hunting = statistics.median(r[4] for r in rows)
    return {
        "median_seconds": seconds,
        "median_hunt_seconds": hunting,
        "hunt_events_per_second": round(rows[0][2] / hunting),
        "peak_rss_mb": round(max(r[1] for r in rows) / 1024, 1),
        "events": int(rows[0][2]),
        "detections": int(rows[0][3]),
        "events_per_second": round(rows[0][2] / seconds),
    }
result = {
    "rules": int(sys.argv[4]),
    "cores": int(sys.argv[3]),
    "with_prefilter": summary(sys.argv[1]),
    "without_prefilter": summary(sys.argv[2]),
}
result["prefilter_speedup"] = round(
    result["without_prefilter"]["median_seconds"] / result["with_prefilter"]["median_seconds"], 1)
json.dump(result, open("bench/results/hunt.json", "w"), indent=1)
print(json.dumps(result, indent=1))
PY
