"""Fine-tune the stride-16/32 path of the head on CPU from cached trunk features (no GPU needed).

train.py runs the trunk on every step, which is fine on a GPU and too slow on two CPU cores. The trunk is frozen,
so this script runs it once per photo and caches the taps the scale-3/4 path reads (block2_unit4,
block3_unit1..23; float16 memmaps, ~13 MB per photo), then trains only the parameters that produce G_3 and
G_4 (their MSBlocks and 1x1 projections, attention 3 and 4, up 4, fuse 3). Scales 1-2 keep their weights.

Signal (the same as train.py, with a stronger, fixed teacher):
  * same-category Caltech-101 pairs, labelled on the stride-16 grid by the teacher (the --teacher head) with
    the fused score and flip test-time augmentation of SPEC section 4b:
      S = log_softmax(row_3) + lam * log_softmax(raw / tau) + log_softmax(row_3 of the flipped photos),
    kept where forward-backward consistent (±--fb-tol cells) and raw cosine >= --thr. Loss per kept cell:
    KL(softmax(S) || student's scale-3 row) + Gaussian cross-entropy at scales 4 and 3 around the teacher's
    refined prediction (coarser row detached);
  * synthetic pairs: a photo and a cached random homography of it (photometric jitter on the target), Gaussian
    cross-entropy at scales 4 and 3 around the true warped point.
--labels FILE replaces the teacher's same-category labels by those of scripts/train/pseudo-labels.ts: the shipped
default prediction (fused, geometric consensus included) at the centre of every stride-16 source cell, kept where
its calibrated confidence is >= --label-confidence and its forward-backward distance <= --label-back (over the
photo's longer side); the loss is the Gaussian cross-entropy there, plus --w-distill x KL(the --init head's own
scale-3 row || the student's) on every cell, which keeps the head close to a matcher of its own. So the head learns
the matches that the pair's geometry agrees with (self-training).
--objective fused puts the scale-3 terms (KL and cross-entropies) on the prediction the app shows instead of the
head's row: log_softmax(row_3) + lam * log_softmax(raw / tau), the raw part fixed (no gradient). The teacher's
score already holds the raw prior; fitting the head's row alone to it made the prior count twice once fused.
Model selection: PF-WILLOW PCK on the val split (scripts/eval/pf-willow-split.json) from cached features every
--eval-every-s seconds (scale 3 for --objective head, fused scale 3 for fused); test is logged beside it.

Example: /usr/bin/python3 training/distill.py --init models/mmnet_head_v1 --teacher models/mmnet_head_v1 \
           --time-budget 2700 --out training/runs/d1
         /usr/bin/python3 training/distill.py --evaluate models/mmnet_head_v2 models/mmnet_head_v3 --fit-fused --out /tmp/e
"""
import argparse
import hashlib
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmnet as M  # noqa: E402
import data as D  # noqa: E402
from train import add_signal_args, cell_centers, gaussian_ce, run_log, save_head_parts  # noqa: E402

H, W = 224, 320
TAPS3 = M.SCALES[3][1]
TAP4 = M.SCALES[4][1][0]
C3 = sum(M.tap_channels(t) for t in TAPS3)  # 23040
RAW_SLICE = slice(C3 - 1024, C3)  # block3_unit22 is the last stride-16 tap
H3, W3, H4, W4 = H // 16, W // 16, H // 32, W // 32


def trainable(name):
    """Parameters of the scale-3/4 path."""
    tap = name.split(".")[1] if name.startswith(("ms.", "down.")) else None
    if tap is not None:
        return tap in TAPS3 or tap == TAP4
    return name.startswith(("attn.3.", "attn.4.", "up.4.", "fuse.3."))


def head34(head, t3, t4):
    """t3 [B,C3,14,20], t4 [B,1024,7,10] -> {3: G_3, 4: G_4} (the full head's scale-3/4 outputs)."""
    acc = None
    off = 0
    for t in TAPS3:
        c = M.tap_channels(t)
        d = head.down[t](head.ms[t](t3[:, off:off + c]))
        acc = d if acc is None else acc + d
        off += c
    g4 = head.attn["4"](head.down[TAP4](head.ms[TAP4](t4)))
    g3 = head.fuse["3"](torch.cat([head.attn["3"](acc), head.up["4"](g4)], 1))
    return {3: g3, 4: g4}


class Cache:
    """float16 memmaps of the scale-3/4 taps (and teacher maps) of a set of 224x320 photos."""

    def __init__(self, path, n, teacher=False, mode="r"):
        self.path = path
        self.t3 = np.lib.format.open_memmap(path + ".t3.npy", mode, np.float16, (n, C3, H3, W3))
        self.t4 = np.lib.format.open_memmap(path + ".t4.npy", mode, np.float16, (n, 1024, H4, W4))
        if teacher:  # teacher G_3/G_4 of the photo and of its mirror image (flipped back), [n, 2, F, h, w]
            self.g3 = np.lib.format.open_memmap(path + ".g3.npy", mode, np.float16, (n, 2, M.F_DIM, H3, W3))
            self.g4 = np.lib.format.open_memmap(path + ".g4.npy", mode, np.float16, (n, 2, M.F_DIM, H4, W4))

    @staticmethod
    def exists(path):
        return os.path.exists(path + ".done")

    def taps(self, idx):
        idx = np.asarray(idx)
        return (torch.from_numpy(self.t3[idx].astype(np.float32)), torch.from_numpy(self.t4[idx].astype(np.float32)))


@torch.no_grad()
def trunk34(trunk, x):
    taps = trunk(M.MMNet.normalize(x), taps=TAPS3 + [TAP4])
    return torch.cat([taps[t] for t in TAPS3], 1), taps[TAP4]


@torch.no_grad()
def build(path, images, trunk, teacher=None, batch=4, log=print):
    """images: [n,3,H,W] 0..255 (uint8 or float); teacher: also cache its maps of each photo and its mirror."""
    n = len(images)
    c = Cache(path, n, teacher is not None, mode="w+")
    t0 = time.time()
    for i in range(0, n, batch):
        x = images[i:i + batch].float()
        t3, t4 = trunk34(trunk, x)
        c.t3[i:i + len(x)] = t3.half().numpy()
        c.t4[i:i + len(x)] = t4.half().numpy()
        if teacher is not None:
            g = head34(teacher, t3, t4)
            f3, f4 = trunk34(trunk, x.flip(-1))
            gf = head34(teacher, f3, f4)
            c.g3[i:i + len(x)] = torch.stack([g[3], gf[3].flip(-1)], 1).half().numpy()
            c.g4[i:i + len(x)] = torch.stack([g[4], gf[4].flip(-1)], 1).half().numpy()
        if (i // batch) % 25 == 0:
            log("cache %s: %d/%d (%.0fs)" % (os.path.basename(path), i + len(x), n, time.time() - t0))
    c.t3.flush()
    c.t4.flush()
    if teacher is not None:
        c.g3.flush()
        c.g4.flush()
    open(path + ".done", "w").write("%d\n" % n)


def rows34(Gs, Gt, pts):
    return M.c2f_rows(Gs, Gt, pts, scales=(4, 3), detach_coarse=True)


def fb_labels(S_ab, S_ba, raw_ab, args):
    """Teacher log-probs [B,K,K], refined target points [B,K,2] and kept cells [B,K] for a -> b."""
    B, K, _ = S_ab.shape
    f = S_ab.argmax(-1)
    back = torch.gather(S_ba.argmax(-1), 1, f)
    k = torch.arange(K).view(1, K)
    cheb = torch.maximum((back // W3 - k // W3).abs(), (back % W3 - k % W3).abs())
    sim = torch.gather(raw_ab, 2, f.unsqueeze(-1)).squeeze(-1)
    _, pts = M.predict(S_ab.view(B, K, H3, W3), 16)
    return torch.log_softmax(S_ab, -1), pts, (cheb <= args.fb_tol) & (sim >= args.thr)


@torch.no_grad()
def teacher_labels(g3, g4, Na, Nb, cen, args):
    """g3/g4: teacher maps of a and b, each [B,2,F,h,w] (photo, mirror flipped back); Na/Nb raw [B,1024,14,20].
    -> fb_labels for a -> b and for b -> a."""
    raw_ab = torch.einsum("bck,bcm->bkm", Na.flatten(2), Nb.flatten(2))  # B,K,K
    S = []
    for (sa, sb, raw) in ((0, 1, raw_ab), (1, 0, raw_ab.transpose(1, 2))):
        s = args.lam * torch.log_softmax(raw / args.tau, -1)
        for f in (0, 1):
            rows = rows34({3: g3[sa][:, f], 4: g4[sa][:, f]}, {3: g3[sb][:, f], 4: g4[sb][:, f]}, cen)
            s = s + torch.log_softmax(rows[3].flatten(2), -1)
        S.append(s)
    return fb_labels(S[0], S[1], raw_ab, args), fb_labels(S[1], S[0], raw_ab.transpose(1, 2), args)


class WillowCached:
    """PF-WILLOW scale-3/4 and fused scale-3 PCK on val and test from cached taps (model selection; the reported
    numbers come from tfjs)."""

    def __init__(self, cache_dir, trunk, log):
        from eval_willow import Willow
        self.w = Willow()
        path = os.path.join(cache_dir, "willow")
        if not Cache.exists(path):
            build(path, self.w.images, trunk, log=log)
        self.c = Cache(path, len(self.w.names))
        self.N = M.l2n(torch.from_numpy(self.c.t3[:, RAW_SLICE].astype(np.float32)))  # raw block3_unit22

    @torch.no_grad()
    def features(self, head):
        G = {3: [], 4: []}
        for i in range(0, len(self.w.names), 10):
            g = head34(head, *self.c.taps(range(i, min(i + 10, len(self.w.names)))))
            G[3].append(g[3])
            G[4].append(g[4])
        G = {s: torch.cat(v) for s, v in G.items()}
        # eval_willow walks scales 4..1; give it dummy finer maps and keep only s3/s4
        G[2] = torch.zeros(len(G[3]), M.F_DIM, 2 * H3, 2 * W3)
        G[1] = torch.zeros(len(G[3]), M.F_DIM, 4 * H3, 4 * W3)
        return G, self.N

    @torch.no_grad()
    def evaluate(self, head, lam, tau, splits=("val", "test")):
        """-> {split: {"s3", "s4", "fused_s3": PCK at the three alphas}}."""
        feats = self.features(head)
        out = {}
        for split in splits:
            res = self.w.evaluate(None, modes=("head", "fused"), feats=feats, split=split, lam=lam, tau=tau,
                                  fused_scales=(3,))
            out[split] = {k: res[k] for k in ("s3", "s4", "fused_s3")}
        return out


def evaluate_heads(args, log):
    """--evaluate: scale-3/4 and fused scale-3 PCK of each head on all/val/test from the cached PF-WILLOW taps;
    with --fit-fused also the lambda/tau grid of eval_willow.fit_fused (chosen on val)."""
    from eval_willow import fit_fused
    willow = WillowCached(args.cache, M.Trunk().eval(), log)
    for d in args.evaluate:
        head = M.load_head_npy(M.Head(), d).eval()
        res = willow.evaluate(head, args.lam, args.tau, splits=("all", "val", "test"))
        for split, r in res.items():
            log("%s %-4s %s" % (d, split, "  ".join("%s %s" % (k, " / ".join("%.2f" % x for x in v)) for k, v in r.items())))
        if args.fit_fused:
            fit_fused(willow.w, willow.features(head), log=lambda line: log(d, line))


class PseudoLabels:
    """scripts/train/pseudo-labels.ts's labels: points [K,2] in resized pixels and kept cells [K] per pair and direction."""

    def __init__(self, path, min_confidence, max_back):
        d = json.load(open(path))
        self.photos = d["photos"]
        index = {p: k for k, p in enumerate(self.photos)}
        self.pairs = [(index[p["a"]], index[p["b"]]) for p in d["pairs"]]

        def direction(x):
            pts = torch.tensor([x["x"], x["y"]]).T * torch.tensor([float(W), float(H)])
            ok = (torch.tensor(x["confidence"]) >= min_confidence) & (torch.tensor(x["back"]) <= max_back)
            assert len(pts) == H3 * W3, "labels on a %d-cell grid, expected %d" % (len(pts), H3 * W3)
            return pts, ok

        self.ab = [direction(p["ab"]) for p in d["pairs"]]
        self.ba = [direction(p["ba"]) for p in d["pairs"]]
        self.kept = float(torch.stack([ok for _, ok in self.ab + self.ba]).float().mean())
        # the cache of the photos' taps is named by the photos
        self.tag = hashlib.sha256("\n".join(self.photos).encode()).hexdigest()[:12]

    def batch(self, n):
        """-> photo indices a, b and (points, kept) for a -> b and b -> a, each stacked over n random pairs."""
        ks = [random.randrange(len(self.pairs)) for _ in range(n)]
        stack = lambda labels: tuple(torch.stack(v) for v in zip(*(labels[k] for k in ks)))
        return [self.pairs[k][0] for k in ks], [self.pairs[k][1] for k in ks], stack(self.ab), stack(self.ba)


def fused3(rows, raw, args):
    """rows with the scale-3 row replaced by the fused score (raw [B,P,14,20] is fixed)."""
    return {**rows, 3: M.fused_scores(rows[3], raw, 3, args.lam, args.tau)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--init", default="models/mmnet_head_v1", help="head to start from")
    ap.add_argument("--teacher", default="models/mmnet_head_v1", help="head of the fused + flip teacher")
    ap.add_argument("--cache", default=".cache/distill", help="feature cache folder (reused when complete)")
    ap.add_argument("--per-class", type=int, default=8, help="Caltech photos per class to cache")
    ap.add_argument("--max-classes", type=int, default=None)
    ap.add_argument("--synthetic", type=int, default=300, help="cached synthetic pairs")
    ap.add_argument("--time-budget", type=float, default=2700, help="seconds of training (evals excluded)")
    ap.add_argument("--steps", type=int, default=10 ** 9)
    ap.add_argument("--batch-sem", type=int, default=6)
    ap.add_argument("--batch-syn", type=int, default=2)
    ap.add_argument("--pts", type=int, default=64, help="synthetic points per pair and direction")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--labels", help="same-category labels from scripts/train/pseudo-labels.ts instead of --teacher")
    ap.add_argument("--label-confidence", type=float, default=0.7, help="--labels: least confidence of a kept cell")
    ap.add_argument("--label-back", type=float, default=0.05, help="--labels: most forward-backward distance")
    ap.add_argument("--select", choices=("s3", "fused_s3"), help="val score that picks the checkpoint (default: by --objective)")
    ap.add_argument("--keep-checkpoints", action="store_true", help="also save the head at every evaluation (OUT/step-N)")
    ap.add_argument("--objective", choices=("head", "fused"), default="head",
                    help="scale-3 losses on the head's row or on the fused prediction (raw prior fixed)")
    add_signal_args(ap, w_syn=0.5)
    ap.add_argument("--eval-every-s", type=float, default=300)
    ap.add_argument("--no-eval", action="store_true", help="no PF-WILLOW (smoke tests): keep the last state")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--evaluate", nargs="+", metavar="HEAD", help="only evaluate these heads from the PF-WILLOW cache")
    ap.add_argument("--fit-fused", action="store_true", help="with --evaluate: lambda/tau grid, chosen on val")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.cache, exist_ok=True)
    torch.set_num_threads(args.threads or max(1, os.cpu_count() or 1))
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t_start = time.time()
    log = run_log(args)
    if args.evaluate:
        return evaluate_heads(args, log)
    trunk = M.Trunk().eval()
    head = M.load_head_npy(M.Head(), args.init)
    labelled = teacher = anchor = None
    if args.labels:
        if args.w_distill > 0:
            anchor = M.load_head_npy(M.Head(), args.init).eval()
        labelled = PseudoLabels(args.labels, args.label_confidence, args.label_back)
        log("labels: %d pairs, %.1f%% of cells kept" % (len(labelled.pairs), 100 * labelled.kept))
        imgs = D.load_photos([os.path.join(D.caltech_dir(), p) for p in labelled.photos], H, W)
        cal_path = os.path.join(args.cache, "photos%d-%s" % (len(imgs), labelled.tag))
    else:
        teacher = M.load_head_npy(M.Head(), args.teacher).eval()
        imgs, _, per_class = D.load_caltech(H, W, max_per_class=args.per_class, max_classes=args.max_classes)
        # the cached teacher maps belong to one teacher: name it in the cache
        teacher_tag = os.path.basename(os.path.normpath(args.teacher))
        cal_path = os.path.join(args.cache, "caltech%d-%d-%s" % (args.per_class, len(imgs), teacher_tag))
    if not Cache.exists(cal_path):
        build(cal_path, imgs, trunk, teacher, log=log)
    cal = Cache(cal_path, len(imgs), teacher=teacher is not None)

    syn_path = os.path.join(args.cache, "synthetic%d-%d%s" % (args.synthetic, len(imgs), "-" + labelled.tag if labelled else ""))
    g = torch.Generator().manual_seed(1234)
    src_idx = torch.randint(len(imgs), (args.synthetic,), generator=g)
    src, tgt, ps, pt, v, qt, qs, v2 = D.synthetic_pairs(imgs[src_idx].float(), g, args.pts)
    if not Cache.exists(syn_path):
        build(syn_path, tgt, trunk, log=log)
    syn = Cache(syn_path, args.synthetic)
    del src, tgt
    willow = None if args.no_eval else WillowCached(args.cache, trunk, log)
    log("caches ready (%.0fs)" % (time.time() - t_start))

    params = [p for n, p in head.named_parameters() if trainable(n)]
    for n, p in head.named_parameters():
        p.requires_grad_(trainable(n))
    log("trainable tensors %d, values %d" % (len(params), sum(p.numel() for p in params)))
    opt = torch.optim.Adam(params, lr=args.lr)
    cenB = cell_centers(H3, W3, 16, "cpu").unsqueeze(0).expand(args.batch_sem, -1, -1)  # every stride-16 cell
    sem_sigma = lambda s: max(1.0, args.sem_sigma_px / M.STRIDES[s])
    syn_sigma = lambda s: 1.0

    best = dict(score=-1.0)
    select = args.select or ("fused_s3" if args.objective == "fused" else "s3")
    history = []

    def consider(step):
        if willow is None:
            best.update(score=float("nan"), step=step, res=None, state=head.state_dict())
            history.append(dict(step=step, res=None))
            return
        head.eval()
        t0 = time.time()
        res = willow.evaluate(head, args.lam, args.tau)
        head.train()
        score = res["val"][select][1]
        history.append(dict(step=step, res=res))
        for split in ("val", "test"):
            log("eval step %d %-4s (%.0fs): %s" % (step, split, time.time() - t0, "  ".join(
                "%s %s" % (k, " / ".join("%.2f" % x for x in v)) for k, v in res[split].items())))
        if args.keep_checkpoints:
            os.makedirs(os.path.join(args.out, "step-%d" % step), exist_ok=True)
            save_head_parts(head.state_dict(), os.path.join(args.out, "step-%d" % step))
        if score > best["score"]:
            best.update(score=score, step=step, res=res,
                        state={k: v_.detach().clone() for k, v_ in head.state_dict().items()})
            log("new best at step %d: val %s PCK@0.1 = %.2f (test %.2f)" % (step, select, score, res["test"][select][1]))

    consider(0)
    head.train()
    train_time = last_eval = 0.0
    step = 0
    Bc, Bs = args.batch_sem, args.batch_syn
    fused = args.objective == "fused"
    while step < args.steps and train_time < args.time_budget:
        t0 = time.time()
        frac = min(1.0, train_time / args.time_budget)
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * frac)) * min(1.0, (step + 1) / 30)
        for gp in opt.param_groups:
            gp["lr"] = lr
        if labelled:
            ia, ib, (pts_ab, ok_ab), (pts_ba, ok_ba) = labelled.batch(Bc)
        else:
            ia, ib = [], []
            for _ in range(Bc):
                a, b = random.sample(per_class[random.randrange(len(per_class))], 2)
                ia.append(a)
                ib.append(b)
        js = rng.integers(args.synthetic, size=Bs)
        a3, a4 = cal.taps(ia + ib + src_idx[js].tolist())
        s3, s4 = syn.taps(js)
        G = head34(head, torch.cat([a3, s3]), torch.cat([a4, s4]))
        part = lambda lo, hi: {s: G[s][lo:hi] for s in G}
        loss = torch.zeros(())
        stats = {}
        # same-category pairs: dense teacher labels on the stride-16 grid
        with torch.no_grad():
            Na = M.l2n(a3[:Bc, RAW_SLICE])
            Nb = M.l2n(a3[Bc:2 * Bc, RAW_SLICE])
            if labelled:
                lp_ab = lp_ba = None
                if anchor is not None:
                    Ta = head34(anchor, a3[:Bc], a4[:Bc])
                    Tb = head34(anchor, a3[Bc:2 * Bc], a4[Bc:2 * Bc])
                    lp_ab = torch.log_softmax(rows34(Ta, Tb, cenB)[3].flatten(2), -1)
                    lp_ba = torch.log_softmax(rows34(Tb, Ta, cenB)[3].flatten(2), -1)
            else:
                tg3 = [torch.from_numpy(cal.g3[np.array(ix)].astype(np.float32)) for ix in (ia, ib)]
                tg4 = [torch.from_numpy(cal.g4[np.array(ix)].astype(np.float32)) for ix in (ia, ib)]
                (lp_ab, pts_ab, ok_ab), (lp_ba, pts_ba, ok_ba) = teacher_labels(tg3, tg4, Na, Nb, cenB, args)
            raw_ab = torch.einsum("bck,bcm->bkm", Na.flatten(2), Nb.flatten(2)).view(Bc, -1, H3, W3)
            raw_ba = raw_ab.flatten(2).transpose(1, 2).reshape(Bc, -1, H3, W3)
        Ga, Gb = part(0, Bc), part(Bc, 2 * Bc)
        l_sem = l_dis = 0.0
        for Gs_, Gt_, lp, pts, ok, raw in ((Ga, Gb, lp_ab, pts_ab, ok_ab, raw_ab), (Gb, Ga, lp_ba, pts_ba, ok_ba, raw_ba)):
            rows = rows34(Gs_, Gt_, cenB)
            if fused:
                rows = fused3(rows, raw, args)
            l_sem = l_sem + gaussian_ce(rows, pts, ok, sem_sigma, scales=(4, 3)) / 2
            if lp is None:
                continue
            slp = torch.log_softmax(rows[3].flatten(2), -1)
            kl = (lp.exp() * (lp - slp)).sum(-1)
            # the anchor (--labels) holds on every cell, the teacher where its label is kept
            okf = torch.ones_like(ok, dtype=torch.float32) if labelled else ok.float()
            l_dis = l_dis + (kl * okf).sum() / okf.sum().clamp(min=1) / 2
        loss = loss + args.w_sem * l_sem + args.w_distill * l_dis
        stats.update(sem=float(l_sem), dis=float(l_dis), ok=float(ok_ab.float().mean()))
        if Bs:
            Gsrc, Gtgt = part(2 * Bc, 2 * Bc + Bs), part(2 * Bc + Bs, 2 * Bc + 2 * Bs)
            jt = torch.from_numpy(js)
            r_st, r_ts = rows34(Gsrc, Gtgt, ps[jt]), rows34(Gtgt, Gsrc, qt[jt])
            if fused:
                Ns_ = M.l2n(a3[2 * Bc:, RAW_SLICE])
                Nt_ = M.l2n(s3[:, RAW_SLICE])
                r_st = fused3(r_st, M.raw_rows(Ns_, Nt_, ps[jt]), args)
                r_ts = fused3(r_ts, M.raw_rows(Nt_, Ns_, qt[jt]), args)
            l_syn = (gaussian_ce(r_st, pt[jt], v[jt], syn_sigma, scales=(4, 3))
                     + gaussian_ce(r_ts, qs[jt], v2[jt], syn_sigma, scales=(4, 3))) / 2
            loss = loss + args.w_syn * l_syn
            stats["syn"] = float(l_syn)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(params, 10.0)
        opt.step()
        train_time += time.time() - t0
        step += 1
        if step % 10 == 0 or step <= 3:
            log("step %d t=%.0fs lr=%.2e loss %.4f gn %.2f %s" % (
                step, train_time, lr, float(loss), float(gn), " ".join("%s %.4f" % kv for kv in stats.items())))
        if train_time - last_eval >= args.eval_every_s:
            last_eval = train_time
            consider(step)
    if history[-1]["step"] != step:
        consider(step)
    save_head_parts(best["state"], args.out)
    json.dump(dict(args=vars(args), steps=step, train_time_s=train_time, wall_s=time.time() - t_start,
                   best_step=best["step"], best_score=best["score"], best_res=best["res"], history=history,
                   device="cpu", torch=torch.__version__),
              open(os.path.join(args.out, "summary.json"), "w"), indent=1)
    log("done: %d steps, train %.0fs, wall %.0fs, best step %d val %s PCK@0.1 %.2f" % (
        step, train_time, time.time() - t_start, best["step"], select, best["score"]))


if __name__ == "__main__":
    main()
