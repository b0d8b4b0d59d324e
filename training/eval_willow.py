"""PF-WILLOW PCK of the torch MMNet (SPEC section 4 protocol), plain head rows per scale, raw baseline, fused.

Usage: /usr/bin/python3 training/eval_willow.py [--head DIR] [--device cuda] [--json out.json]
Each of the 100 images is encoded once; matching runs batched over pairs.
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
    def evaluate(self, net, chunk=100, modes=("head", "raw", "fused"), feats=None):
        G, N = feats if feats is not None else self.encode(net)
        scale = torch.stack([self.sizes[:, 0] / self.W, self.sizes[:, 1] / self.H], -1)  # orig per resized
        correct = {}
        for a in range(0, len(self.src), chunk):
            si = self.src[a:a + chunk]
            ti = self.tgt[a:a + chunk]
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
                    for s in (3, 2, 1):
                        preds["fused_s%d" % s] = M.predict(M.fused_scores(rows[s], raw, s), M.STRIDES[s])[1]
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--head", default=None, help="head .npy folder (default: head v0)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    t0 = time.time()
    net = M.MMNet(head_directory=args.head).eval().to(args.device)
    wl = Willow(device=args.device)
    res = wl.evaluate(net)
    print("PF-WILLOW PCK (%%), head %s, %s, %.1fs" % (args.head or M.head_dir(), args.device, time.time() - t0))
    print(fmt(res))
    if args.json:
        json.dump(res, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
