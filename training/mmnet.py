"""MMNet on a ResNet-101 v2 trunk, exactly as ../shared/models/SPEC.md (PyTorch 1.13-2.x).

- Trunk: ResNet-101 v2 (TF-slim) blocks 1-3, float16 OHWI .npy weights promoted to float32, frozen.
- Head: MSBlock per tap, LocalAttention per scale, cross-scale transposed conv + fuse conv. Parameter names
  equal the file names of ../shared/models/mmnet_head_v0/*.npy, so `load_head_npy` / `state_dict` round-trip.
- Matching (SPEC section 4): coarse-to-fine correlation rows, argmax + 3x3 soft-argmax refinement, the raw
  block3_unit22 baseline and the fused prediction (section 4b).

Paths: trunk from $MMNET_MODELS_DIR/resnet_v2_101 (default ../shared/models relative to the repo root),
head from $MMNET_HEAD_DIR (default <models dir>/mmnet_head_v0).
"""
import glob
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared")


def models_dir():
    return os.environ.get("MMNET_MODELS_DIR", os.path.join(SHARED, "models"))


def trunk_dir():
    return os.environ.get("MMNET_TRUNK_DIR", os.path.join(models_dir(), "resnet_v2_101"))


def head_dir():
    return os.environ.get("MMNET_HEAD_DIR", os.path.join(models_dir(), "mmnet_head_v0"))


BLOCK_UNITS = {1: 3, 2: 4, 3: 23}
SCALES = {
    1: (4, ["block1_unit1", "block1_unit2"]),
    2: (8, ["block1_unit3", "block2_unit1", "block2_unit2", "block2_unit3"]),
    3: (16, ["block2_unit4"] + ["block3_unit%d" % u for u in range(1, 23)]),
    4: (32, ["block3_unit23"]),
}
STRIDES = {s: SCALES[s][0] for s in SCALES}
TAP_CHANNELS = {1: 256, 2: 512, 3: 1024}
F_DIM = 21


def tap_channels(t):
    return TAP_CHANNELS[int(t[5])]


def all_taps():
    return [t for s in (1, 2, 3, 4) for t in SCALES[s][1]]


# ----------------------------------------------------------------------------------------------------------
# Trunk
# ----------------------------------------------------------------------------------------------------------
class Trunk(nn.Module):
    """ResNet-101 v2 blocks 1-3; weights are buffers (frozen). forward(x in [-1,1], NCHW) -> dict of taps."""

    def __init__(self, directory=None):
        super().__init__()
        directory = directory or trunk_dir()
        pre = "resnet_v2_101_"
        self._names = []

        def load(name, ohwi=False):
            a = np.load(os.path.join(directory, pre + name + ".npy")).astype(np.float32)
            t = torch.from_numpy(a)
            if ohwi:
                t = t.permute(0, 3, 1, 2).contiguous()
            key = name.replace("/", "_")
            self.register_buffer(key, t)
            return key

        self.conv1_w = load("conv1_weights", True)
        self.conv1_b = load("conv1_Conv2D_bias")
        self.units = []
        for b in (1, 2, 3):
            n = BLOCK_UNITS[b]
            for u in range(1, n + 1):
                p = "block%d_unit_%d_bottleneck_v2_" % (b, u)
                d = dict(
                    name="block%d_unit%d" % (b, u),
                    stride=2 if u == n else 1,
                    mul=load(p + "preact_FusedBatchNorm_mul_0_param"),
                    add=load(p + "preact_FusedBatchNorm_add_param"),
                    c1w=load(p + "conv1_weights", True), c1b=load(p + "conv1_Conv2D_bias"),
                    c2w=load(p + "conv2_weights", True), c2b=load(p + "conv2_Conv2D_bias"),
                    c3w=load(p + "conv3_weights", True), c3b=load(p + "conv3_Conv2D_bias"),
                )
                if u == 1:
                    d["scw"] = load(p + "shortcut_weights", True)
                    d["scb"] = load(p + "shortcut_Conv2D_bias")
                self.units.append(d)
        self.eval()

    def train(self, mode=True):  # always eval (no BN / dropout anyway)
        return super().train(False)

    @torch.no_grad()
    def forward(self, x, taps=None):
        g = lambda k: getattr(self, k)
        x = F.conv2d(F.pad(x, (3, 3, 3, 3)), g(self.conv1_w), g(self.conv1_b), stride=2)
        # 3x3 max pool, stride 2, TF SAME padding (padding never wins)
        h, w = x.shape[-2:]
        ph = max((-(-h // 2) - 1) * 2 + 3 - h, 0)
        pw = max((-(-w // 2) - 1) * 2 + 3 - w, 0)
        x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), value=float("-inf"))
        x = F.max_pool2d(x, 3, 2)
        out = {}
        want = set(taps) if taps is not None else None
        last = None
        if want is not None:
            order = [u["name"] for u in self.units]
            last = max(order.index(t) for t in want)
        for i, u in enumerate(self.units):
            s = u["stride"]
            c = u["mul"]
            pre = F.relu(x * g(c).view(1, -1, 1, 1) + g(u["add"]).view(1, -1, 1, 1))
            if "scw" in u:
                sc = F.conv2d(pre, g(u["scw"]), g(u["scb"]))
            else:
                sc = x[:, :, ::s, ::s] if s > 1 else x
            r = F.relu(F.conv2d(pre, g(u["c1w"]), g(u["c1b"])))
            r = F.relu(F.conv2d(F.pad(r, (1, 1, 1, 1)), g(u["c2w"]), g(u["c2b"]), stride=s))
            r = F.conv2d(r, g(u["c3w"]), g(u["c3b"]))
            x = sc + r
            if want is None or u["name"] in want:
                out[u["name"]] = x
            if last is not None and i >= last:
                break
        return out


# ----------------------------------------------------------------------------------------------------------
# Head
# ----------------------------------------------------------------------------------------------------------
class MSBlock(nn.Module):
    def __init__(self, cin, c=32):
        super().__init__()
        self.conv = nn.Conv2d(cin, c, 3, padding=1)
        self.conv1 = nn.Conv2d(c, c, 3, padding=4, dilation=4)
        self.conv2 = nn.Conv2d(c, c, 3, padding=8, dilation=8)
        self.conv3 = nn.Conv2d(c, c, 3, padding=12, dilation=12)

    def forward(self, t):
        o = F.relu(self.conv(t))
        return o + F.relu(self.conv1(o)) + F.relu(self.conv2(o)) + F.relu(self.conv3(o))


class LocalAttention(nn.Module):
    def __init__(self, c=F_DIM, ci=10):
        super().__init__()
        self.theta = nn.Conv2d(c, ci, 1)
        self.phi = nn.Conv2d(c, ci, 1)
        self.g = nn.Conv2d(c, ci, 1)
        self.back = nn.Conv2d(ci, c, 1)

    def forward(self, x):
        h, w = x.shape[-2:]
        th = self.theta(x)
        ph = F.pad(self.phi(x), (1, 1, 1, 1), mode="replicate")
        gv = F.pad(self.g(x), (1, 1, 1, 1), mode="replicate")
        nth = th.norm(dim=1)
        sims, gs = [], []
        for dy in range(3):
            for dx in range(3):
                p = ph[:, :, dy:dy + h, dx:dx + w]
                sims.append((th * p).sum(1) / torch.clamp(nth * p.norm(dim=1), min=1e-8))
                gs.append(gv[:, :, dy:dy + h, dx:dx + w])
        a = torch.softmax(torch.stack(sims, 1), 1)  # N,9,h,w
        agg = (a.unsqueeze(2) * torch.stack(gs, 1)).sum(1)
        return x + self.back(agg)


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.ms = nn.ModuleDict({t: MSBlock(tap_channels(t)) for t in all_taps()})
        self.down = nn.ModuleDict({t: nn.Conv2d(32, F_DIM, 1) for t in all_taps()})
        self.attn = nn.ModuleDict({str(s): LocalAttention() for s in (1, 2, 3, 4)})
        self.up = nn.ModuleDict({str(s): nn.ConvTranspose2d(F_DIM, F_DIM, 4, 2, 1, bias=False) for s in (2, 3, 4)})
        self.fuse = nn.ModuleDict({str(s): nn.Conv2d(2 * F_DIM, F_DIM, 3, padding=1) for s in (1, 2, 3)})

    def forward(self, taps):
        E = {}
        for s in (1, 2, 3, 4):
            acc = None
            for t in SCALES[s][1]:
                d = self.down[t](self.ms[t](taps[t]))
                acc = d if acc is None else acc + d
            E[s] = self.attn[str(s)](acc)
        G = {4: E[4]}
        for s in (3, 2, 1):
            U = self.up[str(s + 1)](G[s + 1])
            G[s] = self.fuse[str(s)](torch.cat([E[s], U], 1))
        return G


def load_head_npy(head, directory=None, strict=True):
    directory = directory or head_dir()
    sd = {}
    for f in glob.glob(os.path.join(directory, "*.npy")):
        sd[os.path.basename(f)[:-4]] = torch.from_numpy(np.load(f).astype(np.float32))
    head.load_state_dict(sd, strict=strict)
    return head


def save_head_npy(head, directory, dtype=np.float16):
    os.makedirs(directory, exist_ok=True)
    for k, v in head.state_dict().items():
        np.save(os.path.join(directory, k + ".npy"), v.detach().float().cpu().numpy().astype(dtype))


class MMNet(nn.Module):
    def __init__(self, trunk_directory=None, head_directory=None, load_head=True):
        super().__init__()
        self.trunk = Trunk(trunk_directory)
        self.head = Head()
        if load_head:
            load_head_npy(self.head, head_directory)

    @staticmethod
    def normalize(rgb255):
        """rgb255: N,3,H,W float in 0..255 -> [-1, 1]"""
        return (rgb255 - 127.5) / 127.5

    def taps(self, rgb255):
        return self.trunk(self.normalize(rgb255))

    def forward(self, rgb255):
        taps = self.taps(rgb255)
        return self.head(taps), taps


# ----------------------------------------------------------------------------------------------------------
# Matching (SPEC section 4)
# ----------------------------------------------------------------------------------------------------------
def sample_points(fmap, pts, stride):
    """fmap: N,C,h,w; pts: N,P,2 (x, y) continuous coords of the resized image -> N,P,C (bilinear, border)."""
    N, C, h, w = fmap.shape
    gx = (pts[..., 0] / stride - 0.5).clamp(0, w - 1)
    gy = (pts[..., 1] / stride - 0.5).clamp(0, h - 1)
    x0 = gx.floor()
    y0 = gy.floor()
    wx = (gx - x0).unsqueeze(-1)
    wy = (gy - y0).unsqueeze(-1)
    x0 = x0.long()
    y0 = y0.long()
    x1 = (x0 + 1).clamp(max=w - 1)
    y1 = (y0 + 1).clamp(max=h - 1)
    flat = fmap.flatten(2).transpose(1, 2)  # N, hw, C

    def g(yy, xx):
        idx = (yy * w + xx).unsqueeze(-1).expand(-1, -1, C)
        return torch.gather(flat, 1, idx)

    return (g(y0, x0) * (1 - wx) * (1 - wy) + g(y0, x1) * wx * (1 - wy)
            + g(y1, x0) * (1 - wx) * wy + g(y1, x1) * wx * wy)


def upsample_rows(row, factor):
    """row: ..., h, w -> ..., h*factor, w*factor (nearest, floor)"""
    if factor == 1:
        return row
    return row.repeat_interleave(factor, -2).repeat_interleave(factor, -1)


def c2f_rows(Gs, Gt, pts, scales=(4, 3, 2, 1), detach_coarse=False):
    """Gs, Gt: dict scale -> N,F,h,w (source/target); pts: N,P,2 -> dict scale -> N,P,h,w rows (coarse-to-fine)."""
    rows = {}
    prev = None
    for s in (4, 3, 2, 1):
        q = sample_points(Gs[s], pts, STRIDES[s])  # N,P,F
        t = Gt[s]
        r = torch.einsum("npc,nchw->nphw", q, t)
        if prev is not None:
            p = prev.detach() if detach_coarse else prev
            r = r + upsample_rows(p, 2)
        rows[s] = r
        prev = r
        if s == min(scales):
            break
    return rows


def l2n(x, dim=1):
    return x / x.norm(dim=dim, keepdim=True).clamp(min=1e-12)


def raw_rows(Ns, Nt, pts):
    """Ns, Nt: N,1024,h,w L2-normalised block3_unit22; -> N,P,h,w"""
    q = sample_points(Ns, pts, 16)
    return torch.einsum("npc,nchw->nphw", q, Nt)


def fused_scores(row_s, raw, s, lam=1.0, tau=0.05):
    f = 2 ** (3 - s)
    lr = torch.log_softmax((raw / tau).flatten(-2), -1).view_as(raw)
    return (torch.log_softmax(row_s.flatten(-2), -1).view_as(row_s) + lam * upsample_rows(lr, f))


def predict(scores, stride):
    """scores: ..., h, w -> argmax cells (..., 2 as [i, j]) and refined points (..., 2 as [x, y]) in resized coords."""
    h, w = scores.shape[-2:]
    lead = scores.shape[:-2]
    flat = scores.reshape(-1, h, w)
    idx = flat.flatten(1).argmax(1)
    i = idx // w
    j = idx % w
    pad = F.pad(flat.unsqueeze(1), (1, 1, 1, 1), value=float("-inf")).squeeze(1)  # M, h+2, w+2
    ar = torch.arange(flat.shape[0], device=flat.device)
    vals = []
    offs = []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            vals.append(pad[ar, i + 1 + dy, j + 1 + dx])
            offs.append((dy, dx))
    v = torch.softmax(torch.stack(vals, 1), 1)
    o = torch.tensor(offs, dtype=v.dtype, device=v.device)  # 9,2 (dy, dx)
    oy = (v * o[:, 0]).sum(1)
    ox = (v * o[:, 1]).sum(1)
    x = (j.to(v.dtype) + 0.5 + ox) * stride
    y = (i.to(v.dtype) + 0.5 + oy) * stride
    cells = torch.stack([i, j], -1).reshape(*lead, 2)
    pts = torch.stack([x, y], -1).reshape(*lead, 2)
    return cells, pts
