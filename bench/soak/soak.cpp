// The soak test (not in CI: scripts/soak.sh runs it): trains and evaluates a
// small CNN for a given time, one epoch per fit() call resumed from the last
// checkpoint (so every epoch also loads a checkpoint, restores the optimizer
// and schedule and rewrites the log), checkpointing every epoch, and samples
// the resident set size (VmRSS) after every epoch. Fails (exit 1) when memory
// keeps growing: after the warm-up epochs, RSS may not rise more than
// --max-growth-mb above the warm-up level.
//   soak --minutes 30 --out /tmp/soak [--max-growth-mb 8] [--warmup 3]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include <staticnet/staticnet.hpp>

namespace sn = staticnet;
using sn::conv;

namespace {

using Net = sn::Network<sn::Input<1, 28, 28>, sn::Conv2d<conv{.out = 16, .kernel = 3, .padding = 1, .bias = false}>,
                        sn::BatchNorm2d, sn::ReLU, sn::MaxPool2d<>,
                        sn::Conv2d<conv{.out = 32, .kernel = 3, .padding = 1, .bias = false}>, sn::BatchNorm2d,
                        sn::ReLU, sn::Dropout<sn::p(0.1)>, sn::GlobalAvgPool, sn::Flatten,
                        sn::Linear<sn::linear{.out = 10}>, sn::LogSoftmax>;

sn::data::dataset make_data(int n, unsigned seed) {
  sn::data::dataset d;
  d.images = sn::data::ndarray<std::uint8_t, 4>::from_shape({static_cast<std::size_t>(n), 28, 28, 1});
  d.labels = sn::data::ndarray<std::int32_t, 1>::from_shape({static_cast<std::size_t>(n)});
  for (int c = 0; c < 10; ++c) d.classes.push_back("class " + std::to_string(c));
  std::mt19937 rng(seed);
  for (int i = 0; i < n; ++i) {
    const int c = i % 10;
    d.labels(static_cast<std::size_t>(i)) = c;
    for (std::size_t y = 0; y < 28; ++y)
      for (std::size_t x = 0; x < 28; ++x)
        d.images(static_cast<std::size_t>(i), y, x, 0) =
            static_cast<std::uint8_t>((y / 3 == static_cast<std::size_t>(c) ? 150 : 0) + rng() % 100);
  }
  return d;
}

double rss_mb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  double minutes = 30, max_growth = 8;
  int warmup = 3;
  std::filesystem::path out = "runs/soak";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--minutes")) minutes = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
    else if (!std::strcmp(argv[i], "--max-growth-mb")) max_growth = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--warmup")) warmup = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: %s [--minutes M] [--out DIR] [--max-growth-mb MB] [--warmup EPOCHS]\n", argv[0]);
      return 2;
    }
  }
  std::filesystem::remove_all(out);
  const sn::data::dataset train_set = make_data(2048, 1), test_set = make_data(512, 2);
  const auto t0 = std::chrono::steady_clock::now();
  double base = 0, peak = 0;
  int epoch = 0;
  std::FILE* sink = std::fopen("/dev/null", "w");
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < minutes * 60) {
    ++epoch;
    {
      // Everything a run holds is made and dropped every epoch: the loaders
      // and their worker threads, the model, the optimizer, the schedule.
      sn::data::batch_loader train(train_set, 64, true, true, 7, sn::data::to_float_transform(), {.workers = 2});
      sn::data::batch_loader test(test_set, 128, false, false, 7, sn::data::to_float_transform());
      auto model = std::make_unique<sn::Model<Net, 64>>(1);
      sn::SGD opt(*model, {.lr = 0.02f, .momentum = 0.9f, .weight_decay = 5e-4f});
      sn::StepLR sched(opt, {.step_size = 5, .gamma = 0.9});
      const sn::fit_result r = sn::fit(*model, opt, sched, train, test,
                                       {.epochs = epoch, .output_dir = out, .resume = true, .reports = false, .out = sink});
      const double rss = rss_mb();
      if (epoch == warmup) base = rss;
      if (epoch > warmup) peak = std::max(peak, rss);
      std::printf("epoch %d: %.1f s, test accuracy %.2f%%, RSS %.1f MB\n", epoch,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                  100 * r.last.accuracy, rss);
      std::fflush(stdout);
    }
  }
  std::fclose(sink);
  if (epoch <= warmup) {
    std::printf("soak: only %d epochs; no growth verdict (need more than %d)\n", epoch, warmup);
    return 1;
  }
  const double growth = peak - base;
  std::printf("soak: %d epochs in %.1f min; RSS after epoch %d %.1f MB, highest later %.1f MB (growth %.1f MB, limit %.1f)\n",
              epoch, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 60, warmup, base,
              peak, growth, max_growth);
  return growth <= max_growth ? 0 : 1;
}
