"""PF-WILLOW PCK of the torch MMNet (SPEC section 4 protocol), plain head rows per scale, raw baseline, fused.

Usage: /usr/bin/python3 training/eval_willow.py [--head DIR] [--device cuda] [--split all val test] [--json out.json]
       /usr/bin/python3 training/eval_willow.py --head DIR --fit-fused      # lambda/tau grid, chosen on val
Each of the 100 images is encoded once; matching runs batched over pairs. The split is scripts/eval/pf-willow-split.json
(val: model selection and lambda/tau; test: held out; all: the 900 standard pairs).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmnet as M  # noqa: E402

ALPHAS = (0.05, 0.10, 0.15)
SPLITS = ("all", "val", "test")
SPLIT_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "eval", "pf-willow-split.json")
LAMS = (0.5, 0.75, 1.0, 1.5, 2.0)
TAUS = (0.03, 0.05, 0.07, 0.1)


def willow_dir():
    return os.environ.get("MMNET_WILLOW_DIR", os.path.join(M.SHARED, "datasets", "pf-willow"))


def load_image(path, H=224, W=320):
    from PIL import Image
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    t = torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0)
    return F.interpolate(t, size=(H, W), mode="bilinear", align_corners=False)


class Willow:
    def __init__(self, directory=None, H=224, W=320, device="cpu"):
        d = directory or willow_dir()
        meta = json.load(open(os.path.join(d, "pf-willow.json")))
        self.H, self.W = H, W
        self.names = sorted(meta["images"].keys())
        self.index = {n: i for i, n in enumerate(self.names)}
        self.images = torch.cat([load_image(os.path.join(d, meta["images"][n]["file"]), H, W)
                                 for n in self.names]).to(device)
        self.sizes = torch.tensor([[meta["images"][n]["width"], meta["images"][n]["height"]] for n in self.names],
                                  dtype=torch.float32, device=device)
        self.kps = torch.tensor([meta["images"][n]["keypoints"] for n in self.names], dtype=torch.float32,
                                device=device)  # 100,10,2 pixel-index coords
        self.src = torch.tensor([self.index[p["source"]] for p in meta["pairs"]], device=device)
        self.tgt = torch.tensor([self.index[p["target"]] for p in meta["pairs"]], device=device)
        parts = json.load(open(SPLIT_FILE))
        self.split_pairs = {"all": torch.arange(len(self.src), device=device)}
        for sp in ("val", "test"):
            inside = torch.zeros(len(self.names), dtype=torch.bool, device=device)
            inside[[self.index[n] for n in parts[sp]]] = True
            self.split_pairs[sp] = torch.nonzero(inside[self.src] & inside[self.tgt]).flatten()
        self.device = device

    @torch.no_grad()
    def encode(self, net, batch=10):
        Gs = {s: [] for s in (1, 2, 3, 4)}
        Ns = []
        for i in range(0, len(self.names), batch):
            G, taps = net(self.images[i:i + batch])
            for s in G:
                Gs[s].append(G[s].float())
            Ns.append(M.l2n(taps["block3_unit22"].float()))
        return {s: torch.cat(v) for s, v in Gs.items()}, torch.cat(Ns)

    @torch.no_grad()
    def evaluate(self, net, chunk=100, modes=("head", "raw", "fused"), feats=None, split="all", lam=1.0, tau=0.05,
                 fused_scales=(3, 2, 1)):
        G, N = feats if feats is not None else self.encode(net)
        scale = torch.stack([self.sizes[:, 0] / self.W, self.sizes[:, 1] / self.H], -1)  # orig per resized
        correct = {}
        src, tgt = self.src[self.split_pairs[split]], self.tgt[self.split_pairs[split]]
        for a in range(0, len(src), chunk):
            si = src[a:a + chunk]
            ti = tgt[a:a + chunk]
            pts = (self.kps[si] + 0.5) / scale[si].unsqueeze(1)  # resized continuous coords
            gt = self.kps[ti]
            bb = (gt.max(1).values - gt.min(1).values).max(1).values  # per pair
            preds = {}
            rows = None
            if "head" in modes or "fused" in modes:
                rows = M.c2f_rows({s: G[s][si] for s in G}, {s: G[s][ti] for s in G}, pts)
            if "head" in modes:
                for s in (4, 3, 2, 1):
                    preds["s%d" % s] = M.predict(rows[s], M.STRIDES[s])[1]
            if "raw" in modes or "fused" in modes:
                raw = M.raw_rows(N[si], N[ti], pts)
                if "raw" in modes:
                    preds["raw"] = M.predict(raw, 16)[1]
                if "fused" in modes:
                    for s in fused_scales:
                        preds["fused_s%d" % s] = M.predict(M.fused_scores(rows[s], raw, s, lam, tau), M.STRIDES[s])[1]
            for k, p in preds.items():
                po = p * scale[ti].unsqueeze(1) - 0.5
                dist = (po - gt).norm(dim=-1)  # chunk,10
                c = correct.setdefault(k, [0, 0, 0, 0])
                for n, al in enumerate(ALPHAS):
                    c[n] += int((dist <= al * bb.unsqueeze(1)).sum())
                c[3] += dist.numel()
        return {k: [100.0 * v[n] / v[3] for n in range(3)] for k, v in correct.items()}


def fmt(res):
    lines = ["%-10s %7s %7s %7s" % ("mode", "a=0.05", "a=0.10", "a=0.15")]
    order = ["s4", "s3", "s2", "s1", "raw", "fused_s3", "fused_s2", "fused_s1"]
    for k in order:
        if k in res:
            lines.append("%-10s %7.2f %7.2f %7.2f" % (k, *res[k]))
    return "\n".join(lines)


def fit_fused(wl, feats, scale=3, log=print):
    """The (lambda, tau) of LAMS x TAUS with the best fused PCK@0.1 on val; prints val and test of each."""
    best = None
    for lam in LAMS:
        for tau in TAUS:
            r = {sp: wl.evaluate(None, modes=("fused",), feats=feats, split=sp, lam=lam, tau=tau,
                                 fused_scales=(scale,))["fused_s%d" % scale][1] for sp in ("val", "test")}
            log("lam %.2f tau %.2f  fused s%d PCK@0.1 val %.2f test %.2f" % (lam, tau, scale, r["val"], r["test"]))
            if best is None or r["val"] > best[2]["val"]:
                best = (lam, tau, r)
    log("chosen on val: lam %.2f tau %.2f (val %.2f, test %.2f)" % (best[0], best[1], best[2]["val"], best[2]["test"]))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--head", default=None, help="head .npy folder (default: head v0)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--split", nargs="+", default=["all"], choices=SPLITS, help="one table each, one encode")
    ap.add_argument("--fit-fused", action="store_true", help="grid of lambda/tau for fused s3, chosen on val")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    t0 = time.time()
    net = M.MMNet(head_directory=args.head).eval().to(args.device)
    wl = Willow(device=args.device)
    feats = wl.encode(net)
    if args.fit_fused:
        fit_fused(wl, feats)
        return
    res = {sp: wl.evaluate(None, feats=feats, split=sp) for sp in args.split}
    for sp in args.split:
        print("PF-WILLOW PCK (%%), head %s, %s, %s pairs (%d), %.1fs" % (
            args.head or M.head_dir(), args.device, sp, len(wl.split_pairs[sp]), time.time() - t0))
        print(fmt(res[sp]))
    if args.json:
        json.dump(res[args.split[0]] if len(args.split) == 1 else res, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
