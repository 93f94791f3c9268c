#!/usr/bin/env bash
# Create .venv with a Python >= 3.12 and install GridLoop into it (editable).
# Usage: scripts/bootstrap.sh [EXTRAS]   e.g. scripts/bootstrap.sh dev
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }

find_python() {
    local c
    for c in "${GRIDLOOP_PYTHON:-}" python3.13 python3.12 python3; do
        [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && ok "$c" && { command -v "$c"; return; }
    done
    # pyenv keeps interpreters that its shims do not select by default
    for c in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3; do
        [ -x "$c" ] && ok "$c" && { echo "$c"; return; }
    done
    return 1
}

if [ ! -x .venv/bin/python ] || ! ok .venv/bin/python; then
    if ! py=$(find_python); then
        echo "gridloop: no Python >= 3.12 found (tried \$GRIDLOOP_PYTHON, python3.13, python3.12, python3, pyenv versions)." >&2
        echo "Install Python 3.12 or newer, or point GRIDLOOP_PYTHON at one, then run this again." >&2
        exit 1
    fi
    echo "gridloop: creating .venv with $py ($("$py" --version))"
    rm -rf .venv
    "$py" -m venv .venv
fi

stamp=".venv/.installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "gridloop: installing${extras:+ with [$extras]} into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
    touch "$stamp"
fi
