#!/usr/bin/env bash
# Installs what flowlens's build and tests need on a fresh Debian machine:
# the Debian packages listed in .ci/apt-packages (only those missing) and the
# Go modules. Safe to run again; does nothing when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
while read -r pkg; do
  pkg=${pkg%%#*}; pkg=$(echo "$pkg" | xargs)
  [ -z "$pkg" ] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done < .ci/apt-packages
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
go mod download
