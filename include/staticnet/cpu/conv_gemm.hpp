// staticnet/cpu/conv_gemm.hpp: the GEMM convolution paths: pointwise (1x1,
// straight on the input planes) and implicit im2col (the GEMM's packers gather
// columns from zero-padded planes; the data gradient's tiles are scattered
// straight into padded dx planes). Called through conv.hpp's conv2d_* functions.
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
  const std::size_t slot = gemm_slot_floats(g), pf = pad_floats(g);
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
  if (stats && parts > 1) plane_stats_pass(g, n, y, stats);  // the images were split between threads
}

inline void gemm_backward_data(const conv_geom& g, int n, const float* dy, const float* w, float* dx,
                               float* scratch) {
  const bool identity = is_identity_col(g);
  const int cg_in = g.c_in / g.groups, cg_out = g.c_out / g.groups;
  const int taps = g.kh * g.kw, K = cg_in * taps, P = g.h_out * g.w_out;
  const idx in_plane = static_cast<idx>(g.h_in) * g.w_in;
  const implicit_cols ic(g);
  const std::size_t slot = gemm_slot_floats(g), pf = pad_floats(g);
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
  const std::size_t slot = gemm_slot_floats(g), pf = pad_floats(g), bf = pack_floats(g);
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
STATICNET_CPU_KERNELS_END
