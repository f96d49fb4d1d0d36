#!/usr/bin/env bash
# Memory of the coffer server (issue #5 targets: idle RSS <= 40 MiB; <= 300 MiB while 64 clients
# each upload a large object at once).
#
#   bench/memory.sh                        # idle, then 64 x 64MiB and 64 x 256MiB concurrent PUTs
#   SIZES="64MiB" CLIENTS=16 bench/memory.sh
#
# 1. Idle: VmRSS of a fresh server right after start-up, after IDLE_SECS idle, and after a small
#    workload (small + medium scenarios, 2 s each) followed by IDLE_SECS idle again.
# 2. For each size in SIZES, on a fresh server and data dir: `coffer-bench run --scenarios
#    concurrent-large --clients $CLIENTS --large-size $size` (uploads at once, a sample of 4
#    objects read back and checked, all deleted); the scenario's peak RSS (VmHWM) is the figure.
#    The data dir is removed after each size, so at most CLIENTS x size is on disk at a time.
#
# Environment: BENCH_DIR (parent of the temp dirs), OUT_DIR, SKIP_BUILD=1, IDLE_SECS (10),
# SIZES ("64MiB 256MiB"), CLIENTS (64).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=bench/lib.sh
. bench/lib.sh

if [ "${SKIP_BUILD:-}" != 1 ]; then
    cargo build --release --bin coffer --bin coffer-bench
fi
bin=${CARGO_TARGET_DIR:-$root/target}/release
out=${OUT_DIR:-$root/target/bench-out/memory-$(date +%Y%m%d-%H%M%S)}
idle=${IDLE_SECS:-10}
clients=${CLIENTS:-64}
mkdir -p "$out"

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/coffer-memory.XXXXXX")
cleanup() {
    stop_coffer
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# status_line LABEL: VmRSS, VmHWM, RssAnon, RssFile and Threads of the server, one line.
status_line() {
    awk -v label="$1" '
        /^(VmRSS|VmHWM|RssAnon|RssFile|Threads):/ { v[$1] = $2 }
        END { printf "%-28s VmRSS %6d KiB  VmHWM %6d KiB  RssAnon %6d KiB  RssFile %6d KiB  threads %s\n",
              label, v["VmRSS:"], v["VmHWM:"], v["RssAnon:"], v["RssFile:"], v["Threads:"] }' \
        "/proc/$COFFER_PID/status" | tee -a "$out/memory.txt"
}

# bench_run TIMEOUT_SECS ARGS...: coffer-bench run against the server, bounded in time.
bench_run() {
    local bound=$1
    shift
    timeout "$bound" "$bin/coffer-bench" run --endpoint "$COFFER_ENDPOINT" \
        --access-key "$BENCH_ACCESS_KEY" --secret-key "$BENCH_SECRET_KEY" \
        --server-pid "$COFFER_PID" "$@"
}

echo "== idle" | tee "$out/memory.txt"
start_coffer "$bin/coffer" "$work/data" "$work/server.log"
status_line "after start-up"
sleep "$idle"
status_line "after ${idle} s idle"
cp "/proc/$COFFER_PID/smaps_rollup" "$out/smaps_rollup-idle.txt"
bench_run 300 --scenarios small,medium --duration-secs 2 --max-ops 2000 \
    --op-timeout-secs 60 >"$out/idle-workload.txt"
status_line "after small+medium (2 s each)"
sleep "$idle"
status_line "then ${idle} s idle"
cp "/proc/$COFFER_PID/smaps_rollup" "$out/smaps_rollup-after-workload.txt"
stop_coffer
rm -rf "$work/data"

status=0
for size in ${SIZES:-64MiB 256MiB}; do
    echo "== $clients x $size at once" | tee -a "$out/memory.txt"
    start_coffer "$bin/coffer" "$work/data" "$work/server.log"
    status_line "fresh server"
    bench_run "${BENCH_TIMEOUT_SECS:-1800}" --scenarios concurrent-large \
        --clients "$clients" --large-size "$size" --op-timeout-secs 1200 \
        2> >(tee "$out/concurrent-$size.err" >&2) | tee "$out/concurrent-$size.txt" || status=$?
    status_line "after $clients x $size"
    grep -o '"scenario_peak_rss_kib":\[\[[^]]*\]\]' "$out/concurrent-$size.txt" \
        | tee -a "$out/memory.txt" || true
    grep 'server during the uploads' "$out/concurrent-$size.err" | tee -a "$out/memory.txt" || true
    echo "data dir after the deletes: $(du -sh "$work/data" | cut -f1)" | tee -a "$out/memory.txt"
    stop_coffer
    rm -rf "$work/data"
done
echo "== outputs kept in $out"
exit "$status"
