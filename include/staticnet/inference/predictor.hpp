// staticnet/inference/predictor.hpp: a classifier for C++ applications —
// loads a checkpoint and classifies images with an inference-only memory plan.
//
//   sn::Predictor<Net> p("runs/s7_dilated/best.safetensors");   // checked load, BatchNorm folded
//   auto top = p.classify_pixels(hwc_rgb_bytes, 3);              // [{class, probability}, ...]
//   auto top2 = p.classify(normalised_chw_floats, 3);
//   auto all = p.classify_batch(x, n, 1);                        // n images, any n
//
// Predictor<Net, MaxBatch> holds the parameters (as loaded, the BatchNorms
// folded into the convs before them), and an activation arena of MaxBatch x
// inference_plan::act_per_image floats (engine/inference_plan.hpp: buffers
// reused by liveness) — no gradients, no saved statistics, no dropout masks.
// A forward runs the CPU kernels in eval mode (BatchNorm with running
// statistics, Dropout the identity, fused ReLUs); its outputs equal
// cpu::Model's eval forward with fold_batchnorm() (the same kernels and
// folded weights). Larger batches than MaxBatch are run MaxBatch at a time.
//
// Threads: the kernels split one image's work inside each layer (conv output
// rows / channels, BatchNorm planes) when the batch is smaller than the thread
// count. predictor_options{.threads = 1} sets the process-wide kernel pool to
// one thread, so every kernel runs on the calling thread.
//
// Input normalisation: classify_pixels() maps 8-bit HWC pixels p to
// (p / 255 - mean[c]) / std[c], with mean and std from predictor_options, or
// else from the checkpoint's metadata "data.mean" / "data.std" (what the
// assignment programs' training runs record), else an error.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../cpu/aligned.hpp"
#include "../cpu/kernel_types.hpp"
#include "../cpu/kernels.hpp"
#include "../cpu/pad.hpp"
#include "../cpu/parallel.hpp"
#include "../engine/fusion.hpp"
#include "../engine/geometry.hpp"
#include "../engine/inference_plan.hpp"
#include "../engine/memory_plan.hpp"
#include "../engine/tensor_names.hpp"
#include "../facts.hpp"
#include "../network.hpp"
#include "../train/checkpoint.hpp"

namespace staticnet {

/// One class of a prediction.
struct prediction {
  int label = 0;
  float probability = 0;
};

struct predictor_options {
  std::vector<double> mean;  ///< per channel, in [0, 1] units (empty: from the checkpoint's "data.mean")
  std::vector<double> std;   ///< per channel (empty: from the checkpoint's "data.std")
  int threads = 0;           ///< > 0: cpu::set_num_threads(threads) first (1: no worker threads)
  bool check_fingerprint = true;
};

namespace predictor_detail {
inline std::vector<double> parse_list(const std::string& s, const std::string& what) {
  std::vector<double> out;
  std::size_t at = 0;
  while (at <= s.size()) {
    const std::size_t comma = s.find(',', at);
    const std::string item = s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size())
      throw std::runtime_error("staticnet: " + what + " \"" + s + "\" is not a comma-separated list of numbers");
    out.push_back(v);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

/// Indices of the k largest probabilities, largest first (ties: lower label first).
inline std::vector<prediction> top_k(const float* prob, int classes, int k) {
  std::vector<prediction> all(static_cast<std::size_t>(classes));
  for (int c = 0; c < classes; ++c) all[static_cast<std::size_t>(c)] = {c, prob[c]};
  k = std::clamp(k, 1, classes);
  std::partial_sort(all.begin(), all.begin() + k, all.end(), [](const prediction& a, const prediction& b) {
    return a.probability > b.probability || (a.probability == b.probability && a.label < b.label);
  });
  all.resize(static_cast<std::size_t>(k));
  return all;
}
}  // namespace predictor_detail

/// "m0,m1,m2": the metadata form of a per-channel list (as save_checkpoint stores it).
inline std::string channel_list_text(const std::vector<double>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += checkpoint_detail::number_text(v[i]);
  }
  return s;
}

template <network Net, int MaxBatch = 1>
class Predictor {
 public:
  using network_type = Net;
  static constexpr auto& plan = Net::plan;
  static constexpr std::size_t op_count = Net::plan.size;
  static constexpr int max_batch = MaxBatch;
  static constexpr auto exec = make_exec_plan(Net::plan);
  static constexpr auto fusion = make_fusion_plan(Net::plan, exec);
  static constexpr auto inference = make_inference_plan(Net::plan, exec, fusion, true);
  static constexpr std::int64_t input_numel = Net::plan.input.numel();
  static constexpr std::int64_t output_numel = Net::plan.output.numel();
  static constexpr int classes = static_cast<int>(output_numel);
  static constexpr bool ends_with_log_softmax = [] {
    for (std::size_t i = op_count; i-- > 0;)
      if (Net::plan.rows[i].is_layer() && Net::plan.rows[i].desc.kind != op_kind::identity)
        return Net::plan.rows[i].desc.kind == op_kind::log_softmax;
    return false;
  }();
  static_assert(MaxBatch >= 1, "staticnet [E_MAX_BATCH]: Predictor<Net, MaxBatch> needs MaxBatch >= 1");

  /// Loads `checkpoint` (load_checkpoint's checks: names, shapes, fingerprint,
  /// finite values) and folds the BatchNorms.
  explicit Predictor(const std::filesystem::path& checkpoint, predictor_options options = {}) {
    if (options.threads > 0) cpu::set_num_threads(options.threads);
    allocate();
    loader l{this};
    std::vector<float> grads(static_cast<std::size_t>(exec.params));
    l.grads = grads.data();
    info_ = load_checkpoint(checkpoint, l, {.check_fingerprint = options.check_fingerprint});
    bn_eps = l.bn_eps;
    fold();
    set_normalization(options.mean, options.std);
  }

  /// From parameters and buffers in the memory plan's layout (a cpu::Model's
  /// parameters() and buffer_values()), e.g. for tests and in-process training.
  Predictor(std::span<const float> parameters, std::span<const float> buffers, float eps = 1e-5f,
            predictor_options options = {}) {
    if (options.threads > 0) cpu::set_num_threads(options.threads);
    if (parameters.size() != static_cast<std::size_t>(exec.params) ||
        buffers.size() != static_cast<std::size_t>(exec.buffers))
      throw std::invalid_argument("staticnet: Predictor: expected " + std::to_string(exec.params) +
                                  " parameters and " + std::to_string(exec.buffers) + " buffer floats, got " +
                                  std::to_string(parameters.size()) + " and " + std::to_string(buffers.size()));
    allocate();
    std::memcpy(params_.get(), parameters.data(), parameters.size() * sizeof(float));
    if (!buffers.empty()) std::memcpy(params_.get() + exec.params, buffers.data(), buffers.size() * sizeof(float));
    bn_eps = eps;
    fold();
    if (!options.mean.empty() || !options.std.empty()) set_normalization(options.mean, options.std);
  }

  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;
  Predictor(Predictor&&) noexcept = default;
  Predictor& operator=(Predictor&&) noexcept = default;

  float bn_eps = 1e-5f;

  /// Floats per image of the arena, and bytes the predictor holds for activations.
  static constexpr std::int64_t activation_floats_per_image = inference.act_per_image;
  [[nodiscard]] std::size_t activation_bytes() const noexcept {
    return static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(inference.act_per_image) * 4;
  }
  [[nodiscard]] std::size_t workspace_bytes() const noexcept {
    return activation_bytes() + scratch_size_ * 4 + argmax_size_ * 4;
  }
  [[nodiscard]] const checkpoint_info& checkpoint() const noexcept { return info_; }
  [[nodiscard]] const std::vector<double>& mean() const noexcept { return mean_; }
  [[nodiscard]] const std::vector<double>& stddev() const noexcept { return std_; }

  /// Per-channel input normalisation for classify_pixels (empty: the checkpoint's
  /// "data.mean" / "data.std" when it has them).
  void set_normalization(std::vector<double> mean, std::vector<double> stddev) {
    if (mean.empty() && stddev.empty()) {
      const auto m = info_.get("data.mean"), s = info_.get("data.std");
      if (m && s) {
        mean = predictor_detail::parse_list(*m, "checkpoint metadata data.mean");
        stddev = predictor_detail::parse_list(*s, "checkpoint metadata data.std");
      } else {
        mean_.clear(), std_.clear();
        return;  // classify_pixels will say what is missing
      }
    }
    const std::size_t c = static_cast<std::size_t>(Net::plan.input.c);
    if (mean.size() != c || stddev.size() != c)
      throw std::invalid_argument("staticnet: Predictor: normalisation needs " + std::to_string(c) +
                                  " means and standard deviations (one per input channel), got " +
                                  std::to_string(mean.size()) + " and " + std::to_string(stddev.size()));
    for (double s : stddev)
      if (!(s > 0) || !std::isfinite(s))
        throw std::invalid_argument("staticnet: Predictor: a standard deviation is not a finite value > 0");
    mean_ = std::move(mean), std_ = std::move(stddev);
  }

  /// Runs n images (normalised NCHW floats, n * input_numel of them); returns
  /// the network outputs (n x output_numel), valid until the next call.
  std::span<const float> forward(std::span<const float> x, int n) {
    if (n < 1 || n > MaxBatch)
      throw std::invalid_argument("staticnet: Predictor::forward: batch of " + std::to_string(n) +
                                  " images is outside 1.." + std::to_string(MaxBatch) +
                                  " (classify_batch takes any number)");
    if (x.size() != static_cast<std::size_t>(n) * static_cast<std::size_t>(input_numel))
      throw std::invalid_argument("staticnet: Predictor::forward: expected " + std::to_string(n) + " x " +
                                  std::to_string(input_numel) + " input floats (n x C x H x W), got " +
                                  std::to_string(x.size()));
    plan_scratch();
    std::memcpy(at(-1), x.data(), x.size() * sizeof(float));
    for (std::size_t i = 0; i < op_count; ++i) run_row(i, n);
    return {at(inference.rows[op_count - 1].tensor), static_cast<std::size_t>(n) * static_cast<std::size_t>(output_numel)};
  }

  /// Class probabilities of n images (softmax of the outputs, or their exp
  /// after a final LogSoftmax), n x classes; any n >= 1.
  std::vector<float> probabilities(std::span<const float> x, int n) {
    if (n < 1 || x.size() != static_cast<std::size_t>(n) * static_cast<std::size_t>(input_numel))
      throw std::invalid_argument("staticnet: Predictor: expected " + std::to_string(n) + " x " +
                                  std::to_string(input_numel) + " input floats (n x C x H x W), got " +
                                  std::to_string(x.size()));
    std::vector<float> out(static_cast<std::size_t>(n) * classes);
    for (int b = 0; b < n; b += MaxBatch) {
      const int m = std::min(MaxBatch, n - b);
      const auto y = forward(x.subspan(static_cast<std::size_t>(b) * input_numel, static_cast<std::size_t>(m) * input_numel), m);
      for (int j = 0; j < m; ++j) to_probabilities(y.data() + j * classes, out.data() + static_cast<std::size_t>(b + j) * classes);
    }
    return out;
  }

  /// The k most probable classes of one normalised CHW image, most probable first.
  std::vector<prediction> classify(std::span<const float> x, int k = 1) {
    return predictor_detail::top_k(probabilities(x, 1).data(), classes, k);
  }
  /// The k most probable classes of each of n normalised CHW images.
  std::vector<std::vector<prediction>> classify_batch(std::span<const float> x, int n, int k = 1) {
    const std::vector<float> p = probabilities(x, n);
    std::vector<std::vector<prediction>> out;
    out.reserve(static_cast<std::size_t>(n));
    for (int j = 0; j < n; ++j) out.push_back(predictor_detail::top_k(p.data() + static_cast<std::size_t>(j) * classes, classes, k));
    return out;
  }

  /// Normalises 8-bit HWC pixels (H x W x C bytes, RGB for 3 channels) into CHW floats.
  [[nodiscard]] std::vector<float> normalize(std::span<const std::uint8_t> hwc) const {
    constexpr int C = Net::plan.input.c, H = Net::plan.input.h, W = Net::plan.input.w;
    if (mean_.empty())
      throw std::logic_error("staticnet: Predictor: no input normalisation (give predictor_options{.mean, .std}, "
                             "or load a checkpoint whose metadata has data.mean and data.std)");
    if (hwc.size() != static_cast<std::size_t>(input_numel))
      throw std::invalid_argument("staticnet: Predictor: expected " + std::to_string(H) + "x" + std::to_string(W) +
                                  "x" + std::to_string(C) + " pixels (HWC bytes), got " + std::to_string(hwc.size()) +
                                  " bytes");
    std::vector<float> chw(static_cast<std::size_t>(input_numel));
    for (int c = 0; c < C; ++c) {
      const float scale = static_cast<float>(1.0 / (255.0 * std_[static_cast<std::size_t>(c)]));
      const float shift = static_cast<float>(-mean_[static_cast<std::size_t>(c)] / std_[static_cast<std::size_t>(c)]);
      for (int p = 0; p < H * W; ++p)
        chw[static_cast<std::size_t>(c * H * W + p)] = static_cast<float>(hwc[static_cast<std::size_t>(p * C + c)]) * scale + shift;
    }
    return chw;
  }
  /// The k most probable classes of one image of 8-bit HWC pixels.
  std::vector<prediction> classify_pixels(std::span<const std::uint8_t> hwc, int k = 1) {
    const std::vector<float> x = normalize(hwc);
    return classify(x, k);
  }

 private:
  // What load_checkpoint needs of an engine, bound to the predictor's parameters.
  struct loader {
    Predictor* p = nullptr;
    float* grads = nullptr;
    using network_type = Net;
    static constexpr int max_batch = MaxBatch;
    static constexpr std::int64_t input_numel = Predictor::input_numel;
    static constexpr std::int64_t output_numel = Predictor::output_numel;
    static constexpr bool ends_with_log_softmax = Predictor::ends_with_log_softmax;
    float bn_momentum = 0.1f;
    float bn_eps = 1e-5f;
    void train(bool = true) {}
    void eval() {}
    [[nodiscard]] bool training() const { return false; }
    std::span<const float> forward(std::span<const float>, int) { return {}; }
    float forward_backward(std::span<const float>, std::span<const std::int32_t>, int, float) { return 0; }
    float loss(std::span<const std::int32_t>, float) { return 0; }
    std::span<float> parameters() { return {p->params_.get(), static_cast<std::size_t>(exec.params)}; }
    std::span<float> gradients() { return {grads, static_cast<std::size_t>(exec.params)}; }
    std::vector<named_tensor> named_tensors() {
      return bind_tensors(staticnet::tensor_specs<Net>(), p->params_.get(), grads, p->params_.get() + exec.params);
    }
  };

  void allocate() {
    params_ = detail::aligned_zeros<float>(static_cast<std::size_t>(exec.params + exec.buffers) + 1);
    arena_ = detail::aligned_zeros<float>(static_cast<std::size_t>(MaxBatch) *
                                          static_cast<std::size_t>(inference.act_per_image));
    std::size_t argmax = 0;
    for (std::size_t i = 0; i < op_count; ++i)
      if (plan.rows[i].desc.kind == op_kind::maxpool)
        argmax = std::max(argmax, static_cast<std::size_t>(MaxBatch) * static_cast<std::size_t>(plan.rows[i].out.numel()));
    argmax_ = detail::aligned_zeros<std::int32_t>(argmax + 1);
    argmax_size_ = argmax;
  }

  void fold() {
    std::size_t floats = 1;
    for (std::size_t c = 0; c < op_count; ++c)
      if (fusion.fold_target[c] >= 0) floats += static_cast<std::size_t>(exec.rows[c].weight + plan.rows[c].out.c);
    folded_ = detail::aligned_zeros<float>(floats);
    std::size_t offset = 0;
    const float* buffers = params_.get() + exec.params;
    for (std::size_t c = 0; c < op_count; ++c) {
      folded_offset_[c] = -1;
      if (fusion.fold_target[c] < 0) continue;
      const plan_row& r = plan.rows[c];
      const exec_row& e = exec.rows[c];
      const exec_row& bn = exec.rows[static_cast<std::size_t>(fusion.fold_target[c])];
      const float* w = params_.get() + e.param;
      const float* gamma = params_.get() + bn.param;
      const float* beta = gamma + r.out.c;
      const float* mean = buffers + bn.buffer;
      const float* var = mean + r.out.c;
      float* fw = folded_.get() + offset;
      float* fb = fw + e.weight;
      const std::int64_t per_channel = e.weight / r.out.c;
      for (int ch = 0; ch < r.out.c; ++ch) {  // as cpu::Model::fold_batchnorm
        const double s = static_cast<double>(gamma[ch]) / std::sqrt(static_cast<double>(var[ch]) + bn_eps);
        for (std::int64_t k = 0; k < per_channel; ++k)
          fw[ch * per_channel + k] = static_cast<float>(w[ch * per_channel + k] * s);
        const double b = e.bias ? static_cast<double>(w[e.weight + ch]) : 0.0;
        fb[ch] = static_cast<float>(beta[ch] + (b - mean[ch]) * s);
      }
      folded_offset_[c] = static_cast<std::int64_t>(offset);
      offset += static_cast<std::size_t>(e.weight + r.out.c);
    }
  }

  void plan_scratch() {
    const int threads = cpu::num_threads();
    if (scratch_ && threads == scratch_threads_) return;
    std::size_t floats = 16;
    for (std::size_t i = 0; i < op_count; ++i)
      if (plan.rows[i].desc.kind == op_kind::conv)
        floats = std::max(floats, cpu::kernels().conv_scratch_floats(detail::conv_geometry(plan.rows[i]), MaxBatch, threads));
    scratch_ = detail::aligned_zeros<float>(floats);
    scratch_size_ = floats;
    scratch_threads_ = threads;
  }

  float* at(int tensor) noexcept { return arena_.get() + inference.offset_of(tensor) * MaxBatch; }

  void to_probabilities(const float* y, float* p) const {
    if constexpr (ends_with_log_softmax) {
      for (int c = 0; c < classes; ++c) p[c] = std::exp(y[c]);
    } else {
      float m = y[0];
      for (int c = 1; c < classes; ++c) m = std::max(m, y[c]);
      double sum = 0;
      for (int c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(y[c] - m));
      for (int c = 0; c < classes; ++c) p[c] = static_cast<float>(std::exp(static_cast<double>(y[c] - m)) / sum);
    }
  }

  void run_row(std::size_t i, int n) {
    const plan_row& r = plan.rows[i];
    const exec_row& e = exec.rows[i];
    const inference_row& o = inference.rows[i];
    if (o.skip && r.desc.kind != op_kind::branch_end) return;
    const float* x = at(o.src);
    float* y = at(o.tensor);
    const float* p = params_.get() + e.param;
    const std::size_t count = static_cast<std::size_t>(n) * static_cast<std::size_t>(r.out.numel());
    const auto& k = cpu::kernels();
    switch (r.desc.kind) {
      case op_kind::conv:
        if (fusion.fold_target[i] >= 0) {
          const float* fw = folded_.get() + folded_offset_[i];
          k.conv2d_forward(detail::conv_geometry(r), n, x, fw, fw + e.weight, y, scratch_.get(),
                           fusion.applies_next_relu(static_cast<std::size_t>(fusion.fold_target[i]))
                               ? cpu::conv_epilogue::relu
                               : cpu::conv_epilogue::none,
                           nullptr);
        } else {
          k.conv2d_forward(detail::conv_geometry(r), n, x, p, e.bias ? p + e.weight : nullptr, y, scratch_.get(),
                           fusion.applies_next_relu(i) ? cpu::conv_epilogue::relu : cpu::conv_epilogue::none, nullptr);
        }
        break;
      case op_kind::batchnorm: {
        const float* b = params_.get() + exec.params + e.buffer;
        k.batchnorm_forward_eval(n, r.in.c, static_cast<int>(r.in.positions()), x, p, p + r.in.c, b, b + r.in.c,
                                 bn_eps, y, fusion.applies_next_relu(i));
        break;
      }
      case op_kind::relu: k.relu_forward(count, x, y); break;
      case op_kind::maxpool: k.maxpool_forward(detail::pool_geometry(r), n, x, y, argmax_.get()); break;
      case op_kind::avgpool: k.avgpool_forward(detail::pool_geometry(r), n, x, y); break;
      case op_kind::global_avgpool:
        k.global_avgpool_forward(n, r.in.c, static_cast<int>(r.in.positions()), x, y);
        break;
      case op_kind::linear: k.linear_forward(n, r.in.c, r.out.c, x, p, e.bias ? p + e.weight : nullptr, y); break;
      case op_kind::log_softmax: k.log_softmax_forward(n, static_cast<int>(r.in.numel()), x, y); break;
      case op_kind::zero_pad: cpu::zero_pad2d(n * r.in.c, r.in.h, r.in.w, r.desc.zp, x, y); break;
      case op_kind::branch_end: {
        int c_offset = 0;
        for (int b = 0; b < e.merge_count; ++b) {
          const int src = exec.merge_src[static_cast<std::size_t>(e.merge_first + b)];
          const float* xb = at(src < 0 ? -1 : inference.rows[static_cast<std::size_t>(src)].tensor);
          if (r.desc.merge == merge_kind::add) {
            if (b == 0)
              std::memcpy(y, xb, count * sizeof(float));
            else
              k.add_inplace(count, xb, y);
          } else {
            const shape s = src < 0 ? Net::plan.input : Net::plan.rows[static_cast<std::size_t>(src)].out;
            k.concat_forward(n, static_cast<int>(r.out.positions()), r.out.c, c_offset, s.c, xb, y);
            c_offset += s.c;
          }
        }
        break;
      }
      default: break;
    }
  }

  detail::aligned_ptr<float> params_;  // parameters, then buffers (the memory plan's layout)
  detail::aligned_ptr<float> folded_;
  std::array<std::int64_t, op_count> folded_offset_{};
  detail::aligned_ptr<float> arena_;
  detail::aligned_ptr<std::int32_t> argmax_;
  std::size_t argmax_size_ = 0;
  detail::aligned_ptr<float> scratch_;
  std::size_t scratch_size_ = 0;
  int scratch_threads_ = 0;
  checkpoint_info info_;
  std::vector<double> mean_, std_;
};

}  // namespace staticnet
