// staticnet/cuda/arith.hpp: the arithmetic of the CUDA engine's own kernels
// (src/cuda/*.cu) as __host__ __device__ functions: one element, one row or
// one output position at a time, written to give the CPU kernels' results
// (cpu/*.hpp), often bit for bit. The kernels call these and only add the
// thread mapping and the reductions; tests/unit/test_cuda_arith.cpp runs the
// same functions on the host against cpu::kernels(). Plain C++: compiles under
// g++, clang++ and nvcc (STATICNET_HD is __host__ __device__ under nvcc).
//
// Floating-point notes. fma_f is a fused multiply-add on both sides (the CPU
// kernels' xsimd::fma / std::fma); sqrt_f and division are correctly rounded
// on both (nvcc's default -prec-sqrt / -prec-div); exp_f and log_f are the
// device's expf / logf (within 2 ulp of the host's), so the losses agree to
// about 1e-7 relative, not bit for bit.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "../cpu/kernel_types.hpp"
#include "../engine/random.hpp"

namespace staticnet::cuda::arith {

// ------------------------------------------------------------------ math --
STATICNET_HD inline float fma_f(float a, float b, float c) noexcept {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}
STATICNET_HD inline float sqrt_f(float v) noexcept {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(v);
#else
  return std::sqrt(v);
#endif
}
STATICNET_HD inline double sqrt_d(double v) noexcept {
#if defined(__CUDA_ARCH__)
  return __dsqrt_rn(v);
#else
  return std::sqrt(v);
#endif
}
STATICNET_HD inline float exp_f(float v) noexcept {
#if defined(__CUDA_ARCH__)
  return expf(v);
#else
  return std::exp(v);
#endif
}
STATICNET_HD inline float log_f(float v) noexcept {
#if defined(__CUDA_ARCH__)
  return logf(v);
#else
  return std::log(v);
#endif
}
STATICNET_HD constexpr bool is_nan(float v) noexcept { return v != v; }
STATICNET_HD constexpr float quiet_nan() noexcept { return std::numeric_limits<float>::quiet_NaN(); }
STATICNET_HD constexpr float neg_inf() noexcept { return -std::numeric_limits<float>::infinity(); }

// ------------------------------------------------------------------ ReLU --
/// max(x, 0), NaN propagating (as torch.relu and the CPU kernels).
STATICNET_HD constexpr float relu_value(float x) noexcept { return x < 0.0f ? 0.0f : x; }
/// The ReLU's backward from its output y.
STATICNET_HD constexpr float relu_grad(float y, float dy) noexcept { return y > 0.0f ? dy : 0.0f; }

// --------------------------------------------------------------- dropout --
/// A dropout's per-call constants (cpu::dropout_forward): p >= 1 (or NaN)
/// drops everything, p <= 0 keeps everything; kept elements scale by 1/(1-p).
struct dropout_setup {
  std::uint32_t threshold;
  float scale;
  bool drop_all;
};
STATICNET_HD constexpr dropout_setup dropout_params(float p) noexcept {
  const bool all = !(p < 1.0f);
  const float drop_p = all ? 1.0f : p > 0.0f ? p : 0.0f;
  return {all ? std::uint32_t{0} : dropout_rng::threshold(drop_p), all ? 0.0f : 1.0f / (1.0f - drop_p), all};
}
/// Element i's mask byte for the stream `key` (dropout_rng::key(seed)).
STATICNET_HD constexpr std::uint8_t dropout_mask(std::uint64_t key, const dropout_setup& s, std::uint64_t i) noexcept {
  return static_cast<std::uint8_t>(!s.drop_all && dropout_rng::keeps(key, s.threshold, i));
}
/// x * (mask ? scale : 0): the forward from x, the backward from dy.
STATICNET_HD constexpr float dropout_apply(float x, std::uint8_t mask, float scale) noexcept {
  return x * (mask ? scale : 0.0f);
}

// ------------------------------------------------------------- BatchNorm --
/// The batch mean as the CPU rounds it, from the channel's sum over count values.
STATICNET_HD inline float bn_mean(double sum, double count) noexcept { return static_cast<float>(sum / count); }
/// 1 / sqrt(biased variance + eps) from the sum of squared deviations sq.
STATICNET_HD inline float bn_train_invstd(double sq, double count, float eps) noexcept {
  return static_cast<float>(1.0 / sqrt_d(sq / count + static_cast<double>(eps)));
}
/// The unbiased variance running_var is updated with (count > 1).
STATICNET_HD inline float bn_unbiased_var(double sq, double count) noexcept {
  return static_cast<float>(sq / (count - 1.0));
}
/// running = (1 - momentum) * running + momentum * stat (PyTorch's momentum).
STATICNET_HD inline float bn_running(float running, float stat, float momentum) noexcept {
  return (1.0f - momentum) * running + momentum * stat;
}
/// Eval mode: 1 / sqrt(running_var + eps) in float.
STATICNET_HD inline float bn_eval_invstd(float running_var, float eps) noexcept {
  return 1.0f / sqrt_f(running_var + eps);
}
/// A channel's affine map y = x * scale + shift (cpu layer_detail::bn_scale_shift).
STATICNET_HD inline void bn_scale_shift(float gamma, float beta, float mean, float invstd, float& scale,
                                        float& shift) noexcept {
  scale = gamma * invstd;
  shift = fma_f(-mean, scale, beta);
}
/// One output element, with the fused ReLU when relu.
STATICNET_HD inline float bn_affine(float x, float scale, float shift, bool relu) noexcept {
  const float v = fma_f(x, scale, shift);
  return relu ? relu_value(v) : v;
}
/// The gradient at the BatchNorm's output: dy, or, with a fused ReLU after it,
/// dy where that ReLU passed (its mask rebuilt from x and the forward's map).
STATICNET_HD inline float bn_output_grad(float x, float dy, float scale, float shift, bool relu) noexcept {
  return relu ? (fma_f(x, scale, shift) > 0.0f ? dy : 0.0f) : dy;
}
/// The backward's per-channel constants from sdy = sum(g) and sdyx = sum(g * (x - mean)):
/// dx = a * g + kx * (x - mean) + kc; dgamma = sdyx * invstd, dbeta = sdy.
struct bn_backward_coef {
  float a, kx, kc, dgamma, dbeta;
};
STATICNET_HD inline bn_backward_coef bn_backward_coefficients(double sdy, double sdyx, float invstd_f, float gamma,
                                                              double count) noexcept {
  const double invstd = invstd_f;
  const double dg = sdyx * invstd;
  const double a = static_cast<double>(gamma) * invstd;
  const double inv_count = count > 0.0 ? 1.0 / count : 0.0;
  return {static_cast<float>(a), static_cast<float>(-a * invstd * dg * inv_count),
          static_cast<float>(-a * sdy * inv_count), static_cast<float>(dg), static_cast<float>(sdy)};
}
STATICNET_HD inline float bn_backward_dx(float x, float g, float mean, const bn_backward_coef& k) noexcept {
  return fma_f(k.a, g, fma_f(k.kx, x - mean, k.kc));
}

// ------------------------------------------------------------ optimizers --
/// One element of torch.optim.SGD (cpu::sgd_step): returns the new parameter;
/// *buf (the momentum buffer) is read and written only when momentum != 0.
STATICNET_HD inline float sgd_update(float p, float g, float* buf, float lr, float momentum, float dampening,
                                     float weight_decay, bool nesterov, bool first_step) noexcept {
  if (weight_decay != 0.0f) g = fma_f(p, weight_decay, g);
  if (momentum != 0.0f) {
    const float b = first_step ? g : fma_f(*buf, momentum, g * (1.0f - dampening));
    *buf = b;
    g = nesterov ? fma_f(b, momentum, g) : b;
  }
  return fma_f(g, -lr, p);
}

/// One element of Adam / AdamW (cpu::adam_step): returns the new parameter,
/// updates *m, *v and, with amsgrad, *vmax.
STATICNET_HD inline float adam_update(float p, float g, float* m, float* v, float* vmax,
                                      const cpu::adam_coefficients& c) noexcept {
  if (c.maximize) g = -g;
  if (c.weight_decay != 0.0f) g = g + p * c.weight_decay;
  if (c.decay != 1.0f) p = p * c.decay;
  const float mm = *m * c.beta1 + g * c.one_minus_beta1;
  float vv = *v * c.beta2 + c.one_minus_beta2 * g * g;
  *m = mm;
  *v = vv;
  if (c.amsgrad) {
    const float old = *vmax;
    vv = old < vv ? vv : old;  // std::max(old, vv)
    *vmax = vv;
  }
  const float denom = sqrt_f(vv) / c.bias_correction2_sqrt + c.eps;
  return p + c.neg_step_size * mm / denom;
}

// ---------------------------------------------------------------- losses --
/// log_softmax of one element of a row with maximum m and log_sum = log(sum exp(x - m)).
STATICNET_HD constexpr float log_softmax_value(float x, float m, float log_sum) noexcept { return (x - m) - log_sum; }
/// log_softmax's backward of one element from its output y and the row's sum of dy.
STATICNET_HD inline float log_softmax_grad(float y, float dy, float sum_dy) noexcept {
  return fma_f(-exp_f(y), sum_dy, dy);
}
/// One row's cross-entropy with label smoothing ls (cpu::cross_entropy):
/// x_t = the target's logit, lse = m + log(sum exp(x - m)), sum_x = the row's sum.
STATICNET_HD inline double cross_entropy_row(float x_t, float lse, float sum_x, int classes, float ls) noexcept {
  double loss = -(static_cast<double>(x_t) - static_cast<double>(lse));
  if (ls != 0.0f) {
    const double sum_logp = static_cast<double>(sum_x) - static_cast<double>(classes) * static_cast<double>(lse);
    loss = (1.0 - static_cast<double>(ls)) * loss - (static_cast<double>(ls) / static_cast<double>(classes)) * sum_logp;
  }
  return loss;
}
/// The gradient of the mean cross-entropy at one logit: (softmax - off) / n,
/// minus (1 - ls) / n at the target; off = ls / classes, inv_n = 1 / n.
STATICNET_HD inline float cross_entropy_grad(float x, float lse, float off, float inv_n, bool is_target,
                                             float ls) noexcept {
  float d = (exp_f(x - lse) - off) * inv_n;
  if (is_target) d -= (1.0f - ls) * inv_n;
  return d;
}
/// The mean of the row losses (NaN for an empty batch, as torch).
STATICNET_HD inline float mean_loss(double total, int n) noexcept {
  return n > 0 ? static_cast<float>(total / static_cast<double>(n)) : quiet_nan();
}

// ----------------------------------------------------------------- input --
/// (x / 255 - mean) / std for one uint8 pixel value.
STATICNET_HD inline float normalize_u8_value(std::uint8_t x, float mean, float std_dev) noexcept {
  return (static_cast<float>(x) / 255.0f - mean) / std_dev;
}

// --------------------------------------------------------------- pooling --
/// The taps of one window along one dimension: the real ones (inside the
/// input) are lo, lo + dil, ... < hi (real of them); padded counts the taps
/// inside the padded input (torch's count_include_pad divisor: taps past the
/// padded border, possible with ceil_mode, do not count).
struct pool_span {
  int lo, hi, real, padded;
};
STATICNET_HD constexpr pool_span pool_window(int o, int stride, int pad, int dil, int k, int in) noexcept {
  const int start = o * stride - pad;
  const int k_lo = start < 0 ? (-start + dil - 1) / dil : 0;
  const int reach = in - 1 - start;  // the last real tap t has t * dil <= reach
  int k_hi = reach < 0 ? 0 : reach / dil + 1;
  k_hi = k_hi < k ? k_hi : k;
  const int limit = in + pad - start;  // padded taps: t * dil < limit
  int padded = limit <= 0 ? 0 : (limit + dil - 1) / dil;
  padded = padded < k ? padded : k;
  if (k_hi <= k_lo) return {0, 0, 0, padded};
  return {start + k_lo * dil, start + (k_hi - 1) * dil + 1, k_hi - k_lo, padded};
}
/// The outputs [lo, hi) of one dimension whose window span contains input i.
struct index_range {
  int lo, hi;
};
STATICNET_HD constexpr index_range pool_outputs_of(int i, int stride, int pad, int dil, int k, int out) noexcept {
  const int first = i + pad - (k - 1) * dil;  // o * stride >= first
  const int lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const int hi = (i + pad) / stride + 1;  // o * stride <= i + pad
  return {lo, hi < out ? hi : out};
}
/// The divisor of an average-pooling window.
STATICNET_HD constexpr int avgpool_divisor(const pool_span& h, const pool_span& w, bool count_include_pad) noexcept {
  return count_include_pad ? h.padded * w.padded : h.real * w.real;
}

/// Max pooling output (oh, ow) of one plane xp and its argmax (ih * w_in + iw;
/// -1 for a window with no real tap): ties keep the first maximum in row-major
/// window order, NaN wins (torch's `v > max || isnan(v)`).
STATICNET_HD inline float maxpool_at(const cpu::pool_geom& g, const float* xp, int oh, int ow,
                                     std::int32_t& argmax) noexcept {
  const pool_span h = pool_window(oh, g.sh, g.ph, g.dh, g.kh, g.h_in);
  const pool_span w = pool_window(ow, g.sw, g.pw, g.dw, g.kw, g.w_in);
  float best = neg_inf();
  std::int32_t bi = -1;
  if (h.real > 0 && w.real > 0) {
    bi = h.lo * g.w_in + w.lo;
    for (int ih = h.lo; ih < h.hi; ih += g.dh)
      for (int iw = w.lo; iw < w.hi; iw += g.dw) {
        const float v = xp[ih * g.w_in + iw];
        if (v > best || is_nan(v)) {
          best = v;
          bi = ih * g.w_in + iw;
        }
      }
  }
  argmax = bi;
  return best;
}
/// Max pooling's input gradient at (ih, iw) of one plane: the sum of the dy of
/// the outputs whose argmax is this element, in output order (the CPU's
/// scatter-add order).
STATICNET_HD inline float maxpool_grad_at(const cpu::pool_geom& g, const float* dyp, const std::int32_t* ap, int ih,
                                          int iw) noexcept {
  const index_range rh = pool_outputs_of(ih, g.sh, g.ph, g.dh, g.kh, g.h_out);
  const index_range rw = pool_outputs_of(iw, g.sw, g.pw, g.dw, g.kw, g.w_out);
  const std::int32_t self = ih * g.w_in + iw;
  float s = 0.0f;
  for (int oh = rh.lo; oh < rh.hi; ++oh)
    for (int ow = rw.lo; ow < rw.hi; ++ow) {
      const int o = oh * g.w_out + ow;
      if (ap[o] == self) s += dyp[o];
    }
  return s;
}
/// Average pooling output (oh, ow) of one plane (sum in row-major window order / divisor).
STATICNET_HD inline float avgpool_at(const cpu::pool_geom& g, const float* xp, int oh, int ow) noexcept {
  const pool_span h = pool_window(oh, g.sh, g.ph, g.dh, g.kh, g.h_in);
  const pool_span w = pool_window(ow, g.sw, g.pw, g.dw, g.kw, g.w_in);
  float s = 0.0f;
  if (h.real > 0 && w.real > 0)
    for (int ih = h.lo; ih < h.hi; ih += g.dh)
      for (int iw = w.lo; iw < w.hi; iw += g.dw) s += xp[ih * g.w_in + iw];
  return s / static_cast<float>(avgpool_divisor(h, w, g.count_include_pad));
}
/// Average pooling's input gradient at (ih, iw) of one plane: the sum of
/// dy / divisor over the outputs whose window has a tap on it.
STATICNET_HD inline float avgpool_grad_at(const cpu::pool_geom& g, const float* dyp, int ih, int iw) noexcept {
  const index_range rh = pool_outputs_of(ih, g.sh, g.ph, g.dh, g.kh, g.h_out);
  const index_range rw = pool_outputs_of(iw, g.sw, g.pw, g.dw, g.kw, g.w_out);
  float s = 0.0f;
  for (int oh = rh.lo; oh < rh.hi; ++oh) {
    if ((ih + g.ph - oh * g.sh) % g.dh != 0) continue;
    const pool_span h = pool_window(oh, g.sh, g.ph, g.dh, g.kh, g.h_in);
    for (int ow = rw.lo; ow < rw.hi; ++ow) {
      if ((iw + g.pw - ow * g.sw) % g.dw != 0) continue;
      const pool_span w = pool_window(ow, g.sw, g.pw, g.dw, g.kw, g.w_in);
      s += dyp[oh * g.w_out + ow] / static_cast<float>(avgpool_divisor(h, w, g.count_include_pad));
    }
  }
  return s;
}

// ------------------------------------------------- depthwise convolution --
// groups == c_in, c_out = mult * c_in, weights [c_out][1][kh][kw]: output
// channel oc reads input channel oc / mult (PyTorch semantics, zero padding).

/// Output (oy, ox) of output channel oc: xp is the plane of input channel
/// oc / mult, wk the channel's kh * kw taps; bias + the taps in row-major order.
STATICNET_HD inline float depthwise_at(const cpu::conv_geom& g, const float* xp, const float* wk, float bias, bool relu,
                                       int oy, int ox) noexcept {
  float acc = bias;
  const int y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
  for (int ky = 0; ky < g.kh; ++ky) {
    const int iy = y0 + ky * g.dh;
    if (iy < 0 || iy >= g.h_in) continue;
    for (int kx = 0; kx < g.kw; ++kx) {
      const int ix = x0 + kx * g.dw;
      if (ix < 0 || ix >= g.w_in) continue;
      acc = fma_f(wk[ky * g.kw + kx], xp[iy * g.w_in + ix], acc);
    }
  }
  return relu ? relu_value(acc) : acc;
}
/// The input gradient at (iy, ix) of input channel c: dyi is the image's dy
/// (c_out planes), w all the weights.
STATICNET_HD inline float depthwise_grad_data_at(const cpu::conv_geom& g, const float* dyi, const float* w, int c, int iy,
                                                 int ix) noexcept {
  const int mult = g.c_out / g.c_in, taps = g.kh * g.kw;
  const std::size_t out_plane = static_cast<std::size_t>(g.h_out) * static_cast<std::size_t>(g.w_out);
  float acc = 0.0f;
  for (int m = 0; m < mult; ++m) {
    const int oc = c * mult + m;
    const float* dyp = dyi + static_cast<std::size_t>(oc) * out_plane;
    const float* wk = w + static_cast<std::size_t>(oc) * static_cast<std::size_t>(taps);
    for (int ky = 0; ky < g.kh; ++ky) {
      const int ty = iy + g.ph - ky * g.dh;  // oy * sh
      if (ty < 0 || ty % g.sh != 0 || ty / g.sh >= g.h_out) continue;
      for (int kx = 0; kx < g.kw; ++kx) {
        const int tx = ix + g.pw - kx * g.dw;
        if (tx < 0 || tx % g.sw != 0 || tx / g.sw >= g.w_out) continue;
        acc = fma_f(wk[ky * g.kw + kx], dyp[(ty / g.sh) * g.w_out + tx / g.sw], acc);
      }
    }
  }
  return acc;
}
/// acc + dy[oy, ox] * x[iy, ix] for tap (ky, kx) of the weight gradient (acc
/// when the tap falls in the padding); xp / dyp: the planes of one image.
STATICNET_HD inline float depthwise_grad_filter_term(const cpu::conv_geom& g, const float* xp, const float* dyp, int ky,
                                                     int kx, int oy, int ox, float acc) noexcept {
  const int iy = oy * g.sh - g.ph + ky * g.dh, ix = ox * g.sw - g.pw + kx * g.dw;
  if (iy < 0 || iy >= g.h_in || ix < 0 || ix >= g.w_in) return acc;
  return fma_f(dyp[oy * g.w_out + ox], xp[iy * g.w_in + ix], acc);
}

}  // namespace staticnet::cuda::arith
