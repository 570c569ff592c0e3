// Tests for staticnet/cuda/arith.hpp, the arithmetic of the CUDA engine's own
// kernels (src/cuda/*.cu), run on the host: each test drives the arith
// functions the way a kernel does (one element, row or output position at a
// time; reductions in double where the kernel reduces in double) and compares
// with cpu::kernels() on small random inputs: bit for bit where no rounding
// can differ (masks, ReLU, max and average pooling's forward, argmax, max
// pooling's gradient), else within 1e-6 relative. (Not bit for bit there:
// arith always fuses fma_f, while the CPU kernels' xsimd::fma is fused or not
// depending on the instruction-set variant, and sums go in other orders.)
// Plain C++: built and run without CUDA.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <staticnet/cpu/kernels.hpp>
#include <staticnet/cpu/parallel.hpp>
#include <staticnet/cuda/arith.hpp>
#include <staticnet/data/transform.hpp>

namespace cpu = staticnet::cpu;
namespace arith = staticnet::cuda::arith;
namespace rng = staticnet::dropout_rng;
using fvec = std::vector<float>;

namespace {

fvec random_vec(std::size_t n, std::uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  fvec v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

/// Bit-for-bit equality (NaN equal to NaN).
void expect_same(const fvec& ref, const fvec& got, const std::string& what) {
  ASSERT_EQ(ref.size(), got.size()) << what;
  int bad = 0;
  for (std::size_t i = 0; i < ref.size() && bad < 5; ++i)
    if (std::memcmp(&ref[i], &got[i], sizeof(float)) != 0 && !(std::isnan(ref[i]) && std::isnan(got[i]))) {
      ADD_FAILURE() << what << "[" << i << "]: cpu " << ref[i] << ", arith " << got[i];
      ++bad;
    }
}

/// |got - ref| <= rel * max(|ref|, max|ref| / 10, floor): relative to the
/// element, floored at a tenth of the tensor's largest magnitude (an element
/// that cancels to near zero keeps the rounding error of its terms) or, for a
/// long sum, at `floor` (a tenth of the sum of its terms' magnitudes).
void expect_close(const fvec& ref, const fvec& got, const std::string& what, double rel = 1e-6,
                  double floor = 0.0) {
  ASSERT_EQ(ref.size(), got.size()) << what;
  double scale = 0.0;
  for (float v : ref) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  int bad = 0;
  for (std::size_t i = 0; i < ref.size() && bad < 5; ++i) {
    if (std::isnan(ref[i]) && std::isnan(got[i])) continue;
    const double err = std::fabs(static_cast<double>(got[i]) - ref[i]);
    if (!(err <= rel * std::max({std::fabs(static_cast<double>(ref[i])), 0.1 * scale, floor}))) {
      ADD_FAILURE() << what << "[" << i << "]: cpu " << ref[i] << ", arith " << got[i] << " (error " << err << ")";
      ++bad;
    }
  }
}

void expect_close(float ref, float got, const std::string& what, double rel = 1e-6) {
  expect_close(fvec{ref}, fvec{got}, what, rel);
}

/// The CUDA kernels' block reduction (src/cuda/common.cuh block_sum): a tree
/// over block_threads per-thread partial sums.
constexpr std::size_t block_threads = 256;
float block_sum(fvec v) {
  for (std::size_t s = block_threads / 2; s > 0; s >>= 1)
    for (std::size_t i = 0; i < s; ++i) v[i] += v[i + s];
  return v[0];
}

/// torch's pooled size (ceil_mode: the last window must start inside the input or its left padding).
int pooled(int in, int k, int s, int p, int d, bool ceil_mode) {
  const int span = in + 2 * p - d * (k - 1) - 1;
  int out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

}  // namespace

// ------------------------------------------------------------ optimizers --

TEST(CudaArith, SgdUpdateMatchesCpu) {
  const std::size_t n = 1037;  // vector body and scalar tail on the CPU side
  for (float momentum : {0.0f, 0.9f})
    for (bool nesterov : {false, true})
      for (float wd : {0.0f, 5e-4f})
        for (float damp : {0.0f, 0.1f})
          for (bool first : {true, false}) {
            if (nesterov && momentum == 0.0f) continue;
            const cpu::sgd_options o{.lr = 0.05f, .momentum = momentum, .dampening = damp, .weight_decay = wd,
                                     .nesterov = nesterov};
            fvec p = random_vec(n, 1), b = random_vec(n, 3);
            const fvec g = random_vec(n, 2);
            fvec p2 = p, b2 = b;
            cpu::kernels().sgd_step(n, p.data(), g.data(), momentum != 0.0f ? b.data() : nullptr, o, first);
            for (std::size_t i = 0; i < n; ++i)
              p2[i] = arith::sgd_update(p2[i], g[i], &b2[i], o.lr, o.momentum, o.dampening, o.weight_decay,
                                        o.nesterov, first);
            const std::string what = "sgd momentum=" + std::to_string(momentum) + " nesterov=" +
                                     std::to_string(nesterov) + " wd=" + std::to_string(wd) +
                                     " damp=" + std::to_string(damp) + " first=" + std::to_string(first);
            expect_close(p, p2, what + " params");
            expect_close(b, b2, what + " buffer");
          }
}

TEST(CudaArith, AdamUpdateMatchesCpu) {
  const std::size_t n = 1037;
  for (bool amsgrad : {false, true})
    for (bool maximize : {false, true})
      for (auto kind : {cpu::weight_decay_kind::l2, cpu::weight_decay_kind::decoupled})
        for (double wd : {0.0, 1e-2}) {
          const cpu::adam_options o{.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = wd,
                                    .amsgrad = amsgrad, .maximize = maximize};
          fvec p = random_vec(n, 4), m(n, 0.0f), v(n, 0.0f), vmax(n, 0.0f);
          fvec p2 = p, m2 = m, v2 = v, vmax2 = vmax;
          for (std::int64_t step = 1; step <= 3; ++step) {
            const fvec g = random_vec(n, 10 + static_cast<std::uint32_t>(step));
            const cpu::adam_coefficients c = cpu::make_adam_coefficients(o, step, kind);
            cpu::kernels().adam_step(n, p.data(), g.data(), m.data(), v.data(), amsgrad ? vmax.data() : nullptr, c);
            for (std::size_t i = 0; i < n; ++i) p2[i] = arith::adam_update(p2[i], g[i], &m2[i], &v2[i], &vmax2[i], c);
          }
          const std::string what = "adam amsgrad=" + std::to_string(amsgrad) + " maximize=" +
                                   std::to_string(maximize) + " decoupled=" +
                                   std::to_string(kind == cpu::weight_decay_kind::decoupled) + " wd=" +
                                   std::to_string(wd);
          expect_close(p, p2, what + " params");
          expect_close(m, m2, what + " exp_avg");
          expect_close(v, v2, what + " exp_avg_sq");
          if (amsgrad) expect_close(vmax, vmax2, what + " max_exp_avg_sq");
        }
}

// ---------------------------------------------------- ReLU and dropout --

TEST(CudaArith, ReluMatchesCpu) {
  fvec x = random_vec(301, 5);
  x[3] = 0.0f;
  x[7] = -0.0f;
  x[11] = std::numeric_limits<float>::quiet_NaN();
  const fvec dy = random_vec(301, 6);
  fvec y(x.size()), dx(x.size()), y2(x.size()), dx2(x.size());
  cpu::kernels().relu_forward(x.size(), x.data(), y.data());
  cpu::kernels().relu_backward(x.size(), y.data(), dy.data(), dx.data());
  for (std::size_t i = 0; i < x.size(); ++i) {
    y2[i] = arith::relu_value(x[i]);
    dx2[i] = arith::relu_grad(y2[i], dy[i]);
  }
  expect_same(y, y2, "relu y");
  expect_same(dx, dx2, "relu dx");
}

TEST(CudaArith, DropoutMasksMatchCpu) {
  const std::size_t n = 1001;  // odd: the last 64-bit word's high half unused
  const fvec x = random_vec(n, 7), dy = random_vec(n, 8);
  for (float p : {0.0f, -0.5f, 0.25f, 0.5f, 0.999f, 1.0f, 1.5f, std::numeric_limits<float>::quiet_NaN()})
    for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{12345}, ~std::uint64_t{0}}) {
      fvec y(n), dx(n), y2(n), dx2(n);
      std::vector<std::uint8_t> mask(n), mask2(n);
      cpu::kernels().dropout_forward(n, x.data(), y.data(), mask.data(), p, seed);
      cpu::kernels().dropout_backward(n, mask.data(), p, dy.data(), dx.data());
      const arith::dropout_setup s = arith::dropout_params(p);
      const std::uint64_t key = rng::key(seed);
      for (std::size_t i = 0; i < n; ++i) {
        mask2[i] = arith::dropout_mask(key, s, i);
        y2[i] = arith::dropout_apply(x[i], mask2[i], s.scale);
        dx2[i] = arith::dropout_apply(dy[i], mask2[i], arith::dropout_params(p).scale);
      }
      const std::string what = "dropout p=" + std::to_string(p) + " seed=" + std::to_string(seed);
      EXPECT_EQ(mask, mask2) << what;
      expect_same(y, y2, what + " y");
      expect_same(dx, dx2, what + " dx");
    }
}

// ------------------------------------------------------------- BatchNorm --

namespace {
struct bn_case {
  int n, c, hw;
  bool affine, relu;
};
}  // namespace

TEST(CudaArith, BatchNormMatchesCpu) {
  const float momentum = 0.1f, eps = 1e-5f;
  for (const bn_case& t : {bn_case{3, 4, 37, true, false}, bn_case{3, 4, 37, true, true}, bn_case{2, 3, 64, false, true},
                           bn_case{16, 5, 1, true, false}, bn_case{1, 2, 2, true, true}}) {
    const std::string what = "bn n=" + std::to_string(t.n) + " c=" + std::to_string(t.c) + " hw=" +
                             std::to_string(t.hw) + " affine=" + std::to_string(t.affine) + " relu=" +
                             std::to_string(t.relu);
    const std::size_t C = static_cast<std::size_t>(t.c), HW = static_cast<std::size_t>(t.hw);
    const std::size_t size = static_cast<std::size_t>(t.n) * C * HW;
    fvec x = random_vec(size, 20, -2.0f, 3.0f);
    for (std::size_t i = 0; i < size; ++i) x[i] += static_cast<float>((i / HW) % C);  // per-channel offsets
    const fvec gamma = random_vec(C, 21, 0.5f, 1.5f), beta = random_vec(C, 22), dy = random_vec(size, 23);
    const float* g = t.affine ? gamma.data() : nullptr;
    const float* b = t.affine ? beta.data() : nullptr;
    const fvec rm0 = random_vec(C, 24), rv0 = random_vec(C, 25, 0.5f, 2.0f);
    auto at = [&](int img, int ch, std::size_t j) { return (static_cast<std::size_t>(img) * C + ch) * HW + j; };

    // Training forward.
    fvec y(size), mean(C), invstd(C), rm = rm0, rv = rv0;
    cpu::kernels().batchnorm_forward_train(t.n, t.c, t.hw, x.data(), g, b, y.data(), mean.data(), invstd.data(),
                                           rm.data(), rv.data(), momentum, eps, nullptr, t.relu, nullptr);
    fvec y2(size), mean2(C), invstd2(C), rm2 = rm0, rv2 = rv0, scale(C), shift(C);
    const double count = static_cast<double>(t.n) * t.hw;
    for (int ch = 0; ch < t.c; ++ch) {  // as bn_train_stats_kernel
      double s = 0.0, q = 0.0;
      for (int img = 0; img < t.n; ++img)
        for (std::size_t j = 0; j < HW; ++j) s += x[at(img, ch, j)];
      mean2[ch] = arith::bn_mean(s, count);
      for (int img = 0; img < t.n; ++img)
        for (std::size_t j = 0; j < HW; ++j) {
          const double d = static_cast<double>(x[at(img, ch, j)]) - mean2[ch];
          q += d * d;
        }
      invstd2[ch] = arith::bn_train_invstd(q, count, eps);
      rm2[ch] = arith::bn_running(rm2[ch], mean2[ch], momentum);
      rv2[ch] = arith::bn_running(rv2[ch], arith::bn_unbiased_var(q, count), momentum);
      arith::bn_scale_shift(g ? g[ch] : 1.0f, b ? b[ch] : 0.0f, mean2[ch], invstd2[ch], scale[ch], shift[ch]);
    }
    for (std::size_t i = 0; i < size; ++i) y2[i] = arith::bn_affine(x[i], scale[(i / HW) % C], shift[(i / HW) % C], t.relu);
    expect_close(mean, mean2, what + " save_mean");
    expect_close(invstd, invstd2, what + " save_invstd");
    expect_close(rm, rm2, what + " running_mean");
    expect_close(rv, rv2, what + " running_var");
    expect_close(y, y2, what + " y");

    // Eval forward.
    fvec ye(size), ye2(size);
    cpu::kernels().batchnorm_forward_eval(t.n, t.c, t.hw, x.data(), g, b, rm0.data(), rv0.data(), eps, ye.data(),
                                          t.relu);
    for (std::size_t i = 0; i < size; ++i) {
      const std::size_t ch = (i / HW) % C;
      float sc = 0.0f, sh = 0.0f;
      arith::bn_scale_shift(g ? g[ch] : 1.0f, b ? b[ch] : 0.0f, rm0[ch], arith::bn_eval_invstd(rv0[ch], eps), sc, sh);
      ye2[i] = arith::bn_affine(x[i], sc, sh, t.relu);
    }
    expect_close(ye, ye2, what + " eval y");

    // Backward from the CPU's saved statistics.
    fvec dx(size), dgamma(C), dbeta(C);
    cpu::kernels().batchnorm_backward(t.n, t.c, t.hw, x.data(), dy.data(), g, mean.data(), invstd.data(), dx.data(),
                                      dgamma.data(), dbeta.data(), t.relu ? cpu::bn_relu::output : cpu::bn_relu::none,
                                      nullptr, b);
    fvec dx2(size), dgamma2(C), dbeta2(C);
    for (int ch = 0; ch < t.c; ++ch) {  // as bn_backward_sums_kernel, then the element pass
      const float gc = g ? g[ch] : 1.0f;
      float sc = 0.0f, sh = 0.0f;
      if (t.relu) arith::bn_scale_shift(gc, b ? b[ch] : 0.0f, mean[ch], invstd[ch], sc, sh);
      double sdy = 0.0, sdyx = 0.0;
      for (int img = 0; img < t.n; ++img)
        for (std::size_t j = 0; j < HW; ++j) {
          const std::size_t i = at(img, ch, j);
          const double gv = arith::bn_output_grad(x[i], dy[i], sc, sh, t.relu);
          sdy += gv;
          sdyx += gv * (static_cast<double>(x[i]) - mean[ch]);
        }
      const arith::bn_backward_coef k = arith::bn_backward_coefficients(sdy, sdyx, invstd[ch], gc, count);
      dgamma2[ch] = k.dgamma;
      dbeta2[ch] = k.dbeta;
      for (int img = 0; img < t.n; ++img)
        for (std::size_t j = 0; j < HW; ++j) {
          const std::size_t i = at(img, ch, j);
          dx2[i] = arith::bn_backward_dx(x[i], arith::bn_output_grad(x[i], dy[i], sc, sh, t.relu), mean[ch], k);
        }
    }
    expect_close(dgamma, dgamma2, what + " dgamma");
    expect_close(dbeta, dbeta2, what + " dbeta");
    expect_close(dx, dx2, what + " dx");
  }
}

// --------------------------------------------------------------- pooling --

TEST(CudaArith, PoolWindowCountsTaps) {
  // pool_window and pool_outputs_of against brute force over small geometries.
  for (int in = 1; in <= 9; ++in)
    for (int k = 1; k <= 4; ++k)
      for (int s = 1; s <= 3; ++s)
        for (int d = 1; d <= 3; ++d)
          for (int p = 0; p <= (k - 1) * d / 2 + 1; ++p)
            for (bool ceil_mode : {false, true}) {
              const int out = pooled(in, k, s, p, d, ceil_mode);
              if (out <= 0) continue;
              for (int o = 0; o < out; ++o) {
                const arith::pool_span w = arith::pool_window(o, s, p, d, k, in);
                int real = 0, padded = 0, lo = 0, hi = 0;
                for (int t = 0; t < k; ++t) {
                  const int i = o * s - p + t * d;
                  if (i < in + p) ++padded;
                  if (i >= 0 && i < in) {
                    if (real++ == 0) lo = i;
                    hi = i + 1;
                  }
                }
                ASSERT_EQ(w.real, real) << in << " " << k << " " << s << " " << d << " " << p << " o=" << o;
                ASSERT_EQ(w.padded, padded) << in << " " << k << " " << s << " " << d << " " << p << " o=" << o;
                if (real > 0) {
                  ASSERT_EQ(w.lo, lo);
                  ASSERT_EQ(w.hi, hi);
                }
              }
              for (int i = 0; i < in; ++i) {
                const arith::index_range r = arith::pool_outputs_of(i, s, p, d, k, out);
                for (int o = 0; o < out; ++o) {
                  const bool covers = o * s - p <= i && i <= o * s - p + (k - 1) * d;
                  ASSERT_EQ(covers, o >= r.lo && o < r.hi) << "i=" << i << " o=" << o;
                }
              }
            }
}

namespace {
cpu::pool_geom pool_geom_of(int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                            bool ceil_mode, bool count_include_pad) {
  cpu::pool_geom g;
  g.c = c;
  g.h_in = h;
  g.w_in = w;
  g.kh = kh;
  g.kw = kw;
  g.sh = sh;
  g.sw = sw;
  g.ph = ph;
  g.pw = pw;
  g.dh = dh;
  g.dw = dw;
  g.ceil_mode = ceil_mode;
  g.count_include_pad = count_include_pad;
  g.h_out = pooled(h, kh, sh, ph, dh, ceil_mode);
  g.w_out = pooled(w, kw, sw, pw, dw, ceil_mode);
  return g;
}
}  // namespace

TEST(CudaArith, PoolingMatchesCpu) {
  const int n = 2;
  for (bool include_pad : {true, false}) {
    const cpu::pool_geom geoms[] = {
        pool_geom_of(2, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1, true, include_pad),
        pool_geom_of(3, 5, 7, 2, 2, 2, 2, 0, 0, 1, 1, true, include_pad),
        pool_geom_of(2, 8, 8, 3, 3, 1, 1, 2, 2, 2, 2, false, include_pad),
        pool_geom_of(2, 10, 6, 3, 2, 3, 1, 1, 0, 1, 1, true, include_pad),
        pool_geom_of(2, 6, 40, 3, 3, 1, 1, 1, 1, 1, 1, false, include_pad),   // CPU row-vector path
        pool_geom_of(2, 9, 41, 3, 3, 2, 2, 1, 1, 1, 1, true, include_pad),    // strided row vectors
        pool_geom_of(1, 4, 4, 4, 4, 4, 4, 0, 0, 1, 1, false, include_pad),
    };
    for (const cpu::pool_geom& g : geoms) {
      const std::string what = "pool " + std::to_string(g.h_in) + "x" + std::to_string(g.w_in) + " k" +
                               std::to_string(g.kh) + "x" + std::to_string(g.kw) + " s" + std::to_string(g.sh) +
                               " p" + std::to_string(g.ph) + " d" + std::to_string(g.dh) + " ceil=" +
                               std::to_string(g.ceil_mode) + " include_pad=" + std::to_string(include_pad);
      const std::size_t in_plane = static_cast<std::size_t>(g.h_in) * g.w_in;
      const std::size_t out_plane = static_cast<std::size_t>(g.h_out) * g.w_out;
      const std::size_t planes = static_cast<std::size_t>(n) * g.c;
      fvec x = random_vec(planes * in_plane, 30);
      for (std::size_t i = 0; i < x.size(); i += 7) x[i] = x[i + 1 < x.size() ? i + 1 : i];  // ties
      x[5] = std::numeric_limits<float>::quiet_NaN();                                       // NaN wins
      const fvec dy = random_vec(planes * out_plane, 31);

      fvec y(planes * out_plane), y2(y.size()), dx(planes * in_plane), dx2(dx.size());
      std::vector<std::int32_t> am(y.size()), am2(y.size());
      cpu::kernels().maxpool_forward(g, n, x.data(), y.data(), am.data());
      cpu::kernels().maxpool_backward(g, n, dy.data(), am.data(), dx.data());
      for (std::size_t p = 0; p < planes; ++p) {
        for (int oh = 0; oh < g.h_out; ++oh)
          for (int ow = 0; ow < g.w_out; ++ow) {
            const std::size_t o = p * out_plane + static_cast<std::size_t>(oh) * g.w_out + ow;
            y2[o] = arith::maxpool_at(g, x.data() + p * in_plane, oh, ow, am2[o]);
          }
        for (int ih = 0; ih < g.h_in; ++ih)
          for (int iw = 0; iw < g.w_in; ++iw)
            dx2[p * in_plane + static_cast<std::size_t>(ih) * g.w_in + iw] =
                arith::maxpool_grad_at(g, dy.data() + p * out_plane, am.data() + p * out_plane, ih, iw);
      }
      expect_same(y, y2, what + " maxpool y");
      EXPECT_EQ(am, am2) << what << " maxpool argmax";
      expect_same(dx, dx2, what + " maxpool dx");

      cpu::kernels().avgpool_forward(g, n, x.data(), y.data());
      cpu::kernels().avgpool_backward(g, n, dy.data(), dx.data());
      for (std::size_t p = 0; p < planes; ++p) {
        for (int oh = 0; oh < g.h_out; ++oh)
          for (int ow = 0; ow < g.w_out; ++ow)
            y2[p * out_plane + static_cast<std::size_t>(oh) * g.w_out + ow] =
                arith::avgpool_at(g, x.data() + p * in_plane, oh, ow);
        for (int ih = 0; ih < g.h_in; ++ih)
          for (int iw = 0; iw < g.w_in; ++iw)
            dx2[p * in_plane + static_cast<std::size_t>(ih) * g.w_in + iw] =
                arith::avgpool_grad_at(g, dy.data() + p * out_plane, ih, iw);
      }
      expect_same(y, y2, what + " avgpool y");
      expect_close(dx, dx2, what + " avgpool dx");
    }
  }
}

// ---------------------------------------------------------------- losses --

TEST(CudaArith, LogSoftmaxAndLossesMatchCpu) {
  for (int classes : {1, 10, 37}) {
    const int n = 6;
    const std::size_t C = static_cast<std::size_t>(classes), size = static_cast<std::size_t>(n) * C;
    const fvec x = random_vec(size, 40, -4.0f, 4.0f), dy = random_vec(size, 41);
    std::vector<std::int32_t> target(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) target[static_cast<std::size_t>(r)] = (r * 7 + 3) % classes;
    const std::string what = "classes=" + std::to_string(classes);

    // log_softmax, forward and backward, as the warp-per-row kernels (fmaxf max, float sums).
    fvec y(size), dx(size), y2(size), dx2(size);
    cpu::kernels().log_softmax_forward(n, classes, x.data(), y.data());
    cpu::kernels().log_softmax_backward(n, classes, y.data(), dy.data(), dx.data());
    std::vector<float> lse(static_cast<std::size_t>(n)), sum_x(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) {
      const float* xr = x.data() + static_cast<std::size_t>(r) * C;
      float m = -std::numeric_limits<float>::infinity(), se = 0.0f, sx = 0.0f, sd = 0.0f;
      for (std::size_t j = 0; j < C; ++j) m = std::fmax(m, xr[j]);
      for (std::size_t j = 0; j < C; ++j) {
        se += arith::exp_f(xr[j] - m);
        sx += xr[j];
      }
      const float log_sum = arith::log_f(se);
      lse[static_cast<std::size_t>(r)] = m + log_sum;
      sum_x[static_cast<std::size_t>(r)] = sx;
      for (std::size_t j = 0; j < C; ++j) y2[r * C + j] = arith::log_softmax_value(xr[j], m, log_sum);
      for (std::size_t j = 0; j < C; ++j) sd += dy[r * C + j];
      for (std::size_t j = 0; j < C; ++j) dx2[r * C + j] = arith::log_softmax_grad(y2[r * C + j], dy[r * C + j], sd);
    }
    expect_close(y, y2, what + " log_softmax y");
    expect_close(dx, dx2, what + " log_softmax dx");

    // nll_loss of the CPU's log-probabilities.
    fvec dlogp(size), dlogp2(size);
    const float nll = cpu::kernels().nll_loss(n, classes, y.data(), target.data(), dlogp.data());
    double total = 0.0;
    for (int r = 0; r < n; ++r) {
      total += -static_cast<double>(y[static_cast<std::size_t>(r) * C + static_cast<std::size_t>(target[r])]);
      for (std::size_t j = 0; j < C; ++j)
        dlogp2[r * C + j] = static_cast<int>(j) == target[static_cast<std::size_t>(r)] ? -1.0f / static_cast<float>(n)
                                                                                       : 0.0f;
    }
    expect_close(nll, arith::mean_loss(total, n), what + " nll loss");
    expect_same(dlogp, dlogp2, what + " nll grad");

    // cross_entropy, with and without label smoothing.
    for (float ls : {0.0f, 0.1f}) {
      fvec g(size), g2(size);
      const float loss = cpu::kernels().cross_entropy(n, classes, x.data(), target.data(), ls, g.data());
      double tot = 0.0;
      const float off = ls / static_cast<float>(classes), inv_n = 1.0f / static_cast<float>(n);
      for (int r = 0; r < n; ++r) {
        const std::size_t R = static_cast<std::size_t>(r);
        const float* xr = x.data() + R * C;
        tot += arith::cross_entropy_row(xr[target[R]], lse[R], sum_x[R], classes, ls);
        for (std::size_t j = 0; j < C; ++j)
          g2[R * C + j] = arith::cross_entropy_grad(xr[j], lse[R], off, inv_n, static_cast<int>(j) == target[R], ls);
      }
      expect_close(loss, arith::mean_loss(tot, n), what + " cross_entropy ls=" + std::to_string(ls));
      expect_close(g, g2, what + " cross_entropy grad ls=" + std::to_string(ls));
    }
  }
  EXPECT_TRUE(std::isnan(arith::mean_loss(0.0, 0)));
  EXPECT_TRUE(std::isnan(cpu::kernels().cross_entropy(0, 3, nullptr, nullptr, 0.0f, nullptr)));
}

// ----------------------------------------------------------------- input --

TEST(CudaArith, NormalizeU8MatchesDataTransform) {
  const int h = 5, w = 7, c = 3;
  const std::vector<double> mean{0.4914, 0.4822, 0.4465}, stdv{0.2470, 0.2435, 0.2616};
  std::vector<std::uint8_t> hwc(static_cast<std::size_t>(h * w * c));
  for (std::size_t i = 0; i < hwc.size(); ++i) hwc[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
  hwc[0] = 0;
  hwc[1] = 255;
  fvec chw(hwc.size()), chw2(hwc.size());
  std::mt19937_64 gen(1);
  staticnet::data::normalize_transform(mean, stdv)(hwc.data(), h, w, c, chw.data(), gen);
  const std::size_t plane = static_cast<std::size_t>(h * w);
  for (int k = 0; k < c; ++k)
    for (std::size_t p = 0; p < plane; ++p)
      chw2[static_cast<std::size_t>(k) * plane + p] = arith::normalize_u8_value(
          hwc[p * c + static_cast<std::size_t>(k)], static_cast<float>(mean[static_cast<std::size_t>(k)]),
          static_cast<float>(stdv[static_cast<std::size_t>(k)]));
  expect_close(chw, chw2, "normalize_u8");
}

// ------------------------------------------------- depthwise convolution --

namespace {
cpu::conv_geom depthwise_geom(int c_in, int mult, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                              int dw) {
  const int h_out = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, w_out = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  return {c_in, h, w, c_in * mult, h_out, w_out, kh, kw, sh, sw, ph, pw, dh, dw, c_in};
}
}  // namespace

TEST(CudaArith, DepthwiseMatchesCpu) {
  const int n = 2;
  const cpu::conv_geom geoms[] = {
      depthwise_geom(3, 1, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1), depthwise_geom(3, 2, 9, 11, 3, 3, 2, 2, 1, 1, 1, 1),
      depthwise_geom(4, 1, 10, 12, 5, 3, 2, 1, 2, 1, 2, 1), depthwise_geom(2, 3, 8, 7, 3, 3, 1, 2, 2, 2, 2, 2),
      depthwise_geom(3, 1, 6, 20, 1, 1, 1, 1, 0, 0, 1, 1),
  };
  for (const cpu::conv_geom& g : geoms)
    for (bool relu : {false, true}) {
      const std::string what = "depthwise c_in=" + std::to_string(g.c_in) + " c_out=" + std::to_string(g.c_out) +
                               " k" + std::to_string(g.kh) + "x" + std::to_string(g.kw) + " s" + std::to_string(g.sh) +
                               "x" + std::to_string(g.sw) + " d" + std::to_string(g.dh) + "x" +
                               std::to_string(g.dw) + " relu=" + std::to_string(relu);
      const std::size_t in_plane = static_cast<std::size_t>(g.h_in) * g.w_in;
      const std::size_t out_plane = static_cast<std::size_t>(g.h_out) * g.w_out;
      const std::size_t taps = static_cast<std::size_t>(g.kh) * g.kw;
      const fvec x = random_vec(n * g.c_in * in_plane, 50), w = random_vec(g.c_out * taps, 51),
                 bias = random_vec(static_cast<std::size_t>(g.c_out), 52),
                 dy = random_vec(n * g.c_out * out_plane, 53);
      fvec scratch(cpu::kernels().conv_scratch_floats(g, n, cpu::num_threads()));
      fvec y(n * g.c_out * out_plane), dx(x.size()), dw(w.size()), db(bias.size());
      cpu::kernels().conv2d_forward(g, n, x.data(), w.data(), bias.data(), y.data(), scratch.data(),
                                    relu ? cpu::conv_epilogue::relu : cpu::conv_epilogue::none, nullptr);
      cpu::kernels().conv2d_backward(g, n, x.data(), dy.data(), w.data(), dx.data(), dw.data(), db.data(),
                                     scratch.data());
      const int mult = g.c_out / g.c_in;
      fvec y2(y.size()), dx2(dx.size()), dw2(dw.size()), db2(db.size());
      for (int img = 0; img < n; ++img) {
        for (int oc = 0; oc < g.c_out; ++oc)
          for (int oy = 0; oy < g.h_out; ++oy)
            for (int ox = 0; ox < g.w_out; ++ox)
              y2[(static_cast<std::size_t>(img) * g.c_out + oc) * out_plane + static_cast<std::size_t>(oy) * g.w_out +
                 ox] = arith::depthwise_at(g, x.data() + (static_cast<std::size_t>(img) * g.c_in + oc / mult) * in_plane,
                                           w.data() + oc * taps, bias[static_cast<std::size_t>(oc)], relu, oy, ox);
        for (int c = 0; c < g.c_in; ++c)
          for (int iy = 0; iy < g.h_in; ++iy)
            for (int ix = 0; ix < g.w_in; ++ix)
              dx2[(static_cast<std::size_t>(img) * g.c_in + c) * in_plane + static_cast<std::size_t>(iy) * g.w_in +
                  ix] = arith::depthwise_grad_data_at(g, dy.data() + static_cast<std::size_t>(img) * g.c_out * out_plane,
                                                      w.data(), c, iy, ix);
      }
      // The weight and bias gradients in dw_filter_kernel's order (one slice at
      // this size): position e goes to thread e % 256, then block_sum's tree.
      const std::size_t positions = static_cast<std::size_t>(n) * out_plane;
      double l1_dw = 0.0, l1_db = 0.0;  // the largest sum of |terms| of one weight / bias gradient
      for (int oc = 0; oc < g.c_out; ++oc)
        for (std::size_t t = 0; t <= taps; ++t) {  // t == taps: the bias
          fvec acc(block_threads, 0.0f);
          double l1 = 0.0;
          for (std::size_t e = 0; e < positions; ++e) {
            const std::size_t img = e / out_plane;
            const int r = static_cast<int>(e % out_plane);
            const float* dyp = dy.data() + (img * g.c_out + oc) * out_plane;
            float& a = acc[e % block_threads];
            if (t == taps) {
              a += dyp[r];
              l1 += std::fabs(dyp[r]);
            } else {
              const float before = a;
              a = arith::depthwise_grad_filter_term(g, x.data() + (img * g.c_in + oc / mult) * in_plane, dyp,
                                                    static_cast<int>(t) / g.kw, static_cast<int>(t) % g.kw,
                                                    r / g.w_out, r % g.w_out, a);
              l1 += std::fabs(static_cast<double>(a) - before);
            }
          }
          (t == taps ? l1_db : l1_dw) = std::max(t == taps ? l1_db : l1_dw, l1);
          (t == taps ? db2[static_cast<std::size_t>(oc)] : dw2[static_cast<std::size_t>(oc) * taps + t]) =
              block_sum(acc);
        }
      expect_close(y, y2, what + " y");
      expect_close(dx, dx2, what + " dx");
      expect_close(dw, dw2, what + " dw", 1e-6, 0.1 * l1_dw);
      expect_close(db, db2, what + " dbias", 1e-6, 0.1 * l1_db);
    }
}
