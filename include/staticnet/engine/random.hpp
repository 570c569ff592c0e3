// staticnet/engine/random.hpp: the counter-based random bits behind Dropout,
// shared by every backend: element i's keep/drop decision is a pure function of
// (seed, i), so masks do not depend on the thread count, on how a kernel splits
// the range, or on the device. The functions are constexpr and, under nvcc,
// __host__ __device__.
//
//   const std::uint64_t key = sn::dropout_rng::key(seed);
//   const std::uint32_t thr = sn::dropout_rng::threshold(p);
//   bool kept = sn::dropout_rng::keeps(key, thr, i);   // p < 1; p >= 1 drops all
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define STATICNET_HD __host__ __device__
#else
#define STATICNET_HD
#endif

namespace staticnet::dropout_rng {

/// splitmix64's finaliser: a bijective 64-bit mix.
STATICNET_HD constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// The stream key of a forward pass's seed.
STATICNET_HD constexpr std::uint64_t key(std::uint64_t seed) noexcept { return mix64(seed ^ 0x6A09E667F3BCC909ull); }

/// Counter-based random 64 bits number `index` of the stream `key` (the
/// index-th output of splitmix64 started from the key).
STATICNET_HD constexpr std::uint64_t bits(std::uint64_t key, std::uint64_t index) noexcept {
  return mix64(key + (index + 1) * 0x9E3779B97F4A7C15ull);
}

/// Element i is dropped iff its 32 random bits are below this: probability
/// threshold / 2^32 ~= p (0 <= p < 1).
STATICNET_HD constexpr std::uint32_t threshold(float p) noexcept {
  const float q = p > 0.0f ? p : 0.0f;
  return static_cast<std::uint32_t>(static_cast<double>(q) * 4294967296.0);
}

/// Whether element i is kept: its 32 bits are half of 64-bit word i / 2 (the
/// low half for even i).
STATICNET_HD constexpr bool keeps(std::uint64_t key, std::uint32_t threshold, std::uint64_t i) noexcept {
  const std::uint64_t w = bits(key, i >> 1);
  const auto half = static_cast<std::uint32_t>((i & 1) ? (w >> 32) : w);
  return half >= threshold;
}

}  // namespace staticnet::dropout_rng
