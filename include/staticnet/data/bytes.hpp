// staticnet/data/bytes.hpp: the whole content of a data file, plain or gzip.
//
//   std::vector<std::uint8_t> buf;
//   bool gz = staticnet::data::read_file_bytes("train-images-idx3-ubyte.gz", buf);
//
// gzip is recognised by its magic bytes (1f 8b), not by the file name, and
// decompressed with zlib. A missing file, a read error or a broken gzip stream
// (truncated, bad CRC, corrupt deflate data) is a data_error naming the file
// and the (compressed) byte offset.
#pragma once
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <zlib.h>

#include "error.hpp"

namespace staticnet::data {

namespace detail {

inline std::string errno_message(int e) { return std::generic_category().message(e); }

/// Appended to messages whose offset counts bytes of a decompressed gzip stream.
inline std::string decompressed_note(bool gz) { return gz ? " (offset in the decompressed stream)" : ""; }

struct file_closer {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

inline file_ptr open_for_reading(const std::filesystem::path& p) {
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) throw data_error(p, 0, "cannot open file: it is a directory");
  errno = 0;
  std::FILE* f = std::fopen(p.string().c_str(), "rb");
  if (f == nullptr) {
    const int e = errno;
    throw data_error(p, 0, "cannot open file: " + (e != 0 ? errno_message(e) : std::string("unknown error")));
  }
  return file_ptr(f);
}

inline gzFile gz_open(const std::filesystem::path& p) {
#ifdef _WIN32
  return gzopen_w(p.c_str(), "rb");
#else
  return gzopen(p.c_str(), "rb");
#endif
}

/// size_hint: the decompressed size the gzip trailer claims (only reserved, never trusted).
inline void read_gzip(const std::filesystem::path& p, std::vector<std::uint8_t>& out, std::size_t size_hint,
                      std::uint64_t file_size, std::size_t max_bytes) {
  errno = 0;
  gzFile g = gz_open(p);
  if (g == nullptr) {
    const int e = errno;
    throw data_error(p, 0, "cannot open gzip file: " + (e != 0 ? errno_message(e) : std::string("zlib error")));
  }
  // Closes g on every path; the error of a failed read is reported first.
  struct closer {
    gzFile g;
    bool closed = false;
    ~closer() {
      if (!closed) gzclose_r(g);
    }
  } guard{g};
  gzbuffer(g, 1u << 17);
  auto stream_error = [&](const char* msg, std::size_t decompressed) {
    // zlib's message is "<path>: <what>"; the path is already in ours.
    std::string what = msg != nullptr && *msg != '\0' ? msg : "unknown zlib error";
    const std::string prefix = p.string() + ": ";
    if (what.compare(0, prefix.size(), prefix) == 0) what.erase(0, prefix.size());
    const auto at = gzoffset(g);
    const auto pos = gztell(g);
    if (pos > 0) decompressed = std::max(decompressed, static_cast<std::size_t>(pos));
    return data_error(p, at < 0 ? 0 : static_cast<std::uint64_t>(at),
                      "gzip stream error: " + what +
                          (decompressed > 0 ? " (after " + std::to_string(decompressed) + " decompressed bytes)"
                                            : std::string()));
  };
  out.clear();
  constexpr std::size_t chunk = std::size_t{1} << 20;
  // With a right hint the buffer is never reallocated (the last read asks for
  // a whole chunk). The hint is the trailer's claim: it is believed only up to
  // what deflate can produce from this many bytes (at most 1032 to 1), and
  // up to the limit.
  const std::uint64_t plausible = file_size * 1032;
  out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>({size_hint, plausible, max_bytes})) + chunk);
  for (;;) {
    const std::size_t old = out.size();
    if (old > max_bytes)
      throw data_error(p, 0, "decompresses to more than " + std::to_string(max_bytes) +
                                 " bytes (read_file_bytes' max_bytes: a corrupt file or a gzip bomb?)");
    out.resize(old + chunk);
    const int r = gzread(g, out.data() + old, static_cast<unsigned>(chunk));
    if (r < 0) {
      int errnum = 0;
      const char* msg = gzerror(g, &errnum);
      throw stream_error(msg, old);
    }
    out.resize(old + static_cast<std::size_t>(r));
    if (r == 0) break;
  }
  int errnum = Z_OK;
  const char* msg = gzerror(g, &errnum);
  if (errnum != Z_OK) throw stream_error(msg, out.size());
  const auto at = gzoffset(g);
  guard.closed = true;
  const int rc = gzclose_r(g);
  if (rc == Z_BUF_ERROR)
    throw data_error(p, at < 0 ? 0 : static_cast<std::uint64_t>(at),
                     "gzip stream error: unexpected end of file (truncated gzip stream after " +
                         std::to_string(out.size()) + " decompressed bytes)");
  if (rc != Z_OK)
    throw data_error(p, at < 0 ? 0 : static_cast<std::uint64_t>(at),
                     "gzip stream error: zlib error " + std::to_string(rc) + " when closing");
}

}  // namespace detail

/// True when the file starts with the gzip magic bytes 1f 8b (data_error when it cannot be opened).
inline bool is_gzip_file(const std::filesystem::path& p) {
  auto f = detail::open_for_reading(p);
  unsigned char magic[2] = {0, 0};
  const std::size_t n = std::fread(magic, 1, 2, f.get());
  return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

/// The most bytes read_file_bytes decompresses by default (4 GiB: more than
/// any image data set these readers are for).
inline constexpr std::size_t default_max_bytes = std::size_t{4} << 30;

/// Reads the whole file into out (reusing its capacity), decompressing it when
/// it is gzip. Returns whether it was gzip (so offsets in out are decompressed
/// offsets). A gzip file that decompresses to more than max_bytes is refused
/// with a data_error. (zlib's gzread ignores bytes after the last gzip member.)
inline bool read_file_bytes(const std::filesystem::path& p, std::vector<std::uint8_t>& out,
                            std::size_t max_bytes = default_max_bytes) {
  auto f = detail::open_for_reading(p);
  unsigned char magic[2] = {0, 0};
  const std::size_t m = std::fread(magic, 1, 2, f.get());
  if (m == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    // The trailer's ISIZE (decompressed size mod 2^32) sizes the buffer.
    std::size_t hint = 0;
    unsigned char isize[4] = {0, 0, 0, 0};
    if (std::fseek(f.get(), -4, SEEK_END) == 0 && std::fread(isize, 1, 4, f.get()) == 4)
      hint = std::size_t{isize[0]} | (std::size_t{isize[1]} << 8) | (std::size_t{isize[2]} << 16) |
             (std::size_t{isize[3]} << 24);
    std::uint64_t file_size = 0;
    if (std::fseek(f.get(), 0, SEEK_END) == 0)
      if (const long end = std::ftell(f.get()); end > 0) file_size = static_cast<std::uint64_t>(end);
    f.reset();
    detail::read_gzip(p, out, hint, file_size, max_bytes);
    return true;
  }
  if (std::fseek(f.get(), 0, SEEK_END) != 0) throw data_error(p, 0, "cannot seek: " + detail::errno_message(errno));
  const long end = std::ftell(f.get());
  if (end < 0) throw data_error(p, 0, "cannot determine the file size: " + detail::errno_message(errno));
  std::rewind(f.get());
  const auto size = static_cast<std::size_t>(end);
  out.resize(size);
  const std::size_t got = size == 0 ? 0 : std::fread(out.data(), 1, size, f.get());
  if (got != size) {
    const bool err = std::ferror(f.get()) != 0;
    throw data_error(p, got,
                     err ? "read error: " + detail::errno_message(errno)
                         : "file ended early (it was " + std::to_string(size) + " bytes when opened)");
  }
  return false;
}

inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& p) {
  std::vector<std::uint8_t> out;
  read_file_bytes(p, out);
  return out;
}

}  // namespace staticnet::data
