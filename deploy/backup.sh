#!/usr/bin/env bash
# Back up Stoa: a pg_dump of the database (custom format, -Fc) and a tarball
# of the configuration (/etc/stoa, including the secrets in stoa.env, and the
# nginx site), into /var/backups/stoa, keeping the newest N of each.
#
# Installed as /usr/local/sbin/stoa-backup and run weekly by stoa-backup.timer;
# run it by hand any time: sudo stoa-backup
#
# Settings (environment; stoa-backup.service sets them):
#   STOA_BACKUP_DIR   where backups go       (default /var/backups/stoa)
#   STOA_BACKUP_KEEP  how many of each kind  (default 8)
#   STOA_BACKUP_DB    database name          (default stoa)
#
# Restore (on this server, or a fresh one after deploy/install.sh):
#   sudo systemctl stop stoa stoa-worker
#   sudo -u postgres dropdb --if-exists stoa
#   sudo -u postgres createdb --owner=stoa --encoding=UTF8 --template=template0 stoa
#   sudo cat /var/backups/stoa/stoa-db-DATE.dump | sudo -u postgres pg_restore --no-owner --role=stoa -d stoa
#   sudo stoa-ctl migrate && sudo systemctl start stoa
# The config tarball unpacks with: sudo tar -xzf stoa-config-DATE.tar.gz -C /
# (it holds /etc/stoa/stoa.env: keep the database password in it in step with
# the stoa role's, e.g. ALTER ROLE stoa PASSWORD '...').
set -euo pipefail

DIR=${STOA_BACKUP_DIR:-/var/backups/stoa}
KEEP=${STOA_BACKUP_KEEP:-8}
DB=${STOA_BACKUP_DB:-stoa}

log() { printf '[stoa-backup] %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

case ${1:-} in
    -h | --help)
        awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    "") ;;
    *) die "unknown argument: $1 (try --help)" ;;
esac

[[ $(id -u) -eq 0 ]] || die "run as root (sudo $0)"
[[ $KEEP =~ ^[1-9][0-9]*$ ]] || die "STOA_BACKUP_KEEP must be a positive number, not '$KEEP'"
command -v pg_dump >/dev/null || die "pg_dump is missing (apt-get install postgresql-client)"

umask 077
install -d -m 700 -o root -g root "$DIR"
stamp=$(date -u +%Y%m%d-%H%M%S)

# Remove half-written files if we stop early.
partial=()
cleanup() { ((${#partial[@]})) && rm -f "${partial[@]}"; return 0; }
trap cleanup EXIT

# Database: as the postgres superuser over the local socket (peer
# authentication), so no password is needed here.
db_file=$DIR/stoa-db-$stamp.dump
partial+=("$db_file.partial")
log "dumping database $DB"
runuser -u postgres -- pg_dump --format=custom --compress=6 "$DB" >"$db_file.partial" ||
    die "pg_dump failed"
pg_restore --list "$db_file.partial" >/dev/null || die "the dump does not read back"
mv -f "$db_file.partial" "$db_file"
log "wrote $db_file ($(du -h "$db_file" | cut -f1))"

# Configuration and secrets.
config_file=$DIR/stoa-config-$stamp.tar.gz
partial+=("$config_file.partial")
config_paths=()
for path in etc/stoa etc/nginx/sites-available/stoa etc/redis/redis.conf; do
    [[ -e /$path ]] && config_paths+=("$path")
done
if [[ -e /etc/stoa ]]; then
    tar -czf "$config_file.partial" -C / "${config_paths[@]}" || die "could not archive the configuration"
    mv -f "$config_file.partial" "$config_file"
    log "wrote $config_file"
else
    log "warning: /etc/stoa does not exist; configuration not backed up"
fi

# Rotation: keep the newest $KEEP of each kind (names sort by date).
rotate() {
    local pattern=$1 old
    mapfile -t old < <(find "$DIR" -maxdepth 1 -type f -name "$pattern" -printf '%f\n' | sort -r | tail -n +"$((KEEP + 1))")
    for name in "${old[@]}"; do
        rm -f -- "${DIR:?}/$name"
        log "removed old backup $name"
    done
}
rotate 'stoa-db-*.dump'
rotate 'stoa-config-*.tar.gz'
log "done; keeping the newest $KEEP of each in $DIR"
