// staticnet/cpu/activation.hpp: element-wise and row-wise CPU kernels.
//
//   relu_forward / relu_backward          torch.relu (backward from the OUTPUT)
//   log_softmax_forward / _backward       torch.log_softmax over the last dim
//   dropout_forward / dropout_backward    inverted dropout (training mode)
//   add_forward / add_inplace             residual additions
//
// Raw float pointers, vectorised with xsimd::batch<float> (default arch),
// parallelised with parallel_for over contiguous ranges or rows when large
// enough to pay. No heap allocation.
//
// The small helpers shared by every kernel (namespace layer_detail) are in simd.hpp.
#pragma once
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "parallel.hpp"
#include "simd.hpp"
#include "../engine/random.hpp"

STATICNET_CPU_DIAGNOSTICS_BEGIN

STATICNET_CPU_KERNELS_BEGIN


// ------------------------------------------------------------------ ReLU --

/// y = max(x, 0) (NaN propagates, as torch.relu). x == y is allowed.
inline void relu_forward(std::size_t size, const float* x, float* y) {
  using namespace layer_detail;
  chunked(size, elementwise_grain, [&](std::size_t b, std::size_t e) { relu(x + b, y + b, e - b); });
}

/// dx = dy where y > 0, else 0 (y is the forward OUTPUT). dx may alias dy.
inline void relu_backward(std::size_t size, const float* y, const float* dy, float* dx) {
  using namespace layer_detail;
  chunked(size, elementwise_grain, [&](std::size_t b, std::size_t e) {
    const vf zero(0.0f);
    std::size_t i = b;
    for (; i + vlen <= e; i += vlen)
      xsimd::select(vf::load_unaligned(y + i) > zero, vf::load_unaligned(dy + i), zero).store_unaligned(dx + i);
    for (; i < e; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  });
}

// ----------------------------------------------------------- log_softmax --

/// y[r, :] = x[r, :] - max - log(sum(exp(x[r, :] - max))). y may alias x.
inline void log_softmax_forward(int rows, int cols, const float* x, float* y) {
  using namespace layer_detail;
  if (rows <= 0 || cols <= 0) return;
  const auto C = static_cast<std::size_t>(cols);
  chunked(static_cast<std::size_t>(rows), std::max<std::size_t>(1, (std::size_t{1} << 14) / C),
          [&](std::size_t rb, std::size_t re) {
            for (std::size_t r = rb; r < re; ++r) {
              const float* xr = x + r * C;
              float* yr = y + r * C;
              const float m = layer_detail::max(xr, C);
              const float lse = std::log(sum_exp(xr, C, m));
              const vf vm(m), vl(lse);
              std::size_t j = 0;
              for (; j + vlen <= C; j += vlen) ((vf::load_unaligned(xr + j) - vm) - vl).store_unaligned(yr + j);
              for (; j < C; ++j) yr[j] = (xr[j] - m) - lse;
            }
          });
}

/// dx = dy - exp(y) * sum(dy) per row (y is the forward output). dx may alias dy.
inline void log_softmax_backward(int rows, int cols, const float* y, const float* dy, float* dx) {
  using namespace layer_detail;
  if (rows <= 0 || cols <= 0) return;
  const auto C = static_cast<std::size_t>(cols);
  chunked(static_cast<std::size_t>(rows), std::max<std::size_t>(1, (std::size_t{1} << 14) / C),
          [&](std::size_t rb, std::size_t re) {
            for (std::size_t r = rb; r < re; ++r) {
              const float* yr = y + r * C;
              const float* gr = dy + r * C;
              float* dr = dx + r * C;
              const float s = layer_detail::sum(gr, C);
              const vf vs(s);
              std::size_t j = 0;
              for (; j + vlen <= C; j += vlen)
                xsimd::fnma(xsimd::exp(vf::load_unaligned(yr + j)), vs, vf::load_unaligned(gr + j))
                    .store_unaligned(dr + j);
              for (; j < C; ++j) dr[j] = gr[j] - std::exp(yr[j]) * s;
            }
          });
}

// --------------------------------------------------------------- dropout --

namespace layer_detail {

inline constexpr std::size_t dropout_block = 512;

/// y[i] = x[i] * keep[i] for a block, keep already expanded to floats.
inline void mul_block(const float* x, const float* keep, std::size_t len, float* y) noexcept {
  std::size_t j = 0;
  for (; j + vlen <= len; j += vlen)
    (vf::load_unaligned(x + j) * vf::load_unaligned(keep + j)).store_unaligned(y + j);
  for (; j < len; ++j) y[j] = x[j] * keep[j];
}

/// keep[j] = mask[j] ? scale : 0 (a plain loop the compiler vectorises).
inline void expand_mask(const std::uint8_t* mask, std::size_t len, float scale, float* keep) noexcept {
  for (std::size_t j = 0; j < len; ++j) keep[j] = mask[j] ? scale : 0.0f;
}

}  // namespace layer_detail

/// Inverted dropout (training mode), as torch: y = x * noise with
/// noise = mask / (1-p), mask[i] = 1 with probability 1-p, else 0.
/// Element i's decision is a pure function of (seed, i) -- half of the
/// 64-bit splitmix64 output number i/2 of a stream keyed by the seed -- so
/// results do not depend on the thread count or on how the range is split.
/// p >= 1 drops everything (y = x * 0, as torch); p <= 0 keeps everything.
/// y may alias x.
inline void dropout_forward(std::size_t size, const float* x, float* y, std::uint8_t* mask, float p,
                            std::uint64_t seed) {
  using namespace layer_detail;
  const bool all = !(p < 1.0f);  // p >= 1 (or NaN): drop everything
  const float drop_p = all ? 1.0f : p > 0.0f ? p : 0.0f;
  // drop element i iff its 32 random bits are < threshold: probability threshold / 2^32 ~= p.
  // (p < 1 here, so p * 2^32 < 2^32; p >= 1 is handled separately below)
  const std::uint32_t threshold32 = all ? std::uint32_t{0} : dropout_rng::threshold(drop_p);
  const float scale = all ? 0.0f : 1.0f / (1.0f - drop_p);
  const std::uint64_t key = dropout_rng::key(seed);  // engine/random.hpp: the same bits on every backend
  chunked(size, elementwise_grain / 4, [&](std::size_t b, std::size_t e) {
    const std::uint32_t thr = threshold32;  // locals: the uint8_t stores below may alias the closure
    const std::uint64_t k64 = key;
    alignas(64) float keep[dropout_block];
    alignas(64) std::uint64_t words[dropout_block / 2 + 1];
    alignas(64) std::uint32_t halves[dropout_block + 2];
    for (std::size_t b0 = b; b0 < e; b0 += dropout_block) {
      const std::size_t e0 = std::min(e, b0 + dropout_block);
      // 64-bit words j0 .. j1-1 cover elements 2*j0 .. 2*j1-1 (low half = even element)
      const std::size_t j0 = b0 >> 1, j1 = (e0 + 1) >> 1;
      for (std::size_t j = j0; j < j1; ++j) words[j - j0] = dropout_rng::bits(k64, j);  // vectorisable
      if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(halves, words, (j1 - j0) * sizeof(std::uint64_t));
      } else {
        for (std::size_t j = 0; j < j1 - j0; ++j) {
          halves[2 * j] = static_cast<std::uint32_t>(words[j]);
          halves[2 * j + 1] = static_cast<std::uint32_t>(words[j] >> 32);
        }
      }
      const std::uint32_t* h = halves + (b0 & 1);
      std::uint8_t* mb = mask + b0;
      if (all)
        std::memset(mb, 0, e0 - b0);
      else
        for (std::size_t k = 0; k < e0 - b0; ++k) mb[k] = static_cast<std::uint8_t>(h[k] >= thr);
      expand_mask(mask + b0, e0 - b0, scale, keep);
      mul_block(x + b0, keep, e0 - b0, y + b0);
    }
  });
}

/// dx = dy * mask / (1-p) (dy * 0 when p >= 1). dx may alias dy.
inline void dropout_backward(std::size_t size, const std::uint8_t* mask, float p, const float* dy, float* dx) {
  using namespace layer_detail;
  const bool all = !(p < 1.0f);
  const float scale = all ? 0.0f : 1.0f / (1.0f - (p > 0.0f ? p : 0.0f));
  chunked(size, elementwise_grain, [&](std::size_t b, std::size_t e) {
    alignas(64) float keep[dropout_block];
    for (std::size_t b0 = b; b0 < e; b0 += dropout_block) {
      const std::size_t e0 = std::min(e, b0 + dropout_block);
      expand_mask(mask + b0, e0 - b0, all ? 0.0f : scale, keep);
      mul_block(dy + b0, keep, e0 - b0, dx + b0);
    }
  });
}

// ------------------------------------------------------------------- add --

/// y = a + b (y may alias a or b).
inline void add_forward(std::size_t size, const float* a, const float* b, float* y) {
  using namespace layer_detail;
  chunked(size, elementwise_grain, [&](std::size_t lo, std::size_t hi) {
    std::size_t i = lo;
    for (; i + vlen <= hi; i += vlen)
      (vf::load_unaligned(a + i) + vf::load_unaligned(b + i)).store_unaligned(y + i);
    for (; i < hi; ++i) y[i] = a[i] + b[i];
  });
}

/// dst += src.
inline void add_inplace(std::size_t size, const float* src, float* dst) {
  using namespace layer_detail;
  chunked(size, elementwise_grain, [&](std::size_t lo, std::size_t hi) { add_to(src + lo, dst + lo, hi - lo); });
}

STATICNET_CPU_KERNELS_END

STATICNET_CPU_DIAGNOSTICS_END
