// staticnet/cpu/conv_common.hpp: what the convolution paths share: the
// geometry (conv_geom), the scratch-size pieces, valid output ranges, short
// row copies and the per-thread slot runner. See conv.hpp for the paths.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <numeric>

#include "config.hpp"
#include "gemm.hpp"
#include "parallel.hpp"
#include "kernel_types.hpp"
#include "simd.hpp"

STATICNET_CPU_KERNELS_BEGIN


namespace conv_detail {

using batch = xsimd::batch<float>;
inline constexpr int vw = static_cast<int>(batch::size);
using idx = std::ptrdiff_t;

/// Depthwise: every group has exactly one input channel.
inline bool is_depthwise(const conv_geom& g) noexcept { return g.groups == g.c_in && g.c_in > 1; }

/// The im2col matrix of every group is its input planes themselves.
inline bool is_identity_col(const conv_geom& g) noexcept {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && g.h_out == g.h_in &&
         g.w_out == g.w_in;
}

/// No padding: the input planes (and dx's) are their own padded planes.
inline bool is_unpadded(const conv_geom& g) noexcept { return g.ph == 0 && g.pw == 0; }

inline std::size_t round16(std::size_t n) noexcept { return (n + 15) / 16 * 16; }

/// The zero-padded copy of one group's input planes that the implicit im2col
/// reads (and the data gradient's scatter writes): h_in + 2 ph rows of w_in + 2 pw floats per channel, which
/// holds every tap of every output, so no bounds checks are needed.
struct padded_geom {
  int hp, wp;
  idx plane;
  explicit padded_geom(const conv_geom& g) noexcept
      : hp(g.h_in + 2 * g.ph), wp(g.w_in + 2 * g.pw), plane(static_cast<idx>(hp) * wp) {}
  std::size_t floats(const conv_geom& g) const noexcept {
    return round16(static_cast<std::size_t>(g.c_in / g.groups) * static_cast<std::size_t>(plane));
  }
};

/// Floats of one thread's padded-plane buffer (two of them per slot: x and dx; none
/// without padding, where the planes themselves serve).
inline std::size_t pad_floats(const conv_geom& g) noexcept {
  return is_identity_col(g) || is_unpadded(g) ? 0 : padded_geom(g).floats(g);
}

/// Floats of one thread's partial weight (and bias) gradient.
inline std::size_t partial_floats(const conv_geom& g) noexcept {
  const std::size_t K = static_cast<std::size_t>(g.c_in / g.groups) * static_cast<std::size_t>(g.kh) *
                        static_cast<std::size_t>(g.kw);
  return round16(static_cast<std::size_t>(g.c_out) * K) + round16(static_cast<std::size_t>(g.c_out));
}

/// Floats of one thread's GEMM packing buffer (0 for 1x1 convolutions, whose
/// products go through gemm() and its own per-thread buffer).
inline std::size_t pack_floats(const conv_geom& g) noexcept {
  if (is_identity_col(g)) return 0;
  const int K = (g.c_in / g.groups) * g.kh * g.kw, P = g.h_out * g.w_out;
  return round16(gemm_detail::pack_floats(std::max(K, P)));
}

/// Floats of scratch one thread of the GEMM paths needs.
inline std::size_t gemm_slot_floats(const conv_geom& g) noexcept {
  return 2 * pad_floats(g) + pack_floats(g) + partial_floats(g);
}

struct span {
  int lo, hi;
};

/// The o in [0, count) with 0 <= o * step + off < limit (step > 0), a contiguous range.
inline span valid(int count, int step, int off, int limit) noexcept {
  int lo = off >= 0 ? 0 : (-off + step - 1) / step;
  const int last = limit - 1 - off;
  int hi = last < 0 ? 0 : last / step + 1;
  lo = std::min(lo, count);
  hi = std::clamp(hi, lo, count);
  return {lo, hi};
}

// Element-wise helpers shared with the other layers (inline vector loops:
// the rows and pads here are tens of floats, where a library call costs more
// than the work).
using layer_detail::add_to;  // add_to(src, dst, n): dst += src
using layer_detail::fill;
using layer_detail::plane_stats_of;
using layer_detail::sum;

/// n floats from src to dst (short rows: an inline vector loop, not a library
/// call; a row of a vector or more ends with a vector ending at n, overlapping
/// the one before, instead of a scalar tail). src and dst must not overlap.
inline void copy_row(const float* src, float* dst, idx n) noexcept {
  if (n < vw) {
    for (idx i = 0; i < n; ++i) dst[i] = src[i];
    return;
  }
  idx i = 0;
  for (; i + vw <= n; i += vw) batch::load_unaligned(src + i).store_unaligned(dst + i);
  if (i < n) batch::load_unaligned(src + (n - vw)).store_unaligned(dst + (n - vw));
}

/// Rows r in [0, rows) of len floats at y + r * ld: max(v, 0) in place (NaN propagates).
inline void relu_rows(float* y, int rows, idx ld, idx len) noexcept {
  for (int r = 0; r < rows; ++r) layer_detail::relu(y + static_cast<idx>(r) * ld, y + static_cast<idx>(r) * ld, len);
}

/// Runs f(slot, item_begin, item_end) on min(num_threads(), items) threads, slot in [0, threads).
template <class F>
void run_slots(int items, F&& f) {
  if (items <= 0) return;
  const int threads = std::min(num_threads(), items);
  parallel_for(0, threads, [&](int tb, int te) {
    for (int t = tb; t < te; ++t)
      f(t, static_cast<int>(static_cast<long long>(items) * t / threads),
        static_cast<int>(static_cast<long long>(items) * (t + 1) / threads));
  });
}

/// How many pieces to cut each image into so that n * pieces spreads evenly over the threads.
inline int parts_per_image(int n, int limit) {
  const int threads = num_threads();
  if (n <= 0 || threads <= 1 || n >= 4 * threads || n % threads == 0) return 1;
  return std::clamp(threads / std::gcd(n, threads), 1, std::max(1, limit));
}

/// stats = the statistics of the n * c_out output planes of y (batchnorm_forward_train's
/// plane_stats: the means, then the sums of squared deviations), in a pass of its own.
inline void plane_stats_pass(const conv_geom& g, int n, const float* y, float* stats) {
  const idx P = static_cast<idx>(g.h_out) * g.w_out;
  run_slots(n * g.c_out, [&](int, int pb, int pe) {
    for (int pl = pb; pl < pe; ++pl)
      plane_stats_of(y + static_cast<idx>(pl) * P, P, stats[pl], stats[static_cast<idx>(n) * g.c_out + pl]);
  });
}

inline int part_begin(int total, int part, int parts) noexcept {
  return static_cast<int>(static_cast<long long>(total) * part / parts);
}

}  // namespace conv_detail
STATICNET_CPU_KERNELS_END
