// staticnet/cuda/device.hpp: the CUDA runtime objects the GPU engine owns, as
// move-only RAII types: device memory, pinned host memory, a stream, a captured
// CUDA graph; and device_count(), which is 0 (not an error) on a machine
// without a GPU or driver.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <utility>

#include "error.hpp"

namespace staticnet::cuda {

/// Number of usable CUDA devices: 0 without a driver or a GPU.
[[nodiscard]] inline int device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

/// Why there is no device ("" when there is one): the runtime's own message.
[[nodiscard]] inline std::string no_device_reason() {
  int n = 0;
  const cudaError_t s = cudaGetDeviceCount(&n);
  if (s != cudaSuccess) {
    (void)cudaGetLastError();
    return std::string(cudaGetErrorName(s)) + ": " + cudaGetErrorString(s);
  }
  return n == 0 ? "no CUDA device" : "";
}

/// Throws cuda::error unless a device is usable (the GPU engine's constructors call it).
inline void require_device(const char* who) {
  const std::string why = no_device_reason();
  if (!why.empty()) throw error(std::string("staticnet::cuda: ") + who + " needs a CUDA device: " + why);
}

/// `count` elements of T in device memory (cudaMalloc: 256-byte aligned).
template <class T>
class device_buffer {
 public:
  device_buffer() = default;
  explicit device_buffer(std::size_t count, const char* what = "device memory") : count_(count) {
    if (count == 0) return;
    void* p = nullptr;
    check(cudaMalloc(&p, count * sizeof(T)),
          std::string("cudaMalloc of ") + std::to_string(count * sizeof(T)) + " bytes (" + what + ")");
    ptr_ = static_cast<T*>(p);
  }
  device_buffer(device_buffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), count_(std::exchange(o.count_, 0)) {}
  device_buffer& operator=(device_buffer&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
      count_ = std::exchange(o.count_, 0);
    }
    return *this;
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  ~device_buffer() { reset(); }

  [[nodiscard]] T* get() const noexcept { return ptr_; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return count_ * sizeof(T); }

 private:
  void reset() noexcept {
    if (ptr_) (void)cudaFree(ptr_);
    ptr_ = nullptr;
    count_ = 0;
  }
  T* ptr_ = nullptr;
  std::size_t count_ = 0;
};

/// `count` elements of T in page-locked host memory (asynchronous copies).
template <class T>
class pinned_buffer {
 public:
  pinned_buffer() = default;
  explicit pinned_buffer(std::size_t count) : count_(count) {
    if (count == 0) return;
    void* p = nullptr;
    check(cudaMallocHost(&p, count * sizeof(T)), "cudaMallocHost of " + std::to_string(count * sizeof(T)) + " bytes");
    ptr_ = static_cast<T*>(p);
  }
  pinned_buffer(pinned_buffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), count_(std::exchange(o.count_, 0)) {}
  pinned_buffer& operator=(pinned_buffer&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
      count_ = std::exchange(o.count_, 0);
    }
    return *this;
  }
  pinned_buffer(const pinned_buffer&) = delete;
  pinned_buffer& operator=(const pinned_buffer&) = delete;
  ~pinned_buffer() { reset(); }
  [[nodiscard]] T* get() const noexcept { return ptr_; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }

 private:
  void reset() noexcept {
    if (ptr_) (void)cudaFreeHost(ptr_);
    ptr_ = nullptr;
    count_ = 0;
  }
  T* ptr_ = nullptr;
  std::size_t count_ = 0;
};

/// A non-blocking CUDA stream.
class stream {
 public:
  stream() { check(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "cudaStreamCreate"); }
  stream(stream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  stream& operator=(stream&& o) noexcept {
    if (this != &o) {
      if (s_) (void)cudaStreamDestroy(s_);
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;
  ~stream() {
    if (s_) (void)cudaStreamDestroy(s_);
  }
  [[nodiscard]] cudaStream_t get() const noexcept { return s_; }
  void synchronize(const char* what = "cudaStreamSynchronize") const { check(cudaStreamSynchronize(s_), what); }

 private:
  cudaStream_t s_ = nullptr;
};

/// A CUDA graph captured from a stream and instantiated for replay.
class graph {
 public:
  graph() = default;
  graph(graph&& o) noexcept : g_(std::exchange(o.g_, nullptr)), exec_(std::exchange(o.exec_, nullptr)) {}
  graph& operator=(graph&& o) noexcept {
    if (this != &o) {
      reset();
      g_ = std::exchange(o.g_, nullptr);
      exec_ = std::exchange(o.exec_, nullptr);
    }
    return *this;
  }
  graph(const graph&) = delete;
  graph& operator=(const graph&) = delete;
  ~graph() { reset(); }

  /// Starts capturing the work enqueued on s (thread-local capture mode: other
  /// threads may keep using CUDA).
  static void begin_capture(cudaStream_t s) {
    check(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  }
  /// Ends the capture on s and instantiates the graph (replacing any earlier one).
  void end_capture(cudaStream_t s) {
    cudaGraph_t g = nullptr;
    const cudaError_t st = cudaStreamEndCapture(s, &g);
    if (st != cudaSuccess) {
      if (g) (void)cudaGraphDestroy(g);
      check(st, "cudaStreamEndCapture");
    }
    reset();
    g_ = g;
    check(cudaGraphInstantiate(&exec_, g_, 0), "cudaGraphInstantiate");
  }
  void launch(cudaStream_t s) const { check(cudaGraphLaunch(exec_, s), "cudaGraphLaunch"); }
  [[nodiscard]] bool ready() const noexcept { return exec_ != nullptr; }
  void reset() noexcept {
    if (exec_) (void)cudaGraphExecDestroy(exec_);
    if (g_) (void)cudaGraphDestroy(g_);
    exec_ = nullptr;
    g_ = nullptr;
  }
  /// Number of nodes in the captured graph (0 before a capture).
  [[nodiscard]] std::size_t node_count() const {
    if (!g_) return 0;
    std::size_t n = 0;
    check(cudaGraphGetNodes(g_, nullptr, &n), "cudaGraphGetNodes");
    return n;
  }

 private:
  cudaGraph_t g_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace staticnet::cuda
