#!/usr/bin/env bash
# Bring up a working Stoa on http://localhost:3000 for development:
# services, build, config/stoa.toml (written once), migrations, an admin
# account, then `stoa serve`.
#
#   scripts/dev.sh                 serve in the foreground (Ctrl-C stops it)
#   scripts/dev.sh --background    serve in the background; pid in .stoa/stoa.pid,
#                                  log in .stoa/stoa.log
#
# STOA_DEV_DEBUG=1 builds and runs the debug binary (faster to build).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

background=false
for arg in "$@"; do
    case $arg in
        --background) background=true ;;
        -h | --help)
            sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "unknown argument: $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

log() { printf '[dev] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

CONFIG=$ROOT/config/stoa.toml
STATE_DIR=$ROOT/.stoa
PID_FILE=$STATE_DIR/stoa.pid
LOG_FILE=$STATE_DIR/stoa.log
ADMIN_USER="admin"
ADMIN_EMAIL=admin@localhost.test
DATABASE_URL=postgres://stoa:stoa@127.0.0.1:5432/stoa
REDIS_URL=redis://127.0.0.1:6379

scripts/services.sh >/dev/null

# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------
target_dir=${CARGO_TARGET_DIR:-$ROOT/target}
if [[ ${STOA_DEV_DEBUG:-0} == 1 ]]; then
    log "building stoa (debug)"
    cargo build -p stoa
    STOA=$target_dir/debug/stoa
else
    log "building stoa (release; STOA_DEV_DEBUG=1 for a quicker debug build)"
    cargo build --release -p stoa
    STOA=$target_dir/release/stoa
fi
[[ -x $STOA ]] || die "no binary at $STOA"

# ---------------------------------------------------------------------------
# Configuration (never overwritten: edit config/stoa.toml freely)
# ---------------------------------------------------------------------------
if [[ ! -f $CONFIG ]]; then
    log "writing $CONFIG"
    cat >"$CONFIG" <<TOML
# Development configuration written by scripts/dev.sh. Every key and its
# default is documented in config/stoa.example.toml.

[instance]
domain = "localhost:3000"
url = "http://localhost:3000"
title = "Stoa (development)"
contact_email = "$ADMIN_EMAIL"
contact_account = "$ADMIN_USER"

[registrations]
mode = "open"

[http]
listen = "127.0.0.1:3000"

[database]
url = "$DATABASE_URL"

[redis]
url = "$REDIS_URL"
namespace = "stoa-dev"

[development]
allow_http = true
TOML
fi

# One-shot commands: plain error messages, no backtraces.
stoa() { RUST_BACKTRACE=0 "$STOA" --config "$CONFIG" "$@"; }

# The public URL from the config's [instance] table, for the summary.
public_url=$(awk '
    /^\[/ { section = $0; next }
    section == "[instance]" && $1 == "url" { gsub(/.*= *"|".*/, ""); print; exit }
' "$CONFIG")
public_url=${public_url:-http://localhost:3000}

# ---------------------------------------------------------------------------
# Database and admin account
# ---------------------------------------------------------------------------
log "migrating the database"
stoa migrate

# Pull a password out of CLI output: the last word of the line mentioning it,
# or the whole output when there is a single word.
extract_password() {
    local text=$1 line
    line=$(grep -i 'password' <<<"$text" | tail -n1 || true)
    [[ -n $line ]] || line=$(tail -n1 <<<"$text")
    awk '{ print $NF }' <<<"$line"
}

admin_password=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
if create_out=$(stoa admin accounts create --username "$ADMIN_USER" --email "$ADMIN_EMAIL" \
    --password "$admin_password" --role admin 2>&1); then
    log "created admin account $ADMIN_USER"
else
    log "admin account not created ($(head -n1 <<<"$create_out")); resetting its password"
    reset_out=$(stoa admin accounts reset-password "$ADMIN_USER" 2>&1) ||
        die "could not create nor reset the admin account:"$'\n'"$create_out"$'\n'"$reset_out"
    printf '%s\n' "$reset_out" >&2
    admin_password=$(extract_password "$reset_out")
fi

# ---------------------------------------------------------------------------
# Serve
# ---------------------------------------------------------------------------
summary() {
    cat <<EOF

  Stoa is running at $public_url
  Admin:    username $ADMIN_USER, email $ADMIN_EMAIL
  Password: $admin_password
  Config:   $CONFIG
EOF
}

mkdir -p "$STATE_DIR"
if [[ -f $PID_FILE ]]; then
    old_pid=$(cat "$PID_FILE")
    if [[ -n $old_pid ]] && kill -0 "$old_pid" 2>/dev/null; then
        log "stopping the previous background server (pid $old_pid)"
        kill "$old_pid"
        # A graceful stop finishes in-flight requests and jobs first.
        for _ in $(seq 1 150); do
            kill -0 "$old_pid" 2>/dev/null || break
            sleep 0.2
        done
        ! kill -0 "$old_pid" 2>/dev/null || die "pid $old_pid did not stop within 30s"
    fi
    rm -f "$PID_FILE"
fi

if $background; then
    nohup "$STOA" --config "$CONFIG" serve >>"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
    for _ in $(seq 1 150); do
        if curl -fs -o /dev/null "$public_url/api/v1/instance"; then
            summary
            echo "  Log:      $LOG_FILE"
            echo "  Stop:     kill \$(cat $PID_FILE)"
            exit 0
        fi
        kill -0 "$(cat "$PID_FILE")" 2>/dev/null || {
            tail -n 30 "$LOG_FILE" >&2
            die "stoa serve exited; log above"
        }
        sleep 0.2
    done
    die "stoa serve did not answer within 30s; see $LOG_FILE"
else
    summary
    echo "  (Ctrl-C stops it)"
    echo
    exec "$STOA" --config "$CONFIG" serve
fi
