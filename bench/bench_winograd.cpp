// Winograd against the direct convolution on the 3x3 stride-1 layers of the
// reference networks: forward and data gradient, F(2x2,3x3), F(4x4,3x3) and
// direct, timed in interleaved rounds (each round: the median of --calls calls
// of every variant), with the median over rounds of each variant's time and
// of its ratio to the direct one.
//
//   bench_winograd [--threads 2] [--batch 128] [--rounds 5] [--calls 5] [--layer I (only that one)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <staticnet/cpu/conv.hpp>
#include <staticnet/cpu/kernels.hpp>
#include <staticnet/cpu/parallel.hpp>

#include "timing.hpp"

namespace cpu = staticnet::cpu;
using timing::median;
using timing::median_seconds;

namespace {

struct layer {
  const char* name;
  cpu::conv_geom g;
};

cpu::conv_geom same3(int c_in, int c_out, int hw, int pad, int dil) {
  const int out = hw + 2 * pad - 2 * dil;
  return {c_in, hw, hw, c_out, out, out, 3, 3, 1, 1, pad, pad, dil, dil, 1, 0, 0};
}



}  // namespace

int main(int argc, char** argv) {
  int threads = 2, batch = 128, rounds = 5, calls = 5, only = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (a == "--threads") threads = v;
    else if (a == "--batch") batch = v;
    else if (a == "--rounds") rounds = v;
    else if (a == "--calls") calls = v;
    else if (a == "--layer") only = v;
    else {
      std::fprintf(stderr, "usage: bench_winograd [--threads N] [--batch N] [--rounds N] [--calls N] [--layer I]\n");
      return 2;
    }
  }
  cpu::set_num_threads(threads);
  const cpu::kernel_table& k = cpu::kernels();
  const layer layers[] = {
      {"S7-dilated C2 conv 32->32 32x32", same3(32, 32, 32, 1, 1)},
      {"S7-dilated C2 conv 64->64 d4 32x32", same3(64, 64, 32, 0, 4)},
      {"Fashion C2 conv 32->64 14x14", same3(32, 64, 14, 1, 1)},
      {"Fashion C3 conv 64->128 7x7", same3(64, 128, 7, 1, 1)},
      {"S7-groups C2 conv 96->96 d2 16x16", same3(96, 96, 16, 2, 2)},
  };
  std::printf("threads %d, batch %d, %d rounds x median of %d calls; kernels %s\n", threads, batch, rounds, calls,
              k.variant);
  std::printf("| layer | pass | direct ms | F(2x2) ms (ratio) | F(4x4) ms (ratio) |\n|---|---|---:|---:|---:|\n");
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-1, 1);
  for (const layer& l : layers) {
    if (only >= 0 && &l != &layers[only]) continue;
    cpu::conv_geom g = l.g;
    std::vector<float> x(std::size_t(batch) * g.c_in * g.h_in * g.w_in), w(std::size_t(g.c_out) * g.c_in * 9),
        y(std::size_t(batch) * g.c_out * g.h_out * g.w_out);
    for (auto& v : x) v = d(rng);
    for (auto& v : w) v = d(rng);
    for (auto& v : y) v = d(rng);
    g.winograd = g.winograd_data = 4;
    std::size_t floats = k.conv_scratch_floats(g, batch, threads);
    g.winograd = g.winograd_data = 2;
    floats = std::max(floats, k.conv_scratch_floats(g, batch, threads));
    std::vector<float> scratch(floats), out_y(y.size()), dx(x.size()), dw(w.size());
    for (const int pass : {0, 1, 2}) {
      std::vector<double> t[3], ratio[3];
      for (int r = 0; r < rounds; ++r) {
        for (int v = 0; v < 3; ++v) {
          g.winograd = g.winograd_data = v == 0 ? 0 : 2 * v;
          t[v].push_back(median_seconds(calls, [&] {
            if (pass == 2) k.conv2d_backward(g, batch, x.data(), y.data(), w.data(), dx.data(), dw.data(), nullptr,
                                             scratch.data());
            else if (pass == 1) cpu::conv2d_backward_data(g, batch, y.data(), w.data(), dx.data(), scratch.data());
            else k.conv2d_forward(g, batch, x.data(), w.data(), nullptr, out_y.data(), scratch.data(),
                                  cpu::conv_epilogue::none, nullptr);
          }));
        }
        for (int v = 0; v < 3; ++v) ratio[v].push_back(t[0].back() / t[v].back());
      }
      std::printf("| %s | %s | %.2f | %.2f (%.2fx) | %.2f (%.2fx) |\n", l.name,
                  pass == 2 ? "backward (weights + data)" : pass == 1 ? "data gradient" : "forward", 1e3 * median(t[0]), 1e3 * median(t[1]),
                  median(ratio[1]), 1e3 * median(t[2]), median(ratio[2]));
    }
  }
  return 0;
}
