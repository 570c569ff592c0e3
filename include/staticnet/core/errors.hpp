// staticnet/core/errors.hpp: every invalid composition, one code and one
// static_assert each, reported through one small template whose arguments are
// the layer's number (as in the summary), the layer's type, the code and the
// shape the layer gets, never the network's type:
//   In instantiation of 'struct staticnet::invalid_layer<49, staticnet::Conv2d<...>,
//                        staticnet::error::groups_in, staticnet::input<32, 32, 32> >'
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
  winograd_ineligible,
  // found in the network's types, before any shape is inferred
  network_input,      ///< the first argument of Network is not Input<C, H, W>
  input_nonpositive,  ///< Input<C, H, W> with C, H or W <= 0
  empty_network,      ///< no layer after the input
  not_a_layer,        ///< a type in the layer list that is not a layer
  block_name,         ///< Block<"", ...>
  module_name,        ///< Module<"...", ...> whose name is not a Python identifier of 1..23 characters
  branch_count,       ///< Add / Concat with fewer than two branches
};

/// The shape an invalid layer gets, as its error's note shows it:
/// `input<C, H, W>`, or `input<N>` for a flat vector of N features.
template <int... Dims>
struct input {};

/// What one branch of an Add / Concat gives, as a merge error's note shows it:
/// `Add<branch<1>::gives<64, 16, 16>, branch<2>::gives<128, 16, 16>>`.
template <int Number>
struct branch {
  template <int... Dims>
  struct gives {};
};

/// The report of a network's first error. Network names it as its member type
/// `report` (for a valid network `invalid_layer<0, void, error::none, void>`);
/// the facts, the rules and the summary complete it, so exactly one of these
/// assertions fails, once, in a context whose template arguments are these
/// four small ones. `Layer` is the layer's type, or for an error at a merge
/// `Add<branch<I>::gives<...>, branch<J>::gives<...>>` (`Concat<...>`), or the
/// marker or type concerned; `Input` is `input<...>`, the shape reaching it.
template <int LayerNumber, class Layer, error E, class Input = void>
struct invalid_layer {
  static_assert(E != error::conv_out_missing,
                "staticnet [E_CONV_OUT]: Conv2d: output channels (.out) must be positive");
  static_assert(E != error::conv_geometry,
                "staticnet [E_CONV_GEOMETRY]: Conv2d: kernel, stride, dilation and groups must be >= 1 "
                "and padding >= 0");
  static_assert(E != error::groups_in,
                "staticnet [E_GROUPS_IN]: Conv2d: input channels are not divisible by groups (the input is "
                "input<C, H, W> in the note)");
  static_assert(E != error::groups_out,
                "staticnet [E_GROUPS_OUT]: Conv2d: output channels are not divisible by groups");
  static_assert(E != error::depthwise_multiplier,
                "staticnet [E_DEPTHWISE_OUT]: DepthwiseConv2d: .out must be 0 (same as input) or a "
                "multiple of the input channels (the input is input<C, H, W> in the note)");
  static_assert(E != error::pool_geometry,
                "staticnet [E_POOL_GEOMETRY]: pooling: kernel, stride and dilation must be >= 1 and "
                "padding >= 0");
  static_assert(E != error::pool_padding_too_large,
                "staticnet [E_POOL_PADDING]: pooling: padding must be at most half the kernel size, "
                "padding <= kernel / 2 (PyTorch: pad should be at most half of effective kernel size)");
  static_assert(E != error::nonpositive_output,
                "staticnet [E_OUTPUT_SIZE]: the output height or width would be zero or negative: the "
                "(padded) input, input<C, H, W> in the note, is too small for this kernel, dilation and "
                "stride, or a ZeroPad2d crops all of it");
  static_assert(E != error::spatial_on_flat,
                "staticnet [E_FLAT_INPUT]: this layer needs a C x H x W input but gets a flat vector, "
                "input<N> in the note (it comes after Flatten or Linear)");
  static_assert(E != error::linear_not_flat,
                "staticnet [E_LINEAR_INPUT]: Linear needs a flat input: put Flatten before it (it gets "
                "input<C, H, W> in the note)");
  static_assert(E != error::linear_out_missing,
                "staticnet [E_LINEAR_OUT]: Linear: output features (.out) must be positive");
  static_assert(E != error::dropout_probability,
                "staticnet [E_DROPOUT_P]: Dropout: the probability must be in [0, 1]");
  static_assert(E != error::add_shape_mismatch,
                "staticnet [E_ADD_SHAPE]: Add: the branches produce different shapes (the note shows "
                "them: Add<branch<1>::gives<C, H, W>, branch<I>::gives<C, H, W>>)");
  static_assert(E != error::concat_spatial_mismatch,
                "staticnet [E_CONCAT_SHAPE]: Concat: the branches produce different spatial sizes "
                "(or mix flat and C x H x W outputs; the note shows them: "
                "Concat<branch<1>::gives<...>, branch<I>::gives<...>>)");
  static_assert(E != error::winograd_ineligible,
                "staticnet [E_WINOGRAD]: Conv2d: .algo = winograd_f2 / winograd_f4 needs a 3x3 kernel, "
                "stride 1, groups 1 and padding <= 2 x dilation; use conv_algo::automatic or direct");
  static_assert(E != error::nesting_too_deep,
                "staticnet [E_NESTING]: branches or blocks are nested more than 32 levels deep");
  static_assert(E != error::network_input,
                "staticnet [E_NETWORK_INPUT]: the first argument of Network must be Input<C, H, W> (the "
                "note names the type given)");
  static_assert(E != error::input_nonpositive,
                "staticnet [E_INPUT]: Input<C, H, W> needs positive channels, height and width");
  static_assert(E != error::empty_network, "staticnet [E_EMPTY_NETWORK]: a Network needs at least one layer");
  static_assert(E != error::not_a_layer,
                "staticnet [E_NOT_A_LAYER]: this type is not a layer (expected a layer such as "
                "Conv2d<conv{...}>, or Sequential / Block / Add / Concat; the note names it as "
                "not_a_layer<T>)");
  static_assert(E != error::block_name, "staticnet [E_BLOCK_NAME]: a Block needs a non-empty name");
  static_assert(E != error::module_name,
                "staticnet [E_MODULE_NAME]: a Module's name is its PyTorch class name: a Python identifier "
                "(letters, digits and '_', not starting with a digit) of at most 23 characters");
  static_assert(E != error::branch_count,
                "staticnet [E_BRANCH_COUNT]: Add and Concat need at least two branches (the note names it "
                "as too_few_branches<Add<...>>; Residual<...> is x + f(x))");
  static constexpr bool value = E == error::none;
};

}  // namespace staticnet
