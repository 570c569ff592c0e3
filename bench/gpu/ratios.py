#!/usr/bin/env python3
"""Tables of the GPU benchmark's JSON lines: staticnet against PyTorch's best.

  python3 bench/gpu/ratios.py staticnet.jsonl pytorch.jsonl [...]
  cat *.jsonl | python3 bench/gpu/ratios.py

Reads the lines that staticnet_gpu_bench and bench/gpu/pytorch_gpu.py print
({"impl": ..., "net": ..., "mode": ..., "batch": ..., "config": ..., "img_s": ...};
other lines, "meta" lines and lines with "error" are not measurements) and
prints markdown:
  1. images/s of every configuration (one row per net, mode and batch);
  2. per net, mode and batch: staticnet's best configuration, PyTorch's best,
     the ratio staticnet / PyTorch-best, and the same in strict fp32: PyTorch's
     best configuration containing "tf32off" against staticnet's best one not
     containing "tf32on" (TF32 convolutions do less precise arithmetic);
  3. the measurements that failed or were skipped.
A ratio above 1 means staticnet is faster.
"""
import json
import sys


def load(paths):
    rows, errors, metas = [], [], []
    streams = [open(p) for p in paths] if paths else [sys.stdin]
    for f in streams:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if not isinstance(r, dict) or "impl" not in r:
                continue
            if r.get("meta"):
                metas.append(r)
            elif "error" in r:
                errors.append(r)
            elif all(k in r for k in ("net", "mode", "batch", "config", "img_s")):
                rows.append(r)
    return rows, errors, metas


def best(rows, pred=lambda r: True):
    c = [r for r in rows if pred(r)]
    return max(c, key=lambda r: float(r["img_s"])) if c else None


def main(argv):
    rows, errors, metas = load(argv[1:])
    for m in metas:
        print("- " + m.get("impl", "?") + ": " + ", ".join("%s %s" % (k, v) for k, v in m.items()
                                                            if k not in ("impl", "meta")))
    if not rows:
        print("ratios: no measurements found")
        return 1
    keys = sorted({(r["net"], r["mode"], int(r["batch"])) for r in rows},
                  key=lambda k: (k[0] != "s9", k[0], k[1] != "train", k[2]))
    cols = sorted({(r["impl"], r["config"]) for r in rows}, key=lambda c: (c[0] != "staticnet", c))

    print()
    print("images/s of each configuration:")
    print()
    print("| net | mode | batch | " + " | ".join("%s %s" % c for c in cols) + " |")
    print("|---|---|---:|" + "---:|" * len(cols))
    for net, mode, batch in keys:
        cells = []
        for impl, config in cols:
            r = best(rows, lambda r: (r["impl"], r["config"], r["net"], r["mode"], int(r["batch"]))
                     == (impl, config, net, mode, batch))
            cells.append("%.0f" % float(r["img_s"]) if r else "-")
        print("| %s | %s | %d | %s |" % (net, mode, batch, " | ".join(cells)))

    print()
    print("staticnet against PyTorch (ratio = staticnet img/s / PyTorch img/s; above 1: staticnet faster):")
    print()
    print("| net | mode | batch | staticnet img/s (config) | PyTorch best img/s (config) | ratio "
          "| staticnet fp32 img/s (config) | PyTorch best tf32off img/s (config) | fp32 ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for net, mode, batch in keys:
        here = [r for r in rows if (r["net"], r["mode"], int(r["batch"])) == (net, mode, batch)]
        ours = best(here, lambda r: r["impl"] == "staticnet")
        theirs = best(here, lambda r: r["impl"] == "pytorch")
        strict = best(here, lambda r: r["impl"] == "pytorch" and "tf32off" in r["config"])
        ours_strict = best(here, lambda r: r["impl"] == "staticnet" and "tf32on" not in r["config"])

        def cell(r):
            return "%.0f (%s)" % (float(r["img_s"]), r["config"]) if r else "-"

        def ratio(a, b):
            return "%.2fx" % (float(a["img_s"]) / float(b["img_s"])) if a and b else "-"
        print("| %s | %s | %d | %s | %s | %s | %s | %s | %s |" % (net, mode, batch, cell(ours), cell(theirs),
              ratio(ours, theirs), cell(ours_strict), cell(strict), ratio(ours_strict, strict)))

    if errors:
        print()
        print("failed or skipped (%d):" % len(errors))
        for e in errors:
            print("  %s %s %s batch %s %s: %s" % (e.get("impl"), e.get("net"), e.get("mode"), e.get("batch"),
                                                e.get("config"), e.get("error")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
