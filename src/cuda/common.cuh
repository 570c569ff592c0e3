// src/cuda/common.cuh: what the CUDA kernels' translation units share: the
// launch check, a grid-stride element-wise launcher over device lambdas, and
// deterministic reductions (fixed per-thread order, then a fixed tree), so a
// result never depends on scheduling. Private to src/cuda (not installed).
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <cuda_runtime.h>

#include <staticnet/cuda/arith.hpp>
#include <staticnet/cuda/kernels.hpp>

namespace staticnet::cuda::kernel::detail {

/// Throws std::runtime_error naming the kernel when the launch failed.
inline void check_launch(const char* name) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("staticnet::cuda::kernel::") + name + ": " + cudaGetErrorString(e));
}

inline constexpr int threads = 256;             ///< threads per block of every kernel here
inline constexpr int warps = threads / 32;      ///< warps per block
inline constexpr std::size_t max_blocks = 65536;  ///< grid-stride loops beyond this

/// Blocks for `items` work items of `per_block` each (at least 1, at most max_blocks).
inline unsigned grid_for(std::size_t items, std::size_t per_block = threads) {
  const std::size_t b = (items + per_block - 1) / per_block;
  return static_cast<unsigned>(b == 0 ? 1 : b < max_blocks ? b : max_blocks);
}

template <class I, class F>
__global__ void __launch_bounds__(threads) flat_kernel(I n, F f) {
  const I stride = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + threadIdx.x; i < n; i += stride) f(i);
}

/// Runs f(i) for i in [0, n) on the device (no launch for n == 0). f is a
/// generic __device__ lambda: i is std::uint32_t when n < 2^31 (cheap index
/// arithmetic; i + stride cannot wrap), else std::uint64_t.
template <class F>
void for_each_index(const char* name, cudaStream_t stream, std::size_t n, F f) {
  if (n == 0) return;
  if (n < (std::size_t{1} << 31))
    flat_kernel<std::uint32_t><<<grid_for(n), threads, 0, stream>>>(static_cast<std::uint32_t>(n), f);
  else
    flat_kernel<std::uint64_t><<<grid_for(n), threads, 0, stream>>>(static_cast<std::uint64_t>(n), f);
  check_launch(name);
}

/// Sum over the block (blockDim.x == threads) in a fixed tree; every thread
/// gets the result. `shared` holds `threads` values; reusable after return.
template <class V>
__device__ V block_sum(V v, V* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = threads / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s) shared[threadIdx.x] += shared[threadIdx.x + s];
    __syncthreads();
  }
  const V r = shared[0];
  __syncthreads();
  return r;
}

/// Butterfly sum / max over a full warp: every lane gets the same bits.
template <class V>
__device__ V warp_sum(V v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ inline float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/// Calls f(offset) for this thread's share of channel ch of an n x c x hw
/// tensor: the channel's elements e = threadIdx.x, + blockDim.x, ... (e = img
/// * hw + j, offset (img * c + ch) * hw + j), stepped without divisions.
template <class F>
__device__ void for_channel(int n, int c, int hw, int ch, F&& f) {
  if (hw <= 0) return;
  const int step = static_cast<int>(blockDim.x);
  const int di = step / hw, dj = step % hw;
  int img = static_cast<int>(threadIdx.x) / hw, j = static_cast<int>(threadIdx.x) % hw;
  while (img < n) {
    f((static_cast<std::size_t>(img) * static_cast<std::size_t>(c) + static_cast<std::size_t>(ch)) *
          static_cast<std::size_t>(hw) +
      static_cast<std::size_t>(j));
    img += di;
    j += dj;
    if (j >= hw) {
      j -= hw;
      ++img;
    }
  }
}

/// Global warp index and warp count of a warp-per-row kernel.
__device__ inline unsigned warp_id() { return (blockIdx.x * blockDim.x + threadIdx.x) / 32u; }
__device__ inline unsigned warp_count() { return gridDim.x * blockDim.x / 32u; }
__device__ inline int lane_id() { return static_cast<int>(threadIdx.x % 32u); }

}  // namespace staticnet::cuda::kernel::detail
