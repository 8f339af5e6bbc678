# SPDX-License-Identifier: GPL-2.0
"""Scale: features, one training epoch and eval on a light trace and on a
candidate-heavy one (hackbench, 8 groups: tens of tasks queued a decision),
each recorded at bench time at 1x and 10x length.  Events/s, decisions/s,
peak RSS; the 10x/1x ratios of peak RSS are the bounded-memory check."""
import os
import re

import benchlib as B

HEAVY = ["hackbench", "-g", "8", "-l", "2000"]      # 320 tasks on 2 CPUs
LIGHT = ["hackbench", "-p", "-g", "1", "-f", "1", "-l", "2000"]   # one pair


def _loop(argv):
    """argv over and over until killed, in its own session."""
    return B.Background(["/bin/sh", "-c", "while :; do %s >/dev/null || exit 1; done"
                         % " ".join(argv)])


def _record(ctx, kind, seconds):
    key = ("scale", kind, seconds)
    if key in ctx.files:
        return ctx.files[key]
    B.need_root("recording the scale traces")
    if not B.have("hackbench"):
        raise B.NotAvailable("hackbench missing (Debian rt-tests)")
    path = os.path.join(ctx.workdir("inputs"), "scale-%s-%ds.h5" % (kind, seconds))
    B.log("recording %s (%d s of %s)" % (os.path.relpath(path, B.TOP), seconds, kind))
    bg = _loop(HEAVY if kind == "heavy" else LIGHT)
    try:
        B.run([B.SCHEDCAST, "record", "-q", "-d", "%ds" % seconds, "-o", path],
              timeout=seconds + 120).check("schedcast record")
    finally:
        bg.stop()
    res = {"path": path, "events": B.trace_events(path), "seconds": seconds}
    ctx.files[key] = res
    return res


def _decisions(info):
    n = B.json_find(info, "decisions") if info else None
    return n if isinstance(n, int) else None


def figure(ctx):
    B.need_command("record", "features", "train", "eval")
    base = 1 if ctx.quick else 2
    work = ctx.workdir("scale")
    rows, data, summ = [], {}, []
    for kind in ("light", "heavy"):
        model = None
        for mult in (1, 10):
            name = "%s %dx" % (kind, mult)
            t = _record(ctx, kind, base * mult)
            w = os.path.join(work, "w-%s-%d.h5" % (kind, mult))
            m = os.path.join(work, "m-%s-%d.h5" % (kind, mult))
            d = {}
            r = B.run([B.SCHEDCAST, "features", "-o", w, t["path"]], stdout="null",
                      timeout=3600).check("schedcast features")
            d["features"] = {"wall": r.wall, "cpu": r.cpu, "rss": r.maxrss,
                             "evps": (t["events"] or 0) / r.wall if r.wall > 0 else None}
            info = B.schedcast_info(w) or {}
            ndec = _decisions(info)
            ncand = B.json_find(info, "candidates")
            d["decisions"], d["candidates"] = ndec, ncand
            r = B.run([B.SCHEDCAST, "train", "-q", "--epochs", "1", "-o", m, w],
                      timeout=7200).check("schedcast train")
            mt = re.search(r"(\d+) training decisions", r.out)
            ntrain = int(mt.group(1)) if mt else None
            d["train"] = {"wall": r.wall, "cpu": r.cpu, "rss": r.maxrss,
                          "decps": ntrain / r.wall if ntrain and r.wall > 0 else None,
                          "out": r.out.strip()}
            if model is None:
                model = m       # every eval scores the 1x trace's model
            r = B.run([B.SCHEDCAST, "eval", "-m", model, w], stdout="null",
                      timeout=3600).check("schedcast eval")
            d["eval"] = {"wall": r.wall, "cpu": r.cpu, "rss": r.maxrss,
                         "decps": ndec / r.wall if ndec and r.wall > 0 else None}
            data[name] = d
            cpd = ncand / ndec if ncand and ndec else None
            rows.append([name, B.fmt(t["events"]), B.fmt(ndec), B.fmt(cpd),
                         B.fmt(d["features"]["evps"]), B.fmt(d["features"]["rss"] / 1024, "MiB"),
                         B.fmt(d["train"]["decps"]), B.fmt(d["train"]["rss"] / 1024, "MiB"),
                         B.fmt(d["eval"]["decps"]), B.fmt(d["eval"]["rss"] / 1024, "MiB")])
    md = ["Inputs recorded at bench time with `schedcast record -d N` while a workload "
          "loops: light `%s`, candidate-heavy `%s`; 1x = %d s, 10x = %d s."
          % (" ".join(LIGHT), " ".join(HEAVY), base, 10 * base), "",
          "Commands: `schedcast features -o w.h5 trace.h5`, `schedcast train -q --epochs 1 "
          "w.h5` (defaults: fixed point, a linear stage then one epoch; decisions/s = training "
          "decisions / wall time of the whole command), `schedcast eval -m MODEL w.h5` (the 1x "
          "trace's model; decisions/s = all decisions of the file / wall).  One run each.", "",
          B.md_table(["trace", "events", "decisions", "cand/dec", "features ev/s",
                      "features RSS", "train dec/s", "train RSS", "eval dec/s", "eval RSS"],
                     rows)]
    for kind in ("light", "heavy"):
        a, b = data.get("%s 1x" % kind), data.get("%s 10x" % kind)
        if not a or not b:
            continue
        line = "%s 10x / 1x peak RSS: features %s, train %s, eval %s." % (
            kind, B.fmt_ratio(B.ratio(b["features"]["rss"], a["features"]["rss"])),
            B.fmt_ratio(B.ratio(b["train"]["rss"], a["train"]["rss"])),
            B.fmt_ratio(B.ratio(b["eval"]["rss"], a["eval"]["rss"])))
        md += ["", line]
        summ.append("scale: " + line)
    if "light 1x" in data and "heavy 1x" in data:
        r = B.ratio(data["heavy 1x"]["features"]["evps"], data["light 1x"]["features"]["evps"])
        md += ["", "features events/s, heavy / light (1x): %s." % B.fmt_ratio(r)]
    return {"md": "\n".join(md), "data": data, "failed": {}, "summary": summ}
