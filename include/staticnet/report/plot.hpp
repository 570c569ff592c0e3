// staticnet/report/plot.hpp: line charts: plot_curves, and training_curves (loss.png, accuracy.png).
// Needs cairo to link (or the compiled library): see report/all.hpp.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "api.hpp"
#include "records.hpp"

namespace staticnet::report {

/// A 960 x 600 line chart of the series: a title, axes with ticks at nice
/// numbers and a light grid, one Tableau colour per series (series_colour(i)),
/// markers when a series has few points, and a legend placed in the corner
/// where it hides the least data. Empty series appear in the legend as
/// "(no data)"; a chart without any finite point says "no data".
STATICNET_REPORT_API void plot_curves(const std::filesystem::path& png, const std::string& title,
                                      const std::vector<series>& s, const std::string& x_label,
                                      const std::string& y_label);

/// Writes dir/loss.png (train and test loss) and dir/accuracy.png (train and
/// test accuracy in percent, the best test accuracy in the title) against the
/// epoch, creating dir if needed.
STATICNET_REPORT_API void training_curves(const std::filesystem::path& dir, const std::vector<epoch_record>& history);

}  // namespace staticnet::report

#if STATICNET_REPORT_HEADER_ONLY || defined(STATICNET_DEFINE_REPORTS)
#include "impl/plot.hpp"
#endif
