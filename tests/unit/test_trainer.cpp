// fit() end to end on a small synthetic dataset: near-perfect accuracy, the
// files it writes, resume equivalence (bit-exact), the NaN stop.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>

#include <staticnet/augment/all.hpp>
#include <staticnet/data/all.hpp>
#include <staticnet/cpu/model.hpp>
#include <staticnet/train/optim.hpp>
#include <staticnet/train/schedule.hpp>
#include <staticnet/staticnet.hpp>
#include <staticnet/train/trainer.hpp>

namespace sn = staticnet;
namespace fs = std::filesystem;
using sn::conv;

namespace {

// 4 classes of 8x8 RGB images: a bright 4x4 quadrant (the class) on noise.
sn::data::dataset make_data(int n, unsigned seed) {
  sn::data::dataset d;
  d.images = staticnet::data::ndarray<std::uint8_t, 4>::from_shape({static_cast<std::size_t>(n), 8, 8, 3});
  d.labels = staticnet::data::ndarray<std::int32_t, 1>::from_shape({static_cast<std::size_t>(n)});
  d.classes = {"top-left", "top-right", "bottom-left", "bottom-right"};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(0, 90), bright(170, 255);
  for (int i = 0; i < n; ++i) {
    const int c = i % 4;
    d.labels(static_cast<std::size_t>(i)) = c;
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x)
        for (int ch = 0; ch < 3; ++ch) {
          const bool in = (y < 4) == (c < 2) && (x < 4) == (c % 2 == 0);
          d.images(static_cast<std::size_t>(i), static_cast<std::size_t>(y), static_cast<std::size_t>(x),
                   static_cast<std::size_t>(ch)) = static_cast<std::uint8_t>(in ? bright(rng) : noise(rng));
        }
  }
  return d;
}

using Net = sn::Network<sn::Input<3, 8, 8>,
                        sn::Conv2d<conv{.out = 8, .kernel = 3, .padding = 1, .bias = false}>, sn::BatchNorm2d,
                        sn::ReLU, sn::Dropout<sn::p(0.1)>,
                        sn::Conv2d<conv{.out = 8, .kernel = 3, .padding = 1}>, sn::ReLU,
                        sn::AvgPool2d<>, sn::Flatten, sn::Linear<sn::linear{.out = 4}>, sn::LogSoftmax>;
using M = sn::Model<Net, 32>;

struct run {
  sn::data::dataset train_set = make_data(256, 1), test_set = make_data(64, 2);
  sn::data::batch_loader train{train_set, 32, true, true, 7, sn::data::to_float_transform()};
  sn::data::batch_loader test{test_set, 32, false, false, 7, sn::data::to_float_transform()};
  std::unique_ptr<M> model = std::make_unique<M>(3);
  sn::SGD opt{*model, {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f}};
  sn::OneCycleLR<sn::SGD> sched{opt, {.max_lr = 0.1, .epochs = 4, .steps_per_epoch = 8}};
};

fs::path temp_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("staticnet_trainer_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST(Trainer, LearnsSyntheticDataAndWritesItsFiles) {
  run r;
  const fs::path dir = temp_dir("fit");
  std::FILE* sink = std::tmpfile();
  auto res = sn::fit(*r.model, r.opt, r.sched, r.train, r.test, {.epochs = 4, .output_dir = dir, .out = sink});
  std::fclose(sink);
  ASSERT_EQ(res.history.size(), 4u);
  EXPECT_GE(res.history.back().test_acc, 0.95);
  EXPECT_LT(res.history.back().train_loss, res.history.front().train_loss);
  for (const char* f : {"last.safetensors", "best.safetensors", "log.jsonl", "loss.png", "accuracy.png",
                        "misclassified.png", "confusion.png"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  std::ifstream log(dir / "log.jsonl");
  int lines = 0;
  for (std::string l; std::getline(log, l);) {
    ++lines;
    EXPECT_NE(l.find("\"test_acc\""), std::string::npos);
  }
  EXPECT_EQ(lines, 4);
  // evaluate() agrees with the last epoch's test figures.
  auto ev = sn::evaluate(*r.model, r.test);
  EXPECT_DOUBLE_EQ(ev.accuracy, res.history.back().test_acc);
  fs::remove_all(dir);
}

TEST(Trainer, ResumeContinuesExactlyAsTheUninterruptedRun) {
  const fs::path a = temp_dir("a"), b = temp_dir("b");
  std::FILE* sink = std::tmpfile();
  run straight;
  sn::fit(*straight.model, straight.opt, straight.sched, straight.train, straight.test,
          {.epochs = 4, .output_dir = a, .reports = false, .out = sink});
  {
    run first;
    sn::fit(*first.model, first.opt, first.sched, first.train, first.test,
            {.epochs = 2, .output_dir = b, .reports = false, .out = sink});
  }
  run resumed;  // fresh objects, as a new process would have
  auto res = sn::fit(*resumed.model, resumed.opt, resumed.sched, resumed.train, resumed.test,
                     {.epochs = 4, .output_dir = b, .resume = true, .reports = false, .out = sink});
  std::fclose(sink);
  EXPECT_EQ(res.history.size(), 4u);  // epochs 1-2 read back from the log
  auto pa = straight.model->parameters();
  auto pb = resumed.model->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  int differing = 0;
  for (std::size_t i = 0; i < pa.size(); ++i) differing += pa[i] != pb[i];
  EXPECT_EQ(differing, 0) << "parameters differ after resuming";
  auto ba = straight.model->buffer_values();
  auto bb = resumed.model->buffer_values();
  for (std::size_t i = 0; i < ba.size(); ++i) EXPECT_EQ(ba[i], bb[i]);
  EXPECT_EQ(straight.opt.options.lr, resumed.opt.options.lr);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(Trainer, NaNLossStopsAndKeepsTheLastGoodCheckpoint) {
  run r;
  const fs::path dir = temp_dir("nan");
  std::FILE* sink = std::tmpfile();
  sn::fit(*r.model, r.opt, r.sched, r.train, r.test, {.epochs = 1, .output_dir = dir, .reports = false, .out = sink});
  const std::string before = file_bytes(dir / "last.safetensors");
  r.model->parameters()[0] = std::nanf("");
  try {
    sn::fit(*r.model, r.opt, r.sched, r.train, r.test,
            {.epochs = 2, .output_dir = dir, .reports = false, .checkpoints = true, .out = sink});
    ADD_FAILURE() << "fit did not stop on a NaN loss";
  } catch (const sn::training_error& e) {
    EXPECT_NE(std::string(e.what()).find("NaN"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("last.safetensors"), std::string::npos) << e.what();
    // The tensor that holds it (the first conv's weight, element 0).
    EXPECT_NE(std::string(e.what()).find("parameter 0.weight holds NaN at [0] (1 of 216 values not finite)"),
              std::string::npos)
        << e.what();
  }
  std::fclose(sink);
  EXPECT_EQ(file_bytes(dir / "last.safetensors"), before);
  fs::remove_all(dir);
}

// Activations that overflow (a learning rate far too high): the message names
// the first layer whose output is not finite.
TEST(Trainer, ExplodingActivationsNameTheLayer) {
  run r;
  const fs::path dir = temp_dir("explode");
  std::FILE* sink = std::tmpfile();
  // Weights of 1e30: finite parameters; the first conv gives ~3e31 (finite), BatchNorm scales
  // it back, and the second conv (layer 5) overflows to infinity.
  for (float& p : r.model->parameters()) p = 1e30f;
  try {
    sn::fit(*r.model, r.opt, r.sched, r.train, r.test, {.epochs = 1, .output_dir = dir, .reports = false, .out = sink});
    ADD_FAILURE() << "fit did not stop";
  } catch (const sn::training_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the output of layer 5 (Conv2d-5) is the first to hold infinity"), std::string::npos) << what;
    EXPECT_NE(what.find("epoch 1, batch 1"), std::string::npos) << what;
  }
  std::fclose(sink);
  fs::remove_all(dir);
}

// A transform that produces NaN (Normalize with std 0): the sample is named before anything runs.
TEST(Trainer, NonFiniteInputsNameTheSample) {
  run r;
  const fs::path dir = temp_dir("nan_input");
  sn::data::batch_loader bad{r.train_set, 32, true, true, 7,
                             [](const std::uint8_t*, int h, int w, int c, float* out, std::mt19937_64&) {
                               const int n = h * w * c;
                               for (int i = 0; i < n; ++i) out[i] = i == 5 ? std::nanf("") : 0.5f;
                             }};
  std::FILE* sink = std::tmpfile();
  try {
    sn::fit(*r.model, r.opt, r.sched, bad, r.test, {.epochs = 1, .output_dir = dir, .reports = false, .out = sink});
    ADD_FAILURE() << "fit did not stop on a NaN input";
  } catch (const sn::training_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("holds NaN at element 5"), std::string::npos) << what;
    EXPECT_NE(what.find("the input of dataset sample"), std::string::npos) << what;
  }
  std::fclose(sink);
  fs::remove_all(dir);
}

TEST(Trainer, RefusesABatchLargerThanTheModelPlanned) {
  run r;
  sn::data::batch_loader big{r.train_set, 64, true, true, 7, sn::data::to_float_transform()};
  std::FILE* sink = std::tmpfile();
  EXPECT_THROW(sn::fit(*r.model, r.opt, r.sched, big, r.test, {.epochs = 1, .output_dir = temp_dir("big"), .out = sink}),
               std::invalid_argument);
  std::fclose(sink);
}

// The resume path's log reader (issue "Reliability": a 13-byte line read past
// its end, and lines without an epoch cast NaN to int): every line that is not
// a JSON object with an integer epoch in range is skipped.
TEST(Trainer, LogReaderSkipsBrokenLines) {
  namespace td = staticnet::trainer_detail;
  const auto dir = std::filesystem::temp_directory_path() / ("staticnet_log_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "log.jsonl";
  {
    std::ofstream f(path, std::ios::binary);
    f << "{rai\"epoch\": \n"                       // the fuzzer's input: cut after the key
      << "\n"                                      // blank
      << "{\"train_loss\": 1.0}\n"                 // no epoch
      << "{\"epoch\": null, \"lr\": 0.1}\n"        // null epoch
      << "{\"epoch\": 1e300}\n"                    // out of range
      << "{\"epoch\": 1.5}\n"                      // not an integer
      << "[1, 2]\n"                                // not an object
      << "{\"epoch\": 1, \"train_loss\": 0.5, \"test_acc\": null, \"lr\": 0.01}\n"
      << "{\"epoch\": 2, \"train_loss\": 0.25, \"lr\": 0.02}\n"
      << "{\"epoch\": 2, \"train_loss\": 0.125, \"lr\"";  // cut short by a crash: the earlier epoch 2 stays
  }
  const auto rows = td::read_log(path, 5);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].epoch, 1);
  EXPECT_DOUBLE_EQ(rows[0].train_loss, 0.5);
  EXPECT_TRUE(std::isnan(rows[0].test_acc));
  EXPECT_DOUBLE_EQ(rows[0].lr, 0.01);
  EXPECT_EQ(rows[1].epoch, 2);
  EXPECT_DOUBLE_EQ(rows[1].train_loss, 0.25);
  EXPECT_EQ(td::read_log(path, 1).size(), 1u);  // epochs after the checkpoint's are not history
  std::filesystem::remove_all(dir);
}
