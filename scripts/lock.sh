#!/usr/bin/env bash
# `make lock`: write constraints.txt anew from a resolved install. In a throwaway virtualenv:
# the build requirements (pyproject's [build-system]), then clinicq with every extra the
# Makefile installs, then `pip freeze` of all of it (pip and setuptools too). `make run` and
# `make test` install with `-c constraints.txt`, so every machine gets these versions.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" -m venv "$tmp/venv"
py="$tmp/venv/bin/python"
"$py" -m pip install -q --upgrade pip
"$py" -m pip install -q 'setuptools>=68' 'babel>=2.12'  # what building clinicq needs
"$py" -m pip install -q -e '.[dev,postgres]'
{
  echo "# Every package version that \`make run\` and \`make test\` install (with -c and"
  echo "# --build-constraint). Written by \`make lock\` (scripts/lock.sh) with $("$py" -V);"
  echo "# do not edit by hand."
  "$py" -m pip freeze --all --exclude-editable | LC_ALL=C sort -f
} > constraints.txt.new
mv constraints.txt.new constraints.txt
echo "constraints.txt: $(grep -c '==' constraints.txt) packages pinned"
