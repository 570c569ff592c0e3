#!/usr/bin/python3
"""PyTorch's inference speed for bench/inference/compare.sh, and the ONNX export.

  /usr/bin/python3 bench/inference/pytorch_infer.py --net s9 --batch 1 --layout nchw [--threads 2] [--calls 200] [--warmup 5]
      Builds the network (bench/train/pytorch_train_step.py: S9, S7-dilated,
      Fashion), eval(), in the layout asked for (NCHW or channels_last, weights
      and input), and times it under torch.no_grad() and under
      torch.inference_mode(), interleaved call by call, after --warmup untimed
      calls of each. Prints, like inference_compare,
        infer pytorch-<layout>-<no_grad|inference_mode> <net> <batch> <images/s> <median ms> <p99 ms> <peak RSS MB>
      (images/s = batch / the median call; nearest-rank p99; the process's peak RSS).

  /usr/bin/python3 bench/inference/pytorch_infer.py --export DIR
      Writes DIR/<net>.onnx for every network (eval, BatchNorm with running
      statistics, a dynamic batch axis), for bench/inference/ort_infer.py.
"""
import argparse
import math
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from pytorch_train_step import INPUT, NETS  # noqa: E402


def summary(times, batch):
    times = sorted(times)
    med = statistics.median(times)
    p99 = times[math.ceil(0.99 * len(times)) - 1]
    return batch / med, 1e3 * med, 1e3 * p99


def export(directory):
    os.makedirs(directory, exist_ok=True)
    for name, build in sorted(NETS.items()):
        torch.manual_seed(0)
        net = build().eval()
        x = torch.randn(1, *INPUT[name])
        path = os.path.join(directory, name + ".onnx")
        torch.onnx.export(net, x, path, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13,
                          do_constant_folding=True)
        print("wrote", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--net", choices=sorted(NETS), default="s9")
    ap.add_argument("--layout", choices=["nchw", "channels_last"], default="nchw")
    ap.add_argument("--export", metavar="DIR")
    a = ap.parse_args()
    if a.export:
        return export(a.export)
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    fmt = torch.channels_last if a.layout == "channels_last" else torch.contiguous_format
    net = NETS[a.net]().eval().to(memory_format=fmt)
    x = torch.randn(a.batch, *INPUT[a.net]).to(memory_format=fmt)
    modes = {"no_grad": torch.no_grad, "inference_mode": torch.inference_mode}
    times = {m: [] for m in modes}
    for m, ctx in modes.items():
        with ctx():
            for _ in range(a.warmup):
                net(x)
    for _ in range(max(1, a.calls)):
        for m, ctx in modes.items():
            with ctx():
                t0 = time.perf_counter()
                net(x)
                times[m].append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for m in modes:
        r, med, p99 = summary(times[m], a.batch)
        print("infer pytorch-%s-%s %s %d %.1f %.4f %.4f %.0f" % (a.layout, m, a.net, a.batch, r, med, p99, rss),
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
