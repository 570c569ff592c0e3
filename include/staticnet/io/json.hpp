// staticnet/io/json.hpp: the small JSON reader and writer behind the
// safetensors header (and anything else that reads or writes JSON text).
//
//   sn::json::value v = sn::json::parser(text).parse_document();  // throws sn::json::error with the byte offset
//   std::string s; sn::json::write_string(s, "caf\u00e9");            // a quoted, escaped JSON string
//
// Strict RFC 8259 parsing (UTF-8 checked, duplicate keys kept in order, depth
// limited); numbers are kept as their text.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>
#include <charconv>
#include <limits>
#include <set>
#include <algorithm>
#include <cstring>

namespace staticnet::json {

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

/// A strict RFC 8259 parser (UTF-8 text, unique object keys, nesting at most
/// 64 deep, at most max_values values: each costs about 100 bytes of memory,
/// so a text of many tiny values cannot make the tree hundreds of times its size).
class parser {
 public:
  explicit parser(std::string_view text, std::size_t max_values = static_cast<std::size_t>(-1))
      : s_(text), max_values_(max_values) {}

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
    if (++values_ > max_values_) fail("more than " + std::to_string(max_values_) + " JSON values");
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
  std::size_t max_values_ = static_cast<std::size_t>(-1);
  std::size_t values_ = 0;
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

}  // namespace staticnet::json
