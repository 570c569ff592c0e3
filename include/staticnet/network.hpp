// staticnet/network.hpp: Network<Input<C,H,W>, Layers...> — a network type.
#pragma once
#include <cstddef>

#include "core/shape.hpp"
#include "core/type_list.hpp"
#include "core/errors.hpp"
#include "core/plan.hpp"
#include "core/topology.hpp"

namespace staticnet {

namespace detail {
template <class Ops, int Row>
struct op_at_or_void {
  using type = type_at<static_cast<std::size_t>(Row), Ops>;
};
template <class Ops>
struct op_at_or_void<Ops, -1> {
  using type = void;
};
}  // namespace detail

/// A network: an input shape followed by layers. Every shape is inferred;
/// an invalid composition fails to compile with a message naming the layer.
///
///   using Net = Network<Input<3, 32, 32>,
///                       Conv2d<conv{.out = 16, .padding = 1}>, BatchNorm2d, ReLU,
///                       GlobalAvgPool, Conv2d<conv{.out = 10, .kernel = 1}>,
///                       Flatten, LogSoftmax>;
template <class In, class... Layers>
struct Network {
  static_assert(is_input<In>,
                "staticnet [E_NETWORK_INPUT]: the first argument of Network must be Input<C, H, W>");
  static_assert(sizeof...(Layers) > 0, "staticnet [E_EMPTY_NETWORK]: a Network needs at least one layer");

  using input_type = In;
  /// The flat op list: layers in execution order, with block and branch markers.
  using ops = flatten_t<Layers...>;
  static_assert(ops::size > 0, "staticnet [E_EMPTY_NETWORK]: a Network needs at least one layer");
  static constexpr std::size_t op_count = ops::size;
  /// Every op's shapes and facts.
  static constexpr auto plan = make_plan<ops>(In::value);

  // The first invalid layer (if any) instantiates invalid_layer<number, type, error>,
  // where exactly one static_assert fails.
  static_assert(sizeof(invalid_layer<plan.err_layer,
                                     typename detail::op_at_or_void<ops, plan.err_row>::type,
                                     plan.err>) > 0);

  static constexpr shape input_shape = In::value;
  static constexpr shape output_shape = plan.output;
};

template <class T>
inline constexpr bool is_network = false;
template <class In, class... Ls>
inline constexpr bool is_network<Network<In, Ls...>> = true;

/// A Network type (for constraining user templates).
template <class T>
concept network = is_network<T>;

}  // namespace staticnet
