#!/usr/bin/python3
"""Writes the summary golden files: torchsummary's and torchinfo's tables of
the assignment networks and the test networks, as PyTorch modules written by
hand (not by staticnet's export_pytorch) in the network's PyTorch form
(include/staticnet/torch_module.hpp): Blocks are nn.Sequential, Modules are
classes of their own, Flatten / LogSoftmax directly in the network or a
Module are functions of its forward, Add / Concat are the Add / Concat
helpers (nn.Sequential subclasses holding Branches).

Run with Debian's python3-torch (1.13):  /usr/bin/python3 tests/golden/generate_summaries.py
The files are committed (tests/golden/data/summaries/<Class>.torchsummary.txt
and .torchinfo.txt); tests/unit/test_torch_summaries.cpp compares staticnet's
print_torchsummary / print_torchinfo with them. Two models are also written as
PyTorch code usually is (named attributes, merges in a forward: the
tutorial's, and the module-heavy one): their torchsummary tables are the same,
their torchinfo trees (<Class>.functional.torchinfo.txt) those
print_torchinfo prints with {.functional_merges = true}. torchsummary and torchinfo
are not installed: tests/golden/torch_summaries.py reproduces them
(torchsummary 1.5.1, torchinfo 1.8.0, default settings).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_summaries  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "summaries")


# --------------------------------------------------- the PyTorch form's helpers --
def flatten(x):
    return torch.flatten(x, 1)


def log_softmax(x):
    return F.log_softmax(x, dim=1)


class Chain(nn.Module):
    """A model or a Module: its steps (modules, or the functions above) in order."""

    def __init__(self, *steps):
        super().__init__()
        self._steps = []
        for i, step in enumerate(steps):
            if isinstance(step, nn.Module):
                self.add_module(str(i), step)
            self._steps.append(step)

    def forward(self, x):
        for step in self._steps:
            x = step(x)
        return x


class Branches(nn.Sequential):
    def forward(self, x):
        return [b(x) for b in self]


class Add(nn.Sequential):
    def __init__(self, *branches):
        super().__init__()
        self.branches = Branches(*branches)

    def forward(self, x):
        ys = self.branches(x)
        y = ys[0]
        for other in ys[1:]:
            y = y + other
        return y


class Concat(nn.Sequential):
    def __init__(self, *branches):
        super().__init__()
        self.branches = Branches(*branches)

    def forward(self, x):
        return torch.cat(self.branches(x), dim=1)


def module_class(name):
    return type(name, (Chain,), {})


def seq(*layers):
    return nn.Sequential(*layers)


# --------------------------------------------------------- building blocks --
def conv_bn_relu(cin, cout, k=3, stride=1, dil=1):
    """Conv3BnRelu / Conv1BnRelu of examples/assignments/networks.hpp (no conv bias)."""
    return [nn.Conv2d(cin, cout, k, stride=stride, padding=dil if k == 3 else 0, dilation=dil, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU()]


def sep_bn_relu(cin, cout, dil=1, stride=1):
    """Sep3BnRelu: SeparableConv2d (depthwise 3x3, then 1x1, no biases), BN, ReLU."""
    return [nn.Conv2d(cin, cin, 3, stride=stride, padding=dil, dilation=dil, groups=cin, bias=False),
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def s9(name, dil3):
    steps, cin = [], 3
    for cout in (32, 64, 128, 224):
        layers = []
        for d in (1, 1, dil3):  # SepUnit: depthwise (no bias), pointwise with bias, BN, ReLU
            layers += [nn.Conv2d(cin, cin, 3, padding=d, dilation=d, groups=cin, bias=False), nn.Conv2d(cin, cout, 1),
                       nn.BatchNorm2d(cout), nn.ReLU()]
            cin = cout
        steps.append(seq(*layers))
    steps += [seq(nn.AdaptiveAvgPool2d(1), nn.Conv2d(224, 10, 1)), flatten, log_softmax]
    return module_class(name)(*steps)


def s7_late():
    c1 = conv_bn_relu(3, 32) + conv_bn_relu(32, 32) + conv_bn_relu(32, 32, stride=2)
    c2 = sep_bn_relu(32, 64) + sep_bn_relu(64, 64, dil=2) + sep_bn_relu(64, 64, stride=2)
    c3 = sep_bn_relu(64, 96) + sep_bn_relu(96, 96, dil=2) + sep_bn_relu(96, 96, stride=2)
    c4 = sep_bn_relu(96, 144) + sep_bn_relu(144, 144)
    return module_class("S7LateNet")(seq(*c1), seq(*c2), seq(*c3), seq(*c4),
                                     seq(nn.AdaptiveAvgPool2d(1), nn.Conv2d(144, 10, 1)), flatten, log_softmax)


def s7_dilated():
    def crb(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.ReLU(), nn.BatchNorm2d(cout)]

    def dw(c):
        return nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)

    def pw(cin, cout):
        return nn.Conv2d(cin, cout, 1, bias=False)

    return module_class("S7DilatedReference")(
        seq(*crb(3, 32), dw(32), pw(32, 64), nn.ReLU(), nn.BatchNorm2d(64), pw(64, 32)),
        seq(*crb(32, 32), dw(32), pw(32, 64), nn.ReLU(), nn.BatchNorm2d(64),
            nn.Conv2d(64, 64, 3, dilation=4, bias=False), nn.ReLU(), nn.BatchNorm2d(64)),
        seq(pw(64, 32), dw(32), pw(32, 64), nn.ReLU(), nn.BatchNorm2d(64), dw(64), pw(64, 128), nn.ReLU(),
            nn.BatchNorm2d(128)),
        seq(nn.AdaptiveAvgPool2d(1), pw(128, 10)), flatten, log_softmax)


def s7_groups():
    def two_branches(cin, c):
        return Concat(seq(*sep_bn_relu(cin, c), *sep_bn_relu(c, c)),
                      seq(*conv_bn_relu(cin, c, dil=2), *conv_bn_relu(c, c, dil=2)))

    def transition(cin, c):
        return [nn.MaxPool2d(2), *conv_bn_relu(cin, c, k=1)]

    return module_class("S7GroupsNet")(
        seq(*conv_bn_relu(3, 32), two_branches(32, 32)), seq(*transition(64, 64)), seq(two_branches(64, 96)),
        seq(*transition(192, 128)), seq(two_branches(128, 192)),
        seq(nn.AdaptiveAvgPool2d(1), nn.Conv2d(384, 64, 1), nn.ReLU(), nn.Conv2d(64, 10, 1)), flatten, log_softmax)


def s7_transition():
    def t32(cin):
        return seq(nn.MaxPool2d(2), *conv_bn_relu(cin, 32, k=1))

    return module_class("S7TransitionNet")(
        seq(*conv_bn_relu(3, 32), *conv_bn_relu(32, 64)), t32(64),
        seq(*conv_bn_relu(32, 64), *conv_bn_relu(64, 128)), t32(128),
        seq(*conv_bn_relu(32, 64, dil=2), *sep_bn_relu(64, 128), *conv_bn_relu(128, 256)), t32(256),
        seq(*conv_bn_relu(32, 128), *sep_bn_relu(128, 256)),
        seq(nn.AdaptiveAvgPool2d(1), nn.Conv2d(256, 10, 1)), flatten, log_softmax)


def branchy():
    return module_class("BranchyNet")(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        seq(Add(seq(), seq(nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                           nn.Conv2d(8, 8, 1))),
            Concat(seq(nn.Conv2d(8, 4, 1), nn.ReLU()),
                   seq(Add(seq(nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8)),
                           seq(nn.ZeroPad2d((1, 0, 1, 0)), nn.AvgPool2d(2, stride=1)))),
                   seq(nn.MaxPool2d(3, stride=1, padding=1)))),
        seq(nn.MaxPool2d(3, stride=2, ceil_mode=True), nn.Conv2d(20, 12, (3, 1), padding=(1, 0)), nn.Identity(),
            nn.Dropout(0.25)),
        seq(nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), nn.Flatten(), nn.Linear(192, 16),
            nn.ReLU(), nn.Dropout(), nn.Linear(16, 10, bias=False), nn.LogSoftmax(dim=1)))


def nested():
    return module_class("NestedNet")(
        nn.Conv2d(3, 6, 3, stride=2, padding=1),
        Add(seq(), seq(nn.BatchNorm2d(6), nn.ReLU(), nn.Conv2d(6, 6, 3, padding=1))),
        seq(seq(nn.Conv2d(6, 6, 1, bias=False), nn.BatchNorm2d(6)),
            Concat(seq(), seq(nn.ReLU()), seq(nn.Conv2d(6, 3, 3, padding=1), nn.ReLU()))),
        nn.Identity(), nn.AdaptiveAvgPool2d(1), nn.Conv2d(15, 10, 1), flatten, log_softmax)


def modules():
    ConvBnRelu, ResBlock, SepConv = module_class("ConvBnRelu"), module_class("ResBlock"), module_class("SepConv")
    Stage, Tap, Head = module_class("Stage"), module_class("Tap"), module_class("Head")

    def cbr(cin, cout):
        return ConvBnRelu(*conv_bn_relu(cin, cout))

    def sep(cin, cout):
        return SepConv(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1))

    return module_class("ModuleNet")(
        cbr(3, 16),
        seq(ResBlock(Add(seq(), seq(cbr(16, 16), nn.Conv2d(16, 16, 1))), nn.ReLU()), sep(16, 32), nn.MaxPool2d(2)),
        Stage(seq(cbr(32, 32)), Concat(seq(sep(32, 16)), seq())),
        Tap(),
        Head(nn.AdaptiveAvgPool2d(1), flatten, nn.Linear(48, 10), log_softmax))


# ------------------------------------- as PyTorch code writes them: merges in forward --
class ConvBnRelu(nn.Module):
    """docs/tutorial.md's ConvBnRelu, as a PyTorch user writes it."""

    def __init__(self, cin, cout, dilation=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = ConvBnRelu(c, c)

    def forward(self, x):
        return x + self.body(x)


class TutorialNet(nn.Module):
    """docs/tutorial.md's "From your PyTorch model" (TutorialNet in tests/support/torch_networks.hpp)."""

    def __init__(self):
        super().__init__()
        self.stem = ConvBnRelu(3, 32)
        self.c1 = nn.Sequential(ResBlock(32), nn.MaxPool2d(2))
        self.c2 = nn.Sequential(ConvBnRelu(32, 64, dilation=2), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(64, 10, 1))

    def forward(self, x):
        x = self.head(self.c2(self.c1(self.stem(x))))
        return F.log_softmax(torch.flatten(x, 1), dim=1)


def modules_user_style():
    """ModuleNet as PyTorch code writes it: its Modules' merges in their forwards."""

    class ConvBnRelu(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.conv, self.bn, self.relu = nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()

        def forward(self, x):
            return self.relu(self.bn(self.conv(x)))

    class ResBlock(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.body = nn.Sequential(ConvBnRelu(c, c), nn.Conv2d(c, c, 1))
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(x + self.body(x))

    class SepConv(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.dw, self.pw = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1)

        def forward(self, x):
            return self.pw(self.dw(x))

    class Stage(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(ConvBnRelu(32, 32))
            self.sep = SepConv(32, 16)

        def forward(self, x):
            y = self.inner(x)
            return torch.cat([self.sep(y), y], dim=1)

    class Tap(nn.Module):
        def forward(self, x):
            return x

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(48, 10)

        def forward(self, x):
            return F.log_softmax(self.fc(torch.flatten(self.pool(x), 1)), dim=1)

    class ModuleNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = ConvBnRelu(3, 16)
            self.c1 = nn.Sequential(ResBlock(16), SepConv(16, 32), nn.MaxPool2d(2))
            self.stage, self.tap, self.head = Stage(), Tap(), Head()

        def forward(self, x):
            return self.head(self.tap(self.stage(self.c1(self.stem(x)))))

    return ModuleNet()


# (the model, its input C x H x W, its parameter count as staticnet proves it)
NETWORKS = [
    (lambda: s9("S9Reference", 2), (3, 32, 32), 198757),
    (lambda: s9("S9Plus", 4), (3, 32, 32), 198757),
    (s7_late, (3, 32, 32), 97754),
    (s7_dilated, (3, 32, 32), 68992),
    (s7_groups, (3, 32, 32), 851210),
    (s7_transition, (3, 32, 32), 523690),
    (branchy, (3, 16, 16), 4992),
    (nested, (3, 12, 12), 883),
    (modules, (3, 16, 16), 14346),
]
# Models as PyTorch code writes them, whose torchsummary tables are those of
# their PyTorch form and whose torchinfo trees print_torchinfo prints with
# {.functional_merges = true}: <Class>.functional.torchinfo.txt.
USER_STYLE = [
    (TutorialNet, (3, 32, 32), 29418, None),
    (modules_user_style, (3, 16, 16), 14346, "ModuleNet"),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    for build, shape, params in NETWORKS:
        model = build()
        name = type(model).__name__
        got = sum(p.numel() for p in model.parameters())
        assert got == params, "%s: %d parameters, staticnet proves %d" % (name, got, params)
        assert torch_summaries.check_input_overhead(model, (1,) + shape), name
        for kind, text in (("torchsummary", torch_summaries.torchsummary(model, shape)),
                           ("torchinfo", torch_summaries.torchinfo(model, (1,) + shape))):
            path = os.path.join(OUT, "%s.%s.txt" % (name, kind))
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        print("%-20s %9d parameters: %s.{torchsummary,torchinfo}.txt" % (name, got, name))
    for build, shape, params, same_as in USER_STYLE:
        model = build()
        name = type(model).__name__
        assert sum(p.numel() for p in model.parameters()) == params, name
        text = torch_summaries.torchsummary(model, shape)
        if same_as:  # the same torchsummary table as its PyTorch form's
            with open(os.path.join(OUT, same_as + ".torchsummary.txt"), encoding="utf-8") as f:
                assert f.read() == text, name
        else:
            with open(os.path.join(OUT, name + ".torchsummary.txt"), "w", encoding="utf-8") as f:
                f.write(text)
        with open(os.path.join(OUT, name + ".functional.torchinfo.txt"), "w", encoding="utf-8") as f:
            f.write(torch_summaries.torchinfo(model, (1,) + shape))
        print("%-20s %9d parameters, as PyTorch code writes it: %s.functional.torchinfo.txt" % (name, params, name))


if __name__ == "__main__":
    main()
