#!/usr/bin/env bash
# Instructions executed by one `fdu -s -j 2` of the warm 100k-entry tree:
# progress off (--no-progress), forced on without a terminal (--progress:
# plain lines every 5 s) and on a terminal (the default bar; stderr a
# pseudo-terminal from `script`), 5 runs each, interleaved.
# Usage: callgrind.sh FDU_BINARY [TREE]
set -euo pipefail
fdu=${1:?usage: callgrind.sh FDU_BINARY [TREE]}
tree=${2:-/var/tmp/fdu-bench/mixed-100k}
out=$(mktemp -d)
"$fdu" -s "$tree" > /dev/null # warm the cache
n=0
ir() { # label, then fdu's arguments; a label starting with "tty" runs on a terminal
  local label=$1 file vg
  shift
  n=$((n + 1))
  file="$out/$label.$n"
  vg="valgrind --tool=callgrind --callgrind-out-file=$file --log-file=$file.log"
  if [[ $label == tty* ]]; then
    # stdout to /dev/null, stderr stays the terminal.
    script -qefc "$vg $fdu $* > /dev/null" /dev/null > /dev/null
  else
    $vg "$fdu" "$@" > /dev/null 2>&1
  fi
  printf '%s\t%s\n' "$label" "$(sed -n 's/^summary: //p' "$file")"
}
printf 'run\tIr\n'
for _ in 1 2 3 4 5; do
  ir off -s -j 2 --no-progress "$tree"
  ir lines -s -j 2 --progress "$tree"
  # valgrind runs ~50x slower than fdu alone, so the sampler wakes and
  # redraws ~50x more often per entry than in a real run: an upper bound.
  ir tty-bar -s -j 2 "$tree"
done
rm -rf "$out"
