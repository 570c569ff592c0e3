// Trainable parameters and buffers, PyTorch's convention:
//   Conv2d      out * in/groups * kh * kw (+ out with bias)
//   BatchNorm2d 2*C parameters (weight, bias) + 2*C buffers (running mean, var)
//   Linear      in * out (+ out with bias)
// and the reference figures of /work/shared/spec/assignments.md.
#include <gtest/gtest.h>

#include "networks.hpp"
#include "test_support.hpp"

namespace {

using namespace staticnet;
using ::assignments::S7DilatedReference;
using ::assignments::S9Reference;
using sn_test::params_of_layers;

// ------------------------------------------------------- single layers ----

using Conv16 = Conv2d<conv{.out = 16, .kernel = 3}>;
using Conv16NoBias = Conv2d<conv{.out = 16, .kernel = 3, .bias = false}>;
using Conv4K5G2 = Conv2d<conv{.out = 4, .kernel = 5, .padding = 2, .groups = 2}>;
using Conv8K1x3 = Conv2d<conv{.out = 8, .kernel_h = 1, .kernel_w = 3}>;
using Dw3 = DepthwiseConv2d<conv{.kernel = 3, .padding = 1}>;
using Dw3NoBias = DepthwiseConv2d<conv{.kernel = 3, .padding = 1, .bias = false}>;
using Dw3x2 = DepthwiseConv2d<conv{.out = 64, .kernel = 3, .padding = 1}>;
using Lin10 = Linear<linear{.out = 10}>;
using Lin10NoBias = Linear<linear{.out = 10, .bias = false}>;

TEST(ParamsConv2d, WeightsPlusBias) {
  // 16 * 3 * 3 * 3 = 432 weights + 16 biases = 448
  constexpr auto f = facts_of<Conv16>(shape{3, 32, 32});
  static_assert(f.params == 448);
  EXPECT_EQ(f.params, 448);
  EXPECT_EQ(f.buffers, 0);
  EXPECT_TRUE(f.bias);
  EXPECT_EQ(facts_of<Conv16NoBias>(shape{3, 32, 32}).params, 432);
}

TEST(ParamsConv2d, GroupsAndAsymmetricKernels) {
  // groups 2, in 8: 4 * (8/2) * 5 * 5 = 400 + 4 = 404
  EXPECT_EQ(facts_of<Conv4K5G2>(shape{8, 16, 16}).params, 404);
  // 1x3 kernel: 8 * 4 * 1 * 3 = 96 + 8 = 104
  EXPECT_EQ(facts_of<Conv8K1x3>(shape{4, 10, 10}).params, 104);
  // 1x1: 32 * 64 = 2048 (+ 64 = 2112 with bias)
  EXPECT_EQ(facts_of<PointwiseConv2d<64>>(shape{32, 8, 8}).params, 2112);
  EXPECT_EQ((facts_of<PointwiseConv2d<64, false>>(shape{32, 8, 8}).params), 2048);
}

TEST(ParamsDepthwise, OneFilterPerChannel) {
  // 32 * (32/32) * 3 * 3 = 288 (+ 32 = 320 with bias)
  EXPECT_EQ(facts_of<Dw3>(shape{32, 16, 16}).params, 320);
  EXPECT_EQ(facts_of<Dw3NoBias>(shape{32, 16, 16}).params, 288);
  // depth multiplier 2: 64 * 1 * 9 = 576 + 64 = 640
  EXPECT_EQ(facts_of<Dw3x2>(shape{32, 16, 16}).params, 640);
}

TEST(ParamsBatchNorm, TwoParamsAndTwoBuffersPerChannel) {
  constexpr auto f = facts_of<BatchNorm2d>(shape{32, 8, 8});
  static_assert(f.params == 64 && f.buffers == 64);
  EXPECT_EQ(f.params, 64);
  EXPECT_EQ(f.buffers, 64);
}

TEST(ParamsLinear, InTimesOutPlusOut) {
  // 128 * 10 = 1280 + 10 = 1290
  EXPECT_EQ(facts_of<Lin10>(shape{128, 1, 1, true}).params, 1290);
  EXPECT_EQ(facts_of<Lin10NoBias>(shape{128, 1, 1, true}).params, 1280);
}

TEST(ParamsOther, LayersWithoutParameters) {
  const shape in{16, 8, 8};
  EXPECT_EQ(facts_of<ReLU>(in).params, 0);
  EXPECT_EQ(facts_of<MaxPool2d<>>(in).params, 0);
  EXPECT_EQ(facts_of<AvgPool2d<>>(in).params, 0);
  EXPECT_EQ(facts_of<GlobalAvgPool>(in).params, 0);
  EXPECT_EQ(facts_of<Flatten>(in).params, 0);
  EXPECT_EQ(facts_of<Dropout<>>(in).params, 0);
  EXPECT_EQ(facts_of<LogSoftmax>(shape{10, 1, 1, true}).params, 0);
  EXPECT_EQ(facts_of<ReLU>(in).buffers, 0);
}

// ------------------------------------------------------------ networks ----

// conv 3->16 (448) + BN 16 (32 + 32 buffers) + ReLU + pool + Flatten (16*16*16 = 4096)
// + Linear 4096->10 (40,970) = 41,450 parameters, 32 buffers
using TinyNet = Network<Input<3, 32, 32>, Conv2d<conv{.out = 16, .kernel = 3, .padding = 1}>, BatchNorm2d,
                        ReLU, MaxPool2d<>, Flatten, Lin10>;

TEST(ParamsNetwork, SumOfLayers) {
  static_assert(param_count<TinyNet> == 41'450);
  EXPECT_EQ(param_count<TinyNet>, 41'450);
  EXPECT_EQ(buffer_count<TinyNet>, 32);
  EXPECT_EQ((layer<TinyNet, 1>.f.params), 448);
  EXPECT_EQ((layer<TinyNet, 2>.f.params), 32);
  EXPECT_EQ((layer<TinyNet, 6>.f.params), 40'970);
}

// -------------------------------------------------------------- S9 ----
// A unit in -> out: depthwise 3x3 no bias (9*in) + 1x1 (in*out + out) + BN (2*out) + ReLU.

TEST(ParamsS9, Total) {
  // spec: 198,757 = C1 3,035 + C2 12,256 + C3 44,992 + C4 136,224 + O 2,250
  static_assert(param_count<S9Reference> == 198'757);
  EXPECT_EQ(param_count<S9Reference>, 198'757);
  // BN buffers: 2 * 3 * (32 + 64 + 128 + 224) = 2 * 1,344 = 2,688
  EXPECT_EQ(buffer_count<S9Reference>, 2'688);
  // 12 units of 4 layers, GAP, 1x1 conv, Flatten, LogSoftmax
  EXPECT_EQ(layer_count<S9Reference>, 52);
}

TEST(ParamsS9, FirstUnitLayerByLayer) {
  // 3->32: depthwise 3*9 = 27; pointwise 3*32 + 32 = 128; BN 2*32 = 64; ReLU 0 -> 219
  static_assert(layer<S9Reference, 1>.f.params == 27);
  EXPECT_EQ((layer<S9Reference, 1>.f.params), 27);
  EXPECT_EQ((layer<S9Reference, 2>.f.params), 128);
  EXPECT_EQ((layer<S9Reference, 3>.f.params), 64);
  EXPECT_EQ((layer<S9Reference, 4>.f.params), 0);
  EXPECT_EQ((layer<S9Reference, 3>.f.buffers), 64);
}

TEST(ParamsS9, PerUnitFiguresOfTheSpecTable) {
  // Unit u (0-based) is layers 4u+1 .. 4u+4.
  constexpr std::int64_t spec[12] = {
      219,    1'408,  1'408,   // C1: 3->32 (27+128+64), 32->32 (288+1,056+64) twice
      2'528,  4'864,  4'864,   // C2: 32->64 (288+2,112+128), 64->64 (576+4,160+128)
      9'152,  17'920, 17'920,  // C3: 64->128 (576+8,320+256), 128->128 (1,152+16,512+256)
      30'496, 52'864, 52'864,  // C4: 128->224 (1,152+28,896+448), 224->224 (2,016+50,400+448)
  };
  for (int u = 0; u < 12; ++u)
    EXPECT_EQ(params_of_layers(S9Reference::plan, 4 * u + 1, 4 * u + 4), spec[u]) << "unit " << u + 1;
  // O: GAP (0) + 1x1 conv 224->10 with bias: 2,240 + 10 = 2,250
  EXPECT_EQ((layer<S9Reference, 49>.f.params), 0);
  static_assert(layer<S9Reference, 50>.f.params == 2'250);
  EXPECT_EQ((layer<S9Reference, 50>.f.params), 2'250);
  EXPECT_EQ((layer<S9Reference, 51>.f.params), 0);  // Flatten
  EXPECT_EQ((layer<S9Reference, 52>.f.params), 0);  // LogSoftmax
}

// The same units as networks of their own.
using Unit3to32 = Network<Input<3, 32, 32>, ::assignments::SepUnit<32>>;
using Unit32to32Dil = Network<Input<32, 32, 32>, ::assignments::SepUnit<32, 2>>;
using Unit32to64 = Network<Input<32, 32, 32>, ::assignments::SepUnit<64>>;
using Unit128to224 = Network<Input<128, 32, 32>, ::assignments::SepUnit<224>>;
using Unit224to224Dil = Network<Input<224, 32, 32>, ::assignments::SepUnit<224, 2>>;
using OutputBlock = Network<Input<224, 32, 32>, GlobalAvgPool, Conv2d<conv{.out = 10, .kernel = 1}>>;

TEST(ParamsS9, UnitsAsStandaloneNetworks) {
  static_assert(param_count<Unit3to32> == 219);
  EXPECT_EQ(param_count<Unit3to32>, 219);
  EXPECT_EQ(param_count<Unit32to32Dil>, 1'408);  // dilation does not change the count
  EXPECT_EQ(param_count<Unit32to64>, 2'528);
  EXPECT_EQ(param_count<Unit128to224>, 30'496);
  EXPECT_EQ(param_count<Unit224to224Dil>, 52'864);
  EXPECT_EQ(param_count<OutputBlock>, 2'250);
  EXPECT_EQ(buffer_count<Unit224to224Dil>, 448);  // 2 * 224
}

// ------------------------------------------------------- S7-dilated ----

TEST(ParamsS7Dilated, Total) {
  static_assert(param_count<S7DilatedReference> == 68'992);
  EXPECT_EQ(param_count<S7DilatedReference>, 68'992);
  // BN channels 32 + 64 + 32 + 64 + 64 + 64 + 128 = 448 -> 896 buffers
  EXPECT_EQ(buffer_count<S7DilatedReference>, 896);
  // C1 8 layers, C2 10, C3 9, O 2, Flatten, LogSoftmax
  EXPECT_EQ(layer_count<S7DilatedReference>, 31);
}

TEST(ParamsS7Dilated, PerRowFiguresOfTheSpecTable) {
  // Layer numbers: C1 conv 1, ReLU 2, BN 3, dw 4, pw 5, ReLU 6, BN 7, pw 8;
  // C2 conv 9, ReLU 10, BN 11, dw 12, pw 13, ReLU 14, BN 15, dil conv 16, ReLU 17, BN 18;
  // C3 pw 19, dw 20, pw 21, ReLU 22, BN 23, dw 24, pw 25, ReLU 26, BN 27; O GAP 28, pw 29.
  using N = S7DilatedReference;
  EXPECT_EQ((layer<N, 1>.f.params), 864);       // row 1: 32*3*9
  EXPECT_EQ((layer<N, 3>.f.params), 64);        //        BN 2*32
  EXPECT_EQ((layer<N, 4>.f.params), 288);       // row 2: 32*9
  EXPECT_EQ((layer<N, 5>.f.params), 2'048);     // row 3: 64*32
  EXPECT_EQ((layer<N, 7>.f.params), 128);       //        BN 2*64
  EXPECT_EQ((layer<N, 8>.f.params), 2'048);     // row 4: 32*64
  EXPECT_EQ((layer<N, 9>.f.params), 9'216);     // row 5: 32*32*9
  EXPECT_EQ((layer<N, 11>.f.params), 64);
  EXPECT_EQ((layer<N, 12>.f.params), 288);      // row 6
  EXPECT_EQ((layer<N, 13>.f.params), 2'048);    // row 7
  EXPECT_EQ((layer<N, 15>.f.params), 128);
  static_assert(layer<N, 16>.f.params == 36'864);
  EXPECT_EQ((layer<N, 16>.f.params), 36'864);   // row 8: 64*64*9
  EXPECT_EQ((layer<N, 18>.f.params), 128);
  EXPECT_EQ((layer<N, 19>.f.params), 2'048);    // row 9: 32*64
  EXPECT_EQ((layer<N, 20>.f.params), 288);      // row 10
  EXPECT_EQ((layer<N, 21>.f.params), 2'048);    // row 11
  EXPECT_EQ((layer<N, 23>.f.params), 128);
  EXPECT_EQ((layer<N, 24>.f.params), 576);      // row 12: 64*9
  EXPECT_EQ((layer<N, 25>.f.params), 8'192);    // row 13: 128*64
  EXPECT_EQ((layer<N, 27>.f.params), 256);
  EXPECT_EQ((layer<N, 29>.f.params), 1'280);    // row 14: 10*128, no bias
  // Rows as the spec groups them (conv + its BN): 928, 288, 2,176, 2,048, 9,280, 288,
  // 2,176, 36,992, 2,048, 288, 2,176, 576, 8,448, 1,280 (sum 68,992).
  EXPECT_EQ(params_of_layers(N::plan, 1, 3), 928);
  EXPECT_EQ(params_of_layers(N::plan, 9, 11), 9'280);
  EXPECT_EQ(params_of_layers(N::plan, 16, 18), 36'992);
  EXPECT_EQ(params_of_layers(N::plan, 24, 27), 8'448 + 576);
  // blocks: C1 928+288+2,176+2,048 = 5,440; C2 9,280+288+2,176+36,992 = 48,736;
  // C3 2,048+288+2,176+576+8,448 = 13,536; O 1,280
  EXPECT_EQ(params_of_layers(N::plan, 1, 8), 5'440);
  EXPECT_EQ(params_of_layers(N::plan, 9, 18), 48'736);
  EXPECT_EQ(params_of_layers(N::plan, 19, 27), 13'536);
  EXPECT_EQ(params_of_layers(N::plan, 28, 31), 1'280);
}

TEST(ParamsS7Dilated, NoBiasAnywhere) {
  for (const auto& r : S7DilatedReference::plan.rows)
    if (r.is_conv()) {
      EXPECT_FALSE(r.f.bias) << "layer " << r.number;
    }
}

}  // namespace
