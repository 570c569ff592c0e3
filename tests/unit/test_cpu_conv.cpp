// Tests of staticnet/cpu/conv.hpp: the forward against a naive direct
// convolution (double precision), the backward passes against a naive
// adjoint and against central finite differences of the forward, over many
// kernel / stride / padding / dilation / groups / bias combinations and
// several thread counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <staticnet/cpu/conv.hpp>

namespace {

using staticnet::cpu::conv_geom;
namespace cpu = staticnet::cpu;

struct conv_case {
  int n, c_in, c_out, h, w, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  bool bias;
};

std::string describe(const conv_case& c) {
  std::ostringstream os;
  os << "n=" << c.n << " c_in=" << c.c_in << " c_out=" << c.c_out << " in=" << c.h << "x" << c.w
     << " k=" << c.kh << "x" << c.kw << " s=" << c.sh << "," << c.sw << " p=" << c.ph << "," << c.pw
     << " d=" << c.dh << "," << c.dw << " groups=" << c.groups << " bias=" << c.bias;
  return os.str();
}

conv_geom geom_of(const conv_case& c) {
  conv_geom g{};
  g.c_in = c.c_in;
  g.h_in = c.h;
  g.w_in = c.w;
  g.c_out = c.c_out;
  g.h_out = (c.h + 2 * c.ph - c.dh * (c.kh - 1) - 1) / c.sh + 1;
  g.w_out = (c.w + 2 * c.pw - c.dw * (c.kw - 1) - 1) / c.sw + 1;
  g.kh = c.kh;
  g.kw = c.kw;
  g.sh = c.sh;
  g.sw = c.sw;
  g.ph = c.ph;
  g.pw = c.pw;
  g.dh = c.dh;
  g.dw = c.dw;
  g.groups = c.groups;
  return g;
}

std::size_t x_size(const conv_geom& g, int n) { return std::size_t(n) * g.c_in * g.h_in * g.w_in; }
std::size_t y_size(const conv_geom& g, int n) { return std::size_t(n) * g.c_out * g.h_out * g.w_out; }
std::size_t w_size(const conv_geom& g) { return std::size_t(g.c_out) * (g.c_in / g.groups) * g.kh * g.kw; }

std::vector<float> random_vec(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& e : v) e = d(rng);
  return v;
}

// Calls `visit(img, oc, oy, ox, x_index, w_index)` for every (output, tap) pair whose
// input lies inside the image: the naive 7-loop direct convolution.
template <class F>
void for_each_tap(const conv_geom& g, int n, F&& visit) {
  const int cg_in = g.c_in / g.groups, cg_out = g.c_out / g.groups;
  for (int img = 0; img < n; ++img)
    for (int oc = 0; oc < g.c_out; ++oc)
      for (int oy = 0; oy < g.h_out; ++oy)
        for (int ox = 0; ox < g.w_out; ++ox)
          for (int ic = 0; ic < cg_in; ++ic)
            for (int ky = 0; ky < g.kh; ++ky)
              for (int kx = 0; kx < g.kw; ++kx) {
                const int iy = oy * g.sh - g.ph + ky * g.dh, ix = ox * g.sw - g.pw + kx * g.dw;
                if (iy < 0 || iy >= g.h_in || ix < 0 || ix >= g.w_in) continue;
                const int c = (oc / cg_out) * cg_in + ic;
                const std::size_t xi = ((std::size_t(img) * g.c_in + c) * g.h_in + iy) * g.w_in + ix;
                const std::size_t wi = ((std::size_t(oc) * cg_in + ic) * g.kh + ky) * g.kw + kx;
                const std::size_t yi = ((std::size_t(img) * g.c_out + oc) * g.h_out + oy) * g.w_out + ox;
                visit(yi, xi, wi);
              }
}

std::vector<double> ref_forward(const conv_geom& g, int n, const std::vector<float>& x, const std::vector<float>& w,
                                const float* bias) {
  std::vector<double> y(y_size(g, n), 0.0);
  const std::size_t plane = std::size_t(g.h_out) * g.w_out;
  if (bias)
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = bias[(i / plane) % g.c_out];
  for_each_tap(g, n, [&](std::size_t yi, std::size_t xi, std::size_t wi) { y[yi] += double(x[xi]) * w[wi]; });
  return y;
}

std::vector<double> ref_backward_data(const conv_geom& g, int n, const std::vector<float>& dy,
                                      const std::vector<float>& w) {
  std::vector<double> dx(x_size(g, n), 0.0);
  for_each_tap(g, n, [&](std::size_t yi, std::size_t xi, std::size_t wi) { dx[xi] += double(dy[yi]) * w[wi]; });
  return dx;
}

std::vector<double> ref_backward_weights(const conv_geom& g, int n, const std::vector<float>& x,
                                         const std::vector<float>& dy) {
  std::vector<double> dw(w_size(g), 0.0);
  for_each_tap(g, n, [&](std::size_t yi, std::size_t xi, std::size_t wi) { dw[wi] += double(dy[yi]) * x[xi]; });
  return dw;
}

// Scratch exactly as large as conv_scratch_floats says, NaN-filled (the kernels
// must not read what they did not write), followed by a guard band that must
// survive the call.
struct scratch_buf {
  static constexpr std::size_t guard = 64;
  static constexpr float sentinel = 12345.0f;
  std::vector<float> buf;
  std::size_t size;
  scratch_buf(const conv_geom& g, int n) : size(cpu::conv_scratch_floats(g, n, cpu::num_threads())) {
    buf.assign(size + guard, std::numeric_limits<float>::quiet_NaN());
    for (std::size_t i = size; i < buf.size(); ++i) buf[i] = sentinel;
  }
  float* data() { return buf.data(); }
  bool guard_intact() const {
    for (std::size_t i = size; i < buf.size(); ++i)
      if (buf[i] != sentinel) return false;
    return true;
  }
};

std::vector<float> run_forward(const conv_geom& g, int n, const std::vector<float>& x, const std::vector<float>& w,
                               const float* bias) {
  std::vector<float> y(y_size(g, n), std::numeric_limits<float>::quiet_NaN());
  scratch_buf s(g, n);
  cpu::conv2d_forward(g, n, x.data(), w.data(), bias, y.data(), s.data());
  EXPECT_TRUE(s.guard_intact()) << "forward wrote past its scratch";
  return y;
}

std::vector<float> run_backward_data(const conv_geom& g, int n, const std::vector<float>& dy,
                                     const std::vector<float>& w) {
  std::vector<float> dx(x_size(g, n), std::numeric_limits<float>::quiet_NaN());
  scratch_buf s(g, n);
  cpu::conv2d_backward_data(g, n, dy.data(), w.data(), dx.data(), s.data());
  EXPECT_TRUE(s.guard_intact()) << "backward_data wrote past its scratch";
  return dx;
}

void run_backward_weights(const conv_geom& g, int n, const std::vector<float>& x, const std::vector<float>& dy,
                          std::vector<float>& dw, std::vector<float>* dbias) {
  dw.assign(w_size(g), std::numeric_limits<float>::quiet_NaN());
  if (dbias) dbias->assign(std::size_t(g.c_out), std::numeric_limits<float>::quiet_NaN());
  scratch_buf s(g, n);
  cpu::conv2d_backward_weights(g, n, x.data(), dy.data(), dw.data(), dbias ? dbias->data() : nullptr, s.data());
  EXPECT_TRUE(s.guard_intact()) << "backward_weights wrote past its scratch";
}

// |got - want| <= abs + rel * |want| for every element; reports the first few misses.
template <class A, class B>
::testing::AssertionResult all_close(const A& got, const B& want, double abs_tol, double rel_tol) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "size " << got.size() << " vs " << want.size();
  int bad = 0;
  std::ostringstream os;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    if (!(std::abs(g - w) <= abs_tol + rel_tol * std::abs(w))) {
      if (bad < 5) os << " [" << i << "] got " << g << " want " << w << ";";
      ++bad;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << got.size() << " differ:" << os.str();
}

bool close(double got, double want, double abs_tol, double rel_tol) {
  return std::abs(got - want) <= abs_tol + rel_tol * std::abs(want);
}

/// The option combinations: kernel 1x1/3x3/5x5/3x1, stride 1/2, padding 0/1/2,
/// dilation 1/2/4, groups 1 / 2 / depthwise / depthwise x2, bias off/on. The
/// input is just large enough for the dilated kernel (odd, non-square), or at
/// least `min_h` x `min_w`.
std::vector<conv_case> all_cases(int n, int min_h, int min_w) {
  std::vector<conv_case> out;
  const int kernels[][2] = {{1, 1}, {3, 3}, {5, 5}, {3, 1}};
  for (const auto& k : kernels)
    for (int s : {1, 2})
      for (int p : {0, 1, 2})
        for (int d : {1, 2, 4})
          for (int mode = 0; mode < 4; ++mode)
            for (bool bias : {false, true}) {
              conv_case c{};
              c.n = n;
              c.kh = k[0];
              c.kw = k[1];
              c.sh = s;
              c.sw = s;
              c.ph = p;
              c.pw = k[1] == 1 && p > 0 ? p - 1 : p;  // asymmetric padding for the 3x1 kernel
              c.dh = d;
              c.dw = d;
              c.bias = bias;
              c.c_in = 4;
              switch (mode) {
                case 0: c.groups = 1, c.c_out = 5; break;
                case 1: c.groups = 2, c.c_out = 6; break;
                case 2: c.groups = 4, c.c_out = 4; break;  // depthwise
                default: c.groups = 4, c.c_out = 8; break;  // depthwise, multiplier 2
              }
              const int ext_h = (c.kh - 1) * d + 1, ext_w = (c.kw - 1) * d + 1;
              c.h = std::max(min_h, ext_h - 2 * c.ph + 2) | 1;
              c.w = std::max(min_w, ext_w - 2 * c.pw + 3);
              out.push_back(c);
            }
  // A few extra shapes: one input channel (not depthwise), stride 2x1 / 1x2,
  // channel counts that do not divide evenly over threads, depthwise with a
  // multiplier of 3 and different strides / paddings / dilations per axis.
  out.push_back({n, 1, 3, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, true});
  out.push_back({n, 3, 7, 9, 12, 3, 3, 2, 1, 1, 1, 1, 1, 1, true});
  out.push_back({n, 3, 3, 9, 12, 3, 5, 1, 2, 2, 1, 1, 2, 3, false});
  out.push_back({n, 6, 9, 7, 7, 1, 1, 1, 1, 0, 0, 1, 1, 3, true});
  out.push_back({n, 5, 15, 8, 9, 3, 3, 2, 1, 1, 2, 2, 1, 5, true});
  // Depthwise kernels with more taps than the kernels' 64-tap chunks.
  out.push_back({n, 2, 4, 11, 12, 9, 9, 1, 1, 4, 3, 1, 1, 2, true});
  out.push_back({n, 2, 2, 13, 14, 9, 9, 2, 1, 4, 4, 1, 1, 2, false});
  // Padding beyond the kernel's extent (PyTorch allows any padding): border
  // outputs see only zeros. 1x1 with padding 1 and 3 (im2col, grouped,
  // depthwise), 3x3 with padding 3 / 4, a dilated one with padding 5.
  out.push_back({n, 4, 5, 5, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1, true});
  out.push_back({n, 4, 6, 5, 6, 1, 1, 2, 1, 3, 2, 1, 1, 2, true});
  out.push_back({n, 4, 8, 5, 6, 1, 1, 1, 1, 1, 3, 1, 1, 4, true});
  out.push_back({n, 3, 5, 4, 5, 3, 3, 1, 2, 3, 4, 1, 1, 1, false});
  out.push_back({n, 4, 4, 4, 5, 3, 3, 2, 1, 4, 3, 1, 1, 4, true});
  out.push_back({n, 4, 4, 3, 3, 3, 3, 1, 1, 5, 5, 2, 2, 4, false});
  return out;
}

struct random_problem {
  conv_geom g;
  int n;
  std::vector<float> x, w, b, r;
  random_problem(const conv_case& c, std::mt19937& rng) : g(geom_of(c)), n(c.n) {
    x = random_vec(x_size(g, n), rng);
    w = random_vec(w_size(g), rng);
    if (c.bias) b = random_vec(std::size_t(g.c_out), rng);
    r = random_vec(y_size(g, n), rng);
  }
  const float* bias() const { return b.empty() ? nullptr : b.data(); }
};

// Forward, both backward passes, against the naive double-precision reference.
void check_against_reference(const conv_case& c, std::mt19937& rng) {
  SCOPED_TRACE(describe(c));
  random_problem p(c, rng);
  ASSERT_GT(p.g.h_out, 0);
  ASSERT_GT(p.g.w_out, 0);
  EXPECT_TRUE(all_close(run_forward(p.g, p.n, p.x, p.w, p.bias()), ref_forward(p.g, p.n, p.x, p.w, p.bias()), 1e-4,
                        1e-4))
      << "forward";
  EXPECT_TRUE(all_close(run_backward_data(p.g, p.n, p.r, p.w), ref_backward_data(p.g, p.n, p.r, p.w), 1e-4, 1e-4))
      << "backward_data";
  std::vector<float> dw, db;
  run_backward_weights(p.g, p.n, p.x, p.r, dw, p.b.empty() ? nullptr : &db);
  EXPECT_TRUE(all_close(dw, ref_backward_weights(p.g, p.n, p.x, p.r), 1e-3, 1e-4)) << "backward_weights";
  if (!p.b.empty()) {
    std::vector<double> want(std::size_t(p.g.c_out), 0.0);
    const std::size_t plane = std::size_t(p.g.h_out) * p.g.w_out;
    for (std::size_t i = 0; i < p.r.size(); ++i) want[(i / plane) % p.g.c_out] += p.r[i];
    EXPECT_TRUE(all_close(db, want, 1e-3, 1e-4)) << "dbias";
  }
  // The fused ReLU epilogue equals max(forward, 0).
  {
    std::vector<float> y(y_size(p.g, p.n), std::numeric_limits<float>::quiet_NaN());
    scratch_buf s(p.g, p.n);
    cpu::conv2d_forward(p.g, p.n, p.x.data(), p.w.data(), p.bias(), y.data(), s.data(), cpu::conv_epilogue::relu);
    EXPECT_TRUE(s.guard_intact()) << "forward with ReLU wrote past its scratch";
    auto want = ref_forward(p.g, p.n, p.x, p.w, p.bias());
    for (auto& v : want) v = v < 0 ? 0.0 : v;
    EXPECT_TRUE(all_close(y, want, 1e-4, 1e-4)) << "forward + ReLU epilogue";
  }
  // Both backward passes in one call equal the separate ones (with and without dx).
  for (bool with_dx : {true, false}) {
    std::vector<float> dx2(x_size(p.g, p.n), std::numeric_limits<float>::quiet_NaN());
    std::vector<float> dw2(w_size(p.g), std::numeric_limits<float>::quiet_NaN());
    std::vector<float> db2(std::size_t(p.g.c_out), std::numeric_limits<float>::quiet_NaN());
    scratch_buf s(p.g, p.n);
    cpu::conv2d_backward(p.g, p.n, p.x.data(), p.r.data(), p.w.data(), with_dx ? dx2.data() : nullptr, dw2.data(),
                         p.b.empty() ? nullptr : db2.data(), s.data());
    EXPECT_TRUE(s.guard_intact()) << "conv2d_backward wrote past its scratch";
    EXPECT_TRUE(all_close(dw2, dw, 1e-4, 1e-5)) << "conv2d_backward dw, with_dx=" << with_dx;
    if (!p.b.empty()) {
      EXPECT_TRUE(all_close(db2, db, 1e-4, 1e-5)) << "conv2d_backward dbias";
    }
    if (with_dx) {
      EXPECT_TRUE(all_close(dx2, ref_backward_data(p.g, p.n, p.r, p.w), 1e-4, 1e-4)) << "conv2d_backward dx";
    }
  }
}

// Central finite differences of loss = sum(y * r) (accumulated in double) with
// respect to x, w and bias, against the backward passes: random directions
// (every element at once) and a few single elements.
void check_finite_differences(const conv_case& c, std::mt19937& rng) {
  SCOPED_TRACE(describe(c));
  random_problem p(c, rng);
  const double eps = 1e-2;
  auto loss = [&](const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b) {
    const auto y = run_forward(p.g, p.n, x, w, b.empty() ? nullptr : b.data());
    double s = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) s += double(y[i]) * p.r[i];
    return s;
  };
  const auto dx = run_backward_data(p.g, p.n, p.r, p.w);
  std::vector<float> dw, db;
  run_backward_weights(p.g, p.n, p.x, p.r, dw, p.b.empty() ? nullptr : &db);

  // d loss / d t at t = 0 of loss(v + t * dir), by central differences.
  auto fd_along = [&](int which, const std::vector<float>& dir) {
    auto x = p.x, w = p.w, b = p.b;
    std::vector<float>& v = which == 0 ? x : which == 1 ? w : b;
    const std::vector<float>& v0 = which == 0 ? p.x : which == 1 ? p.w : p.b;
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = float(v0[i] + eps * dir[i]);
    const double plus = loss(x, w, b);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = float(v0[i] - eps * dir[i]);
    const double minus = loss(x, w, b);
    return (plus - minus) / (2 * eps);
  };
  auto analytic_along = [](const std::vector<float>& grad, const std::vector<float>& dir) {
    double s = 0.0;
    for (std::size_t i = 0; i < grad.size(); ++i) s += double(grad[i]) * dir[i];
    return s;
  };
  auto unit = [](std::size_t size, std::size_t i) {
    std::vector<float> e(size, 0.0f);
    e[i] = 1.0f;
    return e;
  };
  const char* names[] = {"x", "w", "bias"};
  const std::vector<float>* grads[] = {&dx, &dw, &db};
  const std::vector<float>* vals[] = {&p.x, &p.w, &p.b};
  for (int which = 0; which < 3; ++which) {
    const std::size_t size = vals[which]->size();
    if (size == 0) continue;
    std::vector<std::vector<float>> dirs;
    if (which == 2) {
      for (std::size_t i = 0; i < size; ++i) dirs.push_back(unit(size, i));
    } else {
      dirs.push_back(random_vec(size, rng));
      dirs.push_back(random_vec(size, rng));
      std::uniform_int_distribution<std::size_t> pick(0, size - 1);
      for (int k = 0; k < 4; ++k) dirs.push_back(unit(size, pick(rng)));
      dirs.push_back(unit(size, 0));
      dirs.push_back(unit(size, size - 1));
    }
    for (const auto& dir : dirs) {
      const double fd = fd_along(which, dir), an = analytic_along(*grads[which], dir);
      EXPECT_TRUE(close(an, fd, 1e-3, 1e-2)) << "d loss / d " << names[which] << ": backward " << an
                                             << ", finite difference " << fd;
    }
  }
}

// Restores the pool size a test changed.
struct threads_guard {
  int saved = cpu::num_threads();
  ~threads_guard() { cpu::set_num_threads(saved); }
};

TEST(CpuConv, ScratchSize) {
  // Depthwise, per thread: two padded planes of 12 rows (the input's, dy's
  // with 2 rows + 2 zeros in front; stride 1 needs no input-gradient planes)
  // and a partial weight and bias gradient, each rounded up to 16 floats;
  // nothing that grows with the batch. A row is the 10 outputs rounded up to
  // whole vectors, plus 2.
  const auto round16 = [](std::size_t n) { return (n + 15) / 16 * 16; };
  const std::size_t vw = xsimd::batch<float>::size, row = (10 + vw - 1) / vw * vw + 2;
  const std::size_t planes = round16(2 * 12 * row + 2 * row + 2);
  conv_geom dw{8, 10, 10, 8, 10, 10, 3, 3, 1, 1, 1, 1, 1, 1, 8};
  EXPECT_EQ(cpu::conv_scratch_floats(dw, 4, 2), 2u * (planes + 80 + 16));
  conv_geom dw_wide{64, 10, 10, 128, 10, 10, 3, 3, 1, 1, 1, 1, 1, 1, 64};
  EXPECT_EQ(cpu::conv_scratch_floats(dw_wide, 4, 2), 2u * (planes + 128 * 9 + 128));
  EXPECT_EQ(cpu::conv_scratch_floats(dw_wide, 128, 2), cpu::conv_scratch_floats(dw_wide, 4, 2));
  // Pointwise: no column matrix, only a partial weight + bias gradient per thread.
  conv_geom pw{8, 10, 10, 16, 10, 10, 1, 1, 1, 1, 0, 0, 1, 1, 1};
  EXPECT_EQ(cpu::conv_scratch_floats(pw, 4, 2), 2u * (16 * 8 + 16));
  // Implicit im2col, per thread: the padded input planes of one group and
  // their gradient, the GEMM's packing buffer, and the partial gradients.
  conv_geom g{8, 10, 10, 16, 10, 10, 3, 3, 1, 1, 1, 1, 1, 1, 2};
  const std::size_t one = cpu::conv_scratch_floats(g, 4, 1);
  EXPECT_EQ(one, 2 * round16(4 * 12 * 12) + round16(cpu::gemm_detail::pack_floats(100)) + 16 * 36 + 16);
  EXPECT_EQ(cpu::conv_scratch_floats(g, 4, 3), 3 * one);
  // The column matrix is never built: a wide conv (576 x 1024 columns) needs
  // far less than it, and nothing that grows with the batch.
  conv_geom wide{64, 32, 32, 64, 32, 32, 3, 3, 1, 1, 4, 4, 4, 4, 1};
  EXPECT_EQ(cpu::conv_scratch_floats(wide, 128, 1),
            std::size_t(2 * 64 * 40 * 40 + round16(cpu::gemm_detail::pack_floats(1024)) + 64 * 576 + 64));
  EXPECT_LT(cpu::conv_scratch_floats(wide, 128, 1), std::size_t(576 * 1024));
  EXPECT_EQ(cpu::conv_scratch_floats(wide, 128, 1), cpu::conv_scratch_floats(wide, 1, 1));
}

TEST(CpuConv, ForwardAndBackwardMatchReference) {
  std::mt19937 rng(1234);
  for (const auto& c : all_cases(2, 7, 6)) check_against_reference(c, rng);
}

TEST(CpuConv, WideRowsMatchReference) {
  // Rows long enough for the vectorised interior of the depthwise kernels (two
  // and one full registers plus a tail) and several column blocks.
  std::mt19937 rng(99);
  for (const auto& c : all_cases(1, 5, 37)) check_against_reference(c, rng);
}

TEST(CpuConv, GradientsMatchFiniteDifferences) {
  std::mt19937 rng(4321);
  for (const auto& c : all_cases(2, 5, 6)) check_finite_differences(c, rng);
}

TEST(CpuConv, ThreadCountsAndBatchSplits) {
  // Batches smaller than, equal to, and not a multiple of the thread count
  // exercise the per-image column / channel splits and the scratch slots.
  threads_guard restore;
  std::mt19937 rng(7);
  const conv_case shapes[] = {
      {1, 6, 8, 9, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},   // im2col
      {1, 6, 9, 9, 13, 3, 3, 2, 2, 1, 1, 2, 2, 3, true},   // im2col, groups, stride, dilation
      {1, 6, 8, 9, 13, 1, 1, 1, 1, 0, 0, 1, 1, 1, true},   // pointwise
      {1, 6, 12, 9, 13, 3, 3, 1, 1, 1, 1, 1, 1, 6, true},  // depthwise x2
      {1, 6, 6, 9, 13, 5, 5, 2, 2, 2, 2, 1, 1, 6, false},  // depthwise, strided
      // K = 576: several K blocks; packed panels that straddle output rows.
      {1, 64, 3, 15, 17, 3, 3, 1, 1, 2, 2, 2, 2, 1, true},
      {1, 64, 4, 29, 33, 3, 3, 2, 1, 1, 2, 1, 2, 2, true},  // groups, stride 2x1
  };
  for (int threads : {1, 2, 3}) {
    cpu::set_num_threads(threads);
    for (int n : {1, 2, 3, 5})
      for (conv_case c : shapes) {
        c.n = n;
        SCOPED_TRACE("threads=" + std::to_string(threads));
        check_against_reference(c, rng);
      }
  }
}

TEST(CpuConv, BlockEdgesOfTheImplicitColumnsMatchReference) {
  // The implicit im2col GEMM's blocking edges: more output positions than one
  // packed B block holds (41 x 40 = 1640) and than one K block of the weight
  // gradient (256); tap rows not a multiple of 8 (27, the transposing packer's
  // scalar edge); more output channels than one K block of the data gradient
  // (260, whose blocks the scatter adds up); rows narrower than a SIMD vector;
  // output rows of one to two vectors (24, 28: pack_runs, which panels made
  // of such rows take, next to panels with shorter pieces that do not).
  threads_guard restore;
  std::mt19937 rng(11);
  const conv_case shapes[] = {
      {1, 3, 5, 41, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},
      {2, 5, 9, 28, 28, 3, 3, 1, 1, 0, 0, 2, 2, 1, false},
      {1, 4, 6, 12, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},
      {2, 32, 9, 20, 19, 3, 3, 1, 1, 2, 2, 2, 2, 1, false},
      {1, 2, 260, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, false},
      {2, 3, 4, 13, 11, 3, 3, 2, 3, 1, 0, 1, 2, 1, true},
  };
  for (int threads : {1, 2}) {
    cpu::set_num_threads(threads);
    for (const conv_case& c : shapes) check_against_reference(c, rng);
  }
}

TEST(CpuConv, PlaneStatisticsMatchTheOutputPlanes) {
  // conv2d_forward's plane_stats (for the BatchNorm after it) are exactly what
  // BatchNorm's own pass computes from the output (after the fused ReLU):
  // depthwise, implicit im2col and 1x1 paths, with whole images per thread and
  // with images split between threads.
  threads_guard restore;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const conv_geom shapes[] = {
      {4, 9, 9, 8, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 4},   // depthwise x2
      {3, 9, 10, 5, 7, 8, 3, 3, 1, 1, 0, 0, 1, 1, 1},  // implicit im2col
      {6, 7, 7, 4, 7, 7, 1, 1, 1, 1, 0, 0, 1, 1, 2},   // 1x1, groups
  };
  for (int threads : {1, 2})
    for (int n : {1, 3, 8})
      for (const conv_geom& g : shapes) {
        cpu::set_num_threads(threads);
        std::vector<float> x(static_cast<std::size_t>(n) * g.c_in * g.h_in * g.w_in), w(w_size(g));
        for (auto& v : x) v = normal(rng);
        for (auto& v : w) v = normal(rng);
        const int P = g.h_out * g.w_out, planes = n * g.c_out;
        std::vector<float> y(static_cast<std::size_t>(planes) * P), stats(2 * static_cast<std::size_t>(planes), -1.0f);
        std::vector<float> scratch(cpu::conv_scratch_floats(g, n, threads));
        cpu::conv2d_forward(g, n, x.data(), w.data(), nullptr, y.data(), scratch.data(), cpu::conv_epilogue::relu,
                            stats.data());
        for (int p = 0; p < planes; ++p) {
          float mean = 0.0f, m2 = 0.0f;
          cpu::layer_detail::plane_stats_of(y.data() + static_cast<std::size_t>(p) * P, P, mean, m2);
          EXPECT_EQ(stats[p], mean) << "threads=" << threads << " n=" << n << " plane " << p;
          EXPECT_EQ(stats[planes + p], m2) << "threads=" << threads << " n=" << n << " plane " << p;
          EXPECT_GT(m2, 0.0f);
        }
      }
}

TEST(CpuConv, EmptyBatchZeroesWeightGradients) {
  conv_geom g{4, 5, 5, 6, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 2};
  std::vector<float> dw(w_size(g), 1.0f), db(6, 1.0f);
  std::vector<float> scratch(cpu::conv_scratch_floats(g, 0, cpu::num_threads()) + 1);
  cpu::conv2d_backward_weights(g, 0, nullptr, nullptr, dw.data(), db.data(), scratch.data());
  for (float v : dw) EXPECT_EQ(v, 0.0f);
  for (float v : db) EXPECT_EQ(v, 0.0f);
}

}  // namespace
