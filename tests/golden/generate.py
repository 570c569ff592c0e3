#!/usr/bin/python3
"""Writes the PyTorch golden files the C++ parity tests compare against.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 tests/golden/generate.py
The files are committed; the tests never need PyTorch at run time.

Format (little-endian), one file per case, a sequence of records:
  u32 name length, name bytes (UTF-8), u32 rank, i32 dims[rank], f32 data[prod(dims)]
Names: "input", "dout" (the gradient fed to backward), "output", "grad.input",
"<param>" (initial value), "grad.<param>", "after.<buffer>" (BN running stats
after the forward), "target" (class indices stored as floats), "loss",
"step.<param>" (after one SGD step). Parameter names follow staticnet's
Model::named_tensors(): a Block is a named container, top-level layers are
numbered, an Add/Concat is an item holding "branches.<b>".
"""
import os
import struct
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def write(path, tensors):
    with open(path, "wb") as f:
        for name, t in tensors.items():
            t = t.detach().to(torch.float32).contiguous()
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            f.write(struct.pack("<I", t.dim()))
            f.write(struct.pack("<%di" % t.dim(), *t.shape))
            f.write(t.numpy().astype("<f4").tobytes())


class Merge(nn.Module):
    """Parallel branches merged by add or channel concat (staticnet's Add / Concat)."""

    def __init__(self, mode, *branches):
        super().__init__()
        self.mode = mode
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        outs = [b(x) for b in self.branches]
        if self.mode == "add":
            return sum(outs)
        return torch.cat(outs, dim=1)


def layer_case(name, module, input_shape, batch=2, train=True, seed=0):
    torch.manual_seed(seed)
    # Non-trivial BN affine parameters so their gradients are exercised.
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    module.train(train)
    x = torch.randn(batch, *input_shape, requires_grad=True)
    tensors = OrderedDict()
    tensors["input"] = x
    for pname, p in module.named_parameters():
        tensors[pname] = p.detach().clone()
    for bname, b in module.named_buffers():
        if "num_batches" not in bname:
            tensors[bname] = b.detach().clone()
    y = module(x)
    dout = torch.randn_like(y)
    (y * dout).sum().backward()
    tensors["output"] = y
    tensors["dout"] = dout
    tensors["grad.input"] = x.grad
    for pname, p in module.named_parameters():
        tensors["grad." + pname] = p.grad
    for bname, b in module.named_buffers():
        if "num_batches" not in bname:
            tensors["after." + bname] = b
    write(os.path.join(OUT, name + ".bin"), tensors)


def s7_dilated():
    def crb(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.ReLU(), nn.BatchNorm2d(cout)]

    def dw(c):
        return nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)

    def pw(cin, cout):
        return nn.Conv2d(cin, cout, 1, bias=False)

    return nn.Sequential(OrderedDict([
        ("C1", nn.Sequential(*crb(3, 32), dw(32), pw(32, 64), nn.ReLU(), nn.BatchNorm2d(64), pw(64, 32))),
        ("C2", nn.Sequential(*crb(32, 32), dw(32), pw(32, 64), nn.ReLU(), nn.BatchNorm2d(64),
                             nn.Conv2d(64, 64, 3, dilation=4, bias=False), nn.ReLU(), nn.BatchNorm2d(64))),
        ("C3", nn.Sequential(pw(64, 32), dw(32), pw(32, 64), nn.ReLU(), nn.BatchNorm2d(64), dw(64),
                             pw(64, 128), nn.ReLU(), nn.BatchNorm2d(128))),
        ("O", nn.Sequential(nn.AdaptiveAvgPool2d(1), pw(128, 10))),
        ("4", nn.Flatten()),
        ("5", nn.LogSoftmax(dim=1)),
    ]))


def network_case(name, net, batch, lr=0.05, momentum=0.9, weight_decay=5e-4, seed=0):
    torch.manual_seed(seed)
    net.train()
    x = torch.randn(batch, 3, 32, 32)
    target = torch.randint(0, 10, (batch,))
    tensors = OrderedDict()
    tensors["input"] = x
    tensors["target"] = target.to(torch.float32)
    for pname, p in net.named_parameters():
        tensors[pname] = p.detach().clone()
    for bname, b in net.named_buffers():
        if "num_batches" not in bname:
            tensors[bname] = b.detach().clone()
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    opt.zero_grad()
    y = net(x)
    loss = F.nll_loss(y, target)
    loss.backward()
    tensors["output"] = y
    tensors["loss"] = loss.reshape(1)
    for pname, p in net.named_parameters():
        tensors["grad." + pname] = p.grad.clone()
    for bname, b in net.named_buffers():
        if "num_batches" not in bname:
            tensors["after." + bname] = b.clone()
    opt.step()
    for pname, p in net.named_parameters():
        tensors["step." + pname] = p.detach().clone()
    write(os.path.join(OUT, name + ".bin"), tensors)


def loss_cases():
    torch.manual_seed(1)
    logits = torch.randn(5, 7, requires_grad=True)
    target = torch.tensor([0, 6, 3, 3, 1])
    for ls in (0.0, 0.1):
        if logits.grad is not None:
            logits.grad = None
        loss = F.cross_entropy(logits, target, label_smoothing=ls)
        loss.backward()
        write(os.path.join(OUT, "cross_entropy_ls%d.bin" % int(ls * 10)),
              OrderedDict([("input", logits), ("target", target.to(torch.float32)), ("loss", loss.reshape(1)),
                           ("grad.input", logits.grad)]))
    logp = torch.log_softmax(torch.randn(5, 7), dim=1).requires_grad_(True)
    loss = F.nll_loss(logp, target)
    loss.backward()
    write(os.path.join(OUT, "nll.bin"),
          OrderedDict([("input", logp), ("target", target.to(torch.float32)), ("loss", loss.reshape(1)),
                       ("grad.input", logp.grad)]))


def sgd_case():
    """Five SGD steps with momentum, dampening, weight decay and nesterov variants."""
    for tag, kw in (("momentum", dict(momentum=0.9, weight_decay=5e-4)),
                    ("nesterov", dict(momentum=0.9, nesterov=True, weight_decay=1e-3)),
                    ("dampening", dict(momentum=0.8, dampening=0.3))):
        torch.manual_seed(2)
        p = torch.randn(37, requires_grad=True)
        tensors = OrderedDict([("param", p.detach().clone())])
        opt = torch.optim.SGD([p], lr=0.1, **kw)
        for step in range(5):
            g = torch.randn(37)
            tensors["grad%d" % step] = g
            p.grad = g.clone()
            opt.step()
            tensors["step%d" % step] = p.detach().clone()
        write(os.path.join(OUT, "sgd_%s.bin" % tag), tensors)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    layer_case("conv_basic", nn.Sequential(nn.Conv2d(3, 4, 3, padding=1)), (3, 7, 7))
    layer_case("conv_stride_pad", nn.Sequential(nn.Conv2d(3, 5, 3, stride=2, padding=1, bias=False)), (3, 7, 7))
    layer_case("conv_dilated", nn.Sequential(nn.Conv2d(4, 6, 3, padding=2, dilation=2)), (4, 8, 8))
    layer_case("conv_groups", nn.Sequential(nn.Conv2d(4, 6, 3, padding=1, groups=2)), (4, 6, 6))
    layer_case("conv_depthwise", nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False)), (4, 8, 8))
    layer_case("conv_depthwise_mult", nn.Sequential(nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=4)), (4, 8, 8))
    layer_case("conv_depthwise_dilated",
               nn.Sequential(nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=4, bias=False)), (4, 8, 8))
    layer_case("conv_pointwise", nn.Sequential(nn.Conv2d(4, 6, 1)), (4, 5, 5))
    layer_case("conv_asym", nn.Sequential(nn.Conv2d(3, 4, (3, 1), stride=(2, 1), padding=(1, 0))), (3, 7, 6))
    layer_case("batchnorm", nn.Sequential(nn.BatchNorm2d(3)), (3, 5, 5), batch=4)
    layer_case("batchnorm_eval", nn.Sequential(nn.BatchNorm2d(3)), (3, 5, 5), batch=4, train=False)
    layer_case("relu", nn.Sequential(nn.ReLU()), (3, 4, 4))
    layer_case("maxpool", nn.Sequential(nn.MaxPool2d(2)), (3, 6, 6))
    layer_case("maxpool_pad", nn.Sequential(nn.MaxPool2d(3, stride=2, padding=1)), (3, 7, 7))
    layer_case("maxpool_ceil", nn.Sequential(nn.MaxPool2d(3, stride=2, ceil_mode=True)), (3, 8, 8))
    layer_case("avgpool", nn.Sequential(nn.AvgPool2d(2)), (3, 6, 6))
    layer_case("avgpool_pad_exclude", nn.Sequential(nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)),
               (3, 7, 7))
    layer_case("avgpool_ceil", nn.Sequential(nn.AvgPool2d(3, stride=2, ceil_mode=True)), (3, 8, 8))
    layer_case("gap", nn.Sequential(nn.AdaptiveAvgPool2d(1)), (3, 5, 4))
    layer_case("linear", nn.Sequential(nn.Flatten(), nn.Linear(12, 5)), (3, 2, 2), batch=3)
    layer_case("log_softmax", nn.Sequential(nn.Flatten(), nn.LogSoftmax(dim=1)), (7, 1, 1), batch=3)
    layer_case("residual", nn.Sequential(Merge("add", nn.Sequential(),
                                                nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4),
                                                              nn.ReLU()))), (4, 6, 6), batch=3)
    layer_case("concat", nn.Sequential(Merge("cat", nn.Sequential(nn.Conv2d(4, 3, 1)),
                                              nn.Sequential(nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=4),
                                                            nn.Conv2d(4, 5, 1)))), (4, 6, 6), batch=2)
    loss_cases()
    sgd_case()
    network_case("s7_dilated", s7_dilated(), batch=4)


if __name__ == "__main__":
    main()
