#!/usr/bin/env bash
# Record an fdu run with `perf record -g` and render an SVG flamegraph.
#
#   perf/flamegraph.sh [-o OUT.svg] -- fdu ARGS...
#
# "fdu" is replaced by the binary of the `profiling` cargo profile (release
# optimisations, with symbols). Where perf cannot read hardware counters (VMs,
# containers), it says so and samples the software cpu-clock event instead.
# Needs: perf (Debian: linux-perf), inferno (cargo install inferno).
set -euo pipefail
cd "$(dirname "$0")/.."

out="perf/flamegraph-$(date +%Y%m%d-%H%M%S).svg"
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [-o OUT.svg] -- fdu ARGS..." >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [-o OUT.svg] -- fdu ARGS..." >&2; exit 2; }

if ! command -v perf >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq linux-perf >/dev/null; else
    echo "perf is missing: apt-get install linux-perf" >&2; exit 1; fi
fi
if ! command -v inferno-flamegraph >/dev/null; then
  cargo install inferno >/dev/null
fi

cargo build --profile profiling -q
bin=target/profiling/fdu
args=()
for a in "$@"; do
  if [ "${#args[@]}" -eq 0 ] && [ "$a" = fdu ]; then args+=("$bin"); else args+=("$a"); fi
done
[ "${args[0]}" = "$bin" ] || args=("$bin" "${args[@]}")

event=cycles
if perf stat -e cycles true 2>&1 | grep -q "not supported"; then
  echo "flamegraph: hardware counters are not available here; sampling the cpu-clock software event" >&2
  event=cpu-clock
fi

data=$(mktemp /tmp/fdu-perf.XXXXXX)
trap 'rm -f "$data"' EXIT
perf record -q -e "$event" -F 2000 -g --call-graph dwarf,16384 -o "$data" -- "${args[@]}" >/dev/null
perf script -i "$data" 2>/dev/null | inferno-collapse-perf | inferno-flamegraph --title "fdu ${*}" > "$out"
echo "flamegraph: $out"
