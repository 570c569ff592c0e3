// staticnet/core/winograd.hpp: which convolutions the CPU engine computes with
// Winograd's minimal filtering, decided at compile time from a layer's shape
// (the layer's fact `winograd`, the output tile size m of F(m x m, 3 x 3), or
// 0 for the direct convolution). The kernels are in cpu/conv_winograd.hpp.
//
// Eligible: a 3x3 kernel, stride 1, groups 1, any dilation d (a dilation-d
// conv is d x d interleaved undilated convs over the input's phases, each
// tiled on its own), padding at most 2 d (so that the data gradient, a
// stride-1 conv of dy with padding 2 d - p, is one too).
//
// The automatic choice compares estimated operation counts: direct
// 9 C K H W multiply-adds (H W rounded up to 16); F(m x m, 3 x 3) with alpha = m + 2 has T tiles per
// image (each phase's outputs in m x m tiles, the last ones cut off) and costs
// alpha^2 C K T multiply-adds in its GEMMs plus the transforms,
// about kappa alpha^2 (C + K) T operations that run far below the GEMM's rate.
// A Winograd variant is taken when it is below 4/5 of the direct cost; with
// fewer than 16 input or output channels the GEMMs are too thin to win. The
// forward and the data gradient are chosen apart (the data gradient's output
// is the conv's input, bigger when the conv is unpadded: S7-dilated's
// dilation-4 conv takes F(2x2) forward and the direct data gradient).
#pragma once
#include <cstdint>

#include "options.hpp"

namespace staticnet::detail {

/// The shape facts winograd_tile needs (a subset of conv_geom / layer_facts).
struct winograd_shape {
  int c_in, c_out, h_out, w_out, kh, kw, sh, sw, ph, pw, dh, dw, groups;
};

[[nodiscard]] constexpr bool winograd_eligible(const winograd_shape& s) noexcept {
  return s.kh == 3 && s.kw == 3 && s.sh == 1 && s.sw == 1 && s.groups == 1 && s.dh >= 1 && s.dw >= 1 &&
         s.ph >= 0 && s.pw >= 0 && s.ph <= 2 * s.dh && s.pw <= 2 * s.dw && s.h_out >= 1 && s.w_out >= 1;
}

constexpr int ceil_div(int a, int b) noexcept { return (a + b - 1) / b; }

/// Tiles per image of F(m x m, 3 x 3) for this output size and dilation.
[[nodiscard]] constexpr std::int64_t winograd_tiles(const winograd_shape& s, int m) noexcept {
  return std::int64_t{s.dh} * s.dw * ceil_div(ceil_div(s.h_out, s.dh), m) * ceil_div(ceil_div(s.w_out, s.dw), m);
}

/// Estimated operations of one image (see above); m = 0 is the direct conv.
/// The GEMMs' tile count (the direct GEMM's positions) is rounded up to 16, the
/// transforms' cost per point grows with alpha (kappa = 5 alpha: fitted to
/// bench/bench_winograd on the reference layers, see bench/RESULTS.md).
[[nodiscard]] constexpr std::int64_t winograd_cost(const winograd_shape& s, int m) noexcept {
  if (m == 0) return std::int64_t{9} * s.c_in * s.c_out * ((std::int64_t{s.h_out} * s.w_out + 15) / 16 * 16);
  const std::int64_t a2 = std::int64_t{m + 2} * (m + 2), tiles = winograd_tiles(s, m);
  const std::int64_t kappa = 5 * (m + 2), gemm_tiles = (tiles + 15) / 16 * 16;
  return a2 * (gemm_tiles * s.c_in * s.c_out + kappa * tiles * (s.c_in + s.c_out));
}

/// The output tile size the automatic choice takes: 4, 2 or 0 (direct).
/// `direct`: the direct path's cost when it is not s's own (the data
/// gradient's direct path costs what the forward does: winograd_data_tile).
[[nodiscard]] constexpr int winograd_auto(const winograd_shape& s, std::int64_t direct = 0) noexcept {
  if (!winograd_eligible(s) || s.c_in < 16 || s.c_out < 16) return 0;
  if (direct == 0) direct = winograd_cost(s, 0);
  const std::int64_t f2 = winograd_cost(s, 2), f4 = winograd_cost(s, 4);
  // F(2x2) on a tie: it is the more accurate of the two.
  const int m = f4 < f2 ? 4 : 2;
  return 5 * (m == 4 ? f4 : f2) < 4 * direct ? m : 0;
}

/// The data gradient of a stride-1 conv as a conv of dy (its own shape for the choice).
[[nodiscard]] constexpr winograd_shape winograd_data_shape(const winograd_shape& s, int h_in, int w_in) noexcept {
  return {s.c_out, s.c_in, h_in, w_in, s.kh, s.kw, s.sh, s.sw, 2 * s.dh - s.ph, 2 * s.dw - s.pw, s.dh, s.dw, s.groups};
}

/// The tile size for a layer's conv_algo: -1 where a forced Winograd variant
/// is not eligible (the layer's E_WINOGRAD error).
[[nodiscard]] constexpr int winograd_tile(const winograd_shape& s, conv_algo algo, std::int64_t direct = 0) noexcept {
  switch (algo) {
    case conv_algo::direct: return 0;
    case conv_algo::winograd_f2: return winograd_eligible(s) ? 2 : -1;
    case conv_algo::winograd_f4: return winograd_eligible(s) ? 4 : -1;
    case conv_algo::automatic: break;
  }
  return winograd_auto(s, direct);
}

/// The tile size of the data gradient of the conv s (input h_in x w_in).
[[nodiscard]] constexpr int winograd_data_tile(const winograd_shape& s, int h_in, int w_in, conv_algo algo) noexcept {
  return winograd_tile(winograd_data_shape(s, h_in, w_in), algo, winograd_cost(s, 0));
}

}  // namespace staticnet::detail
