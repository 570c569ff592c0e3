// sn::Adam / sn::AdamW against torch.optim.Adam / AdamW (PyTorch 1.13):
// golden parameter trajectories (tests/golden/generate_schedules.py),
// checkpoint / resume of the optimizer state, the parallel + vector path,
// and the model overloads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <staticnet/cpu/adam.hpp>
#include <staticnet/cpu/model.hpp>
#include <staticnet/train/optim.hpp>
#include <staticnet/train/schedule.hpp>
#include <staticnet/staticnet.hpp>

#include "golden.hpp"

namespace sn = staticnet;

namespace {

using golden_map = std::map<std::string, golden::tensor>;

void expect_params(const std::vector<float>& want, std::span<const float> got, const std::string& what,
                   float tol = 1e-5f) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * std::max(1.0f, std::fabs(want[i]))) << what << " [" << i << "]";
}

int count_steps(const golden_map& g) {
  int n = 0;
  while (g.count("step" + std::to_string(n))) ++n;
  return n;
}

/// Runs the golden case through `opt` and compares every step and the final state.
template <class Opt>
void check_case(const std::string& name, Opt& opt) {
  SCOPED_TRACE(name);
  const golden_map g = golden::load(golden::path(name));
  std::vector<float> p = g.at("param").data;
  ASSERT_EQ(p.size(), opt.size());
  const int steps = count_steps(g);
  ASSERT_GT(steps, 0);
  for (int s = 0; s < steps; ++s) {
    opt.step(p, g.at("grad" + std::to_string(s)).data);
    expect_params(g.at("step" + std::to_string(s)).data, p, name + " after step " + std::to_string(s));
  }
  EXPECT_EQ(opt.step_count(), steps);
  expect_params(g.at("exp_avg").data, opt.exp_avg(), name + " exp_avg");
  expect_params(g.at("exp_avg_sq").data, opt.exp_avg_sq(), name + " exp_avg_sq");
  if (g.count("max_exp_avg_sq"))
    expect_params(g.at("max_exp_avg_sq").data, opt.max_exp_avg_sq(), name + " max_exp_avg_sq");
  else
    EXPECT_TRUE(opt.max_exp_avg_sq().empty());
}

}  // namespace

TEST(Adam, DefaultsAreTorchs) {
  const sn::cpu::adam_options a;
  EXPECT_EQ(a.lr, 1e-3);
  EXPECT_EQ(a.beta1, 0.9);
  EXPECT_EQ(a.beta2, 0.999);
  EXPECT_EQ(a.eps, 1e-8);
  EXPECT_EQ(a.weight_decay, 0.0);
  EXPECT_FALSE(a.amsgrad);
  const sn::cpu::adamw_options w;
  EXPECT_EQ(w.lr, 1e-3);
  EXPECT_EQ(w.weight_decay, 1e-2);
  EXPECT_FALSE(w.amsgrad);
}

TEST(Adam, GoldenDefault) {
  sn::Adam opt(37);
  check_case("adam_default", opt);
}

TEST(Adam, GoldenWeightDecayAmsgrad) {
  sn::Adam opt(37, {.lr = 0.05, .beta1 = 0.8, .beta2 = 0.99, .weight_decay = 0.1, .amsgrad = true});
  check_case("adam_wd_amsgrad", opt);
}

TEST(Adam, GoldenMaximize) {
  sn::Adam opt(37, {.lr = 0.01, .eps = 1e-3, .maximize = true});
  check_case("adam_maximize", opt);
}

TEST(AdamW, GoldenDefault) {
  sn::AdamW opt(37);
  check_case("adam_w_default", opt);
}

TEST(AdamW, GoldenAmsgrad) {
  sn::AdamW opt(37, {.lr = 0.05, .beta1 = 0.5, .beta2 = 0.9, .weight_decay = 0.3, .amsgrad = true});
  check_case("adam_w_amsgrad", opt);
}

// AdamW driven by OneCycleLR (lr and beta1 change every step).
TEST(AdamW, GoldenOneCycle) {
  const golden_map g = golden::load(golden::path("adam_w_onecycle"));
  std::vector<float> p = g.at("param").data;
  sn::AdamW opt(p.size(), {.lr = 0.05});
  sn::OneCycleLR sched(opt, {.max_lr = 0.05, .total_steps = 8});
  const auto& lr = g.at("lr").data;
  const auto& beta1 = g.at("momentum").data;
  const int steps = count_steps(g);
  ASSERT_EQ(steps, 8);
  for (int s = 0; s < steps; ++s) {
    EXPECT_NEAR(opt.options.lr, lr[s], 1e-6 * std::fabs(lr[s])) << "lr at step " << s;
    EXPECT_NEAR(opt.options.beta1, beta1[s], 1e-6 * std::fabs(beta1[s])) << "beta1 at step " << s;
    opt.step(p, g.at("grad" + std::to_string(s)).data);
    sched.step();
    expect_params(g.at("step" + std::to_string(s)).data, p, "after step " + std::to_string(s));
  }
  expect_params(g.at("exp_avg").data, opt.exp_avg(), "exp_avg");
  expect_params(g.at("exp_avg_sq").data, opt.exp_avg_sq(), "exp_avg_sq");
}

// Copying the state (exp_avg, exp_avg_sq, max_exp_avg_sq, step count) into a
// fresh optimizer continues the run bit for bit.
TEST(Adam, CheckpointResume) {
  const golden_map g = golden::load(golden::path("adam_wd_amsgrad"));
  const sn::cpu::adam_options o{.lr = 0.05, .beta1 = 0.8, .beta2 = 0.99, .weight_decay = 0.1, .amsgrad = true};
  const int steps = count_steps(g);
  auto grad = [&](int s) -> const std::vector<float>& { return g.at("grad" + std::to_string(s)).data; };

  std::vector<float> ref = g.at("param").data;
  sn::Adam full(ref.size(), o);
  for (int s = 0; s < steps; ++s) full.step(ref, grad(s));

  std::vector<float> p = g.at("param").data;
  sn::Adam first(p.size(), o);
  for (int s = 0; s < 3; ++s) first.step(p, grad(s));
  // "Save" the state, then restore it into a new optimizer.
  const std::vector<float> m(first.exp_avg().begin(), first.exp_avg().end());
  const std::vector<float> v(first.exp_avg_sq().begin(), first.exp_avg_sq().end());
  const std::vector<float> vmax(first.max_exp_avg_sq().begin(), first.max_exp_avg_sq().end());
  const std::int64_t t = first.step_count();
  EXPECT_EQ(t, 3);

  sn::Adam resumed(p.size(), o);
  std::copy(m.begin(), m.end(), resumed.exp_avg().begin());
  std::copy(v.begin(), v.end(), resumed.exp_avg_sq().begin());
  std::copy(vmax.begin(), vmax.end(), resumed.max_exp_avg_sq().begin());
  resumed.set_step_count(t);
  for (int s = 3; s < steps; ++s) resumed.step(p, grad(s));
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i], ref[i]) << i;
  EXPECT_EQ(resumed.step_count(), steps);
}

// A large array takes the parallel, vectorised path; it must agree with the
// same update applied one element at a time (the scalar path).
TEST(Adam, LargeArrayMatchesScalarPath) {
  constexpr std::size_t n = 300'007;
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  std::vector<float> p0(n), grads(3 * n);
  for (auto& x : p0) x = dist(rng);
  for (auto& x : grads) x = dist(rng);
  const sn::cpu::adamw_options o{.lr = 0.01, .weight_decay = 0.05, .amsgrad = true};

  std::vector<float> p = p0;
  sn::AdamW big(n, o);
  for (int s = 0; s < 3; ++s) big.step(p, std::span<const float>(grads).subspan(static_cast<std::size_t>(s) * n, n));

  std::vector<float> q = p0, m(n), v(n), vmax(n);
  for (int s = 0; s < 3; ++s)
    for (std::size_t i = 0; i < n; ++i)
      sn::cpu::adam_step(1, &q[i], &grads[static_cast<std::size_t>(s) * n + i], &m[i], &v[i], &vmax[i], o, s + 1,
                         sn::cpu::weight_decay_kind::decoupled);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (!(std::fabs(p[i] - q[i]) <= 1e-6f * std::max(1.0f, std::fabs(q[i])))) ++bad;
  EXPECT_EQ(bad, 0u);
  for (std::size_t i = 0; i < n; i += 9973) {
    EXPECT_NEAR(big.exp_avg()[i], m[i], 1e-6f);
    EXPECT_NEAR(big.exp_avg_sq()[i], v[i], 1e-6f);
    EXPECT_NEAR(big.max_exp_avg_sq()[i], vmax[i], 1e-6f);
  }
}

using TinyNet = sn::Network<sn::Input<1, 2, 2>, sn::Flatten, sn::Linear<sn::linear{.out = 3}>>;

TEST(Adam, ModelOverloads) {
  sn::Model<TinyNet, 2> model(5);
  sn::Model<TinyNet, 2> twin(5);
  sn::Adam opt(model, {.lr = 0.01, .weight_decay = 0.01});
  sn::AdamW optw(twin, {.lr = 0.01});
  ASSERT_EQ(opt.size(), model.parameters().size());
  std::vector<float> p(model.parameters().begin(), model.parameters().end());
  std::vector<float> pw = p;
  sn::Adam ref(p.size(), {.lr = 0.01, .weight_decay = 0.01});
  sn::AdamW refw(p.size(), {.lr = 0.01});
  for (int s = 0; s < 4; ++s) {
    for (std::size_t i = 0; i < p.size(); ++i)
      model.gradients()[i] = twin.gradients()[i] = 0.1f * static_cast<float>(i) - 0.5f + 0.3f * static_cast<float>(s);
    std::vector<float> g(model.gradients().begin(), model.gradients().end());
    opt.step(model);
    optw.step(twin);
    ref.step(p, g);
    refw.step(pw, g);
  }
  for (std::size_t i = 0; i < p.size(); ++i) {
    EXPECT_EQ(model.parameters()[i], p[i]);
    EXPECT_EQ(twin.parameters()[i], pw[i]);
  }
}

TEST(Adam, Errors) {
  std::vector<float> p(5), g(4);
  sn::Adam opt(5);
  EXPECT_THROW(opt.step(p, g), std::invalid_argument);
  EXPECT_THROW(sn::Adam(5, {.lr = -1.0}), std::invalid_argument);
  EXPECT_THROW(sn::Adam(5, {.eps = -1.0}), std::invalid_argument);
  EXPECT_THROW(sn::AdamW(5, {.beta1 = 1.0}), std::invalid_argument);
  EXPECT_THROW(sn::AdamW(5, {.beta2 = -0.1}), std::invalid_argument);
  EXPECT_THROW(sn::AdamW(5, {.weight_decay = -0.1}), std::invalid_argument);
  try {
    sn::AdamW(5, {.beta1 = 1.5});
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("AdamW: invalid beta parameter at index 0"), std::string::npos) << e.what();
  }
  // The AMSGrad state exists only when asked for at construction (PyTorch
  // creates its state on the first step and fails the same way).
  g.resize(5);
  opt.options.amsgrad = true;
  EXPECT_THROW(opt.step(p, g), std::logic_error);
  EXPECT_EQ(opt.step_count(), 0);
  EXPECT_THROW(opt.set_step_count(-1), std::invalid_argument);
}
