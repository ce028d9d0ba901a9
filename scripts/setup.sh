#!/usr/bin/env bash
# Installs what flowlens's build and tests need on a fresh Debian machine:
# the Debian packages listed in .ci/apt-packages (only those missing), the
# console's npm packages (web/) and the Go modules of this platform. Safe to
# run again; quick when all is present.
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
# The console's npm packages (web/node_modules) for `make ui`, the bundle's
# freshness test and the browser tests: npm ci when the lock file changed.
if command -v npm > /dev/null; then
  if ! cmp -s web/package-lock.json web/node_modules/.flowlens-lock 2>/dev/null; then
    echo "setup: npm ci in web/"
    (cd web && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.flowlens-lock)
  fi
else
  echo "setup: npm not found: the console's tests need node and npm" >&2
fi
# Fetch the Go modules this platform's build and tests need (not `go mod download`,
# which would also fetch DuckDB's libraries for every other platform).
go list -deps -test -tags "${TAGS:-duckdb_arrow,isal}" ./... > /dev/null
