#!/bin/sh
# Test-only system packages: Debian's chromium for the real-browser tests of
# the setup page and the audit report. Installed when missing and we are root;
# otherwise those tests skip and say why.
set -eu
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "codex-guard: installing chromium for the browser tests" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
        echo "codex-guard: could not install chromium; browser tests will be skipped" >&2
    exit 0
fi
echo "codex-guard: chromium is missing; browser tests will be skipped (Debian: sudo apt-get install chromium)" >&2
