#!/usr/bin/env bash
# Peak RSS (GNU time -v, "Maximum resident set size") of each duplicate
# finder on the trees made by gen.py; each command runs RUNS times, output
# to /dev/null. Usage: measure.sh FDU_BINARY LABEL [TREES_DIR]
set -u
FDU=$1 LABEL=$2 TREES=${3:-/tmp/dupsmem} RUNS=${RUNS:-2}
peak() { # label, command...
  local label=$1; shift
  for i in $(seq "$RUNS"); do
    /usr/bin/time -v "$@" >/dev/null 2>/tmp/measure.err
    local kib wall
    kib=$(awk -F': ' '/Maximum resident set size/{print $2}' /tmp/measure.err)
    wall=$(awk -F'): ' '/Elapsed \(wall clock\)/{print $2}' /tmp/measure.err)
    printf '%s\t%s\t%s KiB\t%.1f MiB\twall %s\t%s\n' "$label" "$i" "$kib" "$(echo "$kib/1024" | bc -l)" "$wall" "$*"
  done
}
D=$TREES/distinct-200k E=$TREES/empty-1m
if [ -z "${PEERS_ONLY:-}" ]; then
  peak "fdu-$LABEL distinct" "$FDU" --dups "$D"
  peak "fdu-$LABEL empty" "$FDU" --dups --min-size=0 "$E"
fi
if [ -n "${PEERS:-}" ]; then
  peak "fclones distinct" fclones group "$D"
  peak "fclones empty" fclones group --min 0 "$E"
  peak "jdupes distinct" jdupes -r "$D"
  peak "jdupes empty" jdupes -r -z "$E"
fi
