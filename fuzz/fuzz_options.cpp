// libFuzzer target: the assignment programs' command line. The input is the
// arguments, separated by NUL bytes.
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "program.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static bool silenced = (fuzz::quiet(), true);
  (void)silenced;
  std::vector<std::string> args{"prog"};
  std::string cur;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) args.push_back(cur), cur.clear();
    else cur += static_cast<char>(data[i]);
  }
  if (!cur.empty()) args.push_back(cur);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  assignments::options o;
  (void)assignments::parse(static_cast<int>(args.size()), argv.data(), o);
  return 0;
}
