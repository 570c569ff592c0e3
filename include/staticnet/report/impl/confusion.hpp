// staticnet/report/impl/confusion.hpp: the definitions of report/confusion.hpp (header-only
// mode: inline; compiled mode: in libstaticnet, src/report/report.cpp): the confusion matrix as a PNG heat map (and, from
// confusion_text.hpp, as text).
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

#include "confusion_layout.hpp"
#include "../confusion.hpp"
#include "../confusion_text.hpp"

namespace staticnet::report {


/// A heat map of the counts (rows: true class, columns: predicted class), each
/// cell coloured by its share of the row (heat_colour), the count written in
/// it, each row's recall to its right, a colour bar, and the overall accuracy
/// in the subtitle. Empty class names number the classes 0, 1, ...
STATICNET_REPORT_API void confusion_matrix(const std::filesystem::path& png, const std::vector<std::vector<std::int64_t>>& counts,
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
