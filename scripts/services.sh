#!/usr/bin/env bash
# Make sure PostgreSQL and Redis are installed, running and set up for Stoa:
#   postgres://stoa:stoa@127.0.0.1:5432/stoa   (role stoa LOGIN CREATEDB, database stoa)
#   redis://127.0.0.1:6379
#
# Idempotent: safe to run again and again. Debian/Ubuntu only. Works as root,
# or through sudo otherwise. Does not need systemd (containers usually lack it):
# services are started directly when no init system is running.
set -euo pipefail

PG_PORT=5432
REDIS_PORT=6379
DB_USER=stoa
DB_PASSWORD=stoa
DB_NAME=stoa

log() { printf '[services] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ $(id -u) -eq 0 ]]; then
    as_root() { "$@"; }
else
    command -v sudo >/dev/null || die "not root and sudo is missing"
    as_root() { sudo -n "$@"; }
fi

# Run a command as the postgres superuser (peer authentication on the socket).
as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then
        if command -v runuser >/dev/null; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        sudo -n -u postgres "$@"
    fi
}

wait_for() { # wait_for DESCRIPTION SECONDS COMMAND...
    local what=$1 seconds=$2
    shift 2
    local i
    for ((i = 0; i < seconds * 4; i++)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.25
    done
    die "$what did not come up within ${seconds}s"
}

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
missing=()
if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
    missing+=(postgresql postgresql-contrib)
fi
command -v pg_isready >/dev/null || missing+=(postgresql-client)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)
# Building Stoa links with cc, and ring (TLS) compiles a little C.
command -v cc >/dev/null || missing+=(build-essential)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------
pg_up() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }

if pg_up; then
    log "PostgreSQL is already accepting connections on 127.0.0.1:$PG_PORT"
else
    # The cluster on our port, else the newest installed version's "main".
    cluster=$(pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '$3 == port { print $1 " " $2; exit }')
    if [[ -z $cluster ]]; then
        version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf "%f\n" | sort -V | tail -n1)
        [[ -n $version ]] || die "no PostgreSQL server found under /usr/lib/postgresql"
        log "creating PostgreSQL $version cluster main on port $PG_PORT"
        as_root pg_createcluster --port "$PG_PORT" "$version" main >/dev/null
        cluster="$version main"
    fi
    read -r pg_version pg_cluster <<<"$cluster"
    log "starting PostgreSQL $pg_version/$pg_cluster"
    if [[ -d /run/systemd/system ]]; then
        as_root systemctl start "postgresql@${pg_version}-${pg_cluster}"
    else
        # A container without an init system: start the cluster directly.
        as_root mkdir -p /var/run/postgresql
        as_root chown postgres:postgres /var/run/postgresql
        as_root pg_ctlcluster "$pg_version" "$pg_cluster" start ||
            pg_up || die "pg_ctlcluster could not start the cluster; see /var/log/postgresql/"
    fi
    wait_for "PostgreSQL" 60 pg_up
fi

psql_super() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@"; }

# Role and database (the password is (re)set so the URL below always works).
psql_super >/dev/null <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
        CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
    ELSE
        ALTER ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
    END IF;
END
\$\$;
SQL
if [[ $(psql_super -tA -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'") != 1 ]]; then
    log "creating database $DB_NAME"
    psql_super -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >/dev/null
fi

# Password login over TCP. Debian's default pg_hba.conf allows it for
# 127.0.0.1; add a rule when this installation does not.
tcp_login() { PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=5 psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$DB_USER" -d "$DB_NAME" -tAc 'SELECT 1' 2>&1; }
if ! out=$(tcp_login) || [[ $out != 1 ]]; then
    hba=$(psql_super -tA -c 'SHOW hba_file')
    log "password login over TCP failed ($out); allowing it in $hba"
    rule="host    all             $DB_USER        127.0.0.1/32            scram-sha-256"
    as_root sed -i "1i $rule" "$hba"
    psql_super -c 'SELECT pg_reload_conf()' >/dev/null
    sleep 1
    if ! out=$(tcp_login) || [[ $out != 1 ]]; then
        die "still cannot log in as $DB_USER over TCP: $out"
    fi
fi

# ---------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------
redis_up() { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

if redis_up; then
    log "Redis is already answering on 127.0.0.1:$REDIS_PORT"
else
    log "starting Redis"
    if [[ -d /run/systemd/system ]]; then
        as_root systemctl start redis-server
    else
        redis_user=root
        id redis >/dev/null 2>&1 && redis_user=redis
        as_root mkdir -p /var/run/redis /var/log/redis /var/lib/redis
        as_root chown "$redis_user:" /var/run/redis /var/log/redis /var/lib/redis
        start=(redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT"
            --pidfile /var/run/redis/redis-server.pid --logfile /var/log/redis/redis-server.log
            --dir /var/lib/redis)
        if [[ $redis_user == root ]]; then
            as_root "${start[@]}"
        elif [[ $(id -u) -eq 0 ]]; then
            runuser -u redis -- "${start[@]}"
        else
            sudo -n -u redis "${start[@]}"
        fi
    fi
    wait_for "Redis" 30 redis_up
fi

log "ready"
echo "PostgreSQL: postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"
echo "Redis:      redis://127.0.0.1:$REDIS_PORT"
