// The fp32 FMA peak of one core, measured: independent chains of vector FMAs.
// Shared by bench_gemm (the % of peak columns) and staticnet_train_step (the
// 1x1-convolution GFLOP/s against the peak of the cores it runs on).
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>

#include <staticnet/cpu/gemm.hpp>
#include <staticnet/cpu/parallel.hpp>

namespace staticnet_bench {

namespace gd = staticnet::cpu::gemm_detail;

/// Independent FMA chains: >= FMA latency (4) x FMA ports (2) to saturate the
/// units, and chains + 2 constants fit in 16 registers (AVX2: no spills).
constexpr int chains = 12;

/// 2 * width * chains * iters flops.
template <class V, class F>
float fma_chains(std::int64_t iters, F fma) {
  V acc[chains];
  // Volatile inputs: the call can be neither constant-folded nor hoisted out of
  // the timing loop. acc converges to add / (1 - mul) = 1: no overflow, no denormals.
  static volatile float v_seed = 1e-3f, v_mul = 0.9999999f, v_add = 1e-7f;
  const float seed = v_seed, mul = v_mul, add = v_add;
  for (int c = 0; c < chains; ++c) acc[c] = V(static_cast<float>(c) * seed);
  const V m(mul), a(add);
  // The chains are serial and their sums are used, so the compiler must issue
  // every FMA; fully unrolled over c, acc[] lives in registers.
  for (std::int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < chains; ++c) acc[c] = fma(acc[c], m, a);
  }
  V s = acc[0];
  for (int c = 1; c < chains; ++c) s = s + acc[c];
  alignas(64) float out[V::size];
  s.store_aligned(out);
  return out[0];
}

template <class V>
double flops_per_call(std::int64_t iters) {
  return 2.0 * static_cast<double>(V::size) * chains * static_cast<double>(iters);
}

/// Where measured_peak stores its results, so the calls cannot be optimised away.
inline volatile float peak_sink = 0.0f;

inline auto vec_fma = [](const gd::vec& x, const gd::vec& y, const gd::vec& z) { return gd::fmadd(x, y, z); };

/// GFLOP/s of `threads` threads of the kernel pool running the FMA chains at
/// the same time: the fastest of `reps` calls of `iters` iterations each,
/// after `warm` untimed calls.
inline double fastest_fma_rate(int threads, std::int64_t iters, int warm, int reps) {
  auto run = [&] {
    staticnet::cpu::parallel_for(0, threads, [&](int b, int e) {
      for (int t = b; t < e; ++t) peak_sink = fma_chains<gd::vec>(iters, vec_fma);
    });
  };
  for (int i = 0; i < warm; ++i) run();
  double fastest = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    fastest = std::min(fastest, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return threads * flops_per_call<gd::vec>(iters) * 1e-9 / fastest;
}

/// The single-core peak of gemm's vector type in GFLOP/s: the fastest of 2000
/// calls of ~15 us (after a warm-up), so a preempted or slowed call does not
/// lower it. Measured once per process.
inline double measured_peak() {
  static const double peak = fastest_fma_rate(1, std::int64_t{1} << 12, 200, 2000);
  return peak;
}

/// The fp32 peak of all the kernel pool's threads at once, in GFLOP/s: every
/// thread runs the FMA chains at the same time (so the all-core clock, which
/// can be lower than the single-core one with wide vectors, is what counts);
/// the fastest of 60 parallel calls of about 1 ms each (long enough that
/// waking the pool's threads, tens of microseconds, does not count). Measured
/// once per process.
inline double measured_peak_all_threads() {
  static const double peak = fastest_fma_rate(staticnet::cpu::num_threads(), std::int64_t{1} << 18, 10, 60);
  return peak;
}

}  // namespace staticnet_bench
