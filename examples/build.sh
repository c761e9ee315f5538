#!/usr/bin/env bash
# Rebuilds every prebuilt example guest into examples/bin/<name>.elf (Rust guests and the C guest).
#
# Toolchain routes, in order:
#   1. Debian rustc-web/cargo-web/rust-web-src: /usr/bin/cargo + /usr/lib/rustlib/src, unstable flags enabled
#      with RUSTC_BOOTSTRAP=1 (these produced the committed ELFs);
#   2. rustup nightly with the rust-src component (`rustup toolchain install nightly --component rust-src`).
# The linker is rust-lld from a rustup toolchain (or ld.lld on PATH); set
# CARGO_TARGET_MIPSEL_UNKNOWN_NONE_LINKER to override. The C guest needs mipsel-linux-gnu-gcc.
set -euo pipefail

examples_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$examples_dir")
target=mipsel-unknown-none
rust_examples=(fibonacci sha256 keccak serde-demo sdk-check)

die() {
    echo "examples/build.sh: $*" >&2
    exit 1
}

if [[ -x /usr/bin/cargo && -x /usr/bin/rustc && -f /usr/lib/rustlib/src/rust/library/Cargo.lock ]]; then
    cargo_cmd=(/usr/bin/cargo)
    export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
    std_source=/usr/lib/rustlib/src/rust
    route="Debian cargo $(/usr/bin/cargo --version | cut -d' ' -f2) with RUSTC_BOOTSTRAP=1"
elif command -v rustup >/dev/null && nightly_sysroot=$(rustc +nightly --print sysroot 2>/dev/null) &&
    [[ -f "$nightly_sysroot/lib/rustlib/src/rust/library/Cargo.lock" ]]; then
    cargo_cmd=(rustup run nightly cargo)
    std_source="$nightly_sysroot/lib/rustlib/src/rust"
    route="rustup nightly"
else
    die "no guest toolchain found. Install one of:
  apt-get install rustc-web cargo-web rust-web-src
  rustup toolchain install nightly --component rust-src"
fi

if [[ -z "${CARGO_TARGET_MIPSEL_UNKNOWN_NONE_LINKER:-}" ]]; then
    linker=""
    for toolchain in stable nightly; do
        sysroot=$(rustc "+$toolchain" --print sysroot 2>/dev/null) || continue
        host=$(rustc "+$toolchain" -vV | sed -n 's/^host: //p')
        if [[ -x "$sysroot/lib/rustlib/$host/bin/rust-lld" ]]; then
            linker="$sysroot/lib/rustlib/$host/bin/rust-lld"
            break
        fi
    done
    if [[ -z "$linker" ]] && command -v ld.lld >/dev/null && ld.lld --version >/dev/null 2>&1; then
        linker=$(command -v ld.lld)
    fi
    [[ -n "$linker" ]] || die "no rust-lld found: install a rustup toolchain (it ships rust-lld) or lld"
    export CARGO_TARGET_MIPSEL_UNKNOWN_NONE_LINKER="$linker"
fi

echo "building Rust examples with $route, linker $CARGO_TARGET_MIPSEL_UNKNOWN_NONE_LINKER" >&2
# Path remapping keeps machine-specific paths (panic locations) out of the committed binaries.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
remap="target.$target.rustflags=['--remap-path-prefix=$repo_dir=zkmips', \
'--remap-path-prefix=$cargo_home/registry/src=cargo', '--remap-path-prefix=$std_source=rust']"
(cd "$examples_dir" && "${cargo_cmd[@]}" build --release --locked --config "$remap" \
    $(printf -- '-p %s ' "${rust_examples[@]}"))

mkdir -p "$examples_dir/bin"
for name in "${rust_examples[@]}"; do
    cp "${CARGO_TARGET_DIR:-$examples_dir/target}/$target/release/$name" "$examples_dir/bin/$name.elf"
done

command -v mipsel-linux-gnu-gcc >/dev/null || die "mipsel-linux-gnu-gcc not found (apt-get install gcc-mipsel-linux-gnu)"
echo "building C example c-sum" >&2
mipsel-linux-gnu-gcc -O2 -march=mips32r2 -nostdlib -ffreestanding -static -fno-pic -mno-abicalls \
    -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
    -I "$repo_dir/zkvm/c" -T "$repo_dir/zkvm/c/link.ld" \
    "$repo_dir/zkvm/c/start.S" "$repo_dir/zkvm/c/zkmips.c" "$examples_dir/c-sum/sum.c" -lgcc \
    -o "$examples_dir/bin/c-sum.elf"

ls -l "$examples_dir"/bin/*.elf >&2
