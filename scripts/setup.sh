#!/bin/sh
# `make setup`: build or reuse the checkout's own virtual environment and make
# sure a redis-server binary exists. Whether to install is decided from what is
# really there (the venv's interpreter runs and satisfies pyproject.toml), never
# from a marker file, so a copied or moved venv is rebuilt rather than trusted.
#   setup.sh TARGET   (TARGET names the make target in the one-line summary;
#                      SETUP_DRY_RUN=1 prints that line and changes nothing)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv"
python=${PYTHON:-python3}
target=${1:-setup}

command -v "$python" >/dev/null 2>&1 || { echo "codex-guard: $python is not installed; install Python 3.11 or newer" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "codex-guard: $python is $("$python" -V 2>&1); codex-guard needs Python 3.11 or newer" >&2; exit 1; }
py_desc="$("$python" -c 'import platform, sys; print(f"Python {platform.python_version()} ({sys.executable})")')"

# The venv is reused only when its own interpreter runs and reports this venv.
venv_state=create
if [ -e "$venv" ]; then
    # A copied or linked venv passes the first test but its scripts' #! lines name another path.
    if "$venv/bin/python" -c 'import sys; sys.exit(sys.prefix != sys.argv[1])' "$venv" 2>/dev/null \
        && { [ ! -e "$venv/bin/pip" ] || head -1 "$venv/bin/pip" | grep -qF "#!$venv/bin/python"; }; then
        if "$venv/bin/python" scripts/env_ok.py >/dev/null 2>&1; then venv_state=reuse; else venv_state=install; fi
    else
        venv_state=rebuild
    fi
fi

if command -v redis-server >/dev/null 2>&1; then
    redis_desc="$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/Redis \1/p') ($(command -v redis-server)$(dpkg -S "$(command -v redis-server)" 2>/dev/null | sed -n '1s/:.*//p' | sed 's/^/, Debian package /'))"
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    redis_desc="Redis from Debian's redis-server package (to install now)"
else
    redis_desc="Redis: none found"
fi
case $venv_state in
    reuse) venv_desc="reusing $venv" ;;
    install) venv_desc="installing into $venv" ;;
    rebuild) venv_desc="rebuilding $venv (its interpreter is missing or belongs elsewhere)" ;;
    create) venv_desc="creating $venv" ;;
esac
echo "codex-guard: make $target: $py_desc, $venv_desc, $redis_desc"
[ -z "${SETUP_DRY_RUN:-}" ] || exit 0  # the plan only (tests)

if [ "$venv_state" = rebuild ]; then rm -rf "$venv"; fi
if [ "$venv_state" = rebuild ] || [ "$venv_state" = create ]; then "$python" -m venv "$venv"; fi
if [ "$venv_state" != reuse ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
    "$venv/bin/python" scripts/env_ok.py || { echo "codex-guard: the install finished but the environment is still incomplete (above)" >&2; exit 1; }
fi
exec sh scripts/ensure-redis.sh
