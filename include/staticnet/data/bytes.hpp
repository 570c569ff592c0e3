// staticnet/data/bytes.hpp: the whole content of a data file, plain or gzip.
//
//   std::vector<std::uint8_t> buf;
//   bool gz = staticnet::data::read_file_bytes("train-images-idx3-ubyte.gz", buf);
//
// gzip is recognised by its magic bytes (1f 8b), not by the file name, and
// decompressed with zlib. A missing file, a read error or a broken gzip stream
// (truncated, bad CRC or length, corrupt deflate data, bytes after the last
// member, more than max_bytes decompressed) is a data_error naming the file
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

/// Inflates the open gzip file f (of file_size bytes, read from its start)
/// into out. size_hint: the decompressed size the gzip trailer claims (only
/// reserved, never trusted). The file is inflated member by member
/// (concatenated gzip members are one stream, as gzip -d reads them); anything
/// else after the last member is an error, and so is a stream that inflates
/// past max_bytes.
inline void read_gzip(const std::filesystem::path& p, std::FILE* f, std::vector<std::uint8_t>& out,
                      std::size_t size_hint, std::uint64_t file_size, std::size_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw data_error(p, 0, "gzip stream error: zlib cannot start");
  struct ender {
    z_stream* zs;
    ~ender() { inflateEnd(zs); }
  } guard{&zs};
  constexpr std::size_t chunk = std::size_t{1} << 20;
  std::vector<unsigned char> in(chunk);
  std::uint64_t read_total = 0;  // compressed bytes read from the file so far
  bool eof = false;
  auto refill = [&] {  // when zlib has used all input read so far
    if (zs.avail_in != 0 || eof) return;
    const std::size_t got = std::fread(in.data(), 1, in.size(), f);
    if (got < in.size()) {
      if (std::ferror(f)) throw data_error(p, read_total, "read error: " + errno_message(errno));
      eof = true;
    }
    read_total += got;
    zs.next_in = in.data();
    zs.avail_in = static_cast<uInt>(got);
  };
  auto offset = [&] { return read_total - zs.avail_in; };  // compressed bytes consumed
  auto fail = [&](const std::string& what) {
    return data_error(p, offset(),
                      "gzip stream error: " + what +
                          (out.empty() ? std::string() : " (after " + std::to_string(out.size()) + " decompressed bytes)"));
  };
  out.clear();
  // With a right hint the buffer is never reallocated. The hint is the
  // trailer's claim: believed only up to what deflate can produce from this
  // many bytes (at most 1032 to 1), and up to the limit.
  const std::uint64_t plausible = file_size * 1032;
  out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>({size_hint, plausible, max_bytes})) + chunk);
  for (;;) {
    refill();
    const std::size_t produced = out.size();
    out.resize(produced + chunk);
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(out.size() - zs.avail_out);
    if (out.size() > max_bytes)
      throw data_error(p, 0, "decompresses to more than " + std::to_string(max_bytes) +
                                 " bytes (read_file_bytes' max_bytes: a corrupt file or a gzip bomb?)");
    if (rc == Z_STREAM_END) {
      refill();
      if (zs.avail_in == 0) return;  // the end of the last member is the end of the file
      if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        inflateReset(&zs);  // another member
        continue;
      }
      throw fail(std::to_string(file_size - offset()) + " bytes after the end of the gzip stream");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) throw fail(zs.msg != nullptr ? zs.msg : "zlib error " + std::to_string(rc));
    // zlib stopped with room left for output: it needs input, and the file has none.
    if (zs.avail_in == 0 && eof && zs.avail_out != 0) throw fail("unexpected end of file (truncated gzip stream)");
  }
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
/// offsets). A gzip file that decompresses to more than max_bytes, or has
/// bytes after its last gzip member, is refused with a data_error.
inline bool read_file_bytes(const std::filesystem::path& p, std::vector<std::uint8_t>& out,
                            std::size_t max_bytes = default_max_bytes) {
  auto f = detail::open_for_reading(p);
  if (std::fseek(f.get(), 0, SEEK_END) != 0) throw data_error(p, 0, "cannot seek: " + detail::errno_message(errno));
  const long end = std::ftell(f.get());
  if (end < 0) throw data_error(p, 0, "cannot determine the file size: " + detail::errno_message(errno));
  std::rewind(f.get());
  unsigned char magic[2] = {0, 0};
  if (std::fread(magic, 1, 2, f.get()) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    // The trailer's ISIZE (decompressed size mod 2^32) sizes the buffer.
    std::size_t hint = 0;
    unsigned char isize[4] = {0, 0, 0, 0};
    if (std::fseek(f.get(), -4, SEEK_END) == 0 && std::fread(isize, 1, 4, f.get()) == 4)
      hint = std::size_t{isize[0]} | (std::size_t{isize[1]} << 8) | (std::size_t{isize[2]} << 16) |
             (std::size_t{isize[3]} << 24);
    std::rewind(f.get());
    detail::read_gzip(p, f.get(), out, hint, static_cast<std::uint64_t>(end), max_bytes);
    return true;
  }
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
