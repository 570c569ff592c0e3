// staticnet/augment/image.hpp: the uint8 image the augmentations work on.
//
// An image is height x width x channels bytes, channels interleaved (HWC), the
// layout of the numpy arrays albumentations works on and of the datasets in
// staticnet/data. Channels: 1 (grey) to 4; the transforms are written for 1 or 3.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace staticnet::augment {

struct image {
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<std::uint8_t> data;  ///< height * width * channels bytes, HWC

  image() = default;
  /// A height x width x channels image filled with `fill`.
  image(int h, int w, int c, std::uint8_t fill = 0) {
    reset(h, w, c);
    std::fill(data.begin(), data.end(), fill);
  }
  /// Takes `pixels` (HWC, exactly h * w * c bytes).
  image(int h, int w, int c, std::vector<std::uint8_t> pixels) {
    check_dims(h, w, c);
    if (pixels.size() != count(h, w, c))
      throw std::invalid_argument("staticnet::augment::image: " + std::to_string(pixels.size()) +
                                  " bytes given for a " + std::to_string(h) + "x" + std::to_string(w) + "x" +
                                  std::to_string(c) + " image (" + std::to_string(count(h, w, c)) + " needed)");
    height = h;
    width = w;
    channels = c;
    data = std::move(pixels);
  }
  /// A copy of h * w * c bytes at `hwc`.
  static image from_hwc(const std::uint8_t* hwc, int h, int w, int c) {
    image im;
    im.assign(hwc, h, w, c);
    return im;
  }

  /// Sets the dimensions; keeps the buffer's capacity (no allocation when it
  /// shrinks or regrows within what it held before). Contents unspecified.
  void reset(int h, int w, int c) {
    check_dims(h, w, c);
    height = h;
    width = w;
    channels = c;
    data.resize(count(h, w, c));
  }
  /// Copies h * w * c bytes at `hwc` (reusing the buffer).
  void assign(const std::uint8_t* hwc, int h, int w, int c) {
    reset(h, w, c);
    if (!data.empty()) std::memcpy(data.data(), hwc, data.size());
  }

  [[nodiscard]] std::size_t size() const noexcept { return data.size(); }
  [[nodiscard]] bool empty() const noexcept { return data.empty(); }
  [[nodiscard]] std::size_t row_stride() const noexcept {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(channels);
  }
  /// The first channel of pixel (y, x).
  [[nodiscard]] std::uint8_t* pixel(int y, int x) noexcept { return data.data() + offset(y, x); }
  [[nodiscard]] const std::uint8_t* pixel(int y, int x) const noexcept { return data.data() + offset(y, x); }
  [[nodiscard]] std::uint8_t& at(int y, int x, int k = 0) noexcept { return pixel(y, x)[k]; }
  [[nodiscard]] std::uint8_t at(int y, int x, int k = 0) const noexcept { return pixel(y, x)[k]; }

  friend bool operator==(const image&, const image&) = default;

  static std::size_t count(int h, int w, int c) noexcept {
    return static_cast<std::size_t>(h) * static_cast<std::size_t>(w) * static_cast<std::size_t>(c);
  }
  static void check_dims(int h, int w, int c) {
    if (h < 1 || w < 1 || c < 1 || c > 4)
      throw std::invalid_argument("staticnet::augment::image: bad dimensions " + std::to_string(h) + "x" +
                                  std::to_string(w) + "x" + std::to_string(c) +
                                  " (height and width >= 1, 1 to 4 channels)");
  }

 private:
  [[nodiscard]] std::size_t offset(int y, int x) const noexcept {
    return (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) *
           static_cast<std::size_t>(channels);
  }
};

}  // namespace staticnet::augment
