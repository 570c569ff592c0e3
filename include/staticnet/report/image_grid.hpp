// staticnet/report/image_grid.hpp: labelled images in a grid (misclassified images, augmented samples).
// Needs cairo to link (or the compiled library): see report/all.hpp.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "api.hpp"
#include "records.hpp"

namespace staticnet::report {

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
/// (grid_margin + (cell width - its width) / 2, grid_margin), grid_margin = 14.
/// No images give a small "no images" picture.
STATICNET_REPORT_API void image_grid(const std::filesystem::path& png, const std::vector<labelled_image>& images,
                                     int columns, int scale);

}  // namespace staticnet::report

#if STATICNET_REPORT_HEADER_ONLY || defined(STATICNET_DEFINE_REPORTS)
#include "impl/image_grid.hpp"
#endif
