// Writes the seed corpora of the fuzz targets (committed in fuzz/corpus/):
// small valid inputs of each format and a few edge cases. Run by hand when a
// format changes:  g++ -std=c++20 -Iinclude -Iexamples/assignments fuzz/make_corpus.cpp -lz -o /tmp/mc && /tmp/mc fuzz/corpus
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <staticnet/cpu/model.hpp>
#include <staticnet/io/safetensors.hpp>
#include <staticnet/train/checkpoint.hpp>
#include <staticnet/train/optim.hpp>
#include <staticnet/train/optimizer_state.hpp>
#include <staticnet/train/schedule.hpp>
#include <staticnet/train/trainer.hpp>

#include "fuzz_network.hpp"

namespace fs = std::filesystem;
namespace sn = staticnet;
using bytes = std::vector<std::uint8_t>;

static void put(const fs::path& p, const bytes& b) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
static bytes get(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}
static bytes gz(const bytes& b) {
  const fs::path t = fs::temp_directory_path() / "staticnet_make_corpus.gz";
  gzFile g = gzopen(t.c_str(), "wb");
  gzwrite(g, b.data(), static_cast<unsigned>(b.size()));
  gzclose(g);
  bytes out = get(t);
  fs::remove(t);
  return out;
}
static bytes be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}
static bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

int main(int argc, char** argv) {
  const fs::path root = argc > 1 ? argv[1] : "fuzz/corpus";
  // CIFAR-10: records of a label byte and 3072 pixel bytes.
  bytes rec(3073);
  for (std::size_t i = 0; i < rec.size(); ++i) rec[i] = static_cast<std::uint8_t>(i * 31);
  rec[0] = 3;
  put(root / "cifar10/one_record.bin", rec);
  put(root / "cifar10/two_records.bin.gz", gz(cat({rec, rec})));
  put(root / "cifar10/bad_label.bin", cat({bytes{10}, bytes(3072, 7)}));
  put(root / "cifar10/short.bin", bytes(100, 1));
  // IDX: the fuzz target's input is one selector byte, the images file, the labels file.
  const bytes images = cat({be32(0x00000803), be32(3), be32(2), be32(2), bytes{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}});
  const bytes labels = cat({be32(0x00000801), be32(3), bytes{0, 1, 2}});
  auto idx_input = [](const bytes& im, const bytes& lb) {
    // selector b with (b + 1) / 257 of the rest for the labels
    const std::size_t rest = im.size() + lb.size();
    for (int b = 0; b < 256; ++b)
      if (rest * static_cast<std::size_t>(b + 1) / 257 == lb.size()) return cat({bytes{static_cast<std::uint8_t>(b)}, im, lb});
    return cat({bytes{0}, im, lb});
  };
  put(root / "idx/plain", idx_input(images, labels));
  put(root / "idx/gzip", idx_input(gz(images), gz(labels)));
  put(root / "idx/rgb", idx_input(cat({be32(0x00000804), be32(1), be32(1), be32(2), be32(3), bytes(6, 9)}),
                                  cat({be32(0x00000801), be32(1), bytes{2}})));
  // safetensors: two F32 tensors with metadata, a U8 one, an empty header.
  for (const char* d : {"safetensors", "checkpoint", "options"}) fs::create_directories(root / d);
  const std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {0.5f};
  sn::safetensors::write(root / "safetensors/two.safetensors", {{"a", {2, 3}, a}, {"b.bias", {1}, b}},
                         {{"format", "pt"}, {"note", "seed"}});
  const std::string u8_header = R"({"u": {"dtype": "U8", "shape": [2, 2], "data_offsets": [0, 4]}})";
  bytes u8 = {static_cast<std::uint8_t>(u8_header.size()), 0, 0, 0, 0, 0, 0, 0};
  u8.insert(u8.end(), u8_header.begin(), u8_header.end());
  u8.insert(u8.end(), {1, 2, 3, 4});
  put(root / "safetensors/u8.safetensors", u8);
  put(root / "safetensors/empty.safetensors", cat({bytes{2, 0, 0, 0, 0, 0, 0, 0}, bytes{'{', '}'}}));
  // Checkpoints of the fuzz network: with SGD and a schedule, with Adam (amsgrad).
  auto model = std::make_unique<sn::Model<fuzz::Net, 2>>(1);
  {
    sn::SGD sgd(*model, {.lr = 0.1f, .momentum = 0.9f});
    sn::StepLR sched(sgd, {.step_size = 2});
    sn::checkpoint_extras ex;
    sn::add_optimizer_state(ex, *model, sgd);
    sn::trainer_detail::save_schedule(ex, sched);
    ex.set("epoch", 1);
    sn::save_checkpoint(root / "checkpoint/sgd.safetensors", *model, ex);
  }
  {
    sn::Adam adam(*model, {.lr = 1e-3, .amsgrad = true});
    sn::checkpoint_extras ex;
    sn::add_optimizer_state(ex, *model, adam);
    sn::save_checkpoint(root / "checkpoint/adam.safetensors", *model, ex);
  }
  // Command lines (arguments separated by NUL bytes).
  auto args = [](std::initializer_list<std::string> a) {
    bytes out;
    for (const auto& s : a) out.insert(out.end(), s.begin(), s.end()), out.push_back(0);
    return out;
  };
  put(root / "options/train", args({"--epochs", "3", "--max-lr", "0.1", "--batch-size", "64", "--plain"}));
  put(root / "options/files", args({"--train-files", "a.bin,b.bin", "--test-files", "t.bin", "--seed", "7"}));
  put(root / "options/bad", args({"--epochs", "0", "--threads", "x", "--unknown"}));
  return 0;
}
