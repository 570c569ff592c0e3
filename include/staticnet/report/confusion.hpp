// staticnet/report/confusion.hpp: the confusion matrix as a PNG heat map (and, from
// confusion_text.hpp, as text).
// Needs cairo to link (or the compiled library): see report/all.hpp.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "api.hpp"
#include "records.hpp"

namespace staticnet::report {

/// A heat map of the counts (rows: true class, columns: predicted class), each
/// cell coloured by its share of the row (heat_colour), the count written in
/// it, each row's recall to its right, a colour bar, and the overall accuracy
/// in the subtitle. Empty class names number the classes 0, 1, ...
STATICNET_REPORT_API void confusion_matrix(const std::filesystem::path& png,
                                           const std::vector<std::vector<std::int64_t>>& counts,
                                           const std::vector<std::string>& class_names);

}  // namespace staticnet::report

#if STATICNET_REPORT_HEADER_ONLY || defined(STATICNET_DEFINE_REPORTS)
#include "impl/confusion.hpp"
#endif
