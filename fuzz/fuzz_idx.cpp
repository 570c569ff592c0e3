// libFuzzer target: the IDX reader (plain or gzip). The input is the images
// file, then the labels file: its first byte b gives the labels' share,
// (b + 1) / 257 of the rest.
#include <staticnet/data/idx.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const auto images = fuzz::scratch("images.idx"), labels = fuzz::scratch("labels.idx");
  const std::size_t rest = size - 1, nl = rest * (std::size_t{data[0]} + 1) / 257;
  fuzz::write(images, data + 1, rest - nl);
  fuzz::write(labels, data + 1 + (rest - nl), nl);
  try {
    const auto d = staticnet::data::load_idx(images, labels, {"a", "b", "c"});
    staticnet::data::validate(d);
  } catch (const staticnet::data::data_error&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
