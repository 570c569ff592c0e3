// staticnet/cpu/loss.hpp: classification losses (mean reduction), CPU.
//
//   nll_loss      = torch.nn.functional.nll_loss(logp, target)            (mean)
//   cross_entropy = torch.nn.functional.cross_entropy(logits, target,
//                                                     label_smoothing=ls) (mean)
// Both return the loss and, when the gradient pointer is non-null, write the
// gradient of that mean loss (overwritten). Targets outside [0, classes)
// (including torch's ignore_index -100, which is not supported) throw
// std::invalid_argument before anything is written.
// Row sums are accumulated in double into a fixed number of blocks, so the
// result does not depend on the thread count. No heap allocation (except
// the exception message).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "simd.hpp"

STATICNET_CPU_DIAGNOSTICS_BEGIN

STATICNET_CPU_KERNELS_BEGIN

namespace layer_detail {

inline void check_targets(const char* who, int n, int classes, const std::int32_t* target) {
  for (int i = 0; i < n; ++i)
    if (target[i] < 0 || target[i] >= classes)
      throw std::invalid_argument(std::string("staticnet::cpu::") + who + ": target[" + std::to_string(i) +
                                  "] = " + std::to_string(target[i]) + " is out of range [0, " +
                                  std::to_string(classes) + ")");
}

/// Sums f(row) over rows [0, n) in a fixed number of blocks (parallel when
/// large): deterministic whatever the thread count.
template <class F>
inline double sum_rows(int n, int classes, F&& f) {
  constexpr int max_blocks = 64;
  const int blocks = std::min(n, max_blocks);
  double partial[max_blocks] = {};
  auto run = [&](int bb, int be) {
    for (int b = bb; b < be; ++b) {
      const int r0 = static_cast<int>(static_cast<long long>(n) * b / blocks);
      const int r1 = static_cast<int>(static_cast<long long>(n) * (b + 1) / blocks);
      double s = 0.0;
      for (int r = r0; r < r1; ++r) s += f(r);
      partial[b] = s;
    }
  };
  if (static_cast<long long>(n) * classes >= (1LL << 15) && blocks > 1)
    parallel_for(0, blocks, run);
  else
    run(0, blocks);
  double total = 0.0;
  for (int b = 0; b < blocks; ++b) total += partial[b];
  return total;
}

}  // namespace layer_detail

/// Mean negative log-likelihood: -mean_i logp[i, target[i]]; dlogp[i, target[i]] = -1/n, 0 elsewhere.
/// n == 0 returns NaN (torch: mean over an empty batch).
inline float nll_loss(int n, int classes, const float* logp, const std::int32_t* target, float* dlogp) {
  using namespace layer_detail;
  check_targets("nll_loss", n, classes, target);
  if (n <= 0) return std::numeric_limits<float>::quiet_NaN();
  const auto C = static_cast<std::size_t>(classes);
  const double total = sum_rows(n, classes, [&](int r) {
    const std::size_t t = static_cast<std::size_t>(target[r]);
    const std::size_t row = static_cast<std::size_t>(r) * C;
    if (dlogp) {
      fill(dlogp + row, C, 0.0f);
      dlogp[row + t] = -1.0f / static_cast<float>(n);
    }
    return -static_cast<double>(logp[row + t]);
  });
  return static_cast<float>(total / n);
}

/// torch.nn.functional.cross_entropy(logits, target, label_smoothing=ls), mean reduction:
///   loss_i = (1 - ls) * (-logp[i, t_i]) + (ls / C) * sum_j (-logp[i, j])
///   dlogits[i, j] = (softmax[i, j] - (1 - ls) * [j == t_i] - ls / C) / n
inline float cross_entropy(int n, int classes, const float* logits, const std::int32_t* target,
                           float label_smoothing, float* dlogits) {
  using namespace layer_detail;
  check_targets("cross_entropy", n, classes, target);
  if (n <= 0) return std::numeric_limits<float>::quiet_NaN();
  const auto C = static_cast<std::size_t>(classes);
  const float ls = label_smoothing;
  const float inv_n = 1.0f / static_cast<float>(n);
  const double total = sum_rows(n, classes, [&](int r) {
    const std::size_t t = static_cast<std::size_t>(target[r]);
    const float* xr = logits + static_cast<std::size_t>(r) * C;
    const float m = layer_detail::max(xr, C);
    const float lse = m + std::log(sum_exp(xr, C, m));
    double loss = -(static_cast<double>(xr[t]) - lse);
    if (ls != 0.0f) {
      const double sum_logp = static_cast<double>(layer_detail::sum(xr, C)) - static_cast<double>(C) * lse;
      loss = (1.0 - ls) * loss - (static_cast<double>(ls) / static_cast<double>(C)) * sum_logp;
    }
    if (dlogits) {
      float* dr = dlogits + static_cast<std::size_t>(r) * C;
      const float off = ls / static_cast<float>(C);
      const vf vl(lse), voff(off), vn(inv_n);
      std::size_t j = 0;
      for (; j + vlen <= C; j += vlen)
        ((xsimd::exp(vf::load_unaligned(xr + j) - vl) - voff) * vn).store_unaligned(dr + j);
      for (; j < C; ++j) dr[j] = (std::exp(xr[j] - lse) - off) * inv_n;
      dr[t] -= (1.0f - ls) * inv_n;
    }
    return loss;
  });
  return static_cast<float>(total / n);
}

STATICNET_CPU_KERNELS_END

STATICNET_CPU_DIAGNOSTICS_END
