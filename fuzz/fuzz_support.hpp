// Shared by the fuzz targets: the input written to a file in memory-backed
// storage (the readers take paths), and standard error silenced.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <streambuf>
#include <string>

namespace fuzz {

/// A per-process scratch file, on /dev/shm when it exists.
inline std::filesystem::path scratch(const char* name) {
  const std::filesystem::path dir = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
  return dir / ("staticnet_fuzz_" + std::to_string(::getpid()) + "_" + name);
}

inline void write(const std::filesystem::path& p, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

/// A stream buffer that drops everything written to it.
struct null_buffer : std::streambuf {
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

/// Silences std::cerr and std::cout for the process (the option parser reports there).
inline void quiet() {
  static null_buffer sink;
  std::cerr.rdbuf(&sink);
  std::cout.rdbuf(&sink);
}

}  // namespace fuzz
