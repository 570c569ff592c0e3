// classify: loads a checkpoint of one of the assignment networks into an
// sn::Predictor (inference-only memory, BatchNorm folded) and prints the top-k
// classes, with probabilities, of PNG images or CIFAR-10 records.
//
//   classify --network s7_dilated runs/s7_dilated/best.safetensors [--top 3]
//            [--class-names batches.meta.txt] [--mean m0,m1,m2 --std s0,s1,s2] [--threads N]
//            (FILE.png... | --cifar FILE.bin [--index N...])
//
// PNG files must be 32x32 (RGB or RGBA; decoded with cairo, so only when
// staticnet was built with it). The input normalisation comes from --mean /
// --std, else from the checkpoint's metadata (data.mean / data.std, which the
// assignment programs record), else it is an error. For CIFAR-10 records the
// true label is printed too.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <staticnet/data/cifar10.hpp>
#include <staticnet/inference/predictor.hpp>
#if STATICNET_WITH_CAIRO
#if __has_include(<cairo.h>)
#include <cairo.h>
#else
#include <cairo/cairo.h>
#endif
#endif

#include "networks.hpp"

namespace sn = staticnet;
namespace fs = std::filesystem;

namespace {

struct options {
  std::string network = "s7_dilated";
  fs::path checkpoint;
  int top = 3;
  std::optional<fs::path> class_names;
  std::vector<double> mean, std;
  int threads = 0;
  std::vector<fs::path> pngs;
  std::optional<fs::path> cifar;
  std::vector<long> indices;
};

void usage(std::ostream& os, const char* argv0) {
  os << "usage: " << argv0
     << " [--network s9|s9_plus|s7_dilated|s7_late|s7_groups|s7_transition] CHECKPOINT [--top K]\n"
        "       [--class-names batches.meta.txt] [--mean m0,m1,m2 --std s0,s1,s2] [--threads N]\n"
        "       (FILE.png... | --cifar FILE.bin [--index N...])\n";
}

/// A 32x32 PNG as H x W x 3 RGB bytes.
std::vector<std::uint8_t> read_png(const fs::path& file, int want_h, int want_w) {
#if STATICNET_WITH_CAIRO
  cairo_surface_t* s = cairo_image_surface_create_from_png(file.c_str());
  const std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> guard(s, &cairo_surface_destroy);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(file.string() + ": cannot read the PNG (" +
                             cairo_status_to_string(cairo_surface_status(s)) + ")");
  const int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  if (w != want_w || h != want_h)
    throw std::runtime_error(file.string() + ": the image is " + std::to_string(w) + "x" + std::to_string(h) +
                             ", the network takes " + std::to_string(want_w) + "x" + std::to_string(want_h) +
                             " (resize it first)");
  const cairo_format_t fmt = cairo_image_surface_get_format(s);
  if (fmt != CAIRO_FORMAT_ARGB32 && fmt != CAIRO_FORMAT_RGB24)
    throw std::runtime_error(file.string() + ": unsupported PNG pixel format (expected RGB or RGBA)");
  cairo_surface_flush(s);
  const unsigned char* data = cairo_image_surface_get_data(s);
  const int stride = cairo_image_surface_get_stride(s);
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const std::uint32_t px = *reinterpret_cast<const std::uint32_t*>(data + y * stride + 4 * x);
      const unsigned a = fmt == CAIRO_FORMAT_ARGB32 ? px >> 24 : 255u;
      auto channel = [&](int shift) {  // cairo stores premultiplied alpha
        const unsigned v = (px >> shift) & 0xFFu;
        return static_cast<std::uint8_t>(a == 0 ? 0 : a == 255 ? v : std::min(255u, (v * 255 + a / 2) / a));
      };
      std::uint8_t* out = rgb.data() + (static_cast<std::size_t>(y) * w + x) * 3;
      out[0] = channel(16), out[1] = channel(8), out[2] = channel(0);
    }
  return rgb;
#else
  (void)want_h, (void)want_w;
  throw std::runtime_error(file.string() + ": reading PNG files needs staticnet built with cairo "
                                           "(use --cifar FILE.bin for CIFAR-10 records)");
#endif
}

std::vector<double> list_of(const std::string& v, const char* what) {
  return sn::predictor_detail::parse_list(v, what);
}

template <class Net>
int run(const options& o) {
  sn::Predictor<Net> p(o.checkpoint, {.mean = o.mean, .std = o.std, .threads = o.threads});
  if (p.mean().empty())
    throw std::runtime_error("no input normalisation: " + o.checkpoint.string() +
                             " has no data.mean / data.std metadata; give --mean and --std");
  std::vector<std::string> names;
  if (o.class_names) names = sn::data::read_class_names(*o.class_names);
  else if (sn::Predictor<Net>::classes == 10) names = sn::data::cifar10_classes();
  auto name = [&](int label) {
    return label < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(label)] : std::to_string(label);
  };
  auto print = [&](const std::string& what, const std::vector<sn::prediction>& top) {
    std::cout << what << ":";
    for (const auto& c : top)
      std::cout << "  " << name(c.label) << " " << std::fixed << std::setprecision(2) << 100 * c.probability << "%";
    std::cout << "\n";
  };
  constexpr auto in = Net::plan.input;
  for (const fs::path& f : o.pngs) {
    if (in.c != 3) throw std::runtime_error("PNG input needs a network with 3 input channels");
    print(f.string(), p.classify_pixels(read_png(f, in.h, in.w), o.top));
  }
  if (o.cifar) {
    const sn::data::dataset d = sn::data::load_cifar10_files({*o.cifar}, names.size() >= 10 ? names : std::vector<std::string>{});
    std::vector<long> idx = o.indices;
    if (idx.empty())
      for (long i = 0; i < static_cast<long>(d.size()); ++i) idx.push_back(i);
    for (long i : idx) {
      if (i < 0 || i >= static_cast<long>(d.size()))
        throw std::runtime_error("--index " + std::to_string(i) + ": " + o.cifar->string() + " holds " +
                                 std::to_string(d.size()) + " records");
      const std::uint8_t* px = d.image(static_cast<std::size_t>(i));
      const auto top = p.classify_pixels({px, static_cast<std::size_t>(in.numel())}, o.top);
      print(o.cifar->filename().string() + "[" + std::to_string(i) + "] (true: " + name(d.labels(static_cast<std::size_t>(i))) + ")",
            top);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(std::string(a) + " needs a value");
        return argv[++i];
      };
      if (a == "--help" || a == "-h") {
        usage(std::cout, argv[0]);
        return 0;
      } else if (a == "--network") o.network = value();
      else if (a == "--top") o.top = std::stoi(value());
      else if (a == "--class-names") o.class_names = value();
      else if (a == "--mean") o.mean = list_of(value(), "--mean");
      else if (a == "--std") o.std = list_of(value(), "--std");
      else if (a == "--threads") o.threads = std::stoi(value());
      else if (a == "--cifar") o.cifar = value();
      else if (a == "--index") o.indices.push_back(std::stol(value()));
      else if (a.starts_with("--")) throw std::invalid_argument("unknown option '" + std::string(a) + "'");
      else if (o.checkpoint.empty()) o.checkpoint = std::string(a);
      else o.pngs.emplace_back(std::string(a));
    }
    if (o.checkpoint.empty() || (o.pngs.empty() && !o.cifar)) {
      usage(std::cerr, argv[0]);
      return 2;
    }
    if (o.top < 1) throw std::invalid_argument("--top needs K >= 1");
  } catch (const std::exception& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    usage(std::cerr, argv[0]);
    return 2;
  }
  try {
    using namespace assignments;
    if (o.network == "s9") return run<S9Reference>(o);
    if (o.network == "s9_plus") return run<S9Plus>(o);
    if (o.network == "s7_dilated") return run<S7DilatedReference>(o);
    if (o.network == "s7_late") return run<S7LateNet>(o);
    if (o.network == "s7_groups") return run<S7GroupsNet>(o);
    if (o.network == "s7_transition") return run<S7TransitionNet>(o);
    std::cerr << argv[0] << ": no network named '" << o.network
              << "' (choose one of: s9 s9_plus s7_dilated s7_late s7_groups s7_transition)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    return 1;
  }
}
