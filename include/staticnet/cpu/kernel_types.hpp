// staticnet/cpu/kernel_types.hpp: the plain types the CPU kernels take —
// geometries, options and modes — shared by every instruction-set variant of
// the kernels and by their callers (cpu::Model, the optimizers). They hold no
// SIMD types, so they are the same in a translation unit built for SSE2 and
// in one built for AVX-512 (see kernels.hpp).
#pragma once
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace staticnet::cpu {

/// The geometry of one 2-D convolution (per image; the batch size is a call argument).
/// `winograd` (2 or 4) asks for Winograd F(m x m, 3 x 3) in the forward where
/// the geometry allows it (core/winograd.hpp's winograd_eligible; the engine
/// sets it from the layer's fact), `winograd_data` for the data gradient;
/// 0, the default, is the direct convolution.
struct conv_geom {
  int c_in, h_in, w_in, c_out, h_out, w_out, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  int winograd = 0;
  int winograd_data = 0;
};

/// The process-wide Winograd switch: use_winograd(false) makes every conv
/// take the direct path whatever its geometry's `winograd` says (its scratch
/// size is unchanged, so it may be flipped at any time between calls).
/// Starts on, unless the environment has STATICNET_WINOGRAD=0.
inline std::atomic<bool>& winograd_switch() noexcept {
  static std::atomic<bool> on{[] {
    const char* v = std::getenv("STATICNET_WINOGRAD");
    return !(v && (std::strcmp(v, "0") == 0 || std::strcmp(v, "off") == 0));
  }()};
  return on;
}
inline void use_winograd(bool on) noexcept { winograd_switch().store(on, std::memory_order_relaxed); }
[[nodiscard]] inline bool winograd_enabled() noexcept { return winograd_switch().load(std::memory_order_relaxed); }

/// What conv2d_forward applies to its output while it is still in cache.
enum class conv_epilogue { none, relu };

/// The geometry of a max or average pooling (per image).
struct pool_geom {
  int c = 0, h_in = 0, w_in = 0, h_out = 0, w_out = 0;
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  bool ceil_mode = false, count_include_pad = true;
};

/// Which ReLU a BatchNorm's backward folds in (see batchnorm.hpp):
///   none   no ReLU;
///   input  a ReLU before the BatchNorm (its mask is applied to dx);
///   output a ReLU after it, applied in the forward (its mask is rebuilt).
enum class bn_relu { none, input, output };

/// torch.optim.SGD's hyper-parameters.
struct sgd_options {
  float lr = 0.01f, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

/// torch.optim.Adam's hyper-parameters: L2 weight decay added to the gradient.
struct adam_options {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false, maximize = false;
};

/// torch.optim.AdamW's hyper-parameters: decoupled weight decay, default 1e-2.
struct adamw_options {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
  bool amsgrad = false, maximize = false;
};

enum class weight_decay_kind { l2, decoupled };

/// The per-step scalars of one Adam update, rounded to float as PyTorch does.
struct adam_coefficients {
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float bias_correction2_sqrt, eps, neg_step_size;
  float weight_decay;  ///< L2 coefficient (0 when decoupled)
  float decay;         ///< decoupled multiplier 1 - lr * weight_decay (1 when L2)
  bool amsgrad, maximize;
};

/// Coefficients of step number `step` (>= 1).
template <class Options>
[[nodiscard]] inline adam_coefficients make_adam_coefficients(const Options& o, std::int64_t step,
                                                              weight_decay_kind kind) noexcept {
  const double t = static_cast<double>(step);
  const double bias_correction1 = 1.0 - std::pow(o.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(o.beta2, t);
  const double step_size = o.lr / bias_correction1;
  const bool decoupled = kind == weight_decay_kind::decoupled;
  return {static_cast<float>(o.beta1),
          static_cast<float>(1.0 - o.beta1),
          static_cast<float>(o.beta2),
          static_cast<float>(1.0 - o.beta2),
          static_cast<float>(std::sqrt(bias_correction2)),
          static_cast<float>(o.eps),
          static_cast<float>(-step_size),
          decoupled ? 0.0f : static_cast<float>(o.weight_decay),
          decoupled ? static_cast<float>(1.0 - o.lr * o.weight_decay) : 1.0f,
          o.amsgrad,
          o.maximize};
}

}  // namespace staticnet::cpu
