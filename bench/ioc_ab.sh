#!/usr/bin/env bash
# IOC extraction: the current tree against an earlier commit, on the same machine in one run.
#
#   bench/ioc_ab.sh BASE [ROUNDS]      (BASE: a commit, e.g. 1755c34; ROUNDS defaults to 11)
#
# Builds the `throughput` example of both (the base in a worktree with its own target folder,
# with this tree's example copied in, since the example may postdate the base), then runs them
# alternately ROUNDS times per corpus and mode, and prints the median MiB/s of each and the
# ratio. Alternating runs keep the machine's drift out of the ratio; the absolute figures still
# move with it. Needs the shared data (CTIFORGE_DATA or ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${1:?usage: bench/ioc_ab.sh BASE [ROUNDS]}"
ROUNDS="${2:-11}"
export CTIFORGE_DATA="${CTIFORGE_DATA:-$(pwd)/../shared/data}"
WORK="$(pwd)/target/ioc-ab"
mkdir -p "$WORK"
rm -rf "$WORK/base"
git worktree add --force --detach "$WORK/base" "$BASE" >/dev/null
trap 'git worktree remove --force "$WORK/base"' EXIT
mkdir -p "$WORK/base/crates/ioc/examples" "$WORK/base/crates/ioc/benches/support"
cp crates/ioc/examples/throughput.rs "$WORK/base/crates/ioc/examples/"
cp crates/ioc/benches/support/corpus.rs "$WORK/base/crates/ioc/benches/support/"
echo "building $BASE and the current tree ..." >&2
(cd "$WORK/base" && CARGO_TARGET_DIR="$WORK/target" cargo build --release -q -p ctiforge-ioc --example throughput)
cargo build --release -q -p ctiforge-ioc --example throughput
cp "$WORK/target/release/examples/throughput" "$WORK/throughput-base"
cp target/release/examples/throughput "$WORK/throughput-now"

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

printf '%-28s %10s %10s %7s\n' "corpus" "$BASE" "now" "ratio"
for setup in "tram 20" "tram 20 --warninglists" "attack 8"; do
    : > "$WORK/a"
    : > "$WORK/b"
    for _ in $(seq "$ROUNDS"); do
        # shellcheck disable=SC2086
        "$WORK/throughput-base" $setup | awk '{print $2}' >> "$WORK/a"
        # shellcheck disable=SC2086
        "$WORK/throughput-now" $setup | awk '{print $2}' >> "$WORK/b"
    done
    a=$(median < "$WORK/a")
    b=$(median < "$WORK/b")
    printf '%-28s %10s %10s %7s\n' "$setup" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", b / a}')"
done
