// staticnet/io/safetensors.hpp: reading and writing safetensors files.
//
//   sn::safetensors::write(path, {{"w", {2, 3}, span}}, {{"note", "..."}});   // atomic
//   sn::safetensors::file f = sn::safetensors::read(path);                   // validated
//
// The file is a safetensors file (https://github.com/huggingface/safetensors):
// an 8-byte little-endian header length N, N bytes of JSON
//   {"<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"<key>": "<value>", ...}}
// (padded with spaces so the data starts 8-byte aligned), then the tensors'
// little-endian bytes, contiguous. Parameter and buffer names and shapes are
// PyTorch's (engine/tensor_names.hpp), so `safetensors.torch.load_file` or
// tools/checkpoint_to_pytorch.py give a state_dict for the equivalent
// nn.Module. staticnet writes F32 only; the reader accepts every fixed-size
// dtype of the format (non-F32 tensors are kept as raw bytes) and refuses
// malformed files with a message naming the file and the problem.
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
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "json.hpp"

namespace staticnet::safetensors {

namespace json = staticnet::json;  // the JSON layer (was safetensors::json before 0.2)

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

/// The most JSON values a header may hold (about 300k tensors; it bounds the
/// parsed header's memory at about 200 MB whatever its text).
inline constexpr std::size_t max_header_values = 2'000'000;

/// The most dimensions a tensor of a file may have.
inline constexpr std::size_t max_rank = 64;

/// safetensors' limit on the JSON header (as the reference implementation).
inline constexpr std::uint64_t max_header_bytes = 100'000'000;


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
    root = json::parser(text, max_header_values).parse_document();
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
    if (shape->items.size() > max_rank)
      throw bad(shape->offset, who + ": the shape has " + std::to_string(shape->items.size()) +
                                   " dimensions (at most " + std::to_string(max_rank) + " are supported)");
    // Every prefix product of the dimensions must fit in int64 (tensor::numel
    // multiplies left to right), even when a later dimension is 0, and so must
    // the byte count. After a 0 every prefix product is 0.
    constexpr auto max_count = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    std::uint64_t count = 1;
    for (const json::value& d : shape->items) {
      const std::uint64_t dim = as_uint(d, who + ": a dimension");
      if (dim > max_count || (dim != 0 && count > max_count / dim))
        throw bad(d.offset, who + ": the shape is too large");
      if (count != 0) count *= dim;
      e.shape.push_back(static_cast<std::int64_t>(dim));
    }
    if (count > max_count / static_cast<std::uint64_t>(elem)) throw bad(shape->offset, who + ": the shape is too large");
    const std::uint64_t bytes = count * static_cast<std::uint64_t>(elem);
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

}  // namespace staticnet::safetensors
