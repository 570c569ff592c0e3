// src/cuda/input.cu: input normalisation of uint8 NCHW images on the device,
// y = (x / 255 - mean[c]) / std[c] (cuda/kernels.hpp, arith::normalize_u8_value).
#include "common.cuh"

namespace staticnet::cuda::kernel {

using namespace detail;

void normalize_u8(cudaStream_t stream, int n, int c, int hw, const std::uint8_t* x, const float* mean,
                  const float* std, float* y) {
  if (n <= 0 || c <= 0 || hw <= 0) return;
  const std::size_t size = static_cast<std::size_t>(n) * static_cast<std::size_t>(c) * static_cast<std::size_t>(hw);
  for_each_index("normalize_u8", stream, size, [=] __device__(auto i) {
    using I = decltype(i);
    const int ch = static_cast<int>((i / static_cast<I>(hw)) % static_cast<I>(c));
    y[i] = arith::normalize_u8_value(x[i], mean[ch], std[ch]);
  });
}

}  // namespace staticnet::cuda::kernel
