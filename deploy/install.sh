#!/usr/bin/env bash
# Take a fresh Ubuntu 22.04/24.04 or Debian 12 server to a running Stoa
# behind nginx with a Let's Encrypt certificate.
#
#   sudo deploy/install.sh --domain social.example.org --email admin@example.org
#
# Point the domain's DNS (A/AAAA) at this server first. Safe to run again: each
# step checks what is already there; the config, secrets, database password
# and admin account are never replaced. See deploy/README.md.
#
# Options:
#   --domain DOMAIN   the instance's domain (handles are @user@DOMAIN); required
#   --email EMAIL     the admin's address: Let's Encrypt account, admin account
#                     and the instance's contact address; required
#   -h, --help        this text
set -euo pipefail

# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REPO=$(repo_root)

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

DOMAIN=
EMAIL=
while (($#)); do
    case $1 in
        --domain) DOMAIN=${2:-}; shift 2 || die "--domain needs a value" ;;
        --domain=*) DOMAIN=${1#*=}; shift ;;
        --email) EMAIL=${2:-}; shift 2 || die "--email needs a value" ;;
        --email=*) EMAIL=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

require_root
[[ -n $DOMAIN && -n $EMAIL ]] || { usage >&2; die "--domain and --email are required"; }
DOMAIN=${DOMAIN,,}
[[ $DOMAIN =~ ^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$ ]] ||
    die "--domain must be a bare host name such as social.example.org, not '$DOMAIN'"
[[ $EMAIL =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$ ]] ||
    die "--email must be a plain address such as admin@example.org, not '$EMAIL'"
for file in deploy/stoa.toml.template deploy/nginx/stoa.conf.template deploy/stoa-ctl \
    deploy/backup.sh deploy/systemd/stoa.service Cargo.toml; do
    [[ -f $REPO/$file ]] || die "$REPO/$file is missing: run this from a full copy of the repository"
done

# ---------------------------------------------------------------------------
# System
# ---------------------------------------------------------------------------
command -v apt-get >/dev/null || die "this script needs a Debian or Ubuntu system (apt-get)"
if ! command -v systemctl >/dev/null || [[ ! -d /run/systemd/system ]]; then
    die "this script needs a system running systemd"
fi
# shellcheck source=/dev/null
. /etc/os-release
case "${ID:-}:${VERSION_ID:-}" in
    ubuntu:22.04 | ubuntu:24.04 | debian:12) log "system: ${PRETTY_NAME:-$ID $VERSION_ID}" ;;
    *) warn "untested system ${PRETTY_NAME:-unknown}; supported are Ubuntu 22.04/24.04 and Debian 12" ;;
esac

log "installing packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q \
    postgresql postgresql-client redis-server nginx certbot python3-certbot-nginx \
    build-essential pkg-config curl ca-certificates rsync

# Droplets come without swap; building (and a traffic spike) on 4 GB needs some.
mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
if [[ -z $(swapon --noheadings --show=NAME) ]] && ((mem_mb < 6144)); then
    if [[ ! -f /swapfile ]]; then
        log "creating a 2 GB swap file (/swapfile)"
        fallocate -l 2G /swapfile 2>/dev/null || dd if=/dev/zero of=/swapfile bs=1M count=2048 status=none
        chmod 600 /swapfile
        mkswap /swapfile >/dev/null
    fi
    swapon /swapfile || warn "could not enable /swapfile"
    grep -q '^/swapfile ' /etc/fstab || echo '/swapfile none swap sw 0 0' >>/etc/fstab
    echo 'vm.swappiness = 10' >/etc/sysctl.d/60-stoa-swap.conf
    sysctl -q -p /etc/sysctl.d/60-stoa-swap.conf || true
fi

# ---------------------------------------------------------------------------
# User and directories
# ---------------------------------------------------------------------------
if ! id "$STOA_USER" >/dev/null 2>&1; then
    log "creating the $STOA_USER system user"
    useradd --system --user-group --home-dir "$STOA_STATE" --no-create-home \
        --shell /usr/sbin/nologin --comment "Stoa social server" "$STOA_USER"
fi
install -d -m 750 -o "$STOA_USER" -g "$STOA_USER" "$STOA_STATE" "$STOA_STATE/media"
install -d -m 755 -o "$STOA_USER" -g "$STOA_USER" "$STOA_BUILD"
install -d -m 750 -o root -g "$STOA_USER" "$STOA_ETC"
install -d -m 700 -o root -g root "$STOA_BACKUPS"
install -d -m 755 /var/www/letsencrypt

# ---------------------------------------------------------------------------
# PostgreSQL: role and database stoa, password in /etc/stoa/stoa.env
# ---------------------------------------------------------------------------
systemctl enable --now postgresql >/dev/null

# Modest tuning for a small dedicated server (the default shared_buffers is 128 MB).
pg_version=$(pg_lsclusters --no-header 2>/dev/null | awk '$2 == "main" { print $1; exit }')
if [[ -n $pg_version && -d /etc/postgresql/$pg_version/main/conf.d ]]; then
    tuning=/etc/postgresql/$pg_version/main/conf.d/50-stoa.conf
    shared_mb=$((mem_mb / 8 > 128 ? mem_mb / 8 : 128))
    cache_mb=$((mem_mb / 2))
    wanted="# Written by Stoa's deploy/install.sh for this ${mem_mb} MB server; edit freely
# (install.sh leaves an existing file alone).
shared_buffers = ${shared_mb}MB
effective_cache_size = ${cache_mb}MB
work_mem = 8MB
maintenance_work_mem = 128MB"
    if [[ ! -f $tuning ]]; then
        log "tuning PostgreSQL $pg_version ($tuning)"
        printf '%s\n' "$wanted" >"$tuning"
        systemctl restart postgresql
    fi
fi

for _ in $(seq 1 30); do
    runuser -u postgres -- pg_isready -q && break
    sleep 1
done
runuser -u postgres -- pg_isready -q || die "PostgreSQL is not accepting connections"

# Reuse the password already in stoa.env, so re-runs keep working.
db_url=$(env_file_get "$STOA_ENV_FILE" STOA_DATABASE__URL)
db_password=$(sed -n 's|^postgres\(ql\)\{0,1\}://stoa:\([A-Za-z0-9]*\)@.*|\2|p' <<<"$db_url")
if [[ -z $db_password ]]; then
    log "generating the database password"
    db_password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
fi
log "creating the PostgreSQL role and database (if missing)"
runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
SELECT 'CREATE ROLE stoa LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stoa') \gexec
ALTER ROLE stoa WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$db_password';
SELECT 'CREATE DATABASE stoa OWNER stoa ENCODING ''UTF8'' TEMPLATE template0'
    WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'stoa') \gexec
SQL

# ---------------------------------------------------------------------------
# Secrets and configuration
# ---------------------------------------------------------------------------
if [[ ! -f $STOA_ENV_FILE ]]; then
    (
        umask 077
        cat >"$STOA_ENV_FILE" <<'ENV'
# Stoa secrets: STOA_<SECTION>__<KEY> variables overriding /etc/stoa/stoa.toml.
# Read by systemd (EnvironmentFile) and by stoa-ctl. Plain KEY=value lines.
# Keep this file root-only (mode 600).
ENV
    )
fi
env_file_set "$STOA_ENV_FILE" STOA_DATABASE__URL "postgres://stoa:$db_password@127.0.0.1:5432/stoa"

if [[ ! -f $STOA_CONFIG_FILE ]]; then
    log "writing $STOA_CONFIG_FILE"
    tmp=$(mktemp "$STOA_CONFIG_FILE.XXXXXX")
    sed -e "s/__DOMAIN__/$DOMAIN/g" -e "s/__EMAIL__/$EMAIL/g" "$REPO/deploy/stoa.toml.template" >"$tmp"
    chown root:"$STOA_USER" "$tmp"
    chmod 640 "$tmp"
    mv -f "$tmp" "$STOA_CONFIG_FILE"
else
    configured=$(awk '
        /^\[/ { section = $0; next }
        section == "[instance]" && $1 == "domain" { gsub(/.*= *"|".*/, ""); print; exit }
    ' "$STOA_CONFIG_FILE")
    log "keeping the existing $STOA_CONFIG_FILE"
    [[ $configured == "$DOMAIN" ]] ||
        warn "$STOA_CONFIG_FILE has domain '$configured', not '$DOMAIN' (the domain cannot change once users exist)"
fi

# ---------------------------------------------------------------------------
# Redis: localhost only
# ---------------------------------------------------------------------------
redis_conf=/etc/redis/redis.conf
if [[ -f $redis_conf ]]; then
    redis_changed=false
    bind_line=$(grep -E '^[[:space:]]*bind[[:space:]]' "$redis_conf" | tail -n1 || true)
    loopback_only=false
    if [[ -n $bind_line ]]; then
        loopback_only=true
        for address in ${bind_line#*bind}; do
            case $address in
                127.0.0.1 | -127.0.0.1 | ::1 | -::1) ;;
                *) loopback_only=false ;;
            esac
        done
    fi
    if ! $loopback_only; then
        log "binding Redis to 127.0.0.1"
        sed -i -E 's/^([[:space:]]*bind[[:space:]].*)$/# \1  (replaced by Stoa install.sh)/' "$redis_conf"
        echo 'bind 127.0.0.1' >>"$redis_conf"
        redis_changed=true
    fi
    if ! grep -qE '^[[:space:]]*protected-mode[[:space:]]+yes' "$redis_conf"; then
        sed -i -E 's/^([[:space:]]*protected-mode[[:space:]].*)$/# \1  (replaced by Stoa install.sh)/' "$redis_conf"
        echo 'protected-mode yes' >>"$redis_conf"
        redis_changed=true
    fi
    systemctl enable redis-server >/dev/null
    if $redis_changed; then
        systemctl restart redis-server
    else
        systemctl start redis-server
    fi
else
    warn "$redis_conf not found; check that Redis listens on localhost only"
    systemctl enable --now redis-server >/dev/null
fi

# ---------------------------------------------------------------------------
# Build, install, migrate
# ---------------------------------------------------------------------------
build_and_install "$REPO"
install_support_files "$REPO"

log "migrating the database"
"$STOA_CTL" migrate

# ---------------------------------------------------------------------------
# nginx and TLS
# ---------------------------------------------------------------------------
site=/etc/nginx/sites-available/stoa
cert_dir=/etc/letsencrypt/live/$DOMAIN

# The welcome page would answer for every other name on port 80.
if [[ -L /etc/nginx/sites-enabled/default ]]; then
    rm -f /etc/nginx/sites-enabled/default
fi
ln -sfn "$site" /etc/nginx/sites-enabled/stoa
systemctl enable nginx >/dev/null

if [[ ! -f $cert_dir/fullchain.pem ]]; then
    # Check DNS first: Let's Encrypt rate-limits failed attempts.
    resolved=$(getent ahostsv4 "$DOMAIN" | awk '{ print $1 }' | sort -u | tr '\n' ' ' || true)
    local_addresses=" $(hostname -I 2>/dev/null || true) "
    if [[ -z $resolved ]]; then
        die "$DOMAIN does not resolve yet: point its A record at this server, wait, and run this again"
    fi
    match=false
    for address in $resolved; do
        [[ $local_addresses == *" $address "* ]] && match=true
    done
    $match || warn "$DOMAIN resolves to $resolved, which is not an address of this server (fine behind a floating IP)"

    # An HTTP-only site for the ACME challenge; certbot --nginx edits it, then
    # it is replaced by the full site below.
    log "obtaining a Let's Encrypt certificate for $DOMAIN"
    cat >"$site" <<NGINX
# Temporary site written by Stoa's install.sh while obtaining a certificate.
server {
    listen 80;
    listen [::]:80;
    server_name $DOMAIN;
    location ^~ /.well-known/acme-challenge/ {
        root /var/www/letsencrypt;
    }
    location / {
        return 503;
    }
}
NGINX
    nginx -t -q || die "nginx rejected the temporary site $site"
    systemctl restart nginx
    certbot --nginx -d "$DOMAIN" -m "$EMAIL" --agree-tos --non-interactive --redirect ||
        die "certbot failed: check that $DOMAIN points at this server and ports 80 and 443 are open, then run this again"
fi

log "writing the nginx site $site"
sed "s/__DOMAIN__/$DOMAIN/g" "$REPO/deploy/nginx/stoa.conf.template" >"$site.new"
mv -f "$site.new" "$site"
nginx -t -q || die "nginx rejected $site (see nginx -t)"
systemctl reload-or-restart nginx

if command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q '^Status: active'; then
    log "opening HTTP and HTTPS in ufw"
    ufw allow OpenSSH >/dev/null
    ufw allow 'Nginx Full' >/dev/null
fi

# ---------------------------------------------------------------------------
# Admin account
# ---------------------------------------------------------------------------
admin_note=
if "$STOA_CTL" admin accounts list | awk -F'\t' 'NR > 1 && $2 == "admin" { found = 1 } END { exit !found }'; then
    admin_note="The admin account already exists; new password: sudo stoa-ctl admin accounts reset-password admin"
else
    log "creating the admin account"
    admin_output=$("$STOA_CTL" admin accounts create --username admin --email "$EMAIL" --role admin) ||
        die "could not create the admin account"
    admin_password=$(awk '/^password: / { print $2 }' <<<"$admin_output")
    admin_note="Admin account: username admin, email $EMAIL
  Password:      $admin_password   (shown only now: write it down)"
fi

# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------
log "starting Stoa"
systemctl enable stoa.service stoa-backup.timer
systemctl restart stoa.service
systemctl start stoa-backup.timer
if systemctl is-enabled --quiet stoa-worker.service 2>/dev/null; then
    systemctl restart stoa-worker.service
elif grep -qE '^[[:space:]]*embedded[[:space:]]*=[[:space:]]*false' "$STOA_CONFIG_FILE"; then
    warn "worker.embedded = false but stoa-worker.service is not enabled: sudo systemctl enable --now stoa-worker"
fi

if wait_for_stoa; then
    if curl -fsS -o /dev/null --max-time 10 --resolve "$DOMAIN:443:127.0.0.1" "https://$DOMAIN/api/v1/instance"; then
        log "https://$DOMAIN answers"
    else
        warn "Stoa runs, but https://$DOMAIN/api/v1/instance did not answer through nginx"
    fi
else
    warn "Stoa did not answer on 127.0.0.1:3000 within a minute: journalctl -u stoa -n 50"
fi

cat <<EOF

  Stoa is installed: https://$DOMAIN

  $admin_note

  Config:   $STOA_CONFIG_FILE   (then: sudo systemctl restart stoa)
  Secrets:  $STOA_ENV_FILE
  Logs:     journalctl -u stoa -f
  Admin:    sudo stoa-ctl admin accounts list --pending
  Backups:  weekly into $STOA_BACKUPS (sudo systemctl start stoa-backup to run one now)
  Upgrade:  sudo deploy/upgrade.sh

EOF
