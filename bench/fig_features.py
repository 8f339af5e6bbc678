# SPDX-License-Identifier: GPL-2.0
"""Features: events/s from trace.h5 to windows.h5 and peak memory, on a
trace and on one ten times longer of the same workload: both must stay flat."""
import os

import benchlib as B
import inputs


def traces(ctx):
    """The 1x and 10x trace.h5."""
    n = ctx.cfg["feat_events"]
    out = []
    for mult in (1, 10):
        dat = inputs.trace_dat(ctx, n * mult, tag="features")
        out.append(inputs.imported(ctx, dat, "features-%dx" % mult))
    return out


def windows(ctx):
    """windows.h5 for training and inference (cached): from its own, shorter
    trace of the same workload, so that an epoch takes seconds."""
    key = ("windows", "train")
    if key in ctx.files:
        return ctx.files[key]
    B.need_command("import", "features")
    dat = inputs.trace_dat(ctx, ctx.cfg["train_events"], tag="train")
    t = inputs.imported(ctx, dat, "train")
    out = os.path.join(ctx.workdir("inputs"), "windows-train.h5")
    # version 2: PyTorch's side (train_torch.py) reads the windows with h5py, and a
    # version 3 file holds the events the readers replay, not the windows
    B.run([B.SCHEDCAST, "features", "--windows-version", "2", "-o", out, t["path"]],
          timeout=600).check()
    info = B.schedcast_info(out) or {}
    res = {"path": out, "info": info,
           "command": "`schedcast features --windows-version 2 -o windows.h5 trace.h5` of a "
                      "trace of %s events (%s)" % (t["events"], t["command"])}
    ctx.files[key] = res
    return res


def figure(ctx):
    cfg = ctx.cfg
    B.need_command("import", "features")
    t1, t10 = traces(ctx)
    out = os.path.join(ctx.workdir("features"), "w.h5")
    variants = []
    for name, t in (("1x", t1), ("10x", t10)):
        variants.append({"name": name, "trace": t,
                         "argv": [B.SCHEDCAST, "features", "-o", out, t["path"]]})

    def one(v, rep):
        r = B.run(v["argv"], stdout="null", timeout=900)
        r.check("schedcast features")
        os.unlink(out) if os.path.exists(out) else None
        ev = v["trace"]["events"] or 0
        return {"wall": r.wall, "cpu": r.cpu, "rss": r.maxrss,
                "evps": ev / r.wall if r.wall > 0 else None}
    res, failed = B.alternate(variants, cfg["reps"], one)
    rows = []
    med = {}
    for v in variants:
        ms = res.get(v["name"], [])
        if not ms:
            rows.append([v["name"], failed.get(v["name"], "-"), "", "", "", ""])
            continue
        evps = B.summary([m["evps"] for m in ms])
        rss = B.summary([m["rss"] / 1024 for m in ms if m["rss"]])
        med[v["name"]] = (evps["median"], rss["median"] if rss else None)
        rows.append([v["name"], B.fmt(v["trace"]["events"]), B.fmt_stat(evps),
                     B.fmt_stat(B.summary([m["wall"] for m in ms]), "s"),
                     B.fmt_stat(rss, "MiB"),
                     B.fmt_stat(B.summary([m["cpu"] for m in ms]), "s")])
    md = ["Inputs: trace.h5 files imported from trace.dat files of the same hackbench "
          "workload, one about ten times longer than the other (%s)." % t1["command"], "",
          "Command: `schedcast features -o windows.h5 trace.h5` (candidates mode, defaults); "
          "%d alternated repetitions." % cfg["reps"], "",
          B.md_table(["trace", "events", "events/s", "wall", "peak RSS", "CPU"], rows)]
    if "1x" in med and "10x" in med:
        md += ["", "10x / 1x: events/s %s, peak RSS %s (flat = 1.00x)." % (
            B.fmt_ratio(B.ratio(med["10x"][0], med["1x"][0])),
            B.fmt_ratio(B.ratio(med["10x"][1], med["1x"][1])))]
    summ = []
    if "1x" in med and "10x" in med:
        summ.append("features: %s events/s on %s events, %s on %s (x%s); peak RSS %s -> %s "
                    "(x%s)" % (B.fmt(med["1x"][0]), B.fmt(t1["events"]), B.fmt(med["10x"][0]),
                               B.fmt(t10["events"]),
                               "%.2f" % (B.ratio(med["10x"][0], med["1x"][0]) or 0),
                               B.fmt(med["1x"][1], "MiB"), B.fmt(med["10x"][1], "MiB"),
                               "%.2f" % (B.ratio(med["10x"][1], med["1x"][1]) or 0)))
    return {"md": "\n".join(md), "data": res, "failed": failed, "summary": summ,
            "headline": {"rss_ratio_10x": B.ratio(med.get("10x", (0, 0))[1],
                                                  med.get("1x", (0, 1))[1])}}
