// staticnet/cpu/conv_depthwise.hpp: the depthwise convolution path (groups ==
// c_in > 1): direct xsimd kernels over zero-padded stride-phase planes, with
// row-blocked 3x3 kernels (conv_rows, dots_rows); forward, data and weight
// gradients. Called through conv.hpp's conv2d_* functions.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <numeric>

#include "config.hpp"
#include "gemm.hpp"
#include "parallel.hpp"
#include "simd.hpp"

#include "conv_common.hpp"

STATICNET_CPU_KERNELS_BEGIN
namespace conv_detail {

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
STATICNET_ALWAYS_INLINE void for_each_tap_use(const float* src, idx src_ld, int dw, idx c, Use&& use) noexcept {
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
  const std::size_t slot = dw_slot_floats(g);
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
  const std::size_t slot = dw_slot_floats(g);
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
  const std::size_t slot = dw_slot_floats(g), phase_floats = static_cast<std::size_t>(pl.phases * pl.plane);
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


}  // namespace conv_detail
STATICNET_CPU_KERNELS_END
