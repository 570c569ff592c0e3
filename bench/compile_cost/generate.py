#!/usr/bin/env python3
"""Writes the translation units of staticnet's compile-cost benchmark.

    python3 bench/compile_cost/generate.py OUT_DIR [--layers 100 200 400]
                                               [--header staticnet/core.hpp]

Writes into OUT_DIR (every TU with checks includes --header, by default
<staticnet/core.hpp>, the header staticnet.hpp recommends for static checks):
  baseline.cpp     only #include <HEADER>: the cost of parsing the headers,
                   subtracted from the TUs below to get the checks' own cost
  std_headers.cpp  only the standard library headers HEADER pulls in
  umbrella.cpp     only #include <staticnet/staticnet.hpp>, the umbrella header
                   (the whole library: engine, data, reports); not written when
                   HEADER is the umbrella itself
  reference.cpp    the static checks of the two reference networks of
                   examples/assignments/networks.hpp (S9 and S7-dilated)
  net<L>.cpp       a generated L-layer network (one per --layers value) and its
                   static checks: layer count, parameter count, mult-adds,
                   receptive field, layer-kind counts and a rule check
  manifest.tsv     one line per TU: file name, layers, modes (both / syntax), description

Every number a TU static_asserts is computed here, in Python, by a small
independent model of the layer arithmetic (PyTorch's conventions, as
docs/reference.md states them), never read back from staticnet, so the
benchmark is also a cross-check: a TU that fails to compile means staticnet
and this model disagree. Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field

# --------------------------------------------------------------------------
# The model: a network is a list of nodes; the C++ spelling is derived from
# the same nodes, so the Python figures and the C++ type describe one network.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Conv:
    out: int  # 0 with depthwise = same channels as the input
    kernel: int = 3
    padding: int = 0
    dilation: int = 1
    bias: bool = True
    depthwise: bool = False


@dataclass(frozen=True)
class Simple:
    kind: str  # "bn", "relu", "gap", "flatten", "logsoftmax"


@dataclass
class Block:
    name: str
    body: list


@dataclass
class Add:
    branches: list  # each a list of nodes; [] is the identity


BN, RELU, GAP, FLATTEN, LOGSOFTMAX = (Simple(k) for k in ("bn", "relu", "gap", "flatten", "logsoftmax"))


@dataclass
class Facts:
    c: int
    h: int
    w: int
    flat: bool = False
    rf: int = 1
    jump: int = 1
    layers: int = 0
    params: int = 0
    buffers: int = 0
    mult_adds: int = 0
    convs: int = 0
    depthwise: int = 0
    dilated: int = 0
    separable: int = 0
    last_depthwise: bool = False  # the last conv could start a depthwise-separable pair
    ts_rows: int = 0  # torchsummary: one row per module call
    ts_elements: int = 0
    ti_rows: int = 0  # torchinfo: layers holding parameters
    ti_elements: int = 0
    blocks: list = field(default_factory=list)  # top-level block names, in order


def run(nodes, f: Facts, top_level=True) -> Facts:
    """Applies nodes to the running facts f (in place) and returns f."""
    for n in nodes:
        if isinstance(n, Conv):
            assert not f.flat
            cin = f.c
            if n.depthwise:
                out, groups = (n.out or cin), cin
            else:
                out, groups = n.out, 1
            assert out > 0 and cin % groups == 0 and out % groups == 0
            extent = n.dilation * (n.kernel - 1)
            assert n.padding <= extent
            oh = f.h + 2 * n.padding - extent
            ow = f.w + 2 * n.padding - extent
            assert oh >= 1 and ow >= 1
            weights = out * (cin // groups) * n.kernel * n.kernel
            params = weights + (out if n.bias else 0)
            f.c, f.h, f.w = out, oh, ow
            f.layers += 1
            f.params += params
            f.mult_adds += params * oh * ow  # torchinfo: conv parameters x output positions
            f.rf += extent * f.jump  # stride 1 everywhere: jump stays 1
            f.convs += 1
            is_dw = groups > 1 and groups == cin
            f.depthwise += is_dw
            f.dilated += n.dilation > 1
            if n.kernel == 1 and groups == 1 and f.last_depthwise:
                f.separable += 1
            f.last_depthwise = is_dw
            f.ts_rows += 1
            f.ts_elements += out * oh * ow
            f.ti_rows += 1
            f.ti_elements += out * oh * ow
        elif isinstance(n, Simple):
            f.layers += 1
            if n.kind == "bn":
                f.params += 2 * f.c
                f.buffers += 2 * f.c
                f.mult_adds += 2 * f.c
                f.ti_rows += 1
                f.ti_elements += f.c * f.h * f.w
            elif n.kind == "gap":
                f.h = f.w = 1
                f.last_depthwise = False
            elif n.kind == "flatten":
                f.c, f.h, f.w, f.flat = f.c * f.h * f.w, 1, 1, True
                f.last_depthwise = False
            elif n.kind == "logsoftmax":
                f.last_depthwise = False
            # relu: shape unchanged; BN / ReLU may sit inside a separable pair
            if n.kind not in ("flatten", "logsoftmax"):  # usually x.view / F.log_softmax in PyTorch
                f.ts_rows += 1
                f.ts_elements += f.c * f.h * f.w
        elif isinstance(n, Block):
            if top_level:
                f.blocks.append(n.name)
            run(n.body, f, top_level=False)
        elif isinstance(n, Add):
            start = (f.c, f.h, f.w, f.flat, f.rf, f.jump)
            outs = []
            for br in n.branches:
                f.c, f.h, f.w, f.flat, f.rf, f.jump = start
                f.last_depthwise = False
                run(br, f, top_level=False)
                outs.append((f.c, f.h, f.w, f.flat, f.rf, f.jump))
            assert all(o[:4] == outs[0][:4] for o in outs), "Add: branch shapes differ"
            f.c, f.h, f.w, f.flat = outs[0][:4]
            f.rf = max(o[4] for o in outs)
            f.jump = max(o[5] for o in outs)
            f.last_depthwise = False
        else:
            raise TypeError(n)
    return f


def evaluate(nodes, c, h, w) -> Facts:
    return run(nodes, Facts(c=c, h=h, w=w))


def torchsummary_mb(f: Facts, input_numel: int):
    mib = 1024.0 * 1024.0
    i = float(input_numel) * 4.0 / mib
    fb = 2.0 * float(f.ts_elements) * 4.0 / mib
    p = float(f.params) * 4.0 / mib
    return i, fb, p, i + fb + p


def torchinfo_mb(f: Facts, input_numel: int):
    i = float(input_numel) * 4.0 / 1e6
    fb = 2.0 * float(f.ti_elements) * 4.0 / 1e6
    p = float(f.params) * 4.0 / 1e6
    return i, fb, p, i + fb + p


# ------------------------------------------------------------ C++ spelling --


def cxx(n) -> str:
    if isinstance(n, Conv):
        if n.depthwise:
            opts = [f".out = {n.out}"] if n.out else []
        else:
            opts = [f".out = {n.out}"]
        opts.append(f".kernel = {n.kernel}")
        if n.padding:
            opts.append(f".padding = {n.padding}")
        if n.dilation != 1:
            opts.append(f".dilation = {n.dilation}")
        if not n.bias:
            opts.append(".bias = false")
        t = "DepthwiseConv2d" if n.depthwise else "Conv2d"
        return f"sn::{t}<sn::conv{{{', '.join(opts)}}}>"
    if isinstance(n, Simple):
        return {"bn": "sn::BatchNorm2d", "relu": "sn::ReLU", "gap": "sn::GlobalAvgPool",
                "flatten": "sn::Flatten", "logsoftmax": "sn::LogSoftmax"}[n.kind]
    if isinstance(n, Block):
        return f'sn::Block<"{n.name}",\n      ' + ",\n      ".join(cxx(x) for x in n.body) + ">"
    if isinstance(n, Add):
        if len(n.branches) == 2 and n.branches[0] == []:
            return "sn::Residual<" + ", ".join(cxx(x) for x in n.branches[1]) + ">"
        return "sn::Add<" + ", ".join("sn::Sequential<" + ", ".join(cxx(x) for x in br) + ">"
                                      for br in n.branches) + ">"
    raise TypeError(n)


# ------------------------------------------------- the reference networks --
# Python twins of examples/assignments/networks.hpp, used only to compute
# the figures reference.cpp asserts.


def sep_unit(out, dil=1):
    return [Conv(0, 3, dil, dil, False, True), Conv(out, 1), BN, RELU]


def s9_reference():
    body = []
    for i, ch in enumerate((32, 64, 128, 224), start=1):
        body.append(Block(f"C{i}", sep_unit(ch) + sep_unit(ch) + sep_unit(ch, 2)))
    body.append(Block("O", [GAP, Conv(10, 1)]))
    return body + [FLATTEN, LOGSOFTMAX]


def s7_dilated_reference():
    def conv_relu_bn(out):
        return [Conv(out, 3, 1, 1, False), RELU, BN]

    dw3 = Conv(0, 3, 1, 1, False, True)

    def pw(out):
        return Conv(out, 1, 0, 1, False)

    def pw_relu_bn(out):
        return [pw(out), RELU, BN]

    return [
        Block("C1", conv_relu_bn(32) + [dw3] + pw_relu_bn(64) + [pw(32)]),
        Block("C2", conv_relu_bn(32) + [dw3] + pw_relu_bn(64) + [Conv(64, 3, 0, 4, False), RELU, BN]),
        Block("C3", [pw(32), dw3] + pw_relu_bn(64) + [dw3] + pw_relu_bn(128)),
        Block("O", [GAP, pw(10)]),
        FLATTEN, LOGSOFTMAX,
    ]


# The figures examples/assignments/s9.cpp and s7_dilated.cpp state: the
# Python model must reproduce them before its other numbers are trusted.
PUBLISHED = {
    "S9Reference": {"params": 198_757, "mult_adds": 198_475_594, "rf": 33},
    "S7DilatedReference": {"params": 68_992, "rf": 21, "separable": 4, "dilated": 1},
}

HELPERS = """\
namespace sn = staticnet;

namespace {
// |a - b| <= eps, for the memory estimates (doubles).
constexpr bool near(double a, double b, double eps = 1e-9) { return (a > b ? a - b : b - a) <= eps; }
}  // namespace
"""


def reference_tu(header: str) -> str:
    nets = {"S9Reference": s9_reference(), "S7DilatedReference": s7_dilated_reference()}
    lines = [
        "// Generated by bench/compile_cost/generate.py: the static checks of the two",
        "// reference networks of examples/assignments/networks.hpp. Every figure is",
        "// computed by the generator's own model of the layer arithmetic.",
        f"#include <{header}>",
        '#include "networks.hpp"',
        "",
        HELPERS,
    ]
    layer_counts = []
    for name, nodes in nets.items():
        f = evaluate(nodes, 3, 32, 32)
        for key, want in PUBLISHED[name].items():
            got = {"params": f.params, "mult_adds": f.mult_adds, "rf": f.rf,
                   "separable": f.separable, "dilated": f.dilated}[key]
            if got != want:
                sys.exit(f"generate.py: model bug: {name} {key} = {got}, published {want}")
        layer_counts.append(f.layers)
        s7 = (f.blocks[:3] == ["C1", "C2", "C3"] and f.separable >= 4 and f.dilated >= 1 and f.params < 100_000)
        ts, ti = torchsummary_mb(f, 3 * 32 * 32), torchinfo_mb(f, 3 * 32 * 32)
        t = f"assignments::{name}"
        lines += [
            f"// ---- {name}: {f.layers} layers ----",
            f"static_assert(sn::layer_count<{t}> == {f.layers});",
            f"static_assert(sn::param_count<{t}> == {f.params});",
            f"static_assert(sn::buffer_count<{t}> == {f.buffers});",
            f"static_assert(sn::mult_adds<{t}> == {f.mult_adds});",
            f"static_assert(sn::receptive_field<{t}> == {f.rf});",
            f"static_assert(sn::separable_conv_count<{t}> == {f.separable});",
            f"static_assert(sn::dilated_conv_count<{t}> == {f.dilated});",
            f"static_assert({'' if s7 else '!'}sn::satisfies<{t}, sn::exercises::S7Dilated>);",
            f"static_assert(sn::torchsummary_estimate<{t}>.rows == {f.ts_rows});",
            f"static_assert(sn::torchsummary_estimate<{t}>.activation_elements == {f.ts_elements});",
            f"static_assert(near(sn::torchsummary_estimate<{t}>.input_mb, {ts[0]!r}));",
            f"static_assert(near(sn::torchsummary_estimate<{t}>.forward_backward_mb, {ts[1]!r}));",
            f"static_assert(near(sn::torchsummary_estimate<{t}>.params_mb, {ts[2]!r}));",
            f"static_assert(near(sn::torchsummary_estimate<{t}>.total_mb, {ts[3]!r}));",
            f"static_assert(sn::torchinfo_estimate<{t}>.rows == {f.ti_rows});",
            f"static_assert(sn::torchinfo_estimate<{t}>.activation_elements == {f.ti_elements});",
            f"static_assert(near(sn::torchinfo_estimate<{t}>.total_mb, {ti[3]!r}));",
            "",
        ]
    return "\n".join(lines), layer_counts


# ------------------------------------------------- the generated networks --


def generated_network(layers: int):
    """An L-layer network on 3x32x32: (L/4 - 1) depthwise-separable units
    (DepthwiseConv2d 3x3, Conv2d 1x1, BatchNorm2d, ReLU) in blocks C1..CK of
    about six units, with Residual and two-branch Add groups inside every
    block, then block O (GlobalAvgPool, Conv2d 1x1 to 10), Flatten, LogSoftmax.
    Stride 1 throughout; padding = dilation keeps 32x32."""
    if layers < 8 or layers % 4:
        sys.exit(f"generate.py: --layers must be a multiple of 4 and >= 8 (got {layers})")
    units = layers // 4 - 1
    n_blocks = max(1, round(units / 6))
    sizes = [units // n_blocks + (1 if b < units % n_blocks else 0) for b in range(n_blocks)]
    dil_cycle = (1, 2, 1, 3, 1, 1, 4)  # varied so that the unit types are not all alike
    k = 0

    def unit(out):
        nonlocal k
        d = dil_cycle[k % len(dil_cycle)]
        k += 1
        return [Conv(0, 3, d, d, False, True), Conv(out, 1), BN, RELU]

    body = []
    for b, size in enumerate(sizes, start=1):
        ch = 16 + 8 * (b % 8)  # 24, 32, ..., 72, 16, 24, ...: channels change at every block
        blk = unit(ch)  # the first unit changes the channel count
        left = size - 1
        pattern = 0
        while left > 0:
            kind = pattern % 3
            pattern += 1
            if kind == 0:  # x + f(x)
                blk.append(Add([[], unit(ch)]))
                left -= 1
            elif kind == 1 or left == 1:  # a plain unit
                blk += unit(ch)
                left -= 1
            else:  # two parallel units, added
                blk.append(Add([unit(ch), unit(ch)]))
                left -= 2
        body.append(Block(f"C{b}", blk))
    body.append(Block("O", [GAP, Conv(10, 1)]))
    body += [FLATTEN, LOGSOFTMAX]
    return body, units, n_blocks


def network_tu(layers: int, header: str) -> str:
    nodes, units, n_blocks = generated_network(layers)
    f = evaluate(nodes, 3, 32, 32)
    assert f.layers == layers, (f.layers, layers)
    assert f.separable == units and f.blocks == [f"C{i}" for i in range(1, n_blocks + 1)] + ["O"]
    net = f"Net{layers}"
    body = ",\n    ".join(cxx(n) for n in nodes)
    rules = (f"sn::rules::ConvBlocks<{n_blocks}>, sn::rules::NoMaxPool, sn::rules::NoStride,\n"
             f"                        sn::rules::MinSeparableConvs<{units}>, sn::rules::MinDilatedConvs<{f.dilated}>,\n"
             f"                        sn::rules::ParamsBelow<{f.params + 1}>, sn::rules::GapToClasses<10>")
    return "\n".join([
        f"// Generated by bench/compile_cost/generate.py: a {layers}-layer network",
        f"// ({units} depthwise-separable units in {n_blocks} blocks, with Residual and Add",
        "// branches, then GAP / 1x1 conv / Flatten / LogSoftmax) and its static checks.",
        "// Every figure is computed by the generator's own model of the layer arithmetic.",
        f"#include <{header}>",
        "",
        HELPERS,
        f"using {net} = sn::Network<sn::Input<3, 32, 32>,\n    {body}>;",
        "",
        f"static_assert(sn::layer_count<{net}> == {layers});",
        f"static_assert(sn::param_count<{net}> == {f.params});",
        f"static_assert(sn::mult_adds<{net}> == {f.mult_adds});",
        f"static_assert(sn::receptive_field<{net}> == {f.rf});",
        f"static_assert(sn::separable_conv_count<{net}> == {f.separable});",
        f"static_assert(sn::dilated_conv_count<{net}> == {f.dilated});",
        f"static_assert(sn::output_shape<{net}> == sn::shape{{10, 1, 1, true}});",
        f"static_assert(sn::check<{net},\n                        {rules}>);",
        "",
    ]), f


UMBRELLA = "staticnet/staticnet.hpp"
INCLUDE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include")


def header_only_tu(header: str, why: str) -> str:
    return f"// Generated by bench/compile_cost/generate.py: {why}\n#include <{header}>\n"


def std_includes(header: str):
    """The C++ standard library headers `header` pulls in, transitively through
    staticnet's own headers (read at generation time, so the TU follows the
    headers as they change). Third-party and C headers (a '/' or '.h') are left out."""
    seen, found, todo = set(), set(), [os.path.normpath(os.path.join(INCLUDE_DIR, header))]
    while todo:
        path = todo.pop()
        if path in seen or not os.path.isfile(path):
            continue
        seen.add(path)
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if line.startswith("#include <") and ">" in line:
                    found.add(line[len("#include <"):line.index(">")])
                elif line.startswith('#include "'):
                    rel = line[len('#include "'):].split('"')[0]
                    todo.append(os.path.normpath(os.path.join(os.path.dirname(path), rel)))
    return sorted(h for h in found if "/" not in h and not h.endswith(".h"))


def std_headers_tu(header: str) -> str:
    return "".join([
        "// Generated by bench/compile_cost/generate.py: only the C++ standard headers\n",
        f"// that <{header}> includes (transitively). baseline.cpp minus this TU is the\n",
        "// cost of staticnet's own headers.\n",
    ] + [f"#include <{h}>\n" for h in std_includes(header)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--layers", type=int, nargs="+", default=[100, 200, 400])
    ap.add_argument("--header", default="staticnet/core.hpp",
                    help="the staticnet header the TUs include (default: %(default)s)")
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(INCLUDE_DIR, args.header)):
        sys.exit(f"generate.py: no header include/{args.header}")
    os.makedirs(args.out_dir, exist_ok=True)

    def write(name, text):
        with open(os.path.join(args.out_dir, name), "w", encoding="utf-8") as fh:
            fh.write(text)

    h = args.header
    manifest = []  # (file, layers, modes, description); baseline first: run.sh subtracts it
    write("baseline.cpp", header_only_tu(h, "only the header the checks include, so that\n"
                                            "// the cost of the static checks can be separated from parsing it."))
    manifest.append(("baseline.cpp", 0, "both", f"#include <{h}> only"))
    write("std_headers.cpp", std_headers_tu(h))
    manifest.append(("std_headers.cpp", "-", "both", f"the C++ standard headers {h} includes"))
    if os.path.normpath(h) != os.path.normpath(UMBRELLA):
        write("umbrella.cpp", header_only_tu(UMBRELLA, "only the umbrella header (the whole library)."))
        manifest.append(("umbrella.cpp", "-", "syntax", f"#include <{UMBRELLA}> only"))
    text, ref_layers = reference_tu(h)
    write("reference.cpp", text)
    manifest.append(("reference.cpp", " + ".join(map(str, ref_layers)), "both",
                     "S9 + S7-dilated reference checks"))
    for layers in args.layers:
        text, f = network_tu(layers, h)
        write(f"net{layers}.cpp", text)
        manifest.append((f"net{layers}.cpp", layers, "both", f"generated, {f.params} params, RF {f.rf}"))
    write("manifest.tsv", "".join("\t".join(map(str, row)) + "\n" for row in manifest))


if __name__ == "__main__":
    main()
