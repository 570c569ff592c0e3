// staticnet/checkpoint.hpp: checkpoints in the safetensors format.
//
//   sn::Model<Net> model(1);
//   sn::SGD opt(model, {.lr = 0.05f, .momentum = 0.9f});
//   ...
//   sn::checkpoint_extras extras;
//   sn::add_optimizer_state(extras, model, opt);    // "optimizer.momentum_buffer.<param>"
//   extras.set("epoch", 12);
//   sn::save_checkpoint("run/last.safetensors", model, extras);   // atomic
//
//   sn::checkpoint_info info = sn::load_checkpoint("run/last.safetensors", model);
//   sn::restore_optimizer_state(info, model, opt);
//   int epoch = info.number<int>("epoch").value_or(0);
//
// The file is a safetensors file (https://github.com/huggingface/safetensors):
// an 8-byte little-endian header length N, N bytes of JSON
//   {"<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"<key>": "<value>", ...}}
// (padded with spaces so the data starts 8-byte aligned), then the tensors'
// little-endian bytes, contiguous. Parameter and buffer names and shapes are
// PyTorch's (Model::named_tensors()), so `safetensors.torch.load_file` or
// tools/checkpoint_to_pytorch.py give a state_dict for the equivalent
// nn.Module. staticnet writes F32 only; the reader accepts every fixed-size
// dtype of the format (non-F32 tensors are kept as raw bytes) and refuses
// malformed files with a message naming the file and the problem.
//
// save_checkpoint also records, in the metadata, an architecture fingerprint
// (a hash of the layer-by-layer description of the network, also stored) that
// load_checkpoint checks, and the BatchNorm settings (and dropout state when
// the Model has one). Keys "staticnet.*" are reserved for these.
//
// The lower-level API works without a Model:
//   sn::safetensors::write(path, {{"w", {2, 3}, span}}, {{"note", "..."}});
//   sn::safetensors::file f = sn::safetensors::read(path);
//
// Files are read and written with POSIX calls (open, pread, write, fsync, rename).
#pragma once
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "model.hpp"
#include "network.hpp"
#include "version.hpp"

namespace staticnet {

namespace safetensors {

/// Header metadata: string keys to string values.
using string_map = std::map<std::string, std::string>;

/// A tensor to write: F32 values, row-major, in a caller-owned buffer.
struct tensor_view {
  std::string name;
  std::vector<std::int64_t> shape;
  std::span<const float> data;
};

/// A tensor read from a file.
struct tensor {
  std::string name;
  std::string dtype = "F32";          ///< as in the header ("F32", "F16", "I64", ...)
  std::vector<std::int64_t> shape;
  std::vector<float> data;            ///< the values when dtype is F32
  std::vector<std::uint8_t> bytes;    ///< the raw little-endian bytes for any other dtype

  [[nodiscard]] bool is_f32() const noexcept { return dtype == "F32"; }
  [[nodiscard]] std::int64_t numel() const noexcept {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    return n;
  }
  /// A view for writing it back (F32 only).
  [[nodiscard]] tensor_view view() const { return {name, shape, data}; }
};

/// A safetensors file's contents.
struct file {
  std::vector<tensor> tensors;  ///< in the order of their data in the file
  string_map metadata;          ///< "__metadata__" (empty when absent)
  std::uint64_t header_bytes = 0;  ///< N, the JSON header's length (padding included)
  std::uint64_t data_bytes = 0;    ///< bytes of tensor data after the header

  [[nodiscard]] const tensor* find(std::string_view name) const noexcept {
    for (const tensor& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
};

/// Bytes per element of a dtype of the format, or 0 when unknown (or sub-byte).
[[nodiscard]] inline int dtype_size(std::string_view dtype) noexcept {
  static constexpr std::pair<std::string_view, int> sizes[] = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},     {"U32", 4},
      {"F32", 4},  {"F64", 8}, {"I64", 8}, {"U64", 8},     {"C64", 8}};
  for (const auto& [name, size] : sizes)
    if (name == dtype) return size;
  return 0;
}

/// safetensors' limit on the JSON header (as the reference implementation).
inline constexpr std::uint64_t max_header_bytes = 100'000'000;

// -------------------------------------------------------------- JSON --
namespace json {

/// A JSON syntax error at a byte offset of the text.
struct error : std::runtime_error {
  std::size_t offset;
  error(std::size_t at, const std::string& what) : std::runtime_error(what), offset(at) {}
};

struct member;

/// A parsed JSON value. Numbers keep their literal text.
struct value {
  enum class kind : std::uint8_t { null, boolean, number, string, array, object };
  kind type = kind::null;
  bool boolean = false;
  std::string text;             ///< string (decoded) or number literal
  std::vector<value> items;     ///< array
  std::vector<member> members;  ///< object, in document order (keys unique)
  std::size_t offset = 0;       ///< byte offset of the value in the text

  [[nodiscard]] const value* get(std::string_view key) const noexcept;
};

struct member {
  std::string key;
  std::size_t key_offset = 0;
  value val;
};

inline const value* value::get(std::string_view key) const noexcept {
  for (const member& m : members)
    if (m.key == key) return &m.val;
  return nullptr;
}

/// Offset of the first byte that is not valid UTF-8 (overlong forms,
/// surrogates and code points above U+10FFFF are invalid), or npos.
[[nodiscard]] inline std::size_t invalid_utf8_at(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0, min = 0;
    if ((c & 0xE0u) == 0xC0u) len = 2, cp = c & 0x1Fu, min = 0x80;
    else if ((c & 0xF0u) == 0xE0u) len = 3, cp = c & 0x0Fu, min = 0x800;
    else if ((c & 0xF8u) == 0xF0u) len = 4, cp = c & 0x07u, min = 0x10000;
    else return i;
    if (n - i < len) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned cc = p[i + k];
      if ((cc & 0xC0u) != 0x80u) return i;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// A strict RFC 8259 parser (UTF-8 text, unique object keys, nesting at most 64 deep).
class parser {
 public:
  explicit parser(std::string_view text) : s_(text) {}

  /// The one value of the text; only whitespace may follow it.
  value parse_document() {
    if (const std::size_t bad = invalid_utf8_at(s_); bad != std::string_view::npos)
      throw error(bad, "invalid UTF-8");
    skip_ws();
    value v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected " + describe() + " after the end of the JSON value");
    return v;
  }

 private:
  static constexpr int max_depth = 64;

  [[noreturn]] void fail(const std::string& what) const { throw error(pos_, what); }

  std::string describe() const {
    if (pos_ >= s_.size()) return "end of the header";
    const unsigned char c = static_cast<unsigned char>(s_[pos_]);
    if (c >= 0x20 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02X", c);
    return buf;
  }

  void skip_ws() noexcept {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }

  void expect(char c, const char* context) {
    if (pos_ >= s_.size() || s_[pos_] != c) fail(std::string("expected '") + c + "' " + context + ", found " + describe());
    ++pos_;
  }

  value parse_value(int depth) {
    if (depth > max_depth) fail("nesting deeper than 64 levels");
    if (pos_ >= s_.size()) fail("expected a value, found the end of the header");
    value v;
    v.offset = pos_;
    switch (s_[pos_]) {
      case '{': parse_object(v, depth); break;
      case '[': parse_array(v, depth); break;
      case '"':
        v.type = value::kind::string;
        v.text = parse_string();
        break;
      case 't': literal("true"), v.type = value::kind::boolean, v.boolean = true; break;
      case 'f': literal("false"), v.type = value::kind::boolean; break;
      case 'n': literal("null"); break;
      default:
        if (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) {
          v.type = value::kind::number;
          v.text = parse_number();
        } else {
          fail("expected a value, found " + describe());
        }
    }
    return v;
  }

  void literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) fail("invalid literal (expected '" + std::string(word) + "')");
    pos_ += word.size();
  }

  void parse_object(value& v, int depth) {
    v.type = value::kind::object;
    ++pos_;  // '{'
    std::set<std::string, std::less<>> keys;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return;
    }
    for (;;) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a string key, found " + describe());
      member m;
      m.key_offset = pos_;
      m.key = parse_string();
      if (!keys.insert(m.key).second) {
        pos_ = m.key_offset;
        fail("duplicate key \"" + m.key + "\"");
      }
      skip_ws();
      expect(':', "after an object key");
      skip_ws();
      m.val = parse_value(depth + 1);
      v.members.push_back(std::move(m));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      expect('}', "or ',' in an object");
      return;
    }
  }

  void parse_array(value& v, int depth) {
    v.type = value::kind::array;
    ++pos_;  // '['
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return;
    }
    for (;;) {
      skip_ws();
      v.items.push_back(parse_value(depth + 1));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      expect(']', "or ',' in an array");
      return;
    }
  }

  std::uint32_t hex4() {
    if (s_.size() - pos_ < 4) fail("truncated \\u escape");
    std::uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_];
      cp <<= 4;
      if (c >= '0' && c <= '9') cp |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') cp |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') cp |= static_cast<std::uint32_t>(c - 'A' + 10);
      else fail("invalid hex digit in a \\u escape");
      ++pos_;
    }
    return cp;
  }

  std::string parse_string() {
    ++pos_;  // '"'
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) fail("unterminated string");
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("unescaped control character in a string");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      const std::size_t escape_at = pos_;
      ++pos_;
      if (pos_ >= s_.size()) fail("unterminated string");
      switch (s_[pos_++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            pos_ = escape_at;
            fail("unpaired low surrogate in a \\u escape");
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") {
              pos_ = escape_at;
              fail("unpaired high surrogate in a \\u escape");
            }
            pos_ += 2;
            const std::uint32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) {
              pos_ = escape_at;
              fail("unpaired high surrogate in a \\u escape");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          pos_ = escape_at;
          fail("invalid escape in a string");
      }
    }
  }

  std::string parse_number() {
    const std::size_t start = pos_;
    auto digit = [&] { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; };
    if (s_[pos_] == '-') ++pos_;
    if (!digit()) fail("invalid number");
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (digit()) ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digit()) fail("invalid number (digits must follow '.')");
      while (digit()) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digit()) fail("invalid number (digits must follow the exponent)");
      while (digit()) ++pos_;
    }
    return std::string(s_.substr(start, pos_ - start));
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

/// Appends s as a JSON string literal (s must be valid UTF-8).
inline void write_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

/// A JSON array of strings, e.g. ["a", "b"].
inline std::string string_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    write_string(out, items[i]);
  }
  return out + "]";
}

}  // namespace json

// ----------------------------------------------------------- helpers --
namespace detail {

inline std::string errno_text(int err) { return std::system_category().message(err); }

inline std::string shape_text(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

inline std::uint64_t load_le64(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline void store_le64(unsigned char* p, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

/// Little-endian floats <-> native (a no-op on little-endian machines).
inline void swap_if_big_endian(float* p, std::size_t n) noexcept {
  if constexpr (std::endian::native == std::endian::big) {
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t u = std::bit_cast<std::uint32_t>(p[i]);
      u = (u >> 24) | ((u >> 8) & 0xFF00u) | ((u << 8) & 0xFF0000u) | (u << 24);
      p[i] = std::bit_cast<float>(u);
    }
  } else {
    (void)p, (void)n;
  }
}

/// One tensor's entry in a header, validated.
struct entry {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;
};

struct parsed_header {
  std::vector<entry> entries;  ///< sorted by data offset
  string_map metadata;
  std::uint64_t data_bytes = 0;  ///< bytes the header describes
};

/// Parses and validates a header. `label` names the file in messages
/// ("safetensors file '/x/y.safetensors'"); `available` is the number of data
/// bytes after the header (the truncation check).
inline parsed_header parse_header(std::string_view text, const std::string& label, std::uint64_t available) {
  auto bad = [&](std::size_t at, const std::string& what) -> std::runtime_error {
    return std::runtime_error("staticnet: " + label + ": bad header at byte " + std::to_string(at) +
                              " of the header (file offset " + std::to_string(at + 8) + "): " + what);
  };
  if (text.empty() || text[0] != '{')
    throw bad(0, "the header must be a JSON object starting with '{' (not a safetensors file?)");
  json::value root;
  try {
    root = json::parser(text).parse_document();
  } catch (const json::error& e) {
    throw std::runtime_error("staticnet: " + label + ": bad header JSON at byte " + std::to_string(e.offset) +
                             " of the header (file offset " + std::to_string(e.offset + 8) + "): " + e.what());
  }
  parsed_header h;
  auto as_uint = [&](const json::value& v, const std::string& what) -> std::uint64_t {
    if (v.type != json::value::kind::number || v.text.find_first_not_of("0123456789") != std::string::npos)
      throw bad(v.offset, what + " must be a non-negative integer");
    std::uint64_t out = 0;
    const auto [ptr, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), out);
    if (ec != std::errc() || ptr != v.text.data() + v.text.size()) throw bad(v.offset, what + " is too large");
    return out;
  };
  for (const json::member& m : root.members) {
    const json::value& v = m.val;
    if (m.key == "__metadata__") {
      if (v.type != json::value::kind::object) throw bad(v.offset, "\"__metadata__\" must be an object of strings");
      for (const json::member& kv : v.members) {
        if (kv.val.type != json::value::kind::string)
          throw bad(kv.val.offset, "metadata value of \"" + kv.key + "\" must be a string");
        h.metadata.emplace(kv.key, kv.val.text);
      }
      continue;
    }
    const std::string who = "tensor \"" + m.key + "\"";
    if (v.type != json::value::kind::object)
      throw bad(v.offset, who + ": expected an object with \"dtype\", \"shape\" and \"data_offsets\"");
    const json::value* dtype = v.get("dtype");
    const json::value* shape = v.get("shape");
    const json::value* offsets = v.get("data_offsets");
    if (!dtype || !shape || !offsets)
      throw bad(v.offset, who + " lacks \"" + std::string(!dtype ? "dtype" : !shape ? "shape" : "data_offsets") + "\"");
    if (dtype->type != json::value::kind::string) throw bad(dtype->offset, who + ": \"dtype\" must be a string");
    const int elem = dtype_size(dtype->text);
    if (elem == 0) throw bad(dtype->offset, who + " has dtype \"" + dtype->text + "\", which staticnet does not support");
    if (shape->type != json::value::kind::array) throw bad(shape->offset, who + ": \"shape\" must be an array");
    if (offsets->type != json::value::kind::array || offsets->items.size() != 2)
      throw bad(offsets->offset, who + ": \"data_offsets\" must be an array [begin, end]");
    entry e;
    e.name = m.key;
    e.dtype = dtype->text;
    std::uint64_t bytes = static_cast<std::uint64_t>(elem);
    for (const json::value& d : shape->items) {
      const std::uint64_t dim = as_uint(d, who + ": a dimension");
      if (dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
          (dim != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / dim))
        throw bad(d.offset, who + ": the shape is too large");
      bytes *= dim;
      e.shape.push_back(static_cast<std::int64_t>(dim));
    }
    e.begin = as_uint(offsets->items[0], who + ": data_offsets[0]");
    e.end = as_uint(offsets->items[1], who + ": data_offsets[1]");
    if (e.end < e.begin)
      throw bad(offsets->offset, who + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                                     "] end before they begin");
    if (e.end - e.begin != bytes)
      throw bad(offsets->offset, who + ": shape " + shape_text(e.shape) + " of " + e.dtype + " needs " +
                                     std::to_string(bytes) + " bytes but data_offsets [" + std::to_string(e.begin) +
                                     ", " + std::to_string(e.end) + "] hold " + std::to_string(e.end - e.begin));
    h.entries.push_back(std::move(e));
  }
  std::stable_sort(h.entries.begin(), h.entries.end(),
                   [](const entry& a, const entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  // The data must be covered exactly once: no overlap, no hole.
  std::uint64_t expected = 0;
  const entry* previous = nullptr;
  for (const entry& e : h.entries) {
    if (e.begin < expected)
      throw std::runtime_error("staticnet: " + label + ": the data of tensor \"" + e.name + "\" [" +
                               std::to_string(e.begin) + ", " + std::to_string(e.end) + ") overlaps tensor \"" +
                               previous->name + "\" [" + std::to_string(previous->begin) + ", " +
                               std::to_string(previous->end) + ")");
    if (e.begin > expected)
      throw std::runtime_error("staticnet: " + label + ": bytes [" + std::to_string(expected) + ", " +
                               std::to_string(e.begin) + ") of the data belong to no tensor (a hole before \"" +
                               e.name + "\"; safetensors data must be contiguous)");
    expected = e.end;
    previous = &e;
  }
  h.data_bytes = expected;
  if (expected > available)
    throw std::runtime_error("staticnet: " + label + " is truncated: header says " + std::to_string(expected) +
                             " bytes of data, file has " + std::to_string(available));
  if (expected < available)
    throw std::runtime_error("staticnet: " + label + ": header says " + std::to_string(expected) +
                             " bytes of data, file has " + std::to_string(available) + " (" +
                             std::to_string(available - expected) + " unexplained bytes at the end)");
  return h;
}

/// An open file descriptor, closed on scope exit.
class fd_guard {
 public:
  explicit fd_guard(int fd) noexcept : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const noexcept { return fd_; }
  /// Closes now; returns 0 or the errno of close().
  int close() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

/// Reads exactly n bytes at offset; returns the count read (< n only at end of file).
inline std::size_t pread_full(int fd, void* dst, std::size_t n, std::uint64_t offset, const std::string& label) {
  auto* p = static_cast<unsigned char*>(dst);
  std::size_t done = 0;
  while (done < n) {
    const std::size_t chunk = std::min<std::size_t>(n - done, std::size_t{1} << 30);
    const ssize_t r = ::pread(fd, p + done, chunk, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("staticnet: cannot read " + label + ": " + errno_text(errno));
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  return done;
}

inline file read_file(const std::filesystem::path& path, const std::string& label) {
  const int raw_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw_fd < 0) throw std::runtime_error("staticnet: cannot open " + label + ": " + errno_text(errno));
  fd_guard fd(raw_fd);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw std::runtime_error("staticnet: cannot stat " + label + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) throw std::runtime_error("staticnet: " + label + " is not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < 8)
    throw std::runtime_error("staticnet: " + label + " is truncated: it has " + std::to_string(size) +
                             " bytes, fewer than the 8-byte header length");
  unsigned char len_bytes[8];
  if (pread_full(fd.get(), len_bytes, 8, 0, label) != 8)
    throw std::runtime_error("staticnet: " + label + " is truncated while being read");
  const std::uint64_t n = load_le64(len_bytes);
  if (n > max_header_bytes)
    throw std::runtime_error("staticnet: " + label + ": the header length " + std::to_string(n) +
                             " exceeds safetensors' limit of " + std::to_string(max_header_bytes) +
                             " bytes (not a safetensors file?)");
  if (n > size - 8)
    throw std::runtime_error("staticnet: " + label + " is truncated: header length says " + std::to_string(n) +
                             " bytes of JSON, file has " + std::to_string(size - 8) + " after the length");
  std::string text(static_cast<std::size_t>(n), '\0');
  if (pread_full(fd.get(), text.data(), text.size(), 8, label) != text.size())
    throw std::runtime_error("staticnet: " + label + " is truncated while being read");
  parsed_header h = parse_header(text, label, size - 8 - n);
  file f;
  f.metadata = std::move(h.metadata);
  f.header_bytes = n;
  f.data_bytes = h.data_bytes;
  f.tensors.reserve(h.entries.size());
  const std::uint64_t base = 8 + n;
  for (entry& e : h.entries) {
    tensor t;
    t.name = std::move(e.name);
    t.dtype = std::move(e.dtype);
    t.shape = std::move(e.shape);
    const auto bytes = static_cast<std::size_t>(e.end - e.begin);
    void* dst = nullptr;
    if (t.dtype == "F32") {
      t.data.resize(bytes / 4);
      dst = t.data.data();
    } else {
      t.bytes.resize(bytes);
      dst = t.bytes.data();
    }
    if (bytes && pread_full(fd.get(), dst, bytes, base + e.begin, label) != bytes)
      throw std::runtime_error("staticnet: " + label + " is truncated: it shrank while being read");
    swap_if_big_endian(t.data.data(), t.data.size());
    f.tensors.push_back(std::move(t));
  }
  return f;
}

/// Writes all of [p, p + n) to fd; returns 0 or an errno.
inline int write_full(int fd, const void* p, std::size_t n) noexcept {
  const auto* c = static_cast<const unsigned char*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd, c, std::min<std::size_t>(n, std::size_t{1} << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;
    c += w;
    n -= static_cast<std::size_t>(w);
  }
  return 0;
}

/// Checks the tensors and metadata and builds the padded JSON header.
inline std::string build_header(std::span<const tensor_view> tensors, const string_map& metadata) {
  auto check_utf8 = [](std::string_view s, const char* what) {
    if (json::invalid_utf8_at(s) != std::string_view::npos)
      throw std::invalid_argument(std::string("staticnet: safetensors::write: ") + what + " is not valid UTF-8");
  };
  std::string h = "{";
  if (!metadata.empty()) {
    h += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      check_utf8(k, "a metadata key");
      check_utf8(v, ("the metadata value of \"" + k + "\"").c_str());
      if (!first) h += ',';
      first = false;
      json::write_string(h, k);
      h += ':';
      json::write_string(h, v);
    }
    h += '}';
  }
  std::set<std::string_view> names;
  std::uint64_t offset = 0;
  for (const tensor_view& t : tensors) {
    check_utf8(t.name, "a tensor name");
    if (t.name == "__metadata__")
      throw std::invalid_argument("staticnet: safetensors::write: \"__metadata__\" cannot name a tensor");
    if (!names.insert(t.name).second)
      throw std::invalid_argument("staticnet: safetensors::write: two tensors named \"" + t.name + "\"");
    std::uint64_t numel = 1;
    for (std::int64_t d : t.shape) {
      if (d < 0)
        throw std::invalid_argument("staticnet: safetensors::write: tensor \"" + t.name + "\" has a negative dimension");
      numel *= static_cast<std::uint64_t>(d);
    }
    if (numel != t.data.size())
      throw std::invalid_argument("staticnet: safetensors::write: tensor \"" + t.name + "\" has shape " +
                                  shape_text(t.shape) + " (" + std::to_string(numel) + " values) but " +
                                  std::to_string(t.data.size()) + " values");
    if (h.size() > 1) h += ',';
    json::write_string(h, t.name);
    h += ":{\"dtype\":\"F32\",\"shape\":[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) {
      if (i) h += ',';
      h += std::to_string(t.shape[i]);
    }
    const std::uint64_t end = offset + 4 * numel;
    h += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
  }
  h += '}';
  h.append((8 - h.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  return h;
}

}  // namespace detail

/// Writes tensors (F32) and metadata to `path` as a safetensors file, in the
/// order given, atomically: the bytes go to "<path>.tmp-<pid>" in the same
/// directory, are fsync'ed, and the temporary file is renamed over `path`, so
/// a crash leaves either the previous file or the new one. Throws
/// std::invalid_argument on bad input (duplicate names, a shape that does not
/// match the data, names that are not UTF-8) and std::runtime_error, naming
/// the path and the system's reason, on any I/O failure (the temporary file
/// is removed then).
inline void write(const std::filesystem::path& path, std::span<const tensor_view> tensors,
                  const string_map& metadata = {}) {
  const std::string header = detail::build_header(tensors, metadata);
  std::filesystem::path tmp = path;
  tmp += ".tmp-" + std::to_string(static_cast<long long>(::getpid()));
  const std::string what = "staticnet: cannot write '" + path.string() + "'";
  const int raw_fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (raw_fd < 0)
    throw std::runtime_error(what + ": cannot create the temporary file '" + tmp.string() + "': " +
                             detail::errno_text(errno));
  detail::fd_guard fd(raw_fd);
  auto fail = [&](const std::string& step, int err) -> std::runtime_error {
    if (fd.get() >= 0) fd.close();
    ::unlink(tmp.c_str());
    return std::runtime_error(what + ": " + step + ": " + detail::errno_text(err));
  };
  unsigned char len[8];
  detail::store_le64(len, header.size());
  int err = detail::write_full(fd.get(), len, 8);
  if (!err) err = detail::write_full(fd.get(), header.data(), header.size());
  std::vector<float> swapped;
  for (std::size_t i = 0; i < tensors.size() && !err; ++i) {
    std::span<const float> d = tensors[i].data;
    if constexpr (std::endian::native == std::endian::big) {
      swapped.assign(d.begin(), d.end());
      detail::swap_if_big_endian(swapped.data(), swapped.size());
      d = swapped;
    }
    if (!d.empty()) err = detail::write_full(fd.get(), d.data(), d.size_bytes());
  }
  if (err) throw fail("writing '" + tmp.string() + "' failed", err);
  if (::fsync(fd.get()) != 0) throw fail("fsync of '" + tmp.string() + "' failed", errno);
  if (const int e = fd.close()) throw fail("closing '" + tmp.string() + "' failed", e);
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw fail("renaming '" + tmp.string() + "' to it failed", errno);
  // Make the rename itself durable. Best effort: some file systems cannot fsync a directory.
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    detail::fd_guard dir_fd(dfd);
    if (::fsync(dfd) != 0 && errno != EINVAL && errno != ENOTSUP && errno != EROFS)
      throw std::runtime_error(what + ": fsync of the directory '" + dir.string() + "' failed: " +
                               detail::errno_text(errno));
  }
}

inline void write(const std::filesystem::path& path, std::initializer_list<tensor_view> tensors,
                  const string_map& metadata = {}) {
  write(path, std::span<const tensor_view>(tensors.begin(), tensors.size()), metadata);
}

/// Reads and validates a whole safetensors file. Throws std::runtime_error
/// naming the file for a missing or unreadable file, a truncated one, bad
/// header JSON (with its byte offset), unknown dtypes, and offsets that
/// overlap, leave holes or do not match the shapes.
[[nodiscard]] inline file read(const std::filesystem::path& path) {
  return detail::read_file(path, "safetensors file '" + path.string() + "'");
}

}  // namespace safetensors

// ------------------------------------------------------- architecture --
namespace checkpoint_detail {

inline std::string shape_text(const shape& s) {
  if (s.flat) return std::to_string(s.c);
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

inline std::string pair_text(int a, int b) { return std::to_string(a) + "x" + std::to_string(b); }

inline std::uint64_t fnv1a64(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

inline std::vector<std::string_view> lines_of(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const std::size_t nl = s.find('\n');
    out.push_back(s.substr(0, nl));
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return out;
}

template <class T>
std::string number_text(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else {
    char buf[64];
    const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    (void)ec;
    return std::string(buf, ptr);
  }
}

template <class T>
std::optional<T> parse_number(std::string_view s) {
  T v{};
  if constexpr (std::is_same_v<T, bool>) {
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
    return std::nullopt;
  } else {
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
    return v;
  }
}

}  // namespace checkpoint_detail

/// A line-per-op description of a network: the input, then every op with its
/// PyTorch name, kind, shapes and geometry (kernel, stride, padding,
/// dilation, groups, bias, pooling modes, dropout probability), block and
/// branch structure: networks that differ in any of these, even without a
/// difference in their parameters' names and shapes, have different descriptions.
template <network Net>
[[nodiscard]] std::string architecture_description() {
  using checkpoint_detail::pair_text;
  using checkpoint_detail::shape_text;
  constexpr auto& pl = Net::plan;
  const std::vector<std::string> names = Model<Net, 1>::layer_names();
  std::string out = "input " + shape_text(pl.input) + "\n";
  for (std::size_t i = 0; i < pl.size; ++i) {
    const plan_row& r = pl.rows[i];
    const geometry& g = r.f.g;
    std::string line;
    switch (r.desc.kind) {
      case op_kind::block_begin: line = "block " + std::string(r.desc.name.view()); break;
      case op_kind::block_end: line = "end block"; break;
      case op_kind::branch_begin: line = "branches " + std::to_string(r.desc.branches); break;
      case op_kind::branch_next: line = "next branch"; break;
      case op_kind::branch_end:
        line = std::string(r.desc.merge == merge_kind::add ? "merge add " : "merge concat ") + "-> " +
               shape_text(r.out);
        break;
      default: {
        line = names[i] + " " + std::string(kind_name(r.desc.kind)) + " " + shape_text(r.in) + " -> " +
               shape_text(r.out);
        switch (r.desc.kind) {
          case op_kind::conv:
            line += " kernel=" + pair_text(g.kh, g.kw) + " stride=" + pair_text(g.sh, g.sw) +
                    " padding=" + pair_text(g.ph, g.pw) + " dilation=" + pair_text(g.dh, g.dw) +
                    " groups=" + std::to_string(r.f.groups) + " bias=" + (r.f.bias ? "true" : "false");
            break;
          case op_kind::maxpool:
          case op_kind::avgpool:
            line += " kernel=" + pair_text(g.kh, g.kw) + " stride=" + pair_text(g.sh, g.sw) +
                    " padding=" + pair_text(g.ph, g.pw) + " dilation=" + pair_text(g.dh, g.dw) +
                    " ceil_mode=" + (r.desc.p.ceil_mode ? "true" : "false");
            if (r.desc.kind == op_kind::avgpool)
              line += std::string(" count_include_pad=") + (r.desc.p.count_include_pad ? "true" : "false");
            break;
          case op_kind::linear: line += std::string(" bias=") + (r.f.bias ? "true" : "false"); break;
          case op_kind::dropout: line += " p=" + std::to_string(r.desc.drop.ppm) + "e-6"; break;
          default: break;
        }
      }
    }
    out += line + "\n";
  }
  return out;
}

/// "staticnet-v1-<16 hex digits>": a hash of architecture_description<Net>().
template <network Net>
[[nodiscard]] std::string architecture_fingerprint() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(checkpoint_detail::fnv1a64(architecture_description<Net>())));
  return std::string("staticnet-v1-") + buf;
}

// -------------------------------------------------------- checkpoints --

/// What a checkpoint carries besides the model: extra tensors (optimizer
/// state, ...) and string metadata (epoch, step, schedule state, seeds, ...).
/// The tensors are views: their buffers must live until save_checkpoint returns.
struct checkpoint_extras {
  std::vector<safetensors::tensor_view> tensors;
  safetensors::string_map metadata;

  void add(std::string name, std::vector<std::int64_t> shape, std::span<const float> data) {
    tensors.push_back({std::move(name), std::move(shape), data});
  }
  /// Sets a metadata value: a string as is, a number in its shortest
  /// round-trip form, a bool as "true" / "false".
  template <class T>
  void set(std::string key, const T& value) {
    if constexpr (std::is_arithmetic_v<T>)
      metadata[std::move(key)] = checkpoint_detail::number_text(value);
    else
      metadata[std::move(key)] = std::string(value);
  }
};

struct load_options {
  /// Refuse a checkpoint whose architecture fingerprint differs from the model's
  /// (when the checkpoint has one) even though names and shapes match.
  bool check_fingerprint = true;
};

/// What load_checkpoint returns besides filling the model.
struct checkpoint_info {
  safetensors::string_map metadata;          ///< everything in "__metadata__"
  std::vector<safetensors::tensor> extras;   ///< the extra tensors, in file order
  std::string fingerprint;                   ///< the checkpoint's fingerprint ("" when it has none)
  bool fingerprint_checked = false;          ///< compared with the model's and equal
  std::vector<std::string> ignored;          ///< tensors skipped (PyTorch's num_batches_tracked)

  [[nodiscard]] const safetensors::tensor* extra(std::string_view name) const noexcept {
    for (const auto& t : extras)
      if (t.name == name) return &t;
    return nullptr;
  }
  [[nodiscard]] std::optional<std::string> get(std::string_view key) const {
    const auto it = metadata.find(std::string(key));
    if (it == metadata.end()) return std::nullopt;
    return it->second;
  }
  /// A metadata value as a number (or bool); nullopt when absent, throws
  /// std::runtime_error when present but not a number of type T.
  template <class T>
  [[nodiscard]] std::optional<T> number(std::string_view key) const {
    const auto s = get(key);
    if (!s) return std::nullopt;
    if (auto v = checkpoint_detail::parse_number<T>(*s)) return v;
    throw std::runtime_error("staticnet: checkpoint metadata \"" + std::string(key) + "\" = \"" + *s +
                             "\" is not a valid value of the expected type");
  }
};

namespace checkpoint_detail {

inline constexpr std::string_view reserved_prefix = "staticnet.";
inline constexpr const char* key_fingerprint = "staticnet.fingerprint";
inline constexpr const char* key_architecture = "staticnet.architecture";
inline constexpr const char* key_extras = "staticnet.extra_tensors";
inline constexpr const char* key_version = "staticnet.version";
inline constexpr const char* key_bn_momentum = "staticnet.bn_momentum";
inline constexpr const char* key_bn_eps = "staticnet.bn_eps";
inline constexpr const char* key_dropout_seed = "staticnet.dropout_seed";
inline constexpr const char* key_dropout_steps = "staticnet.dropout_steps";

inline std::vector<std::int64_t> to64(const std::vector<int>& s) { return {s.begin(), s.end()}; }

inline std::string list_text(const std::vector<std::string>& items, std::size_t limit = 40) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < limit; ++i) {
    if (i) out += ", ";
    out += items[i];
  }
  if (items.size() > limit) out += ", ... (" + std::to_string(items.size() - limit) + " more)";
  return out;
}

template <class T>
T required_number(const safetensors::string_map& meta, const char* key, const std::string& label) {
  const auto it = meta.find(key);
  const auto v = it == meta.end() ? std::nullopt : parse_number<T>(it->second);
  if (!v)
    throw std::runtime_error("staticnet: " + label + ": metadata \"" + key + "\" is " +
                             (it == meta.end() ? std::string("missing") : "\"" + it->second + "\", not a valid value"));
  return *v;
}

}  // namespace checkpoint_detail

/// Saves the model's parameters and buffers (PyTorch names and shapes, in
/// named_tensors() order), then the extra tensors, with the extras' metadata
/// plus staticnet's own ("staticnet.fingerprint", ".architecture", ".version",
/// ".bn_momentum", ".bn_eps", ".extra_tensors", dropout state) and "format":
/// "pt" (unless given), atomically (see safetensors::write).
template <network Net, int MaxBatch>
void save_checkpoint(const std::filesystem::path& path, Model<Net, MaxBatch>& model,
                     const checkpoint_extras& extras = {}) {
  namespace cd = checkpoint_detail;
  safetensors::string_map meta = extras.metadata;
  for (const auto& [key, value] : meta)
    if (std::string_view(key).starts_with(cd::reserved_prefix))
      throw std::invalid_argument("staticnet: save_checkpoint: metadata key \"" + key +
                                  "\" is reserved (\"staticnet.*\" keys are written by staticnet)");
  std::vector<safetensors::tensor_view> views;
  const std::vector<named_tensor> named = model.named_tensors();
  views.reserve(named.size() + extras.tensors.size());
  for (const named_tensor& t : named) views.push_back({t.name, cd::to64(t.shape), t.data});
  std::vector<std::string> extra_names;
  for (const auto& e : extras.tensors) {
    views.push_back(e);
    extra_names.push_back(e.name);
  }
  meta.emplace("format", "pt");
  meta[cd::key_version] = STATICNET_VERSION;
  meta[cd::key_fingerprint] = architecture_fingerprint<Net>();
  meta[cd::key_architecture] = architecture_description<Net>();
  meta[cd::key_bn_momentum] = cd::number_text(model.bn_momentum);
  meta[cd::key_bn_eps] = cd::number_text(model.bn_eps);
  if (!extra_names.empty()) meta[cd::key_extras] = safetensors::json::string_array(extra_names);
  if constexpr (requires { model.dropout_seed(); model.dropout_steps(); }) {
    meta[cd::key_dropout_seed] = cd::number_text(model.dropout_seed());
    meta[cd::key_dropout_steps] = cd::number_text(model.dropout_steps());
  }
  safetensors::write(path, views, meta);
}

/// Loads a checkpoint into the model. Everything is read and checked before
/// the model is touched, so a failed load leaves it unchanged: every model
/// tensor must be present with its shape and dtype F32, the checkpoint may
/// hold no other tensors than the extras it lists in "staticnet.extra_tensors"
/// (and PyTorch's BatchNorm "num_batches_tracked", ignored), and its
/// architecture fingerprint, when present, must equal the model's. A mismatch
/// throws std::runtime_error listing the missing names, the unexpected names
/// and the shape mismatches ("C2.3.weight: checkpoint [64, 32, 1, 1], model
/// [64, 64, 1, 1]"). Also restores bn_momentum, bn_eps and the dropout state
/// when the checkpoint has them. Returns the metadata and the extra tensors.
template <network Net, int MaxBatch>
checkpoint_info load_checkpoint(const std::filesystem::path& path, Model<Net, MaxBatch>& model,
                                const load_options& options = {}) {
  namespace cd = checkpoint_detail;
  const std::string label = "checkpoint '" + path.string() + "'";
  safetensors::file f = safetensors::detail::read_file(path, label);

  // The extras the checkpoint declares.
  std::set<std::string, std::less<>> extra_names;
  if (const auto it = f.metadata.find(cd::key_extras); it != f.metadata.end()) {
    safetensors::json::value list;
    try {
      list = safetensors::json::parser(it->second).parse_document();
    } catch (const safetensors::json::error&) {
    }
    if (list.type != safetensors::json::value::kind::array ||
        !std::all_of(list.items.begin(), list.items.end(),
                     [](const auto& v) { return v.type == safetensors::json::value::kind::string; }))
      throw std::runtime_error("staticnet: " + label + ": metadata \"" + cd::key_extras +
                               "\" is not a JSON array of strings");
    for (const auto& v : list.items) {
      if (!f.find(v.text))
        throw std::runtime_error("staticnet: " + label + ": metadata lists the extra tensor \"" + v.text +
                                 "\", which the file does not contain");
      extra_names.insert(v.text);
    }
  }

  // Names, shapes and dtypes against the model.
  std::vector<named_tensor> named = model.named_tensors();
  std::map<std::string_view, const safetensors::tensor*> by_name;
  for (const auto& t : f.tensors) by_name.emplace(t.name, &t);
  std::set<std::string_view> model_names;
  std::vector<std::string> missing, unexpected, mismatched, ignored;
  std::vector<const safetensors::tensor*> sources;
  sources.reserve(named.size());
  for (const named_tensor& t : named) {
    model_names.insert(t.name);
    const auto it = by_name.find(t.name);
    if (it == by_name.end()) {
      missing.push_back(t.name);
      sources.push_back(nullptr);
      continue;
    }
    const safetensors::tensor& s = *it->second;
    const std::vector<std::int64_t> want = cd::to64(t.shape);
    if (s.shape != want)
      mismatched.push_back(t.name + ": checkpoint " + safetensors::detail::shape_text(s.shape) + ", model " +
                           safetensors::detail::shape_text(want));
    else if (!s.is_f32())
      mismatched.push_back(t.name + ": checkpoint dtype " + s.dtype + ", model F32");
    sources.push_back(&s);
  }
  for (const auto& t : f.tensors) {
    if (model_names.count(t.name) || extra_names.count(t.name)) continue;
    constexpr std::string_view nbt = ".num_batches_tracked";
    const std::string_view name = t.name;
    if (name.ends_with(nbt) && t.numel() == 1 &&
        model_names.count(std::string(name.substr(0, name.size() - nbt.size())) + ".running_mean")) {
      ignored.push_back(t.name);
      continue;
    }
    unexpected.push_back(t.name);
  }
  const std::string model_fp = architecture_fingerprint<Net>();
  const auto fp_it = f.metadata.find(cd::key_fingerprint);
  const std::string file_fp = fp_it == f.metadata.end() ? "" : fp_it->second;
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string msg = "staticnet: " + label + " does not match the model (a checkpoint of another architecture?):";
    if (!missing.empty())
      msg += "\n  missing from the checkpoint (" + std::to_string(missing.size()) + "): " + cd::list_text(missing);
    if (!unexpected.empty())
      msg += "\n  unexpected in the checkpoint (" + std::to_string(unexpected.size()) +
             "): " + cd::list_text(unexpected);
    if (!mismatched.empty()) {
      msg += "\n  shape mismatches (" + std::to_string(mismatched.size()) + "):";
      for (std::size_t i = 0; i < mismatched.size() && i < 40; ++i) msg += "\n    " + mismatched[i];
      if (mismatched.size() > 40) msg += "\n    ... (" + std::to_string(mismatched.size() - 40) + " more)";
    }
    if (!file_fp.empty() && file_fp != model_fp)
      msg += "\n  architecture fingerprints: checkpoint " + file_fp + ", model " + model_fp;
    throw std::runtime_error(msg);
  }

  // Same names and shapes; the fingerprint also covers geometry without parameters.
  checkpoint_info info;
  info.fingerprint = file_fp;
  if (!file_fp.empty() && options.check_fingerprint) {
    if (file_fp != model_fp) {
      std::string msg = "staticnet: " + label + " was saved from a different architecture: fingerprint " + file_fp +
                        ", model " + model_fp + " (the tensor names and shapes match)";
      if (const auto a = f.metadata.find(cd::key_architecture); a != f.metadata.end()) {
        const std::string mine = architecture_description<Net>();
        const auto theirs_lines = cd::lines_of(a->second);
        const auto mine_lines = cd::lines_of(mine);
        for (std::size_t i = 0; i < std::max(theirs_lines.size(), mine_lines.size()); ++i) {
          const std::string_view t = i < theirs_lines.size() ? theirs_lines[i] : "(nothing)";
          const std::string_view m = i < mine_lines.size() ? mine_lines[i] : "(nothing)";
          if (t != m) {
            msg += "; first difference, line " + std::to_string(i + 1) + ":\n  checkpoint: " + std::string(t) +
                   "\n  model:      " + std::string(m);
            break;
          }
        }
      }
      msg += "\n(load_options{.check_fingerprint = false} loads it anyway)";
      throw std::runtime_error(msg);
    }
    info.fingerprint_checked = true;
  }

  // Model settings recorded by save_checkpoint, parsed before anything changes.
  std::optional<float> bn_momentum, bn_eps;
  if (f.metadata.count(cd::key_bn_momentum)) bn_momentum = cd::required_number<float>(f.metadata, cd::key_bn_momentum, label);
  if (f.metadata.count(cd::key_bn_eps)) bn_eps = cd::required_number<float>(f.metadata, cd::key_bn_eps, label);
  std::optional<std::pair<std::uint64_t, std::uint64_t>> dropout;
  if (f.metadata.count(cd::key_dropout_seed) && f.metadata.count(cd::key_dropout_steps))
    dropout.emplace(cd::required_number<std::uint64_t>(f.metadata, cd::key_dropout_seed, label),
                    cd::required_number<std::uint64_t>(f.metadata, cd::key_dropout_steps, label));

  // Commit.
  for (std::size_t i = 0; i < named.size(); ++i)
    if (!sources[i]->data.empty())
      std::memcpy(named[i].data.data(), sources[i]->data.data(), sources[i]->data.size() * sizeof(float));
  if (bn_momentum) model.bn_momentum = *bn_momentum;
  if (bn_eps) model.bn_eps = *bn_eps;
  if constexpr (requires { model.set_dropout_state(std::uint64_t{}, std::uint64_t{}); }) {
    if (dropout) model.set_dropout_state(dropout->first, dropout->second);
  }
  info.metadata = std::move(f.metadata);
  info.ignored = std::move(ignored);
  for (auto& t : f.tensors)
    if (extra_names.count(t.name)) info.extras.push_back(std::move(t));
  return info;
}

// --------------------------------------------------- optimizer state --
//
// Per parameter, under PyTorch's state names: SGD "optimizer.momentum_buffer.<param>",
// Adam / AdamW "optimizer.exp_avg.<param>", "optimizer.exp_avg_sq.<param>"
// (and "optimizer.max_exp_avg_sq.<param>" with amsgrad); the hyperparameters
// and the step count as metadata "optimizer.*".

namespace checkpoint_detail {

template <class O>
concept sgd_like = requires(O& o) {
  o.momentum_buffer();
  o.started();
  o.set_started(true);
  o.options.lr;
  o.options.momentum;
  o.options.dampening;
  o.options.weight_decay;
  o.options.nesterov;
};

template <class O>
concept adam_like = requires(O& o) {
  o.exp_avg();
  o.exp_avg_sq();
  o.max_exp_avg_sq();
  o.step_count();
  o.set_step_count(std::int64_t{});
  O::name;
  o.options.lr;
  o.options.beta1;
  o.options.beta2;
  o.options.eps;
  o.options.weight_decay;
  o.options.amsgrad;
};

/// The optimizer's hyperparameters as (key, field) pairs, applied to f(key, field&).
template <class O, class Options, class F>
void for_each_option(Options& o, F&& f) {
  f("lr", o.lr);
  if constexpr (sgd_like<O>) {
    f("momentum", o.momentum);
    f("dampening", o.dampening);
    f("weight_decay", o.weight_decay);
    f("nesterov", o.nesterov);
  } else {
    f("beta1", o.beta1);
    f("beta2", o.beta2);
    f("eps", o.eps);
    f("weight_decay", o.weight_decay);
    f("amsgrad", o.amsgrad);
    if constexpr (requires { o.maximize; }) f("maximize", o.maximize);
  }
}

template <class O>
std::string optimizer_name() {
  if constexpr (sgd_like<O>) return "SGD";
  else return O::name;
}

/// (state name, buffer) pairs of the optimizer's per-parameter state.
/// With Adam's amsgrad as in `options`.
template <class O>
std::vector<std::pair<std::string, std::span<float>>> optimizer_buffers(O& opt, const decltype(opt.options)& options) {
  if constexpr (sgd_like<O>) {
    (void)options;
    return {{"momentum_buffer", opt.momentum_buffer()}};
  } else {
    std::vector<std::pair<std::string, std::span<float>>> out{{"exp_avg", opt.exp_avg()},
                                                               {"exp_avg_sq", opt.exp_avg_sq()}};
    if (options.amsgrad) out.emplace_back("max_exp_avg_sq", opt.max_exp_avg_sq());
    return out;
  }
}

}  // namespace checkpoint_detail

/// Adds an optimizer's state (sn::SGD, sn::Adam, sn::AdamW) to the extras:
/// per-parameter tensors named after PyTorch's state and the parameter
/// ("optimizer.momentum_buffer.C1.0.weight"), and metadata "optimizer.type",
/// "optimizer.<hyperparameter>", "optimizer.started" (SGD) or "optimizer.step"
/// (Adam). The tensors view the optimizer's buffers.
template <network Net, int MaxBatch, class Optimizer>
  requires checkpoint_detail::sgd_like<Optimizer> || checkpoint_detail::adam_like<Optimizer>
void add_optimizer_state(checkpoint_extras& extras, Model<Net, MaxBatch>& model, Optimizer& opt) {
  namespace cd = checkpoint_detail;
  const auto buffers = cd::optimizer_buffers(opt, opt.options);
  for (const auto& [state, buf] : buffers)
    if (buf.size() != model.parameters().size())
      throw std::invalid_argument("staticnet: add_optimizer_state: the optimizer's " + state + " holds " +
                                  std::to_string(buf.size()) + " values, the model has " +
                                  std::to_string(model.parameters().size()) + " parameters");
  for (const named_tensor& t : model.named_tensors()) {
    if (!t.trainable) continue;
    const auto offset = static_cast<std::size_t>(t.data.data() - model.params());
    for (const auto& [state, buf] : buffers)
      extras.add("optimizer." + state + "." + t.name, cd::to64(t.shape), buf.subspan(offset, t.data.size()));
  }
  extras.set("optimizer.type", cd::optimizer_name<Optimizer>());
  cd::for_each_option<Optimizer>(opt.options, [&](const char* key, const auto& v) { extras.set(std::string("optimizer.") + key, v); });
  if constexpr (cd::sgd_like<Optimizer>)
    extras.set("optimizer.started", opt.started());
  else
    extras.set("optimizer.step", opt.step_count());
}

/// Restores what add_optimizer_state saved. Returns false (changing nothing)
/// when the checkpoint has no optimizer state; throws std::runtime_error
/// (changing nothing) when it is another optimizer's or does not fit.
template <network Net, int MaxBatch, class Optimizer>
  requires checkpoint_detail::sgd_like<Optimizer> || checkpoint_detail::adam_like<Optimizer>
bool restore_optimizer_state(const checkpoint_info& info, Model<Net, MaxBatch>& model, Optimizer& opt) {
  namespace cd = checkpoint_detail;
  const auto type = info.get("optimizer.type");
  if (!type) return false;
  const std::string name = cd::optimizer_name<Optimizer>();
  const std::string where = "staticnet: restore_optimizer_state: ";
  if (*type != name)
    throw std::runtime_error(where + "the checkpoint holds " + *type + " state, the optimizer is " + name);

  // Parse and check everything before changing anything.
  auto options = opt.options;
  cd::for_each_option<Optimizer>(options, [&](const char* key, auto& field) {
    using T = std::remove_reference_t<decltype(field)>;
    const std::string k = std::string("optimizer.") + key;
    const auto s = info.get(k);
    if (!s) return;  // hand-written checkpoints: keep the current value
    const auto v = cd::parse_number<T>(*s);
    if (!v) throw std::runtime_error(where + "metadata \"" + k + "\" = \"" + *s + "\" is not valid");
    field = *v;
  });
  std::int64_t steps = 0;
  bool started = false;
  if constexpr (cd::sgd_like<Optimizer>) {
    const auto v = info.number<bool>("optimizer.started");
    if (!v) throw std::runtime_error(where + "metadata \"optimizer.started\" is missing");
    started = *v;
  } else {
    const auto v = info.number<std::int64_t>("optimizer.step");
    if (!v || *v < 0) throw std::runtime_error(where + "metadata \"optimizer.step\" is missing or negative");
    steps = *v;
    if (options.amsgrad && opt.max_exp_avg_sq().empty())
      throw std::runtime_error(where + "the checkpoint was saved with amsgrad, the optimizer was constructed without it");
  }
  const auto buffers = cd::optimizer_buffers(opt, options);
  for (const auto& [state, buf] : buffers)
    if (buf.size() != model.parameters().size())
      throw std::runtime_error(where + "the optimizer's " + state + " holds " + std::to_string(buf.size()) +
                               " values, the model has " + std::to_string(model.parameters().size()) + " parameters");
  std::vector<std::string> problems;
  std::vector<std::pair<std::span<float>, const safetensors::tensor*>> copies;
  for (const named_tensor& t : model.named_tensors()) {
    if (!t.trainable) continue;
    const auto offset = static_cast<std::size_t>(t.data.data() - model.params());
    for (const auto& [state, buf] : buffers) {
      const std::string n = "optimizer." + state + "." + t.name;
      const safetensors::tensor* s = info.extra(n);
      if (!s) problems.push_back(n + ": missing");
      else if (s->shape != cd::to64(t.shape) || !s->is_f32())
        problems.push_back(n + ": checkpoint " + s->dtype + " " + safetensors::detail::shape_text(s->shape) +
                           ", optimizer F32 " + safetensors::detail::shape_text(cd::to64(t.shape)));
      else copies.emplace_back(buf.subspan(offset, t.data.size()), s);
    }
  }
  if (!problems.empty())
    throw std::runtime_error(where + "the checkpoint's " + name + " state does not fit:\n  " +
                             cd::list_text(problems, 20));

  // Commit.
  for (const auto& [dst, src] : copies) std::memcpy(dst.data(), src->data.data(), dst.size_bytes());
  opt.options = options;
  if constexpr (cd::sgd_like<Optimizer>) {
    opt.set_started(started);
    (void)steps;
  } else {
    opt.set_step_count(steps);
    (void)started;
  }
  return true;
}

}  // namespace staticnet
