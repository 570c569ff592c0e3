#!/usr/bin/python3
"""PyTorch's training-step and inference throughput for the reference networks.

  /usr/bin/python3 bench/train/pytorch_train_step.py --threads 2 --batch 128 --steps 3 --net s9 --layout nchw
Prints "pytorch-<layout> <net> <train|infer> <images/s> <peak RSS MB>" lines.
"""
import argparse
import resource
import sys
import statistics
import time
from collections import OrderedDict

import os

import torch
import torch.nn as nn
import torch.nn.functional as F

# The S7-dilated reference, exactly as the golden files build it (same module names).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden"))
from generate import s7_dilated  # noqa: E402


def sep_unit(cin, cout, dil=1):
    return [nn.Conv2d(cin, cin, 3, padding=dil, dilation=dil, groups=cin, bias=False), nn.Conv2d(cin, cout, 1),
            nn.BatchNorm2d(cout), nn.ReLU()]


def s9():
    layers = []
    cin = 3
    for c in (32, 64, 128, 224):
        layers += sep_unit(cin, c) + sep_unit(c, c) + sep_unit(c, c, 2)
        cin = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(224, 10, 1), nn.Flatten(), nn.LogSoftmax(dim=1)]
    return nn.Sequential(*layers)


def fashion():
    """The Fashion-MNIST example's FashionNet (examples/fashion_mnist/fashion_net.hpp), input 1x28x28."""
    def cbr(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    layers = cbr(1, 32) + [nn.MaxPool2d(2)] + cbr(32, 32) + cbr(32, 64) + [nn.MaxPool2d(2)] + cbr(64, 128)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(128, 10, 1), nn.Flatten(), nn.LogSoftmax(dim=1)]
    return nn.Sequential(*layers)


NETS = {"s9": s9, "s7_dilated": s7_dilated, "fashion": fashion}
INPUT = {"s9": (3, 32, 32), "s7_dilated": (3, 32, 32), "fashion": (1, 28, 28)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--net", choices=sorted(NETS), default="s9")
    ap.add_argument("--layout", choices=["nchw", "channels_last"], default="nchw")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = NETS[a.net]()
    fmt = torch.channels_last if a.layout == "channels_last" else torch.contiguous_format
    net = net.to(memory_format=fmt)
    x = torch.randn(a.batch, *INPUT[a.net]).to(memory_format=fmt)
    y = torch.randint(0, 10, (a.batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.nll_loss(net(x), y)
        loss.backward()
        opt.step()

    # images/s = batch / the median time of `steps` timed calls (after one
    # warm-up call), as staticnet_train_step measures it.
    def rate(fn):
        fn()
        times = []
        for _ in range(a.steps):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return a.batch / statistics.median(times)

    net.train()
    r = rate(step)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("pytorch-%s %s train %.1f %.0f" % (a.layout, a.net, r, rss), flush=True)
    net.eval()
    with torch.no_grad():
        r = rate(lambda: net(x))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("pytorch-%s %s infer %.1f %.0f" % (a.layout, a.net, r, rss), flush=True)


if __name__ == "__main__":
    sys.exit(main())
