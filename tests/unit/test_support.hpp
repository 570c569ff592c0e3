// Shared helpers of the unit tests (not a test itself: only *.cpp files are
// globbed into test executables).
#pragma once
#include <cmath>
#include <cstdint>
#include <ostream>
#include <string>

#include <staticnet/core.hpp>

namespace staticnet {
// Readable gtest failure messages for shapes and error codes (found by ADL).
inline void PrintTo(const shape& s, std::ostream* os) {
  *os << "shape{c=" << s.c << ", h=" << s.h << ", w=" << s.w << (s.flat ? ", flat}" : "}");
}
inline void PrintTo(error e, std::ostream* os) { *os << "error(" << static_cast<int>(e) << ")"; }
}  // namespace staticnet

namespace sn_test {

/// A value as the tools print it with "%.2f", in hundredths: 9.19 -> 919.
inline long hundredths(double v) { return std::lround(v * 100.0); }

/// Sum of the parameters of layers first..last (1-based layer numbers, inclusive).
template <std::size_t N>
constexpr std::int64_t params_of_layers(const staticnet::plan<N>& pl, int first, int last) {
  std::int64_t sum = 0;
  for (const auto& r : pl.rows)
    if (r.is_layer() && r.number >= first && r.number <= last) sum += r.f.params;
  return sum;
}

/// The row of layer number `n` (1-based), for use with a runtime number.
template <std::size_t N>
constexpr const staticnet::plan_row& row_of(const staticnet::plan<N>& pl, int n) {
  for (const auto& r : pl.rows)
    if (r.number == n) return r;
  return pl.rows[0];
}

/// Number of non-overlapping occurrences of `needle` in `hay`.
inline int occurrences(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (std::size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + needle.size())) ++n;
  return n;
}

}  // namespace sn_test
