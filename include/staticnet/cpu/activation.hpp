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
// This header also holds the small helpers (namespace layer_detail) shared
// by the other layer kernels in this directory.
#pragma once
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "parallel.hpp"

// g++ 12 reports -Wuninitialized inside its own AVX-512 intrinsic headers
// (_mm512_undefined_* self-initialisation, GCC PR 105593) when xsimd's exp,
// log or integer conversions are instantiated; silence that here only. The
// push comes before the xsimd include so that, when this header is the first
// to include xsimd, out-of-line instantiations (-O0/-O1) are covered too.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <xsimd/xsimd.hpp>

namespace staticnet::cpu {

namespace layer_detail {

using vf = xsimd::batch<float>;
inline constexpr std::size_t vlen = vf::size;

/// Whether store_streaming bypasses the caches on this build (AVX-512 / AVX).
inline constexpr bool can_stream = XSIMD_WITH_AVX512F || XSIMD_WITH_AVX;

/// Stores v at p (aligned to the vector size) with a non-temporal store where
/// the build can: a pass that writes a tensor far larger than the caches saves
/// the read for ownership of every line. stream_fence() orders these stores
/// before other threads read them (call it at the end of each parallel chunk).
inline void store_streaming(const vf& v, float* p) noexcept {
#if XSIMD_WITH_AVX512F
  _mm512_stream_ps(p, v);
#elif XSIMD_WITH_AVX
  _mm256_stream_ps(p, v);
#else
  v.store_aligned(p);
#endif
}
inline void stream_fence() noexcept {
#if XSIMD_WITH_SSE2
  _mm_sfence();
#endif
}
/// Whether a pass may stream its n-float output at y: big enough to be
/// evicted anyway, and every plane of hw floats vector-aligned.
inline bool stream_output(const float* y, std::size_t n, std::size_t hw) noexcept {
  return can_stream && n * sizeof(float) >= (std::size_t{8} << 20) && hw % vlen == 0 &&
         reinterpret_cast<std::uintptr_t>(y) % (vlen * sizeof(float)) == 0;
}

/// Runs fn(b, e) over [0, n): serially when n < 2*grain, otherwise split into
/// at most num_threads() contiguous chunks of at least `grain` items.
template <class F>
inline void chunked(std::size_t n, std::size_t grain, F&& fn) {
  if (n == 0) return;
  grain = std::max<std::size_t>(grain, 1);
  std::size_t chunks = std::min<std::size_t>(n / grain, static_cast<std::size_t>(num_threads()));
  if (chunks <= 1) {
    fn(std::size_t{0}, n);
    return;
  }
  parallel_for(0, static_cast<int>(chunks), [&](int cb, int ce) {
    fn(n * static_cast<std::size_t>(cb) / chunks, n * static_cast<std::size_t>(ce) / chunks);
  });
}

/// Elements per parallel chunk for cheap streaming element-wise kernels.
inline constexpr std::size_t elementwise_grain = std::size_t{1} << 16;

/// The sum of the vectors vec(i) at i = 0, vlen, ... and the scalars one(i)
/// after them, over four vector accumulators (four dependency chains: a plane
/// of a few hundred floats is summed at the adder's throughput, not its
/// latency). sum and plane_stats_relu_of share this order, hence their bits.
template <class Vec, class One>
inline float sum_in_order(std::size_t n, Vec&& vec, One&& one) noexcept {
  vf a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f);
  std::size_t i = 0;
  for (; i + 4 * vlen <= n; i += 4 * vlen) {
    a0 += vec(i);
    a1 += vec(i + vlen);
    a2 += vec(i + 2 * vlen);
    a3 += vec(i + 3 * vlen);
  }
  for (; i + vlen <= n; i += vlen) a0 += vec(i);
  float s = xsimd::hadd((a0 + a1) + (a2 + a3));
  for (; i < n; ++i) s += one(i);
  return s;
}

/// Sum of p[0, n).
inline float sum(const float* p, std::size_t n) noexcept {
  return sum_in_order(n, [p](std::size_t i) { return vf::load_unaligned(p + i); }, [p](std::size_t i) { return p[i]; });
}

/// max over p[0, n), n >= 1 (NaN propagates through the subsequent exp-sum).
inline float max(const float* p, std::size_t n) noexcept {
  float m = -std::numeric_limits<float>::infinity();
  std::size_t i = 0;
  if (n >= vlen) {
    vf a = vf::load_unaligned(p);
    for (i = vlen; i + vlen <= n; i += vlen) a = xsimd::max(a, vf::load_unaligned(p + i));
    alignas(64) float tmp[vlen];
    a.store_unaligned(tmp);
    for (std::size_t l = 0; l < vlen; ++l) m = std::max(m, tmp[l]);
  }
  for (; i < n; ++i) m = std::max(m, p[i]);
  return m;
}

/// sum_i exp(p[i] - shift).
inline float sum_exp(const float* p, std::size_t n, float shift) noexcept {
  const vf vs(shift);
  vf a(0.0f);
  std::size_t i = 0;
  for (; i + vlen <= n; i += vlen) a += xsimd::exp(vf::load_unaligned(p + i) - vs);
  float s = xsimd::hadd(a);
  for (; i < n; ++i) s += std::exp(p[i] - shift);
  return s;
}

/// y[i] = x[i] * a + b.
inline void affine(const float* x, std::size_t n, float a, float b, float* y, bool stream = false) noexcept {
  const vf va(a), vb(b);
  std::size_t i = 0;
  if (stream)
    for (; i + vlen <= n; i += vlen) store_streaming(xsimd::fma(vf::load_unaligned(x + i), va, vb), y + i);
  for (; i + vlen <= n; i += vlen) xsimd::fma(vf::load_unaligned(x + i), va, vb).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = std::fma(x[i], a, b);
}

/// y[i] = value.
inline void fill(float* y, std::size_t n, float value) noexcept {
  const vf v(value);
  std::size_t i = 0;
  for (; i + vlen <= n; i += vlen) v.store_unaligned(y + i);
  for (; i < n; ++i) y[i] = value;
}

/// sum((p[i] - mean)^2), over four vector accumulators (as sum).
inline float sum_sq_dev(const float* p, std::size_t n, float mean) noexcept {
  const vf vm(mean);
  vf a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f);
  std::size_t i = 0;
  for (; i + 4 * vlen <= n; i += 4 * vlen) {
    const vf d0 = vf::load_unaligned(p + i) - vm, d1 = vf::load_unaligned(p + i + vlen) - vm;
    const vf d2 = vf::load_unaligned(p + i + 2 * vlen) - vm, d3 = vf::load_unaligned(p + i + 3 * vlen) - vm;
    a0 = xsimd::fma(d0, d0, a0);
    a1 = xsimd::fma(d1, d1, a1);
    a2 = xsimd::fma(d2, d2, a2);
    a3 = xsimd::fma(d3, d3, a3);
  }
  for (; i + vlen <= n; i += vlen) {
    const vf d = vf::load_unaligned(p + i) - vm;
    a0 = xsimd::fma(d, d, a0);
  }
  float s = xsimd::hadd((a0 + a1) + (a2 + a3));
  for (; i < n; ++i) s += (p[i] - mean) * (p[i] - mean);
  return s;
}

/// A plane's mean and sum of squared deviations from it (BatchNorm's per-plane
/// statistics, merged per channel with Chan's formula; two passes, the second
/// from cache, so no cancellation).
inline void plane_stats_of(const float* p, std::size_t n, float& mean, float& m2) noexcept {
  mean = n ? sum(p, n) / static_cast<float>(n) : 0.0f;
  m2 = sum_sq_dev(p, n, mean);
}

/// relu then plane_stats_of in two passes instead of three: the first applies
/// max(v, 0) in place and sums what it stores (sum's order over the ReLU's
/// output, so the same bits as relu then plane_stats_of).
inline void plane_stats_relu_of(float* p, std::size_t n, float& mean, float& m2) noexcept {
  const vf zero(0.0f);
  const float s = sum_in_order(
      n,
      [&](std::size_t i) {
        const vf v = vf::load_unaligned(p + i), y = xsimd::select(v < zero, zero, v);  // NaN propagates
        y.store_unaligned(p + i);
        return y;
      },
      [p](std::size_t i) { return p[i] = p[i] < 0.0f ? 0.0f : p[i]; });
  mean = n ? s / static_cast<float>(n) : 0.0f;
  m2 = sum_sq_dev(p, n, mean);
}

/// dst[i] += src[i].
inline void add_to(const float* src, float* dst, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + vlen <= n; i += vlen)
    (vf::load_unaligned(dst + i) + vf::load_unaligned(src + i)).store_unaligned(dst + i);
  for (; i < n; ++i) dst[i] += src[i];
}

/// y[i] = max(x[i], 0) over [0, n), one thread (NaN propagates, as torch.relu; x == y is allowed).
inline void relu(const float* x, float* y, std::size_t n) noexcept {
  const vf zero(0.0f);
  std::size_t i = 0;
  for (; i + vlen <= n; i += vlen) {
    const vf v = vf::load_unaligned(x + i);
    xsimd::select(v < zero, zero, v).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

/// splitmix64 finaliser.
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Counter-based random 64 bits for element `index` of the stream `seed`
/// (the index-th output of splitmix64 started from a mixed seed).
constexpr std::uint64_t dropout_bits(std::uint64_t key, std::uint64_t index) noexcept {
  return mix64(key + (index + 1) * 0x9E3779B97F4A7C15ull);
}

}  // namespace layer_detail

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
  const auto threshold32 = all ? std::uint32_t{0}
                               : static_cast<std::uint32_t>(static_cast<double>(drop_p) * 4294967296.0);
  const float scale = all ? 0.0f : 1.0f / (1.0f - drop_p);
  const std::uint64_t key = mix64(seed ^ 0x6A09E667F3BCC909ull);
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
      for (std::size_t j = j0; j < j1; ++j) words[j - j0] = dropout_bits(k64, j);  // vectorisable
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

}  // namespace staticnet::cpu

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
