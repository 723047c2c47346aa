#!/usr/bin/env python3
"""Read-only passthrough FUSE file system that adds a fixed delay to every
metadata request, to emulate a high-latency (network) file system.

    scripts/latency-fs.py SOURCE MOUNTPOINT [--delay-ms 1] [--count FILE]
                          [--slow SUBDIR=MS]...
    fusermount -u MOUNTPOINT            # to stop it

It mirrors SOURCE read-only at MOUNTPOINT and sleeps --delay-ms before
answering each metadata request: getattr (the kernel's LOOKUP and GETATTR),
readdir, opendir, open, readlink, statfs and access. Data reads and the
release of file and directory handles are not delayed. Requests are served
by fusepy's multithreaded loop (libfuse 2 starts a thread per request in
flight), so N concurrent requests overlap their delays, as N round trips in
flight do on a network file system. Every entry costs the client one LOOKUP
round trip (no readdirplus), as a stat does on Lustre, or on NFS without
READDIRPLUS.

Parallel lookups in one directory: the kernel serializes LOOKUP and READDIR
requests within a directory unless the file system's INIT reply carries
FUSE_PARALLEL_DIROPS, which libfuse 2 never sends (nor does libfuse 3 before
3.16 or so). NFS and Lustre do look up names of one directory in parallel,
so by default this script sets that flag: it builds a tiny LD_PRELOAD shim
(needs gcc) that adds FUSE_PARALLEL_DIROPS to the INIT reply, and re-runs
itself with it. --serial-dirops leaves the kernel's per-directory lock on.

Python's own cost: libfuse's threads call into Python through ctypes, so the
file system serves at most ~10-20k requests/s on one core (the GIL); the
--count file's busy_s tells how many requests were in flight on average.
Each libfuse thread keeps its Python thread state (see pin_thread_state),
which halves that cost.

Sizes pass through unchanged: st_size, st_blocks, st_nlink, st_mode and
st_ino (mounted with use_ino) are the source's, so `du -s` of the mount
equals `du -s` of SOURCE; st_dev is the FUSE mount's. Symlinks stay
symlinks. Names are passed as raw bytes (latin-1 round trip), so names that
are not UTF-8 work too.

Kernel caching: entries and attributes are cached for --timeout seconds
(default one day), so a second scan of a warm mount sends no LOOKUPs
(directories are still opened and read again: opendir/readdir are not
cached). `echo 3 > /proc/sys/vm/drop_caches` drops the FUSE dentries and
inodes (and the attributes with them), so every scan after it is cold again.

--count FILE keeps FILE up to date (rewritten at most every 0.1 s, and at
unmount) with a JSON object: requests by operation, their total, the number
of delayed requests, the peak number in flight at once, busy_s (the summed
time requests spent in the file system: busy_s over a scan's wall time is
the average number in flight) and whether parallel dirops are on. SIGUSR1
resets the peak (to the number in flight now) and rewrites FILE, so the
peak of one scan can be read: `kill -USR1 PID`, scan, read FILE.

Needs python3, fusepy (`pip install fusepy`), libfuse 2 (`apt-get install
fuse` or libfuse2), gcc for the shim, and root (or FUSE mount rights).
"""

import argparse
import ctypes
import errno
import functools
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

ENC = "latin-1"  # bytes <-> str losslessly: every byte is one code point
STAT_KEYS = ("st_mode", "st_ino", "st_nlink", "st_uid", "st_gid", "st_rdev",
             "st_size", "st_blksize", "st_blocks")
STATFS_KEYS = ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail",
               "f_files", "f_ffree", "f_favail", "f_namemax")
SHIM_ENV = "LATENCY_FS_SHIM"

# LD_PRELOAD shim: libfuse writes each reply with writev(header, payload).
# The first reply is the one to FUSE_INIT; in its payload (struct
# fuse_init_out: major, minor, max_readahead, flags, ...) set
# FUSE_PARALLEL_DIROPS (1 << 18). Nothing else is touched.
SHIM_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <sys/uio.h>
#include <sys/types.h>

int latency_fs_parallel_dirops = 0;

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    static ssize_t (*real)(int, const struct iovec *, int);
    if (!real)
        real = (ssize_t (*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    if (!__atomic_load_n(&latency_fs_parallel_dirops, __ATOMIC_ACQUIRE) && cnt >= 2
        && iov[0].iov_len == 16 && iov[1].iov_len >= 16) {
        const int32_t *out = (const int32_t *)iov[0].iov_base; /* len, error, unique */
        uint32_t *init = (uint32_t *)iov[1].iov_base;          /* major, minor, ra, flags */
        if (out[1] == 0 && init[0] == 7 && init[1] >= 6 && init[1] < 100) {
            init[3] |= 1u << 18; /* FUSE_PARALLEL_DIROPS */
            __atomic_store_n(&latency_fs_parallel_dirops, 1, __ATOMIC_RELEASE);
        }
    }
    return real(fd, iov, cnt);
}
"""


def reexec_with_shim():
    """Build the shim (once per content) and re-run this script under it."""
    digest = hashlib.sha256(SHIM_C.encode()).hexdigest()[:12]
    so = os.path.join(tempfile.gettempdir(), f"latency-fs-dirops-{digest}.so")
    if not os.path.exists(so):
        src = so[:-3] + ".c"
        with open(src, "w") as f:
            f.write(SHIM_C)
        tmp = f"{so}.{os.getpid()}"
        r = subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", tmp, src, "-ldl"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"latency-fs: warning: cannot build the parallel-dirops shim ({r.stderr.strip()}); "
                  "lookups within a directory stay serialized", file=sys.stderr)
            return
        os.replace(tmp, so)
    env = dict(os.environ)
    env[SHIM_ENV] = so
    env["LD_PRELOAD"] = so + (" " + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def shim_flag():
    """The shim's 'INIT reply patched' flag, or None without the shim."""
    try:
        return ctypes.c_int.in_dll(ctypes.CDLL(None), "latency_fs_parallel_dirops")
    except ValueError:
        return None


try:
    from fuse import FUSE, FuseOSError, Operations
except (ImportError, OSError, EnvironmentError) as e:  # depends on the machine
    sys.exit(f"latency-fs: needs fusepy and libfuse2 ({e}): pip install fusepy; apt-get install fuse")


_tls = threading.local()


def pin_thread_state():
    """Keep this libfuse thread's Python thread state alive.

    libfuse's worker threads are not Python threads: without this, every
    ctypes callback creates a Python thread state on entry and destroys it
    on return, which costs more than the request itself. One extra
    PyGILState_Ensure that is never released keeps it for the thread's
    life (a worker that exits leaks one)."""
    if not getattr(_tls, "pinned", False):
        ctypes.pythonapi.PyGILState_Ensure()
        _tls.pinned = True


def request(delayed):
    """Count a request, track how many are in flight and, if it is a
    metadata request, sleep the delay before serving it."""
    def deco(fn):
        name = fn.__name__

        @functools.wraps(fn)
        def wrapper(self, *args):
            pin_thread_state()
            st = self.stats
            with st.lock:
                st.counts[name] = st.counts.get(name, 0) + 1
                st.inflight += 1
                if st.inflight > st.peak:
                    st.peak = st.inflight
                st.version += 1
                if delayed:
                    st.delayed += 1
            t0 = time.perf_counter()
            try:
                delay = self.delay_of(args[0]) if delayed and args else 0.0
                if delay > 0:
                    time.sleep(delay)
                return fn(self, *args)
            finally:
                t1 = time.perf_counter()
                with st.lock:
                    st.inflight -= 1
                    st.busy += t1 - t0
        return wrapper
    return deco


def dtype_mode(entry):
    """File-type bits of a directory entry from its d_type (no stat)."""
    if entry.is_symlink():
        return stat.S_IFLNK
    if entry.is_dir(follow_symlinks=False):
        return stat.S_IFDIR
    if entry.is_file(follow_symlinks=False):
        return stat.S_IFREG
    return stat.S_IFMT(entry.stat(follow_symlinks=False).st_mode)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.delayed = 0
        self.inflight = 0
        self.peak = 0
        self.busy = 0.0
        self.version = 0


class LatencyFS(Operations):
    use_ns = True

    def __init__(self, source, delay_s, count_path, slow=()):
        self.source = os.fsencode(os.path.abspath(source))
        self.delay_s = delay_s
        # (prefix, delay_s), longest prefix first: see --slow.
        self.slow = sorted(slow, key=lambda p: -len(p[0]))
        self.count_path = count_path
        self.stats = Stats()
        self.shim = shim_flag()
        self.stop = threading.Event()
        self.write_lock = threading.Lock()

    # ------------------------------------------------------------ bookkeeping
    def real(self, path):
        return self.source + path.encode(ENC)

    def snapshot(self):
        st = self.stats
        with st.lock:
            counts = dict(sorted(st.counts.items()))
            return {
                "delay_ms": self.delay_s * 1000.0,
                "parallel_dirops": bool(self.shim is not None and self.shim.value),
                "total": sum(counts.values()),
                "delayed": st.delayed,
                "peak_in_flight": st.peak,
                "busy_s": round(st.busy, 6),
                "ops": counts,
            }

    def write_counts(self):
        # Called from the writer thread, the SIGUSR1 thread and destroy:
        # one at a time, and a failure must not end the calling thread.
        if not self.count_path:
            return
        with self.write_lock:
            try:
                tmp = self.count_path + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(self.snapshot(), f, sort_keys=True)
                    f.write("\n")
                os.replace(tmp, self.count_path)
            except OSError as e:
                print(f"latency-fs: cannot write {self.count_path}: {e}", file=sys.stderr)

    def count_loop(self):
        seen = -1
        while not self.stop.wait(0.1):
            v = self.stats.version
            if v != seen:
                seen = v
                self.write_counts()

    def reset_loop(self):
        while not self.stop.is_set():
            signal.sigwait({signal.SIGUSR1})
            st = self.stats
            with st.lock:
                st.peak = st.inflight
                st.version += 1
            self.write_counts()

    def init(self, path):
        # Threads start here, after libfuse has (maybe) forked into the
        # background. SIGUSR1 is blocked in every thread (see main) and
        # taken by sigwait in reset_loop. The INIT reply (and so the
        # shim's flag) comes after this returns: the first count write
        # is delayed a little for it.
        if self.count_path:
            threading.Timer(0.05, self.write_counts).start()
            threading.Thread(target=self.count_loop, daemon=True).start()
        threading.Thread(target=self.reset_loop, daemon=True).start()

    def delay_of(self, path):
        """The delay of a request for `path` (mount-relative, from '/')."""
        for prefix, delay in self.slow:
            if path == prefix or path.startswith(prefix + "/"):
                return delay
        return self.delay_s

    def destroy(self, path):
        self.stop.set()
        self.write_counts()

    # ------------------------------------------------------------ metadata
    @request(True)
    def getattr(self, path, fh=None):
        st = os.lstat(self.real(path))
        attrs = {k: getattr(st, k) for k in STAT_KEYS}
        attrs["st_atime"] = st.st_atime_ns
        attrs["st_mtime"] = st.st_mtime_ns
        attrs["st_ctime"] = st.st_ctime_ns
        return attrs

    @request(True)
    def access(self, path, amode):
        if not os.access(self.real(path), amode, follow_symlinks=False):
            raise FuseOSError(errno.EACCES)
        return 0

    @request(True)
    def readlink(self, path):
        return os.readlink(self.real(path)).decode(ENC)

    @request(True)
    def statfs(self, path):
        sv = os.statvfs(self.real(path))
        return {k: getattr(sv, k) for k in STATFS_KEYS}

    @request(True)
    def opendir(self, path):
        if not stat.S_ISDIR(os.lstat(self.real(path)).st_mode):
            raise FuseOSError(errno.ENOTDIR)
        return 0

    @request(True)
    def readdir(self, path, fh):
        # A list, not a generator, so that the work is done (and counted)
        # here rather than while libfuse pulls the entries.
        real = self.real(path)
        here = os.lstat(real)
        up = os.lstat(os.path.join(real, b".."))
        out = [(".", {"st_ino": here.st_ino, "st_mode": stat.S_IFDIR}, 0),
               ("..", {"st_ino": up.st_ino, "st_mode": stat.S_IFDIR}, 0)]
        with os.scandir(real) as it:
            for e in it:
                out.append((e.name.decode(ENC), {"st_ino": e.inode(), "st_mode": dtype_mode(e)}, 0))
        return out

    @request(False)
    def releasedir(self, path, fh):
        return 0

    # ------------------------------------------------------------ data (read-only)
    @request(True)
    def open(self, path, flags):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC):
            raise FuseOSError(errno.EROFS)
        return os.open(self.real(path), os.O_RDONLY | os.O_NOFOLLOW)

    @request(False)
    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    @request(False)
    def release(self, path, fh):
        os.close(fh)
        return 0

    @request(False)
    def flush(self, path, fh):
        return 0

    @request(False)
    def getxattr(self, path, name, position=0):
        raise FuseOSError(errno.ENODATA)

    @request(False)
    def listxattr(self, path):
        return []


def set_timer_slack(ns):
    """Lower the timer slack (inherited by threads created later) so that
    short sleeps overshoot less than the default 50 us."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(29, ctypes.c_ulong(ns), 0, 0, 0)  # PR_SET_TIMERSLACK
    except (OSError, AttributeError):
        pass


def main():
    ap = argparse.ArgumentParser(
        description="Read-only passthrough FUSE file system with a fixed delay per metadata request.")
    ap.add_argument("source", help="directory to mirror")
    ap.add_argument("mountpoint", help="where to mount it")
    ap.add_argument("--delay-ms", type=float, default=1.0,
                    help="delay added to every metadata request, in ms (default 1)")
    ap.add_argument("--count", metavar="FILE",
                    help="keep request counts (JSON) in FILE")
    ap.add_argument("--timeout", type=float, default=86400.0,
                    help="kernel entry/attr/negative cache timeout in seconds (default 86400)")
    ap.add_argument("--serial-dirops", action="store_true",
                    help="leave the kernel's per-directory lookup lock on (libfuse 2's behaviour)")
    ap.add_argument("--background", action="store_true",
                    help="detach once mounted (default: stay in the foreground)")
    ap.add_argument("--slow", action="append", default=[], metavar="SUBDIR=MS",
                    help="requests for SUBDIR (relative to SOURCE) and below it take MS ms "
                         "instead of --delay-ms (repeatable; the longest match wins): a delay "
                         "that changes partway through a scan")
    ap.add_argument("--debug", action="store_true", help="libfuse debug output")
    a = ap.parse_args()

    if not os.path.isdir(a.source):
        ap.error(f"not a directory: {a.source}")
    if a.delay_ms < 0:
        ap.error("--delay-ms must be >= 0")
    if not a.serial_dirops and not os.environ.get(SHIM_ENV):
        reexec_with_shim()  # returns only if the shim cannot be built
    print(f"latency-fs: {a.delay_ms} ms per metadata request, {a.source} at {a.mountpoint}, "
          f"{'serial' if a.serial_dirops or shim_flag() is None else 'parallel'} lookups within a directory",
          file=sys.stderr)
    set_timer_slack(1000)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    count = os.path.abspath(a.count) if a.count else None
    slow = []
    for spec in a.slow:
        sub, sep, ms = spec.rpartition("=")
        try:
            delay = float(ms)
        except ValueError:
            delay = -1.0
        if not sep or not sub.strip("/") or delay < 0:
            ap.error(f"--slow wants SUBDIR=MS, got {spec!r}")
        slow.append(("/" + sub.strip("/"), delay / 1000.0))
    fs = LatencyFS(a.source, a.delay_ms / 1000.0, count, slow)
    FUSE(fs, a.mountpoint, foreground=not a.background, nothreads=False, debug=a.debug,
         encoding=ENC, ro=True, use_ino=True, default_permissions=True,
         entry_timeout=a.timeout, attr_timeout=a.timeout, negative_timeout=a.timeout,
         fsname="latency-fs", subtype="latency")


if __name__ == "__main__":
    main()
