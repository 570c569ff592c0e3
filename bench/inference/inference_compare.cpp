// One inference measurement of sn::Predictor<Net, Batch> for bench/inference/compare.sh
// (staticnet beside PyTorch and ONNX Runtime): the S9 and S7-dilated reference
// networks and the Fashion-MNIST example's network, at batch 1, 8, 64 or 128.
//
//   inference_compare --net s9|s7_dilated|fashion --batch 1|8|64|128 [--threads 2] [--calls 200] [--warmup 5]
//   inference_compare --isa      (prints cpu::isa_summary(): the kernel variant this CPU runs)
//
// The predictor is built as a user would: parameters of a freshly initialised
// cpu::Model<Net, 1> (destroyed before timing), BatchNorm folded by the
// Predictor, an activation arena sized for exactly Batch images. After
// --warmup untimed calls, --calls calls are timed one by one; prints one line
//   infer staticnet <net> <batch> <images/s> <median ms> <p99 ms> <peak RSS MB>
// images/s = batch / the median call; p99 is the nearest-rank 99th percentile;
// peak RSS is the process's (getrusage). bench/inference/pytorch_infer.py and
// ort_infer.py print the same line for their engines.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <staticnet/staticnet.hpp>

#include "../../examples/fashion_mnist/fashion_net.hpp"
#include "networks.hpp"
#include "../timing.hpp"

namespace sn = staticnet;
using timing::peak_rss_mb;

namespace {


template <class Net, int Batch>
void run(const char* name, int calls, int warmup, std::uint64_t seed) {
  std::vector<float> params, buffers;
  float eps = 1e-5f;
  {
    auto model = std::make_unique<sn::Model<Net, 1>>(seed);
    const auto p = model->parameters();
    const auto b = model->buffer_values();
    params.assign(p.begin(), p.end());
    buffers.assign(b.begin(), b.end());
    eps = model->bn_eps;
  }
  sn::Predictor<Net, Batch> predictor(params, buffers, eps);
  using P = sn::Predictor<Net, Batch>;
  std::mt19937_64 rng(seed + 2);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<std::size_t>(Batch) * static_cast<std::size_t>(P::input_numel));
  for (float& v : x) v = normal(rng);
  volatile float sink = 0;
  for (int i = 0; i < warmup; ++i) sink = sink + predictor.forward(x, Batch)[0];
  std::vector<double> t;
  t.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    sink = sink + predictor.forward(x, Batch)[0];
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  const std::size_t n = t.size();
  const double med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  const double p99 = t[static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(n))) - 1];
  std::printf("infer staticnet %s %d %.1f %.4f %.4f %.0f\n", name, Batch, Batch / med, 1e3 * med, 1e3 * p99,
              peak_rss_mb());
  std::fflush(stdout);
}

template <class Net>
bool dispatch(const char* name, int batch, int calls, int warmup, std::uint64_t seed) {
  switch (batch) {
    case 1: run<Net, 1>(name, calls, warmup, seed); return true;
    case 8: run<Net, 8>(name, calls, warmup, seed); return true;
    case 64: run<Net, 64>(name, calls, warmup, seed); return true;
    case 128: run<Net, 128>(name, calls, warmup, seed); return true;
    default: return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, batch = 1, calls = 200, warmup = 5;
  std::string net = "s9";
  if (argc == 2 && std::string(argv[1]) == "--isa") {  // compare.sh's header line
    std::printf("%s\n", sn::cpu::isa_summary().c_str());
    return 0;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--batch") batch = std::stoi(argv[i + 1]);
    else if (a == "--calls") calls = std::stoi(argv[i + 1]);
    else if (a == "--warmup") warmup = std::stoi(argv[i + 1]);
    else if (a == "--net") net = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (calls < 1) calls = 1;
  sn::cpu::set_num_threads(threads);
  bool ok = false;
  if (net == "s9") ok = dispatch<assignments::S9Reference>("s9", batch, calls, warmup, 1);
  else if (net == "s7_dilated") ok = dispatch<assignments::S7DilatedReference>("s7_dilated", batch, calls, warmup, 1);
  else if (net == "fashion") ok = dispatch<FashionNet>("fashion", batch, calls, warmup, 1);
  if (!ok) {
    std::fprintf(stderr, "inference_compare: --net s9|s7_dilated|fashion and --batch 1|8|64|128 please\n");
    return 2;
  }
  return 0;
}
