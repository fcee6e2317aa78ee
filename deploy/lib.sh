# shellcheck shell=bash disable=SC2034
# Shared by deploy/install.sh and deploy/upgrade.sh. Not meant to be run.
#
# Layout on the server:
#   /usr/local/bin/stoa            the binary (root-owned; previous one kept as stoa.previous)
#   /usr/local/sbin/stoa-ctl       runs the stoa CLI with the production config and secrets
#   /usr/local/sbin/stoa-backup    deploy/backup.sh
#   /etc/stoa/stoa.toml            configuration (root:stoa 640)
#   /etc/stoa/stoa.env             secrets as STOA_* variables (root:root 600)
#   /var/lib/stoa                  the stoa user's home and writable state (media)
#   /opt/stoa                      build tree: src/, target/, cargo/ and rustup/ (stoa-owned;
#                                  outside the service's sandbox, so the service cannot touch it)
#   /var/backups/stoa              weekly database and config backups (root 700)

STOA_USER=stoa
STOA_BIN=/usr/local/bin/stoa
STOA_CTL=/usr/local/sbin/stoa-ctl
STOA_ETC=/etc/stoa
STOA_CONFIG_FILE=$STOA_ETC/stoa.toml
STOA_ENV_FILE=$STOA_ETC/stoa.env
STOA_STATE=/var/lib/stoa
STOA_BUILD=/opt/stoa
STOA_BACKUPS=/var/backups/stoa
SYSTEMD_DIR=/etc/systemd/system

log() { printf '\033[1m[stoa]\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m[stoa] warning:\033[0m %s\n' "$*" >&2; }
die() {
    printf '\033[1;31m[stoa] error:\033[0m %s\n' "$*" >&2
    exit 1
}

require_root() {
    [[ $(id -u) -eq 0 ]] || die "run this as root (sudo $0 ...)"
}

# The repository this script lives in (deploy/..).
repo_root() {
    (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
}

# Run a command as the stoa user with the build environment (rustup and cargo
# homes under /opt/stoa, so nothing lands in the service's writable state).
as_builder() {
    runuser -u "$STOA_USER" -- env \
        HOME="$STOA_BUILD" \
        CARGO_HOME="$STOA_BUILD/cargo" \
        RUSTUP_HOME="$STOA_BUILD/rustup" \
        CARGO_TARGET_DIR="$STOA_BUILD/target" \
        PATH="$STOA_BUILD/cargo/bin:/usr/local/bin:/usr/bin:/bin" \
        "$@"
}

# The workspace's minimum Rust version (rust-version in Cargo.toml).
required_rust_version() {
    sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$1/Cargo.toml" | head -n1
}

# version_ge A B: A >= B for dotted versions.
version_ge() {
    [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]
}

# Make sure the stoa build user has a cargo at least as new as the workspace
# needs: the system's (apt) cargo when it is new enough, else a rustup
# toolchain in /opt/stoa (installed on first use, updated when too old).
ensure_cargo() {
    local src=$1 need have
    need=$(required_rust_version "$src")
    need=${need:-1.85}
    have=$(as_builder cargo --version 2>/dev/null | awk '{ print $2 }' || true)
    if [[ -n $have ]] && version_ge "$have" "$need"; then
        log "using cargo $have (workspace needs >= $need)"
        return
    fi
    if [[ -x $STOA_BUILD/cargo/bin/rustup ]]; then
        log "updating the rustup toolchain (cargo ${have:-missing}, need >= $need)"
        as_builder rustup toolchain install stable --profile minimal
        as_builder rustup default stable
    else
        log "installing rustup for the $STOA_USER build user (cargo ${have:-missing}, need >= $need)"
        command -v curl >/dev/null || die "curl is missing"
        # Downloaded by root, run by the stoa user.
        local init
        init=$(mktemp)
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs -o "$init" ||
            die "could not download rustup from https://sh.rustup.rs"
        chmod 755 "$init"
        as_builder sh "$init" -y --no-modify-path --profile minimal --default-toolchain stable
        rm -f "$init"
    fi
    have=$(as_builder cargo --version 2>/dev/null | awk '{ print $2 }' || true)
    if [[ -z $have ]] || ! version_ge "$have" "$need"; then
        die "cargo ${have:-missing} is older than the required $need"
    fi
    log "using cargo $have"
}

# Copy the source (without build output or local state) to /opt/stoa/src,
# where the stoa user builds it.
sync_source() {
    local src=$1
    install -d -m 755 -o "$STOA_USER" -g "$STOA_USER" "$STOA_BUILD"
    install -d -m 755 -o "$STOA_USER" -g "$STOA_USER" "$STOA_BUILD/src"
    log "copying the source from $src to $STOA_BUILD/src"
    rsync -a --delete \
        --exclude=/target --exclude=/.git --exclude=/.stoa --exclude=/.venv \
        --exclude=/tmp --exclude=/config/stoa.toml \
        "$src/" "$STOA_BUILD/src/"
    chown -R "$STOA_USER:$STOA_USER" "$STOA_BUILD/src"
}

# Build the release binary as the stoa user and install it root-owned.
# The binary being replaced is kept as stoa.previous.
build_and_install() {
    local src=$1
    sync_source "$src"
    ensure_cargo "$STOA_BUILD/src"
    log "building stoa (release); this takes a while on a small droplet"
    (cd "$STOA_BUILD/src" && as_builder nice -n 10 cargo build --release --locked -p stoa) ||
        die "the build failed"
    local built=$STOA_BUILD/target/release/stoa
    [[ -x $built ]] || die "no binary at $built"
    if [[ -x $STOA_BIN ]]; then
        if cmp -s "$built" "$STOA_BIN"; then
            log "$STOA_BIN is already this build"
            return
        fi
        cp -p "$STOA_BIN" "$STOA_BIN.previous"
    fi
    install -m 755 -o root -g root "$built" "$STOA_BIN.new"
    mv -f "$STOA_BIN.new" "$STOA_BIN"
    log "installed $STOA_BIN ($("$STOA_BIN" --version))"
}

# Install the helper scripts and systemd units from the repository.
install_support_files() {
    local src=$1
    install -m 755 -o root -g root "$src/deploy/stoa-ctl" "$STOA_CTL"
    install -m 755 -o root -g root "$src/deploy/backup.sh" /usr/local/sbin/stoa-backup
    local unit
    for unit in stoa.service stoa-worker.service stoa-backup.service stoa-backup.timer; do
        install -m 644 -o root -g root "$src/deploy/systemd/$unit" "$SYSTEMD_DIR/$unit"
    done
    systemctl daemon-reload
}

# The value of KEY in an env file (KEY=value lines; optional quotes).
env_file_get() {
    local file=$1 key=$2
    [[ -f $file ]] || return 0
    sed -n "s/^[[:space:]]*$key=//p" "$file" | tail -n1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# Set KEY=value in an env file (created root:root 600), replacing an existing line.
env_file_set() {
    local file=$1 key=$2 value=$3 tmp
    tmp=$(umask 077 && mktemp "$file.XXXXXX")
    if [[ -f $file ]]; then
        grep -v "^[[:space:]]*$key=" "$file" >"$tmp" || true
    fi
    printf '%s=%s\n' "$key" "$value" >>"$tmp"
    chown root:root "$tmp"
    chmod 600 "$tmp"
    mv -f "$tmp" "$file"
}

# Wait until Stoa answers on its local port.
wait_for_stoa() {
    local i
    for ((i = 0; i < 60; i++)); do
        if curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:3000/health; then
            return 0
        fi
        sleep 1
    done
    return 1
}
