# Shared by bench/*.sh: start a fresh coffer server on a temp data dir and stop it by pid.
# Source it; it defines start_coffer and stop_coffer and sets COFFER_PID / COFFER_ENDPOINT.

BENCH_ACCESS_KEY=${BENCH_ACCESS_KEY:-AKIABENCHMARK000001}
BENCH_SECRET_KEY=${BENCH_SECRET_KEY:-bench-secret-key-0123456789}
COFFER_PID=
COFFER_ENDPOINT=

# start_coffer BINARY DATA_DIR LOG_FILE: starts the server on an ephemeral port of 127.0.0.1
# and waits (at most 60 s) for its "S3 endpoint:" line.
start_coffer() {
    local binary=$1 data_dir=$2 log=$3
    mkdir -p "$data_dir"
    COFFER_ROOT_ACCESS_KEY=$BENCH_ACCESS_KEY COFFER_ROOT_SECRET_KEY=$BENCH_SECRET_KEY \
        "$binary" server --data-dir "$data_dir" --address 127.0.0.1:0 >"$log" 2>&1 &
    COFFER_PID=$!
    local waited=0
    while [ "$waited" -lt 600 ]; do
        COFFER_ENDPOINT=$(grep -m1 -o 'S3 endpoint: http://127\.0\.0\.1:[0-9]*' "$log" 2>/dev/null \
            | sed 's/^S3 endpoint: //' || true)
        if [ -n "$COFFER_ENDPOINT" ]; then
            return 0
        fi
        if ! kill -0 "$COFFER_PID" 2>/dev/null; then
            echo "coffer exited during start-up:" >&2
            cat "$log" >&2
            COFFER_PID=
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    echo "coffer printed no endpoint within 60 s:" >&2
    cat "$log" >&2
    return 1
}

# stop_pid PID: SIGTERM, up to 10 s for a graceful stop, then SIGKILL. Only the given pid.
stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    local waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 100 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

stop_coffer() {
    stop_pid "$COFFER_PID"
    COFFER_PID=
}
