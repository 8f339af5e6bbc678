# SPDX-License-Identifier: GPL-2.0
"""The input files the figures share, made once per run in bench/work/inputs:
a trace.dat (tracefs instance + trace-cmd extract) and a perf.data (perf
record) of a hackbench workload, and trace.h5 files made from them.

Each maker returns {"path", "events", "lost", "command"} and is cached in
ctx.files, so the import, analysis and features figures read the very same
files.
"""
import os
import signal
import subprocess
import time

import benchlib as B

# Bytes of ring buffer per event (sched_switch is the largest at ~64 B;
# measured ~50 B/event on average here), with room to spare.
BYTES_PER_EVENT = 80
TRACE_DAT_LEVEL = 3     # hackbench level for trace.dat inputs
PERF_DATA_LEVEL = 2     # a lower rate for perf record, which loses events sooner


def _workload(level):
    return B.Background([os.path.join(B.TOP, "bench", "workloads", "hackbench"), str(level)])


def trace_dat(ctx, events, tag="import"):
    """A trace.dat holding at least `events` sched events, never overrun."""
    key = ("trace.dat", events)
    if key in ctx.files:
        return ctx.files[key]
    B.need_root("making a trace.dat")
    if not B.have("trace-cmd"):
        raise B.NotAvailable("trace-cmd missing (Debian trace-cmd)")
    if not B.have("hackbench"):
        raise B.NotAvailable("hackbench missing (Debian rt-tests)")
    d = ctx.workdir("inputs")
    path = os.path.join(d, "%s-%d.dat" % (tag, events))
    ncpu = os.cpu_count() or 1
    # every CPU's share must fit its own buffer, and the load is not even
    buf_kb = max(4096, int(events * BYTES_PER_EVENT * 2 / ncpu / 1024))
    name = "schedcast-bench-in-%d" % os.getpid()
    B.log("making %s (%d events)" % (os.path.relpath(path, B.TOP), events))
    inst = B.Instance(name, buf_kb)
    bg = _workload(TRACE_DAT_LEVEL)
    try:
        time.sleep(0.3)
        inst.on()
        t0 = time.monotonic()
        while inst.stats()["entries"] < events and time.monotonic() - t0 < 120:
            time.sleep(0.05)
        inst.off()
        bg.stop()
        st = inst.stats()
        if os.path.exists(path):
            os.unlink(path)
        B.run(["trace-cmd", "extract", "-B", name, "-o", path], timeout=600).check()
    finally:
        bg.stop()
        inst.remove()
    res = {"path": path, "events": st["entries"], "lost": st["overrun"] + st["dropped"],
           "command": "tracefs instance (buffer_size_kb=%d, the 7 sched events, trace_clock "
                      "mono) while `%s` runs, then `trace-cmd extract -B NAME`"
                      % (buf_kb, _describe(TRACE_DAT_LEVEL))}
    ctx.files[key] = res
    return res


def perf_data(ctx, events):
    """A perf.data of the 7 sched events holding about `events` samples."""
    key = ("perf.data", events)
    if key in ctx.files:
        return ctx.files[key]
    B.need_root("making a perf.data")
    if not B.have("perf"):
        raise B.NotAvailable("perf missing (Debian linux-perf)")
    if not B.have("hackbench"):
        raise B.NotAvailable("hackbench missing (Debian rt-tests)")
    d = ctx.workdir("inputs")
    path = os.path.join(d, "perf-%d.data" % events)
    B.log("making %s (%d events)" % (os.path.relpath(path, B.TOP), events))
    argv = ["perf", "record", "-q", "-a", "-m", "16M", "-e", B.PERF_EVENTS, "-o", path]
    bg = _workload(PERF_DATA_LEVEL)
    try:
        time.sleep(0.3)
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
        # perf.data grows by ~100 B per sample; stop a little past the target
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120 and p.poll() is None:
            try:
                if os.path.getsize(path) >= events * 110:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
    finally:
        bg.stop()
    if p.returncode not in (0, -signal.SIGINT, 130):
        raise RuntimeError("perf record failed: %s" % err.decode(errors="replace").strip())
    n, lost = B.perf_data_counts(path)
    res = {"path": path, "events": n, "lost": lost,
           "command": "`perf record -a -m 16M -e %s` while `%s` runs, stopped by SIGINT"
                      % (B.PERF_EVENTS, _describe(PERF_DATA_LEVEL))}
    ctx.files[key] = res
    return res


def imported(ctx, src, name):
    """schedcast import of an input file to bench/work/inputs/NAME.h5 (cached)."""
    key = ("h5", src["path"])
    if key in ctx.files:
        return ctx.files[key]
    B.need_command("import")
    out = os.path.join(ctx.workdir("inputs"), name + ".h5")
    B.run([B.SCHEDCAST, "import", "-o", out, src["path"]], timeout=600).check()
    res = {"path": out, "events": B.trace_events(out), "lost": src["lost"],
           "command": "`schedcast import -o %s.h5 %s` of %s" % (
               name, os.path.basename(src["path"]), src["command"])}
    ctx.files[key] = res
    return res


def _describe(level):
    r = B.run([os.path.join(B.TOP, "bench", "workloads", "hackbench"), str(level), "-n"])
    return r.out.strip()
