// staticnet/report.hpp: the trainer's reports as PNG images, drawn with cairo.
//
//   plot_curves       a line chart (axes, "nice" ticks, grid, legend) of named series
//   training_curves   loss.png and accuracy.png of a training history
//   image_grid        labelled images in a grid (misclassified images, augmented samples)
//   confusion_matrix  a row-normalised heat map with the counts in the cells
//   confusion_matrix_text  the same matrix as a text table for the terminal or a log
//
// All drawing, text (cairo's toy text API, "DejaVu Sans") and PNG encoding are
// cairo's; see docs/reports.md for why. Link cairo (the CMake target
// staticnet::staticnet does). Every function throws std::runtime_error, whose
// message names the output path, when it cannot produce the file (a missing or
// unwritable directory, a cairo error) or when its input is malformed.
//
// This header is not part of the umbrella header <staticnet/staticnet.hpp>.
#pragma once
#if __has_include(<cairo.h>)
#include <cairo.h>
#else
#include <cairo/cairo.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace staticnet::report {

/// One line of a chart: the points (x[i], y[i]). Points with a NaN or
/// infinite coordinate are skipped, and the line is broken there.
struct series {
  std::string name;  ///< the legend entry
  std::vector<double> x, y;
};

/// One epoch of a training history; accuracies are fractions in [0, 1].
/// A NaN (e.g. an epoch without a test pass) is skipped in the charts.
struct epoch_record {
  int epoch = 0;
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0, lr = 0;
};

/// An 8-bit image in height x width x channel order (c = 1: grey, c = 3: RGB),
/// with the caption drawn under it ('\n' starts a new line; a caption too wide
/// for its cell is broken at " / ", then at spaces).
struct labelled_image {
  std::vector<std::uint8_t> hwc;
  int h = 0, w = 0, c = 0;
  std::string caption;
};

/// An 8-bit RGB colour.
struct colour {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const colour&, const colour&) = default;
};

/// The colour of the i-th series of a chart (the ten "Tableau 10" colours, cycled).
inline colour series_colour(std::size_t i) noexcept {
  static constexpr colour palette[10] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                         {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                         {188, 189, 34},  {23, 190, 207}};
  return palette[i % 10];
}

/// The heat-map colour of a share f in [0, 1] (a white-to-dark-blue ramp, "Blues").
inline colour heat_colour(double f) noexcept {
  static constexpr colour ramp[9] = {{247, 251, 255}, {222, 235, 247}, {198, 219, 239}, {158, 202, 225}, {107, 174, 214},
                                     {66, 146, 198},  {33, 113, 181},  {8, 81, 156},    {8, 48, 107}};
  if (!(f > 0)) return ramp[0];
  if (f >= 1) return ramp[8];
  const double t = f * 8;
  const int i = static_cast<int>(t);
  const double u = t - i;
  auto mix = [u](std::uint8_t a, std::uint8_t b) {
    return static_cast<std::uint8_t>(std::lround(a + (static_cast<double>(b) - a) * u));
  };
  return {mix(ramp[i].r, ramp[i + 1].r), mix(ramp[i].g, ramp[i + 1].g), mix(ramp[i].b, ramp[i + 1].b)};
}

namespace detail {

[[noreturn]] inline void fail(const std::filesystem::path& png, const std::string& what) {
  throw std::runtime_error("staticnet::report: " + png.string() + ": " + what);
}

struct surface_deleter {
  void operator()(cairo_surface_t* s) const noexcept { cairo_surface_destroy(s); }
};
struct context_deleter {
  void operator()(cairo_t* c) const noexcept { cairo_destroy(c); }
};
struct pattern_deleter {
  void operator()(cairo_pattern_t* p) const noexcept { cairo_pattern_destroy(p); }
};
using surface_ptr = std::unique_ptr<cairo_surface_t, surface_deleter>;
using context_ptr = std::unique_ptr<cairo_t, context_deleter>;
using pattern_ptr = std::unique_ptr<cairo_pattern_t, pattern_deleter>;

inline constexpr const char* font_family = "DejaVu Sans";
inline constexpr int max_side = 32767;  // cairo's limit for an image surface

inline void set_colour(cairo_t* cr, colour c, double alpha = 1.0) {
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, alpha);
}
inline constexpr colour white{255, 255, 255}, ink{34, 34, 34}, soft_ink{85, 85, 85}, frame{110, 110, 110},
    grid_grey{229, 229, 229}, hint_grey{150, 150, 150};

inline void use_font(cairo_t* cr, double size, bool bold = false) {
  cairo_select_font_face(cr, font_family, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

inline double text_width(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

/// Draws s with (x, y) at the fraction ax of its width (0 left, 0.5 centre,
/// 1 right) and the fraction ay of the font's height (0 top, 0.5 middle, 1 bottom).
inline void draw_text(cairo_t* cr, double x, double y, const std::string& s, double ax, double ay) {
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  cairo_move_to(cr, x - ax * text_width(cr, s), y + fe.ascent - ay * (fe.ascent + fe.descent));
  cairo_show_text(cr, s.c_str());
  cairo_new_path(cr);
}

/// The same, rotated by `angle` radians about (x, y).
inline void draw_text_rotated(cairo_t* cr, double x, double y, double angle, const std::string& s, double ax,
                              double ay) {
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  draw_text(cr, 0, 0, s, ax, ay);
  cairo_restore(cr);
}

/// The centre of a pixel: 1-pixel lines drawn there are crisp.
inline double crisp(double v) { return std::floor(v) + 0.5; }

inline void rounded_rectangle(cairo_t* cr, double x, double y, double w, double h, double r) {
  const double pi = std::numbers::pi;
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -pi / 2, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, pi / 2);
  cairo_arc(cr, x + r, y + h - r, r, pi / 2, pi);
  cairo_arc(cr, x + r, y + r, r, pi, 3 * pi / 2);
  cairo_close_path(cr);
}

/// An opaque RGB image surface with a context, painted white, ready for text.
class canvas {
 public:
  canvas(const std::filesystem::path& png, int width, int height) : png_(png) {
    if (width <= 0 || height <= 0 || width > max_side || height > max_side)
      fail(png, "image size " + std::to_string(width) + " x " + std::to_string(height) + " is out of range (1.." +
                    std::to_string(max_side) + ")");
    surface_.reset(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height));
    check(cairo_surface_status(surface_.get()), "cannot create the image");
    context_.reset(cairo_create(surface_.get()));
    check(cairo_status(context_.get()), "cannot create the drawing context");
    cairo_t* c = context_.get();
    set_colour(c, white);
    cairo_paint(c);
    cairo_font_options_t* fo = cairo_font_options_create();
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_SLIGHT);
    cairo_set_font_options(c, fo);
    cairo_font_options_destroy(fo);
    use_font(c, 12);
  }

  [[nodiscard]] cairo_t* cr() const noexcept { return context_.get(); }

  void check(cairo_status_t st, const char* what) const {
    if (st != CAIRO_STATUS_SUCCESS) fail(png_, std::string(what) + " (cairo: " + cairo_status_to_string(st) + ")");
  }

  /// Writes the PNG file.
  void save() {
    check(cairo_status(context_.get()), "drawing failed");
    cairo_surface_flush(surface_.get());
    const cairo_status_t st = cairo_surface_write_to_png(surface_.get(), png_.c_str());
    if (st != CAIRO_STATUS_SUCCESS) {
      std::error_code ec;
      const auto dir = png_.parent_path().empty() ? std::filesystem::path(".") : png_.parent_path();
      const bool is_dir = std::filesystem::is_directory(dir, ec);
      fail(png_, std::string("cannot write the PNG file") + (is_dir ? "" : " (no such directory)") + " (cairo: " +
                     cairo_status_to_string(st) + ")");
    }
  }

 private:
  std::filesystem::path png_;
  surface_ptr surface_;
  context_ptr context_;
};

// ------------------------------------------------------------ nice numbers --

/// The "nice number" (1, 2, 5 or 10 times a power of ten) nearest to x > 0
/// (after Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990).
inline double nice_number(double x) {
  const double p = std::pow(10.0, std::floor(std::log10(x)));
  const double f = x / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

/// An axis range [lo, hi] whose ends are multiples of the tick step.
struct axis {
  double lo = 0, hi = 1, step = 0.2;
  [[nodiscard]] std::vector<double> ticks() const {
    std::vector<double> t;
    const double span = (hi - lo) / step;
    const long n = std::isfinite(span) ? std::min(std::lround(span), 1000L) : 0;
    for (long k = 0; k <= n; ++k) {
      double v = lo + static_cast<double>(k) * step;
      if (std::fabs(v) < step * 1e-9) v = 0;
      t.push_back(v);
    }
    return t;
  }
};

/// A nice axis for data in [lo, hi] with about `target` ticks; `integer` keeps
/// the step a whole number (epochs).
inline axis nice_axis(double lo, double hi, int target = 6, bool integer = false) {
  if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi - lo <= 1e-12 * std::max(1.0, std::fabs(lo))) {  // one value: widen around it
    const double d = integer ? 1.0 : lo != 0 ? std::fabs(lo) * 0.1 : 1.0;
    lo -= d;
    hi += d;
  }
  const double parts = std::max(1, target - 1);
  double step = nice_number(hi / parts - lo / parts);  // no overflow for ranges near DBL_MAX
  if (integer) step = std::max(step, 1.0);
  return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step, step};
}

/// A tick label: as many decimals as the step needs, a true minus sign.
inline std::string tick_label(double v, double step) {
  char buf[64];
  const double mag = std::max(std::fabs(v), step);
  if (mag >= 1e6 || step < 1e-4) {
    std::snprintf(buf, sizeof buf, "%g", v);
  } else {
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  }
  std::string s = buf;
  if (!s.empty() && s[0] == '-') {
    if (s.find_first_not_of("-0.") == std::string::npos) return s.substr(1);  // "-0.0"
    return "\u2212" + s.substr(1);
  }
  return s;
}

// ------------------------------------------------------------ text wrapping --

inline std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t at = s.find(sep, from);
    if (at == std::string::npos) break;
    out.push_back(s.substr(from, at - from));
    from = at + sep.size();
  }
  out.push_back(s.substr(from));
  return out;
}

/// s cut (at a UTF-8 character boundary) and ended with "…" to fit `width`.
inline std::string ellipsize(cairo_t* cr, std::string s, double width) {
  if (text_width(cr, s) <= width) return s;
  while (!s.empty()) {
    std::size_t cut = s.size() - 1;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.erase(cut);
    if (text_width(cr, s + "\u2026") <= width) break;
  }
  return s + "\u2026";
}

/// Greedily joins `parts` with `sep` into lines no wider than `width`.
inline std::vector<std::string> join_fitting(cairo_t* cr, const std::vector<std::string>& parts,
                                             const std::string& sep, double width) {
  std::vector<std::string> lines;
  std::string cur;
  bool have = false;
  for (const auto& p : parts) {
    if (have && text_width(cr, cur + sep + p) <= width) {
      cur += sep + p;
    } else {
      if (have) lines.push_back(cur);
      cur = p;
      have = true;
    }
  }
  if (have) lines.push_back(cur);
  return lines;
}

/// Breaks a caption into lines no wider than `width`: at '\n', then at " / ",
/// then at spaces; a word still too wide is ellipsized.
inline std::vector<std::string> wrap(cairo_t* cr, const std::string& text, double width) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  for (const auto& paragraph : split(text, "\n")) {
    for (const auto& piece : join_fitting(cr, split(paragraph, " / "), " / ", width)) {
      if (text_width(cr, piece) <= width) {
        out.push_back(piece);
        continue;
      }
      for (const auto& line : join_fitting(cr, split(piece, " "), " ", width)) out.push_back(ellipsize(cr, line, width));
    }
  }
  return out;
}

// ------------------------------------------------------------------ charts --

using point = std::pair<double, double>;

/// Points sampled at most `spacing` pixels apart along the runs (for legend placement).
inline std::vector<point> sample_runs(const std::vector<std::vector<std::vector<point>>>& runs, double spacing) {
  std::vector<point> out;
  for (const auto& per_series : runs)
    for (const auto& run : per_series) {
      if (run.size() == 1) out.push_back(run[0]);
      for (std::size_t i = 1; i < run.size(); ++i) {
        const double dx = run[i].first - run[i - 1].first, dy = run[i].second - run[i - 1].second;
        const int n = std::max(1, static_cast<int>(std::ceil(std::hypot(dx, dy) / spacing)));
        for (int k = 0; k <= n; ++k)
          out.emplace_back(run[i - 1].first + dx * k / n, run[i - 1].second + dy * k / n);
      }
    }
  return out;
}

}  // namespace detail

// ------------------------------------------------------------ plot_curves --

/// A 960 x 600 line chart of the series: a title, axes with ticks at nice
/// numbers and a light grid, one Tableau colour per series (series_colour(i)),
/// markers when a series has few points, and a legend placed in the corner
/// where it hides the least data. Empty series appear in the legend as
/// "(no data)"; a chart without any finite point says "no data".
inline void plot_curves(const std::filesystem::path& png, const std::string& title, const std::vector<series>& s,
                        const std::string& x_label, const std::string& y_label) {
  using namespace detail;
  constexpr int width = 960, height = 600;
  for (const auto& e : s)
    if (e.x.size() != e.y.size())
      fail(png, "series '" + e.name + "' has " + std::to_string(e.x.size()) + " x values but " +
                    std::to_string(e.y.size()) + " y values");

  // Data ranges over the finite points.
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  bool x_integer = true;
  std::size_t points = 0;
  for (const auto& e : s)
    for (std::size_t i = 0; i < e.x.size(); ++i) {
      if (!std::isfinite(e.x[i]) || !std::isfinite(e.y[i])) continue;
      x_lo = std::min(x_lo, e.x[i]);
      x_hi = std::max(x_hi, e.x[i]);
      y_lo = std::min(y_lo, e.y[i]);
      y_hi = std::max(y_hi, e.y[i]);
      x_integer = x_integer && e.x[i] == std::round(e.x[i]);
      ++points;
    }
  const axis xa = points ? nice_axis(x_lo, x_hi, 8, x_integer) : nice_axis(0, 1, 6);
  const axis ya = points ? nice_axis(y_lo, y_hi, 7) : nice_axis(0, 1, 6);
  const auto x_ticks = xa.ticks(), y_ticks = ya.ticks();

  canvas cv(png, width, height);
  cairo_t* cr = cv.cr();

  // Layout: the plot area leaves room for the title, tick labels and axis labels.
  use_font(cr, 12);
  double y_tick_w = 0;
  for (double v : y_ticks) y_tick_w = std::max(y_tick_w, text_width(cr, tick_label(v, ya.step)));
  const double left = std::ceil(18 + (y_label.empty() ? 0 : 24) + y_tick_w + 10);
  const double right = 30, top = title.empty() ? 24 : 58, bottom = x_label.empty() ? 42 : 68;
  const double X0 = left, X1 = width - right, Y0 = top, Y1 = height - bottom;
  const double pad_x = std::round(0.02 * (X1 - X0)), pad_y = std::round(0.03 * (Y1 - Y0));  // data off the frame
  auto px = [&](double x) { return X0 + pad_x + (x - xa.lo) / (xa.hi - xa.lo) * (X1 - X0 - 2 * pad_x); };
  auto py = [&](double y) { return Y1 - pad_y - (y - ya.lo) / (ya.hi - ya.lo) * (Y1 - Y0 - 2 * pad_y); };

  // Title.
  if (!title.empty()) {
    set_colour(cr, ink);
    use_font(cr, 19, true);
    draw_text(cr, (X0 + X1) / 2, 20, ellipsize(cr, title, width - 40), 0.5, 0);
  }

  // Grid, ticks and tick labels.
  cairo_set_line_width(cr, 1);
  set_colour(cr, grid_grey);
  for (double v : x_ticks) {
    cairo_move_to(cr, crisp(px(v)), Y0);
    cairo_line_to(cr, crisp(px(v)), Y1);
  }
  for (double v : y_ticks) {
    cairo_move_to(cr, X0, crisp(py(v)));
    cairo_line_to(cr, X1, crisp(py(v)));
  }
  cairo_stroke(cr);
  set_colour(cr, frame);
  for (double v : x_ticks) {
    cairo_move_to(cr, crisp(px(v)), std::floor(Y1));
    cairo_line_to(cr, crisp(px(v)), std::floor(Y1) + 6);
  }
  for (double v : y_ticks) {
    cairo_move_to(cr, std::floor(X0) - 5, crisp(py(v)));
    cairo_line_to(cr, std::floor(X0) + 1, crisp(py(v)));
  }
  cairo_stroke(cr);
  use_font(cr, 12);
  set_colour(cr, soft_ink);
  for (double v : x_ticks) draw_text(cr, crisp(px(v)), Y1 + 9, tick_label(v, xa.step), 0.5, 0);
  for (double v : y_ticks) draw_text(cr, X0 - 9, crisp(py(v)), tick_label(v, ya.step), 1, 0.5);

  // Axis labels.
  use_font(cr, 14);
  set_colour(cr, ink);
  if (!x_label.empty()) draw_text(cr, (X0 + X1) / 2, height - 14, x_label, 0.5, 1);
  if (!y_label.empty()) draw_text_rotated(cr, 16, (Y0 + Y1) / 2, -std::numbers::pi / 2, y_label, 0.5, 0);

  // The series, as runs of consecutive finite points in pixel coordinates.
  std::vector<std::vector<std::vector<point>>> runs(s.size());
  for (std::size_t k = 0; k < s.size(); ++k) {
    std::vector<point> run;
    for (std::size_t i = 0; i < s[k].x.size(); ++i) {
      if (std::isfinite(s[k].x[i]) && std::isfinite(s[k].y[i])) {
        run.emplace_back(px(s[k].x[i]), py(s[k].y[i]));
      } else if (!run.empty()) {
        runs[k].push_back(std::move(run));
        run.clear();
      }
    }
    if (!run.empty()) runs[k].push_back(std::move(run));
  }
  cairo_save(cr);
  cairo_rectangle(cr, X0 - 4, Y0 - 4, X1 - X0 + 8, Y1 - Y0 + 8);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (std::size_t k = 0; k < s.size(); ++k) {
    set_colour(cr, series_colour(k));
    std::size_t n = 0;
    for (const auto& run : runs[k]) n += run.size();
    cairo_set_line_width(cr, n > 300 ? 1.5 : 2.25);  // thinner for dense (per-batch) series
    for (const auto& run : runs[k]) {
      cairo_move_to(cr, run[0].first, run[0].second);
      for (std::size_t i = 1; i < run.size(); ++i) cairo_line_to(cr, run[i].first, run[i].second);
    }
    cairo_stroke(cr);
    for (const auto& run : runs[k])  // markers: every point of a short series, isolated points always
      for (const auto& p : run)
        if (n <= 40 || run.size() == 1) {
          cairo_new_sub_path(cr);
          cairo_arc(cr, p.first, p.second, 3.5, 0, 2 * std::numbers::pi);
        }
    cairo_fill(cr);
  }
  cairo_restore(cr);

  // The frame, over the data's ends.
  set_colour(cr, frame);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, crisp(X0), crisp(Y0), std::floor(X1) - std::floor(X0), std::floor(Y1) - std::floor(Y0));
  cairo_stroke(cr);

  if (points == 0) {
    use_font(cr, 16);
    set_colour(cr, hint_grey);
    draw_text(cr, (X0 + X1) / 2, (Y0 + Y1) / 2, "no data", 0.5, 0.5);
  }

  // Legend: in the candidate position that covers the fewest data samples.
  bool named = false;
  for (const auto& e : s) named = named || !e.name.empty();
  if (named) {
    use_font(cr, 13);
    std::vector<std::string> labels;
    double label_w = 0;
    for (std::size_t k = 0; k < s.size(); ++k) {
      std::string l = s[k].name.empty() ? "series " + std::to_string(k + 1) : s[k].name;
      if (runs[k].empty()) l += " (no data)";
      labels.push_back(ellipsize(cr, l, (X1 - X0) / 2));
      label_w = std::max(label_w, text_width(cr, labels.back()));
    }
    const double row = 21, pad = 10, sample = 26;
    const double bw = std::ceil(pad + sample + 8 + label_w + pad), bh = std::ceil(pad * 2 - 6 + row * labels.size());
    const double in = 12;
    const point candidates[] = {{X1 - in - bw, Y0 + in},        {X1 - in - bw, Y1 - in - bh}, {X0 + in, Y0 + in},
                                {X0 + in, Y1 - in - bh},        {X1 - in - bw, (Y0 + Y1 - bh) / 2},
                                {(X0 + X1 - bw) / 2, Y0 + in},  {(X0 + X1 - bw) / 2, Y1 - in - bh},
                                {X0 + in, (Y0 + Y1 - bh) / 2}};
    const auto samples = sample_runs(runs, 3);
    point best = candidates[0];
    std::size_t best_hits = std::numeric_limits<std::size_t>::max();
    for (const auto& c : candidates) {
      std::size_t hits = 0;
      for (const auto& p : samples)
        hits += p.first > c.first - 6 && p.first < c.first + bw + 6 && p.second > c.second - 6 &&
                p.second < c.second + bh + 6;
      if (hits < best_hits) best_hits = hits, best = c;
    }
    const double bx = std::floor(best.first), by = std::floor(best.second);
    rounded_rectangle(cr, bx + 0.5, by + 0.5, bw, bh, 4);
    set_colour(cr, white, 0.92);
    cairo_fill_preserve(cr);
    set_colour(cr, {204, 204, 204});
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    for (std::size_t k = 0; k < labels.size(); ++k) {
      const double cy = by + pad - 3 + row * (static_cast<double>(k) + 0.5);
      set_colour(cr, series_colour(k));
      cairo_set_line_width(cr, 2.25);
      cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
      cairo_move_to(cr, bx + pad, cy);
      cairo_line_to(cr, bx + pad + sample, cy);
      cairo_stroke(cr);
      set_colour(cr, ink);
      draw_text(cr, bx + pad + sample + 8, cy, labels[k], 0, 0.5);
    }
  }
  cv.save();
}

/// Writes dir/loss.png (train and test loss) and dir/accuracy.png (train and
/// test accuracy in percent, the best test accuracy in the title) against the
/// epoch, creating dir if needed.
inline void training_curves(const std::filesystem::path& dir, const std::vector<epoch_record>& history) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    detail::fail(dir, "cannot create the directory" + (ec ? " (" + ec.message() + ")" : std::string()));
  series train_loss{"train", {}, {}}, test_loss{"test", {}, {}}, train_acc{"train", {}, {}}, test_acc{"test", {}, {}};
  double best = -1;
  int best_epoch = 0;
  for (const auto& r : history) {
    const double e = r.epoch;
    train_loss.x.push_back(e), train_loss.y.push_back(r.train_loss);
    test_loss.x.push_back(e), test_loss.y.push_back(r.test_loss);
    train_acc.x.push_back(e), train_acc.y.push_back(100 * r.train_acc);
    test_acc.x.push_back(e), test_acc.y.push_back(100 * r.test_acc);
    if (std::isfinite(r.test_acc) && r.test_acc > best) best = r.test_acc, best_epoch = r.epoch;
  }
  std::string title = "Accuracy";
  if (best >= 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "Accuracy (best test %.2f%% at epoch %d)", 100 * best, best_epoch);
    title = buf;
  }
  plot_curves(dir / "loss.png", "Loss", {train_loss, test_loss}, "epoch", "loss");
  plot_curves(dir / "accuracy.png", title, {train_acc, test_acc}, "epoch", "accuracy (%)");
}

// ------------------------------------------------------------- image_grid --

namespace detail {
inline constexpr int grid_margin = 14;     ///< pixels around the grid
inline constexpr int grid_gap = 14;        ///< pixels between cells
inline constexpr double caption_size = 12; ///< caption font size
inline constexpr int caption_line = 15;    ///< pixels per caption line
inline constexpr int caption_gap = 5;      ///< pixels between an image and its caption
}  // namespace detail

/// The images in rows of `columns`, each upscaled `scale` times (nearest
/// neighbour) in a thin grey frame and centred in its cell, its caption
/// centred under it. Cells are as wide as the widest scaled image (wider when
/// a caption part needs it); the first image's top-left pixel is at
/// (grid_margin + (cell width - its width) / 2, grid_margin). No images give a
/// small "no images" picture.
inline void image_grid(const std::filesystem::path& png, const std::vector<labelled_image>& images, int columns,
                       int scale) {
  using namespace detail;
  if (columns < 1) fail(png, "columns must be at least 1, not " + std::to_string(columns));
  if (scale < 1) fail(png, "scale must be at least 1, not " + std::to_string(scale));
  int img_w = 0, img_h = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto& im = images[i];
    const std::string which = "image " + std::to_string(i);
    if (im.c != 1 && im.c != 3) fail(png, which + " has " + std::to_string(im.c) + " channels (1 or 3 expected)");
    if (im.h < 1 || im.w < 1 || im.h > max_side || im.w > max_side)
      fail(png, which + " is " + std::to_string(im.h) + " x " + std::to_string(im.w));
    if (im.hwc.size() != static_cast<std::size_t>(im.h) * static_cast<std::size_t>(im.w) * static_cast<std::size_t>(im.c))
      fail(png, which + " has " + std::to_string(im.hwc.size()) + " bytes, not h*w*c = " +
                    std::to_string(static_cast<std::size_t>(im.h) * static_cast<std::size_t>(im.w) *
                                   static_cast<std::size_t>(im.c)));
    if (static_cast<long long>(im.w) * scale > max_side || static_cast<long long>(im.h) * scale > max_side)
      fail(png, which + " is too large at scale " + std::to_string(scale));
    img_w = std::max(img_w, im.w * scale);
    img_h = std::max(img_h, im.h * scale);
  }
  if (images.empty()) {
    canvas cv(png, 320, 80);
    use_font(cv.cr(), 16);
    set_colour(cv.cr(), hint_grey);
    draw_text(cv.cr(), 160, 40, "no images", 0.5, 0.5);
    cv.save();
    return;
  }

  // Measure the captions on a scratch surface to size the cells.
  surface_ptr scratch(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1));
  context_ptr m(cairo_create(scratch.get()));
  use_font(m.get(), caption_size);
  double part_w = 0;
  for (const auto& im : images)
    for (const auto& line : split(im.caption, "\n"))
      for (const auto& part : split(line, " / ")) part_w = std::max(part_w, text_width(m.get(), part));
  const int cell_w =
      std::max(img_w, static_cast<int>(std::ceil(std::min(part_w + 4, std::max(2.0 * img_w, 140.0)))));
  std::vector<std::vector<std::string>> captions;
  std::size_t lines = 0;
  for (const auto& im : images) {
    captions.push_back(wrap(m.get(), im.caption, cell_w));
    lines = std::max(lines, captions.back().size());
  }
  const int cap_h = lines ? caption_gap + caption_line * static_cast<int>(lines) : 0;
  const int cell_h = img_h + cap_h;
  const int n = static_cast<int>(images.size());
  const int cols = std::min(columns, n), rows = (n + cols - 1) / cols;
  const long long W = 2LL * grid_margin + 1LL * cols * cell_w + 1LL * (cols - 1) * grid_gap;
  const long long H = 2LL * grid_margin + 1LL * rows * cell_h + 1LL * (rows - 1) * grid_gap;
  if (W > max_side || H > max_side)
    fail(png, "the grid would be " + std::to_string(W) + " x " + std::to_string(H) + " pixels (at most " +
                  std::to_string(max_side) + " per side)");

  canvas cv(png, static_cast<int>(W), static_cast<int>(H));
  cairo_t* cr = cv.cr();
  use_font(cr, caption_size);
  for (int i = 0; i < n; ++i) {
    const auto& im = images[static_cast<std::size_t>(i)];
    const int x0 = grid_margin + (i % cols) * (cell_w + grid_gap), y0 = grid_margin + (i / cols) * (cell_h + grid_gap);
    const int ix = x0 + (cell_w - im.w * scale) / 2, iy = y0 + (img_h - im.h * scale) / 2;

    // The image at its own size, then painted scaled with the nearest-neighbour filter.
    surface_ptr src(cairo_image_surface_create(CAIRO_FORMAT_RGB24, im.w, im.h));
    cv.check(cairo_surface_status(src.get()), "cannot create an image surface");
    cairo_surface_flush(src.get());
    unsigned char* data = cairo_image_surface_get_data(src.get());
    const int stride = cairo_image_surface_get_stride(src.get());
    for (int y = 0; y < im.h; ++y) {
      auto* row = reinterpret_cast<std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
      for (int x = 0; x < im.w; ++x) {
        const std::uint8_t* p = im.hwc.data() + (static_cast<std::size_t>(y) * static_cast<std::size_t>(im.w) +
                                                 static_cast<std::size_t>(x)) * static_cast<std::size_t>(im.c);
        const std::uint32_t r = p[0], g = im.c == 3 ? p[1] : p[0], b = im.c == 3 ? p[2] : p[0];
        row[x] = 0xFF000000u | r << 16 | g << 8 | b;
      }
    }
    cairo_surface_mark_dirty(src.get());
    cairo_save(cr);
    cairo_translate(cr, ix, iy);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, src.get(), 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, im.w, im.h);
    cairo_fill(cr);
    cairo_restore(cr);

    set_colour(cr, {190, 190, 190});
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, ix - 0.5, iy - 0.5, im.w * scale + 1, im.h * scale + 1);
    cairo_stroke(cr);

    set_colour(cr, ink);
    const auto& cap = captions[static_cast<std::size_t>(i)];
    for (std::size_t l = 0; l < cap.size(); ++l)
      draw_text(cr, x0 + cell_w / 2.0, y0 + img_h + caption_gap + caption_line * static_cast<double>(l) + 1,
                cap[l], 0.5, 0);
  }
  cv.save();
}

// ------------------------------------------------------- confusion_matrix --

namespace detail {

inline std::vector<std::string> class_labels(const std::vector<std::string>& names, std::size_t n) {
  if (!names.empty()) return names;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(std::to_string(i));
  return out;
}

inline void check_matrix(const std::filesystem::path& where, const std::vector<std::vector<std::int64_t>>& counts,
                         const std::vector<std::string>& names) {
  const std::size_t n = counts.size();
  if (n == 0) fail(where, "the confusion matrix is empty");
  for (std::size_t i = 0; i < n; ++i) {
    if (counts[i].size() != n)
      fail(where, "the confusion matrix is not square (row " + std::to_string(i) + " has " +
                      std::to_string(counts[i].size()) + " entries, " + std::to_string(n) + " expected)");
    for (auto v : counts[i])
      if (v < 0) fail(where, "the confusion matrix has a negative count in row " + std::to_string(i));
  }
  if (!names.empty() && names.size() != n)
    fail(where, std::to_string(names.size()) + " class names for " + std::to_string(n) + " classes");
}

/// Where confusion_matrix puts its cells: cell (true i, predicted j) covers
/// [x0 + j*cell, x0 + (j+1)*cell - 1) x [y0 + i*cell, y0 + (i+1)*cell - 1).
struct matrix_geometry {
  int x0 = 0, y0 = 0, cell = 0;
  int width = 0, height = 0;  ///< of the whole image
  double label_size = 13;
  bool rotate_columns = false;
  double name_w = 0, recall_w = 0;
};

/// The subtitle of a confusion matrix: the accuracy and what the colours mean.
inline std::string confusion_subtitle(const std::vector<std::vector<std::int64_t>>& counts) {
  std::int64_t total = 0, correct = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    for (auto v : counts[i]) total += v;
    correct += i < counts[i].size() ? counts[i][i] : 0;
  }
  if (total == 0) return "no samples";
  char buf[160];
  std::snprintf(buf, sizeof buf, "accuracy %.2f%% (%lld of %lld)  \u00b7  colour: share of the true class",
                100.0 * static_cast<double>(correct) / static_cast<double>(total), static_cast<long long>(correct),
                static_cast<long long>(total));
  return buf;
}

/// The height of the column labels under the matrix.
inline double column_band(const matrix_geometry& g, double font_h) {
  return g.rotate_columns ? g.name_w * std::numbers::sqrt2 / 2 + font_h * 0.8 : font_h;
}

/// The layout of a confusion matrix (text measured on cr); names as drawn.
inline matrix_geometry confusion_geometry(cairo_t* cr, const std::vector<std::vector<std::int64_t>>& counts,
                                          const std::vector<std::string>& names) {
  matrix_geometry g;
  const int n = static_cast<int>(names.size());
  g.cell = std::clamp(static_cast<int>(std::lround(560.0 / n)), 16, 64);
  g.label_size = std::min(13.0, g.cell * 0.75);
  use_font(cr, g.label_size);
  for (const auto& s : names) g.name_w = std::max(g.name_w, text_width(cr, s));
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  const double font_h = fe.ascent + fe.descent;
  g.rotate_columns = g.name_w > g.cell - 6;
  const double col_band = column_band(g, font_h);
  const double overhang = g.rotate_columns ? (g.name_w + font_h) * std::numbers::sqrt2 / 2 - g.cell / 2.0 : 0;
  use_font(cr, 12);
  g.recall_w = std::max(text_width(cr, "100.0%"), text_width(cr, "recall"));
  const double left = 20 + 20 + 12 + std::max(g.name_w + 10, overhang - 30);
  g.x0 = static_cast<int>(std::ceil(left));
  g.y0 = 96;
  const double matrix = static_cast<double>(n) * g.cell;
  const double right = 14 + g.recall_w + 30 + 18 + 8 + text_width(cr, "100%") + 10 + 20 + 20;
  g.width = static_cast<int>(std::ceil(g.x0 + matrix + right));
  use_font(cr, 13);
  g.width = std::max(g.width, static_cast<int>(std::ceil(text_width(cr, confusion_subtitle(counts)) + 40)));
  g.height = static_cast<int>(std::ceil(g.y0 + matrix + 10 + col_band + 12 + 18 + 18));
  return g;
}

}  // namespace detail

/// A heat map of the counts (rows: true class, columns: predicted class), each
/// cell coloured by its share of the row (heat_colour), the count written in
/// it, each row's recall to its right, a colour bar, and the overall accuracy
/// in the subtitle. Empty class names number the classes 0, 1, ...
inline void confusion_matrix(const std::filesystem::path& png, const std::vector<std::vector<std::int64_t>>& counts,
                             const std::vector<std::string>& class_names) {
  using namespace detail;
  check_matrix(png, counts, class_names);
  const auto names = class_labels(class_names, counts.size());
  const int n = static_cast<int>(counts.size());
  std::vector<std::int64_t> row_sum(counts.size(), 0);
  for (std::size_t i = 0; i < counts.size(); ++i)
    for (auto v : counts[i]) row_sum[i] += v;

  surface_ptr scratch(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1));
  context_ptr m(cairo_create(scratch.get()));
  const matrix_geometry g = confusion_geometry(m.get(), counts, names);
  if (g.width > max_side || g.height > max_side) fail(png, "too many classes to draw (" + std::to_string(n) + ")");
  canvas cv(png, g.width, g.height);
  cairo_t* cr = cv.cr();
  const int cell = g.cell, x0 = g.x0, y0 = g.y0, side = n * cell;

  // Title and subtitle.
  set_colour(cr, ink);
  use_font(cr, 19, true);
  draw_text(cr, g.width / 2.0, 18, "Confusion matrix", 0.5, 0);
  use_font(cr, 13);
  set_colour(cr, soft_ink);
  draw_text(cr, g.width / 2.0, 50, confusion_subtitle(counts), 0.5, 0);
  char buf[64];

  // Cells: row-normalised colour, the count in the middle.
  double count_size = std::min(14.0, cell * 0.32);
  use_font(cr, count_size);
  double widest = 0;
  for (const auto& row : counts)
    for (auto v : row) widest = std::max(widest, text_width(cr, std::to_string(v)));
  if (widest > cell - 6) count_size *= (cell - 6) / widest;
  use_font(cr, count_size);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const auto v = counts[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
      const auto rs = row_sum[static_cast<std::size_t>(i)];
      const double f = rs > 0 ? static_cast<double>(v) / static_cast<double>(rs) : 0.0;
      set_colour(cr, heat_colour(f));
      cairo_rectangle(cr, x0 + j * cell, y0 + i * cell, cell - 1, cell - 1);
      cairo_fill(cr);
      if (count_size >= 6) {
        set_colour(cr, f > 0.5 ? white : v == 0 ? colour{175, 175, 175} : colour{30, 30, 30});
        draw_text(cr, x0 + j * cell + (cell - 1) / 2.0, y0 + i * cell + (cell - 1) / 2.0, std::to_string(v), 0.5,
                  0.5);
      }
    }

  // Row labels (true classes) and column labels (predicted classes).
  use_font(cr, g.label_size);
  set_colour(cr, ink);
  for (int i = 0; i < n; ++i)
    draw_text(cr, x0 - 8, y0 + i * cell + (cell - 1) / 2.0, names[static_cast<std::size_t>(i)], 1, 0.5);
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  const double font_h = fe.ascent + fe.descent;
  double band = font_h;
  for (int j = 0; j < n; ++j) {
    const double cx = x0 + j * cell + (cell - 1) / 2.0;
    if (g.rotate_columns)
      draw_text_rotated(cr, cx + font_h * 0.35, y0 + side + 6, -std::numbers::pi / 4, names[static_cast<std::size_t>(j)],
                        1, 0.5);
    else
      draw_text(cr, cx, y0 + side + 6, names[static_cast<std::size_t>(j)], 0.5, 0);
  }
  if (g.rotate_columns) band = column_band(g, font_h);
  use_font(cr, 14);
  draw_text(cr, x0 + side / 2.0, y0 + side + 10 + band + 12, "predicted class", 0.5, 0);
  draw_text_rotated(cr, 22, y0 + side / 2.0, -std::numbers::pi / 2, "true class", 0.5, 0);

  // Recall per row.
  use_font(cr, 12);
  set_colour(cr, soft_ink);
  const double rx = x0 + side + 12 + g.recall_w;
  draw_text(cr, rx, y0 - 6, "recall", 1, 1);
  for (int i = 0; i < n; ++i) {
    const auto rs = row_sum[static_cast<std::size_t>(i)];
    if (rs > 0)
      std::snprintf(buf, sizeof buf, "%.1f%%",
                    100.0 * static_cast<double>(counts[static_cast<std::size_t>(i)][static_cast<std::size_t>(i)]) /
                        static_cast<double>(rs));
    else
      std::snprintf(buf, sizeof buf, "\u2013");
    draw_text(cr, rx, y0 + i * cell + (cell - 1) / 2.0, buf, 1, 0.5);
  }

  // Colour bar: share of the row, 0% at the bottom to 100% at the top.
  const double bx = std::round(rx + 30), bw = 18, by = y0, bh = side - 1;
  pattern_ptr ramp(cairo_pattern_create_linear(0, by + bh, 0, by));
  for (int k = 0; k <= 16; ++k) {
    const colour c = heat_colour(k / 16.0);
    cairo_pattern_add_color_stop_rgb(ramp.get(), k / 16.0, c.r / 255.0, c.g / 255.0, c.b / 255.0);
  }
  cairo_set_source(cr, ramp.get());
  cairo_rectangle(cr, bx, by, bw, bh);
  cairo_fill(cr);
  set_colour(cr, {170, 170, 170});
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, bx - 0.5, by - 0.5, bw + 1, bh + 1);
  cairo_stroke(cr);
  set_colour(cr, soft_ink);
  use_font(cr, 11);
  for (int k = 0; k <= 4; ++k) {
    const double ty = crisp(by + bh - bh * k / 4.0);
    cairo_move_to(cr, bx + bw, ty);
    cairo_line_to(cr, bx + bw + 4, ty);
    cairo_stroke(cr);
    draw_text(cr, bx + bw + 7, ty, std::to_string(25 * k) + "%", 0, 0.5);
  }
  cv.save();
}

/// The matrix as a text table: a header of predicted classes, one row per
/// true class with its recall, then the overall accuracy.
inline std::string confusion_matrix_text(const std::vector<std::vector<std::int64_t>>& counts,
                                         const std::vector<std::string>& class_names) {
  detail::check_matrix("confusion_matrix_text", counts, class_names);
  const auto names = detail::class_labels(class_names, counts.size());
  const std::size_t n = counts.size();
  std::size_t name_w = std::string("true \\ predicted").size();
  std::vector<std::size_t> col_w(n);  // each column as wide as its name and its counts
  for (std::size_t j = 0; j < n; ++j) {
    name_w = std::max(name_w, names[j].size());
    col_w[j] = names[j].size();
    for (const auto& row : counts) col_w[j] = std::max(col_w[j], std::to_string(row[j]).size());
  }
  auto pad_left = [](const std::string& s, std::size_t w) { return std::string(w > s.size() ? w - s.size() : 0, ' ') + s; };
  auto pad_right = [](const std::string& s, std::size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
  std::string out = pad_right("true \\ predicted", name_w);
  for (std::size_t j = 0; j < n; ++j) out += "  " + pad_left(names[j], col_w[j]);
  out += "   recall\n";
  std::int64_t total = 0, correct = 0;
  char buf[64];
  for (std::size_t i = 0; i < n; ++i) {
    out += pad_right(names[i], name_w);
    std::int64_t rs = 0;
    for (std::size_t j = 0; j < n; ++j) out += "  " + pad_left(std::to_string(counts[i][j]), col_w[j]), rs += counts[i][j];
    if (rs > 0)
      std::snprintf(buf, sizeof buf, "%8.1f%%", 100.0 * static_cast<double>(counts[i][i]) / static_cast<double>(rs));
    else
      std::snprintf(buf, sizeof buf, "%9s", "-");
    out += buf;
    out += '\n';
    total += rs;
    correct += counts[i][i];
  }
  if (total > 0)
    std::snprintf(buf, sizeof buf, "accuracy %.2f%% (%lld of %lld)\n",
                  100.0 * static_cast<double>(correct) / static_cast<double>(total), static_cast<long long>(correct),
                  static_cast<long long>(total));
  else
    std::snprintf(buf, sizeof buf, "accuracy - (no samples)\n");
  return out + buf;
}

}  // namespace staticnet::report
