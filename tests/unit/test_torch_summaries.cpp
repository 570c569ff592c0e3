// print_torchsummary / print_torchinfo against torchsummary's and torchinfo's
// own tables of the same networks in PyTorch (tests/golden/data/summaries,
// written by tests/golden/generate_summaries.py from modules written by hand),
// and print_summary's rows and figures against them.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "networks.hpp"
#include "torch_networks.hpp"

namespace {

using namespace staticnet;

std::string golden(const std::string& name) {
  std::ifstream f(std::string(STATICNET_GOLDEN_DIR) + "/summaries/" + name);
  EXPECT_TRUE(f.good()) << "missing golden file " << name << " (run tests/golden/generate_summaries.py)";
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);) out.push_back(line);
  return out;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream is(line);
  for (std::string w; is >> w;) out.push_back(w);
  return out;
}

/// The value after `key` on the first line that starts with it.
std::string figure(const std::vector<std::string>& lines, const std::string& key, std::size_t from = 0) {
  for (std::size_t i = from; i < lines.size(); ++i)
    if (lines[i].rfind(key, 0) == 0) return lines[i].substr(key.size());
  return std::string("(no key) ") + key;
}

template <class Net>
void check(const std::string& cls) {
  SCOPED_TRACE(cls);
  std::ostringstream ts, ti, sm;
  print_torchsummary<Net>(ts);
  print_torchinfo<Net>(ti, {.class_name = cls});
  print_summary<Net>(sm);
  const std::string want_ts = golden(cls + ".torchsummary.txt");
  const std::string want_ti = golden(cls + ".torchinfo.txt");
  EXPECT_EQ(ts.str(), want_ts);
  EXPECT_EQ(ti.str(), want_ti);

  // print_summary: its rows torchsummary prints (those without '*') are
  // torchsummary's, in order, with their shapes and (layers) parameters ...
  const auto t = lines_of(want_ts);
  const auto s = lines_of(sm.str());
  std::vector<std::vector<std::string>> torch_rows, mine;
  for (std::size_t i = 3; i < t.size() && t[i][0] != '='; ++i) torch_rows.push_back(words(t[i]));
  const std::string dline(78, '=');
  std::size_t i = 3;
  for (; i < s.size() && s[i] != dline; ++i) {
    const std::string body = s[i].substr(10);  // after the Block column
    auto w = words(body);
    while (!w.empty() && w.front() == "|") w.erase(w.begin());
    if (w.empty() || w.front().back() == '*') continue;
    mine.push_back(w);
  }
  ASSERT_EQ(mine.size(), torch_rows.size()) << sm.str();
  for (std::size_t r = 0; r < mine.size(); ++r) {
    // "Conv2d-7 [-1, 64, 32, 32] 2,048": kind, shape, parameters; a Module's row holds "(its parameters)".
    const auto& a = mine[r];
    const auto& b = torch_rows[r];
    EXPECT_EQ(a.front().substr(0, a.front().find('-')), b.front().substr(0, b.front().rfind('-'))) << "row " << r;
    EXPECT_EQ(std::vector<std::string>(a.begin() + 1, a.end() - 1), std::vector<std::string>(b.begin() + 1, b.end() - 1))
        << "row " << r;
    if (a.back().front() != '(') {
      EXPECT_EQ(a.back(), b.back()) << "row " << r;
    }
  }
  // ... and its size figures are both tools'.
  for (const char* key : {"Input size (MB): ", "Forward/backward pass size (MB): ", "Params size (MB): ",
                          "Estimated Total Size (MB): "}) {
    EXPECT_EQ(figure(s, key), figure(t, key)) << key;
    const std::size_t ti_section = std::distance(s.begin(), std::find(s.begin(), s.end(),
                                                                      "torchinfo convention (layers with parameters, 10^6 bytes):"));
    EXPECT_EQ(figure(s, key, ti_section), figure(lines_of(want_ti), key)) << key;
  }
  EXPECT_EQ(figure(s, "Total mult-adds (M): "), figure(lines_of(want_ti), "Total mult-adds (M): "));
  EXPECT_EQ(figure(s, "Total params: "), figure(t, "Total params: "));
  EXPECT_EQ(torchsummary_estimate<Net>.rows, static_cast<int>(torch_rows.size()));
}

TEST(TorchSummaries, AssignmentNetworks) {
  check<assignments::S9Reference>("S9Reference");
  check<assignments::S9Plus>("S9Plus");
  check<assignments::S7LateNet>("S7LateNet");
  check<assignments::S7DilatedReference>("S7DilatedReference");
  check<assignments::S7GroupsNet>("S7GroupsNet");
  check<assignments::S7TransitionNet>("S7TransitionNet");
}

TEST(TorchSummaries, BranchyNetworks) {
  check<torch_networks::BranchyNet>("BranchyNet");
  check<torch_networks::NestedNet>("NestedNet");
}

TEST(TorchSummaries, ModuleNetwork) {
  check<torch_networks::ModuleNet>("ModuleNet");
  // torchsummary: a Module's row after its layers', with its output and none of their parameters.
  std::ostringstream ts;
  print_torchsummary<torch_networks::ModuleNet>(ts);
  EXPECT_NE(ts.str().find("        ConvBnRelu-4           [-1, 16, 16, 16]               0\n"), std::string::npos);
  EXPECT_NE(ts.str().find("             Head-27                   [-1, 10]               0\n"), std::string::npos);
}

// Models as PyTorch code writes them (named attributes, x + self.body(x) in a
// forward): the same torchsummary table; torchinfo's tree is the one
// print_torchinfo prints with {.functional_merges = true}.
TEST(TorchSummaries, AsPyTorchCodeWritesThem) {
  std::ostringstream ts, ti, mi;
  print_torchsummary<torch_networks::TutorialNet>(ts);
  print_torchinfo<torch_networks::TutorialNet>(ti, {.class_name = "TutorialNet", .functional_merges = true});
  print_torchinfo<torch_networks::ModuleNet>(mi, {.class_name = "ModuleNet", .functional_merges = true});
  EXPECT_EQ(ts.str(), golden("TutorialNet.torchsummary.txt"));
  EXPECT_EQ(ti.str(), golden("TutorialNet.functional.torchinfo.txt"));
  EXPECT_EQ(mi.str(), golden("ModuleNet.functional.torchinfo.txt"));
}

// The S7-dilated reference figures of the exercise (shared/spec/assignments.md):
// 29 torchsummary rows, 0.01 / 9.19 / 0.26 / 9.46 MB; S9's torchinfo 198.48 M
// mult-adds, 31.22 / 0.80 / 32.03 MB.
TEST(TorchSummaries, SpecFigures) {
  std::ostringstream ts, ti;
  print_torchsummary<assignments::S7DilatedReference>(ts);
  print_torchinfo<assignments::S9Reference>(ti);
  EXPECT_NE(ts.str().find("Conv2d-29"), std::string::npos);
  EXPECT_EQ(ts.str().find("-30 "), std::string::npos);
  EXPECT_NE(ts.str().find("Forward/backward pass size (MB): 9.19\nParams size (MB): 0.26\nEstimated Total Size (MB): 9.46"),
            std::string::npos);
  EXPECT_NE(ti.str().find("Total mult-adds (M): 198.48"), std::string::npos);
  EXPECT_NE(ti.str().find("Forward/backward pass size (MB): 31.22\nParams size (MB): 0.80\nEstimated Total Size (MB): 32.03"),
            std::string::npos);
}

}  // namespace
