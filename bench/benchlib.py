# SPDX-License-Identifier: GPL-2.0
"""benchlib - measuring commands for the schedcast benchmark suite.

Everything a figure needs: run a command and take its wall time, CPU time
(user + sys of the child and the children it waited for, from wait4(2)) and
peak RSS; repeat ours and the anchors alternately; medians and spreads; the
tracefs instance and perf.data helpers the recording and import figures use.

Standard library only: it runs under Debian's /usr/bin/python3.
"""
import json
import os
import platform
import re
import selectors
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEDCAST = os.environ.get("SCHEDCAST", os.path.join(TOP, "schedcast"))
TRACEFS = "/sys/kernel/tracing"

# The seven scheduler events schedcast records (data/trace.h).
SCHED_EVENTS = ["sched_switch", "sched_wakeup", "sched_wakeup_new", "sched_waking",
                "sched_migrate_task", "sched_process_fork", "sched_process_exit"]
PERF_EVENTS = ",".join("sched:" + e for e in SCHED_EVENTS)


class NotAvailable(Exception):
    """A figure (or one row of it) cannot be measured here; the message says why."""


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---- running and measuring ---------------------------------------------------

class Run:
    """One finished command: wall (s), cpu = user + sys (s), maxrss (KiB)."""

    def __init__(self, argv, rc, wall, user, sys_, maxrss, out, err):
        self.argv, self.rc, self.wall = argv, rc, wall
        self.user, self.sys, self.cpu, self.maxrss = user, sys_, user + sys_, maxrss
        self.out, self.err = out, err

    def check(self, what=None):
        if self.rc != 0:
            tail = (self.err or "").strip().splitlines()[-3:]
            raise RuntimeError("%s exited with %d: %s" % (what or cmdline(self.argv), self.rc,
                                                         " / ".join(tail)))
        return self


def cmdline(argv):
    return " ".join(shlex.quote(a) for a in argv)


GNU_TIME = "/usr/bin/time"


def run(argv, stdout=None, stdin=None, env=None, cwd=None, timeout=None, capture=True):
    """Run argv to completion and measure it.

    stdout: None to capture, or a path (written), or "null".  stderr is always
    captured.  CPU time comes from wait4(2) and covers the child and every
    descendant it reaped, so a shell pipeline counts whole (the same rule for
    ours and anchors).  Peak RSS comes from GNU time's %M: a child forked from
    this (large) Python process would report Python's own high-water mark.
    """
    if stdout == "null":
        out_f = subprocess.DEVNULL
    elif stdout is not None:
        out_f = open(stdout, "wb")
    else:
        out_f = subprocess.PIPE if capture else subprocess.DEVNULL
    in_f = open(stdin, "rb") if stdin else subprocess.DEVNULL
    rss_file = None
    full = list(argv)
    if os.access(GNU_TIME, os.X_OK):
        fd, rss_file = tempfile.mkstemp(prefix="bench-rss.")
        os.close(fd)
        full = [GNU_TIME, "-f", "%M", "-o", rss_file] + full
    t0 = time.monotonic()
    p = subprocess.Popen(full, stdout=out_f, stderr=subprocess.PIPE, stdin=in_f, env=env,
                         cwd=cwd, start_new_session=True)
    # Read the pipes ourselves and reap with wait4(2): Popen.wait() would
    # reap the child and lose its rusage.
    sel = selectors.DefaultSelector()
    bufs = {p.stderr: []}
    sel.register(p.stderr, selectors.EVENT_READ)
    if p.stdout:
        bufs[p.stdout] = []
        sel.register(p.stdout, selectors.EVENT_READ)
    deadline = t0 + timeout if timeout else None
    while sel.get_map():
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if left == 0.0:
            os.killpg(p.pid, signal.SIGKILL)
            deadline = None
            continue
        for key, _ in sel.select(left):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                sel.unregister(key.fileobj)
            else:
                bufs[key.fileobj].append(chunk)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    for fobj in (p.stdout, p.stderr):
        if fobj:
            fobj.close()
    if out_f not in (subprocess.PIPE, subprocess.DEVNULL):
        out_f.close()
    if in_f is not subprocess.DEVNULL:
        in_f.close()
    out = b"".join(bufs[p.stdout]) if p.stdout else b""
    err = b"".join(bufs[p.stderr])
    maxrss = None
    if rss_file:
        try:
            with open(rss_file) as f:
                lines = f.read().split()
            maxrss = int(lines[-1]) if lines else None
        except (OSError, ValueError):
            maxrss = None
        os.unlink(rss_file)
    return Run(argv, p.returncode, wall, ru.ru_utime, ru.ru_stime, maxrss,
               out.decode(errors="replace"), err.decode(errors="replace"))


def sh(cmd, **kw):
    """run() of a shell command line."""
    return run(["/bin/sh", "-c", cmd], **kw)


class Background:
    """A workload running in its own session until stop() kills the whole group."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  stdin=subprocess.DEVNULL, env=env, start_new_session=True)

    def stop(self):
        try:
            os.killpg(self.p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()
        # children of a killed hackbench may outlive it for a moment
        for _ in range(50):
            try:
                os.killpg(self.p.pid, 0)
            except ProcessLookupError:
                break
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.05)


# ---- statistics ------------------------------------------------------------------

def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if n == 0:
        return None
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def quantile(xs, q):
    """Linear-interpolated quantile, as numpy's default."""
    xs = sorted(xs)
    if not xs:
        return None
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summary(xs):
    """{median, min, max, n, values} of the non-None values."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": median(xs), "min": min(xs), "max": max(xs), "n": len(xs), "values": xs}


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def alternate(variants, reps, fn):
    """Measure each variant reps times, alternating them and reversing the order
    every other round (ABBA), so slow drift of the machine hits all alike.
    fn(variant, rep) returns a dict of metrics (or raises NotAvailable, which
    drops that variant).  Returns {variant_name: [metrics, ...]} and a dict
    of the variants that failed with the reason."""
    results = {v["name"]: [] for v in variants}
    failed = {}
    for r in range(reps):
        order = variants if r % 2 == 0 else list(reversed(variants))
        for v in order:
            if v["name"] in failed:
                continue
            try:
                results[v["name"]].append(fn(v, r))
            except NotAvailable as e:
                failed[v["name"]] = str(e)
            except Exception as e:  # one bad variant must not sink the figure
                failed[v["name"]] = "failed: %s" % e
    return results, failed


# ---- formatting -----------------------------------------------------------------

def fmt(x, unit=""):
    """Compact number: 3 significant digits, SI suffixes for big values."""
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    ax = abs(x)
    for lim, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if ax >= lim * 0.9995 and unit not in ("s", "ms", "ns", "us", "KiB", "MiB", "%"):
            return "%.3g%s%s" % (x / lim, suf, unit)
    if ax == 0:
        return "0" + unit
    if ax >= 100:
        return "%.0f%s" % (x, unit)
    return "%.3g%s" % (x, unit)


def fmt_stat(s, unit="", scale=1.0):
    """'median (min-max)'."""
    if not s:
        return "-"
    if s["n"] == 1:
        return fmt(s["median"] * scale, unit)
    return "%s (%s-%s)" % (fmt(s["median"] * scale, unit), fmt(s["min"] * scale),
                           fmt(s["max"] * scale))


def fmt_ratio(r):
    return "-" if r is None else "%.2fx" % r


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


# ---- the machine -------------------------------------------------------------------

def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "memory_mib": mem, "os": os_release()}


def os_release():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "unknown"


def tool_version(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (r.stdout + r.stderr).strip().splitlines()
    return text[0].strip() if text else None


def dpkg_version(pkg):
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                           text=True)
    except OSError:
        return None
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


# ---- schedcast ----------------------------------------------------------------------

_commands = None


def schedcast_commands():
    """The commands `schedcast help` lists (read once)."""
    global _commands
    if _commands is None:
        _commands = set()
        try:
            r = subprocess.run([SCHEDCAST, "help"], capture_output=True, text=True)
            for line in r.stdout.splitlines():
                m = re.match(r"^   (\S+)\s", line)
                if m:
                    _commands.add(m.group(1))
        except OSError:
            pass
    return _commands


def need_command(*names):
    for n in names:
        if n not in schedcast_commands():
            raise NotAvailable("schedcast %s missing" % n)


def schedcast_info(path):
    """`schedcast info --json PATH` as a dict (None if it cannot say)."""
    r = run([SCHEDCAST, "info", "--json", path])
    if r.rc != 0:
        return None
    try:
        return json.loads(r.out)
    except ValueError:
        return None


def json_find(doc, *keys):
    """First value under any of keys, searched depth-first through dicts."""
    if isinstance(doc, dict):
        for k in keys:
            if k in doc:
                return doc[k]
        for v in doc.values():
            x = json_find(v, *keys)
            if x is not None:
                return x
    return None


def trace_events(path):
    """Number of events in a trace.h5 (from info --json), or None."""
    info = schedcast_info(path)
    n = json_find(info, "nr_events", "events")
    return n if isinstance(n, int) else None


# ---- tracefs instances ---------------------------------------------------------------

class Instance:
    """A private tracefs instance with the seven sched events, for the
    tracefs + trace-cmd extract anchor and for making input files."""

    def __init__(self, name, buffer_kb):
        if not os.path.isdir(os.path.join(TRACEFS, "instances")):
            raise NotAvailable("tracefs not mounted at %s" % TRACEFS)
        self.name = name
        self.path = os.path.join(TRACEFS, "instances", name)
        if os.path.isdir(self.path):
            os.rmdir(self.path)
        os.mkdir(self.path)
        self._w("tracing_on", "0")
        self._w("buffer_size_kb", str(buffer_kb))
        self._w("trace_clock", "mono")
        for e in SCHED_EVENTS:
            self._w("events/sched/%s/enable" % e, "1")
        self._w("trace", "")

    def _w(self, rel, val):
        with open(os.path.join(self.path, rel), "w") as f:
            f.write(val)

    def on(self):
        self._w("tracing_on", "1")

    def off(self):
        self._w("tracing_on", "0")

    def stats(self):
        """Sums over CPUs of the per_cpu stats: entries, overrun, dropped."""
        tot = {"entries": 0, "overrun": 0, "dropped": 0}
        base = os.path.join(self.path, "per_cpu")
        for cpu in sorted(os.listdir(base)):
            with open(os.path.join(base, cpu, "stats")) as f:
                for line in f:
                    k, _, v = line.partition(":")
                    k = k.strip()
                    if k == "entries":
                        tot["entries"] += int(v)
                    elif k == "overrun":
                        tot["overrun"] += int(v)
                    elif k == "dropped events":
                        tot["dropped"] += int(v)
        return tot

    def remove(self):
        if os.path.isdir(self.path):
            try:
                self._w("tracing_on", "0")
                os.rmdir(self.path)
            except OSError:
                pass


# ---- perf.data ---------------------------------------------------------------------------

PERF_RECORD_LOST = 2
PERF_RECORD_SAMPLE = 9
PERF_RECORD_LOST_SAMPLES = 13


def perf_data_counts(path):
    """Walk a perf.data file's data section: (samples, lost) where lost sums
    the counts of PERF_RECORD_LOST and PERF_RECORD_LOST_SAMPLES records.
    perf report --stats counts the records, not the events they lost."""
    samples = lost = 0
    with open(path, "rb") as f:
        hdr = f.read(104)
        if len(hdr) < 104 or hdr[:8] != b"PERFILE2":
            raise RuntimeError("%s: not a perf.data file" % path)
        data_off, data_size = struct.unpack_from("<QQ", hdr, 40)
        f.seek(data_off)
        left = data_size
        buf = b""
        unpack = struct.unpack_from
        while left > 0 or len(buf) >= 8:
            if left > 0:
                chunk = f.read(min(left, 4 << 20))
                if not chunk:
                    break
                left -= len(chunk)
                buf += chunk
            off = 0
            n = len(buf)
            while off + 8 <= n:
                typ, _misc, size = unpack("<IHH", buf, off)
                if size < 8:
                    raise RuntimeError("%s: corrupt record at data offset %d" % (path, off))
                if off + size > n:
                    break
                if typ == PERF_RECORD_SAMPLE:
                    samples += 1
                elif typ == PERF_RECORD_LOST:
                    lost += unpack("<Q", buf, off + 16)[0]
                elif typ == PERF_RECORD_LOST_SAMPLES:
                    lost += unpack("<Q", buf, off + 8)[0]
                off += size
            buf = buf[off:]
            if left == 0 and buf and off == 0:
                break
    return samples, lost


def need_root(what):
    if os.geteuid() != 0:
        raise NotAvailable("%s needs root (tracefs instances, system-wide perf events)" % what)


def have(tool):
    return shutil.which(tool) is not None


def fmt_rss(ms):
    """Largest peak RSS of several runs' metrics, in MiB ("-" without GNU time)."""
    xs = [m.get("rss") for m in ms if m.get("rss")]
    return fmt(max(xs) / 1024, "MiB") if xs else "-"
