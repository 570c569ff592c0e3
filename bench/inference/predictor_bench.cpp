// Inference speed of sn::Predictor against cpu::Model's eval forward (folded
// BatchNorm) for the S9 and S7-dilated reference networks: batch-1 latency
// (Predictor<Net, 1> vs Model<Net, 128>::forward(x, 1)) and batch-128
// throughput (Predictor<Net, 128> vs Model<Net, 128>). The two are measured in
// interleaved rounds (each round: the median of --calls calls of each), so
// that a noisy machine disturbs both alike; prints every round's ratio and
// the median over rounds, and the activation memory each holds.
//
//   predictor_bench [--threads N] [--rounds 7] [--calls 30] [--net s9|s7_dilated|both]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <staticnet/staticnet.hpp>

#include "networks.hpp"
#include "../timing.hpp"

namespace sn = staticnet;
using timing::median;
using timing::median_seconds;

namespace {



template <class Net>
void bench(const char* name, int rounds, int calls) {
  using M = sn::Model<Net, 128>;
  auto model = std::make_unique<M>(1);
  model->eval();
  model->fold_batchnorm();
  sn::Predictor<Net, 1> p1(model->parameters(), model->buffer_values(), model->bn_eps);
  sn::Predictor<Net, 128> p128(model->parameters(), model->buffer_values(), model->bn_eps);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> d;
  std::vector<float> x(128 * static_cast<std::size_t>(M::input_numel));
  for (float& v : x) v = d(rng);
  const std::span<const float> one(x.data(), static_cast<std::size_t>(M::input_numel));
  // warm-up
  model->forward(one, 1), p1.forward(one, 1), model->forward(x, 128), p128.forward(x, 128);
  std::printf("%s: activation memory: Model<%s, 128> workspace %.1f MB; Predictor<.., 1> %.2f MB, "
              "Predictor<.., 128> %.1f MB (arena %.1f MB)\n",
              name, name, model->workspace_bytes() / 1048576.0, p1.workspace_bytes() / 1048576.0,
              p128.workspace_bytes() / 1048576.0, p128.activation_bytes() / 1048576.0);
  std::vector<double> m1, q1, m128, q128;
  for (int r = 0; r < rounds; ++r) {
    m1.push_back(median_seconds(calls, [&] { model->forward(one, 1); }));
    q1.push_back(median_seconds(calls, [&] { p1.forward(one, 1); }));
    m128.push_back(median_seconds(std::max(3, calls / 6), [&] { model->forward(x, 128); }));
    q128.push_back(median_seconds(std::max(3, calls / 6), [&] { p128.forward(x, 128); }));
    std::printf("  round %d: batch 1 model %.3f ms, predictor %.3f ms (x%.2f); batch 128 model %.0f img/s, "
                "predictor %.0f img/s (x%.2f)\n",
                r + 1, 1e3 * m1.back(), 1e3 * q1.back(), m1.back() / q1.back(), 128 / m128.back(),
                128 / q128.back(), m128.back() / q128.back());
  }
  std::vector<double> r1, r128;
  for (int r = 0; r < rounds; ++r) r1.push_back(m1[r] / q1[r]), r128.push_back(m128[r] / q128[r]);
  std::printf("%s median over %d rounds: batch-1 latency model %.3f ms, predictor %.3f ms (speed-up x%.2f); "
              "batch 128 model %.0f img/s, predictor %.0f img/s (x%.2f)\n",
              name, rounds, 1e3 * median(m1), 1e3 * median(q1), median(r1), 128 / median(m128), 128 / median(q128),
              median(r128));
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0, rounds = 7, calls = 30;
  std::string net = "both";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--rounds") rounds = std::stoi(argv[i + 1]);
    else if (a == "--calls") calls = std::stoi(argv[i + 1]);
    else if (a == "--net") net = argv[i + 1];
  }
  if (threads > 0) sn::cpu::set_num_threads(threads);
  std::printf("%d threads; %s\n", sn::cpu::num_threads(), sn::cpu::isa_summary().c_str());
  if (net == "both" || net == "s9") bench<assignments::S9Reference>("S9", rounds, calls);
  if (net == "both" || net == "s7_dilated") bench<assignments::S7DilatedReference>("S7-dilated", rounds, calls);
  return 0;
}
