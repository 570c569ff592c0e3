#!/usr/bin/python3
"""PyTorch's training-step and inference throughput for the reference networks.

  /usr/bin/python3 bench/train/pytorch_train_step.py --threads 2 --batch 128 --steps 3 --net s9 --layout nchw
Prints "pytorch-<layout> <net> <train|infer> <images/s> <peak RSS MB>" lines.
"""
import argparse
import resource
import sys
import time
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


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


def s7_dilated():
    def crb(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.ReLU(), nn.BatchNorm2d(cout)]

    def dw(c):
        return nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)

    def pw(cin, cout):
        return nn.Conv2d(cin, cout, 1, bias=False)

    return nn.Sequential(*crb(3, 32), dw(32), pw(32, 64), nn.ReLU(), nn.BatchNorm2d(64), pw(64, 32),
                         *crb(32, 32), dw(32), pw(32, 64), nn.ReLU(), nn.BatchNorm2d(64),
                         nn.Conv2d(64, 64, 3, dilation=4, bias=False), nn.ReLU(), nn.BatchNorm2d(64),
                         pw(64, 32), dw(32), pw(32, 64), nn.ReLU(), nn.BatchNorm2d(64), dw(64), pw(64, 128), nn.ReLU(),
                         nn.BatchNorm2d(128), nn.AdaptiveAvgPool2d(1), pw(128, 10), nn.Flatten(), nn.LogSoftmax(dim=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--net", default="s9")
    ap.add_argument("--layout", choices=["nchw", "channels_last"], default="nchw")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = {"s9": s9, "s7_dilated": s7_dilated}[a.net]()
    fmt = torch.channels_last if a.layout == "channels_last" else torch.contiguous_format
    net = net.to(memory_format=fmt)
    x = torch.randn(a.batch, 3, 32, 32).to(memory_format=fmt)
    y = torch.randint(0, 10, (a.batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.nll_loss(net(x), y)
        loss.backward()
        opt.step()

    net.train()
    step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("pytorch-%s %s train %.1f %.0f" % (a.layout, a.net, a.batch * a.steps / dt, rss), flush=True)
    net.eval()
    with torch.no_grad():
        net(x)
        t0 = time.perf_counter()
        for _ in range(a.steps):
            net(x)
        dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("pytorch-%s %s infer %.1f %.0f" % (a.layout, a.net, a.batch * a.steps / dt, rss), flush=True)


if __name__ == "__main__":
    sys.exit(main())
