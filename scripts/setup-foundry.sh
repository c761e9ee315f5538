#!/usr/bin/env bash
# Installs the Solidity tooling the contract tests need, pinned by package.json/package-lock.json:
#  - forge (Foundry) 1.7.1 from npm (@foundry-rs/forge, prebuilt binary in an optional dependency),
#  - solc-js 0.8.30 (npm `solc`), used through scripts/solc by forge and by the Rust EVM tests.
# Idempotent: does nothing when the pinned versions are already installed. Needs node >= 18 and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

FORGE_VERSION=1.7.1
SOLC_VERSION=0.8.30

for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "setup-foundry: '$tool' is required (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
done

installed() {
  node_modules/.bin/forge --version 2>/dev/null | grep -q "Version: ${FORGE_VERSION}\b" &&
    scripts/solc --version 2>/dev/null | grep -q "Version: ${SOLC_VERSION}+"
}

if ! installed; then
  echo "setup-foundry: installing forge ${FORGE_VERSION} and solc-js ${SOLC_VERSION} (npm install)"
  # Versions and integrity hashes come from package-lock.json; --no-save keeps it unchanged.
  # Not `npm ci`: it insists on lock entries for forge's platform packages that npm skips
  # (e.g. linux-arm64). --ignore-scripts: forge's postinstall would only re-download the
  # binary that the platform package already ships.
  npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error
  if ! installed; then
    echo "setup-foundry: npm ci finished but forge ${FORGE_VERSION} / solc ${SOLC_VERSION} do not run" >&2
    node_modules/.bin/forge --version >&2 || true
    scripts/solc --version >&2 || true
    exit 1
  fi
fi
echo "setup-foundry: ok: forge $(node_modules/.bin/forge --version | sed -n 's/^forge Version: //p') at $(pwd)/node_modules/.bin/forge (or scripts/forge), solc $(scripts/solc --version | sed -n 's/^Version: //p') at $(pwd)/scripts/solc"
