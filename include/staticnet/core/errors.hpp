// staticnet/core/errors.hpp: every invalid composition, one code and one
// static_assert each. The message names the layer kind and the rule; the
// instantiation note names the layer's number (as in the summary) and type:
//   In instantiation of 'struct staticnet::invalid_layer<5, staticnet::Conv2d<...>, ...>'
//   error: static assertion failed: staticnet [E_GROUPS_IN]: Conv2d: input channels ...
#pragma once
#include <cstdint>

namespace staticnet {

enum class error : int {
  none,
  conv_out_missing,
  conv_geometry,
  groups_in,
  groups_out,
  depthwise_multiplier,
  pool_geometry,
  pool_padding_too_large,
  nonpositive_output,
  spatial_on_flat,
  linear_not_flat,
  linear_out_missing,
  dropout_probability,
  add_shape_mismatch,
  concat_spatial_mismatch,
  nesting_too_deep,
};

/// Instantiated only for the first invalid layer of a network; exactly one
/// of these assertions fails.
template <int LayerNumber, class Layer, error E>
struct invalid_layer {
  static_assert(E != error::conv_out_missing,
                "staticnet [E_CONV_OUT]: Conv2d: output channels (.out) must be positive");
  static_assert(E != error::conv_geometry,
                "staticnet [E_CONV_GEOMETRY]: Conv2d: kernel, stride, dilation and groups must be >= 1 "
                "and padding >= 0");
  static_assert(E != error::groups_in,
                "staticnet [E_GROUPS_IN]: Conv2d: input channels are not divisible by groups");
  static_assert(E != error::groups_out,
                "staticnet [E_GROUPS_OUT]: Conv2d: output channels are not divisible by groups");
  static_assert(E != error::depthwise_multiplier,
                "staticnet [E_DEPTHWISE_OUT]: DepthwiseConv2d: .out must be 0 (same as input) or a "
                "multiple of the input channels");
  static_assert(E != error::pool_geometry,
                "staticnet [E_POOL_GEOMETRY]: pooling: kernel, stride and dilation must be >= 1 and "
                "padding >= 0");
  static_assert(E != error::pool_padding_too_large,
                "staticnet [E_POOL_PADDING]: pooling: padding must be at most half the kernel size, "
                "padding <= kernel / 2 (PyTorch: pad should be at most half of effective kernel size)");
  static_assert(E != error::nonpositive_output,
                "staticnet [E_OUTPUT_SIZE]: the output height or width would be zero or negative: the "
                "(padded) input is too small for this kernel, dilation and stride, or a ZeroPad2d crops "
                "all of it");
  static_assert(E != error::spatial_on_flat,
                "staticnet [E_FLAT_INPUT]: this layer needs a C x H x W input but gets a flat vector "
                "(it comes after Flatten or Linear)");
  static_assert(E != error::linear_not_flat,
                "staticnet [E_LINEAR_INPUT]: Linear needs a flat input: put Flatten before it");
  static_assert(E != error::linear_out_missing,
                "staticnet [E_LINEAR_OUT]: Linear: output features (.out) must be positive");
  static_assert(E != error::dropout_probability,
                "staticnet [E_DROPOUT_P]: Dropout: the probability must be in [0, 1]");
  static_assert(E != error::add_shape_mismatch,
                "staticnet [E_ADD_SHAPE]: Add: the branches produce different shapes");
  static_assert(E != error::concat_spatial_mismatch,
                "staticnet [E_CONCAT_SHAPE]: Concat: the branches produce different spatial sizes "
                "(or mix flat and C x H x W outputs)");
  static_assert(E != error::nesting_too_deep,
                "staticnet [E_NESTING]: branches or blocks are nested more than 32 levels deep");
  static constexpr bool value = E == error::none;
};

}  // namespace staticnet
