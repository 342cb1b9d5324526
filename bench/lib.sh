# Shared by the benchmark scripts (sourced from the repository's root):
# installs Redis's server and tools if missing, builds the release binary
# (or takes the one STATEBROKER_BIN names).

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-benchmark >/dev/null || need+=(redis-tools)
command -v redis-cli >/dev/null || need+=(redis-tools)
if ((${#need[@]})); then
    echo "installing ${need[*]}" >&2
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${need[@]}"
fi

# STATEBROKER_BIN runs a given binary instead (to compare two builds).
if [ -n "${STATEBROKER_BIN:-}" ]; then
    BIN=$STATEBROKER_BIN
else
    cargo build --release --quiet
    BIN=target/release/statebroker
fi

# scratch NAME: makes $WORK, a scratch directory that goes away on exit, after
# the server whose pid the script keeps in $PID (if any) is stopped.
scratch() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    PID=""
    trap scratch_cleanup EXIT
}

scratch_cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
