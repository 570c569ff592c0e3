#!/usr/bin/python3
"""Loads a staticnet checkpoint into the equivalent PyTorch module and checks it.

Usage (from the repository root; needs only PyTorch, e.g. Debian's python3-torch 1.13):

  # any network: its module, written by export_pytorch (an assignment program's --export-pytorch)
  ./build/examples/assignments/s7_groups --export-pytorch /tmp/s7_groups.py
  /usr/bin/python3 tools/checkpoint_to_pytorch.py runs/s7_groups/best.safetensors --module /tmp/s7_groups.py

  # the S7-dilated reference, built by tests/golden/generate.py (--arch)
  cmake -S . -B build -DSTATICNET_CUDA=OFF && cmake --build build --target export_check
  ./build/tools/export_check /tmp/ckpt
  /usr/bin/python3 tools/checkpoint_to_pytorch.py /tmp/ckpt/s7_dilated.safetensors \\
      --check /tmp/ckpt/s7_dilated_io.safetensors [--save /tmp/ckpt/s7_dilated.pt] [--tol 1e-4]

What it does:
  * reads the safetensors file by hand (json + struct + torch; no `safetensors`
    package needed), validating the header as the format requires;
  * builds the PyTorch network with staticnet's names: the class of --module
    FILE.py (a file export_pytorch wrote; --class NAME picks one when it has
    several; its architecture fingerprint must be the checkpoint's), else
    --arch (s7_dilated is tests/golden/generate.py's s7_dilated()); sets BatchNorm eps / momentum
    from the checkpoint's metadata, and loads the parameters and running
    statistics with load_state_dict(strict=False), requiring that the only
    missing keys are BatchNorm's num_batches_tracked and nothing is unexpected;
  * maps the optimizer state, when present ("optimizer.momentum_buffer.<param>"
    for SGD, "optimizer.exp_avg.<param>" ... for Adam / AdamW), onto a
    torch.optim optimizer of the same hyperparameters;
  * with --check IO: runs the module in eval mode on IO's "input" and compares
    with IO's "output" (staticnet's), printing the maximum absolute difference;
    exits with status 1 when it is above --tol;
  * with --save PT: torch.save({"model": state_dict, "optimizer": ...,
    "metadata": ...}, PT).
Exit status: 0 when everything matched, 1 on a mismatch, 2 on a bad file or usage.
"""
import argparse
import importlib.util
import json
import os
import struct
import sys
from collections import OrderedDict

import torch
import torch.nn as nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "golden"))
from generate import s7_dilated  # noqa: E402  (the reference network with staticnet's names)

ARCHITECTURES = {"s7_dilated": s7_dilated}

# dtype -> (torch dtype, bytes per element)
DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8), "F16": (torch.float16, 2),
          "BF16": (torch.bfloat16, 2), "I64": (torch.int64, 8), "I32": (torch.int32, 4),
          "I16": (torch.int16, 2), "I8": (torch.int8, 1), "U8": (torch.uint8, 1), "BOOL": (torch.bool, 1)}


class BadFile(Exception):
    pass


def read_safetensors(path):
    """Returns (OrderedDict name -> tensor in data order, metadata dict)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise BadFile("%s is truncated: %d bytes" % (path, len(blob)))
    (n,) = struct.unpack("<Q", blob[:8])
    if n > 100_000_000:
        raise BadFile("%s: header length %d is too large" % (path, n))
    if 8 + n > len(blob):
        raise BadFile("%s is truncated: header length says %d bytes, file has %d" % (path, n, len(blob) - 8))
    text = blob[8:8 + n].decode("utf-8")
    if not text.startswith("{"):
        raise BadFile("%s: the header is not a JSON object" % path)

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise BadFile("%s: duplicate keys in the header" % path)
        return OrderedDict(pairs)

    try:
        header = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as e:
        raise BadFile("%s: bad header JSON at byte %d of the header: %s" % (path, e.pos, e.msg))
    metadata = header.pop("__metadata__", {}) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise BadFile("%s: __metadata__ must map strings to strings" % path)
    data = blob[8 + n:]
    entries = []
    for name, info in header.items():
        dtype = info["dtype"]
        if dtype not in DTYPES:
            raise BadFile("%s: tensor %r has unsupported dtype %s" % (path, name, dtype))
        shape = info["shape"]
        begin, end = info["data_offsets"]
        numel = 1
        for d in shape:
            if not isinstance(d, int) or d < 0:
                raise BadFile("%s: tensor %r has a bad shape %r" % (path, name, shape))
            numel *= d
        if end - begin != numel * DTYPES[dtype][1]:
            raise BadFile("%s: tensor %r: data_offsets do not match its shape" % (path, name))
        entries.append((begin, end, name, dtype, shape))
    entries.sort()
    pos = 0
    for begin, end, name, _, _ in entries:
        if begin != pos:
            raise BadFile("%s: data of %r is not contiguous (starts at %d, expected %d)" % (path, name, begin, pos))
        pos = end
    if pos != len(data):
        what = "is truncated: header says %d bytes of data, file has %d" if pos > len(data) else \
            "header says %d bytes of data, file has %d"
        raise BadFile("%s %s" % (path, what % (pos, len(data))))
    tensors = OrderedDict()
    for begin, end, name, dtype, shape in entries:
        torch_dtype, _ = DTYPES[dtype]
        raw = bytearray(data[begin:end])
        if sys.byteorder != "little":
            raise BadFile("big-endian hosts are not supported by this script")
        t = torch.frombuffer(raw, dtype=torch_dtype) if raw else torch.empty(0, dtype=torch_dtype)
        tensors[name] = t.reshape(shape).clone()
    return tensors, metadata


def exported_network(path, class_name, fingerprint):
    """An instance of the network class of a file export_pytorch wrote."""
    spec = importlib.util.spec_from_file_location("staticnet_exported", path)
    if spec is None:
        raise BadFile("%s is not a Python file" % path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = {name: c for name, c in vars(module).items()
               if isinstance(c, type) and getattr(c, "staticnet_fingerprint", None)}
    if class_name:
        if class_name not in classes:
            raise BadFile("%s has no network class %s (it has: %s)" % (path, class_name, ", ".join(sorted(classes))))
        cls = classes[class_name]
    elif len(classes) == 1:
        cls = next(iter(classes.values()))
    else:
        raise BadFile("%s: pick one of its network classes with --class (%s)" % (path, ", ".join(sorted(classes)) or
                                                                                "none"))
    if fingerprint and cls.staticnet_fingerprint != fingerprint:
        raise BadFile("%s's %s has the architecture fingerprint %s, the checkpoint %s"
                      % (path, cls.__name__, cls.staticnet_fingerprint, fingerprint))
    return cls()


def build_optimizer(net, metadata, extras):
    """A torch.optim optimizer carrying the checkpoint's optimizer state, or None."""
    kind = metadata.get("optimizer.type")
    if kind is None:
        return None

    def num(key, default=None):
        v = metadata.get("optimizer." + key)
        return default if v is None else (v == "true" if v in ("true", "false") else float(v))

    params = OrderedDict(net.named_parameters())
    if kind == "SGD":
        opt = torch.optim.SGD(params.values(), lr=num("lr"), momentum=num("momentum", 0.0),
                              dampening=num("dampening", 0.0), weight_decay=num("weight_decay", 0.0),
                              nesterov=num("nesterov", False))
        states = ["momentum_buffer"] if num("started", False) else []
    elif kind in ("Adam", "AdamW"):
        cls = torch.optim.Adam if kind == "Adam" else torch.optim.AdamW
        opt = cls(params.values(), lr=num("lr"), betas=(num("beta1"), num("beta2")), eps=num("eps"),
                  weight_decay=num("weight_decay"), amsgrad=num("amsgrad", False),
                  maximize=num("maximize", False))
        steps = int(metadata.get("optimizer.step", "0"))
        states = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if num("amsgrad", False) else [])
        if steps == 0:
            states = []
    else:
        raise BadFile("unknown optimizer type %r" % kind)
    for name, p in params.items():
        for state in states:
            key = "optimizer.%s.%s" % (state, name)
            if key not in extras:
                raise BadFile("the checkpoint lacks %s" % key)
            buf = extras[key]
            if buf.shape != p.shape:
                raise BadFile("%s has shape %s, the parameter %s" % (key, list(buf.shape), list(p.shape)))
            opt.state[p][state] = buf.clone()
        if kind != "SGD" and states:
            opt.state[p]["step"] = torch.tensor(float(steps))
    return opt


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint", help="a staticnet checkpoint (.safetensors)")
    ap.add_argument("--module", metavar="FILE.py", help="a module file export_pytorch wrote (any network)")
    ap.add_argument("--class", dest="class_name", metavar="NAME", help="the class of --module to build")
    ap.add_argument("--arch", default="s7_dilated", choices=sorted(ARCHITECTURES),
                    help="a built-in network, without --module")
    ap.add_argument("--check", metavar="IO", help="a safetensors file with 'input' and staticnet's 'output'")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest accepted |difference| (default 1e-4)")
    ap.add_argument("--save", metavar="PT", help="write the PyTorch state (torch.save) here")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    try:
        tensors, metadata = read_safetensors(args.checkpoint)
    except (OSError, BadFile, UnicodeDecodeError, KeyError, TypeError, ValueError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    extra_names = json.loads(metadata.get("staticnet.extra_tensors", "[]"))
    extras = OrderedDict((k, tensors.pop(k)) for k in extra_names)
    print("checkpoint %s: %d model tensors, %d extra tensors" % (args.checkpoint, len(tensors), len(extras)))
    for key in ("staticnet.version", "staticnet.fingerprint", "epoch", "step"):
        if key in metadata:
            print("  %s = %s" % (key, metadata[key]))

    if args.module:
        try:
            net = exported_network(args.module, args.class_name, metadata.get("staticnet.fingerprint"))
        except (OSError, BadFile, SyntaxError, ImportError) as e:
            print("error: %s" % e, file=sys.stderr)
            return 2
        args.arch = type(net).__name__
    else:
        net = ARCHITECTURES[args.arch]()
    eps = float(metadata.get("staticnet.bn_eps", "1e-5"))
    momentum = float(metadata.get("staticnet.bn_momentum", "0.1"))
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps, m.momentum = eps, momentum
    bad = [k for k, t in tensors.items() if t.dtype != torch.float32]
    if bad:
        print("error: non-F32 model tensors: %s" % ", ".join(bad), file=sys.stderr)
        return 2
    result = net.load_state_dict(tensors, strict=False)
    stray = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if stray or result.unexpected_keys:
        print("error: the checkpoint does not fit %s: missing %s, unexpected %s"
              % (args.arch, stray, result.unexpected_keys), file=sys.stderr)
        return 1
    # (PyTorch 1.13 itself fills num_batches_tracked in when a state dict lacks it.)
    print("load_state_dict(strict=False): all %d tensors loaded, nothing unexpected, missing: %s"
          % (len(tensors), "%d num_batches_tracked" % len(result.missing_keys) if result.missing_keys else "none"))

    try:
        opt = build_optimizer(net, metadata, extras)
    except (BadFile, ValueError) as e:
        print("error: optimizer state: %s" % e, file=sys.stderr)
        return 1
    if opt is not None:
        n_state = sum(len(s) for s in opt.state.values())
        print("optimizer: torch.optim.%s with %d state tensors mapped by parameter name"
              % (type(opt).__name__, n_state))

    status = 0
    if args.check:
        try:
            io, _ = read_safetensors(args.check)
        except (OSError, BadFile, UnicodeDecodeError, KeyError, TypeError, ValueError) as e:
            print("error: %s" % e, file=sys.stderr)
            return 2
        net.eval()
        with torch.no_grad():
            y = net(io["input"])
        diff = (y - io["output"]).abs().max().item()
        ok = diff <= args.tol
        print("eval output on %s: max |PyTorch - staticnet| = %.3g (tolerance %g): %s"
              % (tuple(io["input"].shape), diff, args.tol, "OK" if ok else "MISMATCH"))
        status = 0 if ok else 1
    if args.save:
        torch.save({"model": net.state_dict(), "optimizer": opt.state_dict() if opt is not None else None,
                    "metadata": metadata}, args.save)
        print("wrote %s" % args.save)
    return status


if __name__ == "__main__":
    sys.exit(main())
