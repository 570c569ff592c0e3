// The printed model summary (torchsummary layout, torchinfo figures) and the
// receptive-field table.
#include <gtest/gtest.h>

#include <initializer_list>
#include <sstream>
#include <string>

#include "networks.hpp"
#include "test_support.hpp"

namespace {

using namespace staticnet;
using ::assignments::S7DilatedReference;
using ::assignments::S9Reference;
using sn_test::occurrences;

template <class Net>
std::string summary_of() {
  std::ostringstream os;
  print_summary<Net>(os);
  return os.str();
}
template <class Net>
std::string rf_table_of() {
  std::ostringstream os;
  print_receptive_field<Net>(os);
  return os.str();
}

std::string left(const std::string& s, std::size_t w) {
  std::string out = s;
  out.append(w - s.size(), ' ');
  return out;
}
std::string right(const std::string& s, std::size_t w) {
  std::string out(w - s.size(), ' ');
  out += s;
  return out;
}

/// Expects `needle` in `text` (printing the text when it is missing); compiled
/// once rather than expanded at every check, which keeps the file quick to build.
void expect_contains(const std::string& text, const std::string& needle, int line) {
  EXPECT_NE(text.find(needle), std::string::npos) << "line " << line << ": missing\n" << needle << "\nin\n" << text;
}

/// A summary row: block (10 wide, left), "| " per enclosing branch, layer (right-aligned so
/// that marks + layer are 22 wide), shape (25, right), params (15, right).
std::string summary_row(const std::string& block, const std::string& layer, const std::string& shape,
                        const std::string& params, int depth = 0) {
  std::string row(1, '\n');
  row += left(block, 10);
  for (int d = 0; d < depth; ++d) row += "| ";
  row += right(layer, 22 - 2 * static_cast<std::size_t>(depth));
  row += right(shape, 25);
  row += right(params, 15);
  row += '\n';
  return row;
}

/// An RF-table row: block (10), layer (22), k (6), s, d, p (5 each), g (6), in, out (10), RF (8), jump (7).
std::string rf_row(const std::string& block, const std::string& layer, const std::string& k, const std::string& s,
                   const std::string& d, const std::string& p, const std::string& g, const std::string& in,
                   const std::string& out, const std::string& rf, const std::string& jump) {
  std::string row(1, '\n');
  for (const std::string& cell : {left(block, 10), left(layer, 22), right(k, 6), right(s, 5), right(d, 5), right(p, 5),
                                  right(g, 6), right(in, 10), right(out, 10), right(rf, 8), right(jump, 7)})
    row += cell;
  row += '\n';
  return row;
}

/// The lines between the two '=' rules of a summary (the layer rows).
int layer_rows(const std::string& text) {
  const std::string rule(78, '=');
  const std::size_t a = text.find(rule);
  const std::size_t b = text.find(rule, a + rule.size());
  if (a == std::string::npos || b == std::string::npos) return -1;
  return occurrences(text.substr(a + rule.size(), b - a - rule.size()), "\n") - 1;
}

// ------------------------------------------------------------- S7-dilated ----

TEST(Summary, S7DilatedReferenceTotalsAndTorchsummarySizes) {
  const std::string s = summary_of<S7DilatedReference>();
  expect_contains(s, "\nTotal params: 68,992\n", __LINE__);
  expect_contains(s, "\nTrainable params: 68,992\n", __LINE__);
  expect_contains(s, "\nNon-trainable params: 0\n", __LINE__);
  expect_contains(s, "\nBuffers (BatchNorm running mean/var): 896\n", __LINE__);
  // the spec's torchsummary figures, in torchsummary's order
  expect_contains(s, "\nInput size (MB): 0.01\n"
                   "Forward/backward pass size (MB): 9.19\n"
                   "Params size (MB): 0.26\n"
                   "Estimated Total Size (MB): 9.46\n", __LINE__);
  // torchinfo: 46,014,592 mult-adds -> 46.01 M; 6.88 / 0.28 / 7.17 MB (see test_cost_memory)
  expect_contains(s, "\nTotal mult-adds (M): 46.01\n"
                   "Input size (MB): 0.01\n"
                   "Forward/backward pass size (MB): 6.88\n"
                   "Params size (MB): 0.28\n"
                   "Estimated Total Size (MB): 7.17\n", __LINE__);
  expect_contains(s, "\nMultiply-accumulates per image (conv/linear weights): 46,013,696\n", __LINE__);
  expect_contains(s, "\nReceptive field (before global pooling): 21, jump 1\n", __LINE__);
}

TEST(Summary, S7DilatedReferenceRows) {
  const std::string s = summary_of<S7DilatedReference>();
  // 31 layers, one row each; Flatten and LogSoftmax are marked as not torchsummary rows
  EXPECT_EQ(layer_rows(s), 31);
  EXPECT_EQ(occurrences(s, "Conv2d-"), 14);
  EXPECT_EQ(occurrences(s, "BatchNorm2d-"), 7);
  EXPECT_EQ(occurrences(s, "ReLU-"), 7);
  expect_contains(s, summary_row("C1", "Conv2d-1", "[-1, 32, 32, 32]", "864"), __LINE__);
  expect_contains(s, summary_row("C1", "ReLU-2", "[-1, 32, 32, 32]", "0"), __LINE__);
  expect_contains(s, summary_row("C1", "Conv2d-5", "[-1, 64, 32, 32]", "2,048"), __LINE__);
  expect_contains(s, summary_row("C2", "Conv2d-16", "[-1, 64, 24, 24]", "36,864"), __LINE__);
  expect_contains(s, summary_row("C3", "BatchNorm2d-27", "[-1, 128, 24, 24]", "256"), __LINE__);
  expect_contains(s, summary_row("O", "AdaptiveAvgPool2d-28", "[-1, 128, 1, 1]", "0"), __LINE__);
  expect_contains(s, summary_row("O", "Conv2d-29", "[-1, 10, 1, 1]", "1,280"), __LINE__);
  expect_contains(s, summary_row("", "Flatten-30*", "[-1, 10]", "0"), __LINE__);
  expect_contains(s, summary_row("", "LogSoftmax-31*", "[-1, 10]", "0"), __LINE__);
  expect_contains(s, "* functional in the usual PyTorch code", __LINE__);
}

// ------------------------------------------------------------------- S9 ----

TEST(Summary, S9Reference) {
  const std::string s = summary_of<S9Reference>();
  expect_contains(s, "\nTotal params: 198,757\n", __LINE__);
  expect_contains(s, "\nBuffers (BatchNorm running mean/var): 2,688\n", __LINE__);
  // spec (torchinfo): 198.48 M mult-adds; 31.22 / 0.80 / 32.03 MB
  expect_contains(s, "\nTotal mult-adds (M): 198.48\n"
                   "Input size (MB): 0.01\n"
                   "Forward/backward pass size (MB): 31.22\n"
                   "Params size (MB): 0.80\n"
                   "Estimated Total Size (MB): 32.03\n", __LINE__);
  // torchsummary: 40.28 / 0.76 / 41.05 (see test_cost_memory)
  expect_contains(s, "\nInput size (MB): 0.01\n"
                   "Forward/backward pass size (MB): 40.28\n"
                   "Params size (MB): 0.76\n"
                   "Estimated Total Size (MB): 41.05\n", __LINE__);
  expect_contains(s, "\nMultiply-accumulates per image (conv/linear weights): 197,096,640\n", __LINE__);
  expect_contains(s, "\nReceptive field (before global pooling): 33, jump 1\n", __LINE__);
  EXPECT_EQ(layer_rows(s), 52);
  EXPECT_EQ(occurrences(s, "Conv2d-"), 25);
  // depthwise 3 -> 3: 27; pointwise 3 -> 32: 96 + 32 = 128
  expect_contains(s, summary_row("C1", "Conv2d-1", "[-1, 3, 32, 32]", "27"), __LINE__);
  expect_contains(s, summary_row("C1", "Conv2d-2", "[-1, 32, 32, 32]", "128"), __LINE__);
  // C4's last pointwise 224 -> 224: 50,176 + 224 = 50,400
  expect_contains(s, summary_row("C4", "Conv2d-46", "[-1, 224, 32, 32]", "50,400"), __LINE__);
  expect_contains(s, summary_row("O", "Conv2d-50", "[-1, 10, 1, 1]", "2,250"), __LINE__);
}

// -------------------------------------------------- branches and blocks ----
// (One small network covers merges, nested blocks, non-square figures and a
// stride: every network printed is another instantiation of the printers.)
// Rows inside a branch carry one "| " per enclosing branch after the block column.
//  1 Conv2d 8->8 3x3 p1 inside Residual in blocks A/B: 8*8*9 + 8 = 584, [8, 8, 8]; RF 3 (max of 1, 3)
//  2 Conv2d 8->4 3x3 p1 (Concat branch 1): 4*8*9 + 4 = 292, [4, 8, 8]; RF 5
//  3 MaxPool2d 3x3 s1 p1 (Concat branch 2): [8, 8, 8]; RF 5     -> Concat [12, 8, 8]
//  4 Conv2d 12->4 1x5: 4*12*5 + 4 = 244, [4, 8, 8 - 5 + 1 = 4]; RF 5 x (5 + 4 = 9)
//  5 Conv2d 4->4 3x3 s2 p1: 4*4*9 + 4 = 148, h floor(7/2) + 1 = 4, w floor(3/2) + 1 = 2; RF 7 x 11, jump 2
// total 584 + 292 + 244 + 148 = 1,268
using MixedNet = Network<Input<8, 8, 8>, Block<"A", Block<"B", Residual<Conv2d<conv{.out = 8, .padding = 1}>>>>,
                         Concat<Conv2d<conv{.out = 4, .padding = 1}>, MaxPool2d<pool{.kernel = 3, .stride = 1, .padding = 1}>>,
                         Conv2d<conv{.out = 4, .kernel_h = 1, .kernel_w = 5}>,
                         Conv2d<conv{.out = 4, .kernel = 3, .stride = 2, .padding = 1}>>;

TEST(Summary, MergesNestedBlocksNonSquareAndStride) {
  const std::string s = summary_of<MixedNet>();
  expect_contains(s, summary_row("A/B", "Conv2d-1", "[-1, 8, 8, 8]", "584", 1), __LINE__);
  expect_contains(s, summary_row("A/B", "Add*", "[-1, 8, 8, 8]", "0"), __LINE__);
  expect_contains(s, summary_row("", "Conv2d-2", "[-1, 4, 8, 8]", "292", 1), __LINE__);
  expect_contains(s, summary_row("", "MaxPool2d-3", "[-1, 8, 8, 8]", "0", 1), __LINE__);
  expect_contains(s, summary_row("", "Concat*", "[-1, 12, 8, 8]", "0"), __LINE__);
  expect_contains(s, summary_row("", "Conv2d-4", "[-1, 4, 8, 4]", "244"), __LINE__);
  expect_contains(s, summary_row("", "Conv2d-5", "[-1, 4, 4, 2]", "148"), __LINE__);
  expect_contains(s, "\nTotal params: 1,268\n", __LINE__);
  expect_contains(s, "\nReceptive field (before global pooling): 7x11, jump 2\n", __LINE__);
  EXPECT_EQ(layer_rows(s), 7);  // 5 layers + 2 merges
}

// ZeroPad2d and Identity are modules: torchsummary rows "ZeroPad2d-N" / "Identity-N".
// 3x8x8 -1x1 conv p1-> 4x10x10 -pad (1,0,2,0)-> 4x12x11 -Identity- -AvgPool2d(2)-> 4x6x5
// -ZeroPad2d(-1)-> 4x4x3 -AvgPool2d(4, ceil)-> 4x1x1 (one window over the 4x3 map: global)
using PadNet = Network<Input<3, 8, 8>, Conv2d<conv{.out = 4, .kernel = 1, .padding = 1}>,
                       ZeroPad2d<pad{.left = 1, .right = 0, .top = 2, .bottom = 0}>, Identity, AvgPool2d<>,
                       ZeroPad2d<-1>, AvgPool2d<pool{.kernel = 4, .ceil_mode = true}>, Flatten>;

TEST(Summary, ZeroPadAndIdentityRows) {
  const std::string s = summary_of<PadNet>();
  expect_contains(s, summary_row("", "Conv2d-1", "[-1, 4, 10, 10]", "16"), __LINE__);
  expect_contains(s, summary_row("", "ZeroPad2d-2", "[-1, 4, 12, 11]", "0"), __LINE__);
  expect_contains(s, summary_row("", "Identity-3", "[-1, 4, 12, 11]", "0"), __LINE__);
  expect_contains(s, summary_row("", "ZeroPad2d-5", "[-1, 4, 4, 3]", "0"), __LINE__);
  expect_contains(s, summary_row("", "AvgPool2d-6", "[-1, 4, 1, 1]", "0"), __LINE__);
  expect_contains(s, summary_row("", "Flatten-7*", "[-1, 4]", "0"), __LINE__);
  EXPECT_EQ(layer_rows(s), 7);
  // torchsummary counts both as rows (Flatten, functional, is left out)
  EXPECT_EQ(torchsummary_estimate<PadNet>.rows, 6);
  EXPECT_EQ(torchsummary_estimate<PadNet>.activation_elements, 400 + 528 + 528 + 120 + 48 + 4);
  EXPECT_EQ(torchinfo_estimate<PadNet>.rows, 1);
}

TEST(Summary, PlanOverloadPrintsTheSame) {
  std::ostringstream os;
  print_summary(S7DilatedReference::plan, os);
  EXPECT_EQ(os.str(), summary_of<S7DilatedReference>());
}

// ------------------------------------------------------ receptive field ----

TEST(ReceptiveFieldTable, S7DilatedReference) {
  const std::string t = rf_table_of<S7DilatedReference>();
  expect_contains(t, "\nReceptive field before global pooling: 21 (", __LINE__);
  // spatial layers only: 14 convs and the global pooling; no ReLU / BN rows
  EXPECT_EQ(occurrences(t, "Conv2d-"), 14);
  EXPECT_EQ(occurrences(t, "ReLU"), 0);
  expect_contains(t, rf_row("", "input", "", "", "", "", "", "32", "", "1", "1"), __LINE__);
  expect_contains(t, rf_row("C1", "Conv2d-1", "3", "1", "1", "1", "1", "32", "32", "3", "1"), __LINE__);
  // depthwise: groups 32
  expect_contains(t, rf_row("C1", "Conv2d-4", "3", "1", "1", "1", "32", "32", "32", "5", "1"), __LINE__);
  // dilation 4, padding 0: 32 -> 24, RF 9 + 4*2 = 17
  expect_contains(t, rf_row("C2", "Conv2d-16", "3", "1", "4", "0", "1", "32", "24", "17", "1"), __LINE__);
  expect_contains(t, rf_row("C3", "Conv2d-24", "3", "1", "1", "1", "64", "24", "24", "21", "1"), __LINE__);
  expect_contains(t, rf_row("O", "AdaptiveAvgPool2d-28", "all", "-", "-", "-", "-", "24", "1", "21", "1"), __LINE__);
}

TEST(ReceptiveFieldTable, S9Reference) {
  const std::string t = rf_table_of<S9Reference>();
  expect_contains(t, "\nReceptive field before global pooling: 33 (", __LINE__);
  EXPECT_EQ(occurrences(t, "Conv2d-"), 25);
  // the third unit's depthwise conv: dilation 2, padding 2, 32 groups; RF 5 + 2*2 = 9
  expect_contains(t, rf_row("C1", "Conv2d-9", "3", "1", "2", "2", "32", "32", "32", "9", "1"), __LINE__);
  expect_contains(t, rf_row("C4", "Conv2d-45", "3", "1", "2", "2", "224", "32", "32", "33", "1"), __LINE__);
}

TEST(ReceptiveFieldTable, ZeroPadRowsAndAFullWindowPoolAsGlobalPooling) {
  const std::string t = rf_table_of<PadNet>();
  expect_contains(t, rf_row("", "Conv2d-1", "1", "1", "1", "1", "1", "8", "10", "1", "1"), __LINE__);
  // asymmetric padding: "pad left,right,top,bottom" over the k..p columns
  std::string pad_row(1, '\n');
  for (const std::string& cell : {left("", 10), left("ZeroPad2d-2", 22), right("pad 1,0,2,0", 21), right("-", 6),
                                  right("10", 10), right("12x11", 10), right("1", 8), right("1", 7)})
    pad_row += cell;
  expect_contains(t, pad_row + '\n', __LINE__);
  expect_contains(t, rf_row("", "AvgPool2d-4", "2", "2", "1", "0", "-", "12x11", "6x5", "2", "2"), __LINE__);
  expect_contains(t, rf_row("", "ZeroPad2d-5", "-", "-", "-", "-1", "-", "6x5", "4x3", "2", "2"), __LINE__);
  // one window over the whole 4x3 map: global pooling, no RF step
  expect_contains(t, rf_row("", "AvgPool2d-6 (global)", "4", "4", "1", "0", "-", "4x3", "1", "2", "2"), __LINE__);
  EXPECT_EQ(occurrences(t, "Identity"), 0);
  expect_contains(t, "\nReceptive field before global pooling: 2 (", __LINE__);
}

TEST(ReceptiveFieldTable, PoolingNonSquareAndStride) {
  const std::string t = rf_table_of<MixedNet>();
  expect_contains(t, rf_row("", "input", "", "", "", "", "", "8", "", "1", "1"), __LINE__);
  expect_contains(t, rf_row("A/B", "Conv2d-1", "3", "1", "1", "1", "1", "8", "8", "3", "1"), __LINE__);
  expect_contains(t, rf_row("", "MaxPool2d-3", "3", "1", "1", "1", "-", "8", "8", "5", "1"), __LINE__);
  expect_contains(t, rf_row("", "Conv2d-4", "1x5", "1", "1", "0", "1", "8", "8x4", "5x9", "1"), __LINE__);
  expect_contains(t, rf_row("", "Conv2d-5", "3", "2", "1", "1", "1", "8x4", "4x2", "7x11", "2"), __LINE__);
  expect_contains(t, "\nReceptive field before global pooling: 7x11 (", __LINE__);
}

}  // namespace
