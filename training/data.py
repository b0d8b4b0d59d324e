"""Training data without labels: Caltech-101 photos, random homographies, photometric jitter."""
import glob
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

import mmnet as M


def caltech_dir():
    return os.environ.get("MMNET_CALTECH_DIR", os.path.join(M.SHARED, "datasets", "caltech101-subset"))


def _load(args):
    path, H, W = args
    from PIL import Image
    im = Image.open(path).convert("RGB")
    a = np.asarray(im, dtype=np.float32)
    t = torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0)
    t = F.interpolate(t, size=(H, W), mode="bilinear", align_corners=False)
    return t.round().clamp(0, 255).to(torch.uint8)[0]


def load_photos(paths, H, W):
    """-> images uint8 [N,3,H,W], each photo resized like SPEC section 1 (the whole photo, stretched)."""
    # sequential on purpose: a fork()ed multiprocessing pool that runs torch ops after the parent has used
    # torch's OpenMP threads can deadlock (it hung a device run); decoding 3,487 photos takes ~5 s on the device.
    return torch.stack([_load((p, H, W)) for p in paths])


def load_caltech(H, W, directory=None, max_per_class=None, max_classes=None):
    """-> images uint8 [N,3,H,W] (resized like SPEC section 1), class ids [N], list of index lists per class."""
    d = directory or caltech_dir()
    classes = sorted(c for c in os.listdir(d) if os.path.isdir(os.path.join(d, c)))
    if max_classes:
        classes = classes[:max_classes]
    paths, labels = [], []
    for ci, c in enumerate(classes):
        fs = sorted(glob.glob(os.path.join(d, c, "*.jpg")))
        if max_per_class:
            fs = fs[:max_per_class]
        paths += fs
        labels += [ci] * len(fs)
    ims = load_photos(paths, H, W)
    labels = torch.tensor(labels)
    per_class = [torch.nonzero(labels == ci).flatten().tolist() for ci in range(len(classes))]
    per_class = [p for p in per_class if len(p) >= 2]
    return ims, labels, per_class


def random_homography(B, gen, device, rot=30.0, scale=(0.75, 1.25), shear=0.15, persp=0.12, trans=0.15):
    """Homographies in normalised coordinates [-1, 1] (x right, y down), mapping source -> target. [B,3,3]"""
    def U(lo, hi):
        return torch.rand(B, generator=gen) * (hi - lo) + lo
    a = U(-rot, rot) * math.pi / 180
    s = torch.exp(U(math.log(scale[0]), math.log(scale[1])))
    sx = s * torch.exp(U(-0.1, 0.1))
    sy = s * torch.exp(U(-0.1, 0.1))
    sh = U(-shear, shear)
    Hm = torch.zeros(B, 3, 3)
    c, si = torch.cos(a), torch.sin(a)
    # R @ Shear @ S
    A = torch.stack([torch.stack([c, -si], -1), torch.stack([si, c], -1)], -2)
    Sh = torch.stack([torch.stack([torch.ones(B), sh], -1), torch.stack([torch.zeros(B), torch.ones(B)], -1)], -2)
    Sc = torch.diag_embed(torch.stack([sx, sy], -1))
    Hm[:, :2, :2] = A @ Sh @ Sc
    Hm[:, 0, 2] = U(-trans, trans)
    Hm[:, 1, 2] = U(-trans, trans)
    Hm[:, 2, 0] = U(-persp, persp)
    Hm[:, 2, 1] = U(-persp, persp)
    Hm[:, 2, 2] = 1
    return Hm.to(device)


def apply_h(Hm, pts):
    """Hm [B,3,3], pts [B,P,2] -> [B,P,2] (normalised coordinates)"""
    p = torch.cat([pts, torch.ones_like(pts[..., :1])], -1) @ Hm.transpose(1, 2)
    return p[..., :2] / p[..., 2:].clamp(min=1e-6)


def to_norm(pts, H, W):
    return torch.stack([pts[..., 0] * 2 / W - 1, pts[..., 1] * 2 / H - 1], -1)


def from_norm(u, H, W):
    return torch.stack([(u[..., 0] + 1) * W / 2, (u[..., 1] + 1) * H / 2], -1)


def warp(img, Hm):
    """img [B,3,H,W] float; target(u) = img(H^-1 u). Returns the warped image (zeros outside)."""
    B, _, H, W = img.shape
    ys = (torch.arange(H, device=img.device, dtype=torch.float32) + 0.5) * 2 / H - 1
    xs = (torch.arange(W, device=img.device, dtype=torch.float32) + 0.5) * 2 / W - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    grid = torch.stack([gx, gy], -1).view(1, -1, 2).expand(B, -1, -1)
    src = apply_h(torch.linalg.inv(Hm), grid).view(B, H, W, 2)
    return F.grid_sample(img, src, mode="bilinear", padding_mode="zeros", align_corners=False)


def jitter(img, gen, strength=1.0):
    """photometric jitter on float 0..255 images [B,3,H,W]"""
    B = img.shape[0]
    dev = img.device

    def U(lo, hi, *shape):
        return (torch.rand(B, *shape, generator=gen) * (hi - lo) + lo).to(dev)
    x = img / 255.0
    x = x * U(1 - 0.3 * strength, 1 + 0.3 * strength, 1, 1, 1)  # brightness
    m = x.mean((1, 2, 3), keepdim=True)
    x = (x - m) * U(1 - 0.3 * strength, 1 + 0.3 * strength, 1, 1, 1) + m  # contrast
    g = x.mean(1, keepdim=True)
    x = (x - g) * U(1 - 0.4 * strength, 1 + 0.4 * strength, 1, 1, 1) + g  # saturation
    x = x * U(1 - 0.08 * strength, 1 + 0.08 * strength, 3, 1, 1)  # colour balance
    x = x.clamp(0, 1) ** U(1 - 0.2 * strength, 1 + 0.2 * strength, 1, 1, 1)  # gamma
    x = x + torch.randn_like(x) * 0.01 * strength
    return (x.clamp(0, 1) * 255.0)


def synthetic_pairs(imgs, gen, n_pts):
    """imgs float [B,3,H,W] 0..255 -> (src, tgt, pts_src [B,P,2], pts_tgt [B,P,2], valid [B,P],
    pts_tgt2 [B,P,2] points sampled in the target, their source positions, valid2)."""
    B, _, H, W = imgs.shape
    dev = imgs.device
    Hm = random_homography(B, gen, dev)
    tgt = warp(imgs, Hm)
    # source points: uniform inside the image
    ps = torch.rand(B, n_pts, 2, generator=gen).to(dev) * torch.tensor([W, H], device=dev, dtype=torch.float32)
    pt = from_norm(apply_h(Hm, to_norm(ps, H, W)), H, W)
    v = (pt[..., 0] > 0) & (pt[..., 0] < W) & (pt[..., 1] > 0) & (pt[..., 1] < H)
    # target points: uniform in the target, mapped back to the source
    qt = torch.rand(B, n_pts, 2, generator=gen).to(dev) * torch.tensor([W, H], device=dev, dtype=torch.float32)
    qs = from_norm(apply_h(torch.linalg.inv(Hm), to_norm(qt, H, W)), H, W)
    v2 = (qs[..., 0] > 0) & (qs[..., 0] < W) & (qs[..., 1] > 0) & (qs[..., 1] < H)
    return jitter(imgs, gen), jitter(tgt, gen), ps, pt, v, qt, qs, v2
