// Reader for the golden files written by tests/golden/generate.py.
#pragma once
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace golden {

struct tensor {
  std::vector<int> shape;
  std::vector<float> data;
};

inline std::map<std::string, tensor> load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("golden: cannot open " + path);
  std::map<std::string, tensor> out;
  auto read_u32 = [&](const char* what) {
    std::uint32_t v = 0;
    if (!in.read(reinterpret_cast<char*>(&v), 4)) throw std::runtime_error(std::string("golden: truncated ") + what + " in " + path);
    return v;
  };
  while (in.peek() != std::char_traits<char>::eof()) {
    const std::uint32_t len = read_u32("name length");
    std::string name(len, '\0');
    in.read(name.data(), len);
    const std::uint32_t rank = read_u32("rank");
    tensor t;
    std::size_t count = 1;
    for (std::uint32_t i = 0; i < rank; ++i) {
      const int d = static_cast<int>(read_u32("dim"));
      t.shape.push_back(d);
      count *= static_cast<std::size_t>(d);
    }
    t.data.resize(count);
    if (!in.read(reinterpret_cast<char*>(t.data.data()), static_cast<std::streamsize>(count * 4)))
      throw std::runtime_error("golden: truncated data of " + name + " in " + path);
    out.emplace(std::move(name), std::move(t));
  }
  return out;
}

inline std::string path(const std::string& name) { return std::string(STATICNET_GOLDEN_DIR) + "/" + name + ".bin"; }

}  // namespace golden
