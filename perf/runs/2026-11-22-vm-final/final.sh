#!/usr/bin/env bash
# The defaults against the two fastest peers, one hyperfine run per target
# and cache mode: fdu (default: linux backend, 16 workers), fdu --backend
# uring, diskus, pdu.
set -euo pipefail
OUT=$(cd "$(dirname "$0")" && pwd)
F=${FDU:-/work/main/target/release/fdu}
COLD="sh -c 'sync; echo 3 > /proc/sys/vm/drop_caches'"
for target in /var/tmp/fdu-bench/mixed-1m /usr; do
  name=$(basename "$target")
  cmds=("$F -s $target" "$F -s --backend uring $target" "diskus $target" "pdu -H --max-depth=1 $target")
  hyperfine -N -w 1 -r 5 --export-json "$OUT/$name-warm.json" --export-markdown "$OUT/$name-warm.md" "${cmds[@]}" > "$OUT/$name-warm.txt" 2>&1
  hyperfine -N -r 3 -p "$COLD" --export-json "$OUT/$name-cold.json" --export-markdown "$OUT/$name-cold.md" "${cmds[@]}" > "$OUT/$name-cold.txt" 2>&1
done
