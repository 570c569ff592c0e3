#!/usr/bin/env python3
"""PyTorch's GPU training-step and inference throughput for the reference networks.

The PyTorch side of staticnet's GPU benchmark (bench/gpu/README.md). The
networks are S9 and S7-dilated exactly as bench/train/pytorch_train_step.py
(and tests/golden/generate.py) build them; the training step is the same:
zero_grad, forward, NLL loss on the log-softmax output, backward, SGD
(lr 0.01, momentum 0.9, weight decay 5e-4). Inference is the network in eval
mode without autograd. Every configuration runs with
torch.backends.cudnn.benchmark = True:

  eager_<layout>_tf32<off|on>  eager PyTorch, layout nchw or cl (channels_last)
  graph_<layout>_tf32<off|on>  the whole step (the optimizer's too) or the whole
                               forward captured once in a CUDA graph over static
                               tensors, then replayed

tf32off: convolutions (and matrix products) in IEEE fp32; tf32on: cuDNN may use
TF32 tensor cores. Timing: warm-up calls, then ROUNDS rounds of N calls each
(N chosen so that a round lasts about ROUND_MS) between two CUDA events;
images/s = batch / the median round's time per call.

Prints one JSON object per line: first {"impl": "pytorch", "meta": true, ...}
(versions, device), then per measurement
  {"impl": "pytorch", "net": "s9", "mode": "train", "batch": 128,
   "config": "eager_nchw_tf32off", "img_s": ..., "ms": ..., "spread": ..., ...}
(spread: (slowest - fastest round) / median), or the same keys with "error"
instead of "img_s" when a configuration failed.

  python3 bench/gpu/pytorch_gpu.py            # everything, about 1-2 minutes on an H100
  python3 bench/gpu/pytorch_gpu.py --quick    # smoke test: batch 32, two configurations
  python3 bench/gpu/pytorch_gpu.py --nets s9 --batches 128 --configs eager_nchw_tf32off,graph_cl_tf32on
Exit status 2 without PyTorch or without a CUDA device (--allow-cpu runs the
eager configurations on the CPU instead, to check this script on a machine
without a GPU; those numbers mean nothing).
"""
import argparse
import inspect
import json
import math
import os
import statistics
import sys
import time

NETS = ("s9", "s7_dilated")
PARAMS = {"s9": 198757, "s7_dilated": 68992}  # as static_assert'ed in examples/assignments
BATCHES = (128, 512)
MODES = ("train", "infer")
CONFIGS = tuple("%s_%s_tf32%s" % (m, l, t) for m in ("eager", "graph") for l in ("nchw", "cl") for t in ("off", "on"))


def die(msg):
    print("pytorch_gpu: " + msg, file=sys.stderr, flush=True)
    sys.exit(2)


def emit(obj):
    print(json.dumps(obj, sort_keys=False), flush=True)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke test: batch 32, eager_nchw_tf32off and "
                    "graph_nchw_tf32off, 2 short rounds")
    ap.add_argument("--nets", default=",".join(NETS))
    ap.add_argument("--batches", default=None, help="comma-separated (default %s; --quick: 32)"
                    % ",".join(map(str, BATCHES)))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--configs", default=None, help="comma-separated, from: " + ", ".join(CONFIGS) + " (default all)")
    ap.add_argument("--rounds", type=int, default=None, help="timed rounds (default 7; --quick: 2)")
    ap.add_argument("--round-ms", type=float, default=None, help="target length of one round (default 50; --quick: 5)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed calls before timing, after any graph "
                    "capture (default 3; --quick: 2)")
    ap.add_argument("--budget-s", type=float, default=170.0,
                    help="stop starting new measurements after this many seconds (the rest are reported skipped)")
    ap.add_argument("--allow-cpu", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    # --quick changes only the defaults: options given explicitly win.
    quick = dict(batches="32", configs="eager_nchw_tf32off,graph_nchw_tf32off", rounds=2, round_ms=5.0, warmup=2)
    full = dict(batches=",".join(map(str, BATCHES)), configs=",".join(CONFIGS), rounds=7, round_ms=50.0, warmup=3)
    for k, v in (quick if a.quick else full).items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    a.nets = [n for n in a.nets.split(",") if n]
    a.batches = [int(b) for b in a.batches.split(",") if b]
    a.modes = [m for m in a.modes.split(",") if m]
    a.configs = [c for c in a.configs.split(",") if c]
    for n in a.nets:
        if n not in NETS:
            ap.error("unknown net %r (known: %s)" % (n, ", ".join(NETS)))
    for m in a.modes:
        if m not in MODES:
            ap.error("unknown mode %r (known: %s)" % (m, ", ".join(MODES)))
    for c in a.configs:
        if c not in CONFIGS:
            ap.error("unknown configuration %r (known: %s)" % (c, ", ".join(CONFIGS)))
    return a


def main():
    a = parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        die("PyTorch is not installed here (%s); on the device machine run it with its python3" % e)
    # The networks exactly as the CPU comparison builds them.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
    from pytorch_train_step import s7_dilated, s9  # noqa: E402

    builders = {"s9": s9, "s7_dilated": s7_dilated}
    for n in a.nets:  # the same networks as staticnet's references, or no comparison
        count = sum(p.numel() for p in builders[n]().parameters())
        if count != PARAMS[n]:
            die("%s has %d parameters here, the reference has %d" % (n, count, PARAMS[n]))

    cuda = torch.cuda.is_available()
    if not cuda and not a.allow_cpu:
        die("no CUDA device (torch %s, built for CUDA %s: torch.cuda.is_available() is False)"
            % (torch.__version__, torch.version.cuda))
    dev = torch.device("cuda" if cuda else "cpu")
    if not cuda:
        a.configs = [c for c in a.configs if c.startswith("eager_")]
        print("pytorch_gpu: --allow-cpu: no CUDA device, eager configurations on the CPU; the numbers mean nothing",
              file=sys.stderr, flush=True)
    torch.backends.cudnn.benchmark = True

    def set_tf32(on):
        prec = "tf32" if on else "ieee"
        conv = getattr(torch.backends.cudnn, "conv", None)
        if conv is not None and hasattr(conv, "fp32_precision"):  # PyTorch 2.9 and later
            torch.backends.cudnn.conv.fp32_precision = prec
            torch.backends.cuda.matmul.fp32_precision = prec
        else:
            torch.backends.cudnn.allow_tf32 = on
            torch.backends.cuda.matmul.allow_tf32 = on

    def sync():
        if cuda:
            torch.cuda.synchronize()

    class Timer:
        """Elapsed milliseconds of a region: CUDA events on the GPU, the host clock on the CPU."""

        def __init__(self):
            if cuda:
                self.a, self.b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

        def start(self):
            if cuda:
                self.a.record()
            else:
                self.t = time.perf_counter()

        def stop_ms(self):
            if cuda:
                self.b.record()
                self.b.synchronize()
                return self.a.elapsed_time(self.b)
            return (time.perf_counter() - self.t) * 1e3

    def measure(fn, batch):
        """Median ms per call of fn over a.rounds rounds, after a.warmup calls."""
        for _ in range(a.warmup):
            fn()
        sync()
        t = Timer()
        t.start()
        for _ in range(2):
            fn()
        per = max(t.stop_ms() / 2, 1e-3)
        iters = max(2, int(math.ceil(a.round_ms / per)))
        rounds = []
        for _ in range(a.rounds):
            t.start()
            for _ in range(iters):
                fn()
            rounds.append(t.stop_ms() / iters)
        med = statistics.median(rounds)
        return {"img_s": round(batch / (med * 1e-3), 1), "ms": round(med, 4),
                "spread": round((max(rounds) - min(rounds)) / med, 4), "rounds": a.rounds, "iters": iters}

    sgd_kwargs = dict(lr=0.01, momentum=0.9, weight_decay=5e-4)
    sgd_capturable = "capturable" in inspect.signature(torch.optim.SGD).parameters

    def run_one(net_name, batch, config, modes):
        """Yields (mode, result dict) for each mode of one network, batch and configuration."""
        kind, layout, tf32 = config.split("_")
        set_tf32(tf32 == "tf32on")
        fmt = torch.channels_last if layout == "cl" else torch.contiguous_format
        torch.manual_seed(0)
        net = builders[net_name]().to(dev).to(memory_format=fmt)
        x = torch.randn(batch, 3, 32, 32, device=dev).to(memory_format=fmt)
        y = torch.randint(0, 10, (batch,), device=dev)
        kw = dict(sgd_kwargs)
        if kind == "graph" and sgd_capturable:
            kw["capturable"] = True
        opt = torch.optim.SGD(net.parameters(), **kw)
        for mode in modes:
            if mode == "train":
                net.train()
                if kind == "eager":
                    state = {}

                    def fn():
                        opt.zero_grad(set_to_none=True)
                        loss = F.nll_loss(net(x), y)
                        loss.backward()
                        opt.step()
                        state["loss"] = loss
                    r = measure(fn, batch)
                    loss = state["loss"]
                else:
                    # Whole-step capture (PyTorch's CUDA-graphs notes): warm up on a side
                    # stream (cuDNN's autotuning, the momentum buffers), then capture.
                    s = torch.cuda.Stream()
                    s.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(s):
                        for _ in range(3):
                            opt.zero_grad(set_to_none=True)
                            F.nll_loss(net(x), y).backward()
                            opt.step()
                    torch.cuda.current_stream().wait_stream(s)
                    g = torch.cuda.CUDAGraph()
                    opt.zero_grad(set_to_none=True)
                    with torch.cuda.graph(g):
                        loss = F.nll_loss(net(x), y)
                        loss.backward()
                        opt.step()
                    r = measure(g.replay, batch)
                    del g
            else:
                net.eval()
                if kind == "eager":
                    state = {}

                    def fn():
                        with torch.inference_mode():
                            state["out"] = net(x)
                    r = measure(fn, batch)
                    loss = state["out"]
                else:
                    s = torch.cuda.Stream()
                    s.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(s), torch.no_grad():
                        for _ in range(3):
                            net(x)
                    torch.cuda.current_stream().wait_stream(s)
                    g = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(g), torch.no_grad():
                        loss = net(x)
                    r = measure(g.replay, batch)
                    del g
            sync()
            if not bool(torch.isfinite(loss).all()):
                r = {"error": "non-finite %s after the timed calls" % ("loss" if mode == "train" else "output")}
            yield mode, r

    meta = {"impl": "pytorch", "meta": True, "torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if cuda else None,
            "device": torch.cuda.get_device_name(0) if cuda else "cpu", "cudnn_benchmark": True,
            "sgd_capturable_arg": sgd_capturable, "rounds": a.rounds, "round_ms": a.round_ms,
            "tf32_api": "fp32_precision" if hasattr(getattr(torch.backends.cudnn, "conv", None), "fp32_precision")
            else "allow_tf32"}
    emit(meta)
    t0 = time.perf_counter()
    failures = 0
    for batch in a.batches:
        for net_name in a.nets:
            for config in a.configs:
                base = {"impl": "pytorch", "net": net_name, "batch": batch, "config": config}
                if time.perf_counter() - t0 > a.budget_s:
                    for mode in a.modes:
                        emit(dict(base, mode=mode, error="skipped: past --budget-s %.0f" % a.budget_s))
                    failures += len(a.modes)
                    continue
                done = set()
                try:
                    for mode, r in run_one(net_name, batch, config, a.modes):
                        done.add(mode)
                        failures += "error" in r
                        emit(dict(base, mode=mode, **r))
                except Exception as e:  # one configuration failing must not stop the others
                    for mode in a.modes:
                        if mode not in done:
                            failures += 1
                            emit(dict(base, mode=mode, error="%s: %s" % (type(e).__name__, str(e).splitlines()[0]
                                                                         if str(e) else "")))
                if cuda:
                    torch.cuda.synchronize()
                    torch.cuda.empty_cache()
    print("pytorch_gpu: %d measurements failed or skipped; %.1f s" % (failures, time.perf_counter() - t0),
          file=sys.stderr, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
