// src/cuda/pooling.cu: MaxPool2d, AvgPool2d and global average pooling CUDA
// kernels, NCHW, with cpu/pooling.hpp's semantics (cuda/kernels.hpp): one
// thread per output element forward (arith::maxpool_at / avgpool_at), one per
// input element backward, which gathers from the outputs whose windows cover
// it (arith::maxpool_grad_at / avgpool_grad_at): no atomics, deterministic,
// and max pooling's gradient sums in the CPU's order. Global average pooling
// takes one warp per plane.
#include "common.cuh"

namespace staticnet::cuda::kernel {

using namespace detail;

namespace {

std::size_t plane_size(int h, int w) { return static_cast<std::size_t>(h) * static_cast<std::size_t>(w); }

/// Runs f(plane, row, column) for every element of n * g.c planes of h x w.
template <class F>
void for_each_pixel(const char* name, cudaStream_t stream, const cpu::pool_geom& g, int n, int h, int w, F f) {
  if (n <= 0 || g.c <= 0 || h <= 0 || w <= 0) return;
  const std::size_t plane = plane_size(h, w);
  for_each_index(name, stream, static_cast<std::size_t>(n) * static_cast<std::size_t>(g.c) * plane,
                 [=] __device__(auto i) {
                   using I = decltype(i);
                   const I p = i / static_cast<I>(plane);
                   const int r = static_cast<int>(i - p * static_cast<I>(plane));
                   f(static_cast<std::size_t>(p), r / w, r % w, static_cast<std::size_t>(i));
                 });
}

}  // namespace

void maxpool_forward(cudaStream_t stream, const cpu::pool_geom& g, int n, const float* x, float* y,
                     std::int32_t* argmax) {
  const std::size_t in_plane = plane_size(g.h_in, g.w_in);
  for_each_pixel("maxpool_forward", stream, g, n, g.h_out, g.w_out,
                 [=] __device__(std::size_t p, int oh, int ow, std::size_t i) {
                   std::int32_t a = -1;
                   y[i] = arith::maxpool_at(g, x + p * in_plane, oh, ow, a);
                   argmax[i] = a;
                 });
}

void maxpool_backward(cudaStream_t stream, const cpu::pool_geom& g, int n, const float* dy,
                      const std::int32_t* argmax, float* dx) {
  const std::size_t out_plane = plane_size(g.h_out, g.w_out);
  for_each_pixel("maxpool_backward", stream, g, n, g.h_in, g.w_in,
                 [=] __device__(std::size_t p, int ih, int iw, std::size_t i) {
                   dx[i] = arith::maxpool_grad_at(g, dy + p * out_plane, argmax + p * out_plane, ih, iw);
                 });
}

void avgpool_forward(cudaStream_t stream, const cpu::pool_geom& g, int n, const float* x, float* y) {
  const std::size_t in_plane = plane_size(g.h_in, g.w_in);
  for_each_pixel("avgpool_forward", stream, g, n, g.h_out, g.w_out,
                 [=] __device__(std::size_t p, int oh, int ow, std::size_t i) {
                   y[i] = arith::avgpool_at(g, x + p * in_plane, oh, ow);
                 });
}

void avgpool_backward(cudaStream_t stream, const cpu::pool_geom& g, int n, const float* dy, float* dx) {
  const std::size_t out_plane = plane_size(g.h_out, g.w_out);
  for_each_pixel("avgpool_backward", stream, g, n, g.h_in, g.w_in,
                 [=] __device__(std::size_t p, int ih, int iw, std::size_t i) {
                   dx[i] = arith::avgpool_grad_at(g, dy + p * out_plane, ih, iw);
                 });
}

namespace {
/// One warp per plane: y[p] = sum of the plane (double lanes, butterfly) / hw.
__global__ void __launch_bounds__(threads) global_avgpool_kernel(std::size_t planes, int hw, const float* x, float* y) {
  const int lane = lane_id();
  for (std::size_t p = warp_id(); p < planes; p += warp_count()) {
    const float* xp = x + p * static_cast<std::size_t>(hw);
    double s = 0.0;
    for (int j = lane; j < hw; j += 32) s += static_cast<double>(xp[j]);
    s = warp_sum(s);
    if (lane == 0) y[p] = static_cast<float>(s) / static_cast<float>(hw);
  }
}
}  // namespace

void global_avgpool_forward(cudaStream_t stream, int n, int c, int hw, const float* x, float* y) {
  if (n <= 0 || c <= 0) return;
  const std::size_t planes = static_cast<std::size_t>(n) * static_cast<std::size_t>(c);
  global_avgpool_kernel<<<grid_for(planes, warps), threads, 0, stream>>>(planes, hw < 0 ? 0 : hw, x, y);
  check_launch("global_avgpool_forward");
}

void global_avgpool_backward(cudaStream_t stream, int n, int c, int hw, const float* dy, float* dx) {
  if (n <= 0 || c <= 0 || hw <= 0) return;
  const std::size_t size = static_cast<std::size_t>(n) * static_cast<std::size_t>(c) * static_cast<std::size_t>(hw);
  for_each_index("global_avgpool_backward", stream, size, [=] __device__(auto i) {
    using I = decltype(i);
    dx[i] = dy[i / static_cast<I>(hw)] / static_cast<float>(hw);
  });
}

}  // namespace staticnet::cuda::kernel
