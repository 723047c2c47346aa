#!/usr/bin/env bash
# `fdu --mpi` against one process with the same total of threads, on the
# latency file system (scripts/latency-fs.py over the mixed 20k tree) at
# 1 ms and 5 ms a request: one hyperfine run per delay, caches dropped
# before each run; then, once per rank count, --stats for the ranks'
# balance. Results in results.md. With --export, every run writes the
# scan as an ncdu export (`-o FILE`, FILE on local disk) instead of `-s`,
# into export-*.json/txt and export.md.
#
#   scripts/bench-mpi.sh [--out DIR] [--runs N] [--threads T] [--export]
#
# Needs root, hyperfine, OpenMPI (mpirun), python3 + fusepy, fuse +
# libfuse2, gcc, and fdu built with `cargo build --release --features mpi`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${FDU_BENCH_DIR:-/var/tmp/fdu-bench}
OUT=$ROOT/perf/runs/$(date +%Y-%m-%d)-vm-mpi
RUNS=3
THREADS=64
WHAT=(-s)
TAG=""
while [ $# -gt 0 ]; do
  case "$1" in
    --export) WHAT=(-o "$BENCH/mpi-export.json"); TAG=export- ;;
    --out) OUT=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    *) echo "bench-mpi.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "bench-mpi.sh: must run as root" >&2; exit 1; }
FDU=/tmp/fdu-mpi
cp "${FDU_BIN:-$ROOT/target/release/fdu}" "$FDU"
mkdir -p "$OUT"
MNT=$BENCH/mpi-mnt
FS_PID=""
unmount() {
  if mountpoint -q "$MNT" 2>/dev/null; then fusermount -u "$MNT" || fusermount -u -z "$MNT" || true; fi
  if [ -n "$FS_PID" ]; then wait "$FS_PID" 2>/dev/null || true; FS_PID=""; fi
}
trap unmount EXIT
[ -d "$BENCH/mixed-20k" ] || (cd "$ROOT" && cargo run --release -q -p fdu-datasets -- mixed "$BENCH/mixed-20k" --entries 20000 --seed 1 --force)
{
  echo "date: $(date -Is)"; echo "kernel: $(uname -r)"; echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "fdu commit: $(git -C "$ROOT" rev-parse HEAD)$(git -C "$ROOT" diff --quiet || echo ' (dirty)')"
  echo "hyperfine: $(hyperfine --version)"
  echo "mpirun: $(mpirun --version 2>&1 | head -1)"
} > "$OUT/machine.txt"
MPI="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none"
DROP="sh -c 'echo 3 > /proc/sys/vm/drop_caches; du -s $BENCH/mixed-20k > /dev/null'"
for delay in 1 5; do
  mkdir -p "$MNT"
  unmount
  python3 "$ROOT/scripts/latency-fs.py" "$BENCH/mixed-20k" "$MNT" --delay-ms "$delay" \
    --count "$OUT/${TAG}fs-count-${delay}ms.json" 2>"$OUT/latency-fs.log" &
  FS_PID=$!
  for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.1; done
  mountpoint -q "$MNT" || { echo "bench-mpi.sh: latency-fs did not mount" >&2; exit 1; }
  args=(-n "1x$THREADS" "$FDU ${WHAT[*]} -j $THREADS $MNT")
  for n in 1 2 4; do
    args+=(-n "mpi-${n}x$((THREADS / n))" "$MPI -n $n $FDU --mpi ${WHAT[*]} -j $((THREADS / n)) $MNT")
  done
  echo "== ${TAG}${delay}ms" >&2
  hyperfine -N --output=null -r "$RUNS" --prepare "$DROP" \
    --export-json "$OUT/${TAG}${delay}ms.json" "${args[@]}" > "$OUT/${TAG}${delay}ms.txt" 2>&1
  for n in 2 4; do
    sh -c 'echo 3 > /proc/sys/vm/drop_caches'; du -s "$BENCH/mixed-20k" > /dev/null
    $MPI -n "$n" "$FDU" --mpi "${WHAT[@]}" -j $((THREADS / n)) --stats "$MNT" > /dev/null 2> "$OUT/${TAG}${delay}ms-stats-$n.txt"
  done
  unmount
done

REPORT=$OUT/results.md
[ -z "$TAG" ] || REPORT=$OUT/export.md
python3 - "$OUT" "$TAG" > "$REPORT" <<'PY'
import json, os, sys
out, tag = sys.argv[1], sys.argv[2]
what = "`-o FILE` (an ncdu export)" if tag else "`-s`"
print(f"# `fdu --mpi` against one process, the same threads in all: {what}\n")
print("```\n" + open(os.path.join(out, "machine.txt")).read().rstrip() + "\n```\n")
print("Medians of one hyperfine run per delay, caches dropped before each run;")
print("`NxT` is N ranks of T threads each.\n")
for delay in (1, 5):
    p = os.path.join(out, f"{tag}{delay}ms.json")
    if not os.path.exists(p):
        continue
    res = [(r["command"], r["median"]) for r in json.load(open(p))["results"]]
    base = res[0][1]
    print(f"## {delay} ms a request\n")
    print("| run | median (s) | x one process |")
    print("|---|---:|---:|")
    for name, med in res:
        print(f"| {name} | {med:.3f} | {med / base:.2f} |")
    print()
    for n in (2, 4):
        s = os.path.join(out, f"{tag}{delay}ms-stats-{n}.txt")
        if os.path.exists(s):
            lines = [l for l in open(s) if l.startswith("rank ")]
            print(f"{n} ranks, balance (--stats):\n\n```\n" + "".join(lines) + "```\n")
PY
cat "$REPORT"
