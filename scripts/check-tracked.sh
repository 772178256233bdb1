#!/bin/sh
# Refuse a tree that tracks what an install or a run generates: a virtual
# environment, node_modules, __pycache__, egg-info, or any file over 5 MB.
# Such files tie a clone to one machine (a venv's #! lines name its path).
#   check-tracked.sh [REPO]   exit 1 naming each offending path
set -eu
repo=${1:-$(dirname "$0")/..}
cd "$repo"
git rev-parse --git-dir >/dev/null 2>&1 || { echo "codex-guard: not a git checkout; tracked-file check skipped"; exit 0; }
limit=$((5 * 1024 * 1024))
bad=$(git ls-files | grep -E '(^|/)(\.venv|venv|env|\.tox|\.nox|node_modules|__pycache__|site-packages|[^/]*\.egg-info)/|(^|/)pyvenv\.cfg$|\.py[co]$' | head -5 || true)
big=$(git ls-files -s | awk '{print $2, $4}' | git cat-file --batch-check='%(objectname) %(objectsize) %(rest)' 2>/dev/null \
    | awk -v limit="$limit" '$2 > limit {print $3 " (" int($2 / 1048576) " MB)"}' | head -5 || true)
status=0
if [ -n "$bad" ]; then
    echo "codex-guard: git tracks an installed environment or generated files; untrack them (git rm -r --cached PATH):" >&2
    echo "$bad" | sed 's/^/  /' >&2
    status=1
fi
if [ -n "$big" ]; then
    echo "codex-guard: git tracks files over 5 MB; keep them out of the repository:" >&2
    echo "$big" | sed 's/^/  /' >&2
    status=1
fi
exit $status
