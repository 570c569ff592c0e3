// Writes what tests/classify/run.cmake runs examples/classify on: a checkpoint
// of S7DilatedReference after 25 training steps on its records (with data.mean / data.std
// metadata), a CIFAR-10 record file of 6 images, with cairo a 32x32 PNG of
// record 0 and a 16x16 one, and expected.txt: the top-1 class of every record
// by cpu::Model's eval forward on inputs normalised by the training pipeline's
// normalize_transform.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <vector>

#include <staticnet/inference/predictor.hpp>
#include <staticnet/staticnet.hpp>
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

#if STATICNET_WITH_CAIRO
static void write_png(const fs::path& file, const std::uint8_t* hwc, int h, int w) {
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cairo_surface_flush(s);
  unsigned char* data = cairo_image_surface_get_data(s);
  const int stride = cairo_image_surface_get_stride(s);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const std::uint8_t* p = hwc + (y * w + x) * 3;
      *reinterpret_cast<std::uint32_t*>(data + y * stride + 4 * x) =
          0xFF000000u | (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
    }
  cairo_surface_mark_dirty(s);
  cairo_surface_write_to_png(s, file.c_str());
  cairo_surface_destroy(s);
}
#endif

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: classify_fixture DIR\n";
    return 2;
  }
  const fs::path dir = argv[1];
  fs::create_directories(dir);
  using Net = assignments::S7DilatedReference;
  using M = sn::Model<Net, 8>;
  auto model = std::make_unique<M>(5);
  constexpr int n = 6;
  std::mt19937_64 rng(42);
  std::vector<std::uint8_t> records;
  std::vector<std::int32_t> labels;
  for (int i = 0; i < n; ++i) {
    labels.push_back(i % 10);
    records.push_back(static_cast<std::uint8_t>(i % 10));
    for (int k = 0; k < 3 * 32 * 32; ++k) records.push_back(static_cast<std::uint8_t>(rng() % 256));
  }
  std::ofstream(dir / "records.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(records.data()), static_cast<std::streamsize>(records.size()));
  const sn::data::dataset d = sn::data::load_cifar10_files({dir / "records.bin"});
  const sn::data::channel_stats st = sn::data::compute_channel_stats(d);
  const sn::data::sample_transform norm = sn::data::normalize_transform(st);
  std::vector<float> x(static_cast<std::size_t>(n) * M::input_numel);
  for (int i = 0; i < n; ++i)
    norm(d.image(static_cast<std::size_t>(i)), 32, 32, 3, x.data() + static_cast<std::size_t>(i) * M::input_numel, rng);
  sn::SGD opt(*model, {.lr = 0.05f, .momentum = 0.9f});
  for (int step = 0; step < 25; ++step) {  // enough to tell the records apart
    model->forward_backward(x, labels, n);
    opt.step(*model);
  }
  sn::checkpoint_extras extras;
  extras.set("data.mean", sn::channel_list_text(st.mean));
  extras.set("data.std", sn::channel_list_text(st.std));
  sn::save_checkpoint(dir / "model.safetensors", *model, extras);
  model->eval();
  const auto out = model->forward(x, n);
  const auto classes = sn::data::cifar10_classes();
  std::ofstream expected(dir / "expected.txt");
  for (int i = 0; i < n; ++i) {
    int best = 0;
    for (int c = 1; c < 10; ++c)
      if (out[static_cast<std::size_t>(i * 10 + c)] > out[static_cast<std::size_t>(i * 10 + best)]) best = c;
    expected << "records.bin[" << i << "] (true: " << classes[static_cast<std::size_t>(labels[static_cast<std::size_t>(i)])]
             << "):  " << classes[static_cast<std::size_t>(best)] << "\n";
  }
#if STATICNET_WITH_CAIRO
  write_png(dir / "record0.png", d.image(0), 32, 32);
  write_png(dir / "small.png", d.image(0), 16, 16);
#endif
  return 0;
}
