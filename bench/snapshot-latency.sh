#!/usr/bin/env bash
# What snapshots cost the writes running while they happen: loads 1M keys of
# 100 bytes, then runs SET -P 16 over the same key space for 800k requests
# with a BGSAVE sent 0.3 s in. The log passes its snapshot threshold during
# the run too, so three or four snapshots start, are walked, written and
# installed while clients wait on the log's fsync. (The files they cover are
# deleted in a lull of the writes, or 5 s after their snapshot: here mostly
# after the run.)
#
#   bench/snapshot-latency.sh            # 3 runs against statebroker
#   RUNS=5 REDIS=1 bench/snapshot-latency.sh   # also Redis 7 (AOF always, BGREWRITEAOF)
#
# Prints, per run, the requests/s, the p50/p99/max reply latency (ms) and,
# for statebroker, the log's fsync p99 (`INFO persistence`).
set -euo pipefail

RUNS=${RUNS:-3}
REDIS=${REDIS:-0}

cd "$(dirname "$0")/.."

# shellcheck source=bench/lib.sh
source bench/lib.sh

scratch sb-snaplat

one() { # server
    local dir=$WORK/$1.$RANDOM sock snapshot
    mkdir -p "$dir"
    sock=$dir/s.sock
    if [ "$1" = redis ]; then
        redis-server --port 0 --unixsocket "$sock" --dir "$dir" --appendonly yes --appendfsync always \
            --save '' --loglevel warning >/dev/null &
        snapshot=bgrewriteaof
    else
        "$BIN" --dir "$dir" --unixsocket "$sock" --appendfsync always --loglevel warning &
        snapshot=bgsave
    fi
    PID=$!
    for _ in $(seq 1 500); do
        redis-cli -s "$sock" ping >/dev/null 2>&1 && break
        sleep 0.02
    done
    redis-benchmark -s "$sock" -n 1000000 -r 1000000 -c 50 -P 64 -d 100 -t set -q >/dev/null 2>&1
    (sleep 0.3 && redis-cli -s "$sock" "$snapshot" >/dev/null) &
    local line
    # CSV: "test","rps","avg","min","p50","p95","p99","max"
    line=$(redis-benchmark -s "$sock" -n 800000 -r 1000000 -c 50 -P 16 -d 100 -t set --csv 2>/dev/null | tail -n 1)
    wait $! 2>/dev/null || true
    local fsync
    fsync=$(redis-cli -s "$sock" info persistence | tr -d '\r' | awk -F: '/^fsync_p99_us/ {print $2 / 1000}')
    echo "$line" | tr -d '"' | awk -F, -v s="$1" -v f="${fsync:--}" \
        '{printf "%-12s %10d %8.2f %8.2f %9.2f %12s\n", s, $2, $5, $7, $8, f}'
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
    rm -rf "$dir"
}

printf "%-12s %10s %8s %8s %9s %12s\n" server "req/s" "p50 ms" "p99 ms" "max ms" "fsync p99 ms"
for _ in $(seq 1 "$RUNS"); do
    one statebroker
    [ "$REDIS" = 1 ] && one redis
done
