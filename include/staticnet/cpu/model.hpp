// staticnet/cpu/model.hpp: the CPU engine, cpu::Model: a trainable model of a
// network type on the CPU (sn::Model is the same class).
//
//   using Net = sn::Network<...>;
//   sn::Model<Net> model(/*seed=*/1);          // planned for batches of up to 128
//   model.train();
//   auto out = model.forward(x, n);            // x: n x C x H x W floats (NCHW)
//   model.backward(dout);                       // fills model.gradients()
//
// Parameters, their gradients and the BatchNorm buffers live in one aligned
// allocation whose size is a compile-time fact; activations, saved state and
// gradient buffers live in a workspace planned at compile time for MaxBatch
// images. Nothing is allocated inside forward() or backward() (the thread
// pool's tasks are non-owning references; only a change of the thread count
// re-sizes the convolution scratch, once, at the next forward()).
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <memory>
#include <ostream>
#include <new>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "kernel_types.hpp"
#include "kernels.hpp"
#include "pad.hpp"
#include "parallel.hpp"
#include "../facts.hpp"
#include "../engine/engine.hpp"
#include "../engine/fusion.hpp"
#include "../engine/geometry.hpp"
#include "../engine/init.hpp"
#include "../engine/memory_plan.hpp"
#include "../engine/tensor_names.hpp"
#include "../network.hpp"
#include "aligned.hpp"

namespace staticnet {

namespace cpu {

/// A network instantiated for training and inference on the CPU (an `engine`,
/// engine/engine.hpp).
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
  /// Floats in the parameter allocation: parameters, gradients, buffers.
  static constexpr std::int64_t state_floats = 2 * exec.params + exec.buffers;
  static_assert(exec.params == Net::plan.params, "staticnet: internal error: parameter plan mismatch");
  static_assert(MaxBatch >= 1, "staticnet [E_MAX_BATCH]: Model<Net, MaxBatch> needs MaxBatch >= 1");

  explicit Model(std::uint64_t seed = 0) {
    state_ = detail::aligned_zeros<float>(static_cast<std::size_t>(state_floats));
    grad_size_ = static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(exec.max_numel);
    grad_levels_ = static_cast<std::size_t>(exec.max_depth) + 1;
    plan_scratch();
    const std::size_t floats = static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(exec.act_per_image) +
                               static_cast<std::size_t>(exec.saved) + 3 * grad_levels_ * grad_size_;
    work_ = detail::aligned_zeros<float>(floats);
    aux_ = detail::aligned_zeros<std::uint8_t>(static_cast<std::size_t>(MaxBatch) *
                                               static_cast<std::size_t>(exec.aux_per_image));
    work_floats_ = floats;
    dloss_ = detail::aligned_zeros<float>(static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(output_numel));
    reset_parameters(seed);
  }

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  Model(Model&&) noexcept = default;
  Model& operator=(Model&&) noexcept = default;

  /// PyTorch's default initialisation (engine/init.hpp): conv / linear weights
  /// and biases uniform in +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5));
  /// BN weight 1, bias 0, running mean 0, running var 1. Reproducible per seed.
  void reset_parameters(std::uint64_t seed) {
    init_parameters(plan.rows, exec.rows, params(), buffers(), seed);
    zero_grad();
    dropout_seed_ = seed * 0xD6E8FEB86659FD93ull + 0x5EEDull;
    steps_ = 0;
  }

  void train(bool on = true) noexcept { training_ = on; }

  /// What this engine fuses (engine/fusion.hpp, every fusion the CPU kernels
  /// have), and its arrays under their historical names (references, not copies).
  static constexpr fusion_caps fusions{};
  static constexpr fusion_plan<op_count> fusion = make_fusion_plan(Net::plan, exec, fusions);
  static constexpr const std::array<int, op_count>& fold_target = fusion.fold_target;
  static constexpr const std::array<bool, op_count>& relu_into_conv = fusion.relu_into_conv;
  static constexpr const std::array<bool, op_count>& relu_into_bn = fusion.relu_into_bn;
  static constexpr const std::array<bool, op_count>& relu_after_bn = fusion.relu_after_bn;
  static constexpr const std::array<int, op_count>& stats_for_bn = fusion.stats_for_bn;
  static constexpr const std::array<bool, op_count>& bn_stats_ready = fusion.bn_stats_ready;
  static constexpr bool applies_next_relu(std::size_t i) noexcept { return fusion.applies_next_relu(i); }
  /// Number of conv + BatchNorm pairs fold_batchnorm() folds.
  static constexpr int foldable_pairs = fusion.foldable_pairs;

  /// Conv + BatchNorm folding for inference: every BatchNorm that directly
  /// follows a conv is folded into it (W' = W * g / sqrt(var + eps),
  /// b' = beta + (b - mean) * g / sqrt(var + eps), from the current parameters
  /// and running statistics), so eval-mode forwards run the conv alone and
  /// skip the BatchNorm. Training-mode forwards ignore the folding. Call it
  /// again after the parameters change (training, loading a checkpoint);
  /// unfold_batchnorm() turns it off. The folded weights live in their own
  /// buffer, allocated here. Returns the number of folded pairs. While folded,
  /// layer_output() of a folded conv is not meaningful (its output is written
  /// straight into the BatchNorm's buffer).
  int fold_batchnorm() {
    std::size_t floats = 0;
    for (std::size_t c = 0; c < op_count; ++c)
      if (fold_target[c] >= 0) floats += static_cast<std::size_t>(exec.rows[c].weight + plan.rows[c].out.c);
    folded_ = detail::aligned_zeros<float>(floats);
    std::size_t offset = 0;
    for (std::size_t c = 0; c < op_count; ++c) {
      folded_offset_[c] = -1;
      if (fold_target[c] < 0) continue;
      const plan_row& r = plan.rows[c];
      const exec_row& e = exec.rows[c];
      const exec_row& bn = exec.rows[static_cast<std::size_t>(fold_target[c])];
      const float* w = params() + e.param;
      const float* gamma = params() + bn.param;
      const float* beta = gamma + r.out.c;
      const float* mean = buffers() + bn.buffer;
      const float* var = mean + r.out.c;
      float* fw = folded_.get() + offset;
      float* fb = fw + e.weight;
      const std::int64_t per_channel = e.weight / r.out.c;
      for (int ch = 0; ch < r.out.c; ++ch) {
        const double s = static_cast<double>(gamma[ch]) / std::sqrt(static_cast<double>(var[ch]) + bn_eps);
        for (std::int64_t k = 0; k < per_channel; ++k)
          fw[ch * per_channel + k] = static_cast<float>(w[ch * per_channel + k] * s);
        const double b = e.bias ? static_cast<double>(w[e.weight + ch]) : 0.0;
        fb[ch] = static_cast<float>(beta[ch] + (b - mean[ch]) * s);
      }
      folded_offset_[c] = static_cast<std::int64_t>(offset);
      offset += static_cast<std::size_t>(e.weight + r.out.c);
    }
    folding_ = true;
    return foldable_pairs;
  }
  void unfold_batchnorm() noexcept { folding_ = false; }
  [[nodiscard]] bool batchnorm_folded() const noexcept { return folding_; }
  void eval() noexcept { training_ = false; }
  [[nodiscard]] bool training() const noexcept { return training_; }
  void set_dropout_seed(std::uint64_t seed) noexcept { dropout_seed_ = seed, steps_ = 0; }
  /// Dropout's random state (seed, forward passes so far), saved in checkpoints
  /// so that a resumed run draws the same masks as an uninterrupted one.
  [[nodiscard]] std::uint64_t dropout_seed() const noexcept { return dropout_seed_; }
  [[nodiscard]] std::uint64_t dropout_steps() const noexcept { return steps_; }
  void set_dropout_state(std::uint64_t seed, std::uint64_t steps) noexcept { dropout_seed_ = seed, steps_ = steps; }

  /// BatchNorm settings (PyTorch defaults).
  float bn_momentum = 0.1f;
  float bn_eps = 1e-5f;

  [[nodiscard]] float* params() noexcept { return state_.get(); }
  [[nodiscard]] const float* params() const noexcept { return state_.get(); }
  [[nodiscard]] float* grads() noexcept { return state_.get() + exec.params; }
  [[nodiscard]] float* buffers() noexcept { return state_.get() + 2 * exec.params; }
  [[nodiscard]] std::span<float> parameters() noexcept { return {params(), static_cast<std::size_t>(exec.params)}; }
  [[nodiscard]] std::span<float> gradients() noexcept { return {grads(), static_cast<std::size_t>(exec.params)}; }
  [[nodiscard]] std::span<float> buffer_values() noexcept {
    return {buffers(), static_cast<std::size_t>(exec.buffers)};
  }
  void zero_grad() noexcept { std::memset(grads(), 0, static_cast<std::size_t>(exec.params) * sizeof(float)); }

  /// Bytes held by the model: parameters/gradients/buffers and the workspace.
  [[nodiscard]] std::size_t state_bytes() const noexcept { return static_cast<std::size_t>(state_floats) * 4; }
  [[nodiscard]] std::size_t workspace_bytes() const noexcept {
    return (work_floats_ + scratch_size_) * 4 + static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(exec.aux_per_image);
  }

  /// Every parameter and buffer with its PyTorch-style name and shape
  /// (engine/tensor_names.hpp), bound to this model's memory.
  [[nodiscard]] std::vector<named_tensor> named_tensors() {
    return bind_tensors(staticnet::tensor_specs<Net>(), params(), grads(), buffers());
  }

  /// PyTorch-style module path of every op ("" for markers): a Block is a
  /// named container, Add / Concat an indexed item holding "branches.<b>".
  [[nodiscard]] static std::vector<std::string> layer_names() { return staticnet::layer_names<Net>(); }

  /// Runs the network on n images (NCHW floats, n * C*H*W of them); returns
  /// the output (n x output elements), valid until the next forward().
  std::span<const float> forward(std::span<const float> x, int n) {
    check_batch(n, "forward");
    if (x.size() != static_cast<std::size_t>(n) * static_cast<std::size_t>(input_numel))
      throw std::invalid_argument("staticnet: forward: expected " + std::to_string(n) + " x " +
                                  std::to_string(input_numel) + " input floats (n x C x H x W), got " +
                                  std::to_string(x.size()));
    batch_ = n;
    plan_scratch();  // a no-op unless the thread count changed
    std::memcpy(act(-1), x.data(), x.size() * sizeof(float));
    // Dropout masks: a function of (seed, training forward passes so far).
    const std::uint64_t step_seed = dropout_seed_ ^ (0x9E3779B97F4A7C15ull * (training_ ? ++steps_ : steps_));
    for (std::size_t i = 0; i < op_count; ++i) {
      if (profiling_) {
        const auto t0 = std::chrono::steady_clock::now();
        forward_row(i, n, step_seed);
        profile_[i].forward += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      } else {
        forward_row(i, n, step_seed);
      }
    }
    backward_ready_ = training_;
    return {output(), static_cast<std::size_t>(n) * static_cast<std::size_t>(output_numel)};
  }

  /// Back-propagates dL/d(output) (n x output elements of the last forward)
  /// and overwrites the parameter gradients with dL/d(parameters).
  void backward(std::span<const float> dout) {
    if (!backward_ready_)
      throw std::logic_error("staticnet: backward() needs a forward() in training mode first");
    const int n = batch_;
    if (dout.size() != static_cast<std::size_t>(n) * static_cast<std::size_t>(output_numel))
      throw std::invalid_argument("staticnet: backward: expected " + std::to_string(n) + " x " +
                                  std::to_string(output_numel) + " gradient floats, got " +
                                  std::to_string(dout.size()));
    plan_scratch();
    float* g = grad_buffer(0, 0);
    std::memcpy(g, dout.data(), dout.size() * sizeof(float));
    backward_from(g, n);
  }

  /// Forward, loss and backward in one call. The loss is NLL when the network
  /// ends with LogSoftmax (as PyTorch's F.nll_loss on log-probabilities) and
  /// cross-entropy on the outputs otherwise (with optional label smoothing).
  /// Returns the mean loss over the batch; gradients are overwritten.
  float forward_backward(std::span<const float> x, std::span<const std::int32_t> targets, int n,
                         float label_smoothing = 0.0f) {
    if (targets.size() != static_cast<std::size_t>(n))
      throw std::invalid_argument("staticnet: forward_backward: " + std::to_string(n) + " images but " +
                                  std::to_string(targets.size()) + " targets");
    const bool was_training = training_;
    training_ = true;
    forward(x, n);
    training_ = was_training;
    const float loss = compute_loss(targets, n, label_smoothing, dloss_.get());
    backward({dloss_.get(), static_cast<std::size_t>(n) * static_cast<std::size_t>(output_numel)});
    return loss;
  }

  /// The mean loss of the current outputs (after forward()) against targets.
  float loss(std::span<const std::int32_t> targets, float label_smoothing = 0.0f) {
    if (targets.size() != static_cast<std::size_t>(batch_))
      throw std::invalid_argument("staticnet: loss: " + std::to_string(batch_) + " outputs but " +
                                  std::to_string(targets.size()) + " targets");
    return compute_loss(targets, batch_, label_smoothing, nullptr);
  }

  /// True when the network's last layer (an Identity after it aside) is LogSoftmax (so the loss is NLL).
  static constexpr bool ends_with_log_softmax = [] {
    for (std::size_t i = op_count; i-- > 0;)
      if (Net::plan.rows[i].is_layer() && Net::plan.rows[i].desc.kind != op_kind::identity)
        return Net::plan.rows[i].desc.kind == op_kind::log_softmax;
    return false;
  }();

  /// The output of the last forward().
  [[nodiscard]] const float* output() const noexcept { return act_c(exec.rows[op_count - 1].storage); }
  /// The activation after layer number `number` (1-based, as in the summary) of
  /// the last forward(). When a ReLU runs in place right after that layer, this
  /// is the tensor after the ReLU.
  [[nodiscard]] std::span<const float> layer_output(int number) const {
    for (std::size_t i = 0; i < op_count; ++i)
      if (plan.rows[i].number == number)
        return {act_c(exec.rows[i].storage), static_cast<std::size_t>(batch_) *
                                                 static_cast<std::size_t>(plan.rows[i].out.numel())};
    throw std::out_of_range("staticnet: no layer number " + std::to_string(number));
  }
  [[nodiscard]] int last_batch() const noexcept { return batch_; }

 private:
  float compute_loss(std::span<const std::int32_t> targets, int n, float label_smoothing, float* grad) {
    const int classes = static_cast<int>(output_numel);
    if constexpr (ends_with_log_softmax) {
      if (label_smoothing != 0.0f)
        throw std::invalid_argument("staticnet: label smoothing needs a network without a final LogSoftmax "
                                    "(cross-entropy on logits)");
      return kernels().nll_loss(n, classes, output(), targets.data(), grad);
    } else {
      return kernels().cross_entropy(n, classes, output(), targets.data(), label_smoothing, grad);
    }
  }

  void check_batch(int n, const char* what) const {
    if (n < 1 || n > MaxBatch)
      throw std::invalid_argument(std::string("staticnet: ") + what + ": batch of " + std::to_string(n) +
                                  " images is outside 1.." + std::to_string(MaxBatch) +
                                  " (the Model was planned for MaxBatch = " + std::to_string(MaxBatch) + ")");
  }

  float* act(int storage) noexcept {
    const std::int64_t off = storage < 0 ? 0 : exec.rows[static_cast<std::size_t>(storage)].act;
    return work_.get() + off * MaxBatch;
  }
  const float* act_c(int storage) const noexcept {
    const std::int64_t off = storage < 0 ? 0 : exec.rows[static_cast<std::size_t>(storage)].act;
    return work_.get() + off * MaxBatch;
  }
  float* saved(const exec_row& e) noexcept {
    return work_.get() + static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(exec.act_per_image) + e.saved;
  }
  float* grad_buffer(std::size_t level, int which) noexcept {
    return work_.get() + static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(exec.act_per_image) +
           static_cast<std::size_t>(exec.saved) + (level * 3 + static_cast<std::size_t>(which)) * grad_size_;
  }
  float* scratch() noexcept { return scratch_.get(); }
  float* plane_stats() noexcept { return scratch_.get() + stats_offset_; }

  /// Sizes the kernels' scratch (convolutions: per thread; BatchNorm: per-plane
  /// sums) for the current thread count (again when
  /// cpu::set_num_threads changed it since: outside the kernels, once).
  void plan_scratch() {
    const int threads = cpu::num_threads();
    if (scratch_ && threads == scratch_threads_) return;
    std::size_t floats = 0, stats = 0;
    for (std::size_t i = 0; i < op_count; ++i) {
      if (plan.rows[i].desc.kind == op_kind::conv)
        floats = std::max(floats, kernels().conv_scratch_floats(detail::conv_geometry(plan.rows[i]), MaxBatch, threads));
      else if (plan.rows[i].desc.kind == op_kind::batchnorm)
        floats = std::max(floats, kernels().batchnorm_scratch_floats(MaxBatch, plan.rows[i].in.c));
      if (bn_stats_ready[i]) stats = std::max(stats, 2 * static_cast<std::size_t>(MaxBatch) * plan.rows[i].in.c);
    }
    // The plane statistics a conv hands to its BatchNorm come after every
    // kernel's own scratch, so neither kernel overwrites them.
    stats_offset_ = (floats + 15) / 16 * 16;
    scratch_ = detail::aligned_zeros<float>(stats_offset_ + stats);
    scratch_size_ = stats_offset_ + stats;
    scratch_threads_ = threads;
  }
  std::uint8_t* aux(const exec_row& e) noexcept { return aux_.get() + e.aux * MaxBatch; }
  static constexpr shape shape_of(int row) noexcept {
    return row < 0 ? Net::plan.input : Net::plan.rows[static_cast<std::size_t>(row)].out;
  }

  void forward_row(std::size_t i, int n, std::uint64_t step_seed) {
    const plan_row& r = plan.rows[i];
    const exec_row& e = exec.rows[i];
    const float* x = act(exec.rows[i].src < 0 ? -1 : exec.rows[static_cast<std::size_t>(e.src)].storage);
    float* y = act(e.storage);
    float* p = params() + e.param;
    const std::size_t count = static_cast<std::size_t>(n) * static_cast<std::size_t>(r.out.numel());
    switch (r.desc.kind) {
      case op_kind::conv:
        if (folding_ && !training_ && fold_target[i] >= 0) {
          const float* fw = folded_.get() + folded_offset_[i];
          float* bn_out = act(exec.rows[static_cast<std::size_t>(fold_target[i])].storage);
          // A ReLU after the folded BatchNorm becomes the conv's epilogue.
          kernels().conv2d_forward(detail::conv_geometry(r), n, x, fw, fw + e.weight, bn_out, scratch(),
                              applies_next_relu(static_cast<std::size_t>(fold_target[i])) ? cpu::conv_epilogue::relu
                                                                                          : cpu::conv_epilogue::none,
                              nullptr);
        } else {
          kernels().conv2d_forward(detail::conv_geometry(r), n, x, p, e.bias ? p + e.weight : nullptr, y, scratch(),
                              applies_next_relu(i) ? cpu::conv_epilogue::relu : cpu::conv_epilogue::none,
                              training_ && stats_for_bn[i] >= 0 ? plane_stats() : nullptr);
        }
        break;
      case op_kind::batchnorm: {
        if (folding_ && !training_ && e.src >= 0 && fold_target[static_cast<std::size_t>(e.src)] == static_cast<int>(i))
          break;  // folded into the conv before it
        const int hw = static_cast<int>(r.in.positions());
        float* b = buffers() + e.buffer;
        if (training_)
          kernels().batchnorm_forward_train(n, r.in.c, hw, x, p, p + r.in.c, y, saved(e), saved(e) + r.in.c, b,
                                       b + r.in.c, bn_momentum, bn_eps, scratch(), applies_next_relu(i),
                                       bn_stats_ready[i] ? plane_stats() : nullptr);
        else
          kernels().batchnorm_forward_eval(n, r.in.c, hw, x, p, p + r.in.c, b, b + r.in.c, bn_eps, y,
                                      applies_next_relu(i));
        break;
      }
      case op_kind::relu:
        if (!relu_into_conv[i] && !relu_after_bn[i]) kernels().relu_forward(count, x, y);  // else the layer before did
        break;
      case op_kind::dropout:
        if (training_)
          kernels().dropout_forward(count, x, y, aux(e), static_cast<float>(r.desc.drop.value()),
                               step_seed ^ (0xD1B54A32D192ED03ull * (i + 1)));
        else
          std::memcpy(y, x, count * sizeof(float));
        break;
      case op_kind::maxpool:
        kernels().maxpool_forward(detail::pool_geometry(r), n, x, y, reinterpret_cast<std::int32_t*>(aux(e)));
        break;
      case op_kind::avgpool: kernels().avgpool_forward(detail::pool_geometry(r), n, x, y); break;
      case op_kind::global_avgpool:
        kernels().global_avgpool_forward(n, r.in.c, static_cast<int>(r.in.positions()), x, y);
        break;
      case op_kind::linear:
        kernels().linear_forward(n, r.in.c, r.out.c, x, p, e.bias ? p + e.weight : nullptr, y);
        break;
      case op_kind::log_softmax:
        kernels().log_softmax_forward(n, static_cast<int>(r.in.numel()), x, y);
        break;
      case op_kind::zero_pad: cpu::zero_pad2d(n * r.in.c, r.in.h, r.in.w, r.desc.zp, x, y); break;
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
        if (b == 0)
          std::memcpy(y, xb, count * sizeof(float));
        else
          kernels().add_inplace(count, xb, y);
      } else {
        const shape s = shape_of(src);
        kernels().concat_forward(n, static_cast<int>(r.out.positions()), r.out.c, c_offset, s.c, xb, y);
        c_offset += s.c;
      }
    }
  }

  struct grad_frame {
    float* gout = nullptr;   // gradient of the merge output
    float* acc = nullptr;    // accumulated gradient of the branches' common input
    int branch = 0;          // branch being processed
    int merge_row = 0;
    bool have = false;
  };

  // Gradient of branch `b` of the merge at row m, starting from gout.
  float* branch_grad(const grad_frame& f, int b, int n, std::size_t level) {
    const plan_row& r = plan.rows[static_cast<std::size_t>(f.merge_row)];
    if (r.desc.merge == merge_kind::add) return f.gout;
    const exec_row& e = exec.rows[static_cast<std::size_t>(f.merge_row)];
    int c_offset = 0;
    for (int k = 0; k < b; ++k) c_offset += shape_of(exec.merge_src[static_cast<std::size_t>(e.merge_first + k)]).c;
    const shape s = shape_of(exec.merge_src[static_cast<std::size_t>(e.merge_first + b)]);
    float* dst = grad_buffer(level, 0);
    kernels().concat_backward(n, static_cast<int>(r.out.positions()), r.out.c, c_offset, s.c, f.gout, dst, false);
    return dst;
  }

  void accumulate(grad_frame& f, const float* g, std::size_t count) {
    if (!f.have) {
      if (g != f.acc) std::memcpy(f.acc, g, count * sizeof(float));
      f.have = true;
    } else {
      kernels().add_inplace(count, g, f.acc);
    }
  }

  void backward_from(float* g, int n) {
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
          // The branches' input gradient accumulates in a buffer of this level
          // other than gout (gout may itself be the accumulator of a merge just
          // finished at this level); the branches work one level deeper.
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
      // The BatchNorm after this ReLU already produced the gradient of its
      // input; the one before it takes this ReLU's output gradient directly.
      if (relu_into_bn[ii] || relu_after_bn[ii]) continue;
      // A layer: compute the gradient of its input into a free buffer of this level.
      float* a = grad_buffer(level, 0);
      float* dx = (g == a) ? grad_buffer(level, 1) : a;
      const bool need_dx = e.src >= 0 || want_input_grad_;
      if (profiling_) {
        const auto t0 = std::chrono::steady_clock::now();
        backward_layer(ii, n, g, need_dx ? dx : nullptr);
        profile_[ii].backward += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      } else {
        backward_layer(ii, n, g, need_dx ? dx : nullptr);
      }
      g = dx;
    }
    last_input_grad_ = want_input_grad_ ? g : nullptr;
  }

  void backward_layer(std::size_t i, int n, const float* dy, float* dx) {
    const plan_row& r = plan.rows[i];
    const exec_row& e = exec.rows[i];
    const float* x = act(e.src < 0 ? -1 : exec.rows[static_cast<std::size_t>(e.src)].storage);
    const float* y = act(e.storage);
    float* p = params() + e.param;
    float* gp = grads() + e.param;
    const std::size_t count = static_cast<std::size_t>(n) * static_cast<std::size_t>(r.out.numel());
    switch (r.desc.kind) {
      case op_kind::conv: {
        const cpu::conv_geom geo = detail::conv_geometry(r);
        kernels().conv2d_backward(geo, n, x, dy, p, dx, gp, e.bias ? gp + e.weight : nullptr, scratch());
        break;
      }
      case op_kind::batchnorm: {
        kernels().batchnorm_backward(n, r.in.c, static_cast<int>(r.in.positions()), x, dy, p, saved(e),
                                saved(e) + r.in.c, dx, gp, gp + r.in.c,  // dx may be null
                                applies_next_relu(i)                                              ? cpu::bn_relu::output
                                : e.src >= 0 && relu_into_bn[static_cast<std::size_t>(e.src)] ? cpu::bn_relu::input
                                                                                                  : cpu::bn_relu::none,
                                scratch(), p + r.in.c);
        break;
      }
      case op_kind::relu:
        if (dx) kernels().relu_backward(count, y, dy, dx);
        break;
      case op_kind::dropout:
        if (dx) kernels().dropout_backward(count, aux(e), static_cast<float>(r.desc.drop.value()), dy, dx);
        break;
      case op_kind::maxpool:
        if (dx)
          kernels().maxpool_backward(detail::pool_geometry(r), n, dy, reinterpret_cast<const std::int32_t*>(aux(e)), dx);
        break;
      case op_kind::avgpool:
        if (dx) kernels().avgpool_backward(detail::pool_geometry(r), n, dy, dx);
        break;
      case op_kind::global_avgpool:
        if (dx) kernels().global_avgpool_backward(n, r.in.c, static_cast<int>(r.in.positions()), dy, dx);
        break;
      case op_kind::linear:
        kernels().linear_backward(n, r.in.c, r.out.c, x, p, dy, dx, gp, e.bias ? gp + e.weight : nullptr);
        break;
      case op_kind::log_softmax:
        if (dx) kernels().log_softmax_backward(n, static_cast<int>(r.in.numel()), y, dy, dx);
        break;
      case op_kind::zero_pad:
        if (dx) cpu::zero_pad2d_backward(n * r.in.c, r.in.h, r.in.w, r.desc.zp, dy, dx);
        break;
      default: break;
    }
  }

  detail::aligned_ptr<float> state_;
  detail::aligned_ptr<float> work_;
  detail::aligned_ptr<std::uint8_t> aux_;
  detail::aligned_ptr<float> dloss_;
  detail::aligned_ptr<float> scratch_;
  int scratch_threads_ = 0;
  detail::aligned_ptr<float> folded_;
  std::array<std::int64_t, op_count> folded_offset_{};
  bool folding_ = false;
  std::size_t work_floats_ = 0;
  std::size_t grad_size_ = 0;
  std::size_t grad_levels_ = 1;
  std::size_t scratch_size_ = 0;
  std::size_t stats_offset_ = 0;  // where plane_stats() starts in the scratch
  int batch_ = 0;
  bool training_ = true;
  bool backward_ready_ = false;
  bool want_input_grad_ = false;
  std::uint64_t dropout_seed_ = 0x5EEDull;
  std::uint64_t steps_ = 0;

 public:
  /// Per-layer timing of forward() and backward() (off by default).
  void set_profiling(bool on) noexcept {
    profiling_ = on;
    profile_.fill({});
  }
  /// Prints the accumulated per-layer times in execution order, with each layer's share of the total.
  void print_profile(std::ostream& os) const {
    double total = 0;
    for (const auto& p : profile_) total += p.forward + p.backward;
    os << "layer                      forward ms  backward ms   share\n";
    for (std::size_t i = 0; i < op_count; ++i) {
      const plan_row& r = plan.rows[i];
      if (!r.is_layer() && r.desc.kind != op_kind::branch_end) continue;
      char line[160];
      const std::string name = r.is_layer() ? std::string(kind_name(r.desc.kind)) + "-" + std::to_string(r.number)
                                            : std::string(r.desc.merge == merge_kind::add ? "Add" : "Concat");
      std::snprintf(line, sizeof line, "%-24s %12.2f %12.2f %6.1f%%\n", name.c_str(), 1e3 * profile_[i].forward,
                    1e3 * profile_[i].backward,
                    total > 0 ? 100.0 * (profile_[i].forward + profile_[i].backward) / total : 0.0);
      os << line;
    }
  }

  /// Accumulated forward and backward seconds of plan row i (see set_profiling).
  [[nodiscard]] std::pair<double, double> profile_seconds(std::size_t i) const {
    if (i >= op_count) throw std::out_of_range("staticnet::Model::profile_seconds: row out of range");
    return {profile_[i].forward, profile_[i].backward};
  }

  /// Also compute the gradient of the network input (off by default).
  void set_input_gradient(bool on) noexcept { want_input_grad_ = on; }
  /// The gradient of the network input after backward() (when enabled).
  [[nodiscard]] const float* input_gradient() noexcept { return last_input_grad_; }

 private:
  float* last_input_grad_ = nullptr;
  struct row_time {
    double forward = 0, backward = 0;
  };
  std::array<row_time, op_count> profile_{};
  bool profiling_ = false;
};

}  // namespace cpu

/// The CPU engine under its 0.1 name: sn::Model<Net, MaxBatch> is cpu::Model.
template <network Net, int MaxBatch = 128>
using Model = cpu::Model<Net, MaxBatch>;

}  // namespace staticnet
