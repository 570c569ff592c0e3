// staticnet/report/impl/plot.hpp: the definitions of report/plot.hpp (header-only
// mode: inline; compiled mode: in libstaticnet, src/report/report.cpp): line charts: plot_curves, and training_curves (loss.png, accuracy.png).
#pragma once
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

#include "canvas.hpp"
#include "../plot.hpp"

namespace staticnet::report {

/// A 960 x 600 line chart of the series: a title, axes with ticks at nice
/// numbers and a light grid, one Tableau colour per series (series_colour(i)),
/// markers when a series has few points, and a legend placed in the corner
/// where it hides the least data. Empty series appear in the legend as
/// "(no data)"; a chart without any finite point says "no data".
STATICNET_REPORT_API void plot_curves(const std::filesystem::path& png, const std::string& title, const std::vector<series>& s,
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
STATICNET_REPORT_API void training_curves(const std::filesystem::path& dir, const std::vector<epoch_record>& history) {
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

}  // namespace staticnet::report
