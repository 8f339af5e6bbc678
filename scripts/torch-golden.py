#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Write the PyTorch golden files of the model's tests (tests/data/model/).

The same networks as model/lstm-float.c, built from torch.nn (LSTM, Linear,
Embedding) in float64: inputs, weights, scores, loss and every weight's
gradient, for one candidates decision and one sequence decision.  The C test
(tests/unit/test-lstm-golden.c) reads them with no PyTorch.  Inputs and
weights are multiples of 2^-12, so the fixed-point path sees them exactly.

Run with Debian's python3-torch:  /usr/bin/python3 scripts/torch-golden.py [WINDOWS.h5]

With WINDOWS.h5 (from `schedcast features`, the default wait state set, e.g.
of data/samples/mixed.h5), golden-candidates-full.txt is written too: the
same network on one real decision of that file (its first contested test
decision with at least three candidates), every input the features engine
computes, normalised by the training split's mean and std as the trainer
does (needs python3-h5py).  The C test checks that its E and S are the
engine's: regenerate it when the feature set changes.

File format: one array per line, "name n v1 ... vn" (n values, %.17g).
"""
import os
import sys

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "model")


def q12(t):
    """round to a multiple of 2^-12 (a Q3.12 value)"""
    return torch.round(t * 4096.0) / 4096.0


def dump(f, name, t):
    v = t.detach().reshape(-1).tolist()
    f.write("%s %d %s\n" % (name, len(v), " ".join("%.17g" % x for x in v)))


def candidates(f, gen, real=None):
    H, K, E, S, M, N, label = 8, 5, 4, 3, 6, 4, 2
    if real is not None:
        K, E, S, N, label = real["K"], real["E"], real["S"], real["N"], real["label"]
    lstm = torch.nn.LSTM(E, H, batch_first=True).double()
    w1 = torch.nn.Linear(H + S, M).double()
    w2 = torch.nn.Linear(M, 1, bias=False).double()
    wl = torch.nn.Linear(S, 1, bias=False).double()     # the linear path
    with torch.no_grad():
        for p in (list(lstm.parameters()) + list(w1.parameters()) + list(w2.parameters()) +
                  list(wl.parameters())):
            p.copy_(q12(torch.empty_like(p).uniform_(-0.6, 0.6, generator=gen)))
        lstm.bias_hh_l0.zero_()     # one bias in the C model: b = b_ih + b_hh
    x = q12(torch.empty(N, K, E, dtype=torch.float64).uniform_(-2, 2, generator=gen))
    st = q12(torch.empty(N, S, dtype=torch.float64).uniform_(-2, 2, generator=gen))
    if real is not None:
        x = q12(torch.tensor(real["x"], dtype=torch.float64))
        st = q12(torch.tensor(real["state"], dtype=torch.float64))
        f.write("# a decision of %s (%d candidates, pick %d)\n" % (real["path"], N, label))
        f.write("# state inputs: %s\n" % " ".join(real["names"]))
    _, (h, _) = lstm(x)
    z = torch.cat([h[0], st], dim=1)
    score = (w2(torch.relu(w1(z))) + wl(st)).reshape(-1)
    loss = torch.nn.functional.cross_entropy(score.reshape(1, -1), torch.tensor([label]))
    loss.backward()
    f.write("shape 7 %d %d %d %d %d %d %d\n" % (H, K, E, S, M, N, label))
    dump(f, "x", x)
    dump(f, "state", st)
    dump(f, "lstm/w_x", lstm.weight_ih_l0)
    dump(f, "lstm/w_h", lstm.weight_hh_l0)
    dump(f, "lstm/b", lstm.bias_ih_l0)
    dump(f, "head/w1", w1.weight)
    dump(f, "head/b1", w1.bias)
    dump(f, "head/w2", w2.weight)
    dump(f, "head/w_lin", wl.weight)
    dump(f, "scores", score)
    dump(f, "loss", loss.reshape(1))
    dump(f, "grad/lstm/w_x", lstm.weight_ih_l0.grad)
    dump(f, "grad/lstm/w_h", lstm.weight_hh_l0.grad)
    dump(f, "grad/lstm/b", lstm.bias_ih_l0.grad)
    dump(f, "grad/head/w1", w1.weight.grad)
    dump(f, "grad/head/b1", w1.bias.grad)
    dump(f, "grad/head/w2", w2.weight.grad)
    dump(f, "grad/head/w_lin", wl.weight.grad)


def sequence(f, gen):
    H, W, V, D, label = 6, 7, 9, 3, 4
    lstm = torch.nn.LSTM(D + 1, H, batch_first=True).double()
    emb = torch.nn.Embedding(V, D).double()
    out = torch.nn.Linear(H, V).double()
    with torch.no_grad():
        for p in list(lstm.parameters()) + list(emb.parameters()) + list(out.parameters()):
            p.copy_(q12(torch.empty_like(p).uniform_(-0.6, 0.6, generator=gen)))
        lstm.bias_hh_l0.zero_()
    ids = torch.randint(0, V, (W,), generator=gen)
    ids[1] = -1                      # padding: a zero embedding, no gradient
    gaps = q12(torch.empty(W, dtype=torch.float64).uniform_(-2, 2, generator=gen))
    mask = (ids >= 0).double().reshape(W, 1)
    e = emb(ids.clamp(min=0)) * mask
    x = torch.cat([e, gaps.reshape(W, 1)], dim=1).reshape(1, W, D + 1)
    _, (h, _) = lstm(x)
    logits = out(h[0]).reshape(-1)
    loss = torch.nn.functional.cross_entropy(logits.reshape(1, -1), torch.tensor([label]))
    loss.backward()
    f.write("shape 5 %d %d %d %d %d\n" % (H, W, V, D, label))
    dump(f, "ids", ids.double())
    dump(f, "gaps", gaps)
    dump(f, "lstm/w_x", lstm.weight_ih_l0)
    dump(f, "lstm/w_h", lstm.weight_hh_l0)
    dump(f, "lstm/b", lstm.bias_ih_l0)
    dump(f, "seq/emb", emb.weight)
    dump(f, "seq/w_out", out.weight)
    dump(f, "seq/b_out", out.bias)
    dump(f, "scores", logits)
    dump(f, "loss", loss.reshape(1))
    dump(f, "grad/lstm/w_x", lstm.weight_ih_l0.grad)
    dump(f, "grad/lstm/w_h", lstm.weight_hh_l0.grad)
    dump(f, "grad/lstm/b", lstm.bias_ih_l0.grad)
    dump(f, "grad/seq/emb", emb.weight.grad)
    dump(f, "grad/seq/w_out", out.weight.grad)
    dump(f, "grad/seq/b_out", out.bias.grad)


def real_decision(path):
    """one decision's normalised inputs from a windows file (version 1 or 2)"""
    import h5py
    import numpy as np

    with h5py.File(path, "r") as f:
        K, E = int(f.attrs["K"]), int(f.attrs["E"])
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["state_names"][:]]
        dec, cand = f["decisions"][:], f["cand"][:]
        st = f["state"][:].astype(np.float64)
        ok = (dec["split"] == 2) & (dec["ncand"] >= 3) & (dec["label"] >= 0)
        d = dec[np.nonzero(ok)[0][0]]
        lo, n = int(d["cand_off"]), int(d["ncand"])
        if "window" in f:
            win = f["window"][lo:lo + n].astype(np.float64)
        else:       # version 2: the last min(K, n_ep) episodes of each candidate's task
            eps, task = f["episodes"][:].astype(np.float64), f["ep_task"][:]
            win = np.zeros((n, K, E))
            for i in range(n):
                mine = np.nonzero(task[:int(d["ep_off"])] == cand["task"][lo + i])[0]
                mine = mine[:int(cand["n_ep"][lo + i])][-K:]
                if len(mine):
                    win[i, K - len(mine):] = eps[mine]
        tr = dec[dec["split"] == 0]
        a, b = int(tr["cand_off"].min()), int((tr["cand_off"] + tr["ncand"]).max())
        mu, sd = st[a:b].mean(0), np.maximum(st[a:b].std(0), 1.0)
        state = (st[lo:lo + n] - mu) / sd
        if "window" in f:
            wm = f["window"][a:b].astype(np.float64).reshape(-1, E)
        else:
            wm = f["episodes"][:].astype(np.float64)
        wmu, wsd = wm.mean(0), np.maximum(wm.std(0), 1.0)
        x = (win - wmu) / wsd
    clip = 7.9     # inside Q3.12
    return {"path": os.path.basename(path), "K": K, "E": E, "S": len(names), "N": n,
            "label": int(d["label"]), "names": names,
            "x": np.clip(x, -clip, clip).tolist(), "state": np.clip(state, -clip, clip).tolist()}


def main():
    gen = torch.Generator().manual_seed(20261124)
    os.makedirs(OUT, exist_ok=True)
    jobs = [("golden-candidates.txt", candidates), ("golden-sequence.txt", sequence)]
    if len(sys.argv) > 1:
        real = real_decision(sys.argv[1])
        jobs.append(("golden-candidates-full.txt", lambda f, g: candidates(f, g, real)))
    for name, fn in jobs:
        path = os.path.join(OUT, name)
        with open(path, "w") as f:
            f.write("# written by scripts/torch-golden.py with torch %s\n" % torch.__version__)
            fn(f, gen)
        print("wrote", os.path.relpath(path), file=sys.stderr)


if __name__ == "__main__":
    main()
