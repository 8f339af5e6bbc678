# SPDX-License-Identifier: GPL-2.0
"""General model, leave-one-out: for each sample trace of data/samples/, the
general model trained without it (data/models/train-general.sh -x NAME, the
recipe that makes the shipped data/models/general.h5) scored on it, beside
the model trained on the sample itself (frozen, and online when eval has
--online) and the baselines, on the same decisions: contested top-1 on the
test split of the sample (`schedcast eval --json`)."""
import glob
import json
import os

import benchlib as B

SAMPLES = os.path.join(B.TOP, "data", "samples")
RECIPE = os.path.join(B.TOP, "data", "models", "train-general.sh")
# the baselines that learn from every decision they score (eval(1))
ONLINE_BASELINES = ("most-frequent", "markov1", "markov2")


def pct(x):
    return "-" if x is None else "%.1f%%" % (100 * x)


def model_top1(doc):
    m = (doc or {}).get("model") or {}
    return m.get("top1_contested")


def has_online():
    r = B.run([B.SCHEDCAST, "eval", "-h"])
    return "--online" in r.out


def evaluate(model, windows, online):
    argv = [B.SCHEDCAST, "eval", "--json", "-m", model]
    if online:
        argv.append("--online")
    r = B.run(argv + [windows], timeout=1800).check("schedcast eval -m %s" % model)
    return json.loads(r.out)


def figure(ctx):
    cfg = ctx.cfg
    B.need_command("features", "train", "eval")
    if not os.access(RECIPE, os.X_OK):
        raise B.NotAvailable("data/models/train-general.sh missing")
    samples = sorted(glob.glob(os.path.join(SAMPLES, "*.h5")))
    if len(samples) < 2:
        raise B.NotAvailable("fewer than two sample traces in data/samples/")
    work = ctx.workdir("general")
    epochs, hidden = cfg.get("gen_epochs", 2), cfg.get("gen_hidden", 16)
    online = has_online()
    env = dict(os.environ, SCHEDCAST=B.SCHEDCAST, GENERAL_EPOCHS=str(epochs),
               GENERAL_HIDDEN=str(hidden))
    rows, data, summ, failed = [], {}, [], {}
    for path in samples:
        name = os.path.basename(path)[:-3]
        B.log("general: %s" % name)
        win = os.path.join(work, name + ".windows.h5")
        own = os.path.join(work, name + ".model.h5")
        loo = os.path.join(work, "general-without-%s.h5" % name)
        try:
            B.run([B.SCHEDCAST, "features", "-q", "-o", win, path],
                  timeout=1800).check("schedcast features %s" % name)
            B.run([B.SCHEDCAST, "train", "-q", "--epochs", str(epochs), "--hidden",
                   str(hidden), "--seed", "1", "-o", own, win],
                  timeout=3600).check("schedcast train %s" % name)
            r = B.run([RECIPE, "-x", name, "-o", loo], env=env, timeout=7200)
            r.check("train-general.sh -x %s" % name)
            e_own = evaluate(own, win, False)
            # eval --online --json reports the online model in "model"
            e_onl = evaluate(own, win, True) if online else None
            e_loo = evaluate(loo, win, False)
            # the general model adapted online on the sample it never trained on
            e_gon = evaluate(loo, win, True) if online else None
        except RuntimeError as e:
            failed[name] = str(e)
            continue
        bl = {b["name"]: b.get("top1_contested") for b in e_own.get("baselines", [])}
        best_name = max(bl, key=lambda k: -1 if bl[k] is None else bl[k])
        onl = {k: v for k, v in bl.items() if k in ONLINE_BASELINES and v is not None}
        best_onl = max(onl, key=onl.get) if onl else None
        gen = model_top1(e_loo)
        gon = model_top1(e_gon)
        data[name] = {"decisions": e_own.get("decisions"), "contested": e_own.get("contested"),
                      "frozen": model_top1(e_own), "online": model_top1(e_onl),
                      "general": gen, "general_online": gon, "baselines": bl, "best_baseline": best_name,
                      "best_online_baseline": best_onl}
        diff = None if gen is None or best_onl is None else 100 * (gen - onl[best_onl])
        odiff = None if gon is None or best_onl is None else 100 * (gon - onl[best_onl])
        rows.append([name, B.fmt(e_own.get("contested")), pct(e_own.get("chance_top1_contested")),
                     pct(model_top1(e_own)), pct(model_top1(e_onl)) if online else "no --online",
                     pct(gen), pct(gon) if online else "no --online",
                     "%s %s" % (best_onl, pct(onl.get(best_onl))),
                     "%s %s" % (best_name, pct(bl[best_name])),
                     "-" if diff is None else "%+.1f pt" % diff,
                     "-" if odiff is None else "%+.1f pt" % odiff])
        if diff is not None:
            summ.append("%s: general model without it %s frozen, %s online, best online "
                        "baseline %s %s (%+.1f pt frozen, %s online)"
                        % (name, pct(gen), pct(gon), best_onl, pct(onl[best_onl]), diff,
                           "-" if odiff is None else "%+.1f pt" % odiff))
    if not rows:
        raise B.NotAvailable("every sample failed: %s" % "; ".join(
            "%s: %s" % kv for kv in failed.items()))
    hdr = ["left out", "contested", "chance", "own model, frozen", "own model, online",
           "general without it, frozen", "general without it, online",
           "best online baseline", "best baseline", "general frozen - best online",
           "general online - best online"]
    md = ["For each sample trace: its windows (`schedcast features`, defaults), a model "
          "trained on its own training split (`schedcast train --epochs %d --hidden %d "
          "--seed 1`), and the general model trained on every *other* sample with the "
          "recipe of the shipped one (`data/models/train-general.sh -x NAME`, same epochs "
          "and hidden size), all scored by `schedcast eval --json%s` on the sample's test "
          "split (its last 15%% in time): top-1 on contested decisions, baselines on the "
          "same decisions.  *Frozen*: the weights as trained; *online*: updated after "
          "each scored decision (prequential), as the online baselines (%s) learn; the "
          "general model online has learnt from the left-out sample's validation split "
          "and each test decision after scoring it, never from its training split."
          % (epochs, hidden, " [--online]" if online else "", ", ".join(ONLINE_BASELINES)),
          "", B.md_table(hdr, rows)]
    out = {"md": "\n".join(md), "data": data, "summary": summ}
    if failed:
        out["failed"] = failed
    return out
