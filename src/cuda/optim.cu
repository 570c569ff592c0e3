// src/cuda/optim.cu: one SGD or Adam / AdamW step on a flat parameter array,
// CUDA, with cpu/sgd.hpp's and cpu/adam.hpp's semantics (cuda/kernels.hpp).
// The per-step scalars are read from device memory by every thread, so a
// captured CUDA graph replays with the values current at each replay.
#include "common.cuh"

namespace staticnet::cuda::kernel {

using namespace detail;

void sgd_step(cudaStream_t stream, std::size_t size, float* params, const float* grads, float* momentum_buffer,
              const sgd_step_args* args) {
  for_each_index("sgd_step", stream, size, [=] __device__(auto i) {
    const sgd_step_args a = *args;
    params[i] = arith::sgd_update(params[i], grads[i], momentum_buffer ? momentum_buffer + i : nullptr, a.lr,
                                  a.momentum, a.dampening, a.weight_decay, a.nesterov != 0, a.first_step != 0);
  });
}

void adam_step(cudaStream_t stream, std::size_t size, float* params, const float* grads, float* exp_avg,
               float* exp_avg_sq, float* max_exp_avg_sq, const cpu::adam_coefficients* coefficients) {
  for_each_index("adam_step", stream, size, [=] __device__(auto i) {
    const cpu::adam_coefficients c = *coefficients;
    params[i] = arith::adam_update(params[i], grads[i], exp_avg + i, exp_avg_sq + i,
                                   max_exp_avg_sq ? max_exp_avg_sq + i : nullptr, c);
  });
}

}  // namespace staticnet::cuda::kernel
