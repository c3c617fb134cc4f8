#!/usr/bin/env bash
# Everything the tests need on a fresh Debian/Ubuntu machine with Python 3.11+:
# the package with its test extras (PyPI), then Chromium and the offline map assets for
# the browser tests (Debian packages and PyPI; nothing else is fetched).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

"$PY" -m pip install --quiet --upgrade pip
"$PY" -m pip install --quiet -e ".[test]"
