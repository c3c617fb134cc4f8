#!/usr/bin/env bash
# Everything the tests need on a fresh Debian/Ubuntu machine with Python 3.11+:
#   1. the package with its test extras (PyPI): pytest, hypothesis, ruff, playwright's
#      Python client (Leaflet itself, xstatic-leaflet, is a runtime dependency);
#   2. Debian's chromium for the browser tests (never `playwright install`, which would
#      download a browser build), with fonts and libatomic1 for playwright's driver.
# Re-running is cheap: each step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

"$PY" -m pip install --quiet --upgrade pip
"$PY" -m pip install --quiet -e ".[test]"

need=()
if [ ! -x /usr/lib/chromium/chromium ] && ! command -v chromium >/dev/null 2>&1; then
  need+=(chromium fonts-liberation)
fi
if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libatomic\.so\.1'; then need+=(libatomic1); fi
# pdftoppm and pdftotext check the printable brief (one page, searchable text)
if ! command -v pdftoppm >/dev/null 2>&1; then need+=(poppler-utils); fi
if [ "${#need[@]}" -gt 0 ]; then
  echo "[setup] apt-get install ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
fi
"$PY" -c "import playwright.sync_api, xstatic.pkg.leaflet" \
  || { echo "[setup] the browser test packages did not install" >&2; exit 1; }
