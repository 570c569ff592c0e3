"""ONNX Runtime's (CPU execution provider) inference speed for bench/inference/compare.sh.

  bench/.venv-ort/bin/python bench/inference/ort_infer.py --model DIR/s9.onnx --net s9 --batch 1 [--threads 2] [--calls 200] [--warmup 5]

The model comes from pytorch_infer.py --export (the same PyTorch networks, in
eval). One session: CPUExecutionProvider, intra_op_num_threads = --threads,
inter_op_num_threads = 1, sequential execution, ORT_ENABLE_ALL graph
optimisations. It imports only onnxruntime and numpy (not torch), so its peak
RSS is ONNX Runtime's. Prints, like inference_compare,
  infer ort <net> <batch> <images/s> <median ms> <p99 ms> <peak RSS MB>
(images/s = batch / the median of --calls timed calls after --warmup untimed ones).
"""
import argparse
import math
import resource
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort

INPUT = {"s9": (3, 32, 32), "s7_dilated": (3, 32, 32), "fashion": (1, 28, 28)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--net", choices=sorted(INPUT), required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--version", action="store_true", help="print onnxruntime's version and exit")
    a = ap.parse_args()
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(a.model, sess_options=so, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((a.batch,) + INPUT[a.net]).astype(np.float32)
    feed = {sess.get_inputs()[0].name: x}
    for _ in range(a.warmup):
        sess.run(None, feed)
    times = []
    for _ in range(max(1, a.calls)):
        t0 = time.perf_counter()
        sess.run(None, feed)
        times.append(time.perf_counter() - t0)
    times.sort()
    med = statistics.median(times)
    p99 = times[math.ceil(0.99 * len(times)) - 1]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("infer ort %s %d %.1f %.4f %.4f %.0f" % (a.net, a.batch, a.batch / med, 1e3 * med, 1e3 * p99, rss),
          flush=True)


if __name__ == "__main__":
    if "--version" in sys.argv:
        print(ort.__version__)
        sys.exit(0)
    sys.exit(main())
