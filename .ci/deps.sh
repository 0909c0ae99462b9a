#!/usr/bin/env bash
# System programs the browser tests, the collector's PostgreSQL tests and the benchmarks
# need (`make deps`): installs what is missing from Debian's packages, and does nothing
# (quickly) when everything is there.
# Runs apt-get as root, or through passwordless sudo; otherwise says what to install.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

# program:package
wanted=(ffmpeg:ffmpeg chromium:chromium chromedriver:chromium-driver nginx:nginx wrk:wrk curl:curl)
missing=()
for pair in "${wanted[@]}"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
# PostgreSQL's server binaries (not on PATH): the collector's tests start their own server.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        echo "missing: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # The package lists are refreshed only when the install cannot find something.
    if ! "${sudo[@]}" apt-get install -y -q "${missing[@]}"; then
        "${sudo[@]}" apt-get update -q
        "${sudo[@]}" apt-get install -y -q "${missing[@]}"
    fi
fi

# Node.js 20 or later (playwright-core and the node:test runner of tests/e2e).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "deps: node and npm (Node.js 20 or later) are needed for tests/e2e" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "deps: Node.js $(node --version) is too old for tests/e2e: 20 or later is needed" >&2
    exit 1
fi
