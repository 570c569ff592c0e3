// staticnet/cpu/simd.hpp: the small vector helpers every CPU kernel shares
// (namespace cpu::layer_detail): the float batch type and its width, streaming
// stores, chunked parallel loops, sums and plane statistics in a fixed
// summation order, fills, adds, ReLU.
// Raw float pointers, xsimd::batch<float> of the default architecture.
#pragma once
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "config.hpp"
#include "parallel.hpp"

STATICNET_CPU_DIAGNOSTICS_BEGIN

STATICNET_CPU_KERNELS_BEGIN

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

}  // namespace layer_detail

STATICNET_CPU_KERNELS_END

STATICNET_CPU_DIAGNOSTICS_END
