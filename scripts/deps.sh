#!/usr/bin/env bash
# Installs what bullwatch needs on Debian 12: build libraries, and for the
# tests and the demo a redis-server, tmux, a real Alertmanager (Debian's
# prometheus-alertmanager, for tests/it/t_alertmanager.sh), curl, and Node.js
# with the tests' npm packages (bullmq 5.71.0 and 6.7.0, standardwebhooks,
# from tests/package-lock.json).
# As root it installs what is missing; otherwise it prints the command.
#   scripts/deps.sh          everything (build + tests + demo)
#   scripts/deps.sh build    only what `make` needs
set -eu
cd "$(dirname "$0")/.."
# libmicrohttpd: the agent's /metrics and health endpoints (a maintained
# HTTP server driven from the agent's poll loop, rather than a parser of ours)
build_pkgs="gcc make pkg-config libhiredis-dev libcurl4-openssl-dev libcjson-dev libsqlite3-dev
libncurses-dev libssl-dev check libmicrohttpd-dev"
# prometheus: promtool and a real Prometheus scraping the agent in the tests;
# prometheus-alertmanager: the real receiver the alert tests push to;
# clang: the libFuzzer harnesses (make fuzz; its libclang_rt.fuzzer comes with it)
test_pkgs="redis-server redis-tools tmux sqlite3 curl prometheus prometheus-alertmanager clang"
# Node.js: Debian's nodejs/npm unless a node and npm are already installed
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    test_pkgs="$test_pkgs nodejs npm"
fi
want=$build_pkgs
[ "${1:-all}" = build ] || want="$want $test_pkgs"
missing=
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "deps: installing$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
        echo "deps: missing Debian packages:$missing" >&2
        echo "deps: install them with:  sudo apt-get install -y$missing" >&2
        exit 1
    fi
fi
if [ "${1:-all}" != build ]; then
    if [ ! -d tests/node_modules/bullmq5 ] || [ ! -d tests/node_modules/bullmq6 ] ||
        [ ! -d tests/node_modules/standardwebhooks ] ||
        [ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]; then
        echo "deps: installing the tests' npm packages (bullmq 5.71.0 and 6.7.0, standardwebhooks)"
        (cd tests && npm install --no-audit --no-fund --loglevel=error)
    fi
fi
