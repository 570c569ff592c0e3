// Cost (multiply-accumulates, torchinfo's mult-adds) and the memory estimates
// of torchsummary (2^20 bytes per MB) and torchinfo (10^6 bytes per MB),
// against hand computation and the spec's printed figures.
#include <gtest/gtest.h>

#include "networks.hpp"
#include "test_support.hpp"

namespace {

using namespace staticnet;
using ::assignments::S7DilatedReference;
using ::assignments::S9Reference;
using sn_test::hundredths;

// -------------------------------------------------------- single layers ----

using Conv16 = Conv2d<conv{.out = 16, .kernel = 3, .padding = 1}>;
using DwS2 = DepthwiseConv2d<conv{.kernel = 3, .stride = 2, .padding = 1, .bias = false}>;
using Lin10 = Linear<linear{.out = 10}>;

TEST(Cost, ConvWeightsTimesOutputPositions) {
  // 16*3*9 = 432 weights x 32*32 = 1,024 positions = 442,368
  constexpr auto f = facts_of<Conv16>(shape{3, 32, 32});
  static_assert(f.macs == 442'368);
  EXPECT_EQ(f.macs, 442'368);
  // torchinfo: (432 + 16 bias) x 1,024 = 458,752
  EXPECT_EQ(f.mult_adds, 458'752);
  // depthwise s2 on 32 x 16x16: 32*9 = 288 weights x 8*8 = 64 positions = 18,432
  EXPECT_EQ(facts_of<DwS2>(shape{32, 16, 16}).macs, 18'432);
  EXPECT_EQ(facts_of<DwS2>(shape{32, 16, 16}).mult_adds, 18'432);
}

TEST(Cost, LinearBatchNormAndParameterFreeLayers) {
  // Linear 128 -> 10: 1,280 MACs; mult-adds = its 1,290 parameters
  EXPECT_EQ(facts_of<Lin10>(shape{128, 1, 1, true}).macs, 1'280);
  EXPECT_EQ(facts_of<Lin10>(shape{128, 1, 1, true}).mult_adds, 1'290);
  // BatchNorm2d: no MACs; mult-adds = its 2*C parameters
  EXPECT_EQ(facts_of<BatchNorm2d>(shape{32, 8, 8}).macs, 0);
  EXPECT_EQ(facts_of<BatchNorm2d>(shape{32, 8, 8}).mult_adds, 64);
  EXPECT_EQ(facts_of<ReLU>(shape{32, 8, 8}).mult_adds, 0);
  EXPECT_EQ(facts_of<MaxPool2d<>>(shape{32, 8, 8}).macs, 0);
}

// conv 1->2 k3 p1 on 4x4: 18 weights x 16 = 288 MACs, (18+2) x 16 = 320 mult-adds;
// Flatten -> 32; Linear 32->3: 96 MACs, 99 mult-adds
using Small = Network<Input<1, 4, 4>, Conv2d<conv{.out = 2, .kernel = 3, .padding = 1}>, ReLU, Flatten,
                      Linear<linear{.out = 3}>>;

TEST(Cost, NetworkSums) {
  static_assert(macs<Small> == 384);
  EXPECT_EQ(macs<Small>, 288 + 96);
  EXPECT_EQ(mult_adds<Small>, 320 + 99);
}

TEST(Cost, S9Reference) {
  // Every conv but the last runs at 32x32 = 1,024 positions.
  // depthwise weights 9*(3+32+32 + 32+64+64 + 64+128+128 + 128+224+224) = 9*1,123 = 10,107
  // pointwise weights 3*32+2*32*32 + 32*64+2*64*64 + 64*128+2*128*128 + 128*224+2*224*224
  //                 = 2,144 + 10,240 + 40,960 + 129,024 = 182,368
  // (10,107 + 182,368) x 1,024 = 197,094,400; + last conv 224*10 x 1 = 197,096,640 (spec)
  static_assert(macs<S9Reference> == 197'096'640);
  EXPECT_EQ(macs<S9Reference>, 197'096'640);
  // mult-adds add the biases (3*(32+64+128+224) = 1,344 at 1,024 positions = 1,376,256),
  // the last conv's 10 biases and the BN parameters (2*1,344 = 2,688):
  // 197,096,640 + 1,376,256 + 10 + 2,688 = 198,475,594 -> 198.48 M (spec)
  static_assert(mult_adds<S9Reference> == 198'475'594);
  EXPECT_EQ(mult_adds<S9Reference>, 198'475'594);
  EXPECT_EQ(hundredths(static_cast<double>(mult_adds<S9Reference>) / 1e6), 19'848);
}

TEST(Cost, S7DilatedReference) {
  // at 32x32: 864 + 288 + 2,048 + 2,048 + 9,216 + 288 + 2,048 = 16,800 weights x 1,024 = 17,203,200
  // at 24x24: 36,864 + 2,048 + 288 + 2,048 + 576 + 8,192 = 50,016 weights x 576 = 28,809,216
  // last 1x1 conv at 1x1: 1,280. Total 46,013,696
  EXPECT_EQ(macs<S7DilatedReference>, 46'013'696);
  // no biases; + BN parameters 2*448 = 896
  EXPECT_EQ(mult_adds<S7DilatedReference>, 46'014'592);
}

// ------------------------------------------------------- torchsummary ----

TEST(MemoryTorchsummary, SmallNetworkExactly) {
  // rows: conv (2*4*4 = 32), ReLU (32), Linear (3); Flatten is x.view: not a row.
  // 67 elements: forward/backward 2*67*4 B, input 16*4 B, params (20 + 99)*4 B, / 2^20
  constexpr memory_estimate m = torchsummary_estimate<Small>;
  static_assert(m.rows == 3 && m.activation_elements == 67);
  EXPECT_EQ(m.rows, 3);
  EXPECT_EQ(m.activation_elements, 67);
  EXPECT_DOUBLE_EQ(m.forward_backward_mb, 536.0 / 1048576.0);
  EXPECT_DOUBLE_EQ(m.input_mb, 64.0 / 1048576.0);
  EXPECT_DOUBLE_EQ(m.params_mb, 476.0 / 1048576.0);
  EXPECT_DOUBLE_EQ(m.total_mb, (536.0 + 64.0 + 476.0) / 1048576.0);
}

TEST(MemoryTorchsummary, S7DilatedReferenceMatchesTheSpec) {
  // 31 layers minus Flatten and LogSoftmax = 29 rows (spec)
  // output elements: C1 at 32x32: 32*4 + 64*3 + 32 = 352 channels;
  // C2: 32*4 + 64*3 = 320 channels at 32x32 and 64*3 = 192 at 24x24;
  // C3 at 24x24: 32 + 32 + 64*3 + 64 + 128*3 = 704 channels; O: 128 + 10.
  // (352 + 320)*1,024 + (192 + 704)*576 + 138 = 688,128 + 516,096 + 138 = 1,204,362
  // forward/backward 2*1,204,362*4 / 2^20 = 9.1886 -> 9.19; params 68,992*4 / 2^20 = 0.2632 -> 0.26;
  // input 3,072*4 / 2^20 = 0.0117 -> 0.01; total 9.4635 -> 9.46 (all four as the spec prints them)
  constexpr memory_estimate m = torchsummary_estimate<S7DilatedReference>;
  static_assert(m.rows == 29);
  EXPECT_EQ(m.rows, 29);
  EXPECT_EQ(m.activation_elements, 1'204'362);
  EXPECT_EQ(hundredths(m.input_mb), 1);
  EXPECT_EQ(hundredths(m.forward_backward_mb), 919);
  EXPECT_EQ(hundredths(m.params_mb), 26);
  EXPECT_EQ(hundredths(m.total_mb), 946);
}

TEST(MemoryTorchsummary, S9Reference) {
  // 52 layers minus Flatten and LogSoftmax = 50 rows. Per unit at 32x32: depthwise (in) +
  // pointwise, BN, ReLU (3*out): (1,123 + 3*1,344)*1,024 = 5,278,720; GAP 224 + conv 10.
  // 5,278,954 elements: 2*4*5,278,954 / 2^20 = 40.2752 -> 40.28; params 198,757*4 / 2^20 =
  // 0.7582 -> 0.76; total 40.2752 + 0.7582 + 0.0117 = 41.0451 -> 41.05
  constexpr memory_estimate m = torchsummary_estimate<S9Reference>;
  EXPECT_EQ(m.rows, 50);
  EXPECT_EQ(m.activation_elements, 5'278'954);
  EXPECT_EQ(hundredths(m.forward_backward_mb), 4'028);
  EXPECT_EQ(hundredths(m.params_mb), 76);
  EXPECT_EQ(hundredths(m.total_mb), 4'105);
}

// ---------------------------------------------------------- torchinfo ----

TEST(MemoryTorchinfo, OnlyLayersWithParametersCount) {
  // Small: conv (32 elements) and Linear (3); ReLU has no parameters. 35 elements.
  constexpr memory_estimate m = torchinfo_estimate<Small>;
  EXPECT_EQ(m.rows, 2);
  EXPECT_EQ(m.activation_elements, 35);
  EXPECT_DOUBLE_EQ(m.forward_backward_mb, 280.0 / 1e6);
  EXPECT_DOUBLE_EQ(m.input_mb, 64.0 / 1e6);
  EXPECT_DOUBLE_EQ(m.params_mb, 476.0 / 1e6);
}

TEST(MemoryTorchinfo, S9ReferenceMatchesTheSpec) {
  // 12 depthwise + 12 pointwise + 12 BN + the last conv = 37 layers with parameters.
  // elements: (1,123 depthwise + 1,344 pointwise + 1,344 BN channels) * 1,024 + 10 = 3,902,474
  // forward/backward 2*4*3,902,474 / 10^6 = 31.2198 -> 31.22; params 198,757*4 / 10^6 = 0.7950 -> 0.80;
  // input 0.0123; total 32.0271 -> 32.03 (spec)
  constexpr memory_estimate m = torchinfo_estimate<S9Reference>;
  static_assert(m.activation_elements == 3'902'474);
  EXPECT_EQ(m.rows, 37);
  EXPECT_EQ(m.activation_elements, 3'902'474);
  EXPECT_EQ(hundredths(m.forward_backward_mb), 3'122);
  EXPECT_EQ(hundredths(m.params_mb), 80);
  EXPECT_EQ(hundredths(m.input_mb), 1);
  EXPECT_EQ(hundredths(m.total_mb), 3'203);
}

TEST(MemoryTorchinfo, S7DilatedReference) {
  // 14 convs + 7 BN = 21 layers. At 32x32: convs 32+32+64+32+32+32+64 = 288, BN 32+64+32+64 = 192;
  // at 24x24: convs 64+32+32+64+64+128 = 384, BN 64+64+128 = 256; last conv 10.
  // 480*1,024 + 640*576 + 10 = 491,520 + 368,640 + 10 = 860,170
  // 2*4*860,170 / 10^6 = 6.8814 -> 6.88; params 0.2760 -> 0.28; total 7.1696 -> 7.17
  constexpr memory_estimate m = torchinfo_estimate<S7DilatedReference>;
  EXPECT_EQ(m.rows, 21);
  EXPECT_EQ(m.activation_elements, 860'170);
  EXPECT_EQ(hundredths(m.forward_backward_mb), 688);
  EXPECT_EQ(hundredths(m.params_mb), 28);
  EXPECT_EQ(hundredths(m.total_mb), 717);
}

}  // namespace
