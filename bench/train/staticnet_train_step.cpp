// Training-step and inference throughput of the reference networks on the CPU.
//   staticnet_train_step [--threads T] [--batch B] [--steps S] [--net s9|s7_dilated|all] [--profile 1]
// Prints one line per measurement: "staticnet <net> <train|infer> <images/s> <peak RSS MB>".
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <staticnet/model.hpp>
#include <staticnet/optim.hpp>
#include <staticnet/staticnet.hpp>

#include "networks.hpp"

namespace sn = staticnet;

namespace {

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
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
  auto t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < steps; ++s) train_step();
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("staticnet %s train %.1f %.0f\n", name, batch * steps / train_s, peak_rss_mb());
  if (profile) {
    model->print_profile(std::cerr);
    model->set_profiling(false);
  }

  model->eval();
  model->fold_batchnorm();  // inference as a user would run it: conv + BN folded
  model->forward(x, batch);
  t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < steps; ++s) model->forward(x, batch);
  const double infer_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("staticnet %s infer %.1f %.0f\n", name, batch * steps / infer_s, peak_rss_mb());
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
  return 0;
}
