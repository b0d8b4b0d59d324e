"""Pack a folder of float16 .npy files into one small file for the device upload (byte-plane split + lzma).

pack:   /usr/bin/python3 training/pack_weights.py pack SRC_DIR OUT_FILE
unpack: python3 training/pack_weights.py unpack IN_FILE DST_DIR
"""
import io
import json
import lzma
import os
import struct
import sys

import numpy as np


def pack(src, out):
    names = sorted(f for f in os.listdir(src) if f.endswith(".npy"))
    arrs = [np.load(os.path.join(src, f)) for f in names]
    meta = [dict(name=n, shape=list(a.shape), dtype=str(a.dtype)) for n, a in zip(names, arrs)]
    raw = np.concatenate([a.reshape(-1).view(np.uint8) for a in arrs])
    itemsize = arrs[0].dtype.itemsize
    assert all(a.dtype.itemsize == itemsize for a in arrs)
    planes = raw.reshape(-1, itemsize).T.copy()  # byte planes
    blobs = [lzma.compress(p.tobytes(), preset=9 | lzma.PRESET_EXTREME) for p in planes]
    head = json.dumps(dict(meta=meta, itemsize=itemsize, sizes=[len(b) for b in blobs])).encode()
    with open(out, "wb") as f:
        f.write(struct.pack("<I", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
    print("packed %d tensors, %d bytes raw -> %d" % (len(names), raw.size, os.path.getsize(out)))


def unpack(inp, dst):
    os.makedirs(dst, exist_ok=True)
    with open(inp, "rb") as f:
        n = struct.unpack("<I", f.read(4))[0]
        head = json.loads(f.read(n))
        planes = [np.frombuffer(lzma.decompress(f.read(s)), np.uint8) for s in head["sizes"]]
    raw = np.stack(planes, 1).reshape(-1)
    off = 0
    for m in head["meta"]:
        dt = np.dtype(m["dtype"])
        cnt = int(np.prod(m["shape"])) * dt.itemsize
        np.save(os.path.join(dst, m["name"]), raw[off:off + cnt].view(dt).reshape(m["shape"]))
        off += cnt
    print("unpacked %d tensors to %s" % (len(head["meta"]), dst))


if __name__ == "__main__":
    {"pack": pack, "unpack": unpack}[sys.argv[1]](sys.argv[2], sys.argv[3])
