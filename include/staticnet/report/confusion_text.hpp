// staticnet/report/confusion_text.hpp: a confusion matrix as a text table (terminal, logs). Needs no cairo.
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

#include "records.hpp"

namespace staticnet::report {

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

}  // namespace detail

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
