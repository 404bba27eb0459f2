#!/usr/bin/env bash
# Load on `ctiforge serve`: reports analysed per minute, and requests per second with p99
# latency for a TAXII object page (50 objects), a report search and a submission, for one
# instance on SQLite, one on PostgreSQL and two on one PostgreSQL database; beside nginx
# serving the same TAXII page as a static file in the same run (the ceiling).
#
#   bench/serve.sh [SECONDS]          (wrk duration per measurement, default 10)
#
# Needs wrk and nginx (apt-get install wrk nginx-light), PostgreSQL (apt-get install
# postgresql), python3, and the shared data (CTIFORGE_DATA or ../shared/data) for the TRAM
# reports it submits. Results go to stdout; copy them into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-10}"
DATA="${CTIFORGE_DATA:-$(pwd)/../shared/data}"
WORK="$(pwd)/target/bench-serve"
rm -rf "$WORK"
mkdir -p "$WORK/reports"
cargo build --release -q -p ctiforge
BIN="$(pwd)/target/release/ctiforge"

# 40 distinct TRAM reports to submit.
python3 - "$DATA/tram/train.jsonl" "$WORK/reports" <<'PY'
import json, sys
reports = {}
for line in open(sys.argv[1], encoding="utf-8"):
    row = json.loads(line)
    if row.get("source") == "tram2_mjson":
        reports.setdefault(row["report"], []).append((int(row["id"].rsplit(":", 1)[1]), row["text"]))
for n, (name, rows) in enumerate(sorted(reports.items())[:40]):
    text = "\n".join(t for _, t in sorted(rows))
    json.dump({"text": text, "name": name}, open(f"{sys.argv[2]}/{n:02}.json", "w"))
PY

pg_dir="$WORK/pg"
PG="$(.ci/postgres.sh start "$pg_dir")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  .ci/postgres.sh stop "$pg_dir"
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT

start() { # DB LOG -> prints base URL
  "$BIN" serve --db "$1" --listen 127.0.0.1:0 --workers 2 > "$2.out" 2> "$2" &
  pids+=($!)
  for _ in $(seq 100); do
    if grep -q "listening on" "$2.out" 2>/dev/null; then break; fi
    sleep 0.1
  done
  sed -n 's/^listening on //p' "$2.out"
}

analyse_batch() { # TOKEN URL... -> reports per minute
  local token="$1"; shift
  local urls=("$@") jobs=() started ended n=0
  started=$(date +%s.%N)
  for file in "$WORK"/reports/*.json; do
    local url="${urls[$((n % ${#urls[@]}))]}"
    jobs+=("$url $(curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      --data-binary @"$file" "$url/api/v1/reports" | python3 -c 'import json,sys; print(json.load(sys.stdin)["job"])')")
    n=$((n + 1))
  done
  for entry in "${jobs[@]}"; do
    local url="${entry% *}" id="${entry#* }"
    until curl -s -H "Authorization: Bearer $token" "$url/api/v1/jobs/$id" | grep -q '"status":"done"'; do sleep 0.2; done
  done
  ended=$(date +%s.%N)
  python3 -c "print(f'{$n / (($ended - $started) / 60):.0f}')"
}

measure() { # LABEL URL [wrk args...]: requests/s and p99 latency
  local label="$1" url="$2"; shift 2
  local out
  out=$(wrk -t2 -c8 -d"${SECONDS_PER_RUN}s" --latency "$@" "$url")
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  printf '  %-34s %10s req/s  p99 %s\n' "$label" "$rps" "$p99"
}

GREEN=9a3c7e52-0d4b-4f6e-8a1c-2b5d7f901a03
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"text": "The actor ran vssadmin delete shadows /all /quiet on the file server."}'
LUA

run_setup() { # LABEL DB [INSTANCES]
  local label="$1" db="$2" instances="${3:-1}" urls=() token basic
  token=$("$BIN" token create --db "$db" --name bench --role admin 2>/dev/null | tail -1)
  basic=$(printf 'bench:%s' "$token" | base64 -w0)
  for i in $(seq "$instances"); do urls+=("$(start "$db" "$WORK/$label-$i.log")"); done
  echo "$label (${#urls[@]} instance(s), 2 workers each)"
  echo "  reports analysed per minute: $(analyse_batch "$token" "${urls[@]}")"
  local taxii="/taxii2/api/collections/$GREEN/objects/?limit=50"
  measure "TAXII page of 50 objects" "${urls[0]}$taxii" -H "Authorization: Basic $basic" -H "Accept: application/taxii+json;version=2.1"
  measure "report search (q=ransomware)" "${urls[0]}/api/v1/reports?q=ransomware" -H "Authorization: Bearer $token"
  measure "submission (recognised text)" "${urls[0]}/api/v1/reports" -H "Authorization: Bearer $token" -s "$WORK/post.lua"
  curl -s -H "Authorization: Basic $basic" -H "Accept: application/taxii+json;version=2.1" "${urls[0]}$taxii" > "$WORK/taxii-page.json"
  if [ "$instances" -gt 1 ]; then
    # Both instances at once, one wrk each: the sum of their rates.
    local i=0
    for url in "${urls[@]}"; do
      wrk -t1 -c4 -d"${SECONDS_PER_RUN}s" -H "Authorization: Basic $basic" \
        -H "Accept: application/taxii+json;version=2.1" "$url$taxii" > "$WORK/both-$i.txt" &
      i=$((i + 1))
    done
    wait
    printf '  %-34s %10s req/s\n' "TAXII page, all instances at once" \
      "$(cat "$WORK"/both-*.txt | awk '/Requests\/sec/ {s += $2} END {printf "%.0f", s}')"
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  pids=()
  sleep 1
}

echo "ctiforge serve load, $(date -u +%F), $(nproc) cores, wrk ${SECONDS_PER_RUN}s per measurement, 2 threads, 8 connections"
run_setup "sqlite" "sqlite://$WORK/store.db" 1
psql_bin="$(ls /usr/lib/postgresql/*/bin/psql | tail -1)"
createdb() { "$psql_bin" -q "$PG/postgres" -c "CREATE DATABASE $1" >/dev/null; }
createdb ctiforge_one
run_setup "postgres" "$PG/ctiforge_one" 1
createdb ctiforge_two
run_setup "postgres-2" "$PG/ctiforge_two" 2

# The ceiling: nginx serving the same TAXII page as a file.
mkdir -p "$WORK/www"
cp "$WORK/taxii-page.json" "$WORK/www/page.json"
cat > "$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:18099;
    root $WORK/www;
    location / { default_type application/taxii+json; }
  }
}
CONF
nginx -c "$WORK/nginx.conf"
sleep 0.5
echo "nginx (the same TAXII page as a static file)"
measure "static TAXII page" "http://127.0.0.1:18099/page.json"
