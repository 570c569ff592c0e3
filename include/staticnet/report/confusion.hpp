// staticnet/report/confusion.hpp: the confusion matrix as a PNG heat map (and, from
// confusion_text.hpp, as text).
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

#include "canvas.hpp"
#include "confusion_text.hpp"

namespace staticnet::report {

namespace detail {

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

}  // namespace staticnet::report
