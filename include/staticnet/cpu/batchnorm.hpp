// staticnet/cpu/batchnorm.hpp: BatchNorm2d (and BatchNorm1d with hw = 1) CPU kernels, NCHW.
//
// Exact torch.nn.BatchNorm semantics:
//  * training: normalise with the batch mean and the BIASED batch variance,
//    save mean and 1/sqrt(var + eps) for backward, and update the running
//    statistics with momentum using the UNBIASED variance (count/(count-1)):
//      running = (1 - momentum) * running + momentum * batch_stat
//  * eval: normalise with the running statistics.
//  * backward (training mode, batch statistics).
// gamma/beta may be null (affine=False: gamma = 1, beta = 0); running_mean /
// running_var may be null (track_running_stats=False); save_mean/save_invstd
// may be null when no backward follows. In backward, dx, dgamma and dbeta may
// each be null (skipped).
// Parallel over channels (training, backward) or over planes (eval); the
// per-plane loops are vectorised with xsimd. No heap allocation.
#pragma once
#include <cmath>
#include <cstddef>
#include <stdexcept>

#include "kernel_types.hpp"
#include "simd.hpp"

STATICNET_CPU_DIAGNOSTICS_BEGIN

STATICNET_CPU_KERNELS_BEGIN

namespace layer_detail {

/// y[i] = max(x[i] * a + b, 0): the affine map of BatchNorm with a fused ReLU
/// after it (NaN propagates, as torch.relu).
inline void affine_relu(const float* x, std::size_t n, float a, float b, float* y, bool stream = false) noexcept {
  const vf va(a), vb(b), zero(0.0f);
  std::size_t i = 0;
  if (stream)
    for (; i + vlen <= n; i += vlen) {
      const vf v = xsimd::fma(vf::load_unaligned(x + i), va, vb);
      store_streaming(xsimd::select(v < zero, zero, v), y + i);
    }
  for (; i + vlen <= n; i += vlen) {
    const vf v = xsimd::fma(vf::load_unaligned(x + i), va, vb);
    xsimd::select(v < zero, zero, v).store_unaligned(y + i);
  }
  for (; i < n; ++i) {
    const float v = std::fma(x[i], a, b);
    y[i] = v < 0.0f ? 0.0f : v;
  }
}

/// A channel's affine map y = x * scale + shift from its statistics (the one
/// definition the forward and, to rebuild a fused ReLU's mask, the backward use).
inline void bn_scale_shift(float g, float b, float mean, float invstd, float& scale, float& shift) noexcept {
  scale = g * invstd;
  shift = std::fma(-mean, scale, b);
}

/// Grain (channels per chunk) so that a chunk touches at least ~64K elements.
inline std::size_t bn_channel_grain(std::size_t per_channel) noexcept {
  return std::max<std::size_t>(1, (std::size_t{1} << 16) / std::max<std::size_t>(per_channel, 1));
}

}  // namespace layer_detail

/// Floats of the optional `scratch` of batchnorm_forward_train and
/// batchnorm_backward: two per (image, channel) plane and four per channel.
/// With it, both kernels sweep memory image by image (each pass one
/// contiguous, prefetch-friendly stream: per-plane partial sums first, then a
/// per-channel merge, then the element-wise pass) instead of channel by
/// channel, where every 4 KB plane of a 32 x 32 map starts a new stream.
inline std::size_t batchnorm_scratch_floats(int n, int c) noexcept {
  return 2 * static_cast<std::size_t>(n > 0 ? n : 0) * static_cast<std::size_t>(c > 0 ? c : 0) +
         4 * static_cast<std::size_t>(c > 0 ? c : 0);
}

namespace layer_detail {
/// The bytes of a channel's x and dy planes up to which batchnorm_backward goes
/// channel by channel (about half a core's L2 on the machines we measure).
inline constexpr std::size_t bn_l2_bytes = std::size_t{1} << 20;

/// Planes per parallel chunk: enough elements to be worth a thread.
inline std::size_t bn_plane_grain(std::size_t hw) noexcept {
  return std::max<std::size_t>(1, elementwise_grain / std::max<std::size_t>(hw, 1));
}
}  // namespace layer_detail

/// What a BatchNorm kernel fuses with a ReLU next to it.
///  * input:  the BatchNorm's input x is a ReLU's output; backward also applies
///            that ReLU's backward (dx *= x > 0), so dx is the gradient of the
///            ReLU's input.
///  * output: a ReLU follows the BatchNorm; forward writes max(y, 0), and
///            backward takes the gradient of that ReLU's output (the mask
///            y > 0 is rebuilt from x and the saved statistics; beta must be
///            passed to the backward).

/// Training-mode forward. See the header comment for the null-pointer rules;
/// `scratch` is optional (batchnorm_scratch_floats(n, c) floats, see there);
/// relu_output fuses a following ReLU (see bn_relu). plane_stats (used only
/// with scratch): the per-plane statistics of x already computed, as
/// layer_detail::plane_stats_of writes them (means of the n * c planes, then
/// their sums of squared deviations), e.g. by the conv that wrote x
/// (conv2d_forward's plane_stats); the pass that computes them is then skipped.
/// Throws std::invalid_argument when n*hw <= 1 (as torch: "Expected more than
/// 1 value per channel when training").
inline void batchnorm_forward_train(int n, int c, int hw, const float* x, const float* gamma, const float* beta,
                                    float* y, float* save_mean, float* save_invstd, float* running_mean,
                                    float* running_var, float momentum, float eps, float* scratch = nullptr,
                                    bool relu_output = false, const float* plane_stats = nullptr) {
  using namespace layer_detail;
  if (c <= 0) return;
  const auto N = static_cast<std::size_t>(n), C = static_cast<std::size_t>(c), HW = static_cast<std::size_t>(hw);
  const std::size_t count = N * HW;
  if (n < 0 || hw < 0 || count <= 1)
    throw std::invalid_argument("staticnet::cpu::batchnorm_forward_train: expected more than 1 value per channel "
                                "when training (n * hw <= 1)");
  // Per-channel statistics, then scale and shift, from the batch statistics.
  auto finish_channel = [&](std::size_t ch, double mean_d, double sq, float& scale, float& shift) {
    const float mean = static_cast<float>(mean_d);
    const double var = sq / static_cast<double>(count);
    const float invstd = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
    if (save_mean) save_mean[ch] = mean;
    if (save_invstd) save_invstd[ch] = invstd;
    if (running_mean) running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
    if (running_var)
      running_var[ch] = (1.0f - momentum) * running_var[ch] +
                        momentum * static_cast<float>(sq / static_cast<double>(count - 1));
    bn_scale_shift(gamma ? gamma[ch] : 1.0f, beta ? beta[ch] : 0.0f, mean, invstd, scale, shift);
  };
  const bool stream = stream_output(y, N * C * HW, HW);
  auto apply = [relu_output, stream](const float* xp, std::size_t len, float scale, float shift, float* yp) {
    if (relu_output)
      affine_relu(xp, len, scale, shift, yp, stream);
    else
      affine(xp, len, scale, shift, yp, stream);
  };
  if (scratch) {
    const std::size_t planes = N * C;
    float* coef = scratch + 2 * planes;  // per-channel scale, shift
    const float* pm = plane_stats ? plane_stats : scratch;  // per-plane mean
    const float* pv = pm + planes;                           // per-plane sum of squared deviations
    if (!plane_stats)
      chunked(planes, bn_plane_grain(HW), [&](std::size_t pb, std::size_t pe) {
        for (std::size_t p = pb; p < pe; ++p) plane_stats_of(x + p * HW, HW, scratch[p], scratch[planes + p]);
      });
    // Chan et al.'s merge of equal-sized groups: M2 = sum M2_p + HW * sum (mean_p - mean)^2.
    chunked(C, std::max<std::size_t>(1, 4096 / std::max<std::size_t>(N, 1)), [&](std::size_t cb, std::size_t ce) {
      for (std::size_t ch = cb; ch < ce; ++ch) {
        double mean = 0.0;
        for (std::size_t i = 0; i < N; ++i) mean += pm[i * C + ch];
        mean /= static_cast<double>(N);
        double sq = 0.0, dev = 0.0;
        for (std::size_t i = 0; i < N; ++i) {
          sq += pv[i * C + ch];
          const double d = pm[i * C + ch] - mean;
          dev += d * d;
        }
        finish_channel(ch, mean, sq + static_cast<double>(HW) * dev, coef[ch], coef[C + ch]);
      }
    });
    chunked(planes, bn_plane_grain(HW), [&](std::size_t pb, std::size_t pe) {
      for (std::size_t p = pb; p < pe; ++p) {
        const std::size_t ch = p % C;
        apply(x + p * HW, HW, coef[ch], coef[C + ch], y + p * HW);
      }
      if (stream) stream_fence();
    });
    return;
  }
  chunked(C, bn_channel_grain(count), [&](std::size_t cb, std::size_t ce) {
    for (std::size_t ch = cb; ch < ce; ++ch) {
      double s = 0.0;
      for (std::size_t i = 0; i < N; ++i) s += layer_detail::sum(x + (i * C + ch) * HW, HW);
      const float mean = static_cast<float>(s / static_cast<double>(count));
      double sq = 0.0;
      for (std::size_t i = 0; i < N; ++i) sq += sum_sq_dev(x + (i * C + ch) * HW, HW, mean);
      float scale = 0.0f, shift = 0.0f;
      finish_channel(ch, mean, sq, scale, shift);
      for (std::size_t i = 0; i < N; ++i) {
        const std::size_t off = (i * C + ch) * HW;
        apply(x + off, HW, scale, shift, y + off);
      }
    }
    if (stream) stream_fence();
  });
}

/// Eval-mode forward: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta
/// (then max(y, 0) with relu_output).
inline void batchnorm_forward_eval(int n, int c, int hw, const float* x, const float* gamma, const float* beta,
                                   const float* running_mean, const float* running_var, float eps, float* y,
                                   bool relu_output = false) {
  using namespace layer_detail;
  if (n <= 0 || c <= 0 || hw <= 0) return;
  const auto C = static_cast<std::size_t>(c), HW = static_cast<std::size_t>(hw);
  const std::size_t planes = static_cast<std::size_t>(n) * C;
  chunked(planes, std::max<std::size_t>(1, elementwise_grain / HW), [&](std::size_t pb, std::size_t pe) {
    for (std::size_t p = pb; p < pe; ++p) {
      const std::size_t ch = p % C;
      const float invstd = 1.0f / std::sqrt(running_var[ch] + eps);
      const float g = gamma ? gamma[ch] : 1.0f;
      const float b = beta ? beta[ch] : 0.0f;
      float scale = 0.0f, shift = 0.0f;
      bn_scale_shift(g, b, running_mean[ch], invstd, scale, shift);
      if (relu_output)
        affine_relu(x + p * HW, HW, scale, shift, y + p * HW);
      else
        affine(x + p * HW, HW, scale, shift, y + p * HW);
    }
  });
}

/// Training-mode backward (uses the saved batch statistics):
///   dbeta  = sum(dy), dgamma = sum(dy * xhat), xhat = (x - mean) * invstd
///   dx     = gamma * invstd * (dy - dbeta/count - xhat * dgamma/count)
/// dgamma/dbeta are overwritten. `relu` fuses a neighbouring ReLU (see
/// bn_relu; bn_relu::output needs beta). `scratch` as in the forward.
inline void batchnorm_backward(int n, int c, int hw, const float* x, const float* dy, const float* gamma,
                               const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                               float* dbeta, bn_relu relu = bn_relu::none, float* scratch = nullptr,
                               const float* beta = nullptr) {
  using namespace layer_detail;
  if (c <= 0) return;
  const auto N = static_cast<std::size_t>(n < 0 ? 0 : n), C = static_cast<std::size_t>(c),
             HW = static_cast<std::size_t>(hw < 0 ? 0 : hw);
  const std::size_t count = N * HW;
  const bool mask_in = relu == bn_relu::input, mask_out = relu == bn_relu::output;
  // The forward's affine map of channel ch (for the mask of a ReLU after it).
  auto out_map = [&](std::size_t ch, float& scale, float& shift) {
    bn_scale_shift(gamma ? gamma[ch] : 1.0f, beta ? beta[ch] : 0.0f, save_mean[ch], save_invstd[ch], scale, shift);
  };
  // The gradient of the BatchNorm's output: dy, or dy where the ReLU after it passed its input.
  auto grad_at = [mask_out](const vf& xv, const vf& g, const vf& sc, const vf& sh) {
    return mask_out ? xsimd::select(xsimd::fma(xv, sc, sh) > vf(0.0f), g, vf(0.0f)) : g;
  };
  auto grad_at1 = [mask_out](float xv, float g, float sc, float sh) {
    return mask_out ? (std::fma(xv, sc, sh) > 0.0f ? g : 0.0f) : g;
  };
  // dx = a * dy + kx * (x - mean) + kc (times x > 0 for a ReLU before it), per channel.
  const bool stream = dx && stream_output(dx, N * C * HW, HW);
  auto dx_plane = [&](std::size_t ch, const float* xp, const float* gp, float* dp, float fa, float fkx, float fkc) {
    const float mean = save_mean[ch];
    float sc = 0.0f, sh = 0.0f;
    if (mask_out) out_map(ch, sc, sh);
    const vf vm(mean), va(fa), vkx(fkx), vkc(fkc), zero(0.0f), vsc(sc), vsh(sh);
    std::size_t j = 0;
    for (; j + vlen <= HW; j += vlen) {
      const vf xv = vf::load_unaligned(xp + j);
      const vf g = grad_at(xv, vf::load_unaligned(gp + j), vsc, vsh);
      const vf d = xsimd::fma(va, g, xsimd::fma(vkx, xv - vm, vkc));
      const vf out = mask_in ? xsimd::select(xv > zero, d, zero) : d;
      if (stream)
        store_streaming(out, dp + j);
      else
        out.store_unaligned(dp + j);
    }
    for (; j < HW; ++j) {
      const float g = grad_at1(xp[j], gp[j], sc, sh);
      const float d = fa * g + (fkx * (xp[j] - mean) + fkc);
      dp[j] = mask_in && !(xp[j] > 0.0f) ? 0.0f : d;
    }
  };
  // sum(dy) and sum(dy * (x - mean)) over one plane of channel ch.
  auto plane_sums = [&](std::size_t ch, const float* xp, const float* gp, float& fa, float& fb) {
    const float mean = save_mean[ch];
    float sc = 0.0f, sh = 0.0f;
    if (mask_out) out_map(ch, sc, sh);
    const vf vm(mean), vsc(sc), vsh(sh);
    vf a(0.0f), b(0.0f);
    std::size_t j = 0;
    for (; j + vlen <= HW; j += vlen) {
      const vf xv = vf::load_unaligned(xp + j);
      const vf g = grad_at(xv, vf::load_unaligned(gp + j), vsc, vsh);
      a += g;
      b = xsimd::fma(g, xv - vm, b);
    }
    fa = xsimd::hadd(a);
    fb = xsimd::hadd(b);
    for (; j < HW; ++j) {
      const float g = grad_at1(xp[j], gp[j], sc, sh);
      fa += g;
      fb += g * (xp[j] - mean);
    }
  };
  // The channel's coefficients from its sums; writes dgamma / dbeta.
  auto coefficients = [&](std::size_t ch, double sdy, double sdyx, float& fa, float& fkx, float& fkc) {
    const double invstd = save_invstd[ch];
    const double dg = sdyx * invstd;  // sum(dy * xhat)
    if (dbeta) dbeta[ch] = static_cast<float>(sdy);
    if (dgamma) dgamma[ch] = static_cast<float>(dg);
    const double g = gamma ? gamma[ch] : 1.0;
    const double a = g * invstd;
    const double inv_count = count ? 1.0 / static_cast<double>(count) : 0.0;
    fa = static_cast<float>(a);
    fkx = static_cast<float>(-a * invstd * dg * inv_count);
    fkc = static_cast<float>(-a * sdy * inv_count);
  };
  // Channel-major (below) reads x and dy from memory once: each channel's
  // planes are summed, then read again for dx while they are still in L2. It
  // needs a channel's planes of x and dy to fit there; otherwise (and without
  // scratch it is the only way) planes go in memory order, twice.
  const bool channel_major = !scratch || N * HW * 2 * sizeof(float) <= bn_l2_bytes;
  if (!channel_major) {
    const std::size_t planes = N * C;
    float* ps = scratch;            // per-plane sum(dy)
    float* pq = scratch + planes;   // per-plane sum(dy * (x - mean))
    float* coef = pq + planes;      // per-channel a, kx, kc
    chunked(planes, bn_plane_grain(HW), [&](std::size_t pb, std::size_t pe) {
      for (std::size_t p = pb; p < pe; ++p) plane_sums(p % C, x + p * HW, dy + p * HW, ps[p], pq[p]);
    });
    chunked(C, std::max<std::size_t>(1, 4096 / std::max<std::size_t>(N, 1)), [&](std::size_t cb, std::size_t ce) {
      for (std::size_t ch = cb; ch < ce; ++ch) {
        double sdy = 0.0, sdyx = 0.0;
        for (std::size_t i = 0; i < N; ++i) {
          sdy += ps[i * C + ch];
          sdyx += pq[i * C + ch];
        }
        coefficients(ch, sdy, sdyx, coef[ch], coef[C + ch], coef[2 * C + ch]);
      }
    });
    if (!dx || count == 0) return;
    chunked(planes, bn_plane_grain(HW), [&](std::size_t pb, std::size_t pe) {
      for (std::size_t p = pb; p < pe; ++p) {
        const std::size_t ch = p % C;
        dx_plane(ch, x + p * HW, dy + p * HW, dx + p * HW, coef[ch], coef[C + ch], coef[2 * C + ch]);
      }
      if (stream) stream_fence();
    });
    return;
  }
  // A channel's planes are 4 KB-page-sized pieces C * HW floats apart, where
  // the hardware prefetchers stop: the planes two ahead are prefetched.
  auto prefetch_plane = [HW](const float* p) {
    for (std::size_t j = 0; j < HW; j += 64 / sizeof(float)) __builtin_prefetch(p + j, 0, 3);
  };
  chunked(C, bn_channel_grain(count), [&](std::size_t cb, std::size_t ce) {
    for (std::size_t ch = cb; ch < ce; ++ch) {
      double sdy = 0.0, sdyx = 0.0;
      for (std::size_t i = 0; i < N; ++i) {
        const std::size_t off = (i * C + ch) * HW;
        if (i + 2 < N) {
          prefetch_plane(x + off + 2 * C * HW);
          prefetch_plane(dy + off + 2 * C * HW);
        }
        float fa = 0.0f, fb = 0.0f;
        plane_sums(ch, x + off, dy + off, fa, fb);
        sdy += fa;
        sdyx += fb;
      }
      float fa = 0.0f, fkx = 0.0f, fkc = 0.0f;
      coefficients(ch, sdy, sdyx, fa, fkx, fkc);
      if (!dx || count == 0) continue;
      for (std::size_t i = 0; i < N; ++i) {
        const std::size_t off = (i * C + ch) * HW;
        dx_plane(ch, x + off, dy + off, dx + off, fa, fkx, fkc);
      }
    }
    if (stream) stream_fence();
  });
}

STATICNET_CPU_KERNELS_END

STATICNET_CPU_DIAGNOSTICS_END
