# SPDX-License-Identifier: GPL-2.0
"""Training (decisions/s against PyTorch on the same network, data and
threads) and inference (ns per decision, median and p99) of the model."""
import json
import os
import re

import benchlib as B
import fig_features

TORCH_SCRIPT = os.path.join(B.TOP, "bench", "train_torch.py")
PYTHON = "/usr/bin/python3"  # Debian's python3-torch lives only there
TRAIN_RE = re.compile(r"(\d+) training decisions, ([0-9.]+) decisions/s")
VAL_RE = re.compile(r"validation top-1 ([0-9.]+)%")


def shown(argv, subst):
    text = B.cmdline(argv)
    for k, v in subst.items():
        text = text.replace(k, v)
    return text


def training(ctx):
    cfg = ctx.cfg
    B.need_command("import", "features", "train")
    win = fig_features.windows(ctx)
    work = ctx.workdir("training")
    H, E = cfg["train_hidden"], cfg["train_epochs"]
    variants = []
    for arith in ("fixed", "float"):
        out = os.path.join(work, "model-%s.h5" % arith)
        variants.append({"name": "schedcast train --arith %s" % arith, "ours": True,
                         "out": out, "arith": arith,
                         "argv": [B.SCHEDCAST, "train", "-q", "--arith", arith, "--epochs", str(E),
                                  "--threads", "2", "--hidden", str(H), "--seed", "1",
                                  "-o", out, win["path"]]})
    failed = {}
    if not os.path.exists(TORCH_SCRIPT):
        failed["PyTorch"] = "not available: bench/train_torch.py missing"
    elif B.dpkg_version("python3-torch") is None:
        failed["PyTorch"] = "not available: python3-torch not installed " \
                            "(scripts/install-deps --bench)"
    else:
        variants.append({"name": "PyTorch", "ours": False,
                         "argv": [PYTHON, TORCH_SCRIPT, "--epochs", str(E), "--threads", "2",
                                  "--hidden", str(H), "--seed", "1", "--json", win["path"]]})

    def one(v, rep):
        r = B.run(v["argv"], timeout=900)
        r.check(v["name"])
        m = {"wall": r.wall, "cpu": r.cpu, "rss": r.maxrss, "n": None, "loop_dps": None,
             "val": None}
        if v["ours"]:
            g = TRAIN_RE.search(r.out + r.err)
            if g:
                m["n"], m["loop_dps"] = int(g.group(1)) * E, float(g.group(2))
            g = VAL_RE.search(r.out + r.err)
            if g:
                m["val"] = float(g.group(1)) / 100
            ctx.files[("model", v["arith"])] = v["out"]
        else:
            doc = json.loads(r.out.strip().splitlines()[-1])
            m["n"] = doc.get("decisions")
            m["loop_dps"] = doc.get("decisions_per_s")
            m["val"] = max(doc.get("val_top1") or [None])
        m["dps"] = m["n"] / r.wall if m["n"] and r.wall > 0 else None
        return m
    res, fail = B.alternate(variants, cfg["reps"], one)
    failed.update(fail)
    rows = []
    torch = res.get("PyTorch", [])
    t_loop = B.median([m["loop_dps"] for m in torch if m["loop_dps"]]) if torch else None
    t_all = B.median([m["dps"] for m in torch if m["dps"]]) if torch else None
    subst = {B.SCHEDCAST: "schedcast", win["path"]: "windows.h5",
             TORCH_SCRIPT: "bench/train_torch.py"}
    for v in variants:
        ms = res.get(v["name"], [])
        if not ms:
            continue
        if v.get("out"):
            subst[v["out"]] = "model.h5"
        loop = B.summary([m["loop_dps"] for m in ms])
        whole = B.summary([m["dps"] for m in ms])
        rows.append(["`%s`" % shown(v["argv"], subst), B.fmt(ms[0]["n"]), B.fmt_stat(loop),
                     B.fmt_ratio(B.ratio(loop and loop["median"], t_loop)) if v["ours"] else "",
                     B.fmt_stat(whole),
                     B.fmt_ratio(B.ratio(whole and whole["median"], t_all)) if v["ours"] else "",
                     B.fmt_stat(B.summary([m["cpu"] for m in ms]), "s"),
                     B.fmt_rss(ms),
                     "%.1f%%" % (100 * B.median([m["val"] for m in ms]))
                     if all(m["val"] is not None for m in ms) else "-"])
    md = ["Input: %s.  %d epoch(s), hidden %d, 2 threads, seed 1; %d alternated repetitions.  "
          "*loop* is the rate each program reports for its training epochs; *whole* divides "
          "the same decisions by the wall time of the whole command (start-up, loading and "
          "validation included).  Ratios are ours / PyTorch (above 1: ours is faster).  "
          "*best val top-1* is the validation top-1 each program reports (a check that the "
          "networks learn alike, not an accuracy figure)." % (
              win["command"], E, H, cfg["reps"]), "",
          B.md_table(["command", "decisions trained", "loop decisions/s", "ratio",
                      "whole decisions/s", "ratio", "CPU", "peak RSS", "best val top-1"],
                     rows)]
    lm = {v["name"]: B.median([m["loop_dps"] for m in res.get(v["name"], []) if m["loop_dps"]])
          for v in variants}
    summ = ["training (hidden %d, 2 threads): fixed %s decisions/s, float %s, PyTorch %s "
            "(fixed/PyTorch %s)" % (H, B.fmt(lm.get("schedcast train --arith fixed")),
                                    B.fmt(lm.get("schedcast train --arith float")),
                                    B.fmt(lm.get("PyTorch")) if "PyTorch" in lm
                                    else "not available",
                                    B.fmt_ratio(B.ratio(lm.get("schedcast train --arith fixed"),
                                                        lm.get("PyTorch"))))]
    return {"md": "\n".join(md), "data": res, "failed": failed, "summary": summ}


def models(ctx):
    """model.h5 fixed and float for inference: the training figure's, or new ones."""
    out = {}
    win = fig_features.windows(ctx)
    for arith in ("fixed", "float"):
        path = ctx.files.get(("model", arith))
        if not path or not os.path.exists(path):
            path = os.path.join(ctx.workdir("inputs"), "model-%s.h5" % arith)
            B.run([B.SCHEDCAST, "train", "-q", "--arith", arith, "--epochs", "1",
                   "--threads", "2", "--hidden", str(ctx.cfg["train_hidden"]), "--seed", "1",
                   "-o", path, win["path"]], timeout=900).check()
            ctx.files[("model", arith)] = path
        out[arith] = path
    return out


def bench_predict(ctx):
    """bench/bench-predict.c, built at the start of the run (it links
    libschedcast.a's model API)."""
    if not getattr(B, "BENCH_PREDICT", None):
        raise B.NotAvailable(getattr(B, "BENCH_PREDICT_WHY", "bench-predict not built"))
    return B.BENCH_PREDICT


def inference(ctx):
    cfg = ctx.cfg
    B.need_command("import", "features", "train")
    prog = bench_predict(ctx)
    win = fig_features.windows(ctx)
    mods = models(ctx)
    variants = [{"name": arith, "argv": [prog, mods[arith], win["path"],
                                          str(cfg["infer_calls"])]}
                for arith in ("fixed", "float")]

    def one(v, rep):
        r = B.run(v["argv"], timeout=600)
        r.check("bench-predict")
        return json.loads(r.out)
    res, failed = B.alternate(variants, cfg["reps"], one)
    rows = []
    med = {}
    for v in variants:
        ms = res.get(v["name"], [])
        if not ms:
            continue
        for key, label in (("all", "decisions of the windows file"),
                           ("cand4", "exactly 4 candidates"),
                           ("all_cached", "decisions in time order, encoder cache "
                                          "(lstm_predict with a cache: what eval and live run)")):
            if key not in ms[0]:
                continue
            m50 = B.summary([m[key]["median_ns"] for m in ms])
            m99 = B.summary([m[key]["p99_ns"] for m in ms])
            med[(v["name"], key)] = m50["median"]
            med[(v["name"], key, 99)] = m99["median"]
            rows.append([v["name"], label, "%.2f" % ms[0][key]["mean_candidates"],
                         B.fmt_stat(m50, "us", 1e-3), B.fmt_stat(m99, "us", 1e-3)])
    for key in ("all", "cand4", "all_cached"):
        r_ = B.ratio(med.get(("fixed", key)), med.get(("float", key)))
        if r_ is not None:
            rows.append(["fixed / float", key, "", B.fmt_ratio(r_), ""])
    first = next((ms[0] for ms in res.values() if ms), {})
    md = ["Command: `bench-predict model.h5 windows.h5 %d` (bench/bench-predict.c: "
          "lstm_predict() timed call by call with CLOCK_MONOTONIC, whose own cost is about "
          "%s ns and is not subtracted), models trained by `schedcast train --epochs 1 "
          "--hidden %d --arith fixed|float` on %s; %d alternated repetitions.  There is no "
          "anchor to run here: the issue's goal is at most 2 us at hidden 32, K 8, 4 "
          "candidates." % (cfg["infer_calls"], first.get("clock_ns", "?"), cfg["train_hidden"],
                           win["command"], cfg["reps"]), "",
          B.md_table(["arith", "decisions", "mean candidates", "median per decision",
                      "p99 per decision"], rows)]
    key = "cand4" if ("fixed", "cand4") in med else "all"
    summ = ["inference (hidden %d, %s): fixed %s median / %s p99 per decision; float %s / %s"
            % (cfg["train_hidden"], "4 candidates" if key == "cand4" else "all decisions",
               B.fmt(med.get(("fixed", key), 0) / 1e3, "us"),
               B.fmt(med.get(("fixed", key, 99), 0) / 1e3, "us"),
               B.fmt(med.get(("float", key), 0) / 1e3, "us"),
               B.fmt(med.get(("float", key, 99), 0) / 1e3, "us"))]
    if ("fixed", "all_cached") in med:
        summ[-1] += "; through the encoder cache, fixed %s median / %s p99 (%s candidates on average)" % (
            B.fmt(med[("fixed", "all_cached")] / 1e3, "us"),
            B.fmt(med[("fixed", "all_cached", 99)] / 1e3, "us"),
            "%.2f" % res["fixed"][0]["all_cached"]["mean_candidates"])
    return {"md": "\n".join(md), "data": res, "failed": failed, "summary": summ}


def learning(ctx):
    """Validation top-1 after each epoch, ours (fixed and float) beside
    PyTorch's copy of the network, on the training figure's windows: whether
    our trainer learns as fast per epoch, not only per second."""
    cfg = ctx.cfg
    B.need_command("import", "features", "train", "info")
    if not os.path.exists(TORCH_SCRIPT) or B.dpkg_version("python3-torch") is None:
        raise B.NotAvailable("python3-torch not installed (scripts/install-deps --bench)")
    win = fig_features.windows(ctx)
    work = ctx.workdir("learning")
    H, E = cfg["train_hidden"], cfg["learn_epochs"]
    curves, cmds = {}, {}
    subst = {B.SCHEDCAST: "schedcast", win["path"]: "windows.h5",
             TORCH_SCRIPT: "bench/train_torch.py"}
    for arith in ("fixed", "float"):
        out = os.path.join(work, "model-%s.h5" % arith)
        subst[out] = "model.h5"
        # no linear stage and no early stop: the network PyTorch trains, every epoch
        argv = [B.SCHEDCAST, "train", "-q", "--arith", arith, "--epochs", str(E),
                "--linear-epochs", "0", "--patience", str(E + 1), "--threads", "2",
                "--hidden", str(H), "--seed", "1", "-o", out, win["path"]]
        B.run(argv, timeout=3600).check("schedcast train --arith %s" % arith)
        curves[arith] = (B.schedcast_info(out) or {}).get("val_top1") or []
        cmds[arith] = shown(argv, subst)
    argv = [PYTHON, TORCH_SCRIPT, "--epochs", str(E), "--threads", "2", "--hidden", str(H),
            "--seed", "1", "--json", win["path"]]
    r = B.run(argv, timeout=3600)
    r.check("PyTorch")
    curves["torch"] = json.loads(r.out.strip().splitlines()[-1]).get("val_top1") or []
    cmds["torch"] = shown(argv, subst)
    rows = []
    for e in range(E):
        v = [curves[k][e] if e < len(curves[k]) else None for k in ("fixed", "float", "torch")]
        pct = ["-" if x is None else "%.1f%%" % (100 * x) for x in v]
        d = ["-" if x is None or v[2] is None else "%+.1f pt" % (100 * (x - v[2]))
             for x in v[:2]]
        fl = "-" if None in v[:2] else "%+.1f pt" % (100 * (v[0] - v[1]))
        rows.append([str(e + 1)] + pct + d + [fl])
    md = ["Input: %s.  Hidden %d, batch 32, lr 0.01, 2 threads, seed 1, one run each (ours "
          "is deterministic).  Ours: `%s` and the same with `--arith float`; PyTorch: `%s` "
          "(the same network, linear path included, float32, torch.nn.LSTM, Adam with our "
          "constants and learning-rate schedule).  Validation top-1 after each epoch on the same contested decisions."
          % (win["command"], H, cmds["fixed"], cmds["torch"]), "",
          B.md_table(["epoch", "fixed", "float", "PyTorch", "fixed - PyTorch",
                      "float - PyTorch", "fixed - float"], rows)]
    last = [curves[k][-1] if curves[k] else None for k in ("fixed", "float", "torch")]
    summ = ["learning (val top-1 after %d epochs): fixed %s, float %s, PyTorch %s" % (
        E, *["-" if x is None else "%.1f%%" % (100 * x) for x in last])]
    return {"md": "\n".join(md), "data": curves, "summary": summ}
