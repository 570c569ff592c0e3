// Checkpoints in the safetensors format (staticnet/train/checkpoint.hpp): the
// low-level reader and writer, bit-exact round trips of the S7-dilated
// reference model with optimizer state and metadata, refusal of other
// architectures, truncated and corrupt files and wrong dtypes (leaving the
// model untouched), atomic writes, and files written by PyTorch
// (tests/golden/generate_safetensors.py).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <csignal>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <staticnet/train/checkpoint.hpp>
#include <staticnet/train/optimizer_state.hpp>
#include <staticnet/cpu/model.hpp>
#include <staticnet/train/optim.hpp>
#include <staticnet/staticnet.hpp>

#include "networks.hpp"

namespace sn = staticnet;
namespace fs = std::filesystem;
namespace st = staticnet::safetensors;
using assignments::S7DilatedReference;

namespace {

// ------------------------------------------------------------ networks --
using assignments::ConvReluBn;
using assignments::Depthwise3;
using assignments::Pointwise;
using assignments::PointwiseReluBn;

/// S7-dilated with C3 widened to 48 at its start, C3's last BatchNorm dropped
/// and a bias on O's conv: shape mismatches, unexpected and missing names.
using S7Variant = sn::Network<sn::Input<3, 32, 32>,
    sn::Block<"C1", ConvReluBn<32>, Depthwise3, PointwiseReluBn<64>, Pointwise<32>>,
    sn::Block<"C2", ConvReluBn<32>, Depthwise3, PointwiseReluBn<64>,
              sn::Conv2d<sn::conv{.out = 64, .kernel = 3, .dilation = 4, .bias = false}>, sn::ReLU,
              sn::BatchNorm2d>,
    sn::Block<"C3", Pointwise<48>, Depthwise3, PointwiseReluBn<64>, Depthwise3, Pointwise<128>, sn::ReLU>,
    sn::Block<"O", sn::GlobalAvgPool, sn::Conv2d<sn::conv{.out = 10, .kernel = 1}>>,
    sn::Flatten, sn::LogSoftmax>;

/// S7-dilated with C2's dilated conv at dilation 2: the same parameter names
/// and shapes, a different function.
using S7Dilation2 = sn::Network<sn::Input<3, 32, 32>,
    sn::Block<"C1", ConvReluBn<32>, Depthwise3, PointwiseReluBn<64>, Pointwise<32>>,
    sn::Block<"C2", ConvReluBn<32>, Depthwise3, PointwiseReluBn<64>,
              sn::Conv2d<sn::conv{.out = 64, .kernel = 3, .dilation = 2, .bias = false}>, sn::ReLU,
              sn::BatchNorm2d>,
    sn::Block<"C3", Pointwise<32>, Depthwise3, PointwiseReluBn<64>, Depthwise3, PointwiseReluBn<128>>,
    sn::Block<"O", sn::GlobalAvgPool, Pointwise<10>>,
    sn::Flatten, sn::LogSoftmax>;

/// The network of tests/golden/generate_safetensors.py's tiny_net().
using TinyNet = sn::Network<sn::Input<3, 8, 8>,
    sn::Block<"stem", sn::Conv2d<sn::conv{.out = 4, .kernel = 3, .padding = 1}>, sn::BatchNorm2d, sn::ReLU>,
    sn::MaxPool2d<>,
    sn::Block<"head", sn::GlobalAvgPool, sn::Flatten, sn::Linear<sn::linear{.out = 5}>>>;

// ------------------------------------------------------------- helpers --
std::string golden_file(const std::string& name) { return std::string(STATICNET_GOLDEN_DIR) + "/" + name; }

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << "message: " << (msg)

std::vector<float> random_floats(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<std::int32_t> random_targets(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::int32_t> v(n);
  for (auto& t : v) t = static_cast<std::int32_t>(rng() % 10);
  return v;
}

template <class M, class O>
void train_steps(M& model, O& opt, int steps, std::uint32_t seed, int n = 4) {
  model.train();
  for (int s = 0; s < steps; ++s) {
    const auto x = random_floats(static_cast<std::size_t>(n) * M::input_numel, seed + 10u * static_cast<std::uint32_t>(s));
    const auto y = random_targets(static_cast<std::size_t>(n), seed + 10u * static_cast<std::uint32_t>(s) + 1u);
    model.forward_backward(x, y, n);
    opt.step(model);
  }
}

/// Every parameter and buffer of a model, concatenated.
template <class M>
std::vector<float> state_of(M& model) {
  std::vector<float> out;
  for (const auto& t : model.named_tensors()) out.insert(out.end(), t.data.begin(), t.data.end());
  return out;
}

bool bits_equal(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A safetensors file by hand: 8-byte length (or `length` when given), header text, data.
std::string raw_file(const std::string& header, const std::string& data = "",
                     std::uint64_t length = std::numeric_limits<std::uint64_t>::max()) {
  if (length == std::numeric_limits<std::uint64_t>::max()) length = header.size();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xFF);
  return out + header + data;
}

std::string float_bytes(std::span<const float> v) {
  return {reinterpret_cast<const char*>(v.data()), v.size_bytes()};
}

/// A fresh directory per test, removed afterwards.
class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir = fs::temp_directory_path() /
          ("staticnet_ckpt_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir, ec);
  }
  /// Temporary files left in the directory.
  std::vector<std::string> leftovers() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().find(".tmp-") != std::string::npos) out.push_back(e.path().filename());
    return out;
  }
  fs::path dir;
};

using Safetensors = TempDir;
using Checkpoint = TempDir;

}  // namespace

// ====================================================== low-level API ==

TEST_F(Safetensors, WriteReadRoundTripIsBitExact) {
  std::vector<float> special = {0.0f, -0.0f, std::numeric_limits<float>::infinity(),
                                -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::denorm_min(),
                                std::numeric_limits<float>::max(), 1.0f / 3.0f,
                                std::bit_cast<float>(std::uint32_t{0x7FC01234})};  // NaN with a payload
  std::vector<float> scalar = {2.5f};
  std::vector<float> empty;
  const st::string_map meta = {{"quote\"back\\slash", "line\nbreak\ttab\x01\x1f ctrl"},
                               {"unicode", "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80"},
                               {"empty", ""}};
  const fs::path p = dir / "a.safetensors";
  st::write(p, {{"special", {2, 4}, special}, {"scalar", {}, scalar}, {"empty", {0, 3}, empty},
                {"\xCE\xB8/weird \"name\"", {1}, std::span<const float>(special).first(1)}},
            meta);
  const std::string bytes = file_bytes(p);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  EXPECT_EQ(n % 8, 0u) << "the data must start 8-byte aligned";
  EXPECT_EQ(bytes[8], '{');

  const st::file f = st::read(p);
  EXPECT_EQ(f.metadata, meta);
  ASSERT_EQ(f.tensors.size(), 4u);
  EXPECT_EQ(f.tensors[0].name, "special");  // file (data) order
  EXPECT_EQ(f.tensors[1].name, "scalar");
  EXPECT_EQ(f.tensors[2].name, "empty");
  EXPECT_EQ(f.tensors[3].name, "\xCE\xB8/weird \"name\"");
  EXPECT_EQ(f.tensors[0].shape, (std::vector<std::int64_t>{2, 4}));
  EXPECT_TRUE(bits_equal(f.tensors[0].data, special));
  EXPECT_TRUE(f.tensors[1].shape.empty());
  EXPECT_TRUE(bits_equal(f.tensors[1].data, scalar));
  EXPECT_EQ(f.tensors[2].shape, (std::vector<std::int64_t>{0, 3}));
  EXPECT_TRUE(f.tensors[2].data.empty());
  EXPECT_EQ(f.data_bytes, (8 + 1 + 0 + 1) * 4u);
  EXPECT_EQ(f.header_bytes, n);
  ASSERT_NE(f.find("scalar"), nullptr);
  EXPECT_EQ(f.find("nope"), nullptr);
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(Safetensors, WriteRefusesBadInput) {
  std::vector<float> v(6, 1.0f);
  const fs::path p = dir / "bad.safetensors";
  EXPECT_HAS(error_of([&] { st::write(p, {{"a", {2, 3}, v}, {"a", {6}, v}}); }), "two tensors named \"a\"");
  EXPECT_HAS(error_of([&] { st::write(p, {{"a", {2, 2}, v}}); }), "shape [2, 2] (4 values) but 6 values");
  EXPECT_HAS(error_of([&] { st::write(p, {{"__metadata__", {6}, v}}); }), "cannot name a tensor");
  EXPECT_HAS(error_of([&] { st::write(p, {{"bad\xFF", {6}, v}}); }), "not valid UTF-8");
  EXPECT_HAS(error_of([&] { st::write(p, {{"a", {6}, v}}, {{"k", "\xC0\x80"}}); }), "not valid UTF-8");
  EXPECT_FALSE(fs::exists(p));
  EXPECT_TRUE(leftovers().empty());
}

TEST(SafetensorsGolden, ReadsEveryDtypeWrittenByPython) {
  const st::file f = st::read(golden_file("dtypes.safetensors"));
  EXPECT_EQ(f.metadata.at("k\xC3\xA9y"), "v\xC3\xA0lue \xF0\x9F\x98\x80");  // from \u escapes, a surrogate pair
  ASSERT_EQ(f.tensors.size(), 6u);
  // In data order, as generate_safetensors.py laid them out.
  std::vector<std::string> order;
  for (const auto& t : f.tensors) order.push_back(t.name);
  EXPECT_EQ(order, (std::vector<std::string>{"long", "half", "na\xC3\xAFve/\xCE\xB8", "empty", "scalar", "bf16"}));

  const st::tensor* half = f.find("half");
  ASSERT_NE(half, nullptr);
  EXPECT_EQ(half->dtype, "F16");
  EXPECT_FALSE(half->is_f32());
  EXPECT_TRUE(half->data.empty());
  EXPECT_EQ(half->bytes, (std::vector<std::uint8_t>{0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38}));  // 1, -2, 0.5
  const st::tensor* bf16 = f.find("bf16");
  ASSERT_NE(bf16, nullptr);
  EXPECT_EQ(bf16->bytes, (std::vector<std::uint8_t>{0x80, 0x3F, 0x40, 0xC0}));  // 1, -3
  const st::tensor* i64 = f.find("long");
  ASSERT_NE(i64, nullptr);
  EXPECT_EQ(i64->dtype, "I64");
  ASSERT_EQ(i64->bytes.size(), 24u);
  std::int64_t longs[3];
  std::memcpy(longs, i64->bytes.data(), 24);
  EXPECT_EQ(longs[0], 1);
  EXPECT_EQ(longs[1], -1);
  EXPECT_EQ(longs[2], std::int64_t{1} << 40);

  const st::tensor* scalar = f.find("scalar");
  ASSERT_NE(scalar, nullptr);
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->data, std::vector<float>{3.5f});
  const st::tensor* empty = f.find("empty");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->shape, (std::vector<std::int64_t>{0, 3}));
  const st::tensor* theta = f.find("na\xC3\xAFve/\xCE\xB8");
  ASSERT_NE(theta, nullptr);
  EXPECT_EQ(theta->shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(theta->data, (std::vector<float>{0.0f, 0.25f, 0.5f, 0.75f, 1.0f, 1.25f}));
}

TEST_F(Safetensors, RefusesMalformedFiles) {
  const std::string f8(8, '\0');  // 8 bytes of data: two F32 zeros
  struct bad_case {
    std::string file, expect;
  };
  const std::string w2 = R"("w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})";
  const std::vector<bad_case> cases = {
      {raw_file("[1]"), "must be a JSON object starting with '{'"},
      {raw_file(" {}"), "must be a JSON object starting with '{'"},
      {raw_file(R"({"a" 1})"), "bad header JSON at byte 5 of the header (file offset 13): expected ':' after an object key, found '1'"},
      {raw_file(R"({"w": {"dtype": "F32)"), "unterminated string"},
      {raw_file("{" + w2 + ",}", f8), "expected a string key, found '}'"},
      {raw_file("{" + w2 + ", " + w2 + "}", f8), "duplicate key \"w\""},
      {raw_file(R"({"a\q": 1})"), "at byte 3 of the header (file offset 11): invalid escape"},
      {raw_file(R"({"\udc00": 1})"), "unpaired low surrogate"},
      {raw_file(R"({"\ud800x": 1})"), "unpaired high surrogate"},
      {raw_file("{\"a\tb\": 1}"), "unescaped control character"},
      {raw_file("{\"\xC3\x28\": 1}"), "at byte 2 of the header (file offset 10): invalid UTF-8"},
      {raw_file("{} x"), "unexpected 'x' after the end of the JSON value"},
      {raw_file("{\"a\": 01}"), "at byte 7 of the header (file offset 15): expected '}' or ',' in an object, found '1'"},
      {raw_file(std::string(70, '[') + std::string(70, ']')), "must be a JSON object"},
      {raw_file("{\"a\":" + std::string(70, '[') + std::string(70, ']') + "}"), "nesting deeper than 64 levels"},
      {raw_file(R"({"__metadata__": {"epoch": 3}})"), "metadata value of \"epoch\" must be a string"},
      {raw_file(R"({"__metadata__": []})"), "\"__metadata__\" must be an object of strings"},
      {raw_file(R"({"w": [1]})"), "tensor \"w\": expected an object"},
      {raw_file(R"({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", f8), "a dimension must be a non-negative integer"},
      {raw_file(R"({"w": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}})", f8), "a dimension must be a non-negative integer"},
      {raw_file(R"({"w": {"dtype": "F32", "shape": [99999999999999999999], "data_offsets": [0, 8]}})", f8), "too large"},
      {raw_file(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4], "data_offsets": [0, 8]}})", f8), "the shape is too large"},
      // Issue "Reliability": 0 bytes, but numel() would overflow int64 on the way to the 0.
      {raw_file(R"({"w": {"dtype": "U8", "shape": [2, 6917529027641081856, 0], "data_offsets": [0, 0]}})"), "the shape is too large"},
      {raw_file(R"({"w": {"dtype": "F32", "shape": [)" + [] { std::string d; for (int i = 0; i < 65; ++i) d += i ? ", 1" : "1"; return d; }() +
                R"(], "data_offsets": [0, 4]}})", f8.substr(0, 4)), "the shape has 65 dimensions (at most 64 are supported)"},
      {raw_file(R"({"w": {"dtype": "F32", "shape": [2]}})", f8), "tensor \"w\" lacks \"data_offsets\""},
      {raw_file(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}})", f8), "must be an array [begin, end]"},
      {raw_file(R"({"w": {"dtype": 32, "shape": [2], "data_offsets": [0, 8]}})", f8), "\"dtype\" must be a string"},
      {raw_file(R"({"w": {"dtype": "F17", "shape": [2], "data_offsets": [0, 8]}})", f8), "dtype \"F17\", which staticnet does not support"},
      {raw_file(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", f8), "shape [2] of F32 needs 8 bytes but data_offsets [0, 4] hold 4"},
      {raw_file(R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}})", f8), "end before they begin"},
      {raw_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", f8),
       "the data of tensor \"b\" [4, 8) overlaps tensor \"a\" [0, 8)"},
      {raw_file(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", f8), "bytes [0, 4) of the data belong to no tensor"},
      {raw_file("{" + w2 + "}", f8 + "xyz"), "header says 8 bytes of data, file has 11 (3 unexplained bytes at the end)"},
      {raw_file("{" + w2 + "}", "1234"), "is truncated: header says 8 bytes of data, file has 4"},
      {raw_file("{}", "", 200'000'000), "header length 200000000 exceeds safetensors' limit"},
      {raw_file("{}", "", 50), "is truncated: header length says 50 bytes of JSON, file has 2 after the length"},
      {std::string("\x02\0\0", 3), "is truncated: it has 3 bytes, fewer than the 8-byte header length"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const fs::path p = dir / ("bad" + std::to_string(i) + ".safetensors");
    put_file(p, cases[i].file);
    const std::string msg = error_of([&] { (void)st::read(p); });
    EXPECT_HAS(msg, cases[i].expect) << " (case " << i << ")";
    EXPECT_HAS(msg, p.string()) << " (case " << i << ")";
  }
}

// Issue "Reliability": a header of many tiny values parsed into a tree
// hundreds of times its size (a 38 MB header peaked at 3.1 GB).
TEST_F(Safetensors, HeaderValueCountIsBounded) {
  std::string zeros;
  zeros.reserve(2 * st::max_header_values + 8);
  for (std::size_t i = 0; i <= st::max_header_values; ++i) zeros += i ? ",0" : "0";
  const fs::path p = dir / "many.safetensors";
  put_file(p, raw_file("{\"a\": [" + zeros + "]}"));
  EXPECT_HAS(error_of([&] { (void)st::read(p); }), "more than 2000000 JSON values");
  // The parser's own limit, directly.
  EXPECT_NO_THROW(sn::json::parser("[1, 2, 3]", 4).parse_document());
  EXPECT_THROW(sn::json::parser("[1, 2, 3]", 3).parse_document(), sn::json::error);
}

TEST_F(Safetensors, AcceptsWhatTheFormatAllows) {
  // Spaces after the object (padding), unsorted names, data in another order
  // than the header, zero-size tensors, escapes, unknown extra fields.
  std::vector<float> a = {1, 2}, b = {3};
  const std::string header =
      R"({"b": {"shape": [1], "dtype": "F32", "data_offsets": [0, 4], "extra": {"x": [true, null, -1.5e3]}},)"
      R"( "z": {"dtype": "F32", "shape": [0, 7], "data_offsets": [4, 4]},)"
      R"( "\u0061": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}, "__metadata__": {"k\/": "\"v\""}}       )";
  const fs::path p = dir / "ok.safetensors";
  put_file(p, raw_file(header, float_bytes(b) + float_bytes(a)));
  const st::file f = st::read(p);
  ASSERT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.find("a")->data, a);
  EXPECT_EQ(f.find("b")->data, b);
  EXPECT_EQ(f.find("z")->numel(), 0);
  EXPECT_EQ(f.metadata.at("k/"), "\"v\"");
  // An empty file: no tensors at all.
  put_file(p, raw_file("{}"));
  EXPECT_TRUE(st::read(p).tensors.empty());
}

// ======================================================== checkpoints ==

TEST_F(Checkpoint, RoundTripIsBitExact) {
  sn::Model<S7DilatedReference, 8> a(1);
  sn::SGD opt_a(a, {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f});
  train_steps(a, opt_a, 2, 100);
  a.bn_eps = 1e-3f;
  a.bn_momentum = 0.05f;
  // Values a text format would lose: -0, NaN payloads, infinities, denormals.
  auto params = a.parameters();
  params[0] = -0.0f;
  params[1] = std::bit_cast<float>(std::uint32_t{0x7FC0BEEF});
  params[2] = std::numeric_limits<float>::infinity();
  params[3] = std::numeric_limits<float>::denorm_min();

  sn::checkpoint_extras extras;
  sn::add_optimizer_state(extras, a, opt_a);
  std::vector<float> ema = random_floats(32 * 3 * 3 * 3, 5);
  extras.add("ema.C1.0.weight", {32, 3, 3, 3}, ema);
  extras.set("epoch", 7);
  extras.set("step", std::int64_t{1234567890123});
  extras.set("seed", std::numeric_limits<std::uint64_t>::max());
  extras.set("lr", 0.0123456789f);
  extras.set("schedule", "OneCycleLR {\"last_epoch\": 17}\nline 2");
  extras.set("note", std::string("caf\xC3\xA9"));
  const fs::path p = dir / "s7.safetensors";
  sn::save_checkpoint(p, a, extras);
  EXPECT_TRUE(leftovers().empty());

  sn::Model<S7DilatedReference, 8> b(2);
  sn::SGD opt_b(b, {.lr = 1.0f});
  ASSERT_FALSE(bits_equal(state_of(a), state_of(b)));
  const sn::checkpoint_info info = sn::load_checkpoint(p, b, {.allow_non_finite = true});  // the NaN and infinity above

  // Parameters and buffers, bit for bit.
  auto ta = a.named_tensors(), tb = b.named_tensors();
  ASSERT_EQ(ta.size(), tb.size());
  for (std::size_t i = 0; i < ta.size(); ++i) EXPECT_TRUE(bits_equal(ta[i].data, tb[i].data)) << ta[i].name;
  EXPECT_EQ(b.bn_eps, 1e-3f);
  EXPECT_EQ(b.bn_momentum, 0.05f);

  // Metadata and the fingerprint.
  EXPECT_TRUE(info.fingerprint_checked);
  EXPECT_EQ(info.fingerprint, sn::architecture_fingerprint<S7DilatedReference>());
  for (const auto& [k, v] : extras.metadata) EXPECT_EQ(info.metadata.at(k), v) << k;
  EXPECT_EQ(info.number<int>("epoch"), 7);
  EXPECT_EQ(info.number<std::int64_t>("step"), std::int64_t{1234567890123});
  EXPECT_EQ(info.number<std::uint64_t>("seed"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(info.number<float>("lr"), 0.0123456789f);
  EXPECT_EQ(info.get("schedule"), "OneCycleLR {\"last_epoch\": 17}\nline 2");
  EXPECT_EQ(info.number<int>("absent"), std::nullopt);
  EXPECT_HAS(error_of([&] { (void)info.number<int>("note"); }), "\"note\" = \"caf");
  EXPECT_EQ(info.metadata.at("format"), "pt");
  EXPECT_EQ(info.metadata.at("staticnet.architecture"), sn::architecture_description<S7DilatedReference>());

  // Extra tensors: one momentum buffer per parameter, and the user's.
  std::size_t trainable = 0;
  for (const auto& t : ta) trainable += t.trainable;
  EXPECT_EQ(info.extras.size(), trainable + 1);
  const auto* ema_back = info.extra("ema.C1.0.weight");
  ASSERT_NE(ema_back, nullptr);
  EXPECT_TRUE(bits_equal(ema_back->data, ema));
  const auto* mom = info.extra("optimizer.momentum_buffer.C2.7.weight");
  ASSERT_NE(mom, nullptr);
  EXPECT_EQ(mom->shape, (std::vector<std::int64_t>{64, 64, 3, 3}));

  // Optimizer state.
  ASSERT_TRUE(sn::restore_optimizer_state(info, b, opt_b));
  EXPECT_TRUE(bits_equal(opt_a.momentum_buffer(), opt_b.momentum_buffer()));
  EXPECT_TRUE(opt_b.started());
  EXPECT_EQ(opt_b.options.lr, 0.05f);
  EXPECT_EQ(opt_b.options.momentum, 0.9f);
  EXPECT_EQ(opt_b.options.weight_decay, 5e-4f);

  // Resumed training continues exactly as the original.
  params[1] = params[2] = 0.5f;
  b.parameters()[1] = b.parameters()[2] = 0.5f;
  train_steps(a, opt_a, 1, 900);
  train_steps(b, opt_b, 1, 900);
  EXPECT_TRUE(bits_equal(state_of(a), state_of(b)));
  EXPECT_TRUE(bits_equal(opt_a.momentum_buffer(), opt_b.momentum_buffer()));
}

TEST_F(Checkpoint, RefusesAnotherArchitectureAndLeavesTheModelUntouched) {
  sn::Model<S7DilatedReference, 4> a(1);
  const fs::path p = dir / "s7.safetensors";
  sn::save_checkpoint(p, a);

  sn::Model<S7Variant, 4> other(3);
  const std::vector<float> before = state_of(other);
  const std::string msg = error_of([&] { (void)sn::load_checkpoint(p, other); });
  EXPECT_HAS(msg, p.string());
  EXPECT_HAS(msg, "does not match the model");
  EXPECT_HAS(msg, "missing from the checkpoint (1): O.1.bias");
  EXPECT_HAS(msg, "unexpected in the checkpoint (4): C3.8.weight, C3.8.bias, C3.8.running_mean, C3.8.running_var");
  EXPECT_HAS(msg, "shape mismatches (3):");
  EXPECT_HAS(msg, "C3.0.weight: checkpoint [32, 64, 1, 1], model [48, 64, 1, 1]");
  EXPECT_HAS(msg, "C3.1.weight: checkpoint [32, 1, 3, 3], model [48, 1, 3, 3]");
  EXPECT_HAS(msg, "C3.2.weight: checkpoint [64, 32, 1, 1], model [64, 48, 1, 1]");
  EXPECT_HAS(msg, "architecture fingerprints: checkpoint " + sn::architecture_fingerprint<S7DilatedReference>());
  EXPECT_TRUE(bits_equal(before, state_of(other)));
}

TEST_F(Checkpoint, FingerprintCatchesGeometryWithoutParameters) {
  sn::Model<S7DilatedReference, 4> a(1);
  const fs::path p = dir / "s7.safetensors";
  sn::save_checkpoint(p, a);
  ASSERT_NE(sn::architecture_fingerprint<S7DilatedReference>(), sn::architecture_fingerprint<S7Dilation2>());

  sn::Model<S7Dilation2, 4> d2(3);
  const std::vector<float> before = state_of(d2);
  const std::string msg = error_of([&] { (void)sn::load_checkpoint(p, d2); });
  EXPECT_HAS(msg, "was saved from a different architecture");
  EXPECT_HAS(msg, "checkpoint: C2.7 Conv2d 64x32x32 -> 64x24x24 kernel=3x3 stride=1x1 padding=0x0 dilation=4x4");
  EXPECT_HAS(msg, "model:      C2.7 Conv2d 64x32x32 -> 64x28x28 kernel=3x3 stride=1x1 padding=0x0 dilation=2x2");
  EXPECT_HAS(msg, "check_fingerprint = false");
  EXPECT_TRUE(bits_equal(before, state_of(d2)));

  const auto info = sn::load_checkpoint(p, d2, {.check_fingerprint = false});
  EXPECT_FALSE(info.fingerprint_checked);
  EXPECT_TRUE(bits_equal(state_of(a), state_of(d2)));
}

TEST_F(Checkpoint, TruncatedFilesAreRefused) {
  sn::Model<S7DilatedReference, 4> a(1), b(2);
  const std::vector<float> before = state_of(b);
  const fs::path p = dir / "s7.safetensors";
  sn::save_checkpoint(p, a);
  const std::string bytes = file_bytes(p);
  const st::file f = st::read(p);
  const std::uint64_t data = f.data_bytes;
  ASSERT_EQ(data, (68'992u + 2 * (32 + 64 + 32 + 64 + 64 + 64 + 128)) * 4u);  // parameters, BN running stats

  put_file(p, bytes.substr(0, bytes.size() - 10));
  std::string msg = error_of([&] { (void)sn::load_checkpoint(p, b); });
  EXPECT_HAS(msg, "checkpoint '" + p.string() + "' is truncated: header says " + std::to_string(data) +
                      " bytes of data, file has " + std::to_string(data - 10));

  put_file(p, bytes.substr(0, 100));
  msg = error_of([&] { (void)sn::load_checkpoint(p, b); });
  EXPECT_HAS(msg, "is truncated: header length says " + std::to_string(f.header_bytes) + " bytes of JSON, file has 92");

  put_file(p, bytes.substr(0, 3));
  EXPECT_HAS(error_of([&] { (void)sn::load_checkpoint(p, b); }), "is truncated: it has 3 bytes");
  put_file(p, "");
  EXPECT_HAS(error_of([&] { (void)sn::load_checkpoint(p, b); }), "is truncated: it has 0 bytes");
  EXPECT_TRUE(bits_equal(before, state_of(b)));
}

TEST_F(Checkpoint, CorruptHeaderIsRefusedWithItsOffset) {
  sn::Model<S7DilatedReference, 4> a(1), b(2);
  const std::vector<float> before = state_of(b);
  const fs::path p = dir / "s7.safetensors";
  sn::save_checkpoint(p, a);
  std::string bytes = file_bytes(p);
  const std::size_t at = bytes.find("\"C1.2.weight\":");
  ASSERT_NE(at, std::string::npos);
  const std::size_t colon = at + std::string("\"C1.2.weight\"").size();
  bytes[colon] = ';';
  put_file(p, bytes);
  const std::string msg = error_of([&] { (void)sn::load_checkpoint(p, b); });
  EXPECT_HAS(msg, "checkpoint '" + p.string() + "': bad header JSON at byte " + std::to_string(colon - 8) +
                      " of the header (file offset " + std::to_string(colon) + "): expected ':' after an object key, found ';'");
  EXPECT_TRUE(bits_equal(before, state_of(b)));

  // Garbage instead of a checkpoint.
  put_file(p, std::string(64, 'x'));
  EXPECT_HAS(error_of([&] { (void)sn::load_checkpoint(p, b); }), "exceeds safetensors' limit");
  EXPECT_TRUE(bits_equal(before, state_of(b)));
}

TEST_F(Checkpoint, WrongDtypeIsRefused) {
  sn::Model<TinyNet, 2> model(1);
  const std::vector<float> before = state_of(model);
  // The checkpoint by hand, with stem.0.bias stored as F16.
  std::string header = "{", data;
  for (const auto& t : model.named_tensors()) {
    const bool half = t.name == "stem.0.bias";
    const std::size_t bytes = t.data.size() * (half ? 2 : 4);
    std::string shape;
    for (int d : t.shape) {
      if (!shape.empty()) shape += ",";
      shape += std::to_string(d);
    }
    if (header.size() > 1) header += ",";
    header += "\"" + t.name + "\":{\"dtype\":\"" + (half ? "F16" : "F32") + "\",\"shape\":[" + shape +
              "],\"data_offsets\":[" + std::to_string(data.size()) + "," + std::to_string(data.size() + bytes) + "]}";
    data += half ? std::string(bytes, '\0') : float_bytes(t.data);
  }
  header += "}";
  const fs::path p = dir / "half.safetensors";
  put_file(p, raw_file(header, data));
  EXPECT_EQ(st::read(p).find("stem.0.bias")->dtype, "F16");  // a valid file...
  const std::string msg = error_of([&] { (void)sn::load_checkpoint(p, model); });  // ...but not for this model
  EXPECT_HAS(msg, "stem.0.bias: checkpoint dtype F16, model F32");
  EXPECT_TRUE(bits_equal(before, state_of(model)));
}

TEST_F(Checkpoint, MissingFileOrDirectory) {
  sn::Model<TinyNet, 2> model(1);
  const fs::path p = dir / "none.safetensors";
  std::string msg = error_of([&] { (void)sn::load_checkpoint(p, model); });
  EXPECT_HAS(msg, "cannot open checkpoint '" + p.string() + "': No such file or directory");
  msg = error_of([&] { (void)sn::load_checkpoint(dir, model); });
  EXPECT_HAS(msg, "checkpoint '" + dir.string() + "' is not a regular file");
  msg = error_of([&] { sn::save_checkpoint(dir / "no" / "such" / "dir.safetensors", model); });
  EXPECT_HAS(msg, "cannot write '" + (dir / "no" / "such" / "dir.safetensors").string() + "'");
  EXPECT_HAS(msg, "No such file or directory");
}

TEST_F(Checkpoint, AtomicWriteKeepsThePreviousCheckpointOnFailure) {
  sn::Model<TinyNet, 2> v1(1), v2(2);
  const fs::path p = dir / "last.safetensors";
  sn::save_checkpoint(p, v1);
  const std::string good = file_bytes(p);
  const fs::path tmp = p.string() + ".tmp-" + std::to_string(::getpid());

  // 1. The temporary file cannot be created.
  fs::create_directory(tmp);
  std::string msg = error_of([&] { sn::save_checkpoint(p, v2); });
  EXPECT_HAS(msg, "cannot write '" + p.string() + "': cannot create the temporary file '" + tmp.string() + "'");
  EXPECT_HAS(msg, "Is a directory");
  EXPECT_EQ(file_bytes(p), good);
  fs::remove(tmp);

  // 2. Writing fails half-way (a file size limit stands in for a full disk).
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 512;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  msg = error_of([&] { sn::save_checkpoint(p, v2); });
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_HAS(msg, "cannot write '" + p.string() + "': writing '" + tmp.string() + "' failed: File too large");
  EXPECT_EQ(file_bytes(p), good);
  EXPECT_TRUE(leftovers().empty()) << "the temporary file must be removed";

  // 3. The rename fails (the target is now a non-empty directory).
  const fs::path d = dir / "taken.safetensors";
  fs::create_directories(d / "inside");
  msg = error_of([&] { sn::save_checkpoint(d, v2); });
  EXPECT_HAS(msg, "cannot write '" + d.string() + "': renaming");
  EXPECT_TRUE(leftovers().empty());

  // The previous checkpoint still loads; a successful save replaces it.
  sn::Model<TinyNet, 2> check(3);
  (void)sn::load_checkpoint(p, check);
  EXPECT_TRUE(bits_equal(state_of(check), state_of(v1)));
  sn::save_checkpoint(p, v2);
  (void)sn::load_checkpoint(p, check);
  EXPECT_TRUE(bits_equal(state_of(check), state_of(v2)));
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(Checkpoint, ReadOnlyDirectory) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  sn::Model<TinyNet, 2> v1(1), v2(2);
  const fs::path p = dir / "last.safetensors";
  sn::save_checkpoint(p, v1);
  const std::string good = file_bytes(p);
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
  const std::string msg = error_of([&] { sn::save_checkpoint(p, v2); });
  fs::permissions(dir, fs::perms::owner_all);
  EXPECT_HAS(msg, "cannot create the temporary file");
  EXPECT_HAS(msg, "Permission denied");
  EXPECT_EQ(file_bytes(p), good);
}

TEST_F(Checkpoint, LeftoverTemporaryFileFromACrashIsHarmless) {
  sn::Model<TinyNet, 2> v1(1), v2(2), check(3);
  const fs::path p = dir / "last.safetensors";
  sn::save_checkpoint(p, v1);
  const std::string good = file_bytes(p);
  // A writer that died mid-write: half a checkpoint under a temporary name,
  // one under this process's own temporary name too.
  put_file(p.string() + ".tmp-999999", good.substr(0, good.size() / 2));
  put_file(p.string() + ".tmp-" + std::to_string(::getpid()), "garbage");
  (void)sn::load_checkpoint(p, check);
  EXPECT_TRUE(bits_equal(state_of(check), state_of(v1)));
  sn::save_checkpoint(p, v2);  // reuses (truncates) its own temporary name
  (void)sn::load_checkpoint(p, check);
  EXPECT_TRUE(bits_equal(state_of(check), state_of(v2)));
  EXPECT_EQ(leftovers(), std::vector<std::string>{"last.safetensors.tmp-999999"});
}

TEST(CheckpointGolden, LoadsAStateDictWrittenByPyTorch) {
  sn::Model<TinyNet, 2> model(1);
  const sn::checkpoint_info info = sn::load_checkpoint(golden_file("tiny_net.safetensors"), model);
  EXPECT_EQ(info.ignored, std::vector<std::string>{"stem.1.num_batches_tracked"});
  EXPECT_TRUE(info.extras.empty());
  EXPECT_FALSE(info.fingerprint_checked);  // PyTorch wrote no fingerprint
  EXPECT_EQ(info.metadata.at("format"), "pt");
  EXPECT_EQ(info.metadata.at("note"), "written by \"generate_safetensors.py\"\\\n\ttab, caf\xC3\xA9 \xE2\x9C\x93");
  EXPECT_EQ(info.number<int>("epoch"), 3);

  // The same function as PyTorch's network in eval mode.
  const st::file io = st::read(golden_file("tiny_net_io.safetensors"));
  const auto& x = io.find("input")->data;
  const auto& want = io.find("output")->data;
  model.eval();
  const auto out = model.forward(x, 2);
  ASSERT_EQ(out.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(out[i], want[i], 1e-5f + 1e-5f * std::fabs(want[i])) << i;
}

namespace {
/// An optimizer shaped like sn::Adam / sn::AdamW (state exp_avg, exp_avg_sq,
/// max_exp_avg_sq and a step count), to test that path independently.
struct FakeAdam {
  static constexpr const char* name = "Adam";
  struct {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
    bool amsgrad = false, maximize = false;
  } options;
  explicit FakeAdam(std::size_t n, bool amsgrad) : m(n), v(n), vmax(amsgrad ? n : 0) { options.amsgrad = amsgrad; }
  std::span<float> exp_avg() { return m; }
  std::span<float> exp_avg_sq() { return v; }
  std::span<float> max_exp_avg_sq() { return vmax; }
  std::int64_t step_count() const { return steps; }
  void set_step_count(std::int64_t s) { steps = s; }
  std::vector<float> m, v, vmax;
  std::int64_t steps = 0;
};
}  // namespace

TEST_F(Checkpoint, AdamLikeOptimizerState) {
  sn::Model<TinyNet, 2> model(1);
  const std::size_t n = model.parameters().size();
  FakeAdam a(n, true);
  a.m = random_floats(n, 1), a.v = random_floats(n, 2), a.vmax = random_floats(n, 3);
  a.steps = 42;
  a.options.lr = 0.00123456789012345;
  a.options.beta1 = 0.85;
  sn::checkpoint_extras extras;
  sn::add_optimizer_state(extras, model, a);
  const fs::path p = dir / "adam.safetensors";
  sn::save_checkpoint(p, model, extras);
  const auto info = sn::load_checkpoint(p, model);
  EXPECT_NE(info.extra("optimizer.exp_avg.stem.0.weight"), nullptr);
  EXPECT_NE(info.extra("optimizer.max_exp_avg_sq.head.2.bias"), nullptr);

  FakeAdam no_amsgrad(n, false);
  EXPECT_HAS(error_of([&] { sn::restore_optimizer_state(info, model, no_amsgrad); }), "amsgrad");
  EXPECT_EQ(no_amsgrad.steps, 0);
  sn::SGD sgd(model, {.lr = 0.1f});
  EXPECT_HAS(error_of([&] { sn::restore_optimizer_state(info, model, sgd); }),
             "the checkpoint holds Adam state, the optimizer is SGD");

  FakeAdam b(n, true);
  ASSERT_TRUE(sn::restore_optimizer_state(info, model, b));
  EXPECT_TRUE(bits_equal(a.m, b.m));
  EXPECT_TRUE(bits_equal(a.v, b.v));
  EXPECT_TRUE(bits_equal(a.vmax, b.vmax));
  EXPECT_EQ(b.steps, 42);
  EXPECT_EQ(b.options.lr, a.options.lr);  // doubles round-trip exactly
  EXPECT_EQ(b.options.beta1, 0.85);
  EXPECT_TRUE(b.options.amsgrad);
}

TEST_F(Checkpoint, OptimizerStateAbsentOrIncomplete) {
  sn::Model<TinyNet, 2> model(1);
  sn::SGD opt(model, {.lr = 0.1f, .momentum = 0.9f});
  const fs::path p = dir / "plain.safetensors";
  sn::save_checkpoint(p, model);
  EXPECT_FALSE(sn::restore_optimizer_state(sn::load_checkpoint(p, model), model, opt));

  // Optimizer metadata whose tensors are missing: refused, nothing changed.
  sn::checkpoint_extras extras;
  sn::add_optimizer_state(extras, model, opt);
  std::vector<float> keep = {1.0f};
  extras.tensors.erase(extras.tensors.begin());
  extras.add("unrelated", {1}, keep);
  sn::save_checkpoint(p, model, extras);
  const auto info = sn::load_checkpoint(p, model);
  opt.momentum_buffer()[5] = 3.0f;
  const std::string msg = error_of([&] { sn::restore_optimizer_state(info, model, opt); });
  EXPECT_HAS(msg, "optimizer.momentum_buffer.stem.0.weight: missing");
  EXPECT_EQ(opt.momentum_buffer()[5], 3.0f);
  EXPECT_FALSE(opt.started());
}

TEST_F(Checkpoint, ExtrasAndMetadataRules) {
  sn::Model<TinyNet, 2> model(1);
  const fs::path p = dir / "x.safetensors";
  sn::checkpoint_extras extras;
  extras.set("staticnet.fingerprint", "mine");
  EXPECT_HAS(error_of([&] { sn::save_checkpoint(p, model, extras); }), "metadata key \"staticnet.fingerprint\" is reserved");

  // An extra named like a parameter is a duplicate.
  std::vector<float> b(4, 0.0f);
  sn::checkpoint_extras dup;
  dup.add("stem.0.bias", {4}, b);
  EXPECT_HAS(error_of([&] { sn::save_checkpoint(p, model, dup); }), "two tensors named \"stem.0.bias\"");
  EXPECT_FALSE(fs::exists(p));

  // A checkpoint listing an extra it lacks, or with tensors it does not list.
  std::vector<st::tensor_view> views;
  for (const auto& t : model.named_tensors())
    views.push_back({t.name, std::vector<std::int64_t>(t.shape.begin(), t.shape.end()), t.data});
  st::write(p, views, {{"staticnet.extra_tensors", "[\"ghost\"]"}});
  EXPECT_HAS(error_of([&] { (void)sn::load_checkpoint(p, model); }), "lists the extra tensor \"ghost\"");
  st::write(p, views, {{"staticnet.extra_tensors", "ghost"}});
  EXPECT_HAS(error_of([&] { (void)sn::load_checkpoint(p, model); }), "is not a JSON array of strings");
  views.push_back({"stray", {4}, b});
  st::write(p, views);
  EXPECT_HAS(error_of([&] { (void)sn::load_checkpoint(p, model); }), "unexpected in the checkpoint (1): stray");
}

TEST(CheckpointFingerprint, DependsOnTheArchitectureOnly) {
  EXPECT_EQ(sn::architecture_fingerprint<S7DilatedReference>(), sn::architecture_fingerprint<S7DilatedReference>());
  EXPECT_EQ(sn::architecture_fingerprint<S7DilatedReference>().rfind("staticnet-v1-", 0), 0u);
  EXPECT_NE(sn::architecture_fingerprint<S7DilatedReference>(), sn::architecture_fingerprint<S7Variant>());
  const std::string d = sn::architecture_description<TinyNet>();
  EXPECT_HAS(d, "input 3x8x8\nblock stem\nstem.0 Conv2d 3x8x8 -> 4x8x8 kernel=3x3 stride=1x1 padding=1x1 dilation=1x1 groups=1 bias=true\n");
  EXPECT_HAS(d, "\n1 MaxPool2d 4x8x8 -> 4x4x4 kernel=2x2 stride=2x2 padding=0x0 dilation=1x1 ceil_mode=false\n");
  EXPECT_HAS(d, "\nhead.2 Linear 4 -> 5 bias=true\nend block\n");
}

TEST_F(Checkpoint, DropoutStateAndBatchNormSettings) {
  using DropNet = sn::Network<sn::Input<2, 4, 4>, sn::Conv2d<sn::conv{.out = 3, .kernel = 1}>, sn::BatchNorm2d,
                              sn::Dropout<sn::p(0.3)>, sn::GlobalAvgPool, sn::Flatten>;
  sn::Model<DropNet, 2> a(1), b(2);
  a.bn_eps = 2e-5f;
  a.bn_momentum = 0.3f;
  a.set_dropout_seed(1234);
  a.train();
  const auto x = random_floats(2 * 32, 9);
  for (int i = 0; i < 3; ++i) (void)a.forward(x, 2);
  const fs::path p = dir / "drop.safetensors";
  sn::save_checkpoint(p, a);
  (void)sn::load_checkpoint(p, b);
  EXPECT_EQ(b.bn_eps, 2e-5f);
  EXPECT_EQ(b.bn_momentum, 0.3f);
  if constexpr (requires { a.dropout_seed(); a.dropout_steps(); }) {
    EXPECT_EQ(b.dropout_seed(), 1234u);
    EXPECT_EQ(b.dropout_steps(), 3u);
    // The next training forward draws the same dropout mask.
    b.train();
    const auto ya = a.forward(x, 2);
    const std::vector<float> va(ya.begin(), ya.end());
    const auto yb = b.forward(x, 2);
    EXPECT_TRUE(bits_equal(va, std::vector<float>(yb.begin(), yb.end())));
  }
}

// Issue "Reliability": values restored from a checkpoint are checked like the
// constructors check them, before anything changes.
TEST_F(Checkpoint, RestoredHyperparametersAndCountersAreChecked) {
  sn::Model<TinyNet, 2> model(1);
  const fs::path p = dir / "hyper.safetensors";
  // SGD with a negative learning rate, and with NaN momentum.
  for (const char* bad : {"-1", "nan"}) {
    sn::SGD opt(model, {.lr = 0.1f, .momentum = 0.9f});
    sn::checkpoint_extras extras;
    sn::add_optimizer_state(extras, model, opt);
    extras.metadata[std::string(bad) == "-1" ? "optimizer.lr" : "optimizer.momentum"] = bad;
    sn::save_checkpoint(p, model, extras);
    const auto info = sn::load_checkpoint(p, model);
    sn::SGD fresh(model, {.lr = 0.05f, .momentum = 0.5f});
    EXPECT_HAS(error_of([&] { sn::restore_optimizer_state(info, model, fresh); }), "hyperparameters are invalid");
    EXPECT_EQ(fresh.options.lr, 0.05f);  // unchanged
    EXPECT_FALSE(fresh.started());
  }
  // Adam with beta1 = 1 (a division by zero at the next step) and a step count that would overflow.
  for (const auto& [key, value] : {std::pair<const char*, const char*>{"optimizer.beta1", "1"},
                                   {"optimizer.step", "9223372036854775807"}}) {
    sn::Adam adam(model, {.lr = 1e-3});
    sn::checkpoint_extras extras;
    sn::add_optimizer_state(extras, model, adam);
    extras.metadata[key] = value;
    sn::save_checkpoint(p, model, extras);
    const auto info = sn::load_checkpoint(p, model);
    sn::Adam fresh(model, {.lr = 1e-3});
    EXPECT_THROW(sn::restore_optimizer_state(info, model, fresh), std::runtime_error) << key;
    EXPECT_EQ(fresh.step_count(), 0) << key;
  }
  // A schedule counter at INT64_MAX (the next step would overflow) and a NaN learning rate.
  sn::SGD opt(model, {.lr = 0.1f});
  for (const auto& [key, value] : {std::pair<const char*, const char*>{"schedule.last_epoch", "9223372036854775807"},
                                   {"schedule.last_lr", "nan"}}) {
    sn::StepLR sched(opt, {.step_size = 2});
    sn::checkpoint_info info;
    info.metadata = {{"schedule.last_epoch", "3"}, {"schedule.step_count", "4"}, {"schedule.last_lr", "0.1"},
                     {"schedule.base_lr", "0.1"}};
    info.metadata[key] = value;
    EXPECT_HAS(error_of([&] { sn::trainer_detail::load_schedule(info, sched, p); }), key);
    EXPECT_EQ(sched.state().last_epoch, 0) << key;  // unchanged: the constructor's initial step
  }
  // BatchNorm settings no training step can use.
  for (const auto& [key, value] : {std::pair<const char*, const char*>{"staticnet.bn_eps", "nan"},
                                   {"staticnet.bn_eps", "0"},
                                   {"staticnet.bn_momentum", "-5"}}) {
    sn::save_checkpoint(p, model);
    st::file f = st::read(p);
    f.metadata[key] = value;
    std::vector<st::tensor_view> views;
    for (const auto& t : f.tensors) views.push_back(t.view());
    st::write(p, views, f.metadata);
    sn::Model<TinyNet, 2> other(2);
    const auto before = std::vector<float>(other.parameters().begin(), other.parameters().end());
    EXPECT_HAS(error_of([&] { (void)sn::load_checkpoint(p, other); }), key);
    EXPECT_TRUE(bits_equal(before, std::vector<float>(other.parameters().begin(), other.parameters().end())));
    EXPECT_EQ(other.bn_eps, 1e-5f);
  }
}

// Issue "Reliability", bad numbers: a checkpoint holding NaN or infinity is
// refused with the tensor named, unless asked for.
TEST_F(Checkpoint, NonFiniteValuesAreRefusedNamingTheTensor) {
  sn::Model<TinyNet, 2> model(1);
  const fs::path p = dir / "nan.safetensors";
  sn::save_checkpoint(p, model);
  st::file f = st::read(p);
  ASSERT_GE(f.tensors.size(), 2u);
  f.tensors[0].data[3] = std::numeric_limits<float>::quiet_NaN();
  f.tensors[1].data[0] = -std::numeric_limits<float>::infinity();
  std::vector<st::tensor_view> views;
  for (const auto& t : f.tensors) views.push_back(t.view());
  st::write(p, views, f.metadata);
  sn::Model<TinyNet, 2> other(2);
  const auto before = std::vector<float>(other.parameters().begin(), other.parameters().end());
  const std::string msg = error_of([&] { (void)sn::load_checkpoint(p, other); });
  EXPECT_HAS(msg, "non-finite values in 2 tensor(s)");
  EXPECT_HAS(msg, f.tensors[0].name + ": NaN at element 3 (1 of ");
  EXPECT_HAS(msg, f.tensors[1].name + ": infinity at element 0");
  EXPECT_TRUE(bits_equal(before, std::vector<float>(other.parameters().begin(), other.parameters().end())));
  EXPECT_NO_THROW((void)sn::load_checkpoint(p, other, {.allow_non_finite = true}));
  EXPECT_TRUE(std::isnan(other.named_tensors()[0].data[3]));
}

