// staticnet/data/ndarray.hpp: a small owning N-dimensional array, row-major
// and contiguous: the container of a dataset's images and labels.
//
//   auto a = sn::data::ndarray<std::uint8_t, 4>::from_shape({n, 32, 32, 3});
//   a(i, y, x, c) = 255;  a.shape()[0] == n;  a.data()[0];  std::fill(a.begin(), a.end(), 0);
//
// It has the part of xtensor's interface the data layer uses (from_shape,
// shape, data, size, element access, iteration); <staticnet/data/xtensor.hpp>
// views one as an xtensor expression without copying. (The container was
// xt::xtensor before 0.2; xtensor's headers cost every training program about
// 180 MB and most of a second to parse.)
#pragma once
#include <array>
#include <cstddef>
#include <vector>

namespace staticnet::data {

template <class T, std::size_t N>
class ndarray {
  static_assert(N >= 1, "staticnet::data::ndarray needs at least one dimension");

 public:
  using value_type = T;
  using shape_type = std::array<std::size_t, N>;
  using iterator = T*;
  using const_iterator = const T*;

  ndarray() = default;
  explicit ndarray(const shape_type& shape) : shape_(shape), values_(count(shape)) {}
  /// A zero-filled array of this shape.
  [[nodiscard]] static ndarray from_shape(const shape_type& shape) { return ndarray(shape); }

  [[nodiscard]] const shape_type& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t dimension() const noexcept { return N; }
  [[nodiscard]] std::size_t size() const noexcept { return values_.size(); }
  [[nodiscard]] T* data() noexcept { return values_.data(); }
  [[nodiscard]] const T* data() const noexcept { return values_.data(); }
  [[nodiscard]] iterator begin() noexcept { return values_.data(); }
  [[nodiscard]] iterator end() noexcept { return values_.data() + values_.size(); }
  [[nodiscard]] const_iterator begin() const noexcept { return values_.data(); }
  [[nodiscard]] const_iterator end() const noexcept { return values_.data() + values_.size(); }

  /// The element at (i0, ..., i(N-1)) (unchecked, as xtensor's operator()).
  template <class... I>
    requires(sizeof...(I) == N)
  [[nodiscard]] T& operator()(I... i) noexcept {
    return values_[offset(static_cast<std::size_t>(i)...)];
  }
  template <class... I>
    requires(sizeof...(I) == N)
  [[nodiscard]] const T& operator()(I... i) const noexcept {
    return values_[offset(static_cast<std::size_t>(i)...)];
  }

  friend bool operator==(const ndarray&, const ndarray&) = default;

 private:
  static std::size_t count(const shape_type& s) noexcept {
    std::size_t n = 1;
    for (std::size_t d : s) n *= d;
    return n;
  }
  template <class... I>
  std::size_t offset(I... i) const noexcept {
    const std::array<std::size_t, N> idx{i...};
    std::size_t o = 0;
    for (std::size_t d = 0; d < N; ++d) o = o * shape_[d] + idx[d];
    return o;
  }

  shape_type shape_{};
  std::vector<T> values_;
};

}  // namespace staticnet::data
