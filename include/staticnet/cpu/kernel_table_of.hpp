// staticnet/cpu/kernel_table_of.hpp: the kernel_table (kernels.hpp) of the
// instruction set this translation unit is compiled for. The compiled library
// includes it once per variant (src/cpu/kernels.cpp); header-only programs
// through kernels.hpp.
#pragma once
#include "activation.hpp"
#include "adam.hpp"
#include "batchnorm.hpp"
#include "concat.hpp"
#include "config.hpp"
#include "conv.hpp"
#include "kernel_types.hpp"
#include "kernel_table.hpp"
#include "linear.hpp"
#include "loss.hpp"
#include "pooling.hpp"
#include "sgd.hpp"

#if !defined(STATICNET_KERNEL_VARIANT_NAME)
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#define STATICNET_KERNEL_VARIANT_NAME "avx512"
#elif defined(__AVX2__) && defined(__FMA__)
#define STATICNET_KERNEL_VARIANT_NAME "avx2"
#elif defined(__SSE2__) || defined(__x86_64__)
#define STATICNET_KERNEL_VARIANT_NAME "sse2"
#else
#define STATICNET_KERNEL_VARIANT_NAME "native"
#endif
#endif

STATICNET_CPU_KERNELS_BEGIN

/// The table of this instruction set's kernels.
[[nodiscard]] inline const kernel_table& this_isa_kernels() noexcept {
  static constexpr kernel_table table{
      .variant = STATICNET_KERNEL_VARIANT_NAME,
#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
      .isa = "scalar",
#else
      .isa = xsimd::default_arch::name(),
#endif
      .conv_scratch_floats = &conv_scratch_floats,
      .conv2d_forward = &conv2d_forward,
      .conv2d_backward = &conv2d_backward,
      .batchnorm_scratch_floats = &batchnorm_scratch_floats,
      .batchnorm_forward_train = &batchnorm_forward_train,
      .batchnorm_forward_eval = &batchnorm_forward_eval,
      .batchnorm_backward = &batchnorm_backward,
      .relu_forward = &relu_forward,
      .relu_backward = &relu_backward,
      .dropout_forward = &dropout_forward,
      .dropout_backward = &dropout_backward,
      .maxpool_forward = &maxpool_forward,
      .maxpool_backward = &maxpool_backward,
      .avgpool_forward = &avgpool_forward,
      .avgpool_backward = &avgpool_backward,
      .global_avgpool_forward = &global_avgpool_forward,
      .global_avgpool_backward = &global_avgpool_backward,
      .linear_forward = &linear_forward,
      .linear_backward = &linear_backward,
      .log_softmax_forward = &log_softmax_forward,
      .log_softmax_backward = &log_softmax_backward,
      .add_forward = &add_forward,
      .add_inplace = &add_inplace,
      .concat_forward = &concat_forward,
      .concat_backward = &concat_backward,
      .nll_loss = &nll_loss,
      .cross_entropy = &cross_entropy,
      .sgd_step = &sgd_step,
      .adam_step = &adam_step,
  };
  return table;
}

STATICNET_CPU_KERNELS_END
