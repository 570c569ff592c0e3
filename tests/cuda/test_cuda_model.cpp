// The GPU engine on a device (cuda::Model): every layer against PyTorch's
// golden files and against the CPU engine (outputs, input and weight
// gradients, BatchNorm running statistics; fp32 within 1e-4, TF32 within
// 5e-3), the five assignment networks against the CPU engine, the PyTorch
// golden training step of S7-dilated, a replayed CUDA graph against the eager
// step, SGD and Adam on the device, and checkpoints moving between engines.
// Without a device the program prints why and exits with 77, which CTest
// reports as "Skipped" (tests/CMakeLists.txt), never as passed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <staticnet/cpu/model.hpp>
#include <staticnet/cuda/model.hpp>
#include <staticnet/train/checkpoint.hpp>
#include <staticnet/train/optim.hpp>
#include <staticnet/train/optimizer_state.hpp>

#include "golden.hpp"
#include "networks.hpp"

namespace sn = staticnet;
using sn::conv;
using sn::pool;

namespace {

void expect_close(const std::vector<float>& want, const float* got, const std::string& what, float atol, float rtol) {
  int bad = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const float tol = atol + rtol * std::fabs(want[i]);
    if (!(std::fabs(want[i] - got[i]) <= tol))
      if (++bad <= 5) ADD_FAILURE() << what << "[" << i << "]: GPU " << got[i] << ", reference " << want[i];
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << want.size() << " values differ";
}

float max_abs(std::span<const float> v) {
  float m = 0;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

/// Relative error of got against want: max |got - want| / max |want| (1e-12 floor).
void expect_relative(std::span<const float> want, std::span<const float> got, const std::string& what, float tol) {
  ASSERT_EQ(want.size(), got.size()) << what;
  float diff = 0;
  std::size_t worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (const float d = std::fabs(want[i] - got[i]); !(d <= diff)) diff = d, worst = i;
  const float scale = std::max(max_abs(want), 1e-12f);
  EXPECT_LE(diff / scale, tol) << what << ": relative error " << diff / scale << " at [" << worst << "] (GPU "
                               << got[worst] << ", CPU " << want[worst] << ")";
}

template <class M>
void load_parameters(M& model, const std::map<std::string, golden::tensor>& g) {
  for (auto& t : model.named_tensors()) {
    auto it = g.find(t.name);
    ASSERT_NE(it, g.end()) << "golden file lacks " << t.name;
    ASSERT_EQ(it->second.data.size(), t.data.size()) << t.name;
    std::copy(it->second.data.begin(), it->second.data.end(), t.data.begin());
  }
  model.sync_from_host();
}

// --------------------------------------------- PyTorch golden layer cases --
template <class Net>
void golden_case(const std::string& name, bool train = true) {
  SCOPED_TRACE(name);
  const auto g = golden::load(golden::path(name));
  const auto& x = g.at("input");
  const int n = x.shape[0];
  auto model = std::make_unique<sn::cuda::Model<Net, 8>>();
  load_parameters(*model, g);
  model->train(train);
  model->set_input_gradient(true);
  auto out = model->forward(x.data, n);
  expect_close(g.at("output").data, out.data(), name + " output", 1e-4f, 1e-4f);
  if (!train) return;
  model->backward(g.at("dout").data);
  model->sync_to_host();
  expect_close(g.at("grad.input").data, model->input_gradient().data(), name + " input gradient", 1e-4f, 1e-4f);
  for (auto& t : model->named_tensors()) {
    if (t.trainable)
      expect_close(g.at("grad." + t.name).data, t.grad.data(), name + " gradient of " + t.name, 1e-4f, 1e-4f);
    else
      expect_close(g.at("after." + t.name).data, t.data.data(), name + " " + t.name + " after the step", 1e-5f, 1e-5f);
  }
}

template <int C, int H, int W, class... Layers>
using Net = sn::Network<sn::Input<C, H, W>, Layers...>;

// ------------------------------------------------ GPU against the CPU --
template <class Net_, int B>
void against_cpu(const char* name, int n, sn::cuda::model_options options = {}, float tol = 1e-4f,
                 float label_smoothing = 0.0f) {
  SCOPED_TRACE(name);
  constexpr auto in = sn::cpu::Model<Net_, B>::input_numel;
  constexpr auto classes = sn::cpu::Model<Net_, B>::output_numel;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<std::size_t>(n * in));
  for (auto& v : x) v = normal(rng);
  std::vector<std::int32_t> t(static_cast<std::size_t>(n));
  for (auto& v : t) v = static_cast<std::int32_t>(rng() % classes);
  auto cpu = std::make_unique<sn::cpu::Model<Net_, B>>(3);
  auto gpu = std::make_unique<sn::cuda::Model<Net_, B>>(3, options);
  cpu->set_input_gradient(true);
  gpu->set_input_gradient(true);
  // Same initialisation from the same seed (engine/init.hpp).
  gpu->sync_to_host();
  expect_relative(cpu->parameters(), gpu->parameters(), "initial parameters", 0.0f);
  const float lc = cpu->forward_backward(x, t, n, label_smoothing);
  const float lg = gpu->forward_backward(x, t, n, label_smoothing);
  EXPECT_NEAR(lg, lc, tol * std::max(1.0f, std::fabs(lc))) << "loss";
  expect_relative({cpu->output(), static_cast<std::size_t>(n * classes)},
                  {gpu->output(), static_cast<std::size_t>(n * classes)}, "output", tol);
  gpu->sync_to_host();
  const auto ig = gpu->input_gradient();
  expect_relative({cpu->input_gradient(), static_cast<std::size_t>(n * in)}, ig, "input gradient", tol);
  auto ct = cpu->named_tensors();
  auto gt = gpu->named_tensors();
  ASSERT_EQ(ct.size(), gt.size());
  for (std::size_t i = 0; i < ct.size(); ++i) {
    if (ct[i].trainable)
      expect_relative(ct[i].grad, gt[i].grad, "gradient of " + ct[i].name, tol);
    else
      expect_relative(ct[i].data, gt[i].data, ct[i].name + " after the step", tol);
  }
  // Eval mode (running statistics, no dropout).
  cpu->eval();
  gpu->eval();
  auto oc = cpu->forward(x, n);
  auto og = gpu->forward(x, n);
  expect_relative(oc, og, "eval output", tol);
}

using Branchy = sn::Network<sn::Input<3, 12, 12>,
    sn::Block<"C1", sn::Conv2d<conv{.out = 8, .kernel = 3, .padding = 1}>, sn::ReLU, sn::BatchNorm2d>,
    sn::Add<sn::Sequential<sn::Conv2d<conv{.out = 8, .kernel = 3, .padding = 1, .bias = false}>, sn::BatchNorm2d,
                           sn::ReLU>,
            sn::Sequential<>>,
    sn::Block<"C2", sn::Concat<sn::Conv2d<conv{.out = 4, .kernel = 1}>,
                               sn::Sequential<sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 2, .dilation = 2}>,
                                              sn::Conv2d<conv{.out = 4, .kernel = 1}>>>,
              sn::MaxPool2d<pool{.kernel = 3, .stride = 2, .padding = 1}>>,
    sn::Conv2d<conv{.out = 16, .kernel = 3, .stride = 2, .padding = 1, .groups = 2}>, sn::BatchNorm2d, sn::ReLU,
    sn::AvgPool2d<pool{.kernel = 2, .stride = 1, .ceil_mode = true, .count_include_pad = false}>,
    sn::Dropout<sn::p(0.25)>, sn::GlobalAvgPool, sn::Flatten, sn::Linear<sn::linear{.out = 10}>>;

// PyTorch configurations: a 1x1 conv with padding, ZeroPad2d (and a crop), Identity, a full-window AvgPool2d head.
using PyTorchStyle = sn::Network<sn::Input<3, 10, 10>,
    sn::Conv2d<conv{.out = 6, .kernel = 1, .padding = 1}>, sn::BatchNorm2d, sn::ReLU,
    sn::ZeroPad2d<sn::pad{.left = 2, .right = 1, .top = 2, .bottom = 1}>, sn::Identity,
    sn::ZeroPad2d<sn::pad{.left = -1, .right = 0, .top = -1, .bottom = 0}>,
    sn::Conv2d<conv{.out = 10, .kernel = 3}>, sn::AvgPool2d<pool{.kernel = 12}>, sn::Flatten, sn::Identity>;

using WithLogSoftmax = sn::Network<sn::Input<4, 9, 9>,
    sn::DepthwiseConv2d<conv{.out = 8, .kernel = 3, .stride = 2, .padding = 1}>, sn::BatchNorm2d, sn::ReLU,
    sn::Conv2d<conv{.out = 10, .kernel = 1}>, sn::GlobalAvgPool, sn::Flatten, sn::LogSoftmax>;

}  // namespace

TEST(CudaGolden, Convolutions) {
  golden_case<Net<3, 7, 7, sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>>>("conv_basic");
  golden_case<Net<3, 7, 7, sn::Conv2d<conv{.out = 5, .kernel = 3, .stride = 2, .padding = 1, .bias = false}>>>(
      "conv_stride_pad");
  golden_case<Net<4, 8, 8, sn::Conv2d<conv{.out = 6, .kernel = 3, .padding = 2, .dilation = 2}>>>("conv_dilated");
  golden_case<Net<4, 6, 6, sn::Conv2d<conv{.out = 6, .kernel = 3, .padding = 1, .groups = 2}>>>("conv_groups");
  golden_case<Net<4, 8, 8, sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 1, .bias = false}>>>("conv_depthwise");
  golden_case<Net<4, 8, 8, sn::DepthwiseConv2d<conv{.out = 8, .kernel = 3, .stride = 2, .padding = 1}>>>(
      "conv_depthwise_mult");
  golden_case<Net<4, 8, 8, sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 2, .dilation = 2, .bias = false}>>>(
      "conv_depthwise_dilated");
  golden_case<Net<4, 5, 5, sn::Conv2d<conv{.out = 6, .kernel = 1}>>>("conv_pointwise");
  golden_case<Net<3, 7, 6, sn::Conv2d<conv{.out = 4, .kernel_h = 3, .kernel_w = 1, .stride_h = 2, .stride_w = 1,
                                           .padding_h = 1, .padding_w = 0}>>>("conv_asym");
}

TEST(CudaGolden, BatchNormActivationsPooling) {
  golden_case<Net<3, 5, 5, sn::BatchNorm2d>>("batchnorm");
  golden_case<Net<3, 5, 5, sn::BatchNorm2d>>("batchnorm_eval", false);
  golden_case<Net<3, 4, 4, sn::ReLU>>("relu");
  golden_case<Net<3, 6, 6, sn::MaxPool2d<>>>("maxpool");
  golden_case<Net<3, 7, 7, sn::MaxPool2d<pool{.kernel = 3, .stride = 2, .padding = 1}>>>("maxpool_pad");
  golden_case<Net<3, 8, 8, sn::MaxPool2d<pool{.kernel = 3, .stride = 2, .ceil_mode = true}>>>("maxpool_ceil");
  golden_case<Net<3, 6, 6, sn::AvgPool2d<>>>("avgpool");
  golden_case<Net<3, 7, 7, sn::AvgPool2d<pool{.kernel = 3, .stride = 2, .padding = 1, .count_include_pad = false}>>>(
      "avgpool_pad_exclude");
  golden_case<Net<3, 8, 8, sn::AvgPool2d<pool{.kernel = 3, .stride = 2, .ceil_mode = true}>>>("avgpool_ceil");
  golden_case<Net<3, 5, 4, sn::GlobalAvgPool>>("gap");
  golden_case<Net<3, 2, 2, sn::Flatten, sn::Linear<sn::linear{.out = 5}>>>("linear");
  golden_case<Net<7, 1, 1, sn::Flatten, sn::LogSoftmax>>("log_softmax");
  golden_case<Net<4, 6, 6, sn::Residual<sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>, sn::BatchNorm2d,
                                        sn::ReLU>>>("residual");
  golden_case<Net<4, 6, 6, sn::Concat<sn::Conv2d<conv{.out = 3, .kernel = 1}>,
                                      sn::Sequential<sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 2, .dilation = 2}>,
                                                     sn::Conv2d<conv{.out = 5, .kernel = 1}>>>>>("concat");
}

TEST(CudaGolden, S7DilatedTrainingStep) {
  using S7 = assignments::S7DilatedReference;
  const auto g = golden::load(golden::path("s7_dilated"));
  const auto& x = g.at("input");
  const int n = x.shape[0];
  std::vector<std::int32_t> target;
  for (float t : g.at("target").data) target.push_back(static_cast<std::int32_t>(t));
  auto model = std::make_unique<sn::cuda::Model<S7, 8>>();
  load_parameters(*model, g);
  const float loss = model->forward_backward(x.data, target, n);
  const auto& out = g.at("output").data;
  expect_close(out, model->output(), "S7 output", 2e-3f * max_abs(out), 0);
  EXPECT_NEAR(loss, g.at("loss").data[0], 1e-4f);
  model->sync_to_host();
  for (auto& t : model->named_tensors()) {
    const auto& want = t.trainable ? g.at("grad." + t.name).data : g.at("after." + t.name).data;
    expect_close(want, t.trainable ? t.grad.data() : t.data.data(), "S7 " + t.name, 2e-3f * max_abs(want), 1e-5f);
  }
  sn::SGD opt(*model, {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f});
  opt.step(*model);  // on the device
  model->sync_to_host();
  for (auto& t : model->named_tensors())
    if (t.trainable) {
      const auto& want = g.at("step." + t.name).data;
      expect_close(want, t.data.data(), "S7 after SGD " + t.name,
                   2e-3f * max_abs(g.at("grad." + t.name).data) * 0.05f + 1e-6f, 1e-5f);
    }
}

TEST(CudaAgainstCpu, EveryLayerKind) {
  against_cpu<Branchy, 16>("branchy fp32", 16);
  against_cpu<Branchy, 16>("branchy, label smoothing", 9, {}, 1e-4f, 0.1f);
  against_cpu<WithLogSoftmax, 16>("log-softmax head", 16);
  against_cpu<PyTorchStyle, 16>("padded 1x1 conv, ZeroPad2d, Identity, full-window pool", 16);
  against_cpu<Branchy, 16>("branchy, cuDNN depthwise", 16, {.own_depthwise = false});
  against_cpu<Branchy, 16>("branchy tf32", 16, {.math = sn::cuda::cudnn::math::tf32}, 5e-3f);
}

TEST(CudaAgainstCpu, AssignmentNetworks) {
  against_cpu<assignments::S9Reference, 32>("S9", 32);
  against_cpu<assignments::S7DilatedReference, 32>("S7-dilated", 32);
  against_cpu<assignments::S7LateNet, 32>("S7-late", 32);
  against_cpu<assignments::S7GroupsNet, 32>("S7-groups", 32);
  against_cpu<assignments::S7TransitionNet, 32>("S7-transition", 20);
}

namespace {
template <class Opt, class MakeOpt>
void graph_equals_eager(MakeOpt make_opt) {
  using S7 = assignments::S7DilatedReference;
  constexpr int n = 32;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  auto eager = std::make_unique<sn::cuda::Model<S7, n>>(5, sn::cuda::model_options{.cuda_graphs = false});
  auto graphed = std::make_unique<sn::cuda::Model<S7, n>>(5);
  Opt oe = make_opt(*eager), og = make_opt(*graphed);
  std::vector<float> x(static_cast<std::size_t>(n * 3 * 32 * 32));
  std::vector<std::int32_t> t(n);
  for (int step = 0; step < 6; ++step) {
    for (auto& v : x) v = normal(rng);
    for (auto& v : t) v = static_cast<std::int32_t>(rng() % 10);
    oe.options.lr = og.options.lr = static_cast<decltype(oe.options.lr)>(0.01 * (step + 1));  // a schedule
    const float le = eager->train_step(x, t, n, oe);
    const float lg = graphed->train_step(x, t, n, og);
    EXPECT_FLOAT_EQ(le, lg) << "step " << step;
  }
  EXPECT_EQ(graphed->graph_count(), 1u);
  EXPECT_EQ(graphed->graph_replays(), 5);  // step 1 eager (warm-up), step 2 captured and replayed, then replays
  EXPECT_GT(graphed->graph_nodes(), 20u);
  EXPECT_EQ(eager->graph_replays(), 0);
  eager->sync_to_host();
  graphed->sync_to_host();
  expect_relative(eager->parameters(), graphed->parameters(), "parameters after 6 steps", 1e-6f);
  expect_relative(eager->buffer_values(), graphed->buffer_values(), "buffers after 6 steps", 1e-6f);
}
}  // namespace

TEST(CudaGraph, ReplayEqualsEagerSgd) {
  graph_equals_eager<sn::SGD>([](auto& m) {
    return sn::SGD(m, {.lr = 0.01f, .momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = true});
  });
}

TEST(CudaGraph, ReplayEqualsEagerAdamW) {
  graph_equals_eager<sn::AdamW>([](auto& m) { return sn::AdamW(m, {.lr = 1e-3}); });
}

TEST(CudaOptimizer, DeviceStepsEqualTheCpuOnes) {
  using S7 = assignments::S7DilatedReference;
  constexpr int n = 16;
  std::mt19937 rng(13);
  std::normal_distribution<float> normal;
  auto cpu = std::make_unique<sn::cpu::Model<S7, n>>(9);
  auto gpu = std::make_unique<sn::cuda::Model<S7, n>>(9);
  sn::Adam oc(*cpu, {.lr = 1e-3, .weight_decay = 1e-4, .amsgrad = true});
  sn::Adam og(*gpu, {.lr = 1e-3, .weight_decay = 1e-4, .amsgrad = true});
  std::vector<float> x(static_cast<std::size_t>(n * 3 * 32 * 32));
  std::vector<std::int32_t> t(n);
  for (int step = 0; step < 3; ++step) {
    for (auto& v : x) v = normal(rng);
    for (auto& v : t) v = static_cast<std::int32_t>(rng() % 10);
    cpu->forward_backward(x, t, n);
    oc.step(*cpu);
    gpu->train_step(x, t, n, og);
  }
  EXPECT_EQ(og.step_count(), 3);
  gpu->sync_to_host();
  expect_relative(cpu->parameters(), gpu->parameters(), "parameters after 3 Adam steps", 1e-4f);
  gpu->optimizer_to_host(og);
  expect_relative(oc.exp_avg(), og.exp_avg(), "exp_avg", 1e-3f);
}

TEST(CudaCheckpoint, MovesBetweenEngines) {
  using S7 = assignments::S7DilatedReference;
  constexpr int n = 8;
  const auto dir = std::filesystem::temp_directory_path() / ("staticnet_cuda_ckpt_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::mt19937 rng(17);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<std::size_t>(n * 3 * 32 * 32));
  for (auto& v : x) v = normal(rng);
  std::vector<std::int32_t> t(n, 3);
  auto gpu = std::make_unique<sn::cuda::Model<S7, n>>(21);
  sn::SGD opt(*gpu, {.lr = 0.05f, .momentum = 0.9f});
  gpu->train_step(x, t, n, opt);
  sn::checkpoint_extras extras;
  sn::add_optimizer_state(extras, *gpu, opt);
  sn::save_checkpoint(dir / "gpu.safetensors", *gpu, extras);
  auto cpu = std::make_unique<sn::cpu::Model<S7, n>>(0);
  sn::SGD opt_cpu(*cpu, {.lr = 0.05f, .momentum = 0.9f});
  const auto info = sn::load_checkpoint(dir / "gpu.safetensors", *cpu);
  EXPECT_TRUE(sn::restore_optimizer_state(info, *cpu, opt_cpu));
  gpu->eval();
  cpu->eval();
  auto og = gpu->forward(x, n);
  std::vector<float> want(og.begin(), og.end());
  auto oc = cpu->forward(x, n);
  expect_relative(want, oc, "eval outputs after the move GPU -> CPU", 1e-4f);
  // And back: the CPU's checkpoint into a fresh GPU model.
  sn::save_checkpoint(dir / "cpu.safetensors", *cpu, extras);
  auto gpu2 = std::make_unique<sn::cuda::Model<S7, n>>(99);
  (void)sn::load_checkpoint(dir / "cpu.safetensors", *gpu2);
  gpu2->eval();
  auto og2 = gpu2->forward(x, n);
  expect_relative(want, og2, "eval outputs after the move CPU -> GPU", 1e-4f);
  std::filesystem::remove_all(dir);
}

TEST(CudaModel, OneStep) {
  // One whole step of S7-dilated: what scripts/gpu-check.sh runs under compute-sanitizer.
  using S7 = assignments::S7DilatedReference;
  constexpr int n = 64;
  auto gpu = std::make_unique<sn::cuda::Model<S7, n>>(1);
  sn::SGD opt(*gpu, {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f});
  std::vector<float> x(static_cast<std::size_t>(n * 3 * 32 * 32), 0.5f);
  std::vector<std::int32_t> t(n, 1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(std::isfinite(gpu->train_step(x, t, n, opt)));
  EXPECT_EQ(gpu->graph_replays(), 2);
}

TEST(CudaModel, BadInputIsRefusedBeforeAnythingRuns) {
  using S7 = assignments::S7DilatedReference;
  auto gpu = std::make_unique<sn::cuda::Model<S7, 4>>(1);
  std::vector<float> x(4 * 3 * 32 * 32, 0.0f);
  std::vector<std::int32_t> t{0, 1, 2, 10};
  sn::SGD opt(*gpu, {.lr = 0.05f});
  EXPECT_THROW(gpu->train_step(x, t, 4, opt), std::invalid_argument);  // target 10 of 10 classes
  EXPECT_THROW(gpu->forward(x, 5), std::invalid_argument);             // batch above MaxBatch
  EXPECT_THROW(gpu->forward({x.data(), 7}, 1), std::invalid_argument); // wrong input size
}

int main(int argc, char** argv) {
  if (sn::cuda::device_count() == 0) {
    std::printf("no CUDA device (%s): the GPU engine's device tests are skipped\n",
                sn::cuda::no_device_reason().c_str());
    return 77;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
