#!/usr/bin/env bash
# The test command (CI runs exactly this through .ci/run):
#   1. PostgreSQL and Redis up (scripts/services.sh);
#   2. a Python venv at .venv with the pinned client libraries (client tests);
#   3. Deno and the Fedify modules in tests/fedify (the Fedify interop tests);
#   4. cargo fmt --check, clippy with warnings denied, and every test.
# Exits non-zero on the first failure. Honours CARGO_TARGET_DIR when set.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

# CI runs in a fresh clone each time; a build directory outside the clone
# lets successive runs on the same machine reuse compiled dependencies.
if [[ "${CI:-}" == "true" && -z "${CARGO_TARGET_DIR:-}" ]]; then
    export CARGO_TARGET_DIR="${HOME:-/root}/.cache/stoa/ci-target"
    mkdir -p "$CARGO_TARGET_DIR"
fi

log() { printf '\n[test] %s\n' "$*" >&2; }

log "services"
scripts/services.sh

# ---------------------------------------------------------------------------
# Python clients (used by the client tests under tests/clients/) and the SMTP
# server the mail tests send to (aiosmtpd, started by SmtpSink in tests/src).
# ---------------------------------------------------------------------------
PY_PACKAGES=("Mastodon.py==2.3.3" "toot==0.52.1" "aiosmtpd==1.4.6")
VENV=$ROOT/.venv

python_ready() {
    "$VENV/bin/python" - "${PY_PACKAGES[@]}" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, wanted = spec.split("==")
    if version(name) != wanted:
        sys.exit(1)
PY
}

if ! python_ready; then
    log "Python venv at .venv"
    if [[ ! -x $VENV/bin/python ]]; then
        if ! python3 -m venv "$VENV" 2>/dev/null; then
            # Debian splits venv/ensurepip into python3-venv.
            rm -rf "$VENV"
            sudo_cmd=()
            [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo -n)
            "${sudo_cmd[@]}" apt-get update -qq
            "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
            python3 -m venv "$VENV"
        fi
    fi
    "$VENV/bin/python" -m pip install --quiet "${PY_PACKAGES[@]}"
    python_ready || { echo "[test] the Python clients did not install" >&2; exit 1; }
fi

# ---------------------------------------------------------------------------
# S3-compatible server for the stoa-storage tests: moto_server, in the same
# venv. Quick when already there.
# ---------------------------------------------------------------------------
S3_SERVER_VERSION=5.2.5
s3_server_ready() {
    [[ -x $VENV/bin/moto_server ]] || return 1
    "$VENV/bin/python" - "$S3_SERVER_VERSION" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
import moto.server  # the [server] extra (Flask) is there too
sys.exit(version("moto") != sys.argv[1])
PY
}
if ! s3_server_ready; then
    log "S3 test server: moto[server]==$S3_SERVER_VERSION in .venv"
    "$VENV/bin/python" -m pip install --quiet "moto[server]==$S3_SERVER_VERSION"
    s3_server_ready || { echo "[test] moto_server did not install" >&2; exit 1; }
fi
export STOA_TEST_S3_SERVER=$VENV/bin/moto_server

# ---------------------------------------------------------------------------
# The Fedify peer (interop tests in tests/it/fedify.rs): Deno from npm and the
# Fedify modules, cached inside tests/fedify. Quick when already there.
# ---------------------------------------------------------------------------
log "Fedify peer (tests/fedify/setup.sh)"
tests/fedify/setup.sh

# ---------------------------------------------------------------------------
# Rust
# ---------------------------------------------------------------------------
export STOA_TEST_DATABASE_URL=${STOA_TEST_DATABASE_URL:-postgres://stoa:stoa@127.0.0.1:5432/postgres}
export STOA_TEST_REDIS_URL=${STOA_TEST_REDIS_URL:-redis://127.0.0.1:6379}
export STOA_TEST_PYTHON=$VENV/bin/python

log "cargo fmt --all --check"
cargo fmt --all --check

log "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# The fault tests run `stoa worker` as a separate process; `cargo test`
# alone does not build the binary.
log "cargo build -p stoa --bin stoa"
cargo build -p stoa --bin stoa

log "cargo test --workspace"
cargo test --workspace

log "all checks passed"
