// staticnet/optim.hpp: optimizers over a model's flat parameter array.
//   sn::SGD opt(model, {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f});
//   model.forward_backward(x, y, n); opt.step(model);
#pragma once
#include <cstddef>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

#include "cpu/sgd.hpp"
#include "model.hpp"

namespace staticnet {

/// torch.optim.SGD (momentum, dampening, nesterov, weight decay), with its
/// momentum buffer allocated once.
class SGD {
 public:
  SGD(std::size_t size, cpu::sgd_options options) : options(options), size_(size) {
    if (options.nesterov && (options.momentum <= 0.0f || options.dampening != 0.0f))
      throw std::invalid_argument("staticnet: SGD: Nesterov momentum requires a momentum and zero dampening");
    if (options.lr < 0.0f) throw std::invalid_argument("staticnet: SGD: invalid learning rate");
    momentum_ = detail::aligned_zeros<float>(size);
  }
  template <class M>
    requires requires(M& m) { m.parameters(); m.gradients(); }
  SGD(M& model, cpu::sgd_options options) : SGD(model.parameters().size(), options) {}

  void step(std::span<float> params, std::span<const float> grads) {
    if (params.size() != size_ || grads.size() != size_)
      throw std::invalid_argument("staticnet: SGD: " + std::to_string(params.size()) +
                                  " parameters given to an optimizer made for " + std::to_string(size_));
    cpu::sgd_step(size_, params.data(), grads.data(), momentum_.get(), options, first_);
    first_ = false;
  }
  template <class M>
    requires requires(M& m) { m.parameters(); m.gradients(); }
  void step(M& model) {
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

}  // namespace staticnet
