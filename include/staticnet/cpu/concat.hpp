// staticnet/cpu/concat.hpp: channel concatenation (torch.cat(dim=1)) CPU kernels, NCHW.
//
// y has c_total channels of hw elements per image; the part (c_part channels)
// occupies channels [c_offset, c_offset + c_part). Per image that slice is one
// contiguous run of c_part * hw floats, so forward is a memcpy per image and
// backward a copy or a vectorised add. Parallel over images when large.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "simd.hpp"

STATICNET_CPU_KERNELS_BEGIN

/// Copies part (n x c_part x hw) into channels [c_offset, c_offset + c_part) of y (n x c_total x hw).
inline void concat_forward(int n, int hw, int c_total, int c_offset, int c_part, const float* part, float* y) {
  using namespace layer_detail;
  if (n <= 0 || hw <= 0 || c_part <= 0) return;
  const std::size_t run = static_cast<std::size_t>(c_part) * static_cast<std::size_t>(hw);
  const std::size_t stride = static_cast<std::size_t>(c_total) * static_cast<std::size_t>(hw);
  const std::size_t off = static_cast<std::size_t>(c_offset) * static_cast<std::size_t>(hw);
  chunked(static_cast<std::size_t>(n), std::max<std::size_t>(1, (elementwise_grain * 2) / run),
          [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) std::memcpy(y + i * stride + off, part + i * run, run * sizeof(float));
          });
}

/// dpart (=, or += when accumulate) channels [c_offset, c_offset + c_part) of dy.
inline void concat_backward(int n, int hw, int c_total, int c_offset, int c_part, const float* dy, float* dpart,
                            bool accumulate) {
  using namespace layer_detail;
  if (n <= 0 || hw <= 0 || c_part <= 0) return;
  const std::size_t run = static_cast<std::size_t>(c_part) * static_cast<std::size_t>(hw);
  const std::size_t stride = static_cast<std::size_t>(c_total) * static_cast<std::size_t>(hw);
  const std::size_t off = static_cast<std::size_t>(c_offset) * static_cast<std::size_t>(hw);
  chunked(static_cast<std::size_t>(n), std::max<std::size_t>(1, (elementwise_grain * 2) / run),
          [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) {
              if (accumulate)
                add_to(dy + i * stride + off, dpart + i * run, run);
              else
                std::memcpy(dpart + i * run, dy + i * stride + off, run * sizeof(float));
            }
          });
}

STATICNET_CPU_KERNELS_END
