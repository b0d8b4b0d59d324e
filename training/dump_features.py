"""Dump G_1..G_4 of the torch MMNet for a fixture image, for the tfjs parity check of an exported head.

Usage: /usr/bin/python3 training/dump_features.py --head HEAD_DIR --out DIR [--image pattern]
Writes DIR/g{s}.f32 (float32 little-endian, H x W x 21, row-major, tfjs featureMap layout) and DIR/meta.json.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmnet as M  # noqa: E402
from check_fixtures import load_rgb  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--head", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--image", default="pattern")
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    os.makedirs(args.out, exist_ok=True)
    net = M.MMNet(head_directory=args.head).eval()
    with torch.no_grad():
        G, _ = net(load_rgb(args.image))
    meta = dict(image=args.image, maps={})
    for s in (1, 2, 3, 4):
        a = G[s][0].permute(1, 2, 0).contiguous().numpy().astype("<f4")
        a.tofile(os.path.join(args.out, "g%d.f32" % s))
        meta["maps"][str(s)] = dict(shape=list(a.shape), absmax=float(np.abs(a).max()), file="g%d.f32" % s)
    json.dump(meta, open(os.path.join(args.out, "meta.json"), "w"), indent=1)
    print("dump_features: wrote G_1..G_4 of %s to %s" % (args.image, args.out))


if __name__ == "__main__":
    main()
