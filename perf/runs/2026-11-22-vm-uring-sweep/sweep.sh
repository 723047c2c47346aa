#!/usr/bin/env bash
# linux vs uring backends, thread counts and ring settings, warm and cold.
set -euo pipefail
OUT=/work/main/perf/runs/2026-11-22-vm-uring-sweep
F=/work/main/target/release/fdu
COLD="sh -c 'sync; echo 3 > /proc/sys/vm/drop_caches'"
for target in /var/tmp/fdu-bench/mixed-1m /usr; do
  name=$(basename $target)
  cmds=()
  for v in "--backend linux -j 8" "--backend linux -j 16" "--backend linux -j 32" "--backend uring -j 2" "--backend uring -j 4" "--backend uring -j 8" "--backend uring -j 8 --ring-workers 64" "--backend uring -j 8 --ring-workers 4" "--backend uring -j 8 --ring-depth 32"; do
    cmds+=("$F -s $v $target")
  done
  hyperfine -N -w 1 -r 5 --export-json $OUT/$name-warm.json --export-markdown $OUT/$name-warm.md "${cmds[@]}" > $OUT/$name-warm.txt 2>&1
  hyperfine -N -r 3 -p "$COLD" --export-json $OUT/$name-cold.json --export-markdown $OUT/$name-cold.md "${cmds[@]}" > $OUT/$name-cold.txt 2>&1
done
