#!/usr/bin/env bash
# Full Coffer benchmark: builds release, measures this machine's ceilings on the filesystem of
# the data directory, starts a fresh coffer server on a temp data dir with test credentials,
# runs the scenarios with --server-pid (CPU and peak RSS from /proc), stops the server, and
# prints the tables, the ratios to the ceilings and the JSON lines.
#
#   bench/run.sh                                   # all scenarios at full size (1 GiB, 100k keys)
#   bench/run.sh --scenarios large,listing --large-size 256MiB --listing-keys 20000
#
# Extra arguments go to `coffer-bench run`. Environment:
#   BENCH_DIR          parent of the temp data dir (default: $TMPDIR or /tmp)
#   CEILINGS_SIZE_MIB  size of the ceilings' sequential file (default 1024)
#   OUT_DIR            where the outputs are kept (default target/bench-out/<time>)
#   SKIP_BUILD=1       use the binaries already in target/release
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=bench/lib.sh
. bench/lib.sh

if [ "${SKIP_BUILD:-}" != 1 ]; then
    cargo build --release --bin coffer --bin coffer-bench
fi
bin=${CARGO_TARGET_DIR:-$root/target}/release
out=${OUT_DIR:-$root/target/bench-out/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/coffer-bench.XXXXXX")
cleanup() {
    stop_coffer
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== ceilings of $(df -P "$work" | awk 'NR==2 {print $1" mounted on "$6}')"
timeout 900 "$bin/coffer-bench" ceilings --dir "$work/ceilings" \
    --size-mib "${CEILINGS_SIZE_MIB:-1024}" | tee "$out/ceilings.txt"

start_coffer "$bin/coffer" "$work/data" "$work/server.log"
echo "== coffer pid $COFFER_PID at $COFFER_ENDPOINT (data in $work/data)"

status=0
timeout "${BENCH_TIMEOUT_SECS:-5400}" "$bin/coffer-bench" run \
    --endpoint "$COFFER_ENDPOINT" \
    --access-key "$BENCH_ACCESS_KEY" --secret-key "$BENCH_SECRET_KEY" \
    --server-pid "$COFFER_PID" --label coffer \
    --ceilings-json "$out/ceilings.txt" "$@" | tee "$out/run.txt" || status=$?

echo "== data dir after the run: $(du -sh "$work/data" | cut -f1)"
stop_coffer
cp "$work/server.log" "$out/server.log"
echo "== outputs kept in $out"
exit "$status"
