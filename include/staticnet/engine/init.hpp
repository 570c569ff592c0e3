// staticnet/engine/init.hpp: PyTorch's default initialisation of a network's
// parameters and buffers, on host arrays laid out by the memory plan (a device
// engine initialises on the host and uploads, so every engine starts from the
// same values for the same seed).
//
//   conv / linear weights and biases: uniform in +-1/sqrt(fan_in)
//     (kaiming_uniform with a = sqrt(5), as torch.nn.Conv2d / Linear)
//   BatchNorm: weight 1, bias 0, running mean 0, running var 1
//
// The uniform values come from std::mt19937_64's top 53 bits, so they are the
// same with every standard library (unlike std::uniform_real_distribution).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>

#include "../core/op.hpp"
#include "../core/plan.hpp"
#include "memory_plan.hpp"

namespace staticnet {

inline void init_parameters(std::span<const plan_row> rows, std::span<const exec_row> ex, float* params,
                            float* buffers, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const plan_row& r = rows[i];
    const exec_row& e = ex[i];
    float* w = params + e.param;
    if (r.desc.kind == op_kind::conv || r.desc.kind == op_kind::linear) {
      const std::int64_t fan_in = r.desc.kind == op_kind::conv
                                      ? std::int64_t{r.in.c / r.f.groups} * r.f.g.kh * r.f.g.kw
                                      : std::int64_t{r.in.c};
      const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
      for (std::int64_t j = 0; j < e.weight + e.bias; ++j)
        w[j] = static_cast<float>(bound * (2.0 * static_cast<double>(rng() >> 11) * 0x1.0p-53 - 1.0));
    } else if (r.desc.kind == op_kind::batchnorm) {
      for (std::int64_t j = 0; j < e.weight; ++j) w[j] = 1.0f, w[e.weight + j] = 0.0f;
      float* b = buffers + e.buffer;
      for (std::int64_t j = 0; j < r.in.c; ++j) b[j] = 0.0f, b[r.in.c + j] = 1.0f;
    }
  }
}

}  // namespace staticnet
