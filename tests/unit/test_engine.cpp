// The backend-neutral engine layer (include/staticnet/engine): the fusion
// plan, tensor names and offsets, initialisation, the dropout bits and the
// `engine` concept, checked against the CPU engine that uses them, and the
// trainer's functions on an engine that is not cpu::Model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <vector>

#include <staticnet/cpu/activation.hpp>
#include <staticnet/cpu/model.hpp>
#include <staticnet/engine/all.hpp>
#include <staticnet/train/checkpoint.hpp>
#include <staticnet/train/optim.hpp>
#include <staticnet/train/optimizer_state.hpp>
#include <staticnet/train/schedule.hpp>
#include <staticnet/train/trainer.hpp>

#include "networks.hpp"

namespace sn = staticnet;
using sn::conv;

namespace {

// Blocks, a residual Add and a Concat, BatchNorm before and after ReLU, dropout, linear.
using Branchy = sn::Network<sn::Input<3, 8, 8>,
    sn::Block<"C1", sn::Conv2d<conv{.out = 8, .kernel = 3, .padding = 1}>, sn::ReLU, sn::BatchNorm2d>,
    sn::Add<sn::Sequential<sn::Conv2d<conv{.out = 8, .kernel = 3, .padding = 1, .bias = false}>, sn::BatchNorm2d,
                           sn::ReLU>,
            sn::Sequential<>>,
    sn::Block<"C2", sn::Concat<sn::Conv2d<conv{.out = 4, .kernel = 1}>,
                               sn::Sequential<sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 1}>,
                                              sn::Conv2d<conv{.out = 4, .kernel = 1}>>>,
              sn::Dropout<>>,
    sn::GlobalAvgPool, sn::Flatten, sn::Linear<sn::linear{.out = 5}>, sn::LogSoftmax>;

using S7 = assignments::S7DilatedReference;

struct not_an_engine {
  using network_type = S7;
};

static_assert(sn::engine<sn::cpu::Model<S7, 2>>);
static_assert(sn::engine<sn::Model<Branchy, 4>>);
static_assert(!sn::engine<not_an_engine>);
static_assert(std::is_same_v<sn::Model<S7, 2>, sn::cpu::Model<S7, 2>>);

// ------------------------------------------------------------- fusion plan --
constexpr auto s7_exec = sn::make_exec_plan(S7::plan);
constexpr auto s7_all = sn::make_fusion_plan(S7::plan, s7_exec);
constexpr auto s7_none = sn::make_fusion_plan(
    S7::plan, s7_exec,
    sn::fusion_caps{.fold_bn = false, .relu_into_conv = false, .relu_into_bn = false, .relu_after_bn = false,
                    .stats_from_conv = false});

constexpr int count(const auto& a) {
  int n = 0;
  for (const auto& v : a) n += static_cast<int>(v) != 0 && static_cast<int>(v) != -1;
  return n;
}

static_assert(count(s7_none.relu_into_conv) + count(s7_none.relu_into_bn) + count(s7_none.relu_after_bn) == 0);
static_assert(count(s7_none.stats_for_bn) == 0 && count(s7_none.bn_stats_ready) == 0 && s7_none.foldable_pairs == 0);
static_assert(count(s7_all.stats_for_bn) == 7);  // every BatchNorm of S7-dilated served by its conv
// The CPU engine uses the full plan.
static_assert(sn::Model<S7, 2>::stats_for_bn == s7_all.stats_for_bn);
static_assert(sn::Model<S7, 2>::relu_into_bn == s7_all.relu_into_bn);
static_assert(sn::Model<S7, 2>::foldable_pairs == s7_all.foldable_pairs);

TEST(FusionPlan, EachCapabilityTurnsOffItsFusionOnly) {
  constexpr auto ex = sn::make_exec_plan(Branchy::plan);
  constexpr auto all = sn::make_fusion_plan(Branchy::plan, ex);
  constexpr auto no_stats = sn::make_fusion_plan(Branchy::plan, ex, sn::fusion_caps{.stats_from_conv = false});
  constexpr auto no_conv_relu = sn::make_fusion_plan(Branchy::plan, ex, sn::fusion_caps{.relu_into_conv = false});
  EXPECT_GT(count(all.relu_into_conv), 0);
  EXPECT_GT(count(all.relu_into_bn), 0);
  EXPECT_GT(count(all.relu_after_bn), 0);
  EXPECT_GT(count(all.stats_for_bn), 0);
  EXPECT_EQ(count(no_stats.stats_for_bn), 0);
  EXPECT_EQ(no_stats.relu_into_conv, all.relu_into_conv);
  EXPECT_EQ(no_stats.relu_after_bn, all.relu_after_bn);
  EXPECT_EQ(count(no_conv_relu.relu_into_conv), 0);
  EXPECT_EQ(no_conv_relu.relu_into_bn, all.relu_into_bn);
  // Without the conv's ReLU, a conv -> ReLU -> BatchNorm does not give the BatchNorm its statistics.
  EXPECT_LT(count(no_conv_relu.stats_for_bn), count(all.stats_for_bn));
}

// ------------------------------------------------------------ tensor names --
template <class Net>
void expect_specs_match_model() {
  auto model = std::make_unique<sn::Model<Net, 2>>(3);
  const auto specs = sn::tensor_specs<Net>();
  const auto named = model->named_tensors();
  ASSERT_EQ(specs.size(), named.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(specs[i].name, named[i].name);
    EXPECT_EQ(specs[i].shape, named[i].shape);
    EXPECT_EQ(specs[i].numel, static_cast<std::int64_t>(named[i].data.size()));
    EXPECT_EQ(specs[i].trainable, named[i].trainable);
    const float* base = specs[i].trainable ? model->params() : model->buffers();
    EXPECT_EQ(specs[i].offset, named[i].data.data() - base) << specs[i].name;
  }
}

TEST(TensorNames, SpecsAreTheModelsTensors) {
  expect_specs_match_model<S7>();
  expect_specs_match_model<Branchy>();
}

TEST(TensorNames, PyTorchModulePaths) {
  std::vector<std::string> names;
  for (const auto& t : sn::tensor_specs<Branchy>()) names.push_back(t.name);
  const std::vector<std::string> expected = {
      "C1.0.weight", "C1.0.bias", "C1.2.weight", "C1.2.bias", "C1.2.running_mean", "C1.2.running_var",
      "1.branches.0.0.weight", "1.branches.0.1.weight", "1.branches.0.1.bias", "1.branches.0.1.running_mean",
      "1.branches.0.1.running_var", "C2.0.branches.0.0.weight", "C2.0.branches.0.0.bias",
      "C2.0.branches.1.0.weight", "C2.0.branches.1.0.bias", "C2.0.branches.1.1.weight", "C2.0.branches.1.1.bias",
      "5.weight", "5.bias"};
  EXPECT_EQ(names, expected);
}

// ZeroPad2d and Identity are modules of the nn.Sequential: they take an index
// each, as in PyTorch, and hold no tensors; the checkpoint's architecture
// description names the padding, so two paddings are two architectures.
using PadIdNet = sn::Network<sn::Input<3, 8, 8>, sn::ZeroPad2d<1>, sn::Conv2d<conv{.out = 4, .kernel = 1, .padding = 1}>,
                             sn::Identity, sn::Block<"O", sn::ZeroPad2d<sn::pad{.left = 1, .right = 0, .top = 0, .bottom = 1}>,
                                                     sn::Conv2d<conv{.out = 2, .kernel = 3}>>>;
using PadIdNet2 = sn::Network<sn::Input<3, 8, 8>, sn::ZeroPad2d<1>, sn::Conv2d<conv{.out = 4, .kernel = 1, .padding = 1}>,
                              sn::Identity, sn::Block<"O", sn::ZeroPad2d<sn::pad{.left = 0, .right = 1, .top = 0, .bottom = 1}>,
                                                      sn::Conv2d<conv{.out = 2, .kernel = 3}>>>;

TEST(TensorNames, ZeroPadAndIdentityTakeAnIndex) {
  std::vector<std::string> names;
  for (const auto& t : sn::tensor_specs<PadIdNet>()) names.push_back(t.name);
  const std::vector<std::string> expected = {"1.weight", "1.bias", "O.1.weight", "O.1.bias"};
  EXPECT_EQ(names, expected);
  expect_specs_match_model<PadIdNet>();
  const std::string d = sn::architecture_description<PadIdNet>();
  EXPECT_NE(d.find("\n0 ZeroPad2d 3x8x8 -> 3x10x10 padding=1,1,1,1\n"), std::string::npos) << d;
  EXPECT_NE(d.find("\n2 Identity 4x12x12 -> 4x12x12\n"), std::string::npos) << d;
  EXPECT_NE(d.find("\nO.0 ZeroPad2d 4x12x12 -> 4x13x13 padding=1,0,0,1\n"), std::string::npos) << d;
  EXPECT_NE(sn::architecture_fingerprint<PadIdNet>(), sn::architecture_fingerprint<PadIdNet2>());
}

// ----------------------------------------------------------- initialisation --
TEST(Init, EqualsTheModelsAndDependsOnTheSeed) {
  constexpr auto ex = sn::make_exec_plan(Branchy::plan);
  auto model = std::make_unique<sn::Model<Branchy, 2>>(11);
  std::vector<float> params(static_cast<std::size_t>(ex.params)), buffers(static_cast<std::size_t>(ex.buffers));
  sn::init_parameters(Branchy::plan.rows, ex.rows, params.data(), buffers.data(), 11);
  const auto p = model->parameters();
  EXPECT_TRUE(std::equal(params.begin(), params.end(), p.begin(), p.end()));
  const auto b = model->buffer_values();
  EXPECT_TRUE(std::equal(buffers.begin(), buffers.end(), b.begin(), b.end()));
  std::vector<float> other(params.size());
  sn::init_parameters(Branchy::plan.rows, ex.rows, other.data(), buffers.data(), 12);
  EXPECT_NE(other, params);
}

// ------------------------------------------------------------- dropout bits --
TEST(DropoutBits, TheScalarDecisionIsTheKernelsMask) {
  for (const float p : {0.0f, 0.1f, 0.5f, 0.9f}) {
    for (const std::size_t size : {std::size_t{1}, std::size_t{513}, std::size_t{70'001}}) {
      const std::uint64_t seed = 0x1234u + size;
      std::vector<float> x(size, 1.0f), y(size);
      std::vector<std::uint8_t> mask(size);
      sn::cpu::dropout_forward(size, x.data(), y.data(), mask.data(), p, seed);
      const std::uint64_t key = sn::dropout_rng::key(seed);
      const std::uint32_t thr = sn::dropout_rng::threshold(p);
      std::size_t kept = 0, differ = 0;
      for (std::size_t i = 0; i < size; ++i) {
        differ += (mask[i] != 0) != sn::dropout_rng::keeps(key, thr, i);
        kept += mask[i] != 0;
      }
      EXPECT_EQ(differ, 0u) << "p " << p << " size " << size;
      if (size > 10'000) {
        EXPECT_NEAR(static_cast<double>(kept) / static_cast<double>(size), 1.0 - p, 0.01);
      }
    }
  }
  static_assert(sn::dropout_rng::keeps(sn::dropout_rng::key(1), sn::dropout_rng::threshold(0.0f), 5));
}

// ------------------------------------------- the trainer on another engine --
// A stand-in for a device engine: keeps its "device" copy of the parameters
// apart from the host mirror that named_tensors() binds, so save/load are
// right only if they call sync_to_host / sync_from_host.
template <class Net>
class mirrored_engine {
 public:
  using network_type = Net;
  using inner = sn::cpu::Model<Net, 4>;
  static constexpr int max_batch = inner::max_batch;
  static constexpr std::int64_t input_numel = inner::input_numel;
  static constexpr std::int64_t output_numel = inner::output_numel;
  static constexpr bool ends_with_log_softmax = inner::ends_with_log_softmax;

  explicit mirrored_engine(std::uint64_t seed) : device_(std::make_unique<inner>(seed)) {
    const auto p = device_->parameters();
    host_params_.assign(p.begin(), p.end());
    host_grads_.assign(p.size(), 0.0f);
    const auto b = device_->buffer_values();
    host_buffers_.assign(b.begin(), b.end());
    std::fill(host_params_.begin(), host_params_.end(), -7.0f);  // stale until synced
  }
  void train(bool on = true) { device_->train(on); }
  void eval() { device_->eval(); }
  [[nodiscard]] bool training() const { return device_->training(); }
  std::span<const float> forward(std::span<const float> x, int n) { return device_->forward(x, n); }
  float forward_backward(std::span<const float> x, std::span<const std::int32_t> t, int n, float ls = 0) {
    return device_->forward_backward(x, t, n, ls);
  }
  float loss(std::span<const std::int32_t> t, float ls = 0) { return device_->loss(t, ls); }
  std::span<float> parameters() { return device_->parameters(); }
  std::span<float> gradients() { return device_->gradients(); }
  std::vector<sn::named_tensor> named_tensors() {
    return sn::bind_tensors(sn::tensor_specs<Net>(), host_params_.data(), host_grads_.data(), host_buffers_.data());
  }
  void sync_to_host() {
    ++to_host;
    const auto p = device_->parameters();
    std::copy(p.begin(), p.end(), host_params_.begin());
    const auto b = device_->buffer_values();
    std::copy(b.begin(), b.end(), host_buffers_.begin());
  }
  void sync_from_host() {
    ++from_host;
    std::copy(host_params_.begin(), host_params_.end(), device_->parameters().begin());
    std::copy(host_buffers_.begin(), host_buffers_.end(), device_->buffer_values().begin());
  }
  inner& device() { return *device_; }

  float bn_momentum = 0.1f;
  float bn_eps = 1e-5f;
  int to_host = 0, from_host = 0;

 private:
  std::unique_ptr<inner> device_;
  std::vector<float> host_params_, host_grads_, host_buffers_;
};

static_assert(sn::engine<mirrored_engine<Branchy>>);

TEST(EngineConcept, CheckpointsMoveBetweenEngines) {
  const auto dir = std::filesystem::temp_directory_path() / ("staticnet_test_engine_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  mirrored_engine<Branchy> a(5);
  sn::SGD opt(a, {.lr = 0.1f, .momentum = 0.9f});
  // One training step so that the parameters and the momentum are not the initial ones.
  std::vector<float> x(2 * Branchy::plan.input.numel(), 0.5f);
  std::vector<std::int32_t> y = {1, 3};
  a.train();
  a.forward_backward(x, y, 2);
  opt.step(a);
  sn::checkpoint_extras extras;
  sn::add_optimizer_state(extras, a, opt);
  sn::save_checkpoint(dir / "a.safetensors", a, extras);
  EXPECT_EQ(a.to_host, 1);

  // Into the CPU engine directly: the device values, not the stale mirror.
  auto cpu = std::make_unique<sn::Model<Branchy, 4>>(99);
  sn::load_checkpoint(dir / "a.safetensors", *cpu);
  const auto pa = a.device().parameters(), pc = cpu->parameters();
  EXPECT_TRUE(std::equal(pa.begin(), pa.end(), pc.begin(), pc.end()));

  // And back into a mirrored engine: uploaded after loading.
  mirrored_engine<Branchy> b(123);
  sn::SGD opt_b(b, {.lr = 0.1f, .momentum = 0.9f});
  const sn::checkpoint_info info = sn::load_checkpoint(dir / "a.safetensors", b);
  EXPECT_EQ(b.from_host, 1);
  const auto pb = b.device().parameters();
  EXPECT_TRUE(std::equal(pa.begin(), pa.end(), pb.begin(), pb.end()));
  ASSERT_TRUE(sn::restore_optimizer_state(info, b, opt_b));
  const auto ma = opt.momentum_buffer(), mb = opt_b.momentum_buffer();
  EXPECT_TRUE(std::equal(ma.begin(), ma.end(), mb.begin(), mb.end()));
  std::filesystem::remove_all(dir);
}

// A device engine's optional hooks (engine/engine.hpp): opt.step(model) calls
// step_optimizer, the optimizer state functions call optimizer_to_host /
// optimizer_from_host, and fit() runs train_step (the whole step) instead of
// forward_backward + opt.step when the engine has it.
template <class Net>
class stepping_engine : public mirrored_engine<Net> {
 public:
  using mirrored_engine<Net>::mirrored_engine;
  template <class O>
  float train_step(std::span<const float> x, std::span<const std::int32_t> t, int n, O& opt, float ls = 0) {
    ++train_steps;
    const float loss = this->device().forward_backward(x, t, n, ls);
    opt.step(this->device());
    return loss;
  }
  template <class O>
  void step_optimizer(O& opt) {
    ++optimizer_steps;
    opt.step(this->device());
  }
  template <class O>
  void optimizer_to_host(O&) {
    ++optimizer_downloads;
  }
  template <class O>
  void optimizer_from_host(O&) {
    ++optimizer_uploads;
  }
  [[nodiscard]] const float* output() const { return const_cast<stepping_engine*>(this)->device().output(); }
  int train_steps = 0, optimizer_steps = 0, optimizer_downloads = 0, optimizer_uploads = 0;
};

static_assert(sn::engine<stepping_engine<Branchy>>);

TEST(EngineConcept, DeviceEngineHooks) {
  const auto dir = std::filesystem::temp_directory_path() / ("staticnet_test_hooks_" + std::to_string(::getpid()));
  stepping_engine<Branchy> e(5);
  sn::SGD opt(e, {.lr = 0.05f, .momentum = 0.9f});
  std::vector<float> x(2 * Branchy::plan.input.numel(), 0.5f);
  std::vector<std::int32_t> y = {1, 3};
  e.forward_backward(x, y, 2);
  opt.step(e);
  EXPECT_EQ(e.optimizer_steps, 1);
  EXPECT_TRUE(opt.started());
  sn::checkpoint_extras extras;
  sn::add_optimizer_state(extras, e, opt);
  EXPECT_EQ(e.optimizer_downloads, 1);
  std::filesystem::create_directories(dir);
  sn::save_checkpoint(dir / "e.safetensors", e, extras);
  const auto info = sn::load_checkpoint(dir / "e.safetensors", e);
  ASSERT_TRUE(sn::restore_optimizer_state(info, e, opt));
  EXPECT_EQ(e.optimizer_uploads, 1);

  // fit(): 16 images in batches of 4, one epoch: four whole steps, no separate optimizer step.
  sn::data::dataset d;
  d.images = sn::data::ndarray<std::uint8_t, 4>::from_shape({16, 8, 8, 3});
  d.labels = sn::data::ndarray<std::int32_t, 1>::from_shape({16});
  for (std::size_t i = 0; i < 16; ++i) d.labels(i) = static_cast<std::int32_t>(i % 5);
  d.classes = {"a", "b", "c", "d", "e"};
  sn::data::batch_loader train{d, 4, true, true, 7, sn::data::to_float_transform()};
  sn::data::batch_loader test{d, 4, false, false, 7, sn::data::to_float_transform()};
  std::FILE* sink = std::tmpfile();
  (void)sn::fit(e, opt, sn::no_schedule{}, train, test,
                {.epochs = 1, .output_dir = dir / "run", .reports = false, .out = sink});
  std::fclose(sink);
  EXPECT_EQ(e.train_steps, 4);
  EXPECT_EQ(e.optimizer_steps, 1);  // only the one above
  std::filesystem::remove_all(dir);
}

}  // namespace
