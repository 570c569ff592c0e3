// Reports (charts, image grids, confusion matrices) drawn with cairo: each PNG
// is written to a scratch directory, read back with cairo and checked for its
// size and a few pixel facts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <staticnet/report/all.hpp>
#include <staticnet/report/impl/canvas.hpp>            // the detail helpers tested below
#include <staticnet/report/impl/confusion_layout.hpp>

// fontconfig's parsed configuration lives until FcFini(), which cairo never
// calls: tell LeakSanitizer (STATICNET_SANITIZE builds) it is not a leak.
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }

namespace {

namespace fs = std::filesystem;
namespace rp = staticnet::report;
using rp::colour;

/// A fresh scratch directory per test, removed afterwards (kept when
/// STATICNET_KEEP_REPORTS is set, to look at the images).
class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("staticnet_report_" + std::to_string(::getpid()) + "_" + std::string(info->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (std::getenv("STATICNET_KEEP_REPORTS") == nullptr) fs::remove_all(dir_);
  }
  fs::path dir_;
};

/// A PNG read back with cairo.
class png_image {
 public:
  explicit png_image(const fs::path& p) : s_(cairo_image_surface_create_from_png(p.c_str())) {
    if (cairo_surface_status(s_.get()) != CAIRO_STATUS_SUCCESS) throw std::runtime_error("cannot read " + p.string());
    cairo_surface_flush(s_.get());
  }
  [[nodiscard]] int width() const { return cairo_image_surface_get_width(s_.get()); }
  [[nodiscard]] int height() const { return cairo_image_surface_get_height(s_.get()); }
  [[nodiscard]] colour at(int x, int y) const {
    const unsigned char* row = cairo_image_surface_get_data(s_.get()) + y * cairo_image_surface_get_stride(s_.get());
    const std::uint32_t v = reinterpret_cast<const std::uint32_t*>(row)[x];
    return {static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  }
  [[nodiscard]] long count(colour c) const {
    long n = 0;
    for (int y = 0; y < height(); ++y)
      for (int x = 0; x < width(); ++x) n += at(x, y) == c;
    return n;
  }
  [[nodiscard]] long count_not(colour c) const { return static_cast<long>(width()) * height() - count(c); }

 private:
  std::unique_ptr<cairo_surface_t, staticnet::report::detail::surface_deleter> s_;
};

/// cairo keeps fonts (and fontconfig's patterns) cached for the whole process;
/// release them at exit so leak checkers (STATICNET_SANITIZE) see a clean heap.
class release_cairo_caches : public ::testing::Environment {
 public:
  void TearDown() override { cairo_debug_reset_static_data(); }
};
[[maybe_unused]] ::testing::Environment* const release_caches =
    ::testing::AddGlobalTestEnvironment(new release_cairo_caches);

constexpr colour white{255, 255, 255};
constexpr colour red{255, 0, 0};

int darkness(colour c) { return 3 * 255 - c.r - c.g - c.b; }

// ------------------------------------------------------------ nice numbers --

TEST(ReportAxis, NiceNumbers) {
  const auto a = rp::detail::nice_axis(0.013, 2.31, 7);
  EXPECT_DOUBLE_EQ(a.lo, 0.0);
  EXPECT_DOUBLE_EQ(a.hi, 2.5);
  EXPECT_DOUBLE_EQ(a.step, 0.5);
  EXPECT_EQ(a.ticks().size(), 6u);
  const auto e = rp::detail::nice_axis(1, 20, 8, true);  // epochs
  EXPECT_DOUBLE_EQ(e.lo, 0.0);
  EXPECT_DOUBLE_EQ(e.hi, 20.0);
  EXPECT_DOUBLE_EQ(e.step, 2.0);
  const auto few = rp::detail::nice_axis(1, 3, 8, true);  // integer data: no step below 1
  EXPECT_GE(few.step, 1.0);
  const auto one = rp::detail::nice_axis(5, 5, 6);  // a single value gets a range around it
  EXPECT_LT(one.lo, 5.0);
  EXPECT_GT(one.hi, 5.0);
  for (double v : rp::detail::nice_axis(-0.37, 0.81).ticks()) {  // every tick a multiple of 0.2
    EXPECT_NEAR(v / 0.2, std::round(v / 0.2), 1e-9);
  }
  EXPECT_EQ(rp::detail::tick_label(0.5, 0.1), "0.5");
  EXPECT_EQ(rp::detail::tick_label(20, 5), "20");
  EXPECT_EQ(rp::detail::tick_label(-1e-17, 0.2), "0.0");
  EXPECT_EQ(rp::detail::tick_label(-0.4, 0.2), "\u22120.4");
}

// ------------------------------------------------------------------ charts --

TEST_F(Report, CurvesDrawEachSeriesInItsColour) {
  rp::series a{"train", {}, {}}, b{"test", {}, {}};
  for (int e = 1; e <= 30; ++e) {
    a.x.push_back(e), a.y.push_back(2.3 * std::exp(-e / 8.0));
    b.x.push_back(e), b.y.push_back(2.3 * std::exp(-e / 10.0) + 0.1);
  }
  const auto png = dir_ / "curves.png";
  rp::plot_curves(png, "Loss", {a, b}, "epoch", "loss");
  const png_image im(png);
  EXPECT_EQ(im.width(), 960);
  EXPECT_EQ(im.height(), 600);
  EXPECT_GT(im.count_not(white), 5000);         // axes, text, lines
  EXPECT_GT(im.count(rp::series_colour(0)), 200);  // solid line pixels of each series
  EXPECT_GT(im.count(rp::series_colour(1)), 200);
  EXPECT_EQ(im.count(rp::series_colour(2)), 0);
  EXPECT_EQ(im.at(2, 2), white);  // the margin stays white
}

TEST_F(Report, CurvesSkipNonFiniteValues) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  rp::series a{"with gaps", {1, 2, 3, 4, 5, 6, nan}, {1.0, nan, 0.5, inf, 0.25, 0.2, 3}};
  rp::series single{"one point", {3}, {0.7}};
  rp::series empty{"empty", {}, {}};
  const auto png = dir_ / "gaps.png";
  ASSERT_NO_THROW(rp::plot_curves(png, "Gaps", {a, single, empty}, "x", "y"));
  const png_image im(png);
  EXPECT_EQ(im.width(), 960);
  EXPECT_GT(im.count(rp::series_colour(0)), 50);
  EXPECT_GT(im.count(rp::series_colour(1)), 10);  // the single point's marker (and its legend line)

  // Nothing finite at all: still a chart (saying "no data").
  const auto blank = dir_ / "blank.png";
  ASSERT_NO_THROW(rp::plot_curves(blank, "Nothing", {rp::series{"nan", {nan}, {nan}}, empty}, "x", "y"));
  EXPECT_EQ(png_image(blank).height(), 600);
  ASSERT_NO_THROW(rp::plot_curves(dir_ / "none.png", "", {}, "", ""));
  ASSERT_NO_THROW(rp::plot_curves(dir_ / "huge.png", "", {rp::series{"", {-1e308, 1e308}, {1e308, -1e308}}}, "", ""));
}

TEST_F(Report, CurvesRejectMismatchedSeries) {
  EXPECT_THROW(rp::plot_curves(dir_ / "bad.png", "t", {rp::series{"s", {1, 2}, {1}}}, "x", "y"), std::runtime_error);
}

TEST_F(Report, TrainingCurvesWriteLossAndAccuracy) {
  std::vector<rp::epoch_record> h;
  for (int e = 1; e <= 12; ++e)
    h.push_back({e, 2.0 / e, 1 - 0.9 / e, 2.2 / e + 0.05, 1 - 1.0 / e, 0.01});
  h[3].test_loss = std::numeric_limits<double>::quiet_NaN();  // an epoch without a test pass
  const auto out = dir_ / "report" / "run1";                 // created on demand
  rp::training_curves(out, h);
  for (const char* name : {"loss.png", "accuracy.png"}) {
    const png_image im(out / name);
    EXPECT_EQ(im.width(), 960) << name;
    EXPECT_GT(im.count(rp::series_colour(0)), 100) << name;
    EXPECT_GT(im.count(rp::series_colour(1)), 100) << name;
  }
}

TEST_F(Report, UnwritablePathThrowsWithThePath) {
  const auto file = dir_ / "a_file";
  std::ofstream(file) << "not a directory";
  const auto png = file / "x.png";
  try {
    rp::plot_curves(png, "t", {rp::series{"s", {1, 2}, {1, 2}}}, "x", "y");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(png.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(rp::image_grid(file / "g.png", {rp::labelled_image{{0}, 1, 1, 1, ""}}, 1, 1), std::runtime_error);
  EXPECT_THROW(rp::confusion_matrix(file / "c.png", {{1}}, {"a"}), std::runtime_error);
  EXPECT_THROW(rp::training_curves(file / "sub", {}), std::runtime_error);
  EXPECT_THROW(rp::plot_curves(dir_ / "missing" / "x.png", "t", {}, "x", "y"), std::runtime_error);
}

// -------------------------------------------------------------- image grid --

TEST_F(Report, ImageGridPlacesScaledPixels) {
  // 8x8 pure red, scale 8 -> 64x64 at (margin, margin); a grey 4x4 with a
  // white top-left pixel next to it.
  rp::labelled_image r{std::vector<std::uint8_t>(8 * 8 * 3, 0), 8, 8, 3, "true: cat / pred: dog"};
  for (std::size_t i = 0; i < r.hwc.size(); i += 3) r.hwc[i] = 255;
  rp::labelled_image g{std::vector<std::uint8_t>(4 * 4, 100), 4, 4, 1, "grey"};
  g.hwc[0] = 255;
  const auto png = dir_ / "grid.png";
  rp::image_grid(png, {r, g, r}, 2, 8);
  const png_image im(png);
  const int m = rp::detail::grid_margin;
  // The cell is wider than 64 if a caption part needs it; the image is centred in it.
  const int cell_w = (im.width() - 2 * m - rp::detail::grid_gap) / 2;
  ASSERT_GE(cell_w, 64);
  const int ix = m + (cell_w - 64) / 2, iy = m;
  EXPECT_EQ(im.at(ix, iy), red);
  EXPECT_EQ(im.at(ix + 63, iy + 63), red);
  EXPECT_EQ(im.at(ix + 32, iy + 32), red);
  EXPECT_NE(im.at(ix - 2, iy + 10), red);
  EXPECT_NE(im.at(ix + 10, iy + 64 + 2), red);
  // The 4x4 grey image (32x32) is centred vertically in the 64-pixel image row of the next cell.
  const int gx = m + cell_w + rp::detail::grid_gap + (cell_w - 32) / 2, gy = m + 16;
  EXPECT_EQ(im.at(gx, gy), white);
  EXPECT_EQ(im.at(gx + 7, gy + 7), white);  // nearest neighbour: the whole 8x8 block
  EXPECT_EQ(im.at(gx + 8, gy), (colour{100, 100, 100}));
  EXPECT_EQ(im.at(gx + 31, gy + 31), (colour{100, 100, 100}));
  // Two rows (3 images, 2 columns), each with its caption under the image.
  EXPECT_GT(im.height(), 2 * m + 2 * 64 + rp::detail::grid_gap);
  const int row2 = (im.height() - 2 * m + rp::detail::grid_gap) / 2 + m;
  EXPECT_EQ(im.at(ix, row2), red);
  // Caption text (dark pixels) below the first image.
  long dark = 0;
  for (int y = iy + 66; y < row2 - rp::detail::grid_gap; ++y)
    for (int x = m; x < m + cell_w; ++x) dark += darkness(im.at(x, y)) > 300;
  EXPECT_GT(dark, 30);
}

TEST_F(Report, ImageGridValidatesItsInput) {
  const auto png = dir_ / "bad.png";
  EXPECT_THROW(rp::image_grid(png, {rp::labelled_image{{1, 2, 3}, 1, 1, 2, ""}}, 1, 1), std::runtime_error);
  EXPECT_THROW(rp::image_grid(png, {rp::labelled_image{{1, 2}, 1, 1, 3, ""}}, 1, 1), std::runtime_error);
  EXPECT_THROW(rp::image_grid(png, {rp::labelled_image{{1}, 1, 1, 1, ""}}, 0, 1), std::runtime_error);
  EXPECT_THROW(rp::image_grid(png, {rp::labelled_image{{1}, 1, 1, 1, ""}}, 1, 0), std::runtime_error);
  ASSERT_NO_THROW(rp::image_grid(dir_ / "empty.png", {}, 4, 2));  // nothing misclassified
  EXPECT_GT(png_image(dir_ / "empty.png").width(), 0);
}

TEST_F(Report, LongCaptionsWrapWithinTheCell) {
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
  cairo_t* cr = cairo_create(s);
  rp::detail::use_font(cr, 12);
  const auto lines = rp::detail::wrap(cr, "true: automobile / pred: airplane", 100);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "true: automobile");
  EXPECT_EQ(lines[1], "pred: airplane");
  for (const auto& l : rp::detail::wrap(cr, "a_very_long_unbreakable_caption_word and more", 60))
    EXPECT_LE(rp::detail::text_width(cr, l), 60.0) << l;
  EXPECT_EQ(rp::detail::wrap(cr, "one\ntwo", 500).size(), 2u);
  cairo_destroy(cr);
  cairo_surface_destroy(s);
}

// -------------------------------------------------------- confusion matrix --

TEST_F(Report, ConfusionMatrixDiagonalIsStrongestForAPerfectClassifier) {
  const std::vector<std::string> names{"cat", "dog", "bird"};
  const std::vector<std::vector<std::int64_t>> perfect{{50, 0, 0}, {0, 40, 0}, {0, 0, 60}};
  const auto png = dir_ / "perfect.png";
  rp::confusion_matrix(png, perfect, names);
  const png_image im(png);
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
  cairo_t* cr = cairo_create(s);
  const auto g = rp::detail::confusion_geometry(cr, perfect, names);
  cairo_destroy(cr);
  cairo_surface_destroy(s);
  EXPECT_EQ(im.width(), g.width);
  EXPECT_EQ(im.height(), g.height);
  auto cell = [&](int i, int j) { return im.at(g.x0 + j * g.cell + 3, g.y0 + i * g.cell + 3); };
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      if (i == j)
        EXPECT_EQ(cell(i, j), rp::heat_colour(1.0));
      else
        EXPECT_EQ(cell(i, j), rp::heat_colour(0.0));
    }
  EXPECT_GT(darkness(rp::heat_colour(1.0)), darkness(rp::heat_colour(0.0)) + 300);
}

TEST_F(Report, ConfusionMatrixColoursAreRowNormalised) {
  const std::vector<std::string> names{"airplane", "automobile", "bird", "cat"};
  // Row 0 has 10x the samples of row 3; the colours depend on shares only.
  const std::vector<std::vector<std::int64_t>> c{{700, 200, 100, 0}, {5, 90, 5, 0}, {0, 0, 0, 0}, {0, 0, 30, 70}};
  const auto png = dir_ / "mixed.png";
  rp::confusion_matrix(png, c, names);
  const png_image im(png);
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
  cairo_t* cr = cairo_create(s);
  const auto g = rp::detail::confusion_geometry(cr, c, names);
  cairo_destroy(cr);
  cairo_surface_destroy(s);
  auto cell = [&](int i, int j) { return im.at(g.x0 + j * g.cell + 3, g.y0 + i * g.cell + 3); };
  EXPECT_EQ(cell(0, 0), rp::heat_colour(0.7));
  EXPECT_EQ(cell(3, 3), rp::heat_colour(0.7));  // 70 of 100 looks like 700 of 1000
  EXPECT_EQ(cell(1, 1), rp::heat_colour(0.9));
  EXPECT_EQ(cell(2, 2), rp::heat_colour(0.0));  // an empty row
  EXPECT_GT(darkness(cell(1, 1)), darkness(cell(0, 0)));
  EXPECT_GT(darkness(cell(0, 0)), darkness(cell(0, 1)));
  EXPECT_GT(darkness(cell(0, 1)), darkness(cell(0, 2)));
  EXPECT_THROW(rp::confusion_matrix(dir_ / "x.png", {{1, 2}, {3}}, {}), std::runtime_error);
  EXPECT_THROW(rp::confusion_matrix(dir_ / "x.png", {{1}}, {"a", "b"}), std::runtime_error);
  EXPECT_THROW(rp::confusion_matrix(dir_ / "x.png", {{-1}}, {}), std::runtime_error);
}

TEST(ReportText, ConfusionMatrixText) {
  const std::string t = rp::confusion_matrix_text({{8, 2}, {1, 9}}, {"cat", "dog"});
  EXPECT_NE(t.find("cat"), std::string::npos);
  EXPECT_NE(t.find("dog"), std::string::npos);
  EXPECT_NE(t.find("80.0%"), std::string::npos);  // recall of cat
  EXPECT_NE(t.find("90.0%"), std::string::npos);
  EXPECT_NE(t.find("accuracy 85.00% (17 of 20)"), std::string::npos) << t;
  // Every table line has the same width.
  std::size_t width = t.find('\n');
  std::size_t from = width + 1;
  for (int row = 0; row < 2; ++row) {
    const std::size_t end = t.find('\n', from);
    EXPECT_EQ(end - from, width) << t;
    from = end + 1;
  }
  EXPECT_NE(rp::confusion_matrix_text({{3}}, {}).find("0 "), std::string::npos);  // numbered classes
}

}  // namespace
