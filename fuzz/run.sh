#!/usr/bin/env bash
# Runs every fuzz target for a set time, each from a seed corpus of real files, and keeps the
# corpus it grows (fuzz/corpus/TARGET, not committed) for the next run.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Seeds come from the shared data (CTIFORGE_DATA or ../shared/data) and the repository's own
# example reports; they are copied into an empty corpus folder only. Needs cargo-fuzz
# (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP=1 lets the pinned stable toolchain build with
# the sanitizer flags. Prints one line per target: executions, corpus size, findings; a
# finding's input is saved in fuzz/artifacts/TARGET and the script exits 1.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET="${1:-60}"
shift || true
DATA="${CTIFORGE_DATA:-$(pwd)/../../shared/data}"
[ -d "$DATA" ] || { echo "no shared data at $DATA (set CTIFORGE_DATA)" >&2; exit 2; }
ALL="extract_iocs ingest html csaf map_techniques decode_model sigma_convert hunt_readers json_logs knowledge_base"
TARGETS="${*:-$ALL}"

# seed TARGET FILE... : copies files (at most 256 KiB each) into an empty corpus.
seed() {
  local target="$1"; shift
  local dir="corpus/$target"
  mkdir -p "$dir"
  [ -z "$(ls -A "$dir")" ] || return 0
  local n=0
  for f in "$@"; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 262144 ] || continue
    cp "$f" "$dir/seed-$n"; n=$((n + 1))
  done
}

# Short texts, one per file, from the TRAM sentences (documentation values, defanged
# indicators and prose).
tram_texts() {
  local dir="$1"
  mkdir -p "$dir"
  python3 - "$DATA/tram/train.jsonl" "$dir" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for i, row in enumerate(rows[::40][:400]):
    open(f"{sys.argv[2]}/tram-{i}", "w").write(row.get("text", ""))
PY
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tram_texts "$work/tram"
reports=(../bench/real-reports/*.md ../examples/reports/*)
mapfile -t csaf < <(find "$DATA/advisories" -name '*.json' -size -64k | sort | head -120)
mapfile -t rules < <(find "$DATA/sigma/rules" -name '*.yml' | sort | awk 'NR % 12 == 0' | head -300)
mapfile -t logs < <(find "$DATA/logs" "$DATA/evtx" -type f \( -name '*.json' -o -name '*.jsonl' -o -name '*.log' -o -name '*.evtx' -o -name '*.csv' \) -size -256k | sort | awk 'NR % 3 == 0' | head -150)
mapfile -t json_logs < <(find "$DATA/logs" -type f -name '*.json' -size -64k | sort | head -100)
mapfile -t warninglists < <(find "$DATA/misp-warninglists/lists" -name list.json -size -64k | sort | head -40)
# A page of each report's text, for the HTML target.
mkdir -p "$work/html"
for f in ../bench/real-reports/*.md; do
  { echo "<html><head><title>r</title></head><body><article>"; sed 's/^/<p>/' "$f"; echo "</article></body></html>"; } > "$work/html/$(basename "$f").html"
done

seed extract_iocs "$work"/tram/* "${reports[@]}"
seed ingest "${reports[@]}" "$work"/html/* "${csaf[@]:0:20}"
seed html "$work"/html/*
seed csaf "${csaf[@]}"
seed map_techniques "$work"/tram/*
seed decode_model ../crates/attack/model/ctiforge-attack.bin
seed sigma_convert "${rules[@]}"
seed hunt_readers "${logs[@]}"
seed json_logs "${json_logs[@]}"
seed knowledge_base "${warninglists[@]}"

status=0
printf '%-16s %12s %10s %8s\n' target executions corpus findings
for target in $TARGETS; do
  log="$work/$target.log"
  mkdir -p "artifacts/$target"
  before=$(ls "artifacts/$target" | wc -l)
  RUSTC_BOOTSTRAP=1 cargo fuzz run --release "$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=262144 -rss_limit_mb=4096 -timeout=20 \
    -print_final_stats=1 > "$log" 2>&1 || true
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  found=$(( $(ls "artifacts/$target" | wc -l) - before ))
  printf '%-16s %12s %10s %8s\n' "$target" "${execs:-?}" "$(ls "corpus/$target" | wc -l)" "$found"
  if [ "$found" -gt 0 ] || grep -q 'ERROR: libFuzzer\|error: could not compile' "$log"; then
    status=1
    grep -m5 'ERROR\|panicked\|error' "$log" | sed "s/^/  $target: /"
  fi
done
exit $status
