#!/usr/bin/env sh
# Resolve the runtime dependencies afresh and rewrite constraints/runtime.txt
# (its comment header is kept). Review the out/ diff that `make stack` makes after.
set -eu
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet .
{
    grep '^#' constraints/runtime.txt
    "$work/venv/bin/python" -m pip freeze --exclude infra-gen | LC_ALL=C sort -f
} > "$work/runtime.txt"
mv "$work/runtime.txt" constraints/runtime.txt
echo "constraints/runtime.txt:" && grep -v '^#' constraints/runtime.txt
