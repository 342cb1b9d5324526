#!/usr/bin/env bash
# Compares the memory statebroker and Redis 7 need for the same data: each
# workload is loaded with redis-benchmark into a fresh server, and the growth
# of the server's resident set (RSS) is reported, in MB and in bytes per
# element (per key for strings, per field or member for the others).
#
#   bench/memory.sh
#   N=2000000 bench/memory.sh     # more elements per workload
#
# RSS includes allocator slack and the empty space of grown tables: it is
# what the machine gives the server, which is what matters to its users.
set -euo pipefail

N=${N:-1000000}
KEYS=$((N / 10))

cd "$(dirname "$0")/.."

# shellcheck source=bench/lib.sh
source bench/lib.sh

scratch sb-mem

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# Prints the RSS growth (KB) of a fresh server of kind $1 loaded with the
# redis-benchmark arguments that follow.
load() {
    local kind=$1
    shift
    local dir
    dir=$(mktemp -d "$WORK/run.XXXXXX")
    if [ "$kind" = redis ]; then
        redis-server --port 0 --unixsocket "$dir/s.sock" --dir "$dir" --appendonly no --save '' \
            --loglevel warning >/dev/null &
    else
        "$BIN" --dir "$dir" --unixsocket "$dir/s.sock" --appendfsync no --loglevel warning &
    fi
    PID=$!
    for _ in $(seq 1 500); do
        redis-cli -s "$dir/s.sock" ping >/dev/null 2>&1 && break
        sleep 0.02
    done
    local before after
    before=$(rss_kb "$PID")
    redis-benchmark -s "$dir/s.sock" -c 20 -P 64 -q "$@" >/dev/null 2>&1
    after=$(rss_kb "$PID")
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
    rm -rf "$dir"
    echo $((after - before))
}

# Elements each workload stores: distinct keys for strings, fields or
# members for the collections, as counted by the server after the load.
printf "%-36s %12s %12s %9s %9s %7s\n" workload "statebroker" "redis" "sb B/el" "rd B/el" ratio
row() { # name elements args...
    local name=$1 elements=$2
    shift 2
    local sb rd
    sb=$(load sb "$@")
    rd=$(load redis "$@")
    awk -v n="$name" -v e="$elements" -v a="$sb" -v b="$rd" 'BEGIN {
        printf "%-36s %9.1f MB %9.1f MB %9.0f %9.0f %6.2fx\n", n, a / 1024, b / 1024, a * 1024 / e, b * 1024 / e, a / b }'
}

# With -r R, redis-benchmark draws each __rand_int__ from 0..R-1, so
# N draws give R(1 - e^(-N/R)) distinct values.
distinct() { awk -v n="$1" -v r="$2" 'BEGIN { printf "%d", r * (1 - exp(-n / r)) }'; }

row "strings: SET, 16-byte values" "$(distinct "$N" 1000000000)" \
    -n "$N" -r 1000000000 -t set -d 16
row "strings with a TTL: SET ... EX" "$(distinct "$N" 1000000000)" \
    -n "$N" -r 1000000000 set "key:__rand_int__" xxxxxxxxxxxxxxxx EX 100000
row "hashes: HSET, ~10 fields per key" "$(distinct "$N" $((KEYS * KEYS)))" \
    -n "$N" -r "$KEYS" hset "h:__rand_int__" "f__rand_int__" v
row "sets: SADD, ~10 members per key" "$(distinct "$N" $((KEYS * KEYS)))" \
    -n "$N" -r "$KEYS" sadd "s:__rand_int__" "m__rand_int__"
row "sorted sets: ZADD, ~10 per key" "$(distinct "$N" $((KEYS * KEYS)))" \
    -n "$N" -r "$KEYS" zadd "z:__rand_int__" __rand_int__ "m__rand_int__"
row "list: RPUSH into one list" "$N" \
    -n "$N" rpush list "item:__rand_int__"
