// Finite-difference checks of whole-model backward passes: every parameter
// tensor's gradient and the input gradient, for networks combining every
// layer type and option (stride, padding, dilation, groups, asymmetric
// kernels, bias on/off, residual add, concat, dropout, pooling, ZeroPad2d,
// Identity); and networks that compute the same function in two ways
// (ZeroPad2d + conv vs a padded conv, with and without Identity, a
// full-window AvgPool2d vs GlobalAvgPool) against each other.
//
// A directional check per tensor: with L = sum(out * r) and a random +-1
// direction v on that tensor, (L(t + e v) - L(t - e v)) / 2e must equal
// <dL/dt, v> within 3% (plus a small absolute slack for float rounding).
// e = 1e-2 keeps float noise far below the signal. Max pooling's kinks would
// be crossed by such a step, so these networks average-pool (max pooling's
// backward is checked per kernel in test_cpu_layers and through the Model
// against PyTorch in test_model_parity); ReLU inputs are kept positive.
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include <staticnet/cpu/model.hpp>
#include <staticnet/staticnet.hpp>

namespace sn = staticnet;
using sn::conv;
using sn::pool;

namespace {

template <class Net>
void gradcheck(std::uint64_t seed) {
  using M = sn::Model<Net, 4>;
  auto model = std::make_unique<M>(seed);
  constexpr int n = 3;
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n * M::input_numel), r(n * M::output_numel);
  for (auto& v : x) v = normal(rng);
  for (auto& v : r) v = normal(rng);
  // Biases around +2 keep ReLU inputs (BN outputs) away from the kink at 0,
  // so a finite step never crosses it; the ReLU still runs (in place) and
  // its backward still gates the gradient.
  for (auto& t : model->named_tensors())
    if (t.trainable && t.name.find("bias") != std::string::npos)
      for (auto& v : t.data) v = 2.0f + 0.1f * normal(rng);

  auto loss = [&]() {
    model->set_dropout_seed(42);
    auto out = model->forward(x, n);
    double l = 0;
    for (std::size_t i = 0; i < out.size(); ++i) l += static_cast<double>(out[i]) * r[i];
    return l;
  };
  loss();
  model->set_input_gradient(true);
  model->backward(r);
  // Copy gradients (later forwards do not touch them, but be explicit).
  std::vector<float> grads(model->gradients().begin(), model->gradients().end());
  std::vector<float> input_grad(model->input_gradient(), model->input_gradient() + x.size());

  const double eps = 1e-2;
  auto directional = [&](std::span<float> values, const float* grad, const std::string& what) {
    std::vector<float> v(values.size());
    std::bernoulli_distribution coin(0.5);
    for (auto& e : v) e = coin(rng) ? 1.0f : -1.0f;
    double analytic = 0;
    for (std::size_t i = 0; i < v.size(); ++i) analytic += static_cast<double>(grad[i]) * v[i];
    std::vector<float> saved(values.begin(), values.end());
    for (std::size_t i = 0; i < v.size(); ++i) values[i] = saved[i] + static_cast<float>(eps) * v[i];
    const double plus = loss();
    for (std::size_t i = 0; i < v.size(); ++i) values[i] = saved[i] - static_cast<float>(eps) * v[i];
    const double minus = loss();
    std::copy(saved.begin(), saved.end(), values.begin());
    const double numeric = (plus - minus) / (2 * eps);
    EXPECT_NEAR(analytic, numeric, 0.03 * std::fabs(numeric) + 2e-2 * std::sqrt(static_cast<double>(v.size())) * 0.05)
        << what << " (" << v.size() << " values)";
  };
  for (auto& t : model->named_tensors()) {
    if (!t.trainable) continue;
    const std::size_t offset = static_cast<std::size_t>(t.data.data() - model->parameters().data());
    directional(t.data, grads.data() + offset, "gradient of " + t.name);
  }
  directional(x, input_grad.data(), "input gradient");
}

using Plain = sn::Network<sn::Input<3, 9, 9>,
    sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>, sn::BatchNorm2d, sn::ReLU,
    sn::AvgPool2d<pool{.kernel = 3, .stride = 2, .padding = 1}>,
    sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 2, .dilation = 2, .bias = false}>,
    sn::Conv2d<conv{.out = 6, .kernel = 1, .bias = false}>, sn::Dropout<sn::p(0.2)>,
    sn::AvgPool2d<>, sn::Flatten, sn::Linear<sn::linear{.out = 5}>, sn::LogSoftmax>;

using Branchy = sn::Network<sn::Input<4, 8, 8>,
    sn::Residual<sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>, sn::BatchNorm2d>,
    sn::Concat<sn::Sequential<>, sn::Conv2d<conv{.out = 2, .kernel = 1}>,
               sn::Sequential<sn::DepthwiseConv2d<conv{.out = 8, .kernel = 3, .padding = 1}>,
                              sn::Conv2d<conv{.out = 3, .kernel = 1}>>>,
    sn::Conv2d<conv{.out = 6, .kernel = 3, .stride = 2, .padding = 1, .groups = 3}>,
    sn::GlobalAvgPool, sn::Conv2d<conv{.out = 5, .kernel = 1}>, sn::Flatten>;

using Asymmetric = sn::Network<sn::Input<2, 9, 8>,
    sn::Conv2d<conv{.out = 4, .kernel_h = 3, .kernel_w = 2, .stride_h = 2, .stride_w = 1, .padding_h = 1,
                    .padding_w = 1, .dilation_h = 1, .dilation_w = 2}>,
    sn::BatchNorm2d,
    sn::Add<sn::Conv2d<conv{.out = 4, .kernel = 1}>,
            sn::Sequential<sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1, .bias = false}>, sn::Dropout<sn::p(0.3)>>>,
    sn::AvgPool2d<pool{.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false}>,
    sn::Flatten, sn::Linear<sn::linear{.out = 3, .bias = false}>>;

// Every fusion of the engine: conv -> ReLU (into the conv's epilogue and,
// backward, into the BatchNorm after it), then a ReLU after a BatchNorm whose
// input is a fused ReLU (not fused: runs on its own), BatchNorm -> ReLU (fused
// into the BatchNorm), depthwise -> ReLU -> BatchNorm; and each BatchNorm
// takes its plane statistics from the conv before it (3x3, 1x1, depthwise).
using Fused = sn::Network<sn::Input<3, 8, 8>,
    sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>, sn::ReLU, sn::BatchNorm2d, sn::ReLU,
    sn::Conv2d<conv{.out = 4, .kernel = 1, .bias = false}>, sn::BatchNorm2d, sn::ReLU,
    sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 1, .bias = false}>, sn::ReLU, sn::BatchNorm2d,
    sn::GlobalAvgPool, sn::Flatten>;
// The same layers with a Dropout of p = 0 (an exact identity in training
// mode) wherever it breaks up a fused pair, so that nothing is fused.
using Unfused = sn::Network<sn::Input<3, 8, 8>,
    sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>, sn::Dropout<sn::p(0.0)>, sn::ReLU, sn::Dropout<sn::p(0.0)>,
    sn::BatchNorm2d, sn::Dropout<sn::p(0.0)>, sn::ReLU,
    sn::Conv2d<conv{.out = 4, .kernel = 1, .bias = false}>, sn::Dropout<sn::p(0.0)>, sn::BatchNorm2d,
    sn::Dropout<sn::p(0.0)>, sn::ReLU, sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 1, .bias = false}>, sn::Dropout<sn::p(0.0)>, sn::ReLU,
    sn::Dropout<sn::p(0.0)>, sn::BatchNorm2d,
    sn::GlobalAvgPool, sn::Flatten>;
using FusedModel = sn::Model<Fused, 4>;
using UnfusedModel = sn::Model<Unfused, 4>;
static_assert(std::ranges::none_of(UnfusedModel::relu_into_conv, [](bool b) { return b; }) &&
              std::ranges::none_of(UnfusedModel::relu_into_bn, [](bool b) { return b; }) &&
              std::ranges::none_of(UnfusedModel::relu_after_bn, [](bool b) { return b; }));
static_assert(FusedModel::relu_into_conv[1] && FusedModel::relu_into_bn[1]);
static_assert(!FusedModel::relu_into_conv[3] && !FusedModel::relu_after_bn[3] && !FusedModel::relu_into_bn[3]);
static_assert(FusedModel::relu_after_bn[6] && !FusedModel::relu_into_conv[6]);
static_assert(FusedModel::relu_into_conv[8] && FusedModel::relu_into_bn[8]);
static_assert(FusedModel::stats_for_bn[0] == 2 && FusedModel::stats_for_bn[4] == 5 &&
              FusedModel::stats_for_bn[7] == 9);
static_assert(std::ranges::none_of(UnfusedModel::stats_for_bn, [](int i) { return i >= 0; }));

// Padding in every form PyTorch accepts: a 1x1 conv with padding 1 (7x7 -> 9x9),
// an asymmetric ZeroPad2d (12x10), Identity (it aliases its input), a 3x3 conv
// with padding 3, larger than its extent (16x14), a depthwise one likewise
// (20x18), a cropping ZeroPad2d (16x14), a ceil-mode pool whose last window
// runs past the input (6x5), and AvgPool2d(6, ceil_mode) over the whole 6x5
// map as the global pooling.
using Padded = sn::Network<sn::Input<3, 7, 7>,
    sn::Conv2d<conv{.out = 4, .kernel = 1, .padding = 1}>, sn::BatchNorm2d, sn::ReLU,
    sn::ZeroPad2d<sn::pad{.left = 1, .right = 0, .top = 2, .bottom = 1}>, sn::Identity,
    sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 3}>,
    sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 3, .bias = false}>, sn::ZeroPad2d<-2>,
    sn::AvgPool2d<pool{.kernel = 3, .ceil_mode = true}>, sn::Identity,
    sn::AvgPool2d<pool{.kernel = 6, .ceil_mode = true}>, sn::Conv2d<conv{.out = 5, .kernel = 1}>, sn::Flatten>;
static_assert(sn::layer<Padded, 1>.out == sn::shape{4, 9, 9} && sn::layer<Padded, 4>.out == sn::shape{4, 12, 10});
static_assert(sn::layer<Padded, 6>.out == sn::shape{4, 16, 14} && sn::layer<Padded, 7>.out == sn::shape{4, 20, 18});
static_assert(sn::layer<Padded, 8>.out == sn::shape{4, 16, 14} && sn::layer<Padded, 9>.out == sn::shape{4, 6, 5});
static_assert(sn::layer<Padded, 11>.f.global_pool && sn::layer<Padded, 11>.out == sn::shape{4, 1, 1});

/// Two networks that compute the same function with the same parameter
/// layout: outputs, parameter gradients and input gradients agree.
template <class NetA, class NetB>
void expect_same_function(std::uint64_t seed) {
  using A = sn::Model<NetA, 4>;
  using B = sn::Model<NetB, 4>;
  static_assert(A::input_numel == B::input_numel && A::output_numel == B::output_numel);
  auto a = std::make_unique<A>(seed);
  auto b = std::make_unique<B>(seed);
  ASSERT_EQ(a->parameters().size(), b->parameters().size());
  std::copy(a->parameters().begin(), a->parameters().end(), b->parameters().begin());
  constexpr int n = 3;
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n * A::input_numel), r(n * A::output_numel);
  for (auto& v : x) v = normal(rng);
  for (auto& v : r) v = normal(rng);
  a->set_input_gradient(true);
  b->set_input_gradient(true);
  auto close = [](std::span<const float> p, std::span<const float> q, const char* what) {
    ASSERT_EQ(p.size(), q.size()) << what;
    for (std::size_t i = 0; i < p.size(); ++i)
      EXPECT_NEAR(p[i], q[i], 1e-5 + 1e-5 * std::fabs(q[i])) << what << " [" << i << "]";
  };
  auto ya = a->forward(x, n);
  const std::vector<float> out(ya.begin(), ya.end());
  auto yb = b->forward(x, n);
  close(out, std::vector<float>(yb.begin(), yb.end()), "output");
  a->backward(r);
  b->backward(r);
  close(a->gradients(), b->gradients(), "parameter gradients");
  close(std::span<const float>(a->input_gradient(), x.size()), std::span<const float>(b->input_gradient(), x.size()),
        "input gradient");
}

// ZeroPad2d(1) then an unpadded conv is the conv with padding 1 (3x3, and 1x1 growing the map).
using PadThenConv = sn::Network<sn::Input<3, 9, 8>, sn::ZeroPad2d<1>, sn::Conv2d<conv{.out = 4, .kernel = 3}>,
                                sn::ReLU, sn::ZeroPad2d<1>, sn::Conv2d<conv{.out = 5, .kernel = 1}>, sn::Flatten>;
using PaddedConv = sn::Network<sn::Input<3, 9, 8>, sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>, sn::ReLU,
                               sn::Conv2d<conv{.out = 5, .kernel = 1, .padding = 1}>, sn::Flatten>;
// Identity anywhere (at the start, after a conv, inside a branch, before the
// output) changes nothing; nor does it break the fusions around it.
using WithIdentity = sn::Network<sn::Input<3, 8, 8>, sn::Identity, sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>,
                                 sn::Identity, sn::BatchNorm2d, sn::ReLU,
                                 sn::Residual<sn::Identity, sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>>,
                                 sn::GlobalAvgPool, sn::Flatten, sn::Identity>;
using WithoutIdentity = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>,
                                    sn::BatchNorm2d, sn::ReLU,
                                    sn::Residual<sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>>,
                                    sn::GlobalAvgPool, sn::Flatten>;
// A full-window AvgPool2d(6) on a 6x6 map is the global average pooling.
using FullWindowHead = sn::Network<sn::Input<3, 6, 6>, sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>,
                                   sn::AvgPool2d<pool{.kernel = 6}>, sn::Conv2d<conv{.out = 5, .kernel = 1}>, sn::Flatten>;
using GapHead = sn::Network<sn::Input<3, 6, 6>, sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>,
                            sn::AdaptiveAvgPool2d<1>, sn::Conv2d<conv{.out = 5, .kernel = 1}>, sn::Flatten>;

// Winograd convs (forced: the automatic choice leaves such thin layers
// direct; their kernels are checked against a double-precision conv in
// test_conv_winograd): F(4x4) feeding a BatchNorm, F(2x2) dilated and feeding a BatchNorm,
// F(4x4) with padding 2 and bias; the same network on the direct path
// (gradient-checked above through the same layers) gives the same outputs
// and gradients.
template <sn::conv_algo F4, sn::conv_algo F2>
using WinogradOr = sn::Network<sn::Input<3, 11, 10>,
    sn::Conv2d<conv{.out = 6, .kernel = 3, .padding = 1, .algo = F4}>, sn::BatchNorm2d, sn::ReLU,
    sn::Conv2d<conv{.out = 5, .kernel = 3, .padding = 2, .dilation = 2, .algo = F2}>, sn::BatchNorm2d, sn::ReLU,
    sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 2, .algo = F4}>,
    sn::GlobalAvgPool, sn::Flatten>;
using WinogradNet = WinogradOr<sn::conv_algo::winograd_f4, sn::conv_algo::winograd_f2>;
using DirectNet = WinogradOr<sn::conv_algo::direct, sn::conv_algo::direct>;
static_assert(sn::layer<WinogradNet, 1>.f.winograd == 4 && sn::layer<WinogradNet, 4>.f.winograd == 2 &&
              sn::layer<WinogradNet, 7>.f.winograd_data == 4 && sn::layer<DirectNet, 1>.f.winograd == 0);

// Identity aliases its input's buffer (as Flatten does): no activation of its own.
static_assert(sn::make_exec_plan(WithIdentity::plan).act_per_image ==
              sn::make_exec_plan(WithoutIdentity::plan).act_per_image);

}  // namespace

TEST(ModelGradcheck, PaddingZeroPadIdentityAndFullWindowPool) { gradcheck<Padded>(4); }
TEST(ModelPadding, ZeroPadThenConvIsThePaddedConv) { expect_same_function<PadThenConv, PaddedConv>(5); }
TEST(ModelPadding, IdentityChangesNothing) { expect_same_function<WithIdentity, WithoutIdentity>(6); }
TEST(ModelPadding, FullWindowAvgPoolIsGlobalAvgPool) { expect_same_function<FullWindowHead, GapHead>(7); }

TEST(ModelGradcheck, PlainChainOfEveryLayerKind) { gradcheck<Plain>(1); }
TEST(ModelWinograd, SameFunctionAsTheDirectPath) { expect_same_function<WinogradNet, DirectNet>(9); }
TEST(ModelGradcheck, FusedReluNeighboursMatchUnfusedLayers) {
  // Outputs, every parameter gradient, the input gradient and the running
  // statistics of the fused model equal those of the unfused one (same
  // parameters), in training mode over two steps, and in evaluation mode.
  auto fused = std::make_unique<FusedModel>(7);
  auto plain = std::make_unique<UnfusedModel>(7);
  std::copy(fused->parameters().begin(), fused->parameters().end(), plain->parameters().begin());
  constexpr int n = 3;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n * FusedModel::input_numel), r(n * FusedModel::output_numel);
  fused->set_input_gradient(true);
  plain->set_input_gradient(true);
  auto close = [](std::span<const float> a, std::span<const float> b, const char* what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    for (std::size_t i = 0; i < a.size(); ++i)
      EXPECT_NEAR(a[i], b[i], 1e-5 + 1e-5 * std::fabs(b[i])) << what << " [" << i << "]";
  };
  for (int step = 0; step < 2; ++step) {
    for (auto& v : x) v = normal(rng);
    for (auto& v : r) v = normal(rng);
    auto a = fused->forward(x, n);
    const std::vector<float> out(a.begin(), a.end());
    auto b = plain->forward(x, n);
    close(out, std::vector<float>(b.begin(), b.end()), "output");
    fused->backward(r);
    plain->backward(r);
    close(fused->gradients(), plain->gradients(), "parameter gradients");
    close(std::span<const float>(fused->input_gradient(), x.size()),
          std::span<const float>(plain->input_gradient(), x.size()), "input gradient");
    close(fused->buffer_values(), plain->buffer_values(), "running statistics");
    // Move the parameters (identically) so the second step sees other values.
    for (std::size_t i = 0; i < fused->parameters().size(); ++i) {
      fused->parameters()[i] -= 0.1f * fused->gradients()[i];
      plain->parameters()[i] -= 0.1f * plain->gradients()[i];
    }
  }
  fused->eval();
  plain->eval();
  auto a = fused->forward(x, n);
  const std::vector<float> out(a.begin(), a.end());
  auto b = plain->forward(x, n);
  close(out, std::vector<float>(b.begin(), b.end()), "eval output");
}
TEST(ModelGradcheck, ResidualAndConcatBranches) { gradcheck<Branchy>(2); }
TEST(ModelGradcheck, AsymmetricGeometryAndAdd) { gradcheck<Asymmetric>(3); }

TEST(ZeroPad2dKernel, MatchesNaivePaddingAndCropping) {
  // Each case against the definition y[r][c] = x[r - top][c - left] (0 outside),
  // on planes large enough for the parallel path (8 x 100 x 90 floats) and tiny
  // ones; the backward is the adjoint: sum(y * dy) == sum(x * dx).
  const sn::pad cases[] = {{1, 1, 1, 1}, {2, 0, 1, 3}, {-1, -2, 0, -3}, {3, -2, -1, 2}, {0, 0, 0, 0}};
  std::mt19937 rng(8);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const int h : {3, 100})
    for (const sn::pad& p : cases) {
      const int planes = 8, w = h == 3 ? 4 : 90, ho = h + p.top + p.bottom, wo = w + p.left + p.right;
      std::vector<float> x(static_cast<std::size_t>(planes) * h * w), y(static_cast<std::size_t>(planes) * ho * wo, 7.0f);
      for (auto& v : x) v = normal(rng);
      sn::cpu::zero_pad2d(planes, h, w, p, x.data(), y.data());
      int wrong = 0;
      for (int i = 0; i < planes; ++i)
        for (int r = 0; r < ho; ++r)
          for (int c = 0; c < wo; ++c) {
            const int ir = r - p.top, ic = c - p.left;
            const float want = ir >= 0 && ir < h && ic >= 0 && ic < w ? x[(static_cast<std::size_t>(i) * h + ir) * w + ic] : 0.0f;
            wrong += y[(static_cast<std::size_t>(i) * ho + r) * wo + c] != want;
          }
      EXPECT_EQ(wrong, 0) << "h=" << h << " pad " << p.left << "," << p.right << "," << p.top << "," << p.bottom;
      std::vector<float> dy(y.size()), dx(x.size(), 7.0f);
      for (auto& v : dy) v = normal(rng);
      sn::cpu::zero_pad2d_backward(planes, h, w, p, dy.data(), dx.data());
      double yd = 0, xd = 0;
      for (std::size_t k = 0; k < y.size(); ++k) yd += static_cast<double>(y[k]) * dy[k];
      for (std::size_t k = 0; k < x.size(); ++k) xd += static_cast<double>(x[k]) * dx[k];
      EXPECT_NEAR(yd, xd, 1e-6 * (1 + std::fabs(yd)));
    }
}
