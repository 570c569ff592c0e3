// Parity of the CPU engine with PyTorch 1.13: forward outputs, input and
// parameter gradients and BatchNorm running statistics of every layer type,
// and the S7-dilated reference network (loss, gradients, one SGD step), against
// the golden files of tests/golden/generate.py.
//
// Tolerances: per layer, |a - b| <= 1e-4 + 1e-4 * |b|; for the whole network
// (14 convs, 9 BatchNorms deep), |a - b| <= 2e-3 * max|b| of the tensor.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <cmath>
#include <cstdint>
#include <string>

#include <staticnet/cpu/model.hpp>
#include <staticnet/train/optim.hpp>
#include <staticnet/staticnet.hpp>

#include "golden.hpp"
#include "networks.hpp"

namespace sn = staticnet;
using sn::conv;
using sn::pool;

namespace {

void expect_close(const std::vector<float>& want, const float* got, const std::string& what, float atol,
                  float rtol) {
  int bad = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const float tol = atol + rtol * std::fabs(want[i]);
    if (!(std::fabs(want[i] - got[i]) <= tol)) {
      if (++bad <= 5) ADD_FAILURE() << what << "[" << i << "]: staticnet " << got[i] << ", PyTorch " << want[i];
    }
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << want.size() << " values differ";
}

float max_abs(const std::vector<float>& v) {
  float m = 0;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

template <class M>
void load_parameters(M& model, const std::map<std::string, golden::tensor>& g) {
  for (auto& t : model.named_tensors()) {
    auto it = g.find(t.name);
    ASSERT_NE(it, g.end()) << "golden file lacks " << t.name;
    ASSERT_EQ(it->second.data.size(), t.data.size()) << t.name;
    std::copy(it->second.data.begin(), it->second.data.end(), t.data.begin());
  }
}

template <class Net>
void check_layer_case(const std::string& name, bool train = true) {
  SCOPED_TRACE(name);
  const auto g = golden::load(golden::path(name));
  const auto& x = g.at("input");
  const int n = x.shape[0];
  sn::Model<Net, 8> model;
  load_parameters(model, g);
  model.train(train);
  model.set_input_gradient(true);
  auto out = model.forward(x.data, n);
  expect_close(g.at("output").data, out.data(), name + " output", 1e-4f, 1e-4f);
  if (!train) return;
  model.backward(g.at("dout").data);
  expect_close(g.at("grad.input").data, model.input_gradient(), name + " input gradient", 1e-4f, 1e-4f);
  for (auto& t : model.named_tensors()) {
    if (t.trainable)
      expect_close(g.at("grad." + t.name).data, t.grad.data(), name + " gradient of " + t.name, 1e-4f, 1e-4f);
    else
      expect_close(g.at("after." + t.name).data, t.data.data(), name + " " + t.name + " after the step", 1e-5f,
                   1e-5f);
  }
}

template <int C, int H, int W, class... Layers>
using Net = sn::Network<sn::Input<C, H, W>, Layers...>;

}  // namespace

TEST(ModelParity, Convolutions) {
  check_layer_case<Net<3, 7, 7, sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>>>("conv_basic");
  check_layer_case<Net<3, 7, 7, sn::Conv2d<conv{.out = 5, .kernel = 3, .stride = 2, .padding = 1, .bias = false}>>>(
      "conv_stride_pad");
  check_layer_case<Net<4, 8, 8, sn::Conv2d<conv{.out = 6, .kernel = 3, .padding = 2, .dilation = 2}>>>("conv_dilated");
  check_layer_case<Net<4, 6, 6, sn::Conv2d<conv{.out = 6, .kernel = 3, .padding = 1, .groups = 2}>>>("conv_groups");
  check_layer_case<Net<4, 8, 8, sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 1, .bias = false}>>>(
      "conv_depthwise");
  check_layer_case<Net<4, 8, 8, sn::DepthwiseConv2d<conv{.out = 8, .kernel = 3, .stride = 2, .padding = 1}>>>(
      "conv_depthwise_mult");
  check_layer_case<Net<4, 8, 8, sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 2, .dilation = 2, .bias = false}>>>(
      "conv_depthwise_dilated");
  check_layer_case<Net<4, 5, 5, sn::Conv2d<conv{.out = 6, .kernel = 1}>>>("conv_pointwise");
  check_layer_case<Net<3, 7, 6,
                       sn::Conv2d<conv{.out = 4, .kernel_h = 3, .kernel_w = 1, .stride_h = 2, .stride_w = 1,
                                       .padding_h = 1, .padding_w = 0}>>>("conv_asym");
}

TEST(ModelParity, BatchNorm) {
  check_layer_case<Net<3, 5, 5, sn::BatchNorm2d>>("batchnorm");
  check_layer_case<Net<3, 5, 5, sn::BatchNorm2d>>("batchnorm_eval", false);
}

TEST(ModelParity, ActivationsAndPooling) {
  check_layer_case<Net<3, 4, 4, sn::ReLU>>("relu");
  check_layer_case<Net<3, 6, 6, sn::MaxPool2d<>>>("maxpool");
  check_layer_case<Net<3, 7, 7, sn::MaxPool2d<pool{.kernel = 3, .stride = 2, .padding = 1}>>>("maxpool_pad");
  check_layer_case<Net<3, 8, 8, sn::MaxPool2d<pool{.kernel = 3, .stride = 2, .ceil_mode = true}>>>("maxpool_ceil");
  check_layer_case<Net<3, 6, 6, sn::AvgPool2d<>>>("avgpool");
  check_layer_case<Net<3, 7, 7, sn::AvgPool2d<pool{.kernel = 3, .stride = 2, .padding = 1, .count_include_pad = false}>>>(
      "avgpool_pad_exclude");
  check_layer_case<Net<3, 8, 8, sn::AvgPool2d<pool{.kernel = 3, .stride = 2, .ceil_mode = true}>>>("avgpool_ceil");
  check_layer_case<Net<3, 5, 4, sn::GlobalAvgPool>>("gap");
  check_layer_case<Net<3, 2, 2, sn::Flatten, sn::Linear<sn::linear{.out = 5}>>>("linear");
  check_layer_case<Net<7, 1, 1, sn::Flatten, sn::LogSoftmax>>("log_softmax");
}

TEST(ModelParity, Branches) {
  check_layer_case<Net<4, 6, 6, sn::Residual<sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>, sn::BatchNorm2d,
                                             sn::ReLU>>>("residual");
  check_layer_case<Net<4, 6, 6,
                       sn::Concat<sn::Conv2d<conv{.out = 3, .kernel = 1}>,
                                  sn::Sequential<sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 2, .dilation = 2}>,
                                                 sn::Conv2d<conv{.out = 5, .kernel = 1}>>>>>("concat");
}

TEST(ModelParity, S7DilatedTrainingStep) {
  using S7 = assignments::S7DilatedReference;
  const auto g = golden::load(golden::path("s7_dilated"));
  const auto& x = g.at("input");
  const int n = x.shape[0];
  std::vector<std::int32_t> target;
  for (float t : g.at("target").data) target.push_back(static_cast<std::int32_t>(t));
  auto model = std::make_unique<sn::Model<S7, 8>>();
  load_parameters(*model, g);
  model->train();
  const float loss = model->forward_backward(x.data, target, n);
  const auto& out = g.at("output").data;
  expect_close(out, model->output(), "S7 output", 2e-3f * max_abs(out), 0);
  EXPECT_NEAR(loss, g.at("loss").data[0], 1e-4f);
  for (auto& t : model->named_tensors()) {
    const auto& want = t.trainable ? g.at("grad." + t.name).data : g.at("after." + t.name).data;
    expect_close(want, t.trainable ? t.grad.data() : t.data.data(), "S7 " + t.name, 2e-3f * max_abs(want), 1e-5f);
  }
  sn::SGD opt(*model, {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f});
  opt.step(*model);
  for (auto& t : model->named_tensors())
    if (t.trainable) {
      const auto& want = g.at("step." + t.name).data;
      expect_close(want, t.data.data(), "S7 after SGD " + t.name, 2e-3f * max_abs(g.at("grad." + t.name).data) * 0.05f + 1e-6f,
                   1e-5f);
    }
}

TEST(ModelParity, ConvBatchNormFoldingKeepsEvalOutputs) {
  // S7-dilated's BatchNorms all follow a ReLU: nothing to fold. S9's units are
  // depthwise -> pointwise -> BN -> ReLU: 12 + 0 pairs; after a training step
  // (non-trivial running statistics) folded eval outputs equal unfolded ones.
  static_assert(sn::Model<assignments::S7DilatedReference, 2>::foldable_pairs == 0);
  using S9 = assignments::S9Reference;
  static_assert(sn::Model<S9, 2>::foldable_pairs == 12);
  // Every BatchNorm of both takes its plane statistics from the conv before it
  // (so the parity checks above and below run through that path).
  constexpr auto served = [](const auto& t) { return std::ranges::count_if(t, [](int i) { return i >= 0; }); };
  static_assert(served(sn::Model<assignments::S7DilatedReference, 2>::stats_for_bn) == 7);
  static_assert(served(sn::Model<S9, 2>::stats_for_bn) == 12);
  auto model = std::make_unique<sn::Model<S9, 2>>(3);
  std::vector<float> x(2 * 3 * 32 * 32);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.011f * static_cast<float>(i * i % 977));
  std::vector<std::int32_t> target{3, 7};
  model->forward_backward(x, target, 2);  // updates the running statistics
  model->eval();
  auto plain = model->forward(x, 2);
  const std::vector<float> want(plain.begin(), plain.end());
  EXPECT_EQ(model->fold_batchnorm(), 12);
  auto folded = model->forward(x, 2);
  expect_close(want, folded.data(), "folded S9 eval output", 1e-4f, 1e-3f);

  using ConvBn = sn::Network<sn::Input<3, 6, 6>, sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>, sn::BatchNorm2d,
                             sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 1, .bias = false}>, sn::BatchNorm2d,
                             sn::ReLU, sn::GlobalAvgPool, sn::Flatten>;
  static_assert(sn::Model<ConvBn, 4>::foldable_pairs == 2);
  sn::Model<ConvBn, 4> m(5);
  std::vector<float> xin(4 * 108);
  for (std::size_t i = 0; i < xin.size(); ++i) xin[i] = std::sin(0.37f * static_cast<float>(i));
  std::vector<float> dout(4 * 4, 0.1f);
  m.forward(xin, 4);
  m.backward(dout);  // running statistics move away from 0 / 1
  for (auto& t : m.named_tensors())
    if (t.trainable)
      for (std::size_t k = 0; k < t.data.size(); ++k) t.data[k] += 0.05f * static_cast<float>(k % 5);
  m.eval();
  auto a = m.forward(xin, 4);
  const std::vector<float> ref(a.begin(), a.end());
  EXPECT_EQ(m.fold_batchnorm(), 2);
  auto b = m.forward(xin, 4);
  expect_close(ref, b.data(), "folded conv+BN eval output", 1e-5f, 1e-4f);
  m.train();  // training ignores the folding
  m.forward(xin, 4);
  m.unfold_batchnorm();
  EXPECT_FALSE(m.batchnorm_folded());
}
