// staticnet/report/impl/confusion_layout.hpp: where the confusion matrix PNG puts
// its cells, labels and colour bar (inline helpers, also used by the tests).
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
#include "../confusion_text.hpp"

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

}  // namespace staticnet::report
