#!/usr/bin/python3
"""Writes the PyTorch golden files for the optimizer (Adam / AdamW) and
learning-rate schedule tests (tests/unit/test_adam.cpp, test_schedule.cpp).

Run with Debian's python3-torch (1.13):  /usr/bin/python3 tests/golden/generate_schedules.py
The files are committed; the tests never need PyTorch at run time.

Same format as generate.py (little-endian records: u32 name length, name,
u32 rank, i32 dims, f32 data). Files:

  sched_<case>.bin   "lr" (and "momentum": SGD momentum or Adam beta1 when
                     the case cycles it), index 0 after construction, index k
                     after the k-th scheduler.step(); plateau cases also hold
                     "metric" (the value passed to step k+1) and, after each
                     step, "best", "num_bad_epochs", "cooldown_counter".
  adam_<case>.bin    "param" (initial), "grad<k>", "step<k>" (params after
                     step k), and the final "exp_avg", "exp_avg_sq"
                     ("max_exp_avg_sq" with amsgrad); the *_onecycle case
                     also holds the "lr" / "momentum" used by each step.
"""
import os
import sys
import warnings
from collections import OrderedDict

import torch

sys.dont_write_bytecode = True  # no __pycache__ next to the committed files
from generate import write  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def vec(values):
    return torch.tensor(values, dtype=torch.float64)


def momentum_of(opt):
    group = opt.param_groups[0]
    return group["betas"][0] if "betas" in group else group["momentum"]


def sgd():
    return torch.optim.SGD([torch.zeros(3, requires_grad=True)], lr=0.1, momentum=0.9)


def adam():
    return torch.optim.Adam([torch.zeros(3, requires_grad=True)], lr=0.1)


def schedule_case(name, opt, make, steps, momentum=False):
    sched = make(opt)
    lrs, moms = [sched.get_last_lr()[0]], [momentum_of(opt)]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
        moms.append(momentum_of(opt))
    tensors = OrderedDict([("lr", vec(lrs))])
    if momentum:
        tensors["momentum"] = vec(moms)
    write(os.path.join(OUT, "sched_%s.bin" % name), tensors)


def plateau_case(name, metrics, **kw):
    opt = sgd()
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    lrs, best, bad, cool = [], [], [], []
    for m in metrics:
        opt.step()
        sched.step(m)
        lrs.append(opt.param_groups[0]["lr"])
        best.append(sched.best)
        bad.append(sched.num_bad_epochs)
        cool.append(sched.cooldown_counter)
    write(os.path.join(OUT, "sched_%s.bin" % name),
          OrderedDict([("metric", vec(metrics)), ("lr", vec(lrs)), ("best", vec(best)),
                       ("num_bad_epochs", vec(bad)), ("cooldown_counter", vec(cool))]))


def schedules():
    lr = torch.optim.lr_scheduler
    schedule_case("onecycle_default", sgd(), lambda o: lr.OneCycleLR(o, max_lr=0.1, total_steps=100), 100, True)
    schedule_case("onecycle_three_phase", sgd(),
                  lambda o: lr.OneCycleLR(o, max_lr=0.1, total_steps=100, three_phase=True), 100, True)
    schedule_case("onecycle_linear", sgd(),
                  lambda o: lr.OneCycleLR(o, max_lr=0.05, total_steps=50, pct_start=0.25, anneal_strategy="linear",
                                          base_momentum=0.8, max_momentum=0.9, div_factor=10.,
                                          final_div_factor=100.), 50, True)
    schedule_case("onecycle_epochs_adam", adam(),
                  lambda o: lr.OneCycleLR(o, max_lr=0.01, epochs=3, steps_per_epoch=7), 21, True)
    schedule_case("onecycle_three_phase_linear_adam", adam(),
                  lambda o: lr.OneCycleLR(o, max_lr=0.02, total_steps=30, three_phase=True, anneal_strategy="linear",
                                          cycle_momentum=False, pct_start=0.4), 30, True)
    schedule_case("steplr", sgd(), lambda o: lr.StepLR(o, step_size=3, gamma=0.5), 12)
    schedule_case("cosine", sgd(), lambda o: lr.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 25)
    schedule_case("cosine_adam", adam(), lambda o: lr.CosineAnnealingLR(o, T_max=7), 30)
    plateau_case("plateau_min",
                 [1.0, 0.9, 0.8, 0.8, 0.801, 0.799, 0.79, 0.795, 0.8, 0.81, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.65,
                  0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.6, 0.61, 0.62, 0.63, 0.64],
                 mode="min", factor=0.5, patience=2, threshold=1e-2, cooldown=2)
    plateau_case("plateau_max_abs",
                 [0.1, 0.2, 0.22, 0.24, 0.3, 0.31, 0.32, 0.33, 0.5, 0.5, 0.5, 0.56, 0.57, 0.58, 0.59, 0.6, 0.6,
                  0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7],
                 mode="max", factor=0.3, patience=1, threshold=0.05, threshold_mode="abs", cooldown=1, min_lr=0.002)


def adam_case(name, make, steps=6, onecycle=None):
    torch.manual_seed(3)
    p = torch.randn(37, requires_grad=True)
    tensors = OrderedDict([("param", p.detach().clone())])
    opt = make([p])
    sched = onecycle(opt) if onecycle else None
    lrs, moms = [], []
    for step in range(steps):
        # Shrinking gradients so that AMSGrad's running maximum matters.
        g = torch.randn(37) * (2.0 if step == 0 else 1.0 / (step + 1))
        tensors["grad%d" % step] = g
        p.grad = g.clone()
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["betas"][0])
        opt.step()
        if sched:
            sched.step()
        tensors["step%d" % step] = p.detach().clone()
    state = opt.state[p]
    tensors["exp_avg"] = state["exp_avg"]
    tensors["exp_avg_sq"] = state["exp_avg_sq"]
    if "max_exp_avg_sq" in state:
        tensors["max_exp_avg_sq"] = state["max_exp_avg_sq"]
    if sched:
        tensors["lr"] = vec(lrs)
        tensors["momentum"] = vec(moms)
    write(os.path.join(OUT, "adam_%s.bin" % name), tensors)


def adams():
    optim = torch.optim
    adam_case("default", lambda ps: optim.Adam(ps))
    adam_case("wd_amsgrad", lambda ps: optim.Adam(ps, lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True))
    adam_case("maximize", lambda ps: optim.Adam(ps, lr=0.01, eps=1e-3, maximize=True))
    adam_case("w_default", lambda ps: optim.AdamW(ps))
    adam_case("w_amsgrad", lambda ps: optim.AdamW(ps, lr=0.05, betas=(0.5, 0.9), weight_decay=0.3, amsgrad=True))
    adam_case("w_onecycle", lambda ps: optim.AdamW(ps, lr=0.05), steps=8,
              onecycle=lambda o: optim.lr_scheduler.OneCycleLR(o, max_lr=0.05, total_steps=8))


def main():
    os.makedirs(OUT, exist_ok=True)
    warnings.simplefilter("ignore")  # the "lr_scheduler.step() before optimizer.step()" style warnings
    torch.set_num_threads(1)
    schedules()
    adams()


if __name__ == "__main__":
    main()
