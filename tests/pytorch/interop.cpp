// The C++ half of the PyTorch interop test (run_interop.sh runs it with
// check_interop.py in between):
//
//   interop write DIR   for every network: its PyTorch module (export_pytorch,
//                       DIR/<name>.py), a checkpoint with non-trivial BatchNorm
//                       statistics (DIR/<name>.safetensors), an input and the
//                       model's eval-mode output (DIR/<name>_io.safetensors), its
//                       figures (DIR/manifest.json) and its summaries
//                       (DIR/<name>_torchsummary.txt, DIR/<name>_torchinfo.txt)
//   interop read DIR    for every network: loads the state_dict PyTorch saved
//                       (DIR/<name>_torch.safetensors) with load_pytorch_state_dict
//                       and compares the output on PyTorch's input with PyTorch's
//                       (DIR/<name>_torch_io.safetensors); checks that mismatched
//                       state_dicts are refused with a message naming the mismatch
//
// Exit status 0 when everything matched, 1 otherwise. All the networks are in
// this one translation unit (each cpu::Model instantiation costs compile time).
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <staticnet/cpu/model.hpp>
#include <staticnet/summary.hpp>
#include <staticnet/train/checkpoint.hpp>
#include <staticnet/train/pytorch.hpp>

#include "networks.hpp"
#include "torch_networks.hpp"

namespace sn = staticnet;
namespace fs = std::filesystem;

namespace {

constexpr int max_batch = 4;
constexpr double tolerance = 1e-5;  // |staticnet - PyTorch| <= tol + tol * |PyTorch|

std::string class_of(std::string_view name) {
  std::string out;
  bool upper = true;
  for (const char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

std::vector<float> normal(std::size_t n, std::mt19937& rng, float mean, float stddev) {
  std::normal_distribution<float> d(mean, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<std::int64_t> batch_shape(int n, const sn::shape& s) {
  if (s.flat) return {n, s.c};
  return {n, s.c, s.h, s.w};
}

std::string mb(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

template <sn::network Net>
std::string write_one(const fs::path& dir, std::string_view name, unsigned seed) {
  using M = sn::Model<Net, max_batch>;
  const std::string file(name);
  const std::string cls = class_of(name);
  {
    std::ofstream py(dir / (file + ".py"));
    sn::export_pytorch<Net>(py, {.class_name = cls, .title = "The interop test's " + file + "."});
  }
  M model(seed);
  std::mt19937 rng(seed);
  model.train();  // a few training-mode passes move the BatchNorm running statistics off (0, 1)
  for (int s = 0; s < 3; ++s)
    model.forward(normal(static_cast<std::size_t>(max_batch * M::input_numel), rng, 0.5f, 2.0f), max_batch);
  model.eval();
  constexpr int n = 3;
  const auto x = normal(static_cast<std::size_t>(n * M::input_numel), rng, 0.0f, 1.0f);
  const auto out = model.forward(x, n);
  const std::vector<float> y(out.begin(), out.end());
  sn::save_checkpoint(dir / (file + ".safetensors"), model);
  sn::safetensors::write(dir / (file + "_io.safetensors"),
                         {{"input", batch_shape(n, Net::input_shape), x}, {"output", batch_shape(n, Net::output_shape), y}});
  {
    std::ofstream ts(dir / (file + "_torchsummary.txt"));
    sn::print_torchsummary<Net>(ts);
    std::ofstream ti(dir / (file + "_torchinfo.txt"));
    sn::print_torchinfo<Net>(ti, {.class_name = cls});
  }
  const sn::memory_estimate t = sn::torchsummary_estimate<Net>;
  const sn::memory_estimate i = sn::torchinfo_estimate<Net>;
  std::ostringstream js;
  js << "{\"name\": \"" << file << "\", \"class\": \"" << cls << "\", \"params\": " << sn::param_count<Net>
     << ", \"buffers\": " << sn::buffer_count<Net> << ", \"input\": [" << Net::input_shape.c << ", "
     << Net::input_shape.h << ", " << Net::input_shape.w << "], \"torchsummary\": {\"rows\": " << t.rows
     << ", \"input\": \"" << mb(t.input_mb) << "\", \"forward_backward\": \"" << mb(t.forward_backward_mb)
     << "\", \"params\": \"" << mb(t.params_mb) << "\", \"total\": \"" << mb(t.total_mb)
     << "\"}, \"torchinfo\": {\"mult_adds\": " << sn::mult_adds<Net> << ", \"input\": \"" << mb(i.input_mb)
     << "\", \"forward_backward\": \"" << mb(i.forward_backward_mb) << "\", \"params\": \"" << mb(i.params_mb)
     << "\", \"total\": \"" << mb(i.total_mb) << "\"}}";
  std::printf("%-14s wrote %s.py (class %s), checkpoint and io\n", file.c_str(), file.c_str(), cls.c_str());
  return js.str();
}

sn::safetensors::tensor get(const sn::safetensors::file& f, const std::string& name) {
  for (const auto& t : f.tensors)
    if (t.name == name) return t;
  throw std::runtime_error("no tensor '" + name + "'");
}

/// Loads DIR/<state>.safetensors into Net and compares its output on the
/// input of DIR/<state>_io.safetensors with the output there.
template <sn::network Net>
bool read_one(const fs::path& dir, std::string_view name, const std::string& state) {
  using M = sn::Model<Net, max_batch>;
  const std::string file(name);
  M model(12345);
  const sn::checkpoint_info info = sn::load_pytorch_state_dict(dir / (state + ".safetensors"), model);
  model.eval();
  const sn::safetensors::file io = sn::safetensors::read(dir / (state + "_io.safetensors"));
  const auto x = get(io, "input");
  const auto want = get(io, "output");
  const int n = static_cast<int>(x.shape.at(0));
  const auto got = model.forward(x.data, n);
  double worst = 0, excess = 0;
  for (std::size_t k = 0; k < got.size(); ++k) {
    const double d = std::abs(static_cast<double>(got[k]) - want.data[k]);
    worst = std::max(worst, d);
    excess = std::max(excess, d - (tolerance + tolerance * std::abs(static_cast<double>(want.data[k]))));
  }
  const bool ok = got.size() == want.data.size() && excess <= 0;
  std::printf("%-14s PyTorch state_dict %s loaded (%zu num_batches_tracked ignored, fingerprint %s); "
              "max |staticnet - PyTorch| = %.3g on %d images: %s\n",
              file.c_str(), state.c_str(), info.ignored.size(), info.fingerprint_checked ? "checked" : "absent", worst, n,
              ok ? "OK" : "MISMATCH");
  return ok;
}

/// Loading `file` into Net must throw, with every `expected` string in the message.
template <sn::network Net>
bool refused(const fs::path& file, std::initializer_list<std::string_view> expected, const char* what) {
  sn::Model<Net, max_batch> model(1);
  try {
    sn::load_pytorch_state_dict(file, model);
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    for (const std::string_view s : expected)
      if (msg.find(s) == std::string::npos) {
        std::printf("refusal (%s): the message lacks \"%.*s\":\n%s\nFAILED\n", what, static_cast<int>(s.size()),
                    s.data(), msg.c_str());
        return false;
      }
    std::printf("refusal (%s): OK\n  %s\n", what, msg.substr(0, msg.find('\n', msg.find('\n') + 1)).c_str());
    return true;
  }
  std::printf("refusal (%s): loaded without an error: FAILED\n", what);
  return false;
}

// Every network of the test, by name.
template <class F>
void for_each_network(F&& f) {
  f.template operator()<assignments::S9Reference>("s9");
  f.template operator()<assignments::S9Plus>("s9_plus");
  f.template operator()<assignments::S7LateNet>("s7_late");
  f.template operator()<assignments::S7DilatedReference>("s7_dilated");
  f.template operator()<assignments::S7GroupsNet>("s7_groups");
  f.template operator()<assignments::S7TransitionNet>("s7_transition");
  f.template operator()<torch_networks::BranchyNet>("branchy");
  f.template operator()<torch_networks::NestedNet>("nested");
  f.template operator()<torch_networks::ModuleNet>("modules");
}

int write_all(const fs::path& dir) {
  fs::create_directories(dir);
  std::vector<std::string> entries;
  unsigned seed = 1;
  for_each_network([&]<sn::network Net>(std::string_view name) { entries.push_back(write_one<Net>(dir, name, seed++)); });
  std::ofstream manifest(dir / "manifest.json");
  manifest << "[\n";
  for (std::size_t k = 0; k < entries.size(); ++k) manifest << "  " << entries[k] << (k + 1 < entries.size() ? ",\n" : "\n");
  manifest << "]\n";
  return 0;
}

int read_all(const fs::path& dir) {
  bool ok = true;
  for_each_network(
      [&]<sn::network Net>(std::string_view name) { ok = read_one<Net>(dir, name, std::string(name) + "_torch") && ok; });
  for (const char* dtype : {"f64", "f16", "bf16"})  // converted to F32
    ok = read_one<torch_networks::NestedNet>(dir, "nested", std::string("nested_") + dtype) && ok;
  ok = refused<assignments::S7DilatedReference>(dir / "s7_late_torch.safetensors",
                                                {"does not match the model", "missing from", "unexpected in"},
                                                "S7-late's state_dict into S7-dilated") && ok;
  ok = refused<assignments::S9Plus>(dir / "s9_torch.safetensors", {"different architecture", "fingerprint"},
                                    "S9's state_dict into S9Plus: same names and shapes, other dilations") && ok;
  ok = refused<torch_networks::NestedNet>(dir / "nested_prefixed.safetensors", {"the prefix \"module.\""},
                                          "an nn.DataParallel state_dict") && ok;
  ok = refused<torch_networks::NestedNet>(dir / "nested_reshaped.safetensors", {"shape mismatches", "5.weight: checkpoint [10, 15, 3, 3], model [10, 15, 1, 1]"},
                                          "a state_dict with one tensor of another shape") && ok;
  std::printf("%s\n", ok ? "all matched" : "MISMATCHES");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string_view(argv[1]) != "write" && std::string_view(argv[1]) != "read")) {
    std::fprintf(stderr, "usage: %s write|read DIR\n", argv[0]);
    return 2;
  }
  try {
    return std::string_view(argv[1]) == "write" ? write_all(argv[2]) : read_all(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "interop: %s\n", e.what());
    return 1;
  }
}
