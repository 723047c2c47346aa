#!/usr/bin/env bash
# The scan as a value: the walker generic over a visitor, against the build
# before it (OLD), on the warm 1M-entry mixed tree; then -o against -s,
# ncdu -o and gdu -o; then peak RSS. One hyperfine run per group.
set -euo pipefail
T=${T:-/var/tmp/fdu-bench/mixed-1m}
NEW=${NEW:-target/release/fdu}
OLD=${OLD:?the build before the change}
OUT=$(dirname "$0")
E=/var/tmp/fdu-bench/export
mkdir -p "$E"
"$NEW" -s "$T" >/dev/null
hyperfine -N -w 2 -r 15 --export-json "$OUT/hyperfine-walk.json" \
  "$OLD -s $T" "$NEW -s $T" "$OLD -d 3 $T" "$NEW -d 3 $T"
hyperfine -N -w 1 -r 9 --export-json "$OUT/hyperfine-export.json" \
  "$NEW -s $T" \
  "$NEW -o $E/fdu.json $T" \
  "ncdu -0 -o $E/ncdu.json $T" \
  "gdu -n -p -o $E/gdu.json $T"
hyperfine -N -w 1 -r 9 --export-json "$OUT/hyperfine-read.json" \
  "$NEW -s -f $E/fdu.json" "$NEW -f $E/fdu.json -d 3" "$NEW -s $T"
: >"$OUT/rss.txt"
for cmd in "$OLD -s $T" "$NEW -s $T" "$NEW -o $E/fdu.json $T" "ncdu -0 -o $E/ncdu.json $T" \
  "gdu -n -p -o $E/gdu.json $T" "$OLD -a $T" "$NEW -a $T" "$NEW -a -f $E/fdu.json"; do
  /usr/bin/time -f "%M KiB max RSS, %e s, %U user, %S sys: $cmd" $cmd >/dev/null 2>>"$OUT/rss.txt"
done
ls -l "$E" >>"$OUT/rss.txt"
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
for f in ["hyperfine-walk.json", "hyperfine-export.json", "hyperfine-read.json"]:
    for r in json.load(open(os.path.join(out, f)))["results"]:
        print(f"{f}: median {r['median']:.3f} s  user {r['user']:.3f}  sys {r['system']:.3f}  {r['command']}")
PY
