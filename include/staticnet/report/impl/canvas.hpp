// staticnet/report/impl/canvas.hpp: the cairo drawing layer of the PNG reports: an image surface
// that saves itself, fonts and text, nice axis numbers, text wrapping.
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

#include "../records.hpp"

namespace staticnet::report {

namespace detail {

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

}  // namespace staticnet::report
