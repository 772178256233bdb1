#!/bin/sh
# Make sure a redis-server binary is available: install it from the OS packages
# when missing and we are root on Debian/Ubuntu, otherwise say what to install.
set -eu
if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "codex-guard: installing redis-server from the OS packages" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    # Debian's package may start a system service; codex-guard starts its own.
    exit 0
fi
echo "codex-guard: redis-server is missing; install it (Debian/Ubuntu: sudo apt-get install redis-server, macOS: brew install redis) and run this again" >&2
exit 1
