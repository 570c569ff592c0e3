// staticnet/data/xtensor.hpp: a dataset's arrays as xtensor expressions,
// without copying (for code that works on them with xtensor's functions).
//
//   auto imgs = sn::data::as_xtensor(d.images);   // an xt::xtensor_adaptor over d.images
//   auto mean = xt::mean(imgs, {0, 1, 2});
//
// Only this header includes xtensor; the rest of the data layer does not.
#pragma once
#include <cstddef>

#include <xtensor/xadapt.hpp>
#include <xtensor/xtensor.hpp>

#include "ndarray.hpp"

namespace staticnet::data {

/// A view of the array as an xtensor of the same shape (valid while the array lives).
template <class T, std::size_t N>
[[nodiscard]] auto as_xtensor(ndarray<T, N>& a) {
  return xt::adapt(a.data(), a.size(), xt::no_ownership(), a.shape());
}
template <class T, std::size_t N>
[[nodiscard]] auto as_xtensor(const ndarray<T, N>& a) {
  return xt::adapt(a.data(), a.size(), xt::no_ownership(), a.shape());
}

}  // namespace staticnet::data
