// staticnet/cuda/error.hpp: errors of the CUDA runtime, cuDNN and cuBLAS as
// exceptions that name the call that failed and say why.
//
//   cuda::check(cudaMalloc(&p, bytes), "cudaMalloc of the parameters");
//   cuda::check(cudnnBackendFinalize(d), "finalising the conv graph of layer 3");
//
// cuDNN's message includes cudnnGetLastErrorString (what the library itself
// says: "target_sm_count > multiProcessorCount", ...).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <stdexcept>
#include <string>

namespace staticnet::cuda {

/// A failed CUDA runtime, cuDNN or cuBLAS call.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline void check(cudaError_t status, const std::string& what) {
  if (status == cudaSuccess) return;
  throw error("staticnet::cuda: " + what + ": " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) +
              ")");
}

inline void check(cudnnStatus_t status, const std::string& what) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  char detail[512] = {};
  cudnnGetLastErrorString(detail, sizeof detail);
  throw error("staticnet::cuda: " + what + ": " + cudnnGetErrorString(status) +
              (detail[0] ? std::string(" (") + detail + ")" : std::string()));
}

inline void check(cublasStatus_t status, const std::string& what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw error("staticnet::cuda: " + what + ": " + cublasGetStatusName(status) + " (" +
              cublasGetStatusString(status) + ")");
}

}  // namespace staticnet::cuda
