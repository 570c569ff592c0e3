// staticnet/cpu/adam.hpp: one step of torch.optim.Adam / torch.optim.AdamW
// (PyTorch 1.13, single-tensor path) on a flat parameter array, CPU.
//
//   g  = maximize ? -grad : grad
//   Adam  (weight_decay_kind::l2):        g = g + weight_decay * param
//   AdamW (weight_decay_kind::decoupled): param = param * (1 - lr * weight_decay)
//   m  = beta1 * m + (1 - beta1) * g
//   v  = beta2 * v + (1 - beta2) * g * g
//   v̂  = amsgrad ? (vmax = max(vmax, v)) : v
//   param += -(lr / (1 - beta1^t)) * m / (sqrt(v̂) / sqrt(1 - beta2^t) + eps)
//
// t is the step number (1 on the first step). As in PyTorch, the scalar
// coefficients (bias corrections, step size, 1 - beta, ...) are computed in
// double and rounded to float once; the element-wise arithmetic is float.
// max_exp_avg_sq may be null unless amsgrad. Vectorised with xsimd,
// parallel over the array when large. No heap allocation.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernel_types.hpp"
#include "simd.hpp"

STATICNET_CPU_KERNELS_BEGIN

inline void adam_step(std::size_t size, float* params, const float* grads, float* exp_avg, float* exp_avg_sq,
                      float* max_exp_avg_sq, const adam_coefficients& c) {
  using namespace layer_detail;
  const bool use_wd = c.weight_decay != 0.0f;
  const bool use_decay = c.decay != 1.0f;
  chunked(size, elementwise_grain / 4, [&](std::size_t b, std::size_t e) {
    // One update on either a batch (T = vf) or a scalar (T = float) at index i.
    auto update = [&](auto p, auto g, std::size_t i, auto load, auto store, auto sqrt, auto max) {
      using T = decltype(g);
      if (c.maximize) g = -g;
      if (use_wd) g = g + p * T(c.weight_decay);
      if (use_decay) p = p * T(c.decay);
      const T m = load(exp_avg + i) * T(c.beta1) + g * T(c.one_minus_beta1);
      T v = load(exp_avg_sq + i) * T(c.beta2) + T(c.one_minus_beta2) * g * g;
      store(exp_avg + i, m);
      store(exp_avg_sq + i, v);
      if (c.amsgrad) {
        v = max(load(max_exp_avg_sq + i), v);
        store(max_exp_avg_sq + i, v);
      }
      const T denom = sqrt(v) / T(c.bias_correction2_sqrt) + T(c.eps);
      return p + T(c.neg_step_size) * m / denom;
    };
    auto vload = [](const float* q) { return vf::load_unaligned(q); };
    auto vstore = [](float* q, const vf& v) { v.store_unaligned(q); };
    auto vsqrt = [](const vf& x) { return xsimd::sqrt(x); };
    auto vmax = [](const vf& x, const vf& y) { return xsimd::max(x, y); };
    auto sload = [](const float* q) { return *q; };
    auto sstore = [](float* q, float v) { *q = v; };
    auto ssqrt = [](float x) { return std::sqrt(x); };
    auto smax = [](float x, float y) { return std::max(x, y); };
    std::size_t i = b;
    for (; i + vlen <= e; i += vlen)
      update(vf::load_unaligned(params + i), vf::load_unaligned(grads + i), i, vload, vstore, vsqrt, vmax)
          .store_unaligned(params + i);
    for (; i < e; ++i) params[i] = update(params[i], grads[i], i, sload, sstore, ssqrt, smax);
  });
}

/// One Adam (kind = l2) or AdamW (kind = decoupled) update; `step` is the
/// step number after incrementing (1 on the first step).
template <class Options>
inline void adam_step(std::size_t size, float* params, const float* grads, float* exp_avg, float* exp_avg_sq,
                      float* max_exp_avg_sq, const Options& o, std::int64_t step, weight_decay_kind kind) {
  adam_step(size, params, grads, exp_avg, exp_avg_sq, max_exp_avg_sq, make_adam_coefficients(o, step, kind));
}

STATICNET_CPU_KERNELS_END
