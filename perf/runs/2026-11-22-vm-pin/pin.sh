#!/usr/bin/env bash
# --pin none|cpu|numa on a single-NUMA-node machine: warm, side by side.
set -euo pipefail
OUT=$(cd "$(dirname "$0")" && pwd)
F=${FDU:-/work/main/target/release/fdu}
for target in /var/tmp/fdu-bench/mixed-1m /usr; do
  name=$(basename "$target")
  hyperfine -N -w 2 -r 10 --export-json "$OUT/$name-warm.json" --export-markdown "$OUT/$name-warm.md" \
    "$F -s --pin none $target" "$F -s --pin cpu $target" "$F -s --pin numa $target" > "$OUT/$name-warm.txt" 2>&1
done
