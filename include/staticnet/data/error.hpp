// staticnet/data/error.hpp: the one exception type of the data layer.
//
// Every problem with an input file (missing, truncated, wrong magic number,
// wrong size, label out of range, broken gzip stream) is a data_error whose
// message names the file and the byte offset where the problem was found:
//
//   staticnet::data: /data/cifar/data_batch_1.bin: at byte 3073: truncated record: ...
//
// For a gzip-compressed file the offset of a format problem counts bytes of the
// decompressed stream (the message says so); a gzip stream error reports the
// compressed offset.
#pragma once
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>

namespace staticnet::data {

class data_error : public std::runtime_error {
 public:
  data_error(std::filesystem::path file, std::uint64_t offset, const std::string& what)
      : std::runtime_error("staticnet::data: " + file.string() + ": at byte " + std::to_string(offset) + ": " +
                           what),
        file_(std::move(file)),
        offset_(offset) {}

  /// The file the problem is in.
  [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }
  /// The byte offset at which the problem was found.
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }

 private:
  std::filesystem::path file_;
  std::uint64_t offset_;
};

}  // namespace staticnet::data
