// staticnet/cpu/sgd.hpp: one step of torch.optim.SGD on a flat parameter array, CPU.
//
//   g = grad + weight_decay * param
//   if momentum != 0:
//     buf = first_step ? g : momentum * buf + (1 - dampening) * g
//     g   = nesterov ? g + momentum * buf : buf
//   param -= lr * g
// momentum_buffer may be null when momentum == 0 (it is not touched then).
// Vectorised with xsimd, parallel over the array when large.
#pragma once
#include <cmath>
#include <cstddef>

#include "kernel_types.hpp"
#include "simd.hpp"

STATICNET_CPU_KERNELS_BEGIN


inline void sgd_step(std::size_t size, float* params, const float* grads, float* momentum_buffer,
                     const sgd_options& o, bool first_step) {
  using namespace layer_detail;
  const bool use_momentum = o.momentum != 0.0f;
  const bool use_wd = o.weight_decay != 0.0f;
  const float damp = 1.0f - o.dampening;
  chunked(size, elementwise_grain / 2, [&](std::size_t b, std::size_t e) {
    // One update on either a batch (T = vf) or a scalar (T = float).
    auto step = [&](auto p, auto g, float* buf_ptr, auto load, auto store, auto fma) {
      using T = decltype(g);
      if (use_wd) g = fma(p, T(o.weight_decay), g);
      if (use_momentum) {
        T buf = g;
        if (!first_step) buf = fma(load(buf_ptr), T(o.momentum), g * T(damp));
        store(buf_ptr, buf);
        g = o.nesterov ? fma(buf, T(o.momentum), g) : buf;
      }
      return fma(g, T(-o.lr), p);
    };
    auto vload = [](const float* q) { return vf::load_unaligned(q); };
    auto vstore = [](float* q, const vf& v) { v.store_unaligned(q); };
    auto vfma = [](const vf& x, const vf& y, const vf& z) { return xsimd::fma(x, y, z); };
    auto sload = [](const float* q) { return *q; };
    auto sstore = [](float* q, float v) { *q = v; };
    auto sfma = [](float x, float y, float z) { return std::fma(x, y, z); };
    std::size_t i = b;
    for (; i + vlen <= e; i += vlen)
      step(vf::load_unaligned(params + i), vf::load_unaligned(grads + i),
           use_momentum ? momentum_buffer + i : nullptr, vload, vstore, vfma)
          .store_unaligned(params + i);
    for (; i < e; ++i)
      params[i] = step(params[i], grads[i], use_momentum ? momentum_buffer + i : nullptr, sload, sstore, sfma);
  });
}

STATICNET_CPU_KERNELS_END
