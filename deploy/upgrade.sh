#!/usr/bin/env bash
# Upgrade an instance installed by deploy/install.sh to the code in this
# repository: back up, build, install the binary, helper scripts and systemd
# units, migrate the database, restart.
#
#   cd /path/to/stoa && git pull && sudo deploy/upgrade.sh
#
# Options:
#   --pull        run `git pull --ff-only` in the repository first (as its owner)
#   --no-backup   skip the backup taken before migrating
#   -h, --help    this text
#
# The configuration (/etc/stoa) and the nginx site are left alone. The binary
# being replaced is kept as /usr/local/bin/stoa.previous.
set -euo pipefail

# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REPO=$(repo_root)

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

pull=false
backup=true
for arg in "$@"; do
    case $arg in
        --pull) pull=true ;;
        --no-backup) backup=false ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $arg" ;;
    esac
done

require_root
[[ -f $STOA_CONFIG_FILE && -f $STOA_ENV_FILE && -x $STOA_BIN ]] ||
    die "Stoa is not installed here (no $STOA_CONFIG_FILE, $STOA_ENV_FILE or $STOA_BIN): run deploy/install.sh first"

if $pull; then
    [[ -d $REPO/.git ]] || die "--pull: $REPO is not a git checkout"
    owner=$(stat -c %U "$REPO")
    log "git pull in $REPO (as $owner)"
    runuser -u "$owner" -- git -C "$REPO" pull --ff-only
fi

old_version=$("$STOA_BIN" --version 2>/dev/null || echo unknown)
old_sum=$(sha256sum "$STOA_BIN" | cut -d' ' -f1)

build_and_install "$REPO"
install_support_files "$REPO"
new_version=$("$STOA_BIN" --version)

if $backup; then
    log "backing up before migrating"
    /usr/local/sbin/stoa-backup
fi

log "migrating the database"
if ! "$STOA_CTL" migrate; then
    if [[ $(sha256sum "$STOA_BIN" | cut -d' ' -f1) != "$old_sum" && -x $STOA_BIN.previous ]]; then
        cp -p "$STOA_BIN.previous" "$STOA_BIN"
        warn "put the previous binary back ($old_version); the running server was not restarted"
    fi
    die "migration failed; see the output above"
fi

log "restarting"
systemctl restart stoa.service
if systemctl is-enabled --quiet stoa-worker.service 2>/dev/null; then
    systemctl restart stoa-worker.service
fi

if wait_for_stoa; then
    log "upgraded: $old_version -> $new_version"
else
    warn "Stoa did not answer within a minute: journalctl -u stoa -n 50"
    warn "previous binary: /usr/local/bin/stoa.previous (migrations are not undone by going back)"
    exit 1
fi
