// staticnet/augment/random.hpp: the draws the augmentations make.
//
// Every random decision is drawn from the std::mt19937_64 the caller passes,
// with these functions (not the <random> distributions, whose output differs
// between standard libraries), so the same generator state gives the same
// augmentation with every compiler. They mirror Python's random module, which
// albumentations 1.3 draws from (the streams differ: Python uses the 32-bit
// Mersenne twister; the draw order per transform is the same as albumentations').
#pragma once
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>

namespace staticnet::augment {

using rng_type = std::mt19937_64;

/// random.random(): a double in [0, 1) with 53 random bits.
inline double uniform01(rng_type& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);  // 2^-53
}

/// random.uniform(a, b) = a + (b - a) * random(); exactly a when a == b.
inline double uniform(rng_type& rng, double a, double b) { return a + (b - a) * uniform01(rng); }

/// random.randint(a, b): an integer in [a, b], both ends included, unbiased.
inline int randint(rng_type& rng, int a, int b) {
  if (b < a)
    throw std::invalid_argument("staticnet::augment::randint: empty range [" + std::to_string(a) + ", " +
                                std::to_string(b) + "]");
  const std::uint64_t n = static_cast<std::uint64_t>(static_cast<std::int64_t>(b) - a) + 1;
  const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n: draws below it are rejected
  for (;;) {
    const std::uint64_t r = rng();
    if (r >= threshold) return static_cast<int>(static_cast<std::int64_t>(a) + static_cast<std::int64_t>(r % n));
  }
}

/// The probability test of albumentations: random.random() < p (one draw,
/// also when p is 0 or 1: p = 0 never passes, p = 1 always does).
inline bool coin(rng_type& rng, double p) { return uniform01(rng) < p; }

}  // namespace staticnet::augment
