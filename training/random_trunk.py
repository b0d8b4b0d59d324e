"""A ResNet-101 v2 trunk of random float16 weights with the real file names and shapes
(models/resnet_v2_101.sources.json), for timing runs on machines that lack the real trunk: an encode costs
the same whatever the weights hold. Scaled by 1/sqrt(fan-in) so activations stay finite.

usage: python3 training/random_trunk.py OUT_DIR
"""
import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(out):
    with open(os.path.join(REPO, "models", "resnet_v2_101.sources.json")) as f:
        files = json.load(f)["files"]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, spec in files.items():
        shape = spec["shape"]
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        a = rng.standard_normal(shape, dtype=np.float32) * (1 / np.sqrt(fan_in) if len(shape) > 1 else 0.1)
        np.save(os.path.join(out, name), a.astype(np.float16))
    print("random trunk: %d files in %s" % (len(files), out))


if __name__ == "__main__":
    main(sys.argv[1])
