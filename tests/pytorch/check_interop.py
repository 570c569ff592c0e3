#!/usr/bin/python3
"""The PyTorch half of the interop test (run_interop.sh: `interop write DIR`, this, `interop read DIR`).

For every network of DIR/manifest.json (written by `interop write`):
  * imports DIR/<name>.py, the module export_pytorch wrote, and builds its class;
  * loads the staticnet checkpoint DIR/<name>.safetensors with the file's own
    load_staticnet_checkpoint (strict), runs it in eval mode on the input of
    DIR/<name>_io.safetensors and compares with staticnet's output there
    (|difference| <= 1e-5 + 1e-5 |staticnet|);
  * compares the parameter and buffer counts with staticnet's, and the
    summaries: torchsummary's and torchinfo's tables of the module
    (tests/golden/torch_summaries.py) must be the text staticnet printed
    (DIR/<name>_torchsummary.txt, DIR/<name>_torchinfo.txt), and their figures
    staticnet's size estimates (manifest.json);
  * the other way: a fresh module with PyTorch's initialisation (seeded) and
    random BatchNorm statistics, saved with the file's save_state_dict as
    DIR/<name>_torch.safetensors, with an input and its eval-mode output
    (DIR/<name>_torch_io.safetensors), which `interop read` loads into staticnet;
  * and two state_dicts staticnet must refuse: one with nn.DataParallel's
    "module." prefix, one with a tensor of another shape; and three in F64,
    F16 and BF16 (values those types hold exactly), which it converts.
Exit status 0 when everything matched, 1 otherwise.
"""
import copy
import importlib.util
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "golden"))
import torch_summaries  # noqa: E402

TOL = 1e-5


def load_module(path, name):
    spec = importlib.util.spec_from_file_location("exported_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def figure(text, key):
    for line in text.splitlines():
        if line.startswith(key):
            return line[len(key):].strip()
    raise KeyError(key)


def check_network(d, entry):
    name, ok = entry["name"], True
    problems = []
    mod = load_module(os.path.join(d, name + ".py"), name)
    cls = getattr(mod, entry["class"])

    # staticnet -> PyTorch
    model = cls()
    mod.load_staticnet_checkpoint(model, os.path.join(d, name + ".safetensors"))
    model.eval()
    io, _ = mod.read_safetensors(os.path.join(d, name + "_io.safetensors"))
    with torch.no_grad():
        y = model(io["input"])
    want = io["output"]
    diff = (y - want).abs().max().item() if y.shape == want.shape else float("inf")
    if y.shape != want.shape or not torch.allclose(y, want, rtol=TOL, atol=TOL):
        problems.append("outputs differ: max |PyTorch - staticnet| = %.3g" % diff)
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))
    if params != entry["params"] or buffers != entry["buffers"]:
        problems.append("parameters %d / buffers %d, staticnet %d / %d" % (params, buffers, entry["params"],
                                                                          entry["buffers"]))

    # The summaries of the module are staticnet's.
    shape = tuple(entry["input"])
    ts = torch_summaries.torchsummary(model, shape)
    ti = torch_summaries.torchinfo(model, (1,) + shape)
    if not torch_summaries.check_input_overhead(model, (1,) + shape):
        problems.append("torchinfo's own input size (sys.getsizeof) would print another table")
    for kind, text in (("torchsummary", ts), ("torchinfo", ti)):
        with open(os.path.join(d, "%s_%s.txt" % (name, kind)), encoding="utf-8") as f:
            mine = f.read()
        if text != mine:
            problems.append("%s's table differs from staticnet's:\n--- %s (PyTorch)\n%s--- staticnet\n%s"
                            % (kind, kind, text, mine))
    # ... and staticnet's size estimates (facts.hpp) are the tables' figures.
    lines = ts.splitlines()
    rules = [k for k, line in enumerate(lines) if line.startswith("=")]
    got = {"rows": rules[1] - rules[0] - 1, "input": figure(ts, "Input size (MB):"),
           "forward_backward": figure(ts, "Forward/backward pass size (MB):"),
           "params": figure(ts, "Params size (MB):"), "total": figure(ts, "Estimated Total Size (MB):")}
    if got != entry["torchsummary"]:
        problems.append("torchsummary's figures %s, staticnet's estimate %s" % (got, entry["torchsummary"]))
    want = dict(entry["torchinfo"])
    macs = want.pop("mult_adds")
    unit, scale = ("T", 1e12) if macs >= 1e12 else ("G", 1e9) if macs >= 1e9 else ("M", 1e6)
    want["mult_adds"] = "%.2f" % (macs / scale)
    got = {"mult_adds": figure(ti, "Total mult-adds (%s):" % unit), "input": figure(ti, "Input size (MB):"),
           "forward_backward": figure(ti, "Forward/backward pass size (MB):"),
           "params": figure(ti, "Params size (MB):"), "total": figure(ti, "Estimated Total Size (MB):")}
    if got != want:
        problems.append("torchinfo's figures %s, staticnet's estimate %s" % (got, want))

    # PyTorch -> staticnet: a fresh module, random BatchNorm statistics.
    torch.manual_seed(len(name))
    fresh = cls()
    with torch.no_grad():
        for m in fresh.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(7)
    fresh.eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        y = fresh(x)
    mod.save_state_dict(fresh, os.path.join(d, name + "_torch.safetensors"))
    mod.write_safetensors(os.path.join(d, name + "_torch_io.safetensors"), {"input": x, "output": y})
    if name == "nested":  # two state_dicts staticnet must refuse
        state = fresh.state_dict()
        mod.write_safetensors(os.path.join(d, "nested_prefixed.safetensors"),
                              {"module." + k: v for k, v in state.items()})
        reshaped = dict(state)
        reshaped["5.weight"] = torch.zeros(10, 15, 3, 3)
        mod.write_safetensors(os.path.join(d, "nested_reshaped.safetensors"), reshaped)
        # ... and three it converts to F32: values F64, F16 and BF16 hold exactly.
        for dtype, tag in ((torch.float64, "f64"), (torch.float16, "f16"), (torch.bfloat16, "bf16")):
            rounded = copy.deepcopy(fresh)
            with torch.no_grad():
                for v in rounded.state_dict().values():
                    if v.is_floating_point():
                        v.copy_(v.to(dtype).float())
                y_rounded = rounded(x)
            mod.write_safetensors(os.path.join(d, "nested_%s.safetensors" % tag),
                                  {k: v.to(dtype) if v.is_floating_point() else v
                                   for k, v in rounded.state_dict().items()})
            mod.write_safetensors(os.path.join(d, "nested_%s_io.safetensors" % tag), {"input": x, "output": y_rounded})

    print("%-14s %s: %d parameters, output max |PyTorch - staticnet| = %.3g; summaries %s; %s"
          % (name, entry["class"], params, diff, "equal" if not any("table" in p for p in problems) else "DIFFER",
             "OK" if not problems else "FAILED"))
    for p in problems:
        print("  " + p.replace("\n", "\n  "))
    return not problems and ok


def main(argv):
    if len(argv) != 2:
        print("usage: %s DIR" % argv[0], file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    d = argv[1]
    with open(os.path.join(d, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    print("PyTorch %s, Python %s" % (torch.__version__, sys.version.split()[0]))
    ok = all([check_network(d, entry) for entry in manifest])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
