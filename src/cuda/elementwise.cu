// src/cuda/elementwise.cu: the CUDA engine's element-wise kernels: ReLU,
// dropout (the CPU engine's masks, engine/random.hpp), residual add, bias +
// ReLU and the bias gradient, channel concatenation (cuda/kernels.hpp).
#include "common.cuh"

namespace staticnet::cuda::kernel {

using namespace detail;

void relu_forward(cudaStream_t stream, std::size_t size, const float* x, float* y) {
  for_each_index("relu_forward", stream, size, [=] __device__(auto i) { y[i] = arith::relu_value(x[i]); });
}

void relu_backward(cudaStream_t stream, std::size_t size, const float* y, const float* dy, float* dx) {
  for_each_index("relu_backward", stream, size,
                 [=] __device__(auto i) { dx[i] = arith::relu_grad(y[i], dy[i]); });
}

void dropout_forward(cudaStream_t stream, std::size_t size, const float* x, float* y, std::uint8_t* mask, float p,
                     const std::uint64_t* seed) {
  const arith::dropout_setup s = arith::dropout_params(p);
  for_each_index("dropout_forward", stream, size, [=] __device__(auto i) {
    const std::uint64_t key = dropout_rng::key(*seed);
    const std::uint8_t m = arith::dropout_mask(key, s, static_cast<std::uint64_t>(i));
    mask[i] = m;
    y[i] = arith::dropout_apply(x[i], m, s.scale);
  });
}

void dropout_backward(cudaStream_t stream, std::size_t size, const std::uint8_t* mask, float p, const float* dy,
                      float* dx) {
  const float scale = arith::dropout_params(p).scale;
  for_each_index("dropout_backward", stream, size,
                 [=] __device__(auto i) { dx[i] = arith::dropout_apply(dy[i], mask[i], scale); });
}

void add_inplace(cudaStream_t stream, std::size_t size, const float* src, float* dst) {
  for_each_index("add_inplace", stream, size, [=] __device__(auto i) { dst[i] += src[i]; });
}

void bias_relu(cudaStream_t stream, int n, int c, int hw, float* y, const float* bias, bool relu) {
  if (n <= 0 || c <= 0 || hw <= 0 || (!bias && !relu)) return;
  const std::size_t size = static_cast<std::size_t>(n) * static_cast<std::size_t>(c) * static_cast<std::size_t>(hw);
  for_each_index("bias_relu", stream, size, [=] __device__(auto i) {
    using I = decltype(i);
    float v = y[i];
    if (bias) v += bias[(i / static_cast<I>(hw)) % static_cast<I>(c)];
    y[i] = relu ? arith::relu_value(v) : v;
  });
}

namespace {
__global__ void __launch_bounds__(threads) bias_backward_kernel(int n, int c, int hw, const float* dy, float* dbias) {
  __shared__ double sh[threads];
  const int ch = static_cast<int>(blockIdx.x);
  double s = 0.0;
  for_channel(n, c, hw, ch, [&](std::size_t off) { s += static_cast<double>(dy[off]); });
  s = block_sum(s, sh);
  if (threadIdx.x == 0) dbias[ch] = static_cast<float>(s);
}
}  // namespace

void bias_backward(cudaStream_t stream, int n, int c, int hw, const float* dy, float* dbias) {
  if (c <= 0) return;
  bias_backward_kernel<<<static_cast<unsigned>(c), threads, 0, stream>>>(n < 0 ? 0 : n, c, hw < 0 ? 0 : hw, dy,
                                                                         dbias);
  check_launch("bias_backward");
}

void concat_forward(cudaStream_t stream, int n, int hw, int c_total, int c_offset, int c_part, const float* part,
                    float* y) {
  if (n <= 0 || hw <= 0 || c_part <= 0) return;
  const std::size_t run = static_cast<std::size_t>(c_part) * static_cast<std::size_t>(hw);
  const std::size_t stride = static_cast<std::size_t>(c_total) * static_cast<std::size_t>(hw);
  const std::size_t off = static_cast<std::size_t>(c_offset) * static_cast<std::size_t>(hw);
  for_each_index("concat_forward", stream, static_cast<std::size_t>(n) * run, [=] __device__(auto i) {
    const std::size_t img = static_cast<std::size_t>(i / static_cast<decltype(i)>(run));
    const std::size_t k = static_cast<std::size_t>(i) - img * run;
    y[img * stride + off + k] = part[i];
  });
}

void concat_backward(cudaStream_t stream, int n, int hw, int c_total, int c_offset, int c_part, const float* dy,
                     float* dpart, bool accumulate) {
  if (n <= 0 || hw <= 0 || c_part <= 0) return;
  const std::size_t run = static_cast<std::size_t>(c_part) * static_cast<std::size_t>(hw);
  const std::size_t stride = static_cast<std::size_t>(c_total) * static_cast<std::size_t>(hw);
  const std::size_t off = static_cast<std::size_t>(c_offset) * static_cast<std::size_t>(hw);
  for_each_index("concat_backward", stream, static_cast<std::size_t>(n) * run, [=] __device__(auto i) {
    const std::size_t img = static_cast<std::size_t>(i / static_cast<decltype(i)>(run));
    const std::size_t k = static_cast<std::size_t>(i) - img * run;
    const float g = dy[img * stride + off + k];
    dpart[i] = accumulate ? dpart[i] + g : g;
  });
}

void zero_pad2d(cudaStream_t stream, int planes, int h, int w, int left, int right, int top, int bottom,
                const float* x, float* y) {
  const int ho = h + top + bottom, wo = w + left + right;
  if (planes <= 0 || ho <= 0 || wo <= 0) return;
  const std::size_t out_plane = static_cast<std::size_t>(ho) * static_cast<std::size_t>(wo);
  const std::size_t in_plane = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
  for_each_index("zero_pad2d", stream, static_cast<std::size_t>(planes) * out_plane, [=] __device__(auto i) {
    const std::size_t p = static_cast<std::size_t>(i) / out_plane;
    const std::size_t q = static_cast<std::size_t>(i) - p * out_plane;
    const int r = static_cast<int>(q / static_cast<std::size_t>(wo)) - top;
    const int c = static_cast<int>(q % static_cast<std::size_t>(wo)) - left;
    y[i] = (r >= 0 && r < h && c >= 0 && c < w)
               ? x[p * in_plane + static_cast<std::size_t>(r) * static_cast<std::size_t>(w) + static_cast<std::size_t>(c)]
               : 0.0f;
  });
}

}  // namespace staticnet::cuda::kernel
