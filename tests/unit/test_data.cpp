// The data layer: CIFAR-10 and IDX loaders (plain and gzip) on files written
// here, their error messages for corrupt input, channel statistics, and the
// batch loader (coverage, drop_last, reproducible shuffling and augmentation
// whatever the threading, prefetch, exception propagation). Real data sets are
// used only when present (skipped otherwise).
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <staticnet/data/all.hpp>
#include <staticnet/data/xtensor.hpp>

#include <xtensor/xmath.hpp>

namespace {

namespace data = staticnet::data;
namespace fs = std::filesystem;
using bytes = std::vector<std::uint8_t>;

// ------------------------------------------------------------- helpers ----

void write_file(const fs::path& p, const bytes& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ASSERT_TRUE(f.good()) << p;
}

void write_gz(const fs::path& p, const bytes& b) {
  gzFile g = gzopen(p.string().c_str(), "wb");
  ASSERT_NE(g, nullptr) << p;
  if (!b.empty()) {
    ASSERT_EQ(gzwrite(g, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
  }
  ASSERT_EQ(gzclose(g), Z_OK);
}

bytes read_raw(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return bytes(std::istreambuf_iterator<char>(f), {});
}

/// Runs fn, expects a data_error whose message holds every fragment.
template <class F>
void expect_data_error(F&& fn, std::initializer_list<std::string> fragments) {
  try {
    fn();
    ADD_FAILURE() << "no data_error thrown";
  } catch (const data::data_error& e) {
    const std::string what = e.what();
    for (const auto& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << "'" << f << "' not in: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a data_error: " << e.what();
  }
}

/// A CIFAR-10 record: label, then R, G, B planes; pixel bytes depend on (r, c, p).
std::uint8_t cifar_pixel(std::size_t r, std::size_t c, std::size_t p) {
  return static_cast<std::uint8_t>((r * 31 + c * 85 + p * 7 + p / 32) & 0xFF);
}
bytes cifar_file(std::size_t records, std::size_t first = 0) {
  bytes b;
  for (std::size_t r = first; r < first + records; ++r) {
    b.push_back(static_cast<std::uint8_t>(r % 10));
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t p = 0; p < 1024; ++p) b.push_back(cifar_pixel(r, c, p));
  }
  return b;
}

bytes idx_file(std::vector<std::uint32_t> dims, const bytes& payload, std::uint8_t type = 0x08) {
  bytes b = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

class DataFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir = fs::temp_directory_path() /
          ("staticnet_test_data_" + std::string(info->name()) + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path dir;
};

// ------------------------------------------------------------- CIFAR-10 ----

void expect_cifar_records(const data::dataset& d, std::size_t at, std::size_t first, std::size_t count) {
  for (std::size_t r = 0; r < count; ++r) {
    ASSERT_EQ(d.labels(at + r), static_cast<int>((first + r) % 10));
    for (std::size_t y = 0; y < 32; ++y)
      for (std::size_t x = 0; x < 32; ++x)
        for (std::size_t c = 0; c < 3; ++c)
          ASSERT_EQ(d.images(at + r, y, x, c), cifar_pixel(first + r, c, y * 32 + x))
              << "record " << r << " y " << y << " x " << x << " c " << c;
  }
}

TEST_F(DataFiles, Cifar10RoundTripPlainAndGzip) {
  write_file(dir / "a.bin", cifar_file(3));
  write_gz(dir / "a.bin.gz", cifar_file(3));
  for (const char* name : {"a.bin", "a.bin.gz"}) {
    const auto d = data::load_cifar10_files({dir / name});
    ASSERT_EQ(d.size(), 3);
    EXPECT_EQ(d.height(), 32);
    EXPECT_EQ(d.width(), 32);
    EXPECT_EQ(d.channels(), 3);
    EXPECT_EQ(d.classes, data::cifar10_classes());
    expect_cifar_records(d, 0, 0, 3);
  }
  EXPECT_TRUE(data::is_gzip_file(dir / "a.bin.gz"));
  EXPECT_FALSE(data::is_gzip_file(dir / "a.bin"));
}

TEST_F(DataFiles, Cifar10DirectorySplitsAndMeta) {
  const std::size_t counts[5] = {1, 2, 3, 1, 2};
  std::size_t first = 0;
  for (int b = 0; b < 5; ++b) {
    write_file(dir / ("data_batch_" + std::to_string(b + 1) + ".bin"), cifar_file(counts[b], first));
    first += counts[b];
  }
  write_file(dir / "test_batch.bin", cifar_file(4, 100));
  // No meta file: the standard names.
  auto train = data::load_cifar10(dir, data::split::train);
  ASSERT_EQ(train.size(), 9);
  expect_cifar_records(train, 0, 0, 9);
  EXPECT_EQ(train.classes, data::cifar10_classes());
  // A meta file (CRLF, padding, blank lines) names the classes.
  const std::string meta = "zero\r\n one \ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n\n\n";
  write_file(dir / "batches.meta.txt", bytes(meta.begin(), meta.end()));
  auto test = data::load_cifar10(dir, data::split::test);
  ASSERT_EQ(test.size(), 4);
  expect_cifar_records(test, 0, 100, 4);
  ASSERT_EQ(test.classes.size(), 10u);
  EXPECT_EQ(test.classes[0], "zero");
  EXPECT_EQ(test.classes[1], "one");
  EXPECT_EQ(test.classes[9], "nine");
  // The parent of cifar-10-batches-bin works too.
  fs::create_directories(dir / "outer");
  fs::rename(dir / "test_batch.bin", dir / "outer" / "test_batch.bin");
  fs::rename(dir / "outer", dir / "cifar-10-batches-bin");
  EXPECT_EQ(data::load_cifar10(dir / "cifar-10-batches-bin", data::split::test).size(), 4);
  // An explicit file list, in the given order (hold out data_batch_5).
  auto part = data::load_cifar10_files({dir / "data_batch_5.bin", dir / "data_batch_1.bin"});
  ASSERT_EQ(part.size(), 3);
  expect_cifar_records(part, 0, 7, 2);
  expect_cifar_records(part, 2, 0, 1);
}

TEST_F(DataFiles, Cifar10CorruptFiles) {
  const auto f = dir / "data_batch_1.bin";
  // missing
  expect_data_error([&] { data::load_cifar10_files({f}); }, {f.string(), "at byte 0", "cannot open"});
  expect_data_error([&] { data::load_cifar10(dir, data::split::train); }, {"data_batch_1.bin", "cannot open"});
  // length not a multiple of 3073: the incomplete record starts at byte 6146
  bytes b = cifar_file(2);
  b.resize(b.size() + 100, 7);
  write_file(f, b);
  expect_data_error([&] { data::load_cifar10_files({f}); },
                    {f.string(), "at byte 6146", "truncated record", "not a multiple of", "6246"});
  b.resize(3000);
  write_file(f, b);
  expect_data_error([&] { data::load_cifar10_files({f}); }, {f.string(), "at byte 0", "truncated record"});
  // empty
  write_file(f, {});
  expect_data_error([&] { data::load_cifar10_files({f}); }, {f.string(), "at byte 0", "empty file"});
  // label out of range: record 1's label byte is at 3073
  b = cifar_file(3);
  b[3073] = 10;
  write_file(f, b);
  expect_data_error([&] { data::load_cifar10_files({f}); },
                    {f.string(), "at byte 3073", "label 10", "record 1", "out of range [0, 10)"});
  // against a shorter class list, and through gzip (decompressed offset)
  b = cifar_file(3);  // labels 0, 1, 2
  write_gz(dir / "small.bin.gz", b);
  expect_data_error([&] { data::load_cifar10_files({dir / "small.bin.gz"}, {"a", "b"}); },
                    {"small.bin.gz", "at byte 6146", "label 2", "[0, 2)", "decompressed"});
  // a later file's problem names that file
  write_file(f, cifar_file(1));
  write_file(dir / "data_batch_2.bin", bytes(5000, 1));
  expect_data_error([&] { data::load_cifar10_files({f, dir / "data_batch_2.bin"}); },
                    {"data_batch_2.bin", "at byte 3073"});
  // empty class-name file
  write_file(dir / "batches.meta.txt", {'\n', ' ', '\n'});
  expect_data_error([&] { data::read_class_names(dir / "batches.meta.txt"); }, {"batches.meta.txt", "no class names"});
}

TEST_F(DataFiles, GzipStreamErrors) {
  const bytes payload = cifar_file(2);
  write_gz(dir / "good.gz", payload);
  const bytes gz = read_raw(dir / "good.gz");
  ASSERT_GT(gz.size(), 40u);
  // truncated in the middle of the deflate stream
  write_file(dir / "cut.gz", bytes(gz.begin(), gz.begin() + static_cast<long>(gz.size() / 2)));
  expect_data_error([&] { data::load_cifar10_files({dir / "cut.gz"}); }, {"cut.gz", "gzip stream error"});
  // truncated trailer (CRC and length missing)
  write_file(dir / "notrailer.gz", bytes(gz.begin(), gz.end() - 8));
  expect_data_error([&] { data::read_file_bytes(dir / "notrailer.gz"); }, {"notrailer.gz", "gzip stream error"});
  // wrong CRC
  bytes crc = gz;
  crc[crc.size() - 8] ^= 0xFF;
  write_file(dir / "crc.gz", crc);
  expect_data_error([&] { data::read_file_bytes(dir / "crc.gz"); }, {"crc.gz", "gzip stream error", "at byte"});
  // corrupt deflate data
  bytes bad = gz;
  for (std::size_t i = 12; i < 30; ++i) bad[i] = 0xFF;
  write_file(dir / "bad.gz", bad);
  expect_data_error([&] { data::read_file_bytes(dir / "bad.gz"); }, {"bad.gz", "gzip stream error"});
  // the intact one reads back exactly
  EXPECT_EQ(data::read_file_bytes(dir / "good.gz"), payload);
  // a directory is not a file
  expect_data_error([&] { data::read_file_bytes(dir); }, {"cannot open", "directory"});
  // Issue "Reliability": bytes after the gzip stream were silently ignored
  bytes tail = gz;
  for (char c : std::string("garbage")) tail.push_back(static_cast<std::uint8_t>(c));
  write_file(dir / "tail.gz", tail);
  expect_data_error([&] { data::read_file_bytes(dir / "tail.gz"); },
                    {"tail.gz", "7 bytes after the end of the gzip stream"});
  // ... while concatenated gzip members are one stream (as gzip -d reads them)
  bytes twice = gz;
  twice.insert(twice.end(), gz.begin(), gz.end());
  write_file(dir / "twice.gz", twice);
  bytes payload2 = payload;
  payload2.insert(payload2.end(), payload.begin(), payload.end());
  EXPECT_EQ(data::read_file_bytes(dir / "twice.gz"), payload2);
  // a decompressed size above the limit (a gzip bomb) is refused without reading on
  std::vector<std::uint8_t> out;
  expect_data_error([&] { data::read_file_bytes(dir / "good.gz", out, 1000); },
                    {"good.gz", "decompresses to more than 1000 bytes"});
  // a trailer claiming 1 GiB for a small file does not reserve 1 GiB
  bytes liar = gz;
  liar[liar.size() - 1] = 0x40;  // ISIZE = 0x40xxxxxx: about 1 GiB
  write_file(dir / "liar.gz", liar);
  std::vector<std::uint8_t> small;
  expect_data_error([&] { data::read_file_bytes(dir / "liar.gz", small); }, {"liar.gz", "gzip stream error"});
  EXPECT_LT(small.capacity(), std::size_t{64} << 20);
}

// ------------------------------------------------------------------ IDX ----

bytes pattern(std::size_t n, std::size_t mul) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * mul + i / 7) & 0xFF);
  return b;
}

TEST_F(DataFiles, IdxRoundTripPlainAndGzip) {
  const bytes pixels = pattern(4 * 3 * 5, 13);
  const bytes labels = {2, 0, 1, 2};
  write_file(dir / "img", idx_file({4, 3, 5}, pixels));
  write_file(dir / "lab", idx_file({4}, labels));
  write_gz(dir / "img.gz", idx_file({4, 3, 5}, pixels));
  write_gz(dir / "lab.gz", idx_file({4}, labels));
  for (auto [i, l] : {std::pair{"img", "lab"}, std::pair{"img.gz", "lab.gz"}, std::pair{"img.gz", "lab"}}) {
    const auto d = data::load_idx(dir / i, dir / l);
    ASSERT_EQ(d.size(), 4);
    ASSERT_EQ(d.height(), 3);
    ASSERT_EQ(d.width(), 5);
    ASSERT_EQ(d.channels(), 1);
    for (std::size_t n = 0; n < 4; ++n) {
      EXPECT_EQ(d.labels(n), labels[n]);
      for (std::size_t y = 0; y < 3; ++y)
        for (std::size_t x = 0; x < 5; ++x) ASSERT_EQ(d.images(n, y, x, 0), pixels[n * 15 + y * 5 + x]);
    }
    EXPECT_EQ(d.classes, (std::vector<std::string>{"0", "1", "2"}));  // derived from the largest label
  }
  // given class names; a 4-dimensional (N x H x W x C) file
  const bytes rgb = pattern(4 * 2 * 2 * 3, 5);
  write_file(dir / "rgb", idx_file({4, 2, 2, 3}, rgb));
  const auto d = data::load_idx(dir / "rgb", dir / "lab.gz", {"a", "b", "c", "d"});
  ASSERT_EQ(d.channels(), 3);
  EXPECT_EQ(d.classes.size(), 4u);
  EXPECT_TRUE(std::equal(rgb.begin(), rgb.end(), d.images.data()));
}

TEST_F(DataFiles, MnistAndFashionMnistFileNames) {
  const bytes pixels = pattern(3 * 28 * 28, 3);
  write_gz(dir / "train-images-idx3-ubyte.gz", idx_file({3, 28, 28}, pixels));
  write_gz(dir / "train-labels-idx1-ubyte.gz", idx_file({3}, {9, 0, 4}));
  write_file(dir / "t10k-images-idx3-ubyte", idx_file({2, 28, 28}, pattern(2 * 28 * 28, 11)));
  write_file(dir / "t10k-labels-idx1-ubyte", idx_file({2}, {1, 2}));
  auto train = data::load_fashion_mnist(dir, data::split::train);
  ASSERT_EQ(train.size(), 3);
  EXPECT_EQ(train.classes, data::fashion_mnist_classes());
  EXPECT_EQ(train.classes[9], "Ankle boot");
  EXPECT_EQ(train.labels(0), 9);
  EXPECT_TRUE(std::equal(pixels.begin(), pixels.end(), train.images.data()));
  auto test = data::load_mnist(dir, data::split::test);
  ASSERT_EQ(test.size(), 2);
  EXPECT_EQ(test.classes[2], "2");
  fs::remove(dir / "t10k-labels-idx1-ubyte");
  expect_data_error([&] { data::load_mnist(dir, data::split::test); },
                    {"t10k-labels-idx1-ubyte.gz", "cannot open", "nor"});
}

TEST_F(DataFiles, IdxCorruptFiles) {
  const auto img = dir / "img", lab = dir / "lab";
  const bytes pixels = pattern(4 * 3 * 5, 13);
  write_file(lab, idx_file({4}, {0, 1, 2, 3}));
  auto load = [&] { data::load_idx(img, lab, {"a", "b", "c", "d"}); };
  // missing
  expect_data_error(load, {img.string(), "at byte 0", "cannot open"});
  // wrong magic: not an IDX file, a float IDX file, the label file as images
  write_file(img, {0x1f, 0x00, 0x08, 0x03, 0, 0, 0, 0});
  expect_data_error(load, {img.string(), "at byte 0", "wrong magic number 0x1F000803", "0x00000803"});
  write_file(img, idx_file({4, 3, 5}, pixels, 0x0D));
  expect_data_error(load, {img.string(), "at byte 2", "wrong magic number 0x00000D03", "data type"});
  write_file(img, idx_file({4}, {0, 1, 2, 3}));
  expect_data_error(load, {img.string(), "at byte 3", "wrong magic number 0x00000801", "3 or 4 dimensions"});
  write_file(img, idx_file({4, 3, 5}, pixels));
  write_file(lab, idx_file({4, 1}, {0, 1, 2, 3}));
  expect_data_error(load, {lab.string(), "at byte 3", "0x00000801"});
  write_file(lab, idx_file({4}, {0, 1, 2, 3}));
  // truncated header
  write_file(img, {0, 0, 8});
  expect_data_error(load, {img.string(), "at byte 3", "truncated header"});
  write_file(img, {0, 0, 8, 3, 0, 0, 0, 4, 0, 0});
  expect_data_error(load, {img.string(), "at byte 10", "truncated header", "needs 16"});
  // truncated data: 16-byte header + 59 of 60 bytes
  bytes cut = idx_file({4, 3, 5}, pixels);
  cut.pop_back();
  write_file(img, cut);
  expect_data_error(load, {img.string(), "at byte 75", "truncated data", "need 60", "only 59"});
  // trailing bytes after the data
  bytes extra = idx_file({4, 3, 5}, pixels);
  extra.push_back(0);
  write_file(img, extra);
  expect_data_error(load, {img.string(), "at byte 76", "wrong image size"});
  // zero-sized image dimension
  write_file(img, idx_file({4, 0, 5}, {}));
  expect_data_error(load, {img.string(), "at byte 8", "wrong image size", "dimension 1 is 0"});
  // the image count does not match the label count
  write_file(img, idx_file({3, 4, 5}, pixels));
  expect_data_error(load, {img.string(), "at byte 4", "3 images", lab.string(), "4 labels"});
  // label out of range (labels at byte 8 on)
  write_file(img, idx_file({4, 3, 5}, pixels));
  write_file(lab, idx_file({4}, {0, 1, 7, 3}));
  expect_data_error(load, {lab.string(), "at byte 10", "label 7", "record 2", "out of range [0, 4)"});
  // ... through gzip: the offset is in the decompressed stream
  write_gz(dir / "lab.gz", idx_file({4}, {0, 1, 7, 3}));
  expect_data_error([&] { data::load_idx(img, dir / "lab.gz", {"a", "b", "c", "d"}); },
                    {"lab.gz", "at byte 10", "decompressed"});
  // a broken gzip stream
  write_gz(dir / "img.gz", idx_file({4, 3, 5}, pixels));
  bytes gz = read_raw(dir / "img.gz");
  gz.resize(gz.size() - 12);
  write_file(dir / "img.gz", gz);
  write_file(lab, idx_file({4}, {0, 1, 2, 3}));
  expect_data_error([&] { data::load_idx(dir / "img.gz", lab); }, {"img.gz", "gzip stream error"});
}

// --------------------------------------------------------------- dataset ----

/// N samples of H x W x C with pixel p of sample i = i * 10 + p, label i % 3.
data::dataset make_dataset(std::size_t n, std::size_t h = 2, std::size_t w = 3, std::size_t c = 2) {
  data::dataset d;
  d.images = data::ndarray<std::uint8_t, 4>::from_shape({n, h, w, c});
  d.labels = data::ndarray<std::int32_t, 1>::from_shape({n});
  const std::size_t s = h * w * c;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t p = 0; p < s; ++p) d.images.data()[i * s + p] = static_cast<std::uint8_t>((i * 10 + p) & 0xFF);
    d.labels(i) = static_cast<std::int32_t>(i % 3);
  }
  d.classes = {"x", "y", "z"};
  return d;
}

TEST(Dataset, SubsetConcatValidate) {
  const auto d = make_dataset(6);
  EXPECT_EQ(d.sample_bytes(), 12u);
  const auto s = data::subset(d, 2, 3);
  ASSERT_EQ(s.size(), 3);
  EXPECT_EQ(s.images(0, 0, 0, 0), 20);
  EXPECT_EQ(s.images(2, 1, 2, 1), 4 * 10 + 11);
  EXPECT_EQ(s.labels(1), 0);
  EXPECT_EQ(s.classes, d.classes);
  EXPECT_THROW(data::subset(d, 4, 3), std::out_of_range);
  EXPECT_EQ(data::subset(d, 6, 0).size(), 0);
  const auto c = data::concat(data::subset(d, 4, 2), data::subset(d, 0, 4));
  ASSERT_EQ(c.size(), 6);
  EXPECT_EQ(c.images(0, 0, 0, 0), 40);
  EXPECT_EQ(c.images(2, 0, 0, 0), 0);
  EXPECT_EQ(c.labels(0), 1);
  const std::vector<data::dataset> parts = {data::subset(d, 0, 1), data::subset(d, 1, 2), data::subset(d, 3, 3)};
  const auto all = data::concat(parts);
  EXPECT_TRUE(std::equal(d.images.begin(), d.images.end(), all.images.begin()));
  EXPECT_TRUE(std::equal(d.labels.begin(), d.labels.end(), all.labels.begin()));
  EXPECT_THROW(data::concat(d, make_dataset(2, 3, 3, 2)), std::invalid_argument);
  auto other = make_dataset(2);
  other.classes = {"p", "q", "r"};
  EXPECT_THROW(data::concat(d, other), std::invalid_argument);
  EXPECT_NO_THROW(data::validate(d));
  auto bad = make_dataset(3);
  bad.labels(1) = 3;
  EXPECT_THROW(data::validate(bad), std::invalid_argument);
}

TEST(Ndarray, RowMajorAndViewedByXtensor) {
  auto a = data::ndarray<std::int32_t, 3>::from_shape({2, 3, 4});
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(a.shape()[2], 4u);
  EXPECT_TRUE(std::all_of(a.begin(), a.end(), [](std::int32_t v) { return v == 0; }));
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<std::int32_t>(i);
  EXPECT_EQ(a(1, 2, 3), 23);
  EXPECT_EQ(a(0, 1, 0), 4);
  EXPECT_EQ(a(1, 0, 2), 14);
  const auto x = data::as_xtensor(a);  // no copy: the same elements, the same shape
  EXPECT_EQ(x.dimension(), 3u);
  EXPECT_EQ(x.shape()[1], 3u);
  EXPECT_EQ(x(1, 2, 3), 23);
  EXPECT_EQ(x(1, 0, 2), 14);
  EXPECT_EQ(&x(0, 0, 0), a.data());
  EXPECT_EQ(xt::sum(x)(), 23 * 24 / 2);
  EXPECT_EQ((data::ndarray<std::uint8_t, 4>{}.size()), 0u);
}

// ----------------------------------------------------------------- stats ----

TEST(Stats, HandComputed) {
  // 2 images of 1 x 2 pixels, 3 channels:
  //   channel 0: 0, 255, 255, 0      -> mean 0.5, std 0.5
  //   channel 1: 51 everywhere       -> mean 0.2, std 0
  //   channel 2: 0, 51, 102, 153     -> 0, .2, .4, .6: mean 0.3, var (.09+.01+.01+.09)/4 = 0.05
  data::dataset d;
  d.images = data::ndarray<std::uint8_t, 4>::from_shape({2, 1, 2, 3});
  d.labels = data::ndarray<std::int32_t, 1>::from_shape({2});
  const std::uint8_t px[12] = {0, 51, 0, 255, 51, 51, 255, 51, 102, 0, 51, 153};
  std::copy(std::begin(px), std::end(px), d.images.data());
  const auto st = data::compute_channel_stats(d);
  ASSERT_EQ(st.mean.size(), 3u);
  ASSERT_EQ(st.std.size(), 3u);
  EXPECT_NEAR(st.mean[0], 0.5, 1e-12);
  EXPECT_NEAR(st.std[0], 0.5, 1e-12);
  EXPECT_NEAR(st.mean[1], 0.2, 1e-12);
  EXPECT_NEAR(st.std[1], 0.0, 1e-12);
  EXPECT_NEAR(st.mean[2], 0.3, 1e-12);
  EXPECT_NEAR(st.std[2], std::sqrt(0.05), 1e-12);
  EXPECT_THROW(data::compute_channel_stats(data::subset(d, 0, 0)), std::invalid_argument);
}

TEST(Transforms, ToFloatAndNormalize) {
  const std::uint8_t hwc[2 * 2 * 2] = {0, 255, 51, 102, 255, 0, 153, 204};  // (y, x, c)
  float out[8];
  std::mt19937_64 rng(1);
  data::to_float_transform()(hwc, 2, 2, 2, out, rng);
  const float expect0[4] = {0.f, 0.2f, 1.f, 0.6f}, expect1[4] = {1.f, 0.4f, 0.f, 0.8f};
  for (int p = 0; p < 4; ++p) {
    EXPECT_NEAR(out[p], expect0[p], 1e-6);
    EXPECT_NEAR(out[4 + p], expect1[p], 1e-6);
  }
  const auto norm = data::normalize_transform({0.5, 0.25}, {0.5, 0.25});
  norm(hwc, 2, 2, 2, out, rng);
  for (int p = 0; p < 4; ++p) {
    EXPECT_NEAR(out[p], (expect0[p] - 0.5f) / 0.5f, 1e-5);
    EXPECT_NEAR(out[4 + p], (expect1[p] - 0.25f) / 0.25f, 1e-5);
  }
  EXPECT_THROW(norm(hwc, 2, 4, 1, out, rng), std::invalid_argument);  // wrong channel count
  EXPECT_THROW(data::normalize_transform({0.5}, {0.5, 0.5}), std::invalid_argument);
  EXPECT_THROW(data::normalize_transform({0.5}, {0.0}), std::invalid_argument);
}

// ---------------------------------------------------------------- loader ----

struct config {
  bool prefetch;
  int workers;
};
const config all_configs[] = {{false, 1}, {true, 1}, {false, 3}, {true, 3}};

std::vector<data::batch> epoch_batches(data::batch_loader& l, int epoch) {
  l.start_epoch(epoch);
  std::vector<data::batch> out;
  data::batch b;
  while (l.next(b)) out.push_back(b);
  return out;
}

/// Writes rng draws (plus the pixel) so the output shows the rng's seed.
void random_transform(const std::uint8_t* hwc, int h, int w, int c, float* chw, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> jitter(0, 1000);
  const int n = h * w * c;
  for (int i = 0; i < n; ++i) chw[i] = static_cast<float>(hwc[i]) + static_cast<float>(jitter(rng));
}

TEST(Loader, GeometryAndDropLast) {
  const auto d = make_dataset(10);
  for (const auto cfg : all_configs) {
    data::batch_loader keep(d, 4, false, false, 7, {}, {.workers = cfg.workers, .prefetch = cfg.prefetch});
    EXPECT_EQ(keep.batches_per_epoch(), 3);
    EXPECT_EQ(keep.samples_per_epoch(), 10);
    EXPECT_EQ(keep.sample_size(), 12u);
    auto bs = epoch_batches(keep, 0);
    ASSERT_EQ(bs.size(), 3u);
    EXPECT_EQ(bs[0].n, 4);
    EXPECT_EQ(bs[2].n, 2);
    EXPECT_EQ(bs[2].x.size(), 2u * 12u);
    EXPECT_EQ(bs[2].y.size(), 2u);
    data::batch_loader drop(d, 4, true, true, 7, {}, {.workers = cfg.workers, .prefetch = cfg.prefetch});
    EXPECT_EQ(drop.batches_per_epoch(), 2);
    EXPECT_EQ(drop.samples_per_epoch(), 8);
    bs = epoch_batches(drop, 0);
    ASSERT_EQ(bs.size(), 2u);
    EXPECT_EQ(bs[1].n, 4);
    // over, and stays over until the next start_epoch; b is left alone
    data::batch b;
    b.n = -5;
    EXPECT_FALSE(drop.next(b));
    EXPECT_FALSE(drop.next(b));
    EXPECT_EQ(b.n, -5);
  }
  data::batch_loader exact(d, 5, false, true, 7);
  EXPECT_EQ(exact.batches_per_epoch(), 2);
  data::batch_loader one(d, 64, false, false, 7);
  EXPECT_EQ(one.batches_per_epoch(), 1);
  data::batch_loader none(d, 64, false, true, 7);
  EXPECT_EQ(none.batches_per_epoch(), 0);
  data::batch b;
  EXPECT_FALSE(none.next(b));
  const auto empty = data::subset(d, 0, 0);
  data::batch_loader e(empty, 4, true, false, 7);
  EXPECT_EQ(e.batches_per_epoch(), 0);
  EXPECT_FALSE(e.next(b));
  EXPECT_THROW(data::batch_loader(d, 0, false, false, 1), std::invalid_argument);
  EXPECT_THROW(data::batch_loader(d, 4, false, false, 1, {}, {.workers = 0}), std::invalid_argument);
  auto bad = make_dataset(4);
  bad.labels = data::ndarray<std::int32_t, 1>::from_shape({3});
  EXPECT_THROW(data::batch_loader(bad, 4, false, false, 1), std::invalid_argument);
}

TEST(Loader, EveryIndexOncePerEpochWithItsSample) {
  const auto d = make_dataset(10);
  for (const auto cfg : all_configs)
    for (bool shuffle : {false, true})
      for (bool drop : {false, true}) {
        data::batch_loader l(d, 3, shuffle, drop, 11, data::to_float_transform(),
                             {.workers = cfg.workers, .prefetch = cfg.prefetch});
        for (int epoch = 0; epoch < 2; ++epoch) {
          std::vector<std::int64_t> seen;
          for (const auto& b : epoch_batches(l, epoch)) {
            ASSERT_EQ(b.index.size(), static_cast<std::size_t>(b.n));
            for (int i = 0; i < b.n; ++i) {
              const auto idx = static_cast<std::size_t>(b.index[static_cast<std::size_t>(i)]);
              seen.push_back(b.index[static_cast<std::size_t>(i)]);
              EXPECT_EQ(b.y[static_cast<std::size_t>(i)], d.labels(idx));
              // CHW: x[c][y][x] = pixel (y, x, c) / 255 = (idx * 10 + (y * 3 + x) * 2 + c) / 255
              const float* s = b.x.data() + static_cast<std::size_t>(i) * 12;
              for (int c = 0; c < 2; ++c)
                for (int p = 0; p < 6; ++p)
                  ASSERT_FLOAT_EQ(s[c * 6 + p], static_cast<float>(idx * 10 + static_cast<std::size_t>(p * 2 + c)) / 255.0f);
            }
          }
          if (!shuffle) {
            std::vector<std::int64_t> ident(seen.size());
            std::iota(ident.begin(), ident.end(), 0);
            EXPECT_EQ(seen, ident);
          }
          std::sort(seen.begin(), seen.end());
          EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "an index twice";
          EXPECT_EQ(seen.size(), drop ? 9u : 10u);
          if (!drop) {
            EXPECT_EQ(seen.back(), 9);
          }
        }
      }
}

std::vector<std::int64_t> order_of(const std::vector<data::batch>& bs) {
  std::vector<std::int64_t> o;
  for (const auto& b : bs) o.insert(o.end(), b.index.begin(), b.index.end());
  return o;
}

TEST(Loader, ShuffleReproducibleFromSeedAndEpoch) {
  const auto d = make_dataset(100, 1, 1, 1);
  data::batch_loader a(d, 16, true, false, 42), b(d, 16, true, false, 42, {}, {.workers = 2, .prefetch = false});
  data::batch_loader other_seed(d, 16, true, false, 43);
  const auto a3 = order_of(epoch_batches(a, 3));
  EXPECT_EQ(a3, order_of(epoch_batches(b, 3)));
  EXPECT_EQ(a3, data::epoch_permutation(100, 42, 3));
  EXPECT_NE(a3, order_of(epoch_batches(a, 4)));
  EXPECT_NE(a3, order_of(epoch_batches(other_seed, 3)));
  EXPECT_EQ(a3, order_of(epoch_batches(a, 3)));  // again, after another epoch
  std::vector<std::int64_t> ident(100);
  std::iota(ident.begin(), ident.end(), 0);
  EXPECT_NE(a3, ident);
  // restarting mid-epoch starts over
  a.start_epoch(5);
  data::batch bt;
  ASSERT_TRUE(a.next(bt));
  ASSERT_TRUE(a.next(bt));
  EXPECT_EQ(order_of(epoch_batches(a, 5)), data::epoch_permutation(100, 42, 5));
  // the permutation does not depend on the standard library: pinned values
  const auto p = data::epoch_permutation(10, 1, 0);
  std::vector<std::int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, std::vector<std::int64_t>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(data::sample_seed(1, 2, 3), data::sample_seed(1, 2, 3));
  EXPECT_NE(data::sample_seed(1, 2, 3), data::sample_seed(1, 3, 2));
  EXPECT_NE(data::sample_seed(1, 2, 3), data::sample_seed(2, 2, 3));
}

TEST(Loader, AugmentationIndependentOfWorkersAndPrefetch) {
  const auto d = make_dataset(23);
  std::vector<std::vector<data::batch>> ref;
  for (const auto cfg : all_configs) {
    data::batch_loader l(d, 5, true, false, 9, random_transform, {.workers = cfg.workers, .prefetch = cfg.prefetch});
    std::vector<std::vector<data::batch>> got;
    for (int e = 0; e < 2; ++e) got.push_back(epoch_batches(l, e));
    if (ref.empty()) {
      ref = got;
      continue;
    }
    for (std::size_t e = 0; e < 2; ++e) {
      ASSERT_EQ(got[e].size(), ref[e].size());
      for (std::size_t k = 0; k < got[e].size(); ++k) {
        EXPECT_EQ(got[e][k].index, ref[e][k].index) << "prefetch " << cfg.prefetch << " workers " << cfg.workers;
        EXPECT_EQ(got[e][k].y, ref[e][k].y);
        EXPECT_EQ(got[e][k].x, ref[e][k].x) << "prefetch " << cfg.prefetch << " workers " << cfg.workers;
      }
    }
  }
  // Resuming at epoch 1 reproduces epoch 1, augmentation included.
  data::batch_loader resumed(d, 5, true, false, 9, random_transform, {.workers = 2});
  const auto e1 = epoch_batches(resumed, 1);
  for (std::size_t k = 0; k < e1.size(); ++k) EXPECT_EQ(e1[k].x, ref[1][k].x);
  // The same sample is augmented differently in another epoch.
  auto sample_of = [&](const std::vector<data::batch>& bs, std::int64_t idx) {
    for (const auto& b : bs)
      for (int i = 0; i < b.n; ++i)
        if (b.index[static_cast<std::size_t>(i)] == idx)
          return std::vector<float>(b.x.begin() + i * 12, b.x.begin() + (i + 1) * 12);
    return std::vector<float>{};
  };
  EXPECT_NE(sample_of(ref[0], 4), sample_of(ref[1], 4));
  EXPECT_FALSE(sample_of(ref[0], 4).empty());
}

TEST(Loader, PrefetchPreparesTheNextBatchInTheBackground) {
  const auto d = make_dataset(12);
  std::atomic<int> calls{0};
  auto counting = [&](const std::uint8_t* hwc, int h, int w, int c, float* chw, std::mt19937_64& rng) {
    data::to_float_transform()(hwc, h, w, c, chw, rng);
    calls.fetch_add(1);
  };
  {
    data::batch_loader l(d, 4, false, false, 1, counting, {.workers = 2, .prefetch = true});
    l.start_epoch(0);
    data::batch b;
    ASSERT_TRUE(l.next(b));
    // batch 1 is being prepared without a call to next()
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (calls.load() < 8 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(calls.load(), 8);
  }
  calls = 0;
  data::batch_loader l(d, 4, false, false, 1, counting, {.workers = 2, .prefetch = false});
  l.start_epoch(0);
  data::batch b;
  ASSERT_TRUE(l.next(b));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(calls.load(), 4);
}

TEST(Loader, NoAllocationPerBatchAfterTheFirst) {
  const auto d = make_dataset(10);
  for (const auto cfg : all_configs) {
    data::batch_loader l(d, 4, true, false, 3, {}, {.workers = cfg.workers, .prefetch = cfg.prefetch});
    std::set<const void*> xs, ys, is;
    data::batch b;
    for (int e = 0; e < 3; ++e) {
      l.start_epoch(e);
      while (l.next(b)) {
        xs.insert(b.x.data());
        ys.insert(b.y.data());
        is.insert(b.index.data());
      }
    }
    const std::size_t buffers = cfg.prefetch ? 2 : 1;  // double buffering
    EXPECT_EQ(xs.size(), buffers);
    EXPECT_EQ(ys.size(), buffers);
    EXPECT_EQ(is.size(), buffers);
  }
}

TEST(Loader, TransformExceptionsReachNext) {
  const auto d = make_dataset(10);
  auto failing = [](const std::uint8_t* hwc, int h, int w, int c, float* chw, std::mt19937_64& rng) {
    if (hwc[0] == 50) throw std::runtime_error("bad sample 5");
    data::to_float_transform()(hwc, h, w, c, chw, rng);
  };
  for (const auto cfg : all_configs) {
    data::batch_loader l(d, 4, false, false, 1, failing, {.workers = cfg.workers, .prefetch = cfg.prefetch});
    l.start_epoch(0);
    data::batch b;
    ASSERT_TRUE(l.next(b));
    EXPECT_EQ(b.index[0], 0);
    try {
      l.next(b);
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "bad sample 5");
    }
    ASSERT_TRUE(l.next(b));  // the failed batch is skipped
    EXPECT_EQ(b.n, 2);
    EXPECT_EQ(b.index[0], 8);
    EXPECT_FALSE(l.next(b));
    // a new epoch works (and fails again at the same batch)
    l.start_epoch(1);
    ASSERT_TRUE(l.next(b));
    EXPECT_THROW(l.next(b), std::runtime_error);
  }
  // Normalising a 2-channel dataset with 3-channel statistics fails at next().
  data::batch_loader l(d, 4, false, false, 1, data::normalize_transform({0.5, 0.5, 0.5}, {0.2, 0.2, 0.2}));
  data::batch b;
  EXPECT_THROW(l.next(b), std::invalid_argument);
}

TEST(Loader, DestroyedOrRestartedWhilePreparing) {
  // While `slow` is set a sample takes 20 ms, so a whole 40-sample batch would
  // take 800 ms: abandoning it must not wait for it (one sample per thread at most).
  const auto d = make_dataset(40);
  std::atomic<bool> slow{true};
  auto transform = [&](const std::uint8_t* hwc, int h, int w, int c, float* chw, std::mt19937_64& rng) {
    if (slow.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    data::to_float_transform()(hwc, h, w, c, chw, rng);
  };
  using clock = std::chrono::steady_clock;
  for (int workers : {1, 3}) {
    slow = true;
    auto t0 = clock::now();
    {
      data::batch_loader l(d, 40, true, false, 1, transform, {.workers = workers});
      l.start_epoch(0);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }  // the destructor abandons the batch in flight
    EXPECT_LT(clock::now() - t0, std::chrono::milliseconds(400)) << "workers " << workers;
    data::batch_loader l(d, 20, true, false, 1, transform, {.workers = workers});
    t0 = clock::now();
    l.start_epoch(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    l.start_epoch(1);  // abandons epoch 0's first batch
    EXPECT_LT(clock::now() - t0, std::chrono::milliseconds(400)) << "workers " << workers;
    slow = false;
    // The abandoned batch leaves no trace: epoch 1 is as from a fresh loader.
    const auto e1 = epoch_batches(l, 1);
    EXPECT_EQ(order_of(e1), data::epoch_permutation(40, 1, 1));
    data::batch_loader fresh(d, 20, true, false, 1, transform, {.workers = workers});
    const auto f1 = epoch_batches(fresh, 1);
    ASSERT_EQ(e1.size(), f1.size());
    for (std::size_t k = 0; k < e1.size(); ++k) EXPECT_EQ(e1[k].x, f1[k].x);
  }
}

TEST(Loader, OutputShapeOption) {
  // A transform that reduces each sample to its mean: 1 x 1 x 1 output.
  const auto d = make_dataset(5);
  auto mean = [](const std::uint8_t* hwc, int h, int w, int c, float* chw, std::mt19937_64&) {
    float s = 0;
    for (int i = 0; i < h * w * c; ++i) s += hwc[i];
    chw[0] = s / static_cast<float>(h * w * c);
  };
  data::batch_loader l(d, 5, false, false, 1, mean, {.out_channels = 1, .out_height = 1, .out_width = 1});
  EXPECT_EQ(l.sample_size(), 1u);
  data::batch b;
  ASSERT_TRUE(l.next(b));
  ASSERT_EQ(b.x.size(), 5u);
  EXPECT_FLOAT_EQ(b.x[2], 20.0f + 5.5f);
}

// ------------------------------------------------------ real data (optional) ----

fs::path env_or(const char* var, const char* fallback) {
  const char* v = std::getenv(var);
  return v != nullptr && *v != '\0' ? fs::path(v) : fs::path(fallback);
}

TEST(RealData, FashionMnist) {
  const auto dir = env_or("STATICNET_FASHION_MNIST", "/usr/share/datasets/fashion-mnist");
  if (!fs::exists(dir / "train-images-idx3-ubyte.gz") && !fs::exists(dir / "train-images-idx3-ubyte"))
    GTEST_SKIP() << "Fashion-MNIST not found in " << dir << " (set STATICNET_FASHION_MNIST)";
  const auto train = data::load_fashion_mnist(dir, data::split::train);
  const auto test = data::load_fashion_mnist(dir, data::split::test);
  EXPECT_EQ(train.size(), 60000);
  EXPECT_EQ(test.size(), 10000);
  EXPECT_EQ(train.height(), 28);
  EXPECT_EQ(train.width(), 28);
  EXPECT_EQ(train.channels(), 1);
  std::vector<int> count(10, 0);
  for (auto l : train.labels) {
    ASSERT_GE(l, 0);
    ASSERT_LT(l, 10);
    ++count[static_cast<std::size_t>(l)];
  }
  for (int c : count) EXPECT_EQ(c, 6000);
  const auto st = data::compute_channel_stats(train);
  EXPECT_NEAR(st.mean[0], data::fashion_mnist_train_stats().mean[0], 1e-4);
  EXPECT_NEAR(st.std[0], data::fashion_mnist_train_stats().std[0], 1e-4);
}

TEST(RealData, Cifar10Sample) {
  const auto dir = env_or("STATICNET_CIFAR10_SAMPLE", "/work/shared/data/cifar10-sample");
  if (!fs::exists(dir / "data_batch_1.bin"))
    GTEST_SKIP() << "CIFAR-10 sample not found in " << dir << " (set STATICNET_CIFAR10_SAMPLE)";
  const auto b1 = data::load_cifar10_files({dir / "data_batch_1.bin"});
  EXPECT_EQ(b1.size(), 1017);
  EXPECT_EQ(b1.channels(), 3);
  const auto train = data::load_cifar10(dir, data::split::train);
  EXPECT_EQ(train.size(), 5 * 1017);
  EXPECT_EQ(train.classes, data::cifar10_classes());  // from batches.meta.txt
  std::set<int> labels(train.labels.begin(), train.labels.end());
  EXPECT_EQ(labels.size(), 10u);
  const auto st = data::compute_channel_stats(train);
  const auto ref = data::cifar10_train_stats();
  for (std::size_t c = 0; c < 3; ++c) {  // a 10% sample: close to the full set's statistics
    EXPECT_NEAR(st.mean[c], ref.mean[c], 0.02);
    EXPECT_NEAR(st.std[c], ref.std[c], 0.02);
  }
}

}  // namespace
