// libFuzzer target: the CIFAR-10 binary reader (plain or gzip) on any bytes.
#include <staticnet/data/cifar10.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto path = fuzz::scratch("cifar.bin");
  fuzz::write(path, data, size);
  try {
    const auto d = staticnet::data::load_cifar10_files({path});
    staticnet::data::validate(d);
  } catch (const staticnet::data::data_error&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
