// staticnet/augment/compose.hpp: Compose, a pipeline of transforms (albumentations 1.3).
//
//   namespace aug = staticnet::augment;
//   const aug::Compose train_tf{
//       aug::HorizontalFlip{},
//       aug::ShiftScaleRotate{.shift_limit = 0.05, .scale_limit = 0.05, .rotate_limit = 15, .p = 0.5},
//       aug::CoarseDropout{.max_holes = 1, .max_height = 16, .max_width = 16, .min_holes = 1,
//                          .min_height = 16, .min_width = 16, .fill_value = {125, 123, 114}},
//       aug::Normalize{.mean = {0.4914, 0.4822, 0.4465}, .std = {0.2470, 0.2435, 0.2616}}};
//   staticnet::data::batch_loader loader(train, 128, true, true, seed, train_tf);  // a sample_transform
//
//   aug::Compose{{.p = 0.9}, aug::HorizontalFlip{}, ...}  // Compose's own p comes first
//
// Semantics (albumentations' Compose.__call__): one draw random() < p decides
// whether the pipeline runs; if it does not, only the transforms with
// always_apply = true run. Each transform then draws its own p coin and its
// parameters, in order. Normalize, if present, must be last: it turns the
// uint8 HWC image into float CHW.
//
//   operator()(hwc, h, w, c, chw_out, rng)  the staticnet::data::sample_transform
//       signature: writes output_shape(h, w, c).size() floats, C x H x W (the
//       raw pixel values as floats when Normalize is absent or not applied).
//       Thread-safe (const; each thread works in its own thread_local scratch
//       images, which stop allocating once grown), reproducible (the result
//       depends only on the input and the rng state).
//   apply(img, rng)  uint8 in, uint8 out: the pipeline up to Normalize (whose
//       p draw is not made), e.g. for a grid of augmented samples.
//   output_shape(h, w, c)  {channels, height, width} of the result, which must
//       not depend on the draws: a size-changing transform (PadIfNeeded,
//       RandomCrop) skipped by its p (or the pipeline's) makes operator()
//       throw std::logic_error before it writes.
#pragma once
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "image.hpp"
#include "normalize.hpp"
#include "params.hpp"
#include "random.hpp"

namespace staticnet::augment {

/// A transform on uint8 images (see transform.hpp).
template <class T>
concept image_transform = requires(const T& t, image& a, image& b, rng_type& rng, int& d) {
  { t.run(a, b, rng) } -> std::same_as<bool>;
  t.output_dims(d, d, d);
  t.validate();
};

template <class T>
inline constexpr bool is_normalize_v = std::is_same_v<std::remove_cvref_t<T>, Normalize>;

/// Compose's own parameters (the first constructor argument, optional).
struct compose_params {
  double p = 1.0;
};

/// The two working images of a pipeline run.
struct scratch {
  image a, b;
};

namespace detail {
inline scratch& thread_scratch() {
  thread_local scratch s;
  return s;
}
}  // namespace detail

template <class... Ts>
class Compose {
  static constexpr std::size_t count = sizeof...(Ts);
  static constexpr std::size_t normalize_count = (std::size_t{is_normalize_v<Ts>} + ... + std::size_t{0});

 public:
  /// Whether the last transform is Normalize.
  static constexpr bool ends_with_normalize = [] {
    if constexpr (count == 0) {
      return false;
    } else {
      return is_normalize_v<std::tuple_element_t<count - 1, std::tuple<Ts...>>>;
    }
  }();
  static_assert(normalize_count == 0 || (normalize_count == 1 && ends_with_normalize),
                "staticnet::augment::Compose: Normalize must be the last transform (it turns the uint8 HWC image "
                "into float CHW)");
  static_assert(((is_normalize_v<Ts> || image_transform<Ts>) && ...),
                "staticnet::augment::Compose: every argument must be a transform (HorizontalFlip, "
                "ShiftScaleRotate, CoarseDropout, ToGray, PadIfNeeded, RandomCrop, Normalize, ...)");

  struct shape {
    int channels = 0, height = 0, width = 0;
    [[nodiscard]] std::size_t size() const noexcept { return image::count(height, width, channels); }
    friend bool operator==(const shape&, const shape&) = default;
  };

  explicit Compose(Ts... transforms) : transforms_(std::move(transforms)...) { validate(); }
  Compose(compose_params params, Ts... transforms) : transforms_(std::move(transforms)...), p_(params.p) {
    validate();
  }

  [[nodiscard]] double p() const noexcept { return p_; }
  [[nodiscard]] const std::tuple<Ts...>& transforms() const noexcept { return transforms_; }
  template <std::size_t I>
  [[nodiscard]] const auto& get() const noexcept {
    return std::get<I>(transforms_);
  }

  /// Re-checks every transform's parameters (they are checked when constructed too).
  void validate() const {
    detail::check_probability("Compose", p_);
    std::apply([](const auto&... t) { (static_cast<void>(t.validate()), ...); }, transforms_);
  }

  /// {channels, height, width} of the output for an h x w x c input.
  [[nodiscard]] shape output_shape(int h, int w, int c) const {
    image::check_dims(h, w, c);
    std::apply([&](const auto&... t) { (t.output_dims(h, w, c), ...); }, transforms_);
    return {c, h, w};
  }

  /// uint8 -> uint8: the transforms before Normalize.
  [[nodiscard]] image apply(const image& in, rng_type& rng) const {
    image::check_dims(in.height, in.width, in.channels);
    scratch s;
    s.a = in;
    run_images(s, rng);
    return std::move(s.a);
  }

  /// The staticnet::data::sample_transform: h x w x c uint8 at hwc -> output_shape(h, w, c) floats, CHW.
  void operator()(const std::uint8_t* hwc, int h, int w, int c, float* chw_out, rng_type& rng) const {
    run(hwc, h, w, c, chw_out, rng, detail::thread_scratch());
  }

  /// operator() with the caller's scratch images.
  void run(const std::uint8_t* hwc, int h, int w, int c, float* chw_out, rng_type& rng, scratch& s) const {
    const shape expected = output_shape(h, w, c);
    s.a.assign(hwc, h, w, c);
    const bool need = run_images(s, rng);
    const shape got{s.a.channels, s.a.height, s.a.width};
    if (got != expected)
      throw std::logic_error(
          "staticnet::augment::Compose: this sample came out " + std::to_string(got.channels) + "x" +
          std::to_string(got.height) + "x" + std::to_string(got.width) + " instead of " +
          std::to_string(expected.channels) + "x" + std::to_string(expected.height) + "x" +
          std::to_string(expected.width) +
          " (a size-changing transform was skipped: give PadIfNeeded / RandomCrop p = 1, or always_apply = true "
          "when the Compose has p < 1)");
    if constexpr (ends_with_normalize) {
      const Normalize& norm = std::get<count - 1>(transforms_);
      if (need || norm.always_apply) {
        norm.run(s.a, chw_out, rng);
        return;
      }
    }
    functional::to_chw(s.a, chw_out);
  }

 private:
  // The Compose coin, then every uint8 transform on s.a; true if the coin passed.
  bool run_images(scratch& s, rng_type& rng) const {
    const bool need = coin(rng, p_);
    std::apply([&](const auto&... t) { (run_one(t, need, s, rng), ...); }, transforms_);
    return need;
  }
  template <class T>
  static void run_one(const T& t, bool need, scratch& s, rng_type& rng) {
    if constexpr (!is_normalize_v<T>) {
      if (need || t.always_apply) t.run(s.a, s.b, rng);
    }
  }

  std::tuple<Ts...> transforms_;
  double p_ = 1.0;
};

}  // namespace staticnet::augment
