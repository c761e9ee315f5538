#!/usr/bin/env bash
# Runs every test of the project: installs what is missing, then the whole cargo test suite and the
# Solidity tests (forge).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --workspace
scripts/forge test
