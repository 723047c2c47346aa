#!/usr/bin/env bash
# `-j auto` against every fixed worker count, on each storage this machine
# can show: one hyperfine run per setting, the default and -j 2 ... 256 side
# by side, medians and ratios to the best fixed count in results.md.
#
#   scripts/bench-workers.sh [--out DIR] [--runs N] [--only REGEX]
#
# Settings (names for --only):
#   local-warm, local-cold   the mixed 1M-entry tree on the local disk
#   usr-warm, usr-cold       /usr
#   fuse-0.2ms, fuse-1ms, fuse-5ms
#                            scripts/latency-fs.py over the mixed 20k tree,
#                            that delay on every metadata request
#   fuse-mixed               0.2 ms everywhere but 5 ms below internal15/
#                            (18% of the entries): the delay changes as the
#                            walk goes
# Cold runs drop the page cache before each run (for the FUSE mount, the
# source tree is re-read after dropping, so only the emulated delay counts).
# For each FUSE setting the file system's own request count gives the
# limit it can serve: requests x delay / the most requests it overlaps
# (measured: `busy_s` over the best run's wall time).
#
# Needs root, hyperfine, python3 + fusepy, fuse + libfuse2, gcc.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${FDU_BENCH_DIR:-/var/tmp/fdu-bench}
OUT=$ROOT/perf/runs/$(date +%Y-%m-%d)-vm-workers
RUNS=3
ONLY=.
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    *) echo "bench-workers.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "bench-workers.sh: must run as root" >&2; exit 1; }
FDU=/tmp/fdu-workers
cp "${FDU_BIN:-$ROOT/target/release/fdu}" "$FDU"
mkdir -p "$OUT"
MNT=$BENCH/workers-mnt
FS_PID=""
unmount() {
  if mountpoint -q "$MNT" 2>/dev/null; then fusermount -u "$MNT" || fusermount -u -z "$MNT" || true; fi
  if [ -n "$FS_PID" ]; then wait "$FS_PID" 2>/dev/null || true; FS_PID=""; fi
}
trap unmount EXIT
mount_fs() { # delay_ms [latency-fs args...]
  local delay=$1; shift
  mkdir -p "$MNT"
  unmount
  python3 "$ROOT/scripts/latency-fs.py" "$BENCH/mixed-20k" "$MNT" --delay-ms "$delay" \
    --count "$OUT/fs-count.json" "$@" 2>"$OUT/latency-fs.log" &
  FS_PID=$!
  for _ in $(seq 100); do mountpoint -q "$MNT" && return 0; sleep 0.1; done
  echo "bench-workers.sh: latency-fs did not mount" >&2; exit 1
}
for tree in mixed-1m mixed-20k; do
  n=${tree#mixed-}; n=${n/m/000000}; n=${n/k/000}
  [ -d "$BENCH/$tree" ] || (cd "$ROOT" && cargo run --release -q -p fdu-datasets -- mixed "$BENCH/$tree" --entries "$n" --seed 1 --force)
done
{
  echo "date: $(date -Is)"; echo "kernel: $(uname -r)"; echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "fdu commit: $(git -C "$ROOT" rev-parse HEAD)$(git -C "$ROOT" diff --quiet || echo ' (dirty)')"
  echo "hyperfine: $(hyperfine --version)"
} > "$OUT/machine.txt"

COUNTS="2 4 8 16 32 64 128 256"
run() { # name target prepare
  local name=$1 target=$2 prepare=$3
  echo "$name" | grep -Eq "$ONLY" || return 0
  local args=(-n "auto" "$FDU -s -j auto $target")
  for j in $COUNTS; do args+=(-n "j$j" "$FDU -s -j $j $target"); done
  local warm=()
  [ -z "$prepare" ] && warm=(-w 1)
  echo "== $name" >&2
  # The default's controller, once, for the record.
  [ -n "$prepare" ] && sh -c "$prepare"
  "$FDU" -s -j auto --stats "$target" > /dev/null 2> "$OUT/$name-stats.txt"
  hyperfine -N --output=null -r "$RUNS" "${warm[@]}" ${prepare:+--prepare "$prepare"} \
    --export-json "$OUT/$name.json" "${args[@]}" > "$OUT/$name.txt" 2>&1
}
DROP="sh -c 'echo 3 > /proc/sys/vm/drop_caches'"
run local-warm "$BENCH/mixed-1m" ""
run local-cold "$BENCH/mixed-1m" "$DROP"
run usr-warm /usr ""
run usr-cold /usr "$DROP"
FUSE_DROP="sh -c 'echo 3 > /proc/sys/vm/drop_caches; du -s $BENCH/mixed-20k > /dev/null'"
for setting in 0.2 1 5 mixed; do
  name=fuse-${setting}ms; [ "$setting" = mixed ] && name=fuse-mixed
  echo "$name" | grep -Eq "$ONLY" || continue
  if [ "$setting" = mixed ]; then mount_fs 0.2 --slow internal15=5; else mount_fs "$setting"; fi
  run "$name" "$MNT" "$FUSE_DROP"
  cp "$OUT/fs-count.json" "$OUT/$name-fs-count.json"
  unmount
done
rm -f "$OUT/fs-count.json"

RUNS=$RUNS python3 - "$OUT" > "$OUT/results.md" <<'PY'
import json, os, sys
out = sys.argv[1]
print("# `-j auto` against fixed worker counts\n")
print("```\n" + open(os.path.join(out, "machine.txt")).read().rstrip() + "\n```\n")
print("Medians of one hyperfine run per setting; `x best` is -j auto's median over the")
print("fastest fixed count's. Cold runs drop the page cache before each run.\n")
print("| setting | -j auto (s) | best fixed | its median (s) | x best | " +
      " | ".join(f"j{j}" for j in (2, 4, 8, 16, 32, 64, 128, 256)) + " |")
print("|---|---:|---|---:|---:|" + "---:|" * 8)
for name in ("local-warm", "local-cold", "usr-warm", "usr-cold",
             "fuse-0.2ms", "fuse-1ms", "fuse-5ms", "fuse-mixed"):
    p = os.path.join(out, f"{name}.json")
    if not os.path.exists(p):
        continue
    res = {r["command"].split(" ")[0]: r["median"] for r in json.load(open(p))["results"]}
    auto = res.pop("auto")
    best = min(res, key=res.get)
    cells = " | ".join(f"{res.get(f'j{j}', float('nan')):.3f}" for j in (2, 4, 8, 16, 32, 64, 128, 256))
    print(f"| {name} | {auto:.3f} | {best} | {res[best]:.3f} | {auto / res[best]:.2f} | {cells} |")
print()
runs = int(os.environ.get("RUNS", "3"))
rows = []
for name, delay in (("fuse-0.2ms", 0.2), ("fuse-1ms", 1.0), ("fuse-5ms", 5.0)):
    p, c = os.path.join(out, f"{name}.json"), os.path.join(out, f"{name}-fs-count.json")
    if not (os.path.exists(p) and os.path.exists(c)):
        continue
    res = {r["command"].split(" ")[0]: r["median"] for r in json.load(open(p))["results"]}
    scans = len(res) * runs + 1
    per_scan = json.load(open(c))["delayed"] / scans
    auto = res["auto"]
    best = min(v for k, v in res.items() if k != "auto")
    rows.append(f"| {name} | {per_scan:.0f} | {per_scan * delay / 1000 / auto:.1f} | "
                f"{per_scan * delay / 1000 / best:.1f} |")
if rows:
    print("Requests in flight on the emulator: each cold scan sends the requests below (its own")
    print("count, over all scans of the setting); `requests x delay / median` is how many were in")
    print("flight on average, for -j auto and for the best fixed count.\n")
    print("| setting | delayed requests per scan | in flight, -j auto | in flight, best fixed |")
    print("|---|---:|---:|---:|")
    print("\n".join(rows) + "\n")
for name in ("fuse-0.2ms", "fuse-1ms", "fuse-5ms", "fuse-mixed"):
    p = os.path.join(out, f"{name}-stats.txt")
    if os.path.exists(p):
        print(f"<details><summary>{name}: the default's controller (--stats)</summary>\n\n```")
        print(open(p).read().rstrip())
        print("```\n</details>\n")
PY
cat "$OUT/results.md"
