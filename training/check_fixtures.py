"""Check the torch MMNet against ../shared/fixtures/mmnet_r101v2_reference.json (SPEC section 5).

Usage: /usr/bin/python3 training/check_fixtures.py [--head DIR]   (exit 1 on any failure)
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmnet as M  # noqa: E402

FIX = os.environ.get("MMNET_FIXTURES_DIR", os.path.join(M.SHARED, "fixtures"))


def load_rgb(name, H=224, W=320):
    a = np.fromfile(os.path.join(FIX, name + "_%dx%d.rgb" % (H, W)), dtype=np.uint8).reshape(H, W, 3)
    return torch.from_numpy(a.astype(np.float32)).permute(2, 0, 1).unsqueeze(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--head", default=None)
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    ref = json.load(open(os.path.join(FIX, "mmnet_r101v2_reference.json")))
    net = M.MMNet(head_directory=args.head).eval()
    fails = []
    n_checked = 0

    def check_tensor(name, t, r):
        nonlocal n_checked
        t = t[0]
        if list(t.shape) != list(r["shape"]) and list(t.permute(1, 2, 0).shape) != list(r["shape"]):
            fails.append("%s: shape %s vs %s" % (name, list(t.shape), r["shape"]))
            return
        tol = 2e-3 * r["absmax"]
        worst = 0.0
        for c, y, x, v in r["samples"]:
            d = abs(float(t[c, y, x]) - v)
            worst = max(worst, d)
            n_checked += 1
            if d > tol:
                fails.append("%s[%d,%d,%d] = %.6f vs %.6f (tol %.2e)" % (name, c, y, x, float(t[c, y, x]), v, tol))
        for k in ("mean", "std"):
            val = float(getattr(t, k)())
            if abs(val - r[k]) > tol:
                fails.append("%s.%s = %.6f vs %.6f" % (name, k, val, r[k]))
        am = float(t.abs().max())
        if abs(am - r["absmax"]) > tol:
            fails.append("%s.absmax = %.6f vs %.6f" % (name, am, r["absmax"]))
        print("  %-14s max |diff| %.2e  (tol %.2e)" % (name, worst, tol))

    with torch.no_grad():
        G, taps = net(load_rgb("pattern"))
        print("pattern taps:")
        for k, r in ref["pattern"]["taps"].items():
            check_tensor(k, taps[k], r)
        print("pattern head:")
        for s in (1, 2, 3, 4):
            check_tensor("G_%d" % s, G[s], ref["pattern"]["head"]["s%d" % s])

        w = ref["willow_pair"]
        Ga, ta = net(load_rgb("willow_a"))
        Gb, tb = net(load_rgb("willow_b"))
        pts = torch.tensor(w["source_points_resized"], dtype=torch.float32).unsqueeze(0)
        rows = M.c2f_rows(Ga, Gb, pts)
        print("willow_pair:")
        for s in (4, 3, 2, 1):
            r = w["s%d" % s]
            row = rows[s][0]
            cells, refined = M.predict(row, M.STRIDES[s])
            eq = sum(int(list(map(int, cells[k])) == list(r["argmax_cell"][k])) for k in range(len(cells)))
            if eq < 9:
                fails.append("s%d: only %d/10 argmax cells equal" % (s, eq))
            rm = row.flatten(1).max(1).values
            bad_max = bad_ref = 0
            for k in range(len(cells)):
                if abs(float(rm[k]) - r["row_max"][k]) > 2e-3 * abs(r["row_max"][k]):
                    bad_max += 1
                    fails.append("s%d row_max[%d] %.5f vs %.5f" % (s, k, float(rm[k]), r["row_max"][k]))
                if list(map(int, cells[k])) == list(r["argmax_cell"][k]):
                    d = (refined[k] - torch.tensor(r["refined_xy"][k])).abs().max().item()
                    # refined points: compared where the argmax cell agrees, within 0.05 px
                    if d > 0.05:
                        bad_ref += 1
                        fails.append("s%d refined[%d] %s vs %s" % (s, k, refined[k].tolist(), r["refined_xy"][k]))
            tol0 = 2e-3 * abs(r["row_max"][0])
            worst = 0.0
            for i, j, v in r["row0_samples"]:
                d = abs(float(row[0, i, j]) - v)
                worst = max(worst, d)
                if d > tol0:
                    fails.append("s%d row0[%d,%d] %.5f vs %.5f" % (s, i, j, float(row[0, i, j]), v))
            print("  s%d: argmax cells %d/10 equal, row max bad %d, refined bad %d, row0 max |diff| %.2e (tol %.2e)"
                  % (s, eq, bad_max, bad_ref, worst, tol0))
        # raw baseline and fused prediction
        Na = M.l2n(ta["block3_unit22"])
        Nb = M.l2n(tb["block3_unit22"])
        raw = M.raw_rows(Na, Nb, pts)[0]
        tol0 = 2e-3 * float(raw[0].abs().max())
        worst = max(abs(float(raw[0, i, j]) - v) for i, j, v in w["raw_row0_samples"])
        if worst > tol0:
            fails.append("raw row0 max diff %.2e > %.2e" % (worst, tol0))
        print("  raw: row0 max |diff| %.2e (tol %.2e)" % (worst, tol0))
        for s in (3, 2, 1):
            r = w["fused_s%d" % s]
            L = M.fused_scores(rows[s][0], raw, s)
            cells, refined = M.predict(L, M.STRIDES[s])
            eq = sum(int(list(map(int, cells[k])) == list(r["argmax_cell"][k])) for k in range(len(cells)))
            d = max((refined[k] - torch.tensor(r["refined_xy"][k])).abs().max().item()
                    for k in range(len(cells)) if list(map(int, cells[k])) == list(r["argmax_cell"][k]))
            if eq < 9:
                fails.append("fused_s%d: only %d/10 argmax cells equal" % (s, eq))
            if d > 0.05:
                fails.append("fused_s%d refined max diff %.3f px" % (s, d))
            print("  fused_s%d: argmax cells %d/10 equal, refined max |diff| %.4f px" % (s, eq, d))

    print("checked %d tensor samples" % n_checked)
    if fails:
        print("FAIL (%d):" % len(fails))
        for f in fails[:50]:
            print("  " + f)
        sys.exit(1)
    print("OK: torch MMNet matches the fixtures")


if __name__ == "__main__":
    main()
