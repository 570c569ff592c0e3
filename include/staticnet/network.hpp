// staticnet/network.hpp: Network<Input<C,H,W>, Layers...> — a network type.
#pragma once
#include <cstddef>
#include <type_traits>

#include "core/shape.hpp"
#include "core/type_list.hpp"
#include "core/errors.hpp"
#include "core/plan.hpp"
#include "core/topology.hpp"

namespace staticnet {

namespace detail {

/// The op at row `Row` of the flat list, or `In` for an error of the network
/// as a whole (row -1: its input, no layers).
template <class Ops, int Row, class In>
struct op_at_or_input {
  using type = type_at<static_cast<std::size_t>(Row), Ops>;
};
template <class Ops, class In>
struct op_at_or_input<Ops, -1, In> {
  using type = In;
};

/// A shape as an error's note shows it: input<C, H, W>, or input<N> when flat.
/// (int arguments: g++ 12 crashes on shape arguments passed on from here.)
template <int C, int H, int W, bool Flat>
using input_of = std::conditional_t<Flat, input<C>, input<C, H, W>>;
template <int Number, int C, int H, int W, bool Flat>
using branch_gives = std::conditional_t<Flat, typename branch<Number>::template gives<C>,
                                        typename branch<Number>::template gives<C, H, W>>;

/// What the report names: the op, or for a merge whose branches disagree the
/// merge with what its first and its disagreeing branch give. (Aliases, not
/// partial specialisations on class-type arguments, which nvcc's front end
/// does not deduce.)
template <error E, class Op, class First, class Other>
using error_subject =
    std::conditional_t<E == error::add_shape_mismatch, Add<First, Other>,
                       std::conditional_t<E == error::concat_spatial_mismatch, Concat<First, Other>, Op>>;

template <class In, class Ops>
constexpr auto network_plan() noexcept {
  if constexpr (is_input<In>) {
    return make_plan<Ops>(In::value);
  } else {
    auto pl = make_plan<Ops>(shape{1, 1, 1});
    pl.err = error::network_input;
    pl.err_row = -1;
    pl.err_layer = 0;
    return pl;
  }
}

/// The type of a fact of a network: T when the network is valid, void when
/// it is not (`Valid` is `Net::report::value`, whose evaluation reports the
/// error). A fact of an invalid network is thus ill-formed rather than a
/// plausible partial figure: g++ adds one line per fact used ("variable or
/// field 'param_count' declared void"), clang nothing, and a user's
/// static_assert on the fact fails with no second, misleading number.
template <bool Valid>
struct fact_type {
  template <class T>
  using type = void;
};
template <>
struct fact_type<true> {
  template <class T>
  using type = T;
};
template <bool Valid, class T>
using fact_t = typename fact_type<Valid>::template type<T>;

}  // namespace detail

/// A network: an input shape followed by layers. Every shape is inferred;
/// an invalid composition fails to compile, when a fact, a rule, the summary
/// or a model is asked of it, with one message naming the layer (see `report`).
///
///   using Net = Network<Input<3, 32, 32>,
///                       Conv2d<conv{.out = 16, .padding = 1}>, BatchNorm2d, ReLU,
///                       GlobalAvgPool, Conv2d<conv{.out = 10, .kernel = 1}>,
///                       Flatten, LogSoftmax>;
template <class In, class... Layers>
struct Network {
  using input_type = In;
  /// The flat op list: layers in execution order, with block and branch markers.
  using ops = flatten_t<Layers...>;
  static constexpr std::size_t op_count = ops::size;
  /// Every op's shapes and facts, and the first error (plan.err).
  static constexpr auto plan = detail::network_plan<In, ops>();

  /// The first error's report, `invalid_layer<number, layer type, error, input<...>>`
  /// (`invalid_layer<0, void, error::none, void>` when valid). Instantiating
  /// the Network checks nothing, so that no diagnostic is issued in a context
  /// whose template arguments spell out the whole network: the facts, the
  /// rules, the summary and the models complete this type where they are
  /// used, and its static_assert for plan.err fails there.
  using report = std::conditional_t<
      plan.err == error::none, invalid_layer<0, void, error::none, void>,
      invalid_layer<
          plan.err_layer,
          detail::error_subject<
              plan.err, typename detail::op_at_or_input<ops, plan.err_row, In>::type,
              detail::branch_gives<1, plan.err_first.c, plan.err_first.h, plan.err_first.w, plan.err_first.flat>,
              detail::branch_gives<plan.err_branch, plan.err_other.c, plan.err_other.h, plan.err_other.w,
                                   plan.err_other.flat>>,
          plan.err,
          std::conditional_t<(plan.err_row >= 0),
                             detail::input_of<plan.err_in.c, plan.err_in.h, plan.err_in.w, plan.err_in.flat>,
                             void>>>;

  static constexpr shape input_shape = plan.input;
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
