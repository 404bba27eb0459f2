#!/usr/bin/env bash
# The CSAF benchmark (issue #17): CISA's 478 CSAF advisories in ../shared/data rendered to the
# text of their web pages, analysed by `ctiforge analyze` like any report, and scored against
# the advisories' structured fields (products, versions, CVEs, remediations, the exploitation
# statement, sectors, recommended practices), split into a dev half and a held-out test half.
#
#   bench/csaf.sh [CTIFORGE_BINARY] [OUT_DIR]
#
# CTIFORGE_BINARY defaults to this tree's release build; pass an older binary to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${CTIFORGE_DATA:-../shared/data}"
cargo build --release -q -p ctiforge -p ctiforge-bench
binary="${1:-target/release/ctiforge}"
out="${2:-target/bench-csaf}"
rm -rf "$out"
target/release/csaf-bench render "$data" "$out"
# One analyze run over every advisory (inputs run in parallel, one folder each).
"$binary" analyze "$out"/text/*.md -o "$out/analyses" --format json --now 2026-12-01T00:00:00Z 2>"$out/analyze.log"
target/release/csaf-bench score "$data" "$out"
