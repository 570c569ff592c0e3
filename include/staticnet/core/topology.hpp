// staticnet/core/topology.hpp: composing layers — Sequential, Block, Module, Add, Concat, Residual.
//
// Every composite is flattened into one flat list of ops; blocks and branches
// become marker ops, so the network stays a flat type list end to end.
// (Composites publish their ops as a member type instead of being matched by
// partial specialisation: nvcc's front end does not deduce class-type
// template arguments such as Block's name in partial specialisations.)
#pragma once
#include <concepts>

#include "fixed_string.hpp"
#include "op.hpp"
#include "type_list.hpp"

namespace staticnet {

/// A type that describes one op (a primitive layer or a marker).
template <class T>
concept primitive_layer = requires {
  { T::desc } -> std::convertible_to<op_desc>;
};

/// A composite (Sequential, Block, Add, Concat): publishes its flat op list.
template <class T>
concept composite_layer = requires { typename T::staticnet_ops; };

namespace detail {

/// A type in a layer list that is neither a layer nor a composite: an op
/// whose error (E_NOT_A_LAYER) the plan reports, naming it as not_a_layer<T>.
/// (A static_assert here would fire while the Network is instantiated, and
/// its note would spell out the whole network's type.)
template <class T>
struct not_a_layer {
  static constexpr op_desc desc{.kind = op_kind::identity, .err = error::not_a_layer};
};
/// An Add / Concat of fewer than two branches, reported the same way (E_BRANCH_COUNT).
template <class Composite>
struct too_few_branches {
  static constexpr op_desc desc{.kind = op_kind::identity, .err = error::branch_count};
};

template <class T>
struct flatten_one {
  using type = type_list<not_a_layer<T>>;
};
template <class T>
  requires(primitive_layer<T> && !composite_layer<T>)
struct flatten_one<T> {
  using type = type_list<T>;
};
template <composite_layer T>
struct flatten_one<T> {
  using type = typename T::staticnet_ops;
};
template <class T>
using flatten_one_t = typename flatten_one<T>::type;

template <fixed_string Name>
struct block_begin_op {
  static constexpr op_desc desc{.kind = op_kind::block_begin, .name = short_name(Name.view()),
                                .err = Name.size() > 0 ? error::none : error::block_name};
};
struct block_end_op {
  static constexpr op_desc desc{.kind = op_kind::block_end};
};
/// A Python identifier of at most short_name::capacity characters (a Module's class name).
constexpr bool module_name_ok(std::string_view s) noexcept {
  if (s.empty() || s.size() > short_name::capacity) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(s[0])) return false;
  for (const char c : s)
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

template <fixed_string Name>
struct module_begin_op {
  static constexpr op_desc desc{.kind = op_kind::block_begin, .name = short_name(Name.view()), .module = true,
                                .err = module_name_ok(Name.view()) ? error::none : error::module_name};
};
template <fixed_string Name>
struct module_end_op {
  static constexpr op_desc desc{.kind = op_kind::block_end, .name = short_name(Name.view()), .module = true};
};

template <merge_kind M, int N>
struct branch_begin_op {
  static constexpr op_desc desc{.kind = op_kind::branch_begin, .merge = M, .branches = N};
};
struct branch_next_op {
  static constexpr op_desc desc{.kind = op_kind::branch_next};
};
template <merge_kind M, int N>
struct branch_end_op {
  static constexpr op_desc desc{.kind = op_kind::branch_end, .merge = M, .branches = N};
};

template <merge_kind M, class Composite, class... Bs>
struct flatten_branches {
  using type = type_list<too_few_branches<Composite>>;
};
template <merge_kind M, class Composite, class B0, class B1, class... Bs>
struct flatten_branches<M, Composite, B0, B1, Bs...> {
  using type = concat_t<type_list<branch_begin_op<M, 2 + sizeof...(Bs)>>, flatten_one_t<B0>,
                        type_list<branch_next_op>, flatten_one_t<B1>,
                        concat_t<type_list<branch_next_op>, flatten_one_t<Bs>>...,
                        type_list<branch_end_op<M, 2 + sizeof...(Bs)>>>;
};

}  // namespace detail

/// Layers applied one after another (inlined into the enclosing list).
template <class... Layers>
struct Sequential {
  using staticnet_ops = concat_t<detail::flatten_one_t<Layers>...>;
};

/// A named group of layers ("C1", "C2", ..., "O"), used by the block rules
/// and shown in the summary.
template <fixed_string Name, class... Layers>
struct Block {
  // An empty name is reported by the plan (E_BLOCK_NAME), as every error is.
  using staticnet_ops = concat_t<type_list<detail::block_begin_op<Name>>, detail::flatten_one_t<Layers>...,
                                 type_list<detail::block_end_op>>;
};

/// A named module: what a PyTorch model writes as a class of its own
/// (`class ConvBlock(nn.Module)`), here the layers applied in order. Its
/// parameters are named by its index in its container, its layers by theirs
/// within it ("2.0.weight"); torchsummary prints a row for it after its
/// layers' (its output shape, 0 parameters of its own), torchinfo a container
/// row before them. Not a Block: the block rules do not see it, its layers
/// count in the enclosing Block. `Name` is its Python class name.
template <fixed_string Name, class... Layers>
struct Module {
  // A name that is not a Python identifier is reported by the plan (E_MODULE_NAME), as every error is.
  using staticnet_ops = concat_t<type_list<detail::module_begin_op<Name>>, detail::flatten_one_t<Layers>...,
                                 type_list<detail::module_end_op<Name>>>;
};

/// Parallel branches fed the same input, merged by element-wise addition.
/// Each branch is a layer or a Sequential<...>; Sequential<> is the identity.
/// Fewer than two branches are reported by the plan (E_BRANCH_COUNT).
template <class... Branches>
struct Add {
  using staticnet_ops = typename detail::flatten_branches<merge_kind::add, Add, Branches...>::type;
};

/// Parallel branches fed the same input, merged by channel concatenation.
template <class... Branches>
struct Concat {
  using staticnet_ops = typename detail::flatten_branches<merge_kind::concat, Concat, Branches...>::type;
};

/// x + f(x): an identity shortcut around the given layers.
template <class... Layers>
using Residual = Add<Sequential<>, Sequential<Layers...>>;

/// The flat op list of some layers: `flatten_t<Conv2d<...>, Block<"C1", ...>>`.
template <class... Layers>
using flatten_t = concat_t<detail::flatten_one_t<Layers>...>;

}  // namespace staticnet
