// staticnet/train/schedule.hpp: learning-rate schedules with PyTorch 1.13's
// torch.optim.lr_scheduler semantics, driving an optimizer's mutable options.
//
//   sn::SGD opt(model, {.lr = 0.1f, .momentum = 0.9f});
//   sn::OneCycleLR sched(opt, {.max_lr = 0.1, .epochs = 24, .steps_per_epoch = 98});
//   for (each batch) { model.forward_backward(...); opt.step(model); sched.step(); }
//
//   sn::StepLR           (opt, {.step_size = 30, .gamma = 0.1})        step() once per epoch
//   sn::CosineAnnealingLR(opt, {.T_max = 100, .eta_min = 0})           step() once per epoch
//   sn::ReduceLROnPlateau(opt, {.mode = sn::plateau_mode::min, ...})   step(metric) once per epoch
//
// Any optimizer with a mutable `options.lr` works (sn::SGD, sn::Adam,
// sn::AdamW); OneCycleLR's momentum cycling sets `options.momentum` (SGD) or
// `options.beta1` (Adam, AdamW; PyTorch's betas[0]).
//
// Like PyTorch, the schedules compute in double. Each keeps the learning
// rate it last wrote as a double (PyTorch's param_group['lr'] is a Python
// float) and writes it, rounded, into the optimizer; when the optimizer's
// value no longer matches (someone else changed it), the optimizer's value
// is taken as the current learning rate, as PyTorch would.
//
// Constructing a schedule performs PyTorch's initial step (last_epoch 0) and
// so sets the optimizer's learning rate. state() / load_state() save and
// restore everything a resumed run needs, including the optimizer's lr (and
// momentum), so that a restored schedule continues identically.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <utility>

namespace staticnet {

/// An optimizer a schedule can drive: a mutable options.lr.
template <class O>
concept lr_optimizer = requires(O& o) {
  o.options.lr = static_cast<decltype(o.options.lr)>(0.5);
  static_cast<double>(o.options.lr);
};

namespace schedule_detail {

template <class O>
concept has_momentum = requires(O& o) { o.options.momentum = static_cast<decltype(o.options.momentum)>(0.5); };
template <class O>
concept has_beta1 = requires(O& o) { o.options.beta1 = static_cast<decltype(o.options.beta1)>(0.5); };

/// The param group's lr as PyTorch sees it (a double), mirrored into the optimizer.
template <lr_optimizer O>
class lr_slot {
 public:
  using value_type = decltype(std::declval<O&>().options.lr);
  explicit lr_slot(O& opt) noexcept : opt_(&opt), lr_(static_cast<double>(opt.options.lr)) {}
  [[nodiscard]] double get() const noexcept {
    return static_cast<value_type>(lr_) == opt_->options.lr ? lr_ : static_cast<double>(opt_->options.lr);
  }
  void set(double lr) noexcept {
    lr_ = lr;
    opt_->options.lr = static_cast<value_type>(lr);
  }
  [[nodiscard]] O& optimizer() const noexcept { return *opt_; }

 private:
  O* opt_;
  double lr_;
};

[[noreturn]] inline void fail(const char* who, const std::string& what) {
  throw std::invalid_argument(std::string("staticnet: ") + who + ": " + what);
}

}  // namespace schedule_detail

// ------------------------------------------------------------------ OneCycleLR --

enum class anneal_strategy { cos, linear };

/// torch.optim.lr_scheduler.OneCycleLR's arguments. Give total_steps, or
/// epochs and steps_per_epoch (total_steps wins when both are given).
struct one_cycle_options {
  double max_lr = 0;
  std::int64_t total_steps = 0;
  std::int64_t epochs = 0, steps_per_epoch = 0;
  double pct_start = 0.3;
  staticnet::anneal_strategy anneal_strategy = staticnet::anneal_strategy::cos;
  bool cycle_momentum = true;
  double base_momentum = 0.85, max_momentum = 0.95;
  double div_factor = 25, final_div_factor = 1e4;
  bool three_phase = false;
};

/// The 1cycle policy, stepped once per batch (torch.optim.lr_scheduler.OneCycleLR):
/// warm up from max_lr / div_factor to max_lr over pct_start of the steps,
/// then anneal to max_lr / div_factor / final_div_factor (three_phase: back
/// to the initial lr first), cycling momentum inversely between
/// max_momentum and base_momentum. Construction sets lr to
/// max_lr / div_factor; total_steps step() calls are allowed after it.
template <lr_optimizer O>
class OneCycleLR {
 public:
  /// Everything a resumed run needs (PyTorch's state_dict: last_epoch,
  /// _step_count, _last_lr; plus the momentum it last wrote).
  struct state_type {
    std::int64_t last_epoch = -1;
    std::int64_t step_count = 0;
    double last_lr = 0;
    double last_momentum = 0;
  };

  OneCycleLR(O& optimizer, one_cycle_options options) : opt_(&optimizer), o_(options) {
    constexpr const char* who = "OneCycleLR";
    if (o_.total_steps != 0) {
      if (o_.total_steps < 0)
        schedule_detail::fail(who, "Expected positive integer total_steps, but got " + std::to_string(o_.total_steps));
      total_steps_ = o_.total_steps;
    } else {
      if (o_.epochs == 0 && o_.steps_per_epoch == 0)
        schedule_detail::fail(who, "You must define either total_steps OR (epochs AND steps_per_epoch)");
      if (o_.epochs <= 0)
        schedule_detail::fail(who, "Expected positive integer epochs, but got " + std::to_string(o_.epochs));
      if (o_.steps_per_epoch <= 0)
        schedule_detail::fail(who, "Expected positive integer steps_per_epoch, but got " +
                                       std::to_string(o_.steps_per_epoch));
      total_steps_ = o_.epochs * o_.steps_per_epoch;
    }
    const double total = static_cast<double>(total_steps_);
    if (o_.three_phase) {
      phases_ = 3;
      phase_[0] = {o_.pct_start * total - 1, initial, peak, top, bottom};
      phase_[1] = {2 * o_.pct_start * total - 2, peak, initial, bottom, top};
      phase_[2] = {total - 1, initial, floor, top, top};
    } else {
      phases_ = 2;
      phase_[0] = {o_.pct_start * total - 1, initial, peak, top, bottom};
      phase_[1] = {total - 1, peak, floor, bottom, top};
    }
    if (!(o_.pct_start >= 0 && o_.pct_start <= 1))
      schedule_detail::fail(who, "Expected float between 0 and 1 pct_start, but got " + std::to_string(o_.pct_start));
    initial_lr_ = o_.max_lr / o_.div_factor;
    min_lr_ = initial_lr_ / o_.final_div_factor;
    if (o_.cycle_momentum) {
      if constexpr (!schedule_detail::has_momentum<O> && !schedule_detail::has_beta1<O>)
        schedule_detail::fail(who, "optimizer must support momentum with `cycle_momentum` option enabled");
      set_momentum(o_.max_momentum);
    }
    step();  // PyTorch's _initial_step
  }

  /// Advances one batch. Throws std::out_of_range (PyTorch: ValueError) when
  /// stepped more than total_steps times after construction; the schedule
  /// is then unchanged.
  void step() {
    const std::int64_t step_num = last_epoch_ + 1;
    if (step_num > total_steps_)
      throw std::out_of_range("staticnet: OneCycleLR: Tried to step " + std::to_string(step_num + 1) +
                              " times. The specified number of total steps is " + std::to_string(total_steps_));
    double lr = 0, momentum = 0;
    double start_step = 0;
    for (int i = 0; i < phases_; ++i) {
      const phase& ph = phase_[i];
      if (static_cast<double>(step_num) <= ph.end_step || i == phases_ - 1) {
        if (ph.end_step - start_step == 0)
          schedule_detail::fail("OneCycleLR", "float division by zero (a phase of zero steps)");
        const double pct = (static_cast<double>(step_num) - start_step) / (ph.end_step - start_step);
        lr = anneal(value(ph.start_lr), value(ph.end_lr), pct);
        if (o_.cycle_momentum) momentum = anneal(value(ph.start_momentum), value(ph.end_momentum), pct);
        break;
      }
      start_step = ph.end_step;
    }
    ++step_count_;
    last_epoch_ = step_num;
    if (o_.cycle_momentum) set_momentum(momentum);
    lr_.set(lr);
    last_lr_ = lr;
  }

  [[nodiscard]] double get_last_lr() const noexcept { return last_lr_; }
  /// The momentum (SGD) or beta1 (Adam) last written; 0 without cycle_momentum.
  [[nodiscard]] double get_last_momentum() const noexcept { return last_momentum_; }
  [[nodiscard]] std::int64_t last_epoch() const noexcept { return last_epoch_; }
  [[nodiscard]] std::int64_t total_steps() const noexcept { return total_steps_; }
  [[nodiscard]] const one_cycle_options& options() const noexcept { return o_; }

  [[nodiscard]] state_type state() const noexcept { return {last_epoch_, step_count_, last_lr_, last_momentum_}; }
  /// Restores a saved state and writes its lr (and momentum) into the optimizer.
  void load_state(const state_type& s) {
    if (s.last_epoch < 0 || s.last_epoch > total_steps_)
      schedule_detail::fail("OneCycleLR", "state's last_epoch " + std::to_string(s.last_epoch) +
                                              " is outside [0, total_steps = " + std::to_string(total_steps_) + "]");
    last_epoch_ = s.last_epoch;
    step_count_ = s.step_count;
    last_lr_ = s.last_lr;
    lr_.set(s.last_lr);
    if (o_.cycle_momentum) set_momentum(s.last_momentum);
  }

 private:
  enum slot : unsigned char { initial, peak, floor, top, bottom };
  struct phase {
    double end_step;
    slot start_lr, end_lr, start_momentum, end_momentum;
  };

  [[nodiscard]] double value(slot s) const noexcept {
    switch (s) {
      case initial: return initial_lr_;
      case peak: return o_.max_lr;
      case floor: return min_lr_;
      case top: return o_.max_momentum;
      case bottom: return o_.base_momentum;
    }
    return 0;
  }
  [[nodiscard]] double anneal(double start, double end, double pct) const noexcept {
    if (o_.anneal_strategy == anneal_strategy::cos) {
      const double cos_out = std::cos(std::numbers::pi * pct) + 1;
      return end + (start - end) / 2.0 * cos_out;
    }
    return (end - start) * pct + start;
  }
  void set_momentum(double m) noexcept {
    last_momentum_ = m;
    if constexpr (schedule_detail::has_beta1<O>)
      opt_->options.beta1 = static_cast<decltype(opt_->options.beta1)>(m);
    else if constexpr (schedule_detail::has_momentum<O>)
      opt_->options.momentum = static_cast<decltype(opt_->options.momentum)>(m);
  }

  O* opt_;
  schedule_detail::lr_slot<O> lr_{*opt_};
  one_cycle_options o_;
  std::int64_t total_steps_ = 0;
  phase phase_[3]{};
  int phases_ = 2;
  double initial_lr_ = 0, min_lr_ = 0;
  std::int64_t last_epoch_ = -1, step_count_ = 0;
  double last_lr_ = 0, last_momentum_ = 0;
};

// ---------------------------------------------------------------------- StepLR --

struct step_lr_options {
  std::int64_t step_size = 1;
  double gamma = 0.1;
};

/// lr *= gamma every step_size epochs (torch.optim.lr_scheduler.StepLR,
/// the chainable form: multiplies the optimizer's current lr).
template <lr_optimizer O>
class StepLR {
 public:
  struct state_type {
    std::int64_t last_epoch = -1;
    std::int64_t step_count = 0;
    double last_lr = 0;
    double base_lr = 0;
  };

  StepLR(O& optimizer, step_lr_options options) : lr_(optimizer), o_(options), base_lr_(lr_.get()) {
    if (o_.step_size <= 0) schedule_detail::fail("StepLR", "step_size must be positive");
    step();
  }

  void step() {
    ++step_count_;
    ++last_epoch_;
    double lr = lr_.get();
    if (last_epoch_ != 0 && last_epoch_ % o_.step_size == 0) lr *= o_.gamma;
    lr_.set(lr);
    last_lr_ = lr;
  }
  /// PyTorch's _get_closed_form_lr: base_lr * gamma^(last_epoch / step_size).
  [[nodiscard]] double closed_form_lr() const noexcept {
    return base_lr_ * std::pow(o_.gamma, static_cast<double>(last_epoch_ / o_.step_size));
  }

  [[nodiscard]] double get_last_lr() const noexcept { return last_lr_; }
  [[nodiscard]] std::int64_t last_epoch() const noexcept { return last_epoch_; }
  [[nodiscard]] double base_lr() const noexcept { return base_lr_; }
  [[nodiscard]] const step_lr_options& options() const noexcept { return o_; }
  [[nodiscard]] state_type state() const noexcept { return {last_epoch_, step_count_, last_lr_, base_lr_}; }
  void load_state(const state_type& s) noexcept {
    last_epoch_ = s.last_epoch;
    step_count_ = s.step_count;
    last_lr_ = s.last_lr;
    base_lr_ = s.base_lr;
    lr_.set(s.last_lr);
  }

 private:
  schedule_detail::lr_slot<O> lr_;
  step_lr_options o_;
  double base_lr_;
  std::int64_t last_epoch_ = -1, step_count_ = 0;
  double last_lr_ = 0;
};

// ------------------------------------------------------------ CosineAnnealingLR --

struct cosine_annealing_options {
  std::int64_t T_max = 1;
  double eta_min = 0;
};

/// Cosine annealing from the initial lr to eta_min over T_max epochs and back
/// (torch.optim.lr_scheduler.CosineAnnealingLR, PyTorch 1.13's recursive
/// form, so its values past T_max and its floating-point rounding match).
template <lr_optimizer O>
class CosineAnnealingLR {
 public:
  struct state_type {
    std::int64_t last_epoch = -1;
    std::int64_t step_count = 0;
    double last_lr = 0;
    double base_lr = 0;
  };

  CosineAnnealingLR(O& optimizer, cosine_annealing_options options)
      : lr_(optimizer), o_(options), base_lr_(lr_.get()) {
    if (o_.T_max <= 0) schedule_detail::fail("CosineAnnealingLR", "T_max must be positive");
    step();
  }

  void step() {
    ++step_count_;
    ++last_epoch_;
    constexpr double pi = std::numbers::pi;
    const double T = static_cast<double>(o_.T_max), e = static_cast<double>(last_epoch_);
    const double group = lr_.get();
    double lr;
    if (last_epoch_ == 0)
      lr = group;
    else if (step_count_ == 1 && last_epoch_ > 0)
      lr = o_.eta_min + (base_lr_ - o_.eta_min) * (1 + std::cos(e * pi / T)) / 2;
    else if ((last_epoch_ - 1 - o_.T_max) % (2 * o_.T_max) == 0)
      lr = group + (base_lr_ - o_.eta_min) * (1 - std::cos(pi / T)) / 2;
    else
      lr = (1 + std::cos(pi * e / T)) / (1 + std::cos(pi * (e - 1) / T)) * (group - o_.eta_min) + o_.eta_min;
    lr_.set(lr);
    last_lr_ = lr;
  }
  /// PyTorch's _get_closed_form_lr.
  [[nodiscard]] double closed_form_lr() const noexcept {
    return o_.eta_min + (base_lr_ - o_.eta_min) *
                            (1 + std::cos(std::numbers::pi * static_cast<double>(last_epoch_) /
                                          static_cast<double>(o_.T_max))) / 2;
  }

  [[nodiscard]] double get_last_lr() const noexcept { return last_lr_; }
  [[nodiscard]] std::int64_t last_epoch() const noexcept { return last_epoch_; }
  [[nodiscard]] double base_lr() const noexcept { return base_lr_; }
  [[nodiscard]] const cosine_annealing_options& options() const noexcept { return o_; }
  [[nodiscard]] state_type state() const noexcept { return {last_epoch_, step_count_, last_lr_, base_lr_}; }
  void load_state(const state_type& s) noexcept {
    last_epoch_ = s.last_epoch;
    step_count_ = s.step_count;
    last_lr_ = s.last_lr;
    base_lr_ = s.base_lr;
    lr_.set(s.last_lr);
  }

 private:
  schedule_detail::lr_slot<O> lr_;
  cosine_annealing_options o_;
  double base_lr_;
  std::int64_t last_epoch_ = -1, step_count_ = 0;
  double last_lr_ = 0;
};

// ------------------------------------------------------------ ReduceLROnPlateau --

enum class plateau_mode { min, max };
enum class plateau_threshold { rel, abs };

struct plateau_options {
  plateau_mode mode = plateau_mode::min;
  double factor = 0.1;
  std::int64_t patience = 10;
  double threshold = 1e-4;
  plateau_threshold threshold_mode = plateau_threshold::rel;
  std::int64_t cooldown = 0;
  double min_lr = 0;
  double eps = 1e-8;
};

/// Multiplies lr by factor when the metric has not improved for more than
/// patience epochs (torch.optim.lr_scheduler.ReduceLROnPlateau); step(metric)
/// once per epoch. Construction does not change the lr.
template <lr_optimizer O>
class ReduceLROnPlateau {
 public:
  struct state_type {
    std::int64_t last_epoch = 0;
    double best = 0;
    std::int64_t num_bad_epochs = 0;
    std::int64_t cooldown_counter = 0;
    double last_lr = 0;
  };

  ReduceLROnPlateau(O& optimizer, plateau_options options = {}) : lr_(optimizer), o_(options) {
    if (!(o_.factor < 1.0)) schedule_detail::fail("ReduceLROnPlateau", "Factor should be < 1.0.");
    best_ = mode_worse();
    last_lr_ = lr_.get();
  }

  void step(double metric) {
    const double current = metric;
    ++last_epoch_;
    if (is_better(current, best_)) {
      best_ = current;
      num_bad_epochs_ = 0;
    } else {
      ++num_bad_epochs_;
    }
    if (in_cooldown()) {
      --cooldown_counter_;
      num_bad_epochs_ = 0;  // ignore any bad epochs in cooldown
    }
    if (num_bad_epochs_ > o_.patience) {
      const double old_lr = lr_.get();
      const double new_lr = std::max(old_lr * o_.factor, o_.min_lr);
      if (old_lr - new_lr > o_.eps) lr_.set(new_lr);
      cooldown_counter_ = o_.cooldown;
      num_bad_epochs_ = 0;
    }
    last_lr_ = lr_.get();
  }

  /// Whether `a` improves on `best` under the mode and threshold.
  [[nodiscard]] bool is_better(double a, double best) const noexcept {
    if (o_.mode == plateau_mode::min)
      return o_.threshold_mode == plateau_threshold::rel ? a < best * (1. - o_.threshold) : a < best - o_.threshold;
    return o_.threshold_mode == plateau_threshold::rel ? a > best * (o_.threshold + 1.) : a > best + o_.threshold;
  }
  [[nodiscard]] bool in_cooldown() const noexcept { return cooldown_counter_ > 0; }

  /// The lr after the last step (before any step: the optimizer's lr).
  [[nodiscard]] double get_last_lr() const noexcept { return last_lr_; }
  [[nodiscard]] std::int64_t last_epoch() const noexcept { return last_epoch_; }
  [[nodiscard]] double best() const noexcept { return best_; }
  [[nodiscard]] std::int64_t num_bad_epochs() const noexcept { return num_bad_epochs_; }
  [[nodiscard]] std::int64_t cooldown_counter() const noexcept { return cooldown_counter_; }
  [[nodiscard]] const plateau_options& options() const noexcept { return o_; }
  [[nodiscard]] state_type state() const noexcept {
    return {last_epoch_, best_, num_bad_epochs_, cooldown_counter_, last_lr_};
  }
  void load_state(const state_type& s) noexcept {
    last_epoch_ = s.last_epoch;
    best_ = s.best;
    num_bad_epochs_ = s.num_bad_epochs;
    cooldown_counter_ = s.cooldown_counter;
    last_lr_ = s.last_lr;
    lr_.set(s.last_lr);
  }
  /// PyTorch's _reset: best, num_bad_epochs and cooldown_counter back to the start.
  void reset() noexcept {
    best_ = mode_worse();
    cooldown_counter_ = 0;
    num_bad_epochs_ = 0;
  }

 private:
  [[nodiscard]] double mode_worse() const noexcept {
    return o_.mode == plateau_mode::min ? std::numeric_limits<double>::infinity()
                                        : -std::numeric_limits<double>::infinity();
  }

  schedule_detail::lr_slot<O> lr_;
  plateau_options o_;
  double best_ = 0;
  std::int64_t last_epoch_ = 0, num_bad_epochs_ = 0, cooldown_counter_ = 0;
  double last_lr_ = 0;
};

}  // namespace staticnet
