// The inference memory plan (engine/inference_plan.hpp) and the Predictor
// (inference/predictor.hpp): tensors whose lifetimes overlap never share
// memory; the predictor's forward equals cpu::Model's eval forward with folded
// BatchNorms for the five assignment networks and branchy ones; inference
// needs a fraction of training's activation memory; checkpoints load with the
// loader's checks (another architecture, a missing file: clear errors).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <unistd.h>
#include <vector>

#include <staticnet/inference/predictor.hpp>
#include <staticnet/staticnet.hpp>

#include "networks.hpp"

namespace sn = staticnet;
namespace fs = std::filesystem;
using sn::conv;
using sn::pool;

namespace {

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

// Every layer kind: strided / grouped / depthwise convs, BatchNorm both sides
// of ReLU, a residual, a concat whose branch starts with a max-pool, a ReLU
// after a Dropout and after a merge, padding, Identity, average pooling.
using AllKinds = sn::Network<sn::Input<3, 16, 16>,
    sn::Conv2d<conv{.out = 16, .kernel = 3, .padding = 1}>, sn::ReLU, sn::BatchNorm2d,
    sn::Conv2d<conv{.out = 16, .kernel = 3, .stride = 2, .padding = 1, .bias = false}>, sn::BatchNorm2d, sn::ReLU,
    sn::Residual<sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 2, .dilation = 2}>,
                 sn::Conv2d<conv{.out = 16, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>,
    sn::ReLU,
    sn::Concat<sn::Conv2d<conv{.out = 8, .kernel = 3, .padding = 1, .groups = 2}>,
               sn::Sequential<sn::MaxPool2d<pool{.kernel = 3, .stride = 1, .padding = 1}>,
                              sn::Conv2d<conv{.out = 8, .kernel = 1}>>>,
    sn::Dropout<>, sn::ReLU, sn::ZeroPad2d<1>, sn::Identity, sn::AvgPool2d<pool{.kernel = 2}>, sn::GlobalAvgPool,
    sn::Flatten, sn::Linear<sn::linear{.out = 10}>>;

using Linear2 = sn::Network<sn::Input<1, 4, 4>, sn::Flatten, sn::Linear<sn::linear{.out = 6}>, sn::ReLU,
                            sn::Linear<sn::linear{.out = 3}>>;

std::vector<float> random_input(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

// No two tensors whose lifetimes overlap share arena memory.
template <class Net>
void check_liveness() {
  constexpr auto ex = sn::make_exec_plan(Net::plan);
  constexpr auto ip = sn::make_inference_plan(Net::plan, ex, sn::make_fusion_plan(Net::plan, ex));
  struct life {
    int first, last;
    std::int64_t begin, end;
  };
  std::vector<life> lives;
  int input_last = -1;
  for (std::size_t i = 0; i < Net::plan.size; ++i)
    if (ip.rows[i].src == -1 || ip.rows[i].tensor == -1) input_last = static_cast<int>(i);
  if (ip.rows[Net::plan.size - 1].tensor == -1) input_last = static_cast<int>(Net::plan.size);
  lives.push_back({-1, input_last, ip.input_offset, ip.input_offset + Net::plan.input.numel()});
  for (std::size_t i = 0; i < Net::plan.size; ++i) {
    const auto& o = ip.rows[i];
    if (!o.writes) continue;
    lives.push_back({static_cast<int>(i), std::max(o.last_use, static_cast<int>(i)), o.offset,
                     o.offset + Net::plan.rows[i].out.numel()});
    EXPECT_LE(o.offset + Net::plan.rows[i].out.numel(), ip.act_per_image);
  }
  for (std::size_t a = 0; a < lives.size(); ++a)
    for (std::size_t b = a + 1; b < lives.size(); ++b) {
      const bool time = lives[a].first <= lives[b].last && lives[b].first <= lives[a].last;
      const bool space = lives[a].begin < lives[b].end && lives[b].begin < lives[a].end;
      EXPECT_FALSE(time && space) << "tensors of rows " << lives[a].first << " and " << lives[b].first
                                  << " overlap in time and memory";
    }
  // A tensor's readers come after it is written and no later than its last use.
  for (std::size_t i = 0; i < Net::plan.size; ++i) {
    const int t = ip.rows[i].src;
    if (t >= 0) {
      EXPECT_LE(static_cast<int>(i), std::max(ip.rows[static_cast<std::size_t>(t)].last_use, t));
    }
  }
}

template <class Net>
void check_equal_to_model(double max_fraction) {
  SCOPED_TRACE(testing::Message() << "network with " << sn::param_count<Net> << " parameters");
  check_liveness<Net>();
  static_assert(sn::inference_activation_floats<Net> <= sn::training_activation_floats<Net>);
  EXPECT_LE(static_cast<double>(sn::inference_activation_floats<Net>),
            max_fraction * static_cast<double>(sn::training_activation_floats<Net>));
  constexpr int B = 4;
  auto model = std::make_unique<sn::Model<Net, B>>(3);
  constexpr std::size_t in = static_cast<std::size_t>(sn::Model<Net, B>::input_numel);
  // Running statistics and parameters away from their initial values: a few training steps.
  sn::SGD opt(*model, {.lr = 0.01f, .momentum = 0.9f});
  for (int s = 0; s < 3; ++s) {
    const auto x = random_input(B * in, 100 + s);
    std::vector<std::int32_t> y(B);
    for (int j = 0; j < B; ++j) y[static_cast<std::size_t>(j)] = j % static_cast<int>(sn::Model<Net, B>::output_numel);
    model->forward_backward(x, y, B);
    opt.step(*model);
  }
  model->eval();
  model->fold_batchnorm();
  sn::Predictor<Net, B> p(model->parameters(), model->buffer_values(), model->bn_eps);
  for (int n : {1, 3, B}) {
    const auto x = random_input(n * in, 7 + n);
    const auto want = model->forward(x, n);
    const std::vector<float> expect(want.begin(), want.end());
    const auto got = p.forward(x, n);
    ASSERT_EQ(got.size(), expect.size());
    for (std::size_t k = 0; k < expect.size(); ++k)
      ASSERT_NEAR(got[k], expect[k], 1e-5 * (1 + std::abs(expect[k]))) << "batch " << n << ", output " << k;
  }
  EXPECT_LT(p.workspace_bytes(), model->workspace_bytes());
}

}  // namespace

TEST(InferencePlan, S9Reference) { check_equal_to_model<assignments::S9Reference>(0.35); }
TEST(InferencePlan, S7DilatedReference) { check_equal_to_model<assignments::S7DilatedReference>(0.35); }
TEST(InferencePlan, S7Late) { check_equal_to_model<assignments::S7LateNet>(0.35); }
TEST(InferencePlan, S7Groups) { check_equal_to_model<assignments::S7GroupsNet>(0.5); }
TEST(InferencePlan, S7Transition) { check_equal_to_model<assignments::S7TransitionNet>(0.35); }
TEST(InferencePlan, Branchy) { check_equal_to_model<Branchy>(0.8); }
TEST(InferencePlan, AllKinds) { check_equal_to_model<AllKinds>(0.8); }
TEST(InferencePlan, Linear) { check_equal_to_model<Linear2>(1.0); }

TEST(InferencePlan, Facts) {
  using Net = assignments::S7DilatedReference;
  constexpr auto ex = sn::make_exec_plan(Net::plan);
  constexpr auto ip = sn::make_inference_plan(Net::plan, ex, sn::make_fusion_plan(Net::plan, ex));
  static_assert(ip.act_per_image == sn::inference_activation_floats<Net>);
  static_assert(sn::training_activation_floats<Net> == ex.act_per_image);
  static_assert(ip.folded);
  // Without folding the BatchNorms write their own tensors: never less memory.
  constexpr auto unfolded = sn::make_inference_plan(Net::plan, ex, sn::make_fusion_plan(Net::plan, ex), false);
  static_assert(unfolded.act_per_image >= ip.act_per_image);
  // Two tensors of the largest size at most are live at once in a chain, plus the input.
  EXPECT_LE(ip.act_per_image, 3 * ex.max_numel + 16);
}

namespace {
fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("staticnet_test_inference_" + name + "_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST(Predictor, CheckpointGivesModelTop1) {
  using Net = assignments::S7DilatedReference;
  using M = sn::Model<Net, 8>;
  const fs::path dir = temp_dir("top1");
  auto model = std::make_unique<M>(11);
  sn::SGD opt(*model, {.lr = 0.05f, .momentum = 0.9f});
  const auto xt = random_input(8 * M::input_numel, 1);
  const std::vector<std::int32_t> yt = {0, 1, 2, 3, 4, 5, 6, 7};
  model->forward_backward(xt, yt, 8);
  opt.step(*model);
  sn::checkpoint_extras extras;
  extras.set("data.mean", sn::channel_list_text({0.5, 0.25, 0.125}));
  extras.set("data.std", sn::channel_list_text({0.25, 0.5, 0.75}));
  sn::save_checkpoint(dir / "best.safetensors", *model, extras);

  sn::Predictor<Net> p(dir / "best.safetensors");
  ASSERT_EQ(p.mean().size(), 3u);
  EXPECT_DOUBLE_EQ(p.mean()[1], 0.25);
  EXPECT_DOUBLE_EQ(p.stddev()[2], 0.75);
  model->eval();
  const auto x = random_input(8 * M::input_numel, 2);
  const auto out = model->forward(x, 8);
  const auto batch = p.classify_batch(x, 8, 3);
  ASSERT_EQ(batch.size(), 8u);
  for (int j = 0; j < 8; ++j) {
    const float* row = out.data() + j * 10;
    const int best = static_cast<int>(std::max_element(row, row + 10) - row);
    EXPECT_EQ(batch[static_cast<std::size_t>(j)][0].label, best);
    ASSERT_EQ(batch[static_cast<std::size_t>(j)].size(), 3u);
    EXPECT_GE(batch[static_cast<std::size_t>(j)][0].probability, batch[static_cast<std::size_t>(j)][1].probability);
    const auto one = p.classify(std::span<const float>(x).subspan(static_cast<std::size_t>(j) * M::input_numel, M::input_numel), 10);
    double sum = 0;
    for (const auto& c : one) sum += c.probability;
    EXPECT_NEAR(sum, 1.0, 1e-5);
    EXPECT_EQ(one[0].label, best);
  }
  // classify_pixels normalises with the checkpoint's data.mean / data.std.
  std::vector<std::uint8_t> pixels(32 * 32 * 3);
  for (std::size_t k = 0; k < pixels.size(); ++k) pixels[k] = static_cast<std::uint8_t>(k * 37 % 256);
  const std::vector<float> chw = p.normalize(pixels);
  EXPECT_FLOAT_EQ(chw[0], (0.0f / 255 - 0.5f) / 0.25f);
  EXPECT_FLOAT_EQ(chw[1024], (37.0f / 255 - 0.25f) / 0.5f);  // channel 1 of pixel 0
  EXPECT_EQ(p.classify_pixels(pixels, 1)[0].label, p.classify(chw, 1)[0].label);
  EXPECT_THROW(p.classify_pixels(std::vector<std::uint8_t>(10), 1), std::invalid_argument);
  fs::remove_all(dir);
}

TEST(Predictor, ClearErrors) {
  const fs::path dir = temp_dir("errors");
  {
    auto other = std::make_unique<sn::Model<assignments::S9Reference, 1>>(1);
    sn::save_checkpoint(dir / "s9.safetensors", *other);
  }
  try {
    sn::Predictor<assignments::S7DilatedReference> p(dir / "s9.safetensors");
    FAIL() << "loaded another architecture";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match the model"), std::string::npos) << e.what();
  }
  try {
    sn::Predictor<assignments::S7DilatedReference> p(dir / "missing.safetensors");
    FAIL() << "loaded a missing file";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("missing.safetensors"), std::string::npos) << e.what();
  }
  // No normalisation in the checkpoint and none given: classify_pixels says so.
  sn::Predictor<assignments::S9Reference> p(dir / "s9.safetensors");
  EXPECT_THROW(p.classify_pixels(std::vector<std::uint8_t>(32 * 32 * 3), 1), std::logic_error);
  EXPECT_THROW(sn::Predictor<assignments::S9Reference>(dir / "s9.safetensors", {.mean = {0.5}, .std = {0.5}}),
               std::invalid_argument);
  fs::remove_all(dir);
}
