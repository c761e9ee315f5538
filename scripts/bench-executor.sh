#!/usr/bin/env bash
# Executor throughput: zkmips fast mode and tracing mode against `qemu-mipsel -singlestep` on the same
# static MIPS32r2 ELF (same arguments, same output), plus the Rust sha256 guest (no qemu: it needs the
# zkVM syscalls). Prints a Markdown table for BENCHMARKS.md.
#
# Usage: scripts/bench-executor.sh
# Environment (all optional):
#   RUNS=5                 timed runs per row (median wall time; hyperfine when installed)
#   FAST_ARGS="2048 2"     sha256_bench.c arguments (KiB of data, rounds): ~270M instructions
#   TRACE_ARGS=$FAST_ARGS  arguments for the tracing row; when they differ, the script adds qemu and
#                          fast-mode rows for them so the tracing row still has a same-workload reference
#   RUST_FAST_KIB=4096     input size of the Rust sha256 guest, fast mode (~176M instructions)
#   RUST_TRACE_KIB=4096    input size of the Rust sha256 guest, tracing mode
#   SHARD_CYCLES=4194304   shard size of the tracing rows
#   OUT=target/bench-executor   scratch directory (ELF, inputs, raw JSON)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-5}
FAST_ARGS=${FAST_ARGS:-"2048 2"}
TRACE_ARGS=${TRACE_ARGS:-$FAST_ARGS}
RUST_FAST_KIB=${RUST_FAST_KIB:-4096}
RUST_TRACE_KIB=${RUST_TRACE_KIB:-$RUST_FAST_KIB}
SHARD_CYCLES=${SHARD_CYCLES:-4194304}
OUT=${OUT:-$ROOT/target/bench-executor}
C_SOURCE=$ROOT/cli/tests/c/sha256_bench.c
RUST_GUEST=$ROOT/examples/bin/sha256.elf
ZKMIPS=$ROOT/target/release/zkmips
ELF=$OUT/sha256_bench.elf

die() {
    echo "bench-executor: $*" >&2
    exit 1
}

for tool in mipsel-linux-gnu-gcc qemu-mipsel python3 cargo; do
    command -v "$tool" >/dev/null || die "$tool is required but not installed"
done
[[ -f $C_SOURCE ]] || die "missing the C workload $C_SOURCE"
[[ -f $RUST_GUEST ]] || die "missing the Rust guest $RUST_GUEST (build it with examples/build.sh)"
mkdir -p "$OUT"

echo "== machine" >&2
grep -m1 'model name' /proc/cpuinfo >&2 || true
echo "cores: $(nproc); load at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo "== building the release CLI" >&2
(cd "$ROOT" && cargo build --release -p zkmips-cli --quiet)

echo "== building $ELF" >&2
mipsel-linux-gnu-gcc -O2 -march=mips32r2 -static -o "$ELF" "$C_SOURCE"

# Deterministic pseudo-random input for the Rust guest: SHA-256 in counter mode.
make_input() {
    python3 - "$1" "$2" <<'EOF'
import hashlib, sys
size, path = int(sys.argv[1]) * 1024, sys.argv[2]
out = bytearray()
counter = 0
while len(out) < size:
    out += hashlib.sha256(counter.to_bytes(8, "little")).digest()
    counter += 1
open(path, "wb").write(out[:size])
EOF
}
make_input "$RUST_FAST_KIB" "$OUT/rust_fast.bin"
make_input "$RUST_TRACE_KIB" "$OUT/rust_trace.bin"

# Cycle count from `zkmips run --stats` (stderr); stdout is kept in $OUT/<name>.stdout for comparison.
cycles_of() {
    local name=$1
    shift
    "$ZKMIPS" run --stats "$@" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" ||
        die "zkmips run $* failed: $(tail -3 "$OUT/$name.stderr")"
    sed -n 's/^stats: cycles *\([0-9]*\)$/\1/p' "$OUT/$name.stderr"
}

# Peak resident memory (KiB) of one run, or None without GNU time.
max_rss_kib() {
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1
    else
        echo None
    fi
}

echo "== checking outputs and counting instructions" >&2
read -r -a fast_args <<<"$FAST_ARGS"
read -r -a trace_args <<<"$TRACE_ARGS"
trace_flags=(--trace --shard-cycles "$SHARD_CYCLES")

c_fast_cycles=$(cycles_of c_fast "$ELF" -- "${fast_args[@]}")
c_trace_cycles=$(cycles_of c_trace "${trace_flags[@]}" "$ELF" -- "${trace_args[@]}")
qemu-mipsel -singlestep "$ELF" "${fast_args[@]}" >"$OUT/qemu_fast.stdout"
cmp -s "$OUT/c_fast.stdout" "$OUT/qemu_fast.stdout" || die "zkmips and qemu disagree on $FAST_ARGS"
if [[ $TRACE_ARGS != "$FAST_ARGS" ]]; then
    cycles_of c_trace_fast "$ELF" -- "${trace_args[@]}" >/dev/null
    qemu-mipsel -singlestep "$ELF" "${trace_args[@]}" >"$OUT/qemu_trace.stdout"
else
    cp "$OUT/c_fast.stdout" "$OUT/c_trace_fast.stdout"
    cp "$OUT/qemu_fast.stdout" "$OUT/qemu_trace.stdout"
fi
cmp -s "$OUT/c_trace.stdout" "$OUT/qemu_trace.stdout" || die "zkmips --trace and qemu disagree on $TRACE_ARGS"
cmp -s "$OUT/c_trace_fast.stdout" "$OUT/c_trace.stdout" || die "fast and tracing mode disagree on $TRACE_ARGS"

rust_fast_cycles=$(cycles_of rust_fast --input "$OUT/rust_fast.bin" "$RUST_GUEST")
rust_trace_cycles=$(cycles_of rust_trace "${trace_flags[@]}" --input "$OUT/rust_trace.bin" "$RUST_GUEST")
for size in fast trace; do
    want=$(sha256sum "$OUT/rust_$size.bin" | cut -d' ' -f1)
    grep -q "$want" "$OUT/rust_$size.stdout" || die "the Rust guest's digest of rust_$size.bin is wrong"
done

c_trace_rss=$(max_rss_kib "$ZKMIPS" run "${trace_flags[@]}" "$ELF" -- "${trace_args[@]}")
rust_trace_rss=$(max_rss_kib "$ZKMIPS" run "${trace_flags[@]}" --input "$OUT/rust_trace.bin" "$RUST_GUEST")
c_fast_rss=$(max_rss_kib "$ZKMIPS" run "$ELF" -- "${fast_args[@]}")
rust_fast_rss=$(max_rss_kib "$ZKMIPS" run --input "$OUT/rust_fast.bin" "$RUST_GUEST")

# Times one command: median wall seconds and mean user+sys CPU seconds, written to $OUT/<name>.json as
# {"wall": .., "cpu": ..}. Output is discarded.
measure() {
    local name=$1
    shift
    echo "-- $name: $*" >&2
    if command -v hyperfine >/dev/null; then
        hyperfine -N --warmup 1 --runs "$RUNS" --style none --export-json "$OUT/$name.hyperfine.json" \
            -- "$(printf '%q ' "$@")" >/dev/null
        python3 - "$OUT/$name.hyperfine.json" "$OUT/$name.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
json.dump({"wall": r["median"], "cpu": r["user"] + r["system"]}, open(sys.argv[2], "w"))
EOF
    else
        python3 - "$RUNS" "$OUT/$name.json" "$@" <<'EOF'
import json, os, statistics, subprocess, sys, time
runs, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
walls, cpus = [], []
for i in range(runs + 1):  # the first run warms the caches and is not counted
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"{cmd} failed")
    if i:
        walls.append(wall)
        cpus.append(usage.ru_utime + usage.ru_stime)
json.dump({"wall": statistics.median(walls), "cpu": statistics.mean(cpus)}, open(out, "w"))
EOF
    fi
}

echo "== timing ($RUNS runs each)" >&2
measure qemu_fast qemu-mipsel -singlestep "$ELF" "${fast_args[@]}"
measure c_fast "$ZKMIPS" run "$ELF" -- "${fast_args[@]}"
if [[ $TRACE_ARGS != "$FAST_ARGS" ]]; then
    measure qemu_trace qemu-mipsel -singlestep "$ELF" "${trace_args[@]}"
    measure c_trace_fast "$ZKMIPS" run "$ELF" -- "${trace_args[@]}"
fi
measure c_trace "$ZKMIPS" run "${trace_flags[@]}" "$ELF" -- "${trace_args[@]}"
measure rust_fast "$ZKMIPS" run --input "$OUT/rust_fast.bin" "$RUST_GUEST"
measure rust_trace "$ZKMIPS" run "${trace_flags[@]}" --input "$OUT/rust_trace.bin" "$RUST_GUEST"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$OUT" <<EOF
import json, sys
out = sys.argv[1]
def t(name):
    return json.load(open(f"{out}/{name}.json"))
same = "$TRACE_ARGS" == "$FAST_ARGS"
qemu_trace = "qemu_fast" if same else "qemu_trace"
rows = [
    # label, workload, instructions, timing, qemu timing (same ELF and arguments) or None, peak RSS KiB
    ("qemu-mipsel -singlestep", "C sha256_bench $FAST_ARGS", $c_fast_cycles, "qemu_fast", "qemu_fast", None),
    ("zkmips fast", "C sha256_bench $FAST_ARGS", $c_fast_cycles, "c_fast", "qemu_fast", $c_fast_rss),
]
if not same:
    rows += [
        ("qemu-mipsel -singlestep", "C sha256_bench $TRACE_ARGS", $c_trace_cycles, "qemu_trace", "qemu_trace", None),
        ("zkmips fast", "C sha256_bench $TRACE_ARGS", $c_trace_cycles, "c_trace_fast", "qemu_trace", None),
    ]
rows += [
    ("zkmips tracing", "C sha256_bench $TRACE_ARGS", $c_trace_cycles, "c_trace", qemu_trace, $c_trace_rss),
    ("zkmips fast", "Rust sha256 guest, $RUST_FAST_KIB KiB", $rust_fast_cycles, "rust_fast", None, $rust_fast_rss),
    ("zkmips tracing", "Rust sha256 guest, $RUST_TRACE_KIB KiB", $rust_trace_cycles, "rust_trace", None, $rust_trace_rss),
]
print("| mode | workload | instructions | wall s | M instr/s (wall) | CPU s | M instr/s (CPU) "
      "| vs qemu -singlestep (CPU) | peak RSS |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for label, workload, instructions, name, qemu, rss in rows:
    m = t(name)
    wall_rate = instructions / m["wall"] / 1e6
    cpu_rate = instructions / m["cpu"] / 1e6
    ratio = "-"
    if qemu is not None:
        ratio = f"{cpu_rate / (instructions / t(qemu)['cpu'] / 1e6):.2f}x"
    rss_text = "-" if rss is None else (f"{rss / 1024:.0f} MiB" if rss < 1 << 20 else f"{rss / (1 << 20):.1f} GiB")
    print(f"| {label} | {workload} | {instructions:,} | {m['wall']:.3f} | {wall_rate:.0f} | {m['cpu']:.3f} "
          f"| {cpu_rate:.0f} | {ratio} | {rss_text} |")
EOF
echo
echo "Tracing rows: \`zkmips run --trace --shard-cycles $SHARD_CYCLES\` (shards are recorded, then dropped)."
echo "Load average: $load_end at the end of the timed runs ($(nproc) cores)."
