// staticnet/cpu/conv_winograd.hpp: 3x3 stride-1 convolutions by Winograd's
// minimal filtering, F(2x2, 3x3) and F(4x4, 3x3) (Lavin & Gray 2016), for
// any dilation d: a dilation-d conv is d x d interleaved undilated convs over
// the input's phases, so each phase is tiled on its own (a tile's alpha x
// alpha input points, alpha = m + 2, are d apart, and so are its m x m
// outputs). Called through conv.hpp's conv2d_* functions when a geometry's
// `winograd` asks for it (the engine sets it from the layer's fact, chosen at
// compile time: core/winograd.hpp) and use_winograd() is on.
//
// Per image, the input planes are copied once into zero-padded planes big
// enough for every tile (no bounds checks in the gathers); then, per block of
// TB tiles:
//   V[xi][c][t] = (B^T d B)[xi]    the input transform, SIMD over vw tiles;
//   M[xi][k][t] = sum_c U[xi][k][c] V[xi][c][t]   alpha^2 GEMMs (gemm());
//   y = A^T M A (+ bias, ReLU)     the output transform, scattered to y;
// with U[xi][k][c] = (G g G^T)[xi] the weights' transform, computed once per
// call before the images. TB keeps a block's V and M (alpha^2 (C + K) TB
// floats) within about 256 KB, so they stay in L2 between the transforms and
// the GEMMs. Work is split over (image, tile block) items, so that a single
// image still occupies every thread.
//
// The data gradient of a stride-1 conv is itself a stride-1 conv: of dy with
// the kernel rotated by 180 degrees and its channels swapped, padding 2 d - p
// (winograd_data_geom); it runs through the same code, with U built from the
// rotated, transposed kernel. The weight gradient stays on the direct path
// (its GEMMs already run at the direct forward's rate and a Winograd one would
// need an alpha^2 x larger gradient buffer per thread).
//
// Accuracy: F(2x2) rounds like the direct conv (|error| a few ulp of the
// output's scale); F(4x4)'s transforms have coefficients up to 8 and 1/24, so
// its error is about 10x larger: test_conv_winograd bounds both against a
// double-precision reference.
#pragma once
#include <algorithm>
#include <cstddef>
#include <utility>

#include "../core/winograd.hpp"
#include "conv_common.hpp"

STATICNET_CPU_KERNELS_BEGIN
namespace conv_detail {

/// The transform matrices of F(m x m, 3 x 3): B^T (alpha x alpha), G (alpha x 3), A^T (m x alpha).
template <int M>
struct wino;

template <>
struct wino<2> {
  static constexpr int alpha = 4;
  struct BT {
    static constexpr float v[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
  };
  struct G {
    static constexpr float v[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
  };
  struct AT {
    static constexpr float v[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
  };
};

template <>
struct wino<4> {
  static constexpr int alpha = 6;
  struct BT {
    static constexpr float v[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                      {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
  };
  struct G {
    static constexpr float v[6][3] = {{1.0f / 4, 0, 0},
                                      {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                      {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                      {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                      {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                      {0, 0, 1}};
  };
  struct AT {
    static constexpr float v[4][6] = {
        {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
  };
};

/// acc + Mat::v[R][C] * x, with the coefficient known at compile time (0: acc; +-1: an add).
template <class Mat, int R, int C>
inline batch wino_madd(batch acc, batch x) noexcept {
  constexpr float k = Mat::v[R][C];
  if constexpr (k == 0.0f) return acc;
  else if constexpr (k == 1.0f) return acc + x;
  else if constexpr (k == -1.0f) return acc - x;
  else return xsimd::fma(batch(k), x, acc);
}

template <class Mat, int R, int N>
constexpr int wino_first_nonzero() noexcept {
  for (int c = 0; c < N; ++c)
    if (Mat::v[R][c] != 0.0f) return c;
  return 0;
}

/// sum_c Mat::v[R][c] * in[c * stride], c in [0, N): a row of a constant matrix times a column of vectors.
template <class Mat, int R, int N, int... C>
inline batch wino_row(const batch* in, int stride, std::integer_sequence<int, C...>) noexcept {
  constexpr int f = wino_first_nonzero<Mat, R, N>();
  constexpr float kf = Mat::v[R][f];
  batch acc = kf == 1.0f ? in[f * stride] : batch(kf) * in[f * stride];
  ((acc = C == f ? acc : wino_madd<Mat, R, C>(acc, in[C * stride])), ...);
  return acc;
}

/// out[r * ostride] = sum_c Mat::v[r][c] * in[c * istride] for r in [0, Rows).
template <class Mat, int Rows, int N, int... R>
inline void wino_apply(const batch* in, int istride, batch* out, int ostride,
                       std::integer_sequence<int, R...>) noexcept {
  ((out[R * ostride] = wino_row<Mat, R, N>(in, istride, std::make_integer_sequence<int, N>{})), ...);
}

template <class Mat, int Rows, int N>
inline void wino_apply(const batch* in, int istride, batch* out, int ostride) noexcept {
  wino_apply<Mat, Rows, N>(in, istride, out, ostride, std::make_integer_sequence<int, Rows>{});
}

/// Where F(m x m, 3 x 3) puts the tiles of one image, and the buffers it needs.
struct wino_plan {
  int m, alpha, a2;
  int C, K;                 ///< input / output channels
  int cp, kp;               ///< C and K rounded up to whole vectors
  int ty, tx, tiles;        ///< tiles per phase along H / W, tiles per image
  int hp, wp;               ///< the padded planes
  idx plane;                ///< hp * wp
  int tb;                   ///< tiles per block
  int blocks;               ///< blocks per image
  std::size_t pad_f, v_f, m_f, u_f;  ///< floats of the padded planes, V and M of one block, U (and its temporary)

  explicit wino_plan(const conv_geom& g) noexcept
      : m(g.winograd == 4 ? 4 : 2), alpha(m + 2), a2(alpha * alpha), C(g.c_in), K(g.c_out),
        cp((C + vw - 1) / vw * vw), kp((K + vw - 1) / vw * vw),
        ty((((g.h_out + g.dh - 1) / g.dh) + m - 1) / m), tx((((g.w_out + g.dw - 1) / g.dw) + m - 1) / m),
        tiles(g.dh * g.dw * ty * tx),
        // the last tile's last input point, in padded coordinates, + 1; at least the input itself
        hp(std::max(g.h_in + g.ph, (g.dh - 1) + g.dh * ((ty - 1) * m + alpha - 1) + 1)),
        wp(std::max(g.w_in + g.pw, (g.dw - 1) + g.dw * ((tx - 1) * m + alpha - 1) + 1)),
        plane(static_cast<idx>(hp) * wp) {
    constexpr int NR = gemm_detail::NR;  // a multiple of vw
    const std::size_t per_tile = static_cast<std::size_t>(a2) * static_cast<std::size_t>(cp + kp) * sizeof(float);
    tb = std::max(NR, static_cast<int>(std::min<std::size_t>(512, (384u << 10) / per_tile)) / NR * NR);
    tb = std::min(tb, (tiles + NR - 1) / NR * NR);
    blocks = (tiles + tb - 1) / tb;
    pad_f = round16(static_cast<std::size_t>(cp) * static_cast<std::size_t>(plane));
    v_f = round16(static_cast<std::size_t>(a2) * static_cast<std::size_t>(cp) * static_cast<std::size_t>(tb));
    m_f = round16(static_cast<std::size_t>(a2) * static_cast<std::size_t>(kp) * static_cast<std::size_t>(tb));
    u_f = round16(static_cast<std::size_t>(a2) * static_cast<std::size_t>(K) * static_cast<std::size_t>(C));
  }
  [[nodiscard]] std::size_t slot_floats() const noexcept { return pad_f + v_f + m_f; }
};

/// The geometry of the data gradient of a stride-1 conv as a conv of dy
/// (its `winograd` is g's winograd_data).
inline conv_geom winograd_data_geom(const conv_geom& g) noexcept {
  conv_geom t = g;
  t.c_in = g.c_out, t.h_in = g.h_out, t.w_in = g.w_out;
  t.c_out = g.c_in, t.h_out = g.h_in, t.w_out = g.w_in;
  t.ph = 2 * g.dh - g.ph, t.pw = 2 * g.dw - g.pw;
  t.winograd = g.winograd_data, t.winograd_data = 0;
  return t;
}

/// m is a tile size this file has and g is eligible (the rule the layer facts apply: core/winograd.hpp).
inline bool winograd_geometry(const conv_geom& g, int m) noexcept {
  return (m == 2 || m == 4) && staticnet::detail::winograd_eligible({g.c_in, g.c_out, g.h_out, g.w_out, g.kh, g.kw,
                                                                     g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.groups});
}

/// Whether conv2d_forward takes the Winograd path for g.
inline bool use_winograd_path(const conv_geom& g) noexcept {
  return winograd_geometry(g, g.winograd) && winograd_enabled();
}

/// Whether the data gradient takes the Winograd path for g.
inline bool use_winograd_data_path(const conv_geom& g) noexcept {
  return winograd_geometry(g, g.winograd_data) && winograd_enabled();
}

/// Floats of scratch the Winograd paths of g need (forward and data gradient).
inline std::size_t winograd_scratch_floats(const conv_geom& g, int threads) noexcept {
  const std::size_t t = static_cast<std::size_t>(std::max(1, threads));
  std::size_t f = 0;
  if (g.winograd == 2 || g.winograd == 4) {
    const wino_plan p(g);
    f = 2 * p.u_f + p.slot_floats() * t;
  }
  if (g.winograd_data == 2 || g.winograd_data == 4) {
    const wino_plan p(winograd_data_geom(g));
    f = std::max(f, 2 * p.u_f + p.slot_floats() * t);
  }
  return f;
}

/// U[xi][ko][ci] = (G g G^T)[xi] of the 3x3 kernel g of (ko, ci): w[ko][ci]
/// itself, or, with `rotate`, the data gradient's kernel: w[ci][ko] rotated
/// by 180 degrees (w is then C x K x 3 x 3). One GEMM: U (alpha^2 x K C) =
/// T (alpha^2 x 9) w^T, T = G (x) G the Kronecker product (taps reversed for
/// `rotate`, whose result is then transposed per xi from [ci][ko] to [ko][ci]
/// through tmp, alpha^2 K C floats).
template <int M>
inline void wino_weights(int K, int C, const float* w, bool rotate, float* U, float* tmp) {
  using W = wino<M>;
  constexpr int A = W::alpha, A2 = A * A;
  float T[A2 * 9];
  for (int a = 0; a < A; ++a)
    for (int b = 0; b < A; ++b)
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx) {
          const int tap = rotate ? 8 - (ky * 3 + kx) : ky * 3 + kx;
          T[(a * A + b) * 9 + tap] = W::G::v[a][ky] * W::G::v[b][kx];
        }
  const int kc = K * C;
  float* dst = rotate ? tmp : U;
  run_slots((kc + 63) / 64, [&](int, int cb, int ce) {
    const int j0 = cb * 64, j1 = std::min(kc, ce * 64);
    gemm(trans::no, trans::yes, A2, j1 - j0, 9, T, 9, w + static_cast<idx>(j0) * 9, 9, dst + j0, kc, false);
  });
  if (!rotate) return;
  // tmp[xi][ci][ko] (ci over this conv's inputs = w's rows) -> U[xi][ko][ci]
  run_slots(A2, [&](int, int xb, int xe) {
    for (int xi = xb; xi < xe; ++xi) {
      const float* src = tmp + static_cast<idx>(xi) * kc;
      float* out = U + static_cast<idx>(xi) * kc;
      for (int ci = 0; ci < C; ++ci)
        for (int ko = 0; ko < K; ++ko) out[static_cast<idx>(ko) * C + ci] = src[static_cast<idx>(ci) * K + ko];
    }
  });
}

/// pad = image x's planes, zero-padded (rows [-ph, hp - ph), columns
/// [-pw, wp - pw) of the input) and channel-interleaved in vw-channel groups:
/// pad[cb][row][col][lane] = x[cb * vw + lane][row - ph][col - pw] (0 outside
/// the input and for lanes past C), so that a tile's point is one vector load
/// for vw channels.
inline void wino_pack_input(const conv_geom& g, const wino_plan& pl, const float* x, float* pad) noexcept {
  const idx in_plane = static_cast<idx>(g.h_in) * g.w_in;
  const idx row_f = static_cast<idx>(pl.wp) * vw;
  for (int cb = 0; cb < pl.cp / vw; ++cb) {
    float* dst = pad + static_cast<idx>(cb) * pl.plane * vw;
    fill(dst, static_cast<idx>(g.ph) * row_f, 0.0f);
    for (int r = 0; r < g.h_in; ++r) {
      float* row = dst + static_cast<idx>(r + g.ph) * row_f;
      fill(row, static_cast<idx>(g.pw) * vw, 0.0f);
      fill(row + static_cast<idx>(g.pw + g.w_in) * vw, static_cast<idx>(pl.wp - g.pw - g.w_in) * vw, 0.0f);
      float* body = row + static_cast<idx>(g.pw) * vw;
      const int lanes = std::min(vw, pl.C - cb * vw);
      if (lanes < vw) fill(body, static_cast<idx>(g.w_in) * vw, 0.0f);
      for (int l = 0; l < lanes; ++l) {
        const float* src = x + static_cast<idx>(cb * vw + l) * in_plane + static_cast<idx>(r) * g.w_in;
        for (int c = 0; c < g.w_in; ++c) body[static_cast<idx>(c) * vw + l] = src[c];
      }
    }
    fill(dst + static_cast<idx>(g.ph + g.h_in) * row_f, static_cast<idx>(pl.hp - g.ph - g.h_in) * row_f, 0.0f);
  }
}

/// The forward conv y = conv(x, w) (+ bias, ReLU) for g with g.winograd == M;
/// with `rotate`, w is the kernel of the conv this one is the data gradient
/// of (see wino_weights). scratch: winograd_scratch_floats(g).
template <int M>
inline void wino_conv(const conv_geom& g, int n, const float* x, const float* w, bool rotate, const float* bias,
                      float* y, float* scratch, bool relu) {
  using W = wino<M>;
  constexpr int A = W::alpha, A2 = A * A;
  const wino_plan pl(g);
  const int C = g.c_in, K = g.c_out, tb = pl.tb, cp = pl.cp;
  const idx in_plane = static_cast<idx>(g.h_in) * g.w_in, out_plane = static_cast<idx>(g.h_out) * g.w_out;
  float* U = scratch;
  wino_weights<M>(K, C, w, rotate, U, scratch + pl.u_f);
  float* slots = scratch + 2 * pl.u_f;
  const int per_phase = pl.ty * pl.tx;
  const idx row_f = static_cast<idx>(pl.wp) * vw, cblock_f = pl.plane * vw;
  run_slots(n * pl.blocks, [&](int th, int ib, int ie) {
    float* pad = slots + pl.slot_floats() * static_cast<std::size_t>(th);
    float* V = pad + pl.pad_f;
    float* Mb = V + pl.v_f;
    int padded_img = -1;
    alignas(64) float out[M * M * vw];
    for (int it = ib; it < ie; ++it) {
      const int img = it / pl.blocks, blk = it % pl.blocks;
      if (img != padded_img) {
        wino_pack_input(g, pl, x + static_cast<idx>(img) * C * in_plane, pad);
        padded_img = img;
      }
      const int t0 = blk * tb, nt = std::min(tb, pl.tiles - t0);
      // input transform, vw channels at a time: V[xi][t][c]
      for (int tl = 0; tl < nt; ++tl) {
        const int t = t0 + tl, phase = t / per_phase, a = t % per_phase / pl.tx, b = t % pl.tx;
        const idx base = static_cast<idx>(phase / g.dw + g.dh * a * M) * row_f +
                         static_cast<idx>(phase % g.dw + g.dw * b * M) * vw;
        for (int cb = 0; cb < cp / vw; ++cb) {
          const float* p = pad + cb * cblock_f + base;
          batch d[A2], t1[A2], vv[A2];
          for (int u = 0; u < A; ++u)
            for (int v = 0; v < A; ++v)
              d[u * A + v] = batch::load_unaligned(p + static_cast<idx>(u) * g.dh * row_f + static_cast<idx>(v) * g.dw * vw);
          for (int v = 0; v < A; ++v) wino_apply<typename W::BT, A, A>(d + v, A, t1 + v, A);  // B^T d
          for (int i = 0; i < A; ++i) wino_apply<typename W::BT, A, A>(t1 + i * A, 1, vv + i * A, 1);  // (B^T d) B
          float* vt = V + static_cast<idx>(tl) * cp + cb * vw;
          for (int i = 0; i < A2; ++i) vv[i].store_unaligned(vt + static_cast<idx>(i) * tb * cp);
        }
      }
      // the alpha^2 products M[xi] (K x nt) = U[xi] (K x C) V[xi]^T (C x nt)
      for (int xi = 0; xi < A2; ++xi)
        gemm(trans::no, trans::yes, K, nt, C, U + static_cast<idx>(xi) * K * C, C,
             V + static_cast<idx>(xi) * tb * cp, cp, Mb + static_cast<idx>(xi) * K * tb, tb, false);
      // output transform, vw tiles at a time, and scatter
      float* yi = y + static_cast<idx>(img) * K * out_plane;
      for (int tl = 0; tl < nt; tl += vw) {
        const int lanes = std::min(vw, nt - tl);
        int oy0[vw], ox0[vw];
        for (int l = 0; l < lanes; ++l) {
          const int t = t0 + tl + l, phase = t / per_phase, a = t % per_phase / pl.tx, b = t % pl.tx;
          oy0[l] = phase / g.dw + g.dh * a * M;
          ox0[l] = phase % g.dw + g.dw * b * M;
        }
        for (int k = 0; k < K; ++k) {
          batch mm[A2], t2[M * A], yy[M * M];
          const float* mk = Mb + static_cast<idx>(k) * tb + tl;
          for (int i = 0; i < A2; ++i) mm[i] = batch::load_unaligned(mk + static_cast<idx>(i) * K * tb);
          for (int j = 0; j < A; ++j) wino_apply<typename W::AT, M, A>(mm + j, A, t2 + j, A);  // A^T m
          for (int p = 0; p < M; ++p) wino_apply<typename W::AT, M, A>(t2 + p * A, 1, yy + p * M, 1);  // (A^T m) A
          const batch bk(bias ? bias[k] : 0.0f);
          for (int i = 0; i < M * M; ++i) {
            batch r = yy[i] + bk;
            if (relu) r = xsimd::max(r, batch(0.0f));
            r.store_aligned(out + i * vw);
          }
          float* yk = yi + static_cast<idx>(k) * out_plane;
          for (int l = 0; l < lanes; ++l)
            for (int p = 0; p < M; ++p) {
              const int oy = oy0[l] + g.dh * p;
              if (oy >= g.h_out) break;
              float* row = yk + static_cast<idx>(oy) * g.w_out;
              for (int q = 0; q < M; ++q) {
                const int ox = ox0[l] + g.dw * q;
                if (ox >= g.w_out) break;
                row[ox] = out[(p * M + q) * vw + l];
              }
            }
        }
      }
    }
  });
}

inline void winograd_forward(const conv_geom& g, int n, const float* x, const float* w, const float* bias, float* y,
                             float* scratch, bool relu, float* stats) {
  if (g.winograd == 4) wino_conv<4>(g, n, x, w, false, bias, y, scratch, relu);
  else wino_conv<2>(g, n, x, w, false, bias, y, scratch, relu);
  if (stats) plane_stats_pass(g, n, y, stats);
}

/// dx (overwritten) = the data gradient of the conv g (stride 1) for dy.
inline void winograd_backward_data(const conv_geom& g, int n, const float* dy, const float* w, float* dx,
                                   float* scratch) {
  const conv_geom t = winograd_data_geom(g);
  if (t.winograd == 4) wino_conv<4>(t, n, dy, w, true, nullptr, dx, scratch, false);
  else wino_conv<2>(t, n, dy, w, true, nullptr, dx, scratch, false);
}

}  // namespace conv_detail
STATICNET_CPU_KERNELS_END
