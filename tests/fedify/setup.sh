#!/usr/bin/env bash
# Install what the Fedify interop tests (tests/it/fedify.rs) run, all inside
# this directory and from the npm registry only:
#   node_modules/.bin/deno   Deno, from the npm package `deno` (package-lock.json);
#   .deno/                   DENO_DIR: the npm modules peer.ts imports
#                            (@fedify/fedify, @fedify/vocab), as deno.lock pins them.
# Idempotent; takes a second when everything is there. Needs Node.js and npm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

log() { printf '[fedify] %s\n' "$*" >&2; }

if ! command -v npm >/dev/null; then
    log "installing Node.js and npm"
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo -n)
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

DENO=node_modules/.bin/deno
wanted=$(node -p 'require("./package.json").dependencies.deno')
if [[ "$("$DENO" --version 2>/dev/null | head -n 1)" != "deno $wanted "* ]]; then
    log "installing deno@$wanted with npm"
    # Not `npm ci`: npm 11 leaves the other platforms' optional @deno/*
    # binaries out of package-lock.json, and `npm ci` then calls it out of sync.
    npm install --no-audit --no-fund --loglevel=error
fi

# Fetches nothing once .deno holds the locked versions.
DENO_DIR=$PWD/.deno NO_COLOR=1 "$DENO" install --frozen --quiet --entrypoint peer.ts
