// staticnet/cpu/conv.hpp: 2-D convolution kernels on raw NCHW float pointers.
//
// Semantics are exactly torch.nn.functional.conv2d (zero padding, stride,
// dilation, groups); weights are in PyTorch layout [c_out][c_in/groups][kh][kw].
// The functions work on a whole batch and parallelise internally with
// parallel_for; they never allocate: all temporary memory comes from the
// caller's `scratch`, which must hold conv_scratch_floats(g, max_batch, threads)
// floats with `threads >= num_threads()` at the time of the call.
//
//   const conv_geom g{.c_in = 16, .h_in = 32, .w_in = 32, .c_out = 32, .h_out = 32, .w_out = 32,
//                     .kh = 3, .kw = 3, .sh = 1, .sw = 1, .ph = 1, .pw = 1, .dh = 1, .dw = 1, .groups = 1};
//   std::vector<float> scratch(conv_scratch_floats(g, batch, num_threads()));
//   conv2d_forward(g, batch, x, w, bias, y, scratch.data());
//
// Three paths, picked from the geometry:
//   * depthwise (groups == c_in > 1, c_out a multiple of c_in): direct xsimd
//     kernels. Each input plane is zero-padded and split into sh x sw stride
//     phases, after which every tap of an output row is a contiguous run, so
//     any stride / dilation / padding vectorises, row by row straight into
//     the output. Backward-data is a correlation with the flipped kernel in
//     the same phase space; backward-weights dot products. 3x3 kernels with
//     stride 1 and vertical dilation 1 or 2 take row-blocked kernels
//     (conv_rows, dots_rows) that load each input vector once for all the
//     output rows that read it. Scratch per thread: the sh*sw phase planes,
//     one spread dy plane and, for strides above 1, the data gradient's
//     phase planes.
//   * pointwise (1x1, stride 1, no padding; any groups): gemm straight on the
//     input planes, no im2col.
//   * everything else: implicit im2col. Each image's input planes (of one
//     group) are copied once into zero-padded planes; the GEMM's packers then
//     gather the im2col matrix straight from them into the packed panels
//     (B(k, j) = padded[off(k) + base(j)]: contiguous runs per output row),
//     and the data gradient's columns are added from the GEMM's register
//     tiles straight into padded dx planes (col2im without the matrix), so
//     the column matrix is never written to memory (gemm_detail::blocked).
// Forward and backward-data split the work over images (depthwise: over
// (image, channel) planes; gemm paths: when there are fewer images than
// threads, also over output columns / input channels of one image).
// Backward-weights of the gemm paths splits over images: each thread sums its
// images into its own partial weight gradient (part of its scratch slot),
// and the partials are added in slot order at the end, so results depend on
// the thread count only through that summation order. conv2d_backward does
// backward-weights and backward-data in the same pass over the images, so each
// image's padded planes are built once for both. The depthwise kernels do the
// same per (image, channel) plane (dw_backward: the input's phase planes built
// and dy spread once for both), with per-thread partial weight gradients too.
// conv2d_forward can apply a ReLU to its output while it is in cache
// (conv_epilogue::relu), which the engine uses for conv -> ReLU, and take the
// output planes' statistics for a BatchNorm that follows (plane_stats).
//
// The kernels call parallel_for on the default pool; called from inside a
// parallel_for body they run serially on the calling thread (with the same
// scratch layout), so concurrent calls need separate scratch buffers.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <numeric>

#include <xsimd/xsimd.hpp>

#include "activation.hpp"
#include "gemm.hpp"
#include "parallel.hpp"

// The row kernels' helpers must inline, or their accumulators leave the registers.
#if defined(__GNUC__)
#define STATICNET_CONV_INLINE inline __attribute__((always_inline))
#else
#define STATICNET_CONV_INLINE inline
#endif

namespace staticnet::cpu {

/// The geometry of one 2-D convolution (per image; the batch size is a call argument).
struct conv_geom {
  int c_in, h_in, w_in, c_out, h_out, w_out, kh, kw, sh, sw, ph, pw, dh, dw, groups;
};

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

inline std::size_t dw_slot_floats(const conv_geom& g) noexcept;  // below, with the depthwise kernels

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

/// Floats of scratch one thread needs.
inline std::size_t slot_floats(const conv_geom& g) noexcept {
  if (is_depthwise(g)) return dw_slot_floats(g);
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

inline int part_begin(int total, int part, int parts) noexcept {
  return static_cast<int>(static_cast<long long>(total) * part / parts);
}

// ------------------------------------------------------------------ depthwise --
//
// Each input plane is zero-padded and split into sh x sw phase planes
// (phase (py, px) holds padded[i*sh + py][j*sw + px]), each hp x wp. Output
// (oy, ox) reads tap (ky, kx) at phase ((ky*dh) % sh, (kx*dw) % sw), position
// (oy + (ky*dh) / sh)*wp + ox + (kx*dw) / sw: each output row is, per tap, a
// contiguous run of a phase plane, for any stride, dilation and padding, so
// rows are computed straight into the output with one vector loop per row.
// The padding of the phase planes (and of the spread dy below) is the same
// for every plane: a thread zeroes its buffers once per call and then copies
// only the valid part of each plane into them.

struct dw_plan {
  // wp leaves at least the taps' reach of zero columns after each row's w_out
  // outputs rounded up to whole vectors, so row-wise vector loops over dy
  // (spread to stride wp) read zeros past w_out, never the next row.
  int hp, wp, phases;
  idx plane;  // floats of one phase plane
  idx flat;   // (h_out - 1) * wp + w_out: the outputs at row stride wp
  idx front;  // the largest in-phase tap offset
  explicit dw_plan(const conv_geom& g) noexcept
      : hp(g.h_out + (g.kh - 1) * g.dh / g.sh),
        wp((g.w_out + vw - 1) / vw * vw + (g.kw - 1) * g.dw / g.sw),
        phases(g.sh * g.sw),
        plane(static_cast<idx>(hp) * wp),
        flat(static_cast<idx>(g.h_out - 1) * wp + g.w_out),
        front(static_cast<idx>((g.kh - 1) * g.dh / g.sh) * wp + (g.kw - 1) * g.dw / g.sw) {}
  /// Phase planes, then a buffer for dy at row stride wp with `front` zeros before it.
  [[nodiscard]] std::size_t floats() const noexcept {
    return static_cast<std::size_t>(static_cast<idx>(phases) * plane + front + plane);
  }
  /// The data gradient's phase planes (dw_data_grad's G): strided kernels
  /// only; with stride 1 the data gradient goes straight into dx.
  [[nodiscard]] std::size_t grad_floats() const noexcept {
    return phases > 1 ? static_cast<std::size_t>(static_cast<idx>(phases) * plane) : 0;
  }
  [[nodiscard]] int phase_of(const conv_geom& g, int ky, int kx) const noexcept {
    return (ky * g.dh) % g.sh * g.sw + (kx * g.dw) % g.sw;
  }
  /// Offset of tap (ky, kx) inside its phase plane.
  [[nodiscard]] idx in_phase(const conv_geom& g, int ky, int kx) const noexcept {
    return static_cast<idx>(ky * g.dh / g.sh) * wp + kx * g.dw / g.sw;
  }
  /// Offset of tap (ky, kx) in the phase planes.
  [[nodiscard]] idx tap_offset(const conv_geom& g, int ky, int kx) const noexcept {
    return static_cast<idx>(phase_of(g, ky, kx)) * plane + in_phase(g, ky, kx);
  }
};

/// A depthwise thread's slot: dw_backward's (the largest): the input's phase
/// planes and the spread dy (dw_plan::floats), the data gradient's phase planes
/// (strided kernels only), a partial weight and bias gradient (round16 keeps
/// every slot 64-byte apart).
inline std::size_t dw_slot_floats(const conv_geom& g) noexcept {
  const dw_plan pl(g);
  const std::size_t taps = static_cast<std::size_t>(g.kh) * static_cast<std::size_t>(g.kw);
  return round16(pl.floats() + pl.grad_floats()) + round16(static_cast<std::size_t>(g.c_out) * taps) +
         round16(static_cast<std::size_t>(g.c_out));
}

inline constexpr int tap_chunk = 64;

/// For rows r in [0, rows): dst[r*dst_ld + i] = (acc ? dst[r*dst_ld + i] : init)
/// + sum_t wt[t] * src[r*src_ld + off[t] + i] for i in [0, len), then max(., 0)
/// when relu. The tap count is a compile-time constant T > 0 (weights
/// broadcast once, the tap loop unrolled, the sum split over two dependency
/// chains) or, with T == 0, the run-time `taps`.
template <int T>
inline void correlate_rows(float* dst, idx dst_ld, int rows, idx len, float init, bool acc, bool relu,
                           const float* src, idx src_ld, const idx* off, const float* wt, int taps) noexcept {
  constexpr int cap = T > 0 ? T : 1;
  batch w[cap];
  if constexpr (T > 0)
    for (int t = 0; t < T; ++t) w[t] = batch(wt[t]);
  const batch zero(0.0f);
  for (int row = 0; row < rows; ++row) {
    float* d = dst + static_cast<idx>(row) * dst_ld;
    const float* s = src + static_cast<idx>(row) * src_ld;
    auto block = [&](idx r) {
      batch a = acc ? batch::load_unaligned(d + r) : batch(init);
      if constexpr (T > 0) {
        batch b(0.0f);
#pragma GCC unroll 16
        for (int t = 0; t < T; ++t) {
          if (t % 2 == 0) a = xsimd::fma(w[t], batch::load_unaligned(s + (off[t] + r)), a);
          else b = xsimd::fma(w[t], batch::load_unaligned(s + (off[t] + r)), b);
        }
        a += b;
      } else {
        for (int t = 0; t < taps; ++t) a = xsimd::fma(batch(wt[t]), batch::load_unaligned(s + (off[t] + r)), a);
      }
      return relu ? xsimd::select(a < zero, zero, a) : a;  // NaN propagates, as layer_detail::relu
    };
    if (len < vw) {
      for (idx r = 0; r < len; ++r) {
        float v = acc ? d[r] : init;
        for (int t = 0; t < taps; ++t) v += wt[t] * s[off[t] + r];
        d[r] = relu && v < 0.0f ? 0.0f : v;
      }
      continue;
    }
    // The last partial block is a full block ending at len, computed first and
    // stored last (its base is read before any store, so accumulating stays right).
    const idx rem = len % vw;
    batch tail(0.0f);
    if (rem) tail = block(len - vw);
    idx r = 0;
    for (; r + 2 * vw <= len; r += 2 * vw) {
      const batch s0 = block(r), s1 = block(r + vw);
      s0.store_unaligned(d + r);
      s1.store_unaligned(d + r + vw);
    }
    for (; r + vw <= len; r += vw) block(r).store_unaligned(d + r);
    if (rem) tail.store_unaligned(d + (len - vw));
  }
}

/// correlate_rows with the common 3x3 tap count specialised.
inline void correlate(float* dst, idx dst_ld, int rows, idx len, float init, bool acc, bool relu, const float* src,
                      idx src_ld, const idx* off, const float* wt, int taps) noexcept {
  if (taps == 9) correlate_rows<9>(dst, dst_ld, rows, len, init, acc, relu, src, src_ld, off, wt, taps);
  else correlate_rows<0>(dst, dst_ld, rows, len, init, acc, relu, src, src_ld, off, wt, taps);
}

/// Keeps v in a register: without it the compiler folds a vector loaded once
/// and used by several FMAs back into one memory operand per FMA, which
/// doubles the loads conv_row_block exists to share (on AVX-512 most of them
/// are unaligned loads split over two cache lines).
inline batch in_register(batch v) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  auto r = static_cast<typename batch::register_type>(v);
  asm("" : "+v"(r));
  return batch(r);
#else
  return v;
#endif
}

/// For the column block [c, c + vw) of NR rows of a KH x KW correlation with
/// vertical dilation DH over rows of src at stride src_ld: loads each source
/// vector once (rows r + ky*DH, columns shifted by kx*dw) and calls
/// use(j, ky*KW + kx, v) for every output row j in [0, NR) and tap that reads
/// it. Fully unrolled, so j and the tap are constants in the caller's lambda.
template <int KH, int KW, int DH, int NR, class Use>
STATICNET_CONV_INLINE void for_each_tap_use(const float* src, idx src_ld, int dw, idx c, Use&& use) noexcept {
#pragma GCC unroll 16
  for (int ir = 0; ir < NR + (KH - 1) * DH; ++ir) {
    const float* row = src + static_cast<idx>(ir) * src_ld + c;
#pragma GCC unroll 16
    for (int kx = 0; kx < KW; ++kx) {
      const batch v = in_register(batch::load_unaligned(row + static_cast<idx>(kx) * dw));
#pragma GCC unroll 16
      for (int ky = 0; ky < KH; ++ky) {
        const int j = ir - ky * DH;
        if (j >= 0 && j < NR) use(j, ky * KW + kx, v);
      }
    }
  }
}

/// Rows r in [0, NR) of one column block [c, c + vw): dst[r*dst_ld + c + i] =
/// init + sum over (ky, kx) of wt[ky*KW + kx] * src[(r + ky*DH)*src_ld + kx*dw + c + i],
/// then max(., 0) when relu. Each source row vector is loaded once per kx and
/// used for every output row of the block that reads it, and each output row
/// sums over two dependency chains (even and odd ky), so 2 * NR FMA chains
/// run side by side.
template <int KH, int KW, int DH, int NR>
inline void conv_row_block(float* dst, idx dst_ld, const float* src, idx src_ld, int dw, idx c, const batch* w,
                           batch init, bool relu) noexcept {
  batch acc[NR][2];
#pragma GCC unroll 16
  for (int j = 0; j < NR; ++j) {
    acc[j][0] = init;
    acc[j][1] = batch(0.0f);
  }
  for_each_tap_use<KH, KW, DH, NR>(src, src_ld, dw, c, [&](int j, int t, const batch& v) {
    const int chain = t / KW % 2;  // even or odd ky
    acc[j][chain] = xsimd::fma(w[t], v, acc[j][chain]);
  });
  const batch zero(0.0f);
#pragma GCC unroll 16
  for (int j = 0; j < NR; ++j) {
    const batch sum = acc[j][0] + acc[j][1];
    const batch a = relu ? xsimd::select(sum < zero, zero, sum) : sum;  // NaN propagates
    a.store_unaligned(dst + static_cast<idx>(j) * dst_ld + c);
  }
}

/// The correlation of correlate_rows (without accumulation) for a KH x KW
/// kernel with vertical dilation DH over one phase plane: dst row r, column i
/// = init + sum wt[ky*KW + kx] * src[(r + ky*DH)*src_ld + kx*dw + i], for
/// len >= vw. Rows go four at a time (conv_row_block), columns a vector at a
/// time with the last block ending at len (overlapping the one before: both
/// write the same values).
template <int KH, int KW, int DH>
inline void conv_rows(float* dst, idx dst_ld, int rows, idx len, float init, bool relu, const float* src, idx src_ld,
                      int dw, const float* wt) noexcept {
  constexpr int NR = vw >= 16 ? 4 : 2;  // 2 * NR accumulators + KH * KW weights in registers
  batch w[KH * KW];
  for (int t = 0; t < KH * KW; ++t) w[t] = batch(wt[t]);
  const batch vinit(init);
  int r = 0;
  for (; r + NR <= rows; r += NR) {
    float* d = dst + static_cast<idx>(r) * dst_ld;
    const float* s = src + static_cast<idx>(r) * src_ld;
    for (idx c = 0; c + vw <= len; c += vw) conv_row_block<KH, KW, DH, NR>(d, dst_ld, s, src_ld, dw, c, w, vinit, relu);
    if (len % vw) conv_row_block<KH, KW, DH, NR>(d, dst_ld, s, src_ld, dw, len - vw, w, vinit, relu);
  }
  for (; r < rows; ++r) {
    float* d = dst + static_cast<idx>(r) * dst_ld;
    const float* s = src + static_cast<idx>(r) * src_ld;
    for (idx c = 0; c + vw <= len; c += vw) conv_row_block<KH, KW, DH, 1>(d, dst_ld, s, src_ld, dw, c, w, vinit, relu);
    if (len % vw) conv_row_block<KH, KW, DH, 1>(d, dst_ld, s, src_ld, dw, len - vw, w, vinit, relu);
  }
}

/// conv_rows for 3x3 kernels with vertical dilation 1 or 2 (the common
/// depthwise shapes); false (nothing done) for any other kernel.
inline bool conv_rows_3x3(const conv_geom& g, float* dst, idx dst_ld, int rows, idx len, float init, bool relu,
                          const float* src, idx src_ld, const float* wt) noexcept {
  if (g.kh != 3 || g.kw != 3 || len < vw) return false;
  if (g.dh == 1) conv_rows<3, 3, 1>(dst, dst_ld, rows, len, init, relu, src, src_ld, g.dw, wt);
  else if (g.dh == 2) conv_rows<3, 3, 2>(dst, dst_ld, rows, len, init, relu, src, src_ld, g.dw, wt);
  else return false;
  return true;
}

/// acc[ky*KW + kx] += sum over rows j in [0, NR) and i in [c, c + vw) of
/// d[j*d_ld + i] * p[(j + ky*DH)*p_ld + kx*dw + i]: the weight gradient's dot
/// products for NR rows of dy, each loaded once, with each input row vector
/// loaded once per kx and used for every tap and dy row that reads it.
template <int KH, int KW, int DH, int NR>
inline void dots_row_block(const float* d, idx d_ld, const float* p, idx p_ld, int dw, idx c, batch* acc) noexcept {
  batch dv[NR];
#pragma GCC unroll 16
  for (int j = 0; j < NR; ++j) dv[j] = in_register(batch::load_unaligned(d + static_cast<idx>(j) * d_ld + c));
  for_each_tap_use<KH, KW, DH, NR>(p, p_ld, dw, c,
                                   [&](int j, int t, const batch& v) { acc[t] = xsimd::fma(dv[j], v, acc[t]); });
}

/// out[ky*KW + kx] += sum over r < rows, i < len of D[r*ld + i] * P[(r + ky*DH)*ld + kx*dw + i],
/// for one phase plane P and dy D both at row stride ld (dw_plan::wp), D zero
/// from len up to the next vector boundary of each row.
template <int KH, int KW, int DH>
inline void dots_rows(const float* D, const float* P, idx ld, int rows, idx len, int dw, float* out) noexcept {
  constexpr int NR = 4;
  batch acc[KH * KW];
  for (int t = 0; t < KH * KW; ++t) acc[t] = batch(0.0f);
  int r = 0;
  for (; r + NR <= rows; r += NR) {
    const float* d = D + static_cast<idx>(r) * ld;
    const float* p = P + static_cast<idx>(r) * ld;
    for (idx c = 0; c < len; c += vw) dots_row_block<KH, KW, DH, NR>(d, ld, p, ld, dw, c, acc);
  }
  for (; r < rows; ++r) {
    const float* d = D + static_cast<idx>(r) * ld;
    const float* p = P + static_cast<idx>(r) * ld;
    for (idx c = 0; c < len; c += vw) dots_row_block<KH, KW, DH, 1>(d, ld, p, ld, dw, c, acc);
  }
  for (int t = 0; t < KH * KW; ++t) out[t] += xsimd::hadd(acc[t]);
}

/// dots_rows for 3x3 kernels with vertical dilation 1 or 2 (as conv_rows_3x3);
/// false (nothing done) for any other kernel.
inline bool dots_rows_3x3(const conv_geom& g, const float* D, const float* P, idx ld, float* out) noexcept {
  if (g.kh != 3 || g.kw != 3) return false;
  if (g.dh == 1) dots_rows<3, 3, 1>(D, P, ld, g.h_out, g.w_out, g.dw, out);
  else if (g.dh == 2) dots_rows<3, 3, 2>(D, P, ld, g.h_out, g.w_out, g.dw, out);
  else return false;
  return true;
}

/// Sum of a[0, n) * b[0, n).
inline float dot(const float* a, const float* b, idx n) noexcept {
  batch a0(0.0f), a1(0.0f);
  idx i = 0;
  for (; i + 2 * vw <= n; i += 2 * vw) {
    a0 = xsimd::fma(batch::load_unaligned(a + i), batch::load_unaligned(b + i), a0);
    a1 = xsimd::fma(batch::load_unaligned(a + i + vw), batch::load_unaligned(b + i + vw), a1);
  }
  for (; i + vw <= n; i += vw) a0 = xsimd::fma(batch::load_unaligned(a + i), batch::load_unaligned(b + i), a0);
  float s = xsimd::hadd(a0 + a1);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

/// out[t] += sum of d[0, n) * p[off[t] + (0, n)] for t in [0, T): T dot
/// products sharing one pass over d (each d vector loaded once).
template <int T>
inline void dots_shared(const float* d, const float* p, const idx* off, idx n, float* out) noexcept {
  batch acc[T];
  for (int t = 0; t < T; ++t) acc[t] = batch(0.0f);
  idx i = 0;
  for (; i + vw <= n; i += vw) {
    const batch dv = batch::load_unaligned(d + i);
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) acc[t] = xsimd::fma(dv, batch::load_unaligned(p + (off[t] + i)), acc[t]);
  }
  for (int t = 0; t < T; ++t) {
    float s = xsimd::hadd(acc[t]);
    for (idx j = i; j < n; ++j) s += d[j] * p[off[t] + j];
    out[t] += s;
  }
}

/// Copies the valid part of one input plane into its phase planes P. The
/// rest of P (the padding) is never written here: the caller zeroes P once.
inline void dw_fill_phases(const conv_geom& g, const dw_plan& pl, const float* in, float* P) noexcept {
  for (int py = 0; py < g.sh; ++py)
    for (int px = 0; px < g.sw; ++px) {
      float* Q = P + static_cast<idx>(py * g.sw + px) * pl.plane;
      const span cols = valid(pl.wp, g.sw, px - g.pw, g.w_in);
      const span rows = valid(pl.hp, g.sh, py - g.ph, g.h_in);
      for (int i = rows.lo; i < rows.hi; ++i) {
        float* row = Q + static_cast<idx>(i) * pl.wp;
        const idx base = static_cast<idx>(i * g.sh + py - g.ph) * g.w_in + px - g.pw;  // input index of j = 0
        if (g.sw == 1) {
          copy_row(in + (base + cols.lo), row + cols.lo, cols.hi - cols.lo);
        } else {
          for (int j = cols.lo; j < cols.hi; ++j) row[j] = in[base + static_cast<idx>(j) * g.sw];
        }
      }
    }
}

/// One output channel's dy plane into D at row stride wp, after `front`
/// floats. D's other floats (front, junk columns, rows past h_out) are never
/// written here: the caller zeroes D once.
inline void dw_fill_dy(const conv_geom& g, const dw_plan& pl, const float* dyp, float* D) noexcept {
  for (int oy = 0; oy < g.h_out; ++oy)
    copy_row(dyp + static_cast<idx>(oy) * g.w_out, D + pl.front + static_cast<idx>(oy) * pl.wp, g.w_out);
}

/// The tap offsets and weights of one chunk [t0, t0 + cnt) of output channel oc's taps.
inline int dw_chunk(const conv_geom& g, const dw_plan& pl, const float* wk, int t0, idx* off, float* wt) noexcept {
  const int cnt = std::min(tap_chunk, g.kh * g.kw - t0);
  for (int k = 0; k < cnt; ++k) {
    const int ky = (t0 + k) / g.kw, kx = (t0 + k) % g.kw;
    off[k] = pl.tap_offset(g, ky, kx);
    wt[k] = wk[t0 + k];
  }
  return cnt;
}

inline void dw_forward(const conv_geom& g, int n, const float* x, const float* w, const float* bias, float* y,
                       float* scratch, bool relu, float* stats) {
  const int mult = g.c_out / g.c_in;
  const dw_plan pl(g);
  const std::size_t slot = slot_floats(g);
  const idx in_plane = static_cast<idx>(g.h_in) * g.w_in, out_plane = static_cast<idx>(g.h_out) * g.w_out;
  const int taps = g.kh * g.kw;
  run_slots(n * g.c_out, [&](int t, int ib, int ie) {
    float* P = scratch + slot * static_cast<std::size_t>(t);
    fill(P, static_cast<std::size_t>(pl.phases * pl.plane), 0.0f);
    int built = -1;  // the (img * c_in + c) whose phases P holds
    idx off[tap_chunk];
    float wt[tap_chunk];
    for (int it = ib; it < ie; ++it) {
      const int img = it / g.c_out, oc = it % g.c_out, plane_id = img * g.c_in + oc / mult;
      if (plane_id != built) {
        dw_fill_phases(g, pl, x + static_cast<idx>(plane_id) * in_plane, P);
        built = plane_id;
      }
      float* out = y + static_cast<idx>(it) * out_plane;
      const float* wk = w + static_cast<idx>(oc) * taps;
      const float init = bias ? bias[oc] : 0.0f;
      if (pl.phases == 1 && conv_rows_3x3(g, out, g.w_out, g.h_out, g.w_out, init, relu, P, pl.wp, wk)) {
        // done
      } else {
        for (int t0 = 0; t0 < taps; t0 += tap_chunk) {
          const int cnt = dw_chunk(g, pl, wk, t0, off, wt);
          correlate(out, g.w_out, g.h_out, g.w_out, init, t0 > 0, relu && t0 + cnt == taps, P, pl.wp, off, wt, cnt);
        }
      }
      if (stats) plane_stats_of(out, out_plane, stats[it], stats[static_cast<idx>(n) * g.c_out + it]);
    }
  });
}

/// dx plane (+)= the data gradient of output channel oc from its dy in D
/// (dw_fill_dy). Stride 1: computed row by row straight into dx (the flipped
/// kernel over D); otherwise through G, the gradient of the phase planes,
/// which is then unphased into dx (only after the plane's last channel).
inline void dw_data_grad(const conv_geom& g, const dw_plan& pl, const float* wk, const float* D, float* G, float* dxp,
                         bool accumulate, bool last) noexcept {
  idx off[tap_chunk];
  float wt[tap_chunk];
  const int taps = g.kh * g.kw;
  if (pl.phases == 1) {
    // dx[iy][ix] = sum_t w[t] * D[front + (iy + ph)*wp + ix + pw - in_phase(t)]
    // = sum over (ky, kx) of the flipped kernel's w[2 - ky][2 - kx] * D[(iy + ph + ky*dh)*wp + ix + pw + kx*dw]
    // for 3x3 (front = 2*dh*wp + 2*dw).
    if (!accumulate && g.kh == 3 && g.kw == 3) {
      float flipped[9];
      for (int t = 0; t < 9; ++t) flipped[t] = wk[8 - t];
      if (conv_rows_3x3(g, dxp, g.w_in, g.h_in, g.w_in, 0.0f, false, D + static_cast<idx>(g.ph) * pl.wp + g.pw, pl.wp,
                        flipped))
        return;
    }
    for (int t0 = 0; t0 < taps; t0 += tap_chunk) {
      const int cnt = dw_chunk(g, pl, wk, t0, off, wt);
      for (int k = 0; k < cnt; ++k) off[k] = -off[k];
      correlate(dxp, g.w_in, g.h_in, g.w_in, 0.0f, accumulate || t0 > 0, false,
                D + pl.front + static_cast<idx>(g.ph) * pl.wp + g.pw, pl.wp, off, wt, cnt);
    }
    return;
  }
  // G_phase[r] (+)= sum over the phase's taps of w * D[front + r - in_phase(tap)]
  for (int ph = 0; ph < pl.phases; ++ph) {
    int cnt = 0;
    bool first = true;
    auto flush = [&] {
      correlate(G + static_cast<idx>(ph) * pl.plane, 0, 1, pl.plane, 0.0f, accumulate || !first, false,
                D + pl.front, 0, off, wt, cnt);
      first = false;
      cnt = 0;
    };
    for (int ky = 0; ky < g.kh; ++ky)
      for (int kx = 0; kx < g.kw; ++kx) {
        if (pl.phase_of(g, ky, kx) != ph) continue;
        off[cnt] = -pl.in_phase(g, ky, kx);
        wt[cnt] = wk[ky * g.kw + kx];
        if (++cnt == tap_chunk) flush();
      }
    if (cnt > 0 || first) flush();
  }
  if (!last) return;
  // dx plane = G at padded (iy + ph, ix + pw); zero where no output reaches.
  for (int iy = 0; iy < g.h_in; ++iy) {
    float* d = dxp + static_cast<idx>(iy) * g.w_in;
    const int pr = iy + g.ph, py = pr % g.sh, i = pr / g.sh;
    if (i >= pl.hp) {
      fill(d, g.w_in, 0.0f);
      continue;
    }
    const float* rows = G + static_cast<idx>(py * g.sw) * pl.plane + static_cast<idx>(i) * pl.wp;
    int px = g.pw % g.sw, j = g.pw / g.sw;
    for (int ix = 0; ix < g.w_in; ++ix) {
      d[ix] = j < pl.wp ? rows[static_cast<idx>(px) * pl.plane + j] : 0.0f;
      if (++px == g.sw) {
        px = 0;
        ++j;
      }
    }
  }
}

inline void dw_backward_data(const conv_geom& g, int n, const float* dy, const float* w, float* dx,
                             float* scratch) {
  const int mult = g.c_out / g.c_in;
  const dw_plan pl(g);
  const std::size_t slot = slot_floats(g);
  const idx in_plane = static_cast<idx>(g.h_in) * g.w_in, out_plane = static_cast<idx>(g.h_out) * g.w_out;
  const int taps = g.kh * g.kw;
  run_slots(n * g.c_in, [&](int t, int ib, int ie) {
    float* D = scratch + slot * static_cast<std::size_t>(t);  // front zeros, then dy at stride wp
    float* G = D + pl.front + pl.plane;                      // gradient of the phase planes (strided)
    fill(D, static_cast<std::size_t>(pl.front + pl.plane), 0.0f);
    for (int it = ib; it < ie; ++it) {
      const int img = it / g.c_in, c = it % g.c_in;
      for (int m = 0; m < mult; ++m) {
        const int oc = c * mult + m;
        dw_fill_dy(g, pl, dy + (static_cast<idx>(img) * g.c_out + oc) * out_plane, D);
        dw_data_grad(g, pl, w + static_cast<idx>(oc) * taps, D, G, dx + static_cast<idx>(it) * in_plane, m > 0,
                     m + 1 == mult);
      }
    }
  });
}

/// Weight (and bias) gradient, and the data gradient when dx is not null, in
/// one pass over the (image, channel) planes: per plane, the input's phase
/// planes are filled and each output channel's dy is spread once, for both the
/// weight gradient's dot products and the data gradient's correlation. Each
/// thread sums its planes into its own partial weight gradient; the partials
/// are added in slot order at the end. dw / dbias are overwritten.
inline void dw_backward(const conv_geom& g, int n, const float* x, const float* dy, const float* w, float* dx,
                        float* dw, float* dbias, float* scratch) {
  const int mult = g.c_out / g.c_in;
  const dw_plan pl(g);
  const std::size_t slot = slot_floats(g), phase_floats = static_cast<std::size_t>(pl.phases * pl.plane);
  const idx in_plane = static_cast<idx>(g.h_in) * g.w_in, out_plane = static_cast<idx>(g.h_out) * g.w_out;
  const int taps = g.kh * g.kw;
  const std::size_t dw_count = static_cast<std::size_t>(g.c_out) * static_cast<std::size_t>(taps);
  const int items = n * g.c_in, threads = std::min(num_threads(), items);
  // Slot: x's phase planes, dy spread, dx's phase planes, partial dw, partial dbias.
  auto partial_dw = [&](int t) {
    return t == 0 ? dw : scratch + slot * static_cast<std::size_t>(t) + round16(pl.floats() + pl.grad_floats());
  };
  auto partial_db = [&](int t) { return t == 0 ? dbias : partial_dw(t) + round16(dw_count); };
  // Nine-tap kernels keep all tap offsets at hand for dots_shared.
  std::array<idx, 9> off9{};
  if (taps == 9)
    for (int t = 0; t < 9; ++t) off9[static_cast<std::size_t>(t)] = pl.tap_offset(g, t / g.kw, t % g.kw);
  run_slots(items, [&](int t, int ib, int ie) {
    float* P = scratch + slot * static_cast<std::size_t>(t);
    float* D = P + phase_floats;
    float* G = D + pl.front + pl.plane;
    fill(P, phase_floats + static_cast<std::size_t>(pl.front + pl.plane), 0.0f);  // P and D
    float* dwt = partial_dw(t);
    float* dbt = dbias ? partial_db(t) : nullptr;
    fill(dwt, dw_count, 0.0f);
    if (dbt) fill(dbt, g.c_out, 0.0f);
    for (int it = ib; it < ie; ++it) {
      const int img = it / g.c_in, c = it % g.c_in;
      dw_fill_phases(g, pl, x + static_cast<idx>(it) * in_plane, P);
      for (int m = 0; m < mult; ++m) {
        const int oc = c * mult + m;
        const float* dyp = dy + (static_cast<idx>(img) * g.c_out + oc) * out_plane;
        if (dbt) dbt[oc] += sum(dyp, out_plane);
        dw_fill_dy(g, pl, dyp, D);
        float* dwp = dwt + static_cast<idx>(oc) * taps;
        if (pl.phases == 1 && dots_rows_3x3(g, D + pl.front, P, pl.wp, dwp)) {
          // done
        } else if (taps == 9) {
          dots_shared<9>(D + pl.front, P, off9.data(), pl.flat, dwp);
        } else {
          for (int k = 0; k < taps; ++k) dwp[k] += dot(D + pl.front, P + pl.tap_offset(g, k / g.kw, k % g.kw), pl.flat);
        }
        if (dx)
          dw_data_grad(g, pl, w + static_cast<idx>(oc) * taps, D, G, dx + static_cast<idx>(it) * in_plane, m > 0,
                       m + 1 == mult);
      }
    }
  });
  for (int t = 1; t < threads; ++t) {
    add_to(partial_dw(t), dw, dw_count);
    if (dbias) add_to(partial_db(t), dbias, static_cast<std::size_t>(g.c_out));
  }
}

// -------------------------------------------------------------- im2col + gemm --

/// pad = the zero-padded planes of channels [0, channels) of x (see padded_geom).
inline void pad_planes(const conv_geom& g, const padded_geom& pg, const float* x, int channels, float* pad) noexcept {
  const idx in_plane = static_cast<idx>(g.h_in) * g.w_in;
  for (int c = 0; c < channels; ++c) {
    float* dst = pad + c * pg.plane;
    const float* src = x + c * in_plane;
    fill(dst, static_cast<idx>(g.ph) * pg.wp, 0.0f);
    for (int r = 0; r < g.h_in; ++r) {
      float* row = dst + static_cast<idx>(r + g.ph) * pg.wp;
      fill(row, g.pw, 0.0f);
      copy_row(src + static_cast<idx>(r) * g.w_in, row + g.pw, g.w_in);
      fill(row + g.pw + g.w_in, g.pw, 0.0f);
    }
    fill(dst + static_cast<idx>(g.ph + g.h_in) * pg.wp, static_cast<idx>(g.ph) * pg.wp, 0.0f);
  }
}

/// dx planes of channels [0, channels) = the interior of the padded planes.
inline void unpad_planes(const conv_geom& g, const padded_geom& pg, const float* pad, int channels,
                         float* dx) noexcept {
  const idx in_plane = static_cast<idx>(g.h_in) * g.w_in;
  for (int c = 0; c < channels; ++c)
    for (int r = 0; r < g.h_in; ++r)
      copy_row(pad + c * pg.plane + static_cast<idx>(r + g.ph) * pg.wp + g.pw,
               dx + c * in_plane + static_cast<idx>(r) * g.w_in, g.w_in);
}

/// The im2col matrix of one group, never built: B(k, j) = pad[off(k) + base(j)]
/// for the tap row k = (c * kh + ky) * kw + kx and the output position
/// j = oy * w_out + ox, read from (or, for the data gradient, added into) the
/// zero-padded planes. The GEMM packers below gather it straight into the
/// packed panels, so the column matrix never goes through memory.
struct implicit_cols {
  conv_geom g;
  padded_geom pg;
  int taps;
  explicit implicit_cols(const conv_geom& geom) noexcept : g(geom), pg(geom), taps(geom.kh * geom.kw) {}

  [[nodiscard]] idx base(int j) const noexcept {
    return static_cast<idx>(j / g.w_out) * g.sh * pg.wp + static_cast<idx>(j % g.w_out) * g.sw;
  }
  /// Walks the tap rows k, k + 1, ... keeping off(k) (no divisions per step).
  struct tap_walker {
    const implicit_cols& ic;
    int ky, kx;
    idx off;
    tap_walker(const implicit_cols& c, int k) noexcept
        : ic(c), ky(k % c.taps / c.g.kw), kx(k % c.g.kw),
          off(static_cast<idx>(k / c.taps) * c.pg.plane + static_cast<idx>(ky) * c.g.dh * c.pg.wp +
              static_cast<idx>(kx) * c.g.dw) {}
    void next() noexcept {
      off += ic.g.dw;
      if (++kx < ic.g.kw) return;
      kx = 0;
      off += static_cast<idx>(ic.g.dh) * ic.pg.wp - static_cast<idx>(ic.g.kw) * ic.g.dw;
      if (++ky < ic.g.kh) return;
      ky = 0;
      off += ic.pg.plane - static_cast<idx>(ic.g.kh) * ic.g.dh * ic.pg.wp;
    }
  };
  struct run {
    int at, len;  // positions [j0 + at, j0 + at + len)
    idx base;     // base(j0 + at); the run is contiguous in the planes
  };
  /// Splits the positions [j0, j1) into runs contiguous in the padded planes
  /// (output row pieces when sw == 1, single positions otherwise); returns their count.
  int runs(int j0, int j1, run* out) const noexcept {
    int n = 0;
    for (int j = j0; j < j1; ++n) {
      const int len = g.sw == 1 ? std::min(g.w_out - j % g.w_out, j1 - j) : 1;
      out[n] = {j - j0, len, base(j)};
      j += len;
    }
    return n;
  }
};

/// pack_cols for a panel of R runs of vw to 2 vw positions each (output rows of
/// 16 to 32 positions): per tap row, all 2 R vectors are loaded before any is
/// stored (the first and last vector of each run, overlapping), so the loads
/// from the planes overlap each other instead of waiting behind the stores.
template <int R>
inline void pack_runs(const implicit_cols& ic, const float* pad, const implicit_cols::run* r, int p0, int kc,
                      float* dst) noexcept {
  constexpr int NR = gemm_detail::NR;
  idx first[R], last[R], at[R], end[R];
  for (int q = 0; q < R; ++q) {
    first[q] = r[q].base;
    last[q] = r[q].base + r[q].len - vw;
    at[q] = r[q].at;
    end[q] = r[q].at + r[q].len - vw;
  }
  implicit_cols::tap_walker k(ic, p0);
  for (int p = 0; p < kc; ++p, k.next()) {
    float* d = dst + static_cast<idx>(p) * NR;
    const float* src = pad + k.off;
    batch v[2 * R];
#pragma GCC unroll 8
    for (int q = 0; q < R; ++q) {
      v[2 * q] = batch::load_unaligned(src + first[q]);
      v[2 * q + 1] = batch::load_unaligned(src + last[q]);
    }
#pragma GCC unroll 8
    for (int q = 0; q < R; ++q) {
      v[2 * q].store_unaligned(d + at[q]);
      v[2 * q + 1].store_unaligned(d + end[q]);
    }
  }
}

/// gemm_detail::pack_b for op(B) = the implicit columns (K x positions): the
/// rows k [p0, p0+kc), the positions [j0, j0+nc), read from the planes at pad.
inline void pack_cols(const implicit_cols& ic, const float* pad, int j0, int nc, int p0, int kc, float* dst) noexcept {
  constexpr int NR = gemm_detail::NR, GW = gemm_detail::W;
  implicit_cols::run r[NR];
  for (int jr = 0; jr < nc; jr += NR, dst += static_cast<idx>(NR) * kc) {
    const int nr = std::min(NR, nc - jr), filled = (nr + GW - 1) / GW * GW;
    const int nruns = ic.runs(j0 + jr, j0 + jr + nr, r);
    if (nr == NR && nruns <= 3 &&
        std::all_of(r, r + nruns, [](const implicit_cols::run& u) { return u.len >= vw && u.len <= 2 * vw; })) {
      if (nruns == 1) pack_runs<1>(ic, pad, r, p0, kc, dst);
      else if (nruns == 2) pack_runs<2>(ic, pad, r, p0, kc, dst);
      else pack_runs<3>(ic, pad, r, p0, kc, dst);
      continue;
    }
    implicit_cols::tap_walker k(ic, p0);
    for (int p = 0; p < kc; ++p, k.next()) {
      float* d = dst + static_cast<idx>(p) * NR;
      const float* src = pad + k.off;
      for (int q = 0; q < nruns; ++q) copy_row(src + r[q].base, d + r[q].at, r[q].len);
      for (int c = nr; c < filled; ++c) d[c] = 0.0f;  // the lanes of a ragged last vector stay finite
    }
  }
}

/// gemm_detail::pack_b for op(B) = the implicit columns transposed (positions x
/// K, the weight gradient's operand): the positions [p0, p0+kc), the rows k
/// [j0, j0+nc). 8 x 8 transposes where 8 rows and 8 positions are whole.
inline void pack_cols_t(const implicit_cols& ic, const float* pad, int j0, int nc, int p0, int kc,
                        float* dst) noexcept {
  constexpr int NR = gemm_detail::NR, GW = gemm_detail::W;
  const float* rows[NR];
  implicit_cols::run r[gemm_detail::KC];
  const int nruns = ic.runs(p0, p0 + kc, r);
  for (int jr = 0; jr < nc; jr += NR, dst += static_cast<idx>(NR) * kc) {
    const int nr = std::min(NR, nc - jr), filled = (nr + GW - 1) / GW * GW;
    implicit_cols::tap_walker k(ic, j0 + jr);
    for (int c = 0; c < nr; ++c, k.next()) rows[c] = pad + k.off;
    for (int p = 0; p < kc; ++p)
      for (int c = nr; c < filled; ++c) dst[static_cast<idx>(p) * NR + c] = 0.0f;
    for (int q = 0; q < nruns; ++q) {
      const idx b = r[q].base;
      const int len = r[q].len;
      float* d = dst + static_cast<idx>(r[q].at) * NR;
      int c = 0;
      for (; c + 8 <= nr; c += 8) {
        int t = 0;
        for (; t + 8 <= len; t += 8) {
          const float* r8[8];
          for (int i = 0; i < 8; ++i) r8[i] = rows[c + i] + b + t;
          gemm_detail::transpose8x8_rows(r8, d + static_cast<idx>(t) * NR + c, NR);
        }
        for (; t < len; ++t)
          for (int i = 0; i < 8; ++i) d[static_cast<idx>(t) * NR + c + i] = rows[c + i][b + t];
      }
      for (; c < nr; ++c)
        for (int t = 0; t < len; ++t) d[static_cast<idx>(t) * NR + c] = rows[c][b + t];
    }
  }
}

/// dst[0, n) += src[0, n) for the short runs of the scatter below: a run of at
/// least a vector ends with a vector ending at n, overlapping the one before;
/// it is loaded and summed before the others are stored, so the overlapped
/// lanes are written twice with the same value (no scalar tail).
inline void add_run(const float* src, float* dst, int n) noexcept {
  if (n < vw) {
    for (int i = 0; i < n; ++i) dst[i] += src[i];
    return;
  }
  const batch last = batch::load_unaligned(dst + (n - vw)) + batch::load_unaligned(src + (n - vw));
  int i = 0;
  for (; i + vw <= n; i += vw)
    (batch::load_unaligned(dst + i) + batch::load_unaligned(src + i)).store_unaligned(dst + i);
  last.store_unaligned(dst + (n - vw));
}

/// The blocked product's sink for the data gradient: adds an mr x nr tile of
/// columns (rows k from i0, positions from j0) into the padded planes at pad
/// (col2im without the column matrix).
inline void scatter_cols(const implicit_cols& ic, float* pad, int i0, int mr, int j0, int nr,
                         const float* tile) noexcept {
  implicit_cols::run r[gemm_detail::NR];
  const int nruns = ic.runs(j0, j0 + nr, r);
  implicit_cols::tap_walker k(ic, i0);
  for (int i = 0; i < mr; ++i, k.next()) {
    const float* t = tile + static_cast<idx>(i) * gemm_detail::NR;
    for (int q = 0; q < nruns; ++q) add_run(t + r[q].at, pad + k.off + r[q].base, r[q].len);
  }
}

/// dW[M x K] (+)= dy[M x P] * columns^T (all P positions), the columns implicit in pad.
inline void gemm_dy_colsT(const implicit_cols& ic, const float* pad, int M, int K, int P, const float* dy, float* dw,
                          float* buf, bool accumulate) noexcept {
  gemm_detail::blocked(
      trans::no, M, K, P, dy, P,
      [&](int k0, int nc, int q0, int kc, float* dst) { pack_cols_t(ic, pad, k0, nc, q0, kc, dst); },
      [&](int i, int mc, int k0, int nc, int kc, const float* ap, const float* bp, bool beta) {
        gemm_detail::macro_kernel(mc, nc, kc, ap, bp, dw + static_cast<idx>(i) * K + k0, K, beta);
      },
      buf, accumulate);
}

/// The padded planes at pad += col2im(w^T * dy) for the tap rows [0, M) of w
/// (leading dimension ldw) and all positions.
inline void gemm_wT_dy_scatter(const implicit_cols& ic, float* pad, int M, const float* w, int ldw, int c_out,
                               const float* dy, int P, float* buf) noexcept {
  gemm_detail::blocked(
      trans::yes, M, P, c_out, w, ldw,
      [&](int j0, int nc, int p0, int kc, float* dst) { gemm_detail::pack_b(trans::no, dy, P, j0, nc, p0, kc, dst); },
      [&](int i, int mc, int j, int nc, int kc, const float* ap, const float* bp, bool) {
        auto sink = [&](int i0, int mr, int jj, int nr, const float* tile) {
          scatter_cols(ic, pad, i0, mr, jj, nr, tile);
        };
        gemm_detail::macro_kernel_sink(i, mc, j, nc, kc, ap, bp, sink);
      },
      buf, false);
}

/// The padded planes of `channels` input planes at x: x itself when
/// unpadded, else their copy built in pad.
inline const float* padded_input(const conv_geom& g, const implicit_cols& ic, const float* x, int channels,
                                 float* pad) noexcept {
  if (is_unpadded(g)) return x;
  pad_planes(g, ic.pg, x, channels, pad);
  return pad;
}

/// dx planes of `channels` channels (overwritten) = col2im(w^T * dy) for the
/// tap rows [0, M) of w (those channels' rows), through the padded planes in
/// pad (unpadded: straight into dx).
inline void data_grad(const conv_geom& g, const implicit_cols& ic, int channels, int M, const float* w, int ldw,
                      int c_out, const float* dy, int P, float* pad, float* dx, float* buf) noexcept {
  float* dst = is_unpadded(g) ? dx : pad;
  fill(dst, channels * ic.pg.plane, 0.0f);
  gemm_wT_dy_scatter(ic, dst, M, w, ldw, c_out, dy, P, buf);
  if (dst == pad) unpad_planes(g, ic.pg, pad, channels, dx);
}

inline void gemm_forward(const conv_geom& g, int n, const float* x, const float* w, const float* bias, float* y,
                         float* scratch, bool relu, float* stats) {
  const bool identity = is_identity_col(g);
  const int cg_in = g.c_in / g.groups, cg_out = g.c_out / g.groups;
  const int K = cg_in * g.kh * g.kw, P = g.h_out * g.w_out;
  const idx in_plane = static_cast<idx>(g.h_in) * g.w_in;
  const implicit_cols ic(g);
  const std::size_t slot = slot_floats(g), pf = pad_floats(g);
  const int parts = parts_per_image(n, g.h_out);
  run_slots(n * parts, [&](int t, int ib, int ie) {
    float* padx = scratch + slot * static_cast<std::size_t>(t);
    float* buf = padx + 2 * pf;
    for (int it = ib; it < ie; ++it) {
      const int img = it / parts, part = it % parts;
      const int r0 = part_begin(g.h_out, part, parts), r1 = part_begin(g.h_out, part + 1, parts);
      if (r1 <= r0) continue;
      const int p0 = r0 * g.w_out, cols = (r1 - r0) * g.w_out;
      for (int grp = 0; grp < g.groups; ++grp) {
        const float* xg = x + (static_cast<idx>(img) * g.c_in + static_cast<idx>(grp) * cg_in) * in_plane;
        float* yg = y + (static_cast<idx>(img) * g.c_out + static_cast<idx>(grp) * cg_out) * P + p0;
        const float* wg = w + static_cast<idx>(grp) * cg_out * K;
        if (bias)
          for (int oc = 0; oc < cg_out; ++oc) fill(yg + static_cast<idx>(oc) * P, cols, bias[grp * cg_out + oc]);
        if (identity) {
          gemm(trans::no, trans::no, cg_out, cols, K, wg, K, xg + p0, P, yg, P, bias != nullptr);
        } else {
          const float* src = padded_input(g, ic, xg, cg_in, padx);
          gemm_detail::blocked(
              trans::no, cg_out, cols, K, wg, K,
              [&](int j0, int nc, int q0, int kc, float* dst) { pack_cols(ic, src, p0 + j0, nc, q0, kc, dst); },
              [&](int i, int mc, int j, int nc, int kc, const float* ap, const float* bp, bool beta) {
                gemm_detail::macro_kernel(mc, nc, kc, ap, bp, yg + static_cast<idx>(i) * P + j, P, beta);
              },
              buf, bias != nullptr);
        }
        // This image's output planes are still in cache: apply the ReLU and
        // take their statistics now.
        if (stats && parts == 1) {
          for (int oc = 0; oc < cg_out; ++oc) {
            const idx plane = static_cast<idx>(img) * g.c_out + grp * cg_out + oc;
            float* yp = yg + static_cast<idx>(oc) * P;
            float &mean = stats[plane], &m2 = stats[static_cast<idx>(n) * g.c_out + plane];
            if (relu) layer_detail::plane_stats_relu_of(yp, P, mean, m2);
            else plane_stats_of(yp, P, mean, m2);
          }
        } else if (relu) {
          relu_rows(yg, cg_out, P, cols);
        }
      }
    }
  });
  if (stats && parts > 1)  // the images were split between threads: a pass of its own
    run_slots(n * g.c_out, [&](int, int pb, int pe) {
      for (int pl = pb; pl < pe; ++pl)
        plane_stats_of(y + static_cast<idx>(pl) * P, P, stats[pl], stats[static_cast<idx>(n) * g.c_out + pl]);
    });
}

inline void gemm_backward_data(const conv_geom& g, int n, const float* dy, const float* w, float* dx,
                               float* scratch) {
  const bool identity = is_identity_col(g);
  const int cg_in = g.c_in / g.groups, cg_out = g.c_out / g.groups;
  const int taps = g.kh * g.kw, K = cg_in * taps, P = g.h_out * g.w_out;
  const idx in_plane = static_cast<idx>(g.h_in) * g.w_in;
  const implicit_cols ic(g);
  const std::size_t slot = slot_floats(g), pf = pad_floats(g);
  const int parts = parts_per_image(n, g.c_in);
  run_slots(n * parts, [&](int t, int ib, int ie) {
    float* paddx = scratch + slot * static_cast<std::size_t>(t) + pf;
    float* buf = paddx + pf;
    for (int it = ib; it < ie; ++it) {
      const int img = it / parts, part = it % parts;
      const int ca = part_begin(g.c_in, part, parts), cb = part_begin(g.c_in, part + 1, parts);
      if (cb <= ca) continue;
      float* dxi = dx + static_cast<idx>(img) * g.c_in * in_plane;
      const float* dyi = dy + static_cast<idx>(img) * g.c_out * P;
      for (int grp = ca / cg_in; grp <= (cb - 1) / cg_in; ++grp) {
        const int lc0 = std::max(ca, grp * cg_in) - grp * cg_in, lc1 = std::min(cb, (grp + 1) * cg_in) - grp * cg_in;
        const int k0 = lc0 * taps, k1 = lc1 * taps;
        const float* wg = w + static_cast<idx>(grp) * cg_out * K;
        const float* dyg = dyi + static_cast<idx>(grp) * cg_out * P;
        float* dxg = dxi + static_cast<idx>(grp) * cg_in * in_plane;
        // columns[k][p] = sum_oc w[oc][k] * dy[oc][p] for the rows k of channels [lc0, lc1)
        if (identity) {
          gemm(trans::yes, trans::no, k1 - k0, P, cg_out, wg + k0, K, dyg, P, dxg + lc0 * in_plane, P, false);
          continue;
        }
        data_grad(g, ic, lc1 - lc0, k1 - k0, wg + k0, K, cg_out, dyg, P, paddx, dxg + lc0 * in_plane, buf);
      }
    }
  });
}

/// Weight (and bias) gradient, and the data gradient when dx is not null, in
/// one pass over the images: each thread takes a contiguous run of images and,
/// per image, pads its input planes once, adds dy * col^T (the columns packed
/// from those planes) into its own partial weight gradient, then adds
/// col2im(w^T * dy) into the padded dx planes from the GEMM's tiles. Thread 0's partial is dw
/// itself; the others are added to it at the end (in slot order, so the result
/// depends only on the thread count). dw / dbias are overwritten.
inline void gemm_backward(const conv_geom& g, int n, const float* x, const float* dy, const float* w, float* dx,
                          float* dw, float* dbias, float* scratch) {
  const bool identity = is_identity_col(g);
  const int cg_in = g.c_in / g.groups, cg_out = g.c_out / g.groups;
  const int K = cg_in * g.kh * g.kw, P = g.h_out * g.w_out;
  const idx in_plane = static_cast<idx>(g.h_in) * g.w_in;
  const implicit_cols ic(g);
  const std::size_t slot = slot_floats(g), pf = pad_floats(g), bf = pack_floats(g);
  const std::size_t dw_count = static_cast<std::size_t>(g.c_out) * static_cast<std::size_t>(K);
  const int threads = std::min(num_threads(), n);
  auto partial_dw = [&](int t) { return t == 0 ? dw : scratch + slot * static_cast<std::size_t>(t) + 2 * pf + bf; };
  auto partial_db = [&](int t) {
    return t == 0 ? dbias : scratch + slot * static_cast<std::size_t>(t) + 2 * pf + bf + round16(dw_count);
  };
  run_slots(n, [&](int t, int ib, int ie) {
    float* padx = scratch + slot * static_cast<std::size_t>(t);
    float* paddx = padx + pf;
    float* buf = paddx + pf;
    float* dwt = partial_dw(t);
    float* dbt = dbias ? partial_db(t) : nullptr;
    for (int img = ib; img < ie; ++img) {
      const float* dyi = dy + static_cast<idx>(img) * g.c_out * P;
      for (int grp = 0; grp < g.groups; ++grp) {
        const float* xg = x + (static_cast<idx>(img) * g.c_in + static_cast<idx>(grp) * cg_in) * in_plane;
        const float* dyg = dyi + static_cast<idx>(grp) * cg_out * P;
        const float* wg = w ? w + static_cast<idx>(grp) * cg_out * K : nullptr;
        float* dxg = dx ? dx + (static_cast<idx>(img) * g.c_in + static_cast<idx>(grp) * cg_in) * in_plane : nullptr;
        float* dwg = dwt + static_cast<idx>(grp) * cg_out * K;
        if (identity) {
          // dw[oc][k] (+)= sum_p dy[oc][p] * x[k][p]; dx[k][p] = sum_oc w[oc][k] * dy[oc][p]
          gemm(trans::no, trans::yes, cg_out, K, P, dyg, P, xg, P, dwg, K, img > ib);
          if (dxg) gemm(trans::yes, trans::no, K, P, cg_out, wg, K, dyg, P, dxg, P, false);
          continue;
        }
        gemm_dy_colsT(ic, padded_input(g, ic, xg, cg_in, padx), cg_out, K, P, dyg, dwg, buf, img > ib);
        if (dxg) data_grad(g, ic, cg_in, K, wg, K, cg_out, dyg, P, paddx, dxg, buf);
      }
      if (dbt)
        for (int oc = 0; oc < g.c_out; ++oc) {
          const float s = sum(dyi + static_cast<idx>(oc) * P, P);
          dbt[oc] = img > ib ? dbt[oc] + s : s;
        }
    }
  });
  for (int t = 1; t < threads; ++t) {
    add_to(partial_dw(t), dw, dw_count);
    if (dbias) add_to(partial_db(t), dbias, static_cast<std::size_t>(g.c_out));
  }
}

}  // namespace conv_detail

/// What conv2d_forward applies to its output while it is still in cache.
enum class conv_epilogue { none, relu };

/// Floats of scratch the caller provides to the functions below (for all
/// threads together). `threads` must be at least num_threads() at call time;
/// the need does not depend on the batch size (max_batch is accepted for the
/// engine's convenience).
inline std::size_t conv_scratch_floats(const conv_geom& g, [[maybe_unused]] int max_batch, int threads) {
  return conv_detail::slot_floats(g) * static_cast<std::size_t>(std::max(1, threads));
}

/// y[n][c_out][h_out][w_out] = conv2d(x[n][c_in][h_in][w_in], w, bias); bias may
/// be null. With conv_epilogue::relu, y = max(conv2d(...), 0) (the ReLU fused).
/// plane_stats (nullable, 2 * n * c_out floats): also writes the statistics of
/// every output plane (after the ReLU) as batchnorm_forward_train takes them
/// (the means of the n * c_out planes, then their sums of squared
/// deviations), computed while each image's output is still in cache.
inline void conv2d_forward(const conv_geom& g, int n, const float* x, const float* w, const float* bias, float* y,
                           float* scratch, conv_epilogue epilogue = conv_epilogue::none,
                           float* plane_stats = nullptr) {
  if (n <= 0) return;
  const bool relu = epilogue == conv_epilogue::relu;
  if (conv_detail::is_depthwise(g))
    conv_detail::dw_forward(g, n, x, w, bias, y, scratch, relu, plane_stats);
  else
    conv_detail::gemm_forward(g, n, x, w, bias, y, scratch, relu, plane_stats);
}

/// dx (overwritten) = the gradient of sum(y * dy) with respect to x.
inline void conv2d_backward_data(const conv_geom& g, int n, const float* dy, const float* w, float* dx,
                                 float* scratch) {
  if (n <= 0) return;
  if (conv_detail::is_depthwise(g))
    conv_detail::dw_backward_data(g, n, dy, w, dx, scratch);
  else
    conv_detail::gemm_backward_data(g, n, dy, w, dx, scratch);
}

/// dw (c_out x c_in/groups x kh x kw) and dbias (c_out, nullable) are OVERWRITTEN
/// with the gradient of sum(y * dy) summed over the batch.
inline void conv2d_backward_weights(const conv_geom& g, int n, const float* x, const float* dy, float* dw,
                                    float* dbias, float* scratch) {
  if (n <= 0) {
    std::fill(dw, dw + static_cast<std::ptrdiff_t>(g.c_out) * (g.c_in / g.groups) * g.kh * g.kw, 0.0f);
    if (dbias) std::fill(dbias, dbias + g.c_out, 0.0f);
    return;
  }
  if (conv_detail::is_depthwise(g))
    conv_detail::dw_backward(g, n, x, dy, nullptr, nullptr, dw, dbias, scratch);
  else
    conv_detail::gemm_backward(g, n, x, dy, nullptr, nullptr, dw, dbias, scratch);
}

/// Both backward passes at once: dw / dbias as conv2d_backward_weights, and dx
/// (nullable: skipped) as conv2d_backward_data. For depthwise convolutions, and
/// for the GEMM paths with at least one image per thread, this is a single
/// pass over the batch that prepares each image's input once for both.
inline void conv2d_backward(const conv_geom& g, int n, const float* x, const float* dy, const float* w, float* dx,
                            float* dw, float* dbias, float* scratch) {
  if (n > 0 && conv_detail::is_depthwise(g)) {
    conv_detail::dw_backward(g, n, x, dy, w, dx, dw, dbias, scratch);
    return;
  }
  if (n > 0 && (n >= num_threads() || !dx)) {
    conv_detail::gemm_backward(g, n, x, dy, w, dx, dw, dbias, scratch);
    return;
  }
  conv2d_backward_weights(g, n, x, dy, dw, dbias, scratch);
  if (dx) conv2d_backward_data(g, n, dy, w, dx, scratch);
}

}  // namespace staticnet::cpu

#undef STATICNET_CONV_INLINE
