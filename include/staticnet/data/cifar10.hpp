// staticnet/data/cifar10.hpp: CIFAR-10 in its binary format.
//
//   auto train = staticnet::data::load_cifar10("/data/cifar-10-batches-bin", staticnet::data::split::train);
//   auto held_out = staticnet::data::load_cifar10_files({dir / "data_batch_5.bin"});
//
// A batch file is a sequence of 3,073-byte records: 1 label byte, then the
// 1,024 red, 1,024 green and 1,024 blue bytes of a row-major 32 x 32 image.
// Any whole number of records is accepted (the official batches hold 10,000);
// the images come out as N x 32 x 32 x 3 (channels interleaved). Files may be
// gzip-compressed (recognised by their magic bytes).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "bytes.hpp"
#include "dataset.hpp"
#include "error.hpp"

namespace staticnet::data {

inline constexpr int cifar10_side = 32;
inline constexpr std::size_t cifar10_image_bytes = 3 * 32 * 32;
inline constexpr std::size_t cifar10_record_bytes = 1 + cifar10_image_bytes;

/// The ten CIFAR-10 class names, in label order (as in batches.meta.txt).
inline std::vector<std::string> cifar10_classes() {
  return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
}

/// Class names from a text file, one per line (surrounding blanks and blank
/// lines ignored), as CIFAR's batches.meta.txt. data_error when unreadable or empty.
inline std::vector<std::string> read_class_names(const std::filesystem::path& file) {
  const auto bytes = read_file_bytes(file);
  std::vector<std::string> names;
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t j = i;
    while (j < bytes.size() && bytes[j] != '\n') ++j;
    std::size_t b = i, e = j;
    auto blank = [](std::uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
    while (b < e && blank(bytes[b])) ++b;
    while (e > b && blank(bytes[e - 1])) --e;
    if (e > b) names.emplace_back(reinterpret_cast<const char*>(bytes.data()) + b, e - b);
    i = j + 1;
  }
  if (names.empty()) throw data_error(file, 0, "no class names in the file (expected one per line)");
  return names;
}

namespace detail {

/// Throws unless `size` bytes are a whole, non-zero number of CIFAR-10 records.
inline std::size_t cifar10_records(const std::filesystem::path& file, std::uint64_t size, bool gz) {
  if (size == 0) throw data_error(file, 0, "empty file: a CIFAR-10 batch holds at least one 3073-byte record");
  const std::uint64_t whole = size / cifar10_record_bytes, rest = size % cifar10_record_bytes;
  if (rest != 0)
    throw data_error(file, whole * cifar10_record_bytes,
                     "truncated record: the " + std::string(gz ? "decompressed " : "") + "file length " +
                         std::to_string(size) + " is not a multiple of the 3073-byte CIFAR-10 record (" +
                         std::to_string(whole) + " whole records and " + std::to_string(rest) +
                         " bytes of an incomplete one)" + decompressed_note(gz));
  return static_cast<std::size_t>(whole);
}

}  // namespace detail

/// The records of every file, in order. classes defaults to the ten CIFAR-10
/// names; a label outside [0, classes.size()) is a data_error.
inline dataset load_cifar10_files(const std::vector<std::filesystem::path>& files,
                                  std::vector<std::string> classes = {}) {
  if (classes.empty()) classes = cifar10_classes();
  // Pass 1: the record count of every file, from its size (gzip files are
  // decompressed here and kept; plain files are read in pass 2).
  struct part {
    std::size_t records = 0;
    bool gz = false;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<part> parts(files.size());
  std::size_t total = 0;
  for (std::size_t f = 0; f < files.size(); ++f) {
    auto& pt = parts[f];
    pt.gz = is_gzip_file(files[f]);
    std::uint64_t size = 0;
    if (pt.gz) {
      read_file_bytes(files[f], pt.bytes);
      size = pt.bytes.size();
    } else {
      std::error_code ec;
      size = std::filesystem::file_size(files[f], ec);
      if (ec) throw data_error(files[f], 0, "cannot determine the file size: " + ec.message());
    }
    pt.records = detail::cifar10_records(files[f], size, pt.gz);
    total += pt.records;
  }
  // Pass 2: decode straight into the N x 32 x 32 x 3 tensor.
  dataset d;
  d.images = ndarray<std::uint8_t, 4>::from_shape({total, 32, 32, 3});
  d.labels = ndarray<std::int32_t, 1>::from_shape({total});
  std::uint8_t* img = d.images.data();
  std::int32_t* lab = d.labels.data();
  std::vector<std::uint8_t> buffer;
  constexpr std::size_t plane = 32 * 32;
  for (std::size_t f = 0; f < files.size(); ++f) {
    auto& pt = parts[f];
    const std::vector<std::uint8_t>* bytes = &pt.bytes;
    if (!pt.gz) {
      read_file_bytes(files[f], buffer);
      bytes = &buffer;
    }
    if (bytes->size() != pt.records * cifar10_record_bytes)
      throw data_error(files[f], std::min<std::uint64_t>(bytes->size(), pt.records * cifar10_record_bytes),
                       "the file changed while it was read (" + std::to_string(bytes->size()) + " bytes, was " +
                           std::to_string(pt.records * cifar10_record_bytes) + ")");
    const std::uint8_t* rec = bytes->data();
    for (std::size_t r = 0; r < pt.records; ++r, rec += cifar10_record_bytes) {
      const std::size_t label = rec[0];
      if (label >= classes.size())
        throw data_error(files[f], r * cifar10_record_bytes,
                         "label " + std::to_string(label) + " of record " + std::to_string(r) +
                             " is out of range [0, " + std::to_string(classes.size()) + ")" +
                             detail::decompressed_note(pt.gz));
      *lab++ = static_cast<std::int32_t>(label);
      const std::uint8_t* red = rec + 1;
      const std::uint8_t* green = red + plane;
      const std::uint8_t* blue = green + plane;
      for (std::size_t px = 0; px < plane; ++px) {
        img[0] = red[px];
        img[1] = green[px];
        img[2] = blue[px];
        img += 3;
      }
    }
    std::vector<std::uint8_t>().swap(pt.bytes);  // release a decompressed file as soon as it is decoded
  }
  d.classes = std::move(classes);
  return d;
}

/// CIFAR-10 from its directory (the extracted cifar-10-batches-bin, or its
/// parent): train = data_batch_1.bin .. data_batch_5.bin, test = test_batch.bin.
/// Class names come from batches.meta.txt when it is there, else cifar10_classes().
inline dataset load_cifar10(const std::filesystem::path& dir, split s) {
  std::filesystem::path root = dir;
  std::error_code ec;
  if (!std::filesystem::exists(root / "batches.meta.txt", ec) &&
      !std::filesystem::exists(root / "data_batch_1.bin", ec) && !std::filesystem::exists(root / "test_batch.bin", ec) &&
      std::filesystem::is_directory(root / "cifar-10-batches-bin", ec))
    root /= "cifar-10-batches-bin";
  std::vector<std::filesystem::path> files;
  if (s == split::train) {
    for (int b = 1; b <= 5; ++b) files.push_back(root / ("data_batch_" + std::to_string(b) + ".bin"));
  } else {
    files.push_back(root / "test_batch.bin");
  }
  const auto meta = root / "batches.meta.txt";
  std::vector<std::string> classes =
      std::filesystem::exists(meta, ec) ? read_class_names(meta) : cifar10_classes();
  return load_cifar10_files(files, std::move(classes));
}

}  // namespace staticnet::data
