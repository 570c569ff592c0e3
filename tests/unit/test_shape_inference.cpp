// Shape inference of every layer kind, checked against the PyTorch formula
//   out = floor((in + 2*p - d*(k-1) - 1) / s) + 1
// (ceil instead of floor with ceil_mode, dropping a last window that would
// start in the right padding), computed by hand in the comments.
#include <gtest/gtest.h>

#include "networks.hpp"
#include "test_support.hpp"

namespace {

using namespace staticnet;

// ------------------------------------------------------------ Conv2d ----

using Conv16Pad1 = Conv2d<conv{.out = 16, .kernel = 3, .padding = 1}>;
using Conv16NoPad = Conv2d<conv{.out = 16, .kernel = 3}>;
using Conv16S2P1 = Conv2d<conv{.out = 16, .kernel = 3, .stride = 2, .padding = 1}>;
using Conv16S2 = Conv2d<conv{.out = 16, .kernel = 3, .stride = 2}>;
using Conv8K5S3P2 = Conv2d<conv{.out = 8, .kernel = 5, .stride = 3, .padding = 2}>;
using ConvDil2Pad2 = Conv2d<conv{.out = 8, .kernel = 3, .padding = 2, .dilation = 2}>;
using ConvDil4 = Conv2d<conv{.out = 64, .kernel = 3, .dilation = 4, .bias = false}>;

TEST(ShapeConv2d, SamePaddingKeepsSize) {
  // (32 + 2 - 2 - 1)/1 + 1 = 32; channels from .out
  constexpr auto f = facts_of<Conv16Pad1>(shape{3, 32, 32});
  static_assert(f.out == shape{16, 32, 32});
  EXPECT_EQ(f.out, (shape{16, 32, 32}));
  EXPECT_EQ(f.err, error::none);
  EXPECT_TRUE(f.spatial);
  EXPECT_EQ(f.groups, 1);
}

TEST(ShapeConv2d, NoPaddingShrinksByKernelMinusOne) {
  // 32 - 3 + 1 = 30; 7 - 3 + 1 = 5 on a non-square input 9 x 7 -> 7 x 5
  constexpr auto f = facts_of<Conv16NoPad>(shape{3, 32, 32});
  EXPECT_EQ(f.out, (shape{16, 30, 30}));
  constexpr auto g = facts_of<Conv16NoPad>(shape{3, 9, 7});
  EXPECT_EQ(g.out, (shape{16, 7, 5}));
}

TEST(ShapeConv2d, Stride) {
  // stride 2 pad 1: floor((32 + 2 - 3)/2) + 1 = floor(31/2) + 1 = 16
  constexpr auto a = facts_of<Conv16S2P1>(shape{3, 32, 32});
  static_assert(a.out == shape{16, 16, 16});
  EXPECT_EQ(a.out, (shape{16, 16, 16}));
  EXPECT_EQ(a.g.sh, 2);
  EXPECT_EQ(a.g.sw, 2);
  // stride 2 no pad: floor((32 - 3)/2) + 1 = 14 + 1 = 15
  constexpr auto b = facts_of<Conv16S2>(shape{3, 32, 32});
  EXPECT_EQ(b.out, (shape{16, 15, 15}));
  // k5 s3 p2 on 28: floor((28 + 4 - 5)/3) + 1 = 9 + 1 = 10
  constexpr auto c = facts_of<Conv8K5S3P2>(shape{3, 28, 28});
  EXPECT_EQ(c.out, (shape{8, 10, 10}));
}

TEST(ShapeConv2d, Dilation) {
  // d2 p2 k3: 32 + 4 - 2*2 - 1 = 31 -> 32
  constexpr auto a = facts_of<ConvDil2Pad2>(shape{8, 32, 32});
  EXPECT_EQ(a.out, (shape{8, 32, 32}));
  EXPECT_TRUE(a.dilated);
  // S7-dilated layer 8: d4 p0 k3 on 32: 32 - 4*2 - 1 = 23 -> 24
  constexpr auto b = facts_of<ConvDil4>(shape{64, 32, 32});
  static_assert(b.out == shape{64, 24, 24});
  EXPECT_EQ(b.out, (shape{64, 24, 24}));
  EXPECT_EQ(b.g.dh, 4);
  EXPECT_EQ(b.g.dw, 4);
}

using ConvK1x3 = Conv2d<conv{.out = 8, .kernel_h = 1, .kernel_w = 3}>;
using ConvStrideH2 = Conv2d<conv{.out = 8, .kernel = 3, .padding = 1, .stride_h = 2}>;
using ConvPadH0W1 = Conv2d<conv{.out = 2, .kernel = 3, .padding = 1, .padding_h = 0}>;
using ConvDilH2 = Conv2d<conv{.out = 2, .kernel = 3, .dilation_h = 2}>;
using ConvStrideW2 = Conv2d<conv{.out = 4, .kernel = 3, .stride = 1, .stride_w = 2}>;

TEST(ShapeConv2d, AsymmetricKernel) {
  // kernel 1x3, no padding, on 10x12: h = 10 - 1 + 1 = 10, w = 12 - 3 + 1 = 10
  constexpr auto f = facts_of<ConvK1x3>(shape{4, 10, 12});
  static_assert(f.out == shape{8, 10, 10});
  EXPECT_EQ(f.out, (shape{8, 10, 10}));
  EXPECT_EQ(f.g.kh, 1);
  EXPECT_EQ(f.g.kw, 3);
  EXPECT_FALSE(f.pointwise);  // 1x3 is not 1x1
}

TEST(ShapeConv2d, AsymmetricStridePaddingDilation) {
  // stride_h 2 (stride_w falls back to 1), pad 1, k3 on 16x16:
  // h = floor((16 + 2 - 3)/2) + 1 = 7 + 1 = 8, w = 16
  constexpr auto a = facts_of<ConvStrideH2>(shape{4, 16, 16});
  EXPECT_EQ(a.out, (shape{8, 8, 16}));
  EXPECT_EQ(a.g.sh, 2);
  EXPECT_EQ(a.g.sw, 1);
  // padding_h 0 overrides the square padding 1 on H only, k3 on 9x9: h = 7, w = 9
  constexpr auto b = facts_of<ConvPadH0W1>(shape{1, 9, 9});
  EXPECT_EQ(b.out, (shape{2, 7, 9}));
  EXPECT_EQ(b.g.ph, 0);
  EXPECT_EQ(b.g.pw, 1);
  // dilation_h 2, k3, no pad on 11x11: h = 11 - 2*2 - 1 + 1 = 7, w = 11 - 2 = 9
  constexpr auto c = facts_of<ConvDilH2>(shape{1, 11, 11});
  EXPECT_EQ(c.out, (shape{2, 7, 9}));
  EXPECT_TRUE(c.dilated);
  // stride_w 2, k3, no pad on 9x9: h = 7, w = floor(6/2) + 1 = 4
  constexpr auto d = facts_of<ConvStrideW2>(shape{1, 9, 9});
  EXPECT_EQ(d.out, (shape{4, 7, 4}));
}

using ConvGroups2 = Conv2d<conv{.out = 8, .kernel = 3, .padding = 1, .groups = 2}>;
using ConvOut0 = Conv2d<conv{.kernel = 3}>;
using ConvGroups4Out6 = Conv2d<conv{.out = 6, .kernel = 1, .groups = 4}>;
using ConvK5 = Conv2d<conv{.out = 4, .kernel = 5}>;
using ConvPad3 = Conv2d<conv{.out = 4, .kernel = 3, .padding = 3}>;
using ConvPad2 = Conv2d<conv{.out = 4, .kernel = 3, .padding = 2}>;
using ConvStride0 = Conv2d<conv{.out = 4, .kernel = 3, .stride = 0, .stride_h = 0}>;

TEST(ShapeConv2d, Groups) {
  constexpr auto f = facts_of<ConvGroups2>(shape{4, 8, 8});
  EXPECT_EQ(f.out, (shape{8, 8, 8}));
  EXPECT_EQ(f.groups, 2);
  EXPECT_FALSE(f.depthwise);  // groups 2 != 4 input channels
}

TEST(ShapeConv2d, InvalidCompositionsReportTheirError) {
  EXPECT_EQ(facts_of<ConvGroups2>(shape{3, 8, 8}).err, error::groups_in);        // 3 % 2 != 0
  EXPECT_EQ(facts_of<ConvGroups4Out6>(shape{4, 8, 8}).err, error::groups_out);   // 6 % 4 != 0
  EXPECT_EQ(facts_of<ConvOut0>(shape{4, 8, 8}).err, error::conv_out_missing);
  EXPECT_EQ(facts_of<ConvK5>(shape{4, 3, 3}).err, error::nonpositive_output);    // 3 - 5 + 1 < 1
  EXPECT_EQ(facts_of<ConvK5>(shape{4, 5, 5}).out, (shape{4, 1, 1}));             // 5 - 5 + 1 = 1
  EXPECT_EQ(facts_of<ConvPad2>(shape{4, 8, 8}).err, error::none);                // 2 <= 2
  EXPECT_EQ(facts_of<ConvPad2>(shape{4, 8, 8}).out, (shape{4, 10, 10}));         // 8 + 4 - 2 = 10
  EXPECT_EQ(facts_of<ConvStride0>(shape{4, 8, 8}).err, error::conv_geometry);
  EXPECT_EQ(facts_of<Conv16Pad1>(shape{128, 1, 1, true}).err, error::spatial_on_flat);
}

using Conv1P1 = Conv2d<conv{.out = 4, .kernel = 1, .padding = 1}>;
using Conv1PadH2 = Conv2d<conv{.out = 2, .kernel = 1, .padding_h = 2, .padding_w = 0}>;
using ConvK5P2 = Conv2d<conv{.out = 4, .kernel = 5, .padding = 2}>;
using ConvK5P1 = Conv2d<conv{.out = 4, .kernel = 5, .padding = 1}>;
using ConvD3P4 = Conv2d<conv{.out = 4, .kernel = 3, .padding = 4, .dilation = 3}>;
using DwP3 = DepthwiseConv2d<conv{.kernel = 3, .padding = 3}>;

TEST(ShapeConv2d, AnyPaddingAsInPyTorch) {
  // PyTorch's Conv2d takes any padding >= 0; only the output must be >= 1.
  // 1x1 with padding 1 grows the map: 8 + 2 - 0 - 1 + 1 = 10; 4*3 + 4 parameters
  constexpr auto a = facts_of<Conv1P1>(shape{3, 8, 8});
  static_assert(a.err == error::none && a.out == shape{4, 10, 10});
  EXPECT_EQ(a.out, (shape{4, 10, 10}));
  EXPECT_EQ(a.params, 4 * 3 + 4);
  EXPECT_EQ(a.macs, 4 * 3 * 100);  // the border outputs are computed too (they are the bias)
  EXPECT_TRUE(a.pointwise);        // still a 1x1 conv with groups 1
  EXPECT_EQ(a.g.ph, 1);
  // padding on one axis only: h = 5 + 4 = 9, w = 5
  EXPECT_EQ(facts_of<Conv1PadH2>(shape{1, 5, 5}).out, (shape{2, 9, 5}));
  // 3x3 with padding 3 (> dilation*(k-1) = 2): 8 + 6 - 2 - 1 + 1 = 12
  EXPECT_EQ(facts_of<ConvPad3>(shape{4, 8, 8}).out, (shape{4, 12, 12}));
  // a 5x5 kernel on a 1x1 map: padding 2 makes room for it (1 + 4 - 4 - 1 + 1 = 1), padding 1 does not
  EXPECT_EQ(facts_of<ConvK5P2>(shape{4, 1, 1}).out, (shape{4, 1, 1}));
  EXPECT_EQ(facts_of<ConvK5P1>(shape{4, 1, 1}).err, error::nonpositive_output);
  // dilation 3, padding 4 on 2x2: 2 + 8 - 6 - 1 + 1 = 4
  EXPECT_EQ(facts_of<ConvD3P4>(shape{4, 2, 2}).out, (shape{4, 4, 4}));
  // depthwise, padding 3: 5 + 6 - 2 - 1 + 1 = 9
  EXPECT_EQ(facts_of<DwP3>(shape{4, 5, 5}).out, (shape{4, 9, 9}));
}

// --------------------------------------------------- DepthwiseConv2d ----

using Dw3 = DepthwiseConv2d<conv{.kernel = 3, .padding = 1}>;
using Dw3x2 = DepthwiseConv2d<conv{.out = 64, .kernel = 3, .padding = 1}>;
using Dw3Bad = DepthwiseConv2d<conv{.out = 48, .kernel = 3, .padding = 1}>;
using Dw3S2 = DepthwiseConv2d<conv{.kernel = 3, .stride = 2, .padding = 1, .bias = false}>;
using Dw3D2 = DepthwiseConv2d<conv{.kernel = 3, .padding = 2, .dilation = 2, .groups = 5, .bias = false}>;

TEST(ShapeDepthwise, SameChannels) {
  constexpr auto f = facts_of<Dw3>(shape{32, 16, 16});
  static_assert(f.out == shape{32, 16, 16});
  EXPECT_EQ(f.out, (shape{32, 16, 16}));
  EXPECT_EQ(f.groups, 32);
  EXPECT_TRUE(f.depthwise);
  EXPECT_FALSE(f.pointwise);
}

TEST(ShapeDepthwise, DepthMultiplier) {
  // .out = 64 on 32 channels: multiplier 2, still groups = 32
  constexpr auto f = facts_of<Dw3x2>(shape{32, 16, 16});
  EXPECT_EQ(f.out, (shape{64, 16, 16}));
  EXPECT_EQ(f.groups, 32);
  EXPECT_TRUE(f.depthwise);
  // 48 is not a multiple of 32
  EXPECT_EQ(facts_of<Dw3Bad>(shape{32, 16, 16}).err, error::depthwise_multiplier);
}

TEST(ShapeDepthwise, StrideAndDilation) {
  // s2 p1 on 16: floor((16 + 2 - 3)/2) + 1 = 8
  EXPECT_EQ(facts_of<Dw3S2>(shape{32, 16, 16}).out, (shape{32, 8, 8}));
  // d2 p2: 16 + 4 - 4 - 1 + 1 = 16; .groups is ignored (always the input channels)
  constexpr auto f = facts_of<Dw3D2>(shape{32, 16, 16});
  EXPECT_EQ(f.out, (shape{32, 16, 16}));
  EXPECT_EQ(f.groups, 32);
  EXPECT_TRUE(f.dilated);
}

// --------------------------------------------- Pointwise / Separable ----

using Pw64 = PointwiseConv2d<64>;

TEST(ShapePointwise, OneByOne) {
  constexpr auto f = facts_of<Pw64>(shape{32, 16, 16});
  EXPECT_EQ(f.out, (shape{64, 16, 16}));
  EXPECT_TRUE(f.pointwise);
  EXPECT_EQ(f.g.kh, 1);
  EXPECT_EQ(f.g.kw, 1);
  static_assert(std::is_same_v<PointwiseConv2d<64, false>, Conv2d<conv{.out = 64, .kernel = 1, .bias = false}>>);
}

using SepNet = Network<Input<32, 16, 16>, SeparableConv2d<sep{.out = 64, .padding = 1}>>;
using SepS2Net = Network<Input<8, 32, 32>, SeparableConv2d<sep{.out = 16, .kernel = 3, .stride = 2, .padding = 1}>>;
using SepD2Net = Network<Input<8, 32, 32>, SeparableConv2d<sep{.out = 16, .kernel = 3, .padding = 2, .dilation = 2}>>;

TEST(ShapeSeparable, DepthwiseThenPointwise) {
  static_assert(SepNet::output_shape == shape{64, 16, 16});
  EXPECT_EQ(SepNet::output_shape, (shape{64, 16, 16}));
  EXPECT_EQ(layer_count<SepNet>, 2);
  // row 1: depthwise 32 -> 32 at 16x16; row 2: 1x1 32 -> 64
  EXPECT_EQ((layer<SepNet, 1>.out), (shape{32, 16, 16}));
  EXPECT_TRUE((layer<SepNet, 1>.f.depthwise));
  EXPECT_TRUE((layer<SepNet, 2>.f.pointwise));
  // stride 2 on the depthwise conv: floor((32 + 2 - 3)/2) + 1 = 16
  EXPECT_EQ(SepS2Net::output_shape, (shape{16, 16, 16}));
  // dilation 2 padding 2: 32 + 4 - 4 - 1 + 1 = 32
  EXPECT_EQ(SepD2Net::output_shape, (shape{16, 32, 32}));
}

// ----------------------------------------------------------- pooling ----

using Max2 = MaxPool2d<>;
using Max3S2 = MaxPool2d<pool{.kernel = 3, .stride = 2}>;
using Max3S2Ceil = MaxPool2d<pool{.kernel = 3, .stride = 2, .ceil_mode = true}>;
using Max2Ceil = MaxPool2d<pool{.kernel = 2, .ceil_mode = true}>;
using Max2P1Ceil = MaxPool2d<pool{.kernel = 2, .stride = 2, .padding = 1, .ceil_mode = true}>;
using Max3S2P1 = MaxPool2d<pool{.kernel = 3, .stride = 2, .padding = 1}>;
using Max3S2P1Ceil = MaxPool2d<pool{.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true}>;
using Max3D2 = MaxPool2d<pool{.kernel = 3, .stride = 1, .dilation = 2}>;
using Avg2 = AvgPool2d<>;
using Avg3D2 = AvgPool2d<pool{.kernel = 3, .stride = 1, .dilation = 2}>;
using Max2P2 = MaxPool2d<pool{.kernel = 2, .padding = 2}>;
using Max3P1 = MaxPool2d<pool{.kernel = 3, .stride = 1, .padding = 1}>;
using Avg3 = AvgPool2d<pool{.kernel = 3}>;

TEST(ShapePooling, DefaultIsTwoByTwoStrideTwo) {
  constexpr auto m = facts_of<Max2>(shape{16, 32, 32});
  static_assert(m.out == shape{16, 16, 16});
  EXPECT_EQ(m.out, (shape{16, 16, 16}));
  EXPECT_EQ(m.g.sh, 2);
  EXPECT_EQ(m.params, 0);
  EXPECT_EQ(facts_of<Avg2>(shape{16, 32, 32}).out, (shape{16, 16, 16}));
  // odd size floors: floor((15 - 2)/2) + 1 = 7
  EXPECT_EQ(facts_of<Max2>(shape{4, 15, 15}).out, (shape{4, 7, 7}));
  // kernel 3, stride defaults to the kernel: floor((32 - 3)/3) + 1 = 10
  EXPECT_EQ(facts_of<Avg3>(shape{4, 32, 32}).out, (shape{4, 10, 10}));
}

TEST(ShapePooling, CeilModeFollowsPyTorch) {
  // k3 s2 on 32: floor 29/2 = 14 -> 15; ceil 29/2 = 15 -> 16, last start (16-1)*2 = 30 < 32 kept
  EXPECT_EQ(facts_of<Max3S2>(shape{4, 32, 32}).out, (shape{4, 15, 15}));
  EXPECT_EQ(facts_of<Max3S2Ceil>(shape{4, 32, 32}).out, (shape{4, 16, 16}));
  // k2 s2 on 5: floor 3/2 = 1 -> 2; ceil 3/2 = 2 -> 3 (start 4 < 5 kept)
  EXPECT_EQ(facts_of<Max2>(shape{1, 5, 5}).out, (shape{1, 2, 2}));
  EXPECT_EQ(facts_of<Max2Ceil>(shape{1, 5, 5}).out, (shape{1, 3, 3}));
  // k2 s2 p1 on 5, ceil: span 5 + 2 - 1 - 1 = 5, ceil 5/2 = 3 -> 4, but the 4th window
  // would start at (4-1)*2 = 6 >= 5 + 1 (inside the right padding): PyTorch drops it -> 3
  EXPECT_EQ(facts_of<Max2P1Ceil>(shape{1, 5, 5}).out, (shape{1, 3, 3}));
  // k3 s2 p1 on 6: floor 5/2 = 2 -> 3; ceil 5/2 = 3 -> 4 (start 6 < 6 + 1 kept)
  EXPECT_EQ(facts_of<Max3S2P1>(shape{1, 6, 6}).out, (shape{1, 3, 3}));
  EXPECT_EQ(facts_of<Max3S2P1Ceil>(shape{1, 6, 6}).out, (shape{1, 4, 4}));
  // k3 s2 p1 on 32: floor((32 + 2 - 3)/2) + 1 = 16
  EXPECT_EQ(facts_of<Max3S2P1>(shape{1, 32, 32}).out, (shape{1, 16, 16}));
}

TEST(ShapePooling, PaddingAndDilation) {
  // k3 s1 p1 keeps the size
  EXPECT_EQ(facts_of<Max3P1>(shape{4, 9, 9}).out, (shape{4, 9, 9}));
  // max pool dilation 2, k3 s1 on 10: 10 - 2*2 - 1 + 1 = 6
  constexpr auto m = facts_of<Max3D2>(shape{4, 10, 10});
  EXPECT_EQ(m.out, (shape{4, 6, 6}));
  EXPECT_EQ(m.g.dh, 2);
  // average pooling has no dilation: 10 - 3 + 1 = 8
  constexpr auto a = facts_of<Avg3D2>(shape{4, 10, 10});
  EXPECT_EQ(a.out, (shape{4, 8, 8}));
  EXPECT_EQ(a.g.dh, 1);
  // padding 2 > kernel 2 / 2
  EXPECT_EQ(facts_of<Max2P2>(shape{4, 10, 10}).err, error::pool_padding_too_large);
  EXPECT_EQ(facts_of<Max2>(shape{4, 1, 1}).err, error::nonpositive_output);
  EXPECT_EQ(facts_of<Max2>(shape{16, 1, 1, true}).err, error::spatial_on_flat);
}

using Max3Ceil = MaxPool2d<pool{.kernel = 3, .ceil_mode = true}>;
using Max3 = MaxPool2d<pool{.kernel = 3}>;
using Avg3S2Ceil = AvgPool2d<pool{.kernel = 3, .stride = 2, .ceil_mode = true}>;
using Avg2P1 = AvgPool2d<pool{.kernel = 2, .padding = 1}>;
using Max1P1 = MaxPool2d<pool{.kernel = 1, .padding = 1}>;
using Max5P2 = MaxPool2d<pool{.kernel = 5, .stride = 1, .padding = 2}>;
using Max5P3 = MaxPool2d<pool{.kernel = 5, .stride = 1, .padding = 3}>;
using Max2D3P1 = MaxPool2d<pool{.kernel = 2, .stride = 1, .padding = 1, .dilation = 3}>;
using Max3D2P2 = MaxPool2d<pool{.kernel = 3, .stride = 1, .padding = 2, .dilation = 2}>;

TEST(ShapePooling, CeilModeWindowMayRunPastTheInput) {
  // PyTorch: ceil((2 - 2 - 1)/3) + 1 = 0 + 1 = 1: the one window starts inside
  // the input and runs past it; without ceil_mode floor(-1/3) + 1 = 0: too small
  EXPECT_EQ(facts_of<Max3Ceil>(shape{4, 2, 2}).out, (shape{4, 1, 1}));
  EXPECT_EQ(facts_of<Max3>(shape{4, 2, 2}).err, error::nonpositive_output);
  // k3 s2 on 4: ceil(1/2) + 1 = 2 (second window starts at 2 < 4), floor gives 1
  EXPECT_EQ(facts_of<Avg3S2Ceil>(shape{4, 4, 4}).out, (shape{4, 2, 2}));
  EXPECT_EQ(facts_of<Max3S2>(shape{4, 4, 4}).out, (shape{4, 1, 1}));
  // k3 s2 on 2: ceil((2 - 3)/2) + 1 = 0 + 1 = 1; on 1: ceil((1 - 3)/2) + 1 = -1 + 1 = 0
  EXPECT_EQ(facts_of<Avg3S2Ceil>(shape{4, 2, 2}).out, (shape{4, 1, 1}));
  EXPECT_EQ(facts_of<Avg3S2Ceil>(shape{4, 1, 1}).err, error::nonpositive_output);
}

TEST(ShapePooling, PaddingUpToHalfTheKernelAsInPyTorch) {
  // PyTorch: pad <= kernel / 2 (integer division), for MaxPool2d whatever the dilation
  EXPECT_EQ(facts_of<Avg2P1>(shape{4, 4, 4}).out, (shape{4, 3, 3}));  // 1 <= 2/2: (4 + 2 - 2)/2 + 1
  EXPECT_EQ(facts_of<Max1P1>(shape{4, 4, 4}).err, error::pool_padding_too_large);  // 1 > 1/2
  EXPECT_EQ(facts_of<Max5P2>(shape{4, 4, 4}).out, (shape{4, 4, 4}));
  EXPECT_EQ(facts_of<Max5P3>(shape{4, 4, 4}).err, error::pool_padding_too_large);
  // dilation 3: 1 <= 2/2 (and <= half the effective kernel 4): 5 + 2 - 3 - 1 + 1 = 4
  EXPECT_EQ(facts_of<Max2D3P1>(shape{4, 5, 5}).out, (shape{4, 4, 4}));
  // dilation 2, padding 2: half the effective kernel (5 / 2 = 2) would allow it, 3 / 2 = 1 does not
  EXPECT_EQ(facts_of<Max3D2P2>(shape{4, 8, 8}).err, error::pool_padding_too_large);
}

using Avg8 = AvgPool2d<pool{.kernel = 8}>;
using Max8 = MaxPool2d<pool{.kernel = 8}>;
using Avg4 = AvgPool2d<pool{.kernel = 4}>;
using Avg6 = AvgPool2d<pool{.kernel = 6}>;
using Avg3P1 = AvgPool2d<pool{.kernel = 3, .padding = 1}>;
using Max2D2 = MaxPool2d<pool{.kernel = 2, .dilation = 2}>;

TEST(ShapePooling, OneWindowOverTheWholeMapIsGlobalPooling) {
  // AvgPool2d(8) on 8x8: one window, the whole map -> global pooling, no receptive-field step
  constexpr auto a = facts_of<Avg8>(shape{16, 8, 8});
  static_assert(a.global_pool && !a.spatial);
  EXPECT_EQ(a.out, (shape{16, 1, 1}));
  EXPECT_TRUE(a.global_pool);
  EXPECT_FALSE(a.spatial);
  EXPECT_EQ(a.g.kh, 8);  // the geometry stays (the engine runs the pool as written)
  EXPECT_EQ(a.g.sh, 8);
  EXPECT_TRUE(facts_of<Max8>(shape{16, 8, 8}).global_pool);
  // MaxPool2d(3, ceil_mode) on 2x2: one window over all of it
  EXPECT_TRUE(facts_of<Max3Ceil>(shape{4, 2, 2}).global_pool);
  // not global: several windows; padding in the window; a dilated window that skips
  // pixels; one 6x6 window on a 6x8 map (output 1x1, but two columns are never read)
  EXPECT_FALSE(facts_of<Avg4>(shape{16, 8, 8}).global_pool);
  EXPECT_TRUE(facts_of<Avg4>(shape{16, 8, 8}).spatial);
  EXPECT_EQ(facts_of<Avg3P1>(shape{16, 1, 1}).out, (shape{16, 1, 1}));
  EXPECT_FALSE(facts_of<Avg3P1>(shape{16, 1, 1}).global_pool);
  EXPECT_EQ(facts_of<Max2D2>(shape{16, 3, 3}).out, (shape{16, 1, 1}));
  EXPECT_FALSE(facts_of<Max2D2>(shape{16, 3, 3}).global_pool);
  EXPECT_EQ(facts_of<Avg6>(shape{16, 6, 8}).out, (shape{16, 1, 1}));
  EXPECT_FALSE(facts_of<Avg6>(shape{16, 6, 8}).global_pool);
}

TEST(ShapeGlobalAvgPool, ToOneByOne) {
  constexpr auto f = facts_of<GlobalAvgPool>(shape{128, 24, 24});
  static_assert(f.out == shape{128, 1, 1});
  EXPECT_EQ(f.out, (shape{128, 1, 1, false}));
  EXPECT_EQ(f.params, 0);
  EXPECT_FALSE(f.spatial);
  EXPECT_TRUE(f.global_pool);
  // PyTorch's name for it is the same type
  static_assert(std::is_same_v<AdaptiveAvgPool2d<1>, GlobalAvgPool>);
  EXPECT_EQ(kind_name(AdaptiveAvgPool2d<1>::desc.kind), "AdaptiveAvgPool2d");
}

// ------------------------------------------------ ZeroPad2d / Identity ----

using Pad1 = ZeroPad2d<1>;
using PadLT = ZeroPad2d<pad{.left = 1, .right = 0, .top = 2, .bottom = 0}>;
using Crop1 = ZeroPad2d<-1>;
using Crop4 = ZeroPad2d<-4>;

TEST(ShapeZeroPad2d, PadsEachSideAsPyTorch) {
  // nn.ZeroPad2d(1): 8 + 1 + 1 = 10 on both axes, no parameters
  constexpr auto a = facts_of<Pad1>(shape{3, 8, 8});
  static_assert(a.out == shape{3, 10, 10});
  EXPECT_EQ(a.out, (shape{3, 10, 10}));
  EXPECT_EQ(a.params, 0);
  EXPECT_EQ(a.macs, 0);
  EXPECT_FALSE(a.spatial);  // no window: the receptive field and jump stay
  static_assert(Pad1::options == pad{1, 1, 1, 1});
  EXPECT_EQ(kind_name(Pad1::desc.kind), "ZeroPad2d");
  // nn.ZeroPad2d((1, 0, 2, 0)): (left, right, top, bottom) -> h 8 + 2, w 8 + 1
  EXPECT_EQ(facts_of<PadLT>(shape{3, 8, 8}).out, (shape{3, 10, 9}));
  static_assert(PadLT::options.top == 2 && PadLT::options.right == 0);
  // negative padding crops, as in PyTorch: 8 - 2 = 6; cropping everything is an error
  EXPECT_EQ(facts_of<Crop1>(shape{3, 8, 8}).out, (shape{3, 6, 6}));
  EXPECT_EQ(facts_of<Crop4>(shape{3, 8, 8}).err, error::nonpositive_output);
  EXPECT_EQ(facts_of<Pad1>(shape{16, 1, 1, true}).err, error::spatial_on_flat);
}

TEST(ShapeIdentity, OutputIsTheInput) {
  EXPECT_EQ(facts_of<Identity>(shape{3, 8, 8}).out, (shape{3, 8, 8}));
  EXPECT_EQ(facts_of<Identity>(shape{10, 1, 1, true}).out, (shape{10, 1, 1, true}));
  EXPECT_EQ(facts_of<Identity>(shape{3, 8, 8}).params, 0);
  EXPECT_EQ(facts_of<Identity>(shape{3, 8, 8}).err, error::none);
  EXPECT_EQ(kind_name(Identity::desc.kind), "Identity");
}

// ------------------------------------------- Flatten / Linear / rest ----

using Lin10 = Linear<linear{.out = 10}>;
using Lin0 = Linear<linear{}>;

TEST(ShapeFlattenLinear, FlattenMultipliesOut) {
  // 8 x 4 x 4 = 128 features
  constexpr auto f = facts_of<Flatten>(shape{8, 4, 4});
  static_assert(f.out == shape{128, 1, 1, true});
  EXPECT_EQ(f.out, (shape{128, 1, 1, true}));
  EXPECT_EQ(facts_of<Flatten>(shape{10, 1, 1}).out, (shape{10, 1, 1, true}));
}

TEST(ShapeFlattenLinear, Linear) {
  constexpr auto f = facts_of<Lin10>(shape{128, 1, 1, true});
  EXPECT_EQ(f.out, (shape{10, 1, 1, true}));
  EXPECT_EQ(facts_of<Lin10>(shape{8, 4, 4}).err, error::linear_not_flat);
  EXPECT_EQ(facts_of<Lin0>(shape{128, 1, 1, true}).err, error::linear_out_missing);
}

using Drop01 = Dropout<p(0.1)>;
using DropBad = Dropout<probability{1'500'000}>;

TEST(ShapeElementwise, DropoutReluBatchNormLogSoftmaxKeepTheShape) {
  EXPECT_EQ(facts_of<Drop01>(shape{16, 8, 8}).out, (shape{16, 8, 8}));
  EXPECT_EQ(facts_of<Drop01>(shape{16, 1, 1, true}).out, (shape{16, 1, 1, true}));
  static_assert(Drop01::rate.ppm == 100'000);
  static_assert(Dropout<>::rate.ppm == 500'000);  // torch default p = 0.5
  EXPECT_DOUBLE_EQ(Drop01::rate.value(), 0.1);
  EXPECT_EQ(facts_of<DropBad>(shape{16, 8, 8}).err, error::dropout_probability);
  EXPECT_EQ(facts_of<ReLU>(shape{16, 8, 8}).out, (shape{16, 8, 8}));
  EXPECT_EQ(facts_of<BatchNorm2d>(shape{16, 8, 8}).out, (shape{16, 8, 8}));
  EXPECT_EQ(facts_of<BatchNorm2d>(shape{16, 1, 1, true}).err, error::spatial_on_flat);
  EXPECT_EQ(facts_of<LogSoftmax>(shape{10, 1, 1, true}).out, (shape{10, 1, 1, true}));
}

// ----------------------------------------------------- whole networks ----

// 3x32x32 -conv p1-> 16x32x32 -pool-> 16x16x16 -conv k3-> 32x14x14 -GAP-> 32x1x1
// -Flatten-> 32 -Linear-> 10 -LogSoftmax-> 10
using SmallNet = Network<Input<3, 32, 32>, Conv16Pad1, ReLU, Max2, Conv2d<conv{.out = 32, .kernel = 3}>,
                         GlobalAvgPool, Flatten, Lin10, LogSoftmax>;

TEST(ShapeNetwork, OutputShapeIsInferredLayerByLayer) {
  static_assert(SmallNet::output_shape == shape{10, 1, 1, true});
  EXPECT_EQ(SmallNet::output_shape, (shape{10, 1, 1, true}));
  EXPECT_EQ(output_shape<SmallNet>, (shape{10, 1, 1, true}));
  EXPECT_EQ(SmallNet::input_shape, (shape{3, 32, 32}));
  EXPECT_EQ(input_shape<SmallNet>, (shape{3, 32, 32}));
  EXPECT_EQ(layer_count<SmallNet>, 8);
  EXPECT_EQ((layer<SmallNet, 1>.out), (shape{16, 32, 32}));
  EXPECT_EQ((layer<SmallNet, 3>.in), (shape{16, 32, 32}));
  EXPECT_EQ((layer<SmallNet, 3>.out), (shape{16, 16, 16}));
  EXPECT_EQ((layer<SmallNet, 4>.out), (shape{32, 14, 14}));
  EXPECT_EQ((layer<SmallNet, 5>.out), (shape{32, 1, 1}));
  EXPECT_EQ((layer<SmallNet, 6>.out), (shape{32, 1, 1, true}));
  EXPECT_EQ((layer<SmallNet, 7>.out), (shape{10, 1, 1, true}));
}

// A 1x1 conv with padding 1 grows 32 -> 34, ZeroPad2d((1, 0, 1, 0)) -> 35,
// Identity keeps it, a 5x5 stride-5 conv -> 7, AvgPool2d(7) pools it all.
using GrowingNet = Network<Input<3, 32, 32>, Conv1P1, ReLU, ZeroPad2d<pad{.left = 1, .right = 0, .top = 1, .bottom = 0}>,
                           Identity, Conv2d<conv{.out = 8, .kernel = 5, .stride = 5}>, AvgPool2d<pool{.kernel = 7}>,
                           Conv2d<conv{.out = 10, .kernel = 1}>, Flatten>;

TEST(ShapeNetwork, PaddedPointwiseZeroPadIdentityAndFullWindowPool) {
  static_assert(GrowingNet::output_shape == shape{10, 1, 1, true});
  EXPECT_EQ((layer<GrowingNet, 1>.out), (shape{4, 34, 34}));
  EXPECT_EQ((layer<GrowingNet, 3>.out), (shape{4, 35, 35}));
  EXPECT_EQ((layer<GrowingNet, 4>.out), (shape{4, 35, 35}));
  EXPECT_EQ((layer<GrowingNet, 5>.out), (shape{8, 7, 7}));
  EXPECT_EQ((layer<GrowingNet, 6>.out), (shape{8, 1, 1}));
  EXPECT_TRUE((layer<GrowingNet, 6>.f.global_pool));
  EXPECT_EQ(param_count<GrowingNet>, (4 * 3 + 4) + (8 * 4 * 25 + 8) + (10 * 8 + 10));
  EXPECT_EQ(global_pool_count<GrowingNet>, 1);
}

TEST(ShapeNetwork, ReferenceSolutions) {
  using ::assignments::S7DilatedReference;
  using ::assignments::S9Reference;
  // S9: everything at 32x32, then GAP -> 224x1x1, 1x1 conv -> 10x1x1, Flatten -> 10
  static_assert(S9Reference::output_shape == shape{10, 1, 1, true});
  EXPECT_EQ(S9Reference::output_shape, (shape{10, 1, 1, true}));
  EXPECT_EQ((layer<S9Reference, 1>.out), (shape{3, 32, 32}));    // depthwise 3 -> 3
  EXPECT_EQ((layer<S9Reference, 2>.out), (shape{32, 32, 32}));   // pointwise 3 -> 32
  EXPECT_EQ((layer<S9Reference, 48>.out), (shape{224, 32, 32}));  // last ReLU of C4
  EXPECT_EQ((layer<S9Reference, 49>.out), (shape{224, 1, 1}));    // GAP
  EXPECT_EQ((layer<S9Reference, 50>.out), (shape{10, 1, 1}));     // 1x1 conv
  // S7-dilated: the spec table's output column
  static_assert(S7DilatedReference::output_shape == shape{10, 1, 1, true});
  EXPECT_EQ((layer<S7DilatedReference, 1>.out), (shape{32, 32, 32}));   // row 1
  EXPECT_EQ((layer<S7DilatedReference, 5>.out), (shape{64, 32, 32}));   // row 3
  EXPECT_EQ((layer<S7DilatedReference, 8>.out), (shape{32, 32, 32}));   // row 4
  EXPECT_EQ((layer<S7DilatedReference, 16>.out), (shape{64, 24, 24}));  // row 8: dilation 4
  EXPECT_EQ((layer<S7DilatedReference, 19>.out), (shape{32, 24, 24}));  // row 9
  EXPECT_EQ((layer<S7DilatedReference, 25>.out), (shape{128, 24, 24}));  // row 13
  EXPECT_EQ((layer<S7DilatedReference, 28>.out), (shape{128, 1, 1}));   // GAP
  EXPECT_EQ((layer<S7DilatedReference, 29>.out), (shape{10, 1, 1}));    // row 14
}

}  // namespace
