#!/usr/bin/env bash
# Install what the report tier opens its pages with: Debian's Chromium (no browser download of
# any test tool's own).  Does nothing when /usr/bin/chromium is already there.
set -euo pipefail
if [ -x "${SMLITE_CHROMIUM:-/usr/bin/chromium}" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install_browser.sh: Chromium is missing and installing it needs root (apt-get install chromium)" >&2
        exit 1
    fi
else
    SUDO=
fi
echo "installing Chromium from Debian's packages ..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version >&2
