// Throughput of staticnet's CPU layer kernels, on the layers of the S7-dilated
// and S9 reference networks where they have them (a 1024 -> 256 Linear, 2x2
// pooling, dropout, merges and losses on typical sizes otherwise), at batch 128 on the default thread pool (all
// cores unless --threads N is given before the Google Benchmark flags).
//
//   ./bench_kernels                                  every kernel
//   ./bench_kernels --threads 1 --benchmark_filter=conv   one thread, convolutions only
//
// Counters: images/s (items_per_second), and for convolutions GFLOPS =
// 2 * MACs of the call per second of wall time. The operands of one benchmark
// are reused across iterations, as in a training step that touches each
// layer's tensors once per step: tensors larger than the caches stream from
// memory either way.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <staticnet/cpu/activation.hpp>
#include <staticnet/cpu/adam.hpp>
#include <staticnet/cpu/batchnorm.hpp>
#include <staticnet/cpu/concat.hpp>
#include <staticnet/cpu/conv.hpp>
#include <staticnet/cpu/linear.hpp>
#include <staticnet/cpu/loss.hpp>
#include <staticnet/cpu/parallel.hpp>
#include <staticnet/cpu/pooling.hpp>
#include <staticnet/cpu/sgd.hpp>

namespace {

namespace cpu = staticnet::cpu;
constexpr int batch = 128;

std::vector<float> random_floats(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(gen);
  return v;
}

struct conv_case {
  const char* name;
  cpu::conv_geom g;
};

// The convolution layers of the reference networks: "same" convs keep the
// plane size (padding = dilation for 3x3); S7-dilated's dilated conv has no
// padding (32x32 -> 24x24), so its block C3 runs at 24x24.
cpu::conv_geom same(int c_in, int c_out, int k, int dil, int groups, int hw = 32) {
  const int pad = (k / 2) * dil;
  return {c_in, hw, hw, c_out, hw, hw, k, k, 1, 1, pad, pad, dil, dil, groups};
}
cpu::conv_geom unpadded(int c_in, int c_out, int k, int dil, int hw) {
  const int out = hw - dil * (k - 1);
  return {c_in, hw, hw, c_out, out, out, k, k, 1, 1, 0, 0, dil, dil, 1};
}

const conv_case conv_cases[] = {
    {"s7_conv3x3_3to32", same(3, 32, 3, 1, 1)},
    {"s7_conv3x3_32to32", same(32, 32, 3, 1, 1)},
    {"s7_conv3x3_dil4_64to64_unpadded", unpadded(64, 64, 3, 4, 32)},
    {"s7_depthwise3x3_32", same(32, 32, 3, 1, 32)},
    {"s7_depthwise3x3_64_24x24", same(64, 64, 3, 1, 64, 24)},
    {"s7_pointwise_32to64", same(32, 64, 1, 1, 1)},
    {"s7_pointwise_64to32", same(64, 32, 1, 1, 1)},
    {"s7_pointwise_64to128_24x24", same(64, 128, 1, 1, 1, 24)},
    {"s9_depthwise3x3_dil2_128", same(128, 128, 3, 2, 128)},
    {"s9_pointwise_128to128", same(128, 128, 1, 1, 1)},
    {"s9_pointwise_224to224", same(224, 224, 1, 1, 1)},
};

double conv_flops(const cpu::conv_geom& g) {
  return 2.0 * batch * g.c_out * g.h_out * g.w_out * (g.c_in / g.groups) * g.kh * g.kw;
}

enum class pass { forward, backward_data, backward_weights, backward };

void bm_conv(benchmark::State& st, cpu::conv_geom g, pass which) {
  const std::size_t xin = static_cast<std::size_t>(batch) * g.c_in * g.h_in * g.w_in;
  const std::size_t yout = static_cast<std::size_t>(batch) * g.c_out * g.h_out * g.w_out;
  const std::size_t wn = static_cast<std::size_t>(g.c_out) * (g.c_in / g.groups) * g.kh * g.kw;
  auto x = random_floats(xin, 1), w = random_floats(wn, 2), dy = random_floats(yout, 3);
  std::vector<float> y(yout), dx(xin), dw(wn), db(static_cast<std::size_t>(g.c_out));
  std::vector<float> scratch(cpu::conv_scratch_floats(g, batch, cpu::num_threads()));
  for (auto _ : st) {
    switch (which) {
      case pass::forward: cpu::conv2d_forward(g, batch, x.data(), w.data(), nullptr, y.data(), scratch.data()); break;
      case pass::backward_data:
        cpu::conv2d_backward_data(g, batch, dy.data(), w.data(), dx.data(), scratch.data());
        break;
      case pass::backward_weights:
        cpu::conv2d_backward_weights(g, batch, x.data(), dy.data(), dw.data(), nullptr, scratch.data());
        break;
      case pass::backward:
        cpu::conv2d_backward(g, batch, x.data(), dy.data(), w.data(), dx.data(), dw.data(), nullptr,
                             scratch.data());
        break;
    }
    benchmark::ClobberMemory();
  }
  const double flops = conv_flops(g) * (which == pass::backward ? 2.0 : 1.0);
  st.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.SetItemsProcessed(st.iterations() * batch);
}

// BatchNorm2d and ReLU on a 64-channel 32x32 activation (the S7-dilated width).
constexpr int act_c = 64, act_hw = 32 * 32;
constexpr std::size_t act_n = static_cast<std::size_t>(batch) * act_c * act_hw;

void bm_batchnorm_forward(benchmark::State& st, bool image_major) {
  auto x = random_floats(act_n, 4);
  std::vector<float> scratch(cpu::batchnorm_scratch_floats(batch, act_c));
  std::vector<float> y(act_n), gamma(act_c, 1.0f), beta(act_c, 0.0f), mean(act_c), invstd(act_c), rm(act_c),
      rv(act_c, 1.0f);
  for (auto _ : st) {
    cpu::batchnorm_forward_train(batch, act_c, act_hw, x.data(), gamma.data(), beta.data(), y.data(), mean.data(),
                                 invstd.data(), rm.data(), rv.data(), 0.1f, 1e-5f,
                                 image_major ? scratch.data() : nullptr);
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * batch);
  st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(act_n * sizeof(float) * 2));
}

void bm_batchnorm_backward(benchmark::State& st, bool relu_mask, bool image_major) {
  auto x = random_floats(act_n, 5), dy = random_floats(act_n, 6);
  std::vector<float> scratch(cpu::batchnorm_scratch_floats(batch, act_c));
  if (relu_mask)
    for (auto& v : x) v = v < 0 ? 0.0f : v;
  std::vector<float> dx(act_n), gamma(act_c, 1.0f), mean(act_c, 0.0f), invstd(act_c, 1.0f), dg(act_c), db(act_c);
  for (auto _ : st) {
    cpu::batchnorm_backward(batch, act_c, act_hw, x.data(), dy.data(), gamma.data(), mean.data(), invstd.data(),
                            dx.data(), dg.data(), db.data(), relu_mask ? cpu::bn_relu::input : cpu::bn_relu::none,
                            image_major ? scratch.data() : nullptr);
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * batch);
  st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(act_n * sizeof(float) * 3));
}

void bm_relu_forward(benchmark::State& st) {
  auto x = random_floats(act_n, 7);
  std::vector<float> y(act_n);
  for (auto _ : st) {
    cpu::relu_forward(act_n, x.data(), y.data());
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * batch);
  st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(act_n * sizeof(float) * 2));
}

void bm_relu_backward(benchmark::State& st) {
  auto y = random_floats(act_n, 8), dy = random_floats(act_n, 9);
  std::vector<float> dx(act_n);
  for (auto _ : st) {
    cpu::relu_backward(act_n, y.data(), dy.data(), dx.data());
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * batch);
  st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(act_n * sizeof(float) * 3));
}

// 2x2 max or average pooling, stride 2, on the 64-channel 32x32 activation.
void bm_pool(benchmark::State& st, bool max, bool backward) {
  const cpu::pool_geom g{.c = act_c, .h_in = 32, .w_in = 32, .h_out = 16, .w_out = 16, .kh = 2, .kw = 2, .sh = 2,
                         .sw = 2};
  auto x = random_floats(act_n, max ? 10 : 14);
  std::vector<float> y(act_n / 4), dx(act_n);
  std::vector<std::int32_t> arg(act_n / 4);
  if (max) cpu::maxpool_forward(g, batch, x.data(), y.data(), arg.data());
  for (auto _ : st) {
    if (max && backward)
      cpu::maxpool_backward(g, batch, y.data(), arg.data(), dx.data());
    else if (max)
      cpu::maxpool_forward(g, batch, x.data(), y.data(), arg.data());
    else if (backward)
      cpu::avgpool_backward(g, batch, y.data(), dx.data());
    else
      cpu::avgpool_forward(g, batch, x.data(), y.data());
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * batch);
}

void bm_global_avgpool(benchmark::State& st) {
  auto x = random_floats(act_n, 11);
  std::vector<float> y(static_cast<std::size_t>(batch) * act_c);
  for (auto _ : st) {
    cpu::global_avgpool_forward(batch, act_c, act_hw, x.data(), y.data());
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * batch);
}

// One SGD update of S9's 198,757 parameters (momentum, weight decay).
void bm_sgd(benchmark::State& st) {
  constexpr std::size_t n = 198757;
  auto p = random_floats(n, 12), g = random_floats(n, 13);
  std::vector<float> m(n);
  const cpu::sgd_options o{.lr = 0.01f, .momentum = 0.9f, .weight_decay = 5e-4f};
  bool first = true;
  for (auto _ : st) {
    cpu::sgd_step(n, p.data(), g.data(), m.data(), o, first);
    first = false;
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(n * sizeof(float) * 4));
}

void bm_dropout(benchmark::State& st, bool backward) {
  auto x = random_floats(act_n, 15);
  std::vector<float> y(act_n);
  std::vector<std::uint8_t> mask(act_n);
  cpu::dropout_forward(act_n, x.data(), y.data(), mask.data(), 0.1f, 1);
  std::uint64_t seed = 2;
  for (auto _ : st) {
    if (backward)
      cpu::dropout_backward(act_n, mask.data(), 0.1f, x.data(), y.data());
    else
      cpu::dropout_forward(act_n, x.data(), y.data(), mask.data(), 0.1f, seed++);
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * batch);
  st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(act_n * (2 * sizeof(float) + 1)));
}

// Residual add and a two-way concat of 32 + 32 channels (Add / Concat merges).
void bm_add(benchmark::State& st) {
  auto x = random_floats(act_n, 16), y = random_floats(act_n, 17);
  for (auto _ : st) {
    cpu::add_inplace(act_n, x.data(), y.data());
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * batch);
  st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(act_n * sizeof(float) * 3));
}

void bm_concat(benchmark::State& st, bool backward) {
  auto part = random_floats(act_n / 2, 18);
  std::vector<float> y(act_n), dpart(act_n / 2);
  for (auto _ : st) {
    if (backward)
      cpu::concat_backward(batch, act_hw, act_c, act_c / 2, act_c / 2, y.data(), dpart.data(), false);
    else
      cpu::concat_forward(batch, act_hw, act_c, act_c / 2, act_c / 2, part.data(), y.data());
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * batch);
}

// Linear 1024 -> 256 (a classifier head after Flatten).
void bm_linear(benchmark::State& st, bool backward) {
  constexpr int in = 1024, out = 256;
  auto x = random_floats(static_cast<std::size_t>(batch) * in, 19), w = random_floats(std::size_t{in} * out, 20);
  auto b = random_floats(out, 21), dy = random_floats(static_cast<std::size_t>(batch) * out, 22);
  std::vector<float> y(static_cast<std::size_t>(batch) * out), dx(x.size()), dw(w.size()), db(out);
  for (auto _ : st) {
    if (backward)
      cpu::linear_backward(batch, in, out, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
    else
      cpu::linear_forward(batch, in, out, x.data(), w.data(), b.data(), y.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * batch * in * out * (backward ? 2.0 : 1.0);
  st.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.SetItemsProcessed(st.iterations() * batch);
}

// LogSoftmax + NLL (the reference networks' head) and cross-entropy with label smoothing, 10 classes.
void bm_loss(benchmark::State& st, bool cross_entropy) {
  constexpr int classes = 10;
  auto logits = random_floats(static_cast<std::size_t>(batch) * classes, 23);
  std::vector<float> logp(logits.size()), dlogp(logits.size()), dlogits(logits.size());
  std::vector<std::int32_t> target(batch);
  for (int i = 0; i < batch; ++i) target[static_cast<std::size_t>(i)] = i % classes;
  for (auto _ : st) {
    if (cross_entropy) {
      benchmark::DoNotOptimize(
          cpu::cross_entropy(batch, classes, logits.data(), target.data(), 0.1f, dlogits.data()));
    } else {
      cpu::log_softmax_forward(batch, classes, logits.data(), logp.data());
      benchmark::DoNotOptimize(cpu::nll_loss(batch, classes, logp.data(), target.data(), dlogp.data()));
      cpu::log_softmax_backward(batch, classes, logp.data(), dlogp.data(), dlogits.data());
    }
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * batch);
}

// One Adam update of S9's 198,757 parameters.
void bm_adam(benchmark::State& st) {
  constexpr std::size_t n = 198757;
  auto p = random_floats(n, 24), g = random_floats(n, 25);
  std::vector<float> m(n), v(n);
  const cpu::adam_options o{};
  std::int64_t step = 0;
  for (auto _ : st) {
    cpu::adam_step(n, p.data(), g.data(), m.data(), v.data(), nullptr, o, ++step, cpu::weight_decay_kind::l2);
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(n * sizeof(float) * 6));
}

// One parallel_for hand-off with a small body (about 1 us of work per
// thread), back to back as between a training step's layers: with the pool's
// default spin (waiting threads spin up to 1 ms before they sleep) and with
// spin 0 (they sleep at once and must be woken, as the pool did before).
void bm_parallel_for(benchmark::State& st, bool spin) {
  const auto saved = cpu::default_pool().spin();
  cpu::set_spin(spin ? cpu::thread_pool::default_spin : std::chrono::nanoseconds(0));
  std::vector<float> v(4096, 1.0f);
  for (auto _ : st) {
    cpu::parallel_for(0, cpu::num_threads(), [&](int b, int e) {
      for (int t = b; t < e; ++t) {
        float s = 0;
        for (int i = 0; i < 1024; ++i) s += v[static_cast<std::size_t>(i)] * 1.0001f;
        benchmark::DoNotOptimize(s);
      }
    });
  }
  cpu::set_spin(saved);
}

void register_all() {
  for (const auto& c : conv_cases) {
    const std::string base = std::string("conv/") + c.name;
    benchmark::RegisterBenchmark((base + "/forward").c_str(), bm_conv, c.g, pass::forward)->UseRealTime();
    benchmark::RegisterBenchmark((base + "/backward_data").c_str(), bm_conv, c.g, pass::backward_data)
        ->UseRealTime();
    benchmark::RegisterBenchmark((base + "/backward_weights").c_str(), bm_conv, c.g, pass::backward_weights)
        ->UseRealTime();
    benchmark::RegisterBenchmark((base + "/backward").c_str(), bm_conv, c.g, pass::backward)->UseRealTime();
  }
  for (bool image_major : {false, true}) {
    const std::string order = image_major ? "/image_major" : "/channel_major";
    benchmark::RegisterBenchmark(("batchnorm/64x32x32/forward_train" + order).c_str(), bm_batchnorm_forward,
                                 image_major)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("batchnorm/64x32x32/backward" + order).c_str(), bm_batchnorm_backward, false,
                                 image_major)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("batchnorm/64x32x32/backward_relu_mask" + order).c_str(), bm_batchnorm_backward,
                                 true, image_major)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("relu/64x32x32/forward", bm_relu_forward)->UseRealTime();
  benchmark::RegisterBenchmark("relu/64x32x32/backward", bm_relu_backward)->UseRealTime();
  benchmark::RegisterBenchmark("maxpool2x2/64x32x32/forward", bm_pool, true, false)->UseRealTime();
  benchmark::RegisterBenchmark("maxpool2x2/64x32x32/backward", bm_pool, true, true)->UseRealTime();
  benchmark::RegisterBenchmark("global_avgpool/64x32x32/forward", bm_global_avgpool)->UseRealTime();
  benchmark::RegisterBenchmark("avgpool2x2/64x32x32/forward", bm_pool, false, false)->UseRealTime();
  benchmark::RegisterBenchmark("avgpool2x2/64x32x32/backward", bm_pool, false, true)->UseRealTime();
  benchmark::RegisterBenchmark("dropout/64x32x32/forward", bm_dropout, false)->UseRealTime();
  benchmark::RegisterBenchmark("dropout/64x32x32/backward", bm_dropout, true)->UseRealTime();
  benchmark::RegisterBenchmark("add/64x32x32", bm_add)->UseRealTime();
  benchmark::RegisterBenchmark("concat/32+32x32x32/forward", bm_concat, false)->UseRealTime();
  benchmark::RegisterBenchmark("concat/32+32x32x32/backward", bm_concat, true)->UseRealTime();
  benchmark::RegisterBenchmark("linear/1024to256/forward", bm_linear, false)->UseRealTime();
  benchmark::RegisterBenchmark("linear/1024to256/backward", bm_linear, true)->UseRealTime();
  benchmark::RegisterBenchmark("loss/log_softmax_nll_10/forward_backward", bm_loss, false)->UseRealTime();
  benchmark::RegisterBenchmark("loss/cross_entropy_ls0.1_10/forward_backward", bm_loss, true)->UseRealTime();
  benchmark::RegisterBenchmark("sgd/198757_params", bm_sgd)->UseRealTime();
  benchmark::RegisterBenchmark("adam/198757_params", bm_adam)->UseRealTime();
  benchmark::RegisterBenchmark("parallel_for/handoff/spin", bm_parallel_for, true)->UseRealTime();
  benchmark::RegisterBenchmark("parallel_for/handoff/sleep", bm_parallel_for, false)->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  // --threads N (before the Google Benchmark flags) sizes the kernel thread pool.
  if (argc > 2 && std::strcmp(argv[1], "--threads") == 0) {
    cpu::set_num_threads(std::atoi(argv[2]));
    argv[2] = argv[0];
    argc -= 2;
    argv += 2;
  }
  std::printf("staticnet kernels, batch %d, %d thread(s)\n", batch, cpu::num_threads());
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
