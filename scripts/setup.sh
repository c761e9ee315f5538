#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine (idempotent; skips what is present).
#  - gcc-mipsel-linux-gnu, qemu-user: C guests, the differential suite and the lockstep trace comparison.
#  - rustc-web, cargo-web, rust-web-src: a Rust 1.96 with the standard-library source, so Rust guests build
#    with -Zbuild-std for mipsel-unknown-none (see DEVELOPERS.md).
#  - node/npm, then forge 1.7.1 and solc-js 0.8.30 from npm (scripts/setup-foundry.sh): the Solidity
#    verifier's tests, in Rust (revm) and with `forge test`.
set -euo pipefail

need_apt=()
command -v mipsel-linux-gnu-gcc >/dev/null || need_apt+=(gcc-mipsel-linux-gnu)
command -v qemu-mipsel >/dev/null || need_apt+=(qemu-user)
if [ ! -x /usr/bin/cargo ] || [ ! -d /usr/lib/rustlib/src/rust/library ]; then
  need_apt+=(rustc-web cargo-web rust-web-src)
fi

command -v npm >/dev/null || need_apt+=(nodejs npm)

if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${need_apt[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
"$(dirname "$0")/setup-foundry.sh"
echo "setup: ok"
