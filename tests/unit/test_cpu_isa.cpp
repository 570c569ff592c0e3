// The compiled kernels' instruction-set variants (cpu/kernels.hpp): every
// variant this machine can run gives the same training step as the best one
// (within float tolerance: the variants' vector widths change summation
// orders), switching works, and a bad choice is refused with the choices.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <staticnet/cpu/kernels.hpp>
#include <staticnet/cpu/model.hpp>
#include <staticnet/train/optim.hpp>

#include "networks.hpp"

namespace sn = staticnet;
using sn::conv;
using sn::pool;

namespace {

// Every kernel the engine has: dense, strided, dilated, grouped, depthwise
// and 1x1 convs, BatchNorm (fused ReLUs both sides), dropout, max and average
// pooling, a residual add, a concat, global pooling, linear, log-softmax.
using AllKernels = sn::Network<sn::Input<3, 16, 16>,
    sn::Conv2d<conv{.out = 16, .kernel = 3, .padding = 1}>, sn::ReLU, sn::BatchNorm2d,
    sn::Conv2d<conv{.out = 16, .kernel = 3, .stride = 2, .padding = 1, .bias = false}>, sn::BatchNorm2d, sn::ReLU,
    sn::Residual<sn::DepthwiseConv2d<conv{.kernel = 3, .padding = 2, .dilation = 2}>,
                 sn::Conv2d<conv{.out = 16, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>,
    sn::Concat<sn::Conv2d<conv{.out = 8, .kernel = 3, .padding = 1, .groups = 2}>,
               sn::Sequential<sn::MaxPool2d<pool{.kernel = 3, .stride = 1, .padding = 1}>,
                              sn::Conv2d<conv{.out = 8, .kernel = 1}>>>,
    sn::Dropout<>, sn::AvgPool2d<pool{.kernel = 2}>, sn::GlobalAvgPool, sn::Flatten,
    sn::Linear<sn::linear{.out = 10}>, sn::LogSoftmax>;

struct step_result {
  std::vector<float> out, grads, params, eval_out;
  float loss = 0;
};

step_result run_step() {
  using M = sn::Model<AllKernels, 8>;
  auto model = std::make_unique<M>(7);
  constexpr int n = 6;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n * M::input_numel);
  for (auto& v : x) v = normal(rng);
  const std::vector<std::int32_t> y = {0, 3, 9, 1, 5, 5};
  // (SGD only: Adam turns the rounding noise of gradients that are exactly
  // zero in exact arithmetic, such as a conv bias right before a BatchNorm,
  // into steps of +-lr; its kernel is compared on its own below.)
  sn::SGD sgd(*model, {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 1e-4f});
  step_result r;
  model->train();
  model->set_dropout_seed(11);
  r.loss = model->forward_backward(x, y, n);
  const auto o = model->forward(x, n);  // a second training forward (BN statistics, new dropout mask)
  r.out.assign(o.begin(), o.end());
  const auto g = model->gradients();
  r.grads.assign(g.begin(), g.end());
  sgd.step(*model);
  sgd.step(*model);
  const auto p = model->parameters();
  r.params.assign(p.begin(), p.end());
  model->eval();
  const auto e = model->forward(x, n);
  r.eval_out.assign(e.begin(), e.end());
  return r;
}

// |a - b| <= atol + rtol * max|reference|, element by element.
void expect_close(const std::vector<float>& ref, const std::vector<float>& got, const std::string& what) {
  ASSERT_EQ(ref.size(), got.size()) << what;
  float scale = 0;
  for (float v : ref) scale = std::max(scale, std::abs(v));
  const float tol = 1e-5f + 1e-4f * scale;
  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < ref.size(); ++i)
    if (!(std::abs(ref[i] - got[i]) <= tol)) {
      if (bad++ == 0) first = i;
    }
  EXPECT_EQ(bad, 0u) << what << ": first at " << first << ": " << ref[first] << " vs " << got[first]
                     << " (tolerance " << tol << ")";
}

TEST(Isa, EveryUsableVariantGivesTheSameStep) {
  const std::vector<std::string> usable = sn::cpu::usable_isas();
  ASSERT_FALSE(usable.empty());
  sn::cpu::use_isa(usable.front());
  const step_result ref = run_step();
  EXPECT_TRUE(std::isfinite(ref.loss));
  for (const std::string& v : usable) {
    SCOPED_TRACE("variant " + v);
    sn::cpu::use_isa(v);
    EXPECT_EQ(std::string(sn::cpu::kernels().variant), v);
    const step_result r = run_step();
    EXPECT_NEAR(r.loss, ref.loss, 1e-5f * std::abs(ref.loss) + 1e-6f);
    expect_close(ref.out, r.out, "training outputs");
    expect_close(ref.grads, r.grads, "gradients");
    expect_close(ref.params, r.params, "parameters after two SGD steps");
    expect_close(ref.eval_out, r.eval_out, "eval outputs");
  }
  sn::cpu::use_isa("best");
  EXPECT_EQ(std::string(sn::cpu::kernels().variant), usable.front());
}

TEST(Isa, AdamStepIsTheSameInEveryVariant) {
  constexpr std::size_t size = 1003;  // a vector tail in every width
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> p0(size), g(size);
  for (auto& v : p0) v = normal(rng);
  for (auto& v : g) v = normal(rng);
  auto run = [&](const std::string& variant) {
    sn::cpu::use_isa(variant);
    std::vector<float> p = p0, m(size, 0.0f), v(size, 0.0f), vmax(size, 0.0f);
    for (int step = 1; step <= 3; ++step)
      sn::cpu::kernels().adam_step(size, p.data(), g.data(), m.data(), v.data(), vmax.data(),
                                   sn::cpu::make_adam_coefficients(sn::cpu::adamw_options{.amsgrad = true}, step,
                                                                   sn::cpu::weight_decay_kind::decoupled));
    return p;
  };
  const auto usable = sn::cpu::usable_isas();
  const auto ref = run(usable.front());
  for (const auto& variant : usable) expect_close(ref, run(variant), "AdamW parameters, variant " + variant);
  sn::cpu::use_isa("best");
}

TEST(Isa, CompiledVariantsAndBadChoices) {
  const auto compiled = sn::cpu::compiled_isas();
  const auto usable = sn::cpu::usable_isas();
  for (const auto& u : usable) EXPECT_NE(std::find(compiled.begin(), compiled.end(), u), compiled.end()) << u;
#if defined(STATICNET_COMPILED_KERNELS) && defined(__x86_64__)
  // The baseline always runs, and the library has a variant per instruction-set level.
  EXPECT_NE(std::find(usable.begin(), usable.end(), "sse2"), usable.end());
  EXPECT_GE(compiled.size(), 2u);
#endif
  try {
    sn::cpu::use_isa("no-such-isa");
    FAIL() << "use_isa accepted an unknown variant";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("no-such-isa"), std::string::npos) << msg;
    EXPECT_NE(msg.find(compiled.front()), std::string::npos) << msg;
  }
  EXPECT_EQ(std::string(sn::cpu::kernels().variant), usable.front());  // unchanged by the refusal
  EXPECT_NE(sn::cpu::isa_summary().find(sn::cpu::kernels().variant), std::string::npos);
}

}  // namespace
