// Tests of staticnet/cpu/conv_winograd.hpp: Winograd F(2x2,3x3) and
// F(4x4,3x3), forward (bias, fused ReLU, BatchNorm plane statistics) and data
// gradient, undilated and dilated (phases), odd and ragged sizes, against a
// double-precision direct convolution; the error is bounded relative to the
// output's scale (the largest sum |w| |x| over an output's taps), and compared with the direct fp32
// path's own error. Also: the process-wide switch, the scratch contract and
// the compile-time choice of the tile size (core/winograd.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <staticnet/core/winograd.hpp>
#include <staticnet/cpu/conv.hpp>

namespace {

namespace cpu = staticnet::cpu;
using cpu::conv_geom;

struct wcase {
  int n, c_in, c_out, h, w, ph, pw, dh, dw;
};

conv_geom geom_of(const wcase& c, int m) {
  conv_geom g{};
  g.c_in = c.c_in, g.h_in = c.h, g.w_in = c.w, g.c_out = c.c_out;
  g.h_out = c.h + 2 * c.ph - 2 * c.dh;
  g.w_out = c.w + 2 * c.pw - 2 * c.dw;
  g.kh = g.kw = 3, g.sh = g.sw = 1, g.ph = c.ph, g.pw = c.pw, g.dh = c.dh, g.dw = c.dw, g.groups = 1;
  g.winograd = g.winograd_data = m;
  return g;
}

std::string describe(const wcase& c, int m) {
  std::ostringstream os;
  os << "F(" << m << "x" << m << ",3x3) n=" << c.n << " c_in=" << c.c_in << " c_out=" << c.c_out << " in=" << c.h
     << "x" << c.w << " p=" << c.ph << "," << c.pw << " d=" << c.dh << "," << c.dw;
  return os.str();
}

std::vector<float> random_vec(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& e : v) e = d(rng);
  return v;
}

// The double-precision direct conv and its scale (sum of |w x| over each output's taps).
void reference_forward(const conv_geom& g, int n, const std::vector<float>& x, const std::vector<float>& w,
                       const std::vector<float>& b, std::vector<double>& y, std::vector<double>& scale) {
  y.assign(std::size_t(n) * g.c_out * g.h_out * g.w_out, 0.0);
  scale.assign(y.size(), 0.0);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < g.c_out; ++k)
      for (int oy = 0; oy < g.h_out; ++oy)
        for (int ox = 0; ox < g.w_out; ++ox) {
          double s = b.empty() ? 0.0 : b[k], a = b.empty() ? 0.0 : std::abs(b[k]);
          for (int c = 0; c < g.c_in; ++c)
            for (int ky = 0; ky < 3; ++ky)
              for (int kx = 0; kx < 3; ++kx) {
                const int iy = oy - g.ph + ky * g.dh, ix = ox - g.pw + kx * g.dw;
                if (iy < 0 || iy >= g.h_in || ix < 0 || ix >= g.w_in) continue;
                const double p = double(x[((std::size_t(i) * g.c_in + c) * g.h_in + iy) * g.w_in + ix]) *
                                 w[((std::size_t(k) * g.c_in + c) * 3 + ky) * 3 + kx];
                s += p, a += std::abs(p);
              }
          const std::size_t at = ((std::size_t(i) * g.c_out + k) * g.h_out + oy) * g.w_out + ox;
          y[at] = s, scale[at] = a;
        }
}

void reference_backward_data(const conv_geom& g, int n, const std::vector<float>& dy, const std::vector<float>& w,
                             std::vector<double>& dx, std::vector<double>& scale) {
  dx.assign(std::size_t(n) * g.c_in * g.h_in * g.w_in, 0.0);
  scale.assign(dx.size(), 0.0);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < g.c_out; ++k)
      for (int oy = 0; oy < g.h_out; ++oy)
        for (int ox = 0; ox < g.w_out; ++ox)
          for (int c = 0; c < g.c_in; ++c)
            for (int ky = 0; ky < 3; ++ky)
              for (int kx = 0; kx < 3; ++kx) {
                const int iy = oy - g.ph + ky * g.dh, ix = ox - g.pw + kx * g.dw;
                if (iy < 0 || iy >= g.h_in || ix < 0 || ix >= g.w_in) continue;
                const double p = double(dy[((std::size_t(i) * g.c_out + k) * g.h_out + oy) * g.w_out + ox]) *
                                 w[((std::size_t(k) * g.c_in + c) * 3 + ky) * 3 + kx];
                const std::size_t at = ((std::size_t(i) * g.c_in + c) * g.h_in + iy) * g.w_in + ix;
                dx[at] += p, scale[at] += std::abs(p);
              }
}

// max |got - ref| over the largest scale (a Winograd tile mixes all of its
// points, so an output near the border, with few taps of its own, carries
// the rounding of its tile's larger neighbours)
double relative_error(const std::vector<float>& got, const std::vector<double>& ref, const std::vector<double>& scale) {
  double worst = 0, top = 1e-30;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    worst = std::max(worst, std::abs(got[i] - ref[i]));
    top = std::max(top, scale[i]);
  }
  return worst / top;
}

const wcase cases[] = {
    {2, 16, 16, 8, 8, 1, 1, 1, 1},      // whole tiles
    {1, 5, 7, 9, 11, 1, 1, 1, 1},       // odd sizes, thin channels, ragged tiles
    {3, 16, 24, 14, 14, 1, 1, 1, 1},    // the Fashion-MNIST shape
    {2, 8, 8, 32, 32, 0, 0, 4, 4},      // S7-dilated's dilation-4 conv (fewer channels)
    {1, 8, 6, 20, 20, 4, 4, 4, 4},      // dilation 4, padding 4
    {2, 6, 6, 13, 10, 2, 3, 2, 3},      // different dilations per axis, odd phases
    {1, 4, 9, 7, 7, 0, 0, 1, 1},        // no padding
    {1, 4, 4, 6, 9, 2, 2, 1, 1},        // padding 2 (the data gradient's is then 0)
    {1, 3, 5, 3, 3, 1, 1, 1, 1},        // one tile, mostly padding
    {2, 40, 20, 10, 10, 2, 2, 2, 2},    // more channels than one GEMM block
};

struct bound {
  int m;
  double forward, data;
};
// Bounds on the error relative to the output's scale; the measured worst
// cases (printed by the test) are about 7e-8 for F(2x2), like the direct
// path's 1.4e-7, and 1.3e-6 for F(4x4).
constexpr bound bounds[] = {{2, 4e-7, 4e-7}, {4, 4e-6, 4e-6}};

TEST(ConvWinograd, ForwardAndDataGradientMatchTheDirectConvolution) {
  std::mt19937 rng(7);
  for (const int threads : {1, 2}) {
    cpu::set_num_threads(threads);
    for (const bound& bd : bounds)
      for (const wcase& c : cases) {
        const conv_geom g = geom_of(c, bd.m);
        ASSERT_TRUE(staticnet::detail::winograd_eligible(
            {g.c_in, g.c_out, g.h_out, g.w_out, 3, 3, 1, 1, g.ph, g.pw, g.dh, g.dw, 1}));
        const std::vector<float> x = random_vec(std::size_t(c.n) * g.c_in * g.h_in * g.w_in, rng);
        const std::vector<float> w = random_vec(std::size_t(g.c_out) * g.c_in * 9, rng);
        const std::vector<float> b = random_vec(std::size_t(g.c_out), rng);
        const std::vector<float> dy = random_vec(std::size_t(c.n) * g.c_out * g.h_out * g.w_out, rng);
        std::vector<float> scratch(cpu::conv_scratch_floats(g, c.n, threads));
        std::vector<double> ref, scale, dref, dscale;
        reference_forward(g, c.n, x, w, b, ref, scale);
        reference_backward_data(g, c.n, dy, w, dref, dscale);

        std::vector<float> y(ref.size(), NAN), dx(dref.size(), NAN);
        cpu::conv2d_forward(g, c.n, x.data(), w.data(), b.data(), y.data(), scratch.data());
        cpu::conv2d_backward_data(g, c.n, dy.data(), w.data(), dx.data(), scratch.data());
        const double ef = relative_error(y, ref, scale), ed = relative_error(dx, dref, dscale);

        conv_geom direct = g;
        direct.winograd = direct.winograd_data = 0;
        std::vector<float> yd(ref.size()), dxd(dref.size());
        cpu::conv2d_forward(direct, c.n, x.data(), w.data(), b.data(), yd.data(), scratch.data());
        cpu::conv2d_backward_data(direct, c.n, dy.data(), w.data(), dxd.data(), scratch.data());
        const double efd = relative_error(yd, ref, scale), edd = relative_error(dxd, dref, dscale);
        if (threads == 1)
          std::printf("%-60s forward %.2e (direct %.2e)  data %.2e (direct %.2e)\n", describe(c, bd.m).c_str(), ef,
                      efd, ed, edd);
        EXPECT_LE(ef, bd.forward) << describe(c, bd.m) << " threads=" << threads;
        EXPECT_LE(ed, bd.data) << describe(c, bd.m) << " threads=" << threads;
      }
  }
  cpu::set_num_threads(1);
}

TEST(ConvWinograd, ReluAndPlaneStatisticsAreThoseOfTheOutput) {
  std::mt19937 rng(11);
  cpu::set_num_threads(2);
  for (const int m : {2, 4}) {
    const wcase c{3, 16, 12, 12, 12, 1, 1, 1, 1};
    const conv_geom g = geom_of(c, m);
    const auto x = random_vec(std::size_t(c.n) * g.c_in * g.h_in * g.w_in, rng);
    const auto w = random_vec(std::size_t(g.c_out) * g.c_in * 9, rng);
    std::vector<float> scratch(cpu::conv_scratch_floats(g, c.n, 2));
    const std::size_t P = std::size_t(g.h_out) * g.w_out, planes = std::size_t(c.n) * g.c_out;
    std::vector<float> y(planes * P), yr(planes * P), stats(2 * planes);
    cpu::conv2d_forward(g, c.n, x.data(), w.data(), nullptr, y.data(), scratch.data());
    cpu::conv2d_forward(g, c.n, x.data(), w.data(), nullptr, yr.data(), scratch.data(), cpu::conv_epilogue::relu,
                        stats.data());
    for (std::size_t pl = 0; pl < planes; ++pl) {
      double mean = 0, m2 = 0;
      for (std::size_t i = 0; i < P; ++i) {
        ASSERT_EQ(yr[pl * P + i], std::max(y[pl * P + i], 0.0f));
        mean += yr[pl * P + i];
      }
      mean /= double(P);
      for (std::size_t i = 0; i < P; ++i) m2 += (yr[pl * P + i] - mean) * (yr[pl * P + i] - mean);
      EXPECT_NEAR(stats[pl], mean, 1e-5) << "F" << m << " plane " << pl;
      EXPECT_NEAR(stats[planes + pl], m2, 1e-3 * std::max(1.0, m2)) << "F" << m << " plane " << pl;
    }
  }
  cpu::set_num_threads(1);
}

TEST(ConvWinograd, TheSwitchTurnsEveryConvBackToTheDirectPath) {
  std::mt19937 rng(3);
  const wcase c{2, 16, 16, 10, 10, 1, 1, 1, 1};
  const conv_geom g = geom_of(c, 4);
  conv_geom direct = g;
  direct.winograd = direct.winograd_data = 0;
  const auto x = random_vec(std::size_t(c.n) * g.c_in * g.h_in * g.w_in, rng);
  const auto w = random_vec(std::size_t(g.c_out) * g.c_in * 9, rng);
  // the Winograd geometry's scratch serves the direct path too
  std::vector<float> scratch(cpu::conv_scratch_floats(g, c.n, 1));
  EXPECT_GE(scratch.size(), cpu::conv_scratch_floats(direct, c.n, 1));
  std::vector<float> y1(std::size_t(c.n) * g.c_out * g.h_out * g.w_out), y2(y1.size()), y3(y1.size());
  cpu::conv2d_forward(direct, c.n, x.data(), w.data(), nullptr, y1.data(), scratch.data());
  cpu::conv2d_forward(g, c.n, x.data(), w.data(), nullptr, y2.data(), scratch.data());
  ASSERT_TRUE(cpu::winograd_enabled());
  cpu::use_winograd(false);
  cpu::conv2d_forward(g, c.n, x.data(), w.data(), nullptr, y3.data(), scratch.data());
  cpu::use_winograd(true);
  EXPECT_EQ(y1, y3);  // bit for bit: the same direct kernels
  EXPECT_NE(y1, y2);  // Winograd rounds differently
}

TEST(ConvWinograd, CompileTimeChoice) {
  using staticnet::conv_algo;
  using staticnet::detail::winograd_tile;
  // c_in, c_out, h_out, w_out, kh, kw, sh, sw, ph, pw, dh, dw, groups
  // S7-dilated: 32 -> 32 at 32 x 32 takes F(4x4); the dilation-4 64 -> 64 conv (24 x 24 out) F(2x2)
  static_assert(winograd_tile({32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1}, conv_algo::automatic) == 4);
  static_assert(winograd_tile({64, 64, 24, 24, 3, 3, 1, 1, 0, 0, 4, 4, 1}, conv_algo::automatic) == 2);
  // Fashion-MNIST: 32 -> 64 at 14 x 14 F(4x4); 64 -> 128 at 7 x 7 F(2x2) (F(4x4) would be 4 tiles of 64 points)
  static_assert(winograd_tile({32, 64, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1}, conv_algo::automatic) == 4);
  static_assert(winograd_tile({64, 128, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1}, conv_algo::automatic) == 2);
  // thin (3 input channels), strided, grouped or 1x1: direct
  static_assert(winograd_tile({3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1}, conv_algo::automatic) == 0);
  static_assert(winograd_tile({32, 32, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1}, conv_algo::automatic) == 0);
  static_assert(winograd_tile({32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 32}, conv_algo::automatic) == 0);
  static_assert(winograd_tile({32, 32, 32, 32, 1, 1, 1, 1, 0, 0, 1, 1, 1}, conv_algo::automatic) == 0);
  // the data gradient is chosen apart: of the dilation-4 conv it would be a
  // 32 x 32 output from a 24 x 24 dy padded by 8, most of it zeros: direct
  using staticnet::detail::winograd_data_tile;
  static_assert(winograd_data_tile({64, 64, 24, 24, 3, 3, 1, 1, 0, 0, 4, 4, 1}, 32, 32, conv_algo::automatic) == 0);
  static_assert(winograd_data_tile({32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1}, 32, 32, conv_algo::automatic) == 4);
  // the switches
  static_assert(winograd_tile({32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1}, conv_algo::direct) == 0);
  static_assert(winograd_tile({3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1}, conv_algo::winograd_f2) == 2);
  static_assert(winograd_tile({32, 32, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1}, conv_algo::winograd_f4) == -1);
  // padding above 2 x dilation: the data gradient would need negative padding
  static_assert(winograd_tile({32, 32, 36, 36, 3, 3, 1, 1, 3, 3, 1, 1, 1}, conv_algo::winograd_f2) == -1);
  SUCCEED();
}

}  // namespace
