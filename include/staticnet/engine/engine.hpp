// staticnet/engine/engine.hpp: the `engine` concept — what fit(), evaluate(),
// save_checkpoint() / load_checkpoint() and the optimizer-state functions need
// of a model, whichever backend runs it (cpu::Model today).
//
//   template <sn::engine M> void train_one(M& model, ...);
//
// An engine of network type Net, for batches of up to max_batch images:
//   * train(on = true) / eval() / training(): the mode (BatchNorm statistics, Dropout);
//   * forward(x, n): n images (NCHW floats on the host) to the outputs, a host
//     span valid until the next forward();
//   * forward_backward(x, targets, n, label_smoothing): forward, loss (NLL
//     after a final LogSoftmax, else cross-entropy) and backward; the mean loss;
//   * loss(targets, label_smoothing): the loss of the last forward();
//   * parameters() / gradients(): the flat parameter and gradient arrays the
//     optimizers update (the memory plan's layout: engine/memory_plan.hpp);
//   * named_tensors(): every parameter and buffer by its PyTorch name, bound
//     to host-visible memory (engine/tensor_names.hpp). A device engine binds
//     host mirrors and has sync_to_host() / sync_from_host(), which the
//     checkpoint functions call before reading and after writing them;
//   * bn_momentum, bn_eps: BatchNorm settings (PyTorch's defaults);
//   * optional: dropout_seed() / dropout_steps() / set_dropout_state(seed,
//     steps), saved in checkpoints for exact resumption;
//   * optional, for device engines: step_optimizer(opt) (what opt.step(model)
//     calls), optimizer_to_host(opt) / optimizer_from_host(opt) (around the
//     optimizer state in checkpoints), train_step(x, targets, n, opt,
//     label_smoothing) (the whole step; fit() uses it when present).
//
// What a backend implements beyond this is listed in docs/engine.md, "Backends".
#pragma once
#include <concepts>
#include <cstdint>
#include <span>
#include <vector>

#include "../network.hpp"
#include "tensor_names.hpp"

namespace staticnet {

template <class M>
concept engine = network<typename M::network_type> &&
    requires(M& m, const M& cm, std::span<const float> x, std::span<const std::int32_t> t, int n, float ls) {
      { M::max_batch } -> std::convertible_to<int>;
      { M::input_numel } -> std::convertible_to<std::int64_t>;
      { M::output_numel } -> std::convertible_to<std::int64_t>;
      { M::ends_with_log_softmax } -> std::convertible_to<bool>;
      m.train(bool{});
      m.eval();
      { cm.training() } -> std::same_as<bool>;
      { m.forward(x, n) } -> std::convertible_to<std::span<const float>>;
      { m.forward_backward(x, t, n, ls) } -> std::convertible_to<float>;
      { m.loss(t, ls) } -> std::convertible_to<float>;
      { m.parameters() } -> std::convertible_to<std::span<float>>;
      { m.gradients() } -> std::convertible_to<std::span<float>>;
      { m.named_tensors() } -> std::same_as<std::vector<named_tensor>>;
      { m.bn_momentum } -> std::convertible_to<float>;
      { m.bn_eps } -> std::convertible_to<float>;
    };

namespace engine_detail {
/// Brings a device engine's host mirrors up to date (no-op for host engines).
template <class M>
void sync_to_host(M& m) {
  if constexpr (requires { m.sync_to_host(); }) m.sync_to_host();
}
/// Uploads a device engine's host mirrors after they were written (no-op for host engines).
template <class M>
void sync_from_host(M& m) {
  if constexpr (requires { m.sync_from_host(); }) m.sync_from_host();
}
/// Brings the device copy of an optimizer's state back into its host buffers
/// (a device engine keeps the state of the optimizers that stepped it).
template <class M, class O>
void optimizer_to_host(M& m, O& opt) {
  if constexpr (requires { m.optimizer_to_host(opt); }) m.optimizer_to_host(opt);
}
/// Uploads an optimizer's host state after it was written (restored).
template <class M, class O>
void optimizer_from_host(M& m, O& opt) {
  if constexpr (requires { m.optimizer_from_host(opt); }) m.optimizer_from_host(opt);
}
}  // namespace engine_detail

}  // namespace staticnet
