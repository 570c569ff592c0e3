// staticnet/cuda/model.hpp: the GPU engine, cuda::Model: the same network
// types as cpu::Model, trained and run on an NVIDIA GPU, with the CPU model's
// API and the shared engine layer (memory plan, fusion plan, tensor names,
// initialisation, dropout bits), so that fit(), evaluate() and checkpoints
// take either engine and a checkpoint saved by one loads into the other.
//
//   sn::cuda::Model<Net, 512> model(/*seed=*/1);     // throws without a device
//   sn::SGD opt(model, {.lr = 0.05f, .momentum = 0.9f});
//   float loss = model.train_step(x, targets, n, opt); // one CUDA graph replay
//
// Where everything lives (device memory, all allocated at construction):
//   * one allocation for parameters, gradients and BatchNorm buffers (the
//     memory plan's layout, as the CPU engine's), mirrored on the host for
//     parameters() / named_tensors() (sync_to_host / sync_from_host);
//   * one arena for activations, saved statistics and gradient buffers (the
//     compile-time memory plan's offsets for MaxBatch images), one for the
//     per-image auxiliary state (dropout masks, max-pool argmax);
//   * the kernels' scratch and one cuDNN workspace, sized for every plan;
//   * pinned host staging for inputs, targets, outputs, the loss and the
//     per-step scalars (dropout seeds, optimizer coefficients).
// Convolutions run through cuDNN's graph API (one execution plan per conv and
// pass, built at construction for MaxBatch images; another batch size gets its
// own plans once, the first time it is seen), depthwise ones through our own
// kernels; everything else through staticnet's kernels (cuda/kernels.hpp) and
// cuBLAS (Linear). train_step() runs the whole step (inputs uploaded, forward,
// loss, backward, optimizer update, loss and outputs downloaded) eagerly once
// and from then on as one captured CUDA graph, replayed; the only host
// synchronisation is at its end, to return the loss.
//
// Status: compiled and host-tested; see README ("GPU engine") for what has
// run on a device.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../core/op.hpp"
#include "../cpu/kernel_types.hpp"
#include "../engine/engine.hpp"
#include "../engine/fusion.hpp"
#include "../engine/geometry.hpp"
#include "../engine/init.hpp"
#include "../engine/memory_plan.hpp"
#include "../engine/tensor_names.hpp"
#include "../network.hpp"
#include "../train/optim.hpp"
#include "cudnn_graph.hpp"
#include "device.hpp"
#include "error.hpp"
#include "kernels.hpp"

namespace staticnet::cuda {

/// How a cuda::Model runs.
struct model_options {
  cudnn::math math = cudnn::math::fp32;  ///< fp32 convs and Linear, or TF32 tensor cores
  bool cuda_graphs = true;               ///< train_step() replays one captured graph
  bool own_depthwise = true;             ///< depthwise convs through our kernels (else cuDNN)
  int device = 0;                        ///< the CUDA device
};

/// A network instantiated for training and inference on an NVIDIA GPU (an `engine`).
template <network Net, int MaxBatch = 128>
class Model {
 public:
  using network_type = Net;
  // An invalid network fails here with its error (completing Net::report).
  static_assert(sizeof(typename Net::report) > 0);
  static constexpr auto& plan = Net::plan;
  static constexpr auto exec = make_exec_plan(Net::plan);
  static constexpr std::size_t op_count = Net::plan.size;
  static constexpr int max_batch = MaxBatch;
  static constexpr shape input_shape = Net::plan.input;
  static constexpr shape output_shape = Net::plan.output;
  static constexpr std::int64_t input_numel = input_shape.numel();
  static constexpr std::int64_t output_numel = output_shape.numel();
  static constexpr std::int64_t state_floats = 2 * exec.params + exec.buffers;
  static_assert(MaxBatch >= 1, "staticnet [E_MAX_BATCH]: cuda::Model<Net, MaxBatch> needs MaxBatch >= 1");

  /// What the GPU kernels fuse: a ReLU into the conv before it (its bias
  /// kernel or our depthwise kernel applies it) and into the BatchNorm before
  /// it (forward and backward); no folding (eval runs BatchNorm as a kernel).
  static constexpr fusion_caps fusions{
      .fold_bn = false, .relu_into_conv = true, .relu_into_bn = false, .relu_after_bn = true, .stats_from_conv = false};
  static constexpr fusion_plan<op_count> fusion = make_fusion_plan(Net::plan, exec, fusions);

  static constexpr bool ends_with_log_softmax = [] {
    for (std::size_t i = op_count; i-- > 0;)
      if (Net::plan.rows[i].is_layer() && Net::plan.rows[i].desc.kind != op_kind::identity)
        return Net::plan.rows[i].desc.kind == op_kind::log_softmax;
    return false;
  }();

  /// Throws cuda::error, saying why, without a usable device.
  explicit Model(std::uint64_t seed = 0, model_options options = {}) : guard_(options.device), options_(options) {
    cudnn_ = cudnn_handle_.get();
    check(cudnnSetStream(cudnn_, stream_.get()), "cudnnSetStream");
    cublas_ = cublas_handle_.get();
    check(cublasSetStream(cublas_, stream_.get()), "cublasSetStream");
    check(cublasSetMathMode(cublas_, options.math == cudnn::math::tf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                        : CUBLAS_DEFAULT_MATH),
          "cublasSetMathMode");
    // cuBLAS gets its workspace from us, so that nothing is allocated in a captured graph.
    cublas_workspace_ = device_buffer<std::uint8_t>(std::size_t{32} << 20, "cuBLAS workspace");
    check(cublasSetWorkspace(cublas_, cublas_workspace_.get(), cublas_workspace_.bytes()), "cublasSetWorkspace");

    state_ = device_buffer<float>(static_cast<std::size_t>(state_floats), "parameters, gradients and buffers");
    host_state_.assign(static_cast<std::size_t>(state_floats), 0.0f);
    grad_size_ = static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(exec.max_numel);
    grad_levels_ = static_cast<std::size_t>(exec.max_depth) + 1;
    const std::size_t work = static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(exec.act_per_image) +
                             static_cast<std::size_t>(exec.saved) + 3 * grad_levels_ * grad_size_;
    work_ = device_buffer<float>(work, "activation arena");
    check(cudaMemsetAsync(work_.get(), 0, work_.bytes(), stream_.get()), "clearing the activation arena");
    aux_ = device_buffer<std::uint8_t>(std::max<std::size_t>(
        1, static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(exec.aux_per_image)), "dropout masks and argmax");
    dloss_ = device_buffer<float>(static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(output_numel), "loss gradient");
    targets_ = device_buffer<std::int32_t>(static_cast<std::size_t>(MaxBatch), "targets");
    scalars_ = device_buffer<std::uint8_t>(sizeof(step_scalars), "per-step scalars");
    host_in_ = pinned_buffer<float>(static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(input_numel));
    host_out_ = pinned_buffer<float>(static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(output_numel));
    host_targets_ = pinned_buffer<std::int32_t>(static_cast<std::size_t>(MaxBatch));
    host_scalars_ = pinned_buffer<step_scalars>(1);
    *host_scalars_.get() = {};

    std::size_t scratch = 1;
    for (std::size_t i = 0; i < op_count; ++i) {
      const plan_row& r = plan.rows[i];
      if (r.desc.kind == op_kind::batchnorm)
        scratch = std::max(scratch, kernel::batchnorm_scratch_floats(MaxBatch, r.in.c, static_cast<int>(r.in.positions())));
      if (r.desc.kind == op_kind::conv && depthwise(i))
        scratch = std::max(scratch, kernel::depthwise_scratch_floats(detail::conv_geometry(r), MaxBatch));
    }
    scratch_ = device_buffer<float>(scratch, "kernel scratch");
    plans_for(MaxBatch);  // the conv plans of full batches, and the workspace they need
    reset_parameters(seed);
  }

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model() {
    // Members go in reverse order: graphs and plans before the handles they use.
    if (stream_.get()) (void)cudaStreamSynchronize(stream_.get());
  }

  /// PyTorch's default initialisation (engine/init.hpp), the CPU engine's values for the same seed.
  void reset_parameters(std::uint64_t seed) {
    std::fill(host_state_.begin(), host_state_.end(), 0.0f);
    init_parameters(plan.rows, exec.rows, host_state_.data(), host_state_.data() + 2 * exec.params, seed);
    sync_from_host();
    dropout_seed_ = seed * 0xD6E8FEB86659FD93ull + 0x5EEDull;
    steps_ = 0;
  }

  void train(bool on = true) noexcept { training_ = on; }
  void eval() noexcept { training_ = false; }
  [[nodiscard]] bool training() const noexcept { return training_; }
  [[nodiscard]] const model_options& options() const noexcept { return options_; }

  void set_dropout_seed(std::uint64_t seed) noexcept { dropout_seed_ = seed, steps_ = 0; }
  [[nodiscard]] std::uint64_t dropout_seed() const noexcept { return dropout_seed_; }
  [[nodiscard]] std::uint64_t dropout_steps() const noexcept { return steps_; }
  void set_dropout_state(std::uint64_t seed, std::uint64_t steps) noexcept { dropout_seed_ = seed, steps_ = steps; }

  /// BatchNorm settings (PyTorch defaults).
  float bn_momentum = 0.1f;
  float bn_eps = 1e-5f;

  // ------------------------------------------------ host-visible state --
  /// The host mirrors of the parameters and gradients (current after
  /// sync_to_host(); written back by sync_from_host()).
  [[nodiscard]] std::span<float> parameters() noexcept { return {host_state_.data(), static_cast<std::size_t>(exec.params)}; }
  [[nodiscard]] std::span<float> gradients() noexcept {
    return {host_state_.data() + exec.params, static_cast<std::size_t>(exec.params)};
  }
  [[nodiscard]] std::span<float> buffer_values() noexcept {
    return {host_state_.data() + 2 * exec.params, static_cast<std::size_t>(exec.buffers)};
  }
  [[nodiscard]] std::vector<named_tensor> named_tensors() {
    float* h = host_state_.data();
    return bind_tensors(staticnet::tensor_specs<Net>(), h, h + exec.params, h + 2 * exec.params);
  }
  [[nodiscard]] static std::vector<std::string> layer_names() { return staticnet::layer_names<Net>(); }

  /// Device -> host mirrors (parameters, gradients, buffers). Synchronises.
  /// (An optimizer's state comes back with optimizer_to_host.)
  void sync_to_host() {
    check(cudaMemcpyAsync(host_state_.data(), state_.get(), state_.bytes(), cudaMemcpyDeviceToHost, stream_.get()),
          "downloading the parameters");
    stream_.synchronize("synchronising after the download of the parameters");
  }
  /// Host mirrors -> device (after the host wrote parameters or buffers).
  void sync_from_host() {
    check(cudaMemcpyAsync(state_.get(), host_state_.data(), state_.bytes(), cudaMemcpyHostToDevice, stream_.get()),
          "uploading the parameters");
    stream_.synchronize("synchronising after the upload of the parameters");
  }
  /// An optimizer's host state -> its device copy (restore_optimizer_state calls it).
  template <class Optimizer>
  void optimizer_from_host(Optimizer& opt) {
    if (opt_state* s = find_opt(&opt)) copy_optimizer_state(*s, cudaMemcpyHostToDevice);
  }
  /// An optimizer's device state -> its host buffers (add_optimizer_state calls it).
  template <class Optimizer>
  void optimizer_to_host(Optimizer& opt) {
    if (opt_state* s = find_opt(&opt)) copy_optimizer_state(*s, cudaMemcpyDeviceToHost);
  }

  /// Device pointers (for tests and custom kernels).
  [[nodiscard]] float* device_params() noexcept { return state_.get(); }
  [[nodiscard]] float* device_grads() noexcept { return state_.get() + exec.params; }
  [[nodiscard]] float* device_buffers() noexcept { return state_.get() + 2 * exec.params; }
  [[nodiscard]] cudaStream_t cuda_stream() const noexcept { return stream_.get(); }
  /// Device bytes held: state, arena, auxiliary state, scratch, workspaces.
  [[nodiscard]] std::size_t device_bytes() const noexcept {
    return state_.bytes() + work_.bytes() + aux_.bytes() + scratch_.bytes() + workspace_.bytes() +
           cublas_workspace_.bytes() + dloss_.bytes();
  }
  /// Nodes of the last captured training step (0 before the first capture).
  [[nodiscard]] std::size_t graph_nodes() const noexcept { return last_graph_nodes_; }
  /// Captured training-step graphs (one per batch size and optimizer seen).
  [[nodiscard]] std::size_t graph_count() const noexcept { return graphs_.size(); }
  /// How many train_step() calls replayed the captured graph.
  [[nodiscard]] std::int64_t graph_replays() const noexcept { return replays_; }

  // ------------------------------------------------------------- running --
  /// Runs the network on n images (NCHW floats on the host); returns the
  /// outputs on the host, valid until the next call. Synchronises.
  std::span<const float> forward(std::span<const float> x, int n) {
    check_input(x, n, "forward");
    std::memcpy(host_in_.get(), x.data(), x.size_bytes());
    prepare_scalars(n);
    enqueue_upload_scalars();
    enqueue_upload_input(n);
    enqueue_forward(n);
    enqueue_download_output(n);
    stream_.synchronize("forward");
    backward_ready_ = training_;
    return {host_out_.get(), static_cast<std::size_t>(n) * static_cast<std::size_t>(output_numel)};
  }

  /// Back-propagates dL/d(output) (host, n x outputs of the last forward) into the gradients.
  void backward(std::span<const float> dout) {
    if (!backward_ready_) throw std::logic_error("staticnet: backward() needs a forward() in training mode first");
    const int n = batch_;
    if (dout.size() != static_cast<std::size_t>(n) * static_cast<std::size_t>(output_numel))
      throw std::invalid_argument("staticnet: backward: expected " + std::to_string(n) + " x " +
                                  std::to_string(output_numel) + " gradient floats, got " + std::to_string(dout.size()));
    check(cudaMemcpyAsync(dloss_.get(), dout.data(), dout.size_bytes(), cudaMemcpyHostToDevice, stream_.get()),
          "uploading the output gradient");
    enqueue_backward(n);
    stream_.synchronize("backward");
  }

  /// Forward, loss and backward (training mode); the mean loss. Gradients are overwritten.
  float forward_backward(std::span<const float> x, std::span<const std::int32_t> targets, int n,
                         float label_smoothing = 0.0f) {
    check_input(x, n, "forward_backward");
    check_targets(targets, n, "forward_backward");
    check_smoothing(label_smoothing);
    const bool was_training = training_;
    training_ = true;
    std::memcpy(host_in_.get(), x.data(), x.size_bytes());
    std::memcpy(host_targets_.get(), targets.data(), targets.size_bytes());
    prepare_scalars(n);
    enqueue_upload_scalars();
    enqueue_upload_input(n);
    enqueue_upload_targets(n);
    enqueue_forward(n);
    enqueue_loss(n, label_smoothing, true);
    enqueue_backward(n);
    enqueue_download_output(n);
    enqueue_download_loss();
    stream_.synchronize("forward_backward");
    training_ = was_training;
    backward_ready_ = true;
    return host_scalars_.get()->loss;
  }

  /// One whole training step with an optimizer (sn::SGD, sn::Adam, sn::AdamW):
  /// forward, loss, backward and the update on the device; the first call for
  /// a batch size and optimizer runs eagerly, the next captures the step into
  /// a CUDA graph and every later one replays it (model_options::cuda_graphs).
  /// Returns the mean loss (the one host synchronisation). A non-finite loss
  /// is returned as it is; the update was applied (fit() stops on it, keeping
  /// the last checkpoint).
  template <class Optimizer>
  float train_step(std::span<const float> x, std::span<const std::int32_t> targets, int n, Optimizer& opt,
                   float label_smoothing = 0.0f) {
    check_input(x, n, "train_step");
    check_targets(targets, n, "train_step");
    check_smoothing(label_smoothing);
    training_ = true;
    std::memcpy(host_in_.get(), x.data(), x.size_bytes());
    std::memcpy(host_targets_.get(), targets.data(), targets.size_bytes());
    prepare_scalars(n);
    opt_state& os = attach(opt);
    write_optimizer_scalars(opt);
    const graph_key key{n, &opt, label_smoothing, bn_momentum, bn_eps};
    auto enqueue = [&] {
      enqueue_upload_scalars();
      enqueue_upload_input(n);
      enqueue_upload_targets(n);
      enqueue_forward(n);
      enqueue_loss(n, label_smoothing, true);
      enqueue_backward(n);
      enqueue_update(opt, os);
      enqueue_download_output(n);
      enqueue_download_loss();
    };
    graph* g = nullptr;
    for (auto& [k, gr] : graphs_)
      if (k == key) g = &gr;
    if (!options_.cuda_graphs) {
      enqueue();
    } else if (g) {
      g->launch(stream_.get());
      ++replays_;
    } else if (std::find(uncapturable_.begin(), uncapturable_.end(), key) != uncapturable_.end()) {
      enqueue();  // this step could not be captured (below): eager from then on
    } else if (std::find(warmed_.begin(), warmed_.end(), key) != warmed_.end()) {
      // Warmed up (plans bound, optimizer state allocated): capture, then replay.
      // A library call that cannot be captured (a cuDNN engine that
      // allocates, say) makes this step eager for good, with one warning.
      std::string failure;
      graph captured;
      graph::begin_capture(stream_.get());
      try {
        enqueue();
      } catch (const std::exception& e) {
        failure = e.what();
      }
      if (failure.empty()) {
        try {
          captured.end_capture(stream_.get());
        } catch (const std::exception& e) {
          failure = e.what();
        }
      } else {
        cudaGraph_t partial = nullptr;
        (void)cudaStreamEndCapture(stream_.get(), &partial);
        if (partial) (void)cudaGraphDestroy(partial);
      }
      if (failure.empty()) {
        graphs_.emplace_back(key, std::move(captured));
        last_graph_nodes_ = graphs_.back().second.node_count();
        graphs_.back().second.launch(stream_.get());
        ++replays_;
      } else {
        (void)cudaGetLastError();  // the capture's error is not the next call's
        uncapturable_.push_back(key);
        std::fprintf(stderr, "staticnet::cuda::Model: the training step could not be captured as a CUDA graph (%s); "
                             "it runs eagerly\n", failure.c_str());
        enqueue();
      }
    } else {
      enqueue();  // warm-up: binds every plan's variant pack, outside any capture
      warmed_.push_back(key);
    }
    stream_.synchronize("train_step");
    after_update(opt);
    backward_ready_ = true;
    return host_scalars_.get()->loss;
  }

  /// The optimizer's update on the device (what opt.step(model) calls for
  /// this engine). The optimizer's state lives on the device from its first
  /// step; sync_to_host() / optimizer_to_host() bring it back.
  template <class Optimizer>
  void step_optimizer(Optimizer& opt) {
    opt_state& os = attach(opt);
    write_optimizer_scalars(opt);
    enqueue_upload_scalars();
    enqueue_update(opt, os);
    stream_.synchronize("optimizer step");
    after_update(opt);
  }

  /// The mean loss of the current outputs against targets (host). Synchronises.
  float loss(std::span<const std::int32_t> targets, float label_smoothing = 0.0f) {
    check_targets(targets, batch_, "loss");
    check_smoothing(label_smoothing);
    std::memcpy(host_targets_.get(), targets.data(), targets.size_bytes());
    enqueue_upload_targets(batch_);
    enqueue_loss(batch_, label_smoothing, false);
    enqueue_download_loss();
    stream_.synchronize("loss");
    return host_scalars_.get()->loss;
  }

  /// The outputs of the last forward (host).
  [[nodiscard]] const float* output() const noexcept { return host_out_.get(); }
  [[nodiscard]] int last_batch() const noexcept { return batch_; }

  /// The activation after layer number `number` (1-based) of the last forward, downloaded.
  [[nodiscard]] std::vector<float> layer_output(int number) {
    for (std::size_t i = 0; i < op_count; ++i)
      if (plan.rows[i].number == number) {
        std::vector<float> out(static_cast<std::size_t>(batch_) * static_cast<std::size_t>(plan.rows[i].out.numel()));
        check(cudaMemcpyAsync(out.data(), act(exec.rows[i].storage), out.size() * sizeof(float),
                              cudaMemcpyDeviceToHost, stream_.get()),
              "downloading a layer's output");
        stream_.synchronize("layer_output");
        return out;
      }
    throw std::out_of_range("staticnet: no layer number " + std::to_string(number));
  }

  /// Also compute the gradient of the network input (off by default).
  void set_input_gradient(bool on) noexcept { want_input_grad_ = on; }
  /// The gradient of the network input after backward(), downloaded (empty when not enabled).
  [[nodiscard]] std::vector<float> input_gradient() {
    if (!last_input_grad_) return {};
    std::vector<float> out(static_cast<std::size_t>(batch_) * static_cast<std::size_t>(input_numel));
    check(cudaMemcpyAsync(out.data(), last_input_grad_, out.size() * sizeof(float), cudaMemcpyDeviceToHost,
                          stream_.get()),
          "downloading the input gradient");
    stream_.synchronize("input_gradient");
    return out;
  }

 private:
  // Per-step values read on the device (uploaded from pinned memory by a
  // memcpy node, so a replayed graph sees the current ones).
  struct step_scalars {
    std::uint64_t dropout_seed[op_count > 0 ? op_count : 1];
    kernel::sgd_step_args sgd;
    cpu::adam_coefficients adam;
    float loss;
  };
  struct graph_key {
    int n = 0;
    const void* optimizer = nullptr;
    float label_smoothing = 0, bn_momentum = 0, bn_eps = 0;
    bool operator==(const graph_key&) const = default;
  };
  struct opt_buffer {
    std::span<float> host;
    device_buffer<float> device;
  };
  struct opt_state {
    const void* key = nullptr;   ///< the optimizer object
    const void* type = nullptr;  ///< its type (type_tag<Optimizer>)
    std::vector<opt_buffer> buffers;
  };
  template <class T>
  static inline const char type_tag = 0;
  struct conv_plans {
    cudnn::conv_plan forward, backward_data, backward_filter;
    std::array<std::array<const void*, 3>, 3> bound{};  ///< the pointers each pass's variant pack holds
    bool has = false;
  };

  static constexpr bool depthwise_geometry(const cpu::conv_geom& g) noexcept {
    return g.groups > 1 && g.groups == g.c_in && g.c_out % g.c_in == 0;
  }
  bool depthwise(std::size_t i) const {
    const cpu::conv_geom g = detail::conv_geometry(plan.rows[i]);
    return options_.own_depthwise && depthwise_geometry(g) && kernel::depthwise_supported(g);
  }

  // ------------------------------------------------------------ plans --
  std::vector<conv_plans>& plans_for(int n) {
    auto it = plans_.find(n);
    if (it != plans_.end()) return it->second;
    std::vector<conv_plans> p(op_count);
    std::int64_t need = 0;
    for (std::size_t i = 0; i < op_count; ++i) {
      if (plan.rows[i].desc.kind != op_kind::conv || depthwise(i)) continue;
      const cpu::conv_geom g = detail::conv_geometry(plan.rows[i]);
      p[i].forward = cudnn::conv_plan(cudnn_, g, n, cudnn::conv_pass::forward, options_.math);
      p[i].backward_data = cudnn::conv_plan(cudnn_, g, n, cudnn::conv_pass::backward_data, options_.math);
      p[i].backward_filter = cudnn::conv_plan(cudnn_, g, n, cudnn::conv_pass::backward_filter, options_.math);
      p[i].has = true;
      need = std::max({need, p[i].forward.workspace_bytes(), p[i].backward_data.workspace_bytes(),
                       p[i].backward_filter.workspace_bytes()});
    }
    if (static_cast<std::size_t>(need) > workspace_.bytes()) {
      // A larger workspace: every bound variant pack and the captured graph refer to the old one.
      stream_.synchronize("growing the cuDNN workspace");
      workspace_ = device_buffer<std::uint8_t>(static_cast<std::size_t>(need), "cuDNN workspace");
      for (auto& [batch, ps] : plans_)
        for (auto& q : ps) q.bound = {};
      graphs_.clear();
      warmed_.clear();
      uncapturable_.clear();
    }
    return plans_.emplace(n, std::move(p)).first->second;
  }

  // A plan's variant pack is bound the first time it runs with given pointers
  // (the pointers of a row are the same in every step, so from the second
  // step on nothing is rebuilt).
  void run_plan(cudnn::conv_plan& p, std::array<const void*, 3>& bound, const float* x, const float* w, const float* y) {
    const std::array<const void*, 3> want{x, w, y};
    if (bound != want) {
      p.bind(x, w, y, workspace_.get());
      bound = want;
    }
    p.execute(cudnn_);
  }

  // --------------------------------------------------------- checking --
  void check_batch(int n, const char* what) const {
    if (n < 1 || n > MaxBatch)
      throw std::invalid_argument(std::string("staticnet: ") + what + ": batch of " + std::to_string(n) +
                                  " images is outside 1.." + std::to_string(MaxBatch) +
                                  " (the Model was planned for MaxBatch = " + std::to_string(MaxBatch) + ")");
  }
  void check_input(std::span<const float> x, int n, const char* what) {
    check_batch(n, what);
    if (x.size() != static_cast<std::size_t>(n) * static_cast<std::size_t>(input_numel))
      throw std::invalid_argument(std::string("staticnet: ") + what + ": expected " + std::to_string(n) + " x " +
                                  std::to_string(input_numel) + " input floats (n x C x H x W), got " +
                                  std::to_string(x.size()));
    batch_ = n;
  }
  static void check_targets(std::span<const std::int32_t> targets, int n, const char* what) {
    if (targets.size() != static_cast<std::size_t>(n))
      throw std::invalid_argument(std::string("staticnet: ") + what + ": " + std::to_string(n) + " images but " +
                                  std::to_string(targets.size()) + " targets");
    const int classes = static_cast<int>(output_numel);
    for (std::size_t i = 0; i < targets.size(); ++i)
      if (targets[i] < 0 || targets[i] >= classes)
        throw std::invalid_argument(std::string("staticnet::cuda::") + what + ": target[" + std::to_string(i) +
                                    "] = " + std::to_string(targets[i]) + " is out of range [0, " +
                                    std::to_string(classes) + ")");
  }
  static void check_smoothing(float label_smoothing) {
    if constexpr (ends_with_log_softmax) {
      if (label_smoothing != 0.0f)
        throw std::invalid_argument("staticnet: label smoothing needs a network without a final LogSoftmax "
                                    "(cross-entropy on logits)");
    }
    if (!(label_smoothing >= 0.0f && label_smoothing <= 1.0f))
      throw std::invalid_argument("staticnet: label_smoothing must be in [0, 1]");
  }

  // ------------------------------------------------------- per step --
  void prepare_scalars(int n) {
    current_plans_ = &plans_for(n);  // the convs of this run look their plans up here
    step_scalars& s = *host_scalars_.get();
    const std::uint64_t step_seed = dropout_seed_ ^ (0x9E3779B97F4A7C15ull * (training_ ? ++steps_ : steps_));
    for (std::size_t i = 0; i < op_count; ++i) s.dropout_seed[i] = step_seed ^ (0xD1B54A32D192ED03ull * (i + 1));
    // forward() and forward_backward() upload the seeds here; train_step()
    // uploads them inside its graph.
  }
  template <class Optimizer>
  void write_optimizer_scalars(Optimizer& opt) {
    step_scalars& s = *host_scalars_.get();
    if constexpr (requires { opt.momentum_buffer(); }) {
      s.sgd = {opt.options.lr, opt.options.momentum, opt.options.dampening, opt.options.weight_decay,
               opt.options.nesterov ? 1 : 0, opt.started() ? 0 : 1};
    } else {
      s.adam = cpu::make_adam_coefficients(opt.options, opt.step_count() + 1, adam_kind(opt));
    }
  }
  template <class O, cpu::weight_decay_kind K>
  static constexpr cpu::weight_decay_kind adam_kind(const detail::adam_optimizer<O, K>&) noexcept {
    return K;
  }
  template <class Optimizer>
  void after_update(Optimizer& opt) {
    if constexpr (requires { opt.momentum_buffer(); })
      opt.set_started(true);
    else
      opt.set_step_count(opt.step_count() + 1);
  }
  // An optimizer is known by its address and type; one destroyed and another
  // made at the same address gets fresh state only if its type differs, so an
  // optimizer should live as long as the model it steps.
  template <class Optimizer>
  opt_state* find_opt(const Optimizer* opt) {
    for (auto& o : opt_state_)
      if (o.key == opt && o.type == &type_tag<Optimizer>) return &o;
    return nullptr;
  }
  void copy_optimizer_state(opt_state& s, cudaMemcpyKind kind) {
    const bool up = kind == cudaMemcpyHostToDevice;
    for (auto& b : s.buffers)
      check(up ? cudaMemcpyAsync(b.device.get(), b.host.data(), b.device.bytes(), kind, stream_.get())
               : cudaMemcpyAsync(b.host.data(), b.device.get(), b.device.bytes(), kind, stream_.get()),
            up ? "uploading the optimizer state" : "downloading the optimizer state");
    stream_.synchronize("synchronising after copying the optimizer state");
  }
  template <class Optimizer>
  opt_state& attach(Optimizer& opt) {
    if (opt_state* s = find_opt(&opt)) return *s;
    opt_state s;
    s.key = &opt;
    s.type = &type_tag<Optimizer>;
    auto add = [&](std::span<float> host) {
      if (host.size() != static_cast<std::size_t>(exec.params))
        throw std::invalid_argument("staticnet: cuda::Model: the optimizer was made for " + std::to_string(host.size()) +
                                    " parameters, the model has " + std::to_string(exec.params));
      s.buffers.push_back({host, device_buffer<float>(host.size(), "optimizer state")});
    };
    if constexpr (requires { opt.momentum_buffer(); }) {
      add(opt.momentum_buffer());
    } else {
      add(opt.exp_avg());
      add(opt.exp_avg_sq());
      if (!opt.max_exp_avg_sq().empty()) add(opt.max_exp_avg_sq());
    }
    copy_optimizer_state(s, cudaMemcpyHostToDevice);
    opt_state_.push_back(std::move(s));
    return opt_state_.back();
  }

  // ---------------------------------------------------------- copies --
  void enqueue_upload_scalars() {
    check(cudaMemcpyAsync(scalars_.get(), host_scalars_.get(), sizeof(step_scalars), cudaMemcpyHostToDevice,
                          stream_.get()),
          "uploading the step's scalars");
  }
  void enqueue_upload_input(int n) {
    check(cudaMemcpyAsync(act(-1), host_in_.get(),
                          static_cast<std::size_t>(n) * static_cast<std::size_t>(input_numel) * sizeof(float),
                          cudaMemcpyHostToDevice, stream_.get()),
          "uploading the input");
  }
  void enqueue_upload_targets(int n) {
    check(cudaMemcpyAsync(targets_.get(), host_targets_.get(), static_cast<std::size_t>(n) * sizeof(std::int32_t),
                          cudaMemcpyHostToDevice, stream_.get()),
          "uploading the targets");
  }
  void enqueue_download_output(int n) {
    check(cudaMemcpyAsync(host_out_.get(), output_device(),
                          static_cast<std::size_t>(n) * static_cast<std::size_t>(output_numel) * sizeof(float),
                          cudaMemcpyDeviceToHost, stream_.get()),
          "downloading the output");
  }
  void enqueue_download_loss() {
    check(cudaMemcpyAsync(&host_scalars_.get()->loss, &device_scalars()->loss, sizeof(float), cudaMemcpyDeviceToHost,
                          stream_.get()),
          "downloading the loss");
  }

  step_scalars* device_scalars() noexcept { return reinterpret_cast<step_scalars*>(scalars_.get()); }
  float* act(int storage) noexcept {
    const std::int64_t off = storage < 0 ? 0 : exec.rows[static_cast<std::size_t>(storage)].act;
    return work_.get() + off * MaxBatch;
  }
  float* output_device() noexcept { return act(exec.rows[op_count - 1].storage); }
  float* saved(const exec_row& e) noexcept {
    return work_.get() + static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(exec.act_per_image) + e.saved;
  }
  float* grad_buffer(std::size_t level, int which) noexcept {
    return work_.get() + static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(exec.act_per_image) +
           static_cast<std::size_t>(exec.saved) + (level * 3 + static_cast<std::size_t>(which)) * grad_size_;
  }
  std::uint8_t* aux(const exec_row& e) noexcept { return aux_.get() + e.aux * MaxBatch; }
  float* params() noexcept { return state_.get(); }
  float* grads() noexcept { return state_.get() + exec.params; }
  float* buffers() noexcept { return state_.get() + 2 * exec.params; }
  static constexpr shape shape_of(int row) noexcept {
    return row < 0 ? Net::plan.input : Net::plan.rows[static_cast<std::size_t>(row)].out;
  }
  void copy_d2d(float* dst, const float* src, std::size_t count) {
    check(cudaMemcpyAsync(dst, src, count * sizeof(float), cudaMemcpyDeviceToDevice, stream_.get()), "copying an activation");
  }

  // ---------------------------------------------------------- forward --
  void enqueue_forward(int n) {
    for (std::size_t i = 0; i < op_count; ++i) forward_row(i, n);
  }

  void forward_row(std::size_t i, int n) {
    const cudaStream_t s = stream_.get();
    const plan_row& r = plan.rows[i];
    const exec_row& e = exec.rows[i];
    const float* x = act(e.src < 0 ? -1 : exec.rows[static_cast<std::size_t>(e.src)].storage);
    float* y = act(e.storage);
    float* p = params() + e.param;
    const std::size_t count = static_cast<std::size_t>(n) * static_cast<std::size_t>(r.out.numel());
    const bool relu_next = fusion.applies_next_relu(i);
    switch (r.desc.kind) {
      case op_kind::conv: {
        const cpu::conv_geom g = detail::conv_geometry(r);
        const float* bias = e.bias ? p + e.weight : nullptr;
        if (depthwise(i)) {
          kernel::depthwise_forward(s, g, n, x, p, bias, y, relu_next);
        } else {
          conv_plans& cp = (*current_plans_)[i];
          run_plan(cp.forward, cp.bound[0], x, p, y);
          if (bias || relu_next) kernel::bias_relu(s, n, r.out.c, static_cast<int>(r.out.positions()), y, bias, relu_next);
        }
        break;
      }
      case op_kind::batchnorm: {
        const int hw = static_cast<int>(r.in.positions());
        float* b = buffers() + e.buffer;
        if (training_)
          kernel::batchnorm_forward_train(s, n, r.in.c, hw, x, p, p + r.in.c, y, saved(e), saved(e) + r.in.c, b,
                                          b + r.in.c, bn_momentum, bn_eps, relu_next, scratch_.get());
        else
          kernel::batchnorm_forward_eval(s, n, r.in.c, hw, x, p, p + r.in.c, b, b + r.in.c, bn_eps, y, relu_next);
        break;
      }
      case op_kind::relu:
        if (!fusion.relu_into_conv[i] && !fusion.relu_after_bn[i]) kernel::relu_forward(s, count, x, y);
        break;
      case op_kind::dropout:
        if (training_)
          kernel::dropout_forward(s, count, x, y, aux(e), static_cast<float>(r.desc.drop.value()),
                                  &device_scalars()->dropout_seed[i]);
        else
          copy_d2d(y, x, count);
        break;
      case op_kind::maxpool:
        kernel::maxpool_forward(s, detail::pool_geometry(r), n, x, y, reinterpret_cast<std::int32_t*>(aux(e)));
        break;
      case op_kind::avgpool: kernel::avgpool_forward(s, detail::pool_geometry(r), n, x, y); break;
      case op_kind::global_avgpool:
        kernel::global_avgpool_forward(s, n, r.in.c, static_cast<int>(r.in.positions()), x, y);
        break;
      case op_kind::linear: {
        const float one = 1.0f, zero = 0.0f;
        check(cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, r.out.c, n, r.in.c, &one, p, r.in.c, x, r.in.c, &zero, y,
                          r.out.c),
              "cublasSgemm (Linear forward)");
        if (e.bias) kernel::bias_relu(s, n, r.out.c, 1, y, p + e.weight, false);
        break;
      }
      case op_kind::log_softmax:
        kernel::log_softmax_forward(s, n, static_cast<int>(r.in.numel()), x, y);
        break;
      case op_kind::zero_pad: {
        const pad& z = r.desc.zp;
        kernel::zero_pad2d(s, n * r.in.c, r.in.h, r.in.w, z.left, z.right, z.top, z.bottom, x, y);
        break;
      }
      case op_kind::branch_end: merge_forward(r, e, n, y); break;
      default: break;  // markers, Flatten and Identity alias their input
    }
  }

  void merge_forward(const plan_row& r, const exec_row& e, int n, float* y) {
    const std::size_t count = static_cast<std::size_t>(n) * static_cast<std::size_t>(r.out.numel());
    int c_offset = 0;
    for (int b = 0; b < e.merge_count; ++b) {
      const int src = exec.merge_src[static_cast<std::size_t>(e.merge_first + b)];
      const float* xb = act(src < 0 ? -1 : exec.rows[static_cast<std::size_t>(src)].storage);
      if (r.desc.merge == merge_kind::add) {
        if (b == 0) {
          if (xb != y) copy_d2d(y, xb, count);
        } else {
          kernel::add_inplace(stream_.get(), count, xb, y);
        }
      } else {
        const shape sh = shape_of(src);
        kernel::concat_forward(stream_.get(), n, static_cast<int>(r.out.positions()), r.out.c, c_offset, sh.c, xb, y);
        c_offset += sh.c;
      }
    }
  }

  // ------------------------------------------------------------- loss --
  void enqueue_loss(int n, float label_smoothing, bool gradient) {
    const int classes = static_cast<int>(output_numel);
    float* grad = gradient ? dloss_.get() : dloss_scratch();
    if constexpr (ends_with_log_softmax)
      kernel::nll_loss(stream_.get(), n, classes, output_device(), targets_.get(), grad, &device_scalars()->loss);
    else
      kernel::cross_entropy(stream_.get(), n, classes, output_device(), targets_.get(), label_smoothing, grad,
                            &device_scalars()->loss);
  }
  // loss() must not overwrite a gradient a later backward() could use: it
  // writes its (unused) gradient into the top gradient buffer instead.
  float* dloss_scratch() noexcept { return grad_buffer(grad_levels_ - 1, 2); }

  // --------------------------------------------------------- backward --
  struct grad_frame {
    float* gout = nullptr;
    float* acc = nullptr;
    int branch = 0;
    int merge_row = 0;
    bool have = false;
  };

  float* branch_grad(const grad_frame& f, int b, int n, std::size_t level) {
    const plan_row& r = plan.rows[static_cast<std::size_t>(f.merge_row)];
    if (r.desc.merge == merge_kind::add) return f.gout;
    const exec_row& e = exec.rows[static_cast<std::size_t>(f.merge_row)];
    int c_offset = 0;
    for (int k = 0; k < b; ++k) c_offset += shape_of(exec.merge_src[static_cast<std::size_t>(e.merge_first + k)]).c;
    const shape sh = shape_of(exec.merge_src[static_cast<std::size_t>(e.merge_first + b)]);
    float* dst = grad_buffer(level, 0);
    kernel::concat_backward(stream_.get(), n, static_cast<int>(r.out.positions()), r.out.c, c_offset, sh.c, f.gout,
                            dst, false);
    return dst;
  }

  void accumulate(grad_frame& f, const float* g, std::size_t count) {
    if (!f.have) {
      if (g != f.acc) copy_d2d(f.acc, g, count);
      f.have = true;
    } else {
      kernel::add_inplace(stream_.get(), count, g, f.acc);
    }
  }

  // The CPU engine's traversal (cpu/model.hpp), on device pointers.
  void enqueue_backward(int n) {
    float* g = dloss_.get();
    std::array<grad_frame, 34> frames{};
    std::size_t level = 0;
    for (std::size_t ii = op_count; ii-- > 0;) {
      const plan_row& r = plan.rows[ii];
      const exec_row& e = exec.rows[ii];
      switch (r.desc.kind) {
        case op_kind::block_begin:
        case op_kind::block_end:
        case op_kind::flatten:
        case op_kind::identity: continue;
        case op_kind::branch_end: {
          grad_frame& f = frames[level];
          f.gout = g;
          f.acc = grad_buffer(level, 2) != g ? grad_buffer(level, 2) : grad_buffer(level, 1);
          f.merge_row = static_cast<int>(ii);
          f.branch = e.merge_count - 1;
          f.have = false;
          ++level;
          g = branch_grad(f, f.branch, n, level);
          continue;
        }
        case op_kind::branch_next:
        case op_kind::branch_begin: {
          grad_frame& f = frames[level - 1];
          const std::size_t count = static_cast<std::size_t>(n) * static_cast<std::size_t>(shape_of(e.src).numel());
          accumulate(f, g, count);
          if (r.desc.kind == op_kind::branch_next) {
            --f.branch;
            g = branch_grad(f, f.branch, n, level);
          } else {
            g = f.acc;
            --level;
          }
          continue;
        }
        default: break;
      }
      if (fusion.relu_after_bn[ii]) continue;  // the BatchNorm before it applies the mask
      float* a = grad_buffer(level, 0);
      float* dx = (g == a) ? grad_buffer(level, 1) : a;
      const bool need_dx = e.src >= 0 || want_input_grad_;
      backward_layer(ii, n, g, need_dx ? dx : nullptr);
      g = dx;
    }
    last_input_grad_ = want_input_grad_ ? g : nullptr;
  }

  void backward_layer(std::size_t i, int n, const float* dy, float* dx) {
    const cudaStream_t s = stream_.get();
    const plan_row& r = plan.rows[i];
    const exec_row& e = exec.rows[i];
    const float* x = act(e.src < 0 ? -1 : exec.rows[static_cast<std::size_t>(e.src)].storage);
    const float* y = act(e.storage);
    float* p = params() + e.param;
    float* gp = grads() + e.param;
    const std::size_t count = static_cast<std::size_t>(n) * static_cast<std::size_t>(r.out.numel());
    switch (r.desc.kind) {
      case op_kind::conv: {
        const cpu::conv_geom g = detail::conv_geometry(r);
        float* dbias = e.bias ? gp + e.weight : nullptr;
        if (depthwise(i)) {
          if (dx) kernel::depthwise_backward_data(s, g, n, dy, p, dx);
          kernel::depthwise_backward_filter(s, g, n, x, dy, gp, dbias, scratch_.get());
        } else {
          conv_plans& cp = (*current_plans_)[i];
          if (dx) run_plan(cp.backward_data, cp.bound[1], dx, p, dy);
          run_plan(cp.backward_filter, cp.bound[2], x, gp, dy);
          if (dbias) kernel::bias_backward(s, n, r.out.c, static_cast<int>(r.out.positions()), dy, dbias);
        }
        break;
      }
      case op_kind::batchnorm:
        kernel::batchnorm_backward(s, n, r.in.c, static_cast<int>(r.in.positions()), x, dy, p, p + r.in.c, saved(e),
                                   saved(e) + r.in.c, dx, gp, gp + r.in.c, fusion.applies_next_relu(i),
                                   scratch_.get());
        break;
      case op_kind::relu:
        if (dx) kernel::relu_backward(s, count, y, dy, dx);
        break;
      case op_kind::dropout:
        if (dx) kernel::dropout_backward(s, count, aux(e), static_cast<float>(r.desc.drop.value()), dy, dx);
        break;
      case op_kind::maxpool:
        if (dx)
          kernel::maxpool_backward(s, detail::pool_geometry(r), n, dy, reinterpret_cast<const std::int32_t*>(aux(e)), dx);
        break;
      case op_kind::avgpool:
        if (dx) kernel::avgpool_backward(s, detail::pool_geometry(r), n, dy, dx);
        break;
      case op_kind::global_avgpool:
        if (dx) kernel::global_avgpool_backward(s, n, r.in.c, static_cast<int>(r.in.positions()), dy, dx);
        break;
      case op_kind::linear: {
        const float one = 1.0f, zero = 0.0f;
        if (dx)
          check(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, r.in.c, n, r.out.c, &one, p, r.in.c, dy, r.out.c, &zero,
                            dx, r.in.c),
                "cublasSgemm (Linear backward-data)");
        check(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_T, r.in.c, r.out.c, n, &one, x, r.in.c, dy, r.out.c, &zero,
                          gp, r.in.c),
              "cublasSgemm (Linear backward-weight)");
        if (e.bias) kernel::bias_backward(s, n, r.out.c, 1, dy, gp + e.weight);
        break;
      }
      case op_kind::log_softmax:
        if (dx) kernel::log_softmax_backward(s, n, static_cast<int>(r.in.numel()), y, dy, dx);
        break;
      case op_kind::zero_pad:
        if (dx) {  // the crop of dy: a pad with the padding negated
          const pad& z = r.desc.zp;
          kernel::zero_pad2d(s, n * r.in.c, r.out.h, r.out.w, -z.left, -z.right, -z.top, -z.bottom, dy, dx);
        }
        break;
      default: break;
    }
  }

  // ------------------------------------------------------------ update --
  template <class Optimizer>
  void enqueue_update(Optimizer&, opt_state& os) {
    const std::size_t size = static_cast<std::size_t>(exec.params);
    if constexpr (requires(Optimizer& o) { o.momentum_buffer(); })
      kernel::sgd_step(stream_.get(), size, params(), grads(), os.buffers[0].device.get(), &device_scalars()->sgd);
    else
      kernel::adam_step(stream_.get(), size, params(), grads(), os.buffers[0].device.get(),
                        os.buffers[1].device.get(), os.buffers.size() > 2 ? os.buffers[2].device.get() : nullptr,
                        &device_scalars()->adam);
  }

  class cublas_handle {
   public:
    cublas_handle() { check(cublasCreate(&h_), "cublasCreate"); }
    cublas_handle(cublas_handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    cublas_handle& operator=(cublas_handle&& o) noexcept {
      if (this != &o) {
        if (h_) (void)cublasDestroy(h_);
        h_ = std::exchange(o.h_, nullptr);
      }
      return *this;
    }
    ~cublas_handle() {
      if (h_) (void)cublasDestroy(h_);
    }
    [[nodiscard]] cublasHandle_t get() const noexcept { return h_; }

   private:
    cublasHandle_t h_ = nullptr;
  };

  // First: no stream or handle is made before the device is known to be there.
  struct device_guard {
    explicit device_guard(int device) {
      require_device("cuda::Model");
      check(cudaSetDevice(device), "cudaSetDevice(" + std::to_string(device) + ")");
    }
  };
  device_guard guard_;
  model_options options_;
  stream stream_;
  cudnn::handle cudnn_handle_;
  cublas_handle cublas_handle_;
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  device_buffer<std::uint8_t> cublas_workspace_;
  device_buffer<float> state_;
  std::vector<float> host_state_;
  device_buffer<float> work_;
  device_buffer<std::uint8_t> aux_;
  device_buffer<float> dloss_;
  device_buffer<std::int32_t> targets_;
  device_buffer<std::uint8_t> scalars_;
  device_buffer<float> scratch_;
  device_buffer<std::uint8_t> workspace_;
  pinned_buffer<float> host_in_, host_out_;
  pinned_buffer<std::int32_t> host_targets_;
  pinned_buffer<step_scalars> host_scalars_;
  std::map<int, std::vector<conv_plans>> plans_;
  std::vector<conv_plans>* current_plans_ = nullptr;  // plans_[batch of the current run] (std::map nodes are stable)
  std::vector<opt_state> opt_state_;
  std::vector<std::pair<graph_key, graph>> graphs_;  // captured steps, by key
  std::vector<graph_key> warmed_;                    // keys that ran eagerly once
  std::vector<graph_key> uncapturable_;              // keys whose capture failed: eager
  std::size_t last_graph_nodes_ = 0;
  std::int64_t replays_ = 0;
  std::size_t grad_size_ = 0;
  std::size_t grad_levels_ = 1;
  int batch_ = 0;
  bool training_ = true;
  bool backward_ready_ = false;
  bool want_input_grad_ = false;
  float* last_input_grad_ = nullptr;
  std::uint64_t dropout_seed_ = 0x5EEDull;
  std::uint64_t steps_ = 0;
};

}  // namespace staticnet::cuda
