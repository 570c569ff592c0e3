// Training-step and inference throughput of S9 and S7-dilated on the GPU
// engine (cuda::Model), the staticnet side of bench/gpu (see its README).
//   staticnet_gpu_bench [--quick] [--net s9|s7_dilated|all]
// Prints one JSON line per measurement, as bench/gpu/pytorch_gpu.py does:
//   {"impl":"staticnet","net":"s7_dilated","mode":"train","batch":512,"config":"graph_tf32off","img_s":...}
// train: train_step() with SGD (lr 0.01, momentum 0.9, weight decay 5e-4, as pytorch_gpu.py),
// the batch coming from host memory each step (copied to pinned memory and
// uploaded inside the step), the whole step one CUDA graph replay (config
// graph_*) or eager launches (eager_*); infer: forward() in eval mode,
// host batch in and outputs back (the PyTorch side keeps its input on the
// device, so this is the harder comparison for staticnet). Median of rounds
// of several calls after a warm-up.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <staticnet/cuda/model.hpp>
#include <staticnet/train/optim.hpp>

#include "networks.hpp"

namespace sn = staticnet;

namespace {

bool quick = false;

template <class F>
double median_images_per_s(int batch, F&& fn) {
  const int rounds = quick ? 3 : 7, calls = quick ? 3 : 10;
  for (int i = 0; i < (quick ? 2 : 5); ++i) fn();  // warm-up: plans bound, graph captured
  std::vector<double> rates;
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int c = 0; c < calls; ++c) fn();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(batch * calls / s);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

void emit(const char* net, const char* mode, int batch, const std::string& config, double img_s) {
  std::printf("{\"impl\": \"staticnet\", \"net\": \"%s\", \"mode\": \"%s\", \"batch\": %d, \"config\": \"%s\", "
              "\"img_s\": %.1f}\n",
              net, mode, batch, config.c_str(), img_s);
  std::fflush(stdout);
}

void emit_error(const char* net, const char* mode, int batch, const std::string& config, const std::string& what) {
  std::string clean;
  for (char c : what) clean += (c == '"' || c == '\\') ? '\'' : (c == '\n' ? ' ' : c);
  std::printf("{\"impl\": \"staticnet\", \"net\": \"%s\", \"mode\": \"%s\", \"batch\": %d, \"config\": \"%s\", "
              "\"error\": \"%s\"}\n",
              net, mode, batch, config.c_str(), clean.c_str());
  std::fflush(stdout);
}

template <class Net, int Batch>
void run(const char* net) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<std::size_t>(Batch) * 3 * 32 * 32);
  for (auto& v : x) v = normal(rng);
  std::vector<std::int32_t> t(Batch);
  for (auto& v : t) v = static_cast<std::int32_t>(rng() % 10);
  // (graphs, tf32, own depthwise kernels): the last row measures cuDNN's
  // depthwise convs against ours (issue: ours unless cuDNN measures faster).
  const bool configs[][3] = {{true, false, true}, {false, false, true}, {true, true, true},
                             {false, true, true}, {true, false, false}};
  for (const auto& row : configs) {
    const bool graphs = row[0], tf32 = row[1], own_dw = row[2];
    {
      const std::string config = std::string(graphs ? "graph" : "eager") + (tf32 ? "_tf32on" : "_tf32off") +
                                 (own_dw ? "" : "_cudnndw");
      try {
        auto m = std::make_unique<sn::cuda::Model<Net, Batch>>(
            1, sn::cuda::model_options{.math = tf32 ? sn::cuda::cudnn::math::tf32 : sn::cuda::cudnn::math::fp32,
                                       .cuda_graphs = graphs, .own_depthwise = own_dw});
        sn::SGD opt(*m, {.lr = 0.01f, .momentum = 0.9f, .weight_decay = 5e-4f});
        emit(net, "train", Batch, config, median_images_per_s(Batch, [&] { m->train_step(x, t, Batch, opt); }));
        if (graphs) {  // inference does not use the step graph
          m->eval();
          emit(net, "infer", Batch, std::string("eager") + (tf32 ? "_tf32on" : "_tf32off") + (own_dw ? "" : "_cudnndw"),
               median_images_per_s(Batch, [&] { m->forward(x, Batch); }));
        }
      } catch (const std::exception& e) {
        emit_error(net, "train", Batch, config, e.what());
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string which = "all";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--net") && i + 1 < argc) which = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--quick] [--net s9|s7_dilated|all]\n", argv[0]);
      return 2;
    }
  }
  if (sn::cuda::device_count() == 0) {
    std::fprintf(stderr, "staticnet_gpu_bench: no CUDA device (%s)\n", sn::cuda::no_device_reason().c_str());
    return 1;
  }
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, 0) == cudaSuccess)
    std::printf("{\"impl\": \"staticnet\", \"meta\": true, \"device\": \"%s\", \"sm\": %d}\n", p.name,
                p.major * 10 + p.minor);
  if (which == "all" || which == "s9") {
    run<assignments::S9Reference, 128>("s9");
    run<assignments::S9Reference, 512>("s9");
  }
  if (which == "all" || which == "s7_dilated") {
    run<assignments::S7DilatedReference, 128>("s7_dilated");
    run<assignments::S7DilatedReference, 512>("s7_dilated");
  }
  return 0;
}
