// Single-core throughput of staticnet::cpu::gemm on the shapes the networks use,
// next to the core's measured fp32 FMA peak.
//
//   ./bench_gemm                          all shapes
//   ./bench_gemm --benchmark_filter=1x1   one group
//   ./bench_gemm --benchmark_min_time=0.2 --benchmark_repetitions=5   as in bench/RESULTS.md
//
// Counters: GFLOPS = 2*M*N*K per second of CPU time, averaged over the run;
// best_GFLOPS = the same for the fastest single call (wall clock), the figure
// least disturbed by other processes on a shared machine; peak% / best_peak% =
// those over the FMA peak of the vector width gemm uses (measured once at
// start-up by the same loop as the peak_fma benchmark: its fastest call).
// Every call reuses the same operands, so they are cache-warm (L2) as in a
// layer that has just produced its input.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <staticnet/cpu/gemm.hpp>

#include "peak_fma.hpp"

namespace {

using staticnet::cpu::trans;
namespace gd = staticnet::cpu::gemm_detail;

// ----------------------------------------------------------------- peak --
using staticnet_bench::fma_chains;
using staticnet_bench::flops_per_call;
using staticnet_bench::measured_peak;
using staticnet_bench::vec_fma;

// Rates are per second of CPU time (Google Benchmark's rate counters divide by
// CPU time), which keeps them meaningful when other processes share the cores;
// best_GFLOPS is the fastest single call by the wall clock.
template <class V, class F>
void peak_benchmark(benchmark::State& state, F fma) {
  constexpr std::int64_t iters = 1 << 14;
  double fastest = 1e30;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(fma_chains<V>(iters, fma));
    fastest = std::min(fastest, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  state.counters["GFLOPS"] = benchmark::Counter(flops_per_call<V>(iters) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["best_GFLOPS"] = flops_per_call<V>(iters) * 1e-9 / fastest;
  state.counters["width"] = static_cast<double>(V::size);
}



// ----------------------------------------------------------------- gemm --
struct shape {
  const char* group;
  trans ta, tb;
  int M, N, K;
  std::string label;
};

void gemm_benchmark(benchmark::State& state, shape sh, bool reference) {
  const int M = sh.M, N = sh.N, K = sh.K;
  const int lda = sh.ta == trans::no ? K : M, ldb = sh.tb == trans::no ? N : K;
  std::vector<float> A(static_cast<std::size_t>(M) * K), B(static_cast<std::size_t>(K) * N),
      C(static_cast<std::size_t>(M) * N);
  std::uint32_t s = 12345;
  auto rnd = [&] {
    s = s * 1664525u + 1013904223u;
    return static_cast<float>(s >> 8) * (2.0f / 16777216.0f) - 1.0f;
  };
  for (auto& x : A) x = rnd();
  for (auto& x : B) x = rnd();
  auto run = reference ? staticnet::cpu::gemm_reference : staticnet::cpu::gemm;
  run(sh.ta, sh.tb, M, N, K, A.data(), lda, B.data(), ldb, C.data(), N, false);  // warm-up, workspace
  double fastest = 1e30;  // seconds, the quickest single call (clock reads cost ~50 ns per >= 5 us call)
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    run(sh.ta, sh.tb, M, N, K, A.data(), lda, B.data(), ldb, C.data(), N, false);
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
    fastest = std::min(fastest, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double gflop = 2e-9 * M * N * K;
  state.counters["GFLOPS"] = benchmark::Counter(gflop, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak%"] = benchmark::Counter(100.0 * gflop / measured_peak(), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["best_GFLOPS"] = gflop / fastest;
  state.counters["best_peak%"] = 100.0 * gflop / fastest / measured_peak();
  state.SetLabel(sh.label);
}

std::string mnk(int M, int N, int K) {
  return "M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K);
}

std::vector<shape> shapes() {
  std::vector<shape> v;
  // 1x1 convolution forward: Y[oc x P] = W[oc x ic] * X[ic x P].
  for (int P : {1024, 576})
    for (int c : {16, 32, 64, 128, 224})
      v.push_back({"1x1_fwd_NN", trans::no, trans::no, c, P, c, "oc=ic=" + std::to_string(c) + " P=" + std::to_string(P)});
  v.push_back({"1x1_fwd_NN", trans::no, trans::no, 128, 1024, 64, "oc=128 ic=64 P=1024"});
  v.push_back({"1x1_fwd_NN", trans::no, trans::no, 64, 1024, 128, "oc=64 ic=128 P=1024"});
  v.push_back({"1x1_fwd_NN", trans::no, trans::no, 96, 576, 192, "oc=96 ic=192 P=576"});
  // 1x1 backward data: dX[ic x P] = W^T[ic x oc] * dY[oc x P].
  for (int c : {16, 64, 128, 224})
    v.push_back({"1x1_bwd_data_TN", trans::yes, trans::no, c, 1024, c, "oc=ic=" + std::to_string(c) + " P=1024"});
  // 1x1 weight gradient: dW[oc x ic] = dY[oc x P] * X^T[P x ic].
  for (int c : {16, 64, 128, 224})
    v.push_back({"1x1_wgrad_NT", trans::no, trans::yes, c, c, 1024, "oc=ic=" + std::to_string(c) + " P=1024"});
  // 3x3 convolution through im2col: Y[oc x P] = W[oc x ic*9] * cols[ic*9 x P].
  v.push_back({"im2col_3x3_NN", trans::no, trans::no, 32, 1024, 27, "ic=3 oc=32 P=1024"});
  v.push_back({"im2col_3x3_NN", trans::no, trans::no, 64, 1024, 576, "ic=64 oc=64 P=1024"});
  v.push_back({"im2col_3x3_NN", trans::no, trans::no, 128, 576, 1152, "ic=128 oc=128 P=576"});
  v.push_back({"im2col_3x3_TN", trans::yes, trans::no, 576, 1024, 64, "bwd data ic=64 oc=64 P=1024"});
  v.push_back({"im2col_3x3_NT", trans::no, trans::yes, 64, 576, 1024, "wgrad ic=64 oc=64 P=1024"});
  // Linear, batch 128: Y = X W^T (NT), dX = dY W (NN), dW = dY^T X (TN).
  for (auto [in, out] : {std::pair{1024, 256}, std::pair{256, 10}}) {
    const std::string l = "in=" + std::to_string(in) + " out=" + std::to_string(out) + " batch=128";
    v.push_back({"linear_fwd_NT", trans::no, trans::yes, 128, out, in, l});
    v.push_back({"linear_bwd_data_NN", trans::no, trans::no, 128, in, out, l});
    v.push_back({"linear_wgrad_TN", trans::yes, trans::no, out, in, 128, l});
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  // With --benchmark_repetitions=R, the *_max rows hold the best GFLOPS / peak%
  // of the R runs (and the worst time: read only the counters there).
  auto best = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); };
  benchmark::RegisterBenchmark("peak_fma", [](benchmark::State& st) { peak_benchmark<gd::vec>(st, vec_fma); })
      ->ComputeStatistics("max", best);
#if defined(__AVX2__) && defined(__FMA__) && defined(__AVX512F__)
  using v256 = xsimd::batch<float, xsimd::fma3<xsimd::avx2>>;
  benchmark::RegisterBenchmark("peak_fma_avx2", [](benchmark::State& st) {
    peak_benchmark<v256>(st, [](const v256& x, const v256& y, const v256& z) { return xsimd::fma(x, y, z); });
  })->ComputeStatistics("max", best);
#endif
  for (const shape& sh : shapes()) {
    const std::string name = std::string("gemm/") + sh.group + "/" + mnk(sh.M, sh.N, sh.K);
    benchmark::RegisterBenchmark(name.c_str(), [sh](benchmark::State& st) { gemm_benchmark(st, sh, false); })
        ->ComputeStatistics("max", best);
  }
  benchmark::RegisterBenchmark("gemm_reference/1x1_fwd_NN/M=64 N=1024 K=64", [](benchmark::State& st) {
    gemm_benchmark(st, {"1x1_fwd_NN", trans::no, trans::no, 64, 1024, 64, "naive loops"}, true);
  })->ComputeStatistics("max", best);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("gemm blocking: W=%d MR=%d NR=%d KC=%d MC=%d NC=%d; measured peak of that width: %.1f GFLOP/s\n",
              gd::W, gd::MR, gd::NR, gd::KC, gd::MC, gd::NC, measured_peak());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
