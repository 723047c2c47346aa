#!/usr/bin/env python3
"""rr.py SETTING N name=cmd... : round-robin cold runs on the latency FS (or local with SETTING=local:PATH / warm:PATH)."""
import subprocess, sys, time, os, statistics, json
setting, n = sys.argv[1], int(sys.argv[2])
cmds = [a.split('=', 1) for a in sys.argv[3:]]
BENCH = '/var/tmp/fdu-bench'; MNT = f'{BENCH}/workers-mnt'
pid = None
if setting.startswith('local:') or setting.startswith('warm:'):
    target = setting.split(':', 1)[1]
    prep = (lambda: subprocess.run("sync; echo 3 > /proc/sys/vm/drop_caches", shell=True)) if setting.startswith('local:') else (lambda: None)
else:
    subprocess.run(f"mountpoint -q {MNT} && fusermount -u {MNT}", shell=True)
    extra = ['--slow', 'internal15=5'] if setting == 'mixed' else []
    d = '0.2' if setting == 'mixed' else setting
    pid = subprocess.Popen(['python3', '/work/main/scripts/latency-fs.py', f'{BENCH}/mixed-20k', MNT, '--delay-ms', d] + extra, stderr=open('/tmp/lfs.log', 'w'))
    for _ in range(100):
        if subprocess.run(['mountpoint', '-q', MNT]).returncode == 0: break
        time.sleep(0.1)
    target = MNT
    prep = lambda: subprocess.run(f"sync; echo 3 > /proc/sys/vm/drop_caches; du -s {BENCH}/mixed-20k > /dev/null", shell=True)
times = {name: [] for name, _ in cmds}
try:
    for i in range(n):
        for name, cmd in (cmds if i % 2 == 0 else cmds[::-1]):
            prep()
            t = time.perf_counter()
            subprocess.run(cmd.replace('TARGET', target), shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t)
finally:
    if pid:
        subprocess.run(['fusermount', '-u', MNT]); pid.wait()
base = cmds[-1][0]
for name, _ in cmds:
    ts = times[name]
    ratios = [a / b for a, b in zip(ts, times[base])]
    print(f"{name:10s} median {statistics.median(ts):.3f}  paired ratio to {base} median {statistics.median(ratios):.3f}  {[round(t, 2) for t in ts]}")
json.dump(times, open(f'/tmp/rr-{setting.replace("/", "_")}.json', 'w'))
