#!/usr/bin/env bash
# Benchmarks Stoa: installs the load tools, starts Postgres and Redis, builds
# `stoa` and `stoa-bench` in release mode, generates the data set (once per
# scale), runs the scenarios and writes bench/results/<date>-<commit>-<scale>.{md,json}.
#
#   scripts/bench.sh                       # every scenario, default scale (10k users, 1M statuses)
#   scripts/bench.sh --scale small         # a quick run (1k users, 100k statuses)
#   scripts/bench.sh reads inbox           # some scenarios: footprint reads writes inbox fanout
#   scripts/bench.sh --regenerate          # generate the data set again
#
# Other stoa-bench arguments are passed through (`stoa-bench run --help`).
# STOA_BENCH_DATABASE names the database (default stoa_bench_<scale>); it is
# dropped and recreated when the data set is generated.
# Idempotent; Debian/Ubuntu; as root or through sudo, like scripts/services.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v cargo >/dev/null || die "cargo is missing: install Rust (https://rustup.rs) first"

if [[ $(id -u) -eq 0 ]]; then
    as_root() { "$@"; }
else
    command -v sudo >/dev/null || die "not root and sudo is missing"
    as_root() { sudo -n "$@"; }
fi

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v redis-cli >/dev/null || missing+=(redis-tools)
# The footprint scenario also measures the binary stripped.
command -v strip >/dev/null || missing+=(binutils)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

scripts/services.sh

log "building stoa and stoa-bench (release)"
# Both binaries by name: a --bin filter applies to every -p given.
cargo build --release --locked -p stoa -p stoa-bench --bin stoa --bin stoa-bench
target=${CARGO_TARGET_DIR:-target}

# 10,000 inboxes on distinct loopback addresses: one socket each, on both ends.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

scale_args=()
rest=()
while (($#)); do
    case $1 in
        --scale) scale_args=(--scale "$2"); shift 2 ;;
        --scale=*) scale_args=("$1"); shift ;;
        *) rest+=("$1"); shift ;;
    esac
done

exec "$target/release/stoa-bench" "${scale_args[@]}" run --stoa "$target/release/stoa" "${rest[@]}"
