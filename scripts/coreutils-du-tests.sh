#!/usr/bin/env bash
# Run GNU coreutils 9.1's own du tests (tests/du/) against a du: GNU du
# itself, then fdu standing in for it (a `du` script on PATH that execs
# fdu). Prints one line per test and program: PASS, FAIL, SKIP or ERROR
# (the test's own framework failed); logs go to WORK/logs/PROGRAM/TEST.log.
#
#   scripts/coreutils-du-tests.sh [--check] [--fdu PATH] [--work DIR] [--src DIR] [--user UID] [TEST...]
#
# --check: exit 1 when a test that passes with du does not pass with fdu
# (files0-from.pl aside: it expects du's exit status 1 for a usage error,
# where fdu deliberately exits 2); when the sources cannot be fetched, say
# so and exit 0 (CI runs it this way).
# --fdu defaults to target/debug/fdu (built if missing).
# The sources come from Debian's coreutils 9.1-1 source package, fetched
# with apt-get through a private source list (the system's apt
# configuration is left alone), unless --src names an unpacked
# coreutils-9.1 tree. TEST names a script under tests/du/ (e.g. basic.sh);
# default: all of them. Tests that need a non-root user skip when run as
# root, as in coreutils' own `make check`; --user UID runs the tests as
# that user instead (with setpriv; WORK and the sources must be theirs).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fdu="$repo/target/debug/fdu"
work="${TMPDIR:-/tmp}/fdu-coreutils-du"
src=""
as_user=()
check=false
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=true; shift ;;
    --fdu) fdu="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --src) src="$2"; shift 2 ;;
    --user) as_user=(setpriv --reuid="$2" --regid="$2" --clear-groups); shift 2 ;;
    --) shift; break ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
mkdir -p "$work"
work="$(cd "$work" && pwd)"

case "$fdu" in /*) ;; *) fdu="$PWD/$fdu" ;; esac
if [ ! -x "$fdu" ]; then
  echo "== cargo build (no $fdu)"
  (cd "$repo" && cargo build)
fi

if [ -z "$src" ]; then
  src="$work/coreutils-9.1"
  if [ ! -d "$src/tests/du" ]; then
    echo "== fetching the coreutils 9.1-1 source package"
    apt="$work/apt"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
    # The archive the system's own apt sources name (deb822 or one-line).
    mirror=$({ sed -n 's/^URIs: *\([^ ]*\).*/\1/p; s/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' \
      /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } |
      awk '!/security/ && !found { print; found = 1 }')
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main" \
      > "$apt/sources.list"
    opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
    if ! { apt-get "${opts[@]}" update -qq &&
      (cd "$work" && apt-get "${opts[@]}" source --download-only coreutils=9.1-1 -qq) &&
      tar -C "$work" -xf "$work/coreutils_9.1.orig.tar.xz"; }; then
      echo "SKIPPED: cannot fetch the coreutils 9.1-1 source package"
      exit 0
    fi
  fi
fi
src="$(cd "$src" && pwd)"

# One "build directory" per program: BUILD/src/du is what the tests run.
for prog in du fdu; do
  mkdir -p "$work/build-$prog/src"
  target=/usr/bin/du
  [ "$prog" = fdu ] && target="$fdu"
  # argv[0] stays `du`, as when the tests run coreutils' own build.
  printf '#!/bin/bash\nexec -a du %s "$@"\n' "$target" > "$work/build-$prog/src/du"
  chmod +x "$work/build-$prog/src/du"
  mkdir -p "$work/logs/$prog"
done

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=()
  for t in "$src"/tests/du/*.sh "$src"/tests/du/*.pl; do tests+=("$(basename "$t")"); done
fi

# What coreutils' TESTS_ENVIRONMENT does (tests/local.mk), for one test.
run_one() { # PROGRAM TEST
  local prog="$1" t="$2" build="$work/build-$1"
  local compiler=(sh)
  case "$t" in
    *.pl) compiler=(perl -w -I./tests -MCuSkip -MCoreutils "-MCuTmpdir qw(tests/du/$t)") ;;
  esac
  (
    cd "$src"
    . tests/lang-default
    TMPDIR="${TMPDIR:-/tmp}"
    . tests/envvar-check
    export TMPDIR VERSION=9.1 abs_top_builddir="$build" abs_top_srcdir="$src" \
      abs_srcdir="$src" built_programs=du fail=0 host_os=linux-gnu \
      host_triplet=x86_64-pc-linux-gnu srcdir=. top_srcdir=. \
      CU_TEST_NAME="du,$t" PERL=perl SHELL=/bin/sh VERBOSE=yes \
      EXEEXT= PACKAGE_VERSION=9.1 CONFIG_HEADER=/dev/null
    PATH="$build/src:$PATH"
    export PATH
    exec "${as_user[@]}" timeout 300 "${compiler[@]}" "tests/du/$t"
  ) > "$work/logs/$prog/$t.log" 2>&1 </dev/null
}

verdict() {
  case "$1" in
    0) echo PASS ;;
    77) echo SKIP ;;
    99) echo ERROR ;;
    *) echo "FAIL($1)" ;;
  esac
}

printf '%-34s %-10s %-10s\n' test du fdu
regressions=()
for t in "${tests[@]}"; do
  results=()
  for prog in du fdu; do
    status=0
    run_one "$prog" "$t" || status=$?
    results+=("$(verdict "$status")")
  done
  printf '%-34s %-10s %-10s\n' "$t" "${results[@]}"
  if [ "${results[0]}" = PASS ] && [ "${results[1]}" != PASS ] && [ "$t" != files0-from.pl ]; then
    regressions+=("$t")
  fi
done
echo "logs: $work/logs/{du,fdu}/TEST.log"
if $check && [ ${#regressions[@]} -gt 0 ]; then
  echo "passed with du, not with fdu: ${regressions[*]}"
  exit 1
fi
