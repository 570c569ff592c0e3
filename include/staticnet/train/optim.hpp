// staticnet/train/optim.hpp: optimizers over a model's flat parameter array.
//   sn::SGD opt(model, {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f});
//   model.forward_backward(x, y, n); opt.step(model);
//   sn::Adam adam(model, {.lr = 1e-3, .weight_decay = 1e-4});
//   sn::AdamW adamw(model, {.lr = 1e-3});   // decoupled weight decay 1e-2
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

#include "../cpu/kernel_types.hpp"
#include "../cpu/kernels.hpp"
#include "../cpu/aligned.hpp"

namespace staticnet {

/// torch.optim.SGD (momentum, dampening, nesterov, weight decay), with its
/// momentum buffer allocated once.
class SGD {
 public:
  SGD(std::size_t size, cpu::sgd_options options) : options(options), size_(size) {
    if (options.nesterov && (options.momentum <= 0.0f || options.dampening != 0.0f))
      throw std::invalid_argument("staticnet: SGD: Nesterov momentum requires a momentum and zero dampening");
    // As torch.optim.SGD's checks, NaN refused too.
    if (!(options.lr >= 0.0f)) throw std::invalid_argument("staticnet: SGD: invalid learning rate");
    if (!(options.momentum >= 0.0f)) throw std::invalid_argument("staticnet: SGD: invalid momentum value");
    if (!(options.weight_decay >= 0.0f)) throw std::invalid_argument("staticnet: SGD: invalid weight_decay value");
    if (std::isnan(options.dampening)) throw std::invalid_argument("staticnet: SGD: invalid dampening value");
    momentum_ = detail::aligned_zeros<float>(size);
  }
  template <class M>
    requires requires(M& m) { m.parameters(); m.gradients(); }
  SGD(M& model, cpu::sgd_options options) : SGD(model.parameters().size(), options) {}

  void step(std::span<float> params, std::span<const float> grads) {
    if (params.size() != size_ || grads.size() != size_)
      throw std::invalid_argument("staticnet: SGD: " + std::to_string(params.size()) +
                                  " parameters given to an optimizer made for " + std::to_string(size_));
    cpu::kernels().sgd_step(size_, params.data(), grads.data(), momentum_.get(), options, first_);
    first_ = false;
  }
  template <class M>
    requires requires(M& m) { m.parameters(); m.gradients(); }
  void step(M& model) {
    if constexpr (requires { model.step_optimizer(*this); })
      model.step_optimizer(*this);  // a device engine updates its own memory (cuda::Model)
    else
      step(model.parameters(), model.gradients());
  }

  [[nodiscard]] std::span<float> momentum_buffer() noexcept { return {momentum_.get(), size_}; }
  /// False until the first step (PyTorch initialises the buffer with the first gradient).
  [[nodiscard]] bool started() const noexcept { return !first_; }
  void set_started(bool started) noexcept { first_ = !started; }

  cpu::sgd_options options;  ///< mutable: schedules change lr and momentum

 private:
  std::size_t size_;
  detail::aligned_ptr<float> momentum_;
  bool first_ = true;
};

namespace detail {

/// The shared body of Adam and AdamW (torch.optim.Adam / AdamW, PyTorch 1.13):
/// state buffers exp_avg, exp_avg_sq (and max_exp_avg_sq with amsgrad)
/// allocated once at construction, zero-initialised like PyTorch's lazy state.
template <class Options, cpu::weight_decay_kind Kind>
class adam_optimizer {
 public:
  using options_type = Options;
  static constexpr const char* name = Kind == cpu::weight_decay_kind::l2 ? "Adam" : "AdamW";

  explicit adam_optimizer(std::size_t size, Options options = {}) : options(options), size_(size) {
    auto fail = [](const std::string& what) {
      throw std::invalid_argument(std::string("staticnet: ") + name + ": invalid " + what);
    };
    if (!(options.lr >= 0.0)) fail("learning rate");
    if (!(options.eps >= 0.0)) fail("epsilon value");
    if (!(options.beta1 >= 0.0 && options.beta1 < 1.0)) fail("beta parameter at index 0");
    if (!(options.beta2 >= 0.0 && options.beta2 < 1.0)) fail("beta parameter at index 1");
    if (!(options.weight_decay >= 0.0)) fail("weight_decay value");
    exp_avg_ = aligned_zeros<float>(size);
    exp_avg_sq_ = aligned_zeros<float>(size);
    if (options.amsgrad) max_exp_avg_sq_ = aligned_zeros<float>(size);
  }
  template <class M>
    requires requires(M& m) { m.parameters(); m.gradients(); }
  adam_optimizer(M& model, Options options = {}) : adam_optimizer(model.parameters().size(), options) {}

  void step(std::span<float> params, std::span<const float> grads) {
    if (params.size() != size_ || grads.size() != size_)
      throw std::invalid_argument(std::string("staticnet: ") + name + ": " + std::to_string(params.size()) +
                                  " parameters given to an optimizer made for " + std::to_string(size_));
    if (options.amsgrad && !max_exp_avg_sq_)
      throw std::logic_error(std::string("staticnet: ") + name +
                             ": amsgrad enabled after construction (its max_exp_avg_sq state does not exist)");
    cpu::kernels().adam_step(size_, params.data(), grads.data(), exp_avg_.get(), exp_avg_sq_.get(),
                             options.amsgrad ? max_exp_avg_sq_.get() : nullptr,
                             cpu::make_adam_coefficients(options, step_ + 1, Kind));
    ++step_;
  }
  template <class M>
    requires requires(M& m) { m.parameters(); m.gradients(); }
  void step(M& model) {
    if constexpr (requires { model.step_optimizer(*this); })
      model.step_optimizer(*this);  // a device engine updates its own memory (cuda::Model)
    else
      step(model.parameters(), model.gradients());
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// State, for checkpoints (PyTorch's state['exp_avg'], ['exp_avg_sq'],
  /// ['max_exp_avg_sq'] (empty unless constructed with amsgrad) and ['step']).
  [[nodiscard]] std::span<float> exp_avg() noexcept { return {exp_avg_.get(), size_}; }
  [[nodiscard]] std::span<float> exp_avg_sq() noexcept { return {exp_avg_sq_.get(), size_}; }
  [[nodiscard]] std::span<float> max_exp_avg_sq() noexcept {
    return max_exp_avg_sq_ ? std::span<float>{max_exp_avg_sq_.get(), size_} : std::span<float>{};
  }
  [[nodiscard]] std::span<const float> exp_avg() const noexcept { return {exp_avg_.get(), size_}; }
  [[nodiscard]] std::span<const float> exp_avg_sq() const noexcept { return {exp_avg_sq_.get(), size_}; }
  [[nodiscard]] std::span<const float> max_exp_avg_sq() const noexcept {
    return max_exp_avg_sq_ ? std::span<const float>{max_exp_avg_sq_.get(), size_} : std::span<const float>{};
  }
  /// Steps taken so far (0 before the first).
  [[nodiscard]] std::int64_t step_count() const noexcept { return step_; }
  void set_step_count(std::int64_t steps) {
    if (steps < 0) throw std::invalid_argument(std::string("staticnet: ") + name + ": negative step count");
    step_ = steps;
  }

  Options options;  ///< mutable: schedules change lr and beta1

 private:
  std::size_t size_;
  aligned_ptr<float> exp_avg_, exp_avg_sq_, max_exp_avg_sq_;
  std::int64_t step_ = 0;
};

}  // namespace detail

/// torch.optim.Adam: L2 weight decay added to the gradient, optional AMSGrad.
class Adam : public detail::adam_optimizer<cpu::adam_options, cpu::weight_decay_kind::l2> {
 public:
  using adam_optimizer::adam_optimizer;
};

/// torch.optim.AdamW: decoupled weight decay (default 1e-2), optional AMSGrad.
class AdamW : public detail::adam_optimizer<cpu::adamw_options, cpu::weight_decay_kind::decoupled> {
 public:
  using adam_optimizer::adam_optimizer;
};

}  // namespace staticnet
