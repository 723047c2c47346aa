#!/bin/bash
# Cold-cache checkpoint runs on the 1M-entry tree: a whole scan with and
# without checkpoints (interval 1 s), then scans killed (SIGKILL) at 10%,
# 50% and 90% of the whole scan's time and resumed, the page cache dropped
# before each run (as after a reboot). Every resumed output is checked
# against the uninterrupted one.
set -u
F=${F:-/tmp/fdu-ck3}
T=${T:-/var/tmp/fdu-bench/mixed-1m}
CK=/var/tmp/ck-cold
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
secs() { python3 -c 'import sys,time; print(time.time())'; }
$F $T > /tmp/cold-whole.txt
want=$(md5sum < /tmp/cold-whole.txt)
times=""
for round in 1 2 3; do
  drop; a=$(secs); $F $T > /dev/null; b=$(secs)
  t=$(python3 -c "print(round($b-$a,3))"); times="$times $t"
  echo "whole, no checkpoint: $t s"
  rm -f $CK; drop; a=$(secs); $F --checkpoint $CK --checkpoint-interval 1 $T > /dev/null; b=$(secs)
  echo "whole, checkpoint every 1 s: $(python3 -c "print(round($b-$a,3))") s, file $(stat -c %s $CK) bytes"
done
whole=$(python3 -c "import statistics; print(statistics.median([$(echo $times | tr ' ' ',')]))")
echo "median whole cold scan: $whole s"
for fraction in 0.1 0.5 0.9; do
  for round in 1 2; do
    rm -f $CK; drop
    kill_at=$(python3 -c "print($whole*$fraction)")
    timeout -s KILL $kill_at $F --checkpoint $CK --checkpoint-interval 1 $T > /dev/null 2>&1
    drop; a=$(secs); $F --resume $CK --stats > /tmp/cold-resumed.txt 2>/tmp/cold-stats.txt; rc=$?; b=$(secs)
    got=$(md5sum < /tmp/cold-resumed.txt)
    same=$([ "$got" = "$want" ] && echo same || echo DIFFERENT)
    echo "killed at $fraction ($kill_at s): resume $(python3 -c "print(round($b-$a,3))") s, rc $rc, output $same; $(grep resumed /tmp/cold-stats.txt)"
  done
done
