"""PyTorch speed of one encode (trunk + head, batch 1, 224x320): the yardstick for the WebGPU benchmark
on the same GPU (scripts/gpu/run.sh). Weight values do not change the time, so a random trunk
(training/random_trunk.py) serves where the real one is absent.

usage: python3 training/speed.py [--device cuda] [--runs 40] [--trunk DIR] [--head DIR]
Last line: torch_ms_fp32=... torch_ms_tf32=... torch_ms_fp16=... torch_ms_fp16_cl=...  (medians, ms)
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmnet as M  # noqa: E402


def median_ms(net, x, runs, sync):
    times = []
    with torch.inference_mode():
        for _ in range(3):  # kernels chosen, memory grown
            net(x)
        sync()
        for _ in range(runs):
            t0 = time.perf_counter()
            net(x)
            sync()
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda")
    p.add_argument("--runs", type=int, default=40)
    p.add_argument("--trunk", default=None, help="trunk .npy folder (default: training/mmnet.py's)")
    p.add_argument("--head", default=None, help="head .npy folder (default: training/mmnet.py's)")
    args = p.parse_args()
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    print("torch", torch.__version__, "on", torch.cuda.get_device_name(dev) if cuda else "cpu (%d threads)" % torch.get_num_threads())
    net = M.MMNet(args.trunk, args.head).eval().to(dev)
    x = torch.rand(1, 3, 224, 320, device=dev) * 255
    variants = {"fp32": (torch.float32, False, torch.contiguous_format)}
    if cuda:
        variants.update(
            tf32=(torch.float32, True, torch.contiguous_format),
            fp16=(torch.float16, False, torch.contiguous_format),
            fp16_cl=(torch.float16, False, torch.channels_last),
        )
    results = {}
    for name, (dtype, tf32, layout) in variants.items():
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
        v = net.to(dtype=dtype, memory_format=layout)
        results[name] = median_ms(v, x.to(dtype=dtype, memory_format=layout), args.runs, sync)
        print("%-8s %.1f ms (median of %d)" % (name, results[name], args.runs))
    print(" ".join("torch_ms_%s=%.1f" % kv for kv in results.items()))


if __name__ == "__main__":
    main()
