#!/usr/bin/env bash
# Benchmark fdu against GNU du, its parallel peers and the syscall floor.
#
#   scripts/bench.sh                      # full run: 1M-entry mixed tree and /usr, warm + cold
#   scripts/bench.sh --quick              # smoke test: 20k-entry tree, 3 runs
#   scripts/bench.sh --only-target mixed --no-cold --fdu-args '--threads 2;--threads 4'
#   scripts/bench.sh --only-target dups   # fdu --dups against fclones and jdupes (20k entries, ~2.5 GB)
#
# For each target it first checks every tool's total against `du -s -B1` and
# marks a mismatch in the table (the tool is still timed, but flagged; a tool
# that fails to produce a total is not timed). Then one hyperfine invocation
# per target and cache mode runs all tools side by side, plus a peak-RSS run
# of each. Everything is saved under perf/runs/<date>-<host>[-quick]/.
#
# Environment (all optional):
#   FDU_BENCH_DIR   where datasets live              (default /var/tmp/fdu-bench)
#   FDU_VARIANTS    extra fdu invocations, ';'-separated, e.g. '--threads 2;--threads 8'
#   RUNS WARMUP     warm-cache runs and warmups      (default 10 and 2; quick: 3 and 1)
#   COLD_RUNS       cold-cache runs                  (default 3; quick: 2)
#   FLOOR_SRC       floor_mt.c                       (default ../shared/floor/floor_mt.c)
#   FLOOR_THREADS   threads of the floor             (default: nproc)
#   FDU_BENCH_OUT   output directory                 (default perf/runs/<date>-<host>[-quick])
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${FDU_BENCH_DIR:-/var/tmp/fdu-bench}
FLOOR_SRC=${FLOOR_SRC:-$ROOT/../shared/floor/floor_mt.c}
FLOOR_BIN=/tmp/floor_mt
FLOOR_THREADS=${FLOOR_THREADS:-$(nproc)}
VARIANTS=${FDU_VARIANTS:-}
QUICK=0
COLD=1
ONLY=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --no-cold) COLD=0 ;;
    --only-target) ONLY=${2:?--only-target needs mixed, usr or dups}; shift ;;
    --only-target=*) ONLY=${1#*=} ;;
    --fdu-args) VARIANTS="${VARIANTS:+$VARIANTS;}${2?--fdu-args needs a value}"; shift ;;
    --fdu-args=*) VARIANTS="${VARIANTS:+$VARIANTS;}${1#*=}" ;;
    --runs) RUNS=${2:?}; shift ;;
    --cold-runs) COLD_RUNS=${2:?}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
case "$ONLY" in ""|mixed|usr|dups) ;; *) echo "bench.sh: --only-target mixed|usr|dups" >&2; exit 2 ;; esac

if [ "$QUICK" = 1 ]; then
  RUNS=${RUNS:-3}; WARMUP=${WARMUP:-1}; COLD_RUNS=${COLD_RUNS:-2}
  MIXED_N=20000; MIXED_NAME=mixed-20k
  DUPS_N=2000; DUPS_NAME=dups-2k
else
  RUNS=${RUNS:-10}; WARMUP=${WARMUP:-2}; COLD_RUNS=${COLD_RUNS:-3}
  MIXED_N=1000000; MIXED_NAME=mixed-1m
  DUPS_N=20000; DUPS_NAME=dups-20k
fi
MIXED_SEED=1
if [ "$COLD" = 1 ] && [ "$(id -u)" != 0 ]; then
  echo "bench.sh: not root: cold-cache runs skipped (they need /proc/sys/vm/drop_caches)" >&2
  COLD=0
fi

log() { printf '\n== %s\n' "$*" >&2; }

# ---------------------------------------------------------------- tools
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
APT_UPDATED=0
apt_install() {
  [ "$APT_UPDATED" = 1 ] || { as_root apt-get update -qq || true; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}
export PATH="$HOME/.cargo/bin:$PATH"

log "building fdu and fdu-datasets (release)"
(cd "$ROOT" && cargo build --release && cargo build --release -p fdu-datasets)
FDU=${FDU_BIN:-$ROOT/target/release/fdu}
GEN=$ROOT/target/release/fdu-datasets

log "checking tools"
for pkg in hyperfine:hyperfine gdu:gdu jdupes:jdupes /usr/bin/time:time gcc:gcc python3:python3; do
  cmd=${pkg%%:*}; deb=${pkg#*:}
  command -v "$cmd" >/dev/null 2>&1 || apt_install "$deb" || echo "bench.sh: could not install $deb" >&2
done
command -v hyperfine >/dev/null || { echo "bench.sh: hyperfine is required" >&2; exit 1; }
# Peers from crates.io, pinned to the versions that build here (dua-cli's
# latest needs --locked; without it newer dependencies fail to compile).
cargo_peer() { # binary, cargo install arguments...
  local bin=$1; shift
  command -v "$bin" >/dev/null 2>&1 && return 0
  echo "installing $bin: cargo install $*" >&2
  cargo install "$@" >&2 || echo "bench.sh: could not install $bin (cargo install $*)" >&2
}
cargo_peer diskus diskus --version 0.9.0 --locked
cargo_peer pdu parallel-disk-usage --version 0.24.0 --locked
cargo_peer dust du-dust --version 1.2.7 --locked
cargo_peer dua dua-cli --version 3.0.0 --locked
# Duplicate finders (jdupes above), for `fdu --dups` comparisons.
cargo_peer fclones fclones --locked

if [ -f "$FLOOR_SRC" ]; then
  gcc -O2 -pthread -o "$FLOOR_BIN" "$FLOOR_SRC"
else
  echo "bench.sh: $FLOOR_SRC not found: no floor" >&2
fi
have() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; }

# ---------------------------------------------------------------- output dir
STAMP="$(date +%F)-$(hostname)"
[ "$QUICK" = 1 ] && STAMP="$STAMP-quick"
OUT=${FDU_BENCH_OUT:-$ROOT/perf/runs/$STAMP}
[ -z "${FDU_BENCH_OUT:-}" ] && [ -e "$OUT" ] && OUT="$OUT-$(date +%H%M%S)"
mkdir -p "$OUT"
log "results go to $OUT"

{
  echo "date: $(date -Is)"
  echo "host: $(hostname)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "memory: $(grep MemTotal /proc/meminfo | awk '{printf "%.1f GiB", $2/1048576}')"
  echo "uname: $(uname -a)"
  echo "bench dir fs: $(df -T "$BENCH_DIR" 2>/dev/null | awk 'NR==2{print $2, $1}' || true)"
  echo "mount: $(findmnt -no OPTIONS -T "${BENCH_DIR%/*}" 2>/dev/null || true)"
  echo "fdu commit: $(git -C "$ROOT" rev-parse HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "args: quick=$QUICK cold=$COLD only=${ONLY:-all} runs=$RUNS warmup=$WARMUP cold_runs=$COLD_RUNS variants='$VARIANTS'"
} > "$OUT/machine.txt"
{
  echo "fdu: $("$FDU" --version 2>&1 | head -1)"
  echo "du: $(du --version | head -1)"
  for t in diskus pdu dua dust fclones jdupes; do have "$t" && echo "$t: $("$t" --version 2>&1 | head -1)"; done
  have gdu && echo "gdu: $(gdu --version 2>&1 | grep -m1 Version | awk '{print $2}')"
  echo "hyperfine: $(hyperfine --version)"
  echo "gcc (floor): $(gcc --version | head -1)"
  echo "rustc: $(rustc --version)"
} > "$OUT/versions.txt"
cat "$OUT/machine.txt" "$OUT/versions.txt" >&2

# ---------------------------------------------------------------- datasets
TREE_MIXED=$BENCH_DIR/$MIXED_NAME
ensure_tree() { # dir shape entries seed
  local dir=$1 shape=$2 n=$3 seed=$4
  if [ -f "$dir.manifest.json" ] && [ -d "$dir" ]; then return 0; fi
  log "generating $shape tree of $n entries (seed $seed) at $dir"
  mkdir -p "$(dirname "$dir")"
  local t0=$SECONDS
  "$GEN" "$shape" "$dir" --entries "$n" --seed "$seed" --force
  echo "generated $dir ($shape, $n entries, seed $seed) in $((SECONDS - t0)) s" >> "$OUT/machine.txt"
}

TARGETS=()
if [ -z "$ONLY" ] || [ "$ONLY" = mixed ]; then
  ensure_tree "$TREE_MIXED" mixed "$MIXED_N" "$MIXED_SEED"
  cp "$TREE_MIXED.manifest.json" "$OUT/$MIXED_NAME.manifest.json"
  TARGETS+=("mixed:$TREE_MIXED")
fi
if [ -z "$ONLY" ] || [ "$ONLY" = usr ]; then
  TARGETS+=("usr:/usr")
fi
if [ -z "$ONLY" ] || [ "$ONLY" = dups ]; then
  TREE_DUPS=$BENCH_DIR/$DUPS_NAME
  ensure_tree "$TREE_DUPS" dups "$DUPS_N" 1
  cp "$TREE_DUPS.manifest.json" "$OUT/$DUPS_NAME.manifest.json"
  TARGETS+=("dups:$TREE_DUPS")
fi

# ---------------------------------------------------------------- tools list
# Each tool: name, the command hyperfine times, how its exact total is read.
# Totals are disk usage in bytes, compared with `du -s -B1`:
#   fdu     -s -B1                                    == du
#   floor   "N bytes" (hard links each time, root dir not counted) == du -l - root dir
#   diskus  plain bytes when stdout is not a tty       == du
#   pdu     -H --max-depth=1 --bytes-format=plain      == du   (without -H it counts hard links each time)
#   dua     -f bytes a: "total" line (root dir itself not counted) == du - root dir
#   dust    -d 0 -P -c -b -o b                         == du
#   gdu     -n -s -p --no-prefix                       == du   (counts every dir as 4096 B: off on big dirs)
declare -a NAMES=() TIMED=()
add() { NAMES+=("$1"); TIMED+=("$2"); }

build_list() { # tree
  local t=$1 v
  NAMES=(); TIMED=()
  add "fdu" "$FDU -s $t"
  IFS=';' read -r -a vs <<< "$VARIANTS"
  for v in "${vs[@]}"; do
    v=$(echo "$v" | sed 's/^ *//; s/ *$//')
    [ -n "$v" ] && add "fdu $v" "$FDU -s $v $t"
  done
  [ -x "$FLOOR_BIN" ] && add "floor" "$FLOOR_BIN $t $FLOOR_THREADS"
  add "du" "du -s $t"
  have diskus && add "diskus" "diskus $t"
  have pdu && add "pdu" "pdu -H --max-depth=1 $t"
  have dua && add "dua" "dua a $t"
  have dust && add "dust" "dust -d 0 -P $t"
  have gdu && add "gdu" "gdu -n -s -p $t"
  return 0
}

# The exact total of tool $1 (index $2 into the lists) on tree $3, on stdout.
total_of() {
  local name=$1 t=$3 out
  case "$name" in
    fdu*) out=$(${TIMED[$2]/ -s / -s -B1 } 2>/dev/null | awk 'NR==1{print $1}') ;;
    floor) out=$("$FLOOR_BIN" "$t" "$FLOOR_THREADS" 2>/dev/null | awk '{print $1}') ;;
    du) out=$(du -s -B1 "$t" 2>/dev/null | awk '{print $1}') ;;
    diskus) out=$(diskus "$t" 2>/dev/null | tr -dc '0-9') ;;
    pdu) out=$(pdu -H --max-depth=1 --bytes-format=plain "$t" 2>/dev/null | awk 'NR==1{print $1}') ;;
    dua) out=$(dua -f bytes a "$t" 2>/dev/null | awk 'END{print $1}') ;;
    dust) out=$(dust -d 0 -P -c -b -o b "$t" 2>/dev/null | awk 'NR==1{sub(/B$/, "", $1); print $1}') ;;
    gdu) out=$(gdu -n -s -p --no-prefix "$t" 2>/dev/null | awk 'NR==1{print $1}') ;;
  esac
  case "$out" in ''|*[!0-9]*) return 1 ;; esac
  echo "$out"
}

# ---------------------------------------------------------------- dups target
# `fdu --dups` against fclones (`fclones group`, default settings) and
# jdupes (`jdupes -r`). Before timing, every tool's groups are compared with
# fdu's as sets of inodes: fclones lists every hard link of a file in its
# group and fdu one path per inode, so paths are mapped to (st_dev, st_ino)
# and groups of fewer than two inodes dropped. The "total" column holds the
# number of groups; "check" says whether they equal fdu's.
bench_dups() { # tree
  local t=$1 parent name n cmd lists
  parent=$(dirname "$t"); name=$(basename "$t")
  lists=$(mktemp -d)  # each tool's groups: large, compared here, not kept
  local -a names=(fdu fclones) cmds=("$FDU --dups $name" "fclones group $name")
  have jdupes && { names+=(jdupes); cmds+=("jdupes -r $name"); }
  checks=$OUT/dups-checks.tsv
  printf 'name\tcommand\ttotal\texpected\tstatus\n' > "$checks"
  for i in "${!names[@]}"; do
    n=${names[$i]}; cmd=${cmds[$i]}
    case "$n" in
      fdu) (cd "$parent" && $cmd) > "$lists/dups-fdu.txt" 2>/dev/null ;;
      fclones) (cd "$parent" && fclones group -f fdupes "$name") > "$lists/dups-fclones.txt" 2>/dev/null ;;
      jdupes) (cd "$parent" && $cmd) > "$lists/dups-jdupes.txt" 2>/dev/null ;;
    esac
    python3 - "$parent" "$lists/dups-fdu.txt" "$lists/dups-$n.txt" >> "$checks" <<'PY' || true
import os, sys
parent, ref, mine = sys.argv[1:]
def groups(path, summary):
    blocks = open(path).read().strip("\n").split("\n\n")
    if summary:
        blocks = blocks[:-1]
    out = set()
    for b in blocks:
        ids = frozenset((st.st_dev, st.st_ino) for st in
                        (os.stat(os.path.join(parent, p)) for p in b.split("\n") if p))
        if len(ids) >= 2:
            out.add(ids)
    return out
want = groups(ref, True)
got = groups(mine, mine == ref)
status = "ok: same groups as fdu" if got == want else \
    f"DIFFERENT: {len(got - want)} groups only here, {len(want - got)} only in fdu"
print(f"{os.path.basename(mine)[5:-4]}\t-\t{len(got)} groups\t{len(want)} groups\t{status}")
PY
  done
  # The command column: the timed commands.
  python3 - "$checks" "${cmds[@]}" <<'PY'
import sys
p, cmds = sys.argv[1], sys.argv[2:]
rows = [l.rstrip("\n").split("\t") for l in open(p)]
for row, cmd in zip(rows[1:], cmds):
    row[1] = cmd
open(p, "w").write("".join("\t".join(r) + "\n" for r in rows))
PY
  rm -rf "$lists"
  column -t -s $'\t' "$checks" >&2
  log "[dups] peak RSS"
  : > "$OUT/dups-rss.tsv"
  for i in "${!names[@]}"; do
    # shellcheck disable=SC2086  # the command is a word list on purpose
    (cd "$parent" && /usr/bin/time -f '%M' -o "$OUT/.rss" ${cmds[$i]} >/dev/null 2>&1) || true
    printf '%s\t%s\n' "${names[$i]}" "$(tail -1 "$OUT/.rss")" >> "$OUT/dups-rss.tsv"
  done
  rm -f "$OUT/.rss"
  local -a hf=()
  for i in "${!names[@]}"; do hf+=(-n "${names[$i]}" "${cmds[$i]}"); done
  log "[dups] warm cache: $WARMUP warmups, $RUNS runs"
  (cd "$parent" && hyperfine -N --output=null --ignore-failure --warmup "$WARMUP" --runs "$RUNS" \
    --export-json "$OUT/dups-warm.json" --export-markdown "$OUT/dups-warm.md" "${hf[@]}" >&2)
  if [ "$COLD" = 1 ]; then
    log "[dups] cold cache: $COLD_RUNS runs, caches dropped before each"
    (cd "$parent" && hyperfine -N --output=null --ignore-failure --runs "$COLD_RUNS" \
      --prepare "sh -c 'sync; echo 3 > /proc/sys/vm/drop_caches'" \
      --export-json "$OUT/dups-cold.json" --export-markdown "$OUT/dups-cold.md" "${hf[@]}" >&2)
  fi
}

# ---------------------------------------------------------------- per target
SUMMARY=()
for tgt in "${TARGETS[@]}"; do
  label=${tgt%%:*}; tree=${tgt#*:}
  if [ "$label" = dups ]; then
    bench_dups "$tree"
    SUMMARY+=("$label:$tree")
    continue
  fi
  build_list "$tree"
  log "[$label] checking totals on $tree"
  du_b1=$(du -s -B1 "$tree" 2>/dev/null | awk '{print $1}')
  du_l=$(du -s -B1 -l "$tree" 2>/dev/null | awk '{print $1}')
  root_disk=$(( $(stat -c '%b * %B' "$tree") ))
  entries=$(find "$tree" 2>/dev/null | wc -l)
  echo "$label: $tree: du -s -B1 = $du_b1, du -s -B1 -l = $du_l, root dir = $root_disk B, find | wc -l = $entries" \
    | tee -a "$OUT/machine.txt" >&2
  if [ "$label" = mixed ]; then
    want=$(awk -F': ' '/"total_entries"/{gsub(/,/, "", $2); print $2}' "$tree.manifest.json")
    [ "$entries" = "$want" ] || echo "WARNING: $tree has $entries entries, manifest says $want" | tee -a "$OUT/machine.txt" >&2
  fi

  checks=$OUT/$label-checks.tsv
  printf 'name\tcommand\ttotal\texpected\tstatus\n' > "$checks"
  declare -a KEEP_N=() KEEP_C=()
  for i in "${!NAMES[@]}"; do
    n=${NAMES[$i]}
    expect=$du_b1; note=""
    case "$n" in
      floor) expect=$((du_l - root_disk)); note=" (= du -l minus root dir, by design)" ;;
      dua) expect=$((du_b1 - root_disk)); note=" (root dir not counted)" ;;
    esac
    if got=$(total_of "$n" "$i" "$tree"); then
      if [ "$got" = "$expect" ]; then status="ok$note"
      else status="MISMATCH: $got vs du $du_b1 ($((got - du_b1)) B)"; fi
      KEEP_N+=("$n"); KEEP_C+=("${TIMED[$i]}")
    else
      got="-"; status="ERROR: no total (not timed)"
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$n" "${TIMED[$i]}" "$got" "$expect" "$status" >> "$checks"
    printf '  %-22s %-14s %s\n' "$n" "$got" "$status" >&2
  done

  log "[$label] peak RSS"
  rss=$OUT/$label-rss.tsv
  : > "$rss"
  for i in "${!KEEP_N[@]}"; do
    # shellcheck disable=SC2086  # the command is a word list on purpose
    /usr/bin/time -f '%M' -o "$OUT/.rss" ${KEEP_C[$i]} >/dev/null 2>&1 || true
    printf '%s\t%s\n' "${KEEP_N[$i]}" "$(tail -1 "$OUT/.rss")" >> "$rss"
  done
  rm -f "$OUT/.rss"

  hf_args=()
  for i in "${!KEEP_N[@]}"; do hf_args+=(-n "${KEEP_N[$i]}" "${KEEP_C[$i]}"); done

  log "[$label] warm cache: $WARMUP warmups, $RUNS runs"
  hyperfine -N --output=null --ignore-failure --warmup "$WARMUP" --runs "$RUNS" \
    --export-json "$OUT/$label-warm.json" --export-markdown "$OUT/$label-warm.md" \
    "${hf_args[@]}" >&2

  if [ "$COLD" = 1 ]; then
    log "[$label] cold cache: $COLD_RUNS runs, caches dropped before each"
    hyperfine -N --output=null --ignore-failure --runs "$COLD_RUNS" \
      --prepare "sh -c 'sync; echo 3 > /proc/sys/vm/drop_caches'" \
      --export-json "$OUT/$label-cold.json" --export-markdown "$OUT/$label-cold.md" \
      "${hf_args[@]}" >&2
  fi
  SUMMARY+=("$label:$tree")
done

# ---------------------------------------------------------------- table
log "results"
python3 - "$OUT" "${SUMMARY[@]}" > "$OUT/results.md" <<'PY'
import json, os, sys

out, targets = sys.argv[1], sys.argv[2:]
def load(p):
    return {r["command"]: r for r in json.load(open(p))["results"]} if os.path.exists(p) else {}
def tsv(p):
    rows = [l.rstrip("\n").split("\t") for l in open(p)] if os.path.exists(p) else []
    return rows
print("# fdu benchmark\n")
print("```")
print(open(os.path.join(out, "machine.txt")).read().rstrip())
print(open(os.path.join(out, "versions.txt")).read().rstrip())
print("```\n")
print("Ratios are each tool's median time over fdu's (default `fdu -s`): above 1 means fdu is faster.")
print("`floor` is `floor_mt` (getdents64 + fstatat only, no paths, no hard-link set): fdu / floor is what")
print("fdu's own design costs over the syscalls it cannot avoid. Totals are checked against `du -s -B1`")
print("before timing; a MISMATCH row was timed but does not compute du's answer.\n")
for t in targets:
    label, tree = t.split(":", 1)
    warm = load(os.path.join(out, f"{label}-warm.json"))
    cold = load(os.path.join(out, f"{label}-cold.json"))
    checks = tsv(os.path.join(out, f"{label}-checks.tsv"))[1:]
    rss = dict(r[:2] for r in tsv(os.path.join(out, f"{label}-rss.tsv")) if len(r) >= 2)
    print(f"## {label}: `{tree}`\n")
    has_cold = bool(cold)
    head = "| tool | command | warm median (s) | × fdu |"
    sep = "|---|---|---:|---:|"
    if has_cold:
        head += " cold median (s) | × fdu |"; sep += "---:|---:|"
    head += " peak RSS (MiB) | total (B) | check |"; sep += "---:|---:|---|"
    print(head); print(sep)
    def med(d, n):
        r = d.get(n)
        return r["median"] if r else None
    fw, fc = med(warm, "fdu"), med(cold, "fdu")
    for name, cmd, total, expect, status in checks:
        w, c = med(warm, name), med(cold, name)
        cells = [name, f"`{cmd}`",
                 f"{w:.4f}" if w is not None else "-",
                 f"{w / fw:.2f}" if w is not None and fw else "-"]
        if has_cold:
            cells += [f"{c:.3f}" if c is not None else "-",
                      f"{c / fc:.2f}" if c is not None and fc else "-"]
        kb = rss.get(name, "")
        cells += [f"{int(kb) / 1024:.1f}" if kb.isdigit() else "-", total, status]
        print("| " + " | ".join(cells) + " |")
    fl_w, fl_c = med(warm, "floor"), med(cold, "floor")
    notes = []
    if fw and fl_w:
        notes.append(f"warm fdu / floor = {fw / fl_w:.2f}")
    if fc and fl_c:
        notes.append(f"cold fdu / floor = {fc / fl_c:.2f}")
    if notes:
        print("\n**" + "; ".join(notes) + "**")
    print()
    for mode in ("warm", "cold"):
        p = os.path.join(out, f"{label}-{mode}.md")
        if os.path.exists(p):
            print(f"<details><summary>hyperfine, {mode} cache</summary>\n")
            print(open(p).read().rstrip())
            print("\n</details>\n")
PY
cat "$OUT/results.md"
echo "saved: $OUT" >&2
