// staticnet/report/records.hpp: what the reports draw: chart series, training history, labelled
// images, colours. Needs no cairo.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace staticnet::report {

/// One line of a chart: the points (x[i], y[i]). Points with a NaN or
/// infinite coordinate are skipped, and the line is broken there.
struct series {
  std::string name;  ///< the legend entry
  std::vector<double> x, y;
};

/// One epoch of a training history; accuracies are fractions in [0, 1].
/// A NaN (e.g. an epoch without a test pass) is skipped in the charts.
struct epoch_record {
  int epoch = 0;
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0, lr = 0;
};

/// An 8-bit image in height x width x channel order (c = 1: grey, c = 3: RGB),
/// with the caption drawn under it ('\n' starts a new line; a caption too wide
/// for its cell is broken at " / ", then at spaces).
struct labelled_image {
  std::vector<std::uint8_t> hwc;
  int h = 0, w = 0, c = 0;
  std::string caption;
};

/// An 8-bit RGB colour.
struct colour {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const colour&, const colour&) = default;
};

/// The colour of the i-th series of a chart (the ten "Tableau 10" colours, cycled).
inline colour series_colour(std::size_t i) noexcept {
  static constexpr colour palette[10] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                         {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                         {188, 189, 34},  {23, 190, 207}};
  return palette[i % 10];
}

/// The heat-map colour of a share f in [0, 1] (a white-to-dark-blue ramp, "Blues").
inline colour heat_colour(double f) noexcept {
  static constexpr colour ramp[9] = {{247, 251, 255}, {222, 235, 247}, {198, 219, 239}, {158, 202, 225}, {107, 174, 214},
                                     {66, 146, 198},  {33, 113, 181},  {8, 81, 156},    {8, 48, 107}};
  if (!(f > 0)) return ramp[0];
  if (f >= 1) return ramp[8];
  const double t = f * 8;
  const int i = static_cast<int>(t);
  const double u = t - i;
  auto mix = [u](std::uint8_t a, std::uint8_t b) {
    return static_cast<std::uint8_t>(std::lround(a + (static_cast<double>(b) - a) * u));
  };
  return {mix(ramp[i].r, ramp[i + 1].r), mix(ramp[i].g, ramp[i + 1].g), mix(ramp[i].b, ramp[i + 1].b)};
}

namespace detail {

[[noreturn]] inline void fail(const std::filesystem::path& png, const std::string& what) {
  throw std::runtime_error("staticnet::report: " + png.string() + ": " + what);
}

}  // namespace detail

}  // namespace staticnet::report
