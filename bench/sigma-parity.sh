#!/usr/bin/env bash
# Sigma conversion against pySigma: agreement per target and speed against sigma-cli.
#
#   bench/sigma-parity.sh [DATA]        (DATA defaults to ../shared/data)
#
# Makes two virtual environments (pySigma's QRadar backend pins an older pySigma), builds
# ctiforge, compares rule by rule (bench/sigma_parity.py) for every target pySigma has a
# backend for, without a pipeline and with the standard pipelines, and times `sigma convert`
# against `ctiforge sigma convert` on the whole
# collection (3 runs each, median). Results: bench/results/sigma_parity.json.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-${CTIFORGE_DATA:-../shared/data}}"
RULES=("$DATA/sigma/rules" "$DATA/sigma/rules-emerging-threats" "$DATA/sigma/rules-threat-hunting")
MAIN="${SIGMA_VENV:-bench/.venv-sigma}"
AQL="${SIGMA_AQL_VENV:-bench/.venv-sigma-aql}"

if [ ! -x "$MAIN/bin/sigma" ]; then
    python3 -m venv "$MAIN"
    "$MAIN/bin/pip" install -q sigma-cli==3.1.0 pySigma==1.5.1 pySigma-backend-splunk==2.1.0 \
        pySigma-backend-elasticsearch==2.1.1 pySigma-backend-kusto==1.0.1 \
        pySigma-backend-crowdstrike==3.0.0 pySigma-backend-sqlite==2.0.0 \
        pySigma-pipeline-sysmon==2.0.0 pySigma-pipeline-windows==2.0.1
fi
if [ ! -x "$AQL/bin/sigma" ]; then
    python3 -m venv "$AQL"
    # The QRadar backend 0.3.2 breaks on pySigma 0.11.23 and on pyparsing 3.2.
    "$AQL/bin/pip" install -q pySigma==0.11.10 pyparsing==3.1.4 sigma-cli==1.0.4 pySigma-backend-qradar-aql==0.3.2
fi
cargo build --release --locked -q
BIN=target/release/ctiforge
mkdir -p bench/results
"$MAIN/bin/pip" freeze | grep -i sigma > bench/results/sigma_parity_versions.txt
"$AQL/bin/pip" freeze | grep -i -E "sigma|qradar" | sed 's/^/aql: /' >> bench/results/sigma_parity_versions.txt

results=()
for target in splunk lucene esql eql kusto logscale sql; do
    "$MAIN/bin/python" bench/sigma_parity.py --ctiforge "$BIN" --rules "${RULES[@]}" --target "$target" \
        --json "bench/results/sigma_parity_$target.json" > "/tmp/sigma_parity_$target.summary" 2>/dev/null
    results+=("/tmp/sigma_parity_$target.summary")
done
# The standard pipeline of each target (and the generic Windows ones), rule by rule.
for pair in splunk:splunk_windows splunk:splunk_cim splunk:sysmon splunk:windows-audit splunk:windows-logsources \
        lucene:ecs_windows lucene:ecs_windows_old lucene:ecs_zeek_beats lucene:ecs_zeek_corelight lucene:ecs_kubernetes \
        lucene:ecs_macos_esf kusto:microsoft_xdr kusto:sentinel_asim; do
    target=${pair%%:*} pipeline=${pair#*:}
    "$MAIN/bin/python" bench/sigma_parity.py --ctiforge "$BIN" --rules "${RULES[@]}" --target "$target" \
        --pipeline "$pipeline" --json "bench/results/sigma_parity_${target}_$pipeline.json" \
        > "/tmp/sigma_parity_${target}_$pipeline.summary" 2>/dev/null
    results+=("/tmp/sigma_parity_${target}_$pipeline.summary")
done
"$AQL/bin/python" bench/sigma_parity.py --ctiforge "$BIN" --rules "${RULES[@]}" --target aql \
    --json bench/results/sigma_parity_aql.json > /tmp/sigma_parity_aql.summary 2>/dev/null
results+=(/tmp/sigma_parity_aql.summary)
"$AQL/bin/python" bench/sigma_parity.py --ctiforge "$BIN" --rules "${RULES[@]}" --target aql \
    --pipeline qradar-aql-fields --json bench/results/sigma_parity_aql_qradar.json \
    > /tmp/sigma_parity_aql_qradar.summary 2>/dev/null
results+=(/tmp/sigma_parity_aql_qradar.summary)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() {
    for _ in 1 2 3; do
        /usr/bin/time -f "%e" "$@" > /dev/null 2>> /tmp/sigma_time.$$ || true
        tail -1 /tmp/sigma_time.$$
    done | median
}
ours=$(time_runs "$BIN" sigma convert -t splunk "${RULES[@]}")
theirs=$(time_runs "$MAIN/bin/sigma" convert -t splunk --without-pipeline -s "${RULES[@]}")
rm -f /tmp/sigma_time.$$

python3 - "$ours" "$theirs" "${results[@]}" <<'PY'
import json, sys
ours, theirs, files = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
summaries = [json.load(open(f)) for f in files]
out = {
    "speed": {"target": "splunk", "ctiforge_seconds": ours, "sigma_cli_seconds": theirs,
              "ratio": round(theirs / ours, 1)},
    "targets": summaries,
}
json.dump(out, open("bench/results/sigma_parity.json", "w"), indent=1)
print(json.dumps(out, indent=1))
PY
