#!/usr/bin/env bash
# Compares statebroker (appendfsync always) with Redis 7 (AOF, appendfsync
# always, no RDB) on Unix sockets, with redis-benchmark, interleaved:
# each round runs every test against both servers before the next round.
#
#   bench/compare.sh            # 3 rounds, 100k requests per run (400k with -P 16)
#   ROUNDS=5 N=200000 bench/compare.sh
#   CLIENTS=10 TESTS=set PIPES=1 bench/compare.sh   # 10 clients (default 50),
#                               # only SET (default: set incr lpush rpop hset),
#                               # only pipeline 1 (default: "1 16")
#
# Prints, per test and pipeline depth, the median requests/s over the
# rounds, the median p99 latency (ms), the ratio statebroker / Redis of the
# medians, and the lowest and highest ratio of a single round.
# Commands statebroker does not implement yet are reported as n/a.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
N=${N:-100000}
CLIENTS=${CLIENTS:-50}
TESTS=${TESTS:-"set incr lpush rpop hset"}
PIPES=${PIPES:-"1 16"}

cd "$(dirname "$0")/.."

# shellcheck source=bench/lib.sh
source bench/lib.sh

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-bench.XXXXXX")
SB_SOCK=$WORK/sb.sock
RD_SOCK=$WORK/redis.sock
SB_PID=""
RD_PID=""
cleanup() {
    [ -n "$SB_PID" ] && kill "$SB_PID" 2>/dev/null || true
    [ -n "$RD_PID" ] && kill "$RD_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() { # socket
    for _ in $(seq 1 500); do
        redis-cli -s "$1" ping >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    echo "server on $1 did not start" >&2
    exit 1
}

mkdir -p "$WORK/sb" "$WORK/redis"
"$BIN" --dir "$WORK/sb" --unixsocket "$SB_SOCK" --appendfsync always --loglevel warning &
SB_PID=$!
redis-server --port 0 --unixsocket "$RD_SOCK" --dir "$WORK/redis" --appendonly yes --appendfsync always \
    --save '' --loglevel warning >"$WORK/redis.log" &
RD_PID=$!
wait_for "$SB_SOCK"
wait_for "$RD_SOCK"

# The command each redis-benchmark test sends, to probe for support.
probe() {
    case $1 in
    set) echo "SET __probe x" ;;
    incr) echo "INCR __probe_n" ;;
    lpush) echo "LPUSH __probe_l x" ;;
    rpop) echo "RPOP __probe_l" ;;
    hset) echo "HSET __probe_h f v" ;;
    *) echo "PING" ;;
    esac
}
supported() { # test
    # shellcheck disable=SC2046
    ! redis-cli -s "$SB_SOCK" $(probe "$1") 2>&1 | grep -qi "unknown command"
}

declare -A RPS P99
run() { # server socket test pipe
    local n=$N
    [ "$4" -gt 1 ] && n=$((N * 4))
    # CSV: "test","rps","avg","min","p50","p95","p99","max"
    local line
    line=$(redis-benchmark -s "$2" -t "$3" -n "$n" -c "$CLIENTS" -P "$4" --csv 2>/dev/null | tail -n 1)
    local rps p99
    rps=$(echo "$line" | cut -d, -f2 | tr -d '"')
    p99=$(echo "$line" | cut -d, -f7 | tr -d '"')
    RPS[$1,$3,$4]="${RPS[$1,$3,$4]:-} $rps"
    P99[$1,$3,$4]="${P99[$1,$3,$4]:-} $p99"
}

median() {
    tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else print a[int((NR+1)/2)]}'
}

for round in $(seq 1 "$ROUNDS"); do
    echo "round $round/$ROUNDS" >&2
    for t in $TESTS; do
        supported "$t" || continue
        for p in $PIPES; do
            run sb "$SB_SOCK" "$t" "$p"
            run redis "$RD_SOCK" "$t" "$p"
        done
    done
done

# Each round's ratio: the runs of a round are paired (back to back), so the
# spread of these shows how much the machine moved during the comparison.
round_ratios() { # "sb rps list" "redis rps list"
    awk -v a="$1" -v b="$2" 'BEGIN {
        n = split(a, x, " "); split(b, y, " "); lo = ""; hi = ""
        for (i = 1; i <= n; i++) if (y[i] > 0) {
            r = x[i] / y[i]
            if (lo == "" || r < lo) lo = r
            if (hi == "" || r > hi) hi = r
        }
        if (lo == "") print "-"; else printf "%.2f-%.2f", lo, hi
    }'
}

printf "%-7s %3s %14s %14s %9s %9s %7s %11s\n" test P "statebroker/s" "redis/s" "sb p99" "rd p99" ratio "per round"
for t in $TESTS; do
    for p in $PIPES; do
        if ! supported "$t"; then
            printf "%-7s %3s %14s %14s %9s %9s %7s\n" "$t" "$p" "n/a" "-" "-" "-" "(command not implemented)"
            continue
        fi
        sb=$(echo "${RPS[sb,$t,$p]}" | median)
        rd=$(echo "${RPS[redis,$t,$p]}" | median)
        sbp=$(echo "${P99[sb,$t,$p]}" | median)
        rdp=$(echo "${P99[redis,$t,$p]}" | median)
        ratio=$(awk -v a="$sb" -v b="$rd" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }')
        spread=$(round_ratios "${RPS[sb,$t,$p]}" "${RPS[redis,$t,$p]}")
        printf "%-7s %3s %14s %14s %9s %9s %7s %11s\n" "$t" "$p" "$sb" "$rd" "$sbp" "$rdp" "$ratio" "$spread"
    done
done
