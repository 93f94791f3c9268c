#!/usr/bin/env bash
# Bring the translation catalogues in step with the code (Babel): extract every marked
# message (babel.cfg), then merge them into each language's .po. New messages arrive with
# an empty translation for a translator to fill in; tests/test_i18n.py fails until they are.
# Usage: scripts/catalogues.sh          (needs the dev install: scripts/bootstrap.sh dev)
set -euo pipefail
cd "$(dirname "$0")/.."
pot=$(mktemp --suffix=.pot)
trap 'rm -f "$pot"' EXIT
.venv/bin/pybabel extract -F babel.cfg --add-location=file --sort-by-file --omit-header \
    -c TRANSLATORS: -o "$pot" . 2>&1 | { grep -i warning || true; }
for lang in zh_CN; do
    po=sim/i18n/locale/$lang/LC_MESSAGES/gridloop.po
    .venv/bin/pybabel update -i "$pot" -o "$po" -l "$lang" --init-missing \
        --no-fuzzy-matching --ignore-obsolete 2>&1 | { grep -i warning || true; }
    echo "catalogues: $po: $(grep -c '^msgid ' "$po") messages"
done
