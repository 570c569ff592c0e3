// staticnet/core/type_list.hpp: the flat type list networks are made of.
#pragma once
#include <cstddef>
#include <tuple>

namespace staticnet {

template <class... Ts>
struct type_list {
  static constexpr std::size_t size = sizeof...(Ts);
};

/// Concatenation by operator+, so a fold expression joins many lists with
/// one instantiation per list instead of a recursive template.
template <class... As, class... Bs>
constexpr type_list<As..., Bs...> operator+(type_list<As...>, type_list<Bs...>) noexcept {
  return {};
}

template <class... Lists>
using concat_t = decltype((type_list<>{} + ... + Lists{}));

namespace detail {
template <std::size_t I, class List>
struct type_at_impl;
template <std::size_t I, class... Ts>
struct type_at_impl<I, type_list<Ts...>> {
  using type = std::tuple_element_t<I, std::tuple<Ts...>>;
};
}  // namespace detail

template <std::size_t I, class List>
using type_at = typename detail::type_at_impl<I, List>::type;

}  // namespace staticnet
