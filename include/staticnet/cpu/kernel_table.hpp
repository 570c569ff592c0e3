// staticnet/cpu/kernel_table.hpp: kernel_table, the CPU kernels of one
// instruction set as function pointers (see kernels.hpp for how one is chosen).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernel_types.hpp"

namespace staticnet::cpu {

/// The kernels of one instruction set (the functions of conv.hpp,
/// batchnorm.hpp, pooling.hpp, activation.hpp, linear.hpp, concat.hpp,
/// loss.hpp, sgd.hpp and adam.hpp, with the same arguments, none defaulted).
struct kernel_table {
  const char* variant;  ///< "avx512", "avx2", "sse2", ... (the name use_isa takes)
  const char* isa;      ///< xsimd's name of the architecture ("avx512bw", "fma3+avx2", "sse2")
  std::size_t (*conv_scratch_floats)(const conv_geom& g, int max_batch, int threads);
  void (*conv2d_forward)(const conv_geom& g, int n, const float* x, const float* w, const float* bias, float* y,
                         float* scratch, conv_epilogue epilogue, float* plane_stats);
  void (*conv2d_backward)(const conv_geom& g, int n, const float* x, const float* dy, const float* w, float* dx,
                          float* dw, float* dbias, float* scratch);
  std::size_t (*batchnorm_scratch_floats)(int n, int c);
  void (*batchnorm_forward_train)(int n, int c, int hw, const float* x, const float* gamma, const float* beta,
                                  float* y, float* save_mean, float* save_invstd, float* running_mean,
                                  float* running_var, float momentum, float eps, float* scratch, bool relu_output,
                                  const float* plane_stats);
  void (*batchnorm_forward_eval)(int n, int c, int hw, const float* x, const float* gamma, const float* beta,
                                 const float* running_mean, const float* running_var, float eps, float* y,
                                 bool relu_output);
  void (*batchnorm_backward)(int n, int c, int hw, const float* x, const float* dy, const float* gamma,
                             const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                             float* dbeta, bn_relu relu, float* scratch, const float* beta);
  void (*relu_forward)(std::size_t size, const float* x, float* y);
  void (*relu_backward)(std::size_t size, const float* y, const float* dy, float* dx);
  void (*dropout_forward)(std::size_t size, const float* x, float* y, std::uint8_t* mask, float p,
                          std::uint64_t seed);
  void (*dropout_backward)(std::size_t size, const std::uint8_t* mask, float p, const float* dy, float* dx);
  void (*maxpool_forward)(const pool_geom& g, int n, const float* x, float* y, std::int32_t* argmax);
  void (*maxpool_backward)(const pool_geom& g, int n, const float* dy, const std::int32_t* argmax, float* dx);
  void (*avgpool_forward)(const pool_geom& g, int n, const float* x, float* y);
  void (*avgpool_backward)(const pool_geom& g, int n, const float* dy, float* dx);
  void (*global_avgpool_forward)(int n, int c, int hw, const float* x, float* y);
  void (*global_avgpool_backward)(int n, int c, int hw, const float* dy, float* dx);
  void (*linear_forward)(int n, int in, int out, const float* x, const float* w, const float* bias, float* y);
  void (*linear_backward)(int n, int in, int out, const float* x, const float* w, const float* dy, float* dx,
                          float* dw, float* dbias);
  void (*log_softmax_forward)(int rows, int cols, const float* x, float* y);
  void (*log_softmax_backward)(int rows, int cols, const float* y, const float* dy, float* dx);
  void (*add_forward)(std::size_t size, const float* a, const float* b, float* y);
  void (*add_inplace)(std::size_t size, const float* src, float* dst);
  void (*concat_forward)(int n, int hw, int c_total, int c_offset, int c_part, const float* part, float* y);
  void (*concat_backward)(int n, int hw, int c_total, int c_offset, int c_part, const float* dy, float* dpart,
                          bool accumulate);
  float (*nll_loss)(int n, int classes, const float* logp, const std::int32_t* target, float* dlogp);
  float (*cross_entropy)(int n, int classes, const float* logits, const std::int32_t* target,
                         float label_smoothing, float* dlogits);
  void (*sgd_step)(std::size_t size, float* params, const float* grads, float* momentum_buffer,
                   const sgd_options& o, bool first_step);
  void (*adam_step)(std::size_t size, float* params, const float* grads, float* exp_avg, float* exp_avg_sq,
                    float* max_exp_avg_sq, const adam_coefficients& c);
};

}  // namespace staticnet::cpu
