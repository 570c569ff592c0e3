// staticnet/report/impl/image_grid.hpp: the definitions of report/image_grid.hpp (header-only
// mode: inline; compiled mode: in libstaticnet, src/report/report.cpp): labelled images in a grid (misclassified images, augmented samples).
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
#include "../image_grid.hpp"

namespace staticnet::report {


/// The images in rows of `columns`, each upscaled `scale` times (nearest
/// neighbour) in a thin grey frame and centred in its cell, its caption
/// centred under it. Cells are as wide as the widest scaled image (wider when
/// a caption part needs it); the first image's top-left pixel is at
/// (grid_margin + (cell width - its width) / 2, grid_margin). No images give a
/// small "no images" picture.
STATICNET_REPORT_API void image_grid(const std::filesystem::path& png, const std::vector<labelled_image>& images, int columns,
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

}  // namespace staticnet::report
