#!/usr/bin/env bash
# Prover throughput: `zkmips prove` (release, -C target-cpu=native) on the fibonacci example at a few
# sizes and on the sha256 example, with wall time, proven cycles per second, peak RSS and proof size;
# then `zkmips verify` time. Prints a Markdown table for BENCHMARKS.md, and the per-chip trace sizes
# (`zkmips prove --stats`) of the largest fibonacci run.
#
# Usage: scripts/bench-prover.sh
# Environment (all optional):
#   FIB_N="1000 50000 400000"   fibonacci inputs (about 15k, 0.5M and 4M cycles)
#   SHARD=524288                instructions per shard (zkmips prove's default)
#   OUT=target/bench-prover     scratch directory (inputs, proofs, logs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIB_N=${FIB_N:-"1000 50000 400000"}
SHARD=${SHARD:-524288}
OUT=${OUT:-$ROOT/target/bench-prover}
ZKMIPS=$ROOT/target/release/zkmips

die() {
    echo "bench-prover: $*" >&2
    exit 1
}

[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is required for peak RSS (apt-get install time)"
mkdir -p "$OUT"

echo "== machine" >&2
grep -m1 'model name' /proc/cpuinfo >&2 || true
echo "cores: $(nproc); load at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo "== building the release CLI" >&2
(cd "$ROOT" && cargo build --release -p zkmips-cli --quiet)

# prove NAME ELF INPUT: one table row.
prove() {
    local name=$1 elf=$2 input=$3
    local log=$OUT/$name.log proof=$OUT/$name.proof
    /usr/bin/time -v "$ZKMIPS" prove "$elf" --input "$input" --shard-size "$SHARD" --stats \
        -o "$proof" 2>"$log"
    local cycles shards prove_s rss bytes verify_s
    cycles=$(sed -n 's/^cycles: *\([0-9]*\) in \([0-9]*\) shard.*/\1/p' "$log")
    shards=$(sed -n 's/^cycles: *[0-9]* in \([0-9]*\) shard.*/\1/p' "$log")
    prove_s=$(sed -n 's/^prove: *\([0-9.]*\) s.*/\1/p' "$log")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\)/\1/p' "$log")
    bytes=$(stat -c %s "$proof")
    verify_s=$( { /usr/bin/time -f %e "$ZKMIPS" verify "$proof" --elf "$elf" >/dev/null; } 2>&1 | tail -1)
    printf '| %s | %s | %s | %s | %.0f | %.2f | %.1f | %s |\n' \
        "$name" "$cycles" "$shards" "$prove_s" \
        "$(echo "$cycles / $prove_s" | bc -l)" \
        "$(echo "$rss / 1048576" | bc -l)" \
        "$(echo "$bytes / 1048576" | bc -l)" "$verify_s"
}

echo "| run | cycles | shards | prove (s) | cycles/s | peak RSS (GiB) | proof (MiB) | verify (s) |"
echo "|---|---|---|---|---|---|---|---|"
last=
for n in $FIB_N; do
    input=$OUT/fib-$n.bin
    python3 -c "import struct,sys; open(sys.argv[1],'wb').write(struct.pack('<I', int(sys.argv[2])))" \
        "$input" "$n"
    prove "fibonacci-$n" "$ROOT/examples/bin/fibonacci.elf" "$input"
    last=fibonacci-$n
done
prove sha256 "$ROOT/examples/bin/sha256.elf" "$ROOT/examples/sha256/input.txt"

echo
echo "Per-chip trace sizes of $last (main, LogUp and preprocessed base-field columns; cells per cycle):"
echo '```text'
sed -n '/^chip /,/^total/p' "$OUT/$last.log"
echo '```'
