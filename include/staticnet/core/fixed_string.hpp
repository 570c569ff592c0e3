// staticnet/core/fixed_string.hpp: a string usable as a template argument.
#pragma once
#include <cstddef>
#include <string_view>

namespace staticnet {

/// A string literal that can be passed as a template argument
/// (`Block<"C1", ...>`). Structural, so it works with g++, clang and nvcc.
template <std::size_t N>
struct fixed_string {
  char data[N]{};
  constexpr fixed_string(const char (&s)[N]) noexcept {
    for (std::size_t i = 0; i < N; ++i) data[i] = s[i];
  }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {data, N - 1}; }
  [[nodiscard]] static constexpr std::size_t size() noexcept { return N - 1; }
};

/// A short name stored by value inside compile-time plans (block names).
struct short_name {
  static constexpr std::size_t capacity = 23;
  char data[capacity + 1]{};
  std::size_t length = 0;
  constexpr short_name() = default;
  constexpr explicit short_name(std::string_view s) noexcept {
    length = s.size() < capacity ? s.size() : capacity;
    for (std::size_t i = 0; i < length; ++i) data[i] = s[i];
  }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {data, length}; }
  friend constexpr bool operator==(const short_name& a, const short_name& b) noexcept {
    return a.view() == b.view();
  }
};

}  // namespace staticnet
