// Receptive field and jump by the standard formula, layer by layer:
//   rf += dilation * (k - 1) * jump;  jump *= stride
// (convs and poolings; global pooling not counted; branches take the maximum).
#include <gtest/gtest.h>

#include "networks.hpp"
#include "test_support.hpp"

namespace {

using namespace staticnet;
using ::assignments::S7DilatedReference;
using ::assignments::S9Reference;

template <int K, int S = 1, int P = 0, int D = 1, int Out = 4>
using C = Conv2d<conv{.out = Out, .kernel = K, .stride = S, .padding = P, .dilation = D}>;

// ------------------------------------------------------------ chains ----

using OneConv3 = Network<Input<4, 32, 32>, C<3>>;
using OneConv3D2 = Network<Input<4, 32, 32>, C<3, 1, 2, 2>>;
using OneConv7S2 = Network<Input<4, 32, 32>, C<7, 2, 3>>;
using Strided = Network<Input<4, 32, 32>, C<3, 2, 1>, C<3, 1, 1>>;
using TwoStrides = Network<Input<4, 32, 32>, C<3, 2, 1>, C<3, 2, 1>, C<3, 1, 1>>;

TEST(ReceptiveField, SingleConvs) {
  static_assert(receptive_field<OneConv3> == 3);  // 1 + 1*2*1
  EXPECT_EQ(receptive_field<OneConv3>, 3);
  EXPECT_EQ(jump<OneConv3>, 1);
  EXPECT_EQ(receptive_field<OneConv3D2>, 5);  // 1 + 2*2*1
  EXPECT_EQ(receptive_field<OneConv7S2>, 7);  // 1 + 1*6*1
  EXPECT_EQ(jump<OneConv7S2>, 2);
}

TEST(ReceptiveField, StrideMultipliesLaterGrowth) {
  // 1 + 2*1 = 3 (jump 2); 3 + 2*2 = 7
  static_assert(receptive_field<Strided> == 7);
  EXPECT_EQ(receptive_field<Strided>, 7);
  EXPECT_EQ(jump<Strided>, 2);
  // 3 (j2); 3 + 2*2 = 7 (j4); 7 + 2*4 = 15 (j4)
  EXPECT_EQ(receptive_field<TwoStrides>, 15);
  EXPECT_EQ(jump<TwoStrides>, 4);
  EXPECT_EQ((layer<TwoStrides, 1>.rf_h), 3);
  EXPECT_EQ((layer<TwoStrides, 1>.jump_h), 2);
  EXPECT_EQ((layer<TwoStrides, 2>.rf_h), 7);
  EXPECT_EQ((layer<TwoStrides, 2>.jump_h), 4);
  EXPECT_EQ((layer<TwoStrides, 3>.rf_h), 15);
}

// ----------------------------------------------------------- pooling ----

// conv3 (3, j1); pool2 (3 + 1*1 = 4, j2); conv3 (4 + 2*2 = 8, j2); pool2 (8 + 1*2 = 10, j4);
// conv3 (10 + 2*4 = 18, j4)
using Pooled = Network<Input<4, 32, 32>, C<3, 1, 1>, ReLU, MaxPool2d<>, C<3, 1, 1>, ReLU, MaxPool2d<>, C<3, 1, 1>>;
// conv3 (3); max pool k3 d2 s1: 3 + 2*2*1 = 7
using DilatedPool = Network<Input<4, 32, 32>, C<3>, MaxPool2d<pool{.kernel = 3, .stride = 1, .dilation = 2}>>;
// conv3 s2 (3, j2); avg pool k3 s1 p1: 3 + 2*2 = 7
using AvgPooled = Network<Input<4, 32, 32>, C<3, 2, 1>, AvgPool2d<pool{.kernel = 3, .stride = 1, .padding = 1}>>;

TEST(ReceptiveField, Pooling) {
  static_assert(receptive_field<Pooled> == 18);
  EXPECT_EQ(receptive_field<Pooled>, 18);
  EXPECT_EQ(jump<Pooled>, 4);
  EXPECT_EQ((layer<Pooled, 3>.rf_h), 4);   // first pool
  EXPECT_EQ((layer<Pooled, 3>.jump_h), 2);
  EXPECT_EQ((layer<Pooled, 4>.rf_h), 8);
  EXPECT_EQ((layer<Pooled, 6>.rf_h), 10);  // second pool
  EXPECT_EQ((layer<Pooled, 6>.jump_h), 4);
  EXPECT_EQ((layer<Pooled, 5>.rf_h), 8);   // ReLU changes nothing
  EXPECT_EQ(receptive_field<DilatedPool>, 7);
  EXPECT_EQ(receptive_field<AvgPooled>, 7);
  EXPECT_EQ(jump<AvgPooled>, 2);
}

using GapNet = Network<Input<4, 32, 32>, C<3, 1, 1>, GlobalAvgPool, C<1>, Flatten, LogSoftmax>;
using GapAfterStride = Network<Input<4, 32, 32>, C<3, 2, 1>, GlobalAvgPool>;

TEST(ReceptiveField, GlobalPoolingIsNotCounted) {
  static_assert(receptive_field<GapNet> == 3);
  EXPECT_EQ(receptive_field<GapNet>, 3);
  EXPECT_EQ(jump<GapNet>, 1);
  EXPECT_EQ((layer<GapNet, 2>.rf_h), 3);  // the GAP row itself
  EXPECT_EQ(receptive_field<GapAfterStride>, 3);
  EXPECT_EQ(jump<GapAfterStride>, 2);
}

// conv3 p1 (3), conv3 s2 p1 (5, j2) on 8 -> 4x4; AvgPool2d(4) is one window
// over the whole 4x4 map: global pooling, nothing added (AvgPool2d(2) adds 1*2, j4)
using FullWindowAvg = Network<Input<4, 8, 8>, C<3, 1, 1>, C<3, 2, 1>, AvgPool2d<pool{.kernel = 4}>, C<1>>;
using FullWindowMax = Network<Input<4, 8, 8>, C<3, 1, 1>, C<3, 2, 1>, MaxPool2d<pool{.kernel = 4}>>;
using HalfWindowAvg = Network<Input<4, 8, 8>, C<3, 1, 1>, C<3, 2, 1>, AvgPool2d<pool{.kernel = 2}>>;
// the same as a GlobalAvgPool / AdaptiveAvgPool2d<1>
using AdaptiveNet = Network<Input<4, 8, 8>, C<3, 1, 1>, C<3, 2, 1>, AdaptiveAvgPool2d<1>, C<1>>;

TEST(ReceptiveField, AFullWindowPoolIsGlobalPooling) {
  static_assert(receptive_field<FullWindowAvg> == 5);
  EXPECT_EQ(receptive_field<FullWindowAvg>, 5);
  EXPECT_EQ(jump<FullWindowAvg>, 2);  // its stride 4 is not a step of the receptive field
  EXPECT_EQ((layer<FullWindowAvg, 3>.rf_h), 5);
  EXPECT_EQ(receptive_field<FullWindowMax>, 5);
  EXPECT_EQ(jump<FullWindowMax>, 2);
  EXPECT_EQ(receptive_field<HalfWindowAvg>, 7);
  EXPECT_EQ(jump<HalfWindowAvg>, 4);
  EXPECT_EQ(receptive_field<AdaptiveNet>, receptive_field<FullWindowAvg>);
  EXPECT_EQ(jump<AdaptiveNet>, jump<FullWindowAvg>);
}

// ZeroPad2d adds no window: rf and jump stay (only the map grows, and with it
// the offset of the first output's window). A padded 1x1 conv adds nothing either.
using PaddedNet = Network<Input<4, 16, 16>, C<3>, ZeroPad2d<2>, C<3, 2>,
                          ZeroPad2d<pad{.left = 1, .right = 0, .top = 0, .bottom = 3}>, Identity, C<3>>;
using PaddedPointwise = Network<Input<4, 16, 16>, C<3, 1, 1>, C<1, 1, 1>, C<1, 1, 2>, C<3, 2, 1>>;

TEST(ReceptiveField, ZeroPadIdentityAndPaddedPointwiseAddNothing) {
  // conv3 (3), pad (3), conv3 s2 (5, j2), pad, Identity (5, j2), conv3 (5 + 2*2 = 9)
  static_assert(receptive_field<PaddedNet> == 9);
  EXPECT_EQ((layer<PaddedNet, 2>.rf_h), 3);
  EXPECT_EQ((layer<PaddedNet, 2>.jump_h), 1);
  EXPECT_EQ((layer<PaddedNet, 3>.rf_h), 5);
  EXPECT_EQ((layer<PaddedNet, 4>.rf_h), 5);
  EXPECT_EQ((layer<PaddedNet, 4>.jump_h), 2);
  EXPECT_EQ((layer<PaddedNet, 5>.rf_h), 5);
  EXPECT_EQ(receptive_field<PaddedNet>, 9);
  EXPECT_EQ(jump<PaddedNet>, 2);
  // 3, then two padded 1x1 convs (3, 3), then conv3 s2 (5, j2)
  EXPECT_EQ((layer<PaddedPointwise, 3>.rf_h), 3);
  EXPECT_EQ(receptive_field<PaddedPointwise>, 5);
  EXPECT_EQ(jump<PaddedPointwise>, 2);
}

// ---------------------------------------------------------- branches ----

// branches 3 and 5 -> max 5
using AddNet = Network<Input<4, 16, 16>, Add<C<3, 1, 1>, C<5, 1, 2>>>;
// branches 3 and 1 + 2*2 = 5 -> 5
using ConcatNet = Network<Input<4, 16, 16>, Concat<C<3, 1, 1>, C<3, 1, 2, 2>>>;
// identity (1) and two 3x3 convs (5) -> 5
using ResidualNet = Network<Input<4, 16, 16>, Residual<C<3, 1, 1>, ReLU, C<3, 1, 1>>>;
// both branches: rf 3, jump 2; then conv3: 3 + 2*2 = 7
using StridedBranches = Network<Input<4, 16, 16>, Concat<C<3, 2, 1>, MaxPool2d<pool{.kernel = 3, .stride = 2, .padding = 1}>>,
                                C<3, 1, 1>>;
// branch 1: k2 s2 on 16 -> 8 (rf 2, j2); branch 2: k9 s1 on 16 -> 8 (rf 9, j1);
// merged: rf max 9, jump max 2; then conv3: 9 + 2*2 = 13
using MixedBranches = Network<Input<4, 16, 16>, Concat<C<2, 2>, C<9>>, C<3, 1, 1>>;
// outer branch 1: conv3 (3) then inner branches 3 + 2 = 5 and 3 + 4 = 7 -> 7;
// outer branch 2: conv3 (3) -> max 7
using NestedBranches = Network<Input<4, 8, 8>,
                               Add<Sequential<C<3, 1, 1>, Concat<C<3, 1, 1, 1, 2>, C<5, 1, 2, 1, 2>>>, C<3, 1, 1>>>;

TEST(ReceptiveField, BranchesTakeTheMaximum) {
  static_assert(receptive_field<AddNet> == 5);
  EXPECT_EQ(receptive_field<AddNet>, 5);
  EXPECT_EQ(receptive_field<ConcatNet>, 5);
  EXPECT_EQ(receptive_field<ResidualNet>, 5);
  EXPECT_EQ(receptive_field<StridedBranches>, 7);
  EXPECT_EQ(jump<StridedBranches>, 2);
  EXPECT_EQ(receptive_field<MixedBranches>, 13);
  EXPECT_EQ(jump<MixedBranches>, 2);
  EXPECT_EQ(receptive_field<NestedBranches>, 7);
}

TEST(ReceptiveField, EachBranchStartsFromTheBranchInput) {
  // AddNet rows: branch_begin, conv3, branch_next, conv5, branch_end
  const auto& rows = AddNet::plan.rows;
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[1].rf_h, 3);  // first branch
  EXPECT_EQ(rows[2].rf_h, 1);  // back to the input for the next branch
  EXPECT_EQ(rows[3].rf_h, 5);  // 1 + 4, not 3 + 4
  EXPECT_EQ(rows[4].rf_h, 5);  // merge: max
}

// ------------------------------------------------------------ non-square ----

using Kernel1x5 = Network<Input<4, 16, 16>, Conv2d<conv{.out = 4, .kernel_h = 1, .kernel_w = 5}>>;
// stride_h 2: rf_h 3 (jh 2), then 3 + 2*2 = 7; rf_w 3 (jw 1), then 5
using StrideH2 = Network<Input<4, 16, 16>, Conv2d<conv{.out = 4, .kernel = 3, .padding = 1, .stride_h = 2}>,
                         C<3, 1, 1>>;

TEST(ReceptiveField, NonSquareTakesTheSmallerAxis) {
  EXPECT_EQ(receptive_field_h<Kernel1x5>, 1);
  EXPECT_EQ(receptive_field_w<Kernel1x5>, 5);
  EXPECT_EQ(receptive_field<Kernel1x5>, 1);
  EXPECT_EQ(receptive_field_h<StrideH2>, 7);
  EXPECT_EQ(receptive_field_w<StrideH2>, 5);
  EXPECT_EQ(receptive_field<StrideH2>, 5);
  EXPECT_EQ(jump<StrideH2>, 2);
  EXPECT_EQ(jump_w<StrideH2>, 1);
}

// --------------------------------------------------- reference solutions ----

TEST(ReceptiveField, S9ReferenceIs33) {
  // every depthwise conv is 3x3 stride 1; per block: 2 (d1) + 2 (d1) + 4 (d2) = 8;
  // four blocks: 1 + 4*8 = 33 (spec: 33, not above 44)
  static_assert(receptive_field<S9Reference> == 33);
  EXPECT_EQ(receptive_field<S9Reference>, 33);
  EXPECT_EQ(receptive_field_h<S9Reference>, 33);
  EXPECT_EQ(receptive_field_w<S9Reference>, 33);
  EXPECT_EQ(jump<S9Reference>, 1);
  // per unit (layers 4u+1 .. 4u+4): 3, 5, 9 | 11, 13, 17 | 19, 21, 25 | 27, 29, 33
  constexpr int after_unit[12] = {3, 5, 9, 11, 13, 17, 19, 21, 25, 27, 29, 33};
  for (int u = 0; u < 12; ++u) {
    const auto& dw = sn_test::row_of(S9Reference::plan, 4 * u + 1);
    const auto& relu = sn_test::row_of(S9Reference::plan, 4 * u + 4);
    EXPECT_EQ(dw.rf_h, after_unit[u]) << "unit " << u + 1;
    EXPECT_EQ(relu.rf_h, after_unit[u]) << "unit " << u + 1;  // 1x1, BN and ReLU add nothing
    EXPECT_EQ(dw.jump_h, 1);
  }
  EXPECT_EQ((layer<S9Reference, 49>.rf_h), 33);  // GAP
  EXPECT_EQ((layer<S9Reference, 50>.rf_h), 33);  // 1x1 conv
}

TEST(ReceptiveField, S7DilatedReferenceIs21) {
  // 3x3 convs at layers 1, 4, 9, 12, 20, 24 add 2 each; the d4 conv (16) adds 4*2 = 8:
  // 3, 5, 7, 9, 17, 19, 21 (spec: 21, not the claimed 52)
  static_assert(receptive_field<S7DilatedReference> == 21);
  EXPECT_EQ(receptive_field<S7DilatedReference>, 21);
  EXPECT_EQ(jump<S7DilatedReference>, 1);
  using N = S7DilatedReference;
  EXPECT_EQ((layer<N, 1>.rf_h), 3);
  EXPECT_EQ((layer<N, 4>.rf_h), 5);
  EXPECT_EQ((layer<N, 8>.rf_h), 5);  // 1x1
  EXPECT_EQ((layer<N, 9>.rf_h), 7);
  EXPECT_EQ((layer<N, 12>.rf_h), 9);
  EXPECT_EQ((layer<N, 16>.rf_h), 17);
  EXPECT_EQ((layer<N, 20>.rf_h), 19);
  EXPECT_EQ((layer<N, 24>.rf_h), 21);
  EXPECT_EQ((layer<N, 28>.rf_h), 21);  // GAP not counted
  EXPECT_EQ(N::plan.rf_h, 21);
  EXPECT_EQ(N::plan.jump_h, 1);
}

}  // namespace
