"""Export a trained head as float16 .npy files with exactly the names, shapes and layouts of head v0.

Usage:
  /usr/bin/python3 training/export.py --npz RUN/head_best_part1.npz RUN/head_best_part2.npz --out models/mmnet_head_v1 \
      [--summary RUN/summary.json] [--pck eval.json] [--command "..."]
Inputs: the .npz parts written by train.py (or --npy-dir, a folder of .npy). Checks names/shapes against head v0.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmnet as M  # noqa: E402


def reference_shapes():
    import torch  # noqa: F401
    return {k: tuple(v.shape) for k, v in M.Head().state_dict().items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npz", nargs="*", default=[])
    ap.add_argument("--npy-dir", default=None)
    ap.add_argument("--out", required=True)
    ap.add_argument("--summary", default=None, help="train.py summary.json (steps, args, PF-WILLOW during training)")
    ap.add_argument("--pck", default=None, help="eval_willow.py --json output for the exported head")
    ap.add_argument("--command", default=None, help="training command line, for the README")
    ap.add_argument("--notes", default=None, help="extra text for README.md")
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args()

    tensors = {}
    for f in args.npz:
        with np.load(f) as z:
            for k in z.files:
                tensors[k] = z[k]
    if args.npy_dir:
        for f in os.listdir(args.npy_dir):
            if f.endswith(".npy"):
                tensors[f[:-4]] = np.load(os.path.join(args.npy_dir, f))
    ref = reference_shapes()
    missing = sorted(set(ref) - set(tensors))
    extra = sorted(set(tensors) - set(ref))
    bad = [k for k in ref if k in tensors and tuple(tensors[k].shape) != ref[k]]
    if missing or extra or bad:
        print("export: mismatch: missing %s extra %s bad shapes %s" % (missing[:5], extra[:5], bad[:5]))
        sys.exit(1)
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for k in sorted(ref):
        a = tensors[k].astype(np.float16)
        if not np.isfinite(a).all():
            print("export: non-finite values in", k)
            sys.exit(1)
        p = os.path.join(args.out, k + ".npy")
        np.save(p, a)
        total += os.path.getsize(p)
    print("export: wrote %d tensors (%.1f MB) to %s" % (len(ref), total / 1e6, args.out))
    if args.no_readme:
        return
    meta = dict(name=os.path.basename(os.path.normpath(args.out)), format="float16 .npy, PyTorch layouts, "
                "names as ../shared/models/mmnet_head_v0 (SPEC.md section 3)", tensors=len(ref), bytes=total)
    if args.summary:
        s = json.load(open(args.summary))
        meta["training"] = dict(args=s.get("args"), steps=s.get("steps"), best_step=s.get("best_step"),
                                train_time_s=s.get("train_time_s"), device=s.get("device"), torch=s.get("torch"),
                                willow_during_training_best=s.get("best_res"))
    if args.command:
        meta["command"] = args.command
    if args.pck:
        meta["pf_willow_pck_python"] = json.load(open(args.pck))
    json.dump(meta, open(os.path.join(args.out, "meta.json"), "w"), indent=1)
    lines = ["# %s" % meta["name"], "",
             "MMNet head trained in this project (`training/`, see `training/README.md`), float16 `.npy`, same tensor",
             "names, shapes and layouts as head v0 (`../shared/models/SPEC.md` section 3). Details in `meta.json`.", ""]
    if args.command:
        lines += ["Training command:", "", "```", args.command, "```", ""]
    if "training" in meta:
        t = meta["training"]
        lines += ["Steps: %s (best checkpoint at step %s), %s, torch %s." % (
            t["steps"], t["best_step"], t["device"], t["torch"]), ""]
    if args.pck:
        r = meta["pf_willow_pck_python"]
        lines += ["PF-WILLOW PCK (%), measured with `training/eval_willow.py` (PyTorch, this float16 export):", "",
                  "| prediction | a=0.05 | a=0.10 | a=0.15 |", "|---|---|---|---|"]
        for k in ["s4", "s3", "s2", "s1", "raw", "fused_s3", "fused_s2", "fused_s1"]:
            if k in r:
                lines.append("| %s | %.2f | %.2f | %.2f |" % (k, *r[k]))
        lines.append("")
    lines += ["Data: synthetic homographies of Caltech-101 photos (CC BY 4.0) and same-category Caltech-101 pairs",
              "(pseudo-labels); PF-WILLOW used for model selection and evaluation only.", ""]
    if args.notes:
        lines += [args.notes, ""]
    open(os.path.join(args.out, "README.md"), "w").write("\n".join(lines))


if __name__ == "__main__":
    main()
