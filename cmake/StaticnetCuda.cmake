# Detect nvcc and cuDNN. Sets STATICNET_HAS_CUDA and, when found, the
# imported target staticnet_cudnn. STATICNET_CUDA=ON makes a missing toolkit an error.
set(STATICNET_HAS_CUDA OFF)
if(NOT STATICNET_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    find_package(CUDAToolkit QUIET)
    find_path(STATICNET_CUDNN_INCLUDE cudnn.h
      HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include /usr/include)
    find_library(STATICNET_CUDNN_LIBRARY cudnn
      HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64 /usr/lib/x86_64-linux-gnu)
    if(CUDAToolkit_FOUND AND STATICNET_CUDNN_INCLUDE AND STATICNET_CUDNN_LIBRARY)
      set(STATICNET_HAS_CUDA ON)
    endif()
  endif()
  if(STATICNET_CUDA STREQUAL "ON" AND NOT STATICNET_HAS_CUDA)
    message(FATAL_ERROR "STATICNET_CUDA=ON but nvcc, the CUDA toolkit or cuDNN was not found")
  endif()
endif()
if(STATICNET_HAS_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)
  endif()
  enable_language(CUDA)
  # CMake 3.25 does not know nvcc 13's C++20 flag: pass it directly.
  add_library(staticnet_cuda_flags INTERFACE)
  target_compile_options(staticnet_cuda_flags INTERFACE $<$<COMPILE_LANGUAGE:CUDA>:-std=c++20 --expt-relaxed-constexpr>)
  add_library(staticnet_cudnn INTERFACE)
  set_target_properties(staticnet_cudnn PROPERTIES EXPORT_NAME cudnn)
  target_include_directories(staticnet_cudnn INTERFACE ${STATICNET_CUDNN_INCLUDE})
  target_link_libraries(staticnet_cudnn INTERFACE ${STATICNET_CUDNN_LIBRARY} CUDA::cudart CUDA::cublas)
  # staticnet::cuda_kernels (libstaticnet_cuda): the CUDA engine's own kernels,
  # the launchers of include/staticnet/cuda/kernels.hpp, for sm_80 and sm_90,
  # warnings as errors under nvcc and the host compiler. Build tree only (not
  # installed with the package); --extended-lambda for the element-wise launchers' device lambdas.
  add_library(staticnet_cuda_kernels STATIC
    ${PROJECT_SOURCE_DIR}/src/cuda/batchnorm.cu
    ${PROJECT_SOURCE_DIR}/src/cuda/depthwise.cu
    ${PROJECT_SOURCE_DIR}/src/cuda/elementwise.cu
    ${PROJECT_SOURCE_DIR}/src/cuda/input.cu
    ${PROJECT_SOURCE_DIR}/src/cuda/loss.cu
    ${PROJECT_SOURCE_DIR}/src/cuda/optim.cu
    ${PROJECT_SOURCE_DIR}/src/cuda/pooling.cu)
  add_library(staticnet::cuda_kernels ALIAS staticnet_cuda_kernels)
  set_target_properties(staticnet_cuda_kernels PROPERTIES CUDA_ARCHITECTURES "80;90" POSITION_INDEPENDENT_CODE ON
                                                          OUTPUT_NAME staticnet_cuda EXPORT_NAME cuda_kernels)
  target_link_libraries(staticnet_cuda_kernels PUBLIC staticnet_header_only CUDA::cudart
                                               PRIVATE $<BUILD_INTERFACE:staticnet_cuda_flags>)
  target_compile_options(staticnet_cuda_kernels PRIVATE
    "$<$<COMPILE_LANGUAGE:CUDA>:--extended-lambda;--Werror=all-warnings;-Xcompiler=-Wall,-Wextra,-Werror>")
  # staticnet::cuda: what a program using the GPU engine (staticnet/cuda/model.hpp)
  # links: staticnet, the kernels, cuDNN, cuBLAS and the CUDA runtime.
  add_library(staticnet_cuda INTERFACE)
  add_library(staticnet::cuda ALIAS staticnet_cuda)
  set_target_properties(staticnet_cuda PROPERTIES EXPORT_NAME cuda)
  target_link_libraries(staticnet_cuda INTERFACE staticnet staticnet_cuda_kernels staticnet_cudnn)
  target_compile_definitions(staticnet_cuda INTERFACE STATICNET_WITH_CUDA=1)
  message(STATUS "staticnet: CUDA ${CUDAToolkit_VERSION}, cuDNN ${STATICNET_CUDNN_LIBRARY}")
else()
  message(STATUS "staticnet: CUDA backend not built (nvcc or cuDNN not found, or STATICNET_CUDA=OFF)")
endif()
