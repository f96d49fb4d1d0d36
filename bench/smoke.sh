#!/usr/bin/env bash
# CI smoke of coffer-bench (~20-40 s): every scenario at small sizes against a fresh coffer
# server. Fails on any error or wrong byte, never on timing.
#
#   bench/smoke.sh              # debug build
#   PROFILE=release bench/smoke.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=bench/lib.sh
. bench/lib.sh

profile=${PROFILE:-debug}
if [ "$profile" = release ]; then
    cargo build --release --bin coffer --bin coffer-bench
else
    cargo build --bin coffer --bin coffer-bench
fi
target_dir=${CARGO_TARGET_DIR:-$root/target}/$profile

work=$(mktemp -d "${TMPDIR:-/tmp}/coffer-bench-smoke.XXXXXX")
cleanup() {
    stop_coffer
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

start_coffer "$target_dir/coffer" "$work/data" "$work/server.log"
echo "smoke: coffer pid $COFFER_PID at $COFFER_ENDPOINT"

status=0
timeout 300 "$target_dir/coffer-bench" run \
    --endpoint "$COFFER_ENDPOINT" \
    --access-key "$BENCH_ACCESS_KEY" --secret-key "$BENCH_SECRET_KEY" \
    --server-pid "$COFFER_PID" \
    --scenarios small,medium,large,multipart,listing,mixed \
    --duration-secs 1 --max-ops 2000 \
    --large-size 64MiB --part-size 8MiB \
    --listing-keys 3000 --mixed-keys 200 \
    --op-timeout-secs 60 --fill-timeout-secs 60 || status=$?

if [ "$status" -ne 0 ]; then
    echo "smoke: coffer-bench failed (exit $status); server log tail:" >&2
    tail -n 40 "$work/server.log" >&2
    exit 1
fi
echo "smoke: ok"
