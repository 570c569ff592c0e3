// staticnet/train/optimizer_state.hpp: an optimizer's state in a checkpoint.
//
//   sn::checkpoint_extras extras;
//   sn::add_optimizer_state(extras, model, opt);         // before save_checkpoint
//   sn::restore_optimizer_state(info, model, opt);       // after load_checkpoint
#pragma once
#include <cstddef>
#include <cstring>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <type_traits>
#include <vector>

#include "../engine/engine.hpp"
#include "../engine/tensor_names.hpp"
#include "checkpoint.hpp"

namespace staticnet {

// --------------------------------------------------- optimizer state --
//
// Per parameter, under PyTorch's state names: SGD "optimizer.momentum_buffer.<param>",
// Adam / AdamW "optimizer.exp_avg.<param>", "optimizer.exp_avg_sq.<param>"
// (and "optimizer.max_exp_avg_sq.<param>" with amsgrad); the hyperparameters
// and the step count as metadata "optimizer.*".

namespace checkpoint_detail {

template <class O>
concept sgd_like = requires(O& o) {
  o.momentum_buffer();
  o.started();
  o.set_started(true);
  o.options.lr;
  o.options.momentum;
  o.options.dampening;
  o.options.weight_decay;
  o.options.nesterov;
};

template <class O>
concept adam_like = requires(O& o) {
  o.exp_avg();
  o.exp_avg_sq();
  o.max_exp_avg_sq();
  o.step_count();
  o.set_step_count(std::int64_t{});
  O::name;
  o.options.lr;
  o.options.beta1;
  o.options.beta2;
  o.options.eps;
  o.options.weight_decay;
  o.options.amsgrad;
};

/// The optimizer's hyperparameters as (key, field) pairs, applied to f(key, field&).
template <class O, class Options, class F>
void for_each_option(Options& o, F&& f) {
  f("lr", o.lr);
  if constexpr (sgd_like<O>) {
    f("momentum", o.momentum);
    f("dampening", o.dampening);
    f("weight_decay", o.weight_decay);
    f("nesterov", o.nesterov);
  } else {
    f("beta1", o.beta1);
    f("beta2", o.beta2);
    f("eps", o.eps);
    f("weight_decay", o.weight_decay);
    f("amsgrad", o.amsgrad);
    if constexpr (requires { o.maximize; }) f("maximize", o.maximize);
  }
}

template <class O>
std::string optimizer_name() {
  if constexpr (sgd_like<O>) return "SGD";
  else return O::name;
}

/// (state name, buffer) pairs of the optimizer's per-parameter state.
/// With Adam's amsgrad as in `options`.
template <class O>
std::vector<std::pair<std::string, std::span<float>>> optimizer_buffers(O& opt, const decltype(opt.options)& options) {
  if constexpr (sgd_like<O>) {
    (void)options;
    return {{"momentum_buffer", opt.momentum_buffer()}};
  } else {
    std::vector<std::pair<std::string, std::span<float>>> out{{"exp_avg", opt.exp_avg()},
                                                               {"exp_avg_sq", opt.exp_avg_sq()}};
    if (options.amsgrad) out.emplace_back("max_exp_avg_sq", opt.max_exp_avg_sq());
    return out;
  }
}

}  // namespace checkpoint_detail

/// Adds an optimizer's state (sn::SGD, sn::Adam, sn::AdamW) to the extras:
/// per-parameter tensors named after PyTorch's state and the parameter
/// ("optimizer.momentum_buffer.C1.0.weight"), and metadata "optimizer.type",
/// "optimizer.<hyperparameter>", "optimizer.started" (SGD) or "optimizer.step"
/// (Adam). The tensors view the optimizer's buffers.
template <engine M, class Optimizer>
  requires checkpoint_detail::sgd_like<Optimizer> || checkpoint_detail::adam_like<Optimizer>
void add_optimizer_state(checkpoint_extras& extras, M& model, Optimizer& opt) {
  namespace cd = checkpoint_detail;
  engine_detail::optimizer_to_host(model, opt);
  const auto buffers = cd::optimizer_buffers(opt, opt.options);
  for (const auto& [state, buf] : buffers)
    if (buf.size() != model.parameters().size())
      throw std::invalid_argument("staticnet: add_optimizer_state: the optimizer's " + state + " holds " +
                                  std::to_string(buf.size()) + " values, the model has " +
                                  std::to_string(model.parameters().size()) + " parameters");
  // The optimizer's buffers are laid out as the parameter array (engine/tensor_names.hpp offsets).
  for (const tensor_spec& t : tensor_specs<typename M::network_type>()) {
    if (!t.trainable) continue;
    const auto offset = static_cast<std::size_t>(t.offset), count = static_cast<std::size_t>(t.numel);
    for (const auto& [state, buf] : buffers)
      extras.add("optimizer." + state + "." + t.name, cd::to64(t.shape), buf.subspan(offset, count));
  }
  extras.set("optimizer.type", cd::optimizer_name<Optimizer>());
  cd::for_each_option<Optimizer>(opt.options, [&](const char* key, const auto& v) { extras.set(std::string("optimizer.") + key, v); });
  if constexpr (cd::sgd_like<Optimizer>)
    extras.set("optimizer.started", opt.started());
  else
    extras.set("optimizer.step", opt.step_count());
}

/// Restores what add_optimizer_state saved. Returns false (changing nothing)
/// when the checkpoint has no optimizer state; throws std::runtime_error
/// (changing nothing) when it is another optimizer's or does not fit.
template <engine M, class Optimizer>
  requires checkpoint_detail::sgd_like<Optimizer> || checkpoint_detail::adam_like<Optimizer>
bool restore_optimizer_state(const checkpoint_info& info, M& model, Optimizer& opt) {
  namespace cd = checkpoint_detail;
  const auto type = info.get("optimizer.type");
  if (!type) return false;
  const std::string name = cd::optimizer_name<Optimizer>();
  const std::string where = "staticnet: restore_optimizer_state: ";
  if (*type != name)
    throw std::runtime_error(where + "the checkpoint holds " + *type + " state, the optimizer is " + name);

  // Parse and check everything before changing anything.
  auto options = opt.options;
  cd::for_each_option<Optimizer>(options, [&](const char* key, auto& field) {
    using T = std::remove_reference_t<decltype(field)>;
    const std::string k = std::string("optimizer.") + key;
    const auto s = info.get(k);
    if (!s) return;  // hand-written checkpoints: keep the current value
    const auto v = cd::parse_number<T>(*s);
    if (!v) throw std::runtime_error(where + "metadata \"" + k + "\" = \"" + *s + "\" is not valid");
    field = *v;
  });
  if constexpr (std::is_constructible_v<Optimizer, std::size_t, decltype(options)>) {
    try {
      Optimizer probe(0, options);  // the constructor's checks (lr >= 0, betas in [0, 1), no NaN, ...)
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(where + "the checkpoint's " + name + " hyperparameters are invalid (" + e.what() + ")");
    }
  }
  std::int64_t steps = 0;
  bool started = false;
  if constexpr (cd::sgd_like<Optimizer>) {
    const auto v = info.number<bool>("optimizer.started");
    if (!v) throw std::runtime_error(where + "metadata \"optimizer.started\" is missing");
    started = *v;
  } else {
    const auto v = info.number<std::int64_t>("optimizer.step");
    if (!v || *v < 0 || static_cast<double>(*v) > 0x1p53)
      throw std::runtime_error(where + "metadata \"optimizer.step\" is missing, negative or larger than 2^53");
    steps = *v;
    if (options.amsgrad && opt.max_exp_avg_sq().empty())
      throw std::runtime_error(where + "the checkpoint was saved with amsgrad, the optimizer was constructed without it");
  }
  const auto buffers = cd::optimizer_buffers(opt, options);
  for (const auto& [state, buf] : buffers)
    if (buf.size() != model.parameters().size())
      throw std::runtime_error(where + "the optimizer's " + state + " holds " + std::to_string(buf.size()) +
                               " values, the model has " + std::to_string(model.parameters().size()) + " parameters");
  std::vector<std::string> problems;
  std::vector<std::pair<std::span<float>, const safetensors::tensor*>> copies;
  for (const tensor_spec& t : tensor_specs<typename M::network_type>()) {
    if (!t.trainable) continue;
    const auto offset = static_cast<std::size_t>(t.offset), count = static_cast<std::size_t>(t.numel);
    for (const auto& [state, buf] : buffers) {
      const std::string n = "optimizer." + state + "." + t.name;
      const safetensors::tensor* s = info.extra(n);
      if (!s) problems.push_back(n + ": missing");
      else if (s->shape != cd::to64(t.shape) || !s->is_f32())
        problems.push_back(n + ": checkpoint " + s->dtype + " " + safetensors::detail::shape_text(s->shape) +
                           ", optimizer F32 " + safetensors::detail::shape_text(cd::to64(t.shape)));
      else copies.emplace_back(buf.subspan(offset, count), s);
    }
  }
  if (!problems.empty())
    throw std::runtime_error(where + "the checkpoint's " + name + " state does not fit:\n  " +
                             cd::list_text(problems, 20));

  // Commit.
  for (const auto& [dst, src] : copies) std::memcpy(dst.data(), src->data.data(), dst.size_bytes());
  opt.options = options;
  if constexpr (cd::sgd_like<Optimizer>) {
    opt.set_started(started);
    (void)steps;
  } else {
    opt.set_step_count(steps);
    (void)started;
  }
  engine_detail::optimizer_from_host(model, opt);
  return true;
}

}  // namespace staticnet
