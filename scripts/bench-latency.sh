#!/usr/bin/env bash
# Benchmark fdu's backends on an emulated high-latency file system.
#
#   scripts/bench-latency.sh                          # 1 ms per request, mixed-20k, 3 runs
#   scripts/bench-latency.sh --delays '1 0.2' --runs 3
#   scripts/bench-latency.sh --entries 100000 --delays 0.2
#
# Mounts scripts/latency-fs.py over a generated tree: a read-only passthrough
# FUSE file system that sleeps --delay-ms before answering each metadata
# request and serves requests concurrently, like a network file system with
# one round trip per request. Then, for each delay:
#   1. checks every tool's total against `du -s -B1` of the mount (a tool
#      without a total is not timed, a mismatch is timed but flagged), and
#      records how many requests its cold scan sends and the peak in flight;
#   2. verifies that drop_caches makes a scan cold again (request counts of
#      a cold, a warm and a re-dropped scan);
#   3. probes how many requests the file system overlaps (N threads lstat-ing
#      2000 files);
#   4. runs one hyperfine invocation of all tools, caches dropped before each
#      run, and the source tree re-read afterwards (so the local disk under the
#      passthrough is warm and only the emulated latency is measured;
#      --cold-source keeps the source cold too).
# Everything goes to perf/runs/2026-11-22-vm-latency-fs/ (or --out DIR):
# results.md (medians and ratios), hyperfine JSON and markdown, checks,
# request counts, probe, machine.txt and versions.txt.
#
# Every measurement waits until /tmp/fdu-bench.lock is gone, then holds it
# (the machine is shared); the lock is released and the file system unmounted
# on exit, failure or interrupt.
#
# Needs root (FUSE mount, drop_caches), fuse + libfuse2, python3 + fusepy, gcc
# (latency-fs.py builds a small shim with it, see there),
# hyperfine; peers (diskus, pdu, dua, dust in ~/.cargo/bin; gdu, du) are used
# when installed (scripts/bench.sh installs them).
#
# Options:
#   --delays LIST    delays in ms, space-separated        (default: 1)
#   --runs N         hyperfine runs per command           (default: 3)
#   --entries N      tree size; mixed-<N> is generated if missing (default 20000)
#   --tree DIR       use DIR instead of a generated tree
#   --out DIR        output directory
#   --only REGEX     time only the tools whose name matches (grep -E), e.g. 'fdu|diskus'
#   --no-probe       skip the concurrency probe
#   --cold-source    do not re-read the source tree after dropping caches
# Environment: FDU_BENCH_DIR (default /var/tmp/fdu-bench), FDU_BIN (the fdu
# binary to copy, default target/release/fdu, built if missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${FDU_BENCH_DIR:-/var/tmp/fdu-bench}
MNT=$BENCH_DIR/latency-mnt
LOCK=/tmp/fdu-bench.lock
FDU=/tmp/fdu-latency
DELAYS="1"
RUNS=3
ENTRIES=20000
TREE=""
OUT=$ROOT/perf/runs/2026-11-22-vm-latency-fs
PROBE=1
ONLY=""
WARM_SOURCE=1
PROBE_THREADS="1 8 32 64 128"
PROBE_FILES=2000

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --delays) DELAYS=${2:?--delays needs a value}; shift ;;
    --runs) RUNS=${2:?--runs needs a value}; shift ;;
    --entries) ENTRIES=${2:?--entries needs a value}; shift ;;
    --tree) TREE=${2:?--tree needs a value}; shift ;;
    --out) OUT=${2:?--out needs a value}; shift ;;
    --only) ONLY=${2:?--only needs a value}; shift ;;
    --no-probe) PROBE=0 ;;
    --cold-source) WARM_SOURCE=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-latency.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

log() { printf '\n== %s\n' "$*" >&2; }
die() { echo "bench-latency.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (FUSE mount and drop_caches)"
export PATH="$HOME/.cargo/bin:$PATH"
command -v hyperfine >/dev/null || die "hyperfine is required"
command -v fusermount >/dev/null || die "fusermount is required (apt-get install fuse)"
python3 -c 'import fuse' 2>/dev/null || die "fusepy is required (pip install fusepy; apt-get install fuse)"

# ---------------------------------------------------------------- lock, mount, cleanup
HAVE_LOCK=0
FS_PID=""
lock() {
  local said=0
  until ( set -C; echo latency > "$LOCK" ) 2>/dev/null; do
    if [ "$said" = 0 ]; then
      echo "waiting for $LOCK (held by: $(cat "$LOCK" 2>/dev/null || echo '?'))" >&2
      said=1
    fi
    sleep 2
  done
  HAVE_LOCK=1
}
unlock() {
  if [ "$HAVE_LOCK" = 1 ]; then rm -f "$LOCK"; fi
  HAVE_LOCK=0
}
unmount_fs() {
  if mountpoint -q "$MNT" 2>/dev/null; then
    fusermount -u "$MNT" 2>/dev/null || { sleep 1; fusermount -u -z "$MNT" || true; }
  fi
  if [ -n "$FS_PID" ]; then
    wait "$FS_PID" 2>/dev/null || true
    FS_PID=""
  fi
}
cleanup() {
  local rc=$?
  unmount_fs
  unlock
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

COUNT=/tmp/fdu-latency-count.json
mount_fs() { # delay_ms log_file
  mkdir -p "$MNT"
  if mountpoint -q "$MNT"; then
    [ "$(findmnt -no FSTYPE "$MNT")" = fuse.latency ] || die "$MNT is already a mount point"
    fusermount -u "$MNT"
  fi
  rm -f "$COUNT"
  python3 "$ROOT/scripts/latency-fs.py" "$TREE" "$MNT" --delay-ms "$1" --count "$COUNT" 2>"$2" &
  FS_PID=$!
  local i
  for i in $(seq 100); do
    if mountpoint -q "$MNT" && [ -f "$COUNT" ]; then return 0; fi
    kill -0 "$FS_PID" 2>/dev/null || { cat "$2" >&2; die "latency-fs exited"; }
    sleep 0.1
  done
  die "latency-fs did not mount $MNT"
}

# Caches: drop everything (FUSE dentries and inodes included); then, unless
# --cold-source, re-read the source so the passthrough's own lstat/getdents
# hit a warm local disk.
if [ "$WARM_SOURCE" = 1 ]; then
  DROP="sync; echo 3 > /proc/sys/vm/drop_caches; du -s '__TREE__' > /dev/null"
else
  DROP="sync; echo 3 > /proc/sys/vm/drop_caches"
fi
drop() { sh -c "$DROP"; }

# Request counts of the file system: "total delayed peak getattr opendir readdir
# busy_us" (busy: summed time requests spent in the file system).
# settle waits until the count file stops changing (it is rewritten every 0.1 s).
counts() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); o = d["ops"]
print(d["total"], d["delayed"], d["peak_in_flight"], o.get("getattr", 0), o.get("opendir", 0),
      o.get("readdir", 0), round(d["busy_s"] * 1e6))' "$COUNT"
}
settle() {
  local a b
  a=$(cat "$COUNT")
  while sleep 0.25; b=$(cat "$COUNT"); [ "$a" != "$b" ]; do a=$b; done
}
reset_peak() { kill -USR1 "$FS_PID"; sleep 0.2; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", (b - a) / 1e9}'; } # ns ns

# ---------------------------------------------------------------- binaries, tree
if [ -z "${FDU_BIN:-}" ]; then
  FDU_BIN=$ROOT/target/release/fdu
  [ -x "$FDU_BIN" ] || (cd "$ROOT" && cargo build --release)
fi
cp "$FDU_BIN" "$FDU"

if [ -z "$TREE" ]; then
  case "$ENTRIES" in
    *000000) NAME=mixed-$((ENTRIES / 1000000))m ;;
    *000) NAME=mixed-$((ENTRIES / 1000))k ;;
    *) NAME=mixed-$ENTRIES ;;
  esac
  TREE=$BENCH_DIR/$NAME
  if [ ! -d "$TREE" ] || [ ! -f "$TREE.manifest.json" ]; then
    log "generating mixed tree of $ENTRIES entries (seed 1) at $TREE"
    mkdir -p "$BENCH_DIR"
    (cd "$ROOT" && cargo run --release -p fdu-datasets -- mixed "$TREE" --entries "$ENTRIES" --seed 1 --force)
  fi
fi
[ -d "$TREE" ] || die "no such tree: $TREE"
TREE=$(cd "$TREE" && pwd)
DROP=${DROP//__TREE__/$TREE}

mkdir -p "$OUT"
log "results go to $OUT"
have() { command -v "$1" >/dev/null 2>&1; }
{
  echo "date: $(date -Is)"
  echo "host: $(hostname)"
  echo "kernel: $(uname -r)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "memory: $(grep MemTotal /proc/meminfo | awk '{printf "%.1f GiB", $2/1048576}')"
  echo "tree: $TREE ($(find "$TREE" | wc -l) entries incl. root; source fs: $(df -T "$TREE" | awk 'NR==2{print $2}'))"
  [ -f "$TREE.manifest.json" ] && echo "tree manifest: $(tr -d ' \n' < "$TREE.manifest.json" | cut -c1-400)"
  echo "mount: $MNT (scripts/latency-fs.py: fusepy multithreaded on libfuse 2, ro, use_ino, entry/attr timeout 86400 s, FUSE_PARALLEL_DIROPS set by its shim)"
  echo "delays (ms): $DELAYS"
  echo "runs: $RUNS; caches before each run: $DROP"
  echo "fdu binary: $FDU (copy of $FDU_BIN, sha256 $(sha256sum "$FDU" | cut -c1-16))"
  echo "fdu commit: $(git -C "$ROOT" rev-parse HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (dirty work tree)')"
} > "$OUT/machine.txt"
{
  echo "fdu: $("$FDU" --version 2>&1 | head -1)"
  echo "du: $(du --version | head -1)"
  for t in diskus pdu dua dust; do have "$t" && echo "$t: $("$t" --version 2>&1 | head -1)"; done
  have gdu && echo "gdu: $(gdu --version 2>&1 | grep -m1 Version | awk '{print $2}')"
  echo "hyperfine: $(hyperfine --version)"
  echo "python: $(python3 --version 2>&1)"
  echo "fusepy: $(python3 -c 'import importlib.metadata as m; print(m.version("fusepy"))' 2>/dev/null || echo '?')"
  echo "libfuse2: $(dpkg-query -W -f '${Version}' libfuse2 2>/dev/null || echo '?')"
} > "$OUT/versions.txt"
cat "$OUT/machine.txt" "$OUT/versions.txt" >&2

# ---------------------------------------------------------------- tools
# name, timed command; totals read as in scripts/bench.sh (dua leaves out the
# root directory itself; gdu counts every directory as 4096 B).
declare -a NAMES=() TIMED=()
add() { NAMES+=("$1"); TIMED+=("$2"); }
add "fdu linux -j8 (default)" "$FDU -s --backend linux -j 8 $MNT"
add "fdu linux -j32" "$FDU -s --backend linux -j 32 $MNT"
add "fdu linux -j64" "$FDU -s --backend linux -j 64 $MNT"
add "fdu uring -j2" "$FDU -s --backend uring -j 2 $MNT"
add "fdu uring -j8" "$FDU -s --backend uring -j 8 $MNT"
add "fdu uring -j8 --ring-workers 64" "$FDU -s --backend uring -j 8 --ring-workers 64 $MNT"
add "fdu uring -j8 --ring-workers 0" "$FDU -s --backend uring -j 8 --ring-workers 0 $MNT"
have diskus && add "diskus" "diskus $MNT"
add "du" "du -s $MNT"
have pdu && add "pdu" "pdu -H --max-depth=1 $MNT"
have dua && add "dua" "dua a $MNT"
have dust && add "dust" "dust -d 0 -P $MNT"
have gdu && add "gdu" "gdu -n -s -p $MNT"
if [ -n "$ONLY" ]; then
  declare -a ALL_N=("${NAMES[@]}") ALL_T=("${TIMED[@]}")
  NAMES=(); TIMED=()
  for i in "${!ALL_N[@]}"; do
    if printf '%s\n' "${ALL_N[$i]}" | grep -Eq -- "$ONLY"; then add "${ALL_N[$i]}" "${ALL_T[$i]}"; fi
  done
  [ "${#NAMES[@]}" -gt 0 ] || die "--only '$ONLY' matches no tool"
  echo "tools: only those matching '$ONLY'" >> "$OUT/machine.txt"
fi

total_of() { # index
  local name=${NAMES[$1]} out
  case "$name" in
    fdu*) out=$(${TIMED[$1]/ -s / -s -B1 } 2>/dev/null | awk 'NR==1{print $1}') ;;
    du) out=$(du -s -B1 "$MNT" 2>/dev/null | awk '{print $1}') ;;
    diskus) out=$(diskus "$MNT" 2>/dev/null | tr -dc '0-9') ;;
    pdu) out=$(pdu -H --max-depth=1 --bytes-format=plain "$MNT" 2>/dev/null | awk 'NR==1{print $1}') ;;
    dua) out=$(dua -f bytes a "$MNT" 2>/dev/null | awk 'END{print $1}') ;;
    dust) out=$(dust -d 0 -P -c -b -o b "$MNT" 2>/dev/null | awk 'NR==1{sub(/B$/, "", $1); print $1}') ;;
    gdu) out=$(gdu -n -s -p --no-prefix "$MNT" 2>/dev/null | awk 'NR==1{print $1}') ;;
  esac
  case "$out" in ''|*[!0-9]*) return 1 ;; esac
  echo "$out"
}

# ---------------------------------------------------------------- per delay
src_du=$(du -s -B1 "$TREE" | awk '{print $1}')
for delay in $DELAYS; do
  tag="${delay}ms"
  log "[$tag] mounting $TREE at $MNT, $delay ms per metadata request"
  mount_fs "$delay" "$OUT/latency-fs-$tag.log"
  pd=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["parallel_dirops"])' "$COUNT")
  echo "[$tag] parallel lookups within a directory (FUSE_PARALLEL_DIROPS): $pd" | tee -a "$OUT/machine.txt" >&2

  lock
  # 1. totals (each a cold scan), request counts and peak in flight per tool.
  log "[$tag] checking totals against du -s -B1 of the mount (source: $src_du)"
  drop
  du_b1=$(du -s -B1 "$MNT" | awk '{print $1}')
  root_disk=$(( $(stat -c '%b * %B' "$MNT") ))
  [ "$du_b1" = "$src_du" ] || echo "WARNING: du -s -B1 of the mount ($du_b1) != of the source ($src_du)" | tee -a "$OUT/machine.txt" >&2
  echo "[$tag] du -s -B1: mount $du_b1, source $src_du" >> "$OUT/machine.txt"
  checks=$OUT/checks-$tag.tsv
  printf 'name\tcommand\ttotal\texpected\tstatus\trequests\tdelayed\tpeak_in_flight\tavg_in_flight\tgetattr\topendir\treaddir\tseconds\n' > "$checks"
  declare -a KEEP_N=() KEEP_C=()
  KEEP_N=(); KEEP_C=()
  for i in "${!NAMES[@]}"; do
    n=${NAMES[$i]}
    expect=$du_b1; note=""
    [ "$n" = dua ] && { expect=$((du_b1 - root_disk)); note=" (root dir not counted)"; }
    drop
    settle; read -r t0 d0 _ g0 o0 r0 b0 < <(counts)
    reset_peak
    s0=$(date +%s%N)
    if got=$(total_of "$i"); then
      if [ "$got" = "$expect" ]; then status="ok$note"
      else status="MISMATCH: $got vs du $du_b1 ($((got - du_b1)) B)"; fi
      KEEP_N+=("$n"); KEEP_C+=("${TIMED[$i]}")
    else
      got="-"; status="ERROR: no total (not timed)"
    fi
    s1=$(date +%s%N)
    settle; read -r t1 d1 p1 g1 o1 r1 b1 < <(counts)
    secs=$(seconds "$s0" "$s1")
    avg=$(awk -v b=$((b1 - b0)) -v s="$secs" 'BEGIN{printf "%.1f", b / 1e6 / s}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "${TIMED[$i]}" "$got" "$expect" "$status" \
      $((t1 - t0)) $((d1 - d0)) "$p1" "$avg" $((g1 - g0)) $((o1 - o0)) $((r1 - r0)) "$secs" >> "$checks"
    printf '  %-34s %-11s %-8s requests %-6s peak %-4s avg %-5s %6s s\n' "$n" "$got" "${status%% *}" $((t1 - t0)) "$p1" "$avg" "$secs" >&2
  done

  # 2. cold / warm / cold again: drop_caches must make the next scan send its requests again.
  log "[$tag] cache check: cold, warm, cold again (fdu default)"
  cache=$OUT/cache-check-$tag.tsv
  printf 'scan\trequests\tgetattr\topendir\treaddir\tseconds\n' > "$cache"
  for what in cold warm cold-again; do
    [ "$what" = warm ] || drop
    settle; read -r t0 _ _ g0 o0 r0 _ < <(counts)
    s0=$(date +%s%N)
    "$FDU" -s "$MNT" > /dev/null
    s1=$(date +%s%N)
    settle; read -r t1 _ _ g1 o1 r1 _ < <(counts)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$what" $((t1 - t0)) $((g1 - g0)) $((o1 - o0)) $((r1 - r0)) \
      "$(seconds "$s0" "$s1")" >> "$cache"
  done
  column -t "$cache" >&2

  # 3. how many requests in flight the file system overlaps.
  if [ "$PROBE" = 1 ]; then
    log "[$tag] concurrency probe: N threads lstat $PROBE_FILES cold files (their directories looked up first)"
    list=/tmp/fdu-latency-files.bin
    (cd "$TREE" && find . -type f -print0) > "$list.all"
    head -z -n "$PROBE_FILES" "$list.all" > "$list"
    rm -f "$list.all"
    probe=$OUT/probe-$tag.tsv
    printf 'threads\tfiles\trequests\tseconds\trequests_per_s\teffective_in_flight\tpeak_in_flight\tfs_cpu_pct\n' > "$probe"
    for n in $PROBE_THREADS; do
      drop
      python3 - "$MNT" "$list" <<'PY'
import os, sys
mnt, lst = os.fsencode(sys.argv[1]), sys.argv[2]
dirs = {os.path.dirname(os.path.join(mnt, p)) for p in open(lst, "rb").read().split(b"\0") if p}
for d in sorted(dirs):
    os.lstat(d)
PY
      settle; read -r t0 _ _ _ _ _ _ < <(counts)
      reset_peak
      c0=$(awk '{print $14 + $15}' "/proc/$FS_PID/stat")
      secs=$(python3 - "$MNT" "$list" "$n" <<'PY'
import os, sys, threading, time
mnt, lst, n = os.fsencode(sys.argv[1]), sys.argv[2], int(sys.argv[3])
paths = [os.path.join(mnt, p) for p in open(lst, "rb").read().split(b"\0") if p]
chunks = [paths[i::n] for i in range(n)]
def work(ps):
    for p in ps:
        os.lstat(p)
ts = [threading.Thread(target=work, args=(c,)) for c in chunks]
t = time.perf_counter()
for th in ts:
    th.start()
for th in ts:
    th.join()
print(f"{time.perf_counter() - t:.4f}")
PY
)
      c1=$(awk '{print $14 + $15}' "/proc/$FS_PID/stat")
      settle; read -r t1 _ p1 _ _ _ _ < <(counts)
      req=$((t1 - t0))
      awk -v n="$n" -v f="$PROBE_FILES" -v r="$req" -v s="$secs" -v d="$delay" -v p="$p1" \
        -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
        'BEGIN{printf "%s\t%s\t%s\t%s\t%.0f\t%.1f\t%s\t%.0f\n", n, f, r, s, r / s, r / s * d / 1000, p, c / hz / s * 100}' >> "$probe"
    done
    column -t "$probe" >&2
  fi

  # 4. timing.
  hf_args=()
  for i in "${!KEEP_N[@]}"; do hf_args+=(-n "${KEEP_N[$i]}" "${KEEP_C[$i]}"); done
  log "[$tag] hyperfine: $RUNS runs, caches dropped before each"
  hyperfine -N --output=null --ignore-failure --runs "$RUNS" \
    --prepare "sh -c \"$DROP\"" \
    --export-json "$OUT/hyperfine-$tag.json" --export-markdown "$OUT/hyperfine-$tag.md" \
    "${hf_args[@]}" >&2
  unlock
  cp "$COUNT" "$OUT/latency-fs-counts-$tag.json"
  unmount_fs
  if grep -q Traceback "$OUT/latency-fs-$tag.log"; then
    echo "WARNING: [$tag] latency-fs logged exceptions, see latency-fs-$tag.log" | tee -a "$OUT/machine.txt" >&2
  fi
done

# ---------------------------------------------------------------- table
log "results"
# shellcheck disable=SC2086  # DELAYS is a word list on purpose
python3 - "$OUT" $DELAYS > "$OUT/results.md" <<'PY'
import csv, json, os, sys

out, delays = sys.argv[1], sys.argv[2:]
DEFAULT = "fdu linux -j8 (default)"

def tsv(p):
    if not os.path.exists(p):
        return []
    with open(p, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))

print("# fdu on an emulated high-latency file system\n")
print("```")
print(open(os.path.join(out, "machine.txt")).read().rstrip())
print(open(os.path.join(out, "versions.txt")).read().rstrip())
print("```\n")
print("Each run is a cold scan of the FUSE mount (`scripts/latency-fs.py`, a passthrough that")
print("sleeps the given delay before answering each metadata request and serves requests")
print("concurrently). `× fdu` is the tool's median over the median of fdu's default")
print("(`--backend linux -j 8`): above 1 means that tool is slower than fdu's default.")
print("`× best peer` is the median over the fastest peer's (diskus, du, pdu, dua, dust, gdu).")
print("`requests`, `peak` and `avg` are the file system's requests during one cold scan (the")
print("totals check), the most it had in flight at once, and the average number in flight")
print("(time requests spent in the file system over the scan's wall time).\n")

for d in delays:
    tag = f"{d}ms"
    p = os.path.join(out, f"hyperfine-{tag}.json")
    if not os.path.exists(p):
        continue
    res = {r["command"]: r for r in json.load(open(p))["results"]}
    checks = tsv(os.path.join(out, f"checks-{tag}.tsv"))
    base = res.get(DEFAULT, {}).get("median")
    peers = [r["median"] for n, r in res.items() if not n.startswith("fdu")]
    best = min(peers) if peers else None
    best_name = next((n for n, r in res.items() if not n.startswith("fdu") and r["median"] == best), "-")
    print(f"## {d} ms per request\n")
    print("| tool | median (s) | mean ± σ (s) | × fdu | × best peer | requests | peak | avg | check |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for c in checks:
        r = res.get(c["name"])
        if r:
            m = r["median"]
            cells = [f"{m:.3f}", f"{r['mean']:.3f} ± {r['stddev'] or 0:.3f}",
                     f"{m / base:.2f}" if base else "-", f"{m / best:.2f}" if best else "-"]
        else:
            cells = ["-", "-", "-", "-"]
        print(f"| `{c['name']}` | " + " | ".join(cells)
              + f" | {c['requests']} | {c['peak_in_flight']} | {c['avg_in_flight']} | {c['status']} |")
    print(f"\nFastest peer: {best_name} ({best:.3f} s).\n" if best else "")
    cache = tsv(os.path.join(out, f"cache-check-{tag}.tsv"))
    if cache:
        print("Cache check (fdu default; `cold` after drop_caches, `warm` right after it, then dropped again):\n")
        print("| scan | requests | getattr | opendir | readdir | seconds |")
        print("|---|---:|---:|---:|---:|---:|")
        for c in cache:
            print(f"| {c['scan']} | {c['requests']} | {c['getattr']} | {c['opendir']} | {c['readdir']} | {c['seconds']} |")
        print()
    probe = tsv(os.path.join(out, f"probe-{tag}.tsv"))
    if probe:
        print("Concurrency probe (N threads lstat the same cold files; effective in flight = requests/s × delay):\n")
        print("| threads | requests | seconds | requests/s | effective in flight | peak in flight | FS CPU % |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for c in probe:
            print(f"| {c['threads']} | {c['requests']} | {c['seconds']} | {c['requests_per_s']} | "
                  f"{c['effective_in_flight']} | {c['peak_in_flight']} | {c['fs_cpu_pct']} |")
        print()
    md = os.path.join(out, f"hyperfine-{tag}.md")
    if os.path.exists(md):
        print(f"<details><summary>hyperfine, {d} ms</summary>\n")
        print(open(md).read().rstrip())
        print("\n</details>\n")
PY
cat "$OUT/results.md"
echo "saved: $OUT" >&2
