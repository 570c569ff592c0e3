// Compiled by nvcc when CUDA is found: the headers a .cu file includes (the
// compile-time core, the backend-neutral engine layer and the GPU engine's
// runtime and cuDNN layers) compile under nvcc.
#include <staticnet/core.hpp>
#include <staticnet/cuda/cudnn_graph.hpp>
#include <staticnet/cuda/device.hpp>
#include <staticnet/engine/all.hpp>

#include "networks.hpp"

namespace sn = staticnet;
static_assert(sn::param_count<assignments::S9Reference> == 198'757);
static_assert(sn::receptive_field<assignments::S7DilatedReference> == 21);

__global__ void staticnet_headers_check_kernel(float* out) {
  out[threadIdx.x] = static_cast<float>(sn::output_shape<assignments::S9Reference>.c);
}
