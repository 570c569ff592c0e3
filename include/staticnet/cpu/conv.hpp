// staticnet/cpu/conv.hpp: 2-D convolutions on raw NCHW float pointers: the
// dispatch over the paths of conv_depthwise.hpp and conv_gemm.hpp.
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
// 3x3 stride-1 convs whose geometry asks for it (conv_geom::winograd, set by
// the engine from the layer's compile-time fact) take Winograd F(2x2,3x3) or
// F(4x4,3x3) for the forward and the data gradient instead (conv_winograd.hpp),
// unless use_winograd(false).
// conv2d_forward can apply a ReLU to its output while it is in cache
// (conv_epilogue::relu), which the engine uses for conv -> ReLU, and take the
// output planes' statistics for a BatchNorm that follows (plane_stats).
//
// The kernels call parallel_for on the default pool; called from inside a
// parallel_for body they run serially on the calling thread (with the same
// scratch layout), so concurrent calls need separate scratch buffers.
#pragma once
#include <algorithm>
#include <cstddef>

#include "conv_common.hpp"
#include "conv_depthwise.hpp"
#include "conv_gemm.hpp"
#include "conv_winograd.hpp"

STATICNET_CPU_KERNELS_BEGIN

namespace conv_detail {
/// Floats of scratch one thread needs.
inline std::size_t slot_floats(const conv_geom& g) noexcept {
  if (is_depthwise(g)) return dw_slot_floats(g);
  return gemm_slot_floats(g);
}

}  // namespace conv_detail

/// Floats of scratch the caller provides to the functions below (for all
/// threads together). `threads` must be at least num_threads() at call time;
/// the need does not depend on the batch size (max_batch is accepted for the
/// engine's convenience).
inline std::size_t conv_scratch_floats(const conv_geom& g, [[maybe_unused]] int max_batch, int threads) {
  return std::max(conv_detail::slot_floats(g) * static_cast<std::size_t>(std::max(1, threads)),
                  conv_detail::winograd_scratch_floats(g, threads));
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
  if (conv_detail::use_winograd_path(g))
    conv_detail::winograd_forward(g, n, x, w, bias, y, scratch, relu, plane_stats);
  else if (conv_detail::is_depthwise(g))
    conv_detail::dw_forward(g, n, x, w, bias, y, scratch, relu, plane_stats);
  else
    conv_detail::gemm_forward(g, n, x, w, bias, y, scratch, relu, plane_stats);
}

/// dx (overwritten) = the gradient of sum(y * dy) with respect to x.
inline void conv2d_backward_data(const conv_geom& g, int n, const float* dy, const float* w, float* dx,
                                 float* scratch) {
  if (n <= 0) return;
  if (conv_detail::use_winograd_data_path(g))
    conv_detail::winograd_backward_data(g, n, dy, w, dx, scratch);
  else if (conv_detail::is_depthwise(g))
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
  if (n > 0 && dx && conv_detail::use_winograd_data_path(g)) {
    // the weight gradient on the direct path, the data gradient by Winograd
    conv_detail::gemm_backward(g, n, x, dy, nullptr, nullptr, dw, dbias, scratch);
    conv_detail::winograd_backward_data(g, n, dy, w, dx, scratch);
    return;
  }
  if (n > 0 && (n >= num_threads() || !dx)) {
    conv_detail::gemm_backward(g, n, x, dy, w, dx, dw, dbias, scratch);
    return;
  }
  conv2d_backward_weights(g, n, x, dy, dw, dbias, scratch);
  if (dx) conv2d_backward_data(g, n, dy, w, dx, scratch);
}

STATICNET_CPU_KERNELS_END
