#!/usr/bin/env bash
# Make sure the Debian/Ubuntu packages Casework needs are present: install the missing ones when
# running as root with apt-get, otherwise say exactly what to install and fail.
#   scripts/system-packages.sh run    # what `make run` needs (WeasyPrint's Pango, Chinese fonts, venv)
#   scripts/system-packages.sh test   # the same plus Chromium for the end-to-end tests
set -euo pipefail

purpose="${1:-run}"
missing=()

has_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need() { has_pkg "$1" || missing+=("$1"); }

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "This is not a Debian/Ubuntu system: install Pango (libpango-1.0-0), the Noto CJK fonts and Chromium yourself." >&2
  exit 0
fi

ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || need libpango-1.0-0
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || need libpangoft2-1.0-0
need fonts-noto-cjk
python3 -c 'import ensurepip, venv' 2>/dev/null || need python3-venv
if [ "$purpose" = "test" ]; then
  [ -x /usr/bin/chromium ] || need chromium
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing system packages: run 'sudo apt-get install ${missing[*]}', then try again." >&2
  exit 1
fi
