// src/cuda/batchnorm.cu: BatchNorm2d (BatchNorm1d with hw = 1) CUDA kernels,
// NCHW, with cpu/batchnorm.hpp's semantics (cuda/kernels.hpp).
//
// Training forward and backward are two launches each: one block per channel
// reduces the channel in double, in a fixed order (for_channel's per-thread
// order, then block_sum's tree), and writes the channel's constants to
// scratch; then an element-wise pass over the whole tensor applies them. The
// forward's statistics take two passes over the channel (the sum, then the
// squared deviations from the float mean, as the CPU), the second mostly
// from L2. Scratch: 2 * c floats (forward: scale, shift) or 5 * c (backward:
// a, kx, kc, and the forward's scale and shift for a fused ReLU's mask).
#include "common.cuh"

namespace staticnet::cuda::kernel {

using namespace detail;

std::size_t batchnorm_scratch_floats(int, int c, int) { return 5 * static_cast<std::size_t>(c > 0 ? c : 0); }

namespace {

__global__ void __launch_bounds__(threads)
    bn_train_stats_kernel(int n, int c, int hw, const float* x, const float* gamma, const float* beta,
                          float* save_mean, float* save_invstd, float* running_mean, float* running_var,
                          float momentum, float eps, float* scratch) {
  __shared__ double sh[threads];
  const int ch = static_cast<int>(blockIdx.x);
  const double count = static_cast<double>(n) * static_cast<double>(hw);
  double s = 0.0;
  for_channel(n, c, hw, ch, [&](std::size_t off) { s += static_cast<double>(x[off]); });
  const float mean = arith::bn_mean(block_sum(s, sh), count);
  double q = 0.0;
  for_channel(n, c, hw, ch, [&](std::size_t off) {
    const double d = static_cast<double>(x[off]) - static_cast<double>(mean);
    q += d * d;
  });
  const double sq = block_sum(q, sh);
  if (threadIdx.x != 0) return;
  const float invstd = arith::bn_train_invstd(sq, count, eps);
  if (save_mean) save_mean[ch] = mean;
  if (save_invstd) save_invstd[ch] = invstd;
  if (running_mean) running_mean[ch] = arith::bn_running(running_mean[ch], mean, momentum);
  if (running_var) running_var[ch] = arith::bn_running(running_var[ch], arith::bn_unbiased_var(sq, count), momentum);
  arith::bn_scale_shift(gamma ? gamma[ch] : 1.0f, beta ? beta[ch] : 0.0f, mean, invstd, scratch[ch], scratch[c + ch]);
}

__global__ void __launch_bounds__(threads)
    bn_backward_sums_kernel(int n, int c, int hw, const float* x, const float* dy, const float* gamma,
                            const float* beta, const float* save_mean, const float* save_invstd, float* dgamma,
                            float* dbeta, bool relu, float* scratch) {
  __shared__ double sh[threads];
  const int ch = static_cast<int>(blockIdx.x);
  const float mean = save_mean[ch], invstd = save_invstd[ch], g = gamma ? gamma[ch] : 1.0f;
  float sc = 0.0f, sf = 0.0f;
  if (relu) arith::bn_scale_shift(g, beta ? beta[ch] : 0.0f, mean, invstd, sc, sf);
  double sdy = 0.0, sdyx = 0.0;
  for_channel(n, c, hw, ch, [&](std::size_t off) {
    const float xv = x[off];
    const double gv = static_cast<double>(arith::bn_output_grad(xv, dy[off], sc, sf, relu));
    sdy += gv;
    sdyx += gv * (static_cast<double>(xv) - static_cast<double>(mean));
  });
  sdy = block_sum(sdy, sh);
  sdyx = block_sum(sdyx, sh);
  if (threadIdx.x != 0) return;
  const arith::bn_backward_coef k =
      arith::bn_backward_coefficients(sdy, sdyx, invstd, g, static_cast<double>(n) * static_cast<double>(hw));
  if (dgamma) dgamma[ch] = k.dgamma;
  if (dbeta) dbeta[ch] = k.dbeta;
  scratch[ch] = k.a;
  scratch[c + ch] = k.kx;
  scratch[2 * c + ch] = k.kc;
  scratch[3 * c + ch] = sc;
  scratch[4 * c + ch] = sf;
}

std::size_t elements(int n, int c, int hw) {
  return static_cast<std::size_t>(n) * static_cast<std::size_t>(c) * static_cast<std::size_t>(hw);
}

}  // namespace

void batchnorm_forward_train(cudaStream_t stream, int n, int c, int hw, const float* x, const float* gamma,
                             const float* beta, float* y, float* save_mean, float* save_invstd,
                             float* running_mean, float* running_var, float momentum, float eps,
                             bool relu_output, float* scratch) {
  if (c <= 0) return;
  if (n < 0 || hw < 0 || static_cast<long long>(n) * hw <= 1)
    throw std::invalid_argument("staticnet::cuda::kernel::batchnorm_forward_train: expected more than 1 value per "
                                "channel when training (n * hw <= 1)");
  bn_train_stats_kernel<<<static_cast<unsigned>(c), threads, 0, stream>>>(
      n, c, hw, x, gamma, beta, save_mean, save_invstd, running_mean, running_var, momentum, eps, scratch);
  check_launch("batchnorm_forward_train");
  const float* coef = scratch;
  for_each_index("batchnorm_forward_train", stream, elements(n, c, hw), [=] __device__(auto i) {
    using I = decltype(i);
    const int ch = static_cast<int>((i / static_cast<I>(hw)) % static_cast<I>(c));
    y[i] = arith::bn_affine(x[i], coef[ch], coef[c + ch], relu_output);
  });
}

void batchnorm_forward_eval(cudaStream_t stream, int n, int c, int hw, const float* x, const float* gamma,
                            const float* beta, const float* running_mean, const float* running_var, float eps,
                            float* y, bool relu_output) {
  if (n <= 0 || c <= 0 || hw <= 0) return;
  for_each_index("batchnorm_forward_eval", stream, elements(n, c, hw), [=] __device__(auto i) {
    using I = decltype(i);
    const int ch = static_cast<int>((i / static_cast<I>(hw)) % static_cast<I>(c));
    float scale = 0.0f, shift = 0.0f;
    arith::bn_scale_shift(gamma ? gamma[ch] : 1.0f, beta ? beta[ch] : 0.0f, running_mean[ch],
                          arith::bn_eval_invstd(running_var[ch], eps), scale, shift);
    y[i] = arith::bn_affine(x[i], scale, shift, relu_output);
  });
}

void batchnorm_backward(cudaStream_t stream, int n, int c, int hw, const float* x, const float* dy,
                        const float* gamma, const float* beta, const float* save_mean, const float* save_invstd,
                        float* dx, float* dgamma, float* dbeta, bool relu_output, float* scratch) {
  if (c <= 0) return;
  if (n < 0) n = 0;
  if (hw < 0) hw = 0;
  bn_backward_sums_kernel<<<static_cast<unsigned>(c), threads, 0, stream>>>(
      n, c, hw, x, dy, gamma, beta, save_mean, save_invstd, dgamma, dbeta, relu_output, scratch);
  check_launch("batchnorm_backward");
  if (!dx) return;
  const float* coef = scratch;
  for_each_index("batchnorm_backward", stream, elements(n, c, hw), [=] __device__(auto i) {
    using I = decltype(i);
    const int ch = static_cast<int>((i / static_cast<I>(hw)) % static_cast<I>(c));
    const arith::bn_backward_coef k{coef[ch], coef[c + ch], coef[2 * c + ch], 0.0f, 0.0f};
    const float xv = x[i];
    const float g = arith::bn_output_grad(xv, dy[i], coef[3 * c + ch], coef[4 * c + ch], relu_output);
    dx[i] = arith::bn_backward_dx(xv, g, save_mean[ch], k);
  });
}

}  // namespace staticnet::cuda::kernel
