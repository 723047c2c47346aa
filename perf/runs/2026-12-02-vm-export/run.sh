#!/usr/bin/env bash
# -o against -s, ncdu -o and gdu -o on the warm 1M-entry mixed tree (one
# hyperfine run), then peak RSS of each, and `-a | head -1` against `-a`.
set -euo pipefail
T=${T:-/var/tmp/fdu-bench/mixed-1m}
FDU=${FDU:-target/release/fdu}
OUT=$(dirname "$0")
E=/var/tmp/fdu-bench/export
mkdir -p "$E"
"$FDU" -s "$T" >/dev/null  # warm the cache
hyperfine -N -w 1 -r 7 --export-json "$OUT/hyperfine-export.json" \
  "$FDU -s $T" \
  "$FDU -o $E/fdu.json $T" \
  "ncdu -0 -o $E/ncdu.json $T" \
  "gdu -n -p -o $E/gdu.json $T"
for cmd in "$FDU -s $T" "$FDU -o $E/fdu.json $T" "ncdu -0 -o $E/ncdu.json $T" \
  "gdu -n -p -o $E/gdu.json $T" "$FDU -a $T"; do
  /usr/bin/time -f "%M KiB max RSS, %e s, %U user, %S sys: $cmd" $cmd >/dev/null 2>>"$OUT/rss.txt"
done
ls -l "$E" >>"$OUT/rss.txt"
hyperfine -N -w 1 -r 7 --export-json "$OUT/hyperfine-head.json" \
  "bash -c '$FDU -a $T | head -1'" "$FDU -a $T"
