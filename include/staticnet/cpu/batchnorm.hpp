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

#include "activation.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace staticnet::cpu {

namespace layer_detail {

/// sum((p[i] - mean)^2).
inline float sum_sq_dev(const float* p, std::size_t n, float mean) noexcept {
  const vf vm(mean);
  vf a0(0.0f), a1(0.0f);
  std::size_t i = 0;
  for (; i + 2 * vlen <= n; i += 2 * vlen) {
    const vf d0 = vf::load_unaligned(p + i) - vm, d1 = vf::load_unaligned(p + i + vlen) - vm;
    a0 = xsimd::fma(d0, d0, a0);
    a1 = xsimd::fma(d1, d1, a1);
  }
  for (; i + vlen <= n; i += vlen) {
    const vf d = vf::load_unaligned(p + i) - vm;
    a0 = xsimd::fma(d, d, a0);
  }
  float s = xsimd::hadd(a0 + a1);
  for (; i < n; ++i) s += (p[i] - mean) * (p[i] - mean);
  return s;
}

/// Grain (channels per chunk) so that a chunk touches at least ~64K elements.
inline std::size_t bn_channel_grain(std::size_t per_channel) noexcept {
  return std::max<std::size_t>(1, (std::size_t{1} << 16) / std::max<std::size_t>(per_channel, 1));
}

}  // namespace layer_detail

/// Training-mode forward. See the header comment for the null-pointer rules.
/// Throws std::invalid_argument when n*hw <= 1 (as torch: "Expected more than
/// 1 value per channel when training").
inline void batchnorm_forward_train(int n, int c, int hw, const float* x, const float* gamma, const float* beta,
                                    float* y, float* save_mean, float* save_invstd, float* running_mean,
                                    float* running_var, float momentum, float eps) {
  using namespace layer_detail;
  if (c <= 0) return;
  const auto N = static_cast<std::size_t>(n), C = static_cast<std::size_t>(c), HW = static_cast<std::size_t>(hw);
  const std::size_t count = N * HW;
  if (n < 0 || hw < 0 || count <= 1)
    throw std::invalid_argument("staticnet::cpu::batchnorm_forward_train: expected more than 1 value per channel "
                                "when training (n * hw <= 1)");
  chunked(C, bn_channel_grain(count), [&](std::size_t cb, std::size_t ce) {
    for (std::size_t ch = cb; ch < ce; ++ch) {
      double s = 0.0;
      for (std::size_t i = 0; i < N; ++i) s += layer_detail::sum(x + (i * C + ch) * HW, HW);
      const float mean = static_cast<float>(s / static_cast<double>(count));
      double sq = 0.0;
      for (std::size_t i = 0; i < N; ++i) sq += sum_sq_dev(x + (i * C + ch) * HW, HW, mean);
      const double var = sq / static_cast<double>(count);
      const float invstd = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
      if (save_mean) save_mean[ch] = mean;
      if (save_invstd) save_invstd[ch] = invstd;
      if (running_mean)
        running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
      if (running_var)
        running_var[ch] = (1.0f - momentum) * running_var[ch] +
                          momentum * static_cast<float>(sq / static_cast<double>(count - 1));
      const float g = gamma ? gamma[ch] : 1.0f;
      const float b = beta ? beta[ch] : 0.0f;
      const float scale = g * invstd;
      const float shift = b - mean * scale;
      for (std::size_t i = 0; i < N; ++i) {
        const std::size_t off = (i * C + ch) * HW;
        affine(x + off, HW, scale, shift, y + off);
      }
    }
  });
}

/// Eval-mode forward: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta.
inline void batchnorm_forward_eval(int n, int c, int hw, const float* x, const float* gamma, const float* beta,
                                   const float* running_mean, const float* running_var, float eps, float* y) {
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
      const float scale = g * invstd;
      affine(x + p * HW, HW, scale, b - running_mean[ch] * scale, y + p * HW);
    }
  });
}

/// Training-mode backward (uses the saved batch statistics):
///   dbeta  = sum(dy), dgamma = sum(dy * xhat), xhat = (x - mean) * invstd
///   dx     = gamma * invstd * (dy - dbeta/count - xhat * dgamma/count)
/// dgamma/dbeta are overwritten.
inline void batchnorm_backward(int n, int c, int hw, const float* x, const float* dy, const float* gamma,
                               const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                               float* dbeta) {
  using namespace layer_detail;
  if (c <= 0) return;
  const auto N = static_cast<std::size_t>(n < 0 ? 0 : n), C = static_cast<std::size_t>(c),
             HW = static_cast<std::size_t>(hw < 0 ? 0 : hw);
  const std::size_t count = N * HW;
  chunked(C, bn_channel_grain(count), [&](std::size_t cb, std::size_t ce) {
    for (std::size_t ch = cb; ch < ce; ++ch) {
      const float mean = save_mean[ch], invstd = save_invstd[ch];
      double sdy = 0.0, sdyx = 0.0;
      const vf vm(mean);
      for (std::size_t i = 0; i < N; ++i) {
        const std::size_t off = (i * C + ch) * HW;
        const float* xp = x + off;
        const float* gp = dy + off;
        vf a(0.0f), b(0.0f);
        std::size_t j = 0;
        for (; j + vlen <= HW; j += vlen) {
          const vf g = vf::load_unaligned(gp + j);
          a += g;
          b = xsimd::fma(g, vf::load_unaligned(xp + j) - vm, b);
        }
        float fa = xsimd::hadd(a), fb = xsimd::hadd(b);
        for (; j < HW; ++j) {
          fa += gp[j];
          fb += gp[j] * (xp[j] - mean);
        }
        sdy += fa;
        sdyx += fb;
      }
      const double dg = sdyx * invstd;  // sum(dy * xhat)
      if (dbeta) dbeta[ch] = static_cast<float>(sdy);
      if (dgamma) dgamma[ch] = static_cast<float>(dg);
      if (!dx || count == 0) continue;
      // dx = a * dy + kx * (x - mean) + kc
      const double g = gamma ? gamma[ch] : 1.0;
      const double a = g * invstd;
      const double inv_count = 1.0 / static_cast<double>(count);
      const double kx = -a * invstd * dg * inv_count;
      const double kc = -a * sdy * inv_count;
      const float fa = static_cast<float>(a), fkx = static_cast<float>(kx), fkc = static_cast<float>(kc);
      const vf va(fa), vkx(fkx), vkc(fkc);
      for (std::size_t i = 0; i < N; ++i) {
        const std::size_t off = (i * C + ch) * HW;
        const float* xp = x + off;
        const float* gp = dy + off;
        float* dp = dx + off;
        std::size_t j = 0;
        for (; j + vlen <= HW; j += vlen)
          xsimd::fma(va, vf::load_unaligned(gp + j), xsimd::fma(vkx, vf::load_unaligned(xp + j) - vm, vkc))
              .store_unaligned(dp + j);
        for (; j < HW; ++j) dp[j] = fa * gp[j] + (fkx * (xp[j] - mean) + fkc);
      }
    }
  });
}

}  // namespace staticnet::cpu

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
