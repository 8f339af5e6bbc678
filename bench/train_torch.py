#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""train_torch.py - the PyTorch side of the training benchmark.

The candidates-mode network of `schedcast train`, in torch.nn (float32, as
PyTorch users train): an LSTM shared by all candidates over each K-episode
window, its last hidden state joined with the S state features, a head
Linear(H+S, M) + ReLU + Linear(M, 1) plus a linear path Linear(S, 1) from
zero (schedcast train --linear-epochs 0: no linear stage), a softmax over each decision's
candidates and the cross-entropy of the pick; Adam with schedcast's betas
(0.875, 1 - 2^-10) and eps (2^-24), and its learning-rate schedule (in each
epoch the rate falls linearly to lr/20); the same inputs (features normalised by
the training split's mean and std), the same decisions (contested, covered),
the same batch size and validation top-1 after each epoch.

    /usr/bin/python3 bench/train_torch.py [--epochs N] [--hidden N] [--head N]
        [--batch N] [--lr X] [--threads N] [--seed N] [--json] windows.h5

Reads windows.h5 with h5py (Debian python3-h5py).  With --json the last
line of standard output is a JSON object: decisions (trained, all epochs),
decisions_per_s (training loops only), seconds, val_top1 per epoch.
Standalone: nothing from schedcast is imported.
"""
import argparse
import json
import sys
import time

import h5py
import numpy as np
import torch


def windows_v2(f):
    """(n_cand, K, E) windows of a version 2 file, rebuilt from /episodes: a
    candidate (task, n_ep) has the last min(K, n_ep) episodes of its task,
    oldest first, after zero rows to K (schedcast-files(5))"""
    K = int(f.attrs["K"])
    ep = f["episodes"][:]
    task = f["ep_task"][:].astype(np.int64)
    cand = f["cand"][:]
    order = np.argsort(task, kind="stable")          # each task's episodes, in order
    counts = np.bincount(task, minlength=int(cand["task"].max()) + 1)
    start = np.concatenate([[0], np.cumsum(counts)])
    ct, cn = cand["task"].astype(np.int64), cand["n_ep"].astype(np.int64)
    if np.any(cn > counts[ct]):
        sys.exit("train_torch.py: a candidate names more episodes than its task has")
    k = np.arange(K)[None, :] + (cn[:, None] - K)      # (n_cand, K) episode number of its task
    ok = k >= 0
    rows = order[np.where(ok, start[ct][:, None] + np.maximum(k, 0), 0)]
    win = ep[rows].astype(np.float32)
    win[~ok] = 0
    return win


def load(path):
    with h5py.File(path, "r") as f:
        mode = f.attrs["mode"]
        if isinstance(mode, bytes):
            mode = mode.decode()
        if mode != "candidates":
            sys.exit("train_torch.py: %s: only candidates mode is benchmarked" % path)
        if "state" not in f:
            sys.exit("train_torch.py: %s: windows version %s holds no windows (the events "
                     "schedcast replays): make it with `schedcast features --windows-version 2`"
                     % (path, f.attrs.get("version")))
        dec = f["decisions"][:]
        win = f["window"][:].astype(np.float32) if "window" in f else windows_v2(f)
        st = f["state"][:].astype(np.float32)
    return dec, win, st


def normalise(dec, win, st):
    """(x - mean) / std over the candidates of the training decisions, like schedcast"""
    tr = dec[dec["split"] == 0]
    lo = int(tr["cand_off"].min())
    hi = int((tr["cand_off"] + tr["ncand"]).max())
    E, S = win.shape[2], st.shape[1]
    wm = win[lo:hi].reshape(-1, E)
    mu_w, sd_w = wm.mean(0), np.maximum(wm.std(0), 1.0)
    mu_s, sd_s = st[lo:hi].mean(0), np.maximum(st[lo:hi].std(0), 1.0)
    return (win - mu_w) / sd_w, (st - mu_s) / sd_s


class Net(torch.nn.Module):
    def __init__(self, E, S, H, M):
        super().__init__()
        self.lstm = torch.nn.LSTM(E, H, batch_first=True)
        self.w1 = torch.nn.Linear(H + S, M)
        self.w2 = torch.nn.Linear(M, 1, bias=False)
        self.wl = torch.nn.Linear(S, 1, bias=False)     # the linear path, from zero
        torch.nn.init.zeros_(self.wl.weight)

    def forward(self, x, s):
        _, (h, _) = self.lstm(x)
        return (self.w2(torch.relu(self.w1(torch.cat([h[0], s], 1)))) + self.wl(s)).reshape(-1)


def batch_tensors(dec, idx, win, st):
    """all candidates of the batch's decisions, and a (B, maxcand) index for the softmax"""
    d = dec[idx]
    rows = np.concatenate([np.arange(int(o), int(o) + int(n))
                           for o, n in zip(d["cand_off"], d["ncand"])])
    nmax = int(d["ncand"].max())
    pos = np.full((len(d), nmax), len(rows), dtype=np.int64)   # len(rows): the -inf pad
    k = 0
    for i, n in enumerate(d["ncand"]):
        pos[i, :n] = np.arange(k, k + n)
        k += n
    return (torch.from_numpy(win[rows]), torch.from_numpy(st[rows]), torch.from_numpy(pos),
            torch.from_numpy(d["label"].astype(np.int64)))


def scores_by_decision(net, x, s, pos):
    sc = net(x, s)
    sc = torch.cat([sc, torch.full((1,), float("-inf"))])
    return sc[pos]


LR_FLOOR = 20


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--head", type=int, default=16)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("windows")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dec, win, st = load(a.windows)
    win, st = normalise(dec, win, st)
    ok = (dec["label"] >= 0) & (dec["ncand"] >= 2)
    train = np.nonzero(ok & (dec["split"] == 0))[0]
    val = np.nonzero(ok & (dec["split"] == 1))[0]
    net = Net(win.shape[2], st.shape[1], a.hidden, a.head)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, betas=(0.875, 1 - 2 ** -10),
                           eps=2 ** -24)
    rng = np.random.default_rng(a.seed)
    loop_s, curve = 0.0, []
    t_all = time.monotonic()
    for epoch in range(a.epochs):
        order = rng.permutation(train)
        t0 = time.monotonic()
        total = 0.0
        n = len(order)
        for b in range(0, n, a.batch):
            x, s, pos, lab = batch_tensors(dec, order[b:b + a.batch], win, st)
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(scores_by_decision(net, x, s, pos), lab)
            loss.backward()
            # schedcast's LSTM epoch (model/train.c set_lr): the rate falls
            # linearly with the share of the epoch trained on, to lr/20
            for g in opt.param_groups:
                g["lr"] = a.lr * max(n - b, -(-n // LR_FLOOR)) / n
            opt.step()
            total += loss.item() * len(lab)
        loop_s += time.monotonic() - t0
        correct = 0
        with torch.no_grad():
            for b in range(0, len(val), 1024):
                x, s, pos, lab = batch_tensors(dec, val[b:b + 1024], win, st)
                correct += int((scores_by_decision(net, x, s, pos).argmax(1) == lab).sum())
        curve.append(correct / len(val) if len(val) else -1)
        print("epoch %d/%d  loss %.4f  val top-1 %.2f%%  %.0f decisions/s" % (
            epoch + 1, a.epochs, total / len(train), 100 * curve[-1],
            len(train) / (time.monotonic() - t0)), file=sys.stderr)
    n = len(train) * a.epochs
    res = {"decisions": n, "decisions_per_s": n / loop_s if loop_s else None,
           "seconds": time.monotonic() - t_all, "val_top1": curve, "threads": a.threads,
           "hidden": a.hidden, "torch": torch.__version__}
    if a.json:
        print(json.dumps(res))
    else:
        print("%d training decisions, %.0f decisions/s, best val top-1 %.2f%%" % (
            n, res["decisions_per_s"], 100 * max(curve)))


if __name__ == "__main__":
    main()
