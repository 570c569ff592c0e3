// staticnet/cpu/pooling.hpp: MaxPool2d, AvgPool2d and global average pooling CPU kernels, NCHW.
//
// Exact torch semantics on the given output size (h_out/w_out are computed by
// the caller with torch's formula, ceil_mode included):
//  * max pooling: padding is -inf; the window is clipped to the input;
//    argmax is ih * w_in + iw within the input plane; ties keep the first
//    maximum in row-major window order and NaN wins (torch: `v > max || isnan(v)`).
//    A window entirely in the padding (impossible for torch-valid geometry)
//    yields -inf and argmax -1, which backward skips.
//  * average pooling: divisor = number of window taps inside the PADDED input
//    (count_include_pad=true; taps past the padded border, possible with
//    ceil_mode, do not count) or inside the real input (count_include_pad=false).
//    Dilation (not a torch AvgPool2d option) is honoured by counting taps.
// Forward kernels run parallel over output rows, backward over planes. The
// interior of each row (windows fully inside the input horizontally) is
// vectorised over output columns with xsimd (contiguous loads for stride 1,
// gather/scatter otherwise), borders take the scalar path; planes too narrow
// for that are vectorised over the flattened output plane (per-lane gathers
// with bounds masks) and run parallel over planes. Tiny planes (fewer outputs
// than one vector) and the backward border columns are scalar.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "kernel_types.hpp"
#include "simd.hpp"

STATICNET_CPU_DIAGNOSTICS_BEGIN

STATICNET_CPU_KERNELS_BEGIN

namespace layer_detail {

using vi = xsimd::batch<std::int32_t>;
static_assert(vi::size == vf::size, "float and int32 batches must have the same width");

/// Output columns [first, second) whose windows lie entirely inside [0, w_in).
inline std::pair<int, int> pool_interior_cols(const pool_geom& g) noexcept {
  const int lo = g.pw > 0 ? (g.pw + g.sw - 1) / g.sw : 0;
  const int last = g.w_in - 1 - (g.kw - 1) * g.dw + g.pw;  // ow * sw <= last
  int hi = last < 0 ? 0 : last / g.sw + 1;
  hi = std::min(hi, g.w_out);
  return {std::min(lo, hi), hi};
}

/// Stride-2 loads by deinterleaving two contiguous loads (x86 archs: SSE2 and
/// up have xsimd::swizzle); gathers are slow on many x86 cores.
template <class Base>
inline constexpr bool pool_arch_is =
    std::is_same_v<xsimd::default_arch, Base> || std::is_base_of_v<Base, xsimd::default_arch>;
inline constexpr bool pool_has_swizzle =
    pool_arch_is<xsimd::sse2> || pool_arch_is<xsimd::avx> || pool_arch_is<xsimd::avx512f>;

struct pool_even_lo {  // lane l < vlen/2 takes element 2l of the first load
  static constexpr std::uint32_t get(std::size_t i, std::size_t n) { return static_cast<std::uint32_t>((2 * i) % n); }
};
struct pool_even_hi {  // lane l >= vlen/2 takes element 2l + 1 - vlen of the second load (p + vlen - 1)
  static constexpr std::uint32_t get(std::size_t i, std::size_t n) {
    return static_cast<std::uint32_t>((2 * i + 1) % n);
  }
};

struct pool_lanes {
  vf col;   // lane * sw, as float
  vi gidx;  // lane * sw, as int32 (gather/scatter offsets)
  xsimd::batch_bool<float> low_half;
  explicit pool_lanes(int sw) noexcept {
    alignas(64) float f[vlen];
    alignas(64) std::int32_t i[vlen];
    alignas(64) float l[vlen];
    for (std::size_t k = 0; k < vlen; ++k) {
      i[k] = static_cast<std::int32_t>(k) * sw;
      f[k] = static_cast<float>(i[k]);
      l[k] = static_cast<float>(k);
    }
    col = vf::load_unaligned(f);
    gidx = vi::load_unaligned(i);
    low_half = vf::load_unaligned(l) < vf(static_cast<float>(vlen / 2));
  }
  /// p[0], p[sw], ..., p[(vlen-1)*sw]; reads nothing past the last of these.
  vf load(const float* p, int sw) const noexcept {
    if (sw == 1) return vf::load_unaligned(p);
    if constexpr (pool_has_swizzle && vlen >= 2) {
      if (sw == 2) {
        using vu = xsimd::batch<std::uint32_t>;
        const vf a = xsimd::swizzle(vf::load_unaligned(p), xsimd::make_batch_constant<vu, pool_even_lo>());
        const vf b = xsimd::swizzle(vf::load_unaligned(p + vlen - 1), xsimd::make_batch_constant<vu, pool_even_hi>());
        return xsimd::select(low_half, a, b);
      }
    }
    return vf::gather(p, gidx);
  }
};

inline void maxpool_row(const pool_geom& g, const pool_lanes& lanes, const float* xp, int oh, float* yr,
                        std::int32_t* ar) noexcept {
  const int H = g.h_in, W = g.w_in;
  const float ninf = -std::numeric_limits<float>::infinity();
  const int hstart = oh * g.sh - g.ph;
  int ih0 = hstart;
  while (ih0 < 0) ih0 += g.dh;
  const int ih1 = std::min(hstart + (g.kh - 1) * g.dh + 1, H);

  auto scalar = [&](int ow) {
    const int wstart = ow * g.sw - g.pw;
    int iw0 = wstart;
    while (iw0 < 0) iw0 += g.dw;
    const int iw1 = std::min(wstart + (g.kw - 1) * g.dw + 1, W);
    float best = ninf;
    std::int32_t bi = -1;
    if (ih0 < ih1 && iw0 < iw1) {
      bi = ih0 * W + iw0;
      for (int ih = ih0; ih < ih1; ih += g.dh)
        for (int iw = iw0; iw < iw1; iw += g.dw) {
          const float v = xp[ih * W + iw];
          const bool take = v > best || std::isnan(v);  // branch-free select
          best = take ? v : best;
          bi = take ? ih * W + iw : bi;
        }
    }
    yr[ow] = best;
    ar[ow] = bi;
  };

  const auto [lo, hi] = pool_interior_cols(g);
  // Indices travel as exact floats in the vector path: planes below 2^24 elements.
  const bool vec = ih0 < ih1 && hi - lo >= static_cast<int>(vlen) &&
                   static_cast<long long>(H) * W < (1LL << 24);
  int ow = 0;
  if (vec) {
    for (; ow < lo; ++ow) scalar(ow);
    auto block = [&](int o0) {
      const int wstart = o0 * g.sw - g.pw;
      vf best(ninf);
      vf bidx = vf(static_cast<float>(ih0 * W + wstart)) + lanes.col;
      for (int ih = ih0; ih < ih1; ih += g.dh) {
        const float* rowp = xp + ih * W;
        for (int k = 0; k < g.kw; ++k) {
          const int iw = wstart + k * g.dw;
          const vf v = lanes.load(rowp + iw, g.sw);
          const auto take = (v > best) | xsimd::isnan(v);
          best = xsimd::select(take, v, best);
          bidx = xsimd::select(take, vf(static_cast<float>(ih * W + iw)) + lanes.col, bidx);
        }
      }
      best.store_unaligned(yr + o0);
      xsimd::to_int(bidx).store_unaligned(ar + o0);
    };
    for (; ow + static_cast<int>(vlen) <= hi; ow += static_cast<int>(vlen)) block(ow);
    if (ow < hi) {  // last partial block: recompute an overlapping full one (idempotent)
      block(hi - static_cast<int>(vlen));
      ow = hi;
    }
  }
  for (; ow < g.w_out; ++ow) scalar(ow);
}

/// Vertical taps of output row oh: how many lie inside the padded input, and
/// the real ones as [first, end) with step dh.
struct pool_vtaps {
  int padded = 0, real = 0, ih0 = 0, ih1 = 0;
};
inline pool_vtaps avgpool_vtaps(const pool_geom& g, int oh) noexcept {
  pool_vtaps t;
  const int hstart = oh * g.sh - g.ph;
  t.ih0 = t.ih1 = 0;
  bool first = true;
  for (int k = 0; k < g.kh; ++k) {
    const int ih = hstart + k * g.dh;
    if (ih < g.h_in + g.ph) ++t.padded;
    if (ih >= 0 && ih < g.h_in) {
      ++t.real;
      if (first) t.ih0 = ih;
      first = false;
      t.ih1 = ih + 1;
    }
  }
  return t;
}

/// Horizontal tap counts of output column ow (padded, real) and the real range.
inline void avgpool_htaps(const pool_geom& g, int ow, int& padded, int& real, int& iw0, int& iw1) noexcept {
  padded = real = 0;
  iw0 = iw1 = 0;
  const int wstart = ow * g.sw - g.pw;
  bool first = true;
  for (int k = 0; k < g.kw; ++k) {
    const int iw = wstart + k * g.dw;
    if (iw < g.w_in + g.pw) ++padded;
    if (iw >= 0 && iw < g.w_in) {
      ++real;
      if (first) iw0 = iw;
      first = false;
      iw1 = iw + 1;
    }
  }
}

inline void avgpool_row(const pool_geom& g, const pool_lanes& lanes, const float* xp, int oh, float* yr) noexcept {
  const int W = g.w_in;
  const pool_vtaps vt = avgpool_vtaps(g, oh);
  auto scalar = [&](int ow) {
    int hp, hr, iw0, iw1;
    avgpool_htaps(g, ow, hp, hr, iw0, iw1);
    float s = 0.0f;
    if (vt.real > 0 && hr > 0)
      for (int ih = vt.ih0; ih < vt.ih1; ih += g.dh)
        for (int iw = iw0; iw < iw1; iw += g.dw) s += xp[ih * W + iw];
    const int div = g.count_include_pad ? vt.padded * hp : vt.real * hr;
    yr[ow] = s / static_cast<float>(div);
  };
  const auto [lo, hi] = pool_interior_cols(g);
  int ow = 0;
  if (vt.real > 0 && hi - lo >= static_cast<int>(vlen)) {
    for (; ow < lo; ++ow) scalar(ow);
    const vf vdiv(static_cast<float>((g.count_include_pad ? vt.padded : vt.real) * g.kw));
    auto block = [&](int o0) {
      const int wstart = o0 * g.sw - g.pw;
      vf s(0.0f);
      for (int ih = vt.ih0; ih < vt.ih1; ih += g.dh) {
        const float* rowp = xp + ih * W;
        for (int k = 0; k < g.kw; ++k) {
          const int iw = wstart + k * g.dw;
          s += lanes.load(rowp + iw, g.sw);
        }
      }
      (s / vdiv).store_unaligned(yr + o0);
    };
    for (; ow + static_cast<int>(vlen) <= hi; ow += static_cast<int>(vlen)) block(ow);
    if (ow < hi) {  // last partial block: recompute an overlapping full one (idempotent)
      block(hi - static_cast<int>(vlen));
      ow = hi;
    }
  }
  for (; ow < g.w_out; ++ow) scalar(ow);
}

/// dx plane += contributions of one output row (dx plane zeroed by the caller).
inline void avgpool_row_backward(const pool_geom& g, const pool_lanes& lanes, const float* gr, int oh,
                                 float* dxp) noexcept {
  const int W = g.w_in;
  const pool_vtaps vt = avgpool_vtaps(g, oh);
  if (vt.real == 0) return;
  auto scalar = [&](int ow) {
    int hp, hr, iw0, iw1;
    avgpool_htaps(g, ow, hp, hr, iw0, iw1);
    if (hr == 0) return;
    const int div = g.count_include_pad ? vt.padded * hp : vt.real * hr;
    const float d = gr[ow] / static_cast<float>(div);
    for (int ih = vt.ih0; ih < vt.ih1; ih += g.dh)
      for (int iw = iw0; iw < iw1; iw += g.dw) dxp[ih * W + iw] += d;
  };
  const auto [lo, hi] = pool_interior_cols(g);
  int ow = 0;
  if (hi - lo >= static_cast<int>(vlen)) {
    for (; ow < lo; ++ow) scalar(ow);
    const vf vdiv(static_cast<float>((g.count_include_pad ? vt.padded : vt.real) * g.kw));
    for (; ow + static_cast<int>(vlen) <= hi; ow += static_cast<int>(vlen)) {
      const int wstart = ow * g.sw - g.pw;
      const vf d = vf::load_unaligned(gr + ow) / vdiv;
      for (int ih = vt.ih0; ih < vt.ih1; ih += g.dh) {
        float* rowp = dxp + ih * W;
        for (int k = 0; k < g.kw; ++k) {
          float* p = rowp + wstart + k * g.dw;
          if (g.sw == 1)
            (vf::load_unaligned(p) + d).store_unaligned(p);
          else  // lanes hit distinct addresses (stride sw >= 1), so gather-add-scatter is exact
            (vf::gather(p, lanes.gidx) + d).scatter(p, lanes.gidx);
        }
      }
    }
  }
  for (; ow < g.w_out; ++ow) scalar(ow);
}

/// Narrow planes (too few interior columns for a full row vector) are
/// vectorised over the flattened output plane instead: each lane carries its
/// own (oh, ow), taps are gathered with per-lane bounds masks.
inline bool pool_use_flat(const pool_geom& g) noexcept {
  const auto [lo, hi] = pool_interior_cols(g);
  return hi - lo < static_cast<int>(vlen) && static_cast<long long>(g.h_out) * g.w_out >= static_cast<long long>(vlen) &&
         static_cast<long long>(g.h_in) * g.w_in < (1LL << 24);
}

/// Window origins (oh*sh - ph, ow*sw - pw) of the flattened outputs o0 .. o0+vlen-1.
inline void pool_flat_origins(const pool_geom& g, int o0, vf& ihb, vf& iwb) noexcept {
  alignas(64) float hb[vlen], wb[vlen];
  for (std::size_t l = 0; l < vlen; ++l) {
    const int o = o0 + static_cast<int>(l);
    const int oh = o / g.w_out, ow = o - oh * g.w_out;
    hb[l] = static_cast<float>(oh * g.sh - g.ph);
    wb[l] = static_cast<float>(ow * g.sw - g.pw);
  }
  ihb = vf::load_unaligned(hb);
  iwb = vf::load_unaligned(wb);
}

inline void maxpool_plane_flat(const pool_geom& g, const float* xp, float* yp, std::int32_t* ap) noexcept {
  const int P = g.h_out * g.w_out;
  const vf vH(static_cast<float>(g.h_in)), vW(static_cast<float>(g.w_in)), zero(0.0f);
  const vf ninf(-std::numeric_limits<float>::infinity());
  auto block = [&](int o0) {
    vf ihb, iwb;
    pool_flat_origins(g, o0, ihb, iwb);
    vf best = ninf, bidx(-1.0f);
    for (int a = 0; a < g.kh; ++a) {
      const vf ih = ihb + vf(static_cast<float>(a * g.dh));
      const auto row_ok = (ih >= zero) & (ih < vH);
      const vf row = ih * vW;
      for (int b = 0; b < g.kw; ++b) {
        const vf iw = iwb + vf(static_cast<float>(b * g.dw));
        const auto ok = row_ok & (iw >= zero) & (iw < vW);
        const vf idx = xsimd::select(ok, row + iw, zero);
        const vf v = vf::gather(xp, xsimd::to_int(idx));
        // torch: first valid tap initialises the index; then v > max || isnan(v)
        const auto take = ok & ((v > best) | xsimd::isnan(v) | (bidx < zero));
        best = xsimd::select(take, v, best);
        bidx = xsimd::select(take, idx, bidx);
      }
    }
    best.store_unaligned(yp + o0);
    xsimd::to_int(bidx).store_unaligned(ap + o0);
  };
  int o = 0;
  for (; o + static_cast<int>(vlen) <= P; o += static_cast<int>(vlen)) block(o);
  if (o < P) block(P - static_cast<int>(vlen));  // overlapping last block (idempotent)
}

inline void avgpool_plane_flat(const pool_geom& g, const float* xp, float* yp) noexcept {
  const int P = g.h_out * g.w_out;
  const vf vH(static_cast<float>(g.h_in)), vW(static_cast<float>(g.w_in)), zero(0.0f), one(1.0f);
  const vf vHp(static_cast<float>(g.h_in + g.ph)), vWp(static_cast<float>(g.w_in + g.pw));
  auto block = [&](int o0) {
    vf ihb, iwb;
    pool_flat_origins(g, o0, ihb, iwb);
    vf sum(0.0f), real(0.0f), padded(0.0f);
    for (int a = 0; a < g.kh; ++a) {
      const vf ih = ihb + vf(static_cast<float>(a * g.dh));
      const auto row_ok = (ih >= zero) & (ih < vH);
      const auto row_pad = ih < vHp;
      const vf row = ih * vW;
      for (int b = 0; b < g.kw; ++b) {
        const vf iw = iwb + vf(static_cast<float>(b * g.dw));
        const auto ok = row_ok & (iw >= zero) & (iw < vW);
        const vf v = vf::gather(xp, xsimd::to_int(xsimd::select(ok, row + iw, zero)));
        sum += xsimd::select(ok, v, zero);
        real += xsimd::select(ok, one, zero);
        padded += xsimd::select(row_pad & (iw < vWp), one, zero);
      }
    }
    (sum / (g.count_include_pad ? padded : real)).store_unaligned(yp + o0);
  };
  int o = 0;
  for (; o + static_cast<int>(vlen) <= P; o += static_cast<int>(vlen)) block(o);
  if (o < P) block(P - static_cast<int>(vlen));  // overlapping last block (idempotent)
}

inline std::size_t pool_row_grain(const pool_geom& g) noexcept {
  const std::size_t work = static_cast<std::size_t>(std::max(1, g.w_out)) * std::max(1, g.kh) * std::max(1, g.kw);
  return std::max<std::size_t>(1, (std::size_t{1} << 15) / work);
}

}  // namespace layer_detail

/// y[n, c, h_out, w_out] = max over each window; argmax gets the winning index within the input plane.
inline void maxpool_forward(const pool_geom& g, int n, const float* x, float* y, std::int32_t* argmax) {
  using namespace layer_detail;
  if (n <= 0 || g.c <= 0 || g.h_out <= 0 || g.w_out <= 0) return;
  const std::size_t in_plane = static_cast<std::size_t>(g.h_in) * g.w_in;
  const std::size_t out_plane = static_cast<std::size_t>(g.h_out) * g.w_out;
  const std::size_t rows = static_cast<std::size_t>(n) * g.c * g.h_out;
  if (pool_use_flat(g)) {
    chunked(static_cast<std::size_t>(n) * g.c, std::max<std::size_t>(1, pool_row_grain(g) / g.h_out),
            [&](std::size_t pb, std::size_t pe) {
              for (std::size_t p = pb; p < pe; ++p)
                maxpool_plane_flat(g, x + p * in_plane, y + p * out_plane, argmax + p * out_plane);
            });
    return;
  }
  const pool_lanes lanes(g.sw);
  chunked(rows, pool_row_grain(g), [&](std::size_t rb, std::size_t re) {
    for (std::size_t r = rb; r < re; ++r) {
      const std::size_t p = r / static_cast<std::size_t>(g.h_out);
      const int oh = static_cast<int>(r % static_cast<std::size_t>(g.h_out));
      const std::size_t o = p * out_plane + static_cast<std::size_t>(oh) * g.w_out;
      maxpool_row(g, lanes, x + p * in_plane, oh, y + o, argmax + o);
    }
  });
}

/// dx (overwritten) = scatter-add of dy at argmax.
inline void maxpool_backward(const pool_geom& g, int n, const float* dy, const std::int32_t* argmax, float* dx) {
  using namespace layer_detail;
  if (n <= 0 || g.c <= 0) return;
  const std::size_t in_plane = static_cast<std::size_t>(g.h_in) * g.w_in;
  const std::size_t out_plane = static_cast<std::size_t>(g.h_out) * g.w_out;
  const std::size_t planes = static_cast<std::size_t>(n) * g.c;
  const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 15) / std::max<std::size_t>(1, in_plane + out_plane));
  chunked(planes, grain, [&](std::size_t pb, std::size_t pe) {
    for (std::size_t p = pb; p < pe; ++p) {
      float* dxp = dx + p * in_plane;
      const float* gp = dy + p * out_plane;
      const std::int32_t* ap = argmax + p * out_plane;
      fill(dxp, in_plane, 0.0f);
      for (std::size_t o = 0; o < out_plane; ++o) {
        const std::int32_t a = ap[o];
        if (a >= 0 && static_cast<std::size_t>(a) < in_plane) dxp[a] += gp[o];
      }
    }
  });
}

/// y = window sums / torch's divisor (count_include_pad, ceil_mode clipping at the padded border).
inline void avgpool_forward(const pool_geom& g, int n, const float* x, float* y) {
  using namespace layer_detail;
  if (n <= 0 || g.c <= 0 || g.h_out <= 0 || g.w_out <= 0) return;
  const std::size_t in_plane = static_cast<std::size_t>(g.h_in) * g.w_in;
  const std::size_t out_plane = static_cast<std::size_t>(g.h_out) * g.w_out;
  const std::size_t rows = static_cast<std::size_t>(n) * g.c * g.h_out;
  if (pool_use_flat(g)) {
    chunked(static_cast<std::size_t>(n) * g.c, std::max<std::size_t>(1, pool_row_grain(g) / g.h_out),
            [&](std::size_t pb, std::size_t pe) {
              for (std::size_t p = pb; p < pe; ++p) avgpool_plane_flat(g, x + p * in_plane, y + p * out_plane);
            });
    return;
  }
  const pool_lanes lanes(g.sw);
  chunked(rows, pool_row_grain(g), [&](std::size_t rb, std::size_t re) {
    for (std::size_t r = rb; r < re; ++r) {
      const std::size_t p = r / static_cast<std::size_t>(g.h_out);
      const int oh = static_cast<int>(r % static_cast<std::size_t>(g.h_out));
      avgpool_row(g, lanes, x + p * in_plane, oh, y + p * out_plane + static_cast<std::size_t>(oh) * g.w_out);
    }
  });
}

/// dx (overwritten) = each dy spread evenly (1/divisor) over its window's real taps.
inline void avgpool_backward(const pool_geom& g, int n, const float* dy, float* dx) {
  using namespace layer_detail;
  if (n <= 0 || g.c <= 0) return;
  const std::size_t in_plane = static_cast<std::size_t>(g.h_in) * g.w_in;
  const std::size_t out_plane = static_cast<std::size_t>(g.h_out) * g.w_out;
  const std::size_t planes = static_cast<std::size_t>(n) * g.c;
  const pool_lanes lanes(g.sw);
  const std::size_t grain = std::max<std::size_t>(
      1, (std::size_t{1} << 15) / std::max<std::size_t>(1, in_plane + out_plane * g.kh * g.kw));
  chunked(planes, grain, [&](std::size_t pb, std::size_t pe) {
    for (std::size_t p = pb; p < pe; ++p) {
      float* dxp = dx + p * in_plane;
      fill(dxp, in_plane, 0.0f);
      for (int oh = 0; oh < g.h_out; ++oh)
        avgpool_row_backward(g, lanes, dy + p * out_plane + static_cast<std::size_t>(oh) * g.w_out, oh, dxp);
    }
  });
}

/// y[n, c] = mean of each hw plane (AdaptiveAvgPool2d(1)).
inline void global_avgpool_forward(int n, int c, int hw, const float* x, float* y) {
  using namespace layer_detail;
  if (n <= 0 || c <= 0) return;
  const std::size_t planes = static_cast<std::size_t>(n) * c, HW = static_cast<std::size_t>(hw < 0 ? 0 : hw);
  chunked(planes, std::max<std::size_t>(1, elementwise_grain / std::max<std::size_t>(HW, 1)),
          [&](std::size_t pb, std::size_t pe) {
            for (std::size_t p = pb; p < pe; ++p) y[p] = layer_detail::sum(x + p * HW, HW) / static_cast<float>(hw);
          });
}

/// dx[n, c, :] = dy[n, c] / hw (overwritten).
inline void global_avgpool_backward(int n, int c, int hw, const float* dy, float* dx) {
  using namespace layer_detail;
  if (n <= 0 || c <= 0 || hw <= 0) return;
  const std::size_t planes = static_cast<std::size_t>(n) * c, HW = static_cast<std::size_t>(hw);
  chunked(planes, std::max<std::size_t>(1, elementwise_grain / HW), [&](std::size_t pb, std::size_t pe) {
    for (std::size_t p = pb; p < pe; ++p) fill(dx + p * HW, HW, dy[p] / static_cast<float>(hw));
  });
}

STATICNET_CPU_KERNELS_END

STATICNET_CPU_DIAGNOSTICS_END
