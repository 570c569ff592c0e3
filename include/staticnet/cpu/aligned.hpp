// staticnet/cpu/aligned.hpp: zeroed, 64-byte aligned host storage (huge-page
// aligned and advised for large buffers) for parameters, workspaces and
// optimizer state.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace staticnet {

namespace detail {
struct aligned_free {
  void operator()(void* p) const noexcept { std::free(p); }
};
template <class T>
using aligned_ptr = std::unique_ptr<T[], aligned_free>;

/// Zeroed storage for count T, 64-byte aligned. Buffers of 4 MiB and more
/// (the activation workspace) are aligned to 2 MiB and, on Linux, marked for
/// transparent huge pages before they are first touched: a training step walks
/// hundreds of MB of activations, and with 4 KiB pages much of its time goes
/// to TLB misses. (madvise is only a hint; without THP the buffer works the same.)
template <class T>
aligned_ptr<T> aligned_zeros(std::size_t count) {
  constexpr std::size_t huge = std::size_t{2} << 20;
  std::size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
  if (bytes == 0) bytes = 64;
  const bool large = bytes >= 2 * huge;
  if (large) bytes = (bytes + huge - 1) / huge * huge;
  void* p = std::aligned_alloc(large ? huge : 64, bytes);
  if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (large) ::madvise(p, bytes, MADV_HUGEPAGE);
#endif
  std::memset(p, 0, bytes);
  return aligned_ptr<T>(static_cast<T*>(p));
}
}  // namespace detail

}  // namespace staticnet
