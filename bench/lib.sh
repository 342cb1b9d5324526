# Shared by the benchmark scripts (sourced from the repository's root):
# installs Redis's server and tools if missing, builds the release binary.

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

cargo build --release --quiet
BIN=target/release/statebroker
