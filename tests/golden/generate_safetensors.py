#!/usr/bin/python3
"""Writes the safetensors golden files of tests/unit/test_checkpoint.cpp.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 tests/golden/generate_safetensors.py
The files are committed; the tests never need PyTorch at run time. Only json,
struct and torch are used (no `safetensors` package): the format is written by
hand, so these files also check that staticnet reads what another writer makes.

  tiny_net.safetensors     the state_dict of a small PyTorch network whose names
                           match a staticnet network (see the test's TinyNet),
                           including BatchNorm's num_batches_tracked (I64,
                           shape []) as PyTorch saves it; header keys in reverse
                           order, data in another order, metadata with escapes
                           and non-ASCII text, header padded with spaces.
  tiny_net_io.safetensors  "input" (2 x 3 x 8 x 8) and the network's eval-mode
                           "output" (2 x 5).
  dtypes.safetensors       tensors of several dtypes for the low-level reader:
                           F32 scalar, empty F32, F16, BF16, I64, and a
                           non-ASCII name (written with \\u escapes).
"""
import json
import os
import struct
from collections import OrderedDict

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64",
          torch.float64: "F64", torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL"}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: reinterpret the bits
        t = t.view(torch.int16)
    return t.numpy().tobytes()  # little-endian on every machine PyTorch runs on


def write(path, tensors, metadata=None, header_order=None, data_order=None, ensure_ascii=True):
    """tensors: name -> tensor. header_order / data_order: name lists (default: as given)."""
    names = list(tensors)
    data_order = data_order or names
    header_order = header_order or names
    offsets, blobs, pos = {}, [], 0
    for name in data_order:
        b = tensor_bytes(tensors[name])
        offsets[name] = (pos, pos + len(b))
        blobs.append(b)
        pos += len(b)
    header = OrderedDict()
    for name in header_order:
        t = tensors[name]
        header[name] = OrderedDict([("dtype", DTYPES[t.dtype]), ("shape", list(t.shape)),
                                    ("data_offsets", list(offsets[name]))])
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, ensure_ascii=ensure_ascii).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def tiny_net():
    """staticnet: Network<Input<3, 8, 8>, Block<"stem", Conv2d<{.out = 4, .padding = 1}>, BatchNorm2d, ReLU>,
    MaxPool2d<>, Block<"head", GlobalAvgPool, Flatten, Linear<{.out = 5}>>>."""
    return nn.Sequential(OrderedDict([
        ("stem", nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())),
        ("1", nn.MaxPool2d(2)),
        ("head", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))),
    ]))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)
    net = tiny_net()
    # A few training-mode forwards so the BatchNorm statistics are not the defaults.
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(4, 3, 8, 8) * 2 + 0.5)
        net.stem[1].weight.uniform_(0.5, 1.5)
        net.stem[1].bias.uniform_(-0.5, 0.5)
    net.eval()
    state = net.state_dict()  # includes stem.1.num_batches_tracked (int64, shape [])
    assert state["stem.1.num_batches_tracked"].dtype == torch.int64
    names = list(state)
    write(os.path.join(OUT, "tiny_net.safetensors"), state,
          metadata={"format": "pt", "note": "written by \"generate_safetensors.py\"\\\n\ttab, caf\u00e9 \u2713",
                    "epoch": "3"},
          header_order=list(reversed(names)), data_order=sorted(names), ensure_ascii=False)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        y = net(x)
    write(os.path.join(OUT, "tiny_net_io.safetensors"), OrderedDict([("input", x), ("output", y)]))

    tensors = OrderedDict([
        ("scalar", torch.tensor(3.5)),
        ("empty", torch.zeros(0, 3)),
        ("half", torch.tensor([1.0, -2.0, 0.5], dtype=torch.float16)),
        ("bf16", torch.tensor([1.0, -3.0], dtype=torch.bfloat16)),
        ("long", torch.tensor([1, -1, 1 << 40], dtype=torch.int64)),
        ("na\u00efve/\u03b8", torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4),
    ])
    write(os.path.join(OUT, "dtypes.safetensors"), tensors, metadata={"k\u00e9y": "v\u00e0lue \U0001F600"},
          data_order=["long", "half", "na\u00efve/\u03b8", "empty", "scalar", "bf16"])


if __name__ == "__main__":
    main()
