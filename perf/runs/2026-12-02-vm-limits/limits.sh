#!/usr/bin/env bash
# Descriptor budget, parked workers, cycle checks and the -s link set:
# the walker before (OLD) and after (NEW), warm, one hyperfine run per
# target; then 1M vs 10M entries (time per entry, peak RSS) and scans under
# small descriptor limits.
#   OLD=/tmp/fdu-old NEW=/tmp/fdu-new perf/runs/2026-12-02-vm-limits/limits.sh
set -euo pipefail
OLD=${OLD:?path of the fdu before}
NEW=${NEW:?path of the fdu after}
B=${FDU_BENCH_DIR:-/var/tmp/fdu-bench}
out=$(cd "$(dirname "$0")" && pwd)
tiny=$(mktemp -d); mkdir "$tiny/a"; : > "$tiny/a/f"
hf() { local name=$1; shift; hyperfine -N "$@" --export-json "$out/$name.json" --export-markdown "$out/$name.md" | tee "$out/$name.txt"; }

hf mixed-1m-warm -w 2 -r 10 "$OLD -s $B/mixed-1m" "$NEW -s $B/mixed-1m"
hf usr-warm -w 3 -r 20 "$OLD -s /usr" "$NEW -s /usr"
hf j1024 -w 2 -r 10 "$OLD -j 1024 $tiny" "$NEW -j 1024 $tiny" "$NEW -j 16 $tiny"
hf nofile -w 1 -r 5 "prlimit --nofile=8:8 $NEW -s $B/mixed-1m" "prlimit --nofile=64:64 $NEW -s $B/mixed-1m" "$NEW -s $B/mixed-1m"
hf scale -w 1 -r 5 "$NEW -s $B/mixed-1m" "$NEW -s $B/mixed-10m"
for t in mixed-1m mixed-10m; do
  for bin in "$OLD" "$NEW"; do
    /usr/bin/time -f "$bin $t: %e s, peak RSS %M KiB" "$bin" -s "$B/$t" >/dev/null
  done
  /usr/bin/time -f "du $t: %e s, peak RSS %M KiB" du -s "$B/$t" >/dev/null
done 2>&1 | tee "$out/rss.txt"
rm -r "$tiny"

# The 10M tree does not fit in this machine's cache with everything else
# (about 11M inodes are cached at most), so warm runs of it still read the
# disk: compare 1M and 10M cold as well, caches dropped before each run.
# (With a shell: the --prepare command needs one.)
hyperfine -r 3 --prepare 'sync; echo 3 > /proc/sys/vm/drop_caches' "$NEW -s $B/mixed-1m" "$NEW -s $B/mixed-10m" \
  --export-json "$out/scale-cold.json" --export-markdown "$out/scale-cold.md" | tee "$out/scale-cold.txt"
