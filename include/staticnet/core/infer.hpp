// staticnet/core/infer.hpp: what one layer does to a shape — output shape,
// parameters, buffers, cost, receptive-field step — from its input shape.
// The one place that knows each layer's arithmetic; plans, facts, rules and
// backends all read it from here.
#pragma once
#include <cstdint>

#include "op.hpp"
#include "shape.hpp"
#include "errors.hpp"
#include "winograd.hpp"

namespace staticnet {

/// Effective geometry of a spatial op along both axes.
struct geometry {
  int kh = 1, kw = 1;  ///< kernel
  int sh = 1, sw = 1;  ///< stride
  int ph = 0, pw = 0;  ///< padding
  int dh = 1, dw = 1;  ///< dilation
};

/// Everything one op yields from its input shape.
struct layer_facts {
  shape out{};
  error err = error::none;
  geometry g{};
  bool spatial = false;        ///< moves a window over H x W (conv, pooling; not global pooling)
  bool global_pool = false;    ///< pools the whole map into 1 x 1 (GlobalAvgPool, or a full-window pool)
  int groups = 1;
  bool bias = false;
  std::int64_t params = 0;     ///< trainable parameters (PyTorch convention)
  std::int64_t buffers = 0;    ///< non-trainable state (BN running mean / var)
  std::int64_t macs = 0;       ///< multiply-accumulates: conv / linear weights x output positions
  std::int64_t mult_adds = 0;  ///< torchinfo's "mult-adds"
  bool depthwise = false;
  bool pointwise = false;
  bool dilated = false;
  /// CPU convs: the output tile size m of the Winograd F(m x m, 3 x 3) the
  /// engine computes this conv with, or 0 for the direct conv (core/winograd.hpp).
  int winograd = 0;
  int winograd_data = 0;  ///< the same for its data gradient (chosen apart: core/winograd.hpp)
};

namespace detail {

constexpr int pick(int specific, int square) noexcept { return specific > 0 ? specific : square; }
constexpr int pick_pad(int specific, int square) noexcept { return specific >= 0 ? specific : square; }

/// floor(a / b) for b > 0 (C++ division truncates towards zero).
constexpr int floor_div(int a, int b) noexcept { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/// Output length of a window op, PyTorch's pooling_output_shape: floor, or
/// with ceil_mode ceil, of (in + 2p - d(k-1) - 1) / s, plus 1; with ceil_mode
/// a last window that would start in the right padding is dropped (it must
/// start inside the input or the left padding). < 1 means invalid.
constexpr int window_out(int in, int k, int s, int p, int d, bool ceil_mode) noexcept {
  const int span = in + 2 * p - d * (k - 1) - 1;
  int out = floor_div(ceil_mode ? span + s - 1 : span, s) + 1;
  if (ceil_mode && out > 0 && (out - 1) * s >= in + p) --out;
  return out;
}

constexpr layer_facts infer_conv(const op_desc& d, shape in) noexcept {
  layer_facts f;
  f.spatial = true;
  const conv& c = d.c;
  f.g = {pick(c.kernel_h, c.kernel), pick(c.kernel_w, c.kernel), pick(c.stride_h, c.stride),
         pick(c.stride_w, c.stride),  pick_pad(c.padding_h, c.padding), pick_pad(c.padding_w, c.padding),
         pick(c.dilation_h, c.dilation), pick(c.dilation_w, c.dilation)};
  const geometry& g = f.g;
  f.bias = c.bias;
  f.out = in;
  if (in.flat) return f.err = error::spatial_on_flat, f;
  int out_c = 0;
  int groups = 0;
  if (d.depthwise) {
    out_c = c.out == 0 ? in.c : c.out;
    groups = in.c;
    if (out_c <= 0 || out_c % in.c != 0) return f.err = error::depthwise_multiplier, f;
  } else {
    out_c = c.out;
    groups = c.groups;
    if (out_c <= 0) return f.err = error::conv_out_missing, f;
  }
  if (g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1 || g.ph < 0 || g.pw < 0 ||
      groups < 1)
    return f.err = error::conv_geometry, f;
  if (in.c % groups != 0) return f.err = error::groups_in, f;
  if (out_c % groups != 0) return f.err = error::groups_out, f;
  // Any padding >= 0, as in PyTorch; the padded input must hold one dilated kernel.
  if (in.h + 2 * g.ph < g.dh * (g.kh - 1) + 1 || in.w + 2 * g.pw < g.dw * (g.kw - 1) + 1)
    return f.err = error::nonpositive_output, f;
  const int oh = window_out(in.h, g.kh, g.sh, g.ph, g.dh, false);
  const int ow = window_out(in.w, g.kw, g.sw, g.pw, g.dw, false);
  f.out = shape{out_c, oh, ow, false};
  f.groups = groups;
  const std::int64_t weights = std::int64_t{out_c} * (in.c / groups) * g.kh * g.kw;
  f.params = weights + (c.bias ? out_c : 0);
  f.macs = weights * f.out.positions();
  f.mult_adds = f.params * f.out.positions();
  f.depthwise = d.depthwise || (groups > 1 && groups == in.c);
  f.pointwise = g.kh == 1 && g.kw == 1 && groups == 1;
  f.dilated = g.dh > 1 || g.dw > 1;
  const winograd_shape ws{in.c, out_c, oh, ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, groups};
  f.winograd = winograd_tile(ws, c.algo);
  if (f.winograd < 0) return f.winograd = 0, f.err = error::winograd_ineligible, f;
  f.winograd_data = f.winograd == 0 ? 0 : winograd_data_tile(ws, in.h, in.w, c.algo);
  return f;
}

constexpr layer_facts infer_pool(const op_desc& d, shape in) noexcept {
  layer_facts f;
  f.spatial = true;
  const pool& p = d.p;
  const int s = p.stride == 0 ? p.kernel : p.stride;
  const int dil = d.kind == op_kind::maxpool ? p.dilation : 1;
  f.g = {p.kernel, p.kernel, s, s, p.padding, p.padding, dil, dil};
  f.out = in;
  if (in.flat) return f.err = error::spatial_on_flat, f;
  if (p.kernel < 1 || s < 1 || dil < 1 || p.padding < 0) return f.err = error::pool_geometry, f;
  // PyTorch: pad <= kernel / 2 (and <= half the effective kernel, which that implies).
  if (p.padding > p.kernel / 2) return f.err = error::pool_padding_too_large, f;
  const int oh = window_out(in.h, p.kernel, s, p.padding, dil, p.ceil_mode);
  const int ow = window_out(in.w, p.kernel, s, p.padding, dil, p.ceil_mode);
  if (oh < 1 || ow < 1) return f.err = error::nonpositive_output, f;
  f.out = shape{in.c, oh, ow, false};
  f.dilated = dil > 1;
  // One undilated, unpadded window over the whole map (AvgPool2d(k) on a
  // k x k map): global pooling, which adds nothing to the receptive field.
  if (oh == 1 && ow == 1 && p.padding == 0 && dil == 1 && p.kernel >= in.h && p.kernel >= in.w)
    f.global_pool = true, f.spatial = false;
  return f;
}

constexpr layer_facts infer_zero_pad(const op_desc& d, shape in) noexcept {
  layer_facts f;
  f.out = in;
  if (in.flat) return f.err = error::spatial_on_flat, f;
  const pad& z = d.zp;
  const int h = in.h + z.top + z.bottom;
  const int w = in.w + z.left + z.right;
  if (h < 1 || w < 1) return f.err = error::nonpositive_output, f;
  f.out = shape{in.c, h, w, false};
  return f;
}

}  // namespace detail

/// The facts of one (non-marker) op applied to `in`.
constexpr layer_facts infer(const op_desc& d, shape in) noexcept {
  layer_facts f;
  f.out = in;
  switch (d.kind) {
    case op_kind::conv: return detail::infer_conv(d, in);
    case op_kind::maxpool:
    case op_kind::avgpool: return detail::infer_pool(d, in);
    case op_kind::batchnorm:
      if (in.flat) return f.err = error::spatial_on_flat, f;
      f.params = 2 * std::int64_t{in.c};
      f.buffers = 2 * std::int64_t{in.c};
      f.mult_adds = f.params;  // torchinfo: parameters x batch for non-conv layers
      return f;
    case op_kind::global_avgpool:
      if (in.flat) return f.err = error::spatial_on_flat, f;
      f.out = shape{in.c, 1, 1, false};
      f.global_pool = true;
      return f;
    case op_kind::zero_pad: return detail::infer_zero_pad(d, in);
    case op_kind::flatten: f.out = shape{static_cast<int>(in.numel()), 1, 1, true}; return f;
    case op_kind::linear: {
      if (!in.flat) return f.err = error::linear_not_flat, f;
      if (d.l.out <= 0) return f.err = error::linear_out_missing, f;
      f.out = shape{d.l.out, 1, 1, true};
      f.bias = d.l.bias;
      const std::int64_t weights = std::int64_t{in.c} * d.l.out;
      f.params = weights + (d.l.bias ? d.l.out : 0);
      f.macs = weights;
      f.mult_adds = f.params;
      return f;
    }
    case op_kind::dropout:
      if (d.drop.ppm < 0 || d.drop.ppm > 1000000) return f.err = error::dropout_probability, f;
      return f;
    default: return f;  // relu, log_softmax, identity, markers: shape unchanged, no parameters
  }
}

/// Facts of a layer type applied to an input shape, e.g.
/// `facts_of<Conv2d<conv{.out = 8}>>(shape{3, 32, 32})`.
template <class Layer>
constexpr layer_facts facts_of(shape in) noexcept {
  static_assert(requires { Layer::desc; },
                "staticnet [E_FACTS_OF]: facts_of<L> takes one primitive layer; for Sequential and other "
                "composites build a Network and read Net::plan");
  return infer(Layer::desc, in);
}

}  // namespace staticnet
