// staticnet/cuda/kernels.hpp: the CUDA engine's own kernels, as host launcher
// functions (defined in src/cuda/*.cu, compiled by nvcc into libstaticnet_cuda;
// this header is plain C++ and compiles under g++, clang++ and nvcc).
//
// Every launcher enqueues its work on `stream` and returns at once: no host
// synchronisation, no allocation (scratch comes from the caller, sized by the
// *_scratch_floats functions at construction). All pointers are device
// pointers. Layouts and semantics are the CPU kernels' (cpu/kernel_table.hpp),
// including which outputs are overwritten and which accumulate. Scalars that
// change from step to step (dropout seed, optimizer coefficients, loss output)
// are passed through device memory so that a captured CUDA graph replays with
// the current values. A launch error throws std::runtime_error naming the
// kernel (cudaGetLastError after the launch).
#pragma once
#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

#include "../cpu/kernel_types.hpp"

namespace staticnet::cuda::kernel {

// ------------------------------------------------------------ BatchNorm2d --
/// Scratch floats batchnorm_forward_train / batchnorm_backward need for n x c x hw.
std::size_t batchnorm_scratch_floats(int n, int c, int hw);
/// Training mode: batch statistics (biased variance for the output, unbiased
/// for running_var, momentum as PyTorch); save_mean / save_invstd (c floats
/// each) for the backward; y = relu(bn(x)) when relu_output.
void batchnorm_forward_train(cudaStream_t stream, int n, int c, int hw, const float* x, const float* gamma,
                             const float* beta, float* y, float* save_mean, float* save_invstd,
                             float* running_mean, float* running_var, float momentum, float eps,
                             bool relu_output, float* scratch);
/// Eval mode: running statistics.
void batchnorm_forward_eval(cudaStream_t stream, int n, int c, int hw, const float* x, const float* gamma,
                            const float* beta, const float* running_mean, const float* running_var, float eps,
                            float* y, bool relu_output);
/// dx (may be null; overwritten), dgamma, dbeta (overwritten). relu_output:
/// the forward applied a ReLU to its output, whose mask is rebuilt from x,
/// the saved statistics, gamma and beta.
void batchnorm_backward(cudaStream_t stream, int n, int c, int hw, const float* x, const float* dy,
                        const float* gamma, const float* beta, const float* save_mean, const float* save_invstd,
                        float* dx, float* dgamma, float* dbeta, bool relu_output, float* scratch);

// ------------------------------------------------------------- element-wise --
void relu_forward(cudaStream_t stream, std::size_t size, const float* x, float* y);
void relu_backward(cudaStream_t stream, std::size_t size, const float* y, const float* dy, float* dx);
/// Inverted dropout with the masks of engine/random.hpp (equal to the CPU
/// engine's for the same seed): *seed is read on the device.
void dropout_forward(cudaStream_t stream, std::size_t size, const float* x, float* y, std::uint8_t* mask, float p,
                     const std::uint64_t* seed);
void dropout_backward(cudaStream_t stream, std::size_t size, const std::uint8_t* mask, float p, const float* dy,
                      float* dx);
/// dst += src.
void add_inplace(cudaStream_t stream, std::size_t size, const float* src, float* dst);
/// y[n, c, :] += bias[c] and then, when relu, y = max(y, 0) (in place; bias may be null).
void bias_relu(cudaStream_t stream, int n, int c, int hw, float* y, const float* bias, bool relu);
/// dbias[c] = sum over n and hw of dy (overwritten).
void bias_backward(cudaStream_t stream, int n, int c, int hw, const float* dy, float* dbias);

// ---------------------------------------------------------------- pooling --
void maxpool_forward(cudaStream_t stream, const cpu::pool_geom& g, int n, const float* x, float* y,
                     std::int32_t* argmax);
/// dx (overwritten) = scatter-add of dy at argmax (argmax -1 skipped).
void maxpool_backward(cudaStream_t stream, const cpu::pool_geom& g, int n, const float* dy,
                      const std::int32_t* argmax, float* dx);
void avgpool_forward(cudaStream_t stream, const cpu::pool_geom& g, int n, const float* x, float* y);
void avgpool_backward(cudaStream_t stream, const cpu::pool_geom& g, int n, const float* dy, float* dx);
void global_avgpool_forward(cudaStream_t stream, int n, int c, int hw, const float* x, float* y);
void global_avgpool_backward(cudaStream_t stream, int n, int c, int hw, const float* dy, float* dx);

// ----------------------------------------------------------------- concat --
void concat_forward(cudaStream_t stream, int n, int hw, int c_total, int c_offset, int c_part, const float* part,
                    float* y);
void concat_backward(cudaStream_t stream, int n, int hw, int c_total, int c_offset, int c_part, const float* dy,
                     float* dpart, bool accumulate);

// -------------------------------------------------------------- ZeroPad2d --
/// y (planes x (h + top + bottom) x (w + left + right)) = x (planes x h x w)
/// with zeros around each plane; negative values crop (as cpu/pad.hpp). Its
/// backward is zero_pad2d of dy over the output size with the padding negated.
void zero_pad2d(cudaStream_t stream, int planes, int h, int w, int left, int right, int top, int bottom,
                const float* x, float* y);

// -------------------------------------------------- depthwise convolution --
/// Whether the depthwise kernels handle this geometry (groups == c_in, c_out a multiple of c_in).
bool depthwise_supported(const cpu::conv_geom& g);
/// Scratch floats depthwise_backward_filter needs.
std::size_t depthwise_scratch_floats(const cpu::conv_geom& g, int max_batch);
/// y = conv(x, w) + bias, then ReLU when relu (bias may be null).
void depthwise_forward(cudaStream_t stream, const cpu::conv_geom& g, int n, const float* x, const float* w,
                       const float* bias, float* y, bool relu);
/// dx (overwritten).
void depthwise_backward_data(cudaStream_t stream, const cpu::conv_geom& g, int n, const float* dy, const float* w,
                             float* dx);
/// dw (overwritten) and dbias (when non-null; overwritten).
void depthwise_backward_filter(cudaStream_t stream, const cpu::conv_geom& g, int n, const float* x, const float* dy,
                               float* dw, float* dbias, float* scratch);

// ------------------------------------------------------------------ loss --
void log_softmax_forward(cudaStream_t stream, int rows, int cols, const float* x, float* y);
void log_softmax_backward(cudaStream_t stream, int rows, int cols, const float* y, const float* dy, float* dx);
/// Mean NLL of log-probabilities into *loss, its gradient into dlogp (overwritten).
/// Targets must be in [0, classes) (the caller checks them on the host).
void nll_loss(cudaStream_t stream, int n, int classes, const float* logp, const std::int32_t* target, float* dlogp,
              float* loss);
/// Mean cross-entropy of logits with label smoothing (as PyTorch's) into *loss, gradient into dlogits.
void cross_entropy(cudaStream_t stream, int n, int classes, const float* logits, const std::int32_t* target,
                   float label_smoothing, float* dlogits, float* loss);

// ----------------------------------------------------------------- input --
/// y = (x / 255 - mean[c]) / std[c] for uint8 NCHW images (mean, std: c floats on the device).
void normalize_u8(cudaStream_t stream, int n, int c, int hw, const std::uint8_t* x, const float* mean,
                  const float* std, float* y);

// ------------------------------------------------------------- optimizers --
/// SGD's per-step settings, read on the device (so a replayed graph uses the current ones).
struct sgd_step_args {
  float lr, momentum, dampening, weight_decay;
  int nesterov;
  int first_step;  ///< 1 on the first step (momentum buffer = gradient)
};
void sgd_step(cudaStream_t stream, std::size_t size, float* params, const float* grads, float* momentum_buffer,
              const sgd_step_args* args);
/// Adam / AdamW with the coefficients of cpu::make_adam_coefficients, read on the device.
void adam_step(cudaStream_t stream, std::size_t size, float* params, const float* grads, float* exp_avg,
               float* exp_avg_sq, float* max_exp_avg_sq, const cpu::adam_coefficients* coefficients);

}  // namespace staticnet::cuda::kernel
