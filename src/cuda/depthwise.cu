// src/cuda/depthwise.cu: depthwise convolution CUDA kernels (groups == c_in,
// c_out = mult * c_in; any kernel size, stride, padding, dilation; NCHW,
// weights [c_out][1][kh][kw]), with PyTorch's semantics (cuda/kernels.hpp).
//
//   forward        one thread per output element (arith::depthwise_at)
//   backward data  one thread per input element, gathering from the outputs
//                  that read it (arith::depthwise_grad_data_at)
//   backward filter one block per (output channel, tap, slice of the n *
//                  h_out * w_out positions) reducing in a fixed order; with
//                  more than one slice the slices' partial sums go to scratch
//                  and a second pass adds them in slice order. The bias
//                  gradient is one more "tap" (the sum of dy). Deterministic.
#include "common.cuh"

namespace staticnet::cuda::kernel {

using namespace detail;

namespace {

std::size_t out_plane_of(const cpu::conv_geom& g) {
  return static_cast<std::size_t>(g.h_out) * static_cast<std::size_t>(g.w_out);
}
std::size_t in_plane_of(const cpu::conv_geom& g) {
  return static_cast<std::size_t>(g.h_in) * static_cast<std::size_t>(g.w_in);
}

/// Slices of the weight gradient's reduction for a batch of n: about 32K
/// positions each, at most 64; non-decreasing in n (so the scratch sized for
/// max_batch covers every smaller batch).
int filter_slices(const cpu::conv_geom& g, int n) {
  const std::size_t positions = static_cast<std::size_t>(n > 0 ? n : 0) * out_plane_of(g);
  const std::size_t s = positions / 32768;
  return static_cast<int>(s < 1 ? 1 : s > 64 ? 64 : s);
}

/// Block b: slice b % slices of "tap" (b / slices) % terms of output channel
/// b / (slices * terms); tap == taps is the bias.
template <class I>
__global__ void __launch_bounds__(threads)
    dw_filter_kernel(cpu::conv_geom g, int n, int slices, int terms, const float* x, const float* dy, float* dw,
                     float* dbias, float* partial) {
  __shared__ float sh[threads];
  const int b = static_cast<int>(blockIdx.x);
  const int slice = b % slices, tap = (b / slices) % terms, oc = b / (slices * terms);
  const int taps = g.kh * g.kw, mult = g.c_out / g.c_in, c = oc / mult;
  const int ky = tap / g.kw, kx = tap % g.kw;
  const I out_plane = static_cast<I>(g.h_out) * static_cast<I>(g.w_out);
  const I in_plane = static_cast<I>(g.h_in) * static_cast<I>(g.w_in);
  const unsigned long long total = static_cast<unsigned long long>(n) * static_cast<unsigned long long>(out_plane);
  const I e0 = static_cast<I>(total * static_cast<unsigned>(slice) / static_cast<unsigned>(slices));
  const I e1 = static_cast<I>(total * static_cast<unsigned>(slice + 1) / static_cast<unsigned>(slices));
  float acc = 0.0f;
  for (I e = e0 + threadIdx.x; e < e1; e += blockDim.x) {
    const I img = e / out_plane;
    const int r = static_cast<int>(e - img * out_plane);
    const float* dyp = dy + (img * static_cast<I>(g.c_out) + static_cast<I>(oc)) * out_plane;
    if (tap == taps) {
      acc += dyp[r];
    } else {
      const float* xp = x + (img * static_cast<I>(g.c_in) + static_cast<I>(c)) * in_plane;
      acc = arith::depthwise_grad_filter_term(g, xp, dyp, ky, kx, r / g.w_out, r % g.w_out, acc);
    }
  }
  acc = block_sum(acc, sh);
  if (threadIdx.x != 0) return;
  if (slices > 1)
    partial[static_cast<std::size_t>(b)] = acc;
  else if (tap == taps)
    dbias[oc] = acc;
  else
    dw[static_cast<std::size_t>(oc) * static_cast<std::size_t>(taps) + static_cast<std::size_t>(tap)] = acc;
}

}  // namespace

bool depthwise_supported(const cpu::conv_geom& g) {
  return g.c_in >= 1 && g.groups == g.c_in && g.c_out >= g.c_in && g.c_out % g.c_in == 0 && g.kh >= 1 &&
         g.kw >= 1 && g.sh >= 1 && g.sw >= 1 && g.dh >= 1 && g.dw >= 1 && g.ph >= 0 && g.pw >= 0 && g.h_in >= 0 &&
         g.w_in >= 0 && g.h_out >= 0 && g.w_out >= 0;
}

namespace {
void require_supported(const cpu::conv_geom& g, const char* name) {
  if (!depthwise_supported(g))
    throw std::invalid_argument(std::string("staticnet::cuda::kernel::") + name +
                                ": not a depthwise geometry (groups == c_in, c_out a multiple of c_in, positive "
                                "kernel, stride and dilation)");
}
}  // namespace

std::size_t depthwise_scratch_floats(const cpu::conv_geom& g, int max_batch) {
  const int s = filter_slices(g, max_batch);
  if (s <= 1) return 0;
  return static_cast<std::size_t>(s) * static_cast<std::size_t>(g.c_out) *
         (static_cast<std::size_t>(g.kh) * static_cast<std::size_t>(g.kw) + 1);
}

void depthwise_forward(cudaStream_t stream, const cpu::conv_geom& g, int n, const float* x, const float* w,
                       const float* bias, float* y, bool relu) {
  require_supported(g, "depthwise_forward");
  if (n <= 0) return;
  const std::size_t out_plane = out_plane_of(g), in_plane = in_plane_of(g);
  const std::size_t taps = static_cast<std::size_t>(g.kh) * static_cast<std::size_t>(g.kw);
  const int mult = g.c_out / g.c_in;
  for_each_index("depthwise_forward", stream, static_cast<std::size_t>(n) * static_cast<std::size_t>(g.c_out) * out_plane,
                 [=] __device__(auto i) {
                   using I = decltype(i);
                   const I p = i / static_cast<I>(out_plane);  // img * c_out + oc
                   const int r = static_cast<int>(i - p * static_cast<I>(out_plane));
                   const int oc = static_cast<int>(p % static_cast<I>(g.c_out));
                   const std::size_t img = static_cast<std::size_t>(p / static_cast<I>(g.c_out));
                   const float* xp =
                       x + (img * static_cast<std::size_t>(g.c_in) + static_cast<std::size_t>(oc / mult)) * in_plane;
                   y[i] = arith::depthwise_at(g, xp, w + static_cast<std::size_t>(oc) * taps, bias ? bias[oc] : 0.0f,
                                              relu, r / g.w_out, r % g.w_out);
                 });
}

void depthwise_backward_data(cudaStream_t stream, const cpu::conv_geom& g, int n, const float* dy, const float* w,
                             float* dx) {
  require_supported(g, "depthwise_backward_data");
  if (n <= 0) return;
  const std::size_t out_plane = out_plane_of(g), in_plane = in_plane_of(g);
  for_each_index("depthwise_backward_data", stream,
                 static_cast<std::size_t>(n) * static_cast<std::size_t>(g.c_in) * in_plane, [=] __device__(auto i) {
                   using I = decltype(i);
                   const I p = i / static_cast<I>(in_plane);  // img * c_in + c
                   const int r = static_cast<int>(i - p * static_cast<I>(in_plane));
                   const int c = static_cast<int>(p % static_cast<I>(g.c_in));
                   const std::size_t img = static_cast<std::size_t>(p / static_cast<I>(g.c_in));
                   const float* dyi = dy + img * static_cast<std::size_t>(g.c_out) * out_plane;
                   dx[i] = arith::depthwise_grad_data_at(g, dyi, w, c, r / g.w_in, r % g.w_in);
                 });
}

void depthwise_backward_filter(cudaStream_t stream, const cpu::conv_geom& g, int n, const float* x, const float* dy,
                               float* dw, float* dbias, float* scratch) {
  require_supported(g, "depthwise_backward_filter");
  const int taps = g.kh * g.kw;
  if (n < 0) n = 0;
  const int terms = taps + (dbias ? 1 : 0);
  const int slices = scratch ? filter_slices(g, n) : 1;
  const std::size_t blocks = static_cast<std::size_t>(g.c_out) * static_cast<std::size_t>(terms) *
                             static_cast<std::size_t>(slices);
  const std::size_t positions = static_cast<std::size_t>(n) * out_plane_of(g);
  const std::size_t extent = positions + static_cast<std::size_t>(threads);  // e < e1 + blockDim in the loop
  if (extent < (std::size_t{1} << 31) &&
      static_cast<std::size_t>(n) * static_cast<std::size_t>(g.c_out) * out_plane_of(g) < (std::size_t{1} << 31) &&
      static_cast<std::size_t>(n) * static_cast<std::size_t>(g.c_in) * in_plane_of(g) < (std::size_t{1} << 31))
    dw_filter_kernel<std::uint32_t><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(g, n, slices, terms, x, dy,
                                                                                          dw, dbias, scratch);
  else
    dw_filter_kernel<std::uint64_t><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(g, n, slices, terms, x, dy,
                                                                                          dw, dbias, scratch);
  check_launch("depthwise_backward_filter");
  if (slices <= 1) return;
  const float* partial = scratch;
  for_each_index("depthwise_backward_filter", stream, static_cast<std::size_t>(g.c_out) * static_cast<std::size_t>(terms),
                 [=] __device__(auto i) {
                   const std::size_t q = static_cast<std::size_t>(i);  // oc * terms + tap
                   double s = 0.0;
                   for (int k = 0; k < slices; ++k)
                     s += static_cast<double>(partial[q * static_cast<std::size_t>(slices) + static_cast<std::size_t>(k)]);
                   const int oc = static_cast<int>(q / static_cast<std::size_t>(terms));
                   const int tap = static_cast<int>(q % static_cast<std::size_t>(terms));
                   if (tap == taps)
                     dbias[oc] = static_cast<float>(s);
                   else
                     dw[static_cast<std::size_t>(oc) * static_cast<std::size_t>(taps) + static_cast<std::size_t>(tap)] =
                         static_cast<float>(s);
                 });
}

}  // namespace staticnet::cuda::kernel
