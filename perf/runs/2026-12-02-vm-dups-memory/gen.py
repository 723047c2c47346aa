#!/usr/bin/env python3
"""Trees for the --dups memory measurements.

gen.py distinct DIR   200 dirs x 1000 files of 100 bytes, all different
                      (one size group of 200k files, no duplicates)
gen.py empty DIR      1000 dirs x 1000 empty files (one size group of 1M
                      files with --min-size=0, all duplicates)
"""
import os
import sys

kind, root = sys.argv[1], sys.argv[2]
dirs, per = (200, 1000) if kind == "distinct" else (1000, 1000)
for d in range(dirs):
    path = os.path.join(root, f"d{d:04}")
    os.makedirs(path, exist_ok=True)
    for f in range(per):
        name = os.path.join(path, f"file-{f:06}")
        if kind == "distinct":
            n = d * per + f
            data = (f"{n:020}" * 5).encode()
            assert len(data) == 100
        else:
            data = b""
        with open(name, "wb") as out:
            out.write(data)
