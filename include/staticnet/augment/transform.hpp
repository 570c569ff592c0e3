// staticnet/augment/transform.hpp: what every transform shares.
//
// A transform is an aggregate with albumentations' parameter names as fields
// (designated initialisers: HorizontalFlip{.p = 0.3}); it validates them when
// constructed and throws std::invalid_argument. Its protocol:
//
//   bool run(image& img, image& scratch, rng_type& rng) const
//       albumentations' __call__: draws random() < p (always one draw; a pass
//       or always_apply applies it), then its parameters, then transforms img
//       (scratch is a second buffer it may use; both keep their capacity, so
//       a pipeline does not allocate once they have grown). true if applied.
//   image apply(const image& in, rng_type& rng) const
//       the same on a copy.
//   void output_dims(int& h, int& w, int& c) const
//       the dimensions it produces when applied (identity for most).
//
// The random draws use staticnet/augment/random.hpp in albumentations' order.
#pragma once
#include <utility>

#include "image.hpp"
#include "params.hpp"
#include "random.hpp"

namespace staticnet::augment::detail {

/// albumentations' `(random.random() < self.p) or self.always_apply` (the draw
/// is made first, so it is made even when always_apply is set).
template <class T>
bool draws_apply(const T& t, rng_type& rng) {
  const bool hit = coin(rng, t.p);
  return hit || t.always_apply;
}

/// T::apply(in, rng) in terms of T::run.
template <class T>
image apply_copy(const T& t, const image& in, rng_type& rng) {
  image out = in, scratch;
  t.run(out, scratch, rng);
  return out;
}

}  // namespace staticnet::augment::detail
