// staticnet/cuda/cudnn_graph.hpp: a small RAII layer over cuDNN's graph
// (backend) API (cudnn_graph.h), and the convolution plans the GPU engine
// builds with it: one operation graph per conv and pass (forward, backward
// data, backward filter), its engine configurations from cuDNN's heuristics,
// and one finalised execution plan with its variant pack, built once and
// executed as often as needed.
//
//   cudnn::handle h;                                   // needs a device
//   cudnn::conv_plan p(h.get(), geometry, n, cudnn::conv_pass::forward, cudnn::math::fp32);
//   p.bind(x, w, y, workspace);                        // device pointers, once
//   p.execute(h.get());                                // as often as needed
//
// Without a device, the descriptors, the operation graph and the engine
// descriptors can still be built and finalised: conv_candidates() does that
// (see there for what cuDNN 9.19 refuses without a device).
#pragma once
#include <cudnn.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../cpu/kernel_types.hpp"
#include "error.hpp"

namespace staticnet::cuda::cudnn {

/// A cudnnBackendDescriptor_t of one type, destroyed with its owner.
class descriptor {
 public:
  descriptor() = default;
  explicit descriptor(cudnnBackendDescriptorType_t type) {
    check(cudnnBackendCreateDescriptor(type, &d_), "cudnnBackendCreateDescriptor");
  }
  descriptor(descriptor&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
  descriptor& operator=(descriptor&& o) noexcept {
    if (this != &o) {
      reset();
      d_ = std::exchange(o.d_, nullptr);
    }
    return *this;
  }
  descriptor(const descriptor&) = delete;
  descriptor& operator=(const descriptor&) = delete;
  ~descriptor() { reset(); }

  [[nodiscard]] cudnnBackendDescriptor_t get() const noexcept { return d_; }
  [[nodiscard]] explicit operator bool() const noexcept { return d_ != nullptr; }

  descriptor& set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, std::int64_t count,
                  const void* values, const char* what) {
    check(cudnnBackendSetAttribute(d_, name, type, count, values), std::string("setting ") + what);
    return *this;
  }
  descriptor& set_int64(cudnnBackendAttributeName_t name, std::int64_t v, const char* what) {
    return set(name, CUDNN_TYPE_INT64, 1, &v, what);
  }
  template <std::size_t K>
  descriptor& set_int64s(cudnnBackendAttributeName_t name, const std::array<std::int64_t, K>& v, const char* what) {
    return set(name, CUDNN_TYPE_INT64, static_cast<std::int64_t>(K), v.data(), what);
  }
  descriptor& set_descriptor(cudnnBackendAttributeName_t name, const descriptor& v, const char* what) {
    cudnnBackendDescriptor_t raw = v.get();
    return set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &raw, what);
  }
  descriptor& finalize(const std::string& what) {
    check(cudnnBackendFinalize(d_), "finalising " + what);
    return *this;
  }

 private:
  void reset() noexcept {
    if (d_) (void)cudnnBackendDestroyDescriptor(d_);
    d_ = nullptr;
  }
  cudnnBackendDescriptor_t d_ = nullptr;
};

/// A cuDNN handle (needs a device).
class handle {
 public:
  handle() { check(cudnnCreate(&h_), "cudnnCreate"); }
  handle(handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  handle& operator=(handle&& o) noexcept {
    if (this != &o) {
      if (h_) (void)cudnnDestroy(h_);
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  ~handle() {
    if (h_) (void)cudnnDestroy(h_);
  }
  [[nodiscard]] cudnnHandle_t get() const noexcept { return h_; }

 private:
  cudnnHandle_t h_ = nullptr;
};

/// The three passes of a convolution.
enum class conv_pass { forward, backward_data, backward_filter };
/// fp32: only engines that compute in full fp32 (no tensor-core TF32, no
/// down-converted inputs); tf32: tensor-core engines allowed (as PyTorch's
/// torch.backends.cudnn.allow_tf32).
enum class math { fp32, tf32 };

[[nodiscard]] constexpr const char* pass_name(conv_pass p) noexcept {
  return p == conv_pass::forward ? "forward" : p == conv_pass::backward_data ? "backward-data" : "backward-filter";
}

/// The unique ids of a conv graph's tensors (the variant pack's keys).
inline constexpr std::int64_t uid_x = 'x', uid_w = 'w', uid_y = 'y';

/// A packed NCHW fp32 tensor descriptor.
[[nodiscard]] inline descriptor tensor(std::int64_t uid, const std::array<std::int64_t, 4>& dims) {
  const std::array<std::int64_t, 4> strides{dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1};
  const cudnnDataType_t type = CUDNN_DATA_FLOAT;
  descriptor t(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
  t.set(CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type, "the tensor's data type")
      .set_int64s(CUDNN_ATTR_TENSOR_DIMENSIONS, dims, "the tensor's dimensions")
      .set_int64s(CUDNN_ATTR_TENSOR_STRIDES, strides, "the tensor's strides")
      .set_int64(CUDNN_ATTR_TENSOR_UNIQUE_ID, uid, "the tensor's id")
      .set_int64(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, 16, "the tensor's alignment")
      .finalize("a tensor descriptor");
  return t;
}

/// The convolution descriptor of a geometry (cross-correlation, as PyTorch; fp32 accumulation).
[[nodiscard]] inline descriptor convolution(const cpu::conv_geom& g) {
  const cudnnDataType_t compute = CUDNN_DATA_FLOAT;
  const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  descriptor c(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR);
  c.set_int64(CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, 2, "the conv's spatial dimensions")
      .set(CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &compute, "the conv's compute type")
      .set(CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode, "the conv's mode")
      .set_int64s(CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, std::array<std::int64_t, 2>{g.ph, g.pw}, "the conv's padding")
      .set_int64s(CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, std::array<std::int64_t, 2>{g.ph, g.pw}, "the conv's padding")
      .set_int64s(CUDNN_ATTR_CONVOLUTION_DILATIONS, std::array<std::int64_t, 2>{g.dh, g.dw}, "the conv's dilation")
      .set_int64s(CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, std::array<std::int64_t, 2>{g.sh, g.sw},
                  "the conv's stride")
      .finalize("a convolution descriptor");
  return c;
}

/// The x, w and y dimensions of a conv geometry for n images (grouped convs:
/// w has c_in / groups input channels, from which cuDNN infers the groups).
struct conv_dims {
  std::array<std::int64_t, 4> x, w, y;
};
[[nodiscard]] constexpr conv_dims dims_of(const cpu::conv_geom& g, int n) noexcept {
  return {{n, g.c_in, g.h_in, g.w_in}, {g.c_out, g.c_in / g.groups, g.kh, g.kw}, {n, g.c_out, g.h_out, g.w_out}};
}

/// The finalised operation graph of one pass of a conv, with the descriptors it refers to.
struct conv_graph {
  descriptor x, w, y, conv, op, graph;
};

[[nodiscard]] inline conv_graph make_conv_graph(const cpu::conv_geom& g, int n, conv_pass pass,
                                                cudnnHandle_t h = nullptr) {
  const conv_dims d = dims_of(g, n);
  conv_graph cg{tensor(uid_x, d.x), tensor(uid_w, d.w), tensor(uid_y, d.y), convolution(g), {}, {}};
  const float alpha = 1.0f, beta = 0.0f;  // outputs overwritten
  const std::string what = std::string("the conv ") + pass_name(pass) + " operation";
  switch (pass) {
    case conv_pass::forward:
      cg.op = descriptor(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR);
      cg.op.set_descriptor(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, cg.x, "x")
          .set_descriptor(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, cg.w, "w")
          .set_descriptor(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, cg.y, "y")
          .set_descriptor(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, cg.conv, "the conv")
          .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha, "alpha")
          .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta, "beta");
      break;
    case conv_pass::backward_data:
      cg.op = descriptor(CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR);
      cg.op.set_descriptor(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX, cg.x, "dx")
          .set_descriptor(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W, cg.w, "w")
          .set_descriptor(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY, cg.y, "dy")
          .set_descriptor(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC, cg.conv, "the conv")
          .set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha, "alpha")
          .set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA, CUDNN_TYPE_FLOAT, 1, &beta, "beta");
      break;
    case conv_pass::backward_filter:
      cg.op = descriptor(CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR);
      cg.op.set_descriptor(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X, cg.x, "x")
          .set_descriptor(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW, cg.w, "dw")
          .set_descriptor(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY, cg.y, "dy")
          .set_descriptor(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC, cg.conv, "the conv")
          .set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha, "alpha")
          .set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA, CUDNN_TYPE_FLOAT, 1, &beta, "beta");
      break;
  }
  cg.op.finalize(what);
  cg.graph = descriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
  cudnnBackendDescriptor_t op = cg.op.get();
  cg.graph.set(CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &op, "the graph's operations");
  if (h) cg.graph.set(CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h, "the graph's handle");
  cg.graph.finalize("the operation graph of the " + what);
  return cg;
}

/// Whether an engine configuration's numerical notes fit the math mode.
[[nodiscard]] inline bool fits(const descriptor& config, math m) {
  descriptor engine(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
  cudnnBackendDescriptor_t raw = engine.get();
  std::int64_t count = 0;
  check(cudnnBackendGetAttribute(config.get(), CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &count,
                                 &raw),
        "reading an engine configuration's engine");
  std::array<cudnnBackendNumericalNote_t, CUDNN_NUMERICAL_NOTE_TYPE_COUNT> notes{};
  std::int64_t n_notes = 0;
  check(cudnnBackendGetAttribute(engine.get(), CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                 static_cast<std::int64_t>(notes.size()), &n_notes, notes.data()),
        "reading an engine's numerical notes");
  for (std::int64_t i = 0; i < n_notes; ++i) {
    const auto note = notes[static_cast<std::size_t>(i)];
    if (note == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS) return false;
    if (m == math::fp32 && note == CUDNN_NUMERICAL_NOTE_TENSOR_CORE) return false;
  }
  return true;
}

/// The engine configurations cuDNN's heuristics (mode A) propose for a
/// finalised operation graph, best first, keeping those that fit the math mode.
[[nodiscard]] inline std::vector<descriptor> heuristic_configs(const descriptor& graph, math m) {
  descriptor heur(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
  const cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
  heur.set_descriptor(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, graph, "the heuristics' graph")
      .set(CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode, "the heuristics' mode")
      .finalize("the engine heuristics");
  std::int64_t available = 0;
  check(cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0,
                                 &available, nullptr),
        "counting the heuristics' results");
  std::vector<descriptor> configs;
  configs.reserve(static_cast<std::size_t>(available));
  std::vector<cudnnBackendDescriptor_t> raw;
  for (std::int64_t i = 0; i < available; ++i) {
    configs.emplace_back(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
    raw.push_back(configs.back().get());
  }
  std::int64_t got = 0;
  check(cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, available,
                                 &got, raw.data()),
        "reading the heuristics' results");
  std::vector<descriptor> kept;
  for (std::int64_t i = 0; i < got; ++i)
    if (fits(configs[static_cast<std::size_t>(i)], m)) kept.push_back(std::move(configs[static_cast<std::size_t>(i)]));
  return kept;
}

/// The global indices of cuDNN's engines that accept a finalised operation
/// graph (each engine descriptor finalised against it). Needs no device.
[[nodiscard]] inline std::vector<std::int64_t> supported_engines(const descriptor& graph) {
  std::int64_t total = 0, count = 0;
  check(cudnnBackendGetAttribute(graph.get(), CUDNN_ATTR_OPERATIONGRAPH_ENGINE_GLOBAL_COUNT, CUDNN_TYPE_INT64, 1,
                                 &count, &total),
        "counting cuDNN's engines");
  std::vector<std::int64_t> ok;
  for (std::int64_t i = 0; i < total; ++i) {
    descriptor e(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
    e.set_descriptor(CUDNN_ATTR_ENGINE_OPERATION_GRAPH, graph, "the engine's graph")
        .set_int64(CUDNN_ATTR_ENGINE_GLOBAL_INDEX, i, "the engine's index");
    if (cudnnBackendFinalize(e.get()) == CUDNN_STATUS_SUCCESS) ok.push_back(i);
  }
  return ok;
}

/// The finalised engine configuration of engine `index` for a graph (default
/// knobs), or an empty descriptor when cuDNN refuses it.
[[nodiscard]] inline descriptor engine_config(const descriptor& graph, std::int64_t index) {
  descriptor e(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
  e.set_descriptor(CUDNN_ATTR_ENGINE_OPERATION_GRAPH, graph, "the engine's graph")
      .set_int64(CUDNN_ATTR_ENGINE_GLOBAL_INDEX, index, "the engine's index");
  if (cudnnBackendFinalize(e.get()) != CUDNN_STATUS_SUCCESS) return {};
  descriptor cfg(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
  cfg.set_descriptor(CUDNN_ATTR_ENGINECFG_ENGINE, e, "the configuration's engine");
  if (cudnnBackendFinalize(cfg.get()) != CUDNN_STATUS_SUCCESS) return {};
  return cfg;
}

/// What can be built without a device for one pass of a conv: the finalised
/// operation graph and the engines that accept it. (cuDNN 9.19 without a
/// device: fetching the heuristics' results yields no configuration, each
/// needing the device's properties, and for grouped convs crashes inside
/// libcudnn_engines_runtime_compiled with SIGFPE; engine configurations and
/// execution plans need the device too. So the device-less check stops here.)
struct conv_candidates_result {
  conv_graph graph;
  std::vector<std::int64_t> engines;
};
[[nodiscard]] inline conv_candidates_result conv_candidates(const cpu::conv_geom& g, int n, conv_pass pass) {
  conv_candidates_result r{make_conv_graph(g, n, pass), {}};
  r.engines = supported_engines(r.graph.graph);
  return r;
}

/// One pass of one conv, ready to run: the execution plan of the first
/// heuristic configuration cuDNN accepts for this device, and its variant pack
/// once bound to device pointers.
class conv_plan {
 public:
  conv_plan() = default;
  conv_plan(cudnnHandle_t h, const cpu::conv_geom& g, int n, conv_pass pass, math m) : pass_(pass) {
    graph_ = make_conv_graph(g, n, pass, h);
    // The heuristics' proposals first, best first; then every engine that
    // accepts the graph, in index order, with its default knobs.
    std::vector<descriptor> configs = heuristic_configs(graph_.graph, m);
    for (std::int64_t index : supported_engines(graph_.graph))
      if (descriptor cfg = engine_config(graph_.graph, index); cfg && fits(cfg, m)) configs.push_back(std::move(cfg));
    std::string last;
    for (descriptor& cfg : configs) {
      descriptor plan(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
      cudnnBackendDescriptor_t raw = cfg.get();
      plan.set(CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h, "the plan's handle")
          .set(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &raw, "the plan's engine");
      const cudnnStatus_t st = cudnnBackendFinalize(plan.get());
      if (st != CUDNN_STATUS_SUCCESS) {
        last = cudnnGetErrorString(st);
        continue;
      }
      std::int64_t count = 0;
      check(cudnnBackendGetAttribute(plan.get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &count,
                                     &workspace_),
            "reading a plan's workspace size");
      plan_ = std::move(plan);
      return;
    }
    throw error(std::string("staticnet::cuda: no cuDNN engine runs the conv ") + pass_name(pass) + " of " +
                std::to_string(g.c_in) + "x" + std::to_string(g.h_in) + "x" + std::to_string(g.w_in) + " -> " +
                std::to_string(g.c_out) + "x" + std::to_string(g.h_out) + "x" + std::to_string(g.w_out) + " (" +
                std::to_string(configs.size()) + " configurations tried" + (last.empty() ? "" : ", last: " + last) +
                ")");
  }

  /// Bytes of workspace the plan needs.
  [[nodiscard]] std::int64_t workspace_bytes() const noexcept { return workspace_; }
  [[nodiscard]] conv_pass pass() const noexcept { return pass_; }

  /// Binds the plan's tensors (x, w, y; dx / dw / dy by pass, with the same
  /// roles) and its workspace; the variant pack is built here, not per run.
  void bind(const float* x, const float* w, const float* y, void* workspace) {
    const std::array<std::int64_t, 3> uids{uid_x, uid_w, uid_y};
    std::array<void*, 3> ptrs{const_cast<float*>(x), const_cast<float*>(w), const_cast<float*>(y)};
    pack_ = descriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
    pack_.set(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, 3, uids.data(), "the variant pack's ids")
        .set(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, 3, ptrs.data(), "the variant pack's pointers")
        .set(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &workspace, "the variant pack's workspace")
        .finalize("a variant pack");
  }

  /// Runs the plan on the handle's stream.
  void execute(cudnnHandle_t h) const {
    check(cudnnBackendExecute(h, plan_.get(), pack_.get()), std::string("running a conv ") + pass_name(pass_));
  }

 private:
  conv_graph graph_;
  descriptor plan_;
  descriptor pack_;
  std::int64_t workspace_ = 0;
  conv_pass pass_ = conv_pass::forward;
};

}  // namespace staticnet::cuda::cudnn
