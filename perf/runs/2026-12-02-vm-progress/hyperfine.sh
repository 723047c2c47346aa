#!/usr/bin/env bash
# Wall time of `fdu -s` on the warm 1M-entry tree, progress forced on
# (--progress: stderr is not a terminal here, so plain lines every 5 s)
# against off (--no-progress), with -j 2 and the default worker count;
# then wall, user and sys time of 15 more runs of each, interleaved (off,
# on, off, on...: hyperfine runs each command's runs in one block, so a
# machine whose speed drifts favours one of them), from /usr/bin/time.
# Usage: hyperfine.sh FDU_BINARY [TREE]
set -euo pipefail
fdu=${1:?usage: hyperfine.sh FDU_BINARY [TREE]}
tree=${2:-/var/tmp/fdu-bench/mixed-1m}
cd "$(dirname "${BASH_SOURCE[0]}")"
hyperfine -N -w 2 -r 15 --export-json hyperfine-1m.json --export-markdown hyperfine-1m.md \
  -n "off -j 2" "$fdu -s -j 2 --no-progress $tree" \
  -n "on -j 2" "$fdu -s -j 2 --progress $tree" \
  -n "off" "$fdu -s --no-progress $tree" \
  -n "on" "$fdu -s --progress $tree" | tee hyperfine-1m.txt
printf 'run\twall_s\tuser_s\tsys_s\n' > cpu-1m.tsv
for _ in $(seq 15); do
  for run in "off -j 2|-j 2 --no-progress" "on -j 2|-j 2 --progress" "off|--no-progress" "on|--progress"; do
    label=${run%%|*}
    # shellcheck disable=SC2086 # the options are words
    /usr/bin/time -o time.out -f '%e\t%U\t%S' "$fdu" -s ${run#*|} "$tree" > /dev/null 2>&1
    printf '%s\t%s\n' "$label" "$(cat time.out)" >> cpu-1m.tsv
  done
done
rm -f time.out
cat cpu-1m.tsv
