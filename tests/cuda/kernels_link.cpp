// Link check of staticnet::cuda_kernels (built when CUDA is found): takes the
// address of every launcher of staticnet/cuda/kernels.hpp, so the link fails
// if the library lacks one. It launches nothing (it runs without a GPU).
#include <cstdio>

#include <staticnet/cuda/kernels.hpp>

namespace k = staticnet::cuda::kernel;

int main() {
  using fn = void (*)();  // any function pointer type holds any function's address
  const fn launchers[] = {
      reinterpret_cast<fn>(&k::batchnorm_scratch_floats),
      reinterpret_cast<fn>(&k::batchnorm_forward_train),
      reinterpret_cast<fn>(&k::batchnorm_forward_eval),
      reinterpret_cast<fn>(&k::batchnorm_backward),
      reinterpret_cast<fn>(&k::relu_forward),
      reinterpret_cast<fn>(&k::relu_backward),
      reinterpret_cast<fn>(&k::dropout_forward),
      reinterpret_cast<fn>(&k::dropout_backward),
      reinterpret_cast<fn>(&k::add_inplace),
      reinterpret_cast<fn>(&k::bias_relu),
      reinterpret_cast<fn>(&k::bias_backward),
      reinterpret_cast<fn>(&k::maxpool_forward),
      reinterpret_cast<fn>(&k::maxpool_backward),
      reinterpret_cast<fn>(&k::avgpool_forward),
      reinterpret_cast<fn>(&k::avgpool_backward),
      reinterpret_cast<fn>(&k::global_avgpool_forward),
      reinterpret_cast<fn>(&k::global_avgpool_backward),
      reinterpret_cast<fn>(&k::concat_forward),
      reinterpret_cast<fn>(&k::concat_backward),
      reinterpret_cast<fn>(&k::zero_pad2d),
      reinterpret_cast<fn>(&k::depthwise_supported),
      reinterpret_cast<fn>(&k::depthwise_scratch_floats),
      reinterpret_cast<fn>(&k::depthwise_forward),
      reinterpret_cast<fn>(&k::depthwise_backward_data),
      reinterpret_cast<fn>(&k::depthwise_backward_filter),
      reinterpret_cast<fn>(&k::log_softmax_forward),
      reinterpret_cast<fn>(&k::log_softmax_backward),
      reinterpret_cast<fn>(&k::nll_loss),
      reinterpret_cast<fn>(&k::cross_entropy),
      reinterpret_cast<fn>(&k::normalize_u8),
      reinterpret_cast<fn>(&k::sgd_step),
      reinterpret_cast<fn>(&k::adam_step),
  };
  int missing = 0;
  for (const fn p : launchers) missing += p == nullptr;
  std::printf("staticnet::cuda::kernel: %zu launchers linked, %d null\n", sizeof(launchers) / sizeof(launchers[0]),
              missing);
  return missing == 0 ? 0 : 1;
}
