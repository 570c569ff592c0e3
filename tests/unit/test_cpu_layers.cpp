// Tests for the CPU kernels of the non-conv layers (staticnet/cpu/*.hpp):
// forward values against naive double-precision references and hand-computed
// cases, finite-difference checks of every backward (loss = sum(y * r)),
// and the PyTorch-specific rules (BN running stats, pooling divisors and ties,
// dropout statistics and determinism, label smoothing, SGD variants).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include <staticnet/cpu/activation.hpp>
#include <staticnet/cpu/batchnorm.hpp>
#include <staticnet/cpu/concat.hpp>
#include <staticnet/cpu/linear.hpp>
#include <staticnet/cpu/loss.hpp>
#include <staticnet/cpu/pooling.hpp>
#include <staticnet/cpu/sgd.hpp>

namespace cpu = staticnet::cpu;
using fvec = std::vector<float>;

namespace {

fvec random_vec(std::size_t n, std::uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  fvec v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

/// Distinct values spaced >= 0.1 apart (no ties, no kinks within +-h for h < 0.05).
fvec distinct_vec(std::size_t n, std::uint32_t seed) {
  std::vector<int> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::mt19937 rng(seed);
  std::shuffle(idx.begin(), idx.end(), rng);
  fvec v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = 0.1f * static_cast<float>(idx[i]) - 0.05f * static_cast<float>(n);
  return v;
}

double dot(const fvec& a, const fvec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

/// Central-difference check of d(loss)/d(v) against `analytic`; loss() re-runs the forward.
void check_grad(fvec& v, const fvec& analytic, const std::function<double()>& loss, const char* what,
                float h = 1e-2f, double rtol = 1e-2, double atol = 2e-3) {
  ASSERT_EQ(v.size(), analytic.size()) << what;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const float saved = v[i];
    v[i] = saved + h;
    const double lp = loss();
    v[i] = saved - h;
    const double lm = loss();
    v[i] = saved;
    const double num = (lp - lm) / (2.0 * static_cast<double>(h));
    EXPECT_NEAR(analytic[i], num, atol + rtol * std::abs(num)) << what << " [" << i << "]";
  }
}

void expect_close(const fvec& got, const std::vector<double>& want, double rtol, double atol, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], atol + rtol * std::abs(want[i])) << what << " [" << i << "]";
}

/// Restores the pool size when a test changes it.
struct thread_guard {
  int saved = cpu::num_threads();
  ~thread_guard() { cpu::set_num_threads(saved); }
};

}  // namespace

// =================================================================== ReLU ==

TEST(CpuRelu, ForwardBackwardAndInPlace) {
  for (std::size_t n : {std::size_t{1}, std::size_t{37}, std::size_t{300001}}) {
    fvec x = random_vec(n, 1), y(n);
    x[0] = -0.0f;
    if (n > 2) x[1] = std::numeric_limits<float>::quiet_NaN();
    cpu::relu_forward(n, x.data(), y.data());
    for (std::size_t i = 0; i < n; ++i) {
      if (std::isnan(x[i])) {
        EXPECT_TRUE(std::isnan(y[i]));
      } else {
        ASSERT_EQ(y[i], x[i] > 0 ? x[i] : 0.0f) << i;
      }
    }
    fvec z = x;
    cpu::relu_forward(n, z.data(), z.data());  // x == y
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isnan(x[i])) {
        ASSERT_EQ(z[i], y[i]);
      }
    }
    fvec dy = random_vec(n, 2), dx(n);
    cpu::relu_backward(n, y.data(), dy.data(), dx.data());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(dx[i], y[i] > 0 ? dy[i] : 0.0f) << i;
  }
}

TEST(CpuRelu, GradCheck) {
  const std::size_t n = 23;
  fvec x = distinct_vec(n, 3), r = random_vec(n, 4), y(n), dx(n);
  auto loss = [&] {
    cpu::relu_forward(n, x.data(), y.data());
    return dot(y, r);
  };
  loss();
  cpu::relu_backward(n, y.data(), r.data(), dx.data());
  check_grad(x, dx, loss, "relu dx");
}

// ============================================================ log_softmax ==

namespace {
std::vector<double> naive_log_softmax(int rows, int cols, const fvec& x) {
  std::vector<double> y(x.size());
  for (int r = 0; r < rows; ++r) {
    double m = -INFINITY, s = 0;
    for (int j = 0; j < cols; ++j) m = std::max(m, static_cast<double>(x[r * cols + j]));
    for (int j = 0; j < cols; ++j) s += std::exp(x[r * cols + j] - m);
    for (int j = 0; j < cols; ++j) y[r * cols + j] = x[r * cols + j] - m - std::log(s);
  }
  return y;
}
}  // namespace

TEST(CpuLogSoftmax, ForwardMatchesNaiveAndIsStable) {
  for (auto [rows, cols] : {std::pair{5, 37}, std::pair{3, 1}, std::pair{40, 1000}, std::pair{2, 10}}) {
    fvec x = random_vec(static_cast<std::size_t>(rows) * cols, 5, -5.0f, 5.0f);
    x[0] += 1000.0f;  // huge logit: must not overflow
    fvec y(x.size());
    cpu::log_softmax_forward(rows, cols, x.data(), y.data());
    expect_close(y, naive_log_softmax(rows, cols, x), 1e-5, 1e-4, "log_softmax");
    fvec z = x;
    cpu::log_softmax_forward(rows, cols, z.data(), z.data());  // in place
    for (std::size_t i = 0; i < z.size(); ++i) ASSERT_EQ(z[i], y[i]);
  }
  // hand-computed: log_softmax([1, 2, 3])
  const fvec x{1, 2, 3};
  fvec y(3);
  cpu::log_softmax_forward(1, 3, x.data(), y.data());
  EXPECT_NEAR(y[0], -2.40760596, 1e-6);
  EXPECT_NEAR(y[1], -1.40760596, 1e-6);
  EXPECT_NEAR(y[2], -0.40760596, 1e-6);
}

TEST(CpuLogSoftmax, GradCheck) {
  for (auto [rows_, cols_] : {std::pair{3, 7}, std::pair{2, 21}}) {
    const int rows = rows_, cols = cols_;  // (clang 14: lambdas cannot capture structured bindings)
    const std::size_t n = static_cast<std::size_t>(rows) * cols;
    fvec x = random_vec(n, 6, -2, 2), r = random_vec(n, 7), y(n), dx(n);
    auto loss = [&] {
      cpu::log_softmax_forward(rows, cols, x.data(), y.data());
      return dot(y, r);
    };
    loss();
    cpu::log_softmax_backward(rows, cols, y.data(), r.data(), dx.data());
    check_grad(x, dx, loss, "log_softmax dx");
  }
}

// ================================================================ dropout ==

TEST(CpuDropout, StatisticsAndScale) {
  const std::size_t n = 1 << 20;
  const fvec x = random_vec(n, 8, 0.5f, 1.5f);
  fvec y(n);
  std::vector<std::uint8_t> mask(n);
  for (float p : {0.1f, 0.5f}) {
    cpu::dropout_forward(n, x.data(), y.data(), mask.data(), p, 1234);
    std::size_t dropped = 0;
    const float scale = 1.0f / (1.0f - p);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(mask[i] == 0 || mask[i] == 1);
      if (mask[i] == 0) {
        ++dropped;
        ASSERT_EQ(y[i], 0.0f);
      } else {
        ASSERT_FLOAT_EQ(y[i], x[i] * scale) << i;
      }
    }
    const double frac = static_cast<double>(dropped) / n;
    EXPECT_NEAR(frac, p, 0.004) << "p = " << p;  // ~8 sigma for 2^20 samples
    // dropping is not clustered: first and second halves agree
    std::size_t first = 0;
    for (std::size_t i = 0; i < n / 2; ++i) first += mask[i] == 0;
    EXPECT_NEAR(static_cast<double>(first) / (n / 2), p, 0.006);
    // neighbours are independent: both dropped with probability p^2
    std::size_t both = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) both += mask[i] == 0 && mask[i + 1] == 0;
    EXPECT_NEAR(static_cast<double>(both) / (n - 1), static_cast<double>(p) * p, 0.004);
    // backward: dx = dy * mask / (1 - p)
    const fvec dy = random_vec(n, 9);
    fvec dx(n);
    cpu::dropout_backward(n, mask.data(), p, dy.data(), dx.data());
    for (std::size_t i = 0; i < n; ++i) ASSERT_FLOAT_EQ(dx[i], mask[i] ? dy[i] * scale : 0.0f) << i;
  }
}

TEST(CpuDropout, DeterministicAndIndependentOfTheSplit) {
  // 40002 elements run as two parallel chunks (split at the odd index 20001,
  // in the middle of a 64-bit random word) when the pool has 2 threads;
  // 32767 elements run serially on the calling thread. Both must agree
  // element by element: the decision for element i depends only on
  // (seed, i), not on which thread or chunk computes it.
  const std::size_t n = 40002, serial = 32767;
  const fvec x = random_vec(n, 10);
  std::vector<std::uint8_t> m_par(n), m_ser(serial);
  fvec y_par(n), y_ser(serial);
  cpu::dropout_forward(n, x.data(), y_par.data(), m_par.data(), 0.3f, 42);
  cpu::dropout_forward(serial, x.data(), y_ser.data(), m_ser.data(), 0.3f, 42);
  EXPECT_TRUE(std::equal(m_ser.begin(), m_ser.end(), m_par.begin()));
  EXPECT_TRUE(std::equal(y_ser.begin(), y_ser.end(), y_par.begin()));
  // same seed, same result; another seed differs
  std::vector<std::uint8_t> again(n), other(n);
  fvec y(n);
  cpu::dropout_forward(n, x.data(), y.data(), again.data(), 0.3f, 42);
  EXPECT_EQ(again, m_par);
  EXPECT_EQ(y, y_par);
  cpu::dropout_forward(n, x.data(), y.data(), other.data(), 0.3f, 43);
  EXPECT_NE(other, m_par);
  // a short prefix run reproduces the prefix of the long run
  std::vector<std::uint8_t> prefix(100);
  cpu::dropout_forward(100, x.data(), y.data(), prefix.data(), 0.3f, 42);
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), m_par.begin()));
}

// The mask depends on the element index only, not on how the pool splits the work.
TEST(CpuDropout, IndependentOfThreadCount) {
  thread_guard guard;
  const std::size_t n = 300007;  // odd size: chunk edges and vector tails
  const fvec x = random_vec(n, 10);
  std::vector<std::vector<std::uint8_t>> masks;
  std::vector<fvec> ys;
  for (int threads : {1, 2, 3}) {
    cpu::set_num_threads(threads);
    std::vector<std::uint8_t> m(n);
    fvec y(n);
    cpu::dropout_forward(n, x.data(), y.data(), m.data(), 0.3f, 42);
    masks.push_back(m);
    ys.push_back(y);
  }
  EXPECT_EQ(masks[0], masks[1]);
  EXPECT_EQ(masks[0], masks[2]);
  EXPECT_EQ(ys[0], ys[1]);
  EXPECT_EQ(ys[0], ys[2]);
}

TEST(CpuDropout, EdgeProbabilities) {
  const std::size_t n = 1000;
  const fvec x = random_vec(n, 11);
  fvec y(n, 7.0f), dx(n, 7.0f);
  std::vector<std::uint8_t> mask(n, 7);
  cpu::dropout_forward(n, x.data(), y.data(), mask.data(), 1.0f, 5);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(y[i], 0.0f);
    ASSERT_EQ(mask[i], 0);
  }
  cpu::dropout_backward(n, mask.data(), 1.0f, x.data(), dx.data());
  for (float v : dx) ASSERT_EQ(v, 0.0f);
  cpu::dropout_forward(n, x.data(), y.data(), mask.data(), 0.0f, 5);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(y[i], x[i]);
    ASSERT_EQ(mask[i], 1);
  }
  fvec z = x;  // in place
  cpu::dropout_forward(n, z.data(), z.data(), mask.data(), 0.5f, 5);
  for (std::size_t i = 0; i < n; ++i) ASSERT_FLOAT_EQ(z[i], mask[i] ? 2.0f * x[i] : 0.0f);
}

// ==================================================================== add ==

TEST(CpuAdd, ForwardAndInPlace) {
  for (std::size_t n : {std::size_t{5}, std::size_t{67}, std::size_t{200003}}) {
    const fvec a = random_vec(n, 12), b = random_vec(n, 13);
    fvec y(n);
    cpu::add_forward(n, a.data(), b.data(), y.data());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(y[i], a[i] + b[i]);
    fvec d = a;
    cpu::add_inplace(n, b.data(), d.data());
    EXPECT_EQ(d, y);
  }
}

// ============================================================== batchnorm ==

namespace {
struct bn_ref {
  std::vector<double> y, mean, var_biased, var_unbiased;
};
bn_ref naive_bn_train(int n, int c, int hw, const fvec& x, const fvec& gamma, const fvec& beta, float eps) {
  bn_ref r;
  r.y.resize(x.size());
  const double count = static_cast<double>(n) * hw;
  for (int ch = 0; ch < c; ++ch) {
    double s = 0, sq = 0;
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < hw; ++k) s += x[(i * c + ch) * hw + k];
    const double mean = s / count;
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < hw; ++k) sq += (x[(i * c + ch) * hw + k] - mean) * (x[(i * c + ch) * hw + k] - mean);
    r.mean.push_back(mean);
    r.var_biased.push_back(sq / count);
    r.var_unbiased.push_back(sq / (count - 1));
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < hw; ++k) {
        const std::size_t j = static_cast<std::size_t>((i * c + ch) * hw + k);
        r.y[j] = (x[j] - mean) / std::sqrt(sq / count + eps) * gamma[ch] + beta[ch];
      }
  }
  return r;
}
}  // namespace

// Both BatchNorm paths: channel by channel (no scratch) and image by image
// (with the per-plane scratch the engine passes; the backward then still goes
// channel by channel while a channel's x and dy planes fit in
// layer_detail::bn_l2_bytes, which BackwardIsTheSameChannelByChannelAndImageByImage
// crosses).
class CpuBatchNormPaths : public ::testing::TestWithParam<bool> {
 protected:
  /// NaN-filled scratch of the documented size when the parameter is true, else null.
  float* scratch(int n, int c) {
    if (!GetParam()) return nullptr;
    buf_.assign(cpu::batchnorm_scratch_floats(n, c), std::numeric_limits<float>::quiet_NaN());
    return buf_.data();
  }

 private:
  fvec buf_;
};
INSTANTIATE_TEST_SUITE_P(Scratch, CpuBatchNormPaths, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "image_major" : "channel_major"; });

TEST_P(CpuBatchNormPaths, TrainForwardAndRunningStats) {
  // A large mean next to a small spread as well (the merge of per-plane statistics must not cancel).
  for (auto [n, c, hw] : {std::tuple{3, 4, 37}, std::tuple{4, 8, 4096}, std::tuple{16, 5, 1}, std::tuple{5, 3, 64}}) {
    const std::size_t size = static_cast<std::size_t>(n) * c * hw;
    fvec x = random_vec(size, 14, -2.0f, 3.0f);
    if (hw == 64)
      for (auto& v : x) v = 100.0f + 0.1f * v;
    const fvec gamma = random_vec(c, 15, 0.5f, 1.5f), beta = random_vec(c, 16);
    fvec y(size), smean(c), sinv(c), rmean(c, 0.2f), rvar(c, 1.5f);
    const float momentum = 0.1f, eps = 1e-5f;
    cpu::batchnorm_forward_train(n, c, hw, x.data(), gamma.data(), beta.data(), y.data(), smean.data(),
                                 sinv.data(), rmean.data(), rvar.data(), momentum, eps, scratch(n, c));
    const bn_ref ref = naive_bn_train(n, c, hw, x, gamma, beta, eps);
    expect_close(y, ref.y, 1e-4, 1e-4, "bn y");
    for (int ch = 0; ch < c; ++ch) {
      EXPECT_NEAR(smean[ch], ref.mean[ch], 1e-5);
      EXPECT_NEAR(sinv[ch], 1.0 / std::sqrt(ref.var_biased[ch] + eps), 1e-4);
      EXPECT_NEAR(rmean[ch], 0.9 * 0.2 + 0.1 * ref.mean[ch], 1e-6 * std::max(1.0, std::abs(ref.mean[ch])));
      EXPECT_NEAR(rvar[ch], 0.9 * 1.5 + 0.1 * ref.var_unbiased[ch], 1e-5);  // unbiased
    }
  }
}

TEST(CpuBatchNorm, PrecomputedPlaneStatisticsGiveTheSameResults) {
  // The statistics a conv hands over (plane_stats) replace BatchNorm's own
  // pass and change nothing: outputs, saved and running statistics are
  // bit-identical. Planes whose statistics are wrong show that they are used.
  const int n = 5, c = 3, hw = 50;
  const std::size_t size = static_cast<std::size_t>(n) * c * hw;
  const fvec x = random_vec(size, 21, -2.0f, 3.0f), gamma = random_vec(c, 22, 0.5f, 1.5f), beta = random_vec(c, 23);
  fvec stats(2 * static_cast<std::size_t>(n) * c);
  for (int p = 0; p < n * c; ++p)
    cpu::layer_detail::plane_stats_of(x.data() + static_cast<std::size_t>(p) * hw, hw, stats[p], stats[n * c + p]);
  auto run = [&](const float* plane_stats, fvec& y, fvec& smean, fvec& sinv, fvec& rmean, fvec& rvar) {
    fvec scratch(cpu::batchnorm_scratch_floats(n, c), std::numeric_limits<float>::quiet_NaN());
    y.assign(size, 0.0f);
    smean.assign(c, 0.0f);
    sinv.assign(c, 0.0f);
    rmean.assign(c, 0.2f);
    rvar.assign(c, 1.5f);
    cpu::batchnorm_forward_train(n, c, hw, x.data(), gamma.data(), beta.data(), y.data(), smean.data(), sinv.data(),
                                 rmean.data(), rvar.data(), 0.1f, 1e-5f, scratch.data(), true, plane_stats);
  };
  fvec y0, m0, i0, rm0, rv0, y1, m1, i1, rm1, rv1;
  run(nullptr, y0, m0, i0, rm0, rv0);
  run(stats.data(), y1, m1, i1, rm1, rv1);
  EXPECT_EQ(y0, y1);
  EXPECT_EQ(m0, m1);
  EXPECT_EQ(i0, i1);
  EXPECT_EQ(rm0, rm1);
  EXPECT_EQ(rv0, rv1);
  stats[1] += 1.0f;  // plane 1 (image 0, channel 1): its mean
  run(stats.data(), y1, m1, i1, rm1, rv1);
  EXPECT_EQ(m0[0], m1[0]);
  EXPECT_NEAR(m1[1], m0[1] + 1.0f / n, 1e-5);
}

TEST_P(CpuBatchNormPaths, StreamedOutputsEqualCachedOnes) {
  // A tensor of 8 MB or more is written with non-temporal stores when the
  // output is vector-aligned (on AVX / AVX-512 builds): the same values as
  // through the caches (an output one float off alignment), forward and backward.
  const int n = 2, c = 4, hw = 1 << 18;
  const std::size_t size = static_cast<std::size_t>(n) * c * hw;
  const fvec x = random_vec(size, 31, -2.0f, 3.0f), dy = random_vec(size, 32), gamma = random_vec(c, 33, 0.5f, 1.5f),
             beta = random_vec(c, 34);
  fvec out_a(size + 64), out_b(size + 64);
  auto aligned = [](fvec& v) {
    const auto addr = reinterpret_cast<std::uintptr_t>(v.data());
    return v.data() + ((64 - addr % 64) % 64) / sizeof(float);
  };
  float* streamed = aligned(out_a);
  float* cached = aligned(out_b) + 1;
  EXPECT_EQ(cpu::layer_detail::stream_output(streamed, size, hw), cpu::layer_detail::can_stream);
  EXPECT_FALSE(cpu::layer_detail::stream_output(cached, size, hw));
  for (bool relu : {false, true}) {
    fvec m1(c), i1(c), m2(c), i2(c);
    cpu::batchnorm_forward_train(n, c, hw, x.data(), gamma.data(), beta.data(), streamed, m1.data(), i1.data(),
                                 nullptr, nullptr, 0.1f, 1e-5f, scratch(n, c), relu);
    cpu::batchnorm_forward_train(n, c, hw, x.data(), gamma.data(), beta.data(), cached, m2.data(), i2.data(), nullptr,
                                 nullptr, 0.1f, 1e-5f, scratch(n, c), relu);
    EXPECT_TRUE(std::equal(streamed, streamed + size, cached)) << "forward, relu " << relu;
    fvec dg1(c), db1(c), dg2(c), db2(c);
    const auto mode = relu ? cpu::bn_relu::output : cpu::bn_relu::input;
    cpu::batchnorm_backward(n, c, hw, x.data(), dy.data(), gamma.data(), m1.data(), i1.data(), streamed, dg1.data(),
                            db1.data(), mode, scratch(n, c), beta.data());
    cpu::batchnorm_backward(n, c, hw, x.data(), dy.data(), gamma.data(), m1.data(), i1.data(), cached, dg2.data(),
                            db2.data(), mode, scratch(n, c), beta.data());
    EXPECT_TRUE(std::equal(streamed, streamed + size, cached)) << "backward, relu " << relu;
    EXPECT_EQ(dg1, dg2);
    EXPECT_EQ(db1, db2);
  }
}

TEST(CpuBatchNorm, BackwardIsTheSameChannelByChannelAndImageByImage) {
  // With scratch, a channel whose x and dy planes exceed bn_l2_bytes goes image by
  // image (two passes in memory order), below it channel by channel (summed, then
  // read again from cache); without scratch always channel by channel. Same sums
  // in the same order: the same bits, for every ReLU fusion.
  const int n = 3, c = 3, hw = 50000;
  ASSERT_GT(std::size_t{n} * hw * 2 * sizeof(float), cpu::layer_detail::bn_l2_bytes);
  const std::size_t size = static_cast<std::size_t>(n) * c * hw;
  const fvec x = random_vec(size, 41, -2.0f, 3.0f), dy = random_vec(size, 42), gamma = random_vec(c, 43, 0.5f, 1.5f),
             beta = random_vec(c, 44), mean = random_vec(c, 45, -0.5f, 0.5f), invstd = random_vec(c, 46, 0.5f, 2.0f);
  fvec scratch(cpu::batchnorm_scratch_floats(n, c), std::numeric_limits<float>::quiet_NaN());
  for (auto mode : {cpu::bn_relu::none, cpu::bn_relu::input, cpu::bn_relu::output}) {
    fvec dx1(size), dg1(c), db1(c), dx2(size), dg2(c), db2(c);
    cpu::batchnorm_backward(n, c, hw, x.data(), dy.data(), gamma.data(), mean.data(), invstd.data(), dx1.data(),
                            dg1.data(), db1.data(), mode, scratch.data(), beta.data());
    cpu::batchnorm_backward(n, c, hw, x.data(), dy.data(), gamma.data(), mean.data(), invstd.data(), dx2.data(),
                            dg2.data(), db2.data(), mode, nullptr, beta.data());
    EXPECT_EQ(dx1, dx2) << static_cast<int>(mode);
    EXPECT_EQ(dg1, dg2) << static_cast<int>(mode);
    EXPECT_EQ(db1, db2) << static_cast<int>(mode);
    EXPECT_NE(db1[0], 0.0f);
  }
}

TEST(CpuBatchNorm, HandComputedRunningStats) {
  // one channel, n = 2 images of hw = 2: values 1, 2 | 3, 4
  const fvec x{1, 2, 3, 4}, gamma{2.0f}, beta{0.5f};
  fvec y(4), sm(1), si(1), rm{0.0f}, rv{1.0f};
  cpu::batchnorm_forward_train(2, 1, 2, x.data(), gamma.data(), beta.data(), y.data(), sm.data(), si.data(),
                               rm.data(), rv.data(), 0.1f, 1e-5f);
  EXPECT_FLOAT_EQ(sm[0], 2.5f);
  EXPECT_NEAR(si[0], 1.0 / std::sqrt(1.25 + 1e-5), 1e-6);  // biased var 1.25
  EXPECT_NEAR(rm[0], 0.25, 1e-7);
  EXPECT_NEAR(rv[0], 0.9 + 0.1 * (5.0 / 3.0), 1e-6);  // unbiased var 5/3
  EXPECT_NEAR(y[0], (1 - 2.5) / std::sqrt(1.25 + 1e-5) * 2 + 0.5, 1e-5);
  EXPECT_NEAR(y[3], (4 - 2.5) / std::sqrt(1.25 + 1e-5) * 2 + 0.5, 1e-5);
  // null affine / running stats: gamma = 1, beta = 0, nothing to update
  fvec y2(4);
  cpu::batchnorm_forward_train(2, 1, 2, x.data(), nullptr, nullptr, y2.data(), nullptr, nullptr, nullptr, nullptr,
                               0.1f, 1e-5f);
  EXPECT_NEAR(y2[0], (1 - 2.5) / std::sqrt(1.25 + 1e-5), 1e-5);
  // a single value per channel cannot be normalised in training mode (as torch)
  EXPECT_THROW(cpu::batchnorm_forward_train(1, 1, 1, x.data(), gamma.data(), beta.data(), y.data(), sm.data(),
                                            si.data(), rm.data(), rv.data(), 0.1f, 1e-5f),
               std::invalid_argument);
}

TEST(CpuBatchNorm, EvalForward) {
  const int n = 3, c = 5, hw = 29;
  const std::size_t size = static_cast<std::size_t>(n) * c * hw;
  const fvec x = random_vec(size, 17, -2, 2), gamma = random_vec(c, 18, 0.5f, 1.5f), beta = random_vec(c, 19);
  const fvec rmean = random_vec(c, 20), rvar = random_vec(c, 21, 0.5f, 2.0f);
  fvec y(size);
  const float eps = 1e-3f;
  cpu::batchnorm_forward_eval(n, c, hw, x.data(), gamma.data(), beta.data(), rmean.data(), rvar.data(), eps,
                              y.data());
  std::vector<double> want(size);
  for (int i = 0; i < n; ++i)
    for (int ch = 0; ch < c; ++ch)
      for (int k = 0; k < hw; ++k) {
        const std::size_t j = static_cast<std::size_t>((i * c + ch) * hw + k);
        want[j] = (x[j] - rmean[ch]) / std::sqrt(static_cast<double>(rvar[ch]) + eps) * gamma[ch] + beta[ch];
      }
  expect_close(y, want, 1e-5, 1e-5, "bn eval");
}

TEST_P(CpuBatchNormPaths, BackwardGradCheck) {
  for (auto [n_, c_, hw_] : {std::tuple{2, 3, 19}, std::tuple{4, 2, 1}}) {
    const int n = n_, c = c_, hw = hw_;
    const std::size_t size = static_cast<std::size_t>(n) * c * hw;
    fvec x = random_vec(size, 22, -2, 2), gamma = random_vec(c, 23, 0.5f, 1.5f), beta = random_vec(c, 24);
    const fvec r = random_vec(size, 25);
    fvec y(size), sm(c), si(c), rm(c), rv(c), dx(size), dg(c, 9.0f), db(c, 9.0f);
    float* sc = scratch(n, c);
    auto loss = [&] {
      cpu::batchnorm_forward_train(n, c, hw, x.data(), gamma.data(), beta.data(), y.data(), sm.data(), si.data(),
                                   rm.data(), rv.data(), 0.1f, 1e-5f, sc);
      return dot(y, r);
    };
    loss();
    cpu::batchnorm_backward(n, c, hw, x.data(), r.data(), gamma.data(), sm.data(), si.data(), dx.data(), dg.data(),
                            db.data(), cpu::bn_relu::none, sc);
    check_grad(x, dx, loss, "bn dx");
    check_grad(gamma, dg, loss, "bn dgamma");
    check_grad(beta, db, loss, "bn dbeta");
  }
}

TEST_P(CpuBatchNormPaths, FusedReluBeforeEqualsReluBackwardAfterIt) {
  // bn_relu::input fuses the backward of the ReLU before the BatchNorm: dx = (x > 0) * bn_dx, where x is BN's
  // input (the ReLU's output). x holds exact zeros, as after a ReLU.
  const int n = 3, c = 4, hw = 37;
  const std::size_t size = static_cast<std::size_t>(n) * c * hw;
  fvec x = random_vec(size, 40, -1, 2);
  for (auto& v : x) v = v < 0 ? 0.0f : v;
  const fvec gamma = random_vec(c, 41, 0.5f, 1.5f), beta = random_vec(c, 42), r = random_vec(size, 43);
  fvec y(size), sm(c), si(c), rm(c), rv(c), dx(size), dx_masked(size), dg(c), db(c), dg2(c), db2(c);
  float* sc = scratch(n, c);
  cpu::batchnorm_forward_train(n, c, hw, x.data(), gamma.data(), beta.data(), y.data(), sm.data(), si.data(),
                               rm.data(), rv.data(), 0.1f, 1e-5f, sc);
  cpu::batchnorm_backward(n, c, hw, x.data(), r.data(), gamma.data(), sm.data(), si.data(), dx.data(), dg.data(),
                          db.data(), cpu::bn_relu::none, sc);
  cpu::batchnorm_backward(n, c, hw, x.data(), r.data(), gamma.data(), sm.data(), si.data(), dx_masked.data(),
                          dg2.data(), db2.data(), cpu::bn_relu::input, sc);
  cpu::relu_backward(size, x.data(), dx.data(), dx.data());
  int zeros = 0;
  for (std::size_t i = 0; i < size; ++i) {
    EXPECT_EQ(dx_masked[i], dx[i]) << i;
    zeros += x[i] == 0.0f;
  }
  EXPECT_GT(zeros, 0);
  EXPECT_EQ(dg2, dg);
  EXPECT_EQ(db2, db);
}

TEST_P(CpuBatchNormPaths, FusedReluAfterEqualsReluAfterIt) {
  // bn_relu::output: forward writes relu(bn(x)); backward takes the ReLU's
  // output gradient and rebuilds its mask from x and the saved statistics.
  const int n = 3, c = 4, hw = 37;
  const std::size_t size = static_cast<std::size_t>(n) * c * hw;
  const fvec x = random_vec(size, 50, -1, 2), gamma = random_vec(c, 51, 0.5f, 1.5f), beta = random_vec(c, 52);
  const fvec r = random_vec(size, 53);
  fvec y(size), y_fused(size), sm(c), si(c), rm(c), rv(c), sm2(c), si2(c), rm2(c), rv2(c);
  float* sc = scratch(n, c);
  cpu::batchnorm_forward_train(n, c, hw, x.data(), gamma.data(), beta.data(), y.data(), sm.data(), si.data(),
                               rm.data(), rv.data(), 0.1f, 1e-5f, sc);
  cpu::batchnorm_forward_train(n, c, hw, x.data(), gamma.data(), beta.data(), y_fused.data(), sm2.data(),
                               si2.data(), rm2.data(), rv2.data(), 0.1f, 1e-5f, sc, true);
  cpu::relu_forward(size, y.data(), y.data());
  EXPECT_EQ(y_fused, y);
  EXPECT_EQ(sm2, sm);
  EXPECT_EQ(rv2, rv);
  int zeros = 0;
  for (float v : y) zeros += v == 0.0f;
  EXPECT_GT(zeros, 0);
  // backward: unfused = ReLU backward, then BatchNorm backward
  fvec g(size), dx(size), dg(c), db(c), dx2(size), dg2(c), db2(c);
  cpu::relu_backward(size, y.data(), r.data(), g.data());
  cpu::batchnorm_backward(n, c, hw, x.data(), g.data(), gamma.data(), sm.data(), si.data(), dx.data(), dg.data(),
                          db.data(), cpu::bn_relu::none, sc);
  cpu::batchnorm_backward(n, c, hw, x.data(), r.data(), gamma.data(), sm.data(), si.data(), dx2.data(), dg2.data(),
                          db2.data(), cpu::bn_relu::output, sc, beta.data());
  expect_close(dx2, std::vector<double>(dx.begin(), dx.end()), 1e-6, 1e-6, "fused dx");
  expect_close(dg2, std::vector<double>(dg.begin(), dg.end()), 1e-6, 1e-6, "fused dgamma");
  expect_close(db2, std::vector<double>(db.begin(), db.end()), 1e-6, 1e-6, "fused dbeta");
  // eval: the same fusion with the running statistics
  fvec ye(size), ye_fused(size);
  cpu::batchnorm_forward_eval(n, c, hw, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), 1e-5f, ye.data());
  cpu::batchnorm_forward_eval(n, c, hw, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), 1e-5f,
                              ye_fused.data(), true);
  cpu::relu_forward(size, ye.data(), ye.data());
  EXPECT_EQ(ye_fused, ye);
}

// ================================================================ pooling ==

namespace {
int pool_out(int in, int k, int s, int p, int d, bool ceil_mode) {
  const int num = in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  int out = num / s + 1;  // num >= 0 in these tests
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

cpu::pool_geom make_geom(int c, int h, int w, int k, int s, int p, int d = 1, bool ceil_mode = false,
                         bool include_pad = true, int kw = 0, int sw = 0, int pw = -1) {
  if (kw == 0) kw = k;
  if (sw == 0) sw = s;
  if (pw < 0) pw = p;
  cpu::pool_geom g;
  g.c = c;
  g.h_in = h;
  g.w_in = w;
  g.kh = k;
  g.kw = kw;
  g.sh = s;
  g.sw = sw;
  g.ph = p;
  g.pw = pw;
  g.dh = d;
  g.dw = d;
  g.ceil_mode = ceil_mode;
  g.count_include_pad = include_pad;
  g.h_out = pool_out(h, k, s, p, d, ceil_mode);
  g.w_out = pool_out(w, kw, sw, pw, d, ceil_mode);
  return g;
}

/// Naive max pooling over an implicit -inf-padded plane, row-major window order.
void naive_maxpool(const cpu::pool_geom& g, int n, const fvec& x, fvec& y, std::vector<std::int32_t>& am) {
  y.assign(static_cast<std::size_t>(n) * g.c * g.h_out * g.w_out, 0);
  am.assign(y.size(), 0);
  for (int p = 0; p < n * g.c; ++p)
    for (int oh = 0; oh < g.h_out; ++oh)
      for (int ow = 0; ow < g.w_out; ++ow) {
        float best = -INFINITY;
        int bi = -1;
        for (int a = 0; a < g.kh; ++a)
          for (int b = 0; b < g.kw; ++b) {
            const int ih = oh * g.sh - g.ph + a * g.dh, iw = ow * g.sw - g.pw + b * g.dw;
            if (ih < 0 || ih >= g.h_in || iw < 0 || iw >= g.w_in) continue;
            const float v = x[static_cast<std::size_t>(p) * g.h_in * g.w_in + ih * g.w_in + iw];
            if (v > best || bi < 0) {
              best = v;
              bi = ih * g.w_in + iw;
            }
          }
        const std::size_t o = (static_cast<std::size_t>(p) * g.h_out + oh) * g.w_out + ow;
        y[o] = best;
        am[o] = bi;
      }
}

/// torch's avg_pool2d formula, literally (dilation 1).
std::vector<double> naive_avgpool(const cpu::pool_geom& g, int n, const fvec& x) {
  std::vector<double> y(static_cast<std::size_t>(n) * g.c * g.h_out * g.w_out);
  for (int p = 0; p < n * g.c; ++p)
    for (int oh = 0; oh < g.h_out; ++oh)
      for (int ow = 0; ow < g.w_out; ++ow) {
        int hs = oh * g.sh - g.ph, ws = ow * g.sw - g.pw;
        int he = std::min(hs + g.kh, g.h_in + g.ph), we = std::min(ws + g.kw, g.w_in + g.pw);
        const int pool_size = (he - hs) * (we - ws);
        hs = std::max(hs, 0);
        ws = std::max(ws, 0);
        he = std::min(he, g.h_in);
        we = std::min(we, g.w_in);
        double s = 0;
        for (int ih = hs; ih < he; ++ih)
          for (int iw = ws; iw < we; ++iw) s += x[static_cast<std::size_t>(p) * g.h_in * g.w_in + ih * g.w_in + iw];
        const int div = g.count_include_pad ? pool_size : (he - hs) * (we - ws);
        y[(static_cast<std::size_t>(p) * g.h_out + oh) * g.w_out + ow] = s / div;
      }
  return y;
}

std::vector<cpu::pool_geom> pool_configs() {
  return {
      make_geom(3, 8, 8, 2, 2, 0),                   // 2x2/2
      make_geom(2, 9, 70, 3, 2, 1),                  // 3x3/2 pad 1, wide rows: gather path
      make_geom(2, 7, 40, 3, 1, 1),                  // 3x3/1 pad 1: contiguous vector path
      make_geom(2, 11, 53, 3, 2, 1, 2),              // dilation 2
      make_geom(2, 10, 67, 3, 2, 1, 1, true),        // ceil_mode, last window clipped
      make_geom(1, 6, 37, 2, 3, 0, 1, true),         // kernel < stride, ceil_mode
      make_geom(2, 5, 45, 3, 1, 1, 1, false, true, 5, 2, 2),  // rectangular window
      make_geom(8, 64, 64, 2, 2, 0),                 // large enough to run in parallel
      // narrow planes: vectorised over the flattened output plane
      make_geom(4, 16, 16, 3, 2, 1),                 // 8x8 output
      make_geom(3, 9, 9, 3, 2, 1, 1, true),          // 5x5 output: overlapping last block
      make_geom(2, 10, 10, 3, 2, 0, 1, true),        // ceil_mode window clipped at the border
      make_geom(2, 5, 5, 2, 1, 0),                   // 4x4 output
      make_geom(2, 12, 12, 3, 2, 1, 2),              // dilated
      make_geom(2, 7, 7, 3, 1, 1, 1, false, true, 2, 2, 0),  // rectangular, narrow
      make_geom(2, 3, 3, 2, 1, 0),                   // 2x2 output: scalar
      make_geom(64, 32, 32, 3, 2, 1),                // narrow and parallel over planes
  };
}
}  // namespace

TEST(CpuMaxPool, ForwardMatchesNaiveWithTies) {
  for (const auto& g : pool_configs()) {
    const int n = 2;
    const std::size_t in = static_cast<std::size_t>(n) * g.c * g.h_in * g.w_in;
    // values from a small integer set: many ties inside windows
    fvec x(in);
    std::mt19937 rng(26);
    for (auto& v : x) v = static_cast<float>(static_cast<int>(rng() % 4)) - 2.0f;
    fvec want_y, y(static_cast<std::size_t>(n) * g.c * g.h_out * g.w_out);
    std::vector<std::int32_t> want_a, a(y.size());
    naive_maxpool(g, n, x, want_y, want_a);
    cpu::maxpool_forward(g, n, x.data(), y.data(), a.data());
    EXPECT_EQ(y, want_y) << "k" << g.kh << "x" << g.kw << " s" << g.sw << " w" << g.w_in;
    EXPECT_EQ(a, want_a) << "k" << g.kh << "x" << g.kw << " s" << g.sw << " w" << g.w_in;
  }
}

TEST(CpuMaxPool, AllMinusInfinityKeepsFirstValidTap) {
  // torch initialises the index with the first in-bounds tap of each window
  for (const auto& g : {make_geom(2, 9, 9, 3, 2, 1), make_geom(1, 4, 70, 3, 2, 1), make_geom(1, 3, 3, 2, 1, 1)}) {
    const fvec x(static_cast<std::size_t>(g.c) * g.h_in * g.w_in, -INFINITY);
    fvec want_y, y(static_cast<std::size_t>(g.c) * g.h_out * g.w_out);
    std::vector<std::int32_t> want_a, a(y.size());
    naive_maxpool(g, 1, x, want_y, want_a);
    cpu::maxpool_forward(g, 1, x.data(), y.data(), a.data());
    EXPECT_EQ(y, want_y);
    EXPECT_EQ(a, want_a);
  }
}

TEST(CpuMaxPool, HandComputedTiesAndPadding) {
  // all-equal 4x4, 2x2/2: the first element of each window wins
  {
    const auto g = make_geom(1, 4, 4, 2, 2, 0);
    const fvec x(16, 1.0f);
    fvec y(4);
    std::vector<std::int32_t> a(4);
    cpu::maxpool_forward(g, 1, x.data(), y.data(), a.data());
    EXPECT_EQ(a, (std::vector<std::int32_t>{0, 2, 8, 10}));
    EXPECT_EQ(y, fvec(4, 1.0f));
  }
  // negative input with padding 1: padding is -inf, never 0
  {
    const auto g = make_geom(1, 2, 2, 2, 1, 1);  // 3x3 output
    ASSERT_EQ(g.h_out, 3);
    const fvec x{-1, -2, -3, -4};
    fvec y(9);
    std::vector<std::int32_t> a(9);
    cpu::maxpool_forward(g, 1, x.data(), y.data(), a.data());
    EXPECT_EQ(y, (fvec{-1, -1, -2, -1, -1, -2, -3, -3, -4}));
    EXPECT_EQ(a, (std::vector<std::int32_t>{0, 0, 1, 0, 0, 1, 2, 2, 3}));
    // backward: dx[i] = sum of dy over the outputs whose argmax is i
    const fvec dy{1, 2, 3, 4, 5, 6, 7, 8, 9};
    fvec dx(4, 99.0f);
    cpu::maxpool_backward(g, 1, dy.data(), a.data(), dx.data());
    EXPECT_EQ(dx, (fvec{1 + 2 + 4 + 5, 3 + 6, 7 + 8, 9}));
  }
  // NaN wins (torch: v > max || isnan(v))
  {
    const auto g = make_geom(1, 2, 2, 2, 2, 0);
    const fvec x{1, std::numeric_limits<float>::quiet_NaN(), 5, 2};
    fvec y(1);
    std::vector<std::int32_t> a(1);
    cpu::maxpool_forward(g, 1, x.data(), y.data(), a.data());
    EXPECT_TRUE(std::isnan(y[0]));
    EXPECT_EQ(a[0], 1);
  }
}

TEST(CpuMaxPool, BackwardGradCheck) {
  for (const auto& g : {make_geom(2, 5, 7, 3, 2, 1), make_geom(1, 4, 21, 2, 1, 0), make_geom(1, 5, 19, 3, 2, 1, 1, true),
                        make_geom(1, 9, 9, 3, 2, 1, 1, true), make_geom(1, 35, 40, 3, 1, 1)}) {
    const int n = 2;
    const std::size_t in = static_cast<std::size_t>(n) * g.c * g.h_in * g.w_in;
    const std::size_t out = static_cast<std::size_t>(n) * g.c * g.h_out * g.w_out;
    fvec x = distinct_vec(in, 27), y(out), dx(in);
    const fvec r = random_vec(out, 28);
    std::vector<std::int32_t> a(out);
    auto loss = [&] {
      cpu::maxpool_forward(g, n, x.data(), y.data(), a.data());
      return dot(y, r);
    };
    loss();
    cpu::maxpool_backward(g, n, r.data(), a.data(), dx.data());
    check_grad(x, dx, loss, "maxpool dx");
  }
}

TEST(CpuAvgPool, ForwardMatchesTorchFormula) {
  for (auto g : pool_configs()) {
    if (g.dh != 1) continue;  // torch's AvgPool2d has no dilation
    for (bool include : {true, false}) {
      g.count_include_pad = include;
      const int n = 2;
      const fvec x = random_vec(static_cast<std::size_t>(n) * g.c * g.h_in * g.w_in, 29);
      fvec y(static_cast<std::size_t>(n) * g.c * g.h_out * g.w_out);
      cpu::avgpool_forward(g, n, x.data(), y.data());
      expect_close(y, naive_avgpool(g, n, x), 1e-5, 1e-6, include ? "avgpool include_pad" : "avgpool exclude_pad");
    }
  }
}

TEST(CpuAvgPool, HandComputedDivisors) {
  // 3x3 input 1..9, 2x2 window, stride 2, padding 1 -> 2x2 output
  const fvec x{1, 2, 3, 4, 5, 6, 7, 8, 9};
  {
    auto g = make_geom(1, 3, 3, 2, 2, 1, 1, false, true);
    ASSERT_EQ(g.h_out, 2);
    fvec y(4);
    cpu::avgpool_forward(g, 1, x.data(), y.data());
    EXPECT_EQ(y, (fvec{1.0f / 4, (2.0f + 3) / 4, (4.0f + 7) / 4, (5.0f + 6 + 8 + 9) / 4}));
    g.count_include_pad = false;
    cpu::avgpool_forward(g, 1, x.data(), y.data());
    EXPECT_EQ(y, (fvec{1.0f, (2.0f + 3) / 2, (4.0f + 7) / 2, (5.0f + 6 + 8 + 9) / 4}));
  }
  // ceil_mode: 1x5 row... 5x5 input, 2x2/2, no padding -> 3x3; the last window
  // hangs past the input and is clipped even with count_include_pad
  {
    fvec x5(25);
    std::iota(x5.begin(), x5.end(), 0.0f);
    auto g = make_geom(1, 5, 5, 2, 2, 0, 1, true, true);
    ASSERT_EQ(g.h_out, 3);
    fvec y(9);
    cpu::avgpool_forward(g, 1, x5.data(), y.data());
    EXPECT_FLOAT_EQ(y[0], (0.0f + 1 + 5 + 6) / 4);
    EXPECT_FLOAT_EQ(y[2], (4.0f + 9) / 2);   // divisor 2, not 4
    EXPECT_FLOAT_EQ(y[8], 24.0f);            // divisor 1
    // ceil_mode with padding 1: 4x4 input, 3x3/2 pad 1 -> 2x2... the windows
    // reaching past input + padding count only up to the padded border
    auto g2 = make_geom(1, 4, 4, 3, 2, 1, 1, true, true);
    ASSERT_EQ(g2.h_out, 3);
    fvec y2(9);
    cpu::avgpool_forward(g2, 1, x5.data(), y2.data());
    // output (2, 2): rows 3..5 / cols 3..5; padded border is 5 -> taps 3, 4 -> divisor 2 * 2
    EXPECT_FLOAT_EQ(y2[8], x5[15] / 4);
  }
}

TEST(CpuAvgPool, BackwardGradCheck) {
  for (auto g : {make_geom(2, 5, 7, 3, 2, 1), make_geom(1, 4, 37, 3, 1, 1), make_geom(1, 5, 41, 3, 2, 1, 1, true),
                 make_geom(1, 3, 40, 2, 2, 0, 1, true), make_geom(1, 10, 10, 3, 2, 0, 1, true),
                 make_geom(1, 9, 9, 3, 2, 1)}) {
    for (bool include : {true, false}) {
      g.count_include_pad = include;
      const int n = 2;
      const std::size_t in = static_cast<std::size_t>(n) * g.c * g.h_in * g.w_in;
      const std::size_t out = static_cast<std::size_t>(n) * g.c * g.h_out * g.w_out;
      fvec x = random_vec(in, 30), y(out), dx(in, 5.0f);
      const fvec r = random_vec(out, 31);
      auto loss = [&] {
        cpu::avgpool_forward(g, n, x.data(), y.data());
        return dot(y, r);
      };
      cpu::avgpool_backward(g, n, r.data(), dx.data());
      check_grad(x, dx, loss, include ? "avgpool dx include" : "avgpool dx exclude");
    }
  }
}

TEST(CpuGlobalAvgPool, ForwardBackward) {
  const int n = 3, c = 4, hw = 49;
  fvec x = random_vec(static_cast<std::size_t>(n) * c * hw, 32), y(static_cast<std::size_t>(n) * c);
  cpu::global_avgpool_forward(n, c, hw, x.data(), y.data());
  for (int p = 0; p < n * c; ++p) {
    double s = 0;
    for (int k = 0; k < hw; ++k) s += x[static_cast<std::size_t>(p) * hw + k];
    EXPECT_NEAR(y[p], s / hw, 1e-6);
  }
  const fvec r = random_vec(y.size(), 33);
  fvec dx(x.size());
  cpu::global_avgpool_backward(n, c, hw, r.data(), dx.data());
  check_grad(x, dx, [&] {
    cpu::global_avgpool_forward(n, c, hw, x.data(), y.data());
    return dot(y, r);
  }, "global avgpool dx");
}

// ================================================================= linear ==

TEST(CpuLinear, ForwardMatchesNaive) {
  for (auto [n, in, out] : {std::tuple{7, 13, 5}, std::tuple{1, 64, 300}, std::tuple{2, 3, 17}, std::tuple{64, 128, 64}}) {
    const fvec x = random_vec(static_cast<std::size_t>(n) * in, 34), w = random_vec(static_cast<std::size_t>(out) * in, 35),
               b = random_vec(out, 36);
    for (bool with_bias : {true, false}) {
      fvec y(static_cast<std::size_t>(n) * out);
      cpu::linear_forward(n, in, out, x.data(), w.data(), with_bias ? b.data() : nullptr, y.data());
      std::vector<double> want(y.size());
      for (int i = 0; i < n; ++i)
        for (int o = 0; o < out; ++o) {
          double s = with_bias ? b[o] : 0.0;
          for (int k = 0; k < in; ++k) s += static_cast<double>(x[i * in + k]) * w[o * in + k];
          want[static_cast<std::size_t>(i) * out + o] = s;
        }
      expect_close(y, want, 1e-5, 1e-5, "linear y");
    }
  }
}

TEST(CpuLinear, BackwardGradCheck) {
  for (auto [n_, in_, out_] : {std::tuple{5, 6, 4}, std::tuple{1, 9, 3}}) {
    const int n = n_, in = in_, out = out_;
    fvec x = random_vec(static_cast<std::size_t>(n) * in, 37), w = random_vec(static_cast<std::size_t>(out) * in, 38),
         b = random_vec(out, 39);
    const fvec r = random_vec(static_cast<std::size_t>(n) * out, 40);
    fvec y(r.size()), dx(x.size(), 7.0f), dw(w.size(), 7.0f), db(out, 7.0f);
    auto loss = [&] {
      cpu::linear_forward(n, in, out, x.data(), w.data(), b.data(), y.data());
      return dot(y, r);
    };
    cpu::linear_backward(n, in, out, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data());
    check_grad(x, dx, loss, "linear dx");
    check_grad(w, dw, loss, "linear dw");
    check_grad(b, db, loss, "linear dbias");
    // null dx / dbias are skipped; dw still overwritten
    fvec dw2(w.size(), -3.0f);
    cpu::linear_backward(n, in, out, x.data(), w.data(), r.data(), nullptr, dw2.data(), nullptr);
    EXPECT_EQ(dw2, dw);
  }
}

// ================================================================= concat ==

TEST(CpuConcat, ForwardBackward) {
  const int n = 3, hw = 10, c_total = 7;
  const int parts[][2] = {{0, 2}, {2, 4}, {6, 1}};  // offset, channels
  fvec y(static_cast<std::size_t>(n) * c_total * hw, -1.0f);
  std::vector<fvec> ps;
  for (int k = 0; k < 3; ++k) {
    ps.push_back(random_vec(static_cast<std::size_t>(n) * parts[k][1] * hw, 41 + k));
    cpu::concat_forward(n, hw, c_total, parts[k][0], parts[k][1], ps[k].data(), y.data());
  }
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < n; ++i)
      for (int ch = 0; ch < parts[k][1]; ++ch)
        for (int j = 0; j < hw; ++j)
          ASSERT_EQ(y[(static_cast<std::size_t>(i) * c_total + parts[k][0] + ch) * hw + j],
                    ps[k][(static_cast<std::size_t>(i) * parts[k][1] + ch) * hw + j]);
  // backward = the same slice of dy, copied or accumulated
  const fvec dy = random_vec(y.size(), 50);
  for (int k = 0; k < 3; ++k) {
    fvec d(ps[k].size(), 100.0f);
    cpu::concat_backward(n, hw, c_total, parts[k][0], parts[k][1], dy.data(), d.data(), false);
    fvec acc(ps[k].size(), 1.0f);
    cpu::concat_backward(n, hw, c_total, parts[k][0], parts[k][1], dy.data(), acc.data(), true);
    for (int i = 0; i < n; ++i)
      for (int ch = 0; ch < parts[k][1]; ++ch)
        for (int j = 0; j < hw; ++j) {
          const std::size_t pi = (static_cast<std::size_t>(i) * parts[k][1] + ch) * hw + j;
          const float g = dy[(static_cast<std::size_t>(i) * c_total + parts[k][0] + ch) * hw + j];
          ASSERT_EQ(d[pi], g);
          ASSERT_EQ(acc[pi], 1.0f + g);
        }
  }
}

// =================================================================== loss ==

TEST(CpuLoss, NllLoss) {
  const fvec logp{-0.5f, -1.0f, -2.0f, -3.0f, -0.1f, -4.0f};
  const std::vector<std::int32_t> t{1, 0};
  fvec d(6, 9.0f);
  const float l = cpu::nll_loss(2, 3, logp.data(), t.data(), d.data());
  EXPECT_FLOAT_EQ(l, (1.0f + 3.0f) / 2);
  EXPECT_EQ(d, (fvec{0, -0.5f, 0, -0.5f, 0, 0}));
  EXPECT_FLOAT_EQ(cpu::nll_loss(2, 3, logp.data(), t.data(), nullptr), 2.0f);
}

TEST(CpuLoss, CrossEntropyHandComputedWithLabelSmoothing) {
  const fvec one{1, 2, 3};
  const std::vector<std::int32_t> t0{0};
  // (1 - 0.1) * 2.40760596 + 0.1 / 3 * (2.40760596 + 1.40760596 + 0.40760596)
  EXPECT_NEAR(cpu::cross_entropy(1, 3, one.data(), t0.data(), 0.1f, nullptr), 2.30760596444438, 1e-5);
  EXPECT_NEAR(cpu::cross_entropy(1, 3, one.data(), t0.data(), 0.0f, nullptr), 2.40760596, 1e-5);
  const fvec two{1, 2, 3, 0.5f, -1, 2};
  const std::vector<std::int32_t> t{0, 2};
  fvec d(6);
  EXPECT_NEAR(cpu::cross_entropy(2, 3, two.data(), t.data(), 0.1f, d.data()), 1.3494586305507685, 1e-5);
  // gradient = (softmax - smoothed one-hot) / n
  const double e0 = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(d[0], (std::exp(1.0) / e0 - (0.9 + 0.1 / 3)) / 2, 1e-6);
  EXPECT_NEAR(d[1], (std::exp(2.0) / e0 - 0.1 / 3) / 2, 1e-6);
  // equals nll_loss(log_softmax) without smoothing
  fvec lp(6);
  cpu::log_softmax_forward(2, 3, two.data(), lp.data());
  EXPECT_NEAR(cpu::cross_entropy(2, 3, two.data(), t.data(), 0.0f, nullptr),
              cpu::nll_loss(2, 3, lp.data(), t.data(), nullptr), 1e-6);
}

TEST(CpuLoss, CrossEntropyGradCheckAndLargeBatch) {
  for (float ls : {0.0f, 0.2f}) {
    const int n = 4, classes = 19;
    fvec x = random_vec(static_cast<std::size_t>(n) * classes, 51, -3, 3), d(x.size());
    std::vector<std::int32_t> t{0, 18, 7, 7};
    cpu::cross_entropy(n, classes, x.data(), t.data(), ls, d.data());
    check_grad(x, d, [&] { return static_cast<double>(cpu::cross_entropy(n, classes, x.data(), t.data(), ls, nullptr)); },
               "cross_entropy dlogits", 1e-2f, 1e-2, 5e-4);
  }
  // large batch (parallel blocks) against a naive double computation
  const int n = 64, classes = 1000;
  const fvec x = random_vec(static_cast<std::size_t>(n) * classes, 52, -4, 4);
  std::vector<std::int32_t> t(n);
  for (int i = 0; i < n; ++i) t[i] = (i * 37) % classes;
  const auto lp = naive_log_softmax(n, classes, x);
  double want = 0;
  for (int i = 0; i < n; ++i) {
    double s = 0;
    for (int j = 0; j < classes; ++j) s += lp[static_cast<std::size_t>(i) * classes + j];
    want += 0.9 * -lp[static_cast<std::size_t>(i) * classes + t[i]] + 0.1 / classes * -s;
  }
  EXPECT_NEAR(cpu::cross_entropy(n, classes, x.data(), t.data(), 0.1f, nullptr), want / n, 1e-4);
}

TEST(CpuLoss, OutOfRangeTargetThrows) {
  const fvec x{1, 2, 3, 4, 5, 6};
  fvec d(6, 9.0f);
  for (std::int32_t bad : {3, -1, -100}) {
    const std::vector<std::int32_t> t{0, bad};
    EXPECT_THROW(cpu::nll_loss(2, 3, x.data(), t.data(), d.data()), std::invalid_argument);
    EXPECT_THROW(cpu::cross_entropy(2, 3, x.data(), t.data(), 0.1f, d.data()), std::invalid_argument);
  }
  EXPECT_EQ(d, fvec(6, 9.0f));  // nothing written
  try {
    const std::vector<std::int32_t> t{5};
    cpu::cross_entropy(1, 3, x.data(), t.data(), 0.0f, nullptr);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
  }
}

// ==================================================================== SGD ==

namespace {
/// Three steps with gradients 0.5, -0.25, 1.0 on every element, starting at 1.
void expect_sgd(const cpu::sgd_options& o, const std::vector<double>& want) {
  const std::size_t n = 37;  // vector body + scalar tail
  fvec p(n, 1.0f), buf(n, 123.0f);
  const float grads[] = {0.5f, -0.25f, 1.0f};
  for (int s = 0; s < 3; ++s) {
    const fvec g(n, grads[s]);
    cpu::sgd_step(n, p.data(), g.data(), buf.data(), o, s == 0);
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_NEAR(p[i], want[s], 1e-6) << "step " << s << " elem " << i << " lr " << o.lr << " mom " << o.momentum;
  }
}
}  // namespace

TEST(CpuSgd, HandComputedSequences) {
  expect_sgd({.lr = 0.1f}, {0.95, 0.975, 0.875});
  expect_sgd({.lr = 0.05f, .weight_decay = 0.1f}, {0.97, 0.97765, 0.92276175});
  expect_sgd({.lr = 0.1f, .momentum = 0.9f}, {0.95, 0.93, 0.812});
  expect_sgd({.lr = 0.1f, .momentum = 0.9f, .dampening = 0.5f}, {0.95, 0.9175, 0.83825});  // first step undamped
  expect_sgd({.lr = 0.1f, .momentum = 0.9f, .nesterov = true}, {0.905, 0.912, 0.7058});
  expect_sgd({.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f}, {0.949, 0.927151, 0.806559749});
  expect_sgd({.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.02f, .nesterov = true}, {0.9012, 0.90315544, 0.690605505328});
  // momentum 0: the buffer may be null
  fvec p(3, 1.0f);
  const fvec g(3, 0.5f);
  cpu::sgd_step(3, p.data(), g.data(), nullptr, {.lr = 0.1f}, true);
  EXPECT_FLOAT_EQ(p[0], 0.95f);
}

TEST(CpuSgd, LargeArrayParallelMatchesSmall) {
  const std::size_t n = 100003;
  const fvec g = random_vec(n, 53);
  fvec p = random_vec(n, 54), buf(n);
  fvec p1 = p, buf1(n);
  const cpu::sgd_options o{.lr = 0.05f, .momentum = 0.9f, .dampening = 0.1f, .weight_decay = 1e-4f};
  for (int s = 0; s < 2; ++s) {
    cpu::sgd_step(n, p.data(), g.data(), buf.data(), o, s == 0);
    for (std::size_t i = 0; i < n; i += 997) cpu::sgd_step(1, p1.data() + i, g.data() + i, buf1.data() + i, o, s == 0);
  }
  for (std::size_t i = 0; i < n; i += 997) ASSERT_NEAR(p[i], p1[i], 1e-6) << i;
}
