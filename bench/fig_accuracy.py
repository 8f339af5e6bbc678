# SPDX-License-Identifier: GPL-2.0
"""Accuracy: top-1 on contested decisions of the model trained in fixed and
in float arithmetic, beside every baseline, on each sample trace of
data/samples/ (`schedcast eval --json`, test split)."""
import glob
import json
import os

import benchlib as B

SAMPLES = os.path.join(B.TOP, "data", "samples")


def pct(x):
    if x is None:
        return "-"
    return "%.1f%%" % (100 * x if x <= 1.0 else x)


def samples():
    out = []
    for p in sorted(glob.glob(os.path.join(SAMPLES, "**", "*.h5"), recursive=True)):
        info = B.schedcast_info(p) or {}
        fmt = info.get("format", "")
        if fmt in ("schedcast-trace", "schedcast-windows"):
            out.append((p, fmt))
    return out


def figure(ctx):
    cfg = ctx.cfg
    B.need_command("features", "train", "eval")
    found = samples()
    if not found:
        raise B.NotAvailable("no sample trace in data/samples/")
    work = ctx.workdir("accuracy")
    epochs = cfg["acc_epochs"]
    rows = []
    data = {}
    baseline_names = []
    for path, fmt in found:
        name = os.path.relpath(path, B.TOP)
        B.log("accuracy: %s" % name)
        win = path
        if fmt == "schedcast-trace":
            win = os.path.join(work, os.path.basename(path) + ".windows.h5")
            r = B.run([B.SCHEDCAST, "features", "-o", win, path], timeout=600)
            if r.rc != 0:
                rows.append([name, "features failed: %s" % r.err.strip()[-160:]] + [""] * 3)
                continue
        evals = {}
        for arith in ("fixed", "float"):
            model = os.path.join(work, "model-%s.h5" % arith)
            r = B.run([B.SCHEDCAST, "train", "--arith", arith, "--epochs", str(epochs),
                       "--threads", "2", "--seed", "1", "-o", model, win], timeout=900)
            if r.rc != 0:
                evals[arith] = "train failed: %s" % r.err.strip()[-160:]
                continue
            r = B.run([B.SCHEDCAST, "eval", "--json", "-m", model, win], timeout=600)
            if r.rc != 0:
                evals[arith] = "eval failed: %s" % r.err.strip()[-160:]
                continue
            evals[arith] = json.loads(r.out)
        data[name] = evals
        doc = next((e for e in evals.values() if isinstance(e, dict)), None)
        row = [name, B.fmt(doc.get("decisions")) if doc else "-",
               B.fmt(doc.get("contested")) if doc else "-",
               pct(doc.get("chance_top1_contested")) if doc else "-"]
        for arith in ("fixed", "float"):
            e = evals.get(arith)
            if isinstance(e, dict):
                ci = (e["model"].get("ci95") or {}).get("top1_contested")
                row.append(pct(e["model"].get("top1_contested")) +
                           (" [%.1f-%.1f]" % (100 * ci[0], 100 * ci[1]) if ci else ""))
            else:
                row.append(e or "-")
        bl = {}
        for b in (doc or {}).get("baselines", []):
            bl[b["name"]] = b.get("top1_contested")
            if b["name"] not in baseline_names:
                baseline_names.append(b["name"])
        row.append(bl)
        rows.append(row)
    hdr = ["sample", "decisions", "contested", "chance", "model fixed [95% CI]",
           "model float [95% CI]"] + \
        baseline_names + ["best baseline", "fixed - best"]
    trows = []
    summ = []
    for row in rows:
        bl = row[-1] if isinstance(row[-1], dict) else {}
        base = row[:-1] if isinstance(row[-1], dict) else row
        vals = [bl.get(n) for n in baseline_names]
        best = max((v for v in vals if v is not None), default=None)
        fixed = None
        e = data.get(row[0], {}).get("fixed")
        if isinstance(e, dict):
            fixed = e["model"].get("top1_contested")
        diff = "-" if best is None or fixed is None else "%+.1f pt" % (
            100 * (fixed - best) if best <= 1 else fixed - best)
        trows.append(base + [pct(v) for v in vals] + [pct(best), diff])
        if fixed is not None and best is not None:
            bname = baseline_names[vals.index(best)]
            summ.append("%s: model (fixed) %s top-1 contested, best baseline %s %s (%s)" % (
                os.path.basename(row[0]), pct(fixed), bname, pct(best), diff))
    md = ["Each sample is turned into windows (`schedcast features`, defaults) when it is a "
          "trace, the model trained twice (`schedcast train --arith fixed|float --epochs %d "
          "--threads 2 --seed 1`) and evaluated with `schedcast eval --json -m model.h5 "
          "windows.h5`; every column is top-1 on contested decisions (two or more "
          "candidates) of the test split (the last 15%% of each trace in time), baselines on "
          "the very same decisions; *chance* is the mean of 1/candidates over them." % epochs,
          "", B.md_table(hdr, trows)]
    return {"md": "\n".join(md), "data": data, "summary": summ}
