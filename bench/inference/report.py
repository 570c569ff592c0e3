#!/usr/bin/python3
"""Tables of bench/inference/compare.sh's raw lines (<build-dir>/inference_compare.txt).

  /usr/bin/python3 bench/inference/report.py build-bench/inference_compare.txt

Lines: "round N", "infer <engine> <net> <batch> <img/s> <median ms> <p99 ms> <RSS MB>",
"train <engine> <net> <batch> <img/s> <RSS MB>"; "#" lines are the run's header.
Engines: "staticnet", "pytorch-<layout>[-<grad mode>]", "ort". A peer is any
engine but staticnet. "Best" is a variant's best round (the least disturbed
on a shared machine, both sides alike); the per-round ratio is staticnet /
the best peer of that round, and its median over rounds is the summary.
"""
import statistics
import sys

NET_ORDER = ["s9", "s7_dilated", "fashion"]


def main(path):
    header, rounds = [], []
    for line in open(path):
        f = line.split()
        if not f:
            continue
        if f[0] == "#":
            header.append(line.strip())
        elif f[0] == "round":
            rounds.append([])
        elif f[0] in ("infer", "train") and rounds:
            rounds[-1].append(f)
    rows = [r for rr in rounds for r in rr]

    def key_order(k):
        net, batch = k
        return (NET_ORDER.index(net) if net in NET_ORDER else 99, net, batch)

    def fmt_ratios(xs):
        return ", ".join("%.2fx" % x for x in xs)

    for line in header:
        print(line[1:].strip())
    print("%d rounds." % len(rounds))
    for mode in ("infer", "train"):
        sel = [r for r in rows if r[0] == mode]
        if not sel:
            continue
        best = {}  # (engine, net, batch) -> best row
        for r in sel:
            k = (r[1], r[2], int(r[3]))
            if k not in best or float(r[4]) > float(best[k][4]):
                best[k] = r
        cases = sorted({(r[2], int(r[3])) for r in sel}, key=key_order)
        print()
        if mode == "infer":
            print("Inference, images/s (best round of each variant), and staticnet / best peer per round:")
            print()
            print("| net | batch | staticnet | best PyTorch (variant) | ONNX Runtime | staticnet / best peer, per round "
                  "| median | median vs PyTorch | median vs ORT | peak RSS MB: staticnet / PyTorch / ORT |")
            print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
        else:
            print("Training step (forward + backward + SGD), images/s (best round), staticnet / best PyTorch per round:")
            print()
            print("| net | batch | staticnet | best PyTorch (variant) | staticnet / best PyTorch, per round | median "
                  "| peak RSS MB: staticnet / PyTorch |")
            print("|---|---:|---:|---:|---|---:|---:|")
        for net, batch in cases:
            ours = best.get(("staticnet", net, batch))
            torch_ = [r for k, r in best.items() if k[0].startswith("pytorch") and k[1:] == (net, batch)]
            ort = best.get(("ort", net, batch))
            bt = max(torch_, key=lambda r: float(r[4])) if torch_ else None
            per_round, vs_torch, vs_ort = [], [], []
            for rr in rounds:
                mine = [float(r[4]) for r in rr if r[0] == mode and r[1] == "staticnet" and r[2] == net and int(r[3]) == batch]
                t = [float(r[4]) for r in rr if r[0] == mode and r[1].startswith("pytorch") and r[2] == net and int(r[3]) == batch]
                o = [float(r[4]) for r in rr if r[0] == mode and r[1] == "ort" and r[2] == net and int(r[3]) == batch]
                if mine and (t or o):
                    per_round.append(mine[0] / max(t + o))
                if mine and t:
                    vs_torch.append(mine[0] / max(t))
                if mine and o:
                    vs_ort.append(mine[0] / o[0])
            med = lambda xs: "%.2fx" % statistics.median(xs) if xs else "-"
            s_ips = "%.1f" % float(ours[4]) if ours else "-"
            t_ips = "%.1f (%s)" % (float(bt[4]), bt[1]) if bt else "-"
            if mode == "infer":
                o_ips = "%.1f" % float(ort[4]) if ort else "-"
                rss = " / ".join(r[7] if r else "-" for r in (ours, bt, ort))
                print("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    net, batch, s_ips, t_ips, o_ips, fmt_ratios(per_round), med(per_round), med(vs_torch), med(vs_ort), rss))
            else:
                rss = " / ".join(r[5] if r else "-" for r in (ours, bt))
                print("| %s | %d | %s | %s | %s | %s | %s |" % (net, batch, s_ips, t_ips, fmt_ratios(per_round),
                                                                med(per_round), rss))
        if mode == "infer" and any(b == 1 for _, b in cases):
            print()
            print("Batch-1 latency, ms: median and p99 (nearest rank) of one process's calls, from each variant's")
            print("best round (by median); the median over rounds of the medians in brackets:")
            print()
            print("| net | staticnet median / p99 | best PyTorch median / p99 (variant) | ONNX Runtime median / p99 |")
            print("|---|---:|---:|---:|")
            for net, batch in cases:
                if batch != 1:
                    continue
                def lat(engine_pred):
                    rs = [r for r in sel if engine_pred(r[1]) and r[2] == net and int(r[3]) == 1]
                    if not rs:
                        return "-", None
                    b = min(rs, key=lambda r: float(r[5]))
                    same = [float(r[5]) for r in rs if r[1] == b[1]]
                    return "%.3f / %.3f [%.3f]" % (float(b[5]), float(b[6]), statistics.median(same)), b[1]
                s, _ = lat(lambda e: e == "staticnet")
                t, tv = lat(lambda e: e.startswith("pytorch"))
                o, _ = lat(lambda e: e == "ort")
                print("| %s | %s | %s%s | %s |" % (net, s, t, " (%s)" % tv if tv else "", o))
    print()
    print("all runs:")
    for i, rr in enumerate(rounds, 1):
        print("  round %d" % i)
        for r in rr:
            print("    " + " ".join(r))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build-bench/inference_compare.txt"))
