#!/usr/bin/env python3
"""Time commands alternately (A, B, A, B...), so drift of the shared
machine falls on both alike; print medians and the ratio."""
import subprocess, sys, time, statistics, json

# Write-only, as a shell redirection opens it.
NULL = open("/dev/null", "w")
runs = int(sys.argv[1])
cmds = sys.argv[2:]
times = {c: [] for c in cmds}
for c in cmds:  # warm-up
    subprocess.run(c, shell=True, stdout=NULL)
for _ in range(runs):
    for c in cmds:
        t = time.perf_counter()
        subprocess.run(c, shell=True, stdout=NULL, check=True)
        times[c].append(time.perf_counter() - t)
base = statistics.median(times[cmds[0]])
for c in cmds:
    m = statistics.median(times[c])
    print(f"{m:7.3f} s median  {min(times[c]):.3f}-{max(times[c]):.3f}  x{m / base:.3f}  {c}")
json.dump(times, open(sys.argv[0] + ".last.json", "w"))
