// Training-step and inference throughput of the reference networks on the CPU.
//   staticnet_train_step [--threads T] [--batch B] [--steps S] [--net s9|s7_dilated|fashion|all] [--profile 1]
// (fashion: the Fashion-MNIST example's network, examples/fashion_mnist/fashion_net.hpp)
// Prints one line per measurement: "staticnet <net> <train|infer> <images/s> <peak RSS MB>",
// images/s from the median of S timed calls after one warm-up call;
// with --profile 1 also the per-layer times (stderr) and one "conv1x1 ..." line
// per 1x1 convolution on planes larger than 1x1 (GFLOP/s against the fp32 peak).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <staticnet/cpu/model.hpp>
#include <staticnet/train/optim.hpp>
#include <staticnet/staticnet.hpp>

#include "../../examples/fashion_mnist/fashion_net.hpp"
#include "../peak_fma.hpp"
#include "networks.hpp"
#include "../timing.hpp"

namespace sn = staticnet;
using timing::median_seconds;  // images/s = batch / it; the PyTorch script measures the same way
using timing::peak_rss_mb;

namespace {



/// One line per 1x1 convolution on planes larger than 1x1 (not the classifier):
/// "conv1x1 <net> Conv2d-<n> <c_in>x<c_out>@<h>x<w> <fwd GFLOP/s> <bwd GFLOP/s> <peak GFLOP/s>",
/// from the profiled times of the timed steps; backward counts both products
/// (data and weight gradients, 4 * MACs) unless the layer has no input gradient.
/// The peak is the FMA peak measured with all threads running at once.
template <class Net, class M>
void print_pointwise_gflops(const M& model, const char* name, int batch, int steps) {
  const double peak = staticnet_bench::measured_peak_all_threads();
  for (std::size_t i = 0; i < Net::plan.size; ++i) {
    const auto& r = Net::plan.rows[i];
    if (!r.is_conv() || r.f.g.kh != 1 || r.f.g.kw != 1 || r.f.groups != 1 || r.out.h * r.out.w == 1) continue;
    const double macs = static_cast<double>(r.f.macs) * batch * steps;
    const auto [fwd, bwd] = model.profile_seconds(i);
    const double bwd_flops = (M::exec.rows[i].src >= 0 ? 4.0 : 2.0) * macs;
    std::printf("conv1x1 %s Conv2d-%d %dx%d@%dx%d %.1f %.1f %.1f\n", name, r.number, r.in.c, r.out.c, r.out.h,
                r.out.w, 2.0 * macs / fwd * 1e-9, bwd_flops / bwd * 1e-9, peak);
  }
}

template <class Net>
void measure(const char* name, int batch, int steps, bool profile) {
  constexpr int kMax = 128;
  if (batch > kMax) batch = kMax;
  auto model = std::make_unique<sn::Model<Net, kMax>>(1);
  sn::SGD opt(*model, {.lr = 0.01f, .momentum = 0.9f, .weight_decay = 5e-4f});
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<std::size_t>(batch) * sn::Model<Net, kMax>::input_numel);
  for (auto& v : x) v = normal(rng);
  std::vector<std::int32_t> y(static_cast<std::size_t>(batch));
  for (auto& v : y) v = static_cast<std::int32_t>(rng() % 10);

  auto train_step = [&] {
    model->forward_backward(x, y, batch);
    opt.step(*model);
  };
  train_step();  // warm-up
  model->set_profiling(profile);
  std::printf("staticnet %s train %.1f %.0f\n", name, batch / median_seconds(steps, train_step), peak_rss_mb());
  if (profile) {
    model->print_profile(std::cerr);
    print_pointwise_gflops<Net>(*model, name, batch, steps);
    model->set_profiling(false);
  }

  model->eval();
  model->fold_batchnorm();  // inference as a user would run it: conv + BN folded
  model->forward(x, batch);
  const double infer_s = median_seconds(steps, [&] { model->forward(x, batch); });
  std::printf("staticnet %s infer %.1f %.0f\n", name, batch / infer_s, peak_rss_mb());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, batch = 128, steps = 3;
  bool profile = false;
  std::string net = "all";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--batch") batch = std::stoi(argv[i + 1]);
    else if (a == "--steps") steps = std::stoi(argv[i + 1]);
    else if (a == "--net") net = argv[i + 1];
    else if (a == "--profile") profile = std::string(argv[i + 1]) == "1";
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  sn::cpu::set_num_threads(threads);
  if (net == "all" || net == "s7_dilated") measure<assignments::S7DilatedReference>("s7_dilated", batch, steps, profile);
  if (net == "all" || net == "s9") measure<assignments::S9Reference>("s9", batch, steps, profile);
  if (net == "all" || net == "fashion") measure<FashionNet>("fashion", batch, steps, profile);
  return 0;
}
