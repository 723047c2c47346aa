#!/usr/bin/env bash
# Default thread count: 8 vs 16 vs 24 workers (linux backend), warm and cold.
set -euo pipefail
OUT=$(cd "$(dirname "$0")" && pwd)
F=${FDU:-/work/main/target/release/fdu}
COLD="sh -c 'sync; echo 3 > /proc/sys/vm/drop_caches'"
for target in /var/tmp/fdu-bench/mixed-1m /usr; do
  name=$(basename "$target")
  cmds=("$F -s -j 8 $target" "$F -s -j 16 $target" "$F -s -j 24 $target")
  hyperfine -N -w 2 -r 10 --export-json "$OUT/$name-warm.json" --export-markdown "$OUT/$name-warm.md" "${cmds[@]}" > "$OUT/$name-warm.txt" 2>&1
  hyperfine -N -r 5 -p "$COLD" --export-json "$OUT/$name-cold.json" --export-markdown "$OUT/$name-cold.md" "${cmds[@]}" > "$OUT/$name-cold.txt" 2>&1
done
