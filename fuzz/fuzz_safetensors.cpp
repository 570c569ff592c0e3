// libFuzzer target: the safetensors reader (header JSON, tensor table, data).
#include <staticnet/io/safetensors.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto path = fuzz::scratch("file.safetensors");
  fuzz::write(path, data, size);
  try {
    const staticnet::safetensors::file f = staticnet::safetensors::read(path);
    std::int64_t n = 0;
    for (const auto& t : f.tensors) n += t.numel();  // must not overflow for anything read accepts
    (void)n;
  } catch (const std::runtime_error&) {
  }
  return 0;
}
