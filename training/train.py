"""Train (fine-tune) the MMNet head with a frozen ResNet-101 v2 trunk, without keypoint labels.

Signal per step:
  (a) synthetic pairs: a Caltech-101 photo and a random homography of it (rotation, scale, shear, perspective,
      translation), photometric jitter on both; dense ground truth from the warp;
  (b) same-category Caltech-101 pairs, pseudo-labelled on the stride-16 grid: round 0 (`--raw-rounds`) by mutual
      nearest neighbours of L2-normalised block3_unit22 with a similarity threshold; later rounds by the
      forward-backward consistent matches of the teacher (a snapshot of the head taken at every round start,
      fused with the raw trunk similarity as in SPEC section 4b: log_softmax(row_3) + log_softmax(raw / tau)).
Loss per scale and in both directions: softmax cross-entropy of the coarse-to-fine row at a source point against a
Gaussian around the true/pseudo target (coarser row detached), plus (`--w-distill`) a KL term pulling the scale-3
row towards the teacher's distribution at the labelled points.
PF-WILLOW is evaluated during training on the val and test splits (scripts/eval/pf-willow-split.json); model selection:
best PCK@0.1 over scales on val only; the best head is saved.

Example (GPU): python3 training/train.py --device cuda --time-budget 300 --out runs/a
Smoke (CPU):   /usr/bin/python3 training/train.py --device cpu --H 96 --W 128 --steps 3 --batch-syn 1 --batch-sem 1 \
                 --max-classes 4 --max-per-class 4 --no-eval --out /tmp/x
"""
import argparse
import copy
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


def gaussian_ce(rows, pt, valid, sigma_cells, scales=(4, 3, 2, 1)):
    """rows: dict s -> [B,P,h,w]; pt [B,P,2] target points (resized continuous coords); valid [B,P] bool."""
    total = 0.0
    vf = valid.float()
    n = vf.sum().clamp(min=1)
    for s in scales:
        r = rows[s]
        B, P, h, w = r.shape
        st = M.STRIDES[s]
        sig = float(sigma_cells(s)) * st
        cx = (torch.arange(w, device=r.device, dtype=r.dtype) + 0.5) * st
        cy = (torch.arange(h, device=r.device, dtype=r.dtype) + 0.5) * st
        wx = torch.exp(-(cx.view(1, 1, w) - pt[..., 0:1]) ** 2 / (2 * sig * sig))
        wy = torch.exp(-(cy.view(1, 1, h) - pt[..., 1:2]) ** 2 / (2 * sig * sig))
        t = (wy.unsqueeze(-1) * wx.unsqueeze(-2)).flatten(2)
        t = t / t.sum(-1, keepdim=True).clamp(min=1e-12)
        lp = torch.log_softmax(r.flatten(2), -1)
        ce = -(t * lp).sum(-1)
        total = total + (ce * vf).sum() / n
    return total / len(scales)


def cell_centers(h, w, stride, device):
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) * stride
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) * stride
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.flatten(), gy.flatten()], -1)  # hw, 2


@torch.no_grad()
def pseudo_labels(GTa, GTb, Na, Nb, tau, lam, thr, fb_tol):
    """Labels on the stride-16 grid of a (-> b). GT* None: raw mutual nearest neighbours.
    Returns centers [B,K,2], refined target points [B,K,2], ok [B,K], teacher log-probs [B,K,h*w]."""
    B, C, h, w = Na.shape
    K = h * w
    cen = cell_centers(h, w, 16, Na.device).unsqueeze(0).expand(B, -1, -1)
    raw_ab = torch.einsum("bck,bcm->bkm", Na.flatten(2), Nb.flatten(2))  # B,K,M
    raw_ba = raw_ab.transpose(1, 2)
    if GTa is None:
        S_ab = torch.log_softmax(raw_ab / tau, -1)
        S_ba = torch.log_softmax(raw_ba / tau, -1)
    else:
        r_ab = M.c2f_rows(GTa, GTb, cen, scales=(4, 3))[3].flatten(2)
        r_ba = M.c2f_rows(GTb, GTa, cen, scales=(4, 3))[3].flatten(2)
        S_ab = torch.log_softmax(r_ab, -1) + lam * torch.log_softmax(raw_ab / tau, -1)
        S_ba = torch.log_softmax(r_ba, -1) + lam * torch.log_softmax(raw_ba / tau, -1)
    f = S_ab.argmax(-1)  # B,K
    g = S_ba.argmax(-1)  # B,M
    back = torch.gather(g, 1, f)
    k = torch.arange(K, device=Na.device).view(1, K)
    cheb = torch.maximum((back // w - k // w).abs(), (back % w - k % w).abs())
    sim = torch.gather(raw_ab, 2, f.unsqueeze(-1)).squeeze(-1)
    ok = (cheb <= fb_tol) & (sim >= thr)
    _, pts = M.predict(S_ab.view(B, K, h, w), 16)
    return cen, pts, ok, torch.log_softmax(S_ab, -1)


def pick(ok, n, gen):
    """choose up to n indices per row, preferring ok ones -> idx [B,n], valid [B,n]"""
    B, K = ok.shape
    n = min(n, K)
    r = torch.rand(B, K, generator=gen).to(ok.device) + ok.float() * 2
    idx = r.topk(n, -1).indices
    return idx, torch.gather(ok, 1, idx)


def gather_pts(x, idx):
    return torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def split(G, sizes):
    out = [dict() for _ in sizes]
    for s, g in G.items():
        for i, part in enumerate(torch.split(g, sizes)):
            out[i][s] = part
    return out


def run_log(args):
    """A print that also appends to OUT/train_log.txt; logs the arguments first."""
    logf = open(os.path.join(args.out, "train_log.txt"), "a")

    def log(*a):
        s = " ".join(str(x) for x in a)
        print(s, flush=True)
        logf.write(s + "\n")
        logf.flush()

    log("args", json.dumps(vars(args)))
    return log


def save_head_parts(state, out):
    """OUT/head_best_part{1,2}.npz: float16, SPEC/head-v0 names and PyTorch layouts, two parts of < 16 MiB."""
    state = {k: v.detach().cpu().half().numpy() for k, v in state.items()}
    np.savez(os.path.join(out, "head_best_part1.npz"), **{k: v for k, v in state.items() if "block3" in k})
    np.savez(os.path.join(out, "head_best_part2.npz"), **{k: v for k, v in state.items() if "block3" not in k})


def add_signal_args(ap, w_syn=1.0):
    """Pseudo-label and loss options (shared with distill.py)."""
    ap.add_argument("--thr", type=float, default=0.3, help="raw cosine threshold for pseudo-labels")
    ap.add_argument("--fb-tol", type=int, default=1, help="forward-backward tolerance (cells) of the labels")
    ap.add_argument("--tau", type=float, default=0.05)
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--w-syn", type=float, default=w_syn)
    ap.add_argument("--w-sem", type=float, default=1.0)
    ap.add_argument("--w-distill", type=float, default=1.0)
    ap.add_argument("--sem-sigma-px", type=float, default=12.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--H", type=int, default=224)
    ap.add_argument("--W", type=int, default=320)
    ap.add_argument("--steps", type=int, default=10 ** 9)
    ap.add_argument("--time-budget", type=float, default=1e9, help="seconds of training (evals excluded)")
    ap.add_argument("--batch-syn", type=int, default=4)
    ap.add_argument("--batch-sem", type=int, default=12)
    ap.add_argument("--pts", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--init", default=None, help="head .npy folder to start from (default head v0); 'none': random")
    ap.add_argument("--round-steps", type=int, default=300, help="steps per pseudo-label round (teacher refresh)")
    ap.add_argument("--raw-rounds", type=int, default=0, help="initial rounds labelled by raw mutual NN only")
    add_signal_args(ap)
    ap.add_argument("--eval-every-s", type=float, default=30.0)
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--max-classes", type=int, default=None)
    ap.add_argument("--max-per-class", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    t_start = time.time()
    log = run_log(args)
    init = None if args.init == "none" else args.init
    net = M.MMNet(head_directory=init, load_head=args.init != "none").to(dev)
    trunk, head = net.trunk, net.head
    head.train()
    teacher = copy.deepcopy(head).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    imgs, labels, per_class = D.load_caltech(args.H, args.W, max_per_class=args.max_per_class,
                                             max_classes=args.max_classes)
    imgs = imgs.to(dev)
    log("caltech: %d images, %d classes, loaded in %.1fs" % (len(imgs), len(per_class), time.time() - t_start))

    willow = None
    if not args.no_eval:
        from eval_willow import Willow, fmt
        willow = Willow(device=dev, H=args.H, W=args.W)

    def evaluate(tag):
        head.eval()
        t0 = time.time()
        feats = willow.encode(_enc)
        res = {sp: willow.evaluate(None, modes=("head", "fused"), feats=feats, split=sp, lam=args.lam, tau=args.tau)
               for sp in ("val", "test")}
        head.train()
        for sp in ("val", "test"):
            log("eval %s, %s split (%.1fs)\n%s" % (tag, sp, time.time() - t0, fmt(res[sp])))
        return res

    def _enc(x):
        taps = trunk(M.MMNet.normalize(x))
        return head(taps), taps

    opt = torch.optim.Adam(head.parameters(), lr=args.lr)
    history = []
    best = dict(score=-1.0)

    def consider(step, res):
        score = max(res["val"]["s%d" % s][1] for s in (1, 2, 3, 4))
        history.append(dict(step=step, res=res, score=score))
        if score > best["score"]:
            best.update(score=score, step=step, res=res,
                        state={k: v.detach().float().cpu().clone() for k, v in head.state_dict().items()})
            log("new best at step %d: best-scale val PCK@0.1 = %.2f" % (step, score))

    if willow is not None:
        with torch.no_grad():
            consider(0, evaluate("step 0"))

    sem_sigma = lambda s: max(1.0, args.sem_sigma_px / M.STRIDES[s])
    syn_sigma = lambda s: 1.0
    train_time = 0.0
    last_eval = 0.0
    step = 0
    rnd = 0
    Bs, Bc, H, W = args.batch_syn, args.batch_sem, args.H, args.W
    while step < args.steps and train_time < args.time_budget:
        t0 = time.time()
        if step > 0 and step % args.round_steps == 0:
            rnd += 1
            teacher.load_state_dict(head.state_dict())
        frac = min(1.0, train_time / args.time_budget) if args.time_budget < 1e8 else step / max(1, args.steps)
        lr = args.lr * (0.5 * (1 + math.cos(math.pi * frac))) * min(1.0, (step + 1) / 50)
        for gparam in opt.param_groups:
            gparam["lr"] = lr
        parts = []
        if Bs:
            idx = torch.randint(len(imgs), (Bs,), generator=gen).to(dev)
            src, tgt, ps, pt, v, qt, qs, v2 = D.synthetic_pairs(imgs[idx].float(), gen, args.pts)
            parts += [src, tgt]
        if Bc:
            ia, ib = [], []
            for _ in range(Bc):
                c = per_class[random.randrange(len(per_class))]
                a, b = random.sample(c, 2)
                ia.append(a)
                ib.append(b)
            xa = imgs[torch.tensor(ia, device=dev)].float()
            xb = imgs[torch.tensor(ib, device=dev)].float()
            if random.random() < 0.5:  # flip both (same semantics)
                xa, xb = xa.flip(-1), xb.flip(-1)
            parts += [D.jitter(xa, gen, 0.5), D.jitter(xb, gen, 0.5)]
        x = torch.cat(parts)
        with torch.no_grad():
            taps = trunk(M.MMNet.normalize(x))
        G = head(taps)
        sizes = ([Bs, Bs] if Bs else []) + ([Bc, Bc] if Bc else [])
        Gp = split(G, sizes)
        loss = torch.zeros((), device=dev)
        stats = {}
        if Bs:
            Gsrc, Gtgt = Gp[0], Gp[1]
            l_syn = (gaussian_ce(M.c2f_rows(Gsrc, Gtgt, ps, detach_coarse=True), pt, v, syn_sigma)
                     + gaussian_ce(M.c2f_rows(Gtgt, Gsrc, qt, detach_coarse=True), qs, v2, syn_sigma)) / 2
            loss = loss + args.w_syn * l_syn
            stats["syn"] = float(l_syn.detach())
        if Bc:
            Ga, Gb = Gp[-2], Gp[-1]
            t3 = taps["block3_unit22"][-2 * Bc:]
            Na, Nb = M.l2n(t3[:Bc]), M.l2n(t3[Bc:])
            with torch.no_grad():
                if rnd < args.raw_rounds:
                    GTa = GTb = None
                    fb = 0
                else:
                    sem_taps = {k: v_[-2 * Bc:] for k, v_ in taps.items()}
                    GT = split(teacher(sem_taps), [Bc, Bc])
                    GTa, GTb = GT
                    fb = args.fb_tol
                cen, lab_ab, ok_ab, lp_ab = pseudo_labels(GTa, GTb, Na, Nb, args.tau, args.lam, args.thr, fb)
                _, lab_ba, ok_ba, lp_ba = pseudo_labels(GTb, GTa, Nb, Na, args.tau, args.lam, args.thr, fb)
            l_sem = 0.0
            l_dis = 0.0
            for (Gs_, Gt_, lab, ok, lp) in ((Ga, Gb, lab_ab, ok_ab, lp_ab), (Gb, Ga, lab_ba, ok_ba, lp_ba)):
                idx, val = pick(ok, args.pts, gen)
                p_src = gather_pts(cen, idx)
                p_tgt = gather_pts(lab, idx)
                rows = M.c2f_rows(Gs_, Gt_, p_src, detach_coarse=True)
                l_sem = l_sem + gaussian_ce(rows, p_tgt, val, sem_sigma) / 2
                if args.w_distill > 0:
                    tlp = gather_pts(lp, idx)  # B,n,hw
                    slp = torch.log_softmax(rows[3].flatten(2), -1)
                    kl = (tlp.exp() * (tlp - slp)).sum(-1)
                    vf = val.float()
                    l_dis = l_dis + (kl * vf).sum() / vf.sum().clamp(min=1) / 2
            loss = loss + args.w_sem * l_sem + args.w_distill * l_dis
            stats["sem"] = float(l_sem.detach())
            stats["dis"] = float(l_dis.detach()) if torch.is_tensor(l_dis) else 0.0
            stats["ok"] = float(ok_ab.float().mean())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(head.parameters(), 10.0)
        opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        train_time += time.time() - t0
        step += 1
        if step % 25 == 0 or step <= 3 or step == args.steps:
            log("step %d round %d t=%.0fs lr=%.2e loss %.4f gn %.2f %s" % (
                step, rnd, train_time, lr, float(loss.detach()), float(gn),
                " ".join("%s %.4f" % kv for kv in stats.items())))
        if willow is not None and train_time - last_eval >= args.eval_every_s:
            last_eval = train_time
            with torch.no_grad():
                consider(step, evaluate("step %d" % step))
    if willow is not None and (not history or history[-1]["step"] != step):
        with torch.no_grad():
            consider(step, evaluate("step %d (final)" % step))
    if willow is None:
        best.update(step=step, state={k: v.detach().float().cpu().clone() for k, v in head.state_dict().items()})
    save_head_parts(best["state"], args.out)
    summary = dict(args=vars(args), steps=step, train_time_s=train_time, wall_s=time.time() - t_start,
                   best_step=best.get("step"), best_score=best.get("score"), best_res=best.get("res"),
                   history=[dict(step=h["step"], res=h["res"]) for h in history],
                   device=torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
                   torch=torch.__version__)
    json.dump(summary, open(os.path.join(args.out, "summary.json"), "w"), indent=1)
    log("done: %d steps, train %.0fs, wall %.0fs, best step %s score %s" % (
        step, train_time, time.time() - t_start, best.get("step"), best.get("score")))


if __name__ == "__main__":
    main()
