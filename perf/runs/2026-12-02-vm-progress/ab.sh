#!/usr/bin/env bash
# Paired runs, off then on, N times (default 30), `fdu -s [OPTION]...` on
# the warm 1M-entry tree (by default with the default worker count): wall,
# user and sys time of each from /usr/bin/time.
# Usage: ab.sh FDU_BINARY [N] [TREE] [OPTION]... > ab.tsv
set -euo pipefail
fdu=${1:?usage: ab.sh FDU_BINARY [N] [TREE] [OPTION]...}
n=${2:-30}
tree=${3:-/var/tmp/fdu-bench/mixed-1m}
shift $(($# < 3 ? $# : 3))
out=$(mktemp)
"$fdu" -s "$tree" > /dev/null
"$fdu" -s "$tree" > /dev/null
printf 'pair\trun\twall_s\tuser_s\tsys_s\n'
for i in $(seq "$n"); do
  for run in off on; do
    opt=--no-progress
    [[ $run == on ]] && opt=--progress
    /usr/bin/time -o "$out" -f '%e\t%U\t%S' "$fdu" -s "$@" "$opt" "$tree" > /dev/null 2>&1
    printf '%s\t%s\t%s\n' "$i" "$run" "$(cat "$out")"
  done
done
rm -f "$out"
