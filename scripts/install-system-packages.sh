#!/usr/bin/env bash
# Debian packages the office's browser tests and demo need: chromium (Playwright drives
# Debian's browser; `playwright install` is never run), a font with Vietnamese glyphs, and
# OCR of scanned Vietnamese pages (ocrmypdf + tesseract-ocr-vie), Liberation Serif (metric-compatible
# with Times New Roman, Decree 30) and Pango for printing to PDF (WeasyPrint), SoftHSM2 (the PKCS#11
# token of development, tests and the demo), nginx (the hub's
# reverse-proxy test runs deploy/nginx/lienthong-hub.conf in front of a hub), and npm when
# the machine has none (for `npm ci` of the browser assets).
# Quiet when everything is there; `apt-get update` only when a package cannot be found.
set -euo pipefail
PACKAGES=(chromium fonts-dejavu-core fonts-liberation libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 softhsm2 ocrmypdf tesseract-ocr-vie nginx-light)
missing=()
# npm installs the browser assets (npm ci); take Debian's only where there is none at all
command -v npm >/dev/null 2>&1 || missing+=(npm)
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing Debian packages: ${missing[*]} (no apt-get here; install them by hand)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
