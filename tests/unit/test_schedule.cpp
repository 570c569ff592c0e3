// Learning-rate schedules against torch.optim.lr_scheduler (PyTorch 1.13):
// the lr (and momentum / beta1) sequences of tests/golden/generate_schedules.py,
// OneCycleLR's over-step error, argument errors, and checkpoint / resume.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <staticnet/train/optim.hpp>
#include <staticnet/train/schedule.hpp>

#include "golden.hpp"

namespace sn = staticnet;

namespace {

using golden_map = std::map<std::string, golden::tensor>;

/// lr values are compared relatively (the golden files hold them as float).
void expect_rel(double got, float want, const std::string& what, double rel = 1e-6) {
  EXPECT_NEAR(got, static_cast<double>(want), rel * std::fabs(static_cast<double>(want)) + 1e-12) << what;
}

sn::SGD make_sgd() { return sn::SGD(3, {.lr = 0.1f, .momentum = 0.9f}); }
sn::Adam make_adam() { return sn::Adam(3, {.lr = 0.1}); }

double momentum_of(const sn::SGD& o) { return o.options.momentum; }
double momentum_of(const sn::Adam& o) { return o.options.beta1; }

/// Compares a schedule's sequence (index 0 after construction, then after
/// each step()) and the optimizer's options with the golden file.
template <class Opt, class Sched>
void check_sequence(const std::string& name, Opt& opt, Sched& sched, bool momentum) {
  SCOPED_TRACE(name);
  const golden_map g = golden::load(golden::path("sched_" + name));
  const auto& lr = g.at("lr").data;
  ASSERT_GT(lr.size(), 1u);
  for (std::size_t k = 0; k < lr.size(); ++k) {
    if (k > 0) sched.step();
    const std::string at = name + " value " + std::to_string(k);
    expect_rel(sched.get_last_lr(), lr[k], at + " lr");
    expect_rel(opt.options.lr, lr[k], at + " optimizer lr");
    if (momentum) {
      const float m = g.at("momentum").data[k];
      expect_rel(momentum_of(opt), m, at + " momentum");
      if constexpr (requires { sched.get_last_momentum(); })
        if (sched.options().cycle_momentum) expect_rel(sched.get_last_momentum(), m, at + " scheduled momentum");
    }
  }
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace

// ------------------------------------------------------------------ OneCycleLR --

TEST(OneCycleLR, GoldenDefault) {
  auto opt = make_sgd();
  sn::OneCycleLR sched(opt, {.max_lr = 0.1, .total_steps = 100});
  EXPECT_DOUBLE_EQ(sched.get_last_lr(), 0.1 / 25);  // the initial lr at construction
  EXPECT_EQ(sched.last_epoch(), 0);
  check_sequence("onecycle_default", opt, sched, true);
  EXPECT_EQ(sched.last_epoch(), 100);
}

TEST(OneCycleLR, GoldenThreePhase) {
  auto opt = make_sgd();
  sn::OneCycleLR sched(opt, {.max_lr = 0.1, .total_steps = 100, .three_phase = true});
  check_sequence("onecycle_three_phase", opt, sched, true);
}

TEST(OneCycleLR, GoldenLinear) {
  auto opt = make_sgd();
  sn::OneCycleLR sched(opt, {.max_lr = 0.05,
                             .total_steps = 50,
                             .pct_start = 0.25,
                             .anneal_strategy = sn::anneal_strategy::linear,
                             .base_momentum = 0.8,
                             .max_momentum = 0.9,
                             .div_factor = 10,
                             .final_div_factor = 100});
  check_sequence("onecycle_linear", opt, sched, true);
}

TEST(OneCycleLR, GoldenEpochsAdamBeta1) {
  auto opt = make_adam();
  sn::OneCycleLR sched(opt, {.max_lr = 0.01, .epochs = 3, .steps_per_epoch = 7});
  EXPECT_EQ(sched.total_steps(), 21);
  check_sequence("onecycle_epochs_adam", opt, sched, true);
  EXPECT_EQ(opt.options.beta2, 0.999);  // only betas[0] cycles
}

TEST(OneCycleLR, GoldenThreePhaseLinearNoMomentum) {
  auto opt = make_adam();
  sn::OneCycleLR sched(opt, {.max_lr = 0.02,
                             .total_steps = 30,
                             .pct_start = 0.4,
                             .anneal_strategy = sn::anneal_strategy::linear,
                             .cycle_momentum = false,
                             .three_phase = true});
  check_sequence("onecycle_three_phase_linear_adam", opt, sched, true);  // beta1 stays 0.9
}

TEST(OneCycleLR, OverStepError) {
  auto opt = make_sgd();
  sn::OneCycleLR sched(opt, {.max_lr = 0.1, .total_steps = 10});
  for (int i = 0; i < 10; ++i) sched.step();  // total_steps calls are allowed after construction
  const double lr = sched.get_last_lr();
  const float opt_lr = opt.options.lr;
  EXPECT_THROW(sched.step(), std::out_of_range);
  const std::string msg = message_of([&] { sched.step(); });
  EXPECT_NE(msg.find("Tried to step 12 times. The specified number of total steps is 10"), std::string::npos)
      << msg;
  // Nothing changed.
  EXPECT_EQ(sched.last_epoch(), 10);
  EXPECT_EQ(sched.get_last_lr(), lr);
  EXPECT_EQ(opt.options.lr, opt_lr);
}

TEST(OneCycleLR, ArgumentErrors) {
  auto opt = make_sgd();
  EXPECT_NE(message_of([&] { sn::OneCycleLR s(opt, {.max_lr = 0.1}); })
                .find("You must define either total_steps OR (epochs AND steps_per_epoch)"),
            std::string::npos);
  EXPECT_NE(message_of([&] { sn::OneCycleLR s(opt, {.max_lr = 0.1, .total_steps = -3}); })
                .find("Expected positive integer total_steps, but got -3"),
            std::string::npos);
  EXPECT_NE(message_of([&] { sn::OneCycleLR s(opt, {.max_lr = 0.1, .epochs = 2}); })
                .find("Expected positive integer steps_per_epoch, but got 0"),
            std::string::npos);
  EXPECT_THROW(sn::OneCycleLR(opt, {.max_lr = 0.1, .total_steps = 10, .pct_start = 1.5}), std::invalid_argument);

  struct no_momentum {
    struct {
      float lr = 0.1f;
    } options;
  } plain;
  EXPECT_NE(message_of([&] { sn::OneCycleLR s(plain, {.max_lr = 0.1, .total_steps = 10}); })
                .find("optimizer must support momentum with `cycle_momentum` option enabled"),
            std::string::npos);
  sn::OneCycleLR ok(plain, {.max_lr = 0.1, .total_steps = 10, .cycle_momentum = false});
  EXPECT_FLOAT_EQ(plain.options.lr, 0.004f);
}

// A schedule restored from a saved state continues exactly like the
// uninterrupted one, and restores the optimizer's lr and momentum.
TEST(OneCycleLR, StateRestore) {
  const sn::one_cycle_options o{.max_lr = 0.1, .total_steps = 40, .three_phase = true};
  auto ref_opt = make_sgd();
  sn::OneCycleLR ref(ref_opt, o);
  auto opt = make_sgd();
  sn::OneCycleLR first(opt, o);
  for (int i = 0; i < 17; ++i) {
    ref.step();
    first.step();
  }
  const auto saved = first.state();
  EXPECT_EQ(saved.last_epoch, 17);

  auto opt2 = make_sgd();
  sn::OneCycleLR resumed(opt2, o);
  resumed.load_state(saved);
  EXPECT_EQ(opt2.options.lr, ref_opt.options.lr);
  EXPECT_EQ(opt2.options.momentum, ref_opt.options.momentum);
  for (int i = 17; i < 40; ++i) {
    ref.step();
    resumed.step();
    EXPECT_EQ(resumed.get_last_lr(), ref.get_last_lr()) << i;
    EXPECT_EQ(resumed.get_last_momentum(), ref.get_last_momentum()) << i;
    EXPECT_EQ(opt2.options.lr, ref_opt.options.lr) << i;
    EXPECT_EQ(opt2.options.momentum, ref_opt.options.momentum) << i;
  }
  EXPECT_THROW(resumed.step(), std::out_of_range);
  EXPECT_THROW(resumed.load_state({.last_epoch = 41}), std::invalid_argument);
}

// ---------------------------------------------------------------------- StepLR --

TEST(StepLR, Golden) {
  auto opt = make_sgd();
  sn::StepLR sched(opt, {.step_size = 3, .gamma = 0.5});
  check_sequence("steplr", opt, sched, false);
  EXPECT_NEAR(sched.closed_form_lr(), sched.get_last_lr(), 1e-15);
}

// The chainable form multiplies whatever lr the optimizer has now (PyTorch's group['lr']).
TEST(StepLR, FollowsExternalLrChanges) {
  auto opt = make_sgd();
  sn::StepLR sched(opt, {.step_size = 2, .gamma = 0.5});
  sched.step();  // epoch 1
  EXPECT_FLOAT_EQ(opt.options.lr, 0.1f);
  opt.options.lr = 0.2f;
  sched.step();  // epoch 2: decay
  EXPECT_FLOAT_EQ(opt.options.lr, 0.1f);
  EXPECT_DOUBLE_EQ(sched.get_last_lr(), 0.5 * static_cast<double>(0.2f));
}

TEST(StepLR, StateRestore) {
  auto ref_opt = make_sgd();
  sn::StepLR ref(ref_opt, {.step_size = 3, .gamma = 0.5});
  for (int i = 0; i < 5; ++i) ref.step();
  const auto saved = ref.state();
  auto opt = make_sgd();
  sn::StepLR resumed(opt, {.step_size = 3, .gamma = 0.5});
  resumed.load_state(saved);
  EXPECT_EQ(resumed.last_epoch(), 5);
  for (int i = 0; i < 10; ++i) {
    ref.step();
    resumed.step();
    EXPECT_EQ(resumed.get_last_lr(), ref.get_last_lr());
    EXPECT_EQ(opt.options.lr, ref_opt.options.lr);
  }
}

// ------------------------------------------------------------ CosineAnnealingLR --

TEST(CosineAnnealingLR, Golden) {
  auto opt = make_sgd();
  sn::CosineAnnealingLR sched(opt, {.T_max = 10, .eta_min = 0.001});
  check_sequence("cosine", opt, sched, false);
}

TEST(CosineAnnealingLR, GoldenAdam) {
  auto opt = make_adam();
  sn::CosineAnnealingLR sched(opt, {.T_max = 7});
  check_sequence("cosine_adam", opt, sched, false);
}

TEST(CosineAnnealingLR, StateRestore) {
  const sn::cosine_annealing_options o{.T_max = 10, .eta_min = 0.001};
  auto ref_opt = make_adam();
  sn::CosineAnnealingLR ref(ref_opt, o);
  for (int i = 0; i < 13; ++i) ref.step();
  const auto saved = ref.state();
  auto opt = make_adam();
  sn::CosineAnnealingLR resumed(opt, o);
  resumed.step();  // progress that the restore discards
  resumed.load_state(saved);
  EXPECT_EQ(opt.options.lr, ref_opt.options.lr);
  for (int i = 0; i < 20; ++i) {
    ref.step();
    resumed.step();
    EXPECT_EQ(resumed.get_last_lr(), ref.get_last_lr()) << i;
    EXPECT_EQ(opt.options.lr, ref_opt.options.lr) << i;
  }
}

// ------------------------------------------------------------ ReduceLROnPlateau --

namespace {

void check_plateau(const std::string& name, const sn::plateau_options& o) {
  SCOPED_TRACE(name);
  const golden_map g = golden::load(golden::path("sched_" + name));
  const auto& metric = g.at("metric").data;
  auto opt = make_sgd();
  sn::ReduceLROnPlateau sched(opt, o);
  EXPECT_DOUBLE_EQ(sched.get_last_lr(), static_cast<double>(0.1f));
  for (std::size_t k = 0; k < metric.size(); ++k) {
    // The golden metrics are floats; PyTorch saw the same values as doubles.
    sched.step(static_cast<double>(metric[k]));
    const std::string at = name + " step " + std::to_string(k);
    expect_rel(sched.get_last_lr(), g.at("lr").data[k], at + " lr");
    expect_rel(opt.options.lr, g.at("lr").data[k], at + " optimizer lr");
    expect_rel(sched.best(), g.at("best").data[k], at + " best");
    EXPECT_EQ(sched.num_bad_epochs(), static_cast<std::int64_t>(g.at("num_bad_epochs").data[k])) << at;
    EXPECT_EQ(sched.cooldown_counter(), static_cast<std::int64_t>(g.at("cooldown_counter").data[k])) << at;
  }
}

}  // namespace

TEST(ReduceLROnPlateau, GoldenMinRelCooldown) {
  check_plateau("plateau_min", {.mode = sn::plateau_mode::min, .factor = 0.5, .patience = 2, .threshold = 1e-2,
                                .cooldown = 2});
}

TEST(ReduceLROnPlateau, GoldenMaxAbsMinLr) {
  check_plateau("plateau_max_abs", {.mode = sn::plateau_mode::max,
                                    .factor = 0.3,
                                    .patience = 1,
                                    .threshold = 0.05,
                                    .threshold_mode = sn::plateau_threshold::abs,
                                    .cooldown = 1,
                                    .min_lr = 0.002});
}

TEST(ReduceLROnPlateau, StateRestore) {
  const golden_map g = golden::load(golden::path("sched_plateau_min"));
  const auto& metric = g.at("metric").data;
  const sn::plateau_options o{.factor = 0.5, .patience = 2, .threshold = 1e-2, .cooldown = 2};
  auto ref_opt = make_adam();
  sn::ReduceLROnPlateau ref(ref_opt, o);
  auto opt = make_adam();
  sn::ReduceLROnPlateau first(opt, o);
  const std::size_t cut = 14;  // inside a cooldown, with a best and bad epochs to carry over
  for (std::size_t k = 0; k < cut; ++k) {
    ref.step(metric[k]);
    first.step(metric[k]);
  }
  const auto saved = first.state();
  EXPECT_EQ(saved.last_epoch, static_cast<std::int64_t>(cut));
  EXPECT_GT(saved.cooldown_counter, 0);
  auto opt2 = make_adam();
  sn::ReduceLROnPlateau resumed(opt2, o);
  resumed.load_state(saved);
  EXPECT_EQ(opt2.options.lr, ref_opt.options.lr);
  for (std::size_t k = cut; k < metric.size(); ++k) {
    ref.step(metric[k]);
    resumed.step(metric[k]);
    EXPECT_EQ(resumed.get_last_lr(), ref.get_last_lr()) << k;
    EXPECT_EQ(resumed.best(), ref.best()) << k;
    EXPECT_EQ(resumed.num_bad_epochs(), ref.num_bad_epochs()) << k;
    EXPECT_EQ(resumed.cooldown_counter(), ref.cooldown_counter()) << k;
    EXPECT_EQ(opt2.options.lr, ref_opt.options.lr) << k;
  }
}

TEST(ReduceLROnPlateau, Errors) {
  auto opt = make_sgd();
  EXPECT_NE(message_of([&] { sn::ReduceLROnPlateau s(opt, {.factor = 1.0}); }).find("Factor should be < 1.0."),
            std::string::npos);
}
